/*
 * The retention sweep (see retention.h for the policy). Kept apart from the scheduler because it
 * changes for other reasons (a policy, not job execution) and is testable on a bare store: the
 * clock is a parameter, so tests/jobs/test_retention.c checks the selection at chosen times.
 *
 * One SQL condition (DUE) decides whether an audio row may go; the selection and the per-row
 * DELETE both use it, so the decision is re-made inside the deleting transaction.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jobs/retention.h"

/* ?1 now (unix s), ?2 outputs window (s), ?3 uploads window (s). An instant voice's clip (voices
 * row, src/store/store_voices.c) is kept while the voice exists. A job "needs" an audio when its
 * params name the id as a JSON string: ids are [A-Za-z0-9_-], so the quoted id cannot match a
 * longer id. */
/* The two dialects differ in date arithmetic and substring search only: AGE and FIND. */
#define AGE_SQLITE "CAST(strftime('%s', a.created_at) AS INTEGER)"
#define AGE_PG "CAST(EXTRACT(EPOCH FROM CAST(a.created_at AS timestamptz)) AS BIGINT)"
#define FIND_SQLITE "instr"
#define FIND_PG "strpos"
#define DUE(AGE, FIND)                                                                                     \
    "((a.purpose = 'output' AND ?2 > 0 AND " AGE " <= ?1 - ?2) OR "                                       \
    " (COALESCE(a.purpose, '') <> 'output' AND ?3 > 0 AND " AGE " <= ?1 - ?3)) "                        \
    "AND NOT EXISTS (SELECT 1 FROM jobs j WHERE " FIND "(j.params_json, '\"' || a.audio_id || '\"') > 0 "  \
    "  AND (j.state IN ('queued', 'running') OR (j.kind LIKE 'train%' AND j.state = 'complete'))) "     \
    "AND NOT EXISTS (SELECT 1 FROM voices v WHERE v.audio_id = a.audio_id)"
#define BY_DIALECT(s, WRAP) (store_dialect(s) == DB_POSTGRES ? WRAP(DUE(AGE_PG, FIND_PG)) : WRAP(DUE(AGE_SQLITE, FIND_SQLITE)))

/* Finished jobs older than the outputs window (?1 cutoff in ms); training jobs stay because their
 * params record which audio was used for training. */
#define OLD_JOBS                                                                                     \
    "SELECT job_id FROM jobs WHERE state IN ('complete', 'failed', 'cancelled') AND finished_ms > 0 " \
    "AND finished_ms <= ?1 AND kind NOT LIKE 'train%'"

void retention_config_defaults(retention_config *c)
{
    c->uploads_seconds = 24 * 3600.0;
    c->outputs_seconds = 7 * 24 * 3600.0;
    c->interval_seconds = 600;
    c->leftovers_seconds = 3600;
}

static int env_seconds(const char *name, double unit, double *out, vc_error *err)
{
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    char *end;
    double d = strtod(v, &end);
    if (*end || !isfinite(d) || d < 0)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "%s must be a number >= 0 (got '%s')", name, v);
    *out = d * unit;
    return 0;
}

int retention_config_from_env(retention_config *c, vc_error *err)
{
    if (env_seconds("VCS_RETAIN_UPLOADS_HOURS", 3600, &c->uploads_seconds, err)) return -1;
    if (env_seconds("VCS_RETAIN_OUTPUTS_DAYS", 86400, &c->outputs_seconds, err)) return -1;
    if (env_seconds("VCS_RETAIN_TEMPS_HOURS", 3600, &c->leftovers_seconds, err)) return -1;
    return env_seconds("VCS_RETENTION_INTERVAL_S", 1, &c->interval_seconds, err);
}

static int prepare_due(store *s, const char *sql, const retention_config *c, int64_t now_s, db_stmt **st,
                       vc_error *err)
{
    if (db_prepare(store_db(s), sql, st, err)) return vc_error_wrap(err, "retention");
    db_bind_int64(*st, 1, now_s);
    db_bind_double(*st, 2, c->outputs_seconds);
    db_bind_double(*st, 3, c->uploads_seconds);
    return 0;
}

