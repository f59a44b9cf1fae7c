/*
 * The job kinds the scheduler knows. Each is a run(job, ctx) function that reports progress with
 * job_progress()/job_emit() and checks job_cancelled() between steps. Model kinds (convert_f5tts,
 * convert_rvc, train_rvc) add a row to JOBS_KINDS when their engines land.
 *
 *   analyze  {audio_id}        quality analysis of a stored audio file (cpu lane)
 *   preprocess {audio_id, options{remove_noise, trim_silence, normalize_volume, target_lufs}}
 *            a new audio file (the input is kept) with its own analysis (cpu lane)
 *   sleep    {seconds, steps, output_bytes, fail, lane, priority}
 *            test kind (VCS_JOBS_TEST_KINDS=1 only): sleeps in steps, optionally writes an
 *            output file of output_bytes through the same commit path real outputs use.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audio/audio.h"
#include "audio/audio_dsp.h"
#include "jobs/jobs.h"
#include "server/uploads.h"

/* ---- analyze ---- */
static int analyze_validate(store *s, const char *user_id, json_t *params, vc_error *err)
{
    const char *id = json_string_value(json_object_get(params, "audio_id"));
    if (!id) return vc_fail(err, VC_ERR_INVALID_REQUEST, "params.audio_id (string) is required");
    store_audio a;
    if (!store_id_valid(id) || store_audio_get(s, user_id, id, &a, err))
        return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "audio %s not found", id);
    store_audio_free(&a);
    return 0;
}

static int analyze_run(const job *jb, job_ctx *c, json_t **result, vc_error *err)
{
    const char *id = json_string_value(json_object_get(jb->params, "audio_id"));
    store_audio a;
    if (!id || store_audio_get(job_store(c), jb->user_id, id, &a, err))
        return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "audio %s not found", id ? id : "");
    char path[1600];
    store_path(job_store(c), path, sizeof path, "%s", a.file_path);
    store_audio_free(&a);
    job_progress(c, 10, "decoding", "Decoding audio...");
    audio_buffer buf = {0};
    audio_file_info info;
    if (audio_decode_file(path, &buf, &info, err)) return -1;
    if (job_cancelled(c)) {
        audio_buffer_free(&buf);
        return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
    }
    job_progress(c, 50, "analyzing", "Analyzing quality...");
    audio_quality q;
    int rc = audio_analyze(&buf, &q, err);
    audio_buffer_free(&buf);
    if (rc) return -1;
    *result = json_pack("{s:s, s:o}", "audio_id", id, "quality_analysis", upload_quality_json(&q));
    return 0;
}

static const job_kind KIND_ANALYZE = {
    .name = "analyze", .lane = JOBS_LANE_CPU, .priority = JOBS_PRIO_CPU,
    .validate = analyze_validate, .run = analyze_run,
};

/* ---- preprocess ---- */
static int preprocess_validate(store *s, const char *user_id, json_t *params, vc_error *err)
{
    json_t *o = json_object_get(params, "options");
    if (o && !json_is_object(o)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "options must be an object");
    json_t *t = json_object_get(o, "target_lufs");
    if (t && (!json_is_number(t) || json_number_value(t) < -40 || json_number_value(t) > -6))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "options.target_lufs must be a number from -40 to -6");
    return analyze_validate(s, user_id, params, err);
}

typedef struct dsp_progress { job_ctx *c; double from, span; const char *phase; } dsp_progress;

static void on_dsp_progress(void *ctx, double fraction)
{
    dsp_progress *p = ctx;
    job_progress(p->c, p->from + p->span * fraction, p->phase, NULL);
}

typedef int (*dsp_step)(const audio_buffer *in, const json_t *opts, const audio_dsp_control *ctl, audio_buffer *out, vc_error *err);

static int step_denoise(const audio_buffer *in, const json_t *o, const audio_dsp_control *ctl, audio_buffer *out, vc_error *err)
{
    return audio_denoise(in, 0, ctl, out, err);
}

static int step_trim(const audio_buffer *in, const json_t *o, const audio_dsp_control *ctl, audio_buffer *out, vc_error *err)
{
    return audio_trim_silence(in, NULL, ctl, out, err);
}

