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
/* conv1d goes tap by tap (no im2col) for ungrouped convs from this many input channels up. */
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

/* 3×3 conv2d, stride 1, zero padding 1, on channel-major planes (RMVPE's U-Net):
 * in [ci, H, W] → out [co, H, W]; w [co, ci, 3, 3]; b may be NULL. Picks one of the two below:
 * im2col while its column buffer (9·ci·H·W floats) stays within NN_CONV2D_IM2COL_MAX, padded
 * taps beyond. Both are public so tests can check each against the definition. */
#define NN_CONV2D_IM2COL_MAX (4u << 20)
int nn_conv2d_3x3(float *out, const float *in, int ci, int H, int W, const float *w, const float *b, int co, vc_error *err);
int nn_conv2d_3x3_im2col(float *out, const float *in, int ci, int H, int W, const float *w, const float *b, int co,
                         vc_error *err);
int nn_conv2d_3x3_taps(float *out, const float *in, int ci, int H, int W, const float *w, const float *b, int co,
                       vc_error *err);

/* ConvTranspose2d(kernel 3, stride 2, padding 1, output_padding 1, no bias), RMVPE's decoder
 * upsampling: in [ci, H, W] → out [co, 2H, 2W]; w [ci, co, 3, 3] (PyTorch's layout). */
int nn_conv_transpose2d_3x3_s2(float *out, const float *in, int ci, int H, int W, const float *w, int co, vc_error *err);

/* Weight norm folded once at load: w[o] = g[o] · v[o] / ‖v[o]‖ over all other dims. n0 = dim 0. */
void nn_weight_norm_fold(float *w, const float *g, const float *v, int n0, size_t per_row);

#endif
