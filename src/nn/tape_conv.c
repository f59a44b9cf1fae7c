/*
 * Convolution tape ops (see tape.h): Conv1d along T with stride, dilation, asymmetric zero
 * padding and groups, applied to every column W independently (so a (K,1) Conv2d over
 * DiscriminatorP's [B, C, T/p, p] view is the same op); ConvTranspose1d; weight norm.
 * Forward and both backwards are the engine backend's convolution primitives (backend.h) on
 * the tape's channels-first layout, [B, C, T, W] as an image of height T: the same op set
 * inference runs, plus the gradients.
 */
#include "nn/tape.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/par.h"

static nn_layout layout_of(const ag_node *x) { return x->native ? NN_LAYOUT_NATIVE : NN_LAYOUT_CHANNELS_FIRST; }

/* The spec of a convolution along T of x [B, Cin, T, W] with a (K, 1) kernel. With W = 1 the
 * same memory is described as an image of height 1 and width T, with a (1, K) kernel: oneDNN's
 * direct kernels block over the output width, and a sequence laid along the height (width 1)
 * ran its convolutions ≈ 1.7× slower (the RVC decoder's, measured). */
static nn_conv_spec tape_conv_spec(const ag_node *x, int c_out, int groups, int K, const ag_conv_desc *d)
{
    nn_conv_spec s = {.n = x->dims[0], .c_in = x->dims[1], .c_out = c_out, .groups = groups, .in_h = x->dims[2],
                      .in_w = x->dims[3], .kh = K, .kw = 1, .stride_h = d->stride, .stride_w = 1, .dil_h = d->dilation,
                      .dil_w = 1, .pad_t = d->pad_left, .pad_b = d->pad_right, .layout = layout_of(x)};
    if (x->dims[3] == 1)
        s = (nn_conv_spec){.n = x->dims[0], .c_in = x->dims[1], .c_out = c_out, .groups = groups, .in_h = 1,
                           .in_w = x->dims[2], .kh = 1, .kw = K, .stride_h = 1, .stride_w = d->stride, .dil_h = 1,
                           .dil_w = d->dilation, .pad_l = d->pad_left, .pad_r = d->pad_right, .layout = layout_of(x)};
    return s;
}

/* A transposed convolution along T of x [B, Cin, T, 1], laid along the width as above; w [Cin, Cout, K]. */
static nn_conv_spec tape_convt_spec(const ag_node *x, int c_out, int K, int stride, int pad)
{
    return (nn_conv_spec){.n = x->dims[0], .c_in = x->dims[1], .c_out = c_out, .groups = 1, .in_h = 1,
                          .in_w = x->dims[2], .kh = 1, .kw = K, .stride_h = 1, .stride_w = stride, .dil_h = 1, .dil_w = 1,
                          .pad_l = pad, .pad_r = pad, .transposed = 1, .layout = layout_of(x)};
}

/* ---- the backend's blocked layout ---- */

/* Block g = (batch item, channel block) of [B][C/b][T][b] ⇄ its b rows of [B, C, T]; each block is
 * one thread's. to = 1 packs plain into blocked, to = 0 unpacks; add: += instead of =. */
static void repack(float *blocked, float *plain, int B, int C, int T, int b, int to, int add)
{
    int CB = C / b;
    NN_PAR_FOR((size_t)B * C * T)
    for (int g = 0; g < B * CB; g++) {
        float *blk = blocked + (size_t)g * T * b, *rows = plain + ((size_t)(g / CB) * C + (size_t)(g % CB) * b) * T;
        for (int t = 0; t < T; t++)
            for (int c = 0; c < b; c++) {
                float *dst = to ? &blk[(size_t)t * b + c] : &rows[(size_t)c * T + t];
                float v = to ? rows[(size_t)c * T + t] : blk[(size_t)t * b + c];
                *dst = add ? *dst + v : v;
            }
    }
}

