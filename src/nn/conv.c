/*
 * 1-D and 2-D convolutions of the inference models (see conv.h), as specs for the engine's
 * backend (backend.h): time-major sequences are channels-last [1][1][T][C], RMVPE's planes are
 * channels-first [1][C][H][W]. The kernels themselves live in the backend (oneDNN on the CPU).
 */
#include "nn/conv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"

int nn_conv1d_out_len(const nn_conv1d_desc *d, int T)
{
    return (T + d->pad_left + d->pad_right - d->dilation * (d->k - 1) - 1) / d->stride + 1;
}

/* A time-major sequence [T, C] is a channels-last image of height 1. */
static nn_conv_spec seq_spec(int T, int c_in, int c_out, int k, int stride, int dilation, int pad_l, int pad_r,
                             int groups, int transposed)
{
    return (nn_conv_spec){.n = 1, .c_in = c_in, .c_out = c_out, .groups = groups, .in_h = 1, .in_w = T, .kh = 1,
                          .kw = k, .stride_h = 1, .stride_w = stride, .dil_h = 1, .dil_w = dilation, .pad_l = pad_l,
                          .pad_r = pad_r, .transposed = transposed, .layout = NN_LAYOUT_CHANNELS_LAST};
}

int nn_conv1d(float *out, const float *in, int T, const float *w, const float *b, const nn_conv1d_desc *d, vc_error *err)
{
    if (nn_conv1d_out_len(d, T) <= 0) return vc_fail(err, VC_ERR_INVALID_REQUEST, "conv1d: input of %d frames is too short", T);
    nn_conv_spec s = seq_spec(T, d->c_in, d->c_out, d->k, d->stride, d->dilation, d->pad_left, d->pad_right, d->groups, 0);
    return nn_conv(&s, out, in, w, b, 0, err);
}

int nn_conv1d_chunked(float *out, const float *in, int T, const float *w, const float *b, const nn_conv1d_desc *d,
                      int chunk, nn_cancel_fn cancelled, void *ctx, vc_error *err)
{
    int T_out = nn_conv1d_out_len(d, T), span = d->dilation * (d->k - 1) + 1;
    if (T_out <= 0) return vc_fail(err, VC_ERR_INVALID_REQUEST, "conv1d: input of %d frames is too short", T);
    if (chunk < 1) chunk = T_out;
    for (int o0 = 0; o0 < T_out; o0 += chunk) {
        if (nn_poll_cancel(cancelled, ctx, err)) return -1;
        int o1 = o0 + chunk < T_out ? o0 + chunk : T_out;
        /* input frames [lo, hi) in padded coordinates; what falls outside [0, T) is the padding */
        int lo = o0 * d->stride - d->pad_left, hi = (o1 - 1) * d->stride - d->pad_left + span;
        nn_conv1d_desc part = *d;
        part.pad_left = lo < 0 ? -lo : 0;
        part.pad_right = hi > T ? hi - T : 0;
        int first = lo < 0 ? 0 : lo, last = hi > T ? T : hi;
        if (last <= first) { /* every frame of the chunk sees padding only */
            for (int o = o0; o < o1; o++)
                for (int c = 0; c < d->c_out; c++) out[(size_t)o * d->c_out + c] = b ? b[c] : 0.0f;
            continue;
        }
        if (nn_conv1d(out + (size_t)o0 * d->c_out, in + (size_t)first * d->c_in, last - first, w, b, &part, err) != 0)
            return -1;
    }
    return 0;
}

int nn_conv_transpose1d(float *out, const float *in, int T, const float *w, const float *b, int c_in, int c_out, int k,
                        int stride, int pad, vc_error *err)
{
    nn_conv_spec s = seq_spec(T, c_in, c_out, k, stride, 1, pad, pad, 1, 1);
    return nn_conv(&s, out, in, w, b, 0, err);
}

/* RMVPE's planes [C, H, W] are a channels-first image. */
static nn_conv_spec plane_spec(int ci, int co, int H, int W, int stride, int pad_lo, int pad_hi, int transposed)
{
    return (nn_conv_spec){.n = 1, .c_in = ci, .c_out = co, .groups = 1, .in_h = H, .in_w = W, .kh = 3, .kw = 3,
                          .stride_h = stride, .stride_w = stride, .dil_h = 1, .dil_w = 1, .pad_t = pad_lo,
                          .pad_b = pad_hi, .pad_l = pad_lo, .pad_r = pad_hi, .transposed = transposed,
                          .layout = NN_LAYOUT_CHANNELS_FIRST};
}

int nn_conv2d_3x3(float *out, const float *in, int ci, int H, int W, const float *w, const float *b, int co, vc_error *err)
{
    nn_conv_spec s = plane_spec(ci, co, H, W, 1, 1, 1, 0);
    return nn_conv(&s, out, in, w, b, 0, err);
}

/* PyTorch's output_padding 1 on the far side: padding (1, 1 − 1). */
int nn_conv_transpose2d_3x3_s2(float *out, const float *in, int ci, int H, int W, const float *w, int co, vc_error *err)
{
    nn_conv_spec s = plane_spec(ci, co, H, W, 2, 1, 0, 1);
    return nn_conv(&s, out, in, w, NULL, 0, err);
}

/* A plane spec in the blocked layout, or from a plain input into a blocked output. */
static nn_conv_spec native_spec(nn_conv_spec s, int in_plain)
{
    s.layout = in_plain ? NN_LAYOUT_CHANNELS_FIRST : NN_LAYOUT_NATIVE;
    s.out_native = in_plain;
    return s;
}

int nn_conv2d_3x3_native(float *out, const float *in, int ci, int H, int W, const float *w, const float *b, int co,
                         int in_plain, vc_error *err)
{
    nn_conv_spec s = native_spec(plane_spec(ci, co, H, W, 1, 1, 1, 0), in_plain);
    return nn_conv(&s, out, in, w, b, 0, err);
}

int nn_conv2d_1x1_add_native(float *out, const float *in, int ci, int H, int W, const float *w, const float *b, int co,
                             int in_plain, vc_error *err)
{
    nn_conv_spec s = native_spec(plane_spec(ci, co, H, W, 1, 0, 0, 0), in_plain);
    s.kh = s.kw = 1;
    return nn_conv(&s, out, in, w, b, 1, err);
}

int nn_conv_transpose2d_3x3_s2_native(float *out, const float *in, int ci, int H, int W, const float *w, int co,
                                      vc_error *err)
{
    nn_conv_spec s = native_spec(plane_spec(ci, co, H, W, 2, 1, 0, 1), 0);
    return nn_conv(&s, out, in, w, NULL, 0, err);
}

void nn_weight_norm_fold(float *w, const float *g, const float *v, int n0, size_t per_row)
{
    for (int o = 0; o < n0; o++) {
        const float *vr = v + (size_t)o * per_row;
        double norm = 0;
        for (size_t i = 0; i < per_row; i++) norm += (double)vr[i] * vr[i];
        float scale = (float)(g[o] / sqrt(norm));
        for (size_t i = 0; i < per_row; i++) w[(size_t)o * per_row + i] = vr[i] * scale;
    }
}
