/*
 * Loading F5-TTS weights by name. Released checkpoints carry the EMA model under
 * "ema_model.transformer." (plus EMA bookkeeping `initted`/`step`, ignored); plain training
 * checkpoints use "transformer.". All sizes are derived from tensor shapes, then every tensor
 * is bound with its expected shape so a foreign file fails with a precise message.
 */
#include "models/f5tts/f5tts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/bind.h"
#include "nn/wcache.h"

static const char *find_prefix(const nn_weights *w)
{
    static const char *const prefixes[] = {"ema_model.transformer.", "transformer.", "model.transformer."};
    char name[128];
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        snprintf(name, sizeof name, "%sproj_out.weight", prefixes[i]);
        if (nn_weights_get(w, name)) return prefixes[i];
    }
    return NULL;
}

static int count_indexed(const nn_binder *b, const char *fmt)
{
    int n = 0;
    while (nn_bind_has(b, fmt, n)) n++;
    return n;
}

static int infer_sizes(f5tts_model *m, nn_binder *b)
{
    char name[160];
    snprintf(name, sizeof name, "%sproj_out.weight", b->prefix);
    const nn_tensor *proj_out = nn_weights_get(b->weights, name);
    snprintf(name, sizeof name, "%stext_embed.text_embed.weight", b->prefix);
    const nn_tensor *emb = nn_weights_get(b->weights, name);
    snprintf(name, sizeof name, "%stransformer_blocks.0.attn.to_q.weight", b->prefix);
    const nn_tensor *q = nn_weights_get(b->weights, name);
    snprintf(name, sizeof name, "%stransformer_blocks.0.ff.ff.0.0.weight", b->prefix);
    const nn_tensor *ff = nn_weights_get(b->weights, name);
    if (!proj_out || proj_out->ndim != 2 || !emb || emb->ndim != 2 || !q || q->ndim != 2 || !ff || ff->ndim != 2)
        return vc_fail(b->err, VC_ERR_INVALID_FORMAT, "not an F5-TTS DiT checkpoint (proj_out/text_embed/blocks missing)");
    m->dim = (int)proj_out->shape[1];
    m->vocab_rows = (int)emb->shape[0];
    m->text_dim = (int)emb->shape[1];
    m->heads = (int)(q->shape[0] / F5_HEAD_DIM);
    m->ff_dim = (int)ff->shape[0];
    m->depth = count_indexed(b, "transformer_blocks.%d.attn.to_q.weight");
    m->conv_layers = count_indexed(b, "text_embed.text_blocks.%d.dwconv.weight");
    if (m->heads < 1 || q->shape[0] % F5_HEAD_DIM || m->dim % 16 || m->depth < 1)
        return vc_fail(b->err, VC_ERR_INVALID_FORMAT, "F5-TTS checkpoint has unsupported sizes (dim %d, q %lld)", m->dim,
                       (long long)q->shape[0]);
    return 0;
}

static void bind_text_block(const f5tts_model *m, nn_binder *b, f5_text_block *t, int i)
{
    int Dt = m->text_dim, Di = 2 * m->text_dim; /* ConvNeXtV2 intermediate = text_dim · conv_mult(2) */
    t->dw_w = nn_bind(b, NN_SHAPE(Dt, 1, 7), "text_embed.text_blocks.%d.dwconv.weight", i);
    t->dw_b = nn_bind(b, NN_SHAPE(Dt), "text_embed.text_blocks.%d.dwconv.bias", i);
    t->norm_w = nn_bind(b, NN_SHAPE(Dt), "text_embed.text_blocks.%d.norm.weight", i);
    t->norm_b = nn_bind(b, NN_SHAPE(Dt), "text_embed.text_blocks.%d.norm.bias", i);
    t->pw1_w = nn_bind(b, NN_SHAPE(Di, Dt), "text_embed.text_blocks.%d.pwconv1.weight", i);
    t->pw1_b = nn_bind(b, NN_SHAPE(Di), "text_embed.text_blocks.%d.pwconv1.bias", i);
    t->grn_gamma = nn_bind(b, NN_SHAPE(1, 1, Di), "text_embed.text_blocks.%d.grn.gamma", i);
    t->grn_beta = nn_bind(b, NN_SHAPE(1, 1, Di), "text_embed.text_blocks.%d.grn.beta", i);
    t->pw2_w = nn_bind(b, NN_SHAPE(Dt, Di), "text_embed.text_blocks.%d.pwconv2.weight", i);
    t->pw2_b = nn_bind(b, NN_SHAPE(Dt), "text_embed.text_blocks.%d.pwconv2.bias", i);
}

