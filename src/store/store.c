/*
 * Opening the store: folders, the database connection (db.h), and versioned migrations.
 *
 * Migrations are per module (store_migration_set): schema_version(module, version) records what
 * was applied. All pending steps run in one transaction with their records, so a crash
 * mid-migration leaves the previous version intact; and under one lock (migration_lock), so
 * nodes that start together on one database migrate it once, one after the other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

int store_prepare(store *s, const char *sql, db_stmt **st, vc_error *err) { return db_prepare(s->db, sql, st, err); }

int store_cached(store *s, const char *sql, db_stmt **st, vc_error *err)
{
    int free_slot = -1;
    for (int i = 0; i < STORE_STMT_CACHE; i++) {
        if (s->cache[i].sql == sql) {
            *st = s->cache[i].st;
            return 0;
        }
        if (!s->cache[i].sql && free_slot < 0) free_slot = i;
    }
    if (db_prepare(s->db, sql, st, err)) return -1;
    if (free_slot >= 0) {
        s->cache[free_slot].sql = sql;
        s->cache[free_slot].st = *st;
    }
    return 0; /* a full cache never happens with the fixed set of hot queries; the statement then leaks */
}

void store_cached_done(db_stmt *st) { db_reset(st); }

int store_step_done(store *s, db_stmt *st, vc_error *err)
{
    (void)s;
    int rc = db_step(st, err);
    db_finalize(st);
    return rc < 0 ? -1 : 0;
}

void store_lock(store *s) { pthread_mutex_lock(&s->lock); }
void store_unlock(store *s) { pthread_mutex_unlock(&s->lock); }
db *store_db(store *s) { return s->db; }
const char *store_root(const store *s) { return s->root; }
file_store *store_files(store *s) { return s->files; }
const char *store_url(const store *s) { return s->url; }
db_dialect store_dialect(const store *s) { return db_get_dialect(s->db); }

static int exec_unlocked(store *s, const char *sql, vc_error *err) { return db_exec(s->db, sql, err); }

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
    db_stmt *st;
    if (store_prepare(s, "SELECT 1 FROM schema_version WHERE module=? AND version=?", &st, err)) return -1;
    db_bind_text(st, 1, module);
    db_bind_int64(st, 2, version);
    int found = db_step(st, err);
    db_finalize(st);
    return found;
}

/* Runs one step and records it; inside migrate's transaction. */
static int apply_migration(store *s, const char *module, const store_migration *m, vc_error *err)
{
    const char *sql = store_dialect(s) == DB_POSTGRES && m->pg_sql ? m->pg_sql : m->sql;
    db_stmt *st;
    if (exec_unlocked(s, sql, err) ||
        store_prepare(s, "INSERT INTO schema_version(module, version) VALUES (?, ?)", &st, err))
        return vc_error_wrap(err, "migration %s v%d", module, m->version);
    db_bind_text(st, 1, module);
    db_bind_int64(st, 2, m->version);
    if (store_step_done(s, st, err)) return vc_error_wrap(err, "migration %s v%d", module, m->version);
    return 0;
}

/* Any bigint that no other part of the studio takes as an advisory lock ("vcs_sch"). */
#define MIGRATION_LOCK_KEY "32496501004903272"

/* Takes the lock that makes this node the only one migrating: SQLite's write lock (BEGIN
 * IMMEDIATE, waiting out the busy timeout), on PostgreSQL also an advisory lock held to COMMIT.
 * Without it, nodes started together on an empty PostgreSQL database all create schema_version
 * (a duplicate-key error in the catalog for all but one). */
static int migration_lock(store *s, vc_error *err)
{
    if (db_begin(s->db, err)) return -1;
    if (store_dialect(s) == DB_POSTGRES &&
        exec_unlocked(s, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")", err)) {
        db_rollback(s->db);
        return -1;
    }
    return 0;
}

