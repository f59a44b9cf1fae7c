/*
 * F5-TTS v1 (DiT backbone, conditional flow matching) — model, sampler and the official
 * inference pipeline, in C. Sizes are read from the weight file itself, so the released
 * F5TTS_v1_Base (dim 1024, depth 22, 16 heads, text_dim 512, 4 ConvNeXt layers) and any smaller
 * configuration load through the same code.
 *
 * Shapes (batch 1, N = total frames = reference + generated, D = dim, Dt = text_dim):
 *   mel / noise / cond  [N, 100] time-major      text ids  [Nt] vocab indices
 *   DiT output (flow)   [N, 100]                 waveform  24 kHz mono
 */
#ifndef VC_MODELS_F5TTS_H
#define VC_MODELS_F5TTS_H

#include <stdint.h>

#include "base/error.h"
#include "nn/weights.h"

#define F5_MEL_DIM 100
#define F5_HEAD_DIM 64
#define F5_SAMPLE_RATE 24000
#define F5_HOP 256
#define F5_N_FFT 1024
#define F5_TARGET_RMS 0.1f

typedef struct f5_text_block {
    const float *dw_w, *dw_b, *norm_w, *norm_b, *pw1_w, *pw1_b, *grn_gamma, *grn_beta, *pw2_w, *pw2_b;
} f5_text_block;

typedef struct f5_dit_block {
    const float *mod_w, *mod_b;                      /* attn_norm.linear: [6D, D] */
    const float *q_w, *q_b, *k_w, *k_b, *v_w, *v_b;  /* [H·64, D] */
    const float *o_w, *o_b;                          /* to_out.0: [D, H·64] */
    const float *ff1_w, *ff1_b, *ff2_w, *ff2_b;      /* ff.ff.0.0 [ff, D], ff.ff.2 [D, ff] */
} f5_dit_block;

typedef struct f5tts_model {
    int dim, depth, heads, ff_dim, text_dim, conv_layers, vocab_rows;
    const float *text_emb;                           /* [vocab_rows, Dt], row 0 = filler */
    f5_text_block *text_blocks;
    const float *time1_w, *time1_b, *time2_w, *time2_b;
    const float *proj_w, *proj_b;                    /* input_embed.proj [D, 200 + Dt] */
    const float *pos1_w, *pos1_b, *pos2_w, *pos2_b;  /* conv position embedding [D, D/16, 31] */
    f5_dit_block *blocks;
    const float *norm_out_w, *norm_out_b, *proj_out_w, *proj_out_b;
    struct nn_pool *pool; /* borrowed, may be NULL: threads for the work between GEMMs (nn/pool.h) */
    struct nn_wcache *wc; /* owned: the weights in the backend's formats, converted once (nn/wcache.h) */
} f5tts_model;

int f5tts_load(f5tts_model *m, const nn_weights *w, vc_error *err);
void f5tts_free(f5tts_model *m);

/* A tap receives named intermediate tensors (golden tests, debugging); rows × cols floats. */
typedef void (*f5_tap_fn)(void *ctx, const char *name, const float *data, int rows, int cols);

/* Text embedding: ids [n_ids] (vocab indices) → out [N, Dt]; drop_text gives the unconditional one. */
int f5_text_embed(const f5tts_model *m, const int64_t *ids, int n_ids, int N, int drop_text, float *out, vc_error *err);

/* One CFG evaluation of the DiT at flow time t on a batch of B sequences of N frames stacked
 * row-wise: x, cond [B·N, 100], text [B·N, Dt] → out [B·N, 100]. */
int f5_dit_forward(const f5tts_model *m, const float *x, const float *cond, const float *text, int B, int N, float t,
                   float *out, f5_tap_fn tap, void *tap_ctx, vc_error *err);

/* Sampler settings (official defaults: nfe 32, cfg 2, sway −1, EPSS on). */
typedef struct f5_sampler {
    int nfe;
    float cfg_strength;
    float sway;
    int use_epss;
} f5_sampler;

/* The time grid (nfe+1 values) after EPSS/linspace and sway sampling. */
void f5_time_grid(const f5_sampler *s, float *t);

typedef int (*f5_progress_fn)(void *ctx, int step, int total); /* return non-zero to cancel */

/* Euler ODE from noise [N,100] with cond [T,100] (T ≤ N) and text ids → mel [N,100]
 * (the first T frames replaced by cond, as the official sampler does). */
int f5_sample(const f5tts_model *m, const f5_sampler *s, const float *cond, int T, const int64_t *ids, int n_ids,
              int N, const float *noise, float *mel, f5_progress_fn progress, void *progress_ctx, f5_tap_fn tap,
              void *tap_ctx, vc_error *err);

#endif
