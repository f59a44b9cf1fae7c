/*
 * What happens to every finished upload, whichever protocol brought it (tus, chunked multipart):
 * limits per purpose, decode by content, validate, analyse, write the mono WAV into place
 * atomically and only then insert the audio row. A failure stores nothing.
 */
#ifndef VC_SERVER_UPLOADS_H
#define VC_SERVER_UPLOADS_H

#include <stdint.h>

#include "audio/audio.h"
#include "audio/audio_json.h"
#include "server/server.h"

typedef struct upload_purpose {
    const char *name;       /* training | target | reference */
    int64_t max_bytes;
    double min_seconds, max_seconds;
    double min_snr_db;      /* 0 = not checked */
    int needs_speech;       /* silence-only is rejected */
} upload_purpose;

/* NULL for an unknown purpose. */
const upload_purpose *upload_purpose_find(const char *name);
/* The largest max_bytes of all purposes (limit for files analysed without storing). */
int64_t upload_max_bytes(void);

/* Validates src_path (the raw uploaded bytes) for purpose p and stores it as audio_id of the
 * request's user. On success *out is the audio JSON (as GET /api/audio/{id}); on failure r->err
 * (+ r->err_extra) is set and nothing was stored. src_path is left for the caller to remove. */
int upload_finish(server_request *r, const upload_purpose *p, const char *src_path, const char *audio_id,
                  const char *filename, json_t **out);

/* Extra error fields for FILE_TOO_LARGE: max_size_mb and a user_message naming the limit. */
json_t *upload_size_extra(int64_t max_bytes);

/* Decodes a file and analyses it: the quality_analysis object (+ duration). For unstored files. */
int upload_analyze_path(server_request *r, const char *path, json_t **quality, audio_file_info *info);

/* Startup housekeeping of data/uploads/tmp: removes bytes of expired uploads (tus rows stay as
 * "expired" tombstones so their URL answers 410), temp files of requests that were in flight when
 * the process died, and re-opens interrupted chunk assemblies. */
int upload_sweep(server_app *app, vc_error *err);
/* Finishes one tus upload whose bytes all arrived but that never became audio (res_tus.c);
 * logs the outcome, never fails startup. */
int tus_recover_upload(server_app *app, const store_upload *u);

/* {file_id, filename, purpose, duration_seconds, sample_rate, file_size_mb, created_at,
 *  quality_analysis, warnings} of a stored audio row. */
json_t *upload_audio_json(const store_audio *a);

#endif
