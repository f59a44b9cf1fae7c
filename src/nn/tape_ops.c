/*
 * Elementwise and structural tape ops (see tape.h): each op's forward is followed by its
 * backward. Backwards accumulate (+=) into the input gradients and skip inputs that need none.
 */
#include "nn/tape.h"
#include "nn/par.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define IN(n, k) (&t->nodes[(n)->in[k]])

/* A node of a's shape with input a: new (over = 0) or over a's values (the *_into ops). */
static int unary_op(ag_tape *t, int a, ag_backward_fn bw, int over)
{
    if (a < 0) return -1;
    const int *d = t->nodes[a].dims;
    int o = over ? ag_new_over(t, a, &a, 1) : ag_new(t, d[0], d[1], d[2], d[3], &a, 1);
    if (o >= 0) t->nodes[o].backward = bw;
    return o;
}

static int unary(ag_tape *t, int a, ag_backward_fn bw) { return unary_op(t, a, bw, 0); }

/* ---- add (same shape or b broadcast over T·W) ---- */

static void add_bw(ag_tape *t, ag_node *n)
{
    const ag_node *b = IN(n, 1);
    size_t inner = (size_t)n->dims[2] * n->dims[3], rows = (size_t)n->dims[0] * n->dims[1];
    if (ag_needs(t, n->in[0])) {
        float *ga = ag_grad(t, n->in[0]);
        if (ga) {
            NN_PAR_FOR(n->n)
            for (size_t i = 0; i < n->n; i++) ga[i] += n->grad[i];
        }
    }
    if (!ag_needs(t, n->in[1])) return;
    float *gb = ag_grad(t, n->in[1]);
    if (!gb) return;
    if (b->n == n->n) {
        NN_PAR_FOR(n->n)
        for (size_t i = 0; i < n->n; i++) gb[i] += n->grad[i];
        return;
    }
    NN_PAR_FOR(n->n) /* a row's sum is one thread's, in order: deterministic */
    for (size_t r = 0; r < rows; r++) {
        float s = 0;
        for (size_t i = 0; i < inner; i++) s += n->grad[r * inner + i];
        gb[r] += s;
    }
}

/* a + b into a new node, or over a's values (over = 1: ag_add_into). */
static int add_op(ag_tape *t, int a, int b, int over)
{
    if (a < 0 || b < 0) return -1;
    b = ag_layout_like(t, b, a);
    if (b < 0) return -1;
    assert(!t->nodes[a].native || t->nodes[b].n == t->nodes[a].n); /* broadcasting needs [B, C, T] */
    int in[2] = {a, b};
    int d[4];
    memcpy(d, t->nodes[a].dims, sizeof d); /* ag_new may move the nodes */
    int o = over ? ag_new_over(t, a, in, 2) : ag_new(t, d[0], d[1], d[2], d[3], in, 2);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    const float *x = t->nodes[a].val, *y = t->nodes[b].val;
    size_t inner = (size_t)d[2] * d[3];
    if (t->nodes[b].n == n->n) {
        NN_PAR_FOR(n->n)
        for (size_t i = 0; i < n->n; i++) n->val[i] = x[i] + y[i];
    } else {
        NN_PAR_FOR(n->n)
        for (size_t i = 0; i < n->n; i++) n->val[i] = x[i] + y[i / inner];
    }
    n->backward = add_bw;
    return o;
}

int ag_add(ag_tape *t, int a, int b) { return add_op(t, a, b, 0); }
int ag_add_into(ag_tape *t, int a, int b) { return add_op(t, a, b, 1); }


/* ---- mul (same shape) ---- */

static void mul_bw(ag_tape *t, ag_node *n)
{
    for (int k = 0; k < 2; k++) {
        if (!ag_needs(t, n->in[k])) continue;
        float *g = ag_grad(t, n->in[k]);
        const float *other = IN(n, 1 - k)->val;
        if (g) {
            NN_PAR_FOR(n->n)
            for (size_t i = 0; i < n->n; i++) g[i] += n->grad[i] * other[i];
        }
    }
}

