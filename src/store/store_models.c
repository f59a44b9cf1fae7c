/*
 * models rows and their folders (data/models/{id}/). Deleting removes the row first, then the
 * folder, so a crash in between leaves an orphan folder (harmless), never a row without files.
 * The voice metadata columns (sample_rate, version, f0, has_index) are this file's own migration
 * set ("models"), added when voices began to be imported.
 */
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"

#define MODEL_COLS "model_id, user_id, name, created_at, kind, training_duration_minutes, quality_grade, " \
                          "final_loss, training_audio_duration_seconds, file_size_mb, file_path, sample_rate, version, " \
                          "f0, has_index"

static const store_migration MODEL_STEPS[] = {
    {1, "ALTER TABLE models ADD COLUMN sample_rate INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE models ADD COLUMN version TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE models ADD COLUMN f0 INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE models ADD COLUMN has_index INTEGER NOT NULL DEFAULT 0;",
     NULL},
};

const store_migration_set MODELS_MIGRATIONS = {"models", MODEL_STEPS, sizeof MODEL_STEPS / sizeof MODEL_STEPS[0]};

static void read_row(db_stmt *st, store_model *m)
{
    memset(m, 0, sizeof *m);
    store_col_text(st, 0, m->model_id, sizeof m->model_id);
    store_col_text(st, 1, m->user_id, sizeof m->user_id);
    store_col_text(st, 2, m->name, sizeof m->name);
    store_col_text(st, 3, m->created_at, sizeof m->created_at);
    store_col_text(st, 4, m->kind, sizeof m->kind);
    m->training_duration_minutes = db_col_int(st, 5);
    store_col_text(st, 6, m->quality_grade, sizeof m->quality_grade);
    m->final_loss = db_col_double(st, 7);
    m->training_audio_duration_seconds = db_col_double(st, 8);
    m->file_size_mb = db_col_double(st, 9);
    store_col_text(st, 10, m->file_path, sizeof m->file_path);
    m->sample_rate = db_col_int(st, 11);
    store_col_text(st, 12, m->version, sizeof m->version);
    m->f0 = db_col_int(st, 13);
    m->has_index = db_col_int(st, 14);
}

int store_model_insert(store *s, const store_model *m, vc_error *err)
{
    if (store_user_ensure(s, m->user_id, err)) return -1;
    store_lock(s);
    db_stmt *st;
    int rc = store_prepare(s,
                           "INSERT INTO models(model_id, user_id, name, kind, training_duration_minutes, quality_grade, "
                           "final_loss, training_audio_duration_seconds, file_size_mb, file_path, sample_rate, version, f0, "
                           "has_index) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           &st, err);
    if (!rc) {
        db_bind_text(st, 1, m->model_id);
        db_bind_text(st, 2, m->user_id);
        db_bind_text(st, 3, m->name);
        db_bind_text(st, 4, m->kind[0] ? m->kind : "rvc");
        db_bind_int64(st, 5, m->training_duration_minutes);
        db_bind_text(st, 6, m->quality_grade);
        db_bind_double(st, 7, m->final_loss);
        db_bind_double(st, 8, m->training_audio_duration_seconds);
        db_bind_double(st, 9, m->file_size_mb);
        db_bind_text(st, 10, m->file_path);
        db_bind_int64(st, 11, m->sample_rate);
        db_bind_text(st, 12, m->version);
        db_bind_int64(st, 13, m->f0);
        db_bind_int64(st, 14, m->has_index);
        rc = store_step_done(s, st, err);
    }
    store_unlock(s);
    return rc;
}

int store_model_record(store *s, store_model *m, vc_error *err)
{
    char key[STORE_ID_MAX + 8];
    snprintf(key, sizeof key, "models/%s", m->model_id); /* never trust a path for a recursive delete */
    if (store_model_insert(s, m, err) != 0) {
        files_remove(s->files, key, NULL);
        return -1;
    }
    return store_model_get(s, m->user_id, m->model_id, m, err);
}

int store_model_get(store *s, const char *user_id, const char *model_id, store_model *m, vc_error *err)
{
    static const char SQL[] = "SELECT " MODEL_COLS " FROM models WHERE model_id=? AND user_id=?";
    store_lock(s);
    db_stmt *st;
    int rc = store_cached(s, SQL, &st, err);
    if (!rc) {
        db_bind_text(st, 1, model_id);
        db_bind_text(st, 2, user_id);
        int step = db_step(st, err);
        if (step == 1)
            read_row(st, m);
        else
            rc = step < 0 ? -1 : vc_fail(err, VC_ERR_MODEL_NOT_FOUND, "model %s not found", model_id);
        store_cached_done(st);
    }
    store_unlock(s);
    return rc;
}

int store_model_list(store *s, const char *user_id, int (*fn)(const store_model *m, void *ctx), void *ctx,
                     vc_error *err)
{
    static const char SQL[] = "SELECT " MODEL_COLS " FROM models WHERE user_id=? ORDER BY created_at DESC, model_id";
    store_lock(s);
    db_stmt *st;
    int rc = store_cached(s, SQL, &st, err);
    if (!rc) {
        db_bind_text(st, 1, user_id);
        store_model m;
        int step;
        while (!rc && (step = db_step(st, err)) == 1) {
            read_row(st, &m);
            rc = fn(&m, ctx);
        }
        if (!rc && step < 0) rc = -1;
        store_cached_done(st);
    }
    store_unlock(s);
    return rc;
}

int store_model_delete(store *s, const char *user_id, const char *model_id, vc_error *err)
{
    store_model m;
    if (store_model_get(s, user_id, model_id, &m, err)) return -1;
    store_lock(s);
    db_stmt *st;
    int rc = store_prepare(s, "DELETE FROM models WHERE model_id=? AND user_id=?", &st, err);
    if (!rc) {
        db_bind_text(st, 1, model_id);
        db_bind_text(st, 2, user_id);
        rc = store_step_done(s, st, err);
    }
    store_unlock(s);
    char key[STORE_ID_MAX + 8];
    /* the folder is always models/{id}: never trust a stored path for a recursive delete */
    snprintf(key, sizeof key, "models/%s", model_id);
    if (!rc) rc = files_remove(s->files, key, err);
    return rc;
}

int store_model_rename(store *s, const char *user_id, const char *model_id, const char *name, vc_error *err)
{
    store_model m;
    if (store_model_get(s, user_id, model_id, &m, err)) return -1; /* VC_ERR_MODEL_NOT_FOUND */
    store_lock(s);
    db_stmt *st;
    int rc = store_prepare(s, "UPDATE models SET name=? WHERE model_id=? AND user_id=?", &st, err);
    if (!rc) {
        db_bind_text(st, 1, name);
        db_bind_text(st, 2, model_id);
        db_bind_text(st, 3, user_id);
        rc = store_step_done(s, st, err);
    }
    store_unlock(s);
    return rc;
}
