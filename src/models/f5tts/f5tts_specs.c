/* Tensor lists of the released F5-TTS / Vocos layouts (see f5tts_specs.h). */
#include "models/f5tts/f5tts_specs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "models/f5tts/f5tts.h"

const f5tts_size F5TTS_V1_BASE = {1024, 22, 16, 2, 512, 4, 2545};
const vocos_size VOCOS_MEL_24KHZ = {100, 512, 1536, 8, 1024};

typedef struct spec_list {
    nn_tensor_spec *items;
    size_t count, cap;
    int failed;
} spec_list;

static void add(spec_list *l, int ndim, const int64_t *shape, const char *fmt, ...)
{
    if (l->failed) return;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        nn_tensor_spec *grown = realloc(l->items, sizeof(nn_tensor_spec) * cap);
        if (!grown) { l->failed = 1; return; }
        l->items = grown;
        l->cap = cap;
    }
    nn_tensor_spec *s = &l->items[l->count++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->name, sizeof s->name, fmt, ap);
    va_end(ap);
    s->ndim = ndim;
    for (int d = 0; d < ndim; d++) s->shape[d] = shape[d];
}

#define SHAPE(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__}

static size_t finish(spec_list *l, nn_tensor_spec **out)
{
    if (l->failed) { free(l->items); *out = NULL; return 0; }
    *out = l->items;
    return l->count;
}

static void text_block_specs(spec_list *l, const f5tts_size *z, int i)
{
    int Dt = z->text_dim, Di = 2 * Dt;
    const char *p = "ema_model.transformer.text_embed.text_blocks";
    add(l, SHAPE(Dt, 1, 7), "%s.%d.dwconv.weight", p, i);
    add(l, SHAPE(Dt), "%s.%d.dwconv.bias", p, i);
    add(l, SHAPE(Dt), "%s.%d.norm.weight", p, i);
    add(l, SHAPE(Dt), "%s.%d.norm.bias", p, i);
    add(l, SHAPE(Di, Dt), "%s.%d.pwconv1.weight", p, i);
    add(l, SHAPE(Di), "%s.%d.pwconv1.bias", p, i);
    add(l, SHAPE(1, 1, Di), "%s.%d.grn.gamma", p, i);
    add(l, SHAPE(1, 1, Di), "%s.%d.grn.beta", p, i);
    add(l, SHAPE(Dt, Di), "%s.%d.pwconv2.weight", p, i);
    add(l, SHAPE(Dt), "%s.%d.pwconv2.bias", p, i);
}

static void dit_block_specs(spec_list *l, const f5tts_size *z, int i)
{
    int D = z->dim, I = z->heads * F5_HEAD_DIM, F = z->ff_mult * D;
    const char *p = "ema_model.transformer.transformer_blocks";
    add(l, SHAPE(6 * D, D), "%s.%d.attn_norm.linear.weight", p, i);
    add(l, SHAPE(6 * D), "%s.%d.attn_norm.linear.bias", p, i);
    static const char *const qkv[] = {"to_q", "to_k", "to_v"};
    for (int k = 0; k < 3; k++) {
        add(l, SHAPE(I, D), "%s.%d.attn.%s.weight", p, i, qkv[k]);
        add(l, SHAPE(I), "%s.%d.attn.%s.bias", p, i, qkv[k]);
    }
    add(l, SHAPE(D, I), "%s.%d.attn.to_out.0.weight", p, i);
    add(l, SHAPE(D), "%s.%d.attn.to_out.0.bias", p, i);
    add(l, SHAPE(F, D), "%s.%d.ff.ff.0.0.weight", p, i);
    add(l, SHAPE(F), "%s.%d.ff.ff.0.0.bias", p, i);
    add(l, SHAPE(D, F), "%s.%d.ff.ff.2.weight", p, i);
    add(l, SHAPE(D), "%s.%d.ff.ff.2.bias", p, i);
}

size_t f5tts_tensor_specs(const f5tts_size *z, nn_tensor_spec **specs)
{
    spec_list l = {0};
    int D = z->dim, Dt = z->text_dim;
    const char *p = "ema_model.transformer";
    add(&l, SHAPE(z->vocab + 1, Dt), "%s.text_embed.text_embed.weight", p);
    for (int i = 0; i < z->conv_layers; i++) text_block_specs(&l, z, i);
    add(&l, SHAPE(D, 256), "%s.time_embed.time_mlp.0.weight", p);
    add(&l, SHAPE(D), "%s.time_embed.time_mlp.0.bias", p);
    add(&l, SHAPE(D, D), "%s.time_embed.time_mlp.2.weight", p);
    add(&l, SHAPE(D), "%s.time_embed.time_mlp.2.bias", p);
    add(&l, SHAPE(D, 2 * F5_MEL_DIM + Dt), "%s.input_embed.proj.weight", p);
    add(&l, SHAPE(D), "%s.input_embed.proj.bias", p);
    for (int c = 0; c <= 2; c += 2) {
        add(&l, SHAPE(D, D / 16, 31), "%s.input_embed.conv_pos_embed.conv1d.%d.weight", p, c);
        add(&l, SHAPE(D), "%s.input_embed.conv_pos_embed.conv1d.%d.bias", p, c);
    }
    for (int i = 0; i < z->depth; i++) dit_block_specs(&l, z, i);
    add(&l, SHAPE(2 * D, D), "%s.norm_out.linear.weight", p);
    add(&l, SHAPE(2 * D), "%s.norm_out.linear.bias", p);
    add(&l, SHAPE(F5_MEL_DIM, D), "%s.proj_out.weight", p);
    add(&l, SHAPE(F5_MEL_DIM), "%s.proj_out.bias", p);
    return finish(&l, specs);
}

size_t vocos_tensor_specs(const vocos_size *z, nn_tensor_spec **specs)
{
    spec_list l = {0};
    add(&l, SHAPE(z->dim, z->n_mels, 7), "backbone.embed.weight");
    add(&l, SHAPE(z->dim), "backbone.embed.bias");
    add(&l, SHAPE(z->dim), "backbone.norm.weight");
    add(&l, SHAPE(z->dim), "backbone.norm.bias");
    for (int i = 0; i < z->layers; i++) {
        add(&l, SHAPE(z->dim, 1, 7), "backbone.convnext.%d.dwconv.weight", i);
        add(&l, SHAPE(z->dim), "backbone.convnext.%d.dwconv.bias", i);
        add(&l, SHAPE(z->dim), "backbone.convnext.%d.norm.weight", i);
        add(&l, SHAPE(z->dim), "backbone.convnext.%d.norm.bias", i);
        add(&l, SHAPE(z->intermediate, z->dim), "backbone.convnext.%d.pwconv1.weight", i);
        add(&l, SHAPE(z->intermediate), "backbone.convnext.%d.pwconv1.bias", i);
        add(&l, SHAPE(z->dim, z->intermediate), "backbone.convnext.%d.pwconv2.weight", i);
        add(&l, SHAPE(z->dim), "backbone.convnext.%d.pwconv2.bias", i);
        add(&l, SHAPE(z->dim), "backbone.convnext.%d.gamma", i);
    }
    add(&l, SHAPE(z->dim), "backbone.final_layer_norm.weight");
    add(&l, SHAPE(z->dim), "backbone.final_layer_norm.bias");
    add(&l, SHAPE(z->n_fft + 2, z->dim), "head.out.weight");
    add(&l, SHAPE(z->n_fft + 2), "head.out.bias");
    return finish(&l, specs);
}
