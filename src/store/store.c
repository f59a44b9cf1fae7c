/*
 * Opening the store: folders, the SQLite connection with its pragmas, and versioned migrations.
 *
 * Migrations are per module (store_migration_set): schema_version(module, version) records what
 * was applied, each step runs inside one transaction with its record, so a crash mid-migration
 * leaves the previous version intact.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

int store_prepare(store *s, const char *sql, sqlite3_stmt **st, vc_error *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return vc_fail(err, VC_ERR_INTERNAL, "sqlite prepare: %s", sqlite3_errmsg(s->db));
    return 0;
}

int store_cached(store *s, const char *sql, sqlite3_stmt **st, vc_error *err)
{
    int free_slot = -1;
    for (int i = 0; i < STORE_STMT_CACHE; i++) {
        if (s->cache[i].sql == sql) {
            *st = s->cache[i].st;
            return 0;
        }
        if (!s->cache[i].sql && free_slot < 0) free_slot = i;
    }
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return vc_fail(err, VC_ERR_INTERNAL, "sqlite prepare: %s", sqlite3_errmsg(s->db));
    if (free_slot >= 0) {
        s->cache[free_slot].sql = sql;
        s->cache[free_slot].st = *st;
    }
    return 0; /* a full cache never happens with the fixed set of hot queries; the statement then leaks */
}

void store_cached_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int store_step_done(store *s, sqlite3_stmt *st, vc_error *err)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return vc_fail(err, VC_ERR_INTERNAL, "sqlite step: %s", sqlite3_errmsg(s->db));
    return 0;
}

void store_col_text(sqlite3_stmt *st, int i, char *buf, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(buf, cap, "%s", t ? (const char *)t : "");
}

void store_lock(store *s) { pthread_mutex_lock(&s->lock); }
void store_unlock(store *s) { pthread_mutex_unlock(&s->lock); }
sqlite3 *store_db(store *s) { return s->db; }
const char *store_root(const store *s) { return s->root; }

static int exec_unlocked(store *s, const char *sql, vc_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        vc_fail(err, VC_ERR_INTERNAL, "sqlite: %s", msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int store_exec(store *s, const char *sql, vc_error *err)
{
    store_lock(s);
    int rc = exec_unlocked(s, sql, err);
    store_unlock(s);
    return rc;
}

/* 1 when (module, version) is already recorded. */
static int migration_applied(store *s, const char *module, int version, vc_error *err)
{
    sqlite3_stmt *st;
    if (store_prepare(s, "SELECT 1 FROM schema_version WHERE module=? AND version=?", &st, err)) return -1;
    sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, version);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static int apply_migration(store *s, const char *module, const store_migration *m, vc_error *err)
{
    if (exec_unlocked(s, "BEGIN IMMEDIATE", err)) return -1;
    if (exec_unlocked(s, m->sql, err)) goto fail;
    sqlite3_stmt *st;
    if (store_prepare(s, "INSERT INTO schema_version(module, version) VALUES (?, ?)", &st, err)) goto fail;
    sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, m->version);
    if (store_step_done(s, st, err)) goto fail;
    return exec_unlocked(s, "COMMIT", err);
fail:
    exec_unlocked(s, "ROLLBACK", NULL);
    return vc_error_wrap(err, "migration %s v%d", module, m->version);
}

static int migrate(store *s, vc_error *err)
{
    if (exec_unlocked(s,
                      "CREATE TABLE IF NOT EXISTS schema_version (module TEXT NOT NULL, version INTEGER NOT NULL, "
                      "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')), "
                      "PRIMARY KEY (module, version))",
                      err))
        return -1;
    for (size_t i = 0; STORE_MIGRATION_SETS[i]; i++) {
        const store_migration_set *set = STORE_MIGRATION_SETS[i];
        for (size_t k = 0; k < set->n_steps; k++) {
            int applied = migration_applied(s, set->module, set->steps[k].version, err);
            if (applied < 0) return -1;
            if (!applied && apply_migration(s, set->module, &set->steps[k], err)) return -1;
        }
    }
    return 0;
}

static int make_folders(const char *root, vc_error *err)
{
    static const char *const SUB[] = {"uploads/training", "uploads/target", "uploads/reference", "uploads/tmp",
                                      "models", "outputs", "weights"};
    char path[1200];
    for (size_t i = 0; i < sizeof SUB / sizeof SUB[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, SUB[i]);
        if (store_mkdirs(path, err)) return -1;
    }
    return 0;
}

int store_open(store **out, const char *data_dir, vc_error *err)
{
    *out = NULL;
    if (strlen(data_dir) >= sizeof((store *)0)->root - 64)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "data dir path too long");
    if (make_folders(data_dir, err)) return -1;
    store *s = calloc(1, sizeof *s);
    if (!s) return vc_fail(err, VC_ERR_NOMEM, "store: out of memory");
    snprintf(s->root, sizeof s->root, "%s", data_dir);
    pthread_mutex_init(&s->lock, NULL);
    char path[1200];
    snprintf(path, sizeof path, "%s/studio.db", data_dir);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        vc_fail(err, VC_ERR_IO, "open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        store_close(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, 5000); /* other processes (CLI `keys create`, workers) share the file */
    if (exec_unlocked(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err) ||
        migrate(s, err)) {
        store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void store_close(store *s)
{
    if (!s) return;
    for (int i = 0; i < STORE_STMT_CACHE; i++) sqlite3_finalize(s->cache[i].st);
    if (s->db) sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
