/*
 * The F5-TTS v1 DiT forward pass (see f5tts.h for shapes), one function per official module:
 *   text_embed      ids → [N, Dt]: embedding + sinusoidal positions, ConvNeXtV2 blocks (GRN)
 *   time_embed      t → [D]: 256-d sinusoidal features (scale 1000) → Linear, SiLU, Linear
 *   input_embed     proj([x, cond, text]) + conv position embedding (2 × grouped conv k31 + Mish)
 *   dit_block       AdaLN-Zero modulation, rotary multi-head attention, tanh-GELU feed-forward
 *   norm_out/proj   final adaptive LayerNorm (scale, shift) and projection to 100 mel bins
 * Batching: B sequences of N frames are stacked row-wise, so every position-wise layer runs as
 * one GEMM over B·N rows (the official v1 code batches the conditional and unconditional CFG
 * passes the same way); convolutions and attention run per sequence.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/f5tts/f5tts.h"
#include "nn/backend.h"
#include "nn/conv.h"
#include "nn/layers.h"
#include "nn/sequence.h"

#define F5_LN_EPS 1e-6f
#define F5_POS_KERNEL 31
#define F5_POS_GROUPS 16

/* ---- text embedding ---------------------------------------------------------------------- */

static void add_text_positions(float *e, int N, int Dt)
{
    int half = Dt / 2;
    for (int j = 0; j < half; j++) {
        float g = (float)(1.0 / pow(10000.0, (double)(2 * j) / Dt));
        for (int n = 0; n < N; n++) {
            float a = (float)n * g; /* float32 product, as torch.outer */
            e[(size_t)n * Dt + j] += (float)cos(a);
            e[(size_t)n * Dt + half + j] += (float)sin(a);
        }
    }
}

static void zero_masked_rows(float *e, const unsigned char *mask, int N, int Dt)
{
    for (int n = 0; n < N; n++)
        if (mask[n]) memset(e + (size_t)n * Dt, 0, sizeof(float) * (size_t)Dt);
}

/* Global response normalisation over the sequence axis: y [N, C]. */
static void grn(float *y, int N, int C, const float *gamma, const float *beta, double *norms)
{
    double mean = 0;
    for (int c = 0; c < C; c++) norms[c] = 0;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) norms[c] += (double)y[(size_t)n * C + c] * y[(size_t)n * C + c];
    for (int c = 0; c < C; c++) { norms[c] = sqrt(norms[c]); mean += norms[c]; }
    mean /= C;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            float v = y[(size_t)n * C + c];
            float nx = (float)(norms[c] / (mean + 1e-6));
            y[(size_t)n * C + c] = gamma[c] * (v * nx) + beta[c] + v;
        }
}

static int convnext_v2_block(const f5_text_block *b, float *e, int N, int Dt, float *y, float *mid, double *norms,
                             vc_error *err)
{
    int Di = 2 * Dt;
    nn_conv1d_desc dw = {Dt, Dt, 7, 1, 1, 3, 3, Dt}; /* depthwise, k 7, "same" */
    if (nn_conv1d(y, e, N, b->dw_w, b->dw_b, &dw, err)) return -1;
    nn_layer_norm(y, y, N, Dt, b->norm_w, b->norm_b, F5_LN_EPS);
    nn_linear(mid, y, b->pw1_w, b->pw1_b, N, Dt, Di);
    nn_apply(nn_gelu_erf, mid, (size_t)N * Di);
    grn(mid, N, Di, b->grn_gamma, b->grn_beta, norms);
    nn_linear(y, mid, b->pw2_w, b->pw2_b, N, Di, Dt);
    for (size_t i = 0; i < (size_t)N * Dt; i++) e[i] += y[i];
    return 0;
}

