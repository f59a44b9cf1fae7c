/*
 * The RVC conversion pipeline (official infer/modules/vc/pipeline.py Pipeline.pipeline):
 *   16 kHz input → 48 Hz Butterworth high-pass (filtfilt) → reflect padding → split at quiet
 *   points (every x_center s, searching ±x_query s for the lowest 10 ms energy) → RMVPE pitch
 *   over the whole padded input, filled and key-shifted → per chunk: HuBERT features, index
 *   retrieval blended by index_rate, 2× upsampling, protect, synthesizer → padding trimmed →
 *   chunks concatenated → loudness envelope mixed by rms_mix_rate → int16 with peak limiting.
 * Chunks bound the memory of one step, so a 30-minute file runs in the memory of a ~40 s one.
 * protect: the current release fills unvoiced frames before protect looks at them, so it only
 * acts when no frame is voiced at all; filter_radius applied to the (removed) harvest method
 * only. Both are accepted for compatibility.
 */
#ifndef VC_MODELS_RVC_PIPELINE_H
#define VC_MODELS_RVC_PIPELINE_H

#include <stdint.h>

#include "models/hubert/hubert.h"
#include "models/rmvpe/rmvpe.h"
#include "models/rvc/rvc_synth.h"

typedef struct rvc_voice {
    const hubert_model *hubert;
    const rmvpe *pitch;
    const rvc_synth *synth;
    const float *bank; /* feature index rows [n_bank, dim], or NULL */
    int n_bank;
    int version;       /* 1: layer 9 + final_proj, 2: last layer */
} rvc_voice;

typedef struct rvc_params {
    double f0_up_key, index_rate, rms_mix_rate, protect;
    double x_pad, x_query, x_center, x_max; /* seconds (official CPU/fp32: 1, 6, 38, 41) */
    int sid, filter_radius;
    int resample_sr; /* output rate when >= 16000 and not the model's own (official resample_sr); 0 = model's */
} rvc_params;

void rvc_params_default(rvc_params *p);

/* Noise for chunk k of T frames (prior [T, inter], sine [T·hop]); NULL fields = seeded PRNG. */
typedef void (*rvc_noise_fn)(void *ctx, int chunk, int frames, rvc_noise *noise);
/* phase "extracting pitch" (per RMVPE window of long inputs) then "converting" (per chunk);
 * non-zero: cancel */
typedef int (*rvc_progress_fn)(void *ctx, const char *phase, double fraction);
typedef void (*rvc_pipeline_tap_fn)(void *ctx, const char *name, const float *data, size_t n);

typedef struct rvc_hooks {
    rvc_noise_fn noise;
    rvc_progress_fn progress;
    rvc_pipeline_tap_fn tap; /* stage values for golden tests */
    void *ctx;
    int (*cancelled)(void *ctx); /* may be NULL: asked often inside RMVPE, HuBERT and synthesis (rvc_noise.stop) */
} rvc_hooks;

/* The rate rvc_convert's output has: p->resample_sr when it applies, else the model's. */
int rvc_output_rate(const rvc_voice *v, const rvc_params *p);

/* audio [n] at 16 kHz → out [*out_n] int16 at rvc_output_rate (malloc'd). Models without pitch
 * (f0 = 0) skip RMVPE; protect then has nothing to act on, as in the official pipeline. */
int rvc_convert(const rvc_voice *v, const double *audio, size_t n, const rvc_params *p, const rvc_hooks *hooks,
                int16_t **out, size_t *out_n, vc_error *err);

#endif
