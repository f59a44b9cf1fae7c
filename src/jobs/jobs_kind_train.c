/*
 * The train_rvc job kind: a recording of someone's voice becomes an RVC voice model in the
 * library (POST /api/train, `voiceclone train` runs the same steps in-process through
 * rvc_train_pipeline.h). The long part is training, so everything a restart needs lives in
 * data/training/{job_id}/, which — unlike the job's scratch folder — survives a crash:
 *
 *   dataset.safetensors   the prepared set (slices, features, pitch): a restarted job skips
 *                         preprocessing and feature extraction
 *   trainer/              rvc_trainer's checkpoint (G, D, optimizers, RNG, loss history)
 *   stop                  "stop now and keep the latest model" (POST /api/jobs/{id}/stop)
 *
 * Phases and their share of the progress bar:
 *   preprocessing 0–5 % → feature extraction 5–15 % → training 15–90 % (one event per step:
 *   step, total_steps, loss, loss_mel, epoch, eta_seconds; after the second step also a
 *   "training_set" event: speech_seconds, pieces, steps_per_epoch, epochs, step_seconds,
 *   epoch_seconds, remaining_seconds — the result's "training_set" too) → index 90–94 % → validation
 *   94–98 % (the exported model converts a few seconds of the training audio) → saving.
 * The model id is chosen at submit time (the brief's response carries it); the model row is
 * written last, so a job that dies before that leaves no half-made model in the library, and a
 * re-run that finds the row already written reports it instead of training again.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audio/audio.h"
#include "base/memstat.h"
#include "jobs/jobs_internal.h"
#include "jobs/jobs_train.h"
#include "models/rvc/rvc_engine.h"
#include "models/rvc/rvc_import.h"
#include "models/rvc/rvc_train_pipeline.h"

/* ---- parameters ---- */
static int is_one_of(const char *key, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], key)) return 1;
    return 0;
}

static int check_bool_options(const json_t *o, vc_error *err)
{
    static const char *const KNOWN[] = {"remove_noise", "normalize_volume", "trim_silence", "vocal_separation", NULL};
    if (!o) return 0;
    if (!json_is_object(o)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "preprocessing must be an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        if (!is_one_of(key, KNOWN) || !json_is_boolean(v))
            return vc_fail(err, VC_ERR_INVALID_REQUEST, "preprocessing.%s is not an option (remove_noise, "
                           "normalize_volume, trim_silence: true/false)", key);
    }
    if (json_is_true(json_object_get(o, "vocal_separation")))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "vocal separation is not available yet: upload a recording "
                       "without music, or separate the vocals before uploading");
    return 0;
}

static int integer_in(const json_t *tp, const char *key, int lo, int hi, int *out, vc_error *err)
{
    json_t *v = json_object_get(tp, key);
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "training_params.%s must be an integer from %d to %d", key, lo, hi);
    *out = (int)json_integer_value(v);
    return 0;
}