int f5_text_embed(const f5tts_model *m, const int64_t *ids, int n_ids, int N, int drop_text, float *out, vc_error *err)
{
    int Dt = m->text_dim;
    unsigned char *mask = malloc((size_t)N);
    float *y = malloc(sizeof(float) * (size_t)N * Dt), *mid = malloc(sizeof(float) * (size_t)N * 2 * Dt);
    double *norms = malloc(sizeof(double) * 2 * (size_t)Dt);
    if (!mask || !y || !mid || !norms) {
        free(mask); free(y); free(mid); free(norms);
        return vc_fail(err, VC_ERR_NOMEM, "out of memory (text embedding, %d frames)", N);
    }
    for (int n = 0; n < N; n++) {
        int64_t tok = n < n_ids ? ids[n] + 1 : 0; /* +1: row 0 is the filler token */
        if (tok < 0 || tok >= m->vocab_rows) tok = 1; /* out-of-range id: the official OOV id 0, shifted */
        mask[n] = tok == 0;
        if (drop_text) tok = 0;
        memcpy(out + (size_t)n * Dt, m->text_emb + (size_t)tok * Dt, sizeof(float) * (size_t)Dt);
    }
    add_text_positions(out, N, Dt);
    zero_masked_rows(out, mask, N, Dt);
    int rc = 0;
    for (int i = 0; i < m->conv_layers && rc == 0; i++) {
        rc = convnext_v2_block(&m->text_blocks[i], out, N, Dt, y, mid, norms, err);
        zero_masked_rows(out, mask, N, Dt);
    }
    free(mask); free(y); free(mid); free(norms);
    return rc;
}

/* ---- time embedding ---------------------------------------------------------------------- */

static void time_embed(const f5tts_model *m, float t, float *temb, float *work)
{
    float feat[256];
    for (int i = 0; i < 128; i++) {
        float f = (float)exp(-(double)i * log(10000.0) / 127.0);
        float a = (1000.0f * t) * f;
        feat[i] = (float)sin(a);
        feat[128 + i] = (float)cos(a);
    }
    nn_linear(work, feat, m->time1_w, m->time1_b, 1, 256, m->dim);
    nn_silu(work, (size_t)m->dim);
    nn_linear(temb, work, m->time2_w, m->time2_b, 1, m->dim, m->dim);
}

/* ---- DiT --------------------------------------------------------------------------------- */

typedef struct dit_work {
    float *h, *u, *q, *k, *v, *att, *ff, *cat, *conv_a, *conv_b, *attn_scratch;
    float *cos_t, *sin_t, *theta, *temb, *st, *mod, *tmp;
} dit_work;

static void dit_work_free(dit_work *w)
{
    float **fields[] = {&w->h, &w->u, &w->q, &w->k, &w->v, &w->att, &w->ff, &w->cat, &w->conv_a, &w->conv_b,
                        &w->attn_scratch, &w->cos_t, &w->sin_t, &w->theta, &w->temb, &w->st,
                        &w->mod, &w->tmp};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) { free(*fields[i]); *fields[i] = NULL; }
}

static int dit_work_alloc(dit_work *w, const f5tts_model *m, int B, int N)
{
    size_t BN = (size_t)B * N, D = (size_t)m->dim, I = (size_t)m->heads * F5_HEAD_DIM;
    memset(w, 0, sizeof *w);
    w->h = malloc(sizeof(float) * BN * D);
    w->u = malloc(sizeof(float) * BN * D);
    w->q = malloc(sizeof(float) * BN * I);
    w->k = malloc(sizeof(float) * BN * I);
    w->v = malloc(sizeof(float) * BN * I);
    w->att = malloc(sizeof(float) * BN * I);
    w->ff = malloc(sizeof(float) * BN * (size_t)m->ff_dim);
    w->cat = malloc(sizeof(float) * BN * (2 * F5_MEL_DIM + (size_t)m->text_dim));
    w->conv_a = malloc(sizeof(float) * (size_t)N * D);
    w->conv_b = malloc(sizeof(float) * (size_t)N * D);
    w->attn_scratch = malloc(sizeof(float) * nn_attention_scratch(N, F5_HEAD_DIM));
    w->cos_t = malloc(sizeof(float) * (size_t)N * F5_HEAD_DIM);
    w->sin_t = malloc(sizeof(float) * (size_t)N * F5_HEAD_DIM);
    w->theta = malloc(sizeof(float) * (size_t)N * F5_HEAD_DIM);
    w->temb = malloc(sizeof(float) * D);
    w->st = malloc(sizeof(float) * D);
    w->mod = malloc(sizeof(float) * 6 * D);
    w->tmp = malloc(sizeof(float) * D);
    return (w->h && w->u && w->q && w->k && w->v && w->att && w->ff && w->cat && w->conv_a && w->conv_b &&
            w->attn_scratch && w->cos_t && w->sin_t && w->theta && w->temb && w->st && w->mod &&
            w->tmp) ? 0 : -1;
}

