/* Whisper engine: loading by path or size, and audio at any rate (contract: whisper_engine.h). */
#include "models/whisper/whisper_engine.h"

#include <stdio.h>
#include <string.h>

int whisper_engine_open(whisper_engine *e, const char *model_path, const char *vocab_path, vc_error *err)
{
    memset(e, 0, sizeof *e);
    if (whisper_load(&e->model, model_path, err) != 0) return -1;
    if (whisper_tokenizer_load(&e->tok, vocab_path, e->model.num_languages, err) != 0 ||
        e->tok.n_vocab != e->model.dims.n_vocab) {
        if (e->tok.n_vocab && e->tok.n_vocab != e->model.dims.n_vocab)
            vc_fail(err, VC_ERR_INVALID_FORMAT, "vocabulary %s (%d ids) does not fit %s (%d)", vocab_path, e->tok.n_vocab,
                    model_path, e->model.dims.n_vocab);
        whisper_engine_close(e);
        return -1;
    }
    return 0;
}

int whisper_engine_open_dir(whisper_engine *e, const char *weights_root, const char *size, vc_error *err)
{
    char model[1024], vocab[1024];
    if (!size || strchr(size, '/') || strstr(size, ".."))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "bad Whisper size name");
    snprintf(model, sizeof model, "%s/whisper/%s.pt", weights_root, size);
    size_t n = strlen(size); /* English-only sizes (tiny.en …) use the gpt2 vocabulary */
    int english = n > 3 && !strcmp(size + n - 3, ".en");
    snprintf(vocab, sizeof vocab, "%s/whisper/%s", weights_root, english ? "gpt2.tiktoken" : "multilingual.tiktoken");
    return whisper_engine_open(e, model, vocab, err);
}

void whisper_engine_close(whisper_engine *e)
{
    whisper_tokenizer_free(&e->tok);
    whisper_free(&e->model);
}

int whisper_transcribe_buffer(const whisper_engine *e, const audio_buffer *in, const whisper_transcribe_options *o,
                              whisper_transcript *out, vc_error *err)
{
    if (!in->frames) return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "no audio to transcribe");
    if (in->sample_rate == WHISPER_SAMPLE_RATE)
        return whisper_transcribe(&e->model, &e->tok, in->samples, in->frames, o, out, err);
    audio_buffer r = {0};
    if (audio_resample(in, WHISPER_SAMPLE_RATE, &r, err) != 0) return -1;
    int rc = whisper_transcribe(&e->model, &e->tok, r.samples, r.frames, o, out, err);
    audio_buffer_free(&r);
    return rc;
}
