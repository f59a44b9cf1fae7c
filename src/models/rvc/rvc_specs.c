/* Tensor lists of the RVC networks in their released key layouts (see rvc_specs.h). */
#include "models/rvc/rvc_specs.h"

#include <stdio.h>

#define S NN_SPEC_SHAPE

const hubert_size HUBERT_BASE = {512, 768, 12, 3072, 128, 16, 256};
const rmvpe_size RMVPE_FULL = {16, 5, 4, 4, 128, 256, 360};
const char RVC_V2_48K_CONFIG_JSON[] = "[1025, 32, 192, 192, 768, 2, 6, 3, 0, \"1\", [3, 7, 11], "
                                      "[[1, 3, 5], [1, 3, 5], [1, 3, 5]], [12, 10, 2, 2], 512, [24, 20, 4, 4], 109, 256, 48000]";

/* ---- HuBERT (fairseq names) ---- */

static void linear(nn_spec_list *l, int out, int in, const char *name)
{
    nn_spec_add(l, S(out, in), "%s.weight", name);
    nn_spec_add(l, S(out), "%s.bias", name);
}

static void norm(nn_spec_list *l, int dim, const char *name)
{
    nn_spec_add(l, S(dim), "%s.weight", name);
    nn_spec_add(l, S(dim), "%s.bias", name);
}

static void hubert_layer(nn_spec_list *l, const hubert_size *z, int i)
{
    static const char *const proj[] = {"k_proj", "v_proj", "q_proj", "out_proj"};
    char name[96];
    for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof name, "encoder.layers.%d.self_attn.%s", i, proj[k]);
        linear(l, z->embed, z->embed, name);
    }
    snprintf(name, sizeof name, "encoder.layers.%d.self_attn_layer_norm", i);
    norm(l, z->embed, name);
    snprintf(name, sizeof name, "encoder.layers.%d.fc1", i);
    linear(l, z->ffn, z->embed, name);
    snprintf(name, sizeof name, "encoder.layers.%d.fc2", i);
    linear(l, z->embed, z->ffn, name);
    snprintf(name, sizeof name, "encoder.layers.%d.final_layer_norm", i);
    norm(l, z->embed, name);
}

size_t hubert_tensor_specs(const hubert_size *z, nn_tensor_spec **specs)
{
    static const int kernel[7] = {10, 3, 3, 3, 3, 2, 2};
    nn_spec_list l = {0};
    norm(&l, z->conv_dim, "feature_extractor.conv_layers.0.2");
    for (int i = 0; i < 7; i++)
        nn_spec_add(&l, S(z->conv_dim, i ? z->conv_dim : 1, kernel[i]), "feature_extractor.conv_layers.%d.0.weight", i);
    norm(&l, z->conv_dim, "layer_norm");
    linear(&l, z->embed, z->conv_dim, "post_extract_proj");
    nn_spec_add(&l, S(z->embed), "encoder.pos_conv.0.bias");
    nn_spec_add(&l, S(1, 1, z->pos_kernel), "encoder.pos_conv.0.weight_g");
    nn_spec_add(&l, S(z->embed, z->embed / z->pos_groups, z->pos_kernel), "encoder.pos_conv.0.weight_v");
    norm(&l, z->embed, "encoder.layer_norm");
    for (int i = 0; i < z->layers; i++) hubert_layer(&l, z, i);
    linear(&l, z->final_dim, z->embed, "final_proj");
    return nn_spec_finish(&l, specs);
}

/* ---- RMVPE ---- */

static void batch_norm(nn_spec_list *l, int ch, const char *name)
{
    nn_spec_add(l, S(ch), "%s.weight", name);
    nn_spec_add(l, S(ch), "%s.bias", name);
    nn_spec_add(l, S(ch), "%s.running_mean", name);
    nn_spec_add(l, S(ch), "%s.running_var", name);
}

