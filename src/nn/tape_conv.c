/*
 * Convolution tape ops (see tape.h): Conv1d along T with stride, dilation, asymmetric zero
 * padding and groups, applied to every column W independently (so a (K,1) Conv2d over
 * DiscriminatorP's [B, C, T/p, p] view is the same op); ConvTranspose1d; weight norm.
 * All of them run on sgemm: per tap over shifted views for stride-1 single-group convolutions,
 * through im2col / col2im otherwise.
 */
#include "nn/tape.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- Conv1d through im2col + sgemm ----
 * Per batch item and group, the taps of every output position become the columns of a matrix
 * (cols [cin_g·K, Tout·W]), so the forward pass and both backwards are one sgemm each:
 *   y = W·cols,   gW += gy·colsᵀ,   gcols = Wᵀ·gy (then scattered back onto gx).
 * This is what PyTorch's CPU convolution does too, so float32 sums come out in the same class
 * of rounding as the reference's (the golden training step checks it). */

typedef struct conv_geom { int B, cin, cout, cin_g, cout_g, groups, T, Tout, W, K; ag_conv_desc d; } conv_geom;

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

static void conv_geom_of(ag_tape *t, const ag_node *n, conv_geom *g)
{
    const ag_node *x = &t->nodes[n->in[0]], *w = &t->nodes[n->in[1]];
    g->B = x->dims[0]; g->cin = x->dims[1]; g->T = x->dims[2]; g->W = x->dims[3];
    g->cout = w->dims[0]; g->cin_g = w->dims[1]; g->K = w->dims[2];
    memcpy(&g->d, n->aux, sizeof g->d);
    g->groups = g->cin / g->cin_g;
    g->cout_g = g->cout / g->groups;
    g->Tout = n->dims[2];
}

/* Copies (add = 0) x's taps into cols, or adds (add = 1) cols back onto x: the two directions
 * of im2col share one loop, so they can never disagree about which sample is which tap. */
static void im2col_dir(const conv_geom *g, float *x, int b, int grp, float *cols, int add)
{
    size_t W = (size_t)g->W, N = (size_t)g->Tout * W;
    for (int il = 0; il < g->cin_g; il++) {
        float *xr = x + ((size_t)b * g->cin + (size_t)grp * g->cin_g + il) * (size_t)g->T * W;
        for (int k = 0; k < g->K; k++) {
            float *row = cols + ((size_t)il * g->K + k) * N;
            int off = k * g->d.dilation - g->d.pad_left, lo, hi;
            valid_range(g, off, &lo, &hi);
            if (!add) {
                memset(row, 0, sizeof(float) * (size_t)lo * W);
                memset(row + (size_t)hi * W, 0, sizeof(float) * (size_t)(g->Tout - hi) * W);
            }
            for (int to = lo; to < hi; to++) {
                float *c = row + (size_t)to * W, *xv = xr + ((size_t)to * g->d.stride + off) * W;
                for (size_t w = 0; w < W; w++) {
                    if (add) xv[w] += c[w];
                    else c[w] = xv[w];
                }
            }
        }
    }
}

enum { PASS_FWD, PASS_BWD };

/* One pass over all (batch, group) blocks; cols is scratch of cin_g·K·Tout·W floats. */
static void conv_blocks(ag_tape *t, ag_node *n, const conv_geom *g, int pass, float *cols)
{
    const ag_node *xn = &t->nodes[n->in[0]], *wn = &t->nodes[n->in[1]];
    int M = g->cout_g, Kd = g->cin_g * g->K, N = g->Tout * g->W;
    int need_x = pass == PASS_BWD && ag_needs(t, n->in[0]), need_w = pass == PASS_BWD && ag_needs(t, n->in[1]);
    float *gx = need_x ? ag_grad(t, n->in[0]) : NULL, *gw = need_w ? ag_grad(t, n->in[1]) : NULL;
    for (int b = 0; b < g->B; b++)
        for (int grp = 0; grp < g->groups; grp++) {
            const float *wb = wn->val + (size_t)grp * M * Kd;
            size_t yoff = ((size_t)b * g->cout + (size_t)grp * M) * N;
            if (pass == PASS_FWD || gw) {
                im2col_dir(g, xn->val, b, grp, cols, 0);
                if (pass == PASS_FWD)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, Kd, 1.0f, wb, Kd, cols, N, 0.0f, n->val + yoff, N);
                else
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, Kd, N, 1.0f, n->grad + yoff, N, cols, N, 1.0f,
                                gw + (size_t)grp * M * Kd, Kd);
            }
            if (gx) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Kd, N, M, 1.0f, wb, Kd, n->grad + yoff, N, 0.0f, cols, N);
                im2col_dir(g, gx, b, grp, cols, 1);
            }
        }
}

