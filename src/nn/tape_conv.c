/*
 * Convolution tape ops (see tape.h): Conv1d along T with stride, dilation, asymmetric zero
 * padding and groups, applied to every column W independently (so a (K,1) Conv2d over
 * DiscriminatorP's [B, C, T/p, p] view is the same op); ConvTranspose1d; weight norm.
 * The forward and both backwards of each convolution share one loop over (output, input)
 * index pairs, so the three can never disagree about which samples meet which taps.
 */
#include "nn/tape.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { PASS_FWD, PASS_DX, PASS_DW };

/* The operands of one pass. Accumulation targets are double (the sum over input channels and
 * taps, or over output positions, is long: 1025 spectrogram bins in the posterior encoder);
 * the caller rounds them to float once at the end. */
typedef struct conv_io {
    const float *y, *x; /* output (FWD: unused) or its gradient; input */
    double *acc;        /* FWD: output [.. y]; DX: input gradient [.. x] */
    float *gw;          /* DW: weight gradient */
    const float *w;     /* FWD, DX: weights */
} conv_io;

/* One tap over a run of `len` positions: y at yo, x at xo, steps sy and sx (in floats), W columns each. */
static void tap_run(int pass, const conv_io *io, size_t wi, size_t yo, size_t xo, int len, int sy, int sx, int W)
{
    double dw = 0;
    for (int i = 0; i < len; i++) {
        size_t yi = yo + (size_t)i * sy, xi = xo + (size_t)i * sx;
        if (pass == PASS_FWD) for (int w = 0; w < W; w++) io->acc[yi + w] += (double)io->w[wi] * io->x[xi + w];
        else if (pass == PASS_DX) for (int w = 0; w < W; w++) io->acc[xi + w] += (double)io->w[wi] * io->y[yi + w];
        else for (int w = 0; w < W; w++) dw += (double)io->y[yi + w] * io->x[xi + w];
    }
    if (pass == PASS_DW) io->gw[wi] += (float)dw;
}

/* acc (n doubles) rounded into dst: dst = acc (set) or dst += acc. */
static void flush(float *dst, const double *acc, size_t n, int add)
{
    for (size_t i = 0; i < n; i++) dst[i] = add ? (float)(dst[i] + acc[i]) : (float)acc[i];
}

/* ---- Conv1d ---- */

typedef struct conv_geom { int B, cin, cout, cin_g, cout_g, T, Tout, W, K; ag_conv_desc d; } conv_geom;

/* Output positions [lo, hi) whose input index to·stride + off lies inside [0, T). */
static void valid_range(const conv_geom *g, int off, int *lo, int *hi)
{
    int s = g->d.stride;
    *lo = off >= 0 ? 0 : (-off + s - 1) / s;
    int last = g->T - 1 - off;
    *hi = last < 0 ? 0 : last / s + 1;
    if (*hi > g->Tout) *hi = g->Tout;
    if (*lo > *hi) *lo = *hi;
}

static void conv_pass(const conv_geom *g, int pass, const conv_io *io)
{
    size_t W = (size_t)g->W;
    for (int b = 0; b < g->B; b++)
        for (int oc = 0; oc < g->cout; oc++) {
            int grp = oc / g->cout_g;
            size_t yrow = ((size_t)b * g->cout + oc) * g->Tout * W;
            for (int il = 0; il < g->cin_g; il++) {
                size_t xrow = ((size_t)b * g->cin + grp * g->cin_g + il) * g->T * W;
                for (int k = 0; k < g->K; k++) {
                    size_t wi = ((size_t)oc * g->cin_g + il) * g->K + k;
                    int off = k * g->d.dilation - g->d.pad_left, lo, hi;
                    valid_range(g, off, &lo, &hi);
                    if (hi > lo)
                        tap_run(pass, io, wi, yrow + (size_t)lo * W, xrow + ((size_t)lo * g->d.stride + off) * W, hi - lo,
                                (int)W, g->d.stride * (int)W, (int)W);
                }
            }
        }
}

