/*
 * Finite-difference checks of every tape op's backward (nn/tape.h): each case builds a small
 * graph from random leaves, takes loss = mean((0.37 − out)²), and compares the tape's
 * gradient of every sampled leaf element with a central difference of the loss. Inputs of
 * kinked ops (leaky relu, L1) are kept away from their kinks so the difference is meaningful.
 * Also: a cancel hook stops recording and the reverse walk (ag_tape_set_cancel), and the blocked
 * layout of inference tapes (ag_to_native) gives what [B, C, T] gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/optim.h"
#include "nn/tape.h"

#define MAX_LEAVES 6
#define H 1e-3f

typedef struct leaf { float *val, *grad; int dims[4]; } leaf;
typedef int (*build_fn)(ag_tape *t, const int *ids, const void *ctx);
typedef struct fd_case { leaf l[MAX_LEAVES]; int n; build_fn build; const void *ctx; } fd_case;

static unsigned next(unsigned *s) { *s = *s * 1103515245u + 12345u; return (*s >> 8) & 0xFFFF; }

/* Uniform in ±1; with away > 0, magnitudes in [away, 1] (kinks stay far from the step). */
static void add_leaf(fd_case *c, int B, int C, int T, int W, unsigned seed, float away)
{
    leaf *l = &c->l[c->n++];
    size_t n = (size_t)B * C * T * W;
    l->val = malloc(sizeof(float) * n);
    l->grad = calloc(n, sizeof(float));
    l->dims[0] = B; l->dims[1] = C; l->dims[2] = T; l->dims[3] = W;
    for (size_t i = 0; i < n; i++) {
        float u = (float)next(&seed) / 32768.0f - 1.0f;
        l->val[i] = away > 0 ? copysignf(away + (1 - away) * fabsf(u), u) : u;
    }
}

static double loss_of(fd_case *c, int backward)
{
    ag_tape t;
    ag_tape_init(&t);
    int ids[MAX_LEAVES];
    for (int i = 0; i < c->n; i++)
        ids[i] = ag_param(&t, c->l[i].val, backward ? c->l[i].grad : NULL, c->l[i].dims[0], c->l[i].dims[1],
                          c->l[i].dims[2], c->l[i].dims[3]);
    int loss = ag_lsgan(&t, c->build(&t, ids, c->ctx), 0.37f);
    assert_true(loss >= 0 && ag_ok(&t));
    double v = t.nodes[loss].val[0];
    if (backward) ag_backward(&t, loss);
    assert_true(ag_ok(&t));
    ag_tape_free(&t);
    return v;
}

static void check(fd_case *c)
{
    loss_of(c, 1);
    for (int i = 0; i < c->n; i++) {
        leaf *l = &c->l[i];
        size_t n = (size_t)l->dims[0] * l->dims[1] * l->dims[2] * l->dims[3], step = n / 23 + 1;
        for (size_t k = i % step; k < n; k += step) {
            float keep = l->val[k];
            l->val[k] = keep + H;
            double up = loss_of(c, 0);
            l->val[k] = keep - H;
            double down = loss_of(c, 0);
            l->val[k] = keep;
            double fd = (up - down) / (2 * H);
            if (fabs(fd - l->grad[k]) > 2e-4 + 2e-2 * fabs(fd))
                fail_msg("leaf %d element %zu: tape %.6g, finite difference %.6g", i, k, l->grad[k], fd);
        }
    }
    for (int i = 0; i < c->n; i++) { free(c->l[i].val); free(c->l[i].grad); }
}

/* ---- convolutions ---- */

static int b_conv(ag_tape *t, const int *id, const void *ctx)
{
    return ag_conv(t, id[0], id[1], id[2], ctx);
}

static void conv_grouped_strided_dilated(void **state)
{
    ag_conv_desc d = {2, 2, 3, 1, 2, 0, 0.0f};
    fd_case c = {.build = b_conv, .ctx = &d};
    add_leaf(&c, 2, 4, 9, 1, 1, 0);
    add_leaf(&c, 6, 2, 3, 1, 2, 0);
    add_leaf(&c, 6, 1, 1, 1, 3, 0);
    check(&c);
}