/* ---- stride-1, single-group convolutions: one sgemm per tap, no im2col ----
 * With stride 1 the input a tap reads is the input itself shifted by the tap's offset, so each
 * tap is a product over a plain view: y[:, lo:hi] += W_k · x[:, lo+off:hi+off], with (position,
 * column) flattened (a row is T·W contiguous floats; a shift of off positions is off·W floats).
 * Most of the decoder's convolutions (32–256 channels over up to 17 280 samples) are of this kind;
 * there an im2col copy would cost as much as the product. W_k needs the weights tap-major. */
static int tap_major(const conv_geom *g, const float *w, float **out)
{
    size_t cc = (size_t)g->cout * g->cin;
    float *tm = malloc(sizeof(float) * (cc * g->K + 1));
    if (!tm) return -1;
    for (size_t oi = 0; oi < cc; oi++)
        for (int k = 0; k < g->K; k++) tm[(size_t)k * cc + oi] = w[oi * g->K + k];
    *out = tm;
    return 0;
}

static void taps_blocks(ag_tape *t, ag_node *n, const conv_geom *g, int pass, const float *wt, float *gwt)
{
    const float *x = t->nodes[n->in[0]].val;
    float *gx = pass == PASS_BWD && ag_needs(t, n->in[0]) ? ag_grad(t, n->in[0]) : NULL;
    int W = g->W, M = g->cout, C = g->cin, T = g->T * W, To = g->Tout * W;
    for (int b = 0; b < g->B; b++) {
        const float *xb = x + (size_t)b * C * T;
        float *yb = (pass == PASS_FWD ? n->val : n->grad) + (size_t)b * M * To;
        if (pass == PASS_FWD) memset(yb, 0, sizeof(float) * (size_t)M * To);
        for (int k = 0; k < g->K; k++) {
            int off = k * g->d.dilation - g->d.pad_left, lo, hi;
            valid_range(g, off, &lo, &hi);
            if (hi <= lo) continue;
            const float *wk = wt + (size_t)k * M * C;
            lo *= W, hi *= W, off *= W; /* positions → flattened (position, column) indices */
            if (pass == PASS_FWD)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, hi - lo, C, 1.0f, wk, C, xb + lo + off, T, 1.0f,
                            yb + lo, To);
            if (gx)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, hi - lo, M, 1.0f, wk, C, yb + lo, To, 1.0f,
                            gx + (size_t)b * C * T + lo + off, T);
            if (gwt)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, C, hi - lo, 1.0f, yb + lo, To, xb + lo + off, T, 1.0f,
                            gwt + (size_t)k * M * C, C);
        }
    }
}

static int taps_pass(ag_tape *t, ag_node *n, const conv_geom *g, int pass)
{
    float *wt = NULL, *gwt = NULL;
    int need_w = pass == PASS_BWD && ag_needs(t, n->in[1]);
    float *gw = need_w ? ag_grad(t, n->in[1]) : NULL;
    size_t cc = (size_t)g->cout * g->cin;
    if (tap_major(g, t->nodes[n->in[1]].val, &wt) || (gw && !(gwt = calloc(cc * g->K + 1, sizeof(float))))) {
        free(wt);
        t->failed = 1;
        return -1;
    }
    taps_blocks(t, n, g, pass, wt, gwt);
    for (size_t oi = 0; gwt && oi < cc; oi++)
        for (int k = 0; k < g->K; k++) gw[oi * g->K + k] += gwt[(size_t)k * cc + oi];
    free(wt);
    free(gwt);
    return 0;
}

