/*
 * The models_pull job kind: `voiceclone models pull PACK` run by the server for the "Download
 * models" button (POST /api/weights/pull {pack}). The files of the pack are those of
 * docs/models-manifest.json (VCS_MODELS_MANIFEST overrides the path, VCS_MODELS_BASE_URL the
 * host, as for the CLI: the tests serve them from a local HTTP server). weights_pull_file does
 * the work: resumable (.part + HTTP Range), size/sha256 checked when the manifest states them,
 * checkpoints loaded through the safe loaders, renamed into place only when whole. Files already
 * installed are skipped. Progress events carry bytes, speed and an ETA per file; cancelling stops
 * between files (a file in flight finishes or fails first) and keeps its .part for the next try.
 *   params {pack}   result {pack, installed: [folder/file…], skipped: [...]}
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs/jobs_internal.h"
#include "models/weights/weights_pull.h"

static const char *manifest_path(void)
{
    const char *m = getenv("VCS_MODELS_MANIFEST");
    return m && *m ? m : "docs/models-manifest.json";
}

/* The pack's file list from the manifest (a new reference), or NULL with err. */
static json_t *pack_files(const char *pack, vc_error *err)
{
    json_error_t je;
    json_t *m = json_load_file(manifest_path(), 0, &je);
    if (!m) {
        vc_fail(err, VC_ERR_INTERNAL, "the models manifest %s cannot be read (%s): start the server from the studio's folder "
                "or set VCS_MODELS_MANIFEST", manifest_path(), je.text);
        return NULL;
    }
    json_t *files = json_object_get(json_object_get(m, "packs"), pack);
    if (!json_is_array(files)) {
        json_decref(m);
        vc_fail(err, VC_ERR_INVALID_REQUEST, "pack must be one of f5tts, rvc, rvc-pretrained");
        return NULL;
    }
    json_incref(files);
    json_decref(m);
    return files;
}

static int pull_validate(store *s, const char *user_id, json_t *params, vc_error *err)
{
    const char *pack = json_string_value(json_object_get(params, "pack"));
    if (!pack || (strcmp(pack, "f5tts") && strcmp(pack, "rvc") && strcmp(pack, "rvc-pretrained")))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "pack must be one of f5tts, rvc, rvc-pretrained");
    json_t *files = pack_files(pack, err);
    json_decref(files);
    return files ? 0 : -1;
}

typedef struct pull_run {
    job_ctx *c;
    int index, count;
    double started, last_emit;
} pull_run;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void on_bytes(void *ctx, const char *file, double done, double total)
{
    pull_run *p = ctx;
    double t = now_s();
    if (t - p->last_emit < 0.25 && !(total > 0 && done >= total)) return; /* a few events a second */
    p->last_emit = t;
    double speed = t > p->started ? done / (t - p->started) : 0; /* includes a resumed part: an estimate */
    double frac = total > 0 ? done / total : 0;
    double percent = 100.0 * (p->index + (frac > 1 ? 1 : frac)) / p->count;
    char msg[200];
    if (total > 0) snprintf(msg, sizeof msg, "%s: %.1f of %.1f MB", file, done / 1048576.0, total / 1048576.0);
    else snprintf(msg, sizeof msg, "%s: %.1f MB", file, done / 1048576.0);
    json_t *d = json_pack("{s:f, s:s, s:s, s:s, s:f, s:f, s:f, s:i, s:i}", "percent", percent, "phase", "downloading",
                          "message", msg, "file", file, "bytes_done", done, "bytes_total", total > 0 ? total : 0.0,
                          "bytes_per_second", speed, "file_index", p->index + 1, "file_count", p->count);
    if (d && total > 0 && speed > 0) json_object_set_new(d, "eta_seconds", json_real(round((total - done) / speed)));
    vc_error ignored;
    job_emit(p->c, "progress", d, &ignored);
}

static int pull_run_job(const job *jb, job_ctx *c, json_t **result, vc_error *err)
{
    const char *pack = json_string_value(json_object_get(jb->params, "pack"));
    json_t *files = pack_files(pack, err);
    if (!files) return -1;
    char root[1200];
    store_path(job_store(c), root, sizeof root, "weights");
    const char *base_url = getenv("VCS_MODELS_BASE_URL");
    pull_run p = {.c = c, .count = (int)json_array_size(files)};
    json_t *installed = json_array(), *skipped = json_array();
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(files); i++) {
        const json_t *e = json_array_get(files, i);
        char name[512];
        snprintf(name, sizeof name, "%s/%s", json_string_value(json_object_get(e, "folder")),
                 json_string_value(json_object_get(e, "file")));
        if (job_cancelled(c)) rc = vc_fail(err, VC_ERR_CANCELLED, "cancelled");
        else if (weights_installed(e, root)) json_array_append_new(skipped, json_string(name));
        else {
            p.index = (int)i;
            p.started = now_s();
            p.last_emit = 0;
            char msg[600];
            snprintf(msg, sizeof msg, "Downloading %s (%zu of %d)...", name, i + 1, p.count);
            job_progress(c, 100.0 * (double)i / p.count, "downloading", msg);
            rc = weights_pull_file(e, root, base_url, on_bytes, &p, err);
            if (rc == 0) json_array_append_new(installed, json_string(name));
        }
    }
    json_decref(files);
    if (rc == 0) {
        job_progress(c, 100, "verifying", "Installed and checked.");
        *result = json_pack("{s:s, s:o, s:o}", "pack", pack, "installed", installed, "skipped", skipped);
        return 0;
    }
    json_decref(installed);
    json_decref(skipped);
    return -1;
}

const job_kind JOBS_KIND_MODELS_PULL = {
    .name = "models_pull", .lane = JOBS_LANE_CPU, .priority = JOBS_PRIO_CPU,
    .validate = pull_validate, .run = pull_run_job,
};
