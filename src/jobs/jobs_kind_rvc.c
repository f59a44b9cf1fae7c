/*
 * The convert_rvc job kind: a stored recording spoken again in one of the user's voice models
 * (POST /api/convert/rvc). Its own file because it is the one kind that ties the jobs module to
 * the RVC engine; everything it shares with the other kinds (output storage, progress, cancel)
 * goes through jobs_internal.h.
 *
 *   params {model_id, target_audio_id, parameters{pitch_shift −24..24 semitones, index_rate 0..1,
 *           filter_radius 0..7, rms_mix_rate 0..1, protect 0..0.5, resample_sr 0 | 16000..48000}}
 *          or text mode: text instead of target_audio_id (F5-TTS speaks it first: jobs_rvc_text.c)
 *   phases loading model (2 %) → extracting features (10 %: pitch over the whole input, then
 *          the first chunk) → converting (15–90 %, per chunk) → postprocessing (92 %: WAV + analysis)
 *   result {output_audio_id, download_url, duration_seconds, quality_analysis, model_id,
 *           input_audio_id, sample_rate, processing_time_seconds}
 * Cancellation is checked between the steps and at every chunk through the engine's progress
 * hook; rvc_convert reports once per chunk (≤ 38 s of audio), after pitch extraction of the whole
 * input, so a cancel may take one chunk's work to be seen (docs/RVC.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audio/audio.h"
#include "jobs/jobs_internal.h"
#include "jobs/jobs_rvc_text.h"
#include "models/rvc/rvc_engine.h"

typedef struct rvc_param_rule {
    const char *name;
    double lo, hi;
    int integer;
} rvc_param_rule;

/* The official WebUI's slider ranges. */
static const rvc_param_rule PARAM_RULES[] = {
    {"pitch_shift", -24, 24, 0}, {"index_rate", 0, 1, 0}, {"filter_radius", 0, 7, 1},
    {"rms_mix_rate", 0, 1, 0},   {"protect", 0, 0.5, 0},
    {"resample_sr", 0, 48000, 1}, /* 0 = the model's rate; the pipeline ignores values below 16000, as officially */
    {"clip_seconds", 0.5, 60, 0}, /* only the first seconds of the input (a preview, e.g. "Try it" after training) */
};
#define N_PARAM_RULES (sizeof PARAM_RULES / sizeof PARAM_RULES[0])

static const rvc_param_rule *param_rule(const char *name)
{
    for (size_t i = 0; i < N_PARAM_RULES; i++)
        if (!strcmp(PARAM_RULES[i].name, name)) return &PARAM_RULES[i];
    return NULL;
}

static int validate_parameters(const json_t *p, vc_error *err)
{
    if (!p) return 0;
    if (!json_is_object(p)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "parameters must be an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)p, key, v) {
        const rvc_param_rule *r = param_rule(key);
        if (!r) return vc_fail(err, VC_ERR_INVALID_REQUEST, "parameters.%s is not a parameter of RVC conversion "
                               "(pitch_shift, index_rate, filter_radius, rms_mix_rate, protect, resample_sr, clip_seconds)", key);
        int ok = r->integer ? json_is_integer(v) : json_is_number(v);
        if (!ok || json_number_value(v) < r->lo || json_number_value(v) > r->hi)
            return vc_fail(err, VC_ERR_INVALID_REQUEST, "parameters.%s must be %s from %g to %g", key,
                           r->integer ? "an integer" : "a number", r->lo, r->hi);
    }
    return 0;
}

static void params_from(const json_t *p, rvc_params *rp)
{
    rvc_params_default(rp);
    json_t *v;
    if ((v = json_object_get(p, "pitch_shift"))) rp->f0_up_key = json_number_value(v);
    if ((v = json_object_get(p, "index_rate"))) rp->index_rate = json_number_value(v);
    if ((v = json_object_get(p, "filter_radius"))) rp->filter_radius = (int)json_integer_value(v);
    if ((v = json_object_get(p, "rms_mix_rate"))) rp->rms_mix_rate = json_number_value(v);
    if ((v = json_object_get(p, "protect"))) rp->protect = json_number_value(v);
    if ((v = json_object_get(p, "resample_sr"))) rp->resample_sr = (int)json_integer_value(v);
}

