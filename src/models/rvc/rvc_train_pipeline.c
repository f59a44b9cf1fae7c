/*
 * The training pipeline (rvc_train_pipeline.h): the steps in order, each resumable from what the
 * previous run left in work_dir. Kept apart from the job so that the CLI trains exactly the way
 * the server does.
 */
#include "models/rvc/rvc_train_pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "models/rvc/rvc_dataset.h"
#include "models/rvc/rvc_engine.h"
#include "models/rvc/rvc_index_build.h"
#include "store/store.h" /* vc_mkdirs: a filesystem helper, no database */

/* One full-size v2 48k step (G + D, batch 4, 2 cores), measured by `voiceclone bench rvc train`
 * (docs/PERFORMANCE.md). Scaled linearly with the batch size for estimates. */
#define RVC_STEP_SECONDS 37.0
#define RVC_TINY_STEP_SECONDS 0.3
/* HuBERT + RMVPE over the training audio, seconds of work per second of audio (bench rvc). */
#define RVC_EXTRACT_SECONDS_PER_SECOND 0.35
#define RVC_VALIDATION_SECONDS 4.0

void rvc_train_recipe_default(rvc_train_recipe *r)
{
    *r = (rvc_train_recipe){.sample_rate = 48000, .version = 2, .f0 = 1, .epochs = 0, .batch_size = 4,
                            .save_every_steps = 50, .learning_rate = 1e-4, .seed = 1234, .tiny = 0};
}

int rvc_train_steps_per_epoch(const rvc_train_recipe *r, double audio_seconds)
{
    /* 3.7 s pieces every 3.4 s (0.3 s overlap), as the official preprocessing cuts them */
    int pieces = audio_seconds > 3.7 ? (int)ceil((audio_seconds - 0.3) / 3.4) : 1;
    int batch = r->batch_size > 0 ? r->batch_size : 1;
    return (pieces + batch - 1) / batch;
}

static double step_seconds(const rvc_train_recipe *r)
{
    if (r->step_seconds_hint > 0) return r->step_seconds_hint;
    return r->tiny ? RVC_TINY_STEP_SECONDS : RVC_STEP_SECONDS * (double)r->batch_size / 4.0;
}

int rvc_train_epochs_for(const rvc_train_recipe *r, double step_seconds, int steps_per_epoch)
{
    double minutes = r->target_minutes > 0 ? r->target_minutes : RVC_TRAIN_TARGET_MINUTES;
    int lo = r->min_epochs > 0 ? r->min_epochs : RVC_TRAIN_MIN_DEFAULT_EPOCHS;
    int hi = r->max_epochs > 0 ? r->max_epochs : RVC_TRAIN_MAX_DEFAULT_EPOCHS;
    if (hi < lo) hi = lo;
    double epoch_seconds = step_seconds * (steps_per_epoch > 0 ? steps_per_epoch : 1);
    double fit = epoch_seconds > 0 ? floor(minutes * 60.0 / epoch_seconds) : hi;
    return fit < lo ? lo : fit > hi ? hi : (int)fit;
}

int rvc_train_default_epochs(const rvc_train_recipe *r, double audio_seconds)
{
    return rvc_train_epochs_for(r, step_seconds(r), rvc_train_steps_per_epoch(r, audio_seconds));
}

double rvc_train_estimate_seconds(const rvc_train_recipe *r, double audio_seconds)
{
    double train = (double)r->epochs * rvc_train_steps_per_epoch(r, audio_seconds) * step_seconds(r);
    return RVC_EXTRACT_SECONDS_PER_SECOND * audio_seconds + train + 30.0;
}

const char *rvc_train_grade(double loss_mel)
{
    return loss_mel < 18 ? "A" : loss_mel < 23 ? "B" : loss_mel < 28 ? "C" : "D";
}

static int phase(const rvc_train_job_spec *s, const char *name, double fraction, const char *message, vc_error *err)
{
    if (s->on_phase && s->on_phase(s->ctx, name, fraction, message)) return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
    return 0;
}

