/*
 * RVC synthesizer inference (see rvc_synth.h), one function per official module:
 *   text_encoder   Linear(phone) + Embedding(pitch), ×√hidden, LeakyReLU, n_layers × (relative
 *                  attention + LayerNorm, conv FFN + LayerNorm), 1×1 proj → m, logs
 *   flow_reverse   4 × (channel flip, mean-only residual coupling with a gated WaveNet)
 *   sine_source    SineGen (harmonic 0) + Linear + tanh: the NSF excitation at 48/40/32 kHz
 *   decoder        conv_pre (+ speaker cond), per upsample: LeakyReLU, ConvTranspose, + noise
 *                  conv of the source, mean of ResBlock1s; LeakyReLU(0.01), conv_post, tanh
 * Models without pitch (the *_nono classes, f0 = 0) have no pitch embedding and a plain
 * HiFi-GAN decoder (Generator): the same stages minus the source.
 * All activations are time-major [T, C]; golden tests transpose to the reference's [C, T].
 */
#include "models/rvc/rvc_synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/bind.h"
#include "nn/conv.h"
#include "nn/layers.h"
#include "nn/ops.h"
#include "nn/sequence.h"

#define N_FLOWS 4
#define WN_LAYERS 3
#define WN_KERNEL 5
#define SINE_AMP 0.1f
#define NOISE_STD 0.003f

typedef struct conv { const float *w, *b; nn_conv1d_desc d; } conv;

typedef struct attn_layer {
    conv q, k, v, o, ffn1, ffn2;
    const float *rel_k, *rel_v, *n1_g, *n1_b, *n2_g, *n2_b;
} attn_layer;

typedef struct coupling { conv pre, post, cond, in_l[WN_LAYERS], res_skip[WN_LAYERS]; } coupling;
typedef struct resblock { conv c1[3], c2[3]; } resblock;
typedef struct upsample { const float *w, *b; int c_in, c_out, k, stride, pad; conv noise; } upsample;

struct rvc_synth {
    rvc_synth_config c;
    const float *phone_w, *phone_b, *pitch_emb, *emb_g, *lin_w, *lin_b;
    attn_layer *layers;
    conv proj, conv_pre, cond, conv_post;
    coupling flows[N_FLOWS];
    upsample ups[RVC_MAX_UPS];
    resblock *resblocks;
    float **owned; /* folded weight-norm kernels */
    size_t n_owned;
};

/* ---- configuration ------------------------------------------------------------------------ */

static int int_list(const json_t *a, int *out, int max, int *n)
{
    if (!json_is_array(a) || (int)json_array_size(a) > max) return -1;
    *n = (int)json_array_size(a);
    for (int i = 0; i < *n; i++) out[i] = (int)json_integer_value(json_array_get(a, (size_t)i));
    return 0;
}

static const json_t *field(const json_t *j, const char *name, size_t index)
{
    return json_is_array(j) ? json_array_get(j, index) : json_object_get(j, name);
}

int rvc_synth_config_parse(const json_t *j, rvc_synth_config *c, vc_error *err)
{
    memset(c, 0, sizeof *c);
    c->inter = (int)json_integer_value(field(j, "inter_channels", 2));
    c->hidden = (int)json_integer_value(field(j, "hidden_channels", 3));
    c->filter = (int)json_integer_value(field(j, "filter_channels", 4));
    c->n_heads = (int)json_integer_value(field(j, "n_heads", 5));
    c->n_layers = (int)json_integer_value(field(j, "n_layers", 6));
    c->kernel = (int)json_integer_value(field(j, "kernel_size", 7));
    int n_dil = 0, n_uk = 0;
    if (int_list(field(j, "resblock_kernel_sizes", 10), c->resblock_kernels, RVC_MAX_KERNELS, &c->n_kernels) != 0 ||
        !json_is_array(field(j, "resblock_dilation_sizes", 11)) ||
        int_list(field(j, "upsample_rates", 12), c->upsample_rates, RVC_MAX_UPS, &c->n_ups) != 0 ||
        int_list(field(j, "upsample_kernel_sizes", 14), c->upsample_kernels, RVC_MAX_UPS, &n_uk) != 0 || n_uk != c->n_ups)
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "RVC config: bad resblock/upsample lists");
    for (int i = 0; i < c->n_kernels; i++) {
        int n = 0;
        if (int_list(json_array_get(field(j, "resblock_dilation_sizes", 11), (size_t)i), c->resblock_dilations[i], 3, &n) != 0 || n != 3)
            return vc_fail(err, VC_ERR_INVALID_FORMAT, "RVC config: dilations must be 3 per kernel");
        n_dil++;
    }
    c->upsample_initial = (int)json_integer_value(field(j, "upsample_initial_channel", 13));
    c->spk_embed_dim = (int)json_integer_value(field(j, "spk_embed_dim", 15));
    c->gin = (int)json_integer_value(field(j, "gin_channels", 16));
    c->sr = (int)json_integer_value(field(j, "sr", 17));
    if (c->inter < 2 || c->hidden < 1 || c->n_heads < 1 || c->hidden % c->n_heads || c->n_ups < 1 || c->upsample_initial < 1 || c->sr < 8000)
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "RVC config: implausible sizes");
    return 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

