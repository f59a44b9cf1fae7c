/*
 * db.h's dispatch and its SQLite half. SQLite keeps today's settings: WAL, synchronous=NORMAL,
 * foreign keys on, a 5 s busy timeout because other processes (the CLI) may share the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/db_internal.h"

int db_url_is_postgres(const char *url)
{
    return url && (!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13));
}

static int lite_fail(db *d, vc_error *err, const char *what)
{
    snprintf(d->errmsg, sizeof d->errmsg, "%s", sqlite3_errmsg(d->lite));
    return vc_fail(err, VC_ERR_INTERNAL, "sqlite %s: %s", what, d->errmsg);
}

#define LITE_BUSY_MS 5000

/* Switches a file to WAL (a no-op once it is). On a fresh file opened by several processes at
 * once, the switch needs the exclusive lock while the others hold a shared one to read the header:
 * SQLite sees a deadlock and answers SQLITE_BUSY at once, without the busy handler. So retry here,
 * for as long as the busy timeout would have waited. */
static int lite_wal(db *d, vc_error *err)
{
    const struct timespec pause = {0, 10 * 1000 * 1000};
    for (int waited_ms = 0;; waited_ms += 10) {
        int rc = sqlite3_exec(d->lite, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK) return 0;
        if ((rc & 0xff) != SQLITE_BUSY || waited_ms >= LITE_BUSY_MS) return lite_fail(d, err, "journal_mode=WAL");
        nanosleep(&pause, NULL);
    }
}

