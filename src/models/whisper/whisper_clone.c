/* Speech recognition for the quick clone (contract: whisper_clone.h). */
#include "models/whisper/whisper_clone.h"

#include <stdlib.h>
#include <string.h>

int whisper_text_of(const whisper_engine *e, const audio_buffer *in, char **text, vc_error *err)
{
    whisper_transcribe_options o;
    whisper_transcribe_options_default(&o);
    whisper_transcript t;
    if (whisper_transcribe_buffer(e, in, &o, &t, err) != 0) return -1;
    const char *s = t.text;
    while (*s == ' ') s++;
    *text = strdup(s);
    whisper_transcript_free(&t);
    return *text ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
}

static int need_speech(char **text, const char *what, vc_error *err)
{
    if (**text) return 0;
    free(*text);
    *text = NULL;
    return vc_fail(err, VC_ERR_QUALITY_TOO_LOW, "no speech found in the %s", what);
}

int whisper_clone_reference_text(const whisper_engine *e, audio_buffer *ref, f5tts_params *fp, char **text, vc_error *err)
{
    audio_buffer clipped = {0};
    if (audio_resample(ref, F5_SAMPLE_RATE, &clipped, err) != 0) return -1;
    if (f5tts_clip_reference(&clipped, err) != 0 || whisper_text_of(e, &clipped, text, err) != 0) {
        audio_buffer_free(&clipped);
        return -1;
    }
    audio_buffer_free(ref);
    *ref = clipped;
    fp->clip_reference = 0; /* already clipped: the transcript belongs to this clip */
    return need_speech(text, "reference clip", err);
}

int whisper_clone_target_text(const whisper_engine *e, const audio_buffer *target, char **text, vc_error *err)
{
    if (whisper_text_of(e, target, text, err) != 0) return -1;
    return need_speech(text, "target recording", err);
}
