/*
 * Preprocessing DSP for uploaded recordings (issue 3, POST /api/preprocess): spectral
 * denoise, loudness normalisation with a peak limiter, and silence trimming. Each function
 * reads `in` and writes a new buffer to `out` (caller frees with audio_buffer_free; out must
 * not alias in), reports progress through ctl->progress (fraction 0..1, may be NULL) and
 * stops with VC_ERR_CANCELLED as soon as *ctl->cancel becomes non-zero. ctl itself may be NULL.
 */
#ifndef VC_AUDIO_DSP_H
#define VC_AUDIO_DSP_H

#include "audio/audio.h"

typedef struct audio_dsp_control {
    void (*progress)(void *ctx, double fraction);
    void *ctx;
    const volatile int *cancel; /* set non-zero from another thread to stop */
} audio_dsp_control;

#define AUDIO_LUFS_TRAINING (-23.0)
#define AUDIO_LUFS_OUTPUT (-16.0)

/* Spectral noise reduction: ~32 ms STFT (kissfft, Hann, 75 % overlap), noise spectrum = mean of
 * the quietest 15 % of frames, decision-directed Wiener gain floored at -reduction_db
 * (0 → 18 dB). Stationary noise only (hiss, hum, fans); babble is not removed. */
int audio_denoise(const audio_buffer *in, double reduction_db, const audio_dsp_control *ctl, audio_buffer *out,
                  vc_error *err);

/* Scales to target_lufs (integrated, libebur128); a look-ahead limiter keeps the true peak at or
 * below ceiling_dbtp (0 → -1 dBTP), so the result never clips. Silence is returned unchanged. */
int audio_normalize_loudness(const audio_buffer *in, double target_lufs, double ceiling_dbtp,
                             const audio_dsp_control *ctl, audio_buffer *out, vc_error *err);

typedef struct audio_trim_options {
    double threshold_db;        /* frame is silent below max(noise floor + this, -70 dBFS); 0 → 12 */
    double keep_edge_seconds;   /* silence kept before the first / after the last sound; 0 → 0.15 */
    double max_silence_seconds; /* internal pauses longer than this are shortened to it; 0 → 0.8 */
} audio_trim_options;

/* Removes leading/trailing silence and shortens long internal pauses (10 ms crossfades at the
 * joins). opts may be NULL for the defaults. All-silent input gives an empty buffer. */
int audio_trim_silence(const audio_buffer *in, const audio_trim_options *opts, const audio_dsp_control *ctl,
                       audio_buffer *out, vc_error *err);

/* pydub's split_on_silence(min_silence_ms, thresh_dbfs, keep_ms, seek_ms) followed by joining
 * the pieces, which is how the official F5-TTS removes silence from generated speech
 * (remove_silence_for_generated_wav: 1000 ms, −50 dBFS, keep 500 ms, seek 10 ms): every pause
 * of at least min_silence_ms (windows of that length with RMS ≤ thresh) keeps keep_ms of it on
 * each side of the speech around it; edges likewise. Positions are whole milliseconds as in
 * pydub. All-silent input gives an empty buffer. */
int audio_remove_long_silences(const audio_buffer *in, int min_silence_ms, double thresh_dbfs, int keep_ms, int seek_ms,
                               audio_buffer *out, vc_error *err);

/* Shifts the pitch by semitones (within ±AUDIO_PITCH_MAX_SEMITONES) and keeps the length exactly
 * (out->frames == in->frames): phase vocoder with identity phase locking, then soxr (audio_pitch.c).
 * 0 semitones copies. */
#define AUDIO_PITCH_MAX_SEMITONES 12
int audio_pitch_shift(const audio_buffer *in, double semitones, audio_buffer *out, vc_error *err);

/* Integrated loudness (EBU R128, libebur128) in LUFS; -70 for silence. */
double audio_integrated_loudness(const audio_buffer *in);

/* ---- joining pieces of speech on a timeline (audio_join.c) ---- */

/* One piece: wave[0..len) meant for the time span [at, at + span) frames of the result. */
typedef struct audio_piece {
    const float *wave;
    size_t len;
    size_t at, span;
} audio_piece;

/* Cross-fade length at every join: 20 ms, equal-power (sin/cos) gains. Long enough to cover two
 * periods of a low voice (~100 Hz), so no click is heard; short enough not to blur a phoneme
 * (50–100 ms). Equal power because the two sides of a join are unrelated speech: their powers
 * add, so sin² + cos² = 1 keeps the level through the fade where a linear one dips by ~1.8 dB. */
#define AUDIO_JOIN_FADE_SECONDS 0.02

/* Places the pieces (any order) on silence `frames` long at sample_rate, so the pauses between
 * them stay as they were (exactly silent) and the result is exactly `frames` long. Each piece
 * fades in over its first fade_seconds and out over its last. A piece that reaches the next
 * piece's start (spans that touch or overlap) runs on for one fade length past it, so its
 * fade-out and the next piece's fade-in lie on the same samples: a cross-fade; whatever lies
 * beyond is dropped (it would talk over the next piece). Before a pause a piece ends with its
 * span. */
int audio_join_pieces(const audio_piece *pieces, int n, size_t frames, int sample_rate, double fade_seconds,
                      audio_buffer *out, vc_error *err);

#endif