int db_open(db **out, const char *url, vc_error *err)
{
    *out = NULL;
    if (!url || !*url) return vc_fail(err, VC_ERR_INVALID_REQUEST, "database url is empty");
    db *d = calloc(1, sizeof *d);
    if (!d) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (db_url_is_postgres(url)) {
        d->dialect = DB_POSTGRES;
        if (db_pg_open(d, url, err)) {
            db_close(d);
            return -1;
        }
        *out = d;
        return 0;
    }
    d->dialect = DB_SQLITE;
    const char *path = !strncmp(url, "sqlite:", 7) ? url + 7 : url;
    if (sqlite3_open_v2(path, &d->lite, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        vc_fail(err, VC_ERR_IO, "open %s: %s", path, d->lite ? sqlite3_errmsg(d->lite) : "out of memory");
        db_close(d);
        return -1;
    }
    sqlite3_busy_timeout(d->lite, LITE_BUSY_MS);
    if (lite_wal(d, err) || db_exec(d, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err)) {
        db_close(d);
        return -1;
    }
    *out = d;
    return 0;
}

void db_close(db *d)
{
    if (!d) return;
    if (d->lite) sqlite3_close(d->lite);
    if (d->pg) db_pg_close(d);
    free(d);
}

db_dialect db_get_dialect(const db *d) { return d->dialect; }

const char *db_errmsg(db *d)
{
    if (d->dialect == DB_SQLITE) snprintf(d->errmsg, sizeof d->errmsg, "%s", sqlite3_errmsg(d->lite));
    return d->errmsg;
}

int db_exec(db *d, const char *sql, vc_error *err)
{
    if (d->dialect == DB_POSTGRES) return db_pg_exec(d, sql, err);
    char *msg = NULL;
    if (sqlite3_exec(d->lite, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(d->errmsg, sizeof d->errmsg, "%s", msg ? msg : sqlite3_errmsg(d->lite));
        sqlite3_free(msg);
        return vc_fail(err, VC_ERR_INTERNAL, "sqlite: %s", d->errmsg);
    }
    return 0;
}

int db_begin(db *d, vc_error *err) { return db_exec(d, d->dialect == DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN", err); }
int db_commit(db *d, vc_error *err) { return db_exec(d, "COMMIT", err); }
void db_rollback(db *d) { db_exec(d, "ROLLBACK", NULL); }

int db_prepare(db *d, const char *sql, db_stmt **out, vc_error *err)
{
    *out = NULL;
    db_stmt *st = calloc(1, sizeof *st);
    if (!st) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    st->d = d;
    if (d->dialect == DB_POSTGRES) {
        if (db_pg_prepare(st, sql, err)) {
            db_finalize(st);
            return -1;
        }
    } else if (sqlite3_prepare_v2(d->lite, sql, -1, &st->lite, NULL) != SQLITE_OK) {
        lite_fail(d, err, "prepare");
        db_finalize(st);
        return -1;
    }
    *out = st;
    return 0;
}

static db_param *pg_param(db_stmt *st, int i, unsigned type)
{
    if (i < 1 || i > DB_MAX_PARAMS) return NULL;
    if (i > st->n_params) st->n_params = i;
    db_param *p = &st->params[i - 1];
    p->type = type;
    return p;
}

void db_bind_text(db_stmt *st, int i, const char *v)
{
    if (st->lite) {
        if (v) sqlite3_bind_text(st->lite, i, v, -1, SQLITE_STATIC);
        else sqlite3_bind_null(st->lite, i);
        return;
    }
    db_param *p = pg_param(st, i, 25);
    if (p) p->value = v;
}

void db_bind_int64(db_stmt *st, int i, int64_t v)
{
    if (st->lite) {
        sqlite3_bind_int64(st->lite, i, v);
        return;
    }
    db_param *p = pg_param(st, i, 20);
    if (!p) return;
    snprintf(p->buf, sizeof p->buf, "%lld", (long long)v);
    p->value = p->buf;
}

void db_bind_double(db_stmt *st, int i, double v)
{
    if (st->lite) {
        sqlite3_bind_double(st->lite, i, v);
        return;
    }
    db_param *p = pg_param(st, i, 701);
    if (!p) return;
    snprintf(p->buf, sizeof p->buf, "%.17g", v);
    p->value = p->buf;
}

int db_step(db_stmt *st, vc_error *err)
{
    if (!st->lite) return db_pg_step(st, err);
    int rc = sqlite3_step(st->lite);
    if (rc == SQLITE_ROW) return 1;
    if (rc == SQLITE_DONE) {
        st->changes = sqlite3_changes(st->d->lite);
        return 0;
    }
    return lite_fail(st->d, err, "step");
}

const char *db_col_text(db_stmt *st, int i)
{
    if (!st->lite) return db_pg_col(st, i);
    return (const char *)sqlite3_column_text(st->lite, i);
}

int64_t db_col_int64(db_stmt *st, int i)
{
    if (st->lite) return sqlite3_column_int64(st->lite, i);
    const char *t = db_pg_col(st, i);
    if (!t) return 0;
    if (!strcmp(t, "t")) return 1;
    if (!strcmp(t, "f")) return 0;
    return strtoll(t, NULL, 10);
}

int db_col_int(db_stmt *st, int i) { return (int)db_col_int64(st, i); }

double db_col_double(db_stmt *st, int i)
{
    if (st->lite) return sqlite3_column_double(st->lite, i);
    const char *t = db_pg_col(st, i);
    return t ? strtod(t, NULL) : 0;
}

int db_col_is_null(db_stmt *st, int i)
{
    if (st->lite) return sqlite3_column_type(st->lite, i) == SQLITE_NULL;
    return db_pg_col(st, i) == NULL;
}

void db_col_copy(db_stmt *st, int i, char *buf, size_t cap)
{
    const char *t = db_col_text(st, i);
    snprintf(buf, cap, "%s", t ? t : "");
}

int64_t db_changes(db_stmt *st) { return st->changes; }

void db_reset(db_stmt *st)
{
    st->changes = 0;
    if (st->lite) {
        sqlite3_reset(st->lite);
        sqlite3_clear_bindings(st->lite);
        return;
    }
    db_pg_clear(st);
    memset(st->params, 0, sizeof st->params);
    st->n_params = 0;
}

void db_finalize(db_stmt *st)
{
    if (!st) return;
    if (st->lite) sqlite3_finalize(st->lite);
    else db_pg_clear(st);
    free(st->sql);
    free(st);
}