static int find_model(store *s, const char *user_id, const char *id, store_model *m, vc_error *err)
{
    if (!id) return vc_fail(err, VC_ERR_INVALID_REQUEST, "model_id (string) is required");
    if (!store_id_valid(id) || store_model_get(s, user_id, id, m, err)) return vc_fail(err, VC_ERR_MODEL_NOT_FOUND, "model %s not found", id);
    return 0;
}

static int find_audio(store *s, const char *user_id, const char *id, store_audio *a, vc_error *err)
{
    if (!id) return vc_fail(err, VC_ERR_INVALID_REQUEST, "target_audio_id (string) is required");
    if (!store_id_valid(id) || store_audio_get(s, user_id, id, a, err)) return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "audio %s not found", id);
    return 0;
}

/* Before any conversion finished here: RTF 1.9–2.8 on 2 cores (docs/PERFORMANCE.md), plus loading. */
#define RVC_DEFAULT_RATE 2.5
#define RVC_OVERHEAD_SECONDS 3.0

static void throughput_key(const store_model *m, char *out, size_t cap)
{
    snprintf(out, cap, "convert_rvc:%s:%d", m->version[0] ? m->version : "v?", m->sample_rate);
}

/* Batch conversion: target_audio_ids (1..BATCH_MAX, one output each) instead of target_audio_id. */
#define BATCH_MAX 20

static int target_ids(const json_t *params, const char *ids[BATCH_MAX], int *n, vc_error *err)
{
    const json_t *list = json_object_get(params, "target_audio_ids");
    *n = 0;
    if (!list) {
        ids[(*n)++] = json_string_value(json_object_get(params, "target_audio_id"));
        return 0; /* find_audio says when it is missing */
    }
    if (json_object_get(params, "target_audio_id"))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "send target_audio_id (one file) or target_audio_ids (a batch), not both");
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > BATCH_MAX)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "target_audio_ids must be a list of 1 to %d audio ids", BATCH_MAX);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (!json_is_string(v)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "target_audio_ids must hold strings");
        ids[(*n)++] = json_string_value(v);
    }
    return 0;
}

/* Text mode: the speaking part's checks and estimate, then the conversion's for the expected speech. */
static int text_validate(store *s, const char *user_id, json_t *params, const store_model *m, vc_error *err)
{
    double tts_seconds = 0, speech_seconds = 0;
    char root[1200], key[64];
    if (rvc_text_validate(s, user_id, params, m, &tts_seconds, &speech_seconds, err)) return -1;
    store_path(s, root, sizeof root, "weights");
    if (rvc_base_weights_check(root, err)) return -1;
    throughput_key(m, key, sizeof key);
    json_object_set_new(params, "work_units", json_real(speech_seconds));
    json_object_set_new(params, "estimated_seconds",
                        json_real(tts_seconds + jobs_throughput_estimate(s, key, speech_seconds, RVC_DEFAULT_RATE, RVC_OVERHEAD_SECONDS)));
    return 0;
}

static int rvc_validate(store *s, const char *user_id, json_t *params, vc_error *err)
{
    store_model m;
    store_audio a;
    char root[1200];
    if (validate_parameters(json_object_get(params, "parameters"), err)) return -1;
    if (find_model(s, user_id, json_string_value(json_object_get(params, "model_id")), &m, err)) return -1;
    if (rvc_text_requested(params)) return text_validate(s, user_id, params, &m, err);
    const char *ids[BATCH_MAX];
    int n;
    if (target_ids(params, ids, &n, err)) return -1;
    double seconds = 0;
    json_t *clip = json_object_get(json_object_get(params, "parameters"), "clip_seconds");
    for (int i = 0; i < n; i++) {
        if (find_audio(s, user_id, ids[i], &a, err)) return -1;
        seconds += clip && json_number_value(clip) < a.duration_seconds ? json_number_value(clip) : a.duration_seconds;
        store_audio_free(&a);
    }
    store_path(s, root, sizeof root, "weights");
    if (rvc_base_weights_check(root, err)) return -1;
    /* the estimate scales with the input: measured seconds per second of audio for this kind of voice */
    char key[64];
    throughput_key(&m, key, sizeof key);
    json_object_set_new(params, "work_units", json_real(seconds));
    json_object_set_new(params, "estimated_seconds",
                        json_real(jobs_throughput_estimate(s, key, seconds, RVC_DEFAULT_RATE, RVC_OVERHEAD_SECONDS)));
    return 0;
}