static void work_path(const rvc_train_job_spec *s, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", s->work_dir, name);
}

/* ---- 1. the prepared set (cached) ---- */
typedef struct dataset_progress { const rvc_train_job_spec *s; } dataset_progress;

static int on_dataset_progress(void *ctx, const char *name, double fraction)
{
    const rvc_train_job_spec *s = ((dataset_progress *)ctx)->s;
    int slicing = !strcmp(name, "slicing");
    const char *message = slicing ? "Slicing the recording at silences..." : "Extracting pitch and content features...";
    return s->on_phase && s->on_phase(s->ctx, "feature extraction", slicing ? 0.1 * fraction : 0.1 + 0.9 * fraction,
                                      message);
}

static int on_dataset_cancelled(void *ctx)
{
    const rvc_train_job_spec *s = ((dataset_progress *)ctx)->s;
    return s->cancel_requested && s->cancel_requested(s->ctx);
}

/* One file of the set: decoded, the caller's preprocessing, resampled to rate (0: keep its own). */
static int load_one(const rvc_train_job_spec *s, const char *path, int rate, audio_buffer *out, vc_error *err)
{
    audio_buffer buf = {0};
    int rc = audio_decode_file(path, &buf, NULL, err);
    if (rc == 0 && s->preprocess) rc = s->preprocess(s->ctx, &buf, err);
    if (rc == 0 && rate > 0 && buf.sample_rate != rate) {
        audio_buffer r = {0};
        rc = audio_resample(&buf, rate, &r, err);
        audio_buffer_free(&buf);
        buf = r;
    }
    if (rc) audio_buffer_free(&buf);
    else *out = buf;
    return rc;
}

/* Appends b to acc (same rate) after gap_seconds of silence (none before the first piece). */
static int append_audio(audio_buffer *acc, const audio_buffer *b, double gap_seconds, vc_error *err)
{
    size_t gap = acc->frames ? (size_t)(gap_seconds * b->sample_rate) : 0;
    float *p = realloc(acc->samples, (acc->frames + gap + b->frames) * sizeof *p);
    if (!p) return vc_fail(err, VC_ERR_NOMEM, "out of memory joining the training files");
    memset(p + acc->frames, 0, gap * sizeof *p);
    memcpy(p + acc->frames + gap, b->samples, b->frames * sizeof *p);
    acc->samples = p;
    acc->frames += gap + b->frames;
    acc->sample_rate = b->sample_rate;
    return 0;
}

/* The whole set as one recording (one file: just that file). */
static int load_set(const rvc_train_job_spec *s, audio_buffer *out, vc_error *err)
{
    if (s->n_audio_paths <= 0) return load_one(s, s->audio_path, 0, out, err);
    audio_buffer acc = {0};
    int rc = 0;
    for (int i = 0; rc == 0 && i < s->n_audio_paths; i++) {
        char msg[96];
        snprintf(msg, sizeof msg, "Decoding training file %d of %d...", i + 1, s->n_audio_paths);
        audio_buffer b = {0};
        rc = phase(s, "preprocessing", (double)i / s->n_audio_paths, msg, err);
        if (rc == 0) rc = load_one(s, s->audio_paths[i], acc.frames ? acc.sample_rate : 0, &b, err);
        if (rc == 0) rc = append_audio(&acc, &b, 0.5, err);
        audio_buffer_free(&b);
    }
    if (rc) audio_buffer_free(&acc);
    else *out = acc;
    return rc;
}

static int build_dataset(const rvc_train_job_spec *s, rvc_dataset *set, vc_error *err)
{
    audio_buffer buf = {0};
    if (phase(s, "preprocessing", 0, "Decoding the training audio...", err)) return -1;
    int rc = load_set(s, &buf, err);
    if (rc == 0) rc = phase(s, "feature extraction", 0, "Slicing the recording at silences...", err);
    if (rc == 0) {
        dataset_progress dp = {s};
        rvc_dataset_options o = {.sr = s->recipe->sample_rate, .version = s->recipe->version, .f0 = s->recipe->f0,
                                 .weights_root = s->weights_root, .progress = on_dataset_progress,
                                 .cancelled = on_dataset_cancelled, .ctx = &dp};
        rc = rvc_dataset_prepare_audio(buf.samples, (int64_t)buf.frames, buf.sample_rate, &o, set, err);
    }
    audio_buffer_free(&buf);
    return rc;
}

