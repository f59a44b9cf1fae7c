/*
 * Shared by the jobs module's .c files only: the job row as stored, and the SQL layer
 * (jobs_store.c) the scheduler (jobs_sched.c) builds on. Every function takes the store lock
 * itself; an event and the row change it describes are written in one transaction.
 */
#ifndef VC_JOBS_INTERNAL_H
#define VC_JOBS_INTERNAL_H

#include "jobs/jobs.h"

typedef struct jobs_row {
    char job_id[STORE_ID_MAX];
    char user_id[STORE_ID_MAX];
    char kind[JOBS_KIND_MAX];
    char lane[JOBS_LANE_MAX];
    char state[16];          /* queued | running | complete | failed | cancelled */
    char phase[32];
    char created_at[32];
    char error_code[32];
    char error_message[512];
    int priority;
    int attempts;
    double progress;         /* 0–100 */
    int64_t started_ms, finished_ms;
    char *params_json;       /* owned */
    char *result_json;       /* owned, may be NULL */
    char worker[64];         /* the worker that runs / ran it ("" while queued) */
} jobs_row;

/* PostgreSQL channel that announces "an event of job <id> was written; the job is now <state>"
 * (payload "<id> <state>"). */
#define JOBS_NOTIFY_CHANNEL "vcs_job_events"

void jobs_row_free(jobs_row *r);
int64_t jobs_now_ms(void);
int jobs_state_terminal(const char *state);

/* A change written together with an event (NULL fields are left as they are). */
typedef struct jobs_update {
    const char *state;
    const char *phase;
    double progress;         /* < 0 = unchanged */
    const char *result_json;
    const char *error_code, *error_message;
    int set_finished;        /* finished_ms = now */
    const char *only_if_state; /* apply only when the row is in this state (else 0 rows, event skipped) */
    int64_t only_if_lapsed_before_ms; /* > 0: apply only when the lease ended before this time */
    const char *only_if_worker; /* apply only while the row names this worker */
} jobs_update;

int jobs_db_insert(store *s, const jobs_row *r, vc_error *err);
/* Appends event (data: JSON text) and applies upd, in one transaction; then_event (data {}) follows
 * in the same transaction when not NULL ("close" after a terminal event, id + 1). *applied = 0 when
 * only_if_state did not match (nothing written). *event_id (may be NULL) gets the event's id, 0
 * when nothing was written. */
int jobs_db_event(store *s, const char *job_id, const char *event, const char *data, const jobs_update *upd,
                  const char *then_event, int *applied, int64_t *event_id, vc_error *err);
/* Claims the next queued job of lane for worker with a lease of lease_ms: 1 = r filled (now
 * running), 0 = none. */
int jobs_db_claim(store *s, const char *lane, const char *worker, int64_t lease_ms, jobs_row *r, vc_error *err);
/* Running jobs whose lease ended before now_ms (their worker died). */
int jobs_db_lapsed(store *s, int64_t now_ms, char (**ids)[STORE_ID_MAX], int *n, vc_error *err);
/* Extends the lease of every job worker runs. */
int jobs_db_heartbeat(store *s, const char *worker, int64_t lease_until_ms, vc_error *err);
/* Marks a running job for cancellation (its worker, in any process, polls for it). */
int jobs_db_request_cancel(store *s, const char *job_id, vc_error *err);
/* Running jobs of worker (all; with a cancel request). */
int jobs_db_running_of(store *s, const char *worker, char (**ids)[STORE_ID_MAX], int *n, vc_error *err);
int jobs_db_cancel_requested(store *s, const char *worker, char (**ids)[STORE_ID_MAX], int *n, vc_error *err);
/* 1 found, 0 not found (or another user's when user_id is not NULL). */
int jobs_db_get(store *s, const char *user_id, const char *job_id, jobs_row *r, vc_error *err);
/* Jobs of user newest first; fn gets each row (valid during the call). */
int jobs_db_list(store *s, const char *user_id, int limit, int (*fn)(const jobs_row *r, void *ctx), void *ctx,
                 vc_error *err);
/* Ids of jobs in state (e.g. "running") into ids (caller frees the array). */
int jobs_db_ids_in_state(store *s, const char *state, char (**ids)[STORE_ID_MAX], int *n, vc_error *err);
/* 1-based position among queued jobs of the same lane (0 when not queued). */
int jobs_db_queue_position(store *s, const jobs_row *r, vc_error *err);
/* Mean seconds of the last completed jobs of kind (-1 when none). */
double jobs_db_mean_duration(store *s, const char *kind, vc_error *err);
/* The eta_seconds of the job's latest progress event that has one (the kind's own live estimate,
 * e.g. training's per-step one), or -1: the job page (SSE) and job lists then show one number.
 * *percent is that same event's percent (-1 when it has none): the job row is read separately and a
 * newer event can land in between, so a reply pairs the two numbers of one event, never a row's
 * percent with a later event's ETA. */
double jobs_db_last_eta(store *s, const char *job_id, double *percent, vc_error *err);
int jobs_db_events_after(store *s, const char *job_id, int64_t after, jobs_event *ev, int max, vc_error *err);
int jobs_db_count(store *s, const char *lane, const char *state, vc_error *err);
/* The id of the job's newest event (0 when none or not found). */
int64_t jobs_db_last_event_id(store *s, const char *job_id);

/* ---- kinds (jobs_kinds.c, jobs_kind_*.c) ---- */
struct audio_buffer;
/* Stores buf as the job's output audio (WAV, id from job_output_id, purpose "output" or an upload
 * purpose) with its analysis, and sets output_audio_id, download_url, duration_seconds and
 * quality_analysis in result. */
int jobs_store_audio_output(const job *jb, job_ctx *c, const char *purpose, const char *filename,
                            const struct audio_buffer *buf, json_t *result, vc_error *err);
/* The same for the job's n-th output (a batch: one output per input, ids job_output_id(jb, n)). */
int jobs_store_audio_output_n(const job *jb, job_ctx *c, int n, const char *purpose, const char *filename,
                              const struct audio_buffer *buf, json_t *result, vc_error *err);
extern const job_kind JOBS_KIND_CONVERT_RVC; /* jobs_kind_rvc.c */
extern const job_kind JOBS_KIND_TRAIN_RVC;   /* jobs_kind_train.c */
extern const job_kind JOBS_KIND_MODELS_PULL; /* jobs_kind_pull.c */

/* Measured throughput (jobs_throughput.c, data/throughput.json): the estimate for `units` of input
 * under key (default_rate seconds per unit until a job of that key finished here), and a finished
 * job's rate folded in. */
double jobs_throughput_estimate(store *s, const char *key, double units, double default_rate, double overhead);
void jobs_throughput_record(store *s, const char *key, double units, double seconds, double overhead);
/* The preprocessing the options ask for (remove_noise, trim_silence, normalize_volume,
 * target_lufs), in that order, on buf in place; progress from..from+span percent. */
int jobs_run_dsp_steps(job_ctx *c, const json_t *opts, struct audio_buffer *buf, double from, double span, vc_error *err);

#endif
