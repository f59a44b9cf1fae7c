/* RMVPE inference (see rmvpe.h). Feature maps are planes [C, H, W] with H = frames, W = mel bins. */
#include "models/rmvpe/rmvpe.h"
#include "nn/backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/bind.h"
#include "nn/conv.h"
#include "nn/wcache.h"
#include "nn/layers.h"
#include "nn/ops.h"
#include "nn/sequence.h"
#include "nn/spectral.h"

#define MAX_STAGES 8
#define MAX_BLOCKS 8
#define BN_EPS 1e-5f
#define GRU_HIDDEN 256

typedef struct bn { const float *w, *b, *mean, *var; } bn;
typedef struct res_block { const float *c1, *c2, *sc_w, *sc_b; bn b1, b2; int c_in, c_out; } res_block;
typedef struct stage { res_block blocks[MAX_BLOCKS]; int n_blocks; } stage;
typedef struct dec_stage { const float *up_w; bn up_bn; res_block blocks[MAX_BLOCKS]; int n_blocks, c_in, c_out; } dec_stage;

struct rmvpe {
    int n_enc, n_inter, en_out, n_blocks;
    bn in_bn;
    stage enc[MAX_STAGES], inter[MAX_STAGES];
    dec_stage dec[MAX_STAGES];
    const float *cnn_w, *cnn_b, *fc_w, *fc_b;
    nn_gru_weights gru[2]; /* forward, reverse */
    float mel_fb[RMVPE_MELS * 513], window[1024];
    nn_wcache *wc; /* the U-Net's kernels in the backend's formats, converted on the first pass */
    int plain;     /* rmvpe_set_plain: no blocked layout */
};

/* ---- loading -------------------------------------------------------------------------------- */

static void bind_bn(nn_binder *b, bn *n, int c, const char *name)
{
    n->w = nn_bind(b, NN_SHAPE(c), "%s.weight", name);
    n->b = nn_bind(b, NN_SHAPE(c), "%s.bias", name);
    n->mean = nn_bind(b, NN_SHAPE(c), "%s.running_mean", name);
    n->var = nn_bind(b, NN_SHAPE(c), "%s.running_var", name);
}

static void bind_res(nn_binder *b, res_block *r, int c_in, int c_out, const char *name)
{
    char n[160];
    r->c_in = c_in;
    r->c_out = c_out;
    r->c1 = nn_bind(b, NN_SHAPE(c_out, c_in, 3, 3), "%s.conv.0.weight", name);
    snprintf(n, sizeof n, "%s.conv.1", name);
    bind_bn(b, &r->b1, c_out, n);
    r->c2 = nn_bind(b, NN_SHAPE(c_out, c_out, 3, 3), "%s.conv.3.weight", name);
    snprintf(n, sizeof n, "%s.conv.4", name);
    bind_bn(b, &r->b2, c_out, n);
    r->sc_w = r->sc_b = NULL;
    if (c_in != c_out) {
        r->sc_w = nn_bind(b, NN_SHAPE(c_out, c_in, 1, 1), "%s.shortcut.weight", name);
        r->sc_b = nn_bind_has(b, "%s.shortcut.bias", name) ? nn_bind(b, NN_SHAPE(c_out), "%s.shortcut.bias", name) : NULL;
    }
}

static int count(const nn_binder *b, const char *fmt)
{
    int n = 0;
    while (n < MAX_STAGES && nn_bind_has(b, fmt, n)) n++;
    return n;
}

