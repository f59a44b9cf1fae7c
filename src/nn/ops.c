/* Per-channel norms, pooling and interpolation (see ops.h). */
#include "nn/ops.h"

#include "nn/backend.h"
#include "nn/par.h"

#include <math.h>

void nn_batch_norm_planes(float *x, int C, size_t plane, const float *gamma, const float *beta, const float *mean,
                          const float *var, float eps, int relu)
{
    for (int c = 0; c < C; c++) {
        float scale = gamma[c] / sqrtf(var[c] + eps), shift = beta[c] - mean[c] * scale;
        float *p = x + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++) {
            float v = p[i] * scale + shift;
            p[i] = relu && v < 0 ? 0 : v;
        }
    }
}

/* Channels in blocks of NN_GN_BLOCK, each block's passes walking the rows: one channel at a time
 * strode C floats per step, a cache miss each (4 s for HuBERT's first convolution over a minute of
 * audio, 192 000 × 512 values, against 1 s so). Each channel still sums over t in order, so the
 * values are exactly the one-channel-at-a-time ones. */
int nn_group_norm_per_channel_cancellable(float *x, int T, int C, const float *gamma, const float *beta, double eps,
                                          nn_cancel_fn cancelled, void *ctx, vc_error *err)
{
    for (int c0 = 0; c0 < C; c0 += NN_GN_BLOCK) {
        if (nn_poll_cancel(cancelled, ctx, err)) return -1;
        int nc = C - c0 < NN_GN_BLOCK ? C - c0 : NN_GN_BLOCK;
        double mean[NN_GN_BLOCK] = {0}, var[NN_GN_BLOCK] = {0};
        float inv[NN_GN_BLOCK], meanf[NN_GN_BLOCK];
        for (int t = 0; t < T; t++)
            for (int j = 0; j < nc; j++) mean[j] += x[(size_t)t * C + c0 + j];
        for (int j = 0; j < nc; j++) mean[j] /= T;
        for (int t = 0; t < T; t++)
            for (int j = 0; j < nc; j++) {
                double d = x[(size_t)t * C + c0 + j] - mean[j];
                var[j] += d * d;
            }
        for (int j = 0; j < nc; j++) {
            inv[j] = (float)(1.0 / sqrt(var[j] / T + eps));
            meanf[j] = (float)mean[j];
        }
        for (int t = 0; t < T; t++) {
            float *r = x + (size_t)t * C + c0;
            for (int j = 0; j < nc; j++) r[j] = ((r[j] - meanf[j]) * inv[j]) * gamma[c0 + j] + beta[c0 + j];
        }
    }
    return 0;
}

void nn_group_norm_per_channel(float *x, int T, int C, const float *gamma, const float *beta, double eps)
{
    nn_group_norm_per_channel_cancellable(x, T, C, gamma, beta, eps, NULL, NULL, NULL);
}

void nn_avg_pool2d_2x2(float *out, const float *in, int C, int H, int W)
{
    int H2 = H / 2, W2 = W / 2;
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H2; y++)
            for (int x = 0; x < W2; x++) {
                const float *s = in + ((size_t)c * H + 2 * y) * W + 2 * x;
                out[((size_t)c * H2 + y) * W2 + x] = (s[0] + s[1] + s[W] + s[W + 1]) * 0.25f;
            }
}

void nn_batch_norm_native(float *x, int C, size_t plane, const float *gamma, const float *beta, const float *mean,
                          const float *var, float eps, int relu)
{
    int b = nn_native_block(), nb = C / b;
    NN_PAR_FOR((size_t)C * plane)
    for (int cb = 0; cb < nb; cb++) {
        float scale[64], shift[64];
        for (int j = 0; j < b; j++) {
            int c = cb * b + j;
            scale[j] = gamma[c] / sqrtf(var[c] + eps);
            shift[j] = beta[c] - mean[c] * scale[j];
        }
        float *p = x + (size_t)cb * plane * b;
        for (size_t i = 0; i < plane; i++)
            for (int j = 0; j < b; j++) {
                float v = p[i * b + j] * scale[j] + shift[j];
                p[i * b + j] = relu && v < 0 ? 0 : v;
            }
    }
}

void nn_avg_pool2d_2x2_native(float *out, const float *in, int C, int H, int W)
{
    int b = nn_native_block(), H2 = H / 2, W2 = W / 2;
    long rows = (long)(C / b) * H2;
    NN_PAR_FOR((size_t)C * H * W)
    for (long r = 0; r < rows; r++) {
        long cb = r / H2, y = r % H2;
        const float *s0 = in + ((size_t)cb * H + 2 * y) * W * b, *s1 = s0 + (size_t)W * b;
        float *o = out + ((size_t)cb * H2 + y) * W2 * b;
        for (int x = 0; x < W2; x++)
            for (int j = 0; j < b; j++)
                o[x * b + j] = (s0[2 * x * b + j] + s0[(2 * x + 1) * b + j] + s1[2 * x * b + j] + s1[(2 * x + 1) * b + j]) * 0.25f;
    }
}

void nn_native_to_planes(float *dst, const float *src, int C, size_t plane)
{
    int b = nn_native_block();
    NN_PAR_FOR((size_t)C * plane)
    for (int c = 0; c < C; c++) {
        const float *s = src + (size_t)(c / b) * plane * b + c % b;
        for (size_t i = 0; i < plane; i++) dst[(size_t)c * plane + i] = s[i * b];
    }
}

void nn_add_into(float *dst, const float *src, size_t n)
{
    NN_PAR_FOR(n)
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

double nn_interp_linear_at(const double *x, size_t n_in, size_t n_out, size_t i)
{
    double src = ((double)i + 0.5) * (double)n_in / (double)n_out - 0.5;
    if (src < 0) src = 0;
    size_t i0 = (size_t)src, i1 = i0 + 1 < n_in ? i0 + 1 : n_in - 1;
    double lambda = src - (double)i0;
    return x[i0] * (1 - lambda) + x[i1] * lambda;
}

/* Bit for bit as PyTorch 1.13's CPU kernel computes it (found by comparing candidate roundings
 * with torch on RVC's NSF phase curve, where it matters: a flat stretch of a large phase value
 * must jitter by the same ulps, because SineGen counts every downward step of its fractional
 * part as a wrap): the ratio in float, the source position in double, the weights in float, and
 * out = fma(x0, w0, float(x1·w1)). */
void nn_interp_linear_align_corners(float *out, size_t n_out, const float *x, size_t n_in)
{
    float scale = n_in > 1 && n_out > 1 ? (float)(n_in - 1) / (float)(n_out - 1) : 0.0f;
    for (size_t o = 0; o < n_out; o++) {
        double real = (double)scale * (double)o;
        size_t i0 = (size_t)real < n_in - 1 ? (size_t)real : n_in - 1, i1 = i0 + 1 < n_in ? i0 + 1 : i0;
        float w1 = (float)(real - (double)i0);
        w1 = w1 < 0.0f ? 0.0f : w1 > 1.0f ? 1.0f : w1;
        float w0 = 1.0f - w1, t1 = x[i1] * w1;
        out[o] = fmaf(x[i0], w0, t1);
    }
}

void nn_cumsum(float *out, const float *x, size_t n)
{
    double acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += x[i];
        out[i] = (float)acc;
    }
}