static int conv_pass(ag_tape *t, ag_node *n, int pass)
{
    conv_geom g;
    conv_geom_of(t, n, &g);
    if (g.d.stride == 1 && g.groups == 1) return taps_pass(t, n, &g, pass);
    float *cols = malloc(sizeof(float) * ((size_t)g.cin_g * g.K * g.Tout * g.W + 1));
    if (!cols) { t->failed = 1; return -1; }
    conv_blocks(t, n, &g, pass, cols);
    free(cols);
    return 0;
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

static void conv_bw(ag_tape *t, ag_node *n)
{
    conv_pass(t, n, PASS_BWD);
    bias_bw(t, n);
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
    if (conv_pass(t, n, PASS_FWD)) return -1;
    if (b >= 0) add_bias(n, t->nodes[b].val);
    n->backward = conv_bw;
    return o;
}

/* ---- ConvTranspose1d: out[ti·s + k − pad] += x[ti] · w[ic, oc, k] ----
 * Per batch item: cols [cout·K, T] = wᵀ·x, scattered onto the output (col2im); backwards gather
 * the output gradient into the same layout and use two sgemms. */

typedef struct convt_geom { int cin, cout, T, Tout, K, s, p; } convt_geom;

/* Copies (gather = 1: cols ← y) or adds (gather = 0: y += cols) along the taps that land inside y. */
static void convt_cols(const convt_geom *g, float *y, float *cols, int gather)
{
    for (int oc = 0; oc < g->cout; oc++)
        for (int k = 0; k < g->K; k++) {
            float *c = cols + ((size_t)oc * g->K + k) * g->T, *yr = y + (size_t)oc * g->Tout;
            int off = k - g->p, lo = off >= 0 ? 0 : (-off + g->s - 1) / g->s, last = g->Tout - 1 - off;
            int hi = last < 0 ? 0 : last / g->s + 1;
            if (hi > g->T) hi = g->T;
            if (lo > hi) lo = hi;
            if (gather) {
                memset(c, 0, sizeof(float) * (size_t)lo);
                memset(c + hi, 0, sizeof(float) * (size_t)(g->T - hi));
            }
            for (int ti = lo; ti < hi; ti++) {
                if (gather) c[ti] = yr[(size_t)ti * g->s + off];
                else yr[(size_t)ti * g->s + off] += c[ti];
            }
        }
}

static int convt_pass(ag_tape *t, ag_node *n, int pass)
{
    const ag_node *xn = &t->nodes[n->in[0]], *wn = &t->nodes[n->in[1]];
    convt_geom g = {xn->dims[1], n->dims[1], xn->dims[2], n->dims[2], wn->dims[2], n->ip[0], n->ip[1]};
    int CK = g.cout * g.K;
    float *gx = pass == PASS_BWD && ag_needs(t, n->in[0]) ? ag_grad(t, n->in[0]) : NULL;
    float *gw = pass == PASS_BWD && ag_needs(t, n->in[1]) ? ag_grad(t, n->in[1]) : NULL;
    float *cols = malloc(sizeof(float) * ((size_t)CK * g.T + 1));
    if (!cols) { t->failed = 1; return -1; }
    for (int b = 0; b < xn->dims[0]; b++) {
        const float *xb = xn->val + (size_t)b * g.cin * g.T;
        size_t yoff = (size_t)b * g.cout * g.Tout;
        if (pass == PASS_FWD) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, CK, g.T, g.cin, 1.0f, wn->val, CK, xb, g.T, 0.0f, cols, g.T);
            memset(n->val + yoff, 0, sizeof(float) * (size_t)g.cout * g.Tout);
            convt_cols(&g, n->val + yoff, cols, 0);
            continue;
        }
        convt_cols(&g, n->grad + yoff, cols, 1);
        if (gx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g.cin, g.T, CK, 1.0f, wn->val, CK, cols, g.T, 1.0f,
                            gx + (size_t)b * g.cin * g.T, g.T);
        if (gw) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g.cin, CK, g.T, 1.0f, xb, g.T, cols, g.T, 1.0f, gw, CK);
    }
    free(cols);
    return 0;
}

static void convt_bw(ag_tape *t, ag_node *n)
{
    convt_pass(t, n, PASS_BWD);
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
    if (convt_pass(t, n, PASS_FWD)) return -1;
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
