/*
 * Conditional flow matching sampler of F5-TTS v1: Euler steps over a sway-sampled time grid
 * with classifier-free guidance. The conditional and unconditional DiT passes run as one
 * batch of two sequences; the text embedding does not depend on t, so it is computed once.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/f5tts/f5tts.h"

/* Empirically pruned step sizes (EPSS) of the official code: grid points k/32. */
static const int *epss_table(int nfe)
{
    static const int t5[] = {0, 2, 4, 8, 16, 32}, t6[] = {0, 2, 4, 6, 8, 16, 32}, t7[] = {0, 2, 4, 6, 8, 16, 24, 32};
    static const int t10[] = {0, 2, 4, 6, 8, 12, 16, 20, 24, 28, 32};
    static const int t12[] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32};
    static const int t16[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32};
    switch (nfe) {
    case 5: return t5;
    case 6: return t6;
    case 7: return t7;
    case 10: return t10;
    case 12: return t12;
    case 16: return t16;
    default: return NULL;
    }
}

void f5_time_grid(const f5_sampler *s, float *t)
{
    const int *epss = s->use_epss ? epss_table(s->nfe) : NULL;
    for (int k = 0; k <= s->nfe; k++) {
        if (epss) t[k] = (float)epss[k] / 32.0f;
        else t[k] = k == s->nfe ? 1.0f : (float)k / (float)s->nfe; /* torch.linspace(0, 1, nfe+1) */
    }
    for (int k = 0; k <= s->nfe; k++) {
        float c = cosf((float)M_PI / 2.0f * t[k]);
        t[k] = t[k] + s->sway * (c - 1.0f + t[k]);
    }
}

typedef struct sample_work {
    float *x2, *cond2, *text2, *out2, *t;
} sample_work;

static void sample_work_free(sample_work *w)
{
    free(w->x2); free(w->cond2); free(w->text2); free(w->out2); free(w->t);
}

/* Batch of two: [cond | uncond]. The unconditional half has zero audio cond and dropped text. */
static int prepare_batch(const f5tts_model *m, const f5_sampler *s, sample_work *w, const float *cond, int T,
                         const int64_t *ids, int n_ids, int N, vc_error *err)
{
    size_t mel = (size_t)N * F5_MEL_DIM;
    w->x2 = malloc(sizeof(float) * 2 * mel);
    w->cond2 = calloc(2 * mel, sizeof(float));
    w->text2 = malloc(sizeof(float) * 2 * (size_t)N * m->text_dim);
    w->out2 = malloc(sizeof(float) * 2 * mel);
    w->t = malloc(sizeof(float) * (size_t)(s->nfe + 1));
    if (!w->x2 || !w->cond2 || !w->text2 || !w->out2 || !w->t) return vc_fail(err, VC_ERR_NOMEM, "out of memory (sampler)");
    memcpy(w->cond2, cond, sizeof(float) * (size_t)T * F5_MEL_DIM);
    if (f5_text_embed(m, ids, n_ids, N, 0, w->text2, err) != 0) return -1;
    if (f5_text_embed(m, ids, n_ids, N, 1, w->text2 + (size_t)N * m->text_dim, err) != 0) return -1;
    f5_time_grid(s, w->t);
    return 0;
}

int f5_sample(const f5tts_model *m, const f5_sampler *s, const float *cond, int T, const int64_t *ids, int n_ids,
              int N, const float *noise, float *mel, f5_progress_fn progress, void *progress_ctx, f5_tap_fn tap,
              void *tap_ctx, vc_error *err)
{
    if (T > N || s->nfe < 1) return vc_fail(err, VC_ERR_INVALID_REQUEST, "sampler: %d reference frames for %d total, nfe %d", T, N, s->nfe);
    sample_work w = {0};
    size_t n_mel = (size_t)N * F5_MEL_DIM;
    int rc = prepare_batch(m, s, &w, cond, T, ids, n_ids, N, err);
    if (rc == 0) {
        memcpy(mel, noise, sizeof(float) * n_mel);
        if (tap) { tap(tap_ctx, "t", w.t, 1, s->nfe + 1); tap(tap_ctx, "trajectory", mel, N, F5_MEL_DIM); }
    }
    for (int k = 0; rc == 0 && k < s->nfe; k++) {
        if (progress && progress(progress_ctx, k, s->nfe)) { rc = vc_fail(err, VC_ERR_CANCELLED, "generation cancelled"); break; }
        memcpy(w.x2, mel, sizeof(float) * n_mel);
        memcpy(w.x2 + n_mel, mel, sizeof(float) * n_mel);
        rc = f5_dit_forward(m, w.x2, w.cond2, w.text2, 2, N, w.t[k], w.out2, NULL, NULL, err);
        if (rc != 0) break;
        float dt = w.t[k + 1] - w.t[k];
        for (size_t i = 0; i < n_mel; i++) {
            float c = w.out2[i], u = w.out2[n_mel + i];
            mel[i] += dt * (c + (c - u) * s->cfg_strength);
        }
        if (tap) { tap(tap_ctx, "trajectory", mel, N, F5_MEL_DIM); if (k == 0) tap(tap_ctx, "x_after_step1", mel, N, F5_MEL_DIM); }
    }
    if (rc == 0) {
        memcpy(mel, cond, sizeof(float) * (size_t)T * F5_MEL_DIM);
        if (progress) progress(progress_ctx, s->nfe, s->nfe);
    }
    sample_work_free(&w);
    return rc;
}
