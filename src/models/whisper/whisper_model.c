/*
 * Loading a Whisper checkpoint (contract: whisper.h). An official `.pt` holds
 * {"dims": {...}, "model_state_dict": {...}}: the unpickler flattens it to tensors named
 * "model_state_dict.<key>" and the dims as JSON metadata. A safetensors file carries the bare
 * state-dict keys; its dims come from the tensor shapes (head count: 64 channels per head, as
 * in every released size) unless the caller passes them.
 */
#include "models/whisper/whisper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/whisper/whisper_internal.h"
#include "nn/pool.h"

typedef struct loader {
    whisper_model *m;
    const char *prefix; /* "model_state_dict." or "" */
    vc_error *err;
    int failed;
} loader;

/* Tensor prefix+name with the given shape (-1 = any), or NULL with the error set once. */
static const float *take(loader *l, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2)
{
    if (l->failed) return NULL;
    char full[160];
    snprintf(full, sizeof full, "%s%s", l->prefix, name);
    const int64_t shape[3] = {d0, d1, d2};
    const nn_tensor *t = NULL;
    if (nn_weights_require(l->m->file, full, ndim, shape, &t, l->err) != 0) { l->failed = 1; return NULL; }
    if (t->dtype != NN_F32) {
        vc_fail(l->err, VC_ERR_INVALID_FORMAT, "whisper: %s is not a float tensor", full);
        l->failed = 1;
        return NULL;
    }
    return t->data;
}

static void take_attn(loader *l, const char *blk, const char *which, int S, whisper_attn_w *a)
{
    char n[128];
#define W(field, part, suffix, nd, d0, d1) \
    (snprintf(n, sizeof n, "%s.%s.%s.%s", blk, which, part, suffix), a->field = take(l, n, nd, d0, d1, 0))
    W(wq, "query", "weight", 2, S, S);
    W(bq, "query", "bias", 1, S, 0);
    W(wk, "key", "weight", 2, S, S);
    W(wv, "value", "weight", 2, S, S);
    W(bv, "value", "bias", 1, S, 0);
    W(wo, "out", "weight", 2, S, S);
    W(bo, "out", "bias", 1, S, 0);
#undef W
}

static void take_block(loader *l, const char *side, int i, int S, int cross, whisper_block_w *b)
{
    char blk[64], n[128];
    snprintf(blk, sizeof blk, "%s.blocks.%d", side, i);
#define LN(field_w, field_b, part)                                                          \
    (snprintf(n, sizeof n, "%s.%s.weight", blk, part), b->field_w = take(l, n, 1, S, 0, 0), \
     snprintf(n, sizeof n, "%s.%s.bias", blk, part), b->field_b = take(l, n, 1, S, 0, 0))
    LN(attn_ln_w, attn_ln_b, "attn_ln");
    take_attn(l, blk, "attn", S, &b->attn);
    if (cross) {
        LN(cross_ln_w, cross_ln_b, "cross_attn_ln");
        take_attn(l, blk, "cross_attn", S, &b->cross);
    }
    LN(mlp_ln_w, mlp_ln_b, "mlp_ln");
#undef LN
    snprintf(n, sizeof n, "%s.mlp.0.weight", blk), b->mlp0_w = take(l, n, 2, 4 * S, S, 0);
    snprintf(n, sizeof n, "%s.mlp.0.bias", blk), b->mlp0_b = take(l, n, 1, 4 * S, 0, 0);
    snprintf(n, sizeof n, "%s.mlp.2.weight", blk), b->mlp2_w = take(l, n, 2, S, 4 * S, 0);
    snprintf(n, sizeof n, "%s.mlp.2.bias", blk), b->mlp2_b = take(l, n, 1, S, 0, 0);
}

static int count_blocks(const loader *l, const char *side)
{
    int n = 0;
    char name[160];
    for (;; n++) {
        snprintf(name, sizeof name, "%s%s.blocks.%d.attn_ln.weight", l->prefix, side, n);
        if (!nn_weights_get(l->m->file, name)) return n;
    }
}

