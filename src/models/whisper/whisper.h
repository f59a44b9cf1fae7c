/*
 * OpenAI Whisper on our engine: log-mel front end, audio encoder, text decoder with a KV
 * cache. Weights are the official checkpoints (`.pt`: {"dims", "model_state_dict"}, read by the
 * restricted unpickler) or a safetensors file with the same key names. Activations are
 * time-major [T, C] (nn/layers.h); the mel is channel-major [n_mels, frames] as Whisper's.
 *
 * Decoding and long-form transcription: whisper_decode.h. Golden cases: whisper_golden.c.
 */
#ifndef VC_MODELS_WHISPER_H
#define VC_MODELS_WHISPER_H

#include <stddef.h>

#include "base/error.h"
#include "nn/weights.h"

#define WHISPER_SAMPLE_RATE 16000
#define WHISPER_N_FFT 400
#define WHISPER_HOP 160
#define WHISPER_N_BINS (WHISPER_N_FFT / 2 + 1)
#define WHISPER_CHUNK_SAMPLES 480000 /* 30 s */
#define WHISPER_N_FRAMES 3000        /* mel frames of a 30 s window */

typedef struct whisper_dims {
    int n_mels, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer;
    int n_vocab, n_text_ctx, n_text_state, n_text_head, n_text_layer;
} whisper_dims;

typedef struct whisper_attn_w {
    const float *wq, *bq, *wk, *wv, *bv, *wo, *bo; /* [S, S] / [S]; key has no bias */
} whisper_attn_w;

typedef struct whisper_block_w {
    const float *attn_ln_w, *attn_ln_b;
    whisper_attn_w attn;
    const float *cross_ln_w, *cross_ln_b; /* decoder only */
    whisper_attn_w cross;
    const float *mlp_ln_w, *mlp_ln_b, *mlp0_w, *mlp0_b, *mlp2_w, *mlp2_b; /* [4S, S], [S, 4S] */
} whisper_block_w;

struct nn_pool;

typedef struct whisper_model {
    whisper_dims dims;
    int multilingual, num_languages;
    nn_weights *file; /* owns every weight pointer below */
    const float *conv1_w, *conv1_b, *conv2_w, *conv2_b, *enc_pos, *ln_post_w, *ln_post_b;
    const float *tok_emb, *dec_pos, *dec_ln_w, *dec_ln_b;
    whisper_block_w *enc, *dec;
    float *mel_filters; /* [n_mels, 201] */
    struct nn_pool *pool;
} whisper_model;

/* Loads weights (.pt or .safetensors; dims from the checkpoint, or inferred from the shapes). */
int whisper_load(whisper_model *m, const char *path, vc_error *err);
void whisper_free(whisper_model *m);

/* ---- front end (whisper_mel.c) ---- */

/* librosa mel filters (Slaney scale and area norm, 0..8 kHz) for n_fft 400 at 16 kHz: fb [n_mels, 201]. */
void whisper_mel_filters(float *fb, int n_mels);
/* Frames of log_mel_spectrogram(audio of n samples + pad zeros): (n + pad) / 160. */
int whisper_mel_frames(size_t n, size_t pad);
/* Whisper's log-mel of x[n] followed by `pad` zeros → mel [n_mels, frames] (channel-major). */
int whisper_log_mel(const whisper_model *m, const float *x, size_t n, size_t pad, float *mel, vc_error *err);

/* ---- encoder (whisper_encoder.c) ---- */

/* Optional stage observer: name, data [rows, cols] time-major. */
typedef void (*whisper_tap_fn)(void *ctx, const char *name, const float *data, int rows, int cols);

/* mel [n_mels, 3000] → features [n_audio_ctx, n_audio_state]. */
int whisper_encode_audio(const whisper_model *m, const float *mel, float *features, whisper_tap_fn tap, void *tap_ctx,
                         vc_error *err);

/* ---- decoder (whisper_decoder.c) ---- */

/* Per-window decoder state: cross-attention K/V of the audio features (computed once) and the
 * self-attention KV cache (grows by the tokens fed). */
typedef struct whisper_kv {
    const whisper_model *m;
    float *cross_k; /* per layer [heads][n_audio_ctx][dh], scaled by dh^-1/4 */
    float *cross_v; /* per layer [heads][dh][n_audio_ctx] */
    float *self_k;  /* per layer [heads][n_text_ctx][dh], scaled */
    float *self_v;  /* per layer [heads][n_text_ctx][dh] */
    int n_cached;
    float *scratch;
} whisper_kv;

int whisper_kv_init(whisper_kv *kv, const whisper_model *m, const float *features, vc_error *err);
void whisper_kv_reset(whisper_kv *kv); /* empties the self-attention cache, keeps the audio */
void whisper_kv_free(whisper_kv *kv);

/* Feeds n tokens after the cached ones → logits [n, n_vocab]. Taps: decoder.embed,
 * decoder.block.{i}, decoder.ln. */
int whisper_decoder_forward(whisper_kv *kv, const int *tokens, int n, float *logits, whisper_tap_fn tap,
                            void *tap_ctx, vc_error *err);

#endif
