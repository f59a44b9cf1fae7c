/*
 * General 1-D convolutions on time-major sequences ([T, C] row-major): stride, dilation,
 * asymmetric zero padding, groups; and the transposed convolution HiFi-GAN upsamples with.
 * Weights keep PyTorch layouts: Conv1d [c_out, c_in/groups, k], ConvTranspose1d [c_in, c_out, k].
 * They run on the engine's backend (backend.h); nothing here allocates beyond the backend's
 * scratch, which is reused from call to call.
 */
#ifndef VC_NN_CONV_H
#define VC_NN_CONV_H

#include <stddef.h>

#include "base/error.h"
#include "nn/cancel.h"

typedef struct nn_conv1d_desc {
    int c_in, c_out, k, stride, dilation, pad_left, pad_right, groups;
} nn_conv1d_desc;

int nn_conv1d_out_len(const nn_conv1d_desc *d, int T);

/* out [T_out, c_out] = conv(in [T, c_in]); b may be NULL. */
int nn_conv1d(float *out, const float *in, int T, const float *w, const float *b, const nn_conv1d_desc *d, vc_error *err);
/* The same, in chunks of at most `chunk` output frames, asking cancelled(ctx) before each chunk:
 * non-zero stops with VC_ERR_CANCELLED, out partly written. For convolutions over long inputs
 * (HuBERT's feature encoder over a 41 s conversion chunk runs seconds), so a cancel request is
 * seen within one chunk. Each chunk is one nn_conv1d over the input frames it needs, the zero
 * padding applied at the sequence's ends only: values match nn_conv1d's up to the kernels' rounding. */
int nn_conv1d_chunked(float *out, const float *in, int T, const float *w, const float *b, const nn_conv1d_desc *d,
                      int chunk, nn_cancel_fn cancelled, void *ctx, vc_error *err);

/* out [(T−1)·stride − 2·pad + k, c_out] = conv_transpose(in [T, c_in]); w [c_in, c_out, k]. */
int nn_conv_transpose1d(float *out, const float *in, int T, const float *w, const float *b, int c_in, int c_out, int k,
                        int stride, int pad, vc_error *err);

/* 3×3 conv2d, stride 1, zero padding 1, on channel-major planes (RMVPE's U-Net):
 * in [ci, H, W] → out [co, H, W]; w [co, ci, 3, 3]; b may be NULL. */
int nn_conv2d_3x3(float *out, const float *in, int ci, int H, int W, const float *w, const float *b, int co, vc_error *err);

/* ConvTranspose2d(kernel 3, stride 2, padding 1, output_padding 1, no bias), RMVPE's decoder
 * upsampling: in [ci, H, W] → out [co, 2H, 2W]; w [ci, co, 3, 3] (PyTorch's layout). */
int nn_conv_transpose2d_3x3_s2(float *out, const float *in, int ci, int H, int W, const float *w, int co, vc_error *err);

/* The same on planes in the engine's blocked layout (NN_LAYOUT_NATIVE, [C/b][H][W][b], channel
 * counts multiples of nn_native_block()), so a U-Net runs with no conversions between layers.
 * in_plain: the input is a plain [ci, H, W] plane (RMVPE's 1-channel input); the output is
 * blocked all the same. */
int nn_conv2d_3x3_native(float *out, const float *in, int ci, int H, int W, const float *w, const float *b, int co,
                         int in_plain, vc_error *err);
/* out += 1×1 conv(in) + b (a residual block's shortcut), out blocked. */
int nn_conv2d_1x1_add_native(float *out, const float *in, int ci, int H, int W, const float *w, const float *b, int co,
                             int in_plain, vc_error *err);
int nn_conv_transpose2d_3x3_s2_native(float *out, const float *in, int ci, int H, int W, const float *w, int co,
                                      vc_error *err);

/* Weight norm folded once at load: w[o] = g[o] · v[o] / ‖v[o]‖ over all other dims. n0 = dim 0. */
void nn_weight_norm_fold(float *w, const float *g, const float *v, int n0, size_t per_row);

#endif
