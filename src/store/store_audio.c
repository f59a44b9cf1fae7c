/*
 * audio_files rows. The row is inserted only after its WAV was renamed into place, and deleted
 * before its file, so the database never points at a half-written file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

int store_audio_insert(store *s, const store_audio *a, vc_error *err)
{
    static const char *SQL =
        "INSERT INTO audio_files(audio_id, user_id, filename, file_path, file_size_mb, duration_seconds, snr_db, "
        "purpose, sample_rate, channels, format, analysis_json, warning) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";
    if (store_user_ensure(s, a->user_id, err)) return -1;
    store_lock(s);
    db_stmt *st;
    int rc = store_prepare(s, SQL, &st, err);
    if (!rc) {
        db_bind_text(st, 1, a->audio_id);
        db_bind_text(st, 2, a->user_id);
        db_bind_text(st, 3, a->filename);
        db_bind_text(st, 4, a->file_path);
        db_bind_double(st, 5, a->file_size_mb);
        db_bind_double(st, 6, a->duration_seconds);
        db_bind_double(st, 7, a->snr_db);
        db_bind_text(st, 8, a->purpose);
        db_bind_int64(st, 9, a->sample_rate);
        db_bind_int64(st, 10, a->channels);
        db_bind_text(st, 11, a->format);
        if (a->analysis_json) db_bind_text(st, 12, a->analysis_json);
        db_bind_text(st, 13, a->warning);
        rc = store_step_done(s, st, err);
    }
    store_unlock(s);
    return rc;
}

#define AUDIO_COLS                                                                                        \
    "audio_id, user_id, filename, file_path, purpose, format, created_at, file_size_mb, duration_seconds, " \
    "snr_db, sample_rate, channels, analysis_json, warning"

/* analysis_json is strdup'd (owned by a). */
static void read_row(db_stmt *st, store_audio *a)
{
    memset(a, 0, sizeof *a);
    store_col_text(st, 0, a->audio_id, sizeof a->audio_id);
    store_col_text(st, 1, a->user_id, sizeof a->user_id);
    store_col_text(st, 2, a->filename, sizeof a->filename);
    store_col_text(st, 3, a->file_path, sizeof a->file_path);
    store_col_text(st, 4, a->purpose, sizeof a->purpose);
    store_col_text(st, 5, a->format, sizeof a->format);
    store_col_text(st, 6, a->created_at, sizeof a->created_at);
    a->file_size_mb = db_col_double(st, 7);
    a->duration_seconds = db_col_double(st, 8);
    a->snr_db = db_col_double(st, 9);
    a->sample_rate = db_col_int(st, 10);
    a->channels = db_col_int(st, 11);
    const char *j = db_col_text(st, 12);
    a->analysis_json = j ? strdup(j) : NULL;
    store_col_text(st, 13, a->warning, sizeof a->warning);
}

int store_audio_get(store *s, const char *user_id, const char *audio_id, store_audio *a, vc_error *err)
{
    static const char SQL[] = "SELECT " AUDIO_COLS " FROM audio_files WHERE audio_id=? AND user_id=?";
    memset(a, 0, sizeof *a);
    store_lock(s);
    db_stmt *st;
    int rc = store_cached(s, SQL, &st, err);
    if (!rc) {
        db_bind_text(st, 1, audio_id);
        db_bind_text(st, 2, user_id);
        int step = db_step(st, err);
        if (step == 1)
            read_row(st, a);
        else if (step == 0)
            rc = vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "audio %s not found", audio_id);
        else
            rc = -1;
        store_cached_done(st);
    }
    store_unlock(s);
    return rc;
}

int store_audio_delete(store *s, const char *user_id, const char *audio_id, vc_error *err)
{
    store_audio a;
    if (store_audio_get(s, user_id, audio_id, &a, err)) return -1;
    store_lock(s);
    db_stmt *st;
    char voice[128];
    int used = store_voice_naming_audio(s, audio_id, voice, err), rc = used ? -1 : 0;
    if (used > 0) /* a saved instant voice's clip: the voice would break */
        vc_fail(err, VC_ERR_CONFLICT, "audio %s is the sample of the saved voice '%s': delete the voice first", audio_id, voice);
    if (!rc) rc = store_prepare(s, "DELETE FROM audio_files WHERE audio_id=? AND user_id=?", &st, err);
    if (!rc) {
        db_bind_text(st, 1, audio_id);
        db_bind_text(st, 2, user_id);
        rc = store_step_done(s, st, err);
    }
    store_unlock(s);
    if (!rc) { /* the row is gone first: a failure here leaves an orphan for the retention sweep */
        char mp3[sizeof a.file_path + 8];
        snprintf(mp3, sizeof mp3, "%s.mp3", a.file_path);
        files_remove(s->files, a.file_path, NULL);
        files_remove(s->files, mp3, NULL);
    }
    store_audio_free(&a);
    return rc;
}

void store_audio_free(store_audio *a)
{
    free(a->analysis_json);
    a->analysis_json = NULL;
}

int store_audio_list(store *s, const char *user_id, const char *purpose, int (*fn)(const store_audio *a, void *ctx),
                     void *ctx, vc_error *err)
{
    static const char SQL[] = "SELECT " AUDIO_COLS " FROM audio_files WHERE user_id=?1 AND (?2 IS NULL OR purpose=?2) "
                              "ORDER BY created_at DESC, audio_id";
    store_lock(s);
    db_stmt *st;
    int rc = store_cached(s, SQL, &st, err);
    if (!rc) {
        db_bind_text(st, 1, user_id);
        if (purpose) db_bind_text(st, 2, purpose);
        store_audio a;
        int step;
        while (!rc && (step = db_step(st, err)) == 1) {
            read_row(st, &a);
            rc = fn(&a, ctx);
            store_audio_free(&a);
        }
        if (!rc && step < 0) rc = -1;
        store_cached_done(st);
    }
    store_unlock(s);
    return rc;
}
