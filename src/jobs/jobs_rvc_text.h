/*
 * RVC text mode: POST /api/convert/rvc with `text` instead of a target recording. F5-TTS speaks
 * the text in the voice of a reference recording — the one the user picks (reference_audio_id,
 * optional reference_text), else a clip of the model's own training audio (≤ 12 s, cut at a
 * pause as F5-TTS cuts references, transcribed with Whisper since no transcript is stored) —
 * and the RVC voice then converts that speech. jobs_kind_rvc.c calls these from its validate
 * and run; the F5-TTS and Whisper parts are the quick clone's (jobs_kinds.c, jobs_f5_asr.c).
 *
 *   params {model_id, text, [reference_audio_id [reference_text]], parameters{…RVC…},
 *           tts_parameters{nfe_step, speed, seed}}
 *   phases preprocessing → voice encoding (Whisper, when transcribing) → generating → vocoding
 *          (0–60 %), then the conversion's loading model → … → postprocessing (60–100 %)
 */
#ifndef VC_JOBS_RVC_TEXT_H
#define VC_JOBS_RVC_TEXT_H

#include <jansson.h>

#include "audio/audio.h"
#include "base/error.h"
#include "jobs/jobs.h"
#include "store/store.h"

/* The share of the progress bar that speaking the text takes (the conversion gets the rest). */
#define RVC_TEXT_TTS_PERCENT 60.0

/* 1 when the request is text mode (it has a "text" key). */
int rvc_text_requested(const json_t *params);

/* Checks a text-mode request for voice model m and the installed weights, picks the training
 * recordings to take the reference from when none is given (params "training_reference_audio_ids":
 * the model's training recordings still in the library and at least 3 s long),
 * and writes the speaking part's work into params ("tts_work_units") and its expected seconds
 * into *tts_seconds; *speech_seconds is the expected length of the speech (the conversion's input).
 * Errors: INVALID_REQUEST (text and a target, a model without training audio and no reference),
 * AUDIO_NOT_FOUND, AUDIO_TOO_SHORT (reference under 3 s), WEIGHTS_MISSING naming
 * `voiceclone models pull f5tts` or `… whisper`. */
int rvc_text_validate(store *s, const char *user_id, json_t *params, const store_model *m, double *tts_seconds,
                      double *speech_seconds, vc_error *err);

/* Speaks the request's text in the reference voice (24 kHz mono into *speech, caller frees),
 * reporting progress 0–RVC_TEXT_TTS_PERCENT; info gets text, reference_text, reference_audio_id
 * and reference_source ("request" | "training_audio"). Without a reference the job decodes every
 * training recording and speaks from the best window of them all (audio_best_window: 3-12 s between
 * pauses, dense clean speech); info then also gets reference_start_seconds / reference_end_seconds,
 * the window's place in reference_audio_id. */
int rvc_text_speak(const job *jb, job_ctx *c, audio_buffer *speech, json_t *info, vc_error *err);

#endif