/* The gradient of a layout change is the opposite change of the output's gradient. */
static void relayout_bw(ag_tape *t, ag_node *n)
{
    float *g = ag_grad(t, n->in[0]);
    if (!g) return;
    const int *d = n->dims;
    if (n->native) repack(n->grad, g, d[0], d[1], d[2], nn_native_block(), 0, 1); /* to_native: unpack into x's */
    else repack(g, n->grad, d[0], d[1], d[2], nn_native_block(), 1, 1);          /* from_native: pack into x's */
}

static int relayout(ag_tape *t, int x, int to)
{
    int d[4];
    memcpy(d, t->nodes[x].dims, sizeof d);
    int o = ag_new_raw(t, d[0], d[1], d[2], d[3], &x, 1);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    n->native = to;
    float *src = t->nodes[x].val; /* read only: the packed or unpacked copy goes to the new node */
    if (to) repack(n->val, src, d[0], d[1], d[2], nn_native_block(), 1, 0);
    else repack(src, n->val, d[0], d[1], d[2], nn_native_block(), 0, 0);
    n->backward = relayout_bw;
    return o;
}

int ag_to_native(ag_tape *t, int x)
{
    if (x < 0) return -1;
    const ag_node *n = &t->nodes[x];
    int b = nn_native_block();
    if (n->native || b <= 0 || n->dims[1] % b || n->dims[3] != 1) return x;
    return relayout(t, x, 1);
}

int ag_from_native(ag_tape *t, int x)
{
    if (x < 0 || !t->nodes[x].native) return x;
    return relayout(t, x, 0);
}

int ag_layout_like(ag_tape *t, int b, int a)
{
    if (a < 0 || b < 0 || t->nodes[a].native == t->nodes[b].native) return b;
    return t->nodes[a].native ? ag_to_native(t, b) : ag_from_native(t, b);
}

/* A native x stays native through a convolution whose output channels the block divides. */
static int conv_input(ag_tape *t, int x, int c_out, int groups)
{
    int b = nn_native_block();
    return t->nodes[x].native && (c_out % b || groups != 1) ? ag_from_native(t, x) : x;
}

/* Both gradients of a convolution node n (inputs x, w, optional bias) through the backend. */
static void conv_backward_through(ag_tape *t, ag_node *n, const nn_conv_spec *s)
{
    const ag_node *xn = &t->nodes[n->in[0]], *wn = &t->nodes[n->in[1]];
    float *gx = ag_needs(t, n->in[0]) ? ag_grad(t, n->in[0]) : NULL;
    float *gw = ag_needs(t, n->in[1]) ? ag_grad(t, n->in[1]) : NULL;
    float *gb = n->in[2] >= 0 && ag_needs(t, n->in[2]) ? ag_grad(t, n->in[2]) : NULL;
    vc_error err;
    if (gx && nn_conv_bwd_data(s, gx, n->grad, wn->val, &err)) t->failed = 1;
    if ((gw || gb) && nn_conv_bwd_weights(s, gw, gb, xn->val, n->grad, &err)) t->failed = 1;
}

static void conv_bw(ag_tape *t, ag_node *n)
{
    const ag_node *xn = &t->nodes[n->in[0]], *wn = &t->nodes[n->in[1]];
    const ag_conv_desc *d = n->aux;
    if (d->lrelu) { /* through the fused activation first: this gradient is read by nothing else */
        float slope = d->slope;
        NN_PAR_FOR(n->n)
        for (size_t i = 0; i < n->n; i++) n->grad[i] *= n->val[i] > 0 ? 1.0f : slope;
    }
    nn_conv_spec s = tape_conv_spec(xn, wn->dims[0], xn->dims[1] / wn->dims[1], wn->dims[2], d);
    conv_backward_through(t, n, &s);
}

/* nn_conv on nodes. A model's weight cache (nn/wcache.h) may keep converted copies of parameter
 * weights only: a computed weight (weight norm recorded on a training tape) lives in memory the
 * next tape reuses, so the cache is set aside for it. */
