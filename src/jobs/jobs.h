/*
 * The durable job system: long work (analysis, preprocessing, conversion,
 * training) runs as jobs persisted in the SQLite store and executed by worker threads inside
 * `voiceclone serve`, one pool per scheduler lane.
 *
 *   submit → row "queued" + event log → a lane worker claims it (highest priority, oldest first)
 *   → kind->run(job, ctx) reports progress through job_emit() → "complete" | "failed" |
 *   "cancelled", each followed by a "close" event.
 *
 * Invariants:
 *   - every event is written to job_events (with a per-job increasing id) before anyone is told
 *     about it, so an SSE client that reconnects with Last-Event-ID replays exactly what it missed;
 *   - a job's partial files live in data/jobs/{job_id}/ and are removed on cancel, failure and
 *     restart; outputs are committed under an id derived from the job id (job_output_id), so a
 *     job re-run after a crash overwrites instead of duplicating;
 *   - on start, jobs left "running" by a dead process are re-queued (a job interrupted
 *     JOBS_MAX_ATTEMPTS times fails instead of crash-looping); completed jobs are never touched.
 *     On PostgreSQL the same happens when a job's lease lapses (see jobs_start);
 *   - a worker writes a job's progress and outcome only while the row still names it as the
 *     worker: one whose lease lapsed (and whose job went to another worker) stops the job.
 */
#ifndef VC_JOBS_H
#define VC_JOBS_H

#include <stdint.h>

#include <jansson.h>

#include "base/error.h"
#include "store/store.h"

#define JOBS_MAX_ATTEMPTS 3
/* PostgreSQL: database connections a process's lane threads share (besides the store's and the
 * LISTEN one), at most one per lane thread. */
#define JOBS_WORKER_CONNS 4
#define JOBS_KIND_MAX 24
#define JOBS_LANE_MAX 12

typedef enum jobs_lane { JOBS_LANE_TRAIN = 0, JOBS_LANE_CONVERT, JOBS_LANE_CPU, JOBS_LANE_COUNT } jobs_lane;

/* Priorities inside a lane (higher first): quick F5 > RVC conversion > training (brief §4.3). */
enum { JOBS_PRIO_TRAIN = 10, JOBS_PRIO_CPU = 20, JOBS_PRIO_RVC = 30, JOBS_PRIO_F5 = 40 };

typedef struct jobs_config {
    int lane_slots[JOBS_LANE_COUNT]; /* workers per lane: train 1, convert 2, cpu = cores */
    int test_kinds;                  /* 1 = the "sleep" test kind may be submitted (VCS_JOBS_TEST_KINDS=1) */
    int keepalive_ms;                /* SSE keep-alive comment interval (15000) */
    char worker_name[64];            /* recorded on the jobs this process claims (host:pid) */
    int lease_ms;                    /* a claim's lease; the heartbeat renews it at a third (30000) */
} jobs_config;

/* A job as a kind sees it (read-only). */
typedef struct job {
    char job_id[STORE_ID_MAX];
    char user_id[STORE_ID_MAX];
    char kind[JOBS_KIND_MAX];
    int attempts;          /* 1 on the first run, 2 after one restart … */
    json_t *params;        /* the submitted parameters (borrowed) */
    char work_dir[1200];   /* absolute data/jobs/{job_id}: scratch space, removed when the job ends */
} job;

typedef struct job_ctx job_ctx;

/* Persists then publishes one event ("progress", "training_set"; each name and its data have a schema in
 * src/server/schemas_jobs.c, checked by the contract test); takes ownership of data. */
int job_emit(job_ctx *c, const char *event, json_t *data, vc_error *err);
/* Convenience: a "progress" event {percent, phase, message}. */
int job_progress(job_ctx *c, double percent, const char *phase, const char *message);
/* 1 once cancellation was requested: a kind checks this between steps (at least once a second)
 * and returns -1 with VC_ERR_CANCELLED. */
int job_cancelled(job_ctx *c);
/* 1 when the cancellation is the server shutting down (the job will be re-queued and run
 * again): a kind that resumes keeps its progress on disk. */
int job_shutting_down(job_ctx *c);
store *job_store(job_ctx *c);

/* A kind of job. run() returns 0 with *result (owned JSON, fields of the "complete" event) or -1
 * with err; it must not leave files outside job->work_dir except through the file layer
 * (files_put_file / files_put_bytes on store_files(job_store(c)), store/files.h). */
typedef struct job_kind {
    const char *name;
    jobs_lane lane;
    int priority;
    int test_only;                        /* only when jobs_config.test_kinds */
    /* Checks params at submit time (400 on bad input, 404 on a missing audio …); may be NULL. */
    int (*validate)(store *s, const char *user_id, json_t *params, vc_error *err);
    int (*run)(const job *j, job_ctx *c, json_t **result, vc_error *err);
} job_kind;

/* NULL-terminated (jobs_kinds.c). */
extern const job_kind *const JOBS_KINDS[];
const job_kind *jobs_kind_find(const char *name);

/* ---- the scheduler context (jobs_sched.c) ---- */
typedef struct jobs jobs;

void jobs_config_defaults(jobs_config *c);
/* Reads VCS_LANE_TRAIN / VCS_LANE_CONVERT / VCS_LANE_CPU / VCS_JOBS_TEST_KINDS / VCS_SSE_KEEPALIVE_MS /
 * VCS_WORKER_NAME / VCS_LEASE_MS. */
void jobs_config_from_env(jobs_config *c);
/* Recovers interrupted jobs, then starts the lane workers (workers = 0 → API only).
 *
 * On SQLite one process owns the queue: at start every job left "running" is re-queued. On
 * PostgreSQL (scale-out) many processes share it: a claim holds a lease that this process's
 * keeper thread renews; any process re-queues a job whose lease lapsed (its worker died); cancel
 * requests are polled from the job rows (so they reach a worker in another process within
 * ~0.25 s); and a LISTEN thread wakes SSE streams and idle workers when any process writes an
 * event. */
