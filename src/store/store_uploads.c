/*
 * Rows for uploads in flight (tus and chunked multipart). The chunk bitmap lives in the row so
 * that "which chunk completed the set" is decided inside one transaction (the row locked FOR
 * UPDATE on PostgreSQL): exactly one request assembles the file, however the chunks race, on one
 * API node or several.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

static const char *COLS =
    "upload_id, user_id, kind, purpose, filename, length, \"offset\", total_chunks, chunks, expires_at, state, audio_id";

/* Every column but the key, for the upsert ("offset" is reserved on PostgreSQL: always quoted). */
static const char *UPSERT =
    " ON CONFLICT (upload_id) DO UPDATE SET user_id=excluded.user_id, kind=excluded.kind, purpose=excluded.purpose, "
    "filename=excluded.filename, length=excluded.length, \"offset\"=excluded.\"offset\", "
    "total_chunks=excluded.total_chunks, chunks=excluded.chunks, expires_at=excluded.expires_at, state=excluded.state, "
    "audio_id=excluded.audio_id";

static void read_row(db_stmt *st, store_upload *u)
{
    memset(u, 0, sizeof *u);
    store_col_text(st, 0, u->upload_id, sizeof u->upload_id);
    store_col_text(st, 1, u->user_id, sizeof u->user_id);
    store_col_text(st, 2, u->kind, sizeof u->kind);
    store_col_text(st, 3, u->purpose, sizeof u->purpose);
    store_col_text(st, 4, u->filename, sizeof u->filename);
    u->length = db_col_int64(st, 5);
    u->offset = db_col_int64(st, 6);
    u->total_chunks = db_col_int(st, 7);
    store_col_text(st, 8, u->chunks, sizeof u->chunks);
    u->expires_at = db_col_int64(st, 9);
    store_col_text(st, 10, u->state, sizeof u->state);
    store_col_text(st, 11, u->audio_id, sizeof u->audio_id);
}

static void bind_row(db_stmt *st, const store_upload *u)
{
    db_bind_text(st, 1, u->upload_id);
    db_bind_text(st, 2, u->user_id);
    db_bind_text(st, 3, u->kind);
    db_bind_text(st, 4, u->purpose);
    db_bind_text(st, 5, u->filename);
    db_bind_int64(st, 6, u->length);
    db_bind_int64(st, 7, u->offset);
    db_bind_int64(st, 8, u->total_chunks);
    db_bind_text(st, 9, u->chunks);
    db_bind_int64(st, 10, u->expires_at);
    db_bind_text(st, 11, u->state);
    if (u->audio_id[0]) db_bind_text(st, 12, u->audio_id);
}

/* upsert = 0: a new row; 1: insert or replace the row's columns. */
static int write_row(store *s, int upsert, const store_upload *u, vc_error *err)
{
    char sql[1000];
    snprintf(sql, sizeof sql, "INSERT INTO uploads(%s) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)%s", COLS, upsert ? UPSERT : "");
    db_stmt *st;
    if (store_prepare(s, sql, &st, err)) return -1;
    bind_row(st, u);
    return store_step_done(s, st, err);
}

int store_upload_insert(store *s, const store_upload *u, vc_error *err)
{
    store_lock(s);
    int rc = write_row(s, 0, u, err);
    store_unlock(s);
    return rc;
}

int store_upload_update(store *s, const store_upload *u, vc_error *err)
{
    store_lock(s);
    int rc = write_row(s, 1, u, err);
    store_unlock(s);
    return rc;
}

/* for_update: lock the row until the transaction ends (PostgreSQL; SQLite's BEGIN IMMEDIATE
 * already holds the whole database). */
static int get_unlocked(store *s, const char *user_id, const char *upload_id, store_upload *u, int for_update,
                        vc_error *err)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT %s FROM uploads WHERE upload_id=? AND user_id=?%s", COLS,
             for_update && store_dialect(s) == DB_POSTGRES ? " FOR UPDATE" : "");
    db_stmt *st;
    if (store_prepare(s, sql, &st, err)) return -1;
    db_bind_text(st, 1, upload_id);
    db_bind_text(st, 2, user_id);
    int rc = 0, step = db_step(st, err);
    if (step == 1)
        read_row(st, u);
    else
        rc = step < 0 ? -1 : vc_fail(err, VC_ERR_NOT_FOUND, "upload %s not found", upload_id);
    db_finalize(st);
    return rc;
}

int store_upload_get(store *s, const char *user_id, const char *upload_id, store_upload *u, vc_error *err)
{
    store_lock(s);
    int rc = get_unlocked(s, user_id, upload_id, u, 0, err);
    store_unlock(s);
    return rc;
}

