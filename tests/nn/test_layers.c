/*
 * Engine ops against independent references: naive loops for the GEMM-backed ops, identities
 * for the spectral ops (ISTFT∘STFT, Parseval), and the scipy design of RVC's high-pass filter.
 * Model-level agreement with PyTorch is covered stage by stage by the golden cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/filter.h"
#include "nn/conv.h"
#include "nn/layers.h"
#include "nn/ops.h"
#include "nn/spectral.h"

static float *random_floats(size_t n, unsigned seed)
{
    float *x = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) { seed = seed * 1103515245u + 12345u; x[i] = (float)((seed >> 8) & 0xFFFF) / 32768.0f - 1.0f; }
    return x;
}

static void linear_matches_naive_loop(void **state)
{
    int rows = 5, in = 7, out = 3;
    float *x = random_floats(rows * in, 1), *w = random_floats(out * in, 2), *b = random_floats(out, 3), y[15];
    nn_linear(y, x, w, b, rows, in, out);
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < out; o++) {
            double s = b[o];
            for (int i = 0; i < in; i++) s += (double)x[r * in + i] * w[o * in + i];
            assert_true(fabs(s - y[r * out + o]) < 1e-5);
        }
    free(x); free(w); free(b);
}

/* y [t_out, c_out] against the direct definition of conv1d (PyTorch semantics) */
static void expect_conv1d(const char *what, const float *y, const float *x, const float *w, const float *b, nn_conv1d_desc d,
                          int T)
{
    int t_out = nn_conv1d_out_len(&d, T), cin_g = d.c_in / d.groups, cout_g = d.c_out / d.groups;
    for (int t = 0; t < t_out; t++)
        for (int o = 0; o < d.c_out; o++) {
            int g = o / cout_g;
            double s = b[o];
            for (int ci = 0; ci < cin_g; ci++)
                for (int j = 0; j < d.k; j++) {
                    int src = t * d.stride - d.pad_left + j * d.dilation;
                    if (src >= 0 && src < T) s += (double)w[(o * cin_g + ci) * d.k + j] * x[src * d.c_in + g * cin_g + ci];
                }
            if (fabs(s - y[t * d.c_out + o]) > 1e-4 * (1 + fabs(s)))
                fail_msg("%s c_in %d k %d stride %d dil %d groups %d: t %d o %d got %g want %g", what, d.c_in, d.k,
                         d.stride, d.dilation, d.groups, t, o, y[t * d.c_out + o], s);
        }
}

/* nn_conv1d of desc d on T random frames against a direct loop, and nn_conv1d_chunked in chunks
 * of 1, 3 and 7 output frames (chunks at the padded ends, inside, and wholly in the padding). */
static void check_conv1d_direct(nn_conv1d_desc d, int T, unsigned seed)
{
    int t_out = nn_conv1d_out_len(&d, T), cin_g = d.c_in / d.groups;
    float *x = random_floats((size_t)T * d.c_in, seed), *w = random_floats((size_t)d.c_out * cin_g * d.k, seed + 1);
    float *b = random_floats(d.c_out, seed + 2), *y = malloc(sizeof(float) * (size_t)t_out * d.c_out);
    vc_error err;
    assert_int_equal(nn_conv1d(y, x, T, w, b, &d, &err), 0);
    expect_conv1d("conv1d", y, x, w, b, d, T);
    const int chunks[] = {1, 3, 7};
    for (int c = 0; c < 3; c++) {
        memset(y, 0, sizeof(float) * (size_t)t_out * d.c_out);
        assert_int_equal(nn_conv1d_chunked(y, x, T, w, b, &d, chunks[c], NULL, NULL, &err), 0);
        expect_conv1d("chunked conv1d", y, x, w, b, d, T);
    }
    free(x); free(w); free(b); free(y);
}

typedef struct poll { int calls, stop_at; } poll;

static int asked(void *ctx)
{
    poll *p = ctx;
    return ++p->calls >= p->stop_at;
}

