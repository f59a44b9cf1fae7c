/*
 * Optimisers for training. AdamW with PyTorch's semantics (torch.optim.AdamW): decoupled
 * weight decay p ← p − lr·wd·p before the Adam update; bias-corrected moments;
 * p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps).
 */
#ifndef VC_NN_OPTIM_H
#define VC_NN_OPTIM_H

#include <stddef.h>

typedef struct nn_adamw {
    float lr, beta1, beta2, eps, weight_decay;
} nn_adamw;

/* One step (step counts from 1) on n elements: p, m, v updated in place from g. */
void nn_adamw_step(const nn_adamw *o, int step, float *p, const float *g, float *m, float *v, size_t n);

/* Σ x², summed in double (gradient norms for clipping and reporting); threaded, deterministic. */
double nn_sum_squares(const float *x, size_t n);

/* Slaney-style mel filterbank as librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False,
 * norm="slaney"), computed in double, stored float32: fb [n_mels, n_fft/2+1]. −1 when out of memory. */
int nn_mel_filterbank_slaney(float *fb, int sr, int n_fft, int n_mels, double fmin, double fmax);

#endif