static void conv_geom_of(ag_tape *t, const ag_node *n, conv_geom *g)
{
    const ag_node *x = &t->nodes[n->in[0]], *w = &t->nodes[n->in[1]];
    g->B = x->dims[0]; g->cin = x->dims[1]; g->T = x->dims[2]; g->W = x->dims[3];
    g->cout = w->dims[0]; g->cin_g = w->dims[1]; g->K = w->dims[2];
    memcpy(&g->d, n->aux, sizeof g->d);
    int groups = g->cin / g->cin_g;
    g->cout_g = g->cout / groups;
    g->Tout = n->dims[2];
}

static void bias_bw(ag_tape *t, const ag_node *n)
{
    if (!ag_needs(t, n->in[2])) return;
    float *gb = ag_grad(t, n->in[2]);
    size_t inner = (size_t)n->dims[2] * n->dims[3];
    if (!gb) return;
    for (int b = 0; b < n->dims[0]; b++)
        for (int c = 0; c < n->dims[1]; c++) {
            const float *r = n->grad + ((size_t)b * n->dims[1] + c) * inner;
            float s = 0;
            for (size_t i = 0; i < inner; i++) s += r[i];
            gb[c] += s;
        }
}

/* Input gradient of a convolution pass through a double buffer of the input's size. */
static void dx_through_double(ag_tape *t, ag_node *n, void (*pass)(ag_tape *, ag_node *, const conv_io *))
{
    ag_node *x = &t->nodes[n->in[0]];
    float *gx = ag_grad(t, n->in[0]);
    double *acc = calloc(x->n ? x->n : 1, sizeof(double));
    if (!gx || !acc) { free(acc); t->failed = 1; return; }
    conv_io io = {.y = n->grad, .acc = acc, .w = t->nodes[n->in[1]].val};
    pass(t, n, &io);
    flush(gx, acc, x->n, 1);
    free(acc);
}

static void conv_run(ag_tape *t, ag_node *n, int pass, const conv_io *io)
{
    conv_geom g;
    conv_geom_of(t, n, &g);
    conv_pass(&g, pass, io);
}

static void conv_dx(ag_tape *t, ag_node *n, const conv_io *io) { conv_run(t, n, PASS_DX, io); }

static void conv_bw(ag_tape *t, ag_node *n)
{
    if (ag_needs(t, n->in[0])) dx_through_double(t, n, conv_dx);
    if (ag_needs(t, n->in[1])) {
        conv_io io = {.y = n->grad, .x = t->nodes[n->in[0]].val, .gw = ag_grad(t, n->in[1])};
        if (io.gw) conv_run(t, n, PASS_DW, &io);
    }
    bias_bw(t, n);
}

/* Output of a convolution pass through a double buffer of the output's size. */
static int forward_through_double(ag_tape *t, ag_node *n, void (*run)(ag_tape *, ag_node *, int, const conv_io *))
{
    double *acc = calloc(n->n ? n->n : 1, sizeof(double));
    if (!acc) { t->failed = 1; return -1; }
    conv_io io = {.x = t->nodes[n->in[0]].val, .acc = acc, .w = t->nodes[n->in[1]].val};
    run(t, n, PASS_FWD, &io);
    flush(n->val, acc, n->n, 0);
    free(acc);
    return 0;
}

static void add_bias(ag_node *n, const float *bias)
{
    size_t inner = (size_t)n->dims[2] * n->dims[3];
    for (int b = 0; b < n->dims[0]; b++)
        for (int c = 0; c < n->dims[1]; c++) {
            float *r = n->val + ((size_t)b * n->dims[1] + c) * inner;
            for (size_t i = 0; i < inner; i++) r[i] += bias[c];
        }
}

