/*
 * Speech recognition for the quick clone (F5-TTS): the transcript of a reference clip — taken
 * after clipping it exactly as F5-TTS clips references, so text and audio match — and the words
 * of a target recording. Shared by the convert_f5tts job and `voiceclone clone`.
 */
#ifndef VC_MODELS_WHISPER_CLONE_H
#define VC_MODELS_WHISPER_CLONE_H

#include "models/f5tts/f5tts_infer.h"
#include "models/whisper/whisper_engine.h"

/* Whole transcript of in, leading spaces stripped, malloc'd; "" when there is no speech. */
int whisper_text_of(const whisper_engine *e, const audio_buffer *in, char **text, vc_error *err);

/* Replaces ref by its F5-TTS clip (whisper_clone_clip_reference) and transcribes the clip.
 * VC_ERR_QUALITY_TOO_LOW "no speech found" when it holds none. */
int whisper_clone_reference_text(const whisper_engine *e, audio_buffer *ref, f5tts_params *fp, char **text, vc_error *err);

/* The target's words; VC_ERR_QUALITY_TOO_LOW "no speech found" when it holds none. */
int whisper_clone_target_text(const whisper_engine *e, const audio_buffer *target, char **text, vc_error *err);

/* Clips ref as F5-TTS does (24 kHz result) and clears fp->clip_reference: every later length
 * computation then sees the clip F5-TTS will use. */
int whisper_clone_clip_reference(audio_buffer *ref, f5tts_params *fp, vc_error *err);

/* ---- speech to speech with the target's timing ---- */

typedef struct whisper_clone_target {
    whisper_transcript transcript; /* segments with times */
    char *text;                    /* all segments' text, stripped */
    double seconds, rms;           /* of the target recording */
} whisper_clone_target;

/* Transcribes the target; "no speech found" when no segment holds text. */
int whisper_clone_read_target(const whisper_engine *e, const audio_buffer *target, whisper_clone_target *t, vc_error *err);
void whisper_clone_target_free(whisper_clone_target *t);

/* Speaks every target segment in the reference voice, each fitted to its own time span (speed
 * chosen from F5-TTS's duration rule, then padded or cut to the exact span), on silence as long
 * as the target, so pauses stay where they were; the whole is matched to the target's RMS.
 * ref: the clip from whisper_clone_clip_reference. Progress: one chunk per segment. */
int whisper_clone_speak_timed(const f5tts_engine *f5, const audio_buffer *ref, const char *ref_text,
                              const whisper_clone_target *t, const f5tts_params *fp, f5tts_progress_fn progress, void *ctx,
                              audio_buffer *out, vc_error *err);

#endif