static float *own(rvc_synth *s, size_t n)
{
    float **grown = realloc(s->owned, sizeof(float *) * (s->n_owned + 1));
    if (!grown) return NULL;
    s->owned = grown;
    return s->owned[s->n_owned++] = malloc(sizeof(float) * (n ? n : 1));
}

/* A conv whose kernel may be weight-normed (weight_g/weight_v) or plain (weight). */
static void bind_conv(rvc_synth *s, nn_binder *b, conv *cv, nn_conv1d_desc d, int bias, const char *name)
{
    int in_g = d.c_in / d.groups;
    cv->d = d;
    if (nn_bind_has(b, "%s.weight_v", name)) {
        const float *g = nn_bind(b, NN_SHAPE(d.c_out, 1, 1), "%s.weight_g", name);
        const float *v = nn_bind(b, NN_SHAPE(d.c_out, in_g, d.k), "%s.weight_v", name);
        float *w = g && v ? own(s, (size_t)d.c_out * in_g * d.k) : NULL;
        if (w) nn_weight_norm_fold(w, g, v, d.c_out, (size_t)in_g * d.k);
        else if (!b->failed) { vc_fail(b->err, VC_ERR_NOMEM, "out of memory"); b->failed = 1; }
        cv->w = w;
    } else {
        cv->w = nn_bind(b, NN_SHAPE(d.c_out, in_g, d.k), "%s.weight", name);
    }
    cv->b = bias ? nn_bind(b, NN_SHAPE(d.c_out), "%s.bias", name) : NULL;
}

static nn_conv1d_desc same_conv(int c_in, int c_out, int k, int dilation)
{
    int total = dilation * (k - 1);
    return (nn_conv1d_desc){c_in, c_out, k, 1, dilation, total / 2, total - total / 2, 1};
}

static void bind_encoder(rvc_synth *s, nn_binder *b)
{
    rvc_synth_config *c = &s->c;
    int H = c->hidden, kc = H / c->n_heads;
    char n[128];
    for (int i = 0; i < c->n_layers; i++) {
        attn_layer *l = &s->layers[i];
        const char *qkvo[] = {"q", "k", "v", "o"};
        conv *dst[] = {&l->q, &l->k, &l->v, &l->o};
        for (int j = 0; j < 4; j++) {
            snprintf(n, sizeof n, "enc_p.encoder.attn_layers.%d.conv_%s", i, qkvo[j]);
            bind_conv(s, b, dst[j], same_conv(H, H, 1, 1), 1, n);
        }
        l->rel_k = nn_bind(b, NN_SHAPE(1, 2 * RVC_WINDOW + 1, kc), "enc_p.encoder.attn_layers.%d.emb_rel_k", i);
        l->rel_v = nn_bind(b, NN_SHAPE(1, 2 * RVC_WINDOW + 1, kc), "enc_p.encoder.attn_layers.%d.emb_rel_v", i);
        l->n1_g = nn_bind(b, NN_SHAPE(H), "enc_p.encoder.norm_layers_1.%d.gamma", i);
        l->n1_b = nn_bind(b, NN_SHAPE(H), "enc_p.encoder.norm_layers_1.%d.beta", i);
        l->n2_g = nn_bind(b, NN_SHAPE(H), "enc_p.encoder.norm_layers_2.%d.gamma", i);
        l->n2_b = nn_bind(b, NN_SHAPE(H), "enc_p.encoder.norm_layers_2.%d.beta", i);
        snprintf(n, sizeof n, "enc_p.encoder.ffn_layers.%d.conv_1", i);
        bind_conv(s, b, &l->ffn1, same_conv(H, c->filter, c->kernel, 1), 1, n);
        snprintf(n, sizeof n, "enc_p.encoder.ffn_layers.%d.conv_2", i);
        bind_conv(s, b, &l->ffn2, same_conv(c->filter, H, c->kernel, 1), 1, n);
    }
    bind_conv(s, b, &s->proj, same_conv(H, 2 * c->inter, 1, 1), 1, "enc_p.proj");
}

static void bind_flows(rvc_synth *s, nn_binder *b)
{
    rvc_synth_config *c = &s->c;
    int half = c->inter / 2, H = c->hidden;
    char n[128];
    for (int f = 0; f < N_FLOWS; f++) {
        coupling *cp = &s->flows[f];
        snprintf(n, sizeof n, "flow.flows.%d.pre", 2 * f);
        bind_conv(s, b, &cp->pre, same_conv(half, H, 1, 1), 1, n);
        snprintf(n, sizeof n, "flow.flows.%d.post", 2 * f);
        bind_conv(s, b, &cp->post, same_conv(H, half, 1, 1), 1, n);
        snprintf(n, sizeof n, "flow.flows.%d.enc.cond_layer", 2 * f);
        bind_conv(s, b, &cp->cond, same_conv(c->gin, 2 * H * WN_LAYERS, 1, 1), 1, n);
        for (int l = 0; l < WN_LAYERS; l++) {
            snprintf(n, sizeof n, "flow.flows.%d.enc.in_layers.%d", 2 * f, l);
            bind_conv(s, b, &cp->in_l[l], same_conv(H, 2 * H, WN_KERNEL, 1), 1, n);
            snprintf(n, sizeof n, "flow.flows.%d.enc.res_skip_layers.%d", 2 * f, l);
            bind_conv(s, b, &cp->res_skip[l], same_conv(H, l < WN_LAYERS - 1 ? 2 * H : H, 1, 1), 1, n);
        }
    }
}