static int load_or_build_dataset(const rvc_train_job_spec *s, rvc_dataset *set, vc_error *err)
{
    char path[1400];
    work_path(s, "dataset.safetensors", path, sizeof path);
    if (access(path, R_OK) == 0) {
        vc_error ignored;
        const rvc_train_recipe *r = s->recipe;
        if (rvc_dataset_load(set, path, &ignored) == 0) {
            if (set->sr == r->sample_rate && set->version == r->version && set->f0 == r->f0)
                return phase(s, "feature extraction", 1, "Reusing the prepared set", err);
            rvc_dataset_free(set); /* prepared for another rate, version or pitch setting */
        }
        unlink(path); /* damaged by a crash mid-write cannot happen (atomic), but a bad disk can */
    }
    if (build_dataset(s, set, err)) return -1;
    return rvc_dataset_save(set, path, err);
}

static double dataset_seconds(const rvc_dataset *set)
{
    double frames = 0;
    for (int i = 0; i < set->n; i++) frames += set->items[i].frames;
    return frames / 100.0;
}

/* ---- 2. training ---- */
static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The official pretrained file for the recipe: <dir>/[f0]{G,D}<rate>k.pth. */
static void pretrained_path(const rvc_train_job_spec *s, char kind, char *out, size_t cap)
{
    const rvc_train_recipe *r = s->recipe;
    snprintf(out, cap, "%s/%s/%s%c%dk.pth", s->weights_root, r->version == 1 ? RVC_PRETRAINED_V1_DIR : RVC_PRETRAINED_DIR,
             r->f0 ? "f0" : "", kind, r->sample_rate / 1000);
}

static int open_trainer(const rvc_train_job_spec *s, const rvc_dataset *set, rvc_train_config *cfg, rvc_trainer **t,
                        vc_error *err)
{
    char dir[1400], g[1400], d[1400];
    work_path(s, "trainer", dir, sizeof dir);
    pretrained_path(s, 'G', g, sizeof g);
    pretrained_path(s, 'D', d, sizeof d);
    int have_pretrained = !s->recipe->tiny && access(g, R_OK) == 0 && access(d, R_OK) == 0;
    int rc = s->recipe->tiny ? rvc_train_config_tiny(set->sr, set->version, set->phone_dim, set->f0, cfg, err)
                             : rvc_train_config_default(set->sr, set->version, set->phone_dim, set->f0, cfg, err);
    if (rc) return -1;
    if (!s->recipe->tiny) cfg->opt.lr = (float)s->recipe->learning_rate;
    rvc_trainer_options o = {.dir = dir, .pretrained_g = have_pretrained ? g : NULL,
                             .pretrained_d = have_pretrained ? d : NULL, .epochs = s->recipe->epochs,
                             .batch_size = s->recipe->batch_size, .save_every_steps = s->recipe->save_every_steps,
                             .seed = s->recipe->seed, .config = cfg,
                             .cancel = {.requested = s->cancel_requested, .ctx = s->ctx}};
    return rvc_trainer_open(t, set, &o, err);
}

/* The training-set report from the set and the measured first step of this run. */
static int report_set(const rvc_train_job_spec *s, const rvc_dataset *set, const rvc_trainer_status *st, double step_seconds,
                      rvc_train_outcome *o, vc_error *err)
{
    rvc_train_report *r = &o->report;
    r->speech_seconds = dataset_seconds(set);
    r->pieces = set->n;
    r->epochs = st->epochs;
    r->epochs_chosen = s->recipe->epochs_chosen;
    r->steps_per_epoch = st->epochs > 0 ? (int)(st->total_steps / st->epochs) : 0;
    r->step_seconds = step_seconds;
    r->epoch_seconds = step_seconds * r->steps_per_epoch;
    r->remaining_seconds = step_seconds * (double)(st->total_steps - st->step);
    if (s->on_report && s->on_report(s->ctx, r)) return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
    return 0;
}

