/*
 * Whisper's text decoder with a KV cache (contract: whisper.h):
 *   x [n, T] = token_embedding[tokens] + positional_embedding[offset … offset+n)
 *   n_text_layer × { x += self_attn(attn_ln(x))        causal, keys = cache + new rows
 *                    x += cross_attn(cross_attn_ln(x))  keys/values of the audio, computed once
 *                    x += mlp(mlp_ln(x)) }
 *   logits [n, V] = ln(x) · token_embeddingᵀ
 * K is stored pre-scaled by dh^-1/4 and q is scaled the same way, as the official attention.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/whisper/whisper_internal.h"
#include "nn/layers.h"

static size_t layer_cross(const whisper_model *m) { return (size_t)m->dims.n_audio_ctx * m->dims.n_text_state; }
static size_t layer_self(const whisper_model *m) { return (size_t)m->dims.n_text_ctx * m->dims.n_text_state; }

static float qk_scale(int dh) { return (float)pow((double)dh, -0.25); }

/* Cross-attention K (per head [Ta][dh], scaled) and V (per head transposed [dh][Ta]) of one layer. */
static int cross_kv(const whisper_model *m, const whisper_block_w *b, const float *features, float *k_out,
                    float *v_out, float *tmp, vc_error *err)
{
    int Ta = m->dims.n_audio_ctx, S = m->dims.n_text_state, H = m->dims.n_text_head, dh = S / H;
    float s = qk_scale(dh);
    nn_linear(tmp, features, b->cross.wk, NULL, Ta, S, S);
    for (int h = 0; h < H; h++)
        for (int t = 0; t < Ta; t++)
            for (int d = 0; d < dh; d++) k_out[((size_t)h * Ta + t) * dh + d] = tmp[(size_t)t * S + h * dh + d] * s;
    nn_linear(tmp, features, b->cross.wv, b->cross.bv, Ta, S, S);
    for (int h = 0; h < H; h++)
        for (int d = 0; d < dh; d++)
            for (int t = 0; t < Ta; t++) v_out[((size_t)h * dh + d) * Ta + t] = tmp[(size_t)t * S + h * dh + d];
    (void)err;
    return 0;
}

int whisper_kv_init(whisper_kv *kv, const whisper_model *m, const float *features, vc_error *err)
{
    memset(kv, 0, sizeof *kv);
    kv->m = m;
    int L = m->dims.n_text_layer;
    kv->cross_k = malloc(sizeof(float) * layer_cross(m) * L);
    kv->cross_v = malloc(sizeof(float) * layer_cross(m) * L);
    kv->self_k = malloc(sizeof(float) * layer_self(m) * L);
    kv->self_v = malloc(sizeof(float) * layer_self(m) * L);
    float *tmp = malloc(sizeof(float) * layer_cross(m));
    int rc = kv->cross_k && kv->cross_v && kv->self_k && kv->self_v && tmp ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    for (int l = 0; rc == 0 && l < L; l++)
        rc = cross_kv(m, &m->dec[l], features, kv->cross_k + layer_cross(m) * l, kv->cross_v + layer_cross(m) * l, tmp, err);
    free(tmp);
    if (rc != 0) whisper_kv_free(kv);
    return rc;
}

void whisper_kv_reset(whisper_kv *kv) { kv->n_cached = 0; }

void whisper_kv_free(whisper_kv *kv)
{
    free(kv->cross_k);
    free(kv->cross_v);
    free(kv->self_k);
    free(kv->self_v);
    free(kv->scratch);
    memset(kv, 0, sizeof *kv);
}

typedef struct dec_buf {
    float *h, *q, *k, *v, *o, *wide, *qh, *scores, *oh;
} dec_buf;

/* Causal self-attention of n new rows against the cache of layer l (after appending them). */
static void self_attention(whisper_kv *kv, int l, const whisper_block_w *b, int n, const dec_buf *e)
{
    const whisper_model *m = kv->m;
    int S = m->dims.n_text_state, H = m->dims.n_text_head, dh = S / H, C = m->dims.n_text_ctx, off = kv->n_cached;
    int Tk = off + n;
    float s = qk_scale(dh);
    nn_linear(e->q, e->h, b->attn.wq, b->attn.bq, n, S, S);
    nn_linear(e->k, e->h, b->attn.wk, NULL, n, S, S);
    nn_linear(e->v, e->h, b->attn.wv, b->attn.bv, n, S, S);
    float *K = kv->self_k + layer_self(m) * l, *V = kv->self_v + layer_self(m) * l;
    for (int h = 0; h < H; h++)
        for (int i = 0; i < n; i++)
            for (int d = 0; d < dh; d++) {
                size_t at = ((size_t)h * C + off + i) * dh + d;
                K[at] = e->k[(size_t)i * S + h * dh + d] * s;
                V[at] = e->v[(size_t)i * S + h * dh + d];
            }
    for (int h = 0; h < H; h++) {
        for (int i = 0; i < n; i++)
            for (int d = 0; d < dh; d++) e->qh[(size_t)i * dh + d] = e->q[(size_t)i * S + h * dh + d] * s;
        const float *Kh = K + (size_t)h * C * dh, *Vh = V + (size_t)h * C * dh;
        nn_linear(e->scores, e->qh, Kh, NULL, n, dh, Tk); /* [n, Tk] */
        for (int i = 0; i < n; i++)
            for (int j = off + i + 1; j < Tk; j++) e->scores[(size_t)i * Tk + j] = -INFINITY; /* causal */
        nn_softmax_rows(e->scores, n, Tk);
        for (int i = 0; i < n; i++) {
            float *o = e->o + (size_t)i * S + h * dh;
            memset(o, 0, sizeof(float) * dh);
            for (int j = 0; j <= off + i; j++) {
                float p = e->scores[(size_t)i * Tk + j];
                for (int d = 0; d < dh; d++) o[d] += p * Vh[(size_t)j * dh + d];
            }
        }
    }
}