static void bind_stages(rmvpe *m, nn_binder *b)
{
    char n[160];
    int c_in = 1, c = m->en_out;
    bind_bn(b, &m->in_bn, 1, "unet.encoder.bn");
    for (int i = 0; i < m->n_enc; i++, c_in = c, c *= 2)
        for (int j = 0; j < m->n_blocks; j++) {
            snprintf(n, sizeof n, "unet.encoder.layers.%d.conv.%d", i, j);
            bind_res(b, &m->enc[i].blocks[j], j ? c : c_in, c, n);
        }
    int enc_out = c; /* channels after the last encoder stage, doubled */
    for (int i = 0; i < m->n_inter; i++)
        for (int j = 0; j < m->n_blocks; j++) {
            snprintf(n, sizeof n, "unet.intermediate.layers.%d.conv.%d", i, j);
            bind_res(b, &m->inter[i].blocks[j], (i == 0 && j == 0) ? enc_out / 2 : enc_out, enc_out, n);
        }
    c_in = enc_out;
    for (int i = 0; i < m->n_enc; i++, c_in /= 2) {
        dec_stage *d = &m->dec[i];
        d->c_in = c_in;
        d->c_out = c_in / 2;
        d->up_w = nn_bind(b, NN_SHAPE(c_in, c_in / 2, 3, 3), "unet.decoder.layers.%d.conv1.0.weight", i);
        snprintf(n, sizeof n, "unet.decoder.layers.%d.conv1.1", i);
        bind_bn(b, &d->up_bn, c_in / 2, n);
        for (int j = 0; j < m->n_blocks; j++) {
            snprintf(n, sizeof n, "unet.decoder.layers.%d.conv2.%d", i, j);
            bind_res(b, &d->blocks[j], j ? c_in / 2 : c_in, c_in / 2, n);
        }
    }
}

static void bind_head(rmvpe *m, nn_binder *b)
{
    static const char *const dir[2] = {"", "_reverse"};
    m->cnn_w = nn_bind(b, NN_SHAPE(3, m->en_out, 3, 3), "cnn.weight");
    m->cnn_b = nn_bind(b, NN_SHAPE(3), "cnn.bias");
    for (int d = 0; d < 2; d++) {
        m->gru[d].w_ih = nn_bind(b, NN_SHAPE(3 * GRU_HIDDEN, 3 * RMVPE_MELS), "fc.0.gru.weight_ih_l0%s", dir[d]);
        m->gru[d].w_hh = nn_bind(b, NN_SHAPE(3 * GRU_HIDDEN, GRU_HIDDEN), "fc.0.gru.weight_hh_l0%s", dir[d]);
        m->gru[d].b_ih = nn_bind(b, NN_SHAPE(3 * GRU_HIDDEN), "fc.0.gru.bias_ih_l0%s", dir[d]);
        m->gru[d].b_hh = nn_bind(b, NN_SHAPE(3 * GRU_HIDDEN), "fc.0.gru.bias_hh_l0%s", dir[d]);
    }
    m->fc_w = nn_bind(b, NN_SHAPE(RMVPE_BINS, 2 * GRU_HIDDEN), "fc.1.weight");
    m->fc_b = nn_bind(b, NN_SHAPE(RMVPE_BINS), "fc.1.bias");
}

