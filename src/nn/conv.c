/*
 * General and transposed 1-D convolutions (see conv.h).
 *
 * Two strategies for conv1d, chosen by the shape:
 *   - by tap (one group, c_in >= NN_CONV_TAP_MIN_CIN): out[t] += in[t·stride + j·dil − pad] · W_jᵀ
 *     for each kernel tap j, one sgemm per block of output frames whose source rows exist. The
 *     input rows are read in place (lda = stride·c_in), so nothing is copied — HiFi-GAN's case
 *     (k up to 11, 32–512 channels, up to 480 k frames) and most of an RVC conversion's time;
 *   - im2col blocks of NN_CONV_BLOCK frames + one sgemm each, for narrow inputs (the first conv
 *     of an audio stack, where a per-tap sgemm would have K = 1) and for grouped convs (HuBERT's
 *     positional conv: 16 groups × 128 taps would be 2048 tiny sgemms a block; measured slower).
 */
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

static void fill_bias(float *out, int t_out, int c_out, const float *b)
{
    for (int t = 0; t < t_out; t++)
        for (int o = 0; o < c_out; o++) out[(size_t)t * c_out + o] = b ? b[o] : 0.0f;
}

/* Narrows output frames [*lo, *hi) to those whose source row for tap j lies inside the input. */
static void tap_range(const nn_conv1d_desc *d, int T, int j, int *lo, int *hi)
{
    int off = j * d->dilation - d->pad_left; /* source row of output t: t·stride + off */
    int first = off >= 0 ? 0 : (-off + d->stride - 1) / d->stride;
    int end = T - 1 - off < 0 ? 0 : (T - 1 - off) / d->stride + 1; /* one past the last valid t */
    if (*lo < first) *lo = first;
    if (*hi > end) *hi = end;
}

/* Output frames [t0, t1), every tap and group, accumulated onto out. */
static void conv1d_taps_block(float *out, const float *in, int T, const float *taps, const nn_conv1d_desc *d, int t0,
                              int t1)
{
    int cin_g = d->c_in / d->groups, cout_g = d->c_out / d->groups;
    for (int j = 0; j < d->k; j++) {
        int lo = t0, hi = t1;
        tap_range(d, T, j, &lo, &hi);
        if (hi <= lo) continue;
        const float *src = in + (size_t)(lo * d->stride + j * d->dilation - d->pad_left) * d->c_in;
        for (int g = 0; g < d->groups; g++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, hi - lo, cout_g, cin_g, 1.0f, src + g * cin_g,
                        d->stride * d->c_in, taps + ((size_t)j * d->c_out + g * cout_g) * cin_g, cin_g, 1.0f,
                        out + (size_t)lo * d->c_out + g * cout_g, d->c_out);
    }
}

/* Output frames per block: the block being accumulated (rows × c_out floats ≈ 1 MB) stays in
 * cache across the k taps; measured 1.2–2× faster than one sgemm per tap over the whole
 * sequence, which re-reads the output k times from memory. Narrow layers get longer blocks so
 * each sgemm still has enough work (HiFi-GAN's last stage: 32 channels × 8192 frames). */
static int tap_block_rows(int c_out)
{
    int rows = (1 << 18) / (c_out > 0 ? c_out : 1);
    return rows < 1024 ? 1024 : rows > 16384 ? 16384 : rows;
}

static int conv1d_by_tap(float *out, const float *in, int T, int t_out, const float *w, const nn_conv1d_desc *d,
                         vc_error *err)
{
    int cin_g = d->c_in / d->groups;
    /* w [c_out, cin_g, k] → taps [k][c_out][cin_g], so each tap is a plain row-major matrix */
    float *taps = malloc(sizeof(float) * (size_t)d->k * d->c_out * cin_g);
    if (!taps) return vc_fail(err, VC_ERR_NOMEM, "out of memory (conv1d)");
    for (int o = 0; o < d->c_out; o++)
        for (int i = 0; i < cin_g; i++)
            for (int j = 0; j < d->k; j++)
                taps[((size_t)j * d->c_out + o) * cin_g + i] = w[((size_t)o * cin_g + i) * d->k + j];
    int block = tap_block_rows(d->c_out);
    for (int t0 = 0; t0 < t_out; t0 += block) conv1d_taps_block(out, in, T, taps, d, t0, t0 + block < t_out ? t0 + block : t_out);
    free(taps);
    return 0;
}

