/*
 * The RVC synthesizer (SynthesizerTrnMs768NSFsid / Ms256NSFsid and their no-f0 variants),
 * inference only: text encoder with VITS relative-position attention → prior (m, logs) →
 * z_p = m + e^logs·ε·0.66666 → normalizing flow in reverse → NSF-HiFiGAN decoder driven by a
 * harmonic sine source at the pitch: the generator of rvc_gen.h, which training records too.
 * Loaded by name from the released small-model .pth ("weight." prefix, fp16 → f32) or a
 * safetensors state dict, checked against the official layout; weight norm folded at load.
 *
 * Shapes (time-major): phone [T, phone_dim], pitch [T] coarse 1..255, nsff0 [T] Hz,
 * audio [T·hop] at the model's rate (hop = product of upsample rates).
 */
#ifndef VC_MODELS_RVC_SYNTH_H
#define VC_MODELS_RVC_SYNTH_H

#include <jansson.h>
#include <stdint.h>

#include "base/error.h"
#include "nn/weights.h"

#define RVC_MAX_UPS 8
#define RVC_MAX_KERNELS 4
#define RVC_WINDOW 10 /* relative attention window */

typedef struct rvc_synth_config {
    int inter, hidden, filter, n_heads, n_layers, kernel;
    int n_kernels, resblock_kernels[RVC_MAX_KERNELS], resblock_dilations[RVC_MAX_KERNELS][3];
    int n_ups, upsample_rates[RVC_MAX_UPS], upsample_kernels[RVC_MAX_UPS], upsample_initial;
    int spk_embed_dim, gin, sr;
    int phone_dim, f0; /* from the weights: 768 (v2) / 256 (v1); 1 when emb_pitch exists */
} rvc_synth_config;

/* The official constructor arguments as a JSON array (the .pth "config" list) or object. */
int rvc_synth_config_parse(const json_t *j, rvc_synth_config *c, vc_error *err);

typedef struct rvc_synth rvc_synth; /* opaque: folded weights live inside */

int rvc_synth_load(rvc_synth **out, const nn_weights *w, const char *prefix, const rvc_synth_config *c, vc_error *err);
void rvc_synth_free(rvc_synth *s);
const rvc_synth_config *rvc_synth_get_config(const rvc_synth *s);

/* Per-call inputs besides the features. Noise sources (the golden cases inject the official
 * tensors; otherwise a seeded PRNG): prior [inter, T] standard normal (channel-major, as the
 * reference draws it), sine [T·hop] standard normal; NULL = draw from seed. stop (may be NULL)
 * is asked before every op of the generator (each a fraction of a second at full size) and
 * non-zero ends the call with VC_ERR_CANCELLED, so a conversion job can be cancelled promptly. */
typedef struct rvc_noise {
    const float *prior, *sine;
    unsigned long long seed;
    int (*stop)(void *ctx);
    void *stop_ctx;
} rvc_noise;

/* The intermediates a golden case checks, row-major [rows, cols] = [channels, frames]. */
typedef void (*rvc_tap_fn)(void *ctx, const char *name, const float *data, int rows, int cols);

int rvc_synth_infer(const rvc_synth *s, const float *phone, const int64_t *pitch, const float *nsff0, int T, int sid,
                    const rvc_noise *noise, float *audio, rvc_tap_fn tap, void *tap_ctx, vc_error *err);

/* The NSF sine excitation (SineGen, harmonic_num 0, before SourceModuleHnNSF's Linear+tanh):
 * f0 [T] Hz → sine, uv [T·upp]; eps [T·upp] standard normal (NULL = drawn from seed). */
int rvc_sine_waves(const float *f0, int T, int upp, int sr, const float *eps, unsigned long long seed, float *sine,
                   float *uv, vc_error *err);

#endif