static int step_normalize(const audio_buffer *in, const json_t *o, const audio_dsp_control *ctl, audio_buffer *out, vc_error *err)
{
    json_t *t = json_object_get(o, "target_lufs");
    return audio_normalize_loudness(in, t ? json_number_value(t) : AUDIO_LUFS_TRAINING, 0, ctl, out, err);
}

/* Runs the steps the options ask for, in the order denoise → trim → normalise (each consumes buf). */
static int run_dsp_steps(job_ctx *c, const json_t *opts, audio_buffer *buf, vc_error *err)
{
    static const struct { const char *option; const char *phase; dsp_step fn; } STEPS[] = {
        {"remove_noise", "denoising", step_denoise}, {"trim_silence", "trimming", step_trim},
        {"normalize_volume", "normalizing", step_normalize},
    };
    for (size_t i = 0; i < sizeof STEPS / sizeof STEPS[0]; i++) {
        if (!json_is_true(json_object_get(opts, STEPS[i].option))) continue;
        dsp_progress dp = {c, 20.0 + 20.0 * (double)i, 20.0, STEPS[i].phase};
        audio_dsp_control ctl = {on_dsp_progress, &dp, NULL};
        audio_buffer next = {0};
        if (job_cancelled(c)) return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
        if (STEPS[i].fn(buf, opts, &ctl, &next, err)) return -1;
        audio_buffer_free(buf);
        *buf = next;
    }
    if (buf->frames == 0) return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "nothing but silence is left after preprocessing");
    return 0;
}

/* Writes buf as a new stored audio file (id derived from the job id: a re-run overwrites). */
static int store_output(const job *jb, job_ctx *c, const store_audio *src, const audio_buffer *buf, json_t **result, vc_error *err)
{
    store_audio out = {0};
    audio_quality q;
    job_output_id(jb, 0, out.audio_id);
    snprintf(out.user_id, sizeof out.user_id, "%s", jb->user_id);
    snprintf(out.purpose, sizeof out.purpose, "%s", src->purpose);
    snprintf(out.format, sizeof out.format, "wav");
    snprintf(out.filename, sizeof out.filename, "preprocessed_%.200s", src->filename);
    snprintf(out.file_path, sizeof out.file_path, "uploads/%s/%s/%s.wav", src->purpose, jb->user_id, out.audio_id);
    char path[1600];
    store_path(job_store(c), path, sizeof path, "%s", out.file_path);
    if (audio_analyze(buf, &q, err) || audio_write_wav(path, buf, 0, err)) return -1;
    json_t *qa = upload_quality_json(&q);
    out.analysis_json = json_dumps(qa, JSON_COMPACT);
    out.duration_seconds = q.duration_seconds;
    out.snr_db = q.snr_db;
    out.sample_rate = buf->sample_rate;
    out.channels = 1;
    struct stat st;
    out.file_size_mb = stat(path, &st) == 0 ? (double)st.st_size / (1024.0 * 1024.0) : 0;
    int rc = store_audio_insert(job_store(c), &out, err);
    free(out.analysis_json);
    if (rc) { unlink(path); json_decref(qa); return -1; }
    char url[128];
    snprintf(url, sizeof url, "/api/download/%s", out.audio_id);
    *result = json_pack("{s:s, s:s, s:s, s:o}", "input_audio_id", src->audio_id, "output_audio_id", out.audio_id,
                        "download_url", url, "quality_analysis", qa);
    return 0;
}

static int preprocess_run(const job *jb, job_ctx *c, json_t **result, vc_error *err)
{
    const char *id = json_string_value(json_object_get(jb->params, "audio_id"));
    const json_t *opts = json_object_get(jb->params, "options");
    store_audio a;
    if (!id || store_audio_get(job_store(c), jb->user_id, id, &a, err))
        return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "audio %s not found", id ? id : "");
    char path[1600];
    store_path(job_store(c), path, sizeof path, "%s", a.file_path);
    job_progress(c, 5, "decoding", "Decoding audio...");
    audio_buffer buf = {0};
    int rc = audio_decode_file(path, &buf, NULL, err);
    if (rc == 0) rc = run_dsp_steps(c, opts, &buf, err);
    if (rc == 0) { job_progress(c, 85, "saving", "Saving the cleaned audio..."); rc = store_output(jb, c, &a, &buf, result, err); }
    audio_buffer_free(&buf);
    store_audio_free(&a);
    return rc;
}

