/*
 * The jobs module's tables and SQL. `jobs` holds one row per job (its state is the truth the API
 * answers from); `job_events` is the append-only event log SSE replays from, keyed by
 * (job_id, event_id) with event_id counting 1, 2, 3 … per job.
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
     "CREATE INDEX idx_jobs_kind_done ON jobs(kind, state, finished_ms);"},
};

const store_migration_set JOBS_MIGRATIONS = {"jobs", JOBS_STEPS, sizeof JOBS_STEPS / sizeof JOBS_STEPS[0]};

#define ROW_COLUMNS                                                                                              \
    "job_id, user_id, kind, lane, state, phase, created_at, IFNULL(error_code,''), IFNULL(error_message,''), " \
    "priority, attempts, progress, started_ms, finished_ms, params_json, result_json"

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

static int db_fail(store *s, vc_error *err, const char *what)
{
    return vc_fail(err, VC_ERR_INTERNAL, "%s: %s", what, sqlite3_errmsg(store_db(s)));
}

static int prepare(store *s, const char *sql, sqlite3_stmt **st, vc_error *err)
{
    if (sqlite3_prepare_v2(store_db(s), sql, -1, st, NULL) != SQLITE_OK) return db_fail(s, err, "prepare");
    return 0;
}

static void col_text(sqlite3_stmt *st, int i, char *buf, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(buf, cap, "%s", t ? (const char *)t : "");
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

static void row_read(sqlite3_stmt *st, jobs_row *r)
{
    memset(r, 0, sizeof *r);
    col_text(st, 0, r->job_id, sizeof r->job_id);
    col_text(st, 1, r->user_id, sizeof r->user_id);
    col_text(st, 2, r->kind, sizeof r->kind);
    col_text(st, 3, r->lane, sizeof r->lane);
    col_text(st, 4, r->state, sizeof r->state);
    col_text(st, 5, r->phase, sizeof r->phase);
    col_text(st, 6, r->created_at, sizeof r->created_at);
    col_text(st, 7, r->error_code, sizeof r->error_code);
    col_text(st, 8, r->error_message, sizeof r->error_message);
    r->priority = sqlite3_column_int(st, 9);
    r->attempts = sqlite3_column_int(st, 10);
    r->progress = sqlite3_column_double(st, 11);
    r->started_ms = sqlite3_column_int64(st, 12);
    r->finished_ms = sqlite3_column_int64(st, 13);
    r->params_json = col_dup(st, 14);
    r->result_json = col_dup(st, 15);
}

int jobs_db_insert(store *s, const jobs_row *r, vc_error *err)
{
    sqlite3_stmt *st;
    int rc = -1;
    store_lock(s);
    if (!prepare(s,
                 "INSERT INTO jobs (job_id, user_id, kind, lane, priority, state, phase, params_json) "
                 "VALUES (?,?,?,?,?, 'queued', 'queued', ?)",
                 &st, err)) {
        sqlite3_bind_text(st, 1, r->job_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->user_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, r->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->lane, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, r->priority);
        sqlite3_bind_text(st, 6, r->params_json, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, err, "insert job");
        sqlite3_finalize(st);
    }
    store_unlock(s);
    return rc;
}

/* Applies upd to the row; returns changes (0/1) or -1. Caller holds the lock inside a transaction. */
static int apply_update(store *s, const char *job_id, const jobs_update *u, vc_error *err)
{
    sqlite3_stmt *st;
    if (prepare(s,
                "UPDATE jobs SET state = IFNULL(?1, state), phase = IFNULL(?2, phase), "
                "progress = CASE WHEN ?3 < 0 THEN progress ELSE ?3 END, result_json = IFNULL(?4, result_json), "
                "error_code = IFNULL(?5, error_code), error_message = IFNULL(?6, error_message), "
                "finished_ms = CASE WHEN ?7 THEN ?8 ELSE finished_ms END, last_event_id = last_event_id + 1 "
                "WHERE job_id = ?9 AND (?10 IS NULL OR state = ?10)",
                &st, err))
        return -1;
    sqlite3_bind_text(st, 1, u ? u->state : NULL, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, u ? u->phase : NULL, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, u ? u->progress : -1);
    sqlite3_bind_text(st, 4, u ? u->result_json : NULL, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, u ? u->error_code : NULL, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, u ? u->error_message : NULL, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, u ? u->set_finished : 0);
    sqlite3_bind_int64(st, 8, jobs_now_ms());
    sqlite3_bind_text(st, 9, job_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, u ? u->only_if_state : NULL, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(store_db(s)) : db_fail(s, err, "update job");
    sqlite3_finalize(st);
    return rc;
}

static int insert_event(store *s, const char *job_id, const char *event, const char *data, vc_error *err)
{
    sqlite3_stmt *st;
    if (prepare(s,
                "INSERT INTO job_events (job_id, event_id, event, data_json, created_ms) "
                "SELECT job_id, last_event_id, ?2, ?3, ?4 FROM jobs WHERE job_id = ?1",
                &st, err))
        return -1;
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, event, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, data, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, jobs_now_ms());
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, err, "insert event");
    sqlite3_finalize(st);
    return rc;
}