/* Steps until done, cancelled or asked to stop (after at least one step). */
static int train_steps(const rvc_train_job_spec *s, const rvc_dataset *set, rvc_trainer *t, rvc_train_outcome *o,
                       vc_error *err)
{
    if (phase(s, "training", 0, "Training...", err)) return -1;
    double t0 = now_seconds();
    int64_t done_here = 0;
    for (;;) {
        rvc_trainer_status st;
        rvc_trainer_status_get(t, &st);
        if (st.step > 0 && s->stop_requested && s->stop_requested(s->ctx)) {
            o->stopped_early = 1;
            return rvc_trainer_checkpoint(t, err);
        }
        double started = now_seconds();
        int rc = rvc_trainer_step(t, err);
        if (rc < 0) return -1;
        if (rc == 1) return 0;
        done_here++;
        rvc_trainer_status_get(t, &st);
        double per_step = (now_seconds() - t0) / (double)done_here;
        /* The report's step time is the second step's: the first also creates every oneDNN primitive
         * and touches fresh memory (tens of times slower at tiny sizes, ≈ 1.7× at full size). A run of
         * one step reports that one. */
        int last = st.step >= st.total_steps;
        if (done_here == 2 || (done_here == 1 && last)) {
            double measured = now_seconds() - started;
            if (s->recipe->epochs_chosen && !last) { /* the default follows this machine's real step time */
                int spe = st.epochs > 0 ? (int)(st.total_steps / st.epochs) : 1;
                rvc_trainer_set_epochs(t, rvc_train_epochs_for(s->recipe, measured, spe));
                rvc_trainer_status_get(t, &st);
            }
            if (report_set(s, set, &st, measured, o, err)) return -1;
        }
        double eta = per_step * (double)(st.total_steps - st.step);
        if (s->on_step && s->on_step(s->ctx, &st, eta)) return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
    }
}

static void mean_of(const rvc_train_result *rows, int64_t from, int64_t to, rvc_train_result *out)
{
    memset(out, 0, sizeof *out);
    double n = (double)(to - from);
    for (int64_t i = from; i < to; i++) {
        out->loss_disc += rows[i].loss_disc / n;
        out->loss_gen += rows[i].loss_gen / n;
        out->loss_fm += rows[i].loss_fm / n;
        out->loss_mel += rows[i].loss_mel / n;
        out->loss_kl += rows[i].loss_kl / n;
        out->loss_gen_all += rows[i].loss_gen_all / n;
    }
}

/* first/final: means over the first and last steps (one epoch's worth, at most half the run). */
static int summarise(rvc_trainer *t, const rvc_train_job_spec *s, double audio_seconds, rvc_train_outcome *o,
                     vc_error *err)
{
    rvc_train_result *rows = NULL;
    int64_t n = 0;
    if (rvc_trainer_history(t, &rows, &n, err)) return -1;
    if (n == 0) {
        free(rows);
        return vc_fail(err, VC_ERR_TRAINING_FAILED, "training ran no step");
    }
    int64_t k = rvc_train_steps_per_epoch(s->recipe, audio_seconds);
    if (k > n / 2) k = n / 2 > 0 ? n / 2 : 1;
    mean_of(rows, 0, k, &o->first);
    mean_of(rows, n - k, n, &o->final);
    free(rows);
    rvc_trainer_status st;
    rvc_trainer_status_get(t, &st);
    o->steps = st.step;
    o->epochs_done = st.epoch;
    o->training_seconds = st.seconds_per_step * (double)st.step;
    snprintf(o->grade, sizeof o->grade, "%s", rvc_train_grade(o->final.loss_mel));
    if (!isfinite(o->final.loss_gen_all)) return vc_fail(err, VC_ERR_TRAINING_FAILED, "training diverged (loss is not finite)");
    return 0;
}

