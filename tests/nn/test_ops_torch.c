/*
 * Every engine op against PyTorch 1.13's own output, one test per op. The reference values were
 * computed offline by tools/golden/make_op_fixtures.py into tests/nn/fixtures/ops.safetensors
 * (the settings of each case travel with it as a "cfg" vector). test_layers.c checks the same
 * ops against hand-written definitions; this file pins PyTorch's semantics (padding, layouts,
 * gate order, window conventions), which a definition written by us could get wrong twice.
 *
 * Error measure: |got − want| / (|want| + rms(want)) — relative for ordinary values, and for
 * values that cancel to near zero relative to the tensor's typical size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/rvc/rvc_features.h"
#include "nn/conv.h"
#include "nn/layers.h"
#include "nn/ops.h"
#include "nn/sequence.h"
#include "nn/spectral.h"
#include "nn/tape.h"
#include "nn/weights.h"

/* float32 work, summed in a different order than PyTorch: a few ulps per term. */
#define TOL 1e-5

/* torch.linspace fills float32 vectors 8 lanes at a time from a per-vector base, so some of
 * torchaudio's mel points sit an ulp away from those of any per-point formula (ours included);
 * near a triangle's foot that is ~1e-4 of the weight, far below what a log-mel can show. */
#define MEL_FB_TOL 2e-4

/* ---- fixture access ---------------------------------------------------------------------- */

static int open_fixture(void **state)
{
    const char *root = getenv("VCS_TEST_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/nn/fixtures/ops.safetensors", root ? root : ".");
    nn_weights *w = NULL;
    vc_error err;
    if (nn_weights_open(path, &w, &err) != 0) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        return -1;
    }
    *state = w;
    return 0;
}

static int close_fixture(void **state)
{
    nn_weights_free(*state);
    return 0;
}

static const nn_tensor *lookup(void **state, int required, const char *fmt, va_list ap)
{
    char name[128];
    vsnprintf(name, sizeof name, fmt, ap);
    const nn_tensor *t = nn_weights_get(*state, name);
    if (!t && required) fail_msg("fixture tensor missing: %s (rerun tools/golden/make_op_fixtures.py)", name);
    return t;
}