static void bind_dit_block(const f5tts_model *m, nn_binder *b, f5_dit_block *k, int i)
{
    int D = m->dim, I = m->heads * F5_HEAD_DIM, F = m->ff_dim;
    k->mod_w = nn_bind(b, NN_SHAPE(6 * D, D), "transformer_blocks.%d.attn_norm.linear.weight", i);
    k->mod_b = nn_bind(b, NN_SHAPE(6 * D), "transformer_blocks.%d.attn_norm.linear.bias", i);
    k->q_w = nn_bind(b, NN_SHAPE(I, D), "transformer_blocks.%d.attn.to_q.weight", i);
    k->q_b = nn_bind(b, NN_SHAPE(I), "transformer_blocks.%d.attn.to_q.bias", i);
    k->k_w = nn_bind(b, NN_SHAPE(I, D), "transformer_blocks.%d.attn.to_k.weight", i);
    k->k_b = nn_bind(b, NN_SHAPE(I), "transformer_blocks.%d.attn.to_k.bias", i);
    k->v_w = nn_bind(b, NN_SHAPE(I, D), "transformer_blocks.%d.attn.to_v.weight", i);
    k->v_b = nn_bind(b, NN_SHAPE(I), "transformer_blocks.%d.attn.to_v.bias", i);
    k->o_w = nn_bind(b, NN_SHAPE(D, I), "transformer_blocks.%d.attn.to_out.0.weight", i);
    k->o_b = nn_bind(b, NN_SHAPE(D), "transformer_blocks.%d.attn.to_out.0.bias", i);
    k->ff1_w = nn_bind(b, NN_SHAPE(F, D), "transformer_blocks.%d.ff.ff.0.0.weight", i);
    k->ff1_b = nn_bind(b, NN_SHAPE(F), "transformer_blocks.%d.ff.ff.0.0.bias", i);
    k->ff2_w = nn_bind(b, NN_SHAPE(D, F), "transformer_blocks.%d.ff.ff.2.weight", i);
    k->ff2_b = nn_bind(b, NN_SHAPE(D), "transformer_blocks.%d.ff.ff.2.bias", i);
}

static void bind_embeddings(f5tts_model *m, nn_binder *b)
{
    int D = m->dim, Dt = m->text_dim;
    m->text_emb = nn_bind(b, NN_SHAPE(m->vocab_rows, Dt), "text_embed.text_embed.weight");
    m->time1_w = nn_bind(b, NN_SHAPE(D, 256), "time_embed.time_mlp.0.weight");
    m->time1_b = nn_bind(b, NN_SHAPE(D), "time_embed.time_mlp.0.bias");
    m->time2_w = nn_bind(b, NN_SHAPE(D, D), "time_embed.time_mlp.2.weight");
    m->time2_b = nn_bind(b, NN_SHAPE(D), "time_embed.time_mlp.2.bias");
    m->proj_w = nn_bind(b, NN_SHAPE(D, 2 * F5_MEL_DIM + Dt), "input_embed.proj.weight");
    m->proj_b = nn_bind(b, NN_SHAPE(D), "input_embed.proj.bias");
    m->pos1_w = nn_bind(b, NN_SHAPE(D, D / 16, 31), "input_embed.conv_pos_embed.conv1d.0.weight");
    m->pos1_b = nn_bind(b, NN_SHAPE(D), "input_embed.conv_pos_embed.conv1d.0.bias");
    m->pos2_w = nn_bind(b, NN_SHAPE(D, D / 16, 31), "input_embed.conv_pos_embed.conv1d.2.weight");
    m->pos2_b = nn_bind(b, NN_SHAPE(D), "input_embed.conv_pos_embed.conv1d.2.bias");
    m->norm_out_w = nn_bind(b, NN_SHAPE(2 * D, D), "norm_out.linear.weight");
    m->norm_out_b = nn_bind(b, NN_SHAPE(2 * D), "norm_out.linear.bias");
    m->proj_out_w = nn_bind(b, NN_SHAPE(F5_MEL_DIM, D), "proj_out.weight");
    m->proj_out_b = nn_bind(b, NN_SHAPE(F5_MEL_DIM), "proj_out.bias");
}

int f5tts_load(f5tts_model *m, const nn_weights *w, vc_error *err)
{
    memset(m, 0, sizeof *m);
    const char *prefix = find_prefix(w);
    if (!prefix) return vc_fail(err, VC_ERR_INVALID_FORMAT, "not an F5-TTS checkpoint (no transformer.proj_out.weight)");
    nn_binder b = {.weights = w, .prefix = prefix, .err = err};
    if (infer_sizes(m, &b) != 0) return -1;
    m->text_blocks = calloc((size_t)(m->conv_layers ? m->conv_layers : 1), sizeof(f5_text_block));
    m->blocks = calloc((size_t)m->depth, sizeof(f5_dit_block));
    m->wc = nn_wcache_create(w);
    if (!m->text_blocks || !m->blocks || !m->wc) { f5tts_free(m); return vc_fail(err, VC_ERR_NOMEM, "out of memory (F5-TTS)"); }
    bind_embeddings(m, &b);
    for (int i = 0; i < m->conv_layers; i++) bind_text_block(m, &b, &m->text_blocks[i], i);
    for (int i = 0; i < m->depth; i++) bind_dit_block(m, &b, &m->blocks[i], i);
    if (b.failed) { f5tts_free(m); return vc_error_wrap(err, "F5-TTS"); }
    return 0;
}

void f5tts_free(f5tts_model *m)
{
    free(m->text_blocks);
    free(m->blocks);
    nn_wcache_free(m->wc);
    m->text_blocks = NULL;
    m->blocks = NULL;
    m->wc = NULL;
}