/* ---- run ---- */
/* Which file of a batch is being converted: the bar covers all of them, file i taking 1/count of it. */
typedef struct conv_ctx {
    job_ctx *c;
    int index, count;
    double from, span; /* the conversion's part of the bar: 0, 100 (text mode: after the speaking) */
} conv_ctx;

static void conv_progress(const conv_ctx *k, double local, const char *phase, const char *what)
{
    char msg[160];
    if (k->count > 1) snprintf(msg, sizeof msg, "%s (file %d of %d)...", what, k->index + 1, k->count);
    else snprintf(msg, sizeof msg, "%s...", what);
    job_progress(k->c, k->from + (k->index + local / 100.0) * k->span / k->count, phase, msg);
}

/* rvc_convert reports per RMVPE window of long inputs ("extracting pitch"), then once per chunk. */
static int on_rvc_progress(void *ctx, const char *phase, double fraction)
{
    conv_ctx *k = ctx;
    if (!strcmp(phase, "extracting pitch")) conv_progress(k, 10 + 5 * fraction, "extracting features", "Extracting pitch");
    else conv_progress(k, 15 + 75 * fraction, "converting", "Converting audio");
    return job_cancelled(k->c);
}

static int on_rvc_cancelled(void *ctx) { return job_cancelled(((conv_ctx *)ctx)->c); }

static int cancelled(job_ctx *c, vc_error *err)
{
    return job_cancelled(c) ? vc_fail(err, VC_ERR_CANCELLED, "cancelled") : 0;
}

/* A loaded voice is shared by concurrent conversions with the same model (jobs_shared.c); its
 * key is "model.pth\nmodel.index or empty\nweights root\nstamp of the base models". */
/* Copies field i (0-based) of a "\n"-separated key into out. */
static void key_field(const char *key, int i, char *out, size_t cap)
{
    for (; i > 0 && key; i--) key = strchr(key, '\n') ? strchr(key, '\n') + 1 : NULL;
    size_t n = key ? strcspn(key, "\n") : 0;
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), key ? key : "");
}

static int voice_open_shared(const char *key, void **out, vc_error *err)
{
    char pth[1600], idx[1600], root[1200];
    key_field(key, 0, pth, sizeof pth);
    key_field(key, 1, idx, sizeof idx);
    key_field(key, 2, root, sizeof root);
    return rvc_engine_open((rvc_engine **)out, pth, idx[0] ? idx : NULL, root, err);
}

static void voice_close_shared(void *e) { rvc_engine_free(e); }

static const job_shared_kind SHARED_RVC_VOICE = {"rvc_voice", voice_open_shared, voice_close_shared};

/* The job's voice: data/models/{id}/model.pth (+ model.index) with the installed base models. */
static int open_voice(job_ctx *c, const store_model *m, rvc_engine **e, vc_error *err)
{
    char pth[1600], idx[1600], root[1200], key[4500];
    store *s = job_store(c);
    store_path(s, pth, sizeof pth, "models/%s/model.pth", m->model_id);
    store_path(s, idx, sizeof idx, "models/%s/model.index", m->model_id);
    store_path(s, root, sizeof root, "weights");
    char hub[1300], rmv[1300], stamp[JOBS_STAMP_MAX]; /* base models replaced on disk → a fresh load */
    snprintf(hub, sizeof hub, "%s/hubert", root);
    snprintf(rmv, sizeof rmv, "%s/rmvpe", root);
    jobs_files_stamp((const char *const[]){hub, rmv}, 2, stamp);
    snprintf(key, sizeof key, "%s\n%s\n%s\n%s", pth, access(idx, R_OK) == 0 ? idx : "", root, stamp);
    void *res = NULL;
    int rc = jobs_shared_acquire(job_shared_models(c), &SHARED_RVC_VOICE, key, &res, err);
    *e = res;
    return rc;
}