static int dim_from_meta(const json_t *dims, const char *key, int fallback)
{
    const json_t *v = json_object_get(dims, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : fallback;
}

/* Dims from the checkpoint's "dims" when present, else from the shapes. */
static int resolve_dims(loader *l)
{
    whisper_model *m = l->m;
    char name[160];
    snprintf(name, sizeof name, "%sencoder.conv1.weight", l->prefix);
    const nn_tensor *conv1 = nn_weights_get(m->file, name);
    snprintf(name, sizeof name, "%sdecoder.token_embedding.weight", l->prefix);
    const nn_tensor *emb = nn_weights_get(m->file, name);
    snprintf(name, sizeof name, "%sdecoder.positional_embedding", l->prefix);
    const nn_tensor *pos = nn_weights_get(m->file, name);
    if (!conv1 || conv1->ndim != 3 || !emb || emb->ndim != 2 || !pos || pos->ndim != 2)
        return vc_fail(l->err, VC_ERR_INVALID_FORMAT, "not a Whisper checkpoint (no encoder.conv1 / decoder embeddings)");
    const json_t *dims = json_object_get(nn_weights_meta(m->file), "dims");
    whisper_dims *d = &m->dims;
    d->n_audio_state = dim_from_meta(dims, "n_audio_state", (int)conv1->shape[0]);
    d->n_mels = dim_from_meta(dims, "n_mels", (int)conv1->shape[1]);
    d->n_audio_ctx = dim_from_meta(dims, "n_audio_ctx", 1500);
    d->n_audio_head = dim_from_meta(dims, "n_audio_head", d->n_audio_state / 64);
    d->n_audio_layer = dim_from_meta(dims, "n_audio_layer", count_blocks(l, "encoder"));
    d->n_vocab = dim_from_meta(dims, "n_vocab", (int)emb->shape[0]);
    d->n_text_state = dim_from_meta(dims, "n_text_state", (int)emb->shape[1]);
    d->n_text_ctx = dim_from_meta(dims, "n_text_ctx", (int)pos->shape[0]);
    d->n_text_head = dim_from_meta(dims, "n_text_head", d->n_text_state / 64);
    d->n_text_layer = dim_from_meta(dims, "n_text_layer", count_blocks(l, "decoder"));
    if (d->n_audio_state != d->n_text_state || d->n_audio_head < 1 || d->n_text_head < 1 ||
        d->n_audio_state % d->n_audio_head || d->n_text_state % d->n_text_head || d->n_audio_ctx * 2 != WHISPER_N_FRAMES ||
        d->n_vocab < 51864 || d->n_mels < 1 || d->n_audio_layer < 1 || d->n_text_layer < 1)
        return vc_fail(l->err, VC_ERR_INVALID_FORMAT, "unsupported Whisper dimensions (state %d/%d, heads %d/%d, vocab %d)",
                       d->n_audio_state, d->n_text_state, d->n_audio_head, d->n_text_head, d->n_vocab);
    m->multilingual = d->n_vocab >= 51865;
    m->num_languages = d->n_vocab - 51765 - m->multilingual;
    if (m->num_languages < 1 || m->num_languages > 100)
        return vc_fail(l->err, VC_ERR_INVALID_FORMAT, "Whisper vocabulary of %d: unknown language layout", d->n_vocab);
    return 0;
}

static int take_all(loader *l)
{
    whisper_model *m = l->m;
    const whisper_dims *d = &m->dims;
    int A = d->n_audio_state, T = d->n_text_state;
    m->conv1_w = take(l, "encoder.conv1.weight", 3, A, d->n_mels, 3);
    m->conv1_b = take(l, "encoder.conv1.bias", 1, A, 0, 0);
    m->conv2_w = take(l, "encoder.conv2.weight", 3, A, A, 3);
    m->conv2_b = take(l, "encoder.conv2.bias", 1, A, 0, 0);
    m->enc_pos = take(l, "encoder.positional_embedding", 2, d->n_audio_ctx, A, 0);
    m->ln_post_w = take(l, "encoder.ln_post.weight", 1, A, 0, 0);
    m->ln_post_b = take(l, "encoder.ln_post.bias", 1, A, 0, 0);
    m->tok_emb = take(l, "decoder.token_embedding.weight", 2, d->n_vocab, T, 0);
    m->dec_pos = take(l, "decoder.positional_embedding", 2, d->n_text_ctx, T, 0);
    m->dec_ln_w = take(l, "decoder.ln.weight", 1, T, 0, 0);
    m->dec_ln_b = take(l, "decoder.ln.bias", 1, T, 0, 0);
    m->enc = calloc((size_t)d->n_audio_layer, sizeof *m->enc);
    m->dec = calloc((size_t)d->n_text_layer, sizeof *m->dec);
    if (!m->enc || !m->dec) return vc_fail(l->err, VC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < d->n_audio_layer; i++) take_block(l, "encoder", i, A, 0, &m->enc[i]);
    for (int i = 0; i < d->n_text_layer; i++) take_block(l, "decoder", i, T, 1, &m->dec[i]);
    return l->failed ? -1 : 0;
}

int whisper_load(whisper_model *m, const char *path, vc_error *err)
{
    memset(m, 0, sizeof *m);
    if (nn_weights_open(path, &m->file, err) != 0) return vc_error_wrap(err, "loading Whisper weights %s", path);
    loader l = {m, "model_state_dict.", err, 0};
    if (!nn_weights_get(m->file, "model_state_dict.encoder.conv1.weight")) l.prefix = "";
    int rc = resolve_dims(&l);
    if (rc == 0) rc = take_all(&l);
    if (rc == 0) {
        m->mel_filters = malloc(sizeof(float) * (size_t)m->dims.n_mels * WHISPER_N_BINS);
        if (!m->mel_filters) rc = vc_fail(err, VC_ERR_NOMEM, "out of memory");
        else whisper_mel_filters(m->mel_filters, m->dims.n_mels);
    }
    if (rc == 0) rc = nn_pool_create(&m->pool, nn_pool_default_threads(), err);
    if (rc != 0) whisper_free(m);
    return rc;
}

void whisper_free(whisper_model *m)
{
    nn_pool_free(m->pool);
    free(m->mel_filters);
    free(m->enc);
    free(m->dec);
    nn_weights_free(m->file);
    memset(m, 0, sizeof *m);
}