/* training_params → recipe (fields not given keep their defaults). */
static int parse_training_params(const json_t *tp, rvc_train_recipe *r, vc_error *err)
{
    if (!tp) return 0;
    if (!json_is_object(tp)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "training_params must be an object");
    static const char *const KNOWN[] = {"epochs", "batch_size", "learning_rate", "sample_rate", "save_every_steps",
                                        "seed", "model_size", "f0", "version", NULL};
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)tp, key, v) {
        if (!is_one_of(key, KNOWN)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "training_params.%s is not a training parameter "
                                   "(epochs, batch_size, learning_rate, sample_rate, save_every_steps, seed, f0, version)", key);
    }
    if (integer_in(tp, "epochs", 1, 1000, &r->epochs, err) || integer_in(tp, "batch_size", 1, 32, &r->batch_size, err) ||
        integer_in(tp, "save_every_steps", 1, 100000, &r->save_every_steps, err))
        return -1;
    int seed = (int)r->seed;
    if (integer_in(tp, "seed", 0, 2147483647, &seed, err)) return -1;
    r->seed = (uint64_t)seed;
    if ((v = json_object_get(tp, "sample_rate"))) {
        json_int_t sr = json_integer_value(v);
        if (!json_is_integer(v) || (sr != 32000 && sr != 40000 && sr != 48000))
            return vc_fail(err, VC_ERR_INVALID_REQUEST, "training_params.sample_rate must be 32000, 40000 or 48000");
        r->sample_rate = (int)sr;
    }
    if ((v = json_object_get(tp, "f0"))) { /* false: a model without pitch guidance (RVC's _nono models) */
        if (!json_is_boolean(v))
            return vc_fail(err, VC_ERR_INVALID_REQUEST, "training_params.f0 must be true (pitch-guided, the default) or "
                           "false (no pitch: for speech; the voice keeps the input's intonation less well)");
        r->f0 = json_is_true(v);
    }
    if ((v = json_object_get(tp, "version"))) {
        const char *ver = json_string_value(v);
        if (!ver || (strcmp(ver, "v1") && strcmp(ver, "v2")))
            return vc_fail(err, VC_ERR_INVALID_REQUEST, "training_params.version must be \"v2\" (768-dim features, the "
                           "default) or \"v1\" (256-dim, older RVC tools)");
        r->version = ver[1] - '0';
    }
    if ((v = json_object_get(tp, "learning_rate"))) {
        if (!json_is_number(v) || !(json_number_value(v) > 0) || json_number_value(v) > 0.01)
            return vc_fail(err, VC_ERR_INVALID_REQUEST, "training_params.learning_rate must be a number in (0, 0.01]");
        r->learning_rate = json_number_value(v);
    }
    /* "tiny": a few-channel model that trains in seconds — for the test suite only. */
    if ((v = json_object_get(tp, "model_size"))) {
        const char *sz = json_string_value(v);
        int tests = getenv("VCS_JOBS_TEST_KINDS") && !strcmp(getenv("VCS_JOBS_TEST_KINDS"), "1");
        if (!sz || (strcmp(sz, "full") && !(tests && !strcmp(sz, "tiny"))))
            return vc_fail(err, VC_ERR_INVALID_REQUEST, "training_params.model_size must be \"full\"");
        r->tiny = !strcmp(sz, "tiny");
    }
    return 0;
}

#define TRAIN_MAX_FILES 32
#define TRAIN_MIN_SNR_DB 15.0   /* below: only with accept_noisy_audio (uploads refuse < 10 dB) */

/* The training set's audio ids: training_audio_ids (a list), or the single training_audio_id. */
static int audio_ids(const json_t *params, const char *ids[TRAIN_MAX_FILES], int *n, vc_error *err)
{
    const json_t *list = json_object_get(params, "training_audio_ids");
    *n = 0;
    if (list) {
        size_t i;
        json_t *v;
        if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > TRAIN_MAX_FILES)
            return vc_fail(err, VC_ERR_INVALID_REQUEST, "training_audio_ids must be a list of 1 to %d audio ids",
                           TRAIN_MAX_FILES);
        json_array_foreach(list, i, v) {
            if (!json_is_string(v)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "training_audio_ids must hold strings");
            for (int k = 0; k < *n; k++)
                if (!strcmp(ids[k], json_string_value(v)))
                    return vc_fail(err, VC_ERR_INVALID_REQUEST, "training_audio_ids lists %s twice", ids[k]);
            ids[(*n)++] = json_string_value(v);
        }
        return 0;
    }
    const char *id = json_string_value(json_object_get(params, "training_audio_id"));
    if (!id) return vc_fail(err, VC_ERR_INVALID_REQUEST, "training_audio_ids (a list) or training_audio_id is required");
    ids[(*n)++] = id;
    return 0;
}

static int find_audio_id(store *s, const char *user_id, const char *id, store_audio *a, vc_error *err)
{
    if (!store_id_valid(id) || store_audio_get(s, user_id, id, a, err))
        return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "Training audio file %s not found. Please upload audio first.", id);
    return 0;
}

/* Total seconds of the set; a file under TRAIN_MIN_SNR_DB is refused unless accept_noisy_audio is
 * true (the user saw the report and chose "use anyway"). */