int rmvpe_load(rmvpe **out, const nn_weights *w, const char *prefix, vc_error *err)
{
    *out = NULL;
    rmvpe *m = calloc(1, sizeof *m);
    if (!m) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    nn_binder b = {.weights = w, .prefix = prefix ? prefix : "", .err = err};
    m->n_enc = count(&b, "unet.encoder.layers.%d.conv.0.conv.0.weight");
    m->n_inter = count(&b, "unet.intermediate.layers.%d.conv.0.conv.0.weight");
    for (m->n_blocks = 0; m->n_blocks < MAX_BLOCKS && nn_bind_has(&b, "unet.encoder.layers.0.conv.%d.conv.0.weight", m->n_blocks); m->n_blocks++) {}
    char name[128];
    snprintf(name, sizeof name, "%sunet.encoder.layers.0.conv.0.conv.0.weight", b.prefix);
    const nn_tensor *first = nn_weights_get(w, name);
    if (!first || m->n_enc < 1 || m->n_inter < 1 || m->n_blocks < 1) { free(m); return vc_fail(err, VC_ERR_INVALID_FORMAT, "not an RMVPE checkpoint"); }
    m->en_out = (int)first->shape[0];
    bind_stages(m, &b);
    bind_head(m, &b);
    if (b.failed) { free(m); return vc_error_wrap(err, "RMVPE"); }
    if (!(m->wc = nn_wcache_create(w))) { free(m); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    rmvpe_mel_basis(m->mel_fb, 16000, 1024, RMVPE_MELS, 30.0, 8000.0);
    nn_hann_periodic(m->window, 1024);
    *out = m;
    return 0;
}

void rmvpe_set_plain(rmvpe *m, int plain) { m->plain = plain; }

void rmvpe_free(rmvpe *m)
{
    if (!m) return;
    nn_wcache_free(m->wc);
    free(m);
}

/* ---- mel ------------------------------------------------------------------------------------ */

static double hz_to_mel(double f) { return 2595.0 * log10(1.0 + f / 700.0); }
static double mel_to_hz(double m) { return 700.0 * (pow(10.0, m / 2595.0) - 1.0); }

void rmvpe_mel_basis(float *fb, int sr, int n_fft, int n_mels, double f_min, double f_max)
{
    int bins = n_fft / 2 + 1;
    double lo = hz_to_mel(f_min), hi = hz_to_mel(f_max), pts[n_mels + 2];
    for (int i = 0; i < n_mels + 2; i++) pts[i] = mel_to_hz(lo + (hi - lo) * i / (n_mels + 1));
    for (int m = 0; m < n_mels; m++) {
        double enorm = 2.0 / (pts[m + 2] - pts[m]);
        for (int k = 0; k < bins; k++) {
            double f = (double)sr / 2 * k / (bins - 1);
            double lower = (f - pts[m]) / (pts[m + 1] - pts[m]), upper = (pts[m + 2] - f) / (pts[m + 2] - pts[m + 1]);
            double v = fmax(0.0, fmin(lower, upper));
            fb[(size_t)m * bins + k] = (float)(v * enorm);
        }
    }
}

int rmvpe_mel(const rmvpe *m, const float *audio, int n, float *mel, vc_error *err)
{
    int frames = nn_stft_frames((size_t)n, RMVPE_HOP), bins = 513;
    float *mag = malloc(sizeof(float) * (size_t)frames * bins);
    if (!mag) return vc_fail(err, VC_ERR_NOMEM, "out of memory (RMVPE mel)");
    int rc = nn_stft_magnitude(mag, audio, (size_t)n, 1024, RMVPE_HOP, m->window, err);
    for (int f = 0; rc == 0 && f < frames; f++)
        for (int j = 0; j < RMVPE_MELS; j++) {
            const float *fb = m->mel_fb + (size_t)j * bins, *x = mag + (size_t)f * bins;
            float s = 0;
            for (int k = 0; k < bins; k++) s += fb[k] * x[k];
            mel[(size_t)f * RMVPE_MELS + j] = logf(s > 1e-5f ? s : 1e-5f);
        }
    free(mag);
    return rc;
}

/* ---- U-Net ---------------------------------------------------------------------------------- */

/* A plane [c, h, w]: plain, or in the engine's blocked layout (native). The U-Net runs blocked
 * from its first convolution to the head (every channel count is a multiple of the block), so
 * no layer converts its activations in or out. */
typedef struct plane { float *x; int c, h, w, native; } plane;

static int plane_new(plane *p, int c, int h, int w, int native)
{
    p->c = c; p->h = h; p->w = w; p->native = native;
    p->x = malloc(sizeof(float) * (size_t)c * h * w + 1);
    return p->x ? 0 : -1;
}

/* 3×3, stride 1, zero padding 1: out [co, H, W], blocked when native (from a plain or blocked
 * input), else plain from plain. */
static int conv3x3(plane *out, const plane *in, const float *w, int co, int native)
{
    vc_error err;
    if (plane_new(out, co, in->h, in->w, native) != 0) return -1;
    int rc = native ? nn_conv2d_3x3_native(out->x, in->x, in->c, in->h, in->w, w, NULL, co, !in->native, &err)
                    : nn_conv2d_3x3(out->x, in->x, in->c, in->h, in->w, w, NULL, co, &err);
    if (rc == 0) return 0;
    free(out->x);
    out->x = NULL;
    return -1;
}

static void batch_norm(plane *p, const bn *n, int relu)
{
    if (p->native) nn_batch_norm_native(p->x, p->c, (size_t)p->h * p->w, n->w, n->b, n->mean, n->var, BN_EPS, relu);
    else nn_batch_norm_planes(p->x, p->c, (size_t)p->h * p->w, n->w, n->b, n->mean, n->var, BN_EPS, relu);
}

/* The shortcut of a block whose channel count changes: b += 1×1 conv(x) + bias. */
static int shortcut(const res_block *r, const plane *x, plane *b)
{
    size_t hw = (size_t)x->h * x->w;
    vc_error err;
    if (b->native) return nn_conv2d_1x1_add_native(b->x, x->x, r->c_in, x->h, x->w, r->sc_w, r->sc_b, r->c_out, !x->native, &err);
    for (int o = 0; o < r->c_out; o++)
        for (size_t i = 0; i < hw; i++) b->x[(size_t)o * hw + i] += r->sc_b ? r->sc_b[o] : 0.0f;
    nn_gemm(0, 0, r->c_out, (int)hw, r->c_in, 1.0f, r->sc_w, r->c_in, x->x, (int)hw, 1.0f, b->x, (int)hw);
    return 0;
}

/* y = relu(bn2(conv2(relu(bn1(conv1(x)))))) + shortcut(x); x is consumed, y is blocked when
 * native. */
static int res_block_forward(const res_block *r, plane *x, int native)
{
    plane a, b;
    if (conv3x3(&a, x, r->c1, r->c_out, native) != 0) return -1;
    batch_norm(&a, &r->b1, 1);
    int rc = conv3x3(&b, &a, r->c2, r->c_out, native);
    free(a.x);
    if (rc != 0) return -1;
    batch_norm(&b, &r->b2, 1);
    if (r->sc_w) rc = shortcut(r, x, &b);
    else nn_add_into(b.x, x->x, (size_t)r->c_out * x->h * x->w); /* same shape and layout */
    free(x->x);
    *x = b;
    return rc;
}

static int avg_pool2(plane *out, const plane *in)
{
    if (plane_new(out, in->c, in->h / 2, in->w / 2, in->native) != 0) return -1;
    if (in->native) nn_avg_pool2d_2x2_native(out->x, in->x, in->c, in->h, in->w);
    else nn_avg_pool2d_2x2(out->x, in->x, in->c, in->h, in->w);
    return 0;
}

/* ConvTranspose2d(k 3, stride 2, padding 1, output_padding 1): [ci, H, W] → [co, 2H, 2W] */
static int conv_transpose3x3(plane *out, const plane *in, const float *w, int co)
{
    vc_error err;
    if (plane_new(out, co, 2 * in->h, 2 * in->w, in->native) != 0) return -1;
    int rc = in->native ? nn_conv_transpose2d_3x3_s2_native(out->x, in->x, in->c, in->h, in->w, w, co, &err)
                        : nn_conv_transpose2d_3x3_s2(out->x, in->x, in->c, in->h, in->w, w, co, &err);
    if (rc == 0) return 0;
    free(out->x);
    out->x = NULL;
    return -1;
}

/* a's channels, then b's: in either layout one copy after the other (blocked planes hold whole
 * channel blocks). */
static int concat_channels(plane *out, const plane *a, const plane *b)
{
    if (a->h != b->h || a->w != b->w || a->native != b->native || plane_new(out, a->c + b->c, a->h, a->w, a->native) != 0)
        return -1;
    size_t n = (size_t)a->h * a->w;
    memcpy(out->x, a->x, sizeof(float) * (size_t)a->c * n);
    memcpy(out->x + (size_t)a->c * n, b->x, sizeof(float) * (size_t)b->c * n);
    return 0;
}

/* The cancel hook of one pass: asked before each residual block, up-convolution and the head's
 * convolution, and inside the BiGRU every NN_GRU_POLL_STEPS steps of each direction, so a request
 * is seen within one block or 64 recurrent steps (a full-size pass over a 41 s window takes
 * seconds; one block is a small fraction of it). */
typedef struct rmvpe_stop { rmvpe_cancel_fn cancelled; void *ctx; } rmvpe_stop;

static int stopped(const rmvpe_stop *s, vc_error *err)
{
    if (s->cancelled && s->cancelled(s->ctx)) return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
    return 0;
}

static int oom(vc_error *err) { return vc_fail(err, VC_ERR_NOMEM, "out of memory (RMVPE U-Net)"); }

static int run_blocks(const res_block *blocks, int n, plane *x, int native, const rmvpe_stop *stop, vc_error *err)
{
    for (int j = 0; j < n; j++) {
        if (stopped(stop, err)) return -1;
        if (res_block_forward(&blocks[j], x, native) != 0) return oom(err);
    }
    return 0;
}

/* One decoder stage: x [2c, H, W] → up [c, 2H, 2W] ++ skip → blocks; x is replaced. */
static int decode_stage(const rmvpe *m, const dec_stage *d, const plane *skip, plane *x, const rmvpe_stop *stop,
                        vc_error *err)
{
    plane up, cat;
    if (stopped(stop, err)) return -1;
    if (conv_transpose3x3(&up, x, d->up_w, d->c_out) != 0) return oom(err);
    batch_norm(&up, &d->up_bn, 1);
    int rc = concat_channels(&cat, &up, skip);
    free(up.x);
    if (rc != 0) return oom(err);
    free(x->x);
    *x = cat;
    return run_blocks(d->blocks, m->n_blocks, x, x->native, stop, err);
}

/* x [1, T, 128] → [en_out, T, 128], blocked from the first convolution on when every channel
 * count is a multiple of the block (the official sizes: 16 … 512), else plain throughout. */
static int unet(const rmvpe *m, plane *x, const rmvpe_stop *stop, vc_error *err)
{
    plane skips[MAX_STAGES] = {{0}};
    int rc = 0, made = 0, native = !m->plain && m->en_out % nn_native_block() == 0;
    batch_norm(x, &m->in_bn, 0);
    for (int i = 0; rc == 0 && i < m->n_enc; i++) {
        rc = run_blocks(m->enc[i].blocks, m->n_blocks, x, native, stop, err);
        plane pooled;
        if (rc == 0 && avg_pool2(&pooled, x) != 0) rc = oom(err);
        if (rc == 0) { skips[made++] = *x; *x = pooled; }
    }
    for (int i = 0; rc == 0 && i < m->n_inter; i++) rc = run_blocks(m->inter[i].blocks, m->n_blocks, x, native, stop, err);
    for (int i = 0; rc == 0 && i < m->n_enc; i++) rc = decode_stage(m, &m->dec[i], &skips[made - 1 - i], x, stop, err);
    for (int i = 0; i < made; i++) free(skips[i].x);
    return rc;
}

/* ---- BiGRU + head --------------------------------------------------------------------------- */

/* The head's convolution (en_out → 3 channels, with bias) on the U-Net's output made plain
 * again: c3 [3, T, F] plain. */
static int head_conv(const rmvpe *m, const plane *x, plane *c3, vc_error *err)
{
    size_t hw = (size_t)x->h * x->w;
    float *plain = malloc(sizeof(float) * (size_t)x->c * hw + 1);
    if (!plain || plane_new(c3, 3, x->h, x->w, 0) != 0) {
        free(plain);
        return vc_fail(err, VC_ERR_NOMEM, "out of memory (RMVPE)");
    }
    if (x->native) nn_native_to_planes(plain, x->x, x->c, hw);
    else memcpy(plain, x->x, sizeof(float) * (size_t)x->c * hw);
    int rc = nn_conv2d_3x3(c3->x, plain, x->c, x->h, x->w, m->cnn_w, m->cnn_b, 3, err);
    free(plain);
    if (rc) { free(c3->x); c3->x = NULL; }
    return rc;
}

static int head(const rmvpe *m, const plane *x, int frames, float *salience, const rmvpe_stop *stop, vc_error *err)
{
    plane c3;
    int T = x->h, F = x->w, in = 3 * F, H = GRU_HIDDEN;
    if (stopped(stop, err)) return -1;
    if (head_conv(m, x, &c3, err) != 0) return -1;
    float *seq = malloc(sizeof(float) * (size_t)T * in), *bi = malloc(sizeof(float) * (size_t)T * 2 * H);
    float *logits = malloc(sizeof(float) * (size_t)T * RMVPE_BINS);
    int rc = (seq && bi && logits) ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (RMVPE)");
    for (int t = 0; rc == 0 && t < T; t++) /* [3, T, F] → [T, 3·F] (transpose(1,2).flatten) */
        for (int c = 0; c < 3; c++) memcpy(seq + (size_t)t * in + c * F, c3.x + ((size_t)c * T + t) * F, sizeof(float) * (size_t)F);
    /* the GRU asks the hook itself, every NN_GRU_POLL_STEPS steps of each direction */
    if (rc == 0) rc = nn_gru_bidirectional_cancellable(bi, seq, T, in, H, m->gru, stop->cancelled, stop->ctx, err);
    if (rc == 0) {
        for (int t = 0; t < T; t++) memcpy(logits + (size_t)t * RMVPE_BINS, m->fc_b, sizeof(float) * RMVPE_BINS);
        nn_gemm(0, 1, T, RMVPE_BINS, 2 * H, 1.0f, bi, 2 * H, m->fc_w, 2 * H, 1.0f, logits, RMVPE_BINS);
        memcpy(salience, logits, sizeof(float) * (size_t)frames * RMVPE_BINS);
        nn_sigmoid(salience, (size_t)frames * RMVPE_BINS);
    }
    free(c3.x); free(seq); free(bi); free(logits);
    return rc;
}

static int rmvpe_salience_run(const rmvpe *m, const float *mel, int frames, float *salience, const rmvpe_stop *stop,
                              vc_error *err)
{
    int T = 32 * ((frames - 1) / 32 + 1); /* zero-padded to a multiple of 32 frames */
    plane x;
    if (plane_new(&x, 1, T, RMVPE_MELS, 0) != 0) return vc_fail(err, VC_ERR_NOMEM, "out of memory (RMVPE)");
    memset(x.x, 0, sizeof(float) * (size_t)T * RMVPE_MELS);
    memcpy(x.x, mel, sizeof(float) * (size_t)frames * RMVPE_MELS);
    int rc = unet(m, &x, stop, err);
    if (rc == 0) rc = head(m, &x, frames, salience, stop, err);
    free(x.x);
    return rc;
}

void rmvpe_decode(const float *salience, int frames, float threshold, double *cents, double *f0)
{
    for (int t = 0; t < frames; t++) {
        const float *s = salience + (size_t)t * RMVPE_BINS;
        int c = 0;
        for (int i = 1; i < RMVPE_BINS; i++)
            if (s[i] > s[c]) c = i;
        double num = 0, den = 0;
        for (int i = c - 4; i <= c + 4; i++) {
            if (i < 0 || i >= RMVPE_BINS) continue; /* the official zero padding */
            double mapping = 20.0 * i + 1997.3794084376191;
            num += (double)s[i] * mapping;
            den += s[i];
        }
        cents[t] = s[c] <= threshold ? 0.0 : num / den;
        f0[t] = 10.0 * pow(2.0, cents[t] / 1200.0);
        if (f0[t] == 10.0) f0[t] = 0.0;
    }
}

/* The model's compute precision (VCS_PRECISION / --precision) applies while it runs. */
static int salience_scoped(const rmvpe *m, const float *mel, int frames, float *salience, const rmvpe_stop *stop,
                           vc_error *err)
{
    nn_precision_scope scope = nn_precision_enter("rmvpe");
    nn_wcache_scope weights = nn_wcache_enter(m->wc);
    int rc = rmvpe_salience_run(m, mel, frames, salience, stop, err);
    nn_wcache_leave(weights);
    nn_precision_leave(scope);
    return rc;
}

/* f0 of frames [core_lo, core_hi) from the salience of mel frames [lo, hi) around them. */
static int window_f0(const rmvpe *m, const float *mel, int lo, int hi, int core_lo, int core_hi, double *f0,
                     const rmvpe_stop *stop, vc_error *err)
{
    int n = hi - lo;
    float *sal = malloc(sizeof(float) * (size_t)n * RMVPE_BINS);
    double *cents = malloc(sizeof(double) * (size_t)(core_hi - core_lo));
    int rc = (sal && cents) ? salience_scoped(m, mel + (size_t)lo * RMVPE_MELS, n, sal, stop, err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (rc == 0) rmvpe_decode(sal + (size_t)(core_lo - lo) * RMVPE_BINS, core_hi - core_lo, RMVPE_THRESHOLD, cents, f0 + core_lo);
    free(sal); free(cents);
    return rc;
}

int rmvpe_f0_cancellable(const rmvpe *m, const float *audio, int n, double *f0, rmvpe_tick_fn tick, void *ctx,
                         rmvpe_cancel_fn cancelled, void *cancel_ctx, vc_error *err)
{
    const rmvpe_stop stop = {cancelled, cancel_ctx};
    int frames = nn_stft_frames((size_t)n, RMVPE_HOP);
    float *mel = malloc(sizeof(float) * (size_t)frames * RMVPE_MELS);
    int rc = mel ? rmvpe_mel(m, audio, n, mel, err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (rc == 0 && frames <= RMVPE_WINDOW) rc = window_f0(m, mel, 0, frames, 0, frames, f0, &stop, err);
    int core = RMVPE_WINDOW - 2 * RMVPE_CONTEXT;
    for (int c0 = 0; rc == 0 && frames > RMVPE_WINDOW && c0 < frames; c0 += core) {
        int c1 = c0 + core < frames ? c0 + core : frames;
        int lo = c0 - RMVPE_CONTEXT > 0 ? c0 - RMVPE_CONTEXT : 0, hi = c1 + RMVPE_CONTEXT < frames ? c1 + RMVPE_CONTEXT : frames;
        rc = window_f0(m, mel, lo, hi, c0, c1, f0, &stop, err);
        if (rc == 0 && tick && tick(ctx, (double)c1 / frames)) rc = vc_fail(err, VC_ERR_CANCELLED, "cancelled");
    }
    free(mel);
    return rc;
}

int rmvpe_f0_progress(const rmvpe *m, const float *audio, int n, double *f0, rmvpe_tick_fn tick, void *ctx,
                      vc_error *err)
{
    return rmvpe_f0_cancellable(m, audio, n, f0, tick, ctx, NULL, NULL, err);
}

int rmvpe_f0(const rmvpe *m, const float *audio, int n, double *f0, vc_error *err)
{
    return rmvpe_f0_progress(m, audio, n, f0, NULL, NULL, err);
}

int rmvpe_salience(const rmvpe *m, const float *mel, int frames, float *salience, vc_error *err)
{
    return rmvpe_salience_cancellable(m, mel, frames, salience, NULL, NULL, err);
}

int rmvpe_salience_cancellable(const rmvpe *m, const float *mel, int frames, float *salience, rmvpe_cancel_fn cancelled,
                               void *ctx, vc_error *err)
{
    const rmvpe_stop stop = {cancelled, ctx};
    return salience_scoped(m, mel, frames, salience, &stop, err);
}