static void conv_per_column_like_conv2d_k1(void **state)
{
    ag_conv_desc d = {3, 1, 2, 2, 1, 0, 0.0f};
    fd_case c = {.build = b_conv, .ctx = &d};
    add_leaf(&c, 1, 2, 7, 3, 4, 0);
    add_leaf(&c, 4, 2, 3, 1, 5, 0);
    add_leaf(&c, 4, 1, 1, 1, 6, 0);
    check(&c);
}

/* stride 1, one group: the tap-by-tap path (no im2col), with dilation, uneven padding and two
 * columns (as DiscriminatorP's stride-1 layer) */
static void conv_stride1_dilated_taps(void **state)
{
    ag_conv_desc d = {1, 3, 4, 2, 1, 0, 0.0f};
    fd_case c = {.build = b_conv, .ctx = &d};
    add_leaf(&c, 2, 3, 8, 2, 13, 0);
    add_leaf(&c, 4, 3, 3, 1, 14, 0);
    add_leaf(&c, 4, 1, 1, 1, 15, 0);
    check(&c);
}

static int b_convt(ag_tape *t, const int *id, const void *ctx)
{
    return ag_conv_transpose(t, id[0], id[1], id[2], 3, 1);
}

static void conv_transpose(void **state)
{
    fd_case c = {.build = b_convt};
    add_leaf(&c, 2, 3, 5, 1, 7, 0);
    add_leaf(&c, 3, 2, 6, 1, 8, 0);
    add_leaf(&c, 2, 1, 1, 1, 9, 0);
    check(&c);
}

static int b_wn(ag_tape *t, const int *id, const void *ctx)
{
    ag_conv_desc d = {1, 1, 1, 1, 1, 0, 0.0f};
    return ag_conv(t, id[0], ag_weight_norm(t, id[1], id[2]), -1, &d);
}

static void weight_norm_g_and_v(void **state)
{
    fd_case c = {.build = b_wn};
    add_leaf(&c, 2, 3, 6, 1, 10, 0);
    add_leaf(&c, 4, 1, 1, 1, 11, 0.2f);
    add_leaf(&c, 4, 3, 3, 1, 12, 0);
    check(&c);
}

/* ---- sequence ops ---- */

static int b_ln(ag_tape *t, const int *id, const void *ctx)
{
    return ag_layer_norm_c(t, id[0], id[1], id[2], 1e-5f);
}

static void layer_norm_over_channels(void **state)
{
    fd_case c = {.build = b_ln};
    add_leaf(&c, 2, 5, 4, 1, 13, 0);
    add_leaf(&c, 5, 1, 1, 1, 14, 0);
    add_leaf(&c, 5, 1, 1, 1, 15, 0);
    check(&c);
}

static int b_attn(ag_tape *t, const int *id, const void *ctx)
{
    return ag_rel_attention(t, id[0], id[1], id[2], id[3], id[4], 2, 2, ctx);
}

static void relative_attention_with_mask(void **state)
{
    static const int64_t lengths[2] = {7, 5};
    fd_case c = {.build = b_attn, .ctx = lengths};
    for (int i = 0; i < 3; i++) add_leaf(&c, 2, 4, 7, 1, 16 + i, 0);
    add_leaf(&c, 5, 2, 1, 1, 19, 0);
    add_leaf(&c, 5, 2, 1, 1, 20, 0);
    check(&c);
}

/* ---- elementwise and structural ops ---- */

static int b_wavenet_pieces(ag_tape *t, const int *id, const void *ctx)
{
    int a = ag_gate(t, ag_add(t, id[0], id[1]));                       /* [2,3,5] */
    int s = ag_concat_c(t, ag_slice_c(t, a, 1, 3), ag_slice_c(t, a, 0, 1));
    return ag_flip_c(t, ag_mul(t, s, ag_tanh(t, id[2])));
}

static void gate_broadcast_slice_concat_flip(void **state)
{
    fd_case c = {.build = b_wavenet_pieces};
    add_leaf(&c, 2, 6, 5, 1, 21, 0);
    add_leaf(&c, 2, 6, 1, 1, 22, 0);
    add_leaf(&c, 2, 3, 5, 1, 23, 0);
    check(&c);
}

