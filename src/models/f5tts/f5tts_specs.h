/*
 * The tensor list of an F5-TTS DiT checkpoint and of a Vocos state dict for given sizes, in
 * the released key layout. Used to write full-size random-weight models for benchmarks (the
 * real weights cannot be downloaded everywhere) and small ones for tests.
 */
#ifndef VC_MODELS_F5TTS_SPECS_H
#define VC_MODELS_F5TTS_SPECS_H

#include "nn/safetensors_write.h"

typedef struct f5tts_size {
    int dim, depth, heads, ff_mult, text_dim, conv_layers, vocab; /* vocab = text_num_embeds */
} f5tts_size;

/* F5TTS_v1_Base: dim 1024, depth 22, heads 16, ff_mult 2, text_dim 512, conv_layers 4, vocab 2545. */
extern const f5tts_size F5TTS_V1_BASE;

typedef struct vocos_size {
    int n_mels, dim, intermediate, layers, n_fft;
} vocos_size;

/* charactr/vocos-mel-24khz: 100 mels, dim 512, intermediate 1536, 8 layers, n_fft 1024. */
extern const vocos_size VOCOS_MEL_24KHZ;

/* Fills *specs (malloc'd) and returns the count; 0 when out of memory. */
size_t f5tts_tensor_specs(const f5tts_size *z, nn_tensor_spec **specs);
size_t vocos_tensor_specs(const vocos_size *z, nn_tensor_spec **specs);

#endif
