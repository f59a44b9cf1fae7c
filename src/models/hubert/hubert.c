/* HuBERT feature extraction (see hubert.h). Activations are time-major [T, C]. */
#include "models/hubert/hubert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/bind.h"
#include "nn/conv.h"
#include "nn/wcache.h"
#include "nn/layers.h"
#include "nn/ops.h"

#define HUBERT_LN_EPS 1e-5f

/* Key names of the two layouts in the same order of roles. */
typedef struct hubert_names {
    const char *conv, *gn, *fp_ln, *fp, *pos, *enc_ln, *q, *k, *v, *o, *ln1, *fc1, *fc2, *ln2, *final;
} hubert_names;

static const hubert_names FAIRSEQ = {
    "feature_extractor.conv_layers.%d.0", "feature_extractor.conv_layers.0.2", "layer_norm", "post_extract_proj",
    "encoder.pos_conv.0", "encoder.layer_norm", "encoder.layers.%d.self_attn.q_proj", "encoder.layers.%d.self_attn.k_proj",
    "encoder.layers.%d.self_attn.v_proj", "encoder.layers.%d.self_attn.out_proj", "encoder.layers.%d.self_attn_layer_norm",
    "encoder.layers.%d.fc1", "encoder.layers.%d.fc2", "encoder.layers.%d.final_layer_norm", "final_proj"};

static const hubert_names HF = {
    "feature_extractor.conv_layers.%d.conv", "feature_extractor.conv_layers.0.layer_norm", "feature_projection.layer_norm",
    "feature_projection.projection", "encoder.pos_conv_embed.conv", "encoder.layer_norm", "encoder.layers.%d.attention.q_proj",
    "encoder.layers.%d.attention.k_proj", "encoder.layers.%d.attention.v_proj", "encoder.layers.%d.attention.out_proj",
    "encoder.layers.%d.layer_norm", "encoder.layers.%d.feed_forward.intermediate_dense",
    "encoder.layers.%d.feed_forward.output_dense", "encoder.layers.%d.final_layer_norm", "final_proj"};

static const float *bind_fmt(nn_binder *b, const int64_t *shape, int ndim, const char *pattern, int i, const char *suffix)
{
    char name[160];
    snprintf(name, sizeof name, pattern, i);
    return nn_bind(b, shape, ndim, "%s.%s", name, suffix);
}

static int has_fmt(const nn_binder *b, const char *pattern, int i, const char *suffix)
{
    char name[160];
    snprintf(name, sizeof name, pattern, i);
    return nn_bind_has(b, "%s.%s", name, suffix);
}

static int infer_sizes(hubert_model *m, nn_binder *b, const hubert_names *n)
{
    char name[160];
    snprintf(name, sizeof name, "%s%s.weight", b->prefix, n->fp);
    const nn_tensor *fp = nn_weights_get(b->weights, name);
    snprintf(name, sizeof name, "%s", n->fc1);
    char full[200];
    snprintf(full, sizeof full, "%s", b->prefix);
    snprintf(name, sizeof name, n->fc1, 0);
    snprintf(full + strlen(full), sizeof full - strlen(full), "%s.weight", name);
    const nn_tensor *fc1 = nn_weights_get(b->weights, full);
    if (!fp || fp->ndim != 2 || !fc1 || fc1->ndim != 2) return vc_fail(b->err, VC_ERR_INVALID_FORMAT, "not a HuBERT checkpoint");
    m->embed = (int)fp->shape[0];
    m->conv_dim = (int)fp->shape[1];
    m->ffn = (int)fc1->shape[0];
    for (m->layers = 0; m->layers < HUBERT_MAX_LAYERS && has_fmt(b, n->q, m->layers, "weight"); m->layers++) {}
    for (int i = 0; i < HUBERT_CONV_LAYERS; i++) {
        snprintf(name, sizeof name, n->conv, i);
        snprintf(full, sizeof full, "%s%s.weight", b->prefix, name);
        const nn_tensor *c = nn_weights_get(b->weights, full);
        if (!c || c->ndim != 3) return vc_fail(b->err, VC_ERR_INVALID_FORMAT, "HuBERT conv layer %d missing", i);
        m->conv_kernel[i] = (int)c->shape[2];
        m->conv_stride[i] = m->conv_kernel[i] == 10 ? 5 : 2; /* wav2vec 2.0 / HuBERT feature encoder */
    }
    return 0;
}

