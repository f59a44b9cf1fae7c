/*
 * Element-wise and per-channel ops that began as private helpers of one model and moved here so
 * each can be tested on its own against PyTorch (tests/nn/test_ops_torch.c): batch norm in eval
 * mode and 2×2 average pooling on RMVPE's channel-major planes, HuBERT's one-group-per-channel
 * GroupNorm over time, F.interpolate's linear mode as RVC's loudness mix uses it, and the
 * running sums of RVC's sine source.
 * Shapes are given per function; nothing here allocates.
 */
#ifndef VC_NN_OPS_H
#define VC_NN_OPS_H

#include <stddef.h>

#include "base/error.h"
#include "nn/cancel.h"

/* BatchNorm2d (eval) on planes x [C, plane] in place: (x − mean)/√(var + eps)·gamma + beta,
 * followed by ReLU when relu is set (RMVPE fuses the two in one pass). */
void nn_batch_norm_planes(float *x, int C, size_t plane, const float *gamma, const float *beta, const float *mean,
                          const float *var, float eps, int relu);

/* GroupNorm(C groups, C channels) on a time-major x [T, C] in place: each channel normalised over
 * time (biased variance, accumulated in double, eps added in double), then scaled by gamma and
 * shifted by beta. */
void nn_group_norm_per_channel(float *x, int T, int C, const float *gamma, const float *beta, double eps);
/* The same, asking cancelled(ctx) before each block of NN_GN_BLOCK channels (each block is three
 * passes over T rows: a second of work for HuBERT's first convolution over a minute of audio):
 * non-zero stops with VC_ERR_CANCELLED, x partly normalised. cancelled may be NULL. */
#define NN_GN_BLOCK 64
int nn_group_norm_per_channel_cancellable(float *x, int T, int C, const float *gamma, const float *beta, double eps,
                                          nn_cancel_fn cancelled, void *ctx, vc_error *err);

/* avg_pool2d(kernel 2, stride 2) on planes in [C, H, W] → out [C, H/2, W/2] (an odd last row or
 * column is dropped, as PyTorch's floor mode does). */
void nn_avg_pool2d_2x2(float *out, const float *in, int C, int H, int W);

/* The same on planes in the engine's blocked layout [C/b][H][W][b] (NN_LAYOUT_NATIVE, b =
 * nn_native_block(), C a multiple of b), threaded; and blocked planes back to [C, H·W]. */
void nn_batch_norm_native(float *x, int C, size_t plane, const float *gamma, const float *beta, const float *mean,
                          const float *var, float eps, int relu);
void nn_avg_pool2d_2x2_native(float *out, const float *in, int C, int H, int W);
void nn_native_to_planes(float *dst, const float *src, int C, size_t plane);
/* dst[i] += src[i], threaded (any layout: the two must share it). */
void nn_add_into(float *dst, const float *src, size_t n);

/* F.interpolate(mode="linear", align_corners=False) of x [n_in] to n_out samples, value at output
 * index i: source position (i + ½)·n_in/n_out − ½, clamped at 0 and at the last sample. */
double nn_interp_linear_at(const double *x, size_t n_in, size_t n_out, size_t i);

/* F.interpolate(mode="linear", align_corners=True) in float32 as PyTorch computes it:
 * x [n_in] → out [n_out], output i read at source position i·r with r = (n_in − 1)/(n_out − 1)
 * rounded to float first (RVC's sine source upsamples its frame-rate phase this way). */
void nn_interp_linear_align_corners(float *out, size_t n_out, const float *x, size_t n_in);

/* torch.cumsum of float32 on the CPU: out[i] = x[0] + … + x[i] accumulated in double, each
 * stored as float32 (a float accumulator drifts by whole cycles over a long NSF phase).
 * In place allowed. */
void nn_cumsum(float *out, const float *x, size_t n);

#endif
