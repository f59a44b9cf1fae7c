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

/* Replaces ref by its F5-TTS clip (24 kHz), clears fp->clip_reference and transcribes the clip.
 * VC_ERR_QUALITY_TOO_LOW "no speech found" when it holds none. */
int whisper_clone_reference_text(const whisper_engine *e, audio_buffer *ref, f5tts_params *fp, char **text, vc_error *err);

/* The target's words; VC_ERR_QUALITY_TOO_LOW "no speech found" when it holds none. */
int whisper_clone_target_text(const whisper_engine *e, const audio_buffer *target, char **text, vc_error *err);

#endif
