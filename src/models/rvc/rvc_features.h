/*
 * The parts of RVC's Pipeline between the estimators and the synthesizer:
 *   pitch post-processing (get_f0 after RMVPE): unvoiced gaps filled, key shift, coarse pitch;
 *   feature retrieval: k-nearest rows of the voice's feature bank (squared L2, k = 8), weighted
 *   by (1/score)², blended with the query by index_rate;
 *   2× nearest upsampling of HuBERT frames (50 → 100 frames per second).
 */
#ifndef VC_MODELS_RVC_FEATURES_H
#define VC_MODELS_RVC_FEATURES_H

#include <stdint.h>

#include "base/error.h"

#define RVC_F0_MIN 50.0
#define RVC_F0_MAX 1100.0
#define RVC_INDEX_K 8
#define RVC_V1_LAYER 9

/* The HuBERT layer v1 models read (through final_proj): 9 of hubert_base's 12; a smaller HuBERT
 * (the test suites' 3-layer model) gives its last. Training sets and conversion use the same. */
static inline int rvc_v1_layer(int hubert_layers) { return hubert_layers < RVC_V1_LAYER ? hubert_layers : RVC_V1_LAYER; }

/* f0 [n] in Hz (0 = unvoiced) → pitchf [n] (filled, shifted by key semitones) and coarse
 * pitch [n] in 1..255. With no voiced frame at all nothing is filled (pitch 1 everywhere). */
void rvc_f0_postprocess(const double *f0, int n, double key_semitones, double *pitchf, int64_t *pitch);

/* f0 [n] in Hz (0 = unvoiced) → coarse pitch [n]: mel scale between RVC_F0_MIN and RVC_F0_MAX
 * mapped to 1..255 (unvoiced and below-range frames are 1). Used as is for training sets. */
void rvc_f0_coarse(const double *f0, int n, int64_t *pitch);

/* out [2T, C] = each row of in [T, C] twice (F.interpolate nearest, scale 2). */
void rvc_upsample2(float *out, const float *in, int T, int C);

/* Exact k-NN (k = RVC_INDEX_K) of each query row among bank rows, squared L2 distances
 * computed as faiss does (|q|² + |x|² − 2 q·x in float32): score, ix [n_query, k]. */
int rvc_knn(const float *bank, int n_bank, const float *query, int n_query, int dim, float *score, int64_t *ix,
            vc_error *err);

/* weight ∝ (1/score)² per row; out = Σ weight·bank[ix]; then out = out·rate + query·(1−rate).
 * An exact match (score 0) takes the matching row alone instead of the official inf/NaN. */
void rvc_retrieve_blend(const float *bank, const float *query, int n_query, int dim, const float *score,
                        const int64_t *ix, float rate, float *weight, float *retrieved, float *blend);

#endif
