/*
 * Finishing uploads (see uploads.h). Limits follow brief §7.2: training ≤ 100 MB and 10 s–10 min,
 * target ≤ 300 MB and ≤ 30 min, reference (quick clone) 3–30 s; training below 10 dB SNR is
 * QUALITY_TOO_LOW; 10–15 dB is kept with a warning (training asks for accept_noisy_audio then).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "models/rvc/rvc_import.h"
#include "server/uploads.h"

#define MB (1024 * 1024)
#define TRAINING_RECOMMENDED_SNR_DB 15.0 /* below: stored with a warning; training needs "use anyway" */

static const upload_purpose PURPOSES[] = {
    {"training", 100LL * MB, 10.0, 600.0, 10.0, 1},
    {"target", 300LL * MB, 0.1, 1800.0, 0.0, 0},
    {"reference", 30LL * MB, 3.0, 30.0, 0.0, 1},
};

const upload_purpose *upload_purpose_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof PURPOSES / sizeof PURPOSES[0]; i++)
        if (!strcmp(name, PURPOSES[i].name)) return &PURPOSES[i];
    return NULL;
}

int64_t upload_max_bytes(void) { return 300LL * MB; }

json_t *upload_audio_json(const store_audio *a)
{
    json_t *qa = a->analysis_json ? json_loads(a->analysis_json, 0, NULL) : NULL;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:i, s:i, s:o, s:s, s:o}", "file_id", a->audio_id, "filename",
                          a->filename, "purpose", a->purpose, "format", a->format, "duration_seconds",
                          server_json_number(a->duration_seconds), "sample_rate", a->sample_rate, "channels",
                          a->channels, "file_size_mb", server_json_number(a->file_size_mb), "created_at",
                          a->created_at, "quality_analysis", qa ? qa : json_null());
    json_t *warnings = json_array();
    if (a->warning[0]) json_array_append_new(warnings, json_string(a->warning));
    json_object_set_new(o, "warnings", warnings);
    return o;
}

json_t *upload_size_extra(int64_t max_bytes)
{
    char msg[96];
    snprintf(msg, sizeof msg, "Audio file is too large. Maximum: %lld MB.", (long long)(max_bytes / MB));
    return json_pack("{s:I, s:s}", "max_size_mb", (json_int_t)(max_bytes / MB), "user_message", msg);
}

/* "10 seconds" / "10 minutes" for messages people read. */
static void human_duration(double seconds, char *out, size_t cap)
{
    if (seconds >= 120)
        snprintf(out, cap, "%.0f minutes", seconds / 60);
    else
        snprintf(out, cap, "%.0f seconds", seconds);
}

/* duration_seconds, the limit under `limit_key`, and a user_message naming the limit. */
static json_t *duration_extra(double seconds, const char *limit_key, double limit)
{
    char when[32], msg[96];
    human_duration(limit, when, sizeof when);
    snprintf(msg, sizeof msg, "Audio is too %s. %s: %s.", strncmp(limit_key, "min", 3) ? "long" : "short",
             strncmp(limit_key, "min", 3) ? "Maximum" : "Minimum", when);
    return json_pack("{s:f, s:f, s:s}", "duration_seconds", seconds, limit_key, limit, "user_message", msg);
}

static int fail_extra(server_request *r, vc_code code, json_t *extra, const char *fmt, const char *detail)
{
    server_fail(r, code, fmt, detail);
    json_decref(r->err_extra);
    r->err_extra = extra;
    return -1;
}

/* Decoded size from the header (audio_header_check): a short file at a huge rate (FLAC of silence
 * at 384 kHz) expands a few MB into gigabytes. The budget is the purpose's longest duration at 48 kHz. */
