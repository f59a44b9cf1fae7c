/*
 * An RVC voice, ready to convert: the user's voice model (.pth, optional .index) plus the shared
 * base models (HuBERT content encoder, RMVPE pitch estimator) from the weights root. The CLI
 * (voiceclone convert), the convert_rvc job and model import all open voices through here, so a
 * file is judged the same way everywhere and every refusal names what is wrong:
 *   not an RVC voice (no "config" / synthesizer weights), unreadable or truncated file, unknown
 *   version, index dimension ≠ the model's content-feature dimension, base models not installed
 *   (VC_ERR_WEIGHTS_MISSING with the `voiceclone models pull rvc` hint). Models without pitch
 *   (f0 = 0) need HuBERT only.
 * Conversion itself is rvc_convert (rvc_pipeline.h); the engine only owns what it needs.
 *
 * Files under the weights root: hubert/hubert_base.pt and rmvpe/rmvpe.pt (any container
 * nn_weights_open reads; the tests install tiny safetensors/fairseq-style files there).
 */
#ifndef VC_MODELS_RVC_ENGINE_H
#define VC_MODELS_RVC_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "audio/audio.h"
#include "models/rvc/rvc_pipeline.h"

#define RVC_HUBERT_FILE "hubert/hubert_base.pt"
#define RVC_RMVPE_FILE "rmvpe/rmvpe.pt"

/* What a voice file says about itself (read from the file, never from its name). */
typedef struct rvc_voice_info {
    int version;       /* 1 (256-dim features, HuBERT layer 9 + final_proj) or 2 (768-dim, last layer) */
    int f0;            /* 1: pitch-guided model (has the pitch embedding) */
    int sample_rate;   /* output rate in Hz (32000, 40000, 48000) */
    int phone_dim;     /* content-feature dimension the model expects */
    int speakers;      /* speaker embeddings (sid 0..speakers-1) */
    int index_rows;    /* vectors in the .index, 0 without one */
} rvc_voice_info;

typedef struct rvc_engine rvc_engine; /* opaque: owns the weights and loaded models */

/* The shared base models, loaded the one way every RVC path (conversion, training) loads them:
 * HuBERT always, RMVPE only with_pitch. A missing or unloadable file is VC_ERR_WEIGHTS_MISSING
 * with the `voiceclone models pull rvc` hint. Free with rvc_base_models_free (also after a
 * failed open). */
typedef struct rvc_base_models {
    nn_weights *hubert_w, *rmvpe_w;
    hubert_model hubert;
    int hubert_loaded;
    rmvpe *pitch; /* NULL without pitch */
} rvc_base_models;

int rvc_base_models_open(rvc_base_models *b, const char *weights_root, int with_pitch, vc_error *err);
void rvc_base_models_free(rvc_base_models *b);

/* Loads and checks the voice alone (no base models): config, version and every synthesizer
 * tensor by name; with index_path the index must match the model's feature dimension. */
int rvc_voice_inspect(const char *model_path, const char *index_path, rvc_voice_info *info, vc_error *err);

/* 0 when both base model files exist under weights_root; VC_ERR_WEIGHTS_MISSING + hint otherwise. */
int rvc_base_weights_check(const char *weights_root, vc_error *err);

/* index_path may be NULL. On failure *out is NULL and nothing is left allocated. */
int rvc_engine_open(rvc_engine **out, const char *model_path, const char *index_path, const char *weights_root,
                    vc_error *err);
void rvc_engine_free(rvc_engine *e);
const rvc_voice_info *rvc_engine_info(const rvc_engine *e);

/* The rate of the converted audio: p->resample_sr when it applies (>= 16000), else info.sample_rate. */
int rvc_engine_output_rate(const rvc_engine *e, const rvc_params *p);

/* audio [n] at 16 kHz → *out [*out_n] int16 at rvc_engine_output_rate (malloc'd); hooks may be NULL.
 * A hook's progress returning non-zero cancels (VC_ERR_CANCELLED). */
int rvc_engine_convert(const rvc_engine *e, const double *audio, size_t n, const rvc_params *p, const rvc_hooks *hooks,
                       int16_t **out, size_t *out_n, vc_error *err);

/* The same for decoded audio at any rate (resampled to 16 kHz first): *out is mono float at
 * rvc_engine_output_rate, owned by the caller (audio_buffer_free). */
int rvc_engine_convert_audio(const rvc_engine *e, const audio_buffer *in, const rvc_params *p, const rvc_hooks *hooks,
                             audio_buffer *out, vc_error *err);

#endif