/* The tensor named by fmt, or NULL when absent (the end of a numbered list of cases). */
static const nn_tensor *find(void **state, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const nn_tensor *find(void **state, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const nn_tensor *t = lookup(state, 0, fmt, ap);
    va_end(ap);
    return t;
}

/* The tensor named by fmt; the test fails when it is absent. */
static const nn_tensor *need(void **state, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const nn_tensor *need(void **state, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const nn_tensor *t = lookup(state, 1, fmt, ap);
    va_end(ap);
    return t;
}

static const float *data(const nn_tensor *t) { return t->data; }

static size_t numel(const nn_tensor *t)
{
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
    return n;
}

/* The integer settings of a case, stored as floats. */
static int cfg(const nn_tensor *c, int i) { return (int)data(c)[i]; }

static float *alloc_floats(size_t n)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    assert_non_null(x);
    return x;
}

static float *copy_of(const nn_tensor *t)
{
    float *x = alloc_floats(numel(t));
    memcpy(x, t->data, sizeof(float) * numel(t));
    return x;
}

/* ---- comparison -------------------------------------------------------------------------- */

static double worst_error(const float *got, const float *want, size_t n, size_t *at)
{
    double ss = 0, worst = 0;
    for (size_t i = 0; i < n; i++) ss += (double)want[i] * want[i];
    double rms = sqrt(ss / (double)(n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (fabs(want[i]) + rms + 1e-30);
        if (!(e <= worst)) { worst = e; *at = i; } /* a NaN is the worst of all */
    }
    return worst;
}

static void expect_close(const char *op, const float *got, const nn_tensor *want, size_t n, double tol)
{
    if (numel(want) != n) fail_msg("%s: %zu values, torch has %zu", op, n, numel(want));
    size_t at = 0;
    double worst = worst_error(got, data(want), n, &at);
    if (!(worst <= tol))
        fail_msg("%s: worst error %.3g > %.1g at %zu (got %.9g, torch %.9g)", op, worst, tol, at, got[at], data(want)[at]);
}

/* ---- dense layers ------------------------------------------------------------------------ */

static void linear_matches_torch(void **state)
{
    const nn_tensor *x = need(state, "linear.x"), *w = need(state, "linear.w");
    int rows = (int)x->shape[0], n_in = (int)x->shape[1], n_out = (int)w->shape[0];
    float *out = alloc_floats((size_t)rows * n_out);
    nn_linear(out, data(x), data(w), data(need(state, "linear.b")), rows, n_in, n_out);
    expect_close("linear", out, need(state, "linear.y"), (size_t)rows * n_out, TOL);
    nn_linear(out, data(x), data(w), NULL, rows, n_in, n_out);
    expect_close("linear without bias", out, need(state, "linear.y_nobias"), (size_t)rows * n_out, TOL);
    free(out);
}

static void weight_norm_matches_torch(void **state)
{
    for (int i = 0; find(state, "weight_norm.%d.v", i); i++) {
        const nn_tensor *v = need(state, "weight_norm.%d.v", i);
        float *w = alloc_floats(numel(v));
        nn_weight_norm_fold(w, data(need(state, "weight_norm.%d.g", i)), data(v), (int)v->shape[0], numel(v) / (size_t)v->shape[0]);
        char op[64];
        snprintf(op, sizeof op, "weight_norm case %d", i);
        expect_close(op, w, need(state, "weight_norm.%d.w", i), numel(v), TOL);
        free(w);
    }
}

static void cumsum_matches_torch(void **state)
{
    const nn_tensor *x = need(state, "cumsum.x");
    float *out = copy_of(x);
    nn_cumsum(out, out, numel(x)); /* in place, as the sine source calls it */
    expect_close("cumsum", out, need(state, "cumsum.y"), numel(x), TOL);
    free(out);
}

/* ---- convolutions ------------------------------------------------------------------------ */

static void conv1d_matches_torch(void **state)
{
    for (int i = 0; find(state, "conv1d.%d.cfg", i); i++) {
        const nn_tensor *c = need(state, "conv1d.%d.cfg", i), *x = need(state, "conv1d.%d.x", i), *y = need(state, "conv1d.%d.y", i);
        nn_conv1d_desc d = {cfg(c, 0), cfg(c, 1), cfg(c, 2), cfg(c, 3), cfg(c, 4), cfg(c, 5), cfg(c, 6), cfg(c, 7)};
        int T = (int)x->shape[0], t_out = nn_conv1d_out_len(&d, T);
        float *out = alloc_floats((size_t)t_out * d.c_out);
        vc_error err;
        assert_int_equal(nn_conv1d(out, data(x), T, data(need(state, "conv1d.%d.w", i)), data(need(state, "conv1d.%d.b", i)), &d, &err), 0);
        char op[64];
        snprintf(op, sizeof op, "conv1d case %d", i);
        expect_close(op, out, y, (size_t)t_out * d.c_out, TOL);
        free(out);
    }
}

static void conv1d_time_major_matches_torch(void **state)
{
    for (int i = 0; find(state, "conv1d_tm.%d.cfg", i); i++) {
        const nn_tensor *c = need(state, "conv1d_tm.%d.cfg", i), *x = need(state, "conv1d_tm.%d.x", i);
        int ci = cfg(c, 0), co = cfg(c, 1), k = cfg(c, 2), pad = cfg(c, 3), groups = cfg(c, 4), T = (int)x->shape[0];
        float *out = alloc_floats((size_t)(T + 2 * pad - k + 1) * co);
        nn_conv1d_desc d = {ci, co, k, 1, 1, pad, pad, groups};
        vc_error err;
        assert_int_equal(nn_conv1d(out, data(x), T, data(need(state, "conv1d_tm.%d.w", i)),
                                   data(need(state, "conv1d_tm.%d.b", i)), &d, &err), 0);
        char op[64];
        snprintf(op, sizeof op, "conv1d_tm case %d", i);
        expect_close(op, out, need(state, "conv1d_tm.%d.y", i), (size_t)(T + 2 * pad - k + 1) * co, TOL);
        free(out);
    }
}

static void conv_transpose1d_matches_torch(void **state)
{
    for (int i = 0; find(state, "conv_transpose1d.%d.cfg", i); i++) {
        const nn_tensor *c = need(state, "conv_transpose1d.%d.cfg", i), *x = need(state, "conv_transpose1d.%d.x", i);
        int ci = cfg(c, 0), co = cfg(c, 1), k = cfg(c, 2), stride = cfg(c, 3), pad = cfg(c, 4), T = (int)x->shape[0];
        int t_out = (T - 1) * stride - 2 * pad + k;
        float *out = alloc_floats((size_t)t_out * co);
        vc_error err;
        assert_int_equal(nn_conv_transpose1d(out, data(x), T, data(need(state, "conv_transpose1d.%d.w", i)),
                                             data(need(state, "conv_transpose1d.%d.b", i)), ci, co, k, stride, pad, &err), 0);
        char op[64];
        snprintf(op, sizeof op, "conv_transpose1d case %d", i);
        expect_close(op, out, need(state, "conv_transpose1d.%d.y", i), (size_t)t_out * co, TOL);
        free(out);
    }
}

typedef int (*conv2d_fn)(float *, const float *, int, int, int, const float *, const float *, int, vc_error *);

static void conv2d_3x3_matches_torch(void **state)
{
    static const struct { const char *name; conv2d_fn fn; } fns[] = {{"conv2d_3x3", nn_conv2d_3x3}};
    for (int i = 0; find(state, "conv2d_3x3.%d.x", i); i++) {
        const nn_tensor *x = need(state, "conv2d_3x3.%d.x", i), *w = need(state, "conv2d_3x3.%d.w", i);
        int ci = (int)x->shape[0], H = (int)x->shape[1], W = (int)x->shape[2], co = (int)w->shape[0];
        float *out = alloc_floats((size_t)co * H * W);
        for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
            vc_error err;
            assert_int_equal(fns[f].fn(out, data(x), ci, H, W, data(w), data(need(state, "conv2d_3x3.%d.b", i)), co, &err), 0);
            char op[64];
            snprintf(op, sizeof op, "%s case %d", fns[f].name, i);
            expect_close(op, out, need(state, "conv2d_3x3.%d.y", i), (size_t)co * H * W, TOL);
        }
        free(out);
    }
}

static void conv_transpose2d_matches_torch(void **state)
{
    for (int i = 0; find(state, "conv_transpose2d.%d.x", i); i++) {
        const nn_tensor *x = need(state, "conv_transpose2d.%d.x", i), *w = need(state, "conv_transpose2d.%d.w", i);
        int ci = (int)x->shape[0], H = (int)x->shape[1], W = (int)x->shape[2], co = (int)w->shape[1];
        float *out = alloc_floats((size_t)co * 4 * H * W);
        vc_error err;
        assert_int_equal(nn_conv_transpose2d_3x3_s2(out, data(x), ci, H, W, data(w), co, &err), 0);
        char op[64];
        snprintf(op, sizeof op, "conv_transpose2d case %d", i);
        expect_close(op, out, need(state, "conv_transpose2d.%d.y", i), (size_t)co * 4 * H * W, TOL);
        free(out);
    }
}

/* ---- norms ------------------------------------------------------------------------------- */

static void layer_norm_matches_torch(void **state)
{
    for (int i = 0; find(state, "layer_norm.%d.x", i); i++) {
        const nn_tensor *x = need(state, "layer_norm.%d.x", i);
        int rows = (int)x->shape[0], dim = (int)x->shape[1];
        float *out = copy_of(x); /* in place, as the models call it */
        nn_layer_norm(out, out, rows, dim, data(need(state, "layer_norm.%d.gamma", i)), data(need(state, "layer_norm.%d.beta", i)),
                      data(need(state, "layer_norm.%d.cfg", i))[0]);
        char op[64];
        snprintf(op, sizeof op, "layer_norm case %d", i);
        expect_close(op, out, need(state, "layer_norm.%d.y", i), numel(x), TOL);
        free(out);
    }
}

static void group_norm_per_channel_matches_torch(void **state)
{
    const nn_tensor *x = need(state, "group_norm.0.x");
    float *out = copy_of(x);
    nn_group_norm_per_channel(out, (int)x->shape[0], (int)x->shape[1], data(need(state, "group_norm.0.gamma")),
                              data(need(state, "group_norm.0.beta")), 1e-5);
    expect_close("group_norm", out, need(state, "group_norm.0.y"), numel(x), TOL);
    free(out);
}

static void batch_norm_matches_torch(void **state)
{
    const nn_tensor *x = need(state, "batch_norm.0.x");
    for (int relu = 0; relu < 2; relu++) {
        float *out = copy_of(x);
        nn_batch_norm_planes(out, (int)x->shape[0], (size_t)(x->shape[1] * x->shape[2]), data(need(state, "batch_norm.0.gamma")),
                             data(need(state, "batch_norm.0.beta")), data(need(state, "batch_norm.0.mean")),
                             data(need(state, "batch_norm.0.var")), 1e-5f, relu);
        expect_close(relu ? "batch_norm + relu" : "batch_norm", out, need(state, relu ? "batch_norm.0.y_relu" : "batch_norm.0.y"),
                     numel(x), TOL);
        free(out);
    }
}

/* ---- activations and softmax ------------------------------------------------------------- */

static void check_activation(void **state, const char *name, void (*fn)(float *, size_t))
{
    const nn_tensor *x = need(state, "act.x");
    float *out = copy_of(x);
    fn(out, numel(x));
    expect_close(name, out, need(state, "act.%s", name), numel(x), TOL);
    free(out);
}

static void gelu_erf_matches_torch(void **state) { check_activation(state, "gelu_erf", nn_gelu_erf); }
static void gelu_tanh_matches_torch(void **state) { check_activation(state, "gelu_tanh", nn_gelu_tanh); }
static void silu_matches_torch(void **state) { check_activation(state, "silu", nn_silu); }
static void mish_matches_torch(void **state) { check_activation(state, "mish", nn_mish); }
static void tanh_matches_torch(void **state) { check_activation(state, "tanh", nn_tanh); }
static void sigmoid_matches_torch(void **state) { check_activation(state, "sigmoid", nn_sigmoid); }

static void leaky_relu_matches_torch(void **state)
{
    static const struct { const char *name; float slope; } cases[] = {{"leaky_relu_0.1", 0.1f}, {"leaky_relu_0.01", 0.01f}};
    const nn_tensor *x = need(state, "act.x");
    for (size_t c = 0; c < 2; c++) {
        float *out = copy_of(x);
        nn_leaky_relu(out, numel(x), cases[c].slope);
        expect_close(cases[c].name, out, need(state, "act.%s", cases[c].name), numel(x), TOL);
        free(out);
    }
}

static void softmax_matches_torch(void **state)
{
    const nn_tensor *x = need(state, "softmax.x");
    float *out = copy_of(x);
    nn_softmax_rows(out, (int)x->shape[0], (int)x->shape[1]);
    expect_close("softmax", out, need(state, "softmax.y"), numel(x), TOL);
    free(out);
}

/* ---- pooling and interpolation ----------------------------------------------------------- */

static void avg_pool2d_matches_torch(void **state)
{
    const nn_tensor *x = need(state, "avg_pool2d.x"), *y = need(state, "avg_pool2d.y");
    float *out = alloc_floats(numel(y));
    nn_avg_pool2d_2x2(out, data(x), (int)x->shape[0], (int)x->shape[1], (int)x->shape[2]);
    expect_close("avg_pool2d", out, y, (size_t)(x->shape[0] * (x->shape[1] / 2) * (x->shape[2] / 2)), TOL);
    free(out);
}

static void interpolate_nearest_matches_torch(void **state)
{
    const nn_tensor *x = need(state, "interp_nearest.x");
    float *out = alloc_floats(2 * numel(x));
    rvc_upsample2(out, data(x), (int)x->shape[0], (int)x->shape[1]);
    expect_close("interpolate nearest ×2", out, need(state, "interp_nearest.y"), 2 * numel(x), 0);
    free(out);
}

static void interpolate_linear_matches_torch(void **state)
{
    for (int i = 0; find(state, "interp_linear.%d.x", i); i++) {
        const nn_tensor *x = need(state, "interp_linear.%d.x", i), *y = need(state, "interp_linear.%d.y", i);
        size_t m = numel(x), n = numel(y);
        double *in = malloc(sizeof(double) * m);
        float *out = alloc_floats(n);
        for (size_t j = 0; j < m; j++) in[j] = data(x)[j];
        for (size_t j = 0; j < n; j++) out[j] = (float)nn_interp_linear_at(in, m, n, j);
        char op[64];
        snprintf(op, sizeof op, "interpolate linear %zu→%zu", m, n);
        expect_close(op, out, y, n, TOL);
        free(in); free(out);
    }
}

static void interpolate_linear_align_corners_matches_torch(void **state)
{
    for (int i = 0; find(state, "interp_linear_ac.%d.x", i); i++) {
        const nn_tensor *x = need(state, "interp_linear_ac.%d.x", i), *y = need(state, "interp_linear_ac.%d.y", i);
        float *out = alloc_floats(numel(y));
        nn_interp_linear_align_corners(out, numel(y), data(x), numel(x));
        char op[64];
        snprintf(op, sizeof op, "interpolate linear align_corners %zu→%zu", numel(x), numel(y));
        expect_close(op, out, y, numel(y), TOL);
        free(out);
    }
}

/* ---- attention and sequence ops ---------------------------------------------------------- */

static void attention_matches_torch(void **state)
{
    const nn_tensor *c = need(state, "attention.cfg"), *q = need(state, "attention.q");
    int heads = cfg(c, 0), dh = cfg(c, 1), T = (int)q->shape[0];
    float *out = alloc_floats(numel(q)), *scratch = alloc_floats(nn_attention_scratch(T, dh));
    nn_attention(out, data(q), data(need(state, "attention.k")), data(need(state, "attention.v")), T, heads, dh, data(c)[2],
                 scratch);
    expect_close("attention", out, need(state, "attention.y"), numel(q), TOL);
    free(out); free(scratch);
}

/* Angles against torch, then the rotation of a batch of two identical sequences (B·N rows). */
static void rotary_matches_torch(void **state)
{
    const nn_tensor *theta = need(state, "rotary.theta"), *x = need(state, "rotary.x"), *y = need(state, "rotary.y");
    int N = (int)theta->shape[0], dim = (int)theta->shape[1], heads = (int)x->shape[1] / dim;
    size_t n = numel(theta);
    float *got = alloc_floats(n), *cos_t = alloc_floats(n), *sin_t = alloc_floats(n), *xx = alloc_floats(2 * numel(x));
    nn_rotary_angles(got, N, dim);
    expect_close("rotary angles", got, theta, n, TOL);
    for (size_t i = 0; i < n; i++) { cos_t[i] = cosf(got[i]); sin_t[i] = sinf(got[i]); }
    memcpy(xx, data(x), sizeof(float) * numel(x));
    memcpy(xx + numel(x), data(x), sizeof(float) * numel(x));
    nn_apply_rotary(xx, cos_t, sin_t, 2, N, heads, dim);
    expect_close("rotary, sequence 1", xx, y, numel(x), TOL);
    expect_close("rotary, sequence 2", xx + numel(x), y, numel(x), TOL);
    free(got); free(cos_t); free(sin_t); free(xx);
}

/* [T, C] (the recorded layout) ⇄ [C, T] (the tape's). */
static float *transposed(const float *x, int rows, int cols)
{
    float *y = alloc_floats((size_t)rows * cols);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) y[(size_t)c * rows + r] = x[(size_t)r * cols + c];
    return y;
}