static int check_set(store *s, const char *user_id, const json_t *params, double *seconds, vc_error *err)
{
    const char *ids[TRAIN_MAX_FILES];
    int n;
    if (audio_ids(params, ids, &n, err)) return -1;
    int accept_noisy = json_is_true(json_object_get(params, "accept_noisy_audio"));
    *seconds = 0;
    for (int i = 0; i < n; i++) {
        store_audio a;
        if (find_audio_id(s, user_id, ids[i], &a, err)) return -1;
        *seconds += a.duration_seconds;
        int noisy = a.snr_db < TRAIN_MIN_SNR_DB;
        double snr = a.snr_db;
        char name[256];
        snprintf(name, sizeof name, "%s", a.filename);
        store_audio_free(&a);
        if (noisy && !accept_noisy)
            return vc_fail(err, VC_ERR_QUALITY_TOO_LOW, "%s is noisy: SNR %.1f dB, below the %.0f dB training minimum. "
                           "Record it again in a quieter room, or train anyway with accept_noisy_audio: true "
                           "(remove_noise helps; the voice may sound noisier)", name, snr, TRAIN_MIN_SNR_DB);
    }
    return 0;
}

static int check_name_and_consent(const json_t *params, vc_error *err)
{
    const char *name = json_string_value(json_object_get(params, "model_name"));
    if (!name || !name[0] || strlen(name) > 100)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "model_name must be a string of 1 to 100 characters");
    if (!json_is_true(json_object_get(params, "voice_consent")))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "voice_consent must be true: confirm that the voice is yours or "
                       "that you have the speaker's permission to clone it");
    return 0;
}

/* The operator's settings for the default epochs (docs/RVC.md "Defaults"); unset: the built-in ones. */
static int default_epochs_settings(rvc_train_recipe *r, vc_error *err)
{
    static const struct { const char *name; double lo, hi; } VARS[] = {
        {"VCS_TRAIN_TARGET_MINUTES", 0.001, 10000}, {"VCS_TRAIN_MIN_EPOCHS", 1, 1000}, {"VCS_TRAIN_MAX_EPOCHS", 1, 1000}};
    double value[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        const char *v = getenv(VARS[i].name);
        if (!v || !*v) continue;
        char *end;
        value[i] = strtod(v, &end);
        if (*end || !(value[i] >= VARS[i].lo && value[i] <= VARS[i].hi) || (i > 0 && value[i] != floor(value[i])))
            return vc_fail(err, VC_ERR_INTERNAL, "%s must be a %s from %g to %g (got '%s'): fix the server's setting",
                           VARS[i].name, i ? "whole number" : "number", VARS[i].lo, VARS[i].hi, v);
    }
    r->target_minutes = value[0];
    r->min_epochs = (int)value[1];
    r->max_epochs = (int)value[2];
    return 0;
}

/* The measured step time of a recipe's model (data/throughput.json, one key per shape). */
static void step_key(const rvc_train_recipe *r, char *out, size_t cap)
{
    snprintf(out, cap, "train_step:v%d:%d:%s:b%d%s", r->version, r->sample_rate, r->f0 ? "f0" : "nof0", r->batch_size,
             r->tiny ? ":tiny" : "");
}

/* The recipe the parameters ask for; epochs: as given, else what submit chose (the top-level
 * "epochs" train_validate writes), then chosen again from the run's measured step. */
static int recipe_from(const json_t *params, rvc_train_recipe *r, vc_error *err)
{
    rvc_train_recipe_default(r);
    if (parse_training_params(json_object_get(params, "training_params"), r, err)) return -1;
    if (default_epochs_settings(r, err)) return -1;
    r->epochs_chosen = !json_object_get(json_object_get(params, "training_params"), "epochs");
    json_t *chosen = json_object_get(params, "epochs");
    if (r->epochs_chosen && chosen) r->epochs = (int)json_integer_value(chosen);
    return 0;
}

/* Submit time: every refusal here costs the user nothing. Fills in model_id, the chosen epochs
 * and the estimate, so the reply and the job agree. */
