/*
 * Vocos inference (see vocos.h):
 *   x = Conv1d(n_mels→dim, k7, pad 3)(mel); x = LN(x)
 *   per block: x = x + γ ⊙ pwconv2(GELU(pwconv1(LN(dwconv_k7(x)))))
 *   x = LN(x); o = Linear(dim → n_fft+2)(x)
 *   mag = min(exp(o[:, :n_fft/2+1]), 100), φ = o[:, n_fft/2+1:]; wave = ISTFT(mag·e^{iφ})
 */
#include "models/vocos/vocos.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backend.h"
#include "nn/bind.h"
#include "nn/conv.h"
#include "nn/layers.h"
#include "nn/spectral.h"
#include "nn/wcache.h"

#define VOCOS_LN_EPS 1e-6f

static void bind_block(vocos_model *m, nn_binder *bd, int i)
{
    vocos_block *b = &m->blocks[i];
    b->dw_w = nn_bind(bd, NN_SHAPE(m->dim, 1, 7), "backbone.convnext.%d.dwconv.weight", i);
    b->dw_b = nn_bind(bd, NN_SHAPE(m->dim), "backbone.convnext.%d.dwconv.bias", i);
    b->norm_w = nn_bind(bd, NN_SHAPE(m->dim), "backbone.convnext.%d.norm.weight", i);
    b->norm_b = nn_bind(bd, NN_SHAPE(m->dim), "backbone.convnext.%d.norm.bias", i);
    b->pw1_w = nn_bind(bd, NN_SHAPE(m->intermediate, m->dim), "backbone.convnext.%d.pwconv1.weight", i);
    b->pw1_b = nn_bind(bd, NN_SHAPE(m->intermediate), "backbone.convnext.%d.pwconv1.bias", i);
    b->pw2_w = nn_bind(bd, NN_SHAPE(m->dim, m->intermediate), "backbone.convnext.%d.pwconv2.weight", i);
    b->pw2_b = nn_bind(bd, NN_SHAPE(m->dim), "backbone.convnext.%d.pwconv2.bias", i);
    b->gamma = nn_bind(bd, NN_SHAPE(m->dim), "backbone.convnext.%d.gamma", i);
}

/* Sizes come from the tensors themselves, so any Vocos configuration loads. */
static int infer_sizes(vocos_model *m, const nn_weights *w, vc_error *err)
{
    const nn_tensor *embed = nn_weights_get(w, "backbone.embed.weight");
    const nn_tensor *pw1 = nn_weights_get(w, "backbone.convnext.0.pwconv1.weight");
    const nn_tensor *head = nn_weights_get(w, "head.out.weight");
    if (!embed || embed->ndim != 3 || !pw1 || pw1->ndim != 2 || !head || head->ndim != 2)
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "not a Vocos state dict (backbone.embed / convnext / head.out missing)");
    m->dim = (int)embed->shape[0];
    m->n_mels = (int)embed->shape[1];
    m->intermediate = (int)pw1->shape[0];
    m->n_fft = (int)head->shape[0] - 2;
    m->hop = m->n_fft / 4;
    char n[96];
    for (m->layers = 0;; m->layers++) {
        snprintf(n, sizeof n, "backbone.convnext.%d.dwconv.weight", m->layers);
        if (!nn_weights_get(w, n)) break;
    }
    return 0;
}

int vocos_load(vocos_model *m, const nn_weights *w, vc_error *err)
{
    memset(m, 0, sizeof *m);
    if (infer_sizes(m, w, err) != 0) return -1;
    nn_binder bd = {.weights = w, .prefix = "", .err = err};
    m->embed_w = nn_bind(&bd, NN_SHAPE(m->dim, m->n_mels, 7), "backbone.embed.weight");
    m->embed_b = nn_bind(&bd, NN_SHAPE(m->dim), "backbone.embed.bias");
    m->norm_w = nn_bind(&bd, NN_SHAPE(m->dim), "backbone.norm.weight");
    m->norm_b = nn_bind(&bd, NN_SHAPE(m->dim), "backbone.norm.bias");
    m->final_w = nn_bind(&bd, NN_SHAPE(m->dim), "backbone.final_layer_norm.weight");
    m->final_b = nn_bind(&bd, NN_SHAPE(m->dim), "backbone.final_layer_norm.bias");
    m->head_w = nn_bind(&bd, NN_SHAPE(m->n_fft + 2, m->dim), "head.out.weight");
    m->head_b = nn_bind(&bd, NN_SHAPE(m->n_fft + 2), "head.out.bias");
    const nn_tensor *fb = nn_weights_get(w, "feature_extractor.mel_spec.mel_scale.fb");
    m->mel_fb = (fb && fb->dtype == NN_F32 && fb->ndim == 2 && fb->shape[1] == m->n_mels) ? fb->data : NULL;
    m->blocks = calloc((size_t)(m->layers > 0 ? m->layers : 1), sizeof(vocos_block));
    m->window = malloc(sizeof(float) * (size_t)m->n_fft);
    m->wc = nn_wcache_create(w);
    if (!m->blocks || !m->window || !m->wc) { vocos_free(m); return vc_fail(err, VC_ERR_NOMEM, "out of memory (vocos)"); }
    nn_hann_periodic(m->window, m->n_fft);
    for (int i = 0; i < m->layers; i++) bind_block(m, &bd, i);
    if (bd.failed) { vocos_free(m); return vc_error_wrap(err, "vocos"); }
    return 0;
}