static int b_embed(ag_tape *t, const int *id, const void *ctx)
{
    static const int64_t idx[6] = {0, 3, 3, 1, 4, 2};
    static const float mask[6] = {1, 1, 0, 1, 1, 1};
    int e = ag_embedding(t, id[0], idx, 2, 3); /* [2, 3, 3] */
    return ag_mask(t, ag_scale(t, ag_exp(t, ag_mul(t, e, id[1])), 0.5f), mask);
}

static void embedding_mask_scale_exp(void **state)
{
    fd_case c = {.build = b_embed};
    add_leaf(&c, 5, 3, 1, 1, 24, 0);
    add_leaf(&c, 2, 3, 3, 1, 25, 0);
    check(&c);
}

static int b_pads(ag_tape *t, const int *id, const void *ctx)
{
    static const int64_t starts[2] = {1, 3};
    int x = ag_leaky_relu(t, ag_reflect_pad_t(t, id[0], 2, 3), 0.1f); /* [2,1,12] */
    x = ag_slice_t(t, ag_reshape(t, x, 2, 1, 4, 3), starts, 1);      /* rows of the 2-D view */
    return ag_relu(t, x);
}

static void leaky_relu_reflect_pad_reshape_slice(void **state)
{
    fd_case c = {.build = b_pads};
    add_leaf(&c, 2, 1, 7, 1, 26, 0.05f);
    check(&c);
}

/* A HiFi-GAN residual block with the in-place ops the training graph uses: the second activation
 * over conv1's output, the residual add into conv2's output, the scale of the sum in place. */
static int b_resblock_into(ag_tape *t, const int *id, const void *ctx)
{
    ag_conv_desc d1 = {1, 2, 2, 2, 1, 0, 0.0f}, d2 = {1, 1, 1, 1, 1, 0, 0.0f};
    int xt = ag_conv(t, ag_leaky_relu(t, id[0], 0.1f), id[1], id[2], &d1);
    xt = ag_conv(t, ag_leaky_relu_into(t, xt, 0.1f), id[3], id[4], &d2);
    int y = ag_add_into(t, xt, id[0]);
    return ag_leaky_relu_into(t, ag_scale_into(t, ag_add_into(t, y, id[0]), 0.5f), 0.01f);
}

static void resblock_with_in_place_ops(void **state)
{
    fd_case c = {.build = b_resblock_into};
    add_leaf(&c, 2, 3, 9, 1, 31, 0.05f);
    add_leaf(&c, 3, 3, 3, 1, 32, 0);
    add_leaf(&c, 3, 1, 1, 1, 33, 0);
    add_leaf(&c, 3, 3, 3, 1, 34, 0);
    add_leaf(&c, 3, 1, 1, 1, 35, 0);
    check(&c);
}

/* ---- losses ---- */

static int b_kl(ag_tape *t, const int *id, const void *ctx)
{
    static const float mask[6] = {1, 1, 0, 1, 0, 0};
    return ag_add(t, ag_kl(t, id[0], id[1], id[2], id[3], mask), ag_l1_const(t, ctx, id[0]));
}

static void kl_and_l1(void **state)
{
    float ref[12];
    for (int i = 0; i < 12; i++) ref[i] = (i % 2 ? 2.0f : -2.0f); /* far from the ±1 leaves: no kink */
    fd_case c = {.build = b_kl, .ctx = ref};
    for (int i = 0; i < 4; i++) add_leaf(&c, 2, 2, 3, 1, 27 + i, 0);
    check(&c);
}

static int b_mel(ag_tape *t, const int *id, const void *ctx)
{
    return ag_log_mel(t, id[0], ctx, 4, 32, 8, 12, 2e-7f, 1e-5f);
}

static void log_mel_of_a_waveform(void **state)
{
    float basis[4 * 17];
    unsigned s = 99;
    for (int i = 0; i < 4 * 17; i++) basis[i] = (float)next(&s) / 65536.0f;
    fd_case c = {.build = b_mel, .ctx = basis};
    add_leaf(&c, 2, 1, 64, 1, 31, 0);
    check(&c);
}

/* ---- AdamW: first step of PyTorch's formula, worked by hand ---- */

