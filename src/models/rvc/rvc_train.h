/*
 * One official RVC v2 training step (train/train.py's inner loop) on CPU in float32:
 *   G forward (SynthesizerTrnMs768NSFsid.forward, training mode, given ids_slice and noise)
 *   → mel of the spec slice and of y_hat → D(wave slice, y_hat.detach()) → loss_disc →
 *   backward → AdamW on D → D(wave slice, y_hat) with the UPDATED D → loss_gen + loss_fm +
 *   loss_mel·c_mel + loss_kl·c_kl → backward → AdamW on G.
 * Gradient norms are the unclipped total 2-norms (commons.clip_grad_value_(…, None)).
 * Shapes follow PyTorch (channel-major [B, C, T]); every intermediate the golden case records
 * is offered to a tap under the case's name.
 */
#ifndef VC_MODELS_RVC_TRAIN_H
#define VC_MODELS_RVC_TRAIN_H

#include <stdint.h>

#include "base/error.h"
#include "models/rvc/rvc_graph.h"
#include "models/rvc/rvc_synth.h"
#include "nn/optim.h"

typedef struct rvc_train_config {
    rvc_synth_config g;  /* g.f0 = 0: the _nono synthesizer (no pitch embedding, plain HiFi-GAN) */
    int version;         /* 1 or 2: the exported model's "version" (the layout follows phone_dim) */
    int spec_channels, segment_samples, hop, n_fft, n_mels;
    float c_mel, c_kl;
    nn_adamw opt;
    int disc_periods[16], n_periods;
    /* Used by the training loop (rvc_trainer.h), not by one step: */
    int disc_divisor;  /* discriminator channels ÷ this (rvc_disc_tensor_specs); 0 or 1 = official */
    double lr_decay;   /* ExponentialLR gamma per epoch; 0 = official 0.999875 */
} rvc_train_config;

/* A batch: B items padded to T frames (spec/phone) and wave_len samples. */
typedef struct rvc_train_batch {
    int B, T, wave_len;
    const float *phone;                  /* [B, T, phone_dim] */
    const int64_t *phone_lengths, *pitch; /* [B], [B, T] (pitch unused when c->g.f0 = 0) */
    const float *pitchf;                 /* [B, T] Hz (unused when c->g.f0 = 0) */
    const float *spec;                   /* [B, spec_channels, T] */
    const int64_t *spec_lengths, *sid, *ids_slice; /* [B] each */
    const float *wave;                   /* [B, 1, wave_len] */
    const float *eps_posterior;          /* [B, inter, T] */
    const float *eps_sine;               /* [B, segment_samples] (unused when c->g.f0 = 0) */
} rvc_train_batch;

typedef struct rvc_train_result {
    double loss_disc, loss_gen, loss_fm, loss_mel, loss_kl, loss_gen_all;
    double grad_norm_d, grad_norm_g;
} rvc_train_result;

typedef void (*rvc_train_tap)(void *ctx, const char *name, const float *data, size_t n);

/* Optional hooks of one step (NULL = none): a tap that sees every named intermediate (the
 * golden case), and cancellation polled between tape ops in forward and backward (nn/tape.h).
 * A cancelled step fails with VC_ERR_CANCELLED; G and D may then hold a half-made update (D is
 * updated before G's forward ends), so the caller drops them and resumes from a checkpoint. */
typedef struct rvc_train_hooks {
    rvc_train_tap tap;
    void *tap_ctx;
    ag_cancel cancel;
    nn_arena *arena; /* optional: the step's tapes allocate from it and give it all back at the end */
} rvc_train_hooks;

int rvc_train_step(rvc_paramset *G, rvc_paramset *D, const rvc_train_config *c, const rvc_train_batch *b, int step,
                   rvc_train_result *res, const rvc_train_hooks *hooks, vc_error *err);

/* ---- the discriminator (rvc_disc.c): MultiPeriodDiscriminatorV2 on x [B, 1, L] ---- */
#define RVC_DISC_MAX 17
#define RVC_DISC_MAX_FMAPS 8
typedef struct rvc_disc_out {
    int n;                                    /* discriminators */
    int logits[RVC_DISC_MAX];                 /* [B, 1, N] nodes */
    int fmaps[RVC_DISC_MAX][RVC_DISC_MAX_FMAPS];
    int n_fmaps[RVC_DISC_MAX];
} rvc_disc_out;

int rvc_disc_forward(rvc_graph *g, int x, const int *periods, int n_periods, rvc_disc_out *out);

#endif