/* Cross-attention of n rows against the audio of layer l. */
static void cross_attention(const whisper_kv *kv, int l, const whisper_block_w *b, int n, const dec_buf *e)
{
    const whisper_model *m = kv->m;
    int S = m->dims.n_text_state, H = m->dims.n_text_head, dh = S / H, Ta = m->dims.n_audio_ctx;
    float s = qk_scale(dh);
    nn_linear(e->q, e->h, b->cross.wq, b->cross.bq, n, S, S);
    for (int h = 0; h < H; h++) {
        for (int i = 0; i < n; i++)
            for (int d = 0; d < dh; d++) e->qh[(size_t)i * dh + d] = e->q[(size_t)i * S + h * dh + d] * s;
        const float *Kh = kv->cross_k + layer_cross(m) * l + (size_t)h * Ta * dh;
        const float *Vt = kv->cross_v + layer_cross(m) * l + (size_t)h * dh * Ta;
        nn_linear(e->scores, e->qh, Kh, NULL, n, dh, Ta); /* [n, Ta] */
        nn_softmax_rows(e->scores, n, Ta);
        nn_linear(e->oh, e->scores, Vt, NULL, n, Ta, dh); /* [n, dh] */
        for (int i = 0; i < n; i++) memcpy(e->o + (size_t)i * S + h * dh, e->oh + (size_t)i * dh, sizeof(float) * dh);
    }
}

static void block(whisper_kv *kv, int l, float *x, int n, const dec_buf *e)
{
    const whisper_model *m = kv->m;
    const whisper_block_w *b = &m->dec[l];
    int S = m->dims.n_text_state;
    nn_layer_norm(e->h, x, n, S, b->attn_ln_w, b->attn_ln_b, WHISPER_LN_EPS);
    self_attention(kv, l, b, n, e);
    nn_linear(e->h, e->o, b->attn.wo, b->attn.bo, n, S, S);
    whisper_add(x, e->h, (size_t)n * S);
    nn_layer_norm(e->h, x, n, S, b->cross_ln_w, b->cross_ln_b, WHISPER_LN_EPS);
    cross_attention(kv, l, b, n, e);
    nn_linear(e->h, e->o, b->cross.wo, b->cross.bo, n, S, S);
    whisper_add(x, e->h, (size_t)n * S);
    whisper_mlp_residual(m, b, x, n, S, e->h, e->wide);
}

static int embed(const whisper_kv *kv, const int *tokens, int n, float *x, vc_error *err)
{
    const whisper_model *m = kv->m;
    int S = m->dims.n_text_state;
    for (int i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= m->dims.n_vocab)
            return vc_fail(err, VC_ERR_INVALID_REQUEST, "token id %d outside the vocabulary", tokens[i]);
        const float *e = m->tok_emb + (size_t)tokens[i] * S, *p = m->dec_pos + (size_t)(kv->n_cached + i) * S;
        for (int c = 0; c < S; c++) x[(size_t)i * S + c] = e[c] + p[c];
    }
    return 0;
}

int whisper_decoder_forward(whisper_kv *kv, const int *tokens, int n, float *logits, whisper_tap_fn tap, void *tap_ctx,
                            vc_error *err)
{
    const whisper_model *m = kv->m;
    int S = m->dims.n_text_state, dh = S / m->dims.n_text_head, Tk = kv->n_cached + n;
    if (n < 1 || Tk > m->dims.n_text_ctx)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "decoder context full (%d + %d > %d)", kv->n_cached, n, m->dims.n_text_ctx);
    size_t ns = (size_t)n * S;
    int wide_keys = Tk > m->dims.n_audio_ctx ? Tk : m->dims.n_audio_ctx;
    float *x = malloc(sizeof(float) * ns);
    dec_buf e = {malloc(sizeof(float) * ns), malloc(sizeof(float) * ns), malloc(sizeof(float) * ns),
                 malloc(sizeof(float) * ns), malloc(sizeof(float) * ns), malloc(sizeof(float) * ns * 4),
                 malloc(sizeof(float) * (size_t)n * dh), malloc(sizeof(float) * (size_t)n * wide_keys),
                 malloc(sizeof(float) * (size_t)n * dh)};
    int rc = -1;
    if (!x || !e.h || !e.q || !e.k || !e.v || !e.o || !e.wide || !e.qh || !e.scores || !e.oh) {
        vc_fail(err, VC_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (embed(kv, tokens, n, x, err) != 0) goto done;
    if (tap) tap(tap_ctx, "decoder.embed", x, n, S);
    for (int l = 0; l < m->dims.n_text_layer; l++) {
        block(kv, l, x, n, &e);
        char name[48];
        snprintf(name, sizeof name, "decoder.block.%d", l);
        if (tap) tap(tap_ctx, name, x, n, S);
    }
    kv->n_cached = Tk;
    nn_layer_norm(x, x, n, S, m->dec_ln_w, m->dec_ln_b, WHISPER_LN_EPS);
    if (tap) tap(tap_ctx, "decoder.ln", x, n, S);
    nn_linear(logits, x, m->tok_emb, NULL, n, S, m->dims.n_vocab); /* tied output projection */
    rc = 0;
done:
    free(x); free(e.h); free(e.q); free(e.k); free(e.v); free(e.o); free(e.wide); free(e.qh); free(e.scores); free(e.oh);
    return rc;
}
