/*
 * Job endpoints: POST/GET /api/jobs, GET/DELETE /api/jobs/{id}, GET /api/status/{id}, and the
 * progress stream GET /api/progress/{id} (Server-Sent Events).
 *
 * The stream is replayed from the job's persisted event log (src/jobs): each SSE event carries
 * `id: <event id>`, so a client reconnecting with Last-Event-ID gets exactly the events after it.
 * No thread per client: when a stream has nothing to send its connection is suspended
 * (MHD_suspend_connection) and registered as a listener; the jobs module resumes it after the
 * next event of that job was persisted, or on the keep-alive tick (then a comment line is sent so
 * proxies keep the idle stream open). The stream ends after the job's "close" event.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs/jobs.h"
#include "server/server.h"

#define SSE_BATCH 32

static jobs *app_jobs(server_request *r) { return r->app->jobs; }

static int jobs_error(server_request *r, const vc_error *err)
{
    return server_fail(r, err->code, "%s", err->message);
}

/* A conflict about a job is never "the upload is out of step": say what it is. */
static int job_conflict(server_request *r, const vc_error *err)
{
    if (err->code == VC_ERR_CONFLICT && strstr(err->message, "already finished"))
        r->err_extra = json_pack("{s:s}", "user_message", "This job has already finished; there is nothing to cancel.");
    else if (err->code == VC_ERR_CONFLICT)
        r->err_extra = json_pack("{s:s}", "user_message", "This job cannot do that in its current state.");
    return jobs_error(r, err);
}

/* ---- REST ---- */
/* POST /api/preprocess {audio_id, options} → {status: "preprocessing_started", job_id, progress_stream_url} */
static int preprocess(server_request *r)
{
    static const char *const FIELDS[] = {"audio_id", "options", NULL};
    json_t *body;
    vc_error err;
    if (server_json_body(r, FIELDS, &body)) return -1;
    char id[STORE_ID_MAX];
    int rc = server_quota_jobs(r) ? -2 : jobs_submit(app_jobs(r), r->user_id, "preprocess", body, id, &err);
    json_decref(body);
    if (rc == -2) return -1; /* a quota: r->err is set */
    if (rc) return jobs_error(r, &err);
    char url[128];
    snprintf(url, sizeof url, "/api/progress/%s", id);
    return server_reply_json(r, 202, json_pack("{s:s, s:s, s:s}", "status", "preprocessing_started", "job_id", id,
                                               "progress_stream_url", url));
}

/* Submits a conversion job from the JSON body and answers the brief's "conversion_started".
 * guess_eta: seconds to announce while the kind has no finished job to measure (may be NULL). */
static int start_conversion(server_request *r, const char *kind, const char *const *fields,
                            double (*guess_eta)(server_request *r, const json_t *body))
{
    json_t *body;
    vc_error err;
    if (server_json_body(r, fields, &body)) return -1;
    if (server_voice_resolve(r, body)) { /* a saved instant voice {voice_id} → its clip and transcript */
        json_decref(body);
        return -1;
    }
    char id[STORE_ID_MAX];
    int rc = server_quota_jobs(r) ? -2 : jobs_submit(app_jobs(r), r->user_id, kind, body, id, &err);
    json_t *info = NULL;
    if (rc == 0) rc = jobs_get_json(app_jobs(r), r->user_id, id, &info, &err);
    if (rc == 0 && json_is_null(json_object_get(info, "eta_seconds")) && guess_eta)
        json_object_set_new(info, "eta_seconds", json_real(guess_eta(r, body)));
    json_decref(body);
    if (rc == -2) return -1; /* a quota: r->err is set */
    if (rc) return jobs_error(r, &err);
    json_t *o = json_pack("{s:s, s:s, s:O, s:O, s:s}", "status", "conversion_started", "job_id", id, "queue_position",
                          json_object_get(info, "queue_position"), "estimated_duration_seconds", json_object_get(info, "eta_seconds"),
                          "progress_stream_url", json_string_value(json_object_get(info, "progress_stream_url")));
    json_decref(info);
    return server_reply_json(r, 202, o);
}

