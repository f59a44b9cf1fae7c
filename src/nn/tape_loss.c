/*
 * Loss tape ops (see tape.h): LSGAN squares, L1 against a constant, the VITS KL term and the
 * log-mel spectrogram of a waveform (HiFi-GAN's mel_spectrogram: reflect pad, Hann frames,
 * |DFT| with an epsilon under the root, mel matrix, log of the clamp). Sums run in double.
 * The DFT is a dense double matrix product (cos/sin tables indexed by k·n mod N, so every
 * twiddle is exact to double rounding): the mel loss only sees a segment (tens of frames).
 */
#include "nn/tape.h"
#include "nn/backend.h"
#include "nn/par.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int scalar_node(ag_tape *t, const int *in, int n_in, ag_backward_fn bw)
{
    int o = ag_new(t, 1, 1, 1, 1, in, n_in);
    if (o >= 0) t->nodes[o].backward = bw;
    return o;
}

/* ---- mean((target − x)²) ---- */

static void lsgan_bw(ag_tape *t, ag_node *n)
{
    const ag_node *x = &t->nodes[n->in[0]];
    float *g = ag_grad(t, n->in[0]);
    float s = n->grad[0] * 2.0f / (float)x->n;
    if (!g) return;
    NN_PAR_FOR(x->n)
    for (size_t i = 0; i < x->n; i++) g[i] += s * (x->val[i] - n->fp[0]);
}

int ag_lsgan(ag_tape *t, int x, float target)
{
    if (x < 0) return -1;
    int o = scalar_node(t, &x, 1, lsgan_bw);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    const ag_node *xn = &t->nodes[x];
    double s = 0;
    for (size_t i = 0; i < xn->n; i++) s += (double)(target - xn->val[i]) * (target - xn->val[i]);
    n->fp[0] = target;
    n->val[0] = (float)(s / (double)xn->n);
    return o;
}

/* ---- mean(|ref − x|) ---- */

static void l1_bw(ag_tape *t, ag_node *n)
{
    const ag_node *x = &t->nodes[n->in[0]];
    const float *ref = n->aux;
    float *g = ag_grad(t, n->in[0]);
    float s = n->grad[0] / (float)x->n;
    if (!g) return;
    NN_PAR_FOR(x->n)
    for (size_t i = 0; i < x->n; i++) g[i] += x->val[i] > ref[i] ? s : x->val[i] < ref[i] ? -s : 0.0f;
}

int ag_l1_const(ag_tape *t, const float *ref, int x)
{
    AG_PLAIN(t, x);
    if (x < 0) return -1;
    int o = scalar_node(t, &x, 1, l1_bw);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    size_t m = t->nodes[x].n;
    n->aux = malloc(sizeof(float) * m);
    if (!n->aux) { t->failed = 1; return -1; }
    memcpy(n->aux, ref, sizeof(float) * m);
    const float *xv = t->nodes[x].val;
    double s = 0;
    for (size_t i = 0; i < m; i++) s += fabs((double)ref[i] - xv[i]);
    n->val[0] = (float)(s / (double)m);
    return o;
}

/* ---- KL(q‖p) of VITS: Σ (logs_p − logs_q − ½ + ½(z_p − m_p)² e^{−2 logs_p})·mask / Σ mask ---- */

static void kl_bw(ag_tape *t, ag_node *n)
{
    const ag_node *zp = &t->nodes[n->in[0]];
    const float *mask = n->aux, *z = zp->val, *m = t->nodes[n->in[2]].val, *lp = t->nodes[n->in[3]].val;
    int B = zp->dims[0], C = zp->dims[1], T = zp->dims[2];
    float *g[4];
    for (int k = 0; k < 4; k++) g[k] = ag_needs(t, n->in[k]) ? ag_grad(t, n->in[k]) : NULL;
    float inv = n->grad[0] / n->fp[0];
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            for (int k = 0; k < T; k++) {
                size_t i = ((size_t)b * C + c) * T + k;
                float w = mask[b * T + k] * inv, e = expf(-2.0f * lp[i]), dz = (z[i] - m[i]) * e;
                if (g[0]) g[0][i] += w * dz;
                if (g[1]) g[1][i] -= w;
                if (g[2]) g[2][i] -= w * dz;
                if (g[3]) g[3][i] += w * (1.0f - (z[i] - m[i]) * dz);
            }
}