static void bind_layer(hubert_model *m, nn_binder *b, const hubert_names *n, int i)
{
    hubert_layer *l = &m->layer[i];
    int E = m->embed;
    l->q_w = bind_fmt(b, NN_SHAPE(E, E), n->q, i, "weight"); l->q_b = bind_fmt(b, NN_SHAPE(E), n->q, i, "bias");
    l->k_w = bind_fmt(b, NN_SHAPE(E, E), n->k, i, "weight"); l->k_b = bind_fmt(b, NN_SHAPE(E), n->k, i, "bias");
    l->v_w = bind_fmt(b, NN_SHAPE(E, E), n->v, i, "weight"); l->v_b = bind_fmt(b, NN_SHAPE(E), n->v, i, "bias");
    l->o_w = bind_fmt(b, NN_SHAPE(E, E), n->o, i, "weight"); l->o_b = bind_fmt(b, NN_SHAPE(E), n->o, i, "bias");
    l->ln1_w = bind_fmt(b, NN_SHAPE(E), n->ln1, i, "weight"); l->ln1_b = bind_fmt(b, NN_SHAPE(E), n->ln1, i, "bias");
    l->fc1_w = bind_fmt(b, NN_SHAPE(m->ffn, E), n->fc1, i, "weight"); l->fc1_b = bind_fmt(b, NN_SHAPE(m->ffn), n->fc1, i, "bias");
    l->fc2_w = bind_fmt(b, NN_SHAPE(E, m->ffn), n->fc2, i, "weight"); l->fc2_b = bind_fmt(b, NN_SHAPE(E), n->fc2, i, "bias");
    l->ln2_w = bind_fmt(b, NN_SHAPE(E), n->ln2, i, "weight"); l->ln2_b = bind_fmt(b, NN_SHAPE(E), n->ln2, i, "bias");
}

/* Positional conv weight norm is over dim 2: w[:, :, k] = g[k] · v[:, :, k] / ‖v[:, :, k]‖. */
static int bind_pos_conv(hubert_model *m, nn_binder *b, const hubert_names *n)
{
    char name[160];
    snprintf(name, sizeof name, "%s%s.weight_v", b->prefix, n->pos);
    const nn_tensor *v = nn_weights_get(b->weights, name);
    if (!v || v->ndim != 3) return vc_fail(b->err, VC_ERR_INVALID_FORMAT, "HuBERT positional conv missing");
    m->pos_kernel = (int)v->shape[2];
    m->pos_groups = m->embed / (int)v->shape[1];
    const float *g = nn_bind(b, NN_SHAPE(1, 1, m->pos_kernel), "%s.weight_g", n->pos);
    const float *vd = nn_bind(b, NN_SHAPE(m->embed, m->embed / m->pos_groups, m->pos_kernel), "%s.weight_v", n->pos);
    m->pos_b = nn_bind(b, NN_SHAPE(m->embed), "%s.bias", n->pos);
    if (!g || !vd) return -1;
    size_t rows = (size_t)m->embed * (m->embed / m->pos_groups), K = (size_t)m->pos_kernel;
    m->pos_w = malloc(sizeof(float) * rows * K);
    if (!m->pos_w) return vc_fail(b->err, VC_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < K; k++) {
        double norm = 0;
        for (size_t r = 0; r < rows; r++) norm += (double)vd[r * K + k] * vd[r * K + k];
        float scale = (float)(g[k] / sqrt(norm));
        for (size_t r = 0; r < rows; r++) m->pos_w[r * K + k] = vd[r * K + k] * scale;
    }
    return 0;
}

