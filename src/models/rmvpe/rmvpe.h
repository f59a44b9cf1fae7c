/*
 * RMVPE pitch estimator (RVC's infer/lib/rmvpe.py), inference:
 *   16 kHz audio → log-mel (128 bins, 30–8000 Hz, hop 160) → frames padded to a multiple of 32
 *   → deep U-Net (residual conv blocks, avg-pool down, transposed-conv up, skip concat) → 3×3
 *   conv → BiGRU → Linear(512→360) + sigmoid = salience over 360 pitch bins (20 cents apart)
 *   → local weighted average of 9 bins around the peak → f0 (0 when the peak ≤ threshold).
 * Sizes (stages, channels, residual blocks per stage) are read from the weights, so the
 * official rmvpe.pt (E2E(4, 1, (2, 2))) and smaller test models load through the same code.
 */
#ifndef VC_MODELS_RMVPE_H
#define VC_MODELS_RMVPE_H

#include "base/error.h"
#include "nn/weights.h"

#define RMVPE_BINS 360
#define RMVPE_MELS 128
#define RMVPE_HOP 160
#define RMVPE_THRESHOLD 0.03f

typedef struct rmvpe rmvpe; /* opaque */

int rmvpe_load(rmvpe **out, const nn_weights *w, const char *prefix, vc_error *err);
void rmvpe_free(rmvpe *m);
/* Runs the U-Net on plain planes even where the blocked layout applies (tests and benchmarks
 * comparing the two; the default is blocked whenever the channel counts allow). */
void rmvpe_set_plain(rmvpe *m, int plain);

/* Log-mel of 16 kHz audio: mel [frames, 128], frames = n / 160 + 1. */
int rmvpe_mel(const rmvpe *m, const float *audio, int n, float *mel, vc_error *err);
/* mel [frames, 128] → salience [frames, 360] */
int rmvpe_salience(const rmvpe *m, const float *mel, int frames, float *salience, vc_error *err);
/* The same, asking cancelled(ctx) before each residual block, each decoder up-convolution and the
 * head's convolution, and inside the BiGRU before every NN_GRU_POLL_STEPS-th step of each
 * direction (nn/sequence.h): non-zero stops the pass there with VC_ERR_CANCELLED (a full-size pass
 * is 0.2–0.7 s for a 3.7 s training piece and seconds for a 41 s window, one block a small part of
 * it). A hook that never asks for a stop gives exactly rmvpe_salience's output. */
typedef int (*rmvpe_cancel_fn)(void *ctx);
int rmvpe_salience_cancellable(const rmvpe *m, const float *mel, int frames, float *salience, rmvpe_cancel_fn cancelled,
                               void *ctx, vc_error *err);
/* salience [frames, 360] → cents, f0 [frames] (Hz, 0 = unvoiced) */
void rmvpe_decode(const float *salience, int frames, float threshold, double *cents, double *f0);

/* The whole estimator: audio [n] at 16 kHz → f0 [n / 160 + 1].
 * Up to RMVPE_WINDOW frames (≈ 41 s) run in one pass, exactly as the official mel2hidden. Longer
 * inputs run in windows of RMVPE_WINDOW frames that overlap by 2 × RMVPE_CONTEXT, keeping each
 * window's centre: memory stays that of a 41 s input for any length (the official code holds the
 * whole U-Net for the whole input: tens of GB for 30 minutes). Frames then see ±5 s of context
 * instead of the whole recording; pitch is local, the BiGRU's longer memory is what is lost. */
#define RMVPE_WINDOW 4096
#define RMVPE_CONTEXT 512
int rmvpe_f0(const rmvpe *m, const float *audio, int n, double *f0, vc_error *err);

/* rmvpe_f0 reporting progress (fraction done) after each window; tick returning non-zero stops
 * with VC_ERR_CANCELLED. tick may be NULL. */
typedef int (*rmvpe_tick_fn)(void *ctx, double fraction);
int rmvpe_f0_progress(const rmvpe *m, const float *audio, int n, double *f0, rmvpe_tick_fn tick, void *ctx,
                      vc_error *err);
/* rmvpe_f0_progress polling cancelled(cancel_ctx) inside every window's pass as
 * rmvpe_salience_cancellable does (either hook may be NULL). Training-set preparation and
 * conversion call this one. */
int rmvpe_f0_cancellable(const rmvpe *m, const float *audio, int n, double *f0, rmvpe_tick_fn tick, void *ctx,
                         rmvpe_cancel_fn cancelled, void *cancel_ctx, vc_error *err);

/* librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=True) with Slaney area norm: fb [n_mels, n_fft/2+1] */
void rmvpe_mel_basis(float *fb, int sr, int n_fft, int n_mels, double f_min, double f_max);

#endif