/* ConvBlockRes: conv3x3 → BN → ReLU → conv3x3 → BN → ReLU, plus a 1×1 shortcut when in ≠ out. */
static void conv_block_res(nn_spec_list *l, int in, int out, const char *name)
{
    char sub[160];
    nn_spec_add(l, S(out, in, 3, 3), "%s.conv.0.weight", name);
    snprintf(sub, sizeof sub, "%s.conv.1", name);
    batch_norm(l, out, sub);
    nn_spec_add(l, S(out, out, 3, 3), "%s.conv.3.weight", name);
    snprintf(sub, sizeof sub, "%s.conv.4", name);
    batch_norm(l, out, sub);
    if (in != out) {
        nn_spec_add(l, S(out, in, 1, 1), "%s.shortcut.weight", name);
        nn_spec_add(l, S(out), "%s.shortcut.bias", name);
    }
}

static void res_blocks(nn_spec_list *l, int n, int in, int out, const char *fmt, int layer)
{
    char name[128];
    for (int j = 0; j < n; j++) {
        snprintf(name, sizeof name, fmt, layer, j);
        conv_block_res(l, j ? out : in, out, name);
    }
}

static void rmvpe_decoder_layer(nn_spec_list *l, const rmvpe_size *z, int i, int in)
{
    int out = in / 2;
    char name[96];
    nn_spec_add(l, S(in, out, 3, 3), "unet.decoder.layers.%d.conv1.0.weight", i);
    snprintf(name, sizeof name, "unet.decoder.layers.%d.conv1.1", i);
    batch_norm(l, out, name);
    res_blocks(l, z->n_blocks, 2 * out, out, "unet.decoder.layers.%d.conv2.%d", i);
}

static void bigru(nn_spec_list *l, int in, int hidden)
{
    static const char *const dir[] = {"", "_reverse"};
    for (int d = 0; d < 2; d++) {
        nn_spec_add(l, S(3 * hidden, in), "fc.0.gru.weight_ih_l0%s", dir[d]);
        nn_spec_add(l, S(3 * hidden, hidden), "fc.0.gru.weight_hh_l0%s", dir[d]);
        nn_spec_add(l, S(3 * hidden), "fc.0.gru.bias_ih_l0%s", dir[d]);
        nn_spec_add(l, S(3 * hidden), "fc.0.gru.bias_hh_l0%s", dir[d]);
    }
}

size_t rmvpe_tensor_specs(const rmvpe_size *z, nn_tensor_spec **specs)
{
    nn_spec_list l = {0};
    batch_norm(&l, 1, "unet.encoder.bn");
    int ch = 1;
    for (int i = 0; i < z->en_de_layers; i++) {
        int out = z->en_out << i;
        res_blocks(&l, z->n_blocks, ch, out, "unet.encoder.layers.%d.conv.%d", i);
        ch = out;
    }
    for (int i = 0; i < z->inter_layers; i++) {
        res_blocks(&l, z->n_blocks, i ? 2 * ch : ch, 2 * ch, "unet.intermediate.layers.%d.conv.%d", i);
    }
    ch *= 2;
    for (int i = 0; i < z->en_de_layers; i++, ch /= 2) rmvpe_decoder_layer(&l, z, i, ch);
    nn_spec_add(&l, S(3, z->en_out, 3, 3), "cnn.weight");
    nn_spec_add(&l, S(3), "cnn.bias");
    bigru(&l, 3 * z->n_mels, z->gru_hidden);
    linear(&l, z->n_class, 2 * z->gru_hidden, "fc.1");
    return nn_spec_finish(&l, specs);
}

/* ---- synthesizer ---- */

/* A conv with weight norm over dim 0: weight_g [out,1,1], weight_v [out,in,k] (transposed
 * convs: [in,out,k] with g over in), bias [bias_dim]. */
static void wn_conv(nn_spec_list *l, int d0, int d1, int k, int bias_dim, const char *name)
{
    nn_spec_add(l, S(bias_dim), "%s.bias", name);
    nn_spec_add(l, S(d0, 1, 1), "%s.weight_g", name);
    nn_spec_add(l, S(d0, d1, k), "%s.weight_v", name);
}

static void conv(nn_spec_list *l, int out, int in, int k, const char *name)
{
    nn_spec_add(l, S(out, in, k), "%s.weight", name);
    nn_spec_add(l, S(out), "%s.bias", name);
}