static const char *const F5_FIELDS[] = {"reference_audio_id", "voice_id", "reference_text", "text", "target_audio_id", "target_segments",
                                        "parameters", NULL};

/* POST /api/convert/f5tts {reference_audio_id | voice_id, reference_text?, text | target_audio_id [target_segments],
 * parameters} (brief §3.2; voice_id: a saved instant voice, res_voices.c) */
static int convert_f5tts(server_request *r) { return start_conversion(r, "convert_f5tts", F5_FIELDS, NULL); }

/* POST /api/convert/f5tts/estimate {the same body}: the quick clone's checks (voice sample
 * length, a silent target, weights) and its expected time, without queuing anything, so the UI
 * can show both before the user presses Generate. */
static int estimate_f5tts(server_request *r)
{
    json_t *body;
    vc_error err;
    if (server_json_body(r, F5_FIELDS, &body)) return -1;
    if (server_voice_resolve(r, body)) {
        json_decref(body);
        return -1;
    }
    const job_kind *k = jobs_kind_find("convert_f5tts");
    int rc = k->validate(r->app->store, r->user_id, body, &err);
    json_t *est = json_object_get(body, "estimated_seconds");
    json_t *o = rc ? NULL : json_pack("{s:s, s:f}", "status", "ok", "estimated_duration_seconds", json_is_number(est) ? round(json_number_value(est)) : 0.0);
    json_decref(body);
    if (rc) return jobs_error(r, &err);
    return server_reply_json(r, 200, o);
}

/* POST /api/transcribe {audio_id, purpose} → {status: "transcription_started", job_id, …}: what the
 * quick clone hears in a voice sample (purpose "reference": its F5-TTS clip) or a target recording. */
static int transcribe(server_request *r)
{
    static const char *const FIELDS[] = {"audio_id", "purpose", NULL};
    json_t *body;
    vc_error err;
    if (server_json_body(r, FIELDS, &body)) return -1;
    char id[STORE_ID_MAX];
    int rc = server_quota_jobs(r) ? -2 : jobs_submit(app_jobs(r), r->user_id, "transcribe", body, id, &err);
    json_t *info = NULL;
    if (rc == 0) rc = jobs_get_json(app_jobs(r), r->user_id, id, &info, &err);
    json_decref(body);
    if (rc == -2) return -1; /* a quota: r->err is set */
    if (rc) return jobs_error(r, &err);
    json_t *o = json_pack("{s:s, s:s, s:O, s:s}", "status", "transcription_started", "job_id", id, "estimated_duration_seconds",
                          json_object_get(info, "eta_seconds"), "progress_stream_url",
                          json_string_value(json_object_get(info, "progress_stream_url")));
    json_decref(info);
    return server_reply_json(r, 202, o);
}

/* Before the first RVC job finishes there is no measured mean: a CPU-sized guess from the
 * input's length (about 1.5 s of work per second of audio, plus loading). */
static double rvc_eta_guess(server_request *r, const json_t *body)
{
    store_audio a;
    vc_error err;
    const char *id = json_string_value(json_object_get(body, "target_audio_id"));
    if (!id || store_audio_get(r->app->store, r->user_id, id, &a, &err)) return 5;
    double seconds = a.duration_seconds;
    store_audio_free(&a);
    return 5 + 1.5 * seconds;
}

/* POST /api/convert/rvc {model_id, target_audio_id, parameters{pitch_shift, index_rate, filter_radius,
 * rms_mix_rate, protect}} (brief §3.2, 4.); text mode: text [reference_audio_id [reference_text]]
 * [tts_parameters] instead of target_audio_id (F5-TTS speaks it, the voice converts it) */
static int convert_rvc(server_request *r)
{
    static const char *const FIELDS[] = {"model_id", "target_audio_id", "target_audio_ids", "text", "reference_audio_id",
                                         "reference_text", "tts_parameters", "parameters", NULL};
    return start_conversion(r, "convert_rvc", FIELDS, rvc_eta_guess);
}

