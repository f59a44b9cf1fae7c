/*
 * Training endpoints (brief §3.2 "Start Model Training"): POST /api/train queues a train_rvc job
 * (src/jobs/jobs_kind_train.c) and answers with the model id the finished voice will have and an
 * estimate from measured step times; POST /api/jobs/{id}/stop ends a running training early and
 * keeps the model trained so far; GET /api/jobs/{id}/loss_history gives the loss curve for the
 * plot (from the job's event log, so it survives restarts and works after the job ended).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "jobs/jobs.h"
#include "server/server.h"
#include "server/zip_out.h"

static int fail(server_request *r, const vc_error *err) { return server_fail(r, err->code, "%s", err->message); }

/* POST /api/train {training_audio_ids | training_audio_id, model_name, accept_noisy_audio, voice_consent, preprocessing, training_params} */
static int start_training(server_request *r)
{
    static const char *const FIELDS[] = {"training_audio_id", "training_audio_ids", "model_name", "voice_consent",
                                         "preprocessing", "training_params", "accept_noisy_audio", NULL};
    json_t *body, *info = NULL;
    vc_error err;
    char id[STORE_ID_MAX], url[128];
    if (server_json_body(r, FIELDS, &body)) return -1;
    if (server_quota_jobs(r)) { json_decref(body); return -1; }
    int rc = jobs_submit(r->app->jobs, r->user_id, "train_rvc", body, id, &err);
    if (rc == 0) rc = jobs_get_json(r->app->jobs, r->user_id, id, &info, &err);
    if (rc) {
        json_decref(body);
        return fail(r, &err);
    }
    snprintf(url, sizeof url, "/api/progress/%s", id);
    json_t *o = json_pack("{s:s, s:s, s:O, s:O, s:O, s:O, s:s, s:s}", "status", "training_started", "job_id", id,
                          "model_id", json_object_get(body, "model_id"), "epochs", json_object_get(body, "epochs"),
                          "estimated_duration_minutes", json_object_get(body, "estimated_duration_minutes"),
                          "queue_position", json_object_get(info, "queue_position"), "progress_stream_url", url,
                          "message", "Training started. You will be notified when complete.");
    json_decref(info);
    json_decref(body);
    return server_reply_json(r, 202, o);
}

static int stop_training(server_request *r)
{
    const char *id;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_JOB_NOT_FOUND, &id)) return -1;
    if (jobs_train_stop(r->app->jobs, r->user_id, id, &err)) return fail(r, &err);
    return server_reply_json(r, 202, json_pack("{s:s, s:s, s:s}", "status", "stopping", "job_id", id, "message",
                                               "Training stops after the current step; the model trained so far is kept."));
}

static int loss_history(server_request *r)
{
    const char *id;
    vc_error err;
    json_t *o;
    if (server_param_id(r, 0, VC_ERR_JOB_NOT_FOUND, &id)) return -1;
    if (jobs_train_loss_history(r->app->jobs, r->user_id, id, &o, &err)) return fail(r, &err);
    return server_reply_json(r, 200, o);
}

/* GET /api/jobs/{id}/outputs.zip: every output of a finished batch conversion, as NN_name.wav. */
#define ZIP_MAX 32
static int outputs_zip(server_request *r)
{
    const char *id;
    vc_error err;
    json_t *info = NULL;
    if (server_param_id(r, 0, VC_ERR_JOB_NOT_FOUND, &id)) return -1;
    if (jobs_get_json(r->app->jobs, r->user_id, id, &info, &err)) return fail(r, &err);
    json_t *outputs = json_object_get(json_object_get(info, "result"), "outputs");
    int rc = 0;
    if (strcmp(json_string_value(json_object_get(info, "status")), "complete"))
        rc = server_fail(r, VC_ERR_CONFLICT, "the job has not finished: download its files once it is complete");
    else if (!json_is_array(outputs) || json_array_size(outputs) == 0 || json_array_size(outputs) > ZIP_MAX)
        rc = server_fail(r, VC_ERR_JOB_NOT_FOUND, "job %s has no batch outputs (only batch conversions have a zip)", id);
    char paths[ZIP_MAX][1600], names[ZIP_MAX][200];
    const char *pp[ZIP_MAX], *nn[ZIP_MAX];
    int n = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(outputs); i++) {
        json_t *o = json_array_get(outputs, i);
        store_audio a;
        const char *aid = json_string_value(json_object_get(o, "output_audio_id"));
        if (!aid || store_audio_get(r->app->store, r->user_id, aid, &a, &err)) {
            rc = server_fail(r, VC_ERR_AUDIO_NOT_FOUND, "output %zu of job %s is gone (removed by retention?)", i + 1, id);
            break;
        }
        store_path(r->app->store, paths[n], sizeof paths[n], "%s", a.file_path);
        store_audio_free(&a);
        const char *fn = json_string_value(json_object_get(o, "filename"));
        int k = snprintf(names[n], sizeof names[n], "%02zu_", i + 1);
        for (const char *c = fn ? fn : "converted.wav"; *c && k < (int)sizeof names[n] - 1; c++)
            names[n][k++] = isalnum((unsigned char)*c) || *c == '.' || *c == '-' ? *c : '_';
        names[n][k] = '\0';
        pp[n] = paths[n];
        nn[n] = names[n];
        n++;
    }
    json_decref(info);
    if (rc) return rc;
    int fd;
    if (zip_out_files(pp, nn, n, &fd, &err)) return fail(r, &err);
    return server_reply_file(r, fd, "application/zip", "attachment; filename=\"converted.zip\"");
}