int hubert_load(hubert_model *m, const nn_weights *w, const char *prefix, int heads, vc_error *err)
{
    memset(m, 0, sizeof *m);
    nn_binder b = {.weights = w, .prefix = prefix ? prefix : "", .err = err};
    const hubert_names *n = nn_bind_has(&b, "%s.weight", HF.fp) ? &HF : &FAIRSEQ;
    if (infer_sizes(m, &b, n) != 0) return -1;
    m->heads = heads > 0 ? heads : 12;
    if (m->embed % m->heads) return vc_fail(err, VC_ERR_INVALID_FORMAT, "HuBERT: %d heads do not divide %d", m->heads, m->embed);
    m->conv_w[0] = bind_fmt(&b, NN_SHAPE(m->conv_dim, 1, m->conv_kernel[0]), n->conv, 0, "weight");
    for (int i = 1; i < HUBERT_CONV_LAYERS; i++)
        m->conv_w[i] = bind_fmt(&b, NN_SHAPE(m->conv_dim, m->conv_dim, m->conv_kernel[i]), n->conv, i, "weight");
    m->gn_w = nn_bind(&b, NN_SHAPE(m->conv_dim), "%s.weight", n->gn);
    m->gn_b = nn_bind(&b, NN_SHAPE(m->conv_dim), "%s.bias", n->gn);
    m->fp_ln_w = nn_bind(&b, NN_SHAPE(m->conv_dim), "%s.weight", n->fp_ln);
    m->fp_ln_b = nn_bind(&b, NN_SHAPE(m->conv_dim), "%s.bias", n->fp_ln);
    m->fp_w = nn_bind(&b, NN_SHAPE(m->embed, m->conv_dim), "%s.weight", n->fp);
    m->fp_b = nn_bind(&b, NN_SHAPE(m->embed), "%s.bias", n->fp);
    m->enc_ln_w = nn_bind(&b, NN_SHAPE(m->embed), "%s.weight", n->enc_ln);
    m->enc_ln_b = nn_bind(&b, NN_SHAPE(m->embed), "%s.bias", n->enc_ln);
    for (int i = 0; i < m->layers; i++) bind_layer(m, &b, n, i);
    if (nn_bind_has(&b, "%s.weight", n->final)) {
        char name[160];
        snprintf(name, sizeof name, "%s%s.weight", b.prefix, n->final);
        m->final_dim = (int)nn_weights_get(w, name)->shape[0];
        m->final_w = nn_bind(&b, NN_SHAPE(m->final_dim, m->embed), "%s.weight", n->final);
        m->final_b = nn_bind(&b, NN_SHAPE(m->final_dim), "%s.bias", n->final);
    }
    if (!b.failed && bind_pos_conv(m, &b, n) != 0) b.failed = 1;
    if (b.failed) { hubert_free(m); return vc_error_wrap(err, "HuBERT"); }
    if (!(m->wc = nn_wcache_create(w))) { hubert_free(m); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    return 0;
}

void hubert_free(hubert_model *m)
{
    nn_wcache_free(m->wc);
    m->wc = NULL;
    free(m->pos_w);
    m->pos_w = NULL;
}

int hubert_frames(const hubert_model *m, int n)
{
    for (int i = 0; i < HUBERT_CONV_LAYERS; i++) n = (n - m->conv_kernel[i]) / m->conv_stride[i] + 1;
    return n;
}

/* GELU over y [T, C] in chunks of HUBERT_CONV_CHUNK frames, polling before each (a minute of
 * audio is 192 000 × 512 values after the first convolution). */
static int gelu_chunked(float *y, int T, int C, hubert_cancel_fn cancelled, void *ctx, vc_error *err)
{
    for (int t0 = 0; t0 < T; t0 += HUBERT_CONV_CHUNK) {
        if (nn_poll_cancel(cancelled, ctx, err)) return -1;
        int n = T - t0 < HUBERT_CONV_CHUNK ? T - t0 : HUBERT_CONV_CHUNK;
        nn_apply(nn_gelu_erf, y + (size_t)t0 * C, (size_t)n * C);
    }
    return 0;
}

/* wave → conv features [T, conv_dim]. The convolutions run in chunks of HUBERT_CONV_CHUNK output
 * frames with a cancel poll before each: over a long input they are seconds of work before the
 * first transformer layer. */
static int feature_encoder(const hubert_model *m, const float *wave, int n, float **out, int *T_out,
                           hubert_cancel_fn cancelled, void *ctx, vc_error *err)
{
    float *x = malloc(sizeof(float) * (size_t)n);
    if (!x) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    memcpy(x, wave, sizeof(float) * (size_t)n);
    int T = n, c_in = 1;
    for (int i = 0; i < HUBERT_CONV_LAYERS; i++) {
        nn_conv1d_desc d = {c_in, m->conv_dim, m->conv_kernel[i], m->conv_stride[i], 1, 0, 0, 1};
        int T2 = nn_conv1d_out_len(&d, T);
        if (T2 <= 0) { free(x); return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "audio too short for HuBERT"); }
        float *y = malloc(sizeof(float) * (size_t)T2 * m->conv_dim);
        if (!y) { free(x); return vc_fail(err, VC_ERR_NOMEM, "out of memory (HuBERT)"); }
        int rc = nn_conv1d_chunked(y, x, T, m->conv_w[i], NULL, &d, HUBERT_CONV_CHUNK, cancelled, ctx, err);
        if (rc == 0 && i == 0)
            rc = nn_group_norm_per_channel_cancellable(y, T2, m->conv_dim, m->gn_w, m->gn_b, 1e-5, cancelled, ctx, err);
        if (rc == 0) rc = gelu_chunked(y, T2, m->conv_dim, cancelled, ctx, err);
        free(x);
        x = y;
        if (rc != 0) { free(x); return -1; }
        T = T2;
        c_in = m->conv_dim;
    }
    *out = x;
    *T_out = T;
    return 0;
}