static int node_conv(const ag_tape *t, const nn_conv_spec *s, ag_node *out, const ag_node *x, const ag_node *w, int b,
                     int accumulate)
{
    const ag_node *bn = b >= 0 ? &t->nodes[b] : NULL;
    int stable = w->param && (!bn || bn->param);
    nn_wcache_scope off = {0};
    if (!stable) off = nn_wcache_enter(NULL);
    vc_error err;
    int rc = nn_conv(s, out->val, x->val, w->val, bn ? bn->val : NULL, accumulate, &err);
    if (!stable) nn_wcache_leave(off);
    return rc;
}

int ag_conv(ag_tape *t, int x, int w, int b, const ag_conv_desc *d)
{
    if (x < 0 || w < 0) return -1;
    if ((x = conv_input(t, x, t->nodes[w].dims[0], d->groups)) < 0) return -1;
    const ag_node *xn = &t->nodes[x], *wn = &t->nodes[w];
    int K = wn->dims[2];
    int Tout = (xn->dims[2] + d->pad_left + d->pad_right - d->dilation * (K - 1) - 1) / d->stride + 1;
    int in[3] = {x, w, b};
    int o = ag_new_raw(t, xn->dims[0], wn->dims[0], Tout, xn->dims[3], in, 3);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    n->aux = malloc(sizeof *d);
    if (!n->aux) { t->failed = 1; return -1; }
    memcpy(n->aux, d, sizeof *d);
    xn = &t->nodes[x], wn = &t->nodes[w]; /* ag_new may have moved the node array */
    nn_conv_spec s = tape_conv_spec(xn, wn->dims[0], xn->dims[1] / wn->dims[1], K, d);
    s.post_lrelu = d->lrelu;
    s.lrelu_slope = d->lrelu ? d->slope : 0.0f;
    if (node_conv(t, &s, n, xn, wn, b, 0)) { t->failed = 1; return -1; }
    n->backward = conv_bw;
    return o;
}

/* Whether acc + conv(x) can be written by the convolution into acc (an inference tape, acc of
 * the output's shape, in x's layout or blocked while x is plain: out_native). */
static int conv_can_add_into(const ag_tape *t, const ag_node *x, const ag_node *w, const ag_node *acc, int Tout,
                             const ag_conv_desc *d)
{
    int same_shape = acc->dims[0] == x->dims[0] && acc->dims[1] == w->dims[0] && acc->dims[2] == Tout &&
                     acc->dims[3] == x->dims[3];
    int layouts = acc->native == x->native || (acc->native && w->dims[0] % nn_native_block() == 0);
    return t->infer && same_shape && layouts && !d->lrelu;
}

int ag_conv_add_into(ag_tape *t, int x, int w, int b, const ag_conv_desc *d, int acc)
{
    if (x < 0 || w < 0 || acc < 0) return -1;
    if ((x = conv_input(t, x, t->nodes[w].dims[0], d->groups)) < 0) return -1;
    const ag_node *xn = &t->nodes[x], *wn = &t->nodes[w];
    int K = wn->dims[2];
    int Tout = (xn->dims[2] + d->pad_left + d->pad_right - d->dilation * (K - 1) - 1) / d->stride + 1;
    if (!conv_can_add_into(t, xn, wn, &t->nodes[acc], Tout, d)) /* acc's value stays (backward may read it) */
        return ag_add_into(t, ag_layout_like(t, ag_conv(t, x, w, b, d), acc), acc);
    int in[3] = {acc, x, w};
    int o = ag_new_over(t, acc, in, 3);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    xn = &t->nodes[x], wn = &t->nodes[w]; /* ag_new_over may have moved the node array */
    nn_conv_spec s = tape_conv_spec(xn, wn->dims[0], xn->dims[1] / wn->dims[1], K, d);
    s.out_native = n->native && !xn->native;
    if (node_conv(t, &s, n, xn, wn, b, 1)) { t->failed = 1; return -1; }
    return o; /* no backward: only inference tapes get here */
}