/* ---- 3–5. index, export, validation ---- */
static int build_index(const rvc_train_job_spec *s, const rvc_dataset *set, vc_error *err)
{
    float *rows = NULL;
    int64_t n = 0;
    char path[1400];
    work_path(s, "model.index", path, sizeof path);
    if (phase(s, "index", 0, "Building the feature index...", err)) return -1;
    int rc = rvc_dataset_feature_rows(set, &rows, &n, err);
    if (rc == 0) rc = rvc_index_build(rows, n, set->phone_dim, s->recipe->seed, path, err);
    free(rows);
    return rc;
}

static int export_model(const rvc_train_job_spec *s, rvc_trainer *t, const rvc_train_outcome *o, vc_error *err)
{
    char path[1400], info[256];
    work_path(s, "model.pth", path, sizeof path);
    snprintf(info, sizeof info, "%depoch_%lldstep, trained by VoiceClone Studio", o->epochs_done, (long long)o->steps);
    return rvc_trainer_export(t, path, info, err);
}

/* The exported file, opened the way conversions open it, converts the first seconds of a piece. */
static int validate_model(const rvc_train_job_spec *s, const rvc_dataset *set, vc_error *err)
{
    char pth[1400], idx[1400];
    work_path(s, "model.pth", pth, sizeof pth);
    work_path(s, "model.index", idx, sizeof idx);
    if (phase(s, "validation", 0, "Checking the trained model on your audio...", err)) return -1;
    rvc_engine *e = NULL;
    if (rvc_engine_open(&e, pth, idx, s->weights_root, err)) return -1;
    const rvc_train_item *it = &set->items[0];
    size_t n = (size_t)it->frames * (size_t)set->hop, cap = (size_t)(RVC_VALIDATION_SECONDS * set->sr);
    audio_buffer in = {it->wave, n < cap ? n : cap, set->sr}, out = {0};
    rvc_params p;
    rvc_params_default(&p);
    int rc = rvc_engine_convert_audio(e, &in, &p, NULL, &out, err);
    double energy = 0;
    int finite = 1;
    for (size_t i = 0; rc == 0 && i < out.frames; i++) {
        finite &= isfinite(out.samples[i]) != 0;
        energy += (double)out.samples[i] * out.samples[i];
    }
    if (rc == 0 && (out.frames == 0 || !finite || energy == 0))
        rc = vc_fail(err, VC_ERR_TRAINING_FAILED, "the trained model produced %s", !finite ? "invalid samples" : "silence");
    audio_buffer_free(&out);
    rvc_engine_free(e);
    return rc;
}

int rvc_train_pipeline_run(const rvc_train_job_spec *s, rvc_train_outcome *o, vc_error *err)
{
    memset(o, 0, sizeof *o);
    rvc_dataset set = {0};
    rvc_trainer *t = NULL;
    rvc_train_config cfg;
    int rc = vc_mkdirs(s->work_dir, err);
    if (rc == 0) rc = load_or_build_dataset(s, &set, err);
    if (rc == 0) {
        char msg[128];
        o->audio_seconds = dataset_seconds(&set);
        snprintf(msg, sizeof msg, "Speech kept after slicing: %.0f s in %d pieces", o->audio_seconds, set.n);
        rc = phase(s, "feature extraction", 1, msg, err);
    }
    if (rc == 0) rc = open_trainer(s, &set, &cfg, &t, err);
    if (rc == 0) rc = train_steps(s, &set, t, o, err);
    if (rc == 0) rc = summarise(t, s, o->audio_seconds, o, err);
    if (rc == 0) rc = build_index(s, &set, err);
    if (rc == 0) rc = export_model(s, t, o, err);
    if (rc == 0) rc = validate_model(s, &set, err);
    rvc_trainer_free(t);
    rvc_dataset_free(&set);
    return rc;
}