int ag_mul(ag_tape *t, int a, int b)
{
    if (a < 0 || b < 0) return -1;
    if ((b = ag_layout_like(t, b, a)) < 0) return -1;
    int in[2] = {a, b};
    const int *d = t->nodes[a].dims;
    int o = ag_new(t, d[0], d[1], d[2], d[3], in, 2);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    NN_PAR_FOR(n->n)
    for (size_t i = 0; i < n->n; i++) n->val[i] = t->nodes[a].val[i] * t->nodes[b].val[i];
    n->backward = mul_bw;
    return o;
}

/* ---- scale ---- */

static void scale_bw(ag_tape *t, ag_node *n)
{
    float *g = ag_grad(t, n->in[0]);
    if (g) {
        NN_PAR_FOR(n->n)
        for (size_t i = 0; i < n->n; i++) g[i] += n->grad[i] * n->fp[0];
    }
}

static int scale_op(ag_tape *t, int a, float s, int over)
{
    int o = unary_op(t, a, scale_bw, over);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    n->fp[0] = s;
    NN_PAR_FOR(n->n)
    for (size_t i = 0; i < n->n; i++) n->val[i] = t->nodes[a].val[i] * s;
    return o;
}

int ag_scale(ag_tape *t, int a, float s) { return scale_op(t, a, s, 0); }
int ag_scale_into(ag_tape *t, int a, float s) { return scale_op(t, a, s, 1); }

/* ---- mask [B, T] broadcast over C and W ---- */

static float mask_at(const ag_node *n, const float *mask, size_t i)
{
    size_t W = (size_t)n->dims[3], T = (size_t)n->dims[2], C = (size_t)n->dims[1];
    size_t tt = (i / W) % T, b = i / (W * T * C);
    return mask[b * T + tt];
}

static void mask_bw(ag_tape *t, ag_node *n)
{
    float *g = ag_grad(t, n->in[0]);
    if (g) {
        NN_PAR_FOR(n->n)
        for (size_t i = 0; i < n->n; i++) g[i] += n->grad[i] * mask_at(n, n->aux, i);
    }
}

int ag_mask(ag_tape *t, int a, const float *mask)
{
    AG_PLAIN(t, a);
    int o = unary(t, a, mask_bw);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    size_t m = (size_t)n->dims[0] * n->dims[2];
    n->aux = malloc(sizeof(float) * m);
    if (!n->aux) { t->failed = 1; return -1; }
    memcpy(n->aux, mask, sizeof(float) * m);
    NN_PAR_FOR(n->n)
    for (size_t i = 0; i < n->n; i++) n->val[i] = t->nodes[a].val[i] * mask_at(n, mask, i);
    return o;
}

/* ---- pointwise nonlinearities: backward from the saved output (or input) ---- */

static void exp_bw(ag_tape *t, ag_node *n)
{
    float *g = ag_grad(t, n->in[0]);
    if (g) {
        NN_PAR_FOR(n->n)
        for (size_t i = 0; i < n->n; i++) g[i] += n->grad[i] * n->val[i];
    }
}

int ag_exp(ag_tape *t, int a)
{
    int o = unary(t, a, exp_bw);
    if (o >= 0) {
        NN_PAR_FOR(t->nodes[o].n)
        for (size_t i = 0; i < t->nodes[o].n; i++) t->nodes[o].val[i] = expf(t->nodes[a].val[i]);
    }
    return o;
}

static void tanh_bw(ag_tape *t, ag_node *n)
{
    float *g = ag_grad(t, n->in[0]);
    if (g) {
        NN_PAR_FOR(n->n)
        for (size_t i = 0; i < n->n; i++) g[i] += n->grad[i] * (1.0f - n->val[i] * n->val[i]);
    }
}