static void adamw_first_step(void **state)
{
    nn_adamw o = {1e-4f, 0.8f, 0.99f, 1e-9f, 0.01f};
    float p[2] = {0.5f, -0.25f}, g[2] = {2.0f, -1e-3f}, m[2] = {0}, v[2] = {0};
    nn_adamw_step(&o, 1, p, g, m, v, 2);
    /* decay: p·(1 − 1e-6); m̂ = g, v̂ = g² → p −= lr·g/(|g| + eps) */
    assert_true(fabs(p[0] - (0.5 * (1 - 1e-6) - 1e-4)) < 1e-7);
    assert_true(fabs(p[1] - (-0.25 * (1 - 1e-6) + 1e-4)) < 1e-7);
    assert_true(fabs(m[0] - 0.4f) < 1e-6 && fabs(v[0] - 0.04f) < 1e-7);
}

/* ---- cancellation ---- */

typedef struct poll_count { int polls, cancel_at; } poll_count;

static int cancel_at(void *ctx)
{
    poll_count *p = ctx;
    return ++p->polls >= p->cancel_at;
}

/* A chain x → (tanh, scale) × 20 → loss with the hook saying yes at poll k: recording stops at
 * that op (every later op returns −1, the tape is failed and marked cancelled); a yes during the
 * reverse walk stops it before the leaf's gradient is complete. */
static int chain(ag_tape *t, float *x, float *gx)
{
    int a = ag_param(t, x, gx, 1, 1, 8, 1);
    for (int i = 0; i < 20; i++) a = ag_scale(t, ag_tanh(t, a), 1.1f);
    return ag_lsgan(t, a, 0.5f);
}

static void cancel_stops_recording_and_backward(void **state)
{
    float x[8], gx[8] = {0}, ref[8] = {0};
    for (int i = 0; i < 8; i++) x[i] = 0.1f * (float)i - 0.3f;
    ag_tape t;
    ag_tape_init(&t); /* no hook: the reference gradient */
    int loss = chain(&t, x, ref);
    ag_backward(&t, loss);
    assert_true(ag_ok(&t) && !t.cancelled && loss > 40);
    ag_tape_free(&t);

    poll_count p = {0, 10};
    ag_tape_init(&t);
    ag_tape_set_cancel(&t, &(ag_cancel){cancel_at, &p});
    loss = chain(&t, x, gx);
    assert_int_equal(loss, -1);
    assert_true(!ag_ok(&t) && t.cancelled);
    assert_int_equal(p.polls, 10); /* no further polls once cancelled */
    assert_int_equal(t.count, 9);  /* the 10th op was never recorded */
    ag_tape_free(&t);

    p = (poll_count){0, 0};
    ag_tape_init(&t);
    ag_tape_set_cancel(&t, &(ag_cancel){cancel_at, &p});
    p.cancel_at = 1 << 30;
    loss = chain(&t, x, gx);
    assert_true(loss > 40 && ag_ok(&t));
    p.cancel_at = p.polls + 5; /* a few nodes into the reverse walk */
    ag_backward(&t, loss);
    assert_true(t.cancelled);
    for (int i = 0; i < 8; i++) assert_float_equal(gx[i], 0.0f, 0.0f); /* never reached the leaf */
    ag_tape_free(&t);
    assert_true(ref[3] != 0.0f);
}

/* Conversion's decoder path in the backend's blocked layout: LeakyReLU, a dilated conv, a
 * transposed conv, an in-place add of a plain operand, and a conv to 1 channel (which converts
 * back by itself) give what the same ops give on [B, C, T]. */
static int decoder_like(ag_tape *t, int x, const int *w, int native)
{
    ag_conv_desc dil = {1, 3, 3, 3, 1, 0, 0.0f}, post = {1, 1, 1, 1, 1, 0, 0.0f};
    if (native) {
        x = ag_to_native(t, x);
        assert_true(t->nodes[x].native); /* 32 channels: both blocks (16, 8) divide them */
    }
    int h = ag_conv(t, ag_leaky_relu(t, x, 0.1f), w[0], w[1], &dil);         /* [1, 32, T] */
    h = ag_add_into(t, h, x);
    int u = ag_conv_transpose(t, ag_leaky_relu_into(t, h, 0.1f), w[2], -1, 2, 1); /* [1, 16, 2T] */
    u = ag_add_into(t, u, w[4]);                                               /* a plain [1, 16, 2T] */
    return ag_from_native(t, ag_conv(t, u, w[3], -1, &post));                  /* [1, 1, 2T] */
}

