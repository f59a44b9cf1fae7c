/*
 * voiceclone convert: RVC voice conversion from the command line.
 *   voiceclone convert --model M.pth [--index M.index] IN -o OUT.wav [--pitch N] [--index-rate R] [--protect P]
 *                      [--rms-mix R] [--filter-radius N] [--sid N] [--resample-sr HZ] [--weights DIR]
 *   voiceclone convert --model M.pth --text "…" --ref SAMPLE.wav -o OUT.wav [--ref-text "…"] [--nfe 32] [--seed N] …
 * Text mode: F5-TTS speaks the text in the voice of SAMPLE.wav (clipped to ≤ 12 s at a pause as
 * F5-TTS clips references, transcribed with Whisper unless --ref-text is given), then the RVC
 * voice converts that speech (the API's POST /api/convert/rvc with text; there the reference may
 * also come from the model's training audio, which a bare .pth does not know).
 * M.pth is an RVC small-model file (fp16 "weight" dict + config/version/f0), as RVC tools
 * write them. HuBERT and RMVPE come from DIR (default data/weights): hubert/hubert_base.pt and
 * rmvpe/rmvpe.pt. Loading and checking is rvc_engine's; this file only parses arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "cli/cli.h"
#include "models/rvc/rvc_engine.h"
#include "models/whisper/whisper_clone.h"

typedef struct convert_args {
    const char *model, *index, *in, *out, *weights;
    const char *text, *ref, *ref_text; /* text mode */
    rvc_params params;
    f5tts_params tts;
} convert_args;

static int parse_args(int argc, char **argv, convert_args *a)
{
    rvc_params_default(&a->params);
    f5tts_params_default(&a->tts);
    a->weights = "data/weights";
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (k[0] != '-') { if (a->in) return -1; a->in = k; continue; }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) return -1;
        if (!strcmp(k, "--model")) a->model = v;
        else if (!strcmp(k, "--index")) a->index = v;
        else if (!strcmp(k, "-o") || !strcmp(k, "--output")) a->out = v;
        else if (!strcmp(k, "--weights")) a->weights = v;
        else if (!strcmp(k, "--pitch")) a->params.f0_up_key = atof(v);
        else if (!strcmp(k, "--index-rate")) a->params.index_rate = atof(v);
        else if (!strcmp(k, "--protect")) a->params.protect = atof(v);
        else if (!strcmp(k, "--rms-mix")) a->params.rms_mix_rate = atof(v);
        else if (!strcmp(k, "--filter-radius")) a->params.filter_radius = atoi(v);
        else if (!strcmp(k, "--sid")) a->params.sid = atoi(v);
        else if (!strcmp(k, "--resample-sr")) a->params.resample_sr = atoi(v);
        else if (!strcmp(k, "--text")) a->text = v;
        else if (!strcmp(k, "--ref")) a->ref = v;
        else if (!strcmp(k, "--ref-text")) a->ref_text = v;
        else if (!strcmp(k, "--nfe")) a->tts.sampler.nfe = atoi(v);
        else if (!strcmp(k, "--seed")) a->tts.seed = strtoull(v, NULL, 10);
        else return -1;
    }
    if (a->tts.sampler.nfe < 1 || a->tts.sampler.nfe > 64) return -1;
    if (a->text) return a->model && a->ref && !a->in && a->out && a->text[0] ? 0 : -1;
    return a->model && a->in && a->out && !a->ref && !a->ref_text ? 0 : -1;
}

static int show_progress(void *ctx, const char *phase, double fraction)
{
    fprintf(stderr, "\r%s %3.0f%%", phase, 100 * fraction);
    return 0;
}

/* The reference clip F5-TTS uses (≤ 12 s cut at a pause) and its text (--ref-text or Whisper's). */
static int reference(const convert_args *a, audio_buffer *ref, f5tts_params *fp, char **ref_text, vc_error *err)
{
    if (audio_decode_file(a->ref, ref, NULL, err) || whisper_clone_clip_reference(ref, fp, err) ||
        whisper_clone_check_reference(ref, err))
        return -1;
    if (a->ref_text) return (*ref_text = strdup(a->ref_text)) ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    whisper_engine w;
    if (whisper_engine_open_dir(&w, a->weights, WHISPER_DEFAULT_SIZE, err) != 0)
        return vc_error_wrap(err, "speech recognition for the reference (install with: voiceclone models pull whisper, or give --ref-text)");
    int rc = whisper_clone_reference_text(&w, ref, fp, NULL, NULL, ref_text, err);
    whisper_engine_close(&w);
    return rc;
}

/* Text mode's first half: the text spoken in the reference's voice (24 kHz) into *speech. */
static int speak(const convert_args *a, audio_buffer *speech, vc_error *err)
{
    audio_buffer ref = {0};
    f5tts_params fp = a->tts;
    char *ref_text = NULL;
    f5tts_engine f5;
    if (f5tts_engine_open_dir(&f5, a->weights, err) != 0) return -1; /* first: say how to install it */
    int rc = reference(a, &ref, &fp, &ref_text, err);
    if (rc == 0) {
        fprintf(stderr, "reference text: %s\ntext: %s\n", ref_text, a->text);
        rc = f5tts_synthesize(&f5, &ref, ref_text, a->text, &fp, NULL, NULL, speech, NULL, NULL, err);
    }
    f5tts_engine_close(&f5);
    audio_buffer_free(&ref);
    free(ref_text);
    return rc;
}

int cmd_convert(int argc, char **argv)
{
    convert_args a = {0};
    if (parse_args(argc, argv, &a) != 0) {
        fprintf(stderr, "usage: voiceclone convert --model M.pth [--index M.index] IN -o OUT.wav [--pitch N] [--index-rate R] [--protect P] "
                        "[--rms-mix R] [--filter-radius N] [--sid N] [--resample-sr HZ] [--weights DIR]\n"
                        "       voiceclone convert --model M.pth --text TEXT --ref SAMPLE.wav -o OUT.wav [--ref-text TEXT] "
                        "[--nfe 1..64] [--seed N] [the options above]\n");
        return 2;
    }
    vc_error err = {0};
    rvc_engine *e = NULL;
    audio_buffer in = {0}, out = {0};
    rvc_hooks hooks = {NULL, show_progress, NULL, NULL, NULL};
    int rc = rvc_engine_open(&e, a.model, a.index, a.weights, &err);
    if (rc == 0 && a.text) rc = speak(&a, &in, &err);
    else if (rc == 0) rc = audio_decode_file(a.in, &in, NULL, &err);
    if (rc == 0) rc = rvc_engine_convert_audio(e, &in, &a.params, &hooks, &out, &err);
    if (rc == 0) rc = audio_write_wav(a.out, &out, 0, &err);
    if (rc == 0) fprintf(stderr, "\nwrote %s: %.2f s at %d Hz\n", a.out, (double)out.frames / out.sample_rate, out.sample_rate);
    if (rc != 0) fprintf(stderr, "\nvoiceclone convert: %s\n", err.message);
    audio_buffer_free(&in);
    audio_buffer_free(&out);
    rvc_engine_free(e);
    return rc == 0 ? 0 : 1;
}