/* model + audio (in: decoded here from audio_path when NULL) → converted buffer */
static int convert(const job *jb, conv_ctx *k, const store_model *m, const char *audio_path, const audio_buffer *given,
                   audio_buffer *out, vc_error *err)
{
    job_ctx *c = k->c;
    rvc_engine *e = NULL;
    audio_buffer in = {0};
    rvc_params rp;
    params_from(json_object_get(jb->params, "parameters"), &rp);
    conv_progress(k, 2, "loading model", "Loading the voice model");
    int rc = open_voice(c, m, &e, err);
    if (rc == 0) rc = cancelled(c, err);
    if (rc == 0 && given) in = (audio_buffer){.samples = given->samples, .frames = given->frames, .sample_rate = given->sample_rate};
    else if (rc == 0) rc = audio_decode_file(audio_path, &in, NULL, err);
    json_t *clip = json_object_get(json_object_get(jb->params, "parameters"), "clip_seconds");
    if (rc == 0 && clip && json_number_value(clip) * in.sample_rate < (double)in.frames)
        in.frames = (size_t)(json_number_value(clip) * in.sample_rate);
    if (rc == 0) rc = cancelled(c, err);
    if (rc == 0) {
        rvc_hooks hooks = {NULL, on_rvc_progress, NULL, k, on_rvc_cancelled};
        conv_progress(k, 10, "extracting features", "Extracting pitch and content features");
        rc = rvc_engine_convert_audio(e, &in, &rp, &hooks, out, err);
    }
    if (!given) audio_buffer_free(&in);
    jobs_shared_release(job_shared_models(c), e);
    return rc;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* One input → one stored output; entry gets output_audio_id, download_url, duration_seconds, … */
static int convert_one(const job *jb, conv_ctx *k, const store_model *m, const char *audio_id, json_t *entry, vc_error *err)
{
    store *s = job_store(k->c);
    store_audio a;
    if (find_audio(s, jb->user_id, audio_id, &a, err)) return -1;
    char path[1600], name[400];
    store_path(s, path, sizeof path, "%s", a.file_path);
    audio_buffer out = {0};
    int rc = convert(jb, k, m, path, NULL, &out, err);
    if (rc == 0) rc = cancelled(k->c, err);
    if (rc == 0) {
        conv_progress(k, 92, "postprocessing", "Saving the converted audio");
        char stem[200];
        snprintf(stem, sizeof stem, "%s", a.filename);
        char *dot = strrchr(stem, '.');
        if (dot && dot != stem) *dot = '\0';
        if (k->count > 1) snprintf(name, sizeof name, "%.150s_rvc_%.120s.wav", stem, m->name);
        else snprintf(name, sizeof name, "rvc_%.120s.wav", m->name);
        json_object_set_new(entry, "input_audio_id", json_string(a.audio_id));
        json_object_set_new(entry, "input_filename", json_string(a.filename));
        json_object_set_new(entry, "sample_rate", json_integer(out.sample_rate));
        json_object_set_new(entry, "filename", json_string(name));
        rc = jobs_store_audio_output_n(jb, k->c, k->index, "output", name, &out, entry, err);
    }
    audio_buffer_free(&out);
    store_audio_free(&a);
    return rc;
}

/* Text mode: the text spoken by F5-TTS (0–60 %), then converted (60–100 %); one output. */
static int text_run(const job *jb, job_ctx *c, const store_model *m, json_t **result, vc_error *err)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    audio_buffer speech = {0}, out = {0};
    json_t *r = json_object();
    int rc = r ? rvc_text_speak(jb, c, &speech, r, err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (rc == 0) rc = cancelled(c, err);
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    conv_ctx k = {c, 0, 1, RVC_TEXT_TTS_PERCENT, 100 - RVC_TEXT_TTS_PERCENT};
    if (rc == 0) rc = convert(jb, &k, m, NULL, &speech, &out, err);
    if (rc == 0) rc = cancelled(c, err);
    if (rc == 0) {
        char name[200], key[64];
        conv_progress(&k, 92, "postprocessing", "Saving the converted audio");
        snprintf(name, sizeof name, "rvc_%.120s_text.wav", m->name);
        json_object_set_new(r, "model_id", json_string(m->model_id));
        json_object_set_new(r, "sample_rate", json_integer(out.sample_rate));
        json_object_set_new(r, "speech_seconds", json_real((double)speech.frames / speech.sample_rate));
        rc = jobs_store_audio_output(jb, c, "output", name, &out, r, err);
        json_object_set_new(r, "processing_time_seconds", json_real(seconds_since(&t0)));
        throughput_key(m, key, sizeof key); /* the conversion's own time, for the input it really had */
        if (rc == 0) jobs_throughput_record(job_store(c), key, (double)speech.frames / speech.sample_rate, seconds_since(&t1),
                                            RVC_OVERHEAD_SECONDS);
    }
    audio_buffer_free(&speech);
    audio_buffer_free(&out);
    if (rc == 0) *result = r;
    else json_decref(r);
    return rc;
}

static int rvc_run(const job *jb, job_ctx *c, json_t **result, vc_error *err)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    store_model m;
    store *s = job_store(c);
    const char *ids[BATCH_MAX];
    int n;
    if (find_model(s, jb->user_id, json_string_value(json_object_get(jb->params, "model_id")), &m, err) ||
        target_ids(jb->params, ids, &n, err))
        return -1;
    if (rvc_text_requested(jb->params)) return text_run(jb, c, &m, result, err);
    int batch = json_object_get(jb->params, "target_audio_ids") != NULL;
    json_t *outputs = json_array();
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        conv_ctx k = {c, i, n, 0, 100};
        json_t *entry = json_object();
        rc = convert_one(jb, &k, &m, ids[i], entry, err);
        if (rc == 0) json_array_append(outputs, entry);
        json_decref(entry);
    }
    if (rc == 0) {
        /* one file: the brief's fields at the top level; a batch: the same for the first file, plus
         * every file under outputs and the zip of them all */
        json_t *first = json_array_get(outputs, 0);
        *result = json_pack("{s:s, s:O, s:O, s:f}", "model_id", m.model_id, "input_audio_id",
                            json_object_get(first, "input_audio_id"), "sample_rate", json_object_get(first, "sample_rate"),
                            "processing_time_seconds", seconds_since(&t0));
        static const char *const COPY[] = {"output_audio_id", "download_url", "duration_seconds", "quality_analysis", NULL};
        for (int i = 0; COPY[i]; i++) json_object_set(*result, COPY[i], json_object_get(first, COPY[i]));
        if (batch) {
            char url[160];
            snprintf(url, sizeof url, "/api/jobs/%s/outputs.zip", jb->job_id);
            json_object_set(*result, "outputs", outputs);
            json_object_set_new(*result, "download_zip_url", json_string(url));
        }
        char key[64];
        throughput_key(&m, key, sizeof key);
        jobs_throughput_record(s, key, json_number_value(json_object_get(jb->params, "work_units")), seconds_since(&t0),
                               RVC_OVERHEAD_SECONDS); /* the voice loads once for the batch */
    }
    json_decref(outputs);
    return rc;
}

const job_kind JOBS_KIND_CONVERT_RVC = {
    .name = "convert_rvc", .lane = JOBS_LANE_CONVERT, .priority = JOBS_PRIO_RVC,
    .validate = rvc_validate, .run = rvc_run,
};
