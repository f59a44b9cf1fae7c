/*
 * Sequence tape ops (see tape.h): layer norm over channels (VITS's LayerNorm on [B, C, T])
 * and VITS relative-position self-attention with a length mask, each followed by its backward.
 * Shapes are channel-major [B, C, T]; attention heads split C into heads × kc.
 */
#include "nn/tape.h"
#include "nn/par.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- layer norm over C; aux = [B·T] mean, [B·T] rstd ---- */

#define AT(p, b, c, k) (p)[((size_t)(b) * C + (c)) * T + (k)]

static void layer_norm_bw(ag_tape *t, ag_node *n)
{
    int B = n->dims[0], C = n->dims[1], T = n->dims[2];
    const float *x = t->nodes[n->in[0]].val, *gamma = t->nodes[n->in[1]].val, *stats = n->aux;
    float *gx = ag_needs(t, n->in[0]) ? ag_grad(t, n->in[0]) : NULL;
    float *gg = ag_needs(t, n->in[1]) ? ag_grad(t, n->in[1]) : NULL;
    float *gb = ag_needs(t, n->in[2]) ? ag_grad(t, n->in[2]) : NULL;
    const float *dy = n->grad;
    /* gamma and beta: one thread per channel, summing positions in order */
    NN_PAR_FOR(gg || gb ? n->n : 0)
    for (int c = 0; c < C; c++)
        for (int b = 0; b < B; b++)
            for (int k = 0; k < T; k++) {
                float xh = (AT(x, b, c, k) - stats[b * T + k]) * stats[B * T + b * T + k];
                if (gg) gg[c] += AT(dy, b, c, k) * xh;
                if (gb) gb[c] += AT(dy, b, c, k);
            }
    if (!gx) return;
    /* x: one thread per position */
    NN_PAR_FOR(n->n)
    for (int bk = 0; bk < B * T; bk++) {
        int b = bk / T, k = bk % T;
        float mean = stats[b * T + k], rstd = stats[B * T + b * T + k];
        double s1 = 0, s2 = 0;
        for (int c = 0; c < C; c++) {
            float xh = (AT(x, b, c, k) - mean) * rstd, dxh = AT(dy, b, c, k) * gamma[c];
            s1 += dxh;
            s2 += (double)dxh * xh;
        }
        float m1 = (float)(s1 / C), m2 = (float)(s2 / C);
        for (int c = 0; c < C; c++) {
            float xh = (AT(x, b, c, k) - mean) * rstd, dxh = AT(dy, b, c, k) * gamma[c];
            AT(gx, b, c, k) += rstd * (dxh - m1 - xh * m2);
        }
    }
}

int ag_layer_norm_c(ag_tape *t, int x, int gamma, int beta, float eps)
{
    AG_PLAIN(t, x);
    if (x < 0 || gamma < 0 || beta < 0) return -1;
    const int *d = t->nodes[x].dims;
    int B = d[0], C = d[1], T = d[2];
    int in[3] = {x, gamma, beta};
    int o = ag_new(t, B, C, T, 1, in, 3);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    float *stats = malloc(sizeof(float) * 2 * (size_t)B * T);
    if (!stats) { t->failed = 1; return -1; }
    n->aux = stats;
    const float *xv = t->nodes[x].val, *g = t->nodes[gamma].val, *be = t->nodes[beta].val;
    NN_PAR_FOR((size_t)B * C * T)
    for (int bk = 0; bk < B * T; bk++) {
        int b = bk / T, k = bk % T;
        double s = 0, s2 = 0;
        for (int c = 0; c < C; c++) s += AT(xv, b, c, k);
        float mean = (float)(s / C);
        for (int c = 0; c < C; c++) s2 += (double)(AT(xv, b, c, k) - mean) * (AT(xv, b, c, k) - mean);
        float rstd = 1.0f / sqrtf((float)(s2 / C) + eps);
        stats[b * T + k] = mean;
        stats[B * T + b * T + k] = rstd;
        for (int c = 0; c < C; c++) AT(n->val, b, c, k) = (AT(xv, b, c, k) - mean) * rstd * g[c] + be[c];
    }
    n->backward = layer_norm_bw;
    return o;
}