static void blocked_layout_gives_the_same_values(void **state)
{
    (void)state;
    enum { C = 32, T = 40 };
    fd_case c = {0};
    add_leaf(&c, 1, C, T, 1, 11, 0);      /* x */
    add_leaf(&c, C, C, 3, 1, 12, 0);      /* dilated conv weight */
    add_leaf(&c, 1, C, 1, 1, 13, 0);      /* its bias */
    add_leaf(&c, C, C / 2, 4, 1, 14, 0);  /* transposed conv weight [Cin, Cout, K] */
    add_leaf(&c, 1, C / 2, 3, 1, 15, 0);  /* conv to 1 channel */
    add_leaf(&c, 1, C / 2, 2 * T, 1, 16, 0);
    float *out[2] = {0};
    int n = 0;
    for (int native = 0; native < 2; native++) {
        ag_tape t;
        ag_tape_init(&t);
        int id[6];
        for (int i = 0; i < 6; i++) {
            leaf *l = &c.l[i];
            id[i] = ag_const(&t, l->val, l->dims[0], l->dims[1], l->dims[2], l->dims[3]);
        }
        int w[5] = {id[1], ag_reshape(&t, id[2], C, 1, 1, 1), id[3], id[4], id[5]};
        int y = decoder_like(&t, id[0], w, native);
        assert_true(y >= 0 && ag_ok(&t));
        assert_false(t.nodes[y].native);
        n = (int)t.nodes[y].n;
        out[native] = malloc(sizeof(float) * (size_t)n);
        memcpy(out[native], t.nodes[y].val, sizeof(float) * (size_t)n);
        ag_tape_free(&t);
    }
    assert_int_equal(n, 2 * T);
    for (int i = 0; i < n; i++) assert_float_equal(out[1][i], out[0][i], 1e-4f * (1 + fabsf(out[0][i])));
    free(out[0]); free(out[1]);
    for (int i = 0; i < c.n; i++) { free(c.l[i].val); free(c.l[i].grad); }
}

/* Training in the blocked layout: the gradients through a layout change, a dilated conv, an
 * in-place add of a plain operand, a transposed conv and a conv back to one channel (the
 * decoder's pattern) agree with finite differences, for a batch of 2. */
static int b_native_chain(ag_tape *t, const int *id, const void *ctx)
{
    (void)ctx;
    ag_conv_desc dil = {1, 2, 2, 2, 1, 0, 0.0f}, post = {1, 1, 1, 1, 1, 0, 0.0f};
    int x = ag_to_native(t, id[0]);
    assert_true(t->nodes[x].native); /* 16 channels: both blocks (16, 8) divide them */
    int h = ag_add_into(t, ag_conv(t, x, id[1], id[2], &dil), id[3]);
    int u = ag_conv_transpose(t, ag_scale(t, h, 0.5f), id[4], -1, 2, 1);
    assert_true(t->nodes[u].native);
    return ag_conv(t, u, id[5], -1, &post); /* 1 output channel: converts back by itself */
}

static void native_layout_gradients(void **state)
{
    (void)state;
    fd_case c = {.build = b_native_chain};
    add_leaf(&c, 2, 16, 6, 1, 21, 0);  /* x */
    add_leaf(&c, 16, 16, 3, 1, 22, 0); /* dilated conv */
    add_leaf(&c, 16, 1, 1, 1, 23, 0);  /* its bias */
    add_leaf(&c, 2, 16, 6, 1, 24, 0);  /* a plain operand added into the native output */
    add_leaf(&c, 16, 16, 4, 1, 25, 0); /* transposed conv [Cin, Cout, K] */
    add_leaf(&c, 1, 16, 3, 1, 26, 0);  /* conv to 1 channel */
    for (int i = 1; i < c.n; i++) /* weights ~ 1/√fan-in keep the loss near 1, where float differences resolve */
        for (int k = 0; k < c.l[i].dims[0] * c.l[i].dims[1] * c.l[i].dims[2]; k++) c.l[i].val[k] *= 0.15f;
    check(&c);
}