static int input_embed(const f5tts_model *m, dit_work *w, const float *x, const float *cond, const float *text,
                       int B, int N, vc_error *err)
{
    int Dt = m->text_dim, C = 2 * F5_MEL_DIM + Dt, D = m->dim;
    for (int r = 0; r < B * N; r++) {
        float *row = w->cat + (size_t)r * C;
        memcpy(row, x + (size_t)r * F5_MEL_DIM, sizeof(float) * F5_MEL_DIM);
        memcpy(row + F5_MEL_DIM, cond + (size_t)r * F5_MEL_DIM, sizeof(float) * F5_MEL_DIM);
        memcpy(row + 2 * F5_MEL_DIM, text + (size_t)r * Dt, sizeof(float) * (size_t)Dt);
    }
    nn_linear(w->h, w->cat, m->proj_w, m->proj_b, B * N, C, D);
    for (int b = 0; b < B; b++) {
        float *h = w->h + (size_t)b * N * D;
        /* ConvPositionEmbedding: two grouped convs (k 31, "same"), each followed by Mish */
        nn_conv1d_desc pos = {D, D, F5_POS_KERNEL, 1, 1, F5_POS_KERNEL / 2, F5_POS_KERNEL / 2, F5_POS_GROUPS};
        if (nn_conv1d(w->conv_a, h, N, m->pos1_w, m->pos1_b, &pos, err)) return -1;
        nn_apply(nn_mish, w->conv_a, (size_t)N * D);
        if (nn_conv1d(w->conv_b, w->conv_a, N, m->pos2_w, m->pos2_b, &pos, err)) return -1;
        nn_apply(nn_mish, w->conv_b, (size_t)N * D);
        for (size_t i = 0; i < (size_t)N * D; i++) h[i] += w->conv_b[i];
    }
    return 0;
}

/* u = LN(h)·(1 + scale) + shift, rows of D */
static void modulated_norm(const f5tts_model *m, float *u, const float *h, int rows, int D, const float *shift,
                           const float *scale)
{
    nn_layer_norm_par(m->pool, u, h, rows, D, NULL, NULL, F5_LN_EPS);
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < D; i++) u[(size_t)r * D + i] = u[(size_t)r * D + i] * (1.0f + scale[i]) + shift[i];
}

static void add_gated(float *h, const float *y, const float *gate, int rows, int D)
{
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < D; i++) h[(size_t)r * D + i] += gate[i] * y[(size_t)r * D + i];
}

static void dit_block(const f5tts_model *m, const f5_dit_block *k, dit_work *w, int B, int N)
{
    int D = m->dim, I = m->heads * F5_HEAD_DIM, rows = B * N;
    nn_linear(w->mod, w->st, k->mod_w, k->mod_b, 1, D, 6 * D);
    const float *shift_a = w->mod, *scale_a = w->mod + D, *gate_a = w->mod + 2 * D;
    const float *shift_f = w->mod + 3 * D, *scale_f = w->mod + 4 * D, *gate_f = w->mod + 5 * D;
    modulated_norm(m, w->u, w->h, rows, D, shift_a, scale_a);
    nn_linear(w->q, w->u, k->q_w, k->q_b, rows, D, I);
    nn_linear(w->k, w->u, k->k_w, k->k_b, rows, D, I);
    nn_linear(w->v, w->u, k->v_w, k->v_b, rows, D, I);
    nn_apply_rotary(w->q, w->cos_t, w->sin_t, B, N, m->heads, F5_HEAD_DIM);
    nn_apply_rotary(w->k, w->cos_t, w->sin_t, B, N, m->heads, F5_HEAD_DIM);
    for (int b = 0; b < B; b++) {
        size_t off = (size_t)b * N * I;
        nn_attention_par(m->pool, w->att + off, w->q + off, w->k + off, w->v + off, N, m->heads, F5_HEAD_DIM,
                         1.0f / sqrtf((float)F5_HEAD_DIM), w->attn_scratch);
    }
    nn_linear(w->u, w->att, k->o_w, k->o_b, rows, I, D);
    add_gated(w->h, w->u, gate_a, rows, D);
    modulated_norm(m, w->u, w->h, rows, D, shift_f, scale_f);
    nn_linear(w->ff, w->u, k->ff1_w, k->ff1_b, rows, D, m->ff_dim);
    nn_apply_par(m->pool, nn_gelu_tanh, w->ff, (size_t)rows * m->ff_dim);
    nn_linear(w->u, w->ff, k->ff2_w, k->ff2_b, rows, m->ff_dim, D);
    add_gated(w->h, w->u, gate_f, rows, D);
}

