/*
 * The inside of rvc_trainer, shared by its files: rvc_trainer.c (options, the epoch plan,
 * batches, the step), rvc_trainer_init.c (parameter sets from tensor specs: seeded random
 * init or official pretrained G/D), rvc_trainer_ckpt.c (the one-file checkpoint) and
 * rvc_trainer_export.c (the small-model .pth). Nothing outside src/models/rvc/ includes it.
 */
#ifndef VC_MODELS_RVC_TRAINER_INTERNAL_H
#define VC_MODELS_RVC_TRAINER_INTERNAL_H

#include <stdint.h>

#include "models/rvc/rvc_trainer.h"
#include "nn/safetensors_write.h"

#define RVC_CKPT_FILE "checkpoint.safetensors"

struct rvc_trainer {
    const rvc_dataset *set;   /* borrowed */
    char *dir;                /* owned */
    rvc_train_config cfg;     /* cfg.opt.lr = the base learning rate */
    double lr_decay;
    int epochs, batch_size, save_every;
    uint64_t seed;
    rvc_paramset G, D;
    nn_tensor_spec *g_specs, *d_specs; /* the layouts G and D were built from */
    size_t n_g_specs, n_d_specs;
    float **spec;             /* per item: linear spectrogram [spec_channels, frames], owned */
    int steps_per_epoch;
    int *plan;                /* [steps_per_epoch · batch_size] item indices of plan_epoch */
    int plan_epoch;           /* 0 = no plan built yet */
    /* progress: what a checkpoint records */
    int epoch, pos;           /* 1-based epoch; batches of it already done */
    int64_t step;             /* optimizer steps done */
    uint64_t rng;             /* slice starts and noise of the next step */
    rvc_train_result *hist;
    int64_t n_hist, cap_hist;
    ag_cancel cancel;         /* rvc_trainer_options.cancel */
    nn_arena *arena;          /* every step's activations and gradients, kept between steps */
    int torn;                 /* a step failed midway: G/D/moments may be half updated */
    /* this process only */
    double seconds;
    int64_t steps_here;
};

/* splitmix64: the trainer's only source of randomness (state advanced in place). */
uint64_t rvc_rng_next(uint64_t *s);
double rvc_rng_uniform(uint64_t *s);  /* [0, 1) */
float rvc_rng_normal(uint64_t *s);    /* standard normal (Box–Muller) */

/* PyTorch-style initialisation of a set built from the RVC generator/discriminator specs. */
void rvc_paramset_init_random(rvc_paramset *ps, uint64_t seed);
/* Copies every parameter from an official checkpoint (state dict under "model", or bare);
 * a missing tensor or a shape mismatch is an error naming it. */
int rvc_paramset_load_pretrained(rvc_paramset *ps, const char *path, vc_error *err);
/* Copies tensors "<prefix><name>" of w into field 0 = val, 1 = m, 2 = v; shapes checked. */
int rvc_paramset_copy_from(rvc_paramset *ps, const nn_weights *w, const char *prefix, int field, vc_error *err);

int rvc_trainer_load_checkpoint(rvc_trainer *t, const char *path, vc_error *err);

#endif