static int submit(server_request *r)
{
    static const char *const FIELDS[] = {"kind", "params", NULL};
    json_t *body;
    vc_error err;
    if (server_json_body(r, FIELDS, &body)) return -1;
    const char *kind = json_string_value(json_object_get(body, "kind"));
    json_t *params = json_object_get(body, "params");
    char id[STORE_ID_MAX];
    params = params ? json_incref(params) : json_object();
    /* the quick clone takes a saved instant voice here as POST /api/convert/f5tts does */
    if (kind && strcmp(kind, "convert_f5tts") == 0 && server_voice_resolve(r, params)) {
        json_decref(params);
        json_decref(body);
        return -1;
    }
    int rc = !kind ? vc_fail(&err, VC_ERR_INVALID_REQUEST, "kind (string) is required")
                   : server_quota_jobs(r) ? -2 : jobs_submit(app_jobs(r), r->user_id, kind, params, id, &err);
    json_decref(params);
    json_decref(body);
    if (rc == -2) return -1; /* a quota: r->err is set */
    if (rc) return jobs_error(r, &err);
    json_t *o;
    if (jobs_get_json(app_jobs(r), r->user_id, id, &o, &err)) return jobs_error(r, &err);
    return server_reply_json(r, 202, o);
}

static int list(server_request *r)
{
    const char *l = server_query(r, "limit");
    int limit = l && atoi(l) > 0 && atoi(l) <= 1000 ? atoi(l) : 100;
    json_t *o;
    vc_error err;
    if (jobs_list_json(app_jobs(r), r->user_id, limit, &o, &err)) return jobs_error(r, &err);
    return server_reply_json(r, 200, o);
}

static int get(server_request *r)
{
    const char *id;
    json_t *o;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_JOB_NOT_FOUND, &id)) return -1;
    if (jobs_get_json(app_jobs(r), r->user_id, id, &o, &err)) return jobs_error(r, &err);
    return server_reply_json(r, 200, o);
}

static int cancel(server_request *r)
{
    const char *id;
    json_t *o;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_JOB_NOT_FOUND, &id)) return -1;
    if (jobs_cancel(app_jobs(r), r->user_id, id, &err)) return job_conflict(r, &err);
    if (jobs_get_json(app_jobs(r), r->user_id, id, &o, &err)) return jobs_error(r, &err);
    /* A running job stops at its next check (< 1 s): report "cancelling" until then. */
    const char *st = json_string_value(json_object_get(o, "status"));
    json_t *reply = json_pack("{s:s, s:s, s:O}", "status", st && !strcmp(st, "cancelled") ? "cancelled" : "cancelling",
                              "job_id", id, "job", o);
    json_decref(o);
    return server_reply_json(r, 200, reply);
}

/* ---- SSE ---- */
typedef struct sse_conn {
    jobs *j;
    struct MHD_Connection *conn;
    char job_id[STORE_ID_MAX];
    int64_t last_id;        /* last event id written */
    uint64_t caught_up_gen; /* the generation at which the log had nothing after last_id … */
    int caught_up;          /* … valid when set: while it holds, no query is needed */
    int closed;             /* the "close" event was written */
    int suspended;          /* under the notify lock */
    jobs_listener listener;
    int64_t last_write_ms;
    char *pending;          /* formatted bytes not yet handed to MHD */
    size_t pending_len, pending_off;
} sse_conn;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Called by the jobs module under its notify lock. */
static void sse_wake(void *arg)
{
    sse_conn *s = arg;
    if (!s->suspended) return;
    s->suspended = 0;
    jobs_unlisten(s->j, &s->listener);
    MHD_resume_connection(s->conn);
}

static ssize_t pending_copy(sse_conn *s, char *buf, size_t max)
{
    size_t n = s->pending_len - s->pending_off;
    if (n > max) n = max;
    memcpy(buf, s->pending + s->pending_off, n);
    s->pending_off += n;
    if (s->pending_off == s->pending_len) {
        free(s->pending);
        s->pending = NULL;
        s->pending_len = s->pending_off = 0;
    }
    s->last_write_ms = now_ms();
    return (ssize_t)n;
}

