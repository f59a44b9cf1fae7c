/*
 * The jobs module's tables and SQL (through the db.h seam, so on SQLite or PostgreSQL). `jobs`
 * holds one row per job (its state is the truth the API answers from); `job_events` is the
 * append-only event log SSE replays from, keyed by (job_id, event_id) with event_id counting
 * 1, 2, 3 … per job.
 *
 * Scale-out (v2): a claimed row records the worker that runs it and a lease (lease_until_ms) the
 * worker's heartbeat extends; cancel_requested is how a cancel reaches a worker in another
 * process. The dialect differences are all here: the DDL, `FOR UPDATE SKIP LOCKED` in the claim
 * (PostgreSQL; SQLite's single writer makes the UPDATE … RETURNING atomic by itself), and the
 * pg_notify that announces each event to every API node. `rowid` is SQLite's implicit row number;
 * the PostgreSQL table has an identity column of that name so ORDER BY rowid reads the same.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jobs/jobs_internal.h"

static const store_migration JOBS_STEPS[] = {
    {1,
     "CREATE TABLE jobs (job_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, kind TEXT NOT NULL, lane TEXT NOT NULL, "
     "  priority INTEGER NOT NULL, state TEXT NOT NULL, phase TEXT NOT NULL DEFAULT '', "
     "  progress REAL NOT NULL DEFAULT 0, params_json TEXT NOT NULL, result_json TEXT, error_code TEXT, "
     "  error_message TEXT, attempts INTEGER NOT NULL DEFAULT 0, last_event_id INTEGER NOT NULL DEFAULT 0, "
     "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')), "
     "  started_ms INTEGER NOT NULL DEFAULT 0, finished_ms INTEGER NOT NULL DEFAULT 0);"
     "CREATE TABLE job_events (job_id TEXT NOT NULL, event_id INTEGER NOT NULL, event TEXT NOT NULL, "
     "  data_json TEXT NOT NULL, created_ms INTEGER NOT NULL, PRIMARY KEY (job_id, event_id)) WITHOUT ROWID;"
     "CREATE INDEX idx_jobs_queue ON jobs(lane, state, priority);"
     "CREATE INDEX idx_jobs_user ON jobs(user_id);"
     "CREATE INDEX idx_jobs_kind_done ON jobs(kind, state, finished_ms);",
     "CREATE TABLE jobs (rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE, job_id TEXT PRIMARY KEY, "
     "  user_id TEXT NOT NULL, kind TEXT NOT NULL, lane TEXT NOT NULL, "
     "  priority INTEGER NOT NULL, state TEXT NOT NULL, phase TEXT NOT NULL DEFAULT '', "
     "  progress DOUBLE PRECISION NOT NULL DEFAULT 0, params_json TEXT NOT NULL, result_json TEXT, error_code TEXT, "
     "  error_message TEXT, attempts INTEGER NOT NULL DEFAULT 0, last_event_id BIGINT NOT NULL DEFAULT 0, "
     "  created_at TEXT NOT NULL DEFAULT " STORE_PG_NOW ", "
     "  started_ms BIGINT NOT NULL DEFAULT 0, finished_ms BIGINT NOT NULL DEFAULT 0);"
     "CREATE TABLE job_events (job_id TEXT NOT NULL, event_id BIGINT NOT NULL, event TEXT NOT NULL, "
     "  data_json TEXT NOT NULL, created_ms BIGINT NOT NULL, PRIMARY KEY (job_id, event_id));"
     "CREATE INDEX idx_jobs_queue ON jobs(lane, state, priority);"
     "CREATE INDEX idx_jobs_user ON jobs(user_id);"
     "CREATE INDEX idx_jobs_kind_done ON jobs(kind, state, finished_ms);"},
    {2,
     "ALTER TABLE jobs ADD COLUMN worker TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE jobs ADD COLUMN lease_until_ms BIGINT NOT NULL DEFAULT 0;"
     "ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;",
     NULL},
};

const store_migration_set JOBS_MIGRATIONS = {"jobs", JOBS_STEPS, sizeof JOBS_STEPS / sizeof JOBS_STEPS[0]};

#define ROW_COLUMNS                                                                                              \
    "job_id, user_id, kind, lane, state, phase, created_at, COALESCE(error_code,''), COALESCE(error_message,''), " \
    "priority, attempts, progress, started_ms, finished_ms, params_json, result_json, worker"

int64_t jobs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int jobs_state_terminal(const char *state)
{
    return !strcmp(state, "complete") || !strcmp(state, "failed") || !strcmp(state, "cancelled");
}

void jobs_row_free(jobs_row *r)
{
    free(r->params_json);
    free(r->result_json);
    r->params_json = r->result_json = NULL;
}

static int prepare(store *s, const char *sql, db_stmt **st, vc_error *err) { return db_prepare(store_db(s), sql, st, err); }

static char *col_dup(db_stmt *st, int i)
{
    const char *t = db_col_text(st, i);
    return t ? strdup(t) : NULL;
}

static void row_read(db_stmt *st, jobs_row *r)
{
    memset(r, 0, sizeof *r);
    db_col_copy(st, 0, r->job_id, sizeof r->job_id);
    db_col_copy(st, 1, r->user_id, sizeof r->user_id);
    db_col_copy(st, 2, r->kind, sizeof r->kind);
    db_col_copy(st, 3, r->lane, sizeof r->lane);
    db_col_copy(st, 4, r->state, sizeof r->state);
    db_col_copy(st, 5, r->phase, sizeof r->phase);
    db_col_copy(st, 6, r->created_at, sizeof r->created_at);
    db_col_copy(st, 7, r->error_code, sizeof r->error_code);
    db_col_copy(st, 8, r->error_message, sizeof r->error_message);
    r->priority = db_col_int(st, 9);
    r->attempts = db_col_int(st, 10);
    r->progress = db_col_double(st, 11);
    r->started_ms = db_col_int64(st, 12);
    r->finished_ms = db_col_int64(st, 13);
    r->params_json = col_dup(st, 14);
    r->result_json = col_dup(st, 15);
    db_col_copy(st, 16, r->worker, sizeof r->worker);
}

/* Steps a statement without rows and finalizes it: 0 / -1. */
static int run_done(db_stmt *st, vc_error *err)
{
    int rc = db_step(st, err) < 0 ? -1 : 0;
    db_finalize(st);
    return rc;
}

