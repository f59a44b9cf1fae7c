/*
 * A prepared RVC training set, as the official recipe builds it before training
 * (infer/modules/train/preprocess.py, extract_f0_*.py, extract_feature_print.py and the
 * TextAudioLoaderMultiNSFsid data loader):
 *   decode → 48 Hz Butterworth high-pass (causal lfilter, as preprocess.py) → slice at silences (Slicer: −42 dB,
 *   min length 1.5 s, min interval 0.4 s, hop 15 ms, max silence kept 0.5 s) → 3.7 s pieces
 *   with 0.3 s overlap → peak normalisation (max 0.9, alpha 0.75; pieces peaking above 2.5
 *   dropped) → a copy at the model rate and a 16 kHz copy → HuBERT features of the 16 kHz copy
 *   (v2: last layer, 768; v1: layer 9 + final_proj, 256) and RMVPE pitch (continuous Hz and the
 *   1..255 coarse mel bins) → features repeated ×2 to 100 frames/s and every stream cut to the
 *   shortest.
 * The set is saved as one safetensors file so a training job that restarts after a crash
 * reloads it instead of extracting again.
 */
#ifndef VC_MODELS_RVC_DATASET_H
#define VC_MODELS_RVC_DATASET_H

#include <stdint.h>

#include "base/error.h"

typedef struct rvc_train_item {
    int frames;      /* T at 100 frames/s (hop = sr / 100 samples) */
    float *phone;    /* [frames, phone_dim] content features */
    int64_t *pitch;  /* [frames] coarse pitch 1..255 (NULL when the set has no pitch) */
    float *pitchf;   /* [frames] Hz, 0 = unvoiced (NULL when the set has no pitch) */
    float *wave;     /* [frames · hop] at sr, normalised as above */
} rvc_train_item;

typedef struct rvc_dataset {
    int sr, hop, phone_dim, f0, version;
    int n;                 /* items */
    rvc_train_item *items; /* owned: every array of every item */
} rvc_dataset;

typedef struct rvc_dataset_options {
    int sr;        /* model rate: 32000, 40000 or 48000 */
    int version;   /* 1 or 2 */
    int f0;        /* 1: extract pitch (needs RMVPE) */
    const char *weights_root; /* hubert/hubert_base.pt and rmvpe/rmvpe.pt under it */
    /* phase "slicing" | "features" with fraction 0..1; non-zero return cancels (VC_ERR_CANCELLED) */
    int (*progress)(void *ctx, const char *phase, double fraction);
    /* optional, same ctx: non-zero cancels (VC_ERR_CANCELLED). Polled before each 3.7 s piece,
     * between its HuBERT and RMVPE passes and inside both (HuBERT's layer halves and encoder
     * chunks, RMVPE's blocks and BiGRU steps), so a request is seen within a fraction of a pass. */
    int (*cancelled)(void *ctx);
    void *ctx;
} rvc_dataset_options;

/* Audio file (any format the audio module decodes) → a prepared set. Too little voiced audio
 * after slicing is VC_ERR_AUDIO_TOO_SHORT. On failure *out is left empty. */
int rvc_dataset_prepare(const char *audio_path, const rvc_dataset_options *o, rvc_dataset *out, vc_error *err);
/* The same for decoded mono audio at in_rate. */
int rvc_dataset_prepare_audio(const float *audio, int64_t n, int in_rate, const rvc_dataset_options *o,
                              rvc_dataset *out, vc_error *err);
/* Every content-feature row of every item (before the ×2 repetition), [*rows, phone_dim],
 * malloc'd: what the feature index is built from. */
int rvc_dataset_feature_rows(const rvc_dataset *d, float **rows, int64_t *n_rows, vc_error *err);
/* Atomic write (temp file + rename); load checks every shape. */
int rvc_dataset_save(const rvc_dataset *d, const char *path, vc_error *err);
int rvc_dataset_load(rvc_dataset *d, const char *path, vc_error *err);
void rvc_dataset_free(rvc_dataset *d);

#endif