static int train_validate(store *s, const char *user_id, json_t *params, vc_error *err)
{
    rvc_train_recipe r;
    char root[1200];
    if (check_name_and_consent(params, err) || check_bool_options(json_object_get(params, "preprocessing"), err))
        return -1;
    if (recipe_from(params, &r, err)) return -1;
    double seconds;
    if (check_set(s, user_id, params, &seconds, err)) return -1;
    if (json_object_get(params, "accept_noisy_audio") && !json_is_boolean(json_object_get(params, "accept_noisy_audio")))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "accept_noisy_audio must be true or false");
    if (seconds < RVC_TRAIN_MIN_SECONDS)
        return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "Audio is too short for training: %.0f s. Minimum: %d seconds "
                       "(5–10 minutes gives the best results).", seconds, RVC_TRAIN_MIN_SECONDS);
    store_path(s, root, sizeof root, "weights");
    if (rvc_base_weights_check(root, err)) return -1;
    if (r.epochs_chosen) { /* chosen here, whatever else says; from a step measured here before when there is one */
        char key[96];
        step_key(&r, key, sizeof key);
        r.step_seconds_hint = jobs_throughput_estimate(s, key, 1, 0, 0);
        r.epochs = rvc_train_default_epochs(&r, seconds);
    }
    char model_id[STORE_ID_MAX], now[32];
    if (store_new_id("model", model_id, err)) return -1;
    time_t t = time(NULL);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    json_object_set_new(params, "consented_at", json_string(now));
    json_object_set_new(params, "model_id", json_string(model_id));
    json_object_set_new(params, "epochs", json_integer(r.epochs));
    json_object_set_new(params, "training_audio_seconds", json_real(seconds));
    json_object_set_new(params, "estimated_duration_minutes",
                        json_integer((json_int_t)ceil(rvc_train_estimate_seconds(&r, seconds) / 60.0)));
    /* the jobs list's ETA (estimate − elapsed) from the first moment, not only once steps report */
    json_object_set_new(params, "estimated_seconds", json_real(round(rvc_train_estimate_seconds(&r, seconds))));
    return 0;
}

/* ---- run ---- */
typedef struct train_run {
    const job *jb;
    job_ctx *c;
    char dir[1300];
    const rvc_train_recipe *recipe;
    char phase[32]; /* the phase running, for the peak RSS logged when it ends */
} train_run;

/* Logs the process's peak RSS as a phase ends (one JSON line on stderr, like the scheduler's).
 * The server's other jobs share this process, so the high-water mark is never reset here
 * (base/memstat.h): it is the peak so far, and a phase that raised it is the one that shows. */
static void phase_ended(train_run *t, const char *next)
{
    if (t->phase[0])
        fprintf(stderr, "{\"jobs\":\"train phase ended\",\"job_id\":\"%s\",\"phase\":\"%s\",\"peak_rss_mb\":%.0f,"
                        "\"peak\":\"process, so far\"}\n", t->jb->job_id, t->phase, (double)vc_rss_peak_bytes() / 1048576.0);
    snprintf(t->phase, sizeof t->phase, "%s", next ? next : "");
}

static int on_phase(void *ctx, const char *phase, double fraction, const char *message)
{
    train_run *t = ctx;
    if (strcmp(t->phase, phase)) phase_ended(t, phase);
    static const struct { const char *phase; double from, span; } SPANS[] = {
        {"preprocessing", 0, 5}, {"feature extraction", 5, 10}, {"training", 15, 75},
        {"index", 90, 4}, {"validation", 94, 4}, {"saving", 98, 2},
    };
    for (size_t i = 0; i < sizeof SPANS / sizeof SPANS[0]; i++)
        if (!strcmp(SPANS[i].phase, phase)) job_progress(t->c, SPANS[i].from + SPANS[i].span * fraction, phase, message);
    return job_cancelled(t->c);
}

static int on_step(void *ctx, const rvc_trainer_status *st, double eta_seconds)
{
    train_run *t = ctx;
    vc_error err;
    double percent = 15 + 75 * (double)st->step / (double)(st->total_steps > 0 ? st->total_steps : 1);
    json_t *d = json_pack("{s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:i, s:i, s:s, s:f, s:f}", "step", (json_int_t)st->step,
                          "total_steps", (json_int_t)st->total_steps, "loss", st->last.loss_gen_all, "loss_mel",
                          st->last.loss_mel, "loss_disc", st->last.loss_disc, "loss_kl", st->last.loss_kl, "loss_fm",
                          st->last.loss_fm, "epoch", st->epoch, "epochs", st->epochs, "phase", "training",
                          "eta_seconds", eta_seconds, "percent", percent);
    job_emit(t->c, "progress", d, &err);
    return job_cancelled(t->c);
}