static int check_decoded_size(server_request *r, const audio_file_info *info, double max_seconds)
{
    if (audio_header_check(info, max_seconds) != VC_ERR_FILE_TOO_LARGE) return 0;
    double frames = info->duration_seconds * info->sample_rate, limit = max_seconds * AUDIO_BUDGET_RATE;
    return server_fail(r, VC_ERR_FILE_TOO_LARGE, "at %d Hz this %.0f s recording decodes to %.0f MB; the limit is %.0f MB "
                       "decoded (%.0f minutes at 48 kHz): resample it to 48 kHz or shorten it", info->sample_rate,
                       info->duration_seconds, frames * 4 / MB, limit * 4 / MB, max_seconds / 60);
}

/* A file that is empty, not audio or damaged: the user is told which, not just "upload a WAV". */
static int unreadable(server_request *r, const vc_error *err)
{
    char um[400];
    snprintf(um, sizeof um, "This file cannot be used: %s. Upload a WAV, MP3, FLAC or OGG recording.", err->message);
    return fail_extra(r, err->code, json_pack("{s:s}", "user_message", um), "%s", err->message);
}

/* Size and header checks before any decoding, so a huge or long file costs no memory. */
static int check_before_decode(server_request *r, const upload_purpose *p, const char *src, int64_t *size)
{
    struct stat st;
    if (stat(src, &st)) return server_fail(r, VC_ERR_IO, "uploaded file vanished: %s", strerror(errno));
    *size = st.st_size;
    if (st.st_size == 0) {
        vc_error empty = {.code = VC_ERR_INVALID_FORMAT, .message = "the file is empty (0 bytes)"};
        return unreadable(r, &empty);
    }
    char msg[160];
    if (st.st_size > p->max_bytes) {
        snprintf(msg, sizeof msg, "%.1f MB exceeds the %s limit of %lld MB", (double)st.st_size / MB, p->name,
                 (long long)(p->max_bytes / MB));
        return fail_extra(r, VC_ERR_FILE_TOO_LARGE, upload_size_extra(p->max_bytes),
                          "File too large: %s", msg);
    }
    audio_file_info info;
    vc_error err;
    if (audio_probe_file(src, &info, &err)) return unreadable(r, &err);
    if (audio_header_check(&info, p->max_seconds) == VC_ERR_AUDIO_TOO_LONG) { /* MP3 lengths are estimates */
        snprintf(msg, sizeof msg, "%.1f s is longer than the %s limit of %.0f s", info.duration_seconds, p->name,
                 p->max_seconds);
        return fail_extra(r, VC_ERR_AUDIO_TOO_LONG,
                          duration_extra(info.duration_seconds, "max_duration_seconds", p->max_seconds),
                          "Audio too long: %s", msg);
    }
    return check_decoded_size(r, &info, p->max_seconds);
}

/* Duration and quality checks on the decoded audio. */
static int check_decoded(server_request *r, const upload_purpose *p, const audio_quality *q, double seconds)
{
    char msg[160];
    if (seconds < p->min_seconds) {
        snprintf(msg, sizeof msg, "%.2f s is shorter than the %s minimum of %.0f s", seconds, p->name, p->min_seconds);
        return fail_extra(r, VC_ERR_AUDIO_TOO_SHORT, duration_extra(seconds, "min_duration_seconds", p->min_seconds),
                          "Audio too short: %s", msg);
    }
    if (seconds > p->max_seconds) {
        snprintf(msg, sizeof msg, "%.1f s is longer than the %s limit of %.0f s", seconds, p->name, p->max_seconds);
        return fail_extra(r, VC_ERR_AUDIO_TOO_LONG, duration_extra(seconds, "max_duration_seconds", p->max_seconds),
                          "Audio too long: %s", msg);
    }
    if (p->needs_speech && q->voice_activity_percent < 1.0) {
        return fail_extra(r, VC_ERR_QUALITY_TOO_LOW,
                          json_pack("{s:o, s:s}", "voice_activity_percent",
                                    server_json_number(q->voice_activity_percent), "recommendation",
                                    "No speech was found. Please upload a recording of your voice."),
                          "No speech detected%s", "");
    }
    if (p->min_snr_db > 0 && !(q->snr_db >= p->min_snr_db)) {
        char um[320];
        snprintf(msg, sizeof msg, "%.1f dB", q->snr_db);
        snprintf(um, sizeof um, "Too noisy for training: the signal-to-noise ratio is %.1f dB; training needs %.0f dB "
                 "(%.0f dB at the very least). Record again in a quieter room, closer to the microphone, "
                 "with fans and music off.", q->snr_db, TRAINING_RECOMMENDED_SNR_DB, p->min_snr_db);
        return fail_extra(r, VC_ERR_QUALITY_TOO_LOW,
                          json_pack("{s:f, s:f, s:o, s:s, s:s, s:o}", "min_snr_db", TRAINING_RECOMMENDED_SNR_DB,
                                    "refused_below_snr_db", p->min_snr_db, "actual_snr_db",
                                    server_json_number(q->snr_db), "recommendation",
                                    "Record again in a quieter room, closer to the microphone.", "user_message", um,
                                    "quality_analysis", audio_quality_json(q)),
                          "Audio quality is insufficient for training (SNR: %s)", msg);
    }
    return 0;
}