/* Formats events into s->pending; stops after "close". Returns 0 or -1 (out of memory). */
static int format_events(sse_conn *s, jobs_event *ev, int n)
{
    size_t cap = 0;
    for (int i = 0; i < n; i++) cap += strlen(ev[i].data) + sizeof ev[i].name + 48;
    s->pending = malloc(cap + 1);
    int rc = s->pending ? 0 : -1;
    for (int i = 0; i < n; i++) {
        if (!rc && !s->closed) {
            s->pending_len += (size_t)snprintf(s->pending + s->pending_len, cap + 1 - s->pending_len,
                                               "id: %lld\nevent: %s\ndata: %s\n\n", (long long)ev[i].id, ev[i].name,
                                               ev[i].data);
            s->last_id = ev[i].id;
            s->closed = !strcmp(ev[i].name, "close");
        }
        free(ev[i].data);
    }
    return rc;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    sse_conn *s = cls;
    (void)pos;
    if (s->pending) return pending_copy(s, buf, max);
    for (;;) {
        if (s->closed) return MHD_CONTENT_READER_END_OF_STREAM;
        uint64_t gen = jobs_generation(s->j);
        jobs_event ev[SSE_BATCH];
        vc_error err;
        /* Nothing was persisted since a query that found the end of the log: skip asking again
         * (halves the queries of a fan-out; the suspend below re-checks under the lock). */
        int n = s->caught_up && gen == s->caught_up_gen ? 0
                                                        : jobs_events_after(s->j, s->job_id, s->last_id, ev, SSE_BATCH, &err);
        if (n < 0) return MHD_CONTENT_READER_END_WITH_ERROR;
        if (n > 0) {
            s->caught_up = n < SSE_BATCH;
            s->caught_up_gen = gen;
            if (format_events(s, ev, n)) return MHD_CONTENT_READER_END_WITH_ERROR;
            return pending_copy(s, buf, max);
        }
        if (jobs_shutting(s->j)) return MHD_CONTENT_READER_END_OF_STREAM;
        /* The ticker wakes idle streams every keepalive_ms; a stream woken a hair before its
         * interval is up would otherwise wait a second tick (20–30 s for 15). Half an interval of
         * slack puts every keep-alive on the first tick after the configured interval. */
        if (now_ms() - s->last_write_ms >= jobs_get_config(s->j)->keepalive_ms / 2) {
            s->last_write_ms = now_ms();
            return snprintf(buf, max, ": keep-alive\n\n");
        }
        jobs_notify_lock(s->j);
        if (gen == jobs_generation(s->j) && !jobs_shutting(s->j)) {
            s->suspended = 1;
            jobs_listen(s->j, &s->listener);
            MHD_suspend_connection(s->conn);
            jobs_notify_unlock(s->j);
            return 0;
        }
        jobs_notify_unlock(s->j);
    }
}

static void sse_free(void *cls)
{
    sse_conn *s = cls;
    jobs_notify_lock(s->j);
    if (s->suspended) jobs_unlisten(s->j, &s->listener);
    s->suspended = 0;
    jobs_notify_unlock(s->j);
    free(s->pending);
    free(s);
}

static int64_t last_event_id(server_request *r)
{
    const char *h = server_header(r, "Last-Event-ID");
    if (!h) h = server_query(r, "last_event_id");
    long long v = h ? strtoll(h, NULL, 10) : 0;
    return v > 0 ? v : 0;
}

