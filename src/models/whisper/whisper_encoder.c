/*
 * Whisper's audio encoder (contract: whisper.h):
 *   mel [M, 3000] → (transpose) [3000, M] → conv1 k3 p1 → GELU → [3000, A]
 *   → conv2 k3 s2 p1 → GELU → [1500, A] → + positional_embedding (the stored tensor)
 *   → n_audio_layer × { x += attn(attn_ln(x)); x += mlp(mlp_ln(x)) } → ln_post → [1500, A]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/whisper/whisper_internal.h"
#include "nn/conv.h"
#include "nn/layers.h"
#include "nn/pool.h"

void whisper_add(float *x, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] += y[i];
}

void whisper_mlp_residual(const whisper_model *m, const whisper_block_w *b, float *x, int T, int S, float *h,
                          float *wide)
{
    nn_layer_norm_par(m->pool, h, x, T, S, b->mlp_ln_w, b->mlp_ln_b, WHISPER_LN_EPS);
    nn_linear(wide, h, b->mlp0_w, b->mlp0_b, T, S, 4 * S); /* [T, 4S] */
    nn_apply_par(m->pool, nn_gelu_erf, wide, (size_t)T * 4 * S);
    nn_linear(h, wide, b->mlp2_w, b->mlp2_b, T, 4 * S, S); /* [T, S] */
    whisper_add(x, h, (size_t)T * S);
}

typedef struct enc_buf {
    float *h, *q, *k, *v, *o, *wide, *scratch;
} enc_buf;

/* x [T, S] += out(attention(attn_ln(x))): unmasked self-attention over the 1500 frames. */
static void self_attention_residual(const whisper_model *m, const whisper_block_w *b, float *x, int T, int S,
                                    const enc_buf *e)
{
    int H = m->dims.n_audio_head, dh = S / H;
    nn_layer_norm_par(m->pool, e->h, x, T, S, b->attn_ln_w, b->attn_ln_b, WHISPER_LN_EPS);
    nn_linear(e->q, e->h, b->attn.wq, b->attn.bq, T, S, S);
    nn_linear(e->k, e->h, b->attn.wk, NULL, T, S, S);
    nn_linear(e->v, e->h, b->attn.wv, b->attn.bv, T, S, S);
    /* Whisper scales q and k by dh^-1/4 each: one dh^-1/2 on the product */
    nn_attention_par(m->pool, e->o, e->q, e->k, e->v, T, H, dh, 1.0f / sqrtf((float)dh), e->scratch);
    nn_linear(e->h, e->o, b->attn.wo, b->attn.bo, T, S, S);
    whisper_add(x, e->h, (size_t)T * S);
}

static void tap_call(whisper_tap_fn tap, void *ctx, const char *name, const float *x, int rows, int cols)
{
    if (tap) tap(ctx, name, x, rows, cols);
}

/* The convolutional stem: mel [M, 3000] → x [1500, A]. */
static int stem(const whisper_model *m, const float *mel, float *x, whisper_tap_fn tap, void *tap_ctx, vc_error *err)
{
    int M = m->dims.n_mels, A = m->dims.n_audio_state, F = WHISPER_N_FRAMES, T = m->dims.n_audio_ctx;
    float *in = malloc(sizeof(float) * (size_t)F * M), *c1 = malloc(sizeof(float) * (size_t)F * A);
    int rc = -1;
    if (!in || !c1) { vc_fail(err, VC_ERR_NOMEM, "out of memory"); goto done; }
    for (int c = 0; c < M; c++)
        for (int t = 0; t < F; t++) in[(size_t)t * M + c] = mel[(size_t)c * F + t];
    nn_conv1d_desc d1 = {M, A, 3, 1, 1, 1, 1, 1}, d2 = {A, A, 3, 2, 1, 1, 1, 1};
    if (nn_conv1d(c1, in, F, m->conv1_w, m->conv1_b, &d1, err) != 0) goto done;
    nn_apply_par(m->pool, nn_gelu_erf, c1, (size_t)F * A);
    tap_call(tap, tap_ctx, "encoder.conv1_gelu", c1, F, A);
    if (nn_conv1d(x, c1, F, m->conv2_w, m->conv2_b, &d2, err) != 0) goto done;
    nn_apply_par(m->pool, nn_gelu_erf, x, (size_t)T * A);
    tap_call(tap, tap_ctx, "encoder.conv2_gelu", x, T, A);
    whisper_add(x, m->enc_pos, (size_t)T * A);
    tap_call(tap, tap_ctx, "encoder.pos_added", x, T, A);
    rc = 0;
done:
    free(in);
    free(c1);
    return rc;
}

int whisper_encode_audio(const whisper_model *m, const float *mel, float *x, whisper_tap_fn tap, void *tap_ctx,
                         vc_error *err)
{
    int A = m->dims.n_audio_state, T = m->dims.n_audio_ctx, dh = A / m->dims.n_audio_head;
    size_t ts = (size_t)T * A;
    enc_buf e = {malloc(sizeof(float) * ts), malloc(sizeof(float) * ts), malloc(sizeof(float) * ts),
                 malloc(sizeof(float) * ts), malloc(sizeof(float) * ts), malloc(sizeof(float) * ts * 4),
                 malloc(sizeof(float) * nn_attention_scratch(T, dh))};
    int rc = -1;
    if (!e.h || !e.q || !e.k || !e.v || !e.o || !e.wide || !e.scratch) { vc_fail(err, VC_ERR_NOMEM, "out of memory"); goto done; }
    if (stem(m, mel, x, tap, tap_ctx, err) != 0) goto done;
    for (int i = 0; i < m->dims.n_audio_layer; i++) {
        self_attention_residual(m, &m->enc[i], x, T, A, &e);
        whisper_mlp_residual(m, &m->enc[i], x, T, A, e.h, e.wide);
        char name[48];
        snprintf(name, sizeof name, "encoder.block.%d", i);
        tap_call(tap, tap_ctx, name, x, T, A);
    }
    nn_layer_norm_par(m->pool, x, x, T, A, m->ln_post_w, m->ln_post_b, WHISPER_LN_EPS);
    tap_call(tap, tap_ctx, "encoder.out", x, T, A);
    rc = 0;
done:
    free(e.h); free(e.q); free(e.k); free(e.v); free(e.o); free(e.wide); free(e.scratch);
    return rc;
}
