/*
 * The engine's compute seam (nn/backend.h): contexts, the thread budget, precision settings,
 * and the backend's convolutions and GEMM against their definitions, in both layouts.
 */
#include <math.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn/backend.h"
#include "support/test_random.h"

static void precision_settings_parse_and_resolve(void **state)
{
    assert_int_equal(nn_precision_parse("fp32"), 0);
    assert_int_equal(nn_precision_parse("BF16"), 1);
    assert_int_equal(nn_precision_parse("auto"), 2);
    assert_int_equal(nn_precision_parse("fp16"), -1);
    assert_int_equal(nn_precision_parse(NULL), -1);
    setenv("VCS_PRECISION", "fp32", 1);
    assert_int_equal(nn_precision_for("rvc_synth"), NN_PREC_FP32);
    setenv("VCS_PRECISION", "auto", 1);
    /* auto: bf16 only for the models the error table allows, and only on a CPU that has it */
    assert_int_equal(nn_precision_for("rvc_synth"), nn_cpu_has_bf16() ? NN_PREC_BF16 : NN_PREC_FP32);
    assert_int_equal(nn_precision_for("f5tts_dit"), NN_PREC_FP32);
    setenv("VCS_PRECISION", "nonsense", 1);
    assert_string_equal(nn_precision_setting(), "fp32");
    unsetenv("VCS_PRECISION");
    const char *isa = nn_cpu_isa();
    assert_true(!strcmp(isa, "amx") || !strcmp(isa, "avx512_bf16") || !strcmp(isa, "avx512") || !strcmp(isa, "avx2"));
}

/* Two engine users on a 4-thread budget get 2 threads each; alone, all 4; after, their own. */
static void budget_shares_threads(void **state)
{
    nn_ctx *a, *b;
    vc_error err;
    assert_int_equal(nn_ctx_create(&a, 3, NN_PREC_FP32, &err), 0);
    assert_int_equal(nn_ctx_create(&b, 3, NN_PREC_FP32, &err), 0);
    nn_budget budget;
    nn_budget_init(&budget, 4);
    nn_budget_join(&budget, a);
    assert_int_equal(nn_ctx_threads(a), 4);
    nn_budget_join(&budget, b);
    assert_int_equal(nn_ctx_threads(a), 2);
    assert_int_equal(nn_ctx_threads(b), 2);
    nn_budget_leave(&budget, a);
    assert_int_equal(nn_ctx_threads(a), 3);
    assert_int_equal(nn_ctx_threads(b), 4);
    nn_budget_leave(&budget, b);
    nn_ctx_free(a);
    nn_ctx_free(b);
}

/* out[n, co, t] = Σ w[co, ci, j] · x[n, ci, t·s + j·d − pad], the definition in double. */
static double conv_at(const nn_conv_spec *s, const float *x, const float *w, const float *b, int n, int co, int t)
{
    int T = s->in_w, cin_g = s->c_in / s->groups, g = co / (s->c_out / s->groups);
    double acc = b ? b[co] : 0;
    for (int ci = 0; ci < cin_g; ci++)
        for (int j = 0; j < s->kw; j++) {
            int src = t * s->stride_w + j * s->dil_w - s->pad_l;
            if (src < 0 || src >= T) continue;
            int c = g * cin_g + ci;
            size_t xi = s->layout == NN_LAYOUT_CHANNELS_LAST ? ((size_t)n * T + src) * s->c_in + c
                                                             : ((size_t)n * s->c_in + c) * T + src;
            acc += (double)w[((size_t)co * cin_g + ci) * s->kw + j] * x[xi];
        }
    return acc;
}

static void check_conv_layout(nn_layout layout, int batch, int c_in, int c_out, int groups)
{
    nn_conv_spec s = {.n = batch, .c_in = c_in, .c_out = c_out, .groups = groups, .in_h = 1, .in_w = 37, .kh = 1, .kw = 5,
                      .stride_h = 1, .stride_w = 2, .dil_h = 1, .dil_w = 2, .pad_l = 3, .pad_r = 1, .layout = layout};
    int T_out = nn_conv_spec_out_w(&s);
    float *x = test_random_floats((size_t)s.n * s.c_in * s.in_w, 1), *w = test_random_floats((size_t)c_out * (c_in / groups) * 5, 2);
    float *b = test_random_floats(c_out, 3);
    float *y = malloc(sizeof(float) * (size_t)s.n * s.c_out * T_out);
    vc_error err;
    assert_int_equal(nn_conv(&s, y, x, w, b, 0, &err), 0);
    for (int n = 0; n < s.n; n++)
        for (int co = 0; co < s.c_out; co++)
            for (int t = 0; t < T_out; t++) {
                size_t yi = layout == NN_LAYOUT_CHANNELS_LAST ? ((size_t)n * T_out + t) * s.c_out + co
                                                              : ((size_t)n * s.c_out + co) * T_out + t;
                double want = conv_at(&s, x, w, b, n, co, t);
                if (fabs(want - y[yi]) > 1e-4 * (1 + fabs(want))) fail_msg("layout %d n %d co %d t %d: %g vs %g", layout, n, co, t, y[yi], want);
            }
    /* accumulate: out += conv */
    float *y2 = malloc(sizeof(float) * (size_t)s.n * s.c_out * T_out);
    memcpy(y2, y, sizeof(float) * (size_t)s.n * s.c_out * T_out);
    assert_int_equal(nn_conv(&s, y2, x, w, b, 1, &err), 0);
    for (int i = 0; i < s.n * s.c_out * T_out; i++) assert_true(fabsf(y2[i] - 2 * y[i]) < 1e-4f * (1 + fabsf(y[i])));
    free(x); free(w); free(b); free(y); free(y2);
}