static void bind_upsample(rvc_synth *s, nn_binder *b, int i)
{
    rvc_synth_config *c = &s->c;
    upsample *u = &s->ups[i];
    u->c_in = c->upsample_initial >> i;
    u->c_out = c->upsample_initial >> (i + 1);
    u->k = c->upsample_kernels[i];
    u->stride = c->upsample_rates[i];
    u->pad = (u->k - u->stride) / 2;
    const float *g = nn_bind(b, NN_SHAPE(u->c_in, 1, 1), "dec.ups.%d.weight_g", i);
    const float *v = nn_bind(b, NN_SHAPE(u->c_in, u->c_out, u->k), "dec.ups.%d.weight_v", i);
    float *w = g && v ? own(s, (size_t)u->c_in * u->c_out * u->k) : NULL;
    if (w) nn_weight_norm_fold(w, g, v, u->c_in, (size_t)u->c_out * u->k);
    u->w = w;
    u->b = nn_bind(b, NN_SHAPE(u->c_out), "dec.ups.%d.bias", i);
    if (!c->f0) return; /* plain HiFi-GAN (Generator): no source to mix in */
    int stride_f0 = 1;
    for (int j = i + 1; j < c->n_ups; j++) stride_f0 *= c->upsample_rates[j];
    nn_conv1d_desc nd = stride_f0 > 1 ? (nn_conv1d_desc){1, u->c_out, 2 * stride_f0, stride_f0, 1, stride_f0 / 2, stride_f0 / 2, 1}
                                      : (nn_conv1d_desc){1, u->c_out, 1, 1, 1, 0, 0, 1};
    char n[64];
    snprintf(n, sizeof n, "dec.noise_convs.%d", i);
    bind_conv(s, b, &u->noise, nd, 1, n);
}

static void bind_decoder(rvc_synth *s, nn_binder *b)
{
    rvc_synth_config *c = &s->c;
    char n[96];
    bind_conv(s, b, &s->conv_pre, same_conv(c->inter, c->upsample_initial, 7, 1), 1, "dec.conv_pre");
    bind_conv(s, b, &s->cond, same_conv(c->gin, c->upsample_initial, 1, 1), 1, "dec.cond");
    for (int i = 0; i < c->n_ups; i++) {
        bind_upsample(s, b, i);
        for (int j = 0; j < c->n_kernels; j++) {
            resblock *r = &s->resblocks[i * c->n_kernels + j];
            int ch = s->ups[i].c_out, k = c->resblock_kernels[j];
            for (int m = 0; m < 3; m++) {
                snprintf(n, sizeof n, "dec.resblocks.%d.convs1.%d", i * c->n_kernels + j, m);
                bind_conv(s, b, &r->c1[m], same_conv(ch, ch, k, c->resblock_dilations[j][m]), 1, n);
                snprintf(n, sizeof n, "dec.resblocks.%d.convs2.%d", i * c->n_kernels + j, m);
                bind_conv(s, b, &r->c2[m], same_conv(ch, ch, k, 1), 1, n);
            }
        }
    }
    bind_conv(s, b, &s->conv_post, same_conv(s->ups[c->n_ups - 1].c_out, 1, 7, 1), 0, "dec.conv_post");
    if (!c->f0) return;
    s->lin_w = nn_bind(b, NN_SHAPE(1, 1), "dec.m_source.l_linear.weight");
    s->lin_b = nn_bind(b, NN_SHAPE(1), "dec.m_source.l_linear.bias");
}

int rvc_synth_load(rvc_synth **out, const nn_weights *w, const char *prefix, const rvc_synth_config *c, vc_error *err)
{
    *out = NULL;
    rvc_synth *s = calloc(1, sizeof *s);
    if (!s) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    s->c = *c;
    nn_binder b = {.weights = w, .prefix = prefix ? prefix : "", .err = err};
    char name[128];
    snprintf(name, sizeof name, "%senc_p.emb_phone.weight", b.prefix);
    const nn_tensor *emb = nn_weights_get(w, name);
    s->c.phone_dim = emb && emb->ndim == 2 ? (int)emb->shape[1] : 768;
    s->c.f0 = nn_bind_has(&b, "enc_p.emb_pitch.weight");
    s->layers = calloc((size_t)c->n_layers, sizeof(attn_layer));
    s->resblocks = calloc((size_t)c->n_ups * c->n_kernels, sizeof(resblock));
    if (!s->layers || !s->resblocks) { rvc_synth_free(s); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    s->phone_w = nn_bind(&b, NN_SHAPE(c->hidden, s->c.phone_dim), "enc_p.emb_phone.weight");
    s->phone_b = nn_bind(&b, NN_SHAPE(c->hidden), "enc_p.emb_phone.bias");
    if (s->c.f0) s->pitch_emb = nn_bind(&b, NN_SHAPE(256, c->hidden), "enc_p.emb_pitch.weight");
    s->emb_g = nn_bind(&b, NN_SHAPE(-1, c->gin), "emb_g.weight");
    bind_encoder(s, &b);
    bind_flows(s, &b);
    bind_decoder(s, &b);
    if (b.failed) { rvc_synth_free(s); return vc_error_wrap(err, "RVC synthesizer"); }
    *out = s;
    return 0;
}

void rvc_synth_free(rvc_synth *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n_owned; i++) free(s->owned[i]);
    free(s->owned); free(s->layers); free(s->resblocks); free(s);
}

