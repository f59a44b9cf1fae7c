/*
 * Instant voices (voices rows): a quick-clone reference clip saved under a name with its
 * transcript, so F5-TTS can reuse it without a new upload (ElevenLabs' "instant clones"). The clip
 * stays the audio_files row it was uploaded as; the voice only points at it. While a voice points
 * at an audio file, the retention sweep keeps the file (src/jobs/retention.c) and deleting the file
 * is refused (store_audio_delete), so a saved voice never loses its sample behind the user's back.
 * Deleting the voice removes only its row; the clip then ages out like any other upload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

#define VOICE_COLS "v.voice_id, v.user_id, v.name, v.audio_id, v.reference_text, v.created_at, " \
                   "COALESCE(a.duration_seconds, 0), CASE WHEN a.audio_id IS NULL THEN 0 ELSE 1 END"
#define VOICE_FROM " FROM voices v LEFT JOIN audio_files a ON a.audio_id = v.audio_id AND a.user_id = v.user_id "

static const store_migration VOICE_STEPS[] = {
    {1,
     "CREATE TABLE voices (voice_id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(user_id), "
     "  name TEXT NOT NULL, audio_id TEXT NOT NULL, reference_text TEXT NOT NULL DEFAULT '', "
     "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"
     "CREATE INDEX idx_voices_user ON voices(user_id);"
     "CREATE INDEX idx_voices_audio ON voices(audio_id);",
     "CREATE TABLE voices (voice_id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(user_id), "
     "  name TEXT NOT NULL, audio_id TEXT NOT NULL, reference_text TEXT NOT NULL DEFAULT '', "
     "  created_at TEXT NOT NULL DEFAULT " STORE_PG_NOW ");"
     "CREATE INDEX idx_voices_user ON voices(user_id);"
     "CREATE INDEX idx_voices_audio ON voices(audio_id);"},
};

const store_migration_set VOICES_MIGRATIONS = {"voices", VOICE_STEPS, sizeof VOICE_STEPS / sizeof VOICE_STEPS[0]};

static int read_row(db_stmt *st, store_voice *v, vc_error *err)
{
    memset(v, 0, sizeof *v);
    store_col_text(st, 0, v->voice_id, sizeof v->voice_id);
    store_col_text(st, 1, v->user_id, sizeof v->user_id);
    store_col_text(st, 2, v->name, sizeof v->name);
    store_col_text(st, 3, v->audio_id, sizeof v->audio_id);
    const char *text = db_col_text(st, 4);
    if (!(v->reference_text = strdup(text ? text : ""))) return vc_fail(err, VC_ERR_NOMEM, "out of memory reading a voice");
    store_col_text(st, 5, v->created_at, sizeof v->created_at);
    v->duration_seconds = db_col_double(st, 6);
    v->audio_present = db_col_int(st, 7);
    return 0;
}

void store_voice_free(store_voice *v)
{
    free(v->reference_text);
    v->reference_text = NULL;
}

int store_voice_insert(store *s, const store_voice *v, vc_error *err)
{
    store_audio a;
    if (store_audio_get(s, v->user_id, v->audio_id, &a, err)) return -1; /* only the user's own clip */
    store_audio_free(&a);
    store_lock(s);
    db_stmt *st;
    int rc = store_prepare(s, "INSERT INTO voices(voice_id, user_id, name, audio_id, reference_text) VALUES (?,?,?,?,?)",
                           &st, err);
    if (!rc) {
        db_bind_text(st, 1, v->voice_id);
        db_bind_text(st, 2, v->user_id);
        db_bind_text(st, 3, v->name);
        db_bind_text(st, 4, v->audio_id);
        db_bind_text(st, 5, v->reference_text ? v->reference_text : "");
        rc = store_step_done(s, st, err);
    }
    store_unlock(s);
    return rc;
}

int store_voice_get(store *s, const char *user_id, const char *voice_id, store_voice *v, vc_error *err)
{
    static const char SQL[] = "SELECT " VOICE_COLS VOICE_FROM "WHERE v.voice_id=? AND v.user_id=?";
    store_lock(s);
    db_stmt *st;
    int rc = store_cached(s, SQL, &st, err);
    if (!rc) {
        db_bind_text(st, 1, voice_id);
        db_bind_text(st, 2, user_id);
        int step = db_step(st, err);
        if (step == 1)
            rc = read_row(st, v, err);
        else
            rc = step < 0 ? -1 : vc_fail(err, VC_ERR_MODEL_NOT_FOUND, "voice %s not found", voice_id);
        store_cached_done(st);
    }
    store_unlock(s);
    return rc;
}

int store_voice_list(store *s, const char *user_id, int (*fn)(const store_voice *v, void *ctx), void *ctx,
                     vc_error *err)
{
    static const char SQL[] = "SELECT " VOICE_COLS VOICE_FROM "WHERE v.user_id=? ORDER BY v.created_at DESC, v.voice_id";
    store_lock(s);
    db_stmt *st;
    int rc = store_cached(s, SQL, &st, err);
    if (!rc) {
        db_bind_text(st, 1, user_id);
        store_voice v;
        int step;
        while (!rc && (step = db_step(st, err)) == 1) {
            rc = read_row(st, &v, err);
            if (!rc) rc = fn(&v, ctx);
            store_voice_free(&v);
        }
        if (!rc && step < 0) rc = -1;
        store_cached_done(st);
    }
    store_unlock(s);
    return rc;
}

int store_voice_update(store *s, const char *user_id, const char *voice_id, const char *name,
                       const char *reference_text, vc_error *err)
{
    store_voice v;
    if (store_voice_get(s, user_id, voice_id, &v, err)) return -1; /* VC_ERR_MODEL_NOT_FOUND */
    store_lock(s);
    db_stmt *st;
    int rc = store_prepare(s, "UPDATE voices SET name=?, reference_text=? WHERE voice_id=? AND user_id=?", &st, err);
    if (!rc) {
        db_bind_text(st, 1, name ? name : v.name);
        db_bind_text(st, 2, reference_text ? reference_text : v.reference_text);
        db_bind_text(st, 3, voice_id);
        db_bind_text(st, 4, user_id);
        rc = store_step_done(s, st, err);
    }
    store_unlock(s);
    store_voice_free(&v);
    return rc;
}

int store_voice_delete(store *s, const char *user_id, const char *voice_id, vc_error *err)
{
    store_voice v;
    if (store_voice_get(s, user_id, voice_id, &v, err)) return -1;
    store_voice_free(&v);
    store_lock(s);
    db_stmt *st;
    int rc = store_prepare(s, "DELETE FROM voices WHERE voice_id=? AND user_id=?", &st, err);
    if (!rc) {
        db_bind_text(st, 1, voice_id);
        db_bind_text(st, 2, user_id);
        rc = store_step_done(s, st, err);
    }
    store_unlock(s);
    return rc;
}

int store_voice_naming_audio(store *s, const char *audio_id, char name[128], vc_error *err)
{
    static const char SQL[] = "SELECT name FROM voices WHERE audio_id=? ORDER BY created_at, voice_id LIMIT 1";
    db_stmt *st;
    int rc = store_cached(s, SQL, &st, err); /* the caller holds the lock */
    if (rc) return -1;
    db_bind_text(st, 1, audio_id);
    int step = db_step(st, err);
    if (step == 1) store_col_text(st, 0, name, 128);
    store_cached_done(st);
    return step < 0 ? -1 : step;
}