int nn_conv1d(float *out, const float *in, int T, const float *w, const float *b, const nn_conv1d_desc *d, vc_error *err)
{
    int t_out = nn_conv1d_out_len(d, T), cin_g = d->c_in / d->groups, cout_g = d->c_out / d->groups, width = cin_g * d->k;
    if (t_out <= 0) return vc_fail(err, VC_ERR_INVALID_REQUEST, "conv1d: input of %d frames is too short", T);
    fill_bias(out, t_out, d->c_out, b);
    if (cin_g >= NN_CONV_TAP_MIN_CIN && d->groups == 1) return conv1d_by_tap(out, in, T, t_out, w, d, err);
    float *patches = malloc(sizeof(float) * (size_t)NN_CONV_BLOCK * width);
    if (!patches) return vc_fail(err, VC_ERR_NOMEM, "out of memory (conv1d)");
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
    fill_bias(out, t_out, c_out, b);
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

/* ---- 3×3 conv2d ---- */

static void fill_plane_bias(float *out, int co, size_t n, const float *b)
{
    for (int o = 0; o < co; o++)
        for (size_t i = 0; i < n; i++) out[(size_t)o * n + i] = b ? b[o] : 0.0f;
}

/* One sgemm with K = 9·ci against the weights as stored ([co, ci·9]); best for the deep, small
 * planes (512 channels on 32×4 in RMVPE's middle), where the column buffer is small and a
 * per-tap sgemm would stream the large weights nine times. */
int nn_conv2d_3x3_im2col(float *out, const float *in, int ci, int H, int W, const float *w, const float *b, int co,
                         vc_error *err)
{
    size_t hw = (size_t)H * W;
    float *cols = malloc(sizeof(float) * (size_t)ci * 9 * hw + 1);
    if (!cols) return vc_fail(err, VC_ERR_NOMEM, "out of memory (conv2d)");
    for (int c = 0; c < ci; c++)
        for (int t = 0; t < 9; t++) {
            int dy = t / 3 - 1, dx = t % 3 - 1;
            float *dst = cols + (size_t)(c * 9 + t) * hw;
            const float *src = in + (size_t)c * hw;
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    int sy = y + dy, sx = x + dx;
                    dst[(size_t)y * W + x] = (sy < 0 || sy >= H || sx < 0 || sx >= W) ? 0.0f : src[(size_t)sy * W + sx];
                }
        }
    fill_plane_bias(out, co, hw, b);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, co, (int)hw, ci * 9, 1.0f, w, ci * 9, cols, (int)hw, 1.0f, out,
                (int)hw);
    free(cols);
    return 0;
}

/* No im2col (9× the input): the input is zero-padded once to [ci, H+2, W+2] and the output is
 * accumulated in the padded width, [co, H, W+2]. Tap (kh, kw) then reads, for every output
 * position, the padded input at the same flat offset plus kh·(W+2) + kw — one contiguous
 * [ci, H·(W+2)] window per channel, so each tap is a single sgemm on the input in place. The
 * two extra columns of each output row collect wrapped-around values and are dropped. */
int nn_conv2d_3x3_taps(float *out, const float *in, int ci, int H, int W, const float *w, const float *b, int co,
                       vc_error *err)
{
    int Wp = W + 2;
    size_t ps = (size_t)(H + 2) * Wp + 2, n = (size_t)H * Wp; /* +2: the end of the last tap's window */
    float *pad = calloc((size_t)ci * ps, sizeof(float)), *acc = malloc(sizeof(float) * (size_t)co * n + 1);
    float *taps = malloc(sizeof(float) * 9 * (size_t)co * ci + 1);
    if (!pad || !acc || !taps) {
        free(pad); free(acc); free(taps);
        return vc_fail(err, VC_ERR_NOMEM, "out of memory (conv2d)");
    }
    for (int c = 0; c < ci; c++)
        for (int y = 0; y < H; y++)
            memcpy(pad + c * ps + (size_t)(y + 1) * Wp + 1, in + ((size_t)c * H + y) * W, sizeof(float) * (size_t)W);
    fill_plane_bias(acc, co, n, b);
    for (int o = 0; o < co; o++) /* w [co, ci, 9] → taps [9][co][ci] */
        for (int c = 0; c < ci; c++)
            for (int t = 0; t < 9; t++) taps[((size_t)t * co + o) * ci + c] = w[((size_t)o * ci + c) * 9 + t];
    for (int t = 0; t < 9; t++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, co, (int)n, ci, 1.0f, taps + (size_t)t * co * ci, ci,
                    pad + (t / 3) * Wp + t % 3, (int)ps, 1.0f, acc, (int)n);
    for (int o = 0; o < co; o++)
        for (int y = 0; y < H; y++)
            memcpy(out + ((size_t)o * H + y) * W, acc + (size_t)o * n + (size_t)y * Wp, sizeof(float) * (size_t)W);
    free(pad); free(acc); free(taps);
    return 0;
}

int nn_conv2d_3x3(float *out, const float *in, int ci, int H, int W, const float *w, const float *b, int co, vc_error *err)
{
    size_t cols = (size_t)ci * 9 * H * W;
    return cols <= NN_CONV2D_IM2COL_MAX ? nn_conv2d_3x3_im2col(out, in, ci, H, W, w, b, co, err)
                                        : nn_conv2d_3x3_taps(out, in, ci, H, W, w, b, co, err);
}

/* One sgemm gives every input pixel's contribution to each (output channel, tap): cols
 * [co·9, H·W] = wᵀ · in; each is then scattered to output pixel (2y − 1 + kh, 2x − 1 + kw). */
int nn_conv_transpose2d_3x3_s2(float *out, const float *in, int ci, int H, int W, const float *w, int co, vc_error *err)
{
    int H2 = 2 * H, W2 = 2 * W;
    size_t hw = (size_t)H * W;
    float *cols = malloc(sizeof(float) * (size_t)co * 9 * hw + 1);
    if (!cols) return vc_fail(err, VC_ERR_NOMEM, "out of memory (conv_transpose2d)");
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, co * 9, (int)hw, ci, 1.0f, w, co * 9, in, (int)hw, 0.0f, cols, (int)hw);
    memset(out, 0, sizeof(float) * (size_t)co * H2 * W2);
    for (int o = 0; o < co; o++)
        for (int t = 0; t < 9; t++) {
            int kh = t / 3, kw = t % 3;
            const float *src = cols + (size_t)(o * 9 + t) * hw;
            for (int y = 0; y < H; y++) {
                int dy = 2 * y - 1 + kh;
                if (dy < 0 || dy >= H2) continue;
                for (int x = 0; x < W; x++) {
                    int dx = 2 * x - 1 + kw;
                    if (dx >= 0 && dx < W2) out[((size_t)o * H2 + dy) * W2 + dx] += src[(size_t)y * W + x];
                }
            }
        }
    free(cols);
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