int ag_conv(ag_tape *t, int x, int w, int b, const ag_conv_desc *d)
{
    if (x < 0 || w < 0) return -1;
    const ag_node *xn = &t->nodes[x], *wn = &t->nodes[w];
    int K = wn->dims[2];
    int Tout = (xn->dims[2] + d->pad_left + d->pad_right - d->dilation * (K - 1) - 1) / d->stride + 1;
    int in[3] = {x, w, b};
    int o = ag_new(t, xn->dims[0], wn->dims[0], Tout, xn->dims[3], in, 3);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    n->aux = malloc(sizeof *d);
    if (!n->aux) { t->failed = 1; return -1; }
    memcpy(n->aux, d, sizeof *d);
    if (forward_through_double(t, n, conv_run)) return -1;
    if (b >= 0) add_bias(n, t->nodes[b].val);
    n->backward = conv_bw;
    return o;
}

/* ---- ConvTranspose1d: out[ti·s + k − pad] += x[ti] · w[ic, oc, k] ---- */

static void convt_run(ag_tape *t, ag_node *n, int pass, const conv_io *io)
{
    const ag_node *xn = &t->nodes[n->in[0]];
    int B = xn->dims[0], cin = xn->dims[1], T = xn->dims[2], cout = n->dims[1], Tout = n->dims[2];
    int K = t->nodes[n->in[1]].dims[2], s = n->ip[0], p = n->ip[1];
    for (int b = 0; b < B; b++)
        for (int ic = 0; ic < cin; ic++) {
            size_t xrow = ((size_t)b * cin + ic) * T;
            for (int oc = 0; oc < cout; oc++) {
                size_t yrow = ((size_t)b * cout + oc) * Tout;
                for (int k = 0; k < K; k++) {
                    int off = k - p; /* to = ti·s + off */
                    int lo = off >= 0 ? 0 : (-off + s - 1) / s, last = Tout - 1 - off;
                    int hi = last < 0 ? 0 : last / s + 1;
                    if (hi > T) hi = T;
                    if (hi > lo)
                        tap_run(pass, io, ((size_t)ic * cout + oc) * K + k, yrow + (size_t)lo * s + off, xrow + lo, hi - lo,
                                s, 1, 1);
                }
            }
        }
}

static void convt_dx(ag_tape *t, ag_node *n, const conv_io *io) { convt_run(t, n, PASS_DX, io); }

static void convt_bw(ag_tape *t, ag_node *n)
{
    if (ag_needs(t, n->in[0])) dx_through_double(t, n, convt_dx);
    if (ag_needs(t, n->in[1])) {
        conv_io io = {.y = n->grad, .x = t->nodes[n->in[0]].val, .gw = ag_grad(t, n->in[1])};
        if (io.gw) convt_run(t, n, PASS_DW, &io);
    }
    bias_bw(t, n);
}

int ag_conv_transpose(ag_tape *t, int x, int w, int b, int stride, int pad)
{
    if (x < 0 || w < 0) return -1;
    const ag_node *xn = &t->nodes[x], *wn = &t->nodes[w];
    int Tout = (xn->dims[2] - 1) * stride - 2 * pad + wn->dims[2];
    int in[3] = {x, w, b};
    int o = ag_new(t, xn->dims[0], wn->dims[1], Tout, 1, in, 3);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    n->ip[0] = stride;
    n->ip[1] = pad;
    if (forward_through_double(t, n, convt_run)) return -1;
    if (b >= 0) add_bias(n, t->nodes[b].val);
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
    for (int r = 0; r < O; r++) {
        double s = 0;
        for (size_t i = 0; i < R; i++) s += (double)vv[(size_t)r * R + i] * vv[(size_t)r * R + i];
        norms[r] = (float)sqrt(s);
        for (size_t i = 0; i < R; i++) n->val[(size_t)r * R + i] = gv[r] * vv[(size_t)r * R + i] / norms[r];
    }
    n->backward = weight_norm_bw;
    return o;
}