static void fill_row(store_audio *a, server_request *r, const upload_purpose *p, const char *audio_id,
                     const char *filename, const audio_file_info *info, const audio_quality *q, int64_t size)
{
    memset(a, 0, sizeof *a);
    snprintf(a->audio_id, sizeof a->audio_id, "%s", audio_id);
    snprintf(a->user_id, sizeof a->user_id, "%s", r->user_id);
    snprintf(a->filename, sizeof a->filename, "%s", filename);
    snprintf(a->file_path, sizeof a->file_path, "uploads/%s/%s/%s.wav", p->name, r->user_id, audio_id);
    snprintf(a->purpose, sizeof a->purpose, "%s", p->name);
    snprintf(a->format, sizeof a->format, "%s", info->format);
    snprintf(a->warning, sizeof a->warning, "%s", info->warning);
    store_now_iso(a->created_at);
    a->file_size_mb = (double)size / MB;
    a->duration_seconds = q->duration_seconds;
    a->snr_db = q->snr_db;
    a->sample_rate = info->sample_rate;
    a->channels = info->channels;
}

/* Publishes the WAV under its key (files.h), then the row; removes the WAV if the row cannot be
 * written. */
static int store_audio_file(server_request *r, store_audio *a, const audio_buffer *buf)
{
    file_store *fs = store_files(r->app->store);
    char stage[1600];
    vc_error err;
    if (files_stage_path(fs, a->file_path, stage, sizeof stage, &err))
        return server_fail(r, err.code, "storing audio: %s", err.message);
    if (audio_write_wav(stage, buf, 0, &err)) {
        unlink(stage);
        return server_fail(r, err.code, "storing audio: %s", err.message);
    }
    if (files_put_file(fs, a->file_path, stage, &err)) return server_fail(r, err.code, "storing audio: %s", err.message);
    if (store_audio_insert(r->app->store, a, &err)) {
        files_remove(fs, a->file_path, NULL);
        return server_fail(r, err.code, "storing audio: %s", err.message);
    }
    return 0;
}