/* The tape's relative attention (the one RVC's generator runs, in training and conversion). */
static void relative_attention_matches_torch(void **state)
{
    for (int i = 0; find(state, "relative_attention.%d.cfg", i); i++) {
        const nn_tensor *c = need(state, "relative_attention.%d.cfg", i), *q = need(state, "relative_attention.%d.q", i);
        int heads = cfg(c, 0), kc = cfg(c, 1), window = cfg(c, 2), T = (int)q->shape[0], C = heads * kc;
        const char *names[3] = {"q", "k", "v"};
        float *cf[3];
        ag_tape t;
        ag_tape_init(&t);
        int in[3];
        for (int k = 0; k < 3; k++) {
            cf[k] = transposed(data(need(state, "relative_attention.%d.%s", i, names[k])), T, C);
            in[k] = ag_const(&t, cf[k], 1, C, T, 1);
        }
        int rk = ag_const(&t, data(need(state, "relative_attention.%d.rel_k", i)), 2 * window + 1, kc, 1, 1);
        int rv = ag_const(&t, data(need(state, "relative_attention.%d.rel_v", i)), 2 * window + 1, kc, 1, 1);
        int64_t len = T;
        int y = ag_rel_attention(&t, in[0], in[1], in[2], rk, rv, heads, window, &len);
        assert_true(y >= 0 && ag_ok(&t));
        float *out = transposed(t.nodes[y].val, C, T);
        char op[64];
        snprintf(op, sizeof op, "relative attention T %d", T);
        expect_close(op, out, need(state, "relative_attention.%d.y", i), numel(q), TOL);
        free(out);
        for (int k = 0; k < 3; k++) free(cf[k]);
        ag_tape_free(&t);
    }
}