typedef struct layer_work { float *q, *k, *v, *att, *y, *mid, *scratch; } layer_work;

/* A post-LN layer in its two halves, attention then feed-forward, with a cancel poll before each:
 * the halves are about equal work (one layer over a minute of audio is seconds on 2 cores). */
static int transformer_layer(const hubert_model *m, const hubert_layer *l, float *x, int T, layer_work *w,
                             hubert_cancel_fn cancelled, void *ctx, vc_error *err)
{
    int E = m->embed;
    size_t n = (size_t)T * E;
    if (nn_poll_cancel(cancelled, ctx, err)) return -1;
    nn_linear(w->q, x, l->q_w, l->q_b, T, E, E);
    nn_linear(w->k, x, l->k_w, l->k_b, T, E, E);
    nn_linear(w->v, x, l->v_w, l->v_b, T, E, E);
    nn_attention(w->att, w->q, w->k, w->v, T, m->heads, E / m->heads, 1.0f / sqrtf((float)(E / m->heads)), w->scratch);
    nn_linear(w->y, w->att, l->o_w, l->o_b, T, E, E);
    for (size_t i = 0; i < n; i++) x[i] += w->y[i];
    nn_layer_norm(x, x, T, E, l->ln1_w, l->ln1_b, HUBERT_LN_EPS);
    if (nn_poll_cancel(cancelled, ctx, err)) return -1;
    nn_linear(w->mid, x, l->fc1_w, l->fc1_b, T, E, m->ffn);
    nn_apply(nn_gelu_erf, w->mid, (size_t)T * m->ffn);
    nn_linear(w->y, w->mid, l->fc2_w, l->fc2_b, T, m->ffn, E);
    for (size_t i = 0; i < n; i++) x[i] += w->y[i];
    nn_layer_norm(x, x, T, E, l->ln2_w, l->ln2_b, HUBERT_LN_EPS);
    return 0;
}

/* x [T, E] += GELU(posconv(x)) with the even kernel's last output frame dropped */
static int add_positions(const hubert_model *m, float *x, int T, hubert_cancel_fn cancelled, void *ctx, vc_error *err)
{
    int E = m->embed, K = m->pos_kernel;
    nn_conv1d_desc d = {E, E, K, 1, 1, K / 2, K / 2, m->pos_groups};
    int T2 = nn_conv1d_out_len(&d, T); /* T + 1 for an even kernel */
    float *p = malloc(sizeof(float) * (size_t)T2 * E);
    if (!p) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    int rc = nn_conv1d_chunked(p, x, T, m->pos_w, m->pos_b, &d, HUBERT_CONV_CHUNK, cancelled, ctx, err);
    if (rc == 0) {
        nn_apply(nn_gelu_erf, p, (size_t)T * E);
        for (size_t i = 0; i < (size_t)T * E; i++) x[i] += p[i];
    }
    free(p);
    return rc;
}

