/*
 * The quick-clone pipeline (official infer_process): reference audio + its transcript + text
 * → 24 kHz speech in the reference voice. Owns the loaded models; one engine can serve many
 * requests one after another.
 */
#ifndef VC_MODELS_F5TTS_INFER_H
#define VC_MODELS_F5TTS_INFER_H

#include "audio/audio.h"
#include "models/f5tts/f5tts.h"
#include "models/f5tts/f5tts_text.h"
#include "models/vocos/vocos.h"

typedef struct f5tts_engine {
    nn_weights *dit_weights, *vocos_weights;
    f5tts_model dit;
    vocos_model vocos;
    f5_vocab vocab;
    float *mel_fb; /* [513, 100] */
    struct nn_pool *pool; /* owned: nn_pool_default_threads() threads (VCS_THREADS), lent to the DiT */
    f5_pinyin pinyin;     /* Chinese readings (empty when the pinyin data is not installed) */
} f5tts_engine;

/* Opens <dir>/model_*.safetensors (or the given files), vocab.txt and the Vocos weights. */
int f5tts_engine_open(f5tts_engine *e, const char *dit_path, const char *vocab_path, const char *vocos_path,
                      vc_error *err);
/* The same from a weights folder: <root>/f5tts/{*.safetensors, vocab.txt} and
 * <root>/vocos/{model.safetensors | pytorch_model.bin}; VC_ERR_WEIGHTS_MISSING with the install
 * command when something is absent. */
int f5tts_engine_open_dir(f5tts_engine *e, const char *weights_root, vc_error *err);
void f5tts_engine_close(f5tts_engine *e);

typedef struct f5tts_params {
    f5_sampler sampler;       /* nfe 32, cfg 2, sway −1, EPSS */
    float speed;              /* 1.0 */
    unsigned long long seed;  /* noise seed */
    float cross_fade_seconds; /* 0.15 */
    int clip_reference;       /* trim silence / clip references longer than 12 s (official preprocessing) */
    int remove_silence;       /* shorten pauses ≥ 1 s in the result (official remove_silence option); 0 */
    const float *noise;       /* optional injected initial noise [N,100] for a single chunk (tests) */
} f5tts_params;

void f5tts_params_default(f5tts_params *p);

typedef enum f5tts_phase { F5_PHASE_PREPROCESSING, F5_PHASE_ENCODING, F5_PHASE_GENERATING, F5_PHASE_VOCODING } f5tts_phase;
/* Progress: phase, chunk index/count, sampling step/total. Return non-zero to cancel. */
typedef int (*f5tts_progress_fn)(void *ctx, f5tts_phase phase, int chunk, int chunks, int step, int steps);

/* The official reference preprocessing (what clip_reference does): trims silence at both ends,
 * cuts references over 12 s at a pause, appends 50 ms of silence. In place. */
int f5tts_clip_reference(audio_buffer *a, vc_error *err);

/* Log-mel [T,100] of 24 kHz audio, T = L/256 + 1. */
int f5tts_log_mel(const f5tts_engine *e, const float *wave, size_t L, float *mel, vc_error *err);

int f5tts_synthesize(const f5tts_engine *e, const audio_buffer *ref, const char *ref_text, const char *gen_text,
                     const f5tts_params *p, f5tts_progress_fn progress, void *progress_ctx, audio_buffer *out,
                     f5_tap_fn tap, void *tap_ctx, vc_error *err);

#endif