static void gru_bidirectional_matches_torch(void **state)
{
    const nn_tensor *x = need(state, "gru.x"), *y = need(state, "gru.y");
    nn_gru_weights dir[2];
    for (int d = 0; d < 2; d++)
        dir[d] = (nn_gru_weights){data(need(state, "gru.weight_ih.%d", d)), data(need(state, "gru.weight_hh.%d", d)),
                                  data(need(state, "gru.bias_ih.%d", d)), data(need(state, "gru.bias_hh.%d", d))};
    int T = (int)x->shape[0], H = (int)y->shape[1] / 2;
    float *out = alloc_floats(numel(y));
    vc_error err;
    assert_int_equal(nn_gru_bidirectional(out, data(x), T, (int)x->shape[1], H, dir, &err), 0);
    expect_close("bidirectional GRU", out, y, numel(y), TOL);
    free(out);
}

/* ---- spectral ---------------------------------------------------------------------------- */

static void stft_magnitude_matches_torch(void **state)
{
    const nn_tensor *c = need(state, "stft.cfg"), *x = need(state, "stft.x"), *mag = need(state, "stft.mag");
    int n_fft = cfg(c, 0), hop = cfg(c, 1);
    float *window = alloc_floats((size_t)n_fft), *out = alloc_floats(numel(mag));
    nn_hann_periodic(window, n_fft);
    assert_int_equal(nn_stft_frames(numel(x), hop), (int)mag->shape[0]);
    vc_error err;
    assert_int_equal(nn_stft_magnitude(out, data(x), numel(x), n_fft, hop, window, &err), 0);
    expect_close("stft magnitude", out, mag, numel(mag), TOL);
    free(window); free(out);
}