static int push_item(retention_item **items, int *n, int *cap, db_stmt *st, vc_error *err)
{
    if (*n == *cap) {
        int grown = *cap ? *cap * 2 : 16;
        retention_item *p = realloc(*items, sizeof **items * (size_t)grown);
        if (!p) return vc_fail(err, VC_ERR_NOMEM, "out of memory selecting audio to delete");
        *items = p;
        *cap = grown;
    }
    retention_item *it = &(*items)[(*n)++];
    db_col_copy(st, 0, it->audio_id, sizeof it->audio_id);
    db_col_copy(st, 1, it->file_path, sizeof it->file_path);
    return 0;
}

int retention_select(store *s, const retention_config *c, int64_t now_s, retention_item **items, int *n,
                     vc_error *err)
{
    *items = NULL;
    *n = 0;
    int cap = 0, rc = 0, step;
    db_stmt *st;
#define SELECT_DUE(D) "SELECT a.audio_id, a.file_path FROM audio_files a WHERE " D " ORDER BY a.created_at, a.audio_id"
    store_lock(s);
    if (prepare_due(s, BY_DIALECT(s, SELECT_DUE), c, now_s, &st, err)) {
        store_unlock(s);
        return -1;
    }
    while (!rc && (step = db_step(st, err)) == 1) rc = push_item(items, n, &cap, st, err);
    if (!rc && step < 0) rc = -1;
    db_finalize(st);
    store_unlock(s);
    if (rc) {
        free(*items);
        *items = NULL;
        *n = 0;
    }
    return rc;
}

/* DELETE the row if still due, and the tus upload rows that name it; 1 = deleted, 0 = kept. */
static int delete_row(store *s, const retention_config *c, int64_t now_s, const char *audio_id, vc_error *err)
{
    db_stmt *st;
#define DELETE_DUE(D) "DELETE FROM audio_files AS a WHERE a.audio_id = ?4 AND " D
    if (prepare_due(s, BY_DIALECT(s, DELETE_DUE), c, now_s, &st, err)) return -1;
    db_bind_text(st, 4, audio_id);
    int rc = db_step(st, err) < 0 ? -1 : (int)db_changes(st);
    db_finalize(st);
    if (rc != 1) return rc;
    if (db_prepare(store_db(s), "DELETE FROM uploads WHERE audio_id = ?", &st, err)) return -1;
    db_bind_text(st, 1, audio_id);
    if (db_step(st, err) < 0) rc = -1;
    db_finalize(st);
    return rc;
}

static void remove_files(store *s, const char *rel)
{
    char path[1600];
    if (!rel[0] || store_path(s, path, sizeof path, "%s", rel)) return;
    unlink(path);
    strncat(path, ".mp3", sizeof path - strlen(path) - 1); /* the download cache beside it */
    unlink(path);
}

/* Row first (in its own transaction), file after: see retention.h. */
static int delete_audio(store *s, const retention_config *c, int64_t now_s, const retention_item *it, vc_error *err)
{
    store_lock(s);
    int rc = db_begin(store_db(s), err);
    if (!rc) {
        rc = delete_row(s, c, now_s, it->audio_id, err);
        if (rc < 0) db_rollback(store_db(s));
        else if (db_commit(store_db(s), err)) rc = -1;
    }
    store_unlock(s);
    if (rc == 1) remove_files(s, it->file_path);
    return rc;
}

static int delete_old_jobs(store *s, int64_t cutoff_ms, int *deleted, vc_error *err)
{
    static const char *const SQL[] = {"DELETE FROM job_events WHERE job_id IN (" OLD_JOBS ")",
                                      "DELETE FROM jobs WHERE job_id IN (" OLD_JOBS ")"};
    store_lock(s);
    int rc = db_begin(store_db(s), err);
    for (int i = 0; i < 2 && !rc; i++) {
        db_stmt *st;
        if (db_prepare(store_db(s), SQL[i], &st, err)) {
            rc = -1;
            break;
        }
        db_bind_int64(st, 1, cutoff_ms);
        rc = db_step(st, err) < 0 ? -1 : 0;
        if (!rc && i == 1) *deleted = (int)db_changes(st);
        db_finalize(st);
    }
    if (!rc) rc = db_commit(store_db(s), err);
    else db_rollback(store_db(s));
    store_unlock(s);
    return rc;
}