int jobs_db_insert(store *s, const jobs_row *r, vc_error *err)
{
    db_stmt *st;
    int rc = -1;
    store_lock(s);
    if (!prepare(s,
                 "INSERT INTO jobs (job_id, user_id, kind, lane, priority, state, phase, params_json) "
                 "VALUES (?,?,?,?,?, 'queued', 'queued', ?)",
                 &st, err)) {
        db_bind_text(st, 1, r->job_id);
        db_bind_text(st, 2, r->user_id);
        db_bind_text(st, 3, r->kind);
        db_bind_text(st, 4, r->lane);
        db_bind_int64(st, 5, r->priority);
        db_bind_text(st, 6, r->params_json);
        rc = run_done(st, err);
    }
    store_unlock(s);
    return rc;
}

/* The row change written with each event (?1..?12, see bind_update). A row going back to
 * "queued" forgets its worker, lease and cancel request. */
#define UPDATE_JOB                                                                                           \
    "UPDATE jobs SET state = COALESCE(?1, state), phase = COALESCE(?2, phase), "                            \
    "progress = CASE WHEN ?3 < 0 THEN progress ELSE ?3 END, result_json = COALESCE(?4, result_json), "     \
    "error_code = COALESCE(?5, error_code), error_message = COALESCE(?6, error_message), "                 \
    "finished_ms = CASE WHEN ?7 <> 0 THEN ?8 ELSE finished_ms END, last_event_id = last_event_id + 1, "    \
    "worker = CASE WHEN ?1 = 'queued' THEN '' ELSE worker END, "                                           \
    "lease_until_ms = CASE WHEN ?1 = 'queued' THEN 0 ELSE lease_until_ms END, "                            \
    "cancel_requested = CASE WHEN ?1 = 'queued' THEN 0 ELSE cancel_requested END "                         \
    "WHERE job_id = ?9 AND (?10 IS NULL OR state = ?10) AND (?11 = 0 OR lease_until_ms < ?11) "            \
    "AND (?12 IS NULL OR worker = ?12)"