static void istft_matches_torch(void **state)
{
    const nn_tensor *c = need(state, "istft.cfg"), *re = need(state, "istft.re"), *y = need(state, "istft.y");
    int n_fft = cfg(c, 0), hop = cfg(c, 1), frames = (int)re->shape[0];
    float *window = alloc_floats((size_t)n_fft), *out = alloc_floats((size_t)(frames - 1) * hop);
    nn_hann_periodic(window, n_fft);
    vc_error err;
    assert_int_equal(nn_istft(out, data(re), data(need(state, "istft.im")), frames, n_fft, hop, window, &err), 0);
    expect_close("istft", out, y, (size_t)(frames - 1) * hop, TOL);
    free(window); free(out);
}

static void log_mel_matches_torch(void **state)
{
    const nn_tensor *mag = need(state, "log_mel.mag"), *fb = need(state, "log_mel.fb"), *y = need(state, "log_mel.y");
    int frames = (int)mag->shape[0], bins = (int)mag->shape[1], n_mels = (int)fb->shape[1];
    float *out = alloc_floats(numel(y));
    nn_log_mel(out, data(mag), data(fb), frames, bins, n_mels, data(need(state, "log_mel.cfg"))[0]);
    expect_close("log mel", out, y, (size_t)frames * n_mels, TOL);
    free(out);
}