/* The id the last inserted event of job_id got (inside the writing transaction). */
static int64_t last_event_id(store *s, const char *job_id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store_db(s), "SELECT last_event_id FROM jobs WHERE job_id = ?", -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return id;
}

int jobs_db_event(store *s, const char *job_id, const char *event, const char *data, const jobs_update *upd,
                  const char *then_event, int *applied, int64_t *event_id, vc_error *err)
{
    int rc = -1, n = 0;
    if (event_id) *event_id = 0;
    store_lock(s);
    sqlite3 *db = store_db(s);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(s, err, "begin");
        store_unlock(s);
        return -1;
    }
    n = apply_update(s, job_id, upd, err);
    if (n == 0 || (n > 0 && !insert_event(s, job_id, event, data, err))) rc = 0;
    if (!rc && n > 0 && event_id) *event_id = last_event_id(s, job_id);
    if (!rc && n > 0 && then_event)
        rc = apply_update(s, job_id, NULL, err) < 0 || insert_event(s, job_id, then_event, "{}", err) ? -1 : 0;
    if (sqlite3_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK && !rc)
        rc = db_fail(s, err, "commit");
    store_unlock(s);
    if (applied) *applied = rc == 0 && n > 0;
    if (rc && event_id) *event_id = 0;
    return rc;
}

int jobs_db_claim(store *s, const char *lane, jobs_row *r, vc_error *err)
{
    sqlite3_stmt *st;
    int found = 0;
    store_lock(s);
    if (prepare(s,
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_ms = ?2, phase = 'starting' "
                "WHERE job_id = (SELECT job_id FROM jobs WHERE state = 'queued' AND lane = ?1 "
                "  ORDER BY priority DESC, rowid LIMIT 1) RETURNING " ROW_COLUMNS,
                &st, err)) {
        store_unlock(s);
        return -1;
    }
    sqlite3_bind_text(st, 1, lane, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, jobs_now_ms());
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        row_read(st, r);
        found = 1;
        step = sqlite3_step(st);
    }
    if (step != SQLITE_DONE) found = db_fail(s, err, "claim");
    sqlite3_finalize(st);
    store_unlock(s);
    if (found < 0) jobs_row_free(r);
    return found;
}

int jobs_db_get(store *s, const char *user_id, const char *job_id, jobs_row *r, vc_error *err)
{
    sqlite3_stmt *st;
    int found = 0;
    store_lock(s);
    if (prepare(s, "SELECT " ROW_COLUMNS " FROM jobs WHERE job_id = ?1 AND (?2 IS NULL OR user_id = ?2)", &st, err)) {
        store_unlock(s);
        return -1;
    }
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        row_read(st, r);
        found = 1;
    } else if (step != SQLITE_DONE) {
        found = db_fail(s, err, "get job");
    }
    sqlite3_finalize(st);
    store_unlock(s);
    return found;
}

/* Rows are read under the store lock and handed to fn only after it is released: fn may query
 * the store itself (queue position, ETA), and the store mutex is not recursive. */