/* ---- relative-position attention ---- */

typedef struct attn_saved {
    int heads, window;
    int64_t *lengths; /* [B] */
    float *p;         /* [B, heads, T, T] softmax probabilities */
} attn_saved;

typedef struct attn_view { /* one (batch, head): element m of position i is base[m·T + i] */
    const float *q, *k, *v;
    float *gq, *gk, *gv;
    int T, kc, len;
    size_t off; /* of this head's channels in the [B, C, T] values and gradients */
} attn_view;

static int rel(const attn_saved *s, int i, int j) { int d = j - i; return d >= -s->window && d <= s->window ? d + s->window : -1; }

/* The loops below work on one (batch, head) with its q, k, v and gradients transposed to
 * position-major rows of kc contiguous floats, so every inner loop is a contiguous dot product or
 * axpy over kc (vectorised) instead of a stride-T walk. */

static float dot(const float *a, const float *b, int n)
{
    float acc[8] = {0};
    int m = 0;
    for (; m + 8 <= n; m += 8)
        for (int l = 0; l < 8; l++) acc[l] += a[m + l] * b[m + l];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; m < n; m++) s += a[m] * b[m];
    return s;
}

static void axpy(float a, const float *x, float *y, int n)
{
    for (int m = 0; m < n; m++) y[m] += a * x[m];
}

/* dst[i·kc + m] = src[m·T + i] · scale */
static void to_rows(float *dst, const float *src, int T, int kc, float scale)
{
    for (int m = 0; m < kc; m++)
        for (int i = 0; i < T; i++) dst[(size_t)i * kc + m] = src[(size_t)m * T + i] * scale;
}

/* dst[m·T + i] += rows[i·kc + m] */
static void add_from_rows(float *dst, const float *rows, int T, int kc)
{
    for (int m = 0; m < kc; m++)
        for (int i = 0; i < T; i++) dst[(size_t)m * T + i] += rows[(size_t)i * kc + m];
}

typedef struct head_rows { /* one head's [T, kc] rows: scaled q, k, v, dout and the gradients */
    float *q, *k, *v, *d, *gq, *gk, *gv, *o, *dp;
} head_rows;

static int head_rows_alloc(head_rows *h, int T, int kc, int grads)
{
    size_t m = (size_t)T * kc;
    float *mem = calloc(m * (grads ? 7 : 3) + (size_t)kc * 2 + (size_t)T, sizeof(float));
    if (!mem) return -1;
    h->q = mem; h->k = mem + m; h->v = mem + 2 * m;
    h->d = grads ? mem + 3 * m : NULL;
    h->gq = grads ? mem + 4 * m : NULL; h->gk = grads ? mem + 5 * m : NULL; h->gv = grads ? mem + 6 * m : NULL;
    h->o = mem + m * (grads ? 7 : 3);
    h->dp = h->o + 2 * kc;
    return 0;
}

/* The head's q (times 1/√kc), k and v as rows. */
static void load_qkv(head_rows *h, const attn_view *a)
{
    to_rows(h->q, a->q, a->T, a->kc, 1.0f / sqrtf((float)a->kc));
    to_rows(h->k, a->k, a->T, a->kc, 1.0f);
    to_rows(h->v, a->v, a->T, a->kc, 1.0f);
}

