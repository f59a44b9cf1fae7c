/*
 * /api/health and /api/system: liveness, and what this installation can do — version, engine,
 * which model weights are installed under data/weights/, auth mode, queue depth.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jobs/jobs.h"
#include "models/rvc/rvc_train_pipeline.h"
#include "nn/backend.h"
#include "nn/pool.h"
#include "server/server.h"

/* Weights the studio needs, by folder under data/weights/ (filled by `voiceclone models pull`),
 * with the licence their publishers release them under (docs/models-manifest.json, docs/MODELS.md):
 * users must see that the F5-TTS weights are for non-commercial use only. */
static const struct {
    const char *name, *folder, *purpose, *licence, *licence_note, *pack;
} WEIGHTS[] = {
    {"f5tts_v1_base", "f5tts", "quick clone (F5-TTS v1 Base + vocab.txt)", "CC-BY-NC-4.0",
     "Non-commercial use only: speech made with these weights may not be used commercially", "f5tts"},
    {"vocos_mel_24khz", "vocos", "vocoder for F5-TTS", "MIT", NULL, "f5tts"},
    {"hubert_base", "hubert", "content features for RVC", "MIT", NULL, "rvc"},
    {"rmvpe", "rmvpe", "pitch extraction for RVC", "MIT", NULL, "rvc"},
    {"rvc_pretrained_v2", RVC_PRETRAINED_DIR, "RVC v2 base models for training", "MIT", NULL, "rvc-pretrained"},
    {"rvc_pretrained_v1", RVC_PRETRAINED_V1_DIR, "RVC v1 base models for training", "MIT", NULL, "rvc-pretrained"},
    {"whisper", "whisper", "speech recognition (Whisper): transcripts for the quick clone, speech to speech", "MIT", NULL,
     "whisper"},
};

/* 1 when the folder holds at least one non-hidden entry. */
static int folder_has_files(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d))) found = e->d_name[0] != '.';
    closedir(d);
    return found;
}

static int handle_health(server_request *r)
{
    return server_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

/* "voiceclone models pull f5tts rvc …" naming exactly the packs of the missing weights. */
static void pull_hint(const int *missing_at, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "Install voice models: run `voiceclone models pull");
    const char *named[8] = {0};
    int k = 0;
    for (size_t i = 0; i < sizeof WEIGHTS / sizeof WEIGHTS[0] && n < cap; i++) {
        int seen = 0;
        for (int j = 0; j < k; j++) seen |= !strcmp(named[j], WEIGHTS[i].pack);
        if (!missing_at[i] || seen) continue;
        named[k++] = WEIGHTS[i].pack;
        n += (size_t)snprintf(out + n, cap - n, "%s%s", k > 1 ? "` and `voiceclone models pull " : " ", WEIGHTS[i].pack);
    }
    if (n < cap)
        snprintf(out + n, cap - n, " --data DIR` (DIR: the server's data folder, ./data by default); offline: "
                 "`voiceclone models import FILE --to FOLDER --data DIR`");
}

/* Absolute paths only for users: a public caller learns what is installed, not where. */
static json_t *weights_json(server_request *r, int *missing, int *missing_at, int show_paths)
{
    json_t *list = json_array();
    for (size_t i = 0; i < sizeof WEIGHTS / sizeof WEIGHTS[0]; i++) {
        char path[1200];
        store_path(r->app->store, path, sizeof path, "weights/%s", WEIGHTS[i].folder);
        int ok = folder_has_files(path);
        *missing += !ok;
        missing_at[i] = !ok;
        json_t *w = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "name", WEIGHTS[i].name, "path",
                              show_paths ? path : "", "purpose", WEIGHTS[i].purpose, "installed", ok, "licence",
                              WEIGHTS[i].licence, "pack", WEIGHTS[i].pack, "folder", WEIGHTS[i].folder);
        if (w && !show_paths) json_object_set_new(w, "path", json_null());
        if (w && WEIGHTS[i].licence_note) json_object_set_new(w, "licence_note", json_string(WEIGHTS[i].licence_note));
        json_array_append_new(list, w);
    }
    return list;
}

/* The official pretrained G/D pairs training starts from (rvc_train_pipeline.c pretrained_path):
 * one row per version × sample rate × pitch, installed when both files are there; a flavour whose
 * pair is missing trains from random init. */
