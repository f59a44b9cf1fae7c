/*
 * Short-time Fourier transforms and mel spectrograms with PyTorch/torchaudio semantics
 * (center=True framing, reflect padding, one-sided spectra, periodic Hann windows).
 * The FFT is our own radix-2 transform in double precision: permissively licensed, exact
 * enough that log-mels match the reference to 1e-5, and fast enough for hop-256 audio.
 */
#ifndef VC_NN_SPECTRAL_H
#define VC_NN_SPECTRAL_H

#include <stddef.h>

#include "base/error.h"

/* Periodic Hann window of length n: 0.5 − 0.5·cos(2πi/n). */
void nn_hann_periodic(float *w, int n);

/* Number of frames of a centred STFT: L / hop + 1. */
int nn_stft_frames(size_t L, int hop);

/* |STFT| of x[L]: reflect-pad n_fft/2 on both sides, frames of n_fft every hop, windowed,
 * magnitude of the one-sided spectrum → mag[frames, n_fft/2+1]. n_fft is a power of two ≤ 65536. */
int nn_stft_magnitude(float *mag, const float *x, size_t L, int n_fft, int hop, const float *window, vc_error *err);

/* VITS/RVC training spectrogram (spectrogram_torch: center=False after a reflect pad of `pad`
 * samples on both sides; periodic Hann window of n_fft): frames = (L + 2·pad − n_fft) / hop + 1,
 * spec[bins, frames] channel-major (bins = n_fft/2+1) = sqrt(re² + im² + eps). pad < L. */
int nn_spectrogram_padded(float *spec, const float *x, size_t L, int n_fft, int hop, int pad, double eps, vc_error *err);

/* log(max(mag · fb, clamp)): mag [frames, bins], fb [bins, n_mels] (torchaudio's fb layout) →
 * out [frames, n_mels]. */
void nn_log_mel(float *out, const float *mag, const float *fb, int frames, int bins, int n_mels, float clamp);

/* torchaudio.functional.melscale_fbanks(htk scale, no norm): fb [n_freqs, n_mels] over
 * n_freqs bins spanning 0..sample_rate/2, computed in float32 like torchaudio. Weights agree to
 * ~1e-4 of a weight, not bit for bit: torch.linspace fills its float32 mel points 8 lanes at a
 * time, which puts a few an ulp away from any per-point formula (tests/nn/test_ops_torch.c). */
void nn_mel_filterbank_htk(float *fb, int n_freqs, int n_mels, float f_min, float f_max, int sample_rate);

/* torch.istft(center=True) of a one-sided spectrum given as magnitude·(cos φ + i sin φ):
 * re, im [frames, n_fft/2+1] → out [(frames−1)·hop], windowed overlap-add divided by the
 * overlap-added window², n_fft/2 trimmed at each end. */
int nn_istft(float *out, const float *re, const float *im, int frames, int n_fft, int hop, const float *window,
             vc_error *err);

#endif
