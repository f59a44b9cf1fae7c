/*
 * The RVC generator (SynthesizerTrnMs768NSFsid / Ms256NSFsid and their _nono variants), written
 * once as engine ops on a tape (nn/tape.h). Training records it with gradients (rvc_train.c);
 * conversion runs the same functions on a tape whose parameters have none (rvc_synth.c), where
 * each layer's scope (ag_scope_keep) releases the activations it no longer needs.
 *
 * Shapes are channel-major, as PyTorch's: [B, C, T]. The pieces, each the official module:
 *   text encoder  Linear(phone) + Embedding(pitch), ×√hidden, LeakyReLU(0.1), n_layers ×
 *                 (relative attention + LayerNorm, conv FFN + LayerNorm), 1×1 proj → m_p, logs_p
 *   WaveNet       modules.WN: gated dilated convs conditioned on the speaker (flows, enc_q)
 *   flow          ResidualCouplingBlock: 4 × (mean-only coupling, channel flip), either way
 *   harmonic      SourceModuleHnNSF after SineGen: tanh(Linear(1→1)(sine))
 *   decoder       conv_pre + cond(g); per upsample: LeakyReLU, ConvTranspose, + noise conv of
 *                 the source (f0 models), mean of the ResBlock1s; LeakyReLU(0.01), conv_post, tanh
 */
#ifndef VC_MODELS_RVC_GEN_H
#define VC_MODELS_RVC_GEN_H

#include <stdint.h>

#include "models/rvc/rvc_graph.h"
#include "models/rvc/rvc_synth.h"

typedef struct rvc_gen_io {
    const rvc_synth_config *c;
    int B, T;
    const float *x_mask, *y_mask; /* [B, T]: valid phone frames, valid spectrogram frames */
    const int64_t *lengths;       /* [B] phone lengths: the attention's key/query mask */
    int g;                        /* the speaker embedding node [B, gin, 1] (rvc_gen_speaker) */
} rvc_gen_io;

/* emb_g(sid): [B, gin, 1]. */
int rvc_gen_speaker(rvc_graph *g, const int64_t *sid, int B);

/* phone [B, phone_dim, T], pitch [B, T] coarse 0..255 (unused without f0) → m_p, logs_p [B, inter, T]. */
int rvc_gen_text_encoder(rvc_graph *g, const rvc_gen_io *io, int phone, const int64_t *pitch, int *m_p, int *logs_p);

/* modules.WN under `prefix` (…in_layers, …res_skip_layers, …cond_layer): x [B, hidden, T] → [B, hidden, T]. */
int rvc_gen_wavenet(rvc_graph *g, const rvc_gen_io *io, int x, const char *prefix, int n_layers);

/* ResidualCouplingBlock on x [B, inter, T]: forward (training: z → z_p) or reverse (conversion). */
int rvc_gen_flow(rvc_graph *g, const rvc_gen_io *io, int x, int reverse);

/* The NSF harmonic source from the sine excitation: sine [B, 1, L] → har [B, 1, L]. */
int rvc_gen_harmonic(rvc_graph *g, int sine);

/* z [B, inter, T'] → audio [B, 1, T'·hop]; har from rvc_gen_harmonic (−1 for models without f0). */
int rvc_gen_decoder(rvc_graph *g, const rvc_gen_io *io, int z, int har);

#endif