static int progress(server_request *r)
{
    const char *id;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_JOB_NOT_FOUND, &id)) return -1;
    int owns = jobs_owns(app_jobs(r), r->user_id, id, &err);
    if (owns < 0) return jobs_error(r, &err);
    if (!owns) return server_fail(r, VC_ERR_JOB_NOT_FOUND, "job %s not found", id);
    /* A reconnect at or past the last event of a finished job: nothing will ever follow (the
     * state and the close event are written together), so 204 tells EventSource to stop. */
    int64_t after = last_event_id(r);
    if (after > 0) {
        json_t *info = NULL;
        if (jobs_get_json(app_jobs(r), r->user_id, id, &info, &err) == 0) {
            const char *st = json_string_value(json_object_get(info, "status"));
            int finished = st && (!strcmp(st, "complete") || !strcmp(st, "failed") || !strcmp(st, "cancelled"));
            json_decref(info);
            jobs_event ev[1];
            int n = finished ? jobs_events_after(app_jobs(r), id, after, ev, 1, &err) : -1;
            if (n > 0) free(ev[0].data);
            if (n == 0) return server_reply_empty(r, 204, NULL);
        }
    }
    sse_conn *s = calloc(1, sizeof *s);
    if (!s) return server_fail(r, VC_ERR_NOMEM, "out of memory");
    s->j = app_jobs(r);
    s->conn = r->conn;
    snprintf(s->job_id, sizeof s->job_id, "%s", id);
    s->last_id = after;
    s->last_write_ms = now_ms();
    s->listener = (jobs_listener){.job_id = s->job_id, .wake = sse_wake, .arg = s};
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, s, sse_free);
    if (!resp) {
        free(s);
        return server_fail(r, VC_ERR_NOMEM, "out of memory");
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0);
    return server_reply_response(r, 200, resp);
}

/* The quick clone's body, shared by the conversion, its estimate and POST /api/jobs (schemas.c). */
#define F5_REQUEST SERVER_SCHEMA({"$ref": "#/components/schemas/F5Request"})

