/*
 * Vocos mel-24kHz vocoder: ConvNeXt backbone + ISTFT head (gemelo-ai/vocos), loaded by name
 * from the released state dict (pytorch_model.bin) or a safetensors copy.
 *
 * Shapes: mel [F, n_mels] (time-major) → wave [(F−1)·hop].
 */
#ifndef VC_MODELS_VOCOS_H
#define VC_MODELS_VOCOS_H

#include "base/error.h"
#include "nn/weights.h"

typedef struct vocos_block {
    const float *dw_w, *dw_b, *norm_w, *norm_b, *pw1_w, *pw1_b, *pw2_w, *pw2_b, *gamma;
} vocos_block;

typedef struct vocos_model {
    int n_mels, dim, intermediate, layers, n_fft, hop;
    const float *embed_w, *embed_b, *norm_w, *norm_b, *final_w, *final_b, *head_w, *head_b;
    const float *mel_fb;  /* [n_fft/2+1, n_mels] when the file carries the feature extractor, else NULL */
    vocos_block *blocks;
    float *window;        /* periodic Hann [n_fft] */
    struct nn_wcache *wc; /* owned: the weights in the backend's formats, converted once (nn/wcache.h) */
} vocos_model;

/* Binds the tensors of w (which must outlive the model). n_fft/hop: 1024/256 for mel-24kHz. */
int vocos_load(vocos_model *m, const nn_weights *w, vc_error *err);
void vocos_free(vocos_model *m);

/* Optional stage taps for golden tests: backbone [F, dim], head [F, n_fft+2]. May be NULL. */
typedef void (*vocos_tap_fn)(void *ctx, const char *stage, const float *data, int rows, int cols);

int vocos_decode(const vocos_model *m, const float *mel, int frames, float *wave, vocos_tap_fn tap, void *tap_ctx,
                 vc_error *err);

#endif
