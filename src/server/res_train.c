/*
 * Training endpoints (brief §3.2 "Start Model Training"): POST /api/train queues a train_rvc job
 * (src/jobs/jobs_kind_train.c) and answers with the model id the finished voice will have and an
 * estimate from measured step times; POST /api/jobs/{id}/stop ends a running training early and
 * keeps the model trained so far; GET /api/jobs/{id}/loss_history gives the loss curve for the
 * plot (from the job's event log, so it survives restarts and works after the job ended).
 */
#include <string.h>

#include "jobs/jobs.h"
#include "server/server.h"

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

const server_route SERVER_ROUTES_TRAIN[] = {
    {.method = "POST", .pattern = "/api/train", .handle = start_training, .body = SERVER_BODY_BUFFER, .max_body = 65536,
     .tag = "training", .request_type = "application/json",
     .summary = "Train an RVC voice model {training_audio_ids: [ids] (or training_audio_id), model_name, voice_consent: true, "
                "accept_noisy_audio (train on files under 15 dB SNR), preprocessing{remove_noise, "
                "normalize_volume, trim_silence}, training_params{epochs, batch_size, learning_rate, sample_rate, "
                "save_every_steps, seed}}: a train-lane job (phases preprocessing, feature extraction, training, index, "
                "validation); answers with job_id, model_id, epochs and estimated_duration_minutes",
     .responses = "202,400,401,404,503"},
    {.method = "POST", .pattern = "/api/jobs/{job_id}/stop", .handle = stop_training, .tag = "training",
     .summary = "Stop a running training now and keep the model trained so far", .responses = "202,400,401,404,409"},
    {.method = "GET", .pattern = "/api/jobs/{job_id}/loss_history", .handle = loss_history, .tag = "training",
     .summary = "The loss curve of a training job: points {step, loss, loss_mel, loss_disc, epoch}",
     .responses = "200,401,404"},
    {0},
};