static void attn_head_fwd(const attn_saved *s, const attn_view *a, const float *rk, const float *rv, float *p, float *out,
                          head_rows *h)
{
    int T = a->T, kc = a->kc;
    load_qkv(h, a);
    float *o = h->o, *r = h->o + kc;
    for (int i = 0; i < T; i++) {
        const float *qi = h->q + (size_t)i * kc;
        float *row = p + (size_t)i * T, mx = -INFINITY;
        for (int j = 0; j < T; j++) {
            int e = rel(s, i, j);
            float sc = dot(qi, h->k + (size_t)j * kc, kc) + (e >= 0 ? dot(qi, rk + (size_t)e * kc, kc) : 0.0f);
            row[j] = (i < a->len && j < a->len) ? sc : -1e4f;
            if (row[j] > mx) mx = row[j];
        }
        double sum = 0;
        for (int j = 0; j < T; j++) { row[j] = expf(row[j] - mx); sum += row[j]; }
        for (int j = 0; j < T; j++) row[j] = (float)(row[j] / sum);
        memset(o, 0, sizeof(float) * 2 * (size_t)kc);
        for (int j = 0; j < T; j++) {
            int e = rel(s, i, j);
            axpy(row[j], h->v + (size_t)j * kc, o, kc);
            if (e >= 0) axpy(row[j], rv + (size_t)e * kc, r, kc);
        }
        for (int m = 0; m < kc; m++) out[(size_t)m * T + i] = o[m] + r[m];
    }
}

/* Gradients of one head: q, k, v into the head's own slices; rel_k / rel_v into grk / grv,
 * this head's private partial sums (the caller adds them up in a fixed order). */
static void attn_head_bw(const attn_saved *s, const attn_view *a, const float *rk, const float *rv, const float *p,
                         const float *dout, float *grk, float *grv, head_rows *h)
{
    int T = a->T, kc = a->kc;
    float scale = 1.0f / sqrtf((float)kc);
    load_qkv(h, a);
    to_rows(h->d, dout, T, kc, 1.0f);
    for (int i = 0; i < T; i++) {
        const float *row = p + (size_t)i * T, *di = h->d + (size_t)i * kc, *qi = h->q + (size_t)i * kc;
        double dsum = 0;
        for (int j = 0; j < T; j++) {
            int e = rel(s, i, j);
            float acc = dot(di, h->v + (size_t)j * kc, kc) + (e >= 0 ? dot(di, rv + (size_t)e * kc, kc) : 0.0f);
            if (a->gv) axpy(row[j], di, h->gv + (size_t)j * kc, kc);
            if (grv && e >= 0) axpy(row[j], di, grv + (size_t)e * kc, kc);
            h->dp[j] = acc;
            dsum += (double)acc * row[j];
        }
        for (int j = 0; j < T; j++) {
            if (!(i < a->len && j < a->len)) continue; /* masked scores are constants */
            float ds = row[j] * (h->dp[j] - (float)dsum);
            int e = rel(s, i, j);
            if (a->gq) {
                axpy(ds * scale, h->k + (size_t)j * kc, h->gq + (size_t)i * kc, kc);
                if (e >= 0) axpy(ds * scale, rk + (size_t)e * kc, h->gq + (size_t)i * kc, kc);
            }
            if (a->gk) axpy(ds, qi, h->gk + (size_t)j * kc, kc);
            if (grk && e >= 0) axpy(ds, qi, grk + (size_t)e * kc, kc);
        }
    }
    if (a->gq) add_from_rows(a->gq, h->gq, T, kc);
    if (a->gk) add_from_rows(a->gk, h->gk, T, kc);
    if (a->gv) add_from_rows(a->gv, h->gv, T, kc);
}

static attn_view view_of(ag_tape *t, const ag_node *n, int b, int h, int with_grads)
{
    const attn_saved *s = n->aux;
    int C = n->dims[1], T = n->dims[2], kc = C / s->heads;
    size_t off = ((size_t)b * C + (size_t)h * kc) * T;
    attn_view a = {.T = T, .kc = kc, .len = (int)s->lengths[b], .off = off};
    a.q = t->nodes[n->in[0]].val + off;
    a.k = t->nodes[n->in[1]].val + off;
    a.v = t->nodes[n->in[2]].val + off;
    for (int k = 0; with_grads && k < 3; k++) {
        float *g = ag_needs(t, n->in[k]) ? t->nodes[n->in[k]].grad : NULL; /* made before the heads run */
        float **dst = k == 0 ? &a.gq : k == 1 ? &a.gk : &a.gv;
        *dst = g ? g + off : NULL;
    }
    return a;
}

