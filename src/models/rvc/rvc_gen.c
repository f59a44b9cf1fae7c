/*
 * The RVC generator as engine ops (see rvc_gen.h): one graph for training and conversion.
 * Scopes (ag_scope_keep) mark where a layer's intermediates die; in training they change
 * nothing, in conversion they keep peak memory to the live activations of the current layer.
 */
#include "models/rvc/rvc_gen.h"

#include <math.h>
#include <stdio.h>

#define WN_KERNEL 5
#define FLOW_LAYERS 3
#define N_FLOWS 4

int rvc_gen_speaker(rvc_graph *g, const int64_t *sid, int B)
{
    return ag_embedding(g->t, rvc_graph_param(g, "emb_g.weight"), sid, B, 1);
}

/* ---- text encoder ---- */

/* FFN: conv_1 (kernel K) → ReLU → conv_2, masked before each conv and after. */
static int ffn(rvc_graph *g, const rvc_gen_io *io, int x, int l)
{
    char p[96];
    int K = io->c->kernel;
    snprintf(p, sizeof p, "enc_p.encoder.ffn_layers.%d.conv_1", l);
    int h = ag_relu(g->t, rvc_graph_conv(g, ag_mask(g->t, x, io->x_mask), p, 1, 1, (K - 1) / 2, K / 2));
    snprintf(p, sizeof p, "enc_p.encoder.ffn_layers.%d.conv_2", l);
    h = rvc_graph_conv(g, ag_mask(g->t, h, io->x_mask), p, 1, 1, (K - 1) / 2, K / 2);
    return ag_mask(g->t, h, io->x_mask);
}

/* Multi-head self-attention with relative positions (window RVC_WINDOW): 1×1 q, k, v, o. */
static int attention(rvc_graph *g, const rvc_gen_io *io, int x, int l)
{
    char p[96];
    int qkv[3];
    const char *names[3] = {"q", "k", "v"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "enc_p.encoder.attn_layers.%d.conv_%s", l, names[i]);
        qkv[i] = rvc_graph_conv(g, x, p, 1, 1, 0, 0);
    }
    int rk = rvc_graph_param(g, "enc_p.encoder.attn_layers.%d.emb_rel_k", l);
    int rv = rvc_graph_param(g, "enc_p.encoder.attn_layers.%d.emb_rel_v", l);
    int a = ag_rel_attention(g->t, qkv[0], qkv[1], qkv[2], rk, rv, io->c->n_heads, RVC_WINDOW, io->lengths);
    snprintf(p, sizeof p, "enc_p.encoder.attn_layers.%d.conv_o", l);
    return rvc_graph_conv(g, a, p, 1, 1, 0, 0);
}

static int layer_norm(rvc_graph *g, int x, int which, int l)
{
    return ag_layer_norm_c(g->t, x, rvc_graph_param(g, "enc_p.encoder.norm_layers_%d.%d.gamma", which, l),
                           rvc_graph_param(g, "enc_p.encoder.norm_layers_%d.%d.beta", which, l), 1e-5f);
}

int rvc_gen_text_encoder(rvc_graph *g, const rvc_gen_io *io, int phone, const int64_t *pitch, int *m_p, int *logs_p)
{
    ag_tape *t = g->t;
    int H = io->c->hidden, C = io->c->inter;
    ag_conv_desc d1 = {1, 1, 0, 0, 1, 0, 0.0f}; /* Linear [H, D] = 1×1 conv (param dims [H, D, 1, 1]) */
    int x = ag_conv(t, phone, rvc_graph_param(g, "enc_p.emb_phone.weight"), rvc_graph_param(g, "enc_p.emb_phone.bias"), &d1);
    if (io->c->f0) /* TextEncoder(f0=False) of the _nono models has no pitch embedding */
        x = ag_add(t, x, ag_embedding(t, rvc_graph_param(g, "enc_p.emb_pitch.weight"), pitch, io->B, io->T));
    x = ag_leaky_relu(t, ag_scale(t, x, sqrtf((float)H)), 0.1f);
    x = ag_mask(t, ag_mask(t, x, io->x_mask), io->x_mask); /* TextEncoder's mask, then Encoder's */
    ag_scope s = ag_scope_open(t); /* each layer's output replaces the one before */
    for (int l = 0; l < io->c->n_layers; l++) {
        x = layer_norm(g, ag_add(t, x, attention(g, io, x, l)), 1, l);
        x = layer_norm(g, ag_add(t, x, ffn(g, io, x, l)), 2, l);
        x = ag_scope_keep(t, s, x);
    }
    x = ag_mask(t, x, io->x_mask);
    int stats = ag_mask(t, rvc_graph_conv(g, x, "enc_p.proj", 1, 1, 0, 0), io->x_mask); /* [B, 2·inter, T] */
    *m_p = ag_slice_c(t, stats, 0, C);
    *logs_p = ag_slice_c(t, stats, C, 2 * C);
    return *logs_p < 0 ? -1 : 0;
}