/* A convolution with its LeakyReLU fused gives the values and gradients of the two ops apart. */
static void conv_with_fused_leaky_relu(void **state)
{
    (void)state;
    fd_case c = {0};
    add_leaf(&c, 2, 16, 9, 1, 31, 0);
    add_leaf(&c, 16, 16, 3, 1, 32, 0);
    add_leaf(&c, 16, 1, 1, 1, 33, 0);
    float *grads[2][3], *vals[2];
    size_t n = 0;
    for (int fused = 0; fused < 2; fused++) {
        ag_tape t;
        ag_tape_init(&t);
        int id[3];
        for (int i = 0; i < 3; i++) {
            leaf *l = &c.l[i];
            memset(l->grad, 0, sizeof(float) * (size_t)l->dims[0] * l->dims[1] * l->dims[2] * l->dims[3]);
            id[i] = ag_param(&t, l->val, l->grad, l->dims[0], l->dims[1], l->dims[2], l->dims[3]);
        }
        ag_conv_desc d = {1, 2, 2, 2, 1, fused, fused ? 0.2f : 0.0f};
        int y = ag_conv(&t, ag_to_native(&t, id[0]), id[1], id[2], &d);
        if (!fused) y = ag_leaky_relu(&t, y, 0.2f);
        y = ag_from_native(&t, y);
        ag_backward(&t, ag_lsgan(&t, y, 0.37f));
        assert_true(ag_ok(&t));
        n = t.nodes[y].n;
        vals[fused] = malloc(sizeof(float) * n);
        memcpy(vals[fused], t.nodes[y].val, sizeof(float) * n);
        for (int i = 0; i < 3; i++) {
            size_t k = (size_t)c.l[i].dims[0] * c.l[i].dims[1] * c.l[i].dims[2] * c.l[i].dims[3];
            grads[fused][i] = malloc(sizeof(float) * k);
            memcpy(grads[fused][i], c.l[i].grad, sizeof(float) * k);
        }
        ag_tape_free(&t);
    }
    for (size_t k = 0; k < n; k++) assert_float_equal(vals[1][k], vals[0][k], 1e-5f * (1 + fabsf(vals[0][k])));
    for (int i = 0; i < 3; i++) {
        size_t m = (size_t)c.l[i].dims[0] * c.l[i].dims[1] * c.l[i].dims[2] * c.l[i].dims[3];
        for (size_t k = 0; k < m; k++) assert_float_equal(grads[1][i][k], grads[0][i][k], 1e-4f * (1 + fabsf(grads[0][i][k])));
        free(grads[0][i]); free(grads[1][i]);
    }
    free(vals[0]); free(vals[1]);
    for (int i = 0; i < c.n; i++) { free(c.l[i].val); free(c.l[i].grad); }
}


/* A residual convolution added into its accumulator on an inference tape (the sum post-op) gives
 * what a convolution then an add gives, in both layouts, and on a training tape it leaves the
 * accumulator's value for backward (the gradients equal conv + add's). */
