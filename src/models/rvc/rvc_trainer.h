/*
 * The RVC training loop (official infer/modules/train/train.py): epochs over a prepared set in
 * shuffled batches (the official bucket sampler groups items of similar length), random
 * segment slices, one rvc_train_step per batch (D step, then G step), ExponentialLR decay of
 * both learning rates once per epoch (gamma lr_decay), and checkpoints.
 *
 * A trainer directory holds everything a restart needs:
 *   checkpoint.safetensors  G, D, both AdamW states, epoch, step, the RNG state and the loss
 *                           history; written to a temp file and renamed, so a kill -9 at any
 *                           point leaves the previous checkpoint intact.
 * rvc_trainer_open resumes from it when present: the loss curve after a restart is the one an
 * uninterrupted run would have drawn (same seed, same thread count).
 * Fresh training starts from the official pretrained G/D (f0G48k.pth / f0D48k.pth style
 * files; G48k.pth / D48k.pth for sets without pitch) when given, from seeded random weights
 * otherwise. The set decides pitch (set->f0) and the exported version (set->version).
 */
#ifndef VC_MODELS_RVC_TRAINER_H
#define VC_MODELS_RVC_TRAINER_H

#include <stdint.h>

#include "base/error.h"
#include "models/rvc/rvc_dataset.h"
#include "models/rvc/rvc_train.h"

typedef struct rvc_trainer_options {
    const char *dir;           /* trainer directory (created if missing) */
    const char *pretrained_g;  /* optional official pretrained generator (.pth), NULL = random init */
    const char *pretrained_d;  /* optional pretrained discriminator */
    int epochs, batch_size;
    int save_every_steps;      /* checkpoint period (also written at every epoch end) */
    uint64_t seed;
    /* Model size: 0 = the official full v2/v1 config for the set's rate; tests pass a tiny
     * synthesizer/discriminator (same layout, fewer channels) through these. */
    const rvc_train_config *config;
    /* Polled between tape ops (forward and backward): a request ends the running step within
     * one op with VC_ERR_CANCELLED. The trainer is then only good for rvc_trainer_free: its
     * in-memory state may hold half a step, and rvc_trainer_checkpoint refuses to write it; the
     * checkpoint on disk stays the latest finished one. requested == NULL: never cancelled. */
    ag_cancel cancel;
} rvc_trainer_options;

typedef struct rvc_trainer_status {
    int epoch, epochs;          /* 1-based current epoch */
    int64_t step, total_steps;  /* optimizer steps done / planned */
    rvc_train_result last;      /* losses of the latest step */
    double seconds_per_step;    /* mean wall time of the steps of this process */
    size_t step_memory_bytes;   /* activations and gradients the steps keep (their arena) */
} rvc_trainer_status;

typedef struct rvc_trainer rvc_trainer;

/* The official hyperparameters and full model for a rate and version (configs/v2/48k.json,
 * v2/32k.json, v1/32k.json, v1/40k.json, v1/48k.json; v2 at 40k uses v1/40k.json as the
 * official webui does), content dimension (768 v2, 256 v1) and pitch (f0 = 0: the _nono
 * synthesizer): AdamW lr 1e-4, betas (0.8, 0.99), eps 1e-9, weight decay 0.01 (torch default),
 * lr_decay 0.999875, c_mel 45, c_kl 1, the periods of MultiPeriodDiscriminator (v1: six) or
 * MultiPeriodDiscriminatorV2 (v2: eight). */
int rvc_train_config_default(int sr, int version, int phone_dim, int f0, rvc_train_config *c, vc_error *err);

/* The same layout with a few channels (inter 8, hidden 16, one layer, discriminator ÷ 32,
 * 1024-point STFTs, lr 1e-2): trains in well under a second a step, for the test suites. */
int rvc_train_config_tiny(int sr, int version, int phone_dim, int f0, rvc_train_config *c, vc_error *err);

/* The set is borrowed for the trainer's lifetime. Resumes when dir holds a checkpoint. */
int rvc_trainer_open(rvc_trainer **out, const rvc_dataset *set, const rvc_trainer_options *o, vc_error *err);
void rvc_trainer_free(rvc_trainer *t);
/* One optimizer step; returns 1 when training is complete (no step done), 0 after a step. */
int rvc_trainer_step(rvc_trainer *t, vc_error *err);
void rvc_trainer_status_get(const rvc_trainer *t, rvc_trainer_status *s);
/* Changes the planned epochs mid-run (the default, once a step is measured); never below the
 * epoch in progress. */
void rvc_trainer_set_epochs(rvc_trainer *t, int epochs);
/* Loss history of every step so far (including those before a resume): [n] each, malloc'd. */
int rvc_trainer_history(const rvc_trainer *t, rvc_train_result **rows, int64_t *n, vc_error *err);
int rvc_trainer_checkpoint(rvc_trainer *t, vc_error *err);
/* The voice model in the official small-model .pth format (fp16 "weight" without enc_q,
 * "config" list, "sr" as "48k", "f0", "version", "info"), atomically; rvc_engine opens it. */
int rvc_trainer_export(const rvc_trainer *t, const char *pth_path, const char *info, vc_error *err);

#endif