int jobs_start(jobs **out, store *s, const jobs_config *cfg, int workers, vc_error *err);
/* Stops taking work; running jobs are asked to stop and are re-queued for the next start. */
void jobs_quiesce(jobs *j);
void jobs_stop(jobs *j);
const jobs_config *jobs_get_config(const jobs *j);
store *jobs_get_store(jobs *j);

/* Validates and queues a job; *out_id gets its id. */
int jobs_submit(jobs *j, const char *user_id, const char *kind, json_t *params, char out_id[STORE_ID_MAX],
                vc_error *err);
/* Cancels a queued job at once, or asks a running one to stop. VC_ERR_JOB_NOT_FOUND for unknown /
 * another user's job; VC_ERR_CONFLICT when it already finished. */
int jobs_cancel(jobs *j, const char *user_id, const char *job_id, vc_error *err);
/* {job_id, kind, status, progress, phase, queue_position, eta_seconds, created_at, result, error…}. */
int jobs_get_json(jobs *j, const char *user_id, const char *job_id, json_t **out, vc_error *err);
/* {"jobs": [...]} newest first, at most limit. */
int jobs_list_json(jobs *j, const char *user_id, int limit, json_t **out, vc_error *err);
/* Queued + running jobs per lane {train:{running,queued,slots},…} for /api/system. */
json_t *jobs_lanes_json(jobs *j);
/* Jobs of every user in lane ("train" | "convert" | "cpu") and state ("queued", "complete" …), or
 * -1 with err (benchmarks, monitoring). */
int jobs_count(jobs *j, const char *lane, const char *state, vc_error *err);

/* ---- training jobs (jobs_kind_train.c) ---- */
/* "Stop now and keep the latest model": the running train_rvc job finishes after its current
 * step with the model trained so far. VC_ERR_JOB_NOT_FOUND, VC_ERR_INVALID_REQUEST (not a
 * training job), VC_ERR_CONFLICT (queued — cancel it instead — or already finished). */
int jobs_train_stop(jobs *j, const char *user_id, const char *job_id, vc_error *err);
/* {"job_id", "points": [{step, loss, loss_mel, loss_disc, epoch}…]} from the job's event log. */
int jobs_train_loss_history(jobs *j, const char *user_id, const char *job_id, json_t **out, vc_error *err);

/* ---- event log reading and live notification (for SSE) ---- */
typedef struct jobs_event {
    int64_t id;
    char name[24];
    char *data; /* JSON text, owned */
} jobs_event;

/* 1 = the job exists for user, 0 = not found, -1 = error. */
int jobs_owns(jobs *j, const char *user_id, const char *job_id, vc_error *err);
/* Up to max events with id > after, in order; returns the count or -1. Free each data. */
int jobs_events_after(jobs *j, const char *job_id, int64_t after, jobs_event *ev, int max, vc_error *err);

/* A counter bumped (under the notify lock) after each persisted event; listeners compare it to
 * decide whether to sleep. */
typedef struct jobs_listener {
    const char *job_id;       /* woken for this job's events (and keep-alive/shutdown) */
    void (*wake)(void *arg);  /* called under the notify lock; may call jobs_unlisten */
    void *arg;
    struct jobs_listener *next;
} jobs_listener;
void jobs_notify_lock(jobs *j);
void jobs_notify_unlock(jobs *j);
uint64_t jobs_generation(jobs *j);          /* under the notify lock or atomically */
void jobs_listen(jobs *j, jobs_listener *l);   /* under the notify lock */
void jobs_unlisten(jobs *j, jobs_listener *l); /* under the notify lock */
/* Calls every listener's wake (used by the keep-alive ticker and at shutdown). */
void jobs_wake_all(jobs *j);
/* 1 once jobs_quiesce ran: streams end. */
int jobs_shutting(jobs *j);

/* ---- models shared by concurrent jobs (jobs_shared.c) ---- */
/* How to load and unload one kind of shared model; key names it (a folder, a set of files). */
typedef struct job_shared_kind {
    const char *name;
    int (*open)(const char *key, void **out, vc_error *err);
    void (*close)(void *res);
} job_shared_kind;

typedef struct jobs_shared jobs_shared;
jobs_shared *jobs_shared_new(void);
void jobs_shared_free(jobs_shared *s);
/* The loaded model for (kind, key), opened by the first caller; held until jobs_shared_release.
 * While held it must only be read. */
int jobs_shared_acquire(jobs_shared *s, const job_shared_kind *kind, const char *key, void **res, vc_error *err);
void jobs_shared_release(jobs_shared *s, void *res);
/* Loaded entries, held or idle (tests). */
int jobs_shared_count(jobs_shared *s);
/* The scheduler's cache, for a running job. */
jobs_shared *job_shared_models(job_ctx *c);
/* A short stamp of the plain files (names, sizes, mtimes) in dirs: part of a cache key so that
 * weights replaced on disk are loaded afresh. */
#define JOBS_STAMP_MAX 17
void jobs_files_stamp(const char *const *dirs, int n, char out[JOBS_STAMP_MAX]);

/* ---- outputs ---- */
/* The id of a job's n-th output ("audio_" + the job's hex + n): stable across re-runs. */
void job_output_id(const job *jb, int n, char out[STORE_ID_MAX]);

/* ---- store layer (jobs_store.c) ---- */
extern const store_migration_set JOBS_MIGRATIONS;
const char *jobs_lane_name(jobs_lane lane);

#endif