/* ---- WaveNet (modules.WN) with speaker conditioning ---- */

int rvc_gen_wavenet(rvc_graph *g, const rvc_gen_io *io, int x, const char *prefix, int n_layers)
{
    char p[128];
    int H = io->c->hidden, out = -1;
    snprintf(p, sizeof p, "%s.cond_layer", prefix);
    int cond = rvc_graph_conv(g, io->g, p, 1, 1, 0, 0); /* [B, 2·H·layers, 1] */
    for (int i = 0; i < n_layers; i++) {
        snprintf(p, sizeof p, "%s.in_layers.%d", prefix, i);
        int x_in = rvc_graph_conv(g, x, p, 1, 1, (WN_KERNEL - 1) / 2, (WN_KERNEL - 1) / 2); /* [B, 2H, T] */
        int acts = ag_gate(g->t, ag_add(g->t, x_in, ag_slice_c(g->t, cond, i * 2 * H, (i + 1) * 2 * H)));
        snprintf(p, sizeof p, "%s.res_skip_layers.%d", prefix, i);
        int rs = rvc_graph_conv(g, acts, p, 1, 1, 0, 0), skip = rs; /* [B, 2H, T], the last layer [B, H, T] */
        if (i < n_layers - 1) {
            x = ag_mask(g->t, ag_add(g->t, x, ag_slice_c(g->t, rs, 0, H)), io->y_mask);
            skip = ag_slice_c(g->t, rs, H, 2 * H);
        }
        out = out < 0 ? skip : ag_add(g->t, out, skip);
    }
    return ag_mask(g->t, out, io->y_mask);
}

/* ---- flows ---- */

/* One mean-only ResidualCouplingLayer: x1 ± m(x0), m = post(WN(pre(x0))). */
static int coupling(rvc_graph *g, const rvc_gen_io *io, int x, int f, int reverse)
{
    char p[96];
    ag_tape *t = g->t;
    int half = io->c->inter / 2;
    int x0 = ag_slice_c(t, x, 0, half), x1 = ag_slice_c(t, x, half, 2 * half);
    snprintf(p, sizeof p, "flow.flows.%d.pre", 2 * f);
    int h = ag_mask(t, rvc_graph_conv(g, x0, p, 1, 1, 0, 0), io->y_mask);
    snprintf(p, sizeof p, "flow.flows.%d.enc", 2 * f);
    h = rvc_gen_wavenet(g, io, h, p, FLOW_LAYERS);
    snprintf(p, sizeof p, "flow.flows.%d.post", 2 * f);
    int m = ag_mask(t, rvc_graph_conv(g, h, p, 1, 1, 0, 0), io->y_mask);
    x1 = reverse ? ag_mask(t, ag_add(t, x1, ag_scale(t, m, -1.0f)), io->y_mask) /* (x1 − m)·e^−0·mask */
                 : ag_add(t, m, ag_mask(t, x1, io->y_mask));                   /* m + x1·e^0·mask */
    return ag_concat_c(t, x0, x1);
}

int rvc_gen_flow(rvc_graph *g, const rvc_gen_io *io, int x, int reverse)
{
    ag_scope sc = ag_scope_open(g->t);
    for (int s = 0; s < N_FLOWS; s++) { /* forward: (coupling, flip) × 4; reverse: (flip, coupling⁻¹) backwards */
        int f = reverse ? N_FLOWS - 1 - s : s;
        if (reverse) x = ag_flip_c(g->t, x);
        x = coupling(g, io, x, f, reverse);
        if (!reverse) x = ag_flip_c(g->t, x);
        x = ag_scope_keep(g->t, sc, x);
    }
    return x;
}

/* ---- NSF-HiFiGAN decoder ---- */