const rvc_synth_config *rvc_synth_get_config(const rvc_synth *s) { return &s->c; }

/* ---- forward ------------------------------------------------------------------------------ */

static int run_conv(const conv *c, float *out, const float *in, int T, vc_error *err)
{
    return nn_conv1d(out, in, T, c->w, c->b, &c->d, err);
}

typedef struct enc_work { float *q, *k, *v, *att, *y, *mid, *scores; } enc_work;

static int encoder_layer(const rvc_synth *s, const attn_layer *l, float *x, int T, enc_work *w, vc_error *err)
{
    int H = s->c.hidden, kc = H / s->c.n_heads;
    if (run_conv(&l->q, w->q, x, T, err) || run_conv(&l->k, w->k, x, T, err) || run_conv(&l->v, w->v, x, T, err)) return -1;
    nn_relative_attention(w->att, w->q, w->k, w->v, T, s->c.n_heads, kc, RVC_WINDOW, l->rel_k, l->rel_v, w->scores);
    if (run_conv(&l->o, w->y, w->att, T, err)) return -1;
    for (size_t i = 0; i < (size_t)T * H; i++) x[i] += w->y[i];
    nn_layer_norm(x, x, T, H, l->n1_g, l->n1_b, 1e-5f);
    if (run_conv(&l->ffn1, w->mid, x, T, err)) return -1;
    for (size_t i = 0; i < (size_t)T * s->c.filter; i++) w->mid[i] = w->mid[i] > 0 ? w->mid[i] : 0;
    if (run_conv(&l->ffn2, w->y, w->mid, T, err)) return -1;
    for (size_t i = 0; i < (size_t)T * H; i++) x[i] += w->y[i];
    nn_layer_norm(x, x, T, H, l->n2_g, l->n2_b, 1e-5f);
    return 0;
}

/* phone [T, phone_dim], pitch [T] → stats [T, 2·inter] (m | logs) */
static int text_encoder(const rvc_synth *s, const float *phone, const int64_t *pitch, int T, float *stats, vc_error *err)
{
    int H = s->c.hidden;
    float *x = malloc(sizeof(float) * (size_t)T * H);
    enc_work w = {malloc(sizeof(float) * (size_t)T * H), malloc(sizeof(float) * (size_t)T * H), malloc(sizeof(float) * (size_t)T * H),
                  malloc(sizeof(float) * (size_t)T * H), malloc(sizeof(float) * (size_t)T * H),
                  malloc(sizeof(float) * (size_t)T * s->c.filter), malloc(sizeof(float) * (size_t)T * T)};
    int rc = (x && w.q && w.k && w.v && w.att && w.y && w.mid && w.scores) ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (text encoder)");
    if (rc == 0) {
        nn_linear(x, phone, s->phone_w, s->phone_b, T, s->c.phone_dim, H);
        for (int t = 0; t < T; t++) {
            int p = !s->c.f0 ? 0 : (int)(pitch[t] < 0 ? 0 : pitch[t] > 255 ? 255 : pitch[t]);
            const float *pe = s->c.f0 ? s->pitch_emb + (size_t)p * H : NULL; /* no-f0 models: phone only */
            for (int i = 0; i < H; i++) x[(size_t)t * H + i] = (x[(size_t)t * H + i] + (pe ? pe[i] : 0.0f)) * sqrtf((float)H);
        }
        nn_leaky_relu(x, (size_t)T * H, 0.1f);
    }
    for (int i = 0; rc == 0 && i < s->c.n_layers; i++) rc = encoder_layer(s, &s->layers[i], x, T, &w, err);
    if (rc == 0) rc = run_conv(&s->proj, stats, x, T, err);
    free(x); free(w.q); free(w.k); free(w.v); free(w.att); free(w.y); free(w.mid); free(w.scores);
    return rc;
}

