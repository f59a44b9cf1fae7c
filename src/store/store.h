/*
 * The studio's durable state: one database for metadata — the embedded SQLite file (WAL,
 * synchronous=NORMAL; the default) or a shared PostgreSQL server (scale-out, see db.h and
 * docs/OPERATIONS.md) — and a folder tree under the data root for the bytes (brief §4.4), which
 * every node of a scale-out deployment mounts:
 *
 *   data/studio.db                         metadata (this module's schema + other modules')
 *   data/uploads/training/{user}/{id}.wav  training audio
 *   data/uploads/target/{user}/{id}.wav    audio to convert
 *   data/uploads/reference/{user}/{id}.wav quick-clone reference clips
 *   data/uploads/tmp/                      uploads in flight (tus .part files, chunk folders)
 *   data/models/{model_id}/                model.pth, config.json, model.index
 *   data/outputs/{user}/{id}.wav           generated audio
 *   data/weights/                          official model weights (voiceclone models pull)
 *
 * Invariant: a row that calls a file complete is written only after the file was published
 * through the file layer (files.h: staged, then fsync + rename into place), so a crash never
 * leaves a half file the database trusts.
 *
 * Thread safety: one connection guarded by the store's mutex; every store_* call takes it.
 * Other modules (jobs) that need their own statements use store_lock()/store_db()/store_unlock()
 * and the db.h seam (never SQLite or libpq directly).
 */
#ifndef VC_STORE_H
#define VC_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "base/fs.h" /* mkdirs, atomic writes, remove_tree: used with store paths everywhere */
#include "store/db.h"
#include "store/files.h"

typedef struct store store;

/* A module's schema history: applied in order, each version once, recorded in schema_version. */
typedef struct store_migration {
    int version;      /* 1, 2, 3 … per module */
    const char *sql;  /* one or more statements (SQLite; also PostgreSQL when pg_sql is NULL) */
    const char *pg_sql; /* the PostgreSQL spelling where DDL differs */
} store_migration;

typedef struct store_migration_set {
    const char *module;              /* "core", "jobs", … */
    const store_migration *steps;
    size_t n_steps;
} store_migration_set;

/* PostgreSQL's spelling of SQLite's strftime('%Y-%m-%dT%H:%M:%SZ','now') column default. */
#define STORE_PG_NOW "(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"

/* Every module's migrations, in dependency order (src/store/migrations.c). A new module adds one
 * row there pointing at its own array; nothing else changes. */
extern const store_migration_set *const STORE_MIGRATION_SETS[];

/* Opens (creating folders, database and schema as needed) the store rooted at data_dir, with its
 * metadata in data_dir/studio.db (SQLite). */
int store_open(store **out, const char *data_dir, vc_error *err);
/* The same with the metadata in the database at db_url (postgres://… or sqlite:PATH); NULL or ""
 * = data_dir/studio.db. Files stay under data_dir. */
int store_open_url(store **out, const char *data_dir, const char *db_url, vc_error *err);
/* PostgreSQL: a second handle on an open store's database and data root, with a connection and
 * lock of its own (no migration), so that threads holding different handles query in parallel
 * instead of queueing on one connection (the job scheduler's lane threads). Closed with
 * store_close, before or after the first. VC_ERR_INVALID_REQUEST on SQLite, where one process
 * keeps one connection (its write lock would make a second one wait anyway). */
int store_open_conn(store **out, const store *open, vc_error *err);
/* The url the store was opened with (for a second connection, e.g. LISTEN). */
const char *store_url(const store *s);
db_dialect store_dialect(const store *s);
void store_close(store *s);
const char *store_root(const store *s);
/* The file layer holding the store's audio, models and outputs (files.h): keys are the
 * file_path values of the rows. Writers publish through it and insert the row afterwards. */
file_store *store_files(store *s);

void store_lock(store *s);
void store_unlock(store *s);
db *store_db(store *s); /* only between store_lock and store_unlock */

/* Runs sql (no results) under the lock; for tests and simple maintenance. */
int store_exec(store *s, const char *sql, vc_error *err);

/* Removes crash leftovers under the data root that nothing changed for min_age_seconds before now_s:
 * temp files of atomic writes ("*.tmp.XXXXXX", "*.tmp<pid>") and voice-import staging folders
 * (models/.import-*). A live write keeps touching its file, so it is never removed
 * (store_leftovers.c). *removed counts files and folders. */
int store_sweep_leftovers(store *s, int64_t now_s, double min_age_seconds, int *removed, vc_error *err);

/* ---- ids and paths (store_files.c) ---- */
#define STORE_ID_MAX 72