static void text_encoder(nn_spec_list *l, const rvc_synth_config *c)
{
    int H = c->hidden;
    linear(l, H, c->phone_dim, "enc_p.emb_phone");
    if (c->f0) nn_spec_add(l, S(256, H), "enc_p.emb_pitch.weight");
    char name[96];
    for (int i = 0; i < c->n_layers; i++) {
        static const char *const qkvo[] = {"conv_q", "conv_k", "conv_v", "conv_o"};
        for (int k = 0; k < 4; k++) {
            snprintf(name, sizeof name, "enc_p.encoder.attn_layers.%d.%s", i, qkvo[k]);
            conv(l, H, H, 1, name);
        }
        nn_spec_add(l, S(1, 2 * RVC_WINDOW + 1, H / c->n_heads), "enc_p.encoder.attn_layers.%d.emb_rel_k", i);
        nn_spec_add(l, S(1, 2 * RVC_WINDOW + 1, H / c->n_heads), "enc_p.encoder.attn_layers.%d.emb_rel_v", i);
        for (int n = 1; n <= 2; n++) {
            nn_spec_add(l, S(H), "enc_p.encoder.norm_layers_%d.%d.gamma", n, i);
            nn_spec_add(l, S(H), "enc_p.encoder.norm_layers_%d.%d.beta", n, i);
        }
        snprintf(name, sizeof name, "enc_p.encoder.ffn_layers.%d.conv_1", i);
        conv(l, c->filter, H, c->kernel, name);
        snprintf(name, sizeof name, "enc_p.encoder.ffn_layers.%d.conv_2", i);
        conv(l, H, c->filter, c->kernel, name);
    }
    conv(l, 2 * c->inter, H, 1, "enc_p.proj");
}

/* modules.WN: speaker cond_layer, dilation-1 in_layers of the given kernel, res_skip_layers
 * (the last one only a skip of H channels). */
static void wavenet(nn_spec_list *l, int H, int gin, int layers, int kernel, const char *prefix)
{
    char name[128];
    snprintf(name, sizeof name, "%s.cond_layer", prefix);
    wn_conv(l, 2 * H * layers, gin, 1, 2 * H * layers, name);
    for (int i = 0; i < layers; i++) {
        snprintf(name, sizeof name, "%s.in_layers.%d", prefix, i);
        wn_conv(l, 2 * H, H, kernel, 2 * H, name);
        int rs = i + 1 < layers ? 2 * H : H;
        snprintf(name, sizeof name, "%s.res_skip_layers.%d", prefix, i);
        wn_conv(l, rs, H, 1, rs, name);
    }
}

/* ResidualCouplingBlock: 4 coupling layers (flows 0, 2, 4, 6; odd ones are Flips), WN of 3 layers, kernel 5. */
static void flow(nn_spec_list *l, const rvc_synth_config *c)
{
    int H = c->hidden, half = c->inter / 2;
    char name[96];
    for (int f = 0; f < 8; f += 2) {
        snprintf(name, sizeof name, "flow.flows.%d.pre", f);
        conv(l, H, half, 1, name);
        snprintf(name, sizeof name, "flow.flows.%d.enc", f);
        wavenet(l, H, c->gin, 3, 5, name);
        snprintf(name, sizeof name, "flow.flows.%d.post", f);
        conv(l, half, H, 1, name);
    }
}

static void decoder_stage(nn_spec_list *l, const rvc_synth_config *c, int i)
{
    int in = c->upsample_initial >> i, out = in / 2;
    char name[96];
    snprintf(name, sizeof name, "dec.ups.%d", i);
    wn_conv(l, in, out, c->upsample_kernels[i], out, name);
    if (c->f0) {
        int stride = 1;
        for (int j = i + 1; j < c->n_ups; j++) stride *= c->upsample_rates[j];
        snprintf(name, sizeof name, "dec.noise_convs.%d", i);
        conv(l, out, 1, i + 1 < c->n_ups ? 2 * stride : 1, name);
    }
    for (int k = 0; k < c->n_kernels; k++)
        for (int n = 1; n <= 2; n++)
            for (int d = 0; d < 3; d++) {
                snprintf(name, sizeof name, "dec.resblocks.%d.convs%d.%d", i * c->n_kernels + k, n, d);
                wn_conv(l, out, out, c->resblock_kernels[k], out, name);
            }
}