static void conv_matches_definition_in_both_layouts(void **state)
{
    check_conv_layout(NN_LAYOUT_CHANNELS_LAST, 2, 8, 6, 2);
    check_conv_layout(NN_LAYOUT_CHANNELS_FIRST, 2, 8, 6, 2);
    /* one row of 32 channels: the backend's own conversion to and from its blocked layout */
    check_conv_layout(NN_LAYOUT_CHANNELS_LAST, 1, 32, 32, 1);
    /* one input channel, one tap: the outer-product path */
    nn_conv_spec s = {.n = 2, .c_in = 1, .c_out = 5, .groups = 1, .in_h = 1, .in_w = 9, .kh = 1, .kw = 1, .stride_h = 1,
                      .stride_w = 1, .dil_h = 1, .dil_w = 1, .layout = NN_LAYOUT_CHANNELS_LAST};
    float *x = test_random_floats(18, 7), *w = test_random_floats(5, 8), *b = test_random_floats(5, 9), y[90];
    vc_error err;
    assert_int_equal(nn_conv(&s, y, x, w, b, 0, &err), 0);
    for (int r = 0; r < 18; r++)
        for (int k = 0; k < 5; k++) assert_true(fabs(y[r * 5 + k] - conv_at(&s, x, w, b, r / 9, k, r % 9)) < 1e-5);
    free(x); free(w); free(b);
}

/* A time-major sequence taken into the native layout, convolved there with the fused LeakyReLU
 * and the fused residual add, and taken back out equals the definition computed time-major. */
static void native_layout_conv_with_fusions_matches_definition(void **state)
{
    (void)state;
    nn_ctx_set_precision(nn_ctx_current(), NN_PREC_FP32);
    int b = nn_native_block();
    assert_true(b == 8 || b == 16);
    int C = 2 * b, T = 41, from = 3, n = 33; /* a window of the sequence, as the decoder's tiles take */
    nn_conv_spec s = {.n = 1, .c_in = C, .c_out = C, .groups = 1, .in_h = 1, .in_w = n, .kh = 1, .kw = 5,
                      .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 3, .pad_l = 6, .pad_r = 6,
                      .layout = NN_LAYOUT_CHANNELS_LAST};
    float *x = test_random_floats((size_t)T * C, 4), *w = test_random_floats((size_t)C * C * 5, 5), *bias = test_random_floats(C, 6);
    float *xn = malloc(sizeof(float) * n * C), *yn = malloc(sizeof(float) * n * C), *back = calloc((size_t)T * C, sizeof(float));
    nn_seq_to_native(xn, x, C, from, n);
    nn_seq_from_native(back, from, xn, n, C, 0, n);
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++)
            assert_true(back[t * C + c] == (t >= from && t < from + n ? x[t * C + c] : 0.0f));
    vc_error err;
    nn_conv_spec ns = s;
    ns.layout = NN_LAYOUT_NATIVE;
    ns.post_lrelu = 1;
    ns.lrelu_slope = 0.1f;
    assert_int_equal(nn_conv(&ns, yn, xn, w, bias, 0, &err), 0);
    ns.post_lrelu = 0;
    assert_int_equal(nn_conv(&ns, yn, xn, w, bias, 1, &err), 0); /* yn += conv(xn) */
    float *y = malloc(sizeof(float) * n * C);
    nn_seq_from_native(y, 0, yn, n, C, 0, n);
    for (int t = 0; t < n; t++)
        for (int co = 0; co < C; co++) {
            double c = conv_at(&s, x + (size_t)from * C, w, bias, 0, co, t), want = (c > 0 ? c : 0.1 * c) + c;
            if (fabs(want - y[t * C + co]) > 1e-4 * (1 + fabs(want))) fail_msg("t %d co %d: %g vs %g", t, co, y[t * C + co], want);
        }
    free(x); free(w); free(bias); free(xn); free(yn); free(back); free(y);
}

