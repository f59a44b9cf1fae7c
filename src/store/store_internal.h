/*
 * Helpers shared by the store's .c files only: the store struct and small statement wrappers
 * that turn SQLite failures into vc_error values.
 */
#ifndef VC_STORE_INTERNAL_H
#define VC_STORE_INTERNAL_H

#include <pthread.h>

#include "store/store.h"

/* Prepared statements of hot queries, kept across calls (keyed by the SQL string's address). */
#define STORE_STMT_CACHE 16

struct store {
    sqlite3 *db;
    pthread_mutex_t lock;
    char root[1024];
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[STORE_STMT_CACHE];
};

/* Prepares sql; on failure fills err (VC_ERR_INTERNAL with SQLite's message). */
int store_prepare(store *s, const char *sql, sqlite3_stmt **st, vc_error *err);
/* A cached statement for a static SQL string (caller holds the lock); release it with
 * store_cached_done, never finalize it. */
int store_cached(store *s, const char *sql, sqlite3_stmt **st, vc_error *err);
void store_cached_done(sqlite3_stmt *st);
/* Steps a statement that returns no rows, finalizes it. */
int store_step_done(store *s, sqlite3_stmt *st, vc_error *err);
/* Copies column i (NULL → "") into buf. */
void store_col_text(sqlite3_stmt *st, int i, char *buf, size_t cap);

#endif
