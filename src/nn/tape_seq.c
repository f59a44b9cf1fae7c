/*
 * Sequence tape ops (see tape.h): layer norm over channels (VITS's LayerNorm on [B, C, T])
 * and VITS relative-position self-attention with a length mask, each followed by its backward.
 * Shapes are channel-major [B, C, T]; attention heads split C into heads × kc.
 */
#include "nn/tape.h"

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
    for (int b = 0; b < B; b++)
        for (int k = 0; k < T; k++) {
            float mean = stats[b * T + k], rstd = stats[B * T + b * T + k];
            double s1 = 0, s2 = 0;
            for (int c = 0; c < C; c++) {
                float xh = (AT(x, b, c, k) - mean) * rstd, dxh = AT(dy, b, c, k) * gamma[c];
                s1 += dxh;
                s2 += (double)dxh * xh;
                if (gg) gg[c] += AT(dy, b, c, k) * xh;
                if (gb) gb[c] += AT(dy, b, c, k);
            }
            if (!gx) continue;
            float m1 = (float)(s1 / C), m2 = (float)(s2 / C);
            for (int c = 0; c < C; c++) {
                float xh = (AT(x, b, c, k) - mean) * rstd, dxh = AT(dy, b, c, k) * gamma[c];
                AT(gx, b, c, k) += rstd * (dxh - m1 - xh * m2);
            }
        }
}

int ag_layer_norm_c(ag_tape *t, int x, int gamma, int beta, float eps)
{
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
    for (int b = 0; b < B; b++)
        for (int k = 0; k < T; k++) {
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
} attn_view;

static int rel(const attn_saved *s, int i, int j) { int d = j - i; return d >= -s->window && d <= s->window ? d + s->window : -1; }

static void attn_head_fwd(const attn_saved *s, const attn_view *a, const float *rk, const float *rv, float *p, float *out)
{
    int T = a->T, kc = a->kc;
    float scale = 1.0f / sqrtf((float)kc);
    for (int i = 0; i < T; i++) {
        float *row = p + (size_t)i * T, mx = -INFINITY;
        for (int j = 0; j < T; j++) {
            float sc = 0, r = 0;
            int e = rel(s, i, j);
            for (int m = 0; m < kc; m++) sc += (a->q[m * T + i] * scale) * a->k[m * T + j];
            if (e >= 0) for (int m = 0; m < kc; m++) r += (a->q[m * T + i] * scale) * rk[e * kc + m];
            row[j] = (i < a->len && j < a->len) ? sc + r : -1e4f;
            if (row[j] > mx) mx = row[j];
        }
        double sum = 0;
        for (int j = 0; j < T; j++) { row[j] = expf(row[j] - mx); sum += row[j]; }
        for (int j = 0; j < T; j++) row[j] = (float)(row[j] / sum);
        for (int m = 0; m < kc; m++) {
            float o = 0, r = 0;
            for (int j = 0; j < T; j++) o += row[j] * a->v[m * T + j];
            for (int j = 0; j < T; j++) { int e = rel(s, i, j); if (e >= 0) r += row[j] * rv[e * kc + m]; }
            out[m * T + i] = o + r;
        }
    }
}

static void attn_head_bw(const attn_saved *s, const attn_view *a, const float *rk, const float *rv, const float *p,
                         const float *dout, float *grk, float *grv, float *dp)
{
    int T = a->T, kc = a->kc;
    float scale = 1.0f / sqrtf((float)kc);
    for (int i = 0; i < T; i++) {
        const float *row = p + (size_t)i * T;
        double dot = 0;
        for (int j = 0; j < T; j++) {
            int e = rel(s, i, j);
            float acc = 0;
            for (int m = 0; m < kc; m++) {
                float dv = a->v[m * T + j] + (e >= 0 ? rv[e * kc + m] : 0.0f);
                acc += dout[m * T + i] * dv;
                if (a->gv) a->gv[m * T + j] += row[j] * dout[m * T + i];
                if (grv && e >= 0) grv[e * kc + m] += row[j] * dout[m * T + i];
            }
            dp[j] = acc;
            dot += (double)acc * row[j];
        }
        for (int j = 0; j < T; j++) {
            if (!(i < a->len && j < a->len)) continue; /* masked scores are constants */
            float ds = row[j] * (dp[j] - (float)dot);
            int e = rel(s, i, j);
            for (int m = 0; m < kc; m++) {
                float qs = a->q[m * T + i] * scale, kk = a->k[m * T + j] + (e >= 0 ? rk[e * kc + m] : 0.0f);
                if (a->gq) a->gq[m * T + i] += ds * kk * scale;
                if (a->gk) a->gk[m * T + j] += ds * qs;
                if (grk && e >= 0) grk[e * kc + m] += ds * qs;
            }
        }
    }
}

static attn_view view_of(ag_tape *t, const ag_node *n, int b, int h, int with_grads)
{
    const attn_saved *s = n->aux;
    int C = n->dims[1], T = n->dims[2], kc = C / s->heads;
    size_t off = ((size_t)b * C + (size_t)h * kc) * T;
    attn_view a = {.T = T, .kc = kc, .len = (int)s->lengths[b]};
    a.q = t->nodes[n->in[0]].val + off;
    a.k = t->nodes[n->in[1]].val + off;
    a.v = t->nodes[n->in[2]].val + off;
    for (int k = 0; with_grads && k < 3; k++) {
        float *g = ag_needs(t, n->in[k]) ? ag_grad(t, n->in[k]) : NULL;
        float **dst = k == 0 ? &a.gq : k == 1 ? &a.gk : &a.gv;
        *dst = g ? g + off : NULL;
    }
    return a;
}

static void attention_bw(ag_tape *t, ag_node *n)
{
    const attn_saved *s = n->aux;
    int B = n->dims[0], C = n->dims[1], T = n->dims[2];
    const float *rk = t->nodes[n->in[3]].val, *rv = t->nodes[n->in[4]].val;
    float *grk = ag_needs(t, n->in[3]) ? ag_grad(t, n->in[3]) : NULL;
    float *grv = ag_needs(t, n->in[4]) ? ag_grad(t, n->in[4]) : NULL;
    float *dp = malloc(sizeof(float) * (size_t)T);
    if (!dp) { t->failed = 1; return; }
    for (int b = 0; b < B; b++)
        for (int h = 0; h < s->heads; h++) {
            attn_view a = view_of(t, n, b, h, 1);
            size_t off = ((size_t)b * C + (size_t)h * a.kc) * T;
            attn_head_bw(s, &a, rk, rv, s->p + ((size_t)b * s->heads + h) * T * T, n->grad + off, grk, grv, dp);
        }
    free(dp);
}

int ag_rel_attention(ag_tape *t, int q, int k, int v, int rel_k, int rel_v, int heads, int window,
                     const int64_t *lengths)
{
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
    for (int b = 0; b < B; b++)
        for (int h = 0; h < heads; h++) {
            attn_view a = view_of(t, n, b, h, 0);
            size_t off = ((size_t)b * C + (size_t)h * a.kc) * T;
            attn_head_fwd(s, &a, rk, rv, s->p + ((size_t)b * heads + h) * T * T, n->val + off);
        }
    n->backward = attention_bw;
    return o;
}