int upload_finish(server_request *r, const upload_purpose *p, const char *src_path, const char *audio_id,
                  const char *filename, json_t **out)
{
    int64_t size = 0;
    if (check_before_decode(r, p, src_path, &size)) return -1;
    audio_buffer buf = {0};
    audio_file_info info;
    audio_quality q;
    vc_error err;
    if (audio_decode_file_max(src_path, audio_decode_budget(p->max_seconds), &buf, &info, &err))
        return err.code == VC_ERR_AUDIO_TOO_LONG ? server_fail(r, err.code, "%s", err.message) : unreadable(r, &err);
    int rc = audio_analyze(&buf, &q, &err) ? server_fail(r, err.code, "analysis: %s", err.message) : 0;
    if (!rc) rc = check_decoded(r, p, &q, (double)buf.frames / buf.sample_rate);
    store_audio a;
    json_t *qa = rc ? NULL : audio_quality_json(&q);
    if (!rc) {
        fill_row(&a, r, p, audio_id, filename, &info, &q, size);
        if (p->min_snr_db > 0 && q.snr_db < TRAINING_RECOMMENDED_SNR_DB)
            snprintf(a.warning, sizeof a.warning, "noisy: SNR %.1f dB is below the %.0f dB training minimum; train "
                     "on it only with \"use anyway\" (remove_noise helps)", q.snr_db, TRAINING_RECOMMENDED_SNR_DB);
        a.analysis_json = json_dumps(qa, JSON_COMPACT | JSON_REAL_PRECISION(15));
        rc = store_audio_file(r, &a, &buf);
        if (!rc) *out = upload_audio_json(&a);
        store_audio_free(&a);
    }
    json_decref(qa);
    audio_buffer_free(&buf);
    return rc;
}

int upload_analyze_path(server_request *r, const char *path, json_t **quality, audio_file_info *info)
{
    audio_buffer buf = {0};
    audio_quality q;
    vc_error err;
    /* the longest any purpose allows, checked from the header before decoding */
    const upload_purpose *longest = upload_purpose_find("target");
    if (audio_probe_file(path, info, &err)) return server_fail(r, err.code, "%s", err.message);
    if (audio_header_check(info, longest->max_seconds) == VC_ERR_AUDIO_TOO_LONG)
        return fail_extra(r, VC_ERR_AUDIO_TOO_LONG, duration_extra(info->duration_seconds, "max_duration_seconds", longest->max_seconds),
                          "Audio too long for analysis: %s", "shorten it to 30 minutes or less");
    if (check_decoded_size(r, info, longest->max_seconds)) return -1;
    if (audio_decode_file_max(path, audio_decode_budget(longest->max_seconds), &buf, info, &err))
        return server_fail(r, err.code, "%s", err.message);
    int rc = audio_analyze(&buf, &q, &err);
    audio_buffer_free(&buf);
    if (rc) return server_fail(r, err.code, "analysis: %s", err.message);
    *quality = audio_quality_json(&q);
    return 0;
}

static int sweep_one(const store_upload *u, void *ctx)
{
    server_app *app = ctx;
    char path[1400];
    store_path(app->store, path, sizeof path, "uploads/tmp/%s.part", u->upload_id);
    unlink(path);
    store_path(app->store, path, sizeof path, "uploads/tmp/%s", u->upload_id);
    vc_remove_tree(path, NULL);
    if (strcmp(u->kind, "tus")) return store_upload_delete(app->store, u->upload_id, NULL);
    store_upload tomb = *u;
    snprintf(tomb.state, sizeof tomb.state, "expired");
    return store_upload_update(app->store, &tomb, NULL);
}

/* incoming-* (multipart bodies) and *.tmp.* (atomic writes) belong to requests of a dead process. */
static void remove_orphan_temps(server_app *app)
{
    char dir[1200], path[1600];
    store_path(app->store, dir, sizeof dir, "uploads/tmp");
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "incoming-", 9) && !strstr(e->d_name, ".tmp.")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

static int recover_one(const store_upload *u, void *ctx) { return tus_recover_upload(ctx, u); }

/* Staging folders of voice imports that crashed (an hour old: another process may be importing). */
#define IMPORT_STAGING_MIN_AGE_SECONDS 3600

int upload_sweep(server_app *app, vc_error *err)
{
    remove_orphan_temps(app);
    int removed = 0;
    if (rvc_import_sweep_staging(app->store, IMPORT_STAGING_MIN_AGE_SECONDS, &removed, err)) return -1;
    if (store_upload_reset_assembling(app->store, err)) return -1;
    if (store_upload_each_unfinished_tus(app->store, (int64_t)time(NULL), recover_one, app, err)) return -1;
    return store_upload_each_expired(app->store, (int64_t)time(NULL), sweep_one, app, err);
}
