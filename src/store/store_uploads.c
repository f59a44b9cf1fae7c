/*
 * Rows for uploads in flight (tus and chunked multipart). The chunk bitmap lives in the row so
 * that "which chunk completed the set" is decided inside one transaction: exactly one request
 * assembles the file, however the chunks race.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

static const char *COLS =
    "upload_id, user_id, kind, purpose, filename, length, offset, total_chunks, chunks, expires_at, state, audio_id";

static void read_row(sqlite3_stmt *st, store_upload *u)
{
    memset(u, 0, sizeof *u);
    store_col_text(st, 0, u->upload_id, sizeof u->upload_id);
    store_col_text(st, 1, u->user_id, sizeof u->user_id);
    store_col_text(st, 2, u->kind, sizeof u->kind);
    store_col_text(st, 3, u->purpose, sizeof u->purpose);
    store_col_text(st, 4, u->filename, sizeof u->filename);
    u->length = sqlite3_column_int64(st, 5);
    u->offset = sqlite3_column_int64(st, 6);
    u->total_chunks = sqlite3_column_int(st, 7);
    store_col_text(st, 8, u->chunks, sizeof u->chunks);
    u->expires_at = sqlite3_column_int64(st, 9);
    store_col_text(st, 10, u->state, sizeof u->state);
    store_col_text(st, 11, u->audio_id, sizeof u->audio_id);
}

static void bind_row(sqlite3_stmt *st, const store_upload *u)
{
    sqlite3_bind_text(st, 1, u->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, u->user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, u->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, u->purpose, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, u->filename, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, u->length);
    sqlite3_bind_int64(st, 7, u->offset);
    sqlite3_bind_int(st, 8, u->total_chunks);
    sqlite3_bind_text(st, 9, u->chunks, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, u->expires_at);
    sqlite3_bind_text(st, 11, u->state, -1, SQLITE_STATIC);
    if (u->audio_id[0]) sqlite3_bind_text(st, 12, u->audio_id, -1, SQLITE_STATIC);
}

static int write_row(store *s, const char *verb, const store_upload *u, vc_error *err)
{
    char sql[400];
    snprintf(sql, sizeof sql, "%s INTO uploads(%s) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", verb, COLS);
    sqlite3_stmt *st;
    if (store_prepare(s, sql, &st, err)) return -1;
    bind_row(st, u);
    return store_step_done(s, st, err);
}

int store_upload_insert(store *s, const store_upload *u, vc_error *err)
{
    store_lock(s);
    int rc = write_row(s, "INSERT", u, err);
    store_unlock(s);
    return rc;
}

int store_upload_update(store *s, const store_upload *u, vc_error *err)
{
    store_lock(s);
    int rc = write_row(s, "REPLACE", u, err);
    store_unlock(s);
    return rc;
}

static int get_unlocked(store *s, const char *user_id, const char *upload_id, store_upload *u, vc_error *err)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT %s FROM uploads WHERE upload_id=? AND user_id=?", COLS);
    sqlite3_stmt *st;
    if (store_prepare(s, sql, &st, err)) return -1;
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, user_id, -1, SQLITE_STATIC);
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        read_row(st, u);
    else
        rc = vc_fail(err, VC_ERR_NOT_FOUND, "upload %s not found", upload_id);
    sqlite3_finalize(st);
    return rc;
}

int store_upload_get(store *s, const char *user_id, const char *upload_id, store_upload *u, vc_error *err)
{
    store_lock(s);
    int rc = get_unlocked(s, user_id, upload_id, u, err);
    store_unlock(s);
    return rc;
}

int store_upload_delete(store *s, const char *upload_id, vc_error *err)
{
    store_lock(s);
    sqlite3_stmt *st;
    int rc = store_prepare(s, "DELETE FROM uploads WHERE upload_id=?", &st, err);
    if (!rc) {
        sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_STATIC);
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
    int rc = get_unlocked(s, user_id, upload_id, u, err);
    if (!rc && (index < 0 || index >= u->total_chunks))
        rc = vc_fail(err, VC_ERR_INVALID_REQUEST, "chunk_index %d outside 0..%d", index, u->total_chunks - 1);
    if (!rc && strcmp(u->state, "receiving") == 0) {
        if (u->chunks[index] != '1') u->length += bytes; /* a retried chunk is counted once */
        u->chunks[index] = '1';
        if (!strchr(u->chunks, '0')) {
            snprintf(u->state, sizeof u->state, "assembling");
            *claim_assembly = 1;
        }
        rc = write_row(s, "REPLACE", u, err);
    }
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
    sqlite3_stmt *st;
    int rc = store_prepare(s, sql, &st, err);
    if (!rc) {
        if (strchr(where, '?')) sqlite3_bind_int64(st, 1, now);
        while (sqlite3_step(st) == SQLITE_ROW) {
            store_upload *grown = realloc(list, (n + 1) * sizeof *list);
            if (!grown) break;
            list = grown;
            read_row(st, &list[n++]);
        }
        sqlite3_finalize(st);
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
        " (SELECT COALESCE(SUM(file_size_mb), 0) FROM audio_files WHERE user_id = ?1)";
    memset(out, 0, sizeof *out);
    store_lock(s);
    sqlite3_stmt *st;
    int rc = store_prepare(s, SQL, &st, err);
    if (!rc) {
        sqlite3_bind_text(st, 1, user_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            out->uploads = sqlite3_column_int64(st, 0);
            out->upload_bytes = sqlite3_column_int64(st, 1);
            out->audio_bytes = (int64_t)(sqlite3_column_double(st, 2) * 1024.0 * 1024.0);
        } else {
            rc = vc_fail(err, VC_ERR_IO, "reading the user's usage failed");
        }
        sqlite3_finalize(st);
    }
    store_unlock(s);
    return rc;
}
