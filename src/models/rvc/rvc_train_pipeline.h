/*
 * From a recording to a trained RVC voice, in one call shared by the train_rvc job and
 * `voiceclone train`: decode → the caller's preprocessing (denoise/trim/normalise) → the
 * prepared set (rvc_dataset, cached in work_dir) → training (rvc_trainer, checkpointed in
 * work_dir/trainer; a re-run resumes) → feature index → the voice exported as the official
 * small-model .pth → validation (the exported file is opened by our own engine and converts a
 * few seconds of the training audio). Outputs: work_dir/model.pth and work_dir/model.index.
 * Nothing here touches the database: the caller stores the result (jobs_train.h).
 *
 * Defaults are chosen from measured speed (docs/PERFORMANCE.md, `voiceclone bench rvc train`):
 * RVC_STEP_SECONDS is one full-size v2 training step at batch 4 on 2 cores; the default number of
 * epochs fits the training into about RVC_TRAIN_TARGET_MINUTES, between 2 and the official 20.
 */
#ifndef VC_MODELS_RVC_TRAIN_PIPELINE_H
#define VC_MODELS_RVC_TRAIN_PIPELINE_H

#include <stdint.h>

#include "audio/audio.h"
#include "base/error.h"
#include "models/rvc/rvc_trainer.h"

#define RVC_TRAIN_MIN_SECONDS 10
/* The default epochs (docs/RVC.md "Defaults"): as many as fit in RVC_TRAIN_TARGET_MINUTES of the
 * measured step time, at least RVC_TRAIN_MIN_DEFAULT_EPOCHS (below it a model fine-tuned from the
 * pretrained G/D is too rough to use) and at most RVC_TRAIN_MAX_DEFAULT_EPOCHS (RVC-WebUI's default
 * total_epoch; Applio trains up to 200). */
#define RVC_TRAIN_TARGET_MINUTES 120.0
#define RVC_TRAIN_MIN_DEFAULT_EPOCHS 10
#define RVC_TRAIN_MAX_DEFAULT_EPOCHS 20
/* Under the weights root, the official file names (f0G48k.pth, f0D48k.pth, G48k.pth, … for
 * 32k/40k/48k): v2's pretrained_v2/ files in rvc_pretrained/, v1's pretrained/ files in
 * rvc_pretrained_v1/ (`voiceclone models pull rvc-pretrained` installs both). */
#define RVC_PRETRAINED_DIR "rvc_pretrained"
#define RVC_PRETRAINED_V1_DIR "rvc_pretrained_v1"

typedef struct rvc_train_recipe {
    int sample_rate;       /* 32000, 40000 or 48000 (default) */
    int version;           /* 2 (768-dim HuBERT features, default) or 1 (256-dim, final_proj) */
    int f0;                /* 1: pitch-guided model (default); 0: no pitch (the _nono models) */
    int epochs, batch_size, save_every_steps;
    double learning_rate;
    uint64_t seed;
    int tiny;              /* test suite: a few-channel model (rvc_train_config_tiny) */
    /* the default epochs: */
    int epochs_chosen;         /* 1: the user gave no epochs: chosen again from this run's measured step */
    double target_minutes;     /* training time the default aims at (0: RVC_TRAIN_TARGET_MINUTES) */
    int min_epochs, max_epochs;/* its bounds (0: RVC_TRAIN_MIN/MAX_DEFAULT_EPOCHS) */
    double step_seconds_hint;  /* a step measured on this machine before (0: the built-in figure) */
} rvc_train_recipe;

void rvc_train_recipe_default(rvc_train_recipe *r);
/* Pieces of 3.7 s with 0.3 s overlap → steps per epoch at r's batch size. */
int rvc_train_steps_per_epoch(const rvc_train_recipe *r, double audio_seconds);
/* The default epochs for a step of step_seconds and an epoch of steps_per_epoch steps (r's target and
 * bounds). */
int rvc_train_epochs_for(const rvc_train_recipe *r, double step_seconds, int steps_per_epoch);
/* Before any step of the run: the same from r's step_seconds_hint or the built-in step time. */
int rvc_train_default_epochs(const rvc_train_recipe *r, double audio_seconds);
double rvc_train_estimate_seconds(const rvc_train_recipe *r, double audio_seconds);

/* The training-set report, given once a step of the run is measured (the second: the first also
 * sets up; before the rest of training): how much speech slicing kept, in how many pieces, and
 * what an epoch will cost. */
typedef struct rvc_train_report {
    double speech_seconds;     /* kept after slicing at silences */
    int pieces;                /* items of the prepared set */
    int steps_per_epoch, epochs;
    int epochs_chosen;         /* epochs is the default, chosen from step_seconds (recipe.epochs_chosen) */
    double step_seconds;       /* the measured second step of this run (the first, when the run has one) */
    double epoch_seconds;      /* step_seconds × steps_per_epoch */
    double remaining_seconds;  /* step_seconds × the steps still to run */
} rvc_train_report;

typedef struct rvc_train_job_spec {
    const char *audio_path, *work_dir, *weights_root;
    /* A training set of several files (used instead of audio_path when n_audio_paths > 0): each is
     * decoded and preprocessed on its own, resampled to the first one's rate and joined with half
     * a second of silence between them, so the slicer cuts at the joins. */
    const char *const *audio_paths;
    int n_audio_paths;
    const rvc_train_recipe *recipe;
    /* All optional. Non-zero from on_phase/on_step/on_report cancels (VC_ERR_CANCELLED); stop_requested
     * ends training early and keeps the model trained so far (after at least one step). */
    int (*preprocess)(void *ctx, audio_buffer *buf, vc_error *err);
    int (*on_phase)(void *ctx, const char *phase, double fraction, const char *message);
    int (*on_step)(void *ctx, const rvc_trainer_status *st, double eta_seconds);
    int (*on_report)(void *ctx, const rvc_train_report *r);
    int (*stop_requested)(void *ctx);
    /* Polled often (between tape ops while training, between HuBERT/RMVPE passes while preparing
     * the set): non-zero ends the run within about a second with VC_ERR_CANCELLED, leaving the
     * last checkpoint and the prepared set as they were. Must be cheap (an atomic load). */
    int (*cancel_requested)(void *ctx);
    void *ctx;
} rvc_train_job_spec;

typedef struct rvc_train_outcome {
    rvc_train_result final;   /* mean of the last steps (up to one epoch) */
    rvc_train_result first;   /* mean of the first steps (the same count) */
    int64_t steps;
    int epochs_done, stopped_early;
    double training_seconds, audio_seconds;
    char grade[4];            /* A–D from the final mel loss (rvc_train_grade) */
    rvc_train_report report;  /* as given to on_report (zero when this run did no step) */
} rvc_train_outcome;

int rvc_train_pipeline_run(const rvc_train_job_spec *s, rvc_train_outcome *o, vc_error *err);
/* A–D from the mel loss (45·L1 of log-mels): the same scale as the official logs. */
const char *rvc_train_grade(double loss_mel);

#endif