void vocos_free(vocos_model *m)
{
    free(m->blocks);
    free(m->window);
    nn_wcache_free(m->wc);
    m->blocks = NULL;
    m->window = NULL;
    m->wc = NULL;
}

/* x [F, dim] ← x + γ ⊙ pwconv2(GELU(pwconv1(LN(dwconv(x))))); work: [F, dim] + [F, intermediate]. */
static int convnext_block(const vocos_model *m, const vocos_block *b, float *x, int F, float *work_dim,
                          float *work_mid, vc_error *err)
{
    nn_conv1d_desc dw = {m->dim, m->dim, 7, 1, 1, 3, 3, m->dim}; /* depthwise, k 7, "same" */
    if (nn_conv1d(work_dim, x, F, b->dw_w, b->dw_b, &dw, err)) return -1;
    nn_layer_norm(work_dim, work_dim, F, m->dim, b->norm_w, b->norm_b, VOCOS_LN_EPS);
    nn_linear(work_mid, work_dim, b->pw1_w, b->pw1_b, F, m->dim, m->intermediate);
    nn_apply(nn_gelu_erf, work_mid, (size_t)F * m->intermediate);
    nn_linear(work_dim, work_mid, b->pw2_w, b->pw2_b, F, m->intermediate, m->dim);
    for (int t = 0; t < F; t++)
        for (int c = 0; c < m->dim; c++) x[(size_t)t * m->dim + c] += b->gamma[c] * work_dim[(size_t)t * m->dim + c];
    return 0;
}

static int istft_head(const vocos_model *m, const float *o, int F, float *wave, vc_error *err)
{
    int bins = m->n_fft / 2 + 1;
    float *re = malloc(sizeof(float) * (size_t)F * bins), *im = malloc(sizeof(float) * (size_t)F * bins);
    if (!re || !im) { free(re); free(im); return vc_fail(err, VC_ERR_NOMEM, "out of memory (vocos head)"); }
    for (int t = 0; t < F; t++) {
        const float *row = o + (size_t)t * (m->n_fft + 2);
        for (int k = 0; k < bins; k++) {
            float mag = expf(row[k]);
            mag = mag < 100.0f ? mag : 100.0f;
            re[(size_t)t * bins + k] = mag * cosf(row[bins + k]);
            im[(size_t)t * bins + k] = mag * sinf(row[bins + k]);
        }
    }
    int rc = nn_istft(wave, re, im, F, m->n_fft, m->hop, m->window, err);
    free(re);
    free(im);
    return rc;
}

static int vocos_decode_run(const vocos_model *m, const float *mel, int frames, float *wave, vocos_tap_fn tap, void *tap_ctx,
                 vc_error *err)
{
    int F = frames;
    float *x = malloc(sizeof(float) * (size_t)F * m->dim), *work_dim = malloc(sizeof(float) * (size_t)F * m->dim);
    float *work_mid = malloc(sizeof(float) * (size_t)F * (m->intermediate > m->n_fft + 2 ? m->intermediate : m->n_fft + 2));
    int rc = -1;
    if (!x || !work_dim || !work_mid) { vc_fail(err, VC_ERR_NOMEM, "out of memory (vocos, %d frames)", F); goto done; }
    nn_conv1d_desc embed = {m->n_mels, m->dim, 7, 1, 1, 3, 3, 1};
    if (nn_conv1d(x, mel, F, m->embed_w, m->embed_b, &embed, err)) goto done;
    nn_layer_norm(x, x, F, m->dim, m->norm_w, m->norm_b, VOCOS_LN_EPS);
    for (int i = 0; i < m->layers; i++)
        if (convnext_block(m, &m->blocks[i], x, F, work_dim, work_mid, err)) goto done;
    nn_layer_norm(x, x, F, m->dim, m->final_w, m->final_b, VOCOS_LN_EPS);
    if (tap) tap(tap_ctx, "backbone", x, F, m->dim);
    nn_linear(work_mid, x, m->head_w, m->head_b, F, m->dim, m->n_fft + 2);
    if (tap) tap(tap_ctx, "head", work_mid, F, m->n_fft + 2);
    rc = istft_head(m, work_mid, F, wave, err);
done:
    free(x); free(work_dim); free(work_mid);
    return rc;
}

/* The model's compute precision (VCS_PRECISION / --precision) applies while it runs. */
int vocos_decode(const vocos_model *m, const float *mel, int frames, float *wave, vocos_tap_fn tap, void *tap_ctx,
                 vc_error *err)
{
    nn_precision_scope scope = nn_precision_enter("vocos");
    nn_wcache_scope weights = nn_wcache_enter(m->wc);
    int rc = vocos_decode_run(m, mel, frames, wave, tap, tap_ctx, err);
    nn_wcache_leave(weights);
    nn_precision_leave(scope);
    return rc;
}