/* Heads run in parallel, one thread each; rel_k / rel_v gradients are summed per head and then
 * added in head order, so the result does not depend on the thread count. */
static void attention_bw(ag_tape *t, ag_node *n)
{
    const attn_saved *s = n->aux;
    int B = n->dims[0], C = n->dims[1], T = n->dims[2], H = s->heads, kc = C / H, jobs = B * H;
    size_t nrel = (size_t)(2 * s->window + 1) * kc;
    const float *rk = t->nodes[n->in[3]].val, *rv = t->nodes[n->in[4]].val;
    for (int k = 0; k < 3; k++)
        if (ag_needs(t, n->in[k]) && !ag_grad(t, n->in[k])) return;
    float *grk = ag_needs(t, n->in[3]) ? ag_grad(t, n->in[3]) : NULL;
    float *grv = ag_needs(t, n->in[4]) ? ag_grad(t, n->in[4]) : NULL;
    float *part = calloc((size_t)jobs * 2 * nrel, sizeof(float)); /* per head: rel_k, rel_v partials */
    if (!part || t->failed) { free(part); t->failed = 1; return; }
    int failed = 0;
    NN_PAR_FOR((size_t)jobs * T * T * kc)
    for (int job = 0; job < jobs; job++) {
        int b = job / H, h = job % H;
        head_rows r;
        if (head_rows_alloc(&r, T, kc, 1)) { __atomic_store_n(&failed, 1, __ATOMIC_RELAXED); continue; }
        attn_view a = view_of(t, n, b, h, 1);
        float *pk = part + (size_t)job * 2 * nrel;
        attn_head_bw(s, &a, rk, rv, s->p + (size_t)job * T * T, n->grad + a.off, grk ? pk : NULL, grv ? pk + nrel : NULL, &r);
        free(r.q);
    }
    for (int job = 0; job < jobs && !failed; job++)
        for (size_t i = 0; i < nrel; i++) {
            if (grk) grk[i] += part[(size_t)job * 2 * nrel + i];
            if (grv) grv[i] += part[(size_t)job * 2 * nrel + nrel + i];
        }
    if (failed) t->failed = 1;
    free(part);
}

int ag_rel_attention(ag_tape *t, int q, int k, int v, int rel_k, int rel_v, int heads, int window,
                     const int64_t *lengths)
{
    AG_PLAIN(t, q);
    if (q < 0 || k < 0 || v < 0 || rel_k < 0 || rel_v < 0) return -1;
    const int *d = t->nodes[q].dims;
    int B = d[0], C = d[1], T = d[2];
    int in[5] = {q, k, v, rel_k, rel_v};
    int o = ag_new(t, B, C, T, 1, in, 5);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    size_t np = (size_t)B * heads * T * T;
    attn_saved *s = malloc(sizeof *s + sizeof(int64_t) * (size_t)B + sizeof(float) * np);
    if (!s) { t->failed = 1; return -1; }
    n->aux = s;
    s->heads = heads;
    s->window = window;
    s->lengths = (int64_t *)(s + 1);
    s->p = (float *)(s->lengths + B);
    memcpy(s->lengths, lengths, sizeof(int64_t) * (size_t)B);
    const float *rk = t->nodes[rel_k].val, *rv = t->nodes[rel_v].val;
    int jobs = B * heads, kc = C / heads, failed = 0;
    NN_PAR_FOR((size_t)jobs * T * T * kc)
    for (int job = 0; job < jobs; job++) {
        int b = job / heads, h = job % heads;
        head_rows r;
        if (head_rows_alloc(&r, T, kc, 0)) { __atomic_store_n(&failed, 1, __ATOMIC_RELAXED); continue; }
        attn_view a = view_of(t, n, b, h, 0);
        attn_head_fwd(s, &a, rk, rv, s->p + (size_t)job * T * T, n->val + a.off, &r);
        free(r.q);
    }
    if (failed) { t->failed = 1; return -1; }
    n->backward = attention_bw;
    return o;
}