int ag_tanh(ag_tape *t, int a)
{
    int o = unary(t, a, tanh_bw);
    if (o >= 0) {
        NN_PAR_FOR(t->nodes[o].n)
        for (size_t i = 0; i < t->nodes[o].n; i++) t->nodes[o].val[i] = tanhf(t->nodes[a].val[i]);
    }
    return o;
}

static void leaky_bw(ag_tape *t, ag_node *n)
{
    float *g = ag_grad(t, n->in[0]);
    const float *x = IN(n, 0)->val;
    if (g) {
        NN_PAR_FOR(n->n)
        for (size_t i = 0; i < n->n; i++) g[i] += x[i] > 0 ? n->grad[i] : n->grad[i] * n->fp[0];
    }
}

static int leaky_op(ag_tape *t, int a, float slope, int over)
{
    int o = unary_op(t, a, leaky_bw, over);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    n->fp[0] = slope;
    const float *x = t->nodes[a].val;
    NN_PAR_FOR(n->n)
    for (size_t i = 0; i < n->n; i++) n->val[i] = x[i] > 0 ? x[i] : x[i] * slope;
    return o;
}

int ag_leaky_relu(ag_tape *t, int a, float slope) { return leaky_op(t, a, slope, 0); }
int ag_relu(ag_tape *t, int a) { return ag_leaky_relu(t, a, 0.0f); }

/* leaky_bw reads its input's values: here they are the output's, whose sign is the input's. */
int ag_leaky_relu_into(ag_tape *t, int a, float slope)
{
    assert(slope >= 0.0f);
    return leaky_op(t, a, slope, 1);
}

/* ---- WaveNet gate: tanh(first half of C) · sigmoid(second half) ---- */

static void gate_bw(ag_tape *t, ag_node *n)
{
    float *g = ag_grad(t, n->in[0]);
    if (!g) return;
    const float *x = IN(n, 0)->val;
    size_t half = (size_t)n->dims[1] * n->dims[2] * n->dims[3];
    NN_PAR_FOR(n->n)
    for (size_t i = 0; i < n->n; i++) {
        size_t b = i / half, r = i % half, ia = b * 2 * half + r, ib = ia + half;
        float th = tanhf(x[ia]), sg = 1.0f / (1.0f + expf(-x[ib]));
        g[ia] += n->grad[i] * (1.0f - th * th) * sg;
        g[ib] += n->grad[i] * th * sg * (1.0f - sg);
    }
}

int ag_gate(ag_tape *t, int a)
{
    AG_PLAIN(t, a);
    if (a < 0) return -1;
    const int *d = t->nodes[a].dims;
    int o = ag_new(t, d[0], d[1] / 2, d[2], d[3], &a, 1);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    const float *x = t->nodes[a].val;
    size_t half = (size_t)n->dims[1] * n->dims[2] * n->dims[3];
    NN_PAR_FOR(n->n)
    for (size_t i = 0; i < n->n; i++) {
        size_t b = i / half, r = i % half, ia = b * 2 * half + r;
        n->val[i] = tanhf(x[ia]) * (1.0f / (1.0f + expf(-x[ia + half])));
    }
    n->backward = gate_bw;
    return o;
}

/* ---- channel slicing, concatenation, flipping: index maps out → in ---- */

typedef size_t (*index_map)(const ag_node *n, size_t i, int *which);

static size_t slice_c_map(const ag_node *n, size_t i, int *which)
{
    size_t inner = (size_t)n->dims[2] * n->dims[3], C = (size_t)n->dims[1], Cin = (size_t)n->ip[1];
    size_t b = i / (C * inner), c = (i / inner) % C, r = i % inner;
    *which = 0;
    return (b * Cin + c + (size_t)n->ip[0]) * inner + r;
}

