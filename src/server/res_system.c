/*
 * /api/health and /api/system: liveness, and what this installation can do — version, engine,
 * which model weights are installed under data/weights/, auth mode, queue depth.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "jobs/jobs.h"
#include "server/server.h"

/* Weights the studio needs, by folder under data/weights/ (filled by `voiceclone models pull`),
 * with the licence their publishers release them under (docs/models-manifest.json, docs/MODELS.md):
 * users must see that the F5-TTS weights are for non-commercial use only. */
static const struct {
    const char *name, *folder, *purpose, *licence, *licence_note;
} WEIGHTS[] = {
    {"f5tts_v1_base", "f5tts", "quick clone (F5-TTS v1 Base + vocab.txt)", "CC-BY-NC-4.0",
     "Non-commercial use only: speech made with these weights may not be used commercially"},
    {"vocos_mel_24khz", "vocos", "vocoder for F5-TTS", "MIT", NULL},
    {"hubert_base", "hubert", "content features for RVC", "MIT", NULL},
    {"rmvpe", "rmvpe", "pitch extraction for RVC", "MIT", NULL},
    {"rvc_pretrained_v2", "rvc_pretrained", "RVC v2 base models for training", "MIT", NULL},
    {"whisper", "whisper", "speech recognition (Whisper): transcripts for the quick clone, speech to speech", "MIT", NULL},
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

static json_t *weights_json(server_request *r, int *missing)
{
    json_t *list = json_array();
    for (size_t i = 0; i < sizeof WEIGHTS / sizeof WEIGHTS[0]; i++) {
        char path[1200];
        store_path(r->app->store, path, sizeof path, "weights/%s", WEIGHTS[i].folder);
        int ok = folder_has_files(path);
        *missing += !ok;
        json_t *w = json_pack("{s:s, s:s, s:s, s:b, s:s}", "name", WEIGHTS[i].name, "path", path, "purpose",
                              WEIGHTS[i].purpose, "installed", ok, "licence", WEIGHTS[i].licence);
        if (w && WEIGHTS[i].licence_note) json_object_set_new(w, "licence_note", json_string(WEIGHTS[i].licence_note));
        json_array_append_new(list, w);
    }
    return list;
}

static int handle_system(server_request *r)
{
    int missing = 0;
    json_t *weights = weights_json(r, &missing);
    json_t *lanes = r->app->jobs ? jobs_lanes_json(r->app->jobs) : json_object();
    json_int_t depth = 0;
    const char *lane;
    json_t *counts;
    json_object_foreach(lanes, lane, counts) depth += json_integer_value(json_object_get(counts, "queued"));
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:b, s:{s:I, s:o}}", "status", "success", "version",
                          SERVER_VERSION, "engine", "voiceclone-c (CPU, OpenBLAS)", "weights", weights,
                          "weights_status", missing ? "missing" : "installed", "auth",
                          server_auth_open_mode(r->app) ? "open" : "api_key", "workers",
                          !r->app->config.no_workers, "queue", "depth", depth, "lanes", lanes);
    if (o && missing)
        json_object_set_new(o, "weights_hint", json_string("Install voice models: run `voiceclone models pull`"));
    return server_reply_json(r, 200, o);
}

const server_route SERVER_ROUTES_SYSTEM[] = {
    {.method = "GET", .pattern = "/api/health", .handle = handle_health, .auth = SERVER_AUTH_PUBLIC,
     .tag = "system", .summary = "Liveness check: {\"status\":\"ok\"}", .responses = "200"},
    {.method = "GET", .pattern = "/api/system", .handle = handle_system, .auth = SERVER_AUTH_PUBLIC,
     .tag = "system", .summary = "Version, engine, installed/missing model weights, auth mode, queue depth",
     .responses = "200"},
    {0},
};