const server_route SERVER_ROUTES_JOBS[] = {
    {.method = "POST", .pattern = "/api/jobs", .handle = submit, .body = SERVER_BODY_BUFFER, .max_body = 65536,
     .tag = "jobs", .request_type = "application/json",
     .summary = "Queue a job {kind, params} (kinds: analyze, preprocess, convert_f5tts, convert_rvc; sleep when test kinds are enabled); "
                "convert_f5tts params are POST /api/convert/f5tts's body, a saved voice_id included",
     .responses = "202,400,401,404,429,503",
     .request_schema = SERVER_SCHEMA({"type": "object", "required": ["kind"], "additionalProperties": false,
                                      "properties": {"kind": {"type": "string"},
                                                     "params": {"type": "object", "description": "the kind's own body"}},
                                      "if": {"required": ["kind"], "properties": {"kind": {"const": "convert_f5tts"}}},
                                      "then": {"required": ["params"],
                                               "properties": {"params": {"$ref": "#/components/schemas/F5Request"}}}}),
     .response_schema = SERVER_SCHEMA({"$ref": "#/components/schemas/Job"})},
    {.method = "POST", .pattern = "/api/convert/f5tts", .handle = convert_f5tts, .body = SERVER_BODY_BUFFER,
     .max_body = 65536, .tag = "convert", .request_type = "application/json",
     .summary = "Quick clone with F5-TTS {reference_audio_id (or voice_id: a saved instant voice), reference_text?, text | target_audio_id [target_segments "
                "[{start, end, text}]], parameters{speed, pitch_shift, nfe_step, seed}}: a convert-lane job whose complete event "
                "carries output_audio_id and the texts used (a missing reference_text and a target recording's words are "
                "transcribed with Whisper; target_segments from POST /api/transcribe, edited, skip that). A voice sample under "
                "3 s is 400 AUDIO_TOO_SHORT; a silent or music-only target fails QUALITY_TOO_LOW \"no speech found\"",
     .responses = "202,400,401,404,429,503",
     .request_schema = F5_REQUEST,
     .response_schema = SERVER_SCHEMA({"$ref": "#/components/schemas/ConversionStarted"})},
    {.method = "POST", .pattern = "/api/convert/f5tts/estimate", .handle = estimate_f5tts, .body = SERVER_BODY_BUFFER,
     .max_body = 65536, .tag = "convert", .request_type = "application/json",
     .summary = "The quick clone's expected time {status, estimated_duration_seconds} for the body POST /api/convert/f5tts "
                "would get, after the same checks (errors as there); nothing is queued",
     .responses = "200,400,401,404,503",
     .request_schema = F5_REQUEST,
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["status", "estimated_duration_seconds"],
                                       "additionalProperties": false,
                                       "properties": {"status": {"const": "ok"},
                                                      "estimated_duration_seconds": {"type": "number"}}})},
    {.method = "POST", .pattern = "/api/transcribe", .handle = transcribe, .body = SERVER_BODY_BUFFER, .max_body = 4096,
     .tag = "convert", .request_type = "application/json",
     .summary = "Transcribe a stored recording with Whisper {audio_id, purpose: reference | target}: a job (phases "
                "preprocessing, voice encoding, with percent and eta_seconds) whose complete event carries {text, segments "
                "[{start, end, text}]} (reference: of the clip the quick clone uses, with clip_seconds; target: with "
                "duration_seconds), for \"we heard: ...\" before generating. Silence or music only: QUALITY_TOO_LOW \"no speech found\"",
     .responses = "202,400,401,404,429,503",
     .request_schema = SERVER_SCHEMA({"type": "object", "required": ["audio_id", "purpose"], "additionalProperties": false,
                                      "properties": {"audio_id": {"type": "string"},
                                                     "purpose": {"enum": ["reference", "target"]}}}),
     .response_schema = SERVER_SCHEMA({"type": "object",
                                       "required": ["status", "job_id", "estimated_duration_seconds", "progress_stream_url"],
                                       "additionalProperties": false,
                                       "properties": {"status": {"const": "transcription_started"}, "job_id": {"type": "string"},
                                                      "estimated_duration_seconds": {"type": ["number", "null"]},
                                                      "progress_stream_url": {"type": "string"}}})},
    {.method = "POST", .pattern = "/api/convert/rvc", .handle = convert_rvc, .body = SERVER_BODY_BUFFER,
     .max_body = 65536, .tag = "convert", .request_type = "application/json",
     .summary = "Voice conversion with an RVC model {model_id, target_audio_id, parameters{pitch_shift, index_rate, "
                "filter_radius, rms_mix_rate, protect, clip_seconds}}: a convert-lane job (phases loading model, extracting "
                "features, converting, postprocessing) whose complete event carries output_audio_id (WAV at the model's "
                "rate); a batch: target_audio_ids [up to 20] instead, one output each under outputs, all of them as "
                "GET /api/jobs/{id}/outputs.zip. Text mode: text (up to 5000 bytes) instead of a target: F5-TTS speaks it "
                "in the voice of reference_audio_id (reference_text optional: transcribed with Whisper when missing) or, "
                "without one, of a clip (<= 12 s, cut at a pause) of the model's training audio, then the voice converts "
                "it (phases preprocessing, voice encoding, generating, vocoding to 60 %, then the conversion's); "
                "tts_parameters{nfe_step, speed, seed}",
     .responses = "202,400,401,404,429,503",
     .request_schema = SERVER_SCHEMA({"type": "object", "required": ["model_id"], "additionalProperties": false,
                                      "properties": {
                                          "model_id": {"type": "string"}, "target_audio_id": {"type": "string"},
                                          "target_audio_ids": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 20},
                                          "text": {"type": "string", "minLength": 1, "maxLength": 5000,
                                                   "description": "text mode: the words to speak in the voice (no target)"},
                                          "reference_audio_id": {"type": "string",
                                                                 "description": "text mode: the voice to speak in (default: the model's training audio)"},
                                          "reference_text": {"type": "string",
                                                             "description": "text mode: what reference_audio_id says (else transcribed)"},
                                          "tts_parameters": {"type": "object", "additionalProperties": false, "properties": {
                                              "nfe_step": {"type": "integer", "minimum": 1, "maximum": 64},
                                              "speed": {"type": "number", "minimum": 0.3, "maximum": 3},
                                              "seed": {"type": "integer", "minimum": 0}}},
                                          "parameters": {"type": "object", "additionalProperties": false, "properties": {
                                              "pitch_shift": {"type": "number", "minimum": -24, "maximum": 24},
                                              "index_rate": {"type": "number", "minimum": 0, "maximum": 1},
                                              "filter_radius": {"type": "integer", "minimum": 0, "maximum": 7},
                                              "rms_mix_rate": {"type": "number", "minimum": 0, "maximum": 1},
                                              "protect": {"type": "number", "minimum": 0, "maximum": 0.5},
                                              "resample_sr": {"type": "integer", "minimum": 0, "maximum": 48000},
                                              "clip_seconds": {"type": "number", "minimum": 0.5, "maximum": 60}}}}}),
     .response_schema = SERVER_SCHEMA({"$ref": "#/components/schemas/ConversionStarted"})},
    {.method = "POST", .pattern = "/api/preprocess", .handle = preprocess, .body = SERVER_BODY_BUFFER, .max_body = 65536,
     .tag = "jobs", .request_type = "application/json",
     .summary = "Clean up a stored recording {audio_id, options{remove_noise, trim_silence, normalize_volume, target_lufs}}: "
                "a job whose complete event carries output_audio_id (a new audio file with its own analysis)",
     .responses = "202,400,401,404,429",
     .request_schema = SERVER_SCHEMA({"type": "object", "required": ["audio_id"], "additionalProperties": false,
                                      "properties": {
                                          "audio_id": {"type": "string"},
                                          "options": {"type": "object", "additionalProperties": false, "properties": {
                                              "remove_noise": {"type": "boolean"}, "trim_silence": {"type": "boolean"},
                                              "normalize_volume": {"type": "boolean"},
                                              "target_lufs": {"type": "number", "minimum": -40, "maximum": -6}}}}}),
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["status", "job_id", "progress_stream_url"],
                                       "additionalProperties": false,
                                       "properties": {"status": {"const": "preprocessing_started"}, "job_id": {"type": "string"},
                                                      "progress_stream_url": {"type": "string"}}})},
    {.method = "GET", .pattern = "/api/jobs", .handle = list, .tag = "jobs",
     .summary = "The user's jobs, newest first (?limit)", .responses = "200,401",
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["jobs"], "additionalProperties": false,
                                       "properties": {"jobs": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}}})},
    {.method = "GET", .pattern = "/api/jobs/{job_id}", .handle = get, .tag = "jobs",
     .summary = "A job: status, phase, progress, queue_position, eta_seconds, result or error",
     .responses = "200,401,404", .response_schema = SERVER_SCHEMA({"$ref": "#/components/schemas/Job"})},
    {.method = "DELETE", .pattern = "/api/jobs/{job_id}", .handle = cancel, .tag = "jobs",
     .summary = "Cancel a job (queued: at once; running: within a second)", .responses = "200,401,404,409",
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["status", "job_id", "job"], "additionalProperties": false,
                                       "properties": {"status": {"type": "string", "enum": ["cancelled", "cancelling"]},
                                                      "job_id": {"type": "string"}, "job": {"$ref": "#/components/schemas/Job"}}})},
    {.method = "GET", .pattern = "/api/status/{job_id}", .handle = get, .tag = "jobs",
     .summary = "Job status (same body as GET /api/jobs/{job_id})", .responses = "200,401,404",
     .response_schema = SERVER_SCHEMA({"$ref": "#/components/schemas/Job"})},
    {.method = "GET", .pattern = "/api/progress/{job_id}", .handle = progress, .tag = "jobs",
     .summary = "Server-Sent Events: progress, training_set, complete, error, close (Last-Event-ID replay); 204 when "
                "Last-Event-ID is at or past the last event of a finished job",
     .responses = "200,204,401,404", .response_type = "text/event-stream",
     .response_schema = SERVER_SCHEMA({"type": "array", "items": {"$ref": "#/components/schemas/JobStreamEvent"},
                                       "description": "The stream, read as a list of its messages: each message's id: and event: lines and its data: line (JSON) form one JobStreamEvent, whose data schema follows from the event name. Comment lines (: keep-alive) are not messages. A finished job's stream ends with close."})},
    {0},
};