/* The hook is asked before each chunk; a request stops before the chunk it was asked for. */
static void chunked_conv1d_polls_before_each_chunk(void **state)
{
    nn_conv1d_desc d = {8, 6, 4, 2, 1, 2, 1, 1};
    int T = 40, t_out = nn_conv1d_out_len(&d, T), chunk = 6, n_chunks = (t_out + chunk - 1) / chunk;
    float *x = random_floats((size_t)T * d.c_in, 90), *w = random_floats((size_t)d.c_out * d.c_in * d.k, 91);
    float *y = malloc(sizeof(float) * (size_t)t_out * d.c_out);
    vc_error err;
    poll never = {0, 1 << 30};
    assert_int_equal(nn_conv1d_chunked(y, x, T, w, NULL, &d, chunk, asked, &never, &err), 0);
    assert_int_equal(never.calls, n_chunks);
    for (int k = 1; k <= n_chunks; k++) {
        poll p = {0, k};
        for (size_t i = 0; i < (size_t)t_out * d.c_out; i++) y[i] = -99.0f;
        memset(&err, 0, sizeof err);
        assert_int_equal(nn_conv1d_chunked(y, x, T, w, NULL, &d, chunk, asked, &p, &err), -1);
        assert_int_equal(err.code, VC_ERR_CANCELLED);
        assert_int_equal(p.calls, k);
        for (size_t i = (size_t)(k - 1) * chunk * d.c_out; i < (size_t)t_out * d.c_out; i++) assert_true(y[i] == -99.0f);
        if (k > 1) assert_true(y[(size_t)(k - 1) * chunk * d.c_out - 1] != -99.0f);
    }
    free(x); free(w); free(y);
}

/* The blocked GroupNorm asks the hook before each block of NN_GN_BLOCK channels, and a hook that
 * never asks gives the plain call's values exactly (a partial last block included). */
static void group_norm_polls_per_channel_block(void **state)
{
    int T = 37, C = 2 * NN_GN_BLOCK + 5, blocks = 3;
    float *x = random_floats((size_t)T * C, 95), *y = malloc(sizeof(float) * (size_t)T * C);
    float *g = random_floats(C, 96), *b = random_floats(C, 97);
    memcpy(y, x, sizeof(float) * (size_t)T * C);
    nn_group_norm_per_channel(x, T, C, g, b, 1e-5);
    poll never = {0, 1 << 30};
    vc_error err;
    float *z = malloc(sizeof(float) * (size_t)T * C);
    memcpy(z, y, sizeof(float) * (size_t)T * C);
    assert_int_equal(nn_group_norm_per_channel_cancellable(z, T, C, g, b, 1e-5, asked, &never, &err), 0);
    assert_int_equal(never.calls, blocks);
    assert_memory_equal(z, x, sizeof(float) * (size_t)T * C);
    for (int c = 0; c < C; c++) { /* normalised: each channel's mean is beta, its spread gamma */
        double m = 0;
        for (int t = 0; t < T; t++) m += x[(size_t)t * C + c];
        assert_true(fabs(m / T - b[c]) < 1e-4);
    }
    for (int k = 1; k <= blocks; k++) {
        poll p = {0, k};
        memcpy(z, y, sizeof(float) * (size_t)T * C);
        memset(&err, 0, sizeof err);
        assert_int_equal(nn_group_norm_per_channel_cancellable(z, T, C, g, b, 1e-5, asked, &p, &err), -1);
        assert_int_equal(err.code, VC_ERR_CANCELLED);
        assert_int_equal(p.calls, k);
        for (int t = 0; t < T; t++) /* the blocks from the one that stopped on are untouched */
            assert_memory_equal(z + (size_t)t * C + (k - 1) * NN_GN_BLOCK, y + (size_t)t * C + (k - 1) * NN_GN_BLOCK,
                                sizeof(float) * (size_t)(C - (k - 1) * NN_GN_BLOCK));
    }
    free(x); free(y); free(z); free(g); free(b);
}

/* Stride, dilation, asymmetric padding, groups (depthwise included), and padding wider than the
 * input, through the engine's backend, whole and in chunks. */
