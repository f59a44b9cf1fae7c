/* Helpers shared by the Whisper sources (not a public interface). */
#ifndef VC_MODELS_WHISPER_INTERNAL_H
#define VC_MODELS_WHISPER_INTERNAL_H

#include "models/whisper/whisper.h"

#define WHISPER_LN_EPS 1e-5f

/* x[i] += y[i]. */
void whisper_add(float *x, const float *y, size_t n);

/* The MLP half of a residual block on x [T, S] in place: x += mlp.2(GELU(mlp.0(mlp_ln(x)))).
 * h: [T, S] scratch, wide: [T, 4S] scratch. */
void whisper_mlp_residual(const whisper_model *m, const whisper_block_w *b, float *x, int T, int S, float *h,
                          float *wide);

#endif