static void bind_update(db_stmt *st, const char *job_id, const jobs_update *u)
{
    db_bind_text(st, 1, u ? u->state : NULL);
    db_bind_text(st, 2, u ? u->phase : NULL);
    db_bind_double(st, 3, u ? u->progress : -1);
    db_bind_text(st, 4, u ? u->result_json : NULL);
    db_bind_text(st, 5, u ? u->error_code : NULL);
    db_bind_text(st, 6, u ? u->error_message : NULL);
    db_bind_int64(st, 7, u ? u->set_finished : 0);
    db_bind_int64(st, 8, jobs_now_ms());
    db_bind_text(st, 9, job_id);
    db_bind_text(st, 10, u ? u->only_if_state : NULL);
    db_bind_int64(st, 11, u ? u->only_if_lapsed_before_ms : 0);
    db_bind_text(st, 12, u ? u->only_if_worker : NULL);
}

/* Applies upd to the row; returns changes (0/1) or -1. Caller holds the lock inside a transaction. */
static int apply_update(store *s, const char *job_id, const jobs_update *u, vc_error *err)
{
    db_stmt *st;
    if (prepare(s, UPDATE_JOB, &st, err)) return -1;
    bind_update(st, job_id, u);
    int rc = db_step(st, err) < 0 ? -1 : (int)db_changes(st);
    db_finalize(st);
    return rc;
}

/* PostgreSQL, an event without a follow-up: row change, event and announcement in one statement
 * (one round trip instead of six; a statement is its own transaction). Returns the event id, 0
 * when the row did not match, -1 on error. */
static int64_t event_one_statement(store *s, const char *job_id, const char *event, const char *data,
                                   const jobs_update *u, vc_error *err)
{
    db_stmt *st;
    if (prepare(s,
                "WITH u AS (" UPDATE_JOB " RETURNING job_id, last_event_id, state), "
                "e AS (INSERT INTO job_events (job_id, event_id, event, data_json, created_ms) "
                "  SELECT job_id, last_event_id, ?13, ?14, ?8 FROM u RETURNING event_id) "
                "SELECT e.event_id, pg_notify('" JOBS_NOTIFY_CHANNEL "', ?9 || ' ' || u.state) FROM e, u",
                &st, err))
        return -1;
    bind_update(st, job_id, u);
    db_bind_text(st, 13, event);
    db_bind_text(st, 14, data);
    int step = db_step(st, err);
    int64_t id = step == 1 ? db_col_int64(st, 0) : step;
    db_finalize(st);
    return id;
}

static int insert_event(store *s, const char *job_id, const char *event, const char *data, vc_error *err)
{
    db_stmt *st;
    if (prepare(s,
                "INSERT INTO job_events (job_id, event_id, event, data_json, created_ms) "
                "SELECT job_id, last_event_id, ?2, ?3, ?4 FROM jobs WHERE job_id = ?1",
                &st, err))
        return -1;
    db_bind_text(st, 1, job_id);
    db_bind_text(st, 2, event);
    db_bind_text(st, 3, data);
    db_bind_int64(st, 4, jobs_now_ms());
    return run_done(st, err);
}

/* PostgreSQL: every process LISTENs on JOBS_NOTIFY_CHANNEL; the payload is "<job id> <state
 * after the write>" (a "queued" one tells idle workers there is work). Sent inside the writing
 * transaction, so it is delivered at commit (or never). */
static int announce(store *s, const char *job_id, vc_error *err)
{
    if (store_dialect(s) != DB_POSTGRES) return 0;
    db_stmt *st;
    if (prepare(s, "SELECT pg_notify('" JOBS_NOTIFY_CHANNEL "', job_id || ' ' || state) FROM jobs WHERE job_id = ?1", &st,
                err))
        return -1;
    db_bind_text(st, 1, job_id);
    return run_done(st, err);
}

/* The id the last inserted event of job_id got (inside the writing transaction). */
static int64_t last_event_id(store *s, const char *job_id)
{
    db_stmt *st;
    if (prepare(s, "SELECT last_event_id FROM jobs WHERE job_id = ?", &st, NULL)) return 0;
    db_bind_text(st, 1, job_id);
    int64_t id = db_step(st, NULL) == 1 ? db_col_int64(st, 0) : 0;
    db_finalize(st);
    return id;
}

