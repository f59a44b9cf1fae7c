/*
 * The SQL connection seam: the store and the jobs module talk to this, never to SQLite or libpq
 * directly, so the same code runs on the embedded SQLite file (the zero-setup default) and on a
 * shared PostgreSQL server (scale-out: several API nodes and worker processes).
 *
 *   url "postgres://…" / "postgresql://…"  → libpq (db_pg.c)
 *   url "sqlite:PATH" or a plain PATH        → SQLite (db_sqlite.c)
 *
 * SQL is written once in the portable subset both understand (COALESCE, ON CONFLICT … DO,
 * RETURNING, `?` / `?N` placeholders). The libpq side rewrites `?N` to `$N` and a bare `?` to the
 * next number (SQLite's rule). Where the dialects really differ (schema DDL, FOR UPDATE SKIP
 * LOCKED, date arithmetic) the caller picks with db_get_dialect(); keep those choices next to the
 * statement so they are visible in one place.
 *
 * Parameters are bound by pointer for text (like SQLITE_STATIC: the caller keeps the string alive
 * until the statement is stepped) and by value for numbers. On PostgreSQL text parameters are
 * typed text, integers int8 and reals float8, so an SQL boolean context needs an explicit
 * comparison (`?7 <> 0`, not `CASE WHEN ?7`).
 *
 * Thread safety: a connection is used by one thread at a time (the store's mutex).
 */
#ifndef VC_STORE_DB_H
#define VC_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef enum db_dialect { DB_SQLITE = 1, DB_POSTGRES = 2 } db_dialect;

typedef struct db db;
typedef struct db_stmt db_stmt;

#define DB_MAX_PARAMS 24

/* 1 when url names a PostgreSQL server. */
int db_url_is_postgres(const char *url);
int db_open(db **out, const char *url, vc_error *err);
void db_close(db *d);
db_dialect db_get_dialect(const db *d);
/* The latest error text of the connection. */
const char *db_errmsg(db *d);

/* One or more statements without parameters or results. */
int db_exec(db *d, const char *sql, vc_error *err);
int db_begin(db *d, vc_error *err);  /* SQLite: BEGIN IMMEDIATE (takes the write lock) */
int db_commit(db *d, vc_error *err);
void db_rollback(db *d);

int db_prepare(db *d, const char *sql, db_stmt **st, vc_error *err);
void db_bind_text(db_stmt *st, int i, const char *v); /* 1-based; NULL binds NULL */
void db_bind_int64(db_stmt *st, int i, int64_t v);
void db_bind_double(db_stmt *st, int i, double v);
/* 1 = a row is available, 0 = done, -1 = error (err filled). */
int db_step(db_stmt *st, vc_error *err);
const char *db_col_text(db_stmt *st, int i); /* 0-based; NULL for SQL NULL; valid until the next step */
int64_t db_col_int64(db_stmt *st, int i);    /* PostgreSQL booleans read as 1 / 0 */
int db_col_int(db_stmt *st, int i);
double db_col_double(db_stmt *st, int i);
int db_col_is_null(db_stmt *st, int i);
/* Rows changed by the statement's last INSERT / UPDATE / DELETE. */
int64_t db_changes(db_stmt *st);
/* Ready to bind and step again (parameters cleared). */
void db_reset(db_stmt *st);
void db_finalize(db_stmt *st);

/* Copies column i (NULL → "") into buf. */
void db_col_copy(db_stmt *st, int i, char *buf, size_t cap);

/* ---- notifications (PostgreSQL LISTEN / NOTIFY; not available on SQLite) ---- */
typedef struct db_listener db_listener;
/* Its own connection, LISTENing on channel. VC_ERR_INVALID_REQUEST on SQLite urls. */
int db_listen_open(db_listener **out, const char *url, const char *channel, vc_error *err);
/* Waits up to timeout_ms: 1 = a notification (payload copied), 0 = timeout, -1 = the connection
 * broke (it reconnects on the next call; a caller treats it as "something may have been missed"). */
int db_listen_wait(db_listener *l, int timeout_ms, char *payload, size_t cap);
void db_listen_close(db_listener *l);

#endif