/* Gated WaveNet of a coupling layer: h [T, H] → out [T, H]; gc = its speaker condition [2·H·layers]. */
static int wavenet(const coupling *cp, float *h, int T, int H, const float *gc, float *out, float *x_in, float *acts,
                   float *rs, vc_error *err)
{
    memset(out, 0, sizeof(float) * (size_t)T * H);
    for (int l = 0; l < WN_LAYERS; l++) {
        if (run_conv(&cp->in_l[l], x_in, h, T, err)) return -1;
        const float *g = gc + (size_t)l * 2 * H;
        for (int t = 0; t < T; t++)
            for (int i = 0; i < H; i++) {
                float a = x_in[(size_t)t * 2 * H + i] + g[i], b = x_in[(size_t)t * 2 * H + H + i] + g[H + i];
                acts[(size_t)t * H + i] = tanhf(a) * (1.0f / (1.0f + expf(-b)));
            }
        if (run_conv(&cp->res_skip[l], rs, acts, T, err)) return -1;
        int last = l == WN_LAYERS - 1, rs_w = last ? H : 2 * H;
        for (int t = 0; t < T; t++)
            for (int i = 0; i < H; i++) {
                if (last) out[(size_t)t * H + i] += rs[(size_t)t * rs_w + i];
                else { h[(size_t)t * H + i] += rs[(size_t)t * rs_w + i]; out[(size_t)t * H + i] += rs[(size_t)t * rs_w + H + i]; }
            }
    }
    return 0;
}

static void flip_channels(float *z, int T, int C)
{
    for (int t = 0; t < T; t++)
        for (int i = 0; i < C / 2; i++) {
            float tmp = z[(size_t)t * C + i];
            z[(size_t)t * C + i] = z[(size_t)t * C + C - 1 - i];
            z[(size_t)t * C + C - 1 - i] = tmp;
        }
}

/* z [T, inter] in place: reversed flows (flip, coupling⁻¹) × 4 */
static int flow_reverse(const rvc_synth *s, float *z, int T, const float *g, vc_error *err)
{
    int C = s->c.inter, half = C / 2, H = s->c.hidden;
    float *x0 = malloc(sizeof(float) * (size_t)T * half), *h = malloc(sizeof(float) * (size_t)T * H);
    float *out = malloc(sizeof(float) * (size_t)T * H), *x_in = malloc(sizeof(float) * (size_t)T * 2 * H);
    float *acts = malloc(sizeof(float) * (size_t)T * H), *rs = malloc(sizeof(float) * (size_t)T * 2 * H);
    float *stats = malloc(sizeof(float) * (size_t)T * half), *gc = malloc(sizeof(float) * 2 * (size_t)H * WN_LAYERS);
    int rc = (x0 && h && out && x_in && acts && rs && stats && gc) ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (flow)");
    for (int f = N_FLOWS - 1; rc == 0 && f >= 0; f--) {
        const coupling *cp = &s->flows[f];
        flip_channels(z, T, C);
        for (int t = 0; t < T; t++) memcpy(x0 + (size_t)t * half, z + (size_t)t * C, sizeof(float) * (size_t)half);
        rc = run_conv(&cp->pre, h, x0, T, err);
        if (rc == 0) rc = run_conv(&cp->cond, gc, g, 1, err);
        if (rc == 0) rc = wavenet(cp, h, T, H, gc, out, x_in, acts, rs, err);
        if (rc == 0) rc = run_conv(&cp->post, stats, out, T, err);
        for (int t = 0; rc == 0 && t < T; t++)
            for (int i = 0; i < half; i++) z[(size_t)t * C + half + i] -= stats[(size_t)t * half + i];
    }
    free(x0); free(h); free(out); free(x_in); free(acts); free(rs); free(stats); free(gc);
    return rc;
}

