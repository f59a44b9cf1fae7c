/*
 * The tensor lists of the three networks an RVC conversion runs — HuBERT (fairseq
 * hubert_base.pt names), RMVPE (rmvpe.pt, E2E(n_blocks, n_gru=1, (2,2))) and the synthesizer
 * (a released voice .pth "weight" dict, weight norm kept as weight_g/weight_v) — for given sizes.
 * Benchmarks write full-size random-weight files from them (real weights cannot be downloaded
 * everywhere); a unit test checks them against the golden files of the small configs, so the
 * lists cannot drift from what the loaders read.
 */
#ifndef VC_MODELS_RVC_SPECS_H
#define VC_MODELS_RVC_SPECS_H

#include "models/rvc/rvc_synth.h"
#include "nn/safetensors_write.h"

typedef struct hubert_size {
    int conv_dim, embed, layers, ffn, pos_kernel, pos_groups, final_dim;
} hubert_size;

/* hubert_base.pt: conv 512, embed 768, 12 layers, FFN 3072, pos conv 128/16, final_proj 256. */
extern const hubert_size HUBERT_BASE;

typedef struct rmvpe_size {
    int en_out, en_de_layers, inter_layers, n_blocks, n_mels, gru_hidden, n_class;
} rmvpe_size;

/* rmvpe.pt: E2E(4, 1, (2, 2)) with 16 encoder output channels, 5 encoder/decoder and 4 middle layers. */
extern const rmvpe_size RMVPE_FULL;

/* The official v2 48 kHz synthesizer constructor list (as in a released .pth "config"). */
extern const char RVC_V2_48K_CONFIG_JSON[];

/* Fill *specs (malloc'd) and return the count; 0 when out of memory. */
size_t hubert_tensor_specs(const hubert_size *z, nn_tensor_spec **specs);
size_t rmvpe_tensor_specs(const rmvpe_size *z, nn_tensor_spec **specs);
/* c->phone_dim (768 v2 / 256 v1) and c->f0 (pitch embedding + NSF source) choose the variant. */
size_t rvc_synth_tensor_specs(const rvc_synth_config *c, nn_tensor_spec **specs);

/* Training only. The generator as training holds it (the official G state_dict): the
 * synthesizer above plus enc_q, the PosteriorEncoder on spec_channels linear-spectrogram bins
 * (1×1 pre, 16-layer WaveNet of kernel 5 conditioned on the speaker, 1×1 proj to 2·inter). */
size_t rvc_generator_tensor_specs(const rvc_synth_config *c, int spec_channels, nn_tensor_spec **specs);
/* MultiPeriodDiscriminatorV2 (DiscriminatorS + one DiscriminatorP per period), weight norm
 * kept as weight_g/weight_v. divisor 1 = the official channel counts; a larger divisor makes a
 * test-sized copy of the same layout: every count c ≠ 1 becomes max(2, c / divisor) and
 * every groups value gcd(groups, in', out'), as the golden training case does. */
size_t rvc_disc_tensor_specs(const int *periods, int n_periods, int divisor, nn_tensor_spec **specs);

#endif
