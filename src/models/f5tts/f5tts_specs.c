/* Tensor lists of the released F5-TTS / Vocos layouts (see f5tts_specs.h). */
#include "models/f5tts/f5tts_specs.h"

#include <stdio.h>
#include <stdlib.h>

#include "models/f5tts/f5tts.h"

const f5tts_size F5TTS_V1_BASE = {1024, 22, 16, 2, 512, 4, 2545};
const vocos_size VOCOS_MEL_24KHZ = {100, 512, 1536, 8, 1024};

static void text_block_specs(nn_spec_list *l, const f5tts_size *z, int i)
{
    int Dt = z->text_dim, Di = 2 * Dt;
    const char *p = "ema_model.transformer.text_embed.text_blocks";
    nn_spec_add(l, NN_SPEC_SHAPE(Dt, 1, 7), "%s.%d.dwconv.weight", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(Dt), "%s.%d.dwconv.bias", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(Dt), "%s.%d.norm.weight", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(Dt), "%s.%d.norm.bias", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(Di, Dt), "%s.%d.pwconv1.weight", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(Di), "%s.%d.pwconv1.bias", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(1, 1, Di), "%s.%d.grn.gamma", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(1, 1, Di), "%s.%d.grn.beta", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(Dt, Di), "%s.%d.pwconv2.weight", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(Dt), "%s.%d.pwconv2.bias", p, i);
}

static void dit_block_specs(nn_spec_list *l, const f5tts_size *z, int i)
{
    int D = z->dim, I = z->heads * F5_HEAD_DIM, F = z->ff_mult * D;
    const char *p = "ema_model.transformer.transformer_blocks";
    nn_spec_add(l, NN_SPEC_SHAPE(6 * D, D), "%s.%d.attn_norm.linear.weight", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(6 * D), "%s.%d.attn_norm.linear.bias", p, i);
    static const char *const qkv[] = {"to_q", "to_k", "to_v"};
    for (int k = 0; k < 3; k++) {
        nn_spec_add(l, NN_SPEC_SHAPE(I, D), "%s.%d.attn.%s.weight", p, i, qkv[k]);
        nn_spec_add(l, NN_SPEC_SHAPE(I), "%s.%d.attn.%s.bias", p, i, qkv[k]);
    }
    nn_spec_add(l, NN_SPEC_SHAPE(D, I), "%s.%d.attn.to_out.0.weight", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(D), "%s.%d.attn.to_out.0.bias", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(F, D), "%s.%d.ff.ff.0.0.weight", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(F), "%s.%d.ff.ff.0.0.bias", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(D, F), "%s.%d.ff.ff.2.weight", p, i);
    nn_spec_add(l, NN_SPEC_SHAPE(D), "%s.%d.ff.ff.2.bias", p, i);
}

size_t f5tts_tensor_specs(const f5tts_size *z, nn_tensor_spec **specs)
{
    nn_spec_list l = {0};
    int D = z->dim, Dt = z->text_dim;
    const char *p = "ema_model.transformer";
    nn_spec_add(&l, NN_SPEC_SHAPE(z->vocab + 1, Dt), "%s.text_embed.text_embed.weight", p);
    for (int i = 0; i < z->conv_layers; i++) text_block_specs(&l, z, i);
    nn_spec_add(&l, NN_SPEC_SHAPE(D, 256), "%s.time_embed.time_mlp.0.weight", p);
    nn_spec_add(&l, NN_SPEC_SHAPE(D), "%s.time_embed.time_mlp.0.bias", p);
    nn_spec_add(&l, NN_SPEC_SHAPE(D, D), "%s.time_embed.time_mlp.2.weight", p);
    nn_spec_add(&l, NN_SPEC_SHAPE(D), "%s.time_embed.time_mlp.2.bias", p);
    nn_spec_add(&l, NN_SPEC_SHAPE(D, 2 * F5_MEL_DIM + Dt), "%s.input_embed.proj.weight", p);
    nn_spec_add(&l, NN_SPEC_SHAPE(D), "%s.input_embed.proj.bias", p);
    for (int c = 0; c <= 2; c += 2) {
        nn_spec_add(&l, NN_SPEC_SHAPE(D, D / 16, 31), "%s.input_embed.conv_pos_embed.conv1d.%d.weight", p, c);
        nn_spec_add(&l, NN_SPEC_SHAPE(D), "%s.input_embed.conv_pos_embed.conv1d.%d.bias", p, c);
    }
    for (int i = 0; i < z->depth; i++) dit_block_specs(&l, z, i);
    nn_spec_add(&l, NN_SPEC_SHAPE(2 * D, D), "%s.norm_out.linear.weight", p);
    nn_spec_add(&l, NN_SPEC_SHAPE(2 * D), "%s.norm_out.linear.bias", p);
    nn_spec_add(&l, NN_SPEC_SHAPE(F5_MEL_DIM, D), "%s.proj_out.weight", p);
    nn_spec_add(&l, NN_SPEC_SHAPE(F5_MEL_DIM), "%s.proj_out.bias", p);
    return nn_spec_finish(&l, specs);
}

size_t vocos_tensor_specs(const vocos_size *z, nn_tensor_spec **specs)
{
    nn_spec_list l = {0};
    nn_spec_add(&l, NN_SPEC_SHAPE(z->dim, z->n_mels, 7), "backbone.embed.weight");
    nn_spec_add(&l, NN_SPEC_SHAPE(z->dim), "backbone.embed.bias");
    nn_spec_add(&l, NN_SPEC_SHAPE(z->dim), "backbone.norm.weight");
    nn_spec_add(&l, NN_SPEC_SHAPE(z->dim), "backbone.norm.bias");
    for (int i = 0; i < z->layers; i++) {
        nn_spec_add(&l, NN_SPEC_SHAPE(z->dim, 1, 7), "backbone.convnext.%d.dwconv.weight", i);
        nn_spec_add(&l, NN_SPEC_SHAPE(z->dim), "backbone.convnext.%d.dwconv.bias", i);
        nn_spec_add(&l, NN_SPEC_SHAPE(z->dim), "backbone.convnext.%d.norm.weight", i);
        nn_spec_add(&l, NN_SPEC_SHAPE(z->dim), "backbone.convnext.%d.norm.bias", i);
        nn_spec_add(&l, NN_SPEC_SHAPE(z->intermediate, z->dim), "backbone.convnext.%d.pwconv1.weight", i);
        nn_spec_add(&l, NN_SPEC_SHAPE(z->intermediate), "backbone.convnext.%d.pwconv1.bias", i);
        nn_spec_add(&l, NN_SPEC_SHAPE(z->dim, z->intermediate), "backbone.convnext.%d.pwconv2.weight", i);
        nn_spec_add(&l, NN_SPEC_SHAPE(z->dim), "backbone.convnext.%d.pwconv2.bias", i);
        nn_spec_add(&l, NN_SPEC_SHAPE(z->dim), "backbone.convnext.%d.gamma", i);
    }
    nn_spec_add(&l, NN_SPEC_SHAPE(z->dim), "backbone.final_layer_norm.weight");
    nn_spec_add(&l, NN_SPEC_SHAPE(z->dim), "backbone.final_layer_norm.bias");
    nn_spec_add(&l, NN_SPEC_SHAPE(z->n_fft + 2, z->dim), "head.out.weight");
    nn_spec_add(&l, NN_SPEC_SHAPE(z->n_fft + 2), "head.out.bias");
    return nn_spec_finish(&l, specs);
}