int jobs_db_list(store *s, const char *user_id, int limit, int (*fn)(const jobs_row *r, void *ctx), void *ctx,
                 vc_error *err)
{
    sqlite3_stmt *st;
    store_lock(s);
    if (prepare(s, "SELECT " ROW_COLUMNS " FROM jobs WHERE user_id = ? ORDER BY rowid DESC LIMIT ?", &st, err)) {
        store_unlock(s);
        return -1;
    }
    sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit);
    jobs_row *rows = NULL;
    int n = 0, cap = 0, rc = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            jobs_row *grown = realloc(rows, sizeof(jobs_row) * (size_t)(cap = cap ? cap * 2 : 16));
            if (!grown) { rc = vc_fail(err, VC_ERR_NOMEM, "out of memory listing jobs"); break; }
            rows = grown;
        }
        row_read(st, &rows[n++]);
    }
    sqlite3_finalize(st);
    store_unlock(s);
    for (int i = 0; i < n; i++) {
        if (!rc) rc = fn(&rows[i], ctx);
        jobs_row_free(&rows[i]);
    }
    free(rows);
    return rc;
}

int jobs_db_ids_in_state(store *s, const char *state, char (**ids)[STORE_ID_MAX], int *n, vc_error *err)
{
    sqlite3_stmt *st;
    *ids = NULL;
    *n = 0;
    store_lock(s);
    if (prepare(s, "SELECT job_id FROM jobs WHERE state = ? ORDER BY rowid", &st, err)) {
        store_unlock(s);
        return -1;
    }
    sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
    int cap = 0, rc = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            void *p = realloc(*ids, (size_t)cap * STORE_ID_MAX);
            if (!p) {
                rc = vc_fail(err, VC_ERR_NOMEM, "out of memory");
                break;
            }
            *ids = p;
        }
        col_text(st, 0, (*ids)[(*n)++], STORE_ID_MAX);
    }
    sqlite3_finalize(st);
    store_unlock(s);
    return rc;
}

static int64_t scalar_int(store *s, sqlite3_stmt *st)
{
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    (void)s;
    return v;
}

int jobs_db_queue_position(store *s, const jobs_row *r, vc_error *err)
{
    if (strcmp(r->state, "queued")) return 0;
    sqlite3_stmt *st;
    store_lock(s);
    if (prepare(s,
                "SELECT COUNT(*) + 1 FROM jobs WHERE state = 'queued' AND lane = ?1 AND (priority > ?2 OR "
                "(priority = ?2 AND rowid < (SELECT rowid FROM jobs WHERE job_id = ?3)))",
                &st, err)) {
        store_unlock(s);
        return -1;
    }
    sqlite3_bind_text(st, 1, r->lane, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, r->priority);
    sqlite3_bind_text(st, 3, r->job_id, -1, SQLITE_STATIC);
    int64_t v = scalar_int(s, st);
    store_unlock(s);
    return (int)v;
}

double jobs_db_mean_duration(store *s, const char *kind, vc_error *err)
{
    sqlite3_stmt *st;
    double v = -1;
    store_lock(s);
    if (!prepare(s,
                 "SELECT AVG(finished_ms - started_ms) FROM (SELECT finished_ms, started_ms FROM jobs "
                 "WHERE kind = ? AND state = 'complete' ORDER BY finished_ms DESC LIMIT 20)",
                 &st, err)) {
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            v = sqlite3_column_double(st, 0) / 1000.0;
        sqlite3_finalize(st);
    }
    store_unlock(s);
    return v;
}

int jobs_db_count(store *s, const char *lane, const char *state, vc_error *err)
{
    sqlite3_stmt *st;
    store_lock(s);
    if (prepare(s, "SELECT COUNT(*) FROM jobs WHERE lane = ? AND state = ?", &st, err)) {
        store_unlock(s);
        return -1;
    }
    sqlite3_bind_text(st, 1, lane, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    int64_t v = scalar_int(s, st);
    store_unlock(s);
    return (int)v;
}

int jobs_db_events_after(store *s, const char *job_id, int64_t after, jobs_event *ev, int max, vc_error *err)
{
    sqlite3_stmt *st;
    store_lock(s);
    if (prepare(s,
                "SELECT event_id, event, data_json FROM job_events WHERE job_id = ? AND event_id > ? "
                "ORDER BY event_id LIMIT ?",
                &st, err)) {
        store_unlock(s);
        return -1;
    }
    sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int(st, 3, max);
    int n = 0;
    while (n < max && sqlite3_step(st) == SQLITE_ROW) {
        ev[n].id = sqlite3_column_int64(st, 0);
        col_text(st, 1, ev[n].name, sizeof ev[n].name);
        ev[n].data = col_dup(st, 2);
        if (!ev[n].data) break;
        n++;
    }
    sqlite3_finalize(st);
    store_unlock(s);
    return n;
}