static json_t *pretrained_json(server_request *r)
{
    json_t *list = json_array();
    static const int RATES[] = {32000, 40000, 48000};
    for (int version = 2; version >= 1; version--)
        for (int i = 2; i >= 0; i--)
            for (int f0 = 1; f0 >= 0; f0--) {
                const char *folder = version == 1 ? RVC_PRETRAINED_V1_DIR : RVC_PRETRAINED_DIR;
                char g[32], d[32], path[1300];
                snprintf(g, sizeof g, "%sG%dk.pth", f0 ? "f0" : "", RATES[i] / 1000);
                snprintf(d, sizeof d, "%sD%dk.pth", f0 ? "f0" : "", RATES[i] / 1000);
                store_path(r->app->store, path, sizeof path, "weights/%s/%s", folder, g);
                int ok = access(path, R_OK) == 0;
                store_path(r->app->store, path, sizeof path, "weights/%s/%s", folder, d);
                ok = ok && access(path, R_OK) == 0;
                json_array_append_new(list, json_pack("{s:s, s:i, s:b, s:b, s:s, s:s, s:s}", "version", version == 1 ? "v1" : "v2",
                                                      "sample_rate", RATES[i], "f0", f0, "installed", ok, "folder", folder,
                                                      "generator", g, "discriminator", d));
            }
    return list;
}

static int handle_system(server_request *r)
{
    int missing = 0, missing_at[sizeof WEIGHTS / sizeof WEIGHTS[0]];
    char hint[512];
    json_t *weights = weights_json(r, &missing, missing_at, server_auth_try(r));
    json_t *lanes = r->app->jobs ? jobs_lanes_json(r->app->jobs) : json_object();
    json_int_t depth = 0;
    const char *lane;
    json_t *counts;
    json_object_foreach(lanes, lane, counts) depth += json_integer_value(json_object_get(counts, "queued"));
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:b, s:{s:I, s:o}}", "status", "success", "version",
                          SERVER_VERSION, "engine", "voiceclone-c (CPU, oneDNN)", "weights", weights,
                          "weights_status", missing ? "missing" : "installed", "auth",
                          server_auth_open_mode(r->app) ? "open" : "api_key", "workers",
                          !r->app->config.no_workers, "queue", "depth", depth, "lanes", lanes);
    /* the compute seam (docs/ENGINE.md): which kernels this CPU gets and at what precision */
    if (o)
        json_object_set_new(o, "compute",
                            json_pack("{s:s, s:s, s:s, s:b, s:i, s:{s:s, s:s, s:s, s:s, s:s}}", "backend",
                                      nn_cpu_backend.name, "isa", nn_cpu_isa(), "precision", nn_precision_setting(),
                                      "bf16_native", nn_cpu_has_bf16(), "threads", nn_pool_default_threads(),
                                      "model_precision", "rvc_synth",
                                      nn_precision_name(nn_precision_for("rvc_synth")), "vocos",
                                      nn_precision_name(nn_precision_for("vocos")), "f5tts_dit",
                                      nn_precision_name(nn_precision_for("f5tts_dit")), "hubert",
                                      nn_precision_name(nn_precision_for("hubert")), "rmvpe",
                                      nn_precision_name(nn_precision_for("rmvpe"))));
    if (o) json_object_set_new(o, "rvc_pretrained", pretrained_json(r));
    if (o && missing) {
        pull_hint(missing_at, hint, sizeof hint);
        json_object_set_new(o, "weights_hint", json_string(hint));
    }
    return server_reply_json(r, 200, o);
}

/* POST /api/weights/pull {pack}: `voiceclone models pull PACK` as a job (src/jobs/jobs_kind_pull.c). */
static int handle_pull(server_request *r)
{
    static const char *const FIELDS[] = {"pack", NULL};
    json_t *body;
    vc_error err;
    char id[STORE_ID_MAX], url[128];
    if (!r->app->jobs) return server_fail(r, VC_ERR_INTERNAL, "this server runs without the job queue");
    if (server_json_body(r, FIELDS, &body)) return -1;
    const char *pack = json_string_value(json_object_get(body, "pack"));
    char pack_copy[32];
    snprintf(pack_copy, sizeof pack_copy, "%s", pack ? pack : "");
    if (jobs_submit(r->app->jobs, r->user_id, "models_pull", body, id, &err)) {
        json_decref(body);
        return server_fail(r, err.code, "%s", err.message);
    }
    json_decref(body);
    snprintf(url, sizeof url, "/api/progress/%s", id);
    return server_reply_json(r, 202, json_pack("{s:s, s:s, s:s, s:s}", "status", "pull_started", "job_id", id, "pack",
                                               pack_copy, "progress_stream_url", url));
}