static void decoder(nn_spec_list *l, const rvc_synth_config *c)
{
    conv(l, c->upsample_initial, c->inter, 7, "dec.conv_pre");
    conv(l, c->upsample_initial, c->gin, 1, "dec.cond");
    if (c->f0) linear(l, 1, 1, "dec.m_source.l_linear");
    for (int i = 0; i < c->n_ups; i++) decoder_stage(l, c, i);
    nn_spec_add(l, S(1, c->upsample_initial >> c->n_ups, 7), "dec.conv_post.weight");
}

size_t rvc_synth_tensor_specs(const rvc_synth_config *c, nn_tensor_spec **specs)
{
    nn_spec_list l = {0};
    nn_spec_add(&l, S(c->spk_embed_dim, c->gin), "emb_g.weight");
    text_encoder(&l, c);
    flow(&l, c);
    decoder(&l, c);
    return nn_spec_finish(&l, specs);
}

/* ---- training: posterior encoder and discriminator ---- */

size_t rvc_generator_tensor_specs(const rvc_synth_config *c, int spec_channels, nn_tensor_spec **specs)
{
    nn_spec_list l = {0};
    nn_spec_add(&l, S(c->spk_embed_dim, c->gin), "emb_g.weight");
    text_encoder(&l, c);
    decoder(&l, c);
    flow(&l, c);
    conv(&l, c->hidden, spec_channels, 1, "enc_q.pre");
    wavenet(&l, c->hidden, c->gin, 16, 5, "enc_q.enc");
    conv(&l, 2 * c->inter, c->hidden, 1, "enc_q.proj");
    return nn_spec_finish(&l, specs);
}

static int gcd(int a, int b) { return b ? gcd(b, a % b) : a; }
static int scaled(int c, int divisor) { return c == 1 ? 1 : (c / divisor > 2 ? c / divisor : 2); }

/* One weight-normed conv of the discriminator (bias, g, v; 2-D kernels (K, 1) for periods). */
static void disc_conv(nn_spec_list *l, int in, int out, int k, int groups, int two_d, const char *name)
{
    nn_spec_add(l, S(out), "%s.bias", name);
    if (two_d) {
        nn_spec_add(l, S(out, 1, 1, 1), "%s.weight_g", name);
        nn_spec_add(l, S(out, in / groups, k, 1), "%s.weight_v", name);
    } else {
        nn_spec_add(l, S(out, 1, 1), "%s.weight_g", name);
        nn_spec_add(l, S(out, in / groups, k), "%s.weight_v", name);
    }
}

static void disc_s(nn_spec_list *l, int divisor)
{
    static const int io[7][4] = {{1, 16, 15, 1},      {16, 64, 41, 4},       {64, 256, 41, 16}, {256, 1024, 41, 64},
                                 {1024, 1024, 41, 256}, {1024, 1024, 5, 1}, {1024, 1, 3, 1}};
    char name[96];
    for (int i = 0; i < 7; i++) {
        int in = scaled(io[i][0], divisor), out = scaled(io[i][1], divisor), groups = gcd(gcd(io[i][3], in), out);
        if (i < 6) snprintf(name, sizeof name, "discriminators.0.convs.%d", i);
        else snprintf(name, sizeof name, "discriminators.0.conv_post");
        disc_conv(l, in, out, io[i][2], groups, 0, name);
    }
}

static void disc_p(nn_spec_list *l, int index, int divisor)
{
    static const int ch[7] = {1, 32, 128, 512, 1024, 1024, 1};
    char name[96];
    for (int i = 0; i < 6; i++) {
        if (i < 5) snprintf(name, sizeof name, "discriminators.%d.convs.%d", index, i);
        else snprintf(name, sizeof name, "discriminators.%d.conv_post", index);
        disc_conv(l, scaled(ch[i], divisor), scaled(ch[i + 1], divisor), i < 5 ? 5 : 3, 1, 1, name);
    }
}

size_t rvc_disc_tensor_specs(const int *periods, int n_periods, int divisor, nn_tensor_spec **specs)
{
    nn_spec_list l = {0};
    (void)periods; /* the layout depends on how many periods there are, not on their values */
    disc_s(&l, divisor < 1 ? 1 : divisor);
    for (int i = 0; i < n_periods; i++) disc_p(&l, i + 1, divisor < 1 ? 1 : divisor);
    return nn_spec_finish(&l, specs);
}