int ag_kl(ag_tape *t, int z_p, int logs_q, int m_p, int logs_p, const float *mask)
{
    if (z_p < 0 || logs_q < 0 || m_p < 0 || logs_p < 0) return -1;
    int in[4] = {z_p, logs_q, m_p, logs_p};
    int o = scalar_node(t, in, 4, kl_bw);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    const ag_node *zp = &t->nodes[z_p];
    int B = zp->dims[0], C = zp->dims[1], T = zp->dims[2];
    n->aux = malloc(sizeof(float) * (size_t)B * T);
    if (!n->aux) { t->failed = 1; return -1; }
    memcpy(n->aux, mask, sizeof(float) * (size_t)B * T);
    const float *z = zp->val, *lq = t->nodes[logs_q].val, *m = t->nodes[m_p].val, *lp = t->nodes[logs_p].val;
    double s = 0, ms = 0;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < T; k++) ms += mask[b * T + k];
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            for (int k = 0; k < T; k++) {
                size_t i = ((size_t)b * C + c) * T + k;
                float d = z[i] - m[i];
                float kl = lp[i] - lq[i] - 0.5f + 0.5f * d * d * expf(-2.0f * lp[i]);
                s += (double)kl * mask[b * T + k];
            }
    n->fp[0] = (float)ms;
    n->val[0] = (float)(s / ms);
    return o;
}

/* ---- log-mel spectrogram ---- */

typedef struct mel_saved {
    int n_mels, n_fft, hop, pad, frames, bins, L;
    float mag_eps, clip;
    double *re, *im, *mel; /* [B·frames, bins], [B·frames, bins], [B·frames, n_mels] */
    double *cosb, *sinb;   /* [n_fft, bins]; sinb holds −sin (the imaginary part's sign) */
    float *basis, *window;
} mel_saved;

static void mel_saved_free(void *p)
{
    mel_saved *s = p;
    if (!s) return;
    free(s->re); free(s->im); free(s->mel); free(s->cosb); free(s->sinb); free(s->basis); free(s->window);
}

static int mel_tables(mel_saved *s, const float *basis)
{
    int N = s->n_fft, K = s->bins;
    size_t rows = (size_t)N * K;
    s->cosb = malloc(sizeof(double) * rows);
    s->sinb = malloc(sizeof(double) * rows);
    s->basis = malloc(sizeof(float) * (size_t)s->n_mels * K);
    s->window = malloc(sizeof(float) * (size_t)N);
    double *tc = malloc(sizeof(double) * (size_t)N), *ts = malloc(sizeof(double) * (size_t)N);
    if (!s->cosb || !s->sinb || !s->basis || !s->window || !tc || !ts) { free(tc); free(ts); return -1; }
    for (int i = 0; i < N; i++) {
        tc[i] = cos(2.0 * M_PI * i / N);
        ts[i] = sin(2.0 * M_PI * i / N);
        s->window[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / N));
    }
    for (int nn = 0; nn < N; nn++)
        for (int k = 0; k < K; k++) {
            size_t r = (size_t)nn * k % (size_t)N;
            s->cosb[(size_t)nn * K + k] = tc[r];
            s->sinb[(size_t)nn * K + k] = -ts[r];
        }
    free(tc); free(ts);
    memcpy(s->basis, basis, sizeof(float) * (size_t)s->n_mels * K);
    return 0;
}

/* Reflect index of padded position p into [0, L). */
static int reflect_idx(int p, int pad, int L)
{
    int s = p - pad;
    if (s < 0) s = -s;
    if (s >= L) s = 2 * (L - 1) - s;
    return s;
}