static void conv_added_into_the_accumulator(void **state)
{
    (void)state;
    enum { C = 16, T = 40 };
    fd_case c = {0};
    add_leaf(&c, 1, C, T, 1, 5, 0);     /* x */
    add_leaf(&c, 1, C, T, 1, 6, 0);     /* acc */
    add_leaf(&c, C, C, 3, 1, 7, 0);     /* w */
    add_leaf(&c, C, 1, 1, 1, 8, 0);     /* b */
    add_leaf(&c, 1, 1, 2 * T, 1, 9, 0); /* a 1-channel source */
    add_leaf(&c, C, 1, 4, 1, 10, 0);    /* its weight */
    float *x = c.l[0].val, *acc = c.l[1].val, *w = c.l[2].val, *b = c.l[3].val, *src = c.l[4].val, *w1 = c.l[5].val;
    ag_conv_desc d = {1, 3, 3, 3, 1, 0, 0.0f};
    nn_arena *arena = nn_arena_create(0);
    for (int native = 0; native < 2; native++) {
        float *y[2];
        for (int fused = 0; fused < 2; fused++) {
            ag_tape t;
            ag_tape_init_infer(&t, arena);
            int xi = ag_const_copy(&t, x, 1, C, T, 1), ai = ag_const_copy(&t, acc, 1, C, T, 1);
            if (native) xi = ag_to_native(&t, xi), ai = ag_to_native(&t, ai);
            int wi = ag_param(&t, w, NULL, C, C, 3, 1), bi = ag_param(&t, b, NULL, C, 1, 1, 1);
            int r = fused ? ag_conv_add_into(&t, xi, wi, bi, &d, ai) : ag_add(&t, ag_conv(&t, xi, wi, bi, &d), ai);
            if (fused) assert_ptr_equal(t.nodes[r].val, t.nodes[ai].val); /* written over the accumulator */
            r = ag_from_native(&t, r);
            assert_true(ag_ok(&t));
            y[fused] = malloc(sizeof(float) * C * T);
            memcpy(y[fused], t.nodes[r].val, sizeof(float) * C * T);
            ag_tape_free(&t);
        }
        for (int i = 0; i < C * T; i++) assert_float_equal(y[1][i], y[0][i], 1e-5f * (1 + fabsf(y[0][i])));
        free(y[0]); free(y[1]);
    }
    /* a 1-channel plain source, stride 2, written straight into a blocked accumulator (the NSF
     * source mixed into a decoder stage) */
    {
        const int L = 2 * T;
        float *y[2];
        ag_conv_desc ds = {2, 1, 1, 1, 1, 0, 0.0f};
        for (int fused = 0; fused < 2; fused++) {
            ag_tape t;
            ag_tape_init_infer(&t, arena);
            int si = ag_const_copy(&t, src, 1, 1, L, 1), ai = ag_to_native(&t, ag_const_copy(&t, acc, 1, C, T, 1));
            int wi = ag_param(&t, w1, NULL, C, 1, 4, 1), bi = ag_param(&t, b, NULL, C, 1, 1, 1);
            int r = fused ? ag_conv_add_into(&t, si, wi, bi, &ds, ai) : ag_add(&t, ai, ag_conv(&t, si, wi, bi, &ds));
            assert_true(t.nodes[r].native);
            r = ag_from_native(&t, r);
            assert_true(ag_ok(&t));
            y[fused] = malloc(sizeof(float) * C * T);
            memcpy(y[fused], t.nodes[r].val, sizeof(float) * C * T);
            ag_tape_free(&t);
        }
        for (int i = 0; i < C * T; i++) assert_float_equal(y[1][i], y[0][i], 1e-5f * (1 + fabsf(y[0][i])));
        free(y[0]); free(y[1]);
    }
    /* training tape: the accumulator keeps its value (another op reads it after) */
    ag_tape t;
    ag_tape_init(&t);
    int ai = ag_const(&t, acc, 1, C, T, 1);
    int r = ag_conv_add_into(&t, ag_const(&t, x, 1, C, T, 1), ag_param(&t, w, NULL, C, C, 3, 1), -1, &d, ai);
    assert_true(r >= 0 && ag_ok(&t));
    assert_ptr_not_equal(t.nodes[r].val, acc);
    for (int i = 0; i < C * T; i++) assert_float_equal(t.nodes[ai].val[i], acc[i], 0.0f);
    ag_tape_free(&t);
    nn_arena_free(arena);
    for (int i = 0; i < c.n; i++) { free(c.l[i].val); free(c.l[i].grad); }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_grouped_strided_dilated), cmocka_unit_test(conv_per_column_like_conv2d_k1),
        cmocka_unit_test(conv_stride1_dilated_taps),
        cmocka_unit_test(conv_transpose), cmocka_unit_test(weight_norm_g_and_v),
        cmocka_unit_test(layer_norm_over_channels), cmocka_unit_test(relative_attention_with_mask),
        cmocka_unit_test(gate_broadcast_slice_concat_flip), cmocka_unit_test(embedding_mask_scale_exp),
        cmocka_unit_test(leaky_relu_reflect_pad_reshape_slice), cmocka_unit_test(resblock_with_in_place_ops),
        cmocka_unit_test(kl_and_l1),
        cmocka_unit_test(log_mel_of_a_waveform), cmocka_unit_test(adamw_first_step),
        cmocka_unit_test(cancel_stops_recording_and_backward),
        cmocka_unit_test(blocked_layout_gives_the_same_values), cmocka_unit_test(native_layout_gradients),
        cmocka_unit_test(conv_with_fused_leaky_relu),
        cmocka_unit_test(conv_added_into_the_accumulator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
