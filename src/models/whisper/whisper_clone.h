/*
 * Speech recognition for the quick clone (F5-TTS): the transcript of a reference clip — taken
 * after clipping it exactly as F5-TTS clips references, so text and audio match — and the words
 * of a target recording. Shared by the convert_f5tts job and `voiceclone clone`.
 */
#ifndef VC_MODELS_WHISPER_CLONE_H
#define VC_MODELS_WHISPER_CLONE_H

#include "models/f5tts/f5tts_infer.h"
#include "models/whisper/whisper_engine.h"

/* A voice sample shorter than this (after F5-TTS's clipping) is refused: F5-TTS copies the voice
 * from the sample, and under ~3 s of speech it has too little to copy. */
#define WHISPER_CLONE_MIN_REF_SECONDS 3.0

/* Progress of a transcription: the fraction (0..1) of the audio read so far. Called after every
 * 30 s window and before every decoding step (with the same fraction): non-zero stops the
 * transcription with VC_ERR_CANCELLED (a job's cancel), so keep it cheap. */
typedef int (*whisper_clone_progress_fn)(void *ctx, double fraction);

/* VC_ERR_AUDIO_TOO_SHORT when the clip holds less than WHISPER_CLONE_MIN_REF_SECONDS. */
int whisper_clone_check_reference(const audio_buffer *clip, vc_error *err);

/* 1 when the audio holds speech-like sound (voice activity and level), 0 for silence or a
 * near-silent noise floor (then there is nothing to transcribe), -1 on error. */
int whisper_clone_has_sound(const audio_buffer *in, vc_error *err);

/* 1 when a transcript holds no words: only music symbols (♪ ♫ 🎵 🎶), bracketed or starred
 * annotations ("[Music]", "(applause)", "*music*"), punctuation and spaces. Whisper writes these
 * for music and noise; speaking them would say "music" in the cloned voice. */
int whisper_clone_is_nonspeech(const char *text);

/* Whole transcript of in, leading spaces stripped, malloc'd; "" when there is no speech. */
int whisper_text_of(const whisper_engine *e, const audio_buffer *in, char **text, vc_error *err);

/* Replaces ref by its F5-TTS clip (whisper_clone_clip_reference) and transcribes the clip.
 * VC_ERR_QUALITY_TOO_LOW "no speech found" when it holds none. */
int whisper_clone_reference_text(const whisper_engine *e, audio_buffer *ref, f5tts_params *fp, whisper_clone_progress_fn progress,
                                  void *ctx, char **text, vc_error *err);

/* Clips ref as F5-TTS does (24 kHz result) and clears fp->clip_reference: every later length
 * computation then sees the clip F5-TTS will use. */
int whisper_clone_clip_reference(audio_buffer *ref, f5tts_params *fp, vc_error *err);

/* ---- speech to speech with the target's timing ---- */

typedef struct whisper_clone_target {
    whisper_transcript transcript; /* segments with times */
    char *text;                    /* all segments' text, stripped */
    double seconds;                /* of the target recording */
    double lufs;                   /* its integrated loudness (EBU R128); -70 when silent */
} whisper_clone_target;

/* Transcribes the target (progress may be NULL). Silence or a bare noise floor is refused before
 * Whisper runs, segments without words (whisper_clone_is_nonspeech: music) are cleared, and when
 * none is left: VC_ERR_QUALITY_TOO_LOW "no speech found in the target recording". */
int whisper_clone_read_target(const whisper_engine *e, const audio_buffer *target, whisper_clone_progress_fn progress,
                              void *ctx, whisper_clone_target *t, vc_error *err);

/* A target from segments given by the caller (a transcript the user checked and edited):
 * n segments [start, end) seconds with their texts, copied; the target audio gives the length
 * and loudness. Segments must lie in the recording and hold text somewhere. */
int whisper_clone_target_from_segments(const audio_buffer *target, int n, const double *start, const double *end,
                                       const char *const *text, whisper_clone_target *t, vc_error *err);
void whisper_clone_target_free(whisper_clone_target *t);

/* Speaks every target segment in the reference voice, each fitted to its own time span (speed
 * chosen from F5-TTS's duration rule), and joins them on silence as long as the target, so pauses
 * stay where they were: 20 ms equal-power fades at every edge, and a segment that reaches the
 * next one's start is cross-faded into it (audio_join_pieces); then shifts the pitch by pitch_semitones
 * (audio_pitch_shift: same length) and matches the whole to the target's integrated loudness
 * (EBU R128, true peak ≤ −1 dBTP). ref: the clip from whisper_clone_clip_reference. Progress:
 * one chunk per segment. */
int whisper_clone_speak_timed(const f5tts_engine *f5, const audio_buffer *ref, const char *ref_text,
                              const whisper_clone_target *t, const f5tts_params *fp, double pitch_semitones,
                              f5tts_progress_fn progress, void *ctx, audio_buffer *out, vc_error *err);

#endif