const server_route SERVER_ROUTES_SYSTEM[] = {
    {.method = "POST", .pattern = "/api/weights/pull", .handle = handle_pull, .body = SERVER_BODY_BUFFER, .max_body = 1024,
     .tag = "system", .request_type = "application/json",
     .summary = "Install a pack of base models {pack: f5tts | rvc | rvc-pretrained} as a job (resumable, checked), "
                "exactly as `voiceclone models pull PACK`; progress events carry bytes, speed and ETA",
     .responses = "202,400,401",
     .request_schema = SERVER_SCHEMA({"type": "object", "required": ["pack"], "additionalProperties": false,
                                      "properties": {"pack": {"type": "string", "enum": ["f5tts", "rvc", "rvc-pretrained"]}}}),
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["status", "job_id", "pack", "progress_stream_url"],
                                       "additionalProperties": false, "properties": {
                                           "status": {"const": "pull_started"}, "job_id": {"type": "string"},
                                           "pack": {"type": "string"}, "progress_stream_url": {"type": "string"}}})},
    {.method = "GET", .pattern = "/api/health", .handle = handle_health, .auth = SERVER_AUTH_PUBLIC,
     .tag = "system", .summary = "Liveness check: {\"status\":\"ok\"}", .responses = "200",
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["status"], "additionalProperties": false,
                                       "properties": {"status": {"const": "ok"}}})},
    {.method = "GET", .pattern = "/api/system", .handle = handle_system, .auth = SERVER_AUTH_PUBLIC,
     .tag = "system", .summary = "Version, engine, installed/missing model weights (their paths only for "
                                 "authenticated callers, null otherwise), auth mode, queue depth",
     .responses = "200",
     .response_schema = SERVER_SCHEMA({
         "type": "object", "additionalProperties": false,
         "required": ["status", "version", "engine", "weights", "weights_status", "auth", "workers", "queue", "compute",
                      "rvc_pretrained"],
         "properties": {
             "status": {"const": "success"}, "version": {"type": "string"}, "engine": {"type": "string"},
             "weights": {"type": "array", "items": {
                 "type": "object", "additionalProperties": false,
                 "required": ["name", "path", "purpose", "installed", "licence", "pack", "folder"],
                 "properties": {
                     "name": {"type": "string"}, "path": {"type": ["string", "null"], "description": "null unless authenticated"},
                     "purpose": {"type": "string"}, "installed": {"type": "boolean"}, "licence": {"type": "string"},
                     "licence_note": {"type": "string"}, "pack": {"type": "string"}, "folder": {"type": "string"}}}},
             "weights_status": {"type": "string", "enum": ["installed", "missing"]},
             "rvc_pretrained": {"type": "array", "description": "every official pretrained G/D pair training can start from (v2 and v1; 48k, 40k, 32k; with and without pitch), and whether it is installed (both files)",
                                "items": {"type": "object", "additionalProperties": false,
                                          "required": ["version", "sample_rate", "f0", "installed", "folder", "generator", "discriminator"],
                                          "properties": {"version": {"type": "string", "enum": ["v1", "v2"]},
                                                         "sample_rate": {"type": "integer", "enum": [32000, 40000, 48000]},
                                                         "f0": {"type": "boolean"}, "installed": {"type": "boolean"},
                                                         "folder": {"type": "string", "description": "under data/weights/"},
                                                         "generator": {"type": "string"}, "discriminator": {"type": "string"}}}},
             "weights_hint": {"type": "string", "description": "how to install what is missing"},
             "compute": {
                 "type": "object", "additionalProperties": false,
                 "required": ["backend", "isa", "precision", "bf16_native", "threads", "model_precision"],
                 "properties": {
                     "backend": {"type": "string"}, "isa": {"type": "string"}, "precision": {"type": "string"},
                     "bf16_native": {"type": "boolean"}, "threads": {"type": "integer"},
                     "model_precision": {"type": "object", "additionalProperties": {"type": "string"}}}},
             "auth": {"type": "string", "enum": ["open", "api_key"]},
             "workers": {"type": "boolean"},
             "queue": {"type": "object", "required": ["depth", "lanes"], "additionalProperties": false,
                       "properties": {"depth": {"type": "integer"},
                                      "lanes": {"type": "object", "description": "per lane: queued and running counts",
                                                "additionalProperties": {"type": "object",
                                                                         "additionalProperties": {"type": "integer"}}}}}}})},
    {0},
};
