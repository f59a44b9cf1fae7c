/*
 * General 1-D convolutions on time-major sequences ([T, C] row-major): stride, dilation,
 * asymmetric zero padding, groups; and the transposed convolution HiFi-GAN upsamples with.
 * Weights keep PyTorch layouts: Conv1d [c_out, c_in/groups, k], ConvTranspose1d [c_in, c_out, k].
 * Scratch memory is bounded for any length (a 30-minute file at 48 kHz included): im2col works
 * in blocks of NN_CONV_BLOCK output frames, the per-tap path needs only the repacked weights.
 */
#ifndef VC_NN_CONV_H
#define VC_NN_CONV_H

#include <stddef.h>

#include "base/error.h"

#define NN_CONV_BLOCK 2048
/* conv1d goes tap by tap (no im2col) from this many input channels per group up. */
#define NN_CONV_TAP_MIN_CIN 16

typedef struct nn_conv1d_desc {
    int c_in, c_out, k, stride, dilation, pad_left, pad_right, groups;
} nn_conv1d_desc;

int nn_conv1d_out_len(const nn_conv1d_desc *d, int T);

/* out [T_out, c_out] = conv(in [T, c_in]); b may be NULL. */
int nn_conv1d(float *out, const float *in, int T, const float *w, const float *b, const nn_conv1d_desc *d, vc_error *err);

/* out [(T−1)·stride − 2·pad + k, c_out] = conv_transpose(in [T, c_in]); w [c_in, c_out, k]. */
int nn_conv_transpose1d(float *out, const float *in, int T, const float *w, const float *b, int c_in, int c_out, int k,
                        int stride, int pad, vc_error *err);

/* Weight norm folded once at load: w[o] = g[o] · v[o] / ‖v[o]‖ over all other dims. n0 = dim 0. */
void nn_weight_norm_fold(float *w, const float *g, const float *v, int n0, size_t per_row);

#endif