static int hubert_extract_run(const hubert_model *m, const float *wave, int n, int output_layer, int final_proj, float *feats,
                   hubert_tap_fn tap, void *tap_ctx, hubert_cancel_fn cancelled, void *cancel_ctx, vc_error *err)
{
    float *conv = NULL;
    int T = 0, E = m->embed;
    if (feature_encoder(m, wave, n, &conv, &T, cancelled, cancel_ctx, err) != 0) return -1;
    if (tap) tap(tap_ctx, "hubert.conv_features", conv, T, m->conv_dim);
    nn_layer_norm(conv, conv, T, m->conv_dim, m->fp_ln_w, m->fp_ln_b, HUBERT_LN_EPS);
    float *x = malloc(sizeof(float) * (size_t)T * E);
    layer_work w = {malloc(sizeof(float) * (size_t)T * E), malloc(sizeof(float) * (size_t)T * E), malloc(sizeof(float) * (size_t)T * E),
                    malloc(sizeof(float) * (size_t)T * E), malloc(sizeof(float) * (size_t)T * E),
                    malloc(sizeof(float) * (size_t)T * m->ffn), malloc(sizeof(float) * nn_attention_scratch(T, E / m->heads))};
    int rc = (x && w.q && w.k && w.v && w.att && w.y && w.mid && w.scratch) ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (HuBERT)");
    if (rc == 0) {
        nn_linear(x, conv, m->fp_w, m->fp_b, T, m->conv_dim, E);
        if (tap) tap(tap_ctx, "hubert.post_extract_proj", x, T, E);
        rc = add_positions(m, x, T, cancelled, cancel_ctx, err);
    }
    if (rc == 0) {
        if (tap) tap(tap_ctx, "hubert.pos_conv_added", x, T, E);
        nn_layer_norm(x, x, T, E, m->enc_ln_w, m->enc_ln_b, HUBERT_LN_EPS);
        if (tap) tap(tap_ctx, "hubert.encoder_input", x, T, E);
        int last = output_layer > 0 && output_layer < m->layers ? output_layer : m->layers;
        for (int i = 0; rc == 0 && i < last; i++) {
            if ((rc = transformer_layer(m, &m->layer[i], x, T, &w, cancelled, cancel_ctx, err)) != 0) break;
            char name[32];
            snprintf(name, sizeof name, "hubert.layer%02d", i + 1);
            if (tap) tap(tap_ctx, name, x, T, E);
        }
        if (rc == 0 && final_proj && m->final_w) nn_linear(feats, x, m->final_w, m->final_b, T, E, m->final_dim);
        else if (rc == 0) memcpy(feats, x, sizeof(float) * (size_t)T * E);
        if (rc == 0 && final_proj && !m->final_w) rc = vc_fail(err, VC_ERR_INVALID_FORMAT, "this HuBERT has no final_proj (needed by v1 models)");
    }
    free(conv); free(x); free(w.q); free(w.k); free(w.v); free(w.att); free(w.y); free(w.mid); free(w.scratch);
    return rc;
}

/* The model's compute precision (VCS_PRECISION / --precision) applies while it runs. */
int hubert_extract(const hubert_model *m, const float *wave, int n, int output_layer, int final_proj, float *feats,
                   hubert_tap_fn tap, void *tap_ctx, vc_error *err)
{
    nn_precision_scope scope = nn_precision_enter("hubert");
    nn_wcache_scope weights = nn_wcache_enter(m->wc);
    int rc = hubert_extract_run(m, wave, n, output_layer, final_proj, feats, tap, tap_ctx, NULL, NULL, err);
    nn_wcache_leave(weights);
    nn_precision_leave(scope);
    return rc;
}

int hubert_extract_cancellable(const hubert_model *m, const float *wave, int n, int output_layer, int final_proj,
                               float *feats, hubert_cancel_fn cancelled, void *ctx, vc_error *err)
{
    nn_precision_scope scope = nn_precision_enter("hubert");
    nn_wcache_scope weights = nn_wcache_enter(m->wc);
    int rc = hubert_extract_run(m, wave, n, output_layer, final_proj, feats, NULL, NULL, cancelled, ctx, err);
    nn_wcache_leave(weights);
    nn_precision_leave(scope);
    return rc;
}