int jobs_db_event(store *s, const char *job_id, const char *event, const char *data, const jobs_update *upd,
                  const char *then_event, int *applied, int64_t *event_id, vc_error *err)
{
    int rc = -1, n = 0;
    if (event_id) *event_id = 0;
    store_lock(s);
    if (!then_event && store_dialect(s) == DB_POSTGRES) {
        int64_t id = event_one_statement(s, job_id, event, data, upd, err);
        store_unlock(s);
        if (applied) *applied = id > 0;
        if (event_id) *event_id = id > 0 ? id : 0;
        return id < 0 ? -1 : 0;
    }
    db *d = store_db(s);
    if (db_begin(d, err)) {
        store_unlock(s);
        return -1;
    }
    n = apply_update(s, job_id, upd, err);
    if (n == 0 || (n > 0 && !insert_event(s, job_id, event, data, err))) rc = 0;
    if (!rc && n > 0 && event_id) *event_id = last_event_id(s, job_id);
    if (!rc && n > 0 && then_event)
        rc = apply_update(s, job_id, NULL, err) < 0 || insert_event(s, job_id, then_event, "{}", err) ? -1 : 0;
    if (!rc && n > 0) rc = announce(s, job_id, err);
    if (rc) db_rollback(d);
    else rc = db_commit(d, err);
    store_unlock(s);
    if (applied) *applied = rc == 0 && n > 0;
    if (rc && event_id) *event_id = 0;
    return rc;
}

int jobs_db_claim(store *s, const char *lane, const char *worker, int64_t lease_ms, jobs_row *r, vc_error *err)
{
    db_stmt *st;
    int found = 0;
    /* PostgreSQL: SKIP LOCKED lets concurrent workers each take a different row instead of queueing
     * on the same one; SQLite has one writer, so the UPDATE alone is atomic. */
    const char *sql = store_dialect(s) == DB_POSTGRES
                          ? "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_ms = ?2, "
                            "phase = 'starting', worker = ?3, lease_until_ms = ?2 + ?4, cancel_requested = 0 "
                            "WHERE state = 'queued' AND job_id = (SELECT job_id FROM jobs WHERE state = 'queued' "
                            "  AND lane = ?1 ORDER BY priority DESC, rowid LIMIT 1 FOR UPDATE SKIP LOCKED) "
                            "RETURNING " ROW_COLUMNS
                          : "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_ms = ?2, "
                            "phase = 'starting', worker = ?3, lease_until_ms = ?2 + ?4, cancel_requested = 0 "
                            "WHERE job_id = (SELECT job_id FROM jobs WHERE state = 'queued' AND lane = ?1 "
                            "  ORDER BY priority DESC, rowid LIMIT 1) RETURNING " ROW_COLUMNS;
    store_lock(s);
    if (prepare(s, sql, &st, err)) {
        store_unlock(s);
        return -1;
    }
    db_bind_text(st, 1, lane);
    db_bind_int64(st, 2, jobs_now_ms());
    db_bind_text(st, 3, worker);
    db_bind_int64(st, 4, lease_ms);
    int step = db_step(st, err);
    if (step == 1) {
        row_read(st, r);
        found = 1;
        step = db_step(st, err);
    }
    if (step < 0) found = -1;
    db_finalize(st);
    store_unlock(s);
    if (found < 0) jobs_row_free(r);
    return found;
}

int jobs_db_get(store *s, const char *user_id, const char *job_id, jobs_row *r, vc_error *err)
{
    db_stmt *st;
    store_lock(s);
    if (prepare(s, "SELECT " ROW_COLUMNS " FROM jobs WHERE job_id = ?1 AND (?2 IS NULL OR user_id = ?2)", &st, err)) {
        store_unlock(s);
        return -1;
    }
    db_bind_text(st, 1, job_id);
    db_bind_text(st, 2, user_id);
    int found = db_step(st, err);
    if (found == 1) row_read(st, r);
    db_finalize(st);
    store_unlock(s);
    return found;
}

/* Rows are read under the store lock and handed to fn only after it is released: fn may query
 * the store itself (queue position, ETA), and the store mutex is not recursive. */
int jobs_db_list(store *s, const char *user_id, int limit, int (*fn)(const jobs_row *r, void *ctx), void *ctx,
                 vc_error *err)
{
    db_stmt *st;
    store_lock(s);
    if (prepare(s, "SELECT " ROW_COLUMNS " FROM jobs WHERE user_id = ? ORDER BY rowid DESC LIMIT ?", &st, err)) {
        store_unlock(s);
        return -1;
    }
    db_bind_text(st, 1, user_id);
    db_bind_int64(st, 2, limit);
    jobs_row *rows = NULL;
    int n = 0, cap = 0, rc = 0, step;
    while ((step = db_step(st, err)) == 1) {
        if (n == cap) {
            jobs_row *grown = realloc(rows, sizeof(jobs_row) * (size_t)(cap = cap ? cap * 2 : 16));
            if (!grown) { rc = vc_fail(err, VC_ERR_NOMEM, "out of memory listing jobs"); break; }
            rows = grown;
        }
        row_read(st, &rows[n++]);
    }
    if (step < 0) rc = -1;
    db_finalize(st);
    store_unlock(s);
    for (int i = 0; i < n; i++) {
        if (!rc) rc = fn(&rows[i], ctx);
        jobs_row_free(&rows[i]);
    }
    free(rows);
    return rc;
}