static size_t concat_c_map(const ag_node *n, size_t i, int *which)
{
    size_t inner = (size_t)n->dims[2] * n->dims[3], C = (size_t)n->dims[1], Ca = (size_t)n->ip[0], Cb = C - Ca;
    size_t b = i / (C * inner), c = (i / inner) % C, r = i % inner;
    *which = c >= Ca;
    return c < Ca ? (b * Ca + c) * inner + r : (b * Cb + c - Ca) * inner + r;
}

static size_t flip_c_map(const ag_node *n, size_t i, int *which)
{
    size_t inner = (size_t)n->dims[2] * n->dims[3], C = (size_t)n->dims[1];
    size_t b = i / (C * inner), c = (i / inner) % C, r = i % inner;
    *which = 0;
    return (b * C + (C - 1 - c)) * inner + r;
}

static size_t slice_t_map(const ag_node *n, size_t i, int *which)
{
    const int64_t *starts = n->aux;
    size_t W = (size_t)n->dims[3], T = (size_t)n->dims[2], C = (size_t)n->dims[1], Tin = (size_t)n->ip[0];
    size_t w = i % W, tt = (i / W) % T, bc = i / (W * T), b = bc / C;
    *which = 0;
    return (bc * Tin + tt + (size_t)starts[b]) * W + w;
}

static size_t reflect_map(const ag_node *n, size_t i, int *which)
{
    size_t T = (size_t)n->dims[2], Tin = (size_t)n->ip[1];
    long left = n->ip[0];
    size_t bc = i / T;
    long s = (long)(i % T) - left;
    if (s < 0) s = -s;
    if (s >= (long)Tin) s = 2 * ((long)Tin - 1) - s;
    *which = 0;
    return bc * Tin + (size_t)s;
}

static size_t identity_map(const ag_node *n, size_t i, int *which)
{
    (void)n;
    *which = 0;
    return i;
}

static const index_map MAPS[] = {slice_c_map, concat_c_map, flip_c_map, slice_t_map, reflect_map, identity_map};
enum { MAP_SLICE_C, MAP_CONCAT_C, MAP_FLIP_C, MAP_SLICE_T, MAP_REFLECT, MAP_IDENTITY };

static void gather_bw(ag_tape *t, ag_node *n)
{
    index_map map = MAPS[n->ip[7]];
    float *g[2] = {ag_needs(t, n->in[0]) ? ag_grad(t, n->in[0]) : NULL,
                   n->in[1] >= 0 && ag_needs(t, n->in[1]) ? ag_grad(t, n->in[1]) : NULL};
    /* Each map sends distinct outputs to distinct inputs, except reflection padding (a padded
     * sample and its mirror share one input): that one adds serially. */
    NN_PAR_FOR(n->ip[7] == MAP_REFLECT ? 0 : n->n)
    for (size_t i = 0; i < n->n; i++) {
        int which;
        size_t j = map(n, i, &which);
        if (g[which]) g[which][j] += n->grad[i];
    }
}

static void gather_fw(ag_tape *t, ag_node *n)
{
    index_map map = MAPS[n->ip[7]];
    const float *src[2] = {IN(n, 0)->val, n->in[1] >= 0 ? IN(n, 1)->val : NULL};
    NN_PAR_FOR(n->n)
    for (size_t i = 0; i < n->n; i++) {
        int which;
        size_t j = map(n, i, &which);
        n->val[i] = src[which][j];
    }
    n->backward = gather_bw;
}

static int gather(ag_tape *t, int a, int b, const int *dims, int kind, int p0, int p1)
{
    if (a < 0) return -1;
    int in[2] = {a, b};
    int o = ag_new(t, dims[0], dims[1], dims[2], dims[3], in, b >= 0 ? 2 : 1);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    n->ip[0] = p0;
    n->ip[1] = p1;
    n->ip[7] = kind;
    return o;
}