static json_t *report_json(const rvc_train_report *r)
{
    return json_pack("{s:f, s:i, s:i, s:i, s:b, s:f, s:f, s:f}", "speech_seconds", r->speech_seconds, "pieces", r->pieces,
                     "steps_per_epoch", r->steps_per_epoch, "epochs", r->epochs, "epochs_chosen", r->epochs_chosen,
                     "step_seconds", r->step_seconds, "epoch_seconds", r->epoch_seconds, "remaining_seconds",
                     r->remaining_seconds);
}

/* The training-set report: a "training_set" event (the UI shows it) and a progress line. */
static int on_report(void *ctx, const rvc_train_report *r)
{
    train_run *t = ctx;
    vc_error err;
    char msg[320];
    char key[96];
    step_key(t->recipe, key, sizeof key); /* the next submit's default and estimate start from it */
    jobs_throughput_record(job_store(t->c), key, 1, r->step_seconds, 0);
    job_emit(t->c, "training_set", report_json(r), &err);
    snprintf(msg, sizeof msg, "Training set: %.0f s of speech in %d pieces; about %.0f min an epoch (%d steps of %.1f s); "
             "%d epochs%s, about %.0f min left", r->speech_seconds, r->pieces, r->epoch_seconds / 60.0, r->steps_per_epoch,
             r->step_seconds, r->epochs, r->epochs_chosen ? " (chosen for this machine's measured step)" : "",
             r->remaining_seconds / 60.0);
    job_progress(t->c, 15, "training", msg);
    return job_cancelled(t->c);
}

/* Denoise/trim/normalise; after noise removal the SNR is measured again and reported. */
static int preprocess(void *ctx, audio_buffer *buf, vc_error *err)
{
    train_run *t = ctx;
    const json_t *opts = json_object_get(t->jb->params, "preprocessing");
    if (jobs_run_dsp_steps(t->c, opts, buf, 0, 5, err)) return -1;
    audio_quality q;
    if (json_is_true(json_object_get(opts, "remove_noise")) && audio_analyze(buf, &q, err) == 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "After noise removal: SNR %.1f dB (training minimum %.0f dB)", q.snr_db, TRAIN_MIN_SNR_DB);
        job_progress(t->c, 5, "preprocessing", msg);
    }
    return 0;
}

static int cancel_requested(void *ctx) { return job_cancelled(((train_run *)ctx)->c); }

static int stop_requested(void *ctx)
{
    train_run *t = ctx;
    char path[1400];
    snprintf(path, sizeof path, "%s/stop", t->dir);
    return access(path, F_OK) == 0;
}

static int already_done(store *s, const job *jb, json_t **result, vc_error *err)
{
    store_model m;
    const char *id = json_string_value(json_object_get(jb->params, "model_id"));
    if (!id || store_model_get(s, jb->user_id, id, &m, err)) return 0;
    *result = json_pack("{s:s, s:s, s:f, s:s, s:b}", "model_id", m.model_id, "model_name", m.name, "final_loss",
                        m.final_loss, "quality_grade", m.quality_grade, "recovered", 1);
    return 1;
}

int jobs_train_store_model(store *s, const char *user_id, const char *name, const char *model_id, const char *work_dir,
                           const rvc_train_outcome *o, json_t *provenance, store_model *m, vc_error *err)
{
    char pth[1400], idx[1400];
    snprintf(pth, sizeof pth, "%s/model.pth", work_dir);
    snprintf(idx, sizeof idx, "%s/model.index", work_dir);
    store_model trained = {.training_duration_minutes = (int)ceil(o->training_seconds / 60.0),
                           .final_loss = o->final.loss_mel, .training_audio_duration_seconds = o->audio_seconds};
    snprintf(trained.quality_grade, sizeof trained.quality_grade, "%s", o->grade);
    json_object_set_new(provenance, "steps", json_integer((json_int_t)o->steps));
    json_object_set_new(provenance, "epochs_done", json_integer(o->epochs_done));
    json_object_set_new(provenance, "final_loss_mel", json_real(o->final.loss_mel));
    json_object_set_new(provenance, "stopped_early", json_boolean(o->stopped_early));
    rvc_import_request rq = {.user_id = user_id, .name = name, .model_path = pth,
                             .index_path = access(idx, R_OK) == 0 ? idx : NULL, .filename = "model.pth",
                             .model_id = model_id, .trained = &trained, .provenance = provenance};
    /* the models layer checks and publishes the files; the row is the jobs layer's to write */
    return rvc_import_files(s, &rq, m, err) != 0 ? -1 : store_model_record(s, m, err);
}

