/* General and transposed 1-D convolutions (see conv.h): im2col blocks + sgemm. */
#include "nn/conv.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int nn_conv1d_out_len(const nn_conv1d_desc *d, int T)
{
    return (T + d->pad_left + d->pad_right - d->dilation * (d->k - 1) - 1) / d->stride + 1;
}

/* patches [n, cin_g·k] for output frames t0..t0+n of group g */
static void im2col(float *patches, const float *in, int T, const nn_conv1d_desc *d, int g, int t0, int n)
{
    int cin_g = d->c_in / d->groups, width = cin_g * d->k;
    for (int t = 0; t < n; t++) {
        float *row = patches + (size_t)t * width;
        int base = (t0 + t) * d->stride - d->pad_left;
        for (int j = 0; j < d->k; j++) {
            int src = base + j * d->dilation;
            if (src < 0 || src >= T) { for (int ci = 0; ci < cin_g; ci++) row[ci * d->k + j] = 0.0f; continue; }
            const float *x = in + (size_t)src * d->c_in + g * cin_g;
            for (int ci = 0; ci < cin_g; ci++) row[ci * d->k + j] = x[ci];
        }
    }
}

int nn_conv1d(float *out, const float *in, int T, const float *w, const float *b, const nn_conv1d_desc *d, vc_error *err)
{
    int t_out = nn_conv1d_out_len(d, T), cin_g = d->c_in / d->groups, cout_g = d->c_out / d->groups, width = cin_g * d->k;
    if (t_out <= 0) return vc_fail(err, VC_ERR_INVALID_REQUEST, "conv1d: input of %d frames is too short", T);
    float *patches = malloc(sizeof(float) * (size_t)NN_CONV_BLOCK * width);
    if (!patches) return vc_fail(err, VC_ERR_NOMEM, "out of memory (conv1d)");
    for (int t = 0; t < t_out; t++)
        for (int o = 0; o < d->c_out; o++) out[(size_t)t * d->c_out + o] = b ? b[o] : 0.0f;
    for (int t0 = 0; t0 < t_out; t0 += NN_CONV_BLOCK) {
        int n = t_out - t0 < NN_CONV_BLOCK ? t_out - t0 : NN_CONV_BLOCK;
        for (int g = 0; g < d->groups; g++) {
            im2col(patches, in, T, d, g, t0, n);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, cout_g, width, 1.0f, patches, width,
                        w + (size_t)g * cout_g * width, width, 1.0f, out + (size_t)t0 * d->c_out + g * cout_g, d->c_out);
        }
    }
    free(patches);
    return 0;
}

int nn_conv_transpose1d(float *out, const float *in, int T, const float *w, const float *b, int c_in, int c_out, int k,
                        int stride, int pad, vc_error *err)
{
    int t_out = (T - 1) * stride - 2 * pad + k, cols = c_out * k;
    float *cols_buf = malloc(sizeof(float) * (size_t)NN_CONV_BLOCK * cols);
    if (!cols_buf) return vc_fail(err, VC_ERR_NOMEM, "out of memory (conv_transpose1d)");
    for (int t = 0; t < t_out; t++)
        for (int o = 0; o < c_out; o++) out[(size_t)t * c_out + o] = b ? b[o] : 0.0f;
    for (int t0 = 0; t0 < T; t0 += NN_CONV_BLOCK) {
        int n = T - t0 < NN_CONV_BLOCK ? T - t0 : NN_CONV_BLOCK;
        /* [n, c_in] x [c_in, c_out·k] → each input frame's contribution to k output frames */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, cols, c_in, 1.0f, in + (size_t)t0 * c_in, c_in, w, cols,
                    0.0f, cols_buf, cols);
        for (int t = 0; t < n; t++)
            for (int j = 0; j < k; j++) {
                int dst = (t0 + t) * stride - pad + j;
                if (dst < 0 || dst >= t_out) continue;
                float *o = out + (size_t)dst * c_out;
                const float *src = cols_buf + (size_t)t * cols;
                for (int co = 0; co < c_out; co++) o[co] += src[co * k + j];
            }
    }
    free(cols_buf);
    return 0;
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
