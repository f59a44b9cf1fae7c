/*
 * HuBERT base content features for RVC (fairseq HubertModel semantics, inference):
 *   7 strided convs on the 16 kHz waveform (GroupNorm after the first, GELU after each),
 *   LayerNorm + projection, weight-normed positional conv (kernel 128, groups 16, last sample
 *   dropped) added, LayerNorm, post-LN transformer layers.
 *   RVC v2 takes the output of layer 12 (768-d); v1 takes layer 9 through final_proj (256-d).
 * Loads fairseq's hubert_base.pt (keys under "model."), a safetensors copy of it, or the
 * Hugging Face HubertModel layout (RVC's assets/hubert_base) — the key names differ only.
 */
#ifndef VC_MODELS_HUBERT_H
#define VC_MODELS_HUBERT_H

#include "base/error.h"
#include "nn/weights.h"

#define HUBERT_CONV_LAYERS 7
#define HUBERT_MAX_LAYERS 24

typedef struct hubert_layer {
    const float *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *o_w, *o_b, *ln1_w, *ln1_b, *fc1_w, *fc1_b, *fc2_w, *fc2_b, *ln2_w, *ln2_b;
} hubert_layer;

typedef struct hubert_model {
    int conv_dim, embed, ffn, heads, layers, final_dim, pos_kernel, pos_groups;
    int conv_kernel[HUBERT_CONV_LAYERS], conv_stride[HUBERT_CONV_LAYERS];
    const float *conv_w[HUBERT_CONV_LAYERS], *gn_w, *gn_b, *fp_ln_w, *fp_ln_b, *fp_w, *fp_b;
    float *pos_w; /* folded weight norm [embed, embed/groups, kernel] */
    struct nn_wcache *wc; /* the convolutions' kernels in the backend's formats (nn/wcache.h) */
    const float *pos_b, *enc_ln_w, *enc_ln_b, *final_w, *final_b;
    hubert_layer layer[HUBERT_MAX_LAYERS];
} hubert_model;

/* heads: attention heads (not derivable from the weights: 12 for hubert_base; a fairseq
 * checkpoint's cfg says it). prefix: "" or "model." (hubert_base.pt). */
int hubert_load(hubert_model *m, const nn_weights *w, const char *prefix, int heads, vc_error *err);
void hubert_free(hubert_model *m);

/* Frames for n samples: after the conv stack (320× downsampling). */
int hubert_frames(const hubert_model *m, int n_samples);

typedef void (*hubert_tap_fn)(void *ctx, const char *name, const float *data, int rows, int cols);

/* wave [n] (16 kHz, not normalised) → feats [frames, embed] after layer `output_layer`
 * (1-based); with final_proj set, → [frames, final_dim] through final_proj (RVC v1). */
int hubert_extract(const hubert_model *m, const float *wave, int n, int output_layer, int final_proj, float *feats,
                   hubert_tap_fn tap, void *tap_ctx, vc_error *err);
/* The same, polling cancelled(ctx) before each transformer layer's attention and feed-forward
 * halves and, in the convolutional
 * feature encoder and the positional convolution, before every HUBERT_CONV_CHUNK output frames of
 * each convolution and of each GELU after one, and before every NN_GN_BLOCK channels of the
 * GroupNorm after the first convolution: non-zero stops the pass with VC_ERR_CANCELLED (a
 * pass over a long input takes seconds, the feature encoder alone tens of seconds for a minute of
 * audio on a loaded 2-core machine). Both functions compute in the same chunks, so a hook that
 * never asks for a stop gives exactly hubert_extract's features. */
#define HUBERT_CONV_CHUNK 4096
typedef int (*hubert_cancel_fn)(void *ctx);
int hubert_extract_cancellable(const hubert_model *m, const float *wave, int n, int output_layer, int final_proj,
                               float *feats, hubert_cancel_fn cancelled, void *ctx, vc_error *err);

#endif