static void convt_bw(ag_tape *t, ag_node *n)
{
    const ag_node *xn = &t->nodes[n->in[0]], *wn = &t->nodes[n->in[1]];
    nn_conv_spec s = tape_convt_spec(xn, n->dims[1], wn->dims[2], n->ip[0], n->ip[1]);
    conv_backward_through(t, n, &s);
}

int ag_conv_transpose(ag_tape *t, int x, int w, int b, int stride, int pad)
{
    if (x < 0 || w < 0) return -1;
    if ((x = conv_input(t, x, t->nodes[w].dims[1], 1)) < 0) return -1;
    const ag_node *xn = &t->nodes[x], *wn = &t->nodes[w];
    int Tout = (xn->dims[2] - 1) * stride - 2 * pad + wn->dims[2];
    int in[3] = {x, w, b};
    int o = ag_new_raw(t, xn->dims[0], wn->dims[1], Tout, 1, in, 3);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    n->ip[0] = stride;
    n->ip[1] = pad;
    xn = &t->nodes[x], wn = &t->nodes[w];
    nn_conv_spec s = tape_convt_spec(xn, n->dims[1], wn->dims[2], stride, pad);
    if (node_conv(t, &s, n, xn, wn, b, 0)) { t->failed = 1; return -1; }
    n->backward = convt_bw;
    return o;
}

/* ---- weight norm: w[o] = g[o] · v[o] / ‖v[o]‖; aux keeps the row norms ---- */

static void weight_norm_bw(ag_tape *t, ag_node *n)
{
    const ag_node *g = &t->nodes[n->in[0]], *v = &t->nodes[n->in[1]];
    const float *norms = n->aux;
    int O = n->dims[0];
    size_t R = n->n / (size_t)O;
    float *gg = ag_needs(t, n->in[0]) ? ag_grad(t, n->in[0]) : NULL;
    float *gv = ag_needs(t, n->in[1]) ? ag_grad(t, n->in[1]) : NULL;
    NN_PAR_FOR(n->n) /* rows are independent: each is one thread's */
    for (int o = 0; o < O; o++) {
        const float *dw = n->grad + (size_t)o * R, *vr = v->val + (size_t)o * R;
        double dot = 0;
        for (size_t i = 0; i < R; i++) dot += (double)dw[i] * vr[i];
        float nv = norms[o];
        if (gg) gg[o] += (float)(dot / nv);
        if (!gv) continue;
        float a = g->val[o] / nv, c = (float)(g->val[o] * dot / ((double)nv * nv * nv));
        for (size_t i = 0; i < R; i++) gv[(size_t)o * R + i] += a * dw[i] - c * vr[i];
    }
}

int ag_weight_norm(ag_tape *t, int g, int v)
{
    if (g < 0 || v < 0) return -1;
    const int *d = t->nodes[v].dims;
    int in[2] = {g, v};
    int o = ag_new(t, d[0], d[1], d[2], d[3], in, 2);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    int O = n->dims[0];
    size_t R = n->n / (size_t)O;
    float *norms = malloc(sizeof(float) * (size_t)O);
    if (!norms) { t->failed = 1; return -1; }
    n->aux = norms;
    const float *vv = t->nodes[v].val, *gv = t->nodes[g].val;
    NN_PAR_FOR(n->n)
    for (int r = 0; r < O; r++) {
        double s = 0;
        for (size_t i = 0; i < R; i++) s += (double)vv[(size_t)r * R + i] * vv[(size_t)r * R + i];
        norms[r] = (float)sqrt(s);
        for (size_t i = 0; i < R; i++) n->val[(size_t)r * R + i] = gv[r] * vv[(size_t)r * R + i] / norms[r];
    }
    n->backward = weight_norm_bw;
    return o;
}