int rvc_gen_harmonic(rvc_graph *g, int sine)
{
    ag_conv_desc d = {1, 1, 0, 0, 1, 0, 0.0f}; /* Linear(1, 1) = 1×1 conv */
    int w = rvc_graph_param(g, "dec.m_source.l_linear.weight"), b = rvc_graph_param(g, "dec.m_source.l_linear.bias");
    return ag_tanh(g->t, ag_conv(g->t, sine, w, b, &d));
}

/* ResBlock1: 3 × (x += c2(LeakyReLU(c1(LeakyReLU(x))))), c1 dilated. */
static int resblock1(rvc_graph *g, const rvc_synth_config *c, int x, int rb, int j)
{
    char p[96];
    int k = c->resblock_kernels[j];
    ag_scope s = ag_scope_open(g->t); /* x of each pair replaces the one before */
    for (int m = 0; m < 3; m++) {
        int d = c->resblock_dilations[j][m];
        snprintf(p, sizeof p, "dec.resblocks.%d.convs1.%d", rb, m);
        /* x feeds the residual add below: its activation is a copy; c1's is fused into it */
        int xt = rvc_graph_conv_lrelu(g, ag_leaky_relu(g->t, x, 0.1f), p, d, (k * d - d) / 2, 0.1f);
        snprintf(p, sizeof p, "dec.resblocks.%d.convs2.%d", rb, m);
        if (m == 0) /* x is the stage's input, which every kernel's block reads: the sum goes over xt */
            x = ag_add_into(g->t, rvc_graph_conv(g, xt, p, 1, 1, (k - 1) / 2, (k - 1) / 2), x);
        else /* x is this block's own: the convolution adds into it */
            x = rvc_graph_conv_add_into(g, xt, p, 1, (k - 1) / 2, x);
        x = ag_scope_keep(g->t, s, x);
    }
    return x;
}

/* LeakyReLU → ConvTranspose (×stride) → + the source's noise conv: x [B, C, T] → [B, C/2, T·stride],
 * kept in the stage's scope s (x, the stage's input, dies). */
static int upsample(rvc_graph *g, const rvc_synth_config *c, int x, int har, int i, ag_scope s)
{
    char p[96];
    int u = c->upsample_rates[i], k = c->upsample_kernels[i], sf = 1;
    for (int j = i + 1; j < c->n_ups; j++) sf *= c->upsample_rates[j];
    snprintf(p, sizeof p, "dec.ups.%d", i);
    x = ag_conv_transpose(g->t, ag_leaky_relu_into(g->t, x, 0.1f), rvc_graph_weight(g, p), rvc_graph_param(g, "%s.bias", p), u,
                          (k - u) / 2);
    if (har >= 0) { /* the harmonic source at this stage's rate */
        snprintf(p, sizeof p, "dec.noise_convs.%d", i); /* har is plain [B, 1, L]: written into blocked x */
        x = rvc_graph_conv_add_into(g, har, p, sf, sf > 1 ? sf / 2 : 0, x);
    }
    return ag_scope_keep(g->t, s, x);
}

int rvc_gen_decoder(rvc_graph *g, const rvc_gen_io *io, int z, int har)
{
    const rvc_synth_config *c = io->c;
    ag_tape *t = g->t;
    int x = ag_add(t, rvc_graph_conv(g, z, "dec.conv_pre", 1, 1, 3, 3), rvc_graph_conv(g, io->g, "dec.cond", 1, 1, 0, 0));
    x = ag_to_native(t, x); /* the stages in the convolutions' own layout: no reorders around them */
    ag_scope stage = ag_scope_open(t); /* each stage's output replaces the one before */
    for (int i = 0; i < c->n_ups; i++) {
        x = upsample(g, c, x, c->f0 ? har : -1, i, stage); /* without pitch: the plain HiFi-GAN Generator */
        int xs = -1;
        ag_scope s = ag_scope_open(t); /* the running sum over kernels; each resblock's work dies */
        for (int j = 0; j < c->n_kernels; j++) {
            int r = resblock1(g, c, x, i * c->n_kernels + j, j);
            xs = ag_scope_keep(t, s, xs < 0 ? r : ag_add_into(t, xs, r));
        }
        x = ag_scope_keep(t, stage, ag_scale_into(t, xs, 1.0f / (float)c->n_kernels)); /* sums and scales: nothing reads them again */
    }
    x = rvc_graph_conv(g, ag_leaky_relu_into(t, x, 0.01f), "dec.conv_post", 1, 1, 3, 3); /* F.leaky_relu's default slope */
    return ag_tanh(t, x);
}
