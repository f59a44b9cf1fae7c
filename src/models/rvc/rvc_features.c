/* Pitch post-processing, feature retrieval and upsampling of RVC (see rvc_features.h). */
#include "models/rvc/rvc_features.h"
#include "nn/backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* np.interp over the voiced frames, ends held constant. */
static int fill_unvoiced(double *f0, int n)
{
    int first = -1, last = -1;
    for (int i = 0; i < n; i++)
        if (f0[i] > 0) { if (first < 0) first = i; last = i; }
    if (first < 0) return -1;
    for (int i = 0; i < first; i++) f0[i] = f0[first];
    for (int i = last + 1; i < n; i++) f0[i] = f0[last];
    for (int i = first; i < last;) {
        int j = i + 1;
        while (f0[j] <= 0) j++;
        for (int k = i + 1; k < j; k++) f0[k] = f0[i] + (f0[j] - f0[i]) * (double)(k - i) / (double)(j - i);
        i = j;
    }
    return 0;
}

static double mel_of(double f) { return 1127.0 * log(1.0 + f / 700.0); }

void rvc_f0_postprocess(const double *f0, int n, double key_semitones, double *pitchf, int64_t *pitch)
{
    memcpy(pitchf, f0, sizeof(double) * (size_t)n);
    fill_unvoiced(pitchf, n); /* nothing voiced: stays 0, as the official code's failed interp */
    double factor = pow(2.0, key_semitones / 12.0);
    for (int i = 0; i < n; i++) pitchf[i] *= factor;
    rvc_f0_coarse(pitchf, n, pitch);
}

void rvc_f0_coarse(const double *f0, int n, int64_t *pitch)
{
    double lo = mel_of(RVC_F0_MIN), hi = mel_of(RVC_F0_MAX);
    for (int i = 0; i < n; i++) {
        double m = mel_of(f0[i]);
        if (m > 0) m = (m - lo) * 254.0 / (hi - lo) + 1.0;
        if (m <= 1) m = 1;
        if (m > 255) m = 255;
        pitch[i] = (int64_t)nearbyint(m); /* ties to even, as np.rint */
    }
}

void rvc_upsample2(float *out, const float *in, int T, int C)
{
    for (int t = 0; t < T; t++) {
        memcpy(out + (size_t)(2 * t) * C, in + (size_t)t * C, sizeof(float) * (size_t)C);
        memcpy(out + (size_t)(2 * t + 1) * C, in + (size_t)t * C, sizeof(float) * (size_t)C);
    }
}

static void squared_norms(const float *x, int n, int dim, float *out)
{
    for (int i = 0; i < n; i++) {
        float s = 0;
        for (int d = 0; d < dim; d++) s += x[(size_t)i * dim + d] * x[(size_t)i * dim + d];
        out[i] = s;
    }
}

/* Keeps the k smallest (score, index) pairs of one row, ascending. */
static void insert_best(float *score, int64_t *ix, int k, float s, int64_t i)
{
    if (s >= score[k - 1]) return;
    int p = k - 1;
    while (p > 0 && score[p - 1] > s) { score[p] = score[p - 1]; ix[p] = ix[p - 1]; p--; }
    score[p] = s;
    ix[p] = i;
}

int rvc_knn(const float *bank, int n_bank, const float *query, int n_query, int dim, float *score, int64_t *ix,
            vc_error *err)
{
    float *dots = malloc(sizeof(float) * (size_t)n_query * n_bank);
    float *nb = malloc(sizeof(float) * (size_t)n_bank), *nq = malloc(sizeof(float) * (size_t)n_query);
    if (!dots || !nb || !nq) { free(dots); free(nb); free(nq); return vc_fail(err, VC_ERR_NOMEM, "out of memory (index search)"); }
    nn_gemm(0, 1, n_query, n_bank, dim, 1.0f, query, dim, bank, dim, 0.0f, dots, n_bank);
    squared_norms(bank, n_bank, dim, nb);
    squared_norms(query, n_query, dim, nq);
    int k = RVC_INDEX_K < n_bank ? RVC_INDEX_K : n_bank;
    for (int q = 0; q < n_query; q++) {
        float *s = score + (size_t)q * RVC_INDEX_K;
        int64_t *x = ix + (size_t)q * RVC_INDEX_K;
        for (int j = 0; j < RVC_INDEX_K; j++) { s[j] = INFINITY; x[j] = -1; }
        for (int b = 0; b < n_bank; b++) {
            float d = nq[q] + nb[b] - 2.0f * dots[(size_t)q * n_bank + b];
            insert_best(s, x, k, d > 0 ? d : 0.0f, b);
        }
    }
    free(dots); free(nb); free(nq);
    return 0;
}

void rvc_retrieve_blend(const float *bank, const float *query, int n_query, int dim, const float *score,
                        const int64_t *ix, float rate, float *weight, float *retrieved, float *blend)
{
    for (int q = 0; q < n_query; q++) {
        const float *s = score + (size_t)q * RVC_INDEX_K;
        float *w = weight + (size_t)q * RVC_INDEX_K, sum = 0;
        int exact = -1;
        for (int j = 0; j < RVC_INDEX_K; j++)
            if (s[j] == 0.0f && exact < 0) exact = j;
        for (int j = 0; j < RVC_INDEX_K; j++) {
            w[j] = exact >= 0 ? (j == exact) : (ix[(size_t)q * RVC_INDEX_K + j] < 0 ? 0.0f : 1.0f / (s[j] * s[j]));
            sum += w[j];
        }
        float *r = retrieved + (size_t)q * dim;
        memset(r, 0, sizeof(float) * (size_t)dim);
        for (int j = 0; j < RVC_INDEX_K; j++) {
            w[j] /= sum;
            int64_t b = ix[(size_t)q * RVC_INDEX_K + j];
            if (b < 0) continue;
            for (int d = 0; d < dim; d++) r[d] += w[j] * bank[(size_t)b * dim + d];
        }
        for (int d = 0; d < dim; d++) blend[(size_t)q * dim + d] = r[d] * rate + query[(size_t)q * dim + d] * (1.0f - rate);
    }
}