static void tap_batch(f5_tap_fn tap, void *ctx, const char *name, const float *x, int B, int N, int cols)
{
    static const char *const suffix[] = {"cond", "uncond"};
    char full[96];
    for (int b = 0; b < B && b < 2; b++) {
        snprintf(full, sizeof full, "%s.%s", name, suffix[b]);
        tap(ctx, full, x + (size_t)b * N * cols, N, cols);
    }
}

static int f5_dit_forward_run(const f5tts_model *m, const float *x, const float *cond, const float *text, int B, int N, float t,
                   float *out, f5_tap_fn tap, void *tap_ctx, vc_error *err)
{
    dit_work w;
    if (dit_work_alloc(&w, m, B, N) != 0) { dit_work_free(&w); return vc_fail(err, VC_ERR_NOMEM, "out of memory (DiT, %d frames)", N); }
    int D = m->dim;
    time_embed(m, t, w.temb, w.tmp);
    memcpy(w.st, w.temb, sizeof(float) * (size_t)D);
    nn_silu(w.st, (size_t)D);
    nn_rotary_angles(w.theta, N, F5_HEAD_DIM);
    for (size_t i = 0; i < (size_t)N * F5_HEAD_DIM; i++) { w.cos_t[i] = cosf(w.theta[i]); w.sin_t[i] = sinf(w.theta[i]); }
    if (tap) { tap(tap_ctx, "time_embed", w.temb, 1, D); tap(tap_ctx, "rope_freqs", w.theta, N, F5_HEAD_DIM); }
    if (input_embed(m, &w, x, cond, text, B, N, err)) {
        dit_work_free(&w);
        return -1;
    }
    if (tap) tap_batch(tap, tap_ctx, "input_embed", w.h, B, N, D);
    for (int i = 0; i < m->depth; i++) {
        dit_block(m, &m->blocks[i], &w, B, N);
        if (tap) { char name[32]; snprintf(name, sizeof name, "block.%d", i); tap_batch(tap, tap_ctx, name, w.h, B, N, D); }
    }
    nn_linear(w.mod, w.st, m->norm_out_w, m->norm_out_b, 1, D, 2 * D);
    modulated_norm(m, w.u, w.h, B * N, D, w.mod + D, w.mod); /* norm_out chunks as (scale, shift) */
    if (tap) tap_batch(tap, tap_ctx, "norm_out", w.u, B, N, D);
    nn_linear(out, w.u, m->proj_out_w, m->proj_out_b, B * N, D, F5_MEL_DIM);
    if (tap) tap_batch(tap, tap_ctx, "out", out, B, N, F5_MEL_DIM);
    dit_work_free(&w);
    return 0;
}

/* The model's compute precision (VCS_PRECISION / --precision) applies while it runs. */
int f5_dit_forward(const f5tts_model *m, const float *x, const float *cond, const float *text, int B, int N, float t,
                   float *out, f5_tap_fn tap, void *tap_ctx, vc_error *err)
{
    nn_precision_scope scope = nn_precision_enter("f5tts_dit");
    nn_wcache_scope weights = nn_wcache_enter(m->wc);
    int rc = f5_dit_forward_run(m, x, cond, text, B, N, t, out, tap, tap_ctx, err);
    nn_wcache_leave(weights);
    nn_precision_leave(scope);
    return rc;
}