int ag_slice_c(ag_tape *t, int a, int c0, int c1)
{
    AG_PLAIN(t, a);
    if (a < 0) return -1;
    const int *d = t->nodes[a].dims;
    int dims[4] = {d[0], c1 - c0, d[2], d[3]};
    int o = gather(t, a, -1, dims, MAP_SLICE_C, c0, d[1]);
    if (o >= 0) gather_fw(t, &t->nodes[o]);
    return o;
}

int ag_concat_c(ag_tape *t, int a, int b)
{
    AG_PLAIN(t, a);
    AG_PLAIN(t, b);
    if (a < 0 || b < 0) return -1;
    const int *d = t->nodes[a].dims;
    int dims[4] = {d[0], d[1] + t->nodes[b].dims[1], d[2], d[3]};
    int o = gather(t, a, b, dims, MAP_CONCAT_C, d[1], 0);
    if (o >= 0) gather_fw(t, &t->nodes[o]);
    return o;
}

int ag_flip_c(ag_tape *t, int a)
{
    AG_PLAIN(t, a);
    if (a < 0) return -1;
    int o = gather(t, a, -1, t->nodes[a].dims, MAP_FLIP_C, 0, 0);
    if (o >= 0) gather_fw(t, &t->nodes[o]);
    return o;
}

int ag_slice_t(ag_tape *t, int a, const int64_t *starts, int len)
{
    AG_PLAIN(t, a);
    if (a < 0) return -1;
    const int *d = t->nodes[a].dims;
    int dims[4] = {d[0], d[1], len, d[3]};
    int o = gather(t, a, -1, dims, MAP_SLICE_T, d[2], 0);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    n->aux = malloc(sizeof(int64_t) * (size_t)dims[0]);
    if (!n->aux) { t->failed = 1; return -1; }
    memcpy(n->aux, starts, sizeof(int64_t) * (size_t)dims[0]);
    gather_fw(t, n);
    return o;
}

int ag_reflect_pad_t(ag_tape *t, int a, int left, int right)
{
    AG_PLAIN(t, a);
    if (a < 0) return -1;
    const int *d = t->nodes[a].dims;
    int dims[4] = {d[0], d[1], d[2] + left + right, 1};
    int o = gather(t, a, -1, dims, MAP_REFLECT, left, d[2]);
    if (o >= 0) gather_fw(t, &t->nodes[o]);
    return o;
}

int ag_reshape(ag_tape *t, int a, int B, int C, int T, int W)
{
    AG_PLAIN(t, a);
    if (a < 0) return -1;
    int dims[4] = {B, C, T, W};
    int o = gather(t, a, -1, dims, MAP_IDENTITY, 0, 0);
    if (o >= 0) gather_fw(t, &t->nodes[o]);
    return o;
}

/* ---- embedding: table [N, D] rows picked by idx[B·T], written channel-major [B, D, T] ---- */

static void embedding_bw(ag_tape *t, ag_node *n)
{
    float *g = ag_grad(t, n->in[0]);
    const int64_t *idx = n->aux;
    int B = n->dims[0], D = n->dims[1], T = n->dims[2];
    if (!g) return;
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++)
            for (int k = 0; k < T; k++) g[idx[b * T + k] * D + d] += n->grad[((size_t)b * D + d) * T + k];
}

int ag_embedding(ag_tape *t, int table, const int64_t *idx, int B, int T)
{
    if (table < 0) return -1;
    int D = t->nodes[table].dims[1];
    int o = ag_new(t, B, D, T, 1, &table, 1);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    n->aux = malloc(sizeof(int64_t) * (size_t)B * T);
    if (!n->aux) { t->failed = 1; return -1; }
    memcpy(n->aux, idx, sizeof(int64_t) * (size_t)B * T);
    const float *w = t->nodes[table].val;
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++)
            for (int k = 0; k < T; k++) n->val[((size_t)b * D + d) * T + k] = w[idx[b * T + k] * D + d];
    n->backward = embedding_bw;
    return o;
}