static void conv1d_matches_direct_definition(void **state)
{
    /* c_in, c_out, k, stride, dilation, pad_left, pad_right, groups */
    check_conv1d_direct((nn_conv1d_desc){4, 6, 3, 2, 2, 2, 1, 2}, 11, 4);
    check_conv1d_direct((nn_conv1d_desc){32, 24, 7, 1, 3, 9, 9, 1}, 40, 10);
    check_conv1d_direct((nn_conv1d_desc){32, 16, 5, 3, 2, 4, 1, 1}, 37, 20);
    check_conv1d_direct((nn_conv1d_desc){64, 32, 3, 2, 1, 1, 2, 2}, 25, 30);
    check_conv1d_direct((nn_conv1d_desc){16, 8, 11, 1, 5, 25, 25, 1}, 6, 40); /* most taps fall outside */
    check_conv1d_direct((nn_conv1d_desc){4, 3, 3, 1, 1, 5, 5, 1}, 4, 45); /* end frames see padding only */
    check_conv1d_direct((nn_conv1d_desc){16, 256, 3, 1, 3, 3, 3, 1}, 2500, 50); /* several 1024-frame tap blocks */
    check_conv1d_direct((nn_conv1d_desc){24, 24, 7, 1, 1, 3, 3, 24}, 50, 60); /* depthwise (Vocos, F5's text blocks) */
    check_conv1d_direct((nn_conv1d_desc){32, 32, 31, 1, 1, 15, 15, 4}, 45, 70); /* grouped (F5's position conv) */
}

/* The 3×3 conv2d against the definition (zero padding 1), odd sizes included. */
static void conv2d_3x3_strategies_match_direct_definition(void **state)
{
    const int shapes[][4] = {{3, 5, 7, 4}, {16, 9, 6, 8}, {1, 4, 33, 2}}; /* ci, H, W, co */
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int ci = shapes[s][0], H = shapes[s][1], W = shapes[s][2], co = shapes[s][3];
        float *x = random_floats((size_t)ci * H * W, 50 + s), *w = random_floats((size_t)co * ci * 9, 60 + s);
        float *b = random_floats(co, 70 + s), *y1 = malloc(sizeof(float) * co * H * W);
        vc_error err;
        assert_int_equal(nn_conv2d_3x3(y1, x, ci, H, W, w, b, co, &err), 0);
        for (int o = 0; o < co; o++)
            for (int y = 0; y < H; y++)
                for (int xx = 0; xx < W; xx++) {
                    double want = b[o];
                    for (int c = 0; c < ci; c++)
                        for (int t = 0; t < 9; t++) {
                            int sy = y + t / 3 - 1, sx = xx + t % 3 - 1;
                            if (sy >= 0 && sy < H && sx >= 0 && sx < W) want += (double)w[(o * ci + c) * 9 + t] * x[(c * H + sy) * W + sx];
                        }
                    size_t i = ((size_t)o * H + y) * W + xx;
                    if (fabs(want - y1[i]) > 1e-4)
                        fail_msg("conv2d %dx%dx%d→%d at (%d,%d,%d): got %g want %g", ci, H, W, co, o, y, xx, y1[i], want);
                }
        free(x); free(w); free(b); free(y1);
    }
}

static void check_conv_transpose(int T, int ci, int co, int k, int stride, int pad, unsigned seed)
{
    int t_out = (T - 1) * stride - 2 * pad + k;
    float *x = random_floats(T * ci, seed), *w = random_floats(ci * co * k, seed + 1), *b = random_floats(co, seed + 2);
    float *y = malloc(sizeof(float) * t_out * co);
    double *ref = calloc((size_t)t_out * co, sizeof(double));
    vc_error err;
    assert_int_equal(nn_conv_transpose1d(y, x, T, w, b, ci, co, k, stride, pad, &err), 0);
    for (int i = 0; i < t_out * co; i++) ref[i] = b[i % co];
    for (int t = 0; t < T; t++)
        for (int c = 0; c < ci; c++)
            for (int o = 0; o < co; o++)
                for (int j = 0; j < k; j++) {
                    int dst = t * stride - pad + j;
                    if (dst >= 0 && dst < t_out) ref[dst * co + o] += (double)x[t * ci + c] * w[(c * co + o) * k + j];
                }
    for (int i = 0; i < t_out * co; i++)
        if (fabs(ref[i] - y[i]) > 1e-4 * (1 + fabs(ref[i])))
            fail_msg("conv_transpose k %d stride %d pad %d: element %d got %g want %g", k, stride, pad, i, y[i], ref[i]);
    free(x); free(w); free(b); free(y); free(ref);
}

/* Stride 1 runs on oneDNN's transposed convolution; strides from 2 up as one ordinary
 * convolution over stacked phases (HiFi-GAN's upsamplers: k = 2·stride, pad = stride/2), and
 * odd kernels, no padding and kernels shorter than the stride check that rewrite's edges. */