/* bf16 convolutions stay within bf16's rounding of fp32 (8 mantissa bits: ~0.4 % per product). */
static void bf16_conv_is_close_to_fp32(void **state)
{
    if (!nn_cpu_has_bf16()) {
        /* no native bf16 here: the setting must resolve to fp32 rather than emulate it */
        setenv("VCS_PRECISION", "bf16", 1);
        assert_int_equal(nn_precision_for("rvc_synth"), NN_PREC_FP32);
        unsetenv("VCS_PRECISION");
        return;
    }
    nn_ctx *c;
    vc_error err;
    assert_int_equal(nn_ctx_create(&c, 2, NN_PREC_BF16, &err), 0);
    nn_ctx *prev = nn_ctx_bind(c);
    nn_conv_spec s = {.n = 1, .c_in = 64, .c_out = 32, .groups = 1, .in_h = 1, .in_w = 300, .kh = 1, .kw = 7,
                      .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1, .pad_l = 3, .pad_r = 3};
    float *x = test_random_floats(300 * 64, 5), *w = test_random_floats(32 * 64 * 7, 6), *y = malloc(sizeof(float) * 300 * 32);
    assert_int_equal(nn_conv(&s, y, x, w, NULL, 0, &err), 0);
    double signal = 0, noise = 0;
    for (int t = 0; t < 300; t++)
        for (int co = 0; co < 32; co++) {
            double want = conv_at(&s, x, w, NULL, 0, co, t), d = y[t * 32 + co] - want;
            signal += want * want;
            noise += d * d;
        }
    double snr = 10 * log10(signal / noise);
    assert_true(snr > 35.0); /* bf16 inputs: ~45 dB on random data; fp32 would be > 120 dB */
    assert_true(snr < 100.0); /* and it really ran in bf16 */
    nn_ctx_bind(prev);
    nn_ctx_free(c);
    free(x); free(w); free(y);
}

static void gemm_matches_definition(void **state)
{
    int M = 7, N = 5, K = 9;
    float *A = test_random_floats((size_t)K * M, 7), *B = test_random_floats((size_t)N * K, 8), *C = test_random_floats((size_t)M * N, 9);
    float *C0 = malloc(sizeof(float) * M * N);
    memcpy(C0, C, sizeof(float) * M * N);
    nn_gemm(1, 1, M, N, K, 0.5f, A, M, B, K, 2.0f, C, N); /* C = 0.5·Aᵀ·Bᵀ + 2·C */
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double want = 2.0 * C0[i * N + j];
            for (int k = 0; k < K; k++) want += 0.5 * A[k * M + i] * B[j * K + k];
            assert_true(fabs(want - C[i * N + j]) < 1e-4);
        }
    free(A); free(B); free(C); free(C0);
}

/* bf16 GEMM (oneDNN matmul on bf16 copies of both operands, transposed views included) stays
 * within bf16 rounding of the fp32 product, and really runs in bf16. */
static void bf16_gemm_is_close_to_fp32(void **state)
{
    if (!nn_cpu_has_bf16()) return; /* the precision test above checks the fp32 fallback */
    nn_ctx *c;
    vc_error err;
    assert_int_equal(nn_ctx_create(&c, 2, NN_PREC_BF16, &err), 0);
    nn_ctx *prev = nn_ctx_bind(c);
    int M = 40, N = 24, K = 64;
    float *A = test_random_floats((size_t)K * M, 11), *B = test_random_floats((size_t)N * K, 12), *C = test_random_floats((size_t)M * N, 13);
    float *C0 = malloc(sizeof(float) * M * N);
    memcpy(C0, C, sizeof(float) * M * N);
    nn_gemm(1, 1, M, N, K, 0.5f, A, M, B, K, 1.0f, C, N);
    double signal = 0, noise = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double want = C0[i * N + j];
            for (int k = 0; k < K; k++) want += 0.5 * A[k * M + i] * B[j * K + k];
            signal += want * want;
            noise += (want - C[i * N + j]) * (want - C[i * N + j]);
        }
    double snr = 10 * log10(signal / noise);
    assert_true(snr > 35.0);
    assert_true(snr < 100.0);
    nn_ctx_bind(prev);
    nn_ctx_free(c);
    free(A); free(B); free(C); free(C0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(precision_settings_parse_and_resolve), cmocka_unit_test(budget_shares_threads),
        cmocka_unit_test(conv_matches_definition_in_both_layouts), cmocka_unit_test(bf16_conv_is_close_to_fp32),
        cmocka_unit_test(native_layout_conv_with_fusions_matches_definition),
        cmocka_unit_test(gemm_matches_definition), cmocka_unit_test(bf16_gemm_is_close_to_fp32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