int store_upload_delete(store *s, const char *upload_id, vc_error *err)
{
    store_lock(s);
    db_stmt *st;
    int rc = store_prepare(s, "DELETE FROM uploads WHERE upload_id=?", &st, err);
    if (!rc) {
        db_bind_text(st, 1, upload_id);
        rc = store_step_done(s, st, err);
    }
    store_unlock(s);
    return rc;
}

int store_upload_mark_chunk(store *s, const char *user_id, const char *upload_id, int index, int64_t bytes,
                            store_upload *u, int *claim_assembly, vc_error *err)
{
    *claim_assembly = 0;
    store_lock(s);
    /* one transaction: with several API nodes the chunks of one upload may land on different nodes */
    if (db_begin(s->db, err)) {
        store_unlock(s);
        return -1;
    }
    int rc = get_unlocked(s, user_id, upload_id, u, 1, err);
    if (!rc && (index < 0 || index >= u->total_chunks))
        rc = vc_fail(err, VC_ERR_INVALID_REQUEST, "chunk_index %d outside 0..%d", index, u->total_chunks - 1);
    if (!rc && strcmp(u->state, "receiving") == 0) {
        if (u->chunks[index] != '1') u->length += bytes; /* a retried chunk is counted once */
        u->chunks[index] = '1';
        if (!strchr(u->chunks, '0')) {
            snprintf(u->state, sizeof u->state, "assembling");
            *claim_assembly = 1;
        }
        rc = write_row(s, 1, u, err);
    }
    if (rc) db_rollback(s->db);
    else rc = db_commit(s->db, err);
    if (rc) *claim_assembly = 0;
    store_unlock(s);
    return rc;
}

static int each_where(store *s, const char *where, int64_t now, int (*fn)(const store_upload *u, void *ctx), void *ctx,
                              vc_error *err)
{
    /* collect first, call after: fn may use the store (and its lock) */
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT %s FROM uploads WHERE %s", COLS, where);
    store_upload *list = NULL;
    size_t n = 0;
    store_lock(s);
    db_stmt *st;
    int rc = store_prepare(s, sql, &st, err);
    if (!rc) {
        if (strchr(where, '?')) db_bind_int64(st, 1, now);
        while (db_step(st, err) == 1) {
            store_upload *grown = realloc(list, (n + 1) * sizeof *list);
            if (!grown) break;
            list = grown;
            read_row(st, &list[n++]);
        }
        db_finalize(st);
    }
    store_unlock(s);
    for (size_t i = 0; !rc && i < n; i++) rc = fn(&list[i], ctx);
    free(list);
    return rc;
}

int store_upload_each_expired(store *s, int64_t now, int (*fn)(const store_upload *u, void *ctx), void *ctx,
                              vc_error *err)
{
    return each_where(s, "state NOT IN ('complete','expired') AND expires_at <= ?", now, fn, ctx, err);
}

int store_upload_each_unfinished_tus(store *s, int64_t now, int (*fn)(const store_upload *u, void *ctx), void *ctx,
                                     vc_error *err)
{
    return each_where(s, "kind = 'tus' AND state NOT IN ('complete','expired') AND \"offset\" = length AND expires_at > ?",
                      now, fn, ctx, err);
}

int store_upload_reset_assembling(store *s, vc_error *err)
{
    return store_exec(s, "UPDATE uploads SET state='receiving' WHERE state='assembling'", err);
}

int store_user_usage(store *s, const char *user_id, store_usage *out, vc_error *err)
{
    static const char *SQL =
        "SELECT (SELECT COUNT(*) FROM uploads WHERE user_id = ?1 AND state NOT IN ('complete','expired')),"
        " (SELECT COALESCE(SUM(length), 0) FROM uploads WHERE user_id = ?1 AND state NOT IN ('complete','expired')),"
        " (SELECT COALESCE(SUM(file_size_mb), 0) FROM audio_files WHERE user_id = ?1),"
        " (SELECT COALESCE(SUM(file_size_mb), 0) FROM models WHERE user_id = ?1)";
    memset(out, 0, sizeof *out);
    store_lock(s);
    db_stmt *st;
    int rc = store_prepare(s, SQL, &st, err);
    if (!rc) {
        db_bind_text(st, 1, user_id);
        if (db_step(st, err) == 1) {
            out->uploads = db_col_int64(st, 0);
            out->upload_bytes = db_col_int64(st, 1);
            out->audio_bytes = (int64_t)(db_col_double(st, 2) * 1024.0 * 1024.0);
            out->model_bytes = (int64_t)(db_col_double(st, 3) * 1024.0 * 1024.0);
        } else {
            rc = vc_fail(err, VC_ERR_IO, "reading the user's usage failed");
        }
        db_finalize(st);
    }
    store_unlock(s);
    return rc;
}