static void conv_transpose_matches_scatter_definition(void **state)
{
    check_conv_transpose(6, 3, 2, 4, 2, 1, 8);
    check_conv_transpose(7, 3, 2, 3, 1, 1, 29);
    check_conv_transpose(9, 4, 5, 5, 2, 2, 32);
    check_conv_transpose(9, 16, 8, 24, 12, 6, 11);
    check_conv_transpose(13, 8, 4, 20, 10, 5, 14);
    check_conv_transpose(7, 5, 3, 16, 8, 4, 17);
    check_conv_transpose(10, 4, 6, 7, 5, 0, 20);
    check_conv_transpose(8, 3, 3, 3, 6, 1, 23);
    check_conv_transpose(5, 2, 2, 13, 4, 3, 26);
}

static void attention_rows_are_convex_combinations(void **state)
{
    int T = 9, heads = 2, dh = 4;
    float *q = random_floats(T * heads * dh, 10), *k = random_floats(T * heads * dh, 11), *o = malloc(sizeof(float) * T * heads * dh);
    float *v = malloc(sizeof(float) * T * heads * dh), *scratch = malloc(sizeof(float) * nn_attention_scratch(T, dh));
    for (int i = 0; i < T * heads * dh; i++) v[i] = 3.0f; /* constant values: any softmax mixture gives 3 */
    nn_attention(o, q, k, v, T, heads, dh, 0.5f, scratch);
    for (int i = 0; i < T * heads * dh; i++) assert_true(fabs(o[i] - 3.0f) < 1e-5);
    /* vectorised exp: softmax of a 37-wide row (8-lane body + scalar tail) against double */
    float *logits = random_floats(37, 13), got[37];
    for (int i = 0; i < 37; i++) got[i] = logits[i] * 30.0f; /* spread wide enough to reach tiny probabilities */
    double mx = -1e30, sum = 0;
    for (int i = 0; i < 37; i++) mx = fmax(mx, got[i]);
    double ref[37];
    for (int i = 0; i < 37; i++) sum += (ref[i] = exp((double)got[i] - mx));
    nn_softmax_rows(got, 1, 37);
    /* 1e-6 relative for the probabilities that matter; tiny ones (< 1e-3) within 1e-9 absolute */
    for (int i = 0; i < 37; i++) assert_true(fabs(got[i] - ref[i] / sum) <= 1e-6 * (ref[i] / sum) + 1e-9);
    free(logits);
    float row[4] = {1000, 1001, 999, -5};
    nn_softmax_rows(row, 1, 4); /* stable with large logits */
    assert_true(fabs(row[0] + row[1] + row[2] + row[3] - 1.0f) < 1e-6 && row[1] > row[0]);
    free(q); free(k); free(v); free(o); free(scratch);
}

static void norms_and_activations(void **state)
{
    float x[6] = {1, 2, 3, 4, 5, 6}, y[6];
    nn_layer_norm(y, x, 2, 3, NULL, NULL, 0);
    assert_true(fabs(y[0] + 1.2247449f) < 1e-5 && fabs(y[1]) < 1e-6 && fabs(y[5] - 1.2247449f) < 1e-5);
    float g[3] = {0.5f, -1.0f, 1.0f};
    nn_gelu_erf(g, 3);
    assert_true(fabs(g[0] - 0.3457312f) < 1e-6 && fabs(g[1] + 0.1586553f) < 1e-6);
    float m[2] = {1.0f, 30.0f};
    nn_mish(m, 2);
    assert_true(fabs(m[0] - 0.8650984f) < 1e-6 && fabs(m[1] - 30.0f) < 1e-5);
}

/* The vectorised GELU (tanh form) and SiLU against double references, from −100 to 100 (the
 * clamped tails included) on a length that is not a multiple of 8. */
static void vector_activations_match_double_references(void **state)
{
    enum { N = 2003 };
    float *g = malloc(sizeof(float) * N), *s = malloc(sizeof(float) * N);
    for (int i = 0; i < N; i++) g[i] = s[i] = -100.0f + 200.0f * (float)i / (N - 1) * ((i % 3) ? 0.1f : 1.0f);
    double *x = malloc(sizeof(double) * N);
    for (int i = 0; i < N; i++) x[i] = g[i];
    nn_gelu_tanh(g, N);
    nn_silu(s, N);
    for (int i = 0; i < N; i++) {
        double u = 0.7978845608028654 * (x[i] + 0.044715 * x[i] * x[i] * x[i]);
        double gelu = 0.5 * x[i] * (1 + tanh(u)), silu = x[i] / (1 + exp(-x[i]));
        if (fabs(g[i] - gelu) > 2e-6 * (1 + fabs(gelu))) fail_msg("gelu_tanh(%g) = %g, want %g", x[i], g[i], gelu);
        if (fabs(s[i] - silu) > 2e-6 * (1 + fabs(silu))) fail_msg("silu(%g) = %g, want %g", x[i], s[i], silu);
    }
    free(g); free(s); free(x);
}