/* 1 when every step is recorded, 0 when one is missing or schema_version does not exist yet. */
static int schema_current(store *s)
{
    vc_error ignored;
    for (size_t i = 0; STORE_MIGRATION_SETS[i]; i++)
        for (size_t k = 0; k < STORE_MIGRATION_SETS[i]->n_steps; k++)
            if (migration_applied(s, STORE_MIGRATION_SETS[i]->module, STORE_MIGRATION_SETS[i]->steps[k].version,
                                  &ignored) != 1)
                return 0;
    return 1;
}

/* Brings the schema to the latest version in one transaction, under migration_lock. What was
 * applied is read again once the lock is held, so a node that waited for another one's
 * migration sees it and applies nothing twice. An up-to-date database (every open but the first
 * after an upgrade) takes no lock: a CLI command never waits for a busy server's writes here. */
static int migrate(store *s, vc_error *err)
{
    if (schema_current(s)) return 0;
    if (migration_lock(s, err)) return vc_error_wrap(err, "schema migration lock");
    if (exec_unlocked(s,
                      store_dialect(s) == DB_POSTGRES
                          ? "CREATE TABLE IF NOT EXISTS schema_version (module TEXT NOT NULL, version INTEGER NOT NULL, "
                            "applied_at TEXT NOT NULL DEFAULT " STORE_PG_NOW ", PRIMARY KEY (module, version))"
                          : "CREATE TABLE IF NOT EXISTS schema_version (module TEXT NOT NULL, version INTEGER NOT NULL, "
                            "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')), "
                            "PRIMARY KEY (module, version))",
                      err))
        goto fail;
    for (size_t i = 0; STORE_MIGRATION_SETS[i]; i++) {
        const store_migration_set *set = STORE_MIGRATION_SETS[i];
        for (size_t k = 0; k < set->n_steps; k++) {
            int applied = migration_applied(s, set->module, set->steps[k].version, err);
            if (applied < 0 || (!applied && apply_migration(s, set->module, &set->steps[k], err))) goto fail;
        }
    }
    return db_commit(s->db, err);
fail:
    db_rollback(s->db);
    return -1;
}

static int make_folders(const char *root, vc_error *err)
{
    static const char *const SUB[] = {"uploads/training", "uploads/target", "uploads/reference", "uploads/tmp",
                                      "models", "outputs", "weights"};
    char path[1200];
    for (size_t i = 0; i < sizeof SUB / sizeof SUB[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, SUB[i]);
        if (vc_mkdirs(path, err)) return -1;
    }
    return 0;
}

int store_open(store **out, const char *data_dir, vc_error *err) { return store_open_url(out, data_dir, NULL, err); }

/* A handle with its own connection; migrate = 0 for a second handle on an open store. */
static int open_handle(store **out, const char *data_dir, const char *db_url, int migrate_schema, vc_error *err)
{
    *out = NULL;
    if (strlen(data_dir) >= sizeof((store *)0)->root - 64)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "data dir path too long");
    if (db_url && strlen(db_url) >= sizeof((store *)0)->url)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "database url too long");
    store *s = calloc(1, sizeof *s);
    if (!s) return vc_fail(err, VC_ERR_NOMEM, "store: out of memory");
    snprintf(s->root, sizeof s->root, "%s", data_dir);
    pthread_mutex_init(&s->lock, NULL);
    if (db_url && *db_url) snprintf(s->url, sizeof s->url, "%s", db_url);
    else snprintf(s->url, sizeof s->url, "sqlite:%s/studio.db", data_dir);
    if (files_local_open(&s->files, data_dir, err) || db_open(&s->db, s->url, err) ||
        (migrate_schema && migrate(s, err))) {
        store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

int store_open_url(store **out, const char *data_dir, const char *db_url, vc_error *err)
{
    *out = NULL;
    if (make_folders(data_dir, err)) return -1;
    return open_handle(out, data_dir, db_url, 1, err);
}

int store_open_conn(store **out, const store *open, vc_error *err)
{
    *out = NULL;
    if (db_url_is_postgres(open->url) == 0)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "a second store connection needs PostgreSQL");
    return open_handle(out, open->root, open->url, 0, err);
}

void store_close(store *s)
{
    if (!s) return;
    for (int i = 0; i < STORE_STMT_CACHE; i++) db_finalize(s->cache[i].st);
    db_close(s->db);
    files_close(s->files);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