/* Job ids the statement (already bound) returns in its first column. */
static int collect_ids(db_stmt *st, char (**ids)[STORE_ID_MAX], int *n, vc_error *err)
{
    int cap = 0, rc = 0, step;
    while ((step = db_step(st, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            void *p = realloc(*ids, (size_t)cap * STORE_ID_MAX);
            if (!p) {
                rc = vc_fail(err, VC_ERR_NOMEM, "out of memory");
                break;
            }
            *ids = p;
        }
        db_col_copy(st, 0, (*ids)[(*n)++], STORE_ID_MAX);
    }
    if (step < 0) rc = -1;
    db_finalize(st);
    return rc;
}

int jobs_db_ids_in_state(store *s, const char *state, char (**ids)[STORE_ID_MAX], int *n, vc_error *err)
{
    db_stmt *st;
    *ids = NULL;
    *n = 0;
    store_lock(s);
    if (prepare(s, "SELECT job_id FROM jobs WHERE state = ? ORDER BY rowid", &st, err)) {
        store_unlock(s);
        return -1;
    }
    db_bind_text(st, 1, state);
    int rc = collect_ids(st, ids, n, err);
    store_unlock(s);
    return rc;
}

int jobs_db_lapsed(store *s, int64_t now_ms, char (**ids)[STORE_ID_MAX], int *n, vc_error *err)
{
    db_stmt *st;
    *ids = NULL;
    *n = 0;
    store_lock(s);
    if (prepare(s, "SELECT job_id FROM jobs WHERE state = 'running' AND lease_until_ms < ? ORDER BY rowid", &st,
                err)) {
        store_unlock(s);
        return -1;
    }
    db_bind_int64(st, 1, now_ms);
    int rc = collect_ids(st, ids, n, err);
    store_unlock(s);
    return rc;
}

/* Job ids of the running jobs of worker whose extra condition (SQL, no parameters) holds. */
static int running_of(store *s, const char *worker, const char *extra, char (**ids)[STORE_ID_MAX], int *n,
                      vc_error *err)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT job_id FROM jobs WHERE worker = ? AND state = 'running'%s ORDER BY rowid", extra);
    db_stmt *st;
    *ids = NULL;
    *n = 0;
    store_lock(s);
    if (prepare(s, sql, &st, err)) {
        store_unlock(s);
        return -1;
    }
    db_bind_text(st, 1, worker);
    int rc = collect_ids(st, ids, n, err);
    store_unlock(s);
    return rc;
}

int jobs_db_running_of(store *s, const char *worker, char (**ids)[STORE_ID_MAX], int *n, vc_error *err)
{
    return running_of(s, worker, "", ids, n, err);
}

int jobs_db_cancel_requested(store *s, const char *worker, char (**ids)[STORE_ID_MAX], int *n, vc_error *err)
{
    return running_of(s, worker, " AND cancel_requested <> 0", ids, n, err);
}

int64_t jobs_db_last_event_id(store *s, const char *job_id)
{
    store_lock(s);
    int64_t id = last_event_id(s, job_id);
    store_unlock(s);
    return id;
}

int jobs_db_request_cancel(store *s, const char *job_id, vc_error *err)
{
    db_stmt *st;
    store_lock(s);
    int rc = prepare(s, "UPDATE jobs SET cancel_requested = 1 WHERE job_id = ? AND state = 'running'", &st, err);
    if (!rc) {
        db_bind_text(st, 1, job_id);
        rc = run_done(st, err);
    }
    store_unlock(s);
    return rc;
}

