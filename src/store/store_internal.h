/*
 * Helpers shared by the store's .c files only: the store struct and small statement wrappers.
 */
#ifndef VC_STORE_INTERNAL_H
#define VC_STORE_INTERNAL_H

#include <pthread.h>

#include "store/files.h"
#include "store/store.h"

/* Prepared statements of hot queries, kept across calls (keyed by the SQL string's address). */
#define STORE_STMT_CACHE 16

struct store {
    db *db;
    file_store *files; /* where audio, models and outputs are kept (files.h); local folder = root */
    pthread_mutex_t lock;
    char root[1024];
    char url[1024]; /* the database url ("sqlite:<root>/studio.db" or postgres://…) */
    struct {
        const char *sql;
        db_stmt *st;
    } cache[STORE_STMT_CACHE];
};

/* Prepares sql; on failure fills err. */
int store_prepare(store *s, const char *sql, db_stmt **st, vc_error *err);
/* A cached statement for a static SQL string (caller holds the lock); release it with
 * store_cached_done, never finalize it. */
int store_cached(store *s, const char *sql, db_stmt **st, vc_error *err);
void store_cached_done(db_stmt *st);
/* Steps a statement that returns no rows, finalizes it. */
int store_step_done(store *s, db_stmt *st, vc_error *err);
/* Copies column i (NULL → "") into buf. */
#define store_col_text db_col_copy

#endif