const server_route SERVER_ROUTES_TRAIN[] = {
    {.method = "POST", .pattern = "/api/train", .handle = start_training, .body = SERVER_BODY_BUFFER, .max_body = 65536,
     .tag = "training", .request_type = "application/json",
     .summary = "Train an RVC voice model {training_audio_ids: [ids] (or training_audio_id), model_name, voice_consent: true, "
                "accept_noisy_audio (train on files under 15 dB SNR), preprocessing{remove_noise, "
                "normalize_volume, trim_silence}, training_params{epochs, batch_size, learning_rate, sample_rate (32000, "
                "40000, 48000), version (v2, v1), f0 (true; false = no pitch), save_every_steps, seed}}: a train-lane job "
                "(phases preprocessing, feature extraction, training, index, validation; a training_set event reports "
                "speech, pieces and epoch time after the second step); answers with job_id, model_id, epochs and "
                "estimated_duration_minutes",
     .responses = "202,400,401,404,429,503",
     .request_schema = SERVER_SCHEMA({
         "type": "object", "required": ["model_name", "voice_consent"], "additionalProperties": false,
         "properties": {
             "training_audio_ids": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 32},
             "training_audio_id": {"type": "string"}, "model_name": {"type": "string"},
             "voice_consent": {"const": true}, "accept_noisy_audio": {"type": "boolean"},
             "preprocessing": {"type": "object", "additionalProperties": false, "properties": {
                 "remove_noise": {"type": "boolean"}, "normalize_volume": {"type": "boolean"},
                 "trim_silence": {"type": "boolean"}, "vocal_separation": {"const": false}}},
             "training_params": {"type": "object", "additionalProperties": false, "properties": {
                 "epochs": {"type": "integer", "minimum": 1, "maximum": 1000},
                 "batch_size": {"type": "integer", "minimum": 1, "maximum": 32},
                 "learning_rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.01},
                 "sample_rate": {"type": "integer", "enum": [32000, 40000, 48000]},
                 "version": {"type": "string", "enum": ["v2", "v1"]}, "f0": {"type": "boolean"},
                 "save_every_steps": {"type": "integer", "minimum": 1, "maximum": 100000},
                 "seed": {"type": "integer", "minimum": 0, "maximum": 2147483647},
                 "model_size": {"type": "string", "enum": ["full", "tiny"], "description": "tiny: test servers only"}}}}}),
     .response_schema = SERVER_SCHEMA({
         "type": "object", "additionalProperties": false,
         "required": ["status", "job_id", "model_id", "epochs", "estimated_duration_minutes", "queue_position",
                      "progress_stream_url", "message"],
         "properties": {
             "status": {"const": "training_started"}, "job_id": {"type": "string"}, "model_id": {"type": "string"},
             "epochs": {"type": "integer"}, "estimated_duration_minutes": {"type": "number"},
             "queue_position": {"type": "integer"}, "progress_stream_url": {"type": "string"}, "message": {"type": "string"}}})},
    {.method = "POST", .pattern = "/api/jobs/{job_id}/stop", .handle = stop_training, .tag = "training",
     .summary = "Stop a running training now and keep the model trained so far", .responses = "202,400,401,404,409",
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["status", "job_id", "message"], "additionalProperties": false,
                                       "properties": {"status": {"const": "stopping"}, "job_id": {"type": "string"},
                                                      "message": {"type": "string"}}})},
    {.method = "GET", .pattern = "/api/jobs/{job_id}/outputs.zip", .handle = outputs_zip, .tag = "conversion",
     .summary = "Every output of a finished batch conversion (POST /api/convert/rvc with target_audio_ids) as one .zip",
     .responses = "200,401,404,409", .response_type = "application/zip", .response_headers = "Content-Disposition"},
    {.method = "GET", .pattern = "/api/jobs/{job_id}/loss_history", .handle = loss_history, .tag = "training",
     .summary = "The loss curve of a training job: points {step, loss, loss_mel, loss_disc, epoch}",
     .responses = "200,401,404",
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["job_id", "points"], "additionalProperties": false,
                                       "properties": {"job_id": {"type": "string"}, "points": {"type": "array", "items": {
                                           "type": "object", "required": ["step", "loss"], "additionalProperties": false,
                                           "properties": {"step": {"type": "integer"}, "loss": {"type": "number"},
                                                          "loss_mel": {"type": "number"}, "loss_disc": {"type": "number"},
                                                          "epoch": {"type": "integer"}}}}}})},
    {0},
};
