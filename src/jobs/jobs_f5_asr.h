/*
 * Speech recognition for the quick clone (convert_f5tts): the reference's transcript when the
 * request gives none, and the words of a target recording (target_audio_id) to speak in the
 * reference voice. Whisper (models/whisper) at WHISPER_DEFAULT_SIZE from <weights>/whisper/.
 */
#ifndef VC_JOBS_F5_ASR_H
#define VC_JOBS_F5_ASR_H

#include <jansson.h>

#include "audio/audio.h"
#include "base/error.h"
#include "jobs/jobs.h"
#include "models/f5tts/f5tts_infer.h"
#include "models/whisper/whisper_clone.h"
#include "store/store.h"

/* 1 when the request needs speech recognition (no reference_text, or a target_audio_id). */
int f5_asr_needed(const json_t *params);

/* Whisper installed (else VC_ERR_WEIGHTS_MISSING with the install command) and the target
 * recording, if any, is the user's. */
int f5_asr_validate(store *s, const char *user_id, const json_t *params, vc_error *err);

typedef struct f5_asr_texts {
    char *reference_text; /* malloc'd: the request's or the transcript of the clipped reference */
    char *text;           /* malloc'd: the request's text or the target's transcript */
    int has_target;       /* speech to speech: speak target's segments in their time spans */
    whisper_clone_target target;
} f5_asr_texts;

/* Fills texts. When the reference is transcribed or a target is given, ref is first clipped as
 * F5-TTS clips it (the transcript and the timing must match the audio used): ref becomes the
 * 24 kHz clip and fp->clip_reference is cleared. A target without speech fails with "no speech
 * found"; with one, speak it with whisper_clone_speak_timed(texts->target). */
int f5_asr_prepare(const job *jb, job_ctx *c, const char *weights_root, audio_buffer *ref, f5tts_params *fp,
                   f5_asr_texts *texts, vc_error *err);
void f5_asr_texts_free(f5_asr_texts *t);

#endif