/* prefix + "_" + 24 random hex digits, e.g. audio_3f9a0c… */
int store_new_id(const char *prefix, char out[STORE_ID_MAX], vc_error *err);
/* True when id can be used in a path: 1–64 of [A-Za-z0-9_-]. Everything from a URL goes
 * through this before any lookup, so "../x" is simply not found. */
int store_id_valid(const char *id);
/* root + "/" + rel into out; -1 (VC_ERR_INTERNAL) when it does not fit. */
int store_path(const store *s, char *out, size_t cap, const char *rel_fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Current time as "YYYY-MM-DDTHH:MM:SSZ". */
void store_now_iso(char out[32]);
/* lowercase hex sha256 of a string */
void store_sha256_hex(const char *text, char out[65]);

/* ---- users and API keys (store_users.c) ---- */
int store_user_ensure(store *s, const char *user_id, vc_error *err);
/* Creates a key for user (created if needed); writes the secret (shown once) and its id. */
int store_key_create(store *s, const char *user_id, char secret[80], char key_id[STORE_ID_MAX], vc_error *err);
/* 1 = found (user_id filled), 0 = no such active key, -1 = error. */
int store_key_lookup(store *s, const char *secret, char user_id[STORE_ID_MAX], vc_error *err);
/* Number of active (not revoked) keys, or -1. */
int store_key_count(store *s, vc_error *err);
int store_key_revoke(store *s, const char *key_id, vc_error *err);

/* ---- audio files (store_audio.c) ---- */
typedef struct store_audio {
    char audio_id[STORE_ID_MAX];
    char user_id[STORE_ID_MAX];
    char filename[256];
    char file_path[512];   /* relative to the data root */
    char purpose[16];      /* training | target | reference | output */
    char format[16];       /* of the uploaded original */
    char created_at[32];
    double file_size_mb;
    double duration_seconds;
    double snr_db;
    int sample_rate;
    int channels;
    char *analysis_json;   /* quality_analysis object as JSON text, owned; may be NULL */
    char warning[256];
} store_audio;

int store_audio_insert(store *s, const store_audio *a, vc_error *err);
/* Fills a for (user, id); VC_ERR_AUDIO_NOT_FOUND when absent or another user's. */
int store_audio_get(store *s, const char *user_id, const char *audio_id, store_audio *a, vc_error *err);
int store_audio_delete(store *s, const char *user_id, const char *audio_id, vc_error *err);
/* Calls fn for each of the user's audio files (purpose NULL = all), newest first; a is only valid
 * during the call. */
int store_audio_list(store *s, const char *user_id, const char *purpose, int (*fn)(const store_audio *a, void *ctx),
                     void *ctx, vc_error *err);
void store_audio_free(store_audio *a);

/* ---- uploads in flight (store_uploads.c) ---- */
typedef struct store_upload {
    char upload_id[STORE_ID_MAX];
    char user_id[STORE_ID_MAX];
    char kind[12];         /* "tus" | "chunked" */
    char purpose[16];
    char filename[256];
    int64_t length;        /* tus: Upload-Length; chunked: bytes received so far */
    int64_t offset;        /* tus: bytes durable in the .part file */
    int total_chunks;      /* chunked only */
    char chunks[1025];     /* chunked: '0'/'1' per chunk index */
    int64_t expires_at;    /* unix seconds */
    char state[16];        /* receiving | assembling | complete | failed */
    char audio_id[STORE_ID_MAX]; /* set when complete */
} store_upload;

#define STORE_MAX_CHUNKS 1024

int store_upload_insert(store *s, const store_upload *u, vc_error *err);
int store_upload_get(store *s, const char *user_id, const char *upload_id, store_upload *u, vc_error *err);
int store_upload_update(store *s, const store_upload *u, vc_error *err);
int store_upload_delete(store *s, const char *upload_id, vc_error *err);
/* Atomically marks chunk index received; sets *claim_assembly to 1 for exactly one caller, the one
 * whose chunk completed the set (state becomes "assembling"). Fills u with the updated row. */
int store_upload_mark_chunk(store *s, const char *user_id, const char *upload_id, int index, int64_t bytes,
                            store_upload *u, int *claim_assembly, vc_error *err);

/* Calls fn for every unfinished upload whose expires_at is not after now (unix seconds). */
int store_upload_each_expired(store *s, int64_t now, int (*fn)(const store_upload *u, void *ctx), void *ctx,
                              vc_error *err);
/* After a restart nobody is assembling: "assembling" rows go back to "receiving" so that a retried
 * chunk claims the assembly again. */
int store_upload_reset_assembling(store *s, vc_error *err);
/* What a user holds, for quotas: uploads in flight, the bytes they declared, stored audio bytes. */
/* audio_bytes: stored recordings; model_bytes: stored voices (.pth + .index, imported or trained). */
typedef struct store_usage { int64_t uploads, upload_bytes, audio_bytes, model_bytes; } store_usage;
int store_user_usage(store *s, const char *user_id, store_usage *out, vc_error *err);
/* tus uploads whose bytes all arrived (offset = length) but that never became audio (a crash
 * between "bytes durable" and "audio stored"): startup recovery finishes them. */
int store_upload_each_unfinished_tus(store *s, int64_t now, int (*fn)(const store_upload *u, void *ctx), void *ctx,
                                     vc_error *err);

/* ---- models (store_models.c) ---- */
typedef struct store_model {
    char model_id[STORE_ID_MAX];
    char user_id[STORE_ID_MAX];
    char name[128];
    char created_at[32];
    char kind[16];                    /* "rvc" */
    int training_duration_minutes;
    char quality_grade[4];
    double final_loss;
    double training_audio_duration_seconds;
    double file_size_mb;
    char file_path[512];              /* folder relative to the data root: models/{id} */
    /* read from the voice file at import/training (0 / "" for rows written before they existed) */
    int sample_rate;                  /* output rate, Hz */
    char version[8];                  /* "v1" | "v2" */
    int f0;                           /* 1: pitch-guided */
    int has_index;                    /* 1: models/{id}/model.index exists */
} store_model;

int store_model_insert(store *s, const store_model *m, vc_error *err);
/* Records a model whose files were just published under m->file_path (rvc_import_files): inserts
 * the row and re-reads it into m (created_at as stored); when the row cannot be written the files
 * are removed, so nothing is left that no row points at. */
int store_model_record(store *s, store_model *m, vc_error *err);
int store_model_get(store *s, const char *user_id, const char *model_id, store_model *m, vc_error *err);
/* Calls fn for each of the user's models, newest first. */
int store_model_list(store *s, const char *user_id, int (*fn)(const store_model *m, void *ctx), void *ctx,
                     vc_error *err);
/* Removes the row and the model folder; VC_ERR_MODEL_NOT_FOUND when absent or another user's. */
int store_model_delete(store *s, const char *user_id, const char *model_id, vc_error *err);
/* Sets the model's display name; VC_ERR_MODEL_NOT_FOUND when absent or another user's. */
int store_model_rename(store *s, const char *user_id, const char *model_id, const char *name, vc_error *err);

/* ---- instant voices (store_voices.c): a saved quick-clone reference clip + its transcript ---- */
typedef struct store_voice {
    char voice_id[STORE_ID_MAX];
    char user_id[STORE_ID_MAX];
    char name[128];
    char audio_id[STORE_ID_MAX];   /* the reference clip (an audio_files row of the same user) */
    char *reference_text;          /* what the clip says, owned; "" = unknown (transcribed at use) */
    char created_at[32];
    double duration_seconds;       /* of the clip, from its audio row */
    int audio_present;             /* 0 when the clip's row is gone (never in normal use) */
} store_voice;

/* Inserts v (voice_id, user_id, name, audio_id, reference_text); VC_ERR_AUDIO_NOT_FOUND when the
 * clip is not one of the user's audio files. */
int store_voice_insert(store *s, const store_voice *v, vc_error *err);
/* VC_ERR_MODEL_NOT_FOUND when absent or another user's; free with store_voice_free. */
int store_voice_get(store *s, const char *user_id, const char *voice_id, store_voice *v, vc_error *err);
/* Calls fn for each of the user's voices, newest first; v is only valid during the call. */
int store_voice_list(store *s, const char *user_id, int (*fn)(const store_voice *v, void *ctx), void *ctx,
                     vc_error *err);
/* Sets name and/or reference_text (NULL = keep); VC_ERR_MODEL_NOT_FOUND when absent. */
int store_voice_update(store *s, const char *user_id, const char *voice_id, const char *name,
                       const char *reference_text, vc_error *err);
/* Removes the row only: the clip stays an ordinary upload (retention then ages it out). */
int store_voice_delete(store *s, const char *user_id, const char *voice_id, vc_error *err);
/* Caller holds the store lock. 1 = a voice uses audio_id (its name in name), 0 = none, -1 = error. */
int store_voice_naming_audio(store *s, const char *audio_id, char name[128], vc_error *err);
void store_voice_free(store_voice *v);

#endif
