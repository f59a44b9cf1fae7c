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
#include "store/store.h"

/* 1 when the request needs speech recognition (no reference_text, or a target_audio_id). */
int f5_asr_needed(const json_t *params);

/* Whisper installed (else VC_ERR_WEIGHTS_MISSING with the install command) and the target
 * recording, if any, is the user's. */
int f5_asr_validate(store *s, const char *user_id, const json_t *params, vc_error *err);

typedef struct f5_asr_texts {
    char *reference_text; /* malloc'd: the request's or the transcript of the clipped reference */
    char *text;           /* malloc'd: the request's text or the target's transcript */
} f5_asr_texts;

/* Fills texts. When the reference is transcribed it is first clipped as F5-TTS clips it (the
 * transcript must match the audio used): ref is replaced by the clipped 24 kHz clip and
 * fp->clip_reference cleared. A target without speech fails with "no speech found". */
int f5_asr_prepare(const job *jb, job_ctx *c, const char *weights_root, audio_buffer *ref, f5tts_params *fp,
                   f5_asr_texts *texts, vc_error *err);
void f5_asr_texts_free(f5_asr_texts *t);

#endif