/* The trained files → a model in the library under the announced id. */
static int add_to_library(train_run *t, const rvc_train_outcome *o, store_model *m, vc_error *err)
{
    const json_t *p = t->jb->params;
    json_t *prov = json_pack("{s:s, s:b, s:s?, s:O?, s:s?}", "attestation",
                             "The user confirmed that the voice is theirs or that they have the speaker's permission.",
                             "voice_consent", 1, "training_audio_id", json_string_value(json_object_get(p, "training_audio_id")),
                             "training_audio_ids", json_object_get(p, "training_audio_ids"),
                             "consented_at", json_string_value(json_object_get(p, "consented_at")));
    int rc = prov ? jobs_train_store_model(job_store(t->c), t->jb->user_id,
                                           json_string_value(json_object_get(p, "model_name")),
                                           json_string_value(json_object_get(p, "model_id")), t->dir, o, prov, m, err)
                  : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    json_decref(prov);
    return rc;
}

static int train_run_job(const job *jb, job_ctx *c, json_t **result, vc_error *err)
{
    store *s = job_store(c);
    if (already_done(s, jb, result, err)) return 0;
    train_run t = {.jb = jb, .c = c};
    store_path(s, t.dir, sizeof t.dir, "training/%s", jb->job_id);
    rvc_train_recipe r;
    const char *ids[TRAIN_MAX_FILES];
    int n = 0;
    if (recipe_from(jb->params, &r, err) || audio_ids(jb->params, ids, &n, err)) return -1;
    t.recipe = &r;
    char(*paths)[1600] = calloc(TRAIN_MAX_FILES, sizeof *paths);
    const char *path_list[TRAIN_MAX_FILES];
    if (!paths) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        store_audio a;
        if (find_audio_id(s, jb->user_id, ids[i], &a, err)) {
            free(paths);
            return -1;
        }
        store_path(s, paths[i], sizeof paths[i], "%s", a.file_path);
        store_audio_free(&a);
        path_list[i] = paths[i];
    }
    char root[1200];
    store_path(s, root, sizeof root, "weights");
    rvc_train_job_spec spec = {.audio_path = path_list[0], .audio_paths = path_list, .n_audio_paths = n,
                               .work_dir = t.dir, .weights_root = root, .recipe = &r,
                               .preprocess = preprocess, .on_phase = on_phase, .on_step = on_step, .on_report = on_report, .stop_requested = stop_requested,
                               .cancel_requested = cancel_requested, .ctx = &t};
    rvc_train_outcome o;
    store_model m;
    int rc = rvc_train_pipeline_run(&spec, &o, err);
    if (rc == 0) {
        on_phase(&t, "saving", 0, "Adding the model to your library...");
        rc = add_to_library(&t, &o, &m, err);
    }
    if (rc == 0) {
        *result = json_pack("{s:s, s:s, s:f, s:f, s:s, s:I, s:i, s:b, s:f, s:f, s:o?}", "model_id", m.model_id, "model_name",
                            m.name, "final_loss", o.final.loss_mel, "loss_gen_all", o.final.loss_gen_all, "quality_grade",
                            o.grade, "steps", (json_int_t)o.steps, "epochs", o.epochs_done, "stopped_early",
                            o.stopped_early, "training_minutes", o.training_seconds / 60.0, "speech_seconds",
                            o.audio_seconds, "epochs_planned", o.report.epochs > 0 ? json_integer(o.report.epochs) : json_incref(json_object_get(jb->params, "epochs")));
        json_t *set = json_array(); /* the set it learnt from: "Try it" converts a few seconds of it */
        for (int i = 0; i < n; i++) json_array_append_new(set, json_string(ids[i]));
        json_object_set_new(*result, "training_audio_ids", set);
        if (o.report.pieces > 0) json_object_set_new(*result, "training_set", report_json(&o.report));
    }
    free(paths);
    phase_ended(&t, NULL);
    /* Kept only when the server is shutting down (the job is re-queued and resumes from it);
     * completion, failure and cancel remove it. A crash never gets here, so it keeps it too. */
    if (!job_shutting_down(c)) {
        vc_error ignored;
        vc_remove_tree(t.dir, &ignored);
    }
    return rc;
}