static void istft_inverts_stft(void **state)
{
    int n_fft = 64, hop = 16, L = 16 * 20, frames = nn_stft_frames((size_t)L, hop), bins = n_fft / 2 + 1;
    float *x = random_floats((size_t)L, 12), window[64];
    nn_hann_periodic(window, n_fft);
    /* build the complex STFT the same way nn_stft_magnitude frames it, then invert */
    float *re = calloc((size_t)frames * bins, sizeof(float)), *im = calloc((size_t)frames * bins, sizeof(float));
    for (int f = 0; f < frames; f++)
        for (int k = 0; k < bins; k++) {
            double sr = 0, si = 0;
            for (int n = 0; n < n_fft; n++) {
                long i = (long)f * hop - n_fft / 2 + n;
                while (i < 0 || i >= L) { if (i < 0) i = -i; if (i >= L) i = 2 * (L - 1) - i; }
                sr += x[i] * window[n] * cos(2 * M_PI * k * n / n_fft);
                si -= x[i] * window[n] * sin(2 * M_PI * k * n / n_fft);
            }
            re[f * bins + k] = (float)sr;
            im[f * bins + k] = (float)si;
        }
    float *mag = malloc(sizeof(float) * frames * bins), *y = malloc(sizeof(float) * (size_t)(frames - 1) * hop);
    vc_error err;
    assert_int_equal(nn_stft_magnitude(mag, x, (size_t)L, n_fft, hop, window, &err), 0);
    for (int i = 0; i < frames * bins; i++) assert_true(fabs(mag[i] - hypot(re[i], im[i])) < 1e-4);
    assert_int_equal(nn_istft(y, re, im, frames, n_fft, hop, window, &err), 0);
    for (int i = n_fft; i < (frames - 1) * hop - n_fft; i++) assert_true(fabs(y[i] - x[i]) < 1e-4);
    assert_int_equal(nn_stft_magnitude(mag, x, (size_t)L, 100, hop, window, &err), -1); /* not a power of two */
    free(x); free(re); free(im); free(mag); free(y);
}

/* scipy.signal.butter(5, 48, 'high', fs=16000), as recorded in golden/rvc/pipeline_v2_e2e (bh, ah) */
static void butterworth_matches_scipy(void **state)
{
    static const double b_ref[6] = {0.9699606451838447, -4.849803225919223, 9.699606451838447, -9.699606451838447,
                                    4.849803225919223, -0.9699606451838447};
    static const double a_ref[6] = {1.0, -4.939001819168364, 9.757863526739543, -9.639544849413458, 4.761506797356209,
                                    -0.9408236532054606};
    double b[6], a[6];
    iir_butter_highpass(5, 48.0, 16000.0, b, a);
    for (int i = 0; i < 6; i++) assert_true(fabs(b[i] - b_ref[i]) < 1e-12 && fabs(a[i] - a_ref[i]) < 1e-12);
    double x[400], y[400];
    for (int i = 0; i < 400; i++) x[i] = 0.5; /* DC is removed entirely by a high-pass */
    vc_error err;
    assert_int_equal(iir_filtfilt(b, a, 5, x, 400, y, &err), 0);
    for (int i = 0; i < 400; i++) assert_true(fabs(y[i]) < 1e-6);
    assert_int_equal(iir_filtfilt(b, a, 5, x, 10, y, &err), -1); /* shorter than the padding */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linear_matches_naive_loop), cmocka_unit_test(conv1d_matches_direct_definition),
        cmocka_unit_test(chunked_conv1d_polls_before_each_chunk), cmocka_unit_test(group_norm_polls_per_channel_block),
        cmocka_unit_test(conv_transpose_matches_scatter_definition),
        cmocka_unit_test(conv2d_3x3_strategies_match_direct_definition), cmocka_unit_test(attention_rows_are_convex_combinations),
        cmocka_unit_test(norms_and_activations), cmocka_unit_test(vector_activations_match_double_references), cmocka_unit_test(istft_inverts_stft), cmocka_unit_test(butterworth_matches_scipy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