int jobs_db_heartbeat(store *s, const char *worker, int64_t lease_until_ms, vc_error *err)
{
    db_stmt *st;
    store_lock(s);
    int rc = prepare(s, "UPDATE jobs SET lease_until_ms = ? WHERE worker = ? AND state = 'running'", &st, err);
    if (!rc) {
        db_bind_int64(st, 1, lease_until_ms);
        db_bind_text(st, 2, worker);
        rc = run_done(st, err);
    }
    store_unlock(s);
    return rc;
}

static int64_t scalar_int(db_stmt *st)
{
    int64_t v = db_step(st, NULL) == 1 ? db_col_int64(st, 0) : -1;
    db_finalize(st);
    return v;
}

int jobs_db_queue_position(store *s, const jobs_row *r, vc_error *err)
{
    if (strcmp(r->state, "queued")) return 0;
    db_stmt *st;
    store_lock(s);
    if (prepare(s,
                "SELECT COUNT(*) + 1 FROM jobs WHERE state = 'queued' AND lane = ?1 AND (priority > ?2 OR "
                "(priority = ?2 AND rowid < (SELECT rowid FROM jobs WHERE job_id = ?3)))",
                &st, err)) {
        store_unlock(s);
        return -1;
    }
    db_bind_text(st, 1, r->lane);
    db_bind_int64(st, 2, r->priority);
    db_bind_text(st, 3, r->job_id);
    int64_t v = scalar_int(st);
    store_unlock(s);
    return (int)v;
}

double jobs_db_mean_duration(store *s, const char *kind, vc_error *err)
{
    db_stmt *st;
    double v = -1;
    store_lock(s);
    if (!prepare(s,
                 "SELECT AVG(finished_ms - started_ms) FROM (SELECT finished_ms, started_ms FROM jobs "
                 "WHERE kind = ? AND state = 'complete' ORDER BY finished_ms DESC LIMIT 20) AS recent",
                 &st, err)) {
        db_bind_text(st, 1, kind);
        if (db_step(st, err) == 1 && !db_col_is_null(st, 0)) v = db_col_double(st, 0) / 1000.0;
        db_finalize(st);
    }
    store_unlock(s);
    return v;
}

double jobs_db_last_eta(store *s, const char *job_id, double *percent, vc_error *err)
{
    db_stmt *st;
    double v = -1;
    *percent = -1;
    store_lock(s);
    /* progress events are small and a running job's latest few hold the newest estimate */
    if (!prepare(s, "SELECT data_json FROM job_events WHERE job_id = ? AND event = 'progress' "
                    "ORDER BY event_id DESC LIMIT 8", &st, err)) {
        db_bind_text(st, 1, job_id);
        while (v < 0 && db_step(st, err) == 1) {
            json_t *d = json_loads(db_col_text(st, 0), 0, NULL);
            json_t *eta = json_object_get(d, "eta_seconds"), *pc = json_object_get(d, "percent");
            if (json_is_number(eta) && json_number_value(eta) >= 0) {
                v = json_number_value(eta);
                *percent = json_is_number(pc) ? json_number_value(pc) : -1;
            }
            json_decref(d);
        }
        db_finalize(st);
    }
    store_unlock(s);
    return v;
}

int jobs_db_count(store *s, const char *lane, const char *state, vc_error *err)
{
    db_stmt *st;
    store_lock(s);
    if (prepare(s, "SELECT COUNT(*) FROM jobs WHERE lane = ? AND state = ?", &st, err)) {
        store_unlock(s);
        return -1;
    }
    db_bind_text(st, 1, lane);
    db_bind_text(st, 2, state);
    int64_t v = scalar_int(st);
    store_unlock(s);
    return (int)v;
}

int jobs_db_events_after(store *s, const char *job_id, int64_t after, jobs_event *ev, int max, vc_error *err)
{
    db_stmt *st;
    store_lock(s);
    if (prepare(s,
                "SELECT event_id, event, data_json FROM job_events WHERE job_id = ? AND event_id > ? "
                "ORDER BY event_id LIMIT ?",
                &st, err)) {
        store_unlock(s);
        return -1;
    }
    db_bind_text(st, 1, job_id);
    db_bind_int64(st, 2, after);
    db_bind_int64(st, 3, max);
    int n = 0;
    while (n < max && db_step(st, err) == 1) {
        ev[n].id = db_col_int64(st, 0);
        db_col_copy(st, 1, ev[n].name, sizeof ev[n].name);
        ev[n].data = col_dup(st, 2);
        if (!ev[n].data) break;
        n++;
    }
    db_finalize(st);
    store_unlock(s);
    return n;
}