static void mel_filterbank_matches_torch(void **state)
{
    const nn_tensor *c = need(state, "mel_fb.cfg"), *y = need(state, "mel_fb.y");
    int n_freqs = cfg(c, 0), n_mels = cfg(c, 1);
    float *fb = alloc_floats((size_t)n_freqs * n_mels);
    nn_mel_filterbank_htk(fb, n_freqs, n_mels, data(c)[2], data(c)[3], cfg(c, 4));
    expect_close("mel filterbank (HTK)", fb, y, (size_t)n_freqs * n_mels, MEL_FB_TOL);
    free(fb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linear_matches_torch), cmocka_unit_test(weight_norm_matches_torch),
        cmocka_unit_test(cumsum_matches_torch), cmocka_unit_test(conv1d_matches_torch), cmocka_unit_test(conv1d_time_major_matches_torch),
        cmocka_unit_test(conv_transpose1d_matches_torch), cmocka_unit_test(conv2d_3x3_matches_torch),
        cmocka_unit_test(conv_transpose2d_matches_torch), cmocka_unit_test(layer_norm_matches_torch),
        cmocka_unit_test(group_norm_per_channel_matches_torch), cmocka_unit_test(batch_norm_matches_torch),
        cmocka_unit_test(gelu_erf_matches_torch), cmocka_unit_test(gelu_tanh_matches_torch),
        cmocka_unit_test(silu_matches_torch), cmocka_unit_test(mish_matches_torch), cmocka_unit_test(tanh_matches_torch),
        cmocka_unit_test(sigmoid_matches_torch), cmocka_unit_test(leaky_relu_matches_torch),
        cmocka_unit_test(softmax_matches_torch), cmocka_unit_test(avg_pool2d_matches_torch),
        cmocka_unit_test(interpolate_nearest_matches_torch), cmocka_unit_test(interpolate_linear_matches_torch),
        cmocka_unit_test(interpolate_linear_align_corners_matches_torch),
        cmocka_unit_test(attention_matches_torch), cmocka_unit_test(rotary_matches_torch),
        cmocka_unit_test(relative_attention_matches_torch), cmocka_unit_test(gru_bidirectional_matches_torch),
        cmocka_unit_test(stft_magnitude_matches_torch), cmocka_unit_test(istft_matches_torch),
        cmocka_unit_test(log_mel_matches_torch), cmocka_unit_test(mel_filterbank_matches_torch),
    };
    return cmocka_run_group_tests(tests, open_fixture, close_fixture);
}
