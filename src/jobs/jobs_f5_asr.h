/*
 * Speech recognition for the quick clone (convert_f5tts): the reference's transcript when the
 * request gives none, and the words of a target recording (target_audio_id) to speak in the
 * reference voice, unless the request brings them as target_segments (a transcript the user
 * checked). Whisper (models/whisper) at WHISPER_DEFAULT_SIZE from <weights>/whisper/.
 *
 * Also the `transcribe` job {audio_id, purpose: "reference" | "target"}: what the quick clone
 * would hear, so the UI can show "we heard: …" and let the user correct it before generating.
 */
#ifndef VC_JOBS_F5_ASR_H
#define VC_JOBS_F5_ASR_H

#include <time.h>

#include <jansson.h>

#include "audio/audio.h"
#include "base/error.h"
#include "jobs/jobs.h"
#include "models/f5tts/f5tts_infer.h"
#include "models/whisper/whisper_clone.h"
#include "store/store.h"

/* Progress of a quick clone: events {percent, phase, message, eta_seconds}. The ETA comes from
 * the submit-time estimate (estimated_seconds) early on, then from the measured rate. */
typedef struct f5_progress {
    job_ctx *c;
    struct timespec t0;
    double estimate;   /* estimated_seconds of the request, 0 when unknown */
    double gen_from;   /* percent at which generating starts (after any transcription) */
    double scale;      /* the job's percent = this × the quick clone's (1; RVC text mode: its TTS share) */
} f5_progress;

void f5_progress_start(f5_progress *p, job_ctx *c, const json_t *params);
void f5_progress_emit(f5_progress *p, double percent, const char *phase, const char *message);
double f5_progress_elapsed(const f5_progress *p);

/* 1 when the request needs speech recognition (no reference_text, or a target_audio_id without
 * target_segments). */
int f5_asr_needed(const json_t *params);

/* Request checks that need no model: target_segments' shape (needs target_audio_id), and a target
 * recording whose upload analysis found no sound → QUALITY_TOO_LOW "no speech found". */
int f5_asr_validate_request(store *s, const char *user_id, const json_t *params, vc_error *err);

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
 * 24 kHz clip and fp->clip_reference is cleared; a clip under 3 s is AUDIO_TOO_SHORT. A target
 * without speech fails with "no speech found"; with one, speak it with
 * whisper_clone_speak_timed(texts->target). Sets p->gen_from. */
int f5_asr_prepare(const job *jb, f5_progress *p, const char *weights_root, audio_buffer *ref, f5tts_params *fp,
                   f5_asr_texts *texts, vc_error *err);
void f5_asr_texts_free(f5_asr_texts *t);

/* The segments as JSON [{start, end, text}] (for results and the transcribe job). */
json_t *f5_asr_segments_json(const whisper_transcript *t);

extern const job_kind JOBS_KIND_TRANSCRIBE;

/* ---- F5-TTS for other kinds (jobs_kinds.c): RVC text mode speaks with it ---- */

/* The shared F5-TTS engine of <weights_root>/f5tts + vocos (release with jobs_shared_release). */
int jobs_f5_acquire(job_ctx *c, const char *weights_root, void **e, vc_error *err);
/* F5-TTS progress → the job's events (ctx: an f5_progress); non-zero when cancelled. */
int jobs_f5_on_progress(void *ctx, f5tts_phase phase, int chunk, int chunks, int step, int steps);
/* parameters {nfe_step, speed, seed, remove_silence, cfg_strength} over the defaults. */
void jobs_f5_params_from(const json_t *p, f5tts_params *fp);
/* Expected seconds for `units` of F5-TTS work (seconds generated over × nfe_step / 32), from the
 * throughput measured here; and a finished run folded into it. */
double jobs_f5_estimate(store *s, double units);
void jobs_f5_record(store *s, double units, double seconds);

#endif