/* Standard normal draws when no noise is injected (LCG + Box–Muller; documented, seedable). */
static float gaussian(unsigned long long *seed)
{
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    double u1 = ((*seed >> 11) + 0.5) / 9007199254740992.0;
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    double u2 = ((*seed >> 11) + 0.5) / 9007199254740992.0;
    return (float)(sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
}

/* ---- NSF source --------------------------------------------------------------------------- */

/* SineGen with harmonic_num 0, as the official current release: phase increments per frame,
 * their running sum scaled by upp and linearly interpolated (align_corners) to samples,
 * wrap-arounds turned into −1 shifts, then sin(2π·cumsum) (nn_cumsum: torch's CPU cumsum,
 * accumulating in double); stored values are float32. */
int rvc_sine_waves(const float *f0, int T, int upp, int sr, const float *eps, unsigned long long seed, float *sine,
                   float *uv, vc_error *err)
{
    size_t L = (size_t)T * upp;
    float *rad = calloc((size_t)T + 1, sizeof(float)), *cum = malloc(sizeof(float) * ((size_t)T + 1));
    float *phase = malloc(sizeof(float) * L);
    if (!rad || !cum || !phase) { free(rad); free(cum); free(phase); return vc_fail(err, VC_ERR_NOMEM, "out of memory (sine)"); }
    for (int t = 0; t < T; t++) {
        float r = f0[t] / (float)sr;
        rad[t] = r - floorf(r);
    }
    nn_cumsum(cum, rad, (size_t)T);
    for (int t = 0; t < T; t++) cum[t] *= (float)upp;
    nn_interp_linear_align_corners(phase, L, cum, (size_t)T);
    float prev = 0;
    for (size_t o = 0; o < L; o++) { /* the interpolated phase → increments, summed below */
        float v = phase[o] - floorf(phase[o]);
        float shift = (o > 0 && v - prev < 0) ? -1.0f : 0.0f;
        prev = v;
        phase[o] = rad[o / (size_t)upp] + shift;
        uv[o] = f0[o / (size_t)upp] > 0 ? 1.0f : 0.0f;
    }
    nn_cumsum(phase, phase, L);
    for (size_t o = 0; o < L; o++) {
        float sn = sinf(phase[o] * 2.0f * (float)M_PI) * SINE_AMP;
        float amp = uv[o] * NOISE_STD + (1.0f - uv[o]) * SINE_AMP / 3.0f;
        float e = eps ? eps[o] : gaussian(&seed);
        sine[o] = sn * uv[o] + amp * e;
    }
    free(rad); free(cum); free(phase);
    return 0;
}

static int sine_source(const rvc_synth *s, const float *f0, int T, const float *eps, unsigned long long seed,
                       float *har, rvc_tap_fn tap, void *tap_ctx, vc_error *err)
{
    int upp = 1;
    for (int i = 0; i < s->c.n_ups; i++) upp *= s->c.upsample_rates[i];
    size_t L = (size_t)T * upp;
    float *sine = malloc(sizeof(float) * L), *uv = malloc(sizeof(float) * L);
    if (!sine || !uv) { free(sine); free(uv); return vc_fail(err, VC_ERR_NOMEM, "out of memory (sine)"); }
    if (rvc_sine_waves(f0, T, upp, s->c.sr, eps, seed, sine, uv, err)) { free(sine); free(uv); return -1; }
    if (tap) { tap(tap_ctx, "sine_gen.sine_waves", sine, (int)L, 1); tap(tap_ctx, "sine_gen.uv", uv, (int)L, 1); }
    for (size_t o = 0; o < L; o++) har[o] = tanhf(s->lin_w[0] * sine[o] + s->lin_b[0]);
    if (tap) tap(tap_ctx, "m_source.har_source", har, (int)L, 1);
    free(sine); free(uv);
    return 0;
}

/* ---- decoder ------------------------------------------------------------------------------ */

static int stopped(const rvc_noise *call, vc_error *err)
{
    return call && call->stop && call->stop(call->stop_ctx) ? vc_fail(err, VC_ERR_CANCELLED, "cancelled") : 0;
}

/* call->stop is asked after each of the 3 conv pairs: at full size the largest pair (32
 * channels, k 11, a 40 s chunk at 48 kHz) is ≈ 1 s of work. */
static int resblock1(const resblock *r, const float *x, int T, int ch, float *out, float *a, float *b, const rvc_noise *call,
                     vc_error *err)
{
    memcpy(out, x, sizeof(float) * (size_t)T * ch);
    for (int m = 0; m < 3; m++) {
        memcpy(a, out, sizeof(float) * (size_t)T * ch);
        nn_leaky_relu(a, (size_t)T * ch, 0.1f);
        if (run_conv(&r->c1[m], b, a, T, err)) return -1;
        nn_leaky_relu(b, (size_t)T * ch, 0.1f);
        if (run_conv(&r->c2[m], a, b, T, err)) return -1;
        nn_add_inplace(out, a, (size_t)T * ch);
        if (stopped(call, err)) return -1;
    }
    return 0;
}

/* Frames of residual-block output computed per tile: long stages (480 k frames for 10 s at
 * 48 kHz) run their residual blocks tile by tile, so their scratch is a few tile buffers instead
 * of full-length ones (≈ 250 MB each for a 40 s chunk at 48 kHz). */
#define RVC_DEC_TILE 16384

/* Receptive field, in frames each side, of residual block j: the paddings of its 6 convs. */
static int resblock_halo(const rvc_synth_config *c, int j)
{
    int k = c->resblock_kernels[j], h = 0;
    for (int m = 0; m < 3; m++) h += (k - 1) * c->resblock_dilations[j][m] / 2 + (k - 1) / 2;
    return h;
}

static int resblocks_halo(const rvc_synth_config *c)
{
    int halo = 0;
    for (int j = 0; j < c->n_kernels; j++) halo = resblock_halo(c, j) > halo ? resblock_halo(c, j) : halo;
    return halo;
}

/* The tile that starts at frame t0 of T2: it keeps frames [t0, t1) and runs on [lo, hi), its
 * frames plus `halo` on each side where the sequence has them. */
typedef struct dec_tile { int t0, t1, lo, hi; } dec_tile;

static dec_tile dec_tile_at(int t0, int T2, int halo)
{
    int t1 = t0 + RVC_DEC_TILE < T2 ? t0 + RVC_DEC_TILE : T2;
    return (dec_tile){t0, t1, t0 - halo > 0 ? t0 - halo : 0, t1 + halo < T2 ? t1 + halo : T2};
}

/* ResBlock1 on an n-frame tile in the backend's native layout, `out` = x + Σ_m c2(c1(·)) as
 * resblock1, with c1's LeakyReLU and the residual add fused into the convolutions: per conv
 * pair one element-wise pass and two convolutions, no layout conversions. */
static int resblock1_native(const resblock *r, const float *x, int n, int ch, float *out, float *a, float *b,
                            const rvc_noise *call, vc_error *err)
{
    size_t len = (size_t)n * ch;
    memcpy(out, x, sizeof(float) * len);
    for (int m = 0; m < 3; m++) {
        nn_leaky_relu_to(a, out, len, 0.1f);
        /* b [n, ch] = LeakyReLU(c1(a)); out += c2(b) */
        if (nn_conv1d_native(b, a, n, r->c1[m].w, r->c1[m].b, &r->c1[m].d, (nn_conv1d_fuse){1, 0.1f, 0}, err)) return -1;
        if (nn_conv1d_native(out, b, n, r->c2[m].w, r->c2[m].b, &r->c2[m].d, (nn_conv1d_fuse){0, 0.0f, 1}, err)) return -1;
        if (stopped(call, err)) return -1;
    }
    return 0;
}

/* acc [T2, ch] = Σ_j resblock_j(y) in the native layout, tile by tile (as resblocks_tiled): each
 * tile is converted in once and its sum out once. */
static int resblocks_native(const rvc_synth *s, int i, const float *y, int T2, int ch, float *acc, const rvc_noise *call,
                            vc_error *err)
{
    int nk = s->c.n_kernels, halo = resblocks_halo(&s->c);
    size_t cap = (size_t)(RVC_DEC_TILE + 2 * halo) * ch;
    float *buf[5] = {0};
    int rc = 0;
    for (int q = 0; q < 5; q++)
        if (!(buf[q] = malloc(sizeof(float) * cap))) rc = vc_fail(err, VC_ERR_NOMEM, "out of memory (decoder)");
    float *xn = buf[0], *sum = buf[1], *rb = buf[2], *ta = buf[3], *tb = buf[4];
    for (int t0 = 0; rc == 0 && t0 < T2; t0 += RVC_DEC_TILE) {
        dec_tile tl = dec_tile_at(t0, T2, halo);
        int n = tl.hi - tl.lo;
        nn_seq_to_native(xn, y, ch, tl.lo, n);
        for (int j = 0; rc == 0 && j < nk; j++) {
            rc = resblock1_native(&s->resblocks[i * nk + j], xn, n, ch, j ? rb : sum, ta, tb, call, err);
            if (rc == 0 && j) nn_add_inplace(sum, rb, (size_t)n * ch);
        }
        if (rc == 0) nn_seq_from_native(acc, t0, sum, n, ch, t0 - tl.lo, tl.t1 - t0);
    }
    for (int q = 0; q < 5; q++) free(buf[q]);
    return rc;
}

/* acc [T2, ch] = Σ_j resblock_j(y), tile by tile: each tile runs on its frames plus `halo` on each
 * side and keeps its own frames, which therefore see exactly the inputs of a single pass (a tile
 * edge is zero-padded only where the sequence itself ends). Channel counts the backend's native
 * layout holds (all of the full-size models') take resblocks_native instead. */
static int resblocks_tiled(const rvc_synth *s, int i, const float *y, int T2, int ch, float *acc, const rvc_noise *call,
                           vc_error *err)
{
    int block = nn_native_block();
    if (block > 0 && ch % block == 0) return resblocks_native(s, i, y, T2, ch, acc, call, err);
    int nk = s->c.n_kernels, halo = resblocks_halo(&s->c);
    size_t cap = (size_t)(RVC_DEC_TILE + 2 * halo) * ch;
    float *rb = malloc(sizeof(float) * cap), *ta = malloc(sizeof(float) * cap), *tb = malloc(sizeof(float) * cap);
    int rc = (rb && ta && tb) ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (decoder)");
    if (rc == 0) memset(acc, 0, sizeof(float) * (size_t)T2 * ch);
    for (int t0 = 0; rc == 0 && t0 < T2; t0 += RVC_DEC_TILE) {
        dec_tile tl = dec_tile_at(t0, T2, halo);
        for (int j = 0; rc == 0 && j < nk; j++) {
            rc = resblock1(&s->resblocks[i * nk + j], y + (size_t)tl.lo * ch, tl.hi - tl.lo, ch, rb, ta, tb, call, err);
            const float *keep = rb + (size_t)(t0 - tl.lo) * ch;
            if (rc == 0) nn_add_inplace(acc + (size_t)t0 * ch, keep, (size_t)(tl.t1 - t0) * ch);
        }
    }
    free(rb); free(ta); free(tb);
    return rc;
}

/* One upsampling stage: x [T, c_in] → *next [T·stride, c_out] */
static int decoder_stage(const rvc_synth *s, int i, const float *x, int T, const float *har, int L, const rvc_noise *call,
                         float **next, vc_error *err)
{
    const upsample *u = &s->ups[i];
    int T2 = (T - 1) * u->stride - 2 * u->pad + u->k, ch = u->c_out, nk = s->c.n_kernels;
    size_t n = (size_t)T2 * ch;
    float *a = malloc(sizeof(float) * (size_t)T * u->c_in), *y = malloc(sizeof(float) * n), *acc = malloc(sizeof(float) * n);
    int rc = (a && y && acc) ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (decoder)");
    if (rc == 0) {
        memcpy(a, x, sizeof(float) * (size_t)T * u->c_in);
        nn_leaky_relu(a, (size_t)T * u->c_in, 0.1f);
        rc = nn_conv_transpose1d(y, a, T, u->w, u->b, u->c_in, ch, u->k, u->stride, u->pad, err);
    }
    free(a);
    if (rc == 0 && har) { /* NSF: the harmonic source, downsampled to this stage's rate, is added (acc as scratch) */
        rc = run_conv(&u->noise, acc, har, L, err);
        if (rc == 0 && nn_conv1d_out_len(&u->noise.d, L) != T2) rc = vc_fail(err, VC_ERR_INTERNAL, "decoder: source length mismatch");
        if (rc == 0) nn_add_inplace(y, acc, n);
    }
    if (rc == 0) rc = resblocks_tiled(s, i, y, T2, ch, acc, call, err);
    for (size_t q = 0; rc == 0 && q < n; q++) acc[q] /= (float)nk;
    free(y);
    if (rc != 0) { free(acc); return -1; }
    *next = acc;
    return 0;
}

static int decoder(const rvc_synth *s, const float *z, int T, const float *g, const float *har, int L, const rvc_noise *call,
                   float *audio, vc_error *err)
{
    int C0 = s->c.upsample_initial;
    float *x = malloc(sizeof(float) * (size_t)T * C0), *cond = malloc(sizeof(float) * (size_t)C0);
    int rc = (x && cond) ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (decoder)");
    if (rc == 0) rc = run_conv(&s->conv_pre, x, z, T, err);
    if (rc == 0) rc = run_conv(&s->cond, cond, g, 1, err);
    for (int t = 0; rc == 0 && t < T; t++)
        for (int c = 0; c < C0; c++) x[(size_t)t * C0 + c] += cond[c];
    int len = T;
    for (int i = 0; rc == 0 && i < s->c.n_ups; i++) {
        float *next = NULL;
        rc = decoder_stage(s, i, x, len, har, L, call, &next, err);
        if (rc == 0) { free(x); x = next; len = (len - 1) * s->ups[i].stride - 2 * s->ups[i].pad + s->ups[i].k; }
    }
    if (rc == 0) {
        int ch = s->ups[s->c.n_ups - 1].c_out;
        nn_leaky_relu(x, (size_t)len * ch, 0.01f); /* F.leaky_relu default slope */
        rc = run_conv(&s->conv_post, audio, x, len, err);
        if (rc == 0) nn_tanh(audio, (size_t)len);
    }
    free(x); free(cond);
    return rc;
}

static int rvc_synth_infer_run(const rvc_synth *s, const float *phone, const int64_t *pitch, const float *nsff0, int T, int sid,
                    const rvc_noise *noise, float *audio, rvc_tap_fn tap, void *tap_ctx, vc_error *err)
{
    int C = s->c.inter, upp = 1;
    for (int i = 0; i < s->c.n_ups; i++) upp *= s->c.upsample_rates[i];
    if (sid < 0 || sid >= s->c.spk_embed_dim) return vc_fail(err, VC_ERR_INVALID_REQUEST, "speaker id %d out of range", sid);
    if (s->c.f0 && (!pitch || !nsff0)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "this model needs a pitch contour");
    const float *g = s->emb_g + (size_t)sid * s->c.gin;
    float *stats = malloc(sizeof(float) * (size_t)T * 2 * C), *z = malloc(sizeof(float) * (size_t)T * C);
    float *har = s->c.f0 ? malloc(sizeof(float) * (size_t)T * upp) : NULL;
    int rc = (stats && z && (har || !s->c.f0)) ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (synthesizer)");
    if (tap) tap(tap_ctx, "g", g, s->c.gin, 1);
    if (rc == 0) rc = text_encoder(s, phone, pitch, T, stats, err);
    if (rc == 0 && tap) tap(tap_ctx, "enc_p.stats", stats, T, 2 * C);
    unsigned long long seed = noise ? noise->seed : 0;
    for (int t = 0; rc == 0 && t < T; t++)
        for (int c = 0; c < C; c++) {
            float m = stats[(size_t)t * 2 * C + c], logs = stats[(size_t)t * 2 * C + C + c], e;
            e = noise && noise->prior ? noise->prior[(size_t)t * C + c] : gaussian(&seed);
            z[(size_t)t * C + c] = m + expf(logs) * e * 0.66666f;
        }
    if (rc == 0 && tap) tap(tap_ctx, "z_p", z, T, C);
    if (rc == 0) rc = flow_reverse(s, z, T, g, err);
    if (rc == 0 && tap) tap(tap_ctx, "flow_reverse.z", z, T, C);
    if (rc == 0 && s->c.f0) rc = sine_source(s, nsff0, T, noise ? noise->sine : NULL, seed, har, tap, tap_ctx, err);
    if (rc == 0) rc = decoder(s, z, T, g, har, T * upp, noise, audio, err);
    free(stats); free(z); free(har);
    return rc;
}

/* The model's compute precision (VCS_PRECISION / --precision) applies while it runs. */
int rvc_synth_infer(const rvc_synth *s, const float *phone, const int64_t *pitch, const float *nsff0, int T, int sid,
                    const rvc_noise *noise, float *audio, rvc_tap_fn tap, void *tap_ctx, vc_error *err)
{
    nn_precision_scope scope = nn_precision_enter("rvc_synth");
    int rc = rvc_synth_infer_run(s, phone, pitch, nsff0, T, sid, noise, audio, tap, tap_ctx, err);
    nn_precision_leave(scope);
    return rc;
}