static void log_mel_bw(ag_tape *t, ag_node *n)
{
    const mel_saved *s = n->aux;
    int B = n->dims[0], F = s->frames, K = s->bins, N = s->n_fft, M = s->n_mels;
    float *gx = ag_grad(t, n->in[0]);
    size_t rows = (size_t)B * F;
    double *dre = malloc(sizeof(double) * rows * K), *dim = malloc(sizeof(double) * rows * K);
    double *dseg = malloc(sizeof(double) * rows * N);
    if (!gx || !dre || !dim || !dseg) { t->failed = 1; free(dre); free(dim); free(dseg); return; }
    for (int b = 0; b < B; b++)
        for (int f = 0; f < F; f++) {
            size_t r = (size_t)b * F + f;
            for (int k = 0; k < K; k++) {
                double dmag = 0;
                for (int m = 0; m < M; m++) {
                    double mel = s->mel[r * M + m];
                    if (mel >= s->clip) dmag += (double)s->basis[(size_t)m * K + k] * n->grad[((size_t)b * M + m) * F + f] / mel;
                }
                double re = s->re[r * K + k], im = s->im[r * K + k], mag = sqrt(re * re + im * im + s->mag_eps);
                dre[r * K + k] = dmag * re / mag;
                dim[r * K + k] = dmag * im / mag;
            }
        }
    nn_gemm_f64(0, 1, (int)rows, N, K, 1.0, dre, K, s->cosb, K, 0.0, dseg, N);
    nn_gemm_f64(0, 1, (int)rows, N, K, 1.0, dim, K, s->sinb, K, 1.0, dseg, N);
    for (int b = 0; b < B; b++)
        for (int f = 0; f < F; f++)
            for (int i = 0; i < N; i++)
                gx[(size_t)b * s->L + reflect_idx(f * s->hop + i, s->pad, s->L)] +=
                    (float)(dseg[((size_t)b * F + f) * N + i] * s->window[i]);
    free(dre); free(dim); free(dseg);
}

static int mel_forward(ag_node *n, const float *x, mel_saved *s, int B)
{
    int F = s->frames, K = s->bins, N = s->n_fft, M = s->n_mels;
    size_t rows = (size_t)B * F;
    double *seg = malloc(sizeof(double) * rows * N);
    s->re = malloc(sizeof(double) * rows * K);
    s->im = malloc(sizeof(double) * rows * K);
    s->mel = malloc(sizeof(double) * rows * M);
    if (!seg || !s->re || !s->im || !s->mel) { free(seg); return -1; }
    for (int b = 0; b < B; b++)
        for (int f = 0; f < F; f++)
            for (int i = 0; i < N; i++)
                seg[((size_t)b * F + f) * N + i] =
                    (double)(x[(size_t)b * s->L + reflect_idx(f * s->hop + i, s->pad, s->L)] * s->window[i]);
    nn_gemm_f64(0, 0, (int)rows, K, N, 1.0, seg, N, s->cosb, K, 0.0, s->re, K);
    nn_gemm_f64(0, 0, (int)rows, K, N, 1.0, seg, N, s->sinb, K, 0.0, s->im, K);
    free(seg);
    for (size_t r = 0; r < rows; r++) {
        int b = (int)(r / (size_t)F), f = (int)(r % (size_t)F);
        for (int m = 0; m < M; m++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                double re = s->re[r * K + k], im = s->im[r * K + k];
                acc += (double)s->basis[(size_t)m * K + k] * (float)sqrt(re * re + im * im + s->mag_eps);
            }
            s->mel[r * M + m] = acc;
            n->val[((size_t)b * M + m) * F + f] = (float)log(acc > s->clip ? acc : s->clip);
        }
    }
    return 0;
}

int ag_log_mel(ag_tape *t, int x, const float *basis, int n_mels, int n_fft, int hop, int pad, float mag_eps,
               float clip)
{
    AG_PLAIN(t, x);
    if (x < 0) return -1;
    const ag_node *xn = &t->nodes[x];
    int B = xn->dims[0], L = xn->dims[2], frames = (L + 2 * pad - n_fft) / hop + 1;
    int o = ag_new(t, B, n_mels, frames, 1, &x, 1);
    if (o < 0) return -1;
    ag_node *n = &t->nodes[o];
    mel_saved *s = calloc(1, sizeof *s);
    if (!s) { t->failed = 1; return -1; }
    *s = (mel_saved){.n_mels = n_mels, .n_fft = n_fft, .hop = hop, .pad = pad, .frames = frames,
                     .bins = n_fft / 2 + 1, .L = L, .mag_eps = mag_eps, .clip = clip};
    if (mel_tables(s, basis) || mel_forward(n, t->nodes[x].val, s, B)) {
        mel_saved_free(s); free(s); t->failed = 1; return -1;
    }
    n->aux = s;
    n->free_aux = mel_saved_free;
    n->backward = log_mel_bw;
    return o;
}
