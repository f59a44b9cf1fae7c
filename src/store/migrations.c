/*
 * The schema, as per-module migration lists. A step whose DDL differs on PostgreSQL carries both
 * spellings (sql, pg_sql); the two must describe the same tables and columns. To add a module's tables (jobs, job_events …),
 * define a `store_migration_set` in that module's own file and add one row to
 * STORE_MIGRATION_SETS below; never edit a step that has shipped — append a new version.
 */
#include "store/store.h"

extern const store_migration_set JOBS_MIGRATIONS;   /* src/jobs/jobs_store.c */
extern const store_migration_set MODELS_MIGRATIONS; /* src/store/store_models.c */
extern const store_migration_set VOICES_MIGRATIONS; /* src/store/store_voices.c */

/* Brief Appendix B (users, models, audio_files) plus api_keys and uploads. Timestamps are ISO
 * 8601 UTC text so they can be returned as-is. */
static const store_migration CORE_STEPS[] = {
    {1,
     "CREATE TABLE users (user_id TEXT PRIMARY KEY, "
     "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')), email TEXT UNIQUE);"
     "CREATE TABLE api_keys (key_id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(user_id), "
     "  key_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')), "
     "  revoked_at TEXT);"
     "CREATE TABLE models (model_id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(user_id), "
     "  name TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')), "
     "  training_duration_minutes INTEGER, quality_grade TEXT, final_loss REAL, "
     "  training_audio_duration_seconds REAL, file_size_mb REAL, file_path TEXT, kind TEXT NOT NULL DEFAULT 'rvc');"
     "CREATE TABLE audio_files (audio_id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(user_id), "
     "  filename TEXT NOT NULL, file_path TEXT NOT NULL, file_size_mb REAL, duration_seconds REAL, snr_db REAL, "
     "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')), purpose TEXT, "
     "  sample_rate INTEGER, channels INTEGER, format TEXT, analysis_json TEXT, warning TEXT);"
     "CREATE TABLE uploads (upload_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, kind TEXT NOT NULL, "
     "  purpose TEXT NOT NULL, filename TEXT NOT NULL, length INTEGER NOT NULL DEFAULT 0, "
     "  offset INTEGER NOT NULL DEFAULT 0, total_chunks INTEGER NOT NULL DEFAULT 0, chunks TEXT NOT NULL DEFAULT '', "
     "  expires_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'receiving', audio_id TEXT, "
     "  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')));"
     "CREATE INDEX idx_models_user ON models(user_id);"
     "CREATE INDEX idx_audio_user ON audio_files(user_id);"
     "CREATE INDEX idx_uploads_expires ON uploads(expires_at);",
     /* PostgreSQL: 8-byte reals and integers where SQLite's are 8 bytes anyway; "offset" is a
      * reserved word there (every statement quotes it). */
     "CREATE TABLE users (user_id TEXT PRIMARY KEY, created_at TEXT NOT NULL DEFAULT " STORE_PG_NOW ", "
     "  email TEXT UNIQUE);"
     "CREATE TABLE api_keys (key_id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(user_id), "
     "  key_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL DEFAULT " STORE_PG_NOW ", revoked_at TEXT);"
     "CREATE TABLE models (model_id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(user_id), "
     "  name TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT " STORE_PG_NOW ", "
     "  training_duration_minutes INTEGER, quality_grade TEXT, final_loss DOUBLE PRECISION, "
     "  training_audio_duration_seconds DOUBLE PRECISION, file_size_mb DOUBLE PRECISION, file_path TEXT, "
     "  kind TEXT NOT NULL DEFAULT 'rvc');"
     "CREATE TABLE audio_files (audio_id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(user_id), "
     "  filename TEXT NOT NULL, file_path TEXT NOT NULL, file_size_mb DOUBLE PRECISION, "
     "  duration_seconds DOUBLE PRECISION, snr_db DOUBLE PRECISION, "
     "  created_at TEXT NOT NULL DEFAULT " STORE_PG_NOW ", purpose TEXT, "
     "  sample_rate INTEGER, channels INTEGER, format TEXT, analysis_json TEXT, warning TEXT);"
     "CREATE TABLE uploads (upload_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, kind TEXT NOT NULL, "
     "  purpose TEXT NOT NULL, filename TEXT NOT NULL, length BIGINT NOT NULL DEFAULT 0, "
     "  \"offset\" BIGINT NOT NULL DEFAULT 0, total_chunks INTEGER NOT NULL DEFAULT 0, chunks TEXT NOT NULL DEFAULT '', "
     "  expires_at BIGINT NOT NULL, state TEXT NOT NULL DEFAULT 'receiving', audio_id TEXT, "
     "  created_at TEXT NOT NULL DEFAULT " STORE_PG_NOW ");"
     "CREATE INDEX idx_models_user ON models(user_id);"
     "CREATE INDEX idx_audio_user ON audio_files(user_id);"
     "CREATE INDEX idx_uploads_expires ON uploads(expires_at);"},
};

static const store_migration_set CORE_SET = {"core", CORE_STEPS, sizeof CORE_STEPS / sizeof CORE_STEPS[0]};

const store_migration_set *const STORE_MIGRATION_SETS[] = {
    &CORE_SET,
    &JOBS_MIGRATIONS,
    &MODELS_MIGRATIONS,
    &VOICES_MIGRATIONS,
    0,
};