/* The integer sql (one ?1 = id parameter) selects: 0 when it finds no row, and 1 on any error,
 * so a sweep that cannot tell keeps the file. */
static int id_query(store *s, const char *sql, const char *id)
{
    db_stmt *st;
    int v = 1;
    store_lock(s);
    if (db_prepare(store_db(s), sql, &st, NULL) == 0) {
        db_bind_text(st, 1, id);
        int step = db_step(st, NULL);
        v = step == 1 ? db_col_int(st, 0) : step != 0;
        db_finalize(st);
    }
    store_unlock(s);
    return v;
}

/* 1 when an audio row with the id the file is named after (up to the first '.') exists. */
static int file_has_row(store *s, const char *name)
{
    char id[STORE_ID_MAX];
    snprintf(id, sizeof id, "%.*s", (int)strcspn(name, "."), name);
    return id_query(s, "SELECT 1 FROM audio_files WHERE audio_id = ?", id);
}

/* Files under dir (one level of per-user folders) older than cutoff_s with no row. */
static void sweep_orphans(store *s, const char *dir, int depth, int64_t cutoff_s, int *deleted)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[1600];
    struct stat st;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st)) continue;
        if (S_ISDIR(st.st_mode) && depth > 0) sweep_orphans(s, path, depth - 1, cutoff_s, deleted);
        else if (S_ISREG(st.st_mode) && st.st_mtime <= cutoff_s && !file_has_row(s, e->d_name) && !unlink(path))
            (*deleted)++;
    }
    closedir(d);
}

static void sweep_all_orphans(store *s, const retention_config *c, int64_t now_s, int *deleted)
{
    static const char *const UPLOAD_DIRS[] = {"uploads/training", "uploads/target", "uploads/reference"};
    char dir[1200];
    for (size_t i = 0; c->uploads_seconds > 0 && i < sizeof UPLOAD_DIRS / sizeof UPLOAD_DIRS[0]; i++)
        if (!store_path(s, dir, sizeof dir, "%s", UPLOAD_DIRS[i]))
            sweep_orphans(s, dir, 1, now_s - (int64_t)ceil(c->uploads_seconds), deleted);
    if (c->outputs_seconds > 0 && !store_path(s, dir, sizeof dir, "outputs"))
        sweep_orphans(s, dir, 1, now_s - (int64_t)ceil(c->outputs_seconds), deleted);
}

/* 1 when job_id is queued or running (on error: 1, keep). */
static int job_active(store *s, const char *job_id)
{
    return id_query(s, "SELECT CASE WHEN state IN ('queued', 'running') THEN 1 ELSE 0 END FROM jobs WHERE job_id = ?", job_id);
}

/* data/training/{job_id}/ of training jobs that will never run again (a job that failed after
 * JOBS_MAX_ATTEMPTS crashes never reaches its own cleanup). The CLI's cli-* folders are the
 * user's to keep. */
static void sweep_training_dirs(store *s, int *deleted)
{
    char dir[1200], path[1600];
    if (store_path(s, dir, sizeof dir, "training")) return;
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "job_", 4) || !store_id_valid(e->d_name) || job_active(s, e->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        vc_error ignored;
        if (vc_remove_tree(path, &ignored) == 0) (*deleted)++;
    }
    closedir(d);
}

int retention_sweep(store *s, const retention_config *c, int64_t now_s, retention_report *rep, vc_error *err)
{
    memset(rep, 0, sizeof *rep);
    retention_item *items;
    int n;
    if (retention_select(s, c, now_s, &items, &n, err)) return -1;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        int d = delete_audio(s, c, now_s, &items[i], err);
        if (d < 0) rc = -1;
        else rep->audio_deleted += d;
    }
    free(items);
    if (!rc && c->outputs_seconds > 0)
        rc = delete_old_jobs(s, now_s * 1000 - (int64_t)(c->outputs_seconds * 1000), &rep->jobs_deleted, err);
    if (!rc) sweep_all_orphans(s, c, now_s, &rep->orphans_deleted);
    if (!rc) sweep_training_dirs(s, &rep->orphans_deleted);
    if (!rc && c->leftovers_seconds > 0) rc = store_sweep_leftovers(s, now_s, c->leftovers_seconds, &rep->leftovers_deleted, err);
    return rc;
}