const job_kind JOBS_KIND_TRAIN_RVC = {
    .name = "train_rvc", .lane = JOBS_LANE_TRAIN, .priority = JOBS_PRIO_TRAIN,
    .validate = train_validate, .run = train_run_job,
};

/* ---- stop early, loss history (for the API) ---- */
int jobs_train_stop(jobs *j, const char *user_id, const char *job_id, vc_error *err)
{
    jobs_row r = {0};
    store *s = jobs_get_store(j);
    int found = jobs_db_get(s, user_id, job_id, &r, err);
    if (found < 0) return -1;
    int rc = 0;
    if (!found) rc = vc_fail(err, VC_ERR_JOB_NOT_FOUND, "job %s not found", job_id);
    else if (strcmp(r.kind, JOBS_KIND_TRAIN_RVC.name))
        rc = vc_fail(err, VC_ERR_INVALID_REQUEST, "only training jobs can be stopped early; use DELETE to cancel");
    else if (strcmp(r.state, "running"))
        rc = vc_fail(err, VC_ERR_CONFLICT, !strcmp(r.state, "queued") ? "the job has not started: cancel it instead"
                                                                      : "the job already finished");
    jobs_row_free(&r);
    if (rc) return -1;
    char dir[1300], path[1400];
    store_path(s, dir, sizeof dir, "training/%s", job_id);
    snprintf(path, sizeof path, "%s/stop", dir);
    if (vc_mkdirs(dir, err)) return -1;
    return vc_write_atomic(path, "stop\n", 5, err);
}

static json_t *loss_point(const jobs_event *e)
{
    if (strcmp(e->name, "progress")) return NULL;
    json_t *d = json_loads(e->data, 0, NULL);
    json_t *p = NULL;
    if (json_is_integer(json_object_get(d, "step")) && json_is_number(json_object_get(d, "loss")))
        p = json_pack("{s:O, s:O, s:O?, s:O?, s:O?}", "step", json_object_get(d, "step"), "loss",
                      json_object_get(d, "loss"), "loss_mel", json_object_get(d, "loss_mel"), "loss_disc",
                      json_object_get(d, "loss_disc"), "epoch", json_object_get(d, "epoch"));
    json_decref(d);
    return p;
}

/* A job resumed after a crash redoes the steps after its last checkpoint: their new points
 * replace the first run's, so the curve has one point per step. */
static void append_point(json_t *points, json_t *p)
{
    json_int_t step = json_integer_value(json_object_get(p, "step"));
    size_t n = json_array_size(points);
    while (n > 0 && json_integer_value(json_object_get(json_array_get(points, n - 1), "step")) >= step)
        json_array_remove(points, --n);
    json_array_append_new(points, p);
}

int jobs_train_loss_history(jobs *j, const char *user_id, const char *job_id, json_t **out, vc_error *err)
{
    int owns = jobs_owns(j, user_id, job_id, err);
    if (owns <= 0) return owns < 0 ? -1 : vc_fail(err, VC_ERR_JOB_NOT_FOUND, "job %s not found", job_id);
    json_t *points = json_array();
    jobs_event ev[64];
    int64_t after = 0;
    int n;
    while ((n = jobs_events_after(j, job_id, after, ev, 64, err)) > 0) {
        for (int i = 0; i < n; i++) {
            json_t *p = loss_point(&ev[i]);
            if (p) append_point(points, p);
            after = ev[i].id;
            free(ev[i].data);
        }
    }
    if (n < 0) {
        json_decref(points);
        return -1;
    }
    *out = json_pack("{s:s, s:o}", "job_id", job_id, "points", points);
    return 0;
}