static const job_kind KIND_PREPROCESS = {
    .name = "preprocess", .lane = JOBS_LANE_CPU, .priority = JOBS_PRIO_CPU,
    .validate = preprocess_validate, .run = preprocess_run,
};

/* ---- sleep (tests) ---- */
static int sleep_validate(store *s, const char *user_id, json_t *params, vc_error *err)
{
    json_t *sec = json_object_get(params, "seconds"), *bytes = json_object_get(params, "output_bytes");
    if (sec && (!json_is_number(sec) || json_number_value(sec) < 0 || json_number_value(sec) > 600))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "seconds must be a number in 0..600");
    if (bytes && (!json_is_integer(bytes) || json_integer_value(bytes) < 0))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "output_bytes must be a non-negative integer");
    return 0;
}

/* Writes n bytes to the work folder, then commits them as the job's output file. */
static int sleep_write_output(const job *jb, job_ctx *c, int64_t n, json_t **result, vc_error *err)
{
    char tmp[1400], dir[1400], final[1600], out_id[STORE_ID_MAX];
    job_output_id(jb, 0, out_id);
    snprintf(tmp, sizeof tmp, "%s/output.part", jb->work_dir);
    store_path(job_store(c), dir, sizeof dir, "outputs/%s", jb->user_id);
    snprintf(final, sizeof final, "%s/%s.bin", dir, out_id);
    if (store_mkdirs(dir, err)) return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return vc_fail(err, VC_ERR_IO, "cannot create the output: %s", strerror(errno));
    char block[65536];
    memset(block, 0x5a, sizeof block);
    for (int64_t done = 0; done < n;) {
        size_t want = (size_t)(n - done < (int64_t)sizeof block ? n - done : (int64_t)sizeof block);
        ssize_t w = write(fd, block, want);
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            close(fd);
            return vc_fail(err, VC_ERR_IO, "writing the output failed after %lld bytes: %s", (long long)done,
                           strerror(e));
        }
        done += w;
    }
    if (store_commit_file(fd, tmp, final, err)) return -1;
    *result = json_pack("{s:s, s:I}", "output_id", out_id, "output_bytes", (json_int_t)n);
    return 0;
}

static int sleep_run(const job *jb, job_ctx *c, json_t **result, vc_error *err)
{
    double seconds = json_number_value(json_object_get(jb->params, "seconds"));
    json_t *st = json_object_get(jb->params, "steps");
    int steps = json_is_integer(st) && json_integer_value(st) > 0 ? (int)json_integer_value(st) : 10;
    /* Sleep in slices of at most 50 ms so cancellation is seen well within a second. */
    for (int i = 1; i <= steps; i++) {
        double slice = seconds / steps;
        while (slice > 0) {
            if (job_cancelled(c)) return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
            double t = slice < 0.05 ? slice : 0.05;
            struct timespec ts = {(time_t)t, (long)((t - (time_t)t) * 1e9)};
            nanosleep(&ts, NULL);
            slice -= t;
        }
        if (job_cancelled(c)) return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
        job_progress(c, 100.0 * i / steps, "sleeping", "Sleeping...");
    }
    if (json_is_true(json_object_get(jb->params, "fail")))
        return vc_fail(err, VC_ERR_CONVERSION_FAILED, "failed on request (test kind)");
    json_int_t bytes = json_integer_value(json_object_get(jb->params, "output_bytes"));
    if (bytes > 0) return sleep_write_output(jb, c, bytes, result, err);
    *result = json_pack("{s:i}", "steps", steps);
    return 0;
}

static const job_kind KIND_SLEEP = {
    .name = "sleep", .lane = JOBS_LANE_CPU, .priority = JOBS_PRIO_CPU, .test_only = 1,
    .validate = sleep_validate, .run = sleep_run,
};

const job_kind *const JOBS_KINDS[] = {&KIND_ANALYZE, &KIND_PREPROCESS, &KIND_SLEEP, NULL};

const job_kind *jobs_kind_find(const char *name)
{
    for (size_t i = 0; JOBS_KINDS[i]; i++)
        if (!strcmp(JOBS_KINDS[i]->name, name)) return JOBS_KINDS[i];
    return NULL;
}
