/*
 * Stored audio: metadata (/api/audio/{id}), waveform peaks (/api/audio/{id}/peaks?buckets=N)
 * and downloads (/api/download/{id}?format=wav|mp3, with Range). The MP3 is encoded on first
 * request and cached next to the WAV ({id}.wav.mp3, published through the file layer, files.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/uploads.h"

static int load_audio_row(server_request *r, store_audio *a)
{
    const char *id;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_AUDIO_NOT_FOUND, &id)) return -1;
    if (store_audio_get(r->app->store, r->user_id, id, a, &err)) return server_fail(r, err.code, "%s", err.message);
    return 0;
}

static int handle_get(server_request *r)
{
    store_audio a;
    if (load_audio_row(r, &a)) return -1;
    json_t *o = upload_audio_json(&a);
    store_audio_free(&a);
    json_object_set_new(o, "status", json_string("success"));
    return server_reply_json(r, 200, o);
}

static int append_audio(const store_audio *a, void *ctx)
{
    return json_array_append_new(ctx, upload_audio_json(a));
}

static int handle_list(server_request *r)
{
    const char *purpose = server_query(r, "purpose");
    if (purpose && !upload_purpose_find(purpose) && strcmp(purpose, "output"))
        return server_fail(r, VC_ERR_INVALID_REQUEST, "purpose must be training, target, reference or output");
    json_t *list = json_array();
    vc_error err;
    if (store_audio_list(r->app->store, r->user_id, purpose, append_audio, list, &err)) {
        json_decref(list);
        return server_fail(r, err.code, "%s", err.message);
    }
    return server_reply_json(r, 200, json_pack("{s:s, s:o}", "status", "success", "audio", list));
}

static int handle_delete(server_request *r)
{
    const char *id;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_AUDIO_NOT_FOUND, &id)) return -1;
    if (store_audio_delete(r->app->store, r->user_id, id, &err)) {
        if (err.code == VC_ERR_CONFLICT) /* the sample of a saved voice */
            r->err_extra = json_pack("{s:s}", "user_message",
                                     "This recording is the sample of a saved voice. Delete the voice in the library first.");
        return server_fail(r, err.code, "%s", err.message);
    }
    return server_reply_json(r, 200, json_pack("{s:s, s:s, s:b}", "status", "success", "file_id", id, "deleted", 1));
}

static int decode_row(server_request *r, const store_audio *a, audio_buffer *buf)
{
    char path[1600];
    vc_error err;
    store_path(r->app->store, path, sizeof path, "%s", a->file_path);
    if (audio_decode_file(path, buf, NULL, &err)) return server_fail(r, VC_ERR_CORRUPT, "stored audio: %s", err.message);
    return 0;
}

static int handle_peaks(server_request *r)
{
    const char *q = server_query(r, "buckets");
    char *end = NULL;
    long n = q ? strtol(q, &end, 10) : 800;
    if (q && (*end || n < 1 || n > 20000)) return server_fail(r, VC_ERR_INVALID_REQUEST, "buckets must be 1..20000");
    store_audio a;
    audio_buffer buf = {0};
    if (load_audio_row(r, &a)) return -1;
    store_audio_free(&a);
    if (decode_row(r, &a, &buf)) return -1;
    float *peaks = malloc(sizeof(float) * 2 * (size_t)n);
    vc_error err;
    int rc = !peaks ? server_fail(r, VC_ERR_NOMEM, "out of memory")
             : audio_peaks(&buf, (size_t)n, peaks, &err) ? server_fail(r, err.code, "%s", err.message) : 0;
    if (!rc) {
        json_t *list = json_array();
        for (long i = 0; i < 2 * n; i++) json_array_append_new(list, json_real((double)peaks[i]));
        rc = server_reply_json(r, 200,
                               json_pack("{s:s, s:s, s:i, s:i, s:f, s:o}", "status", "success", "file_id", a.audio_id,
                                         "buckets", (int)n, "sample_rate", buf.sample_rate, "duration_seconds",
                                         (double)buf.frames / buf.sample_rate, "peaks", list));
    }
    free(peaks);
    audio_buffer_free(&buf);
    return rc;
}

/* "My take.mp3" → attachment; filename="My take.wav" (quotes and control bytes removed). */
static void disposition(const store_audio *a, const char *ext, char *out, size_t cap)
{
    char base[200];
    size_t n = 0;
    for (const char *p = a->filename; *p && n + 1 < sizeof base; p++)
        if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f && *p != '"' && *p != '\\' && *p != '/') base[n++] = *p;
    base[n] = '\0';
    char *dot = strrchr(base, '.');
    if (dot && dot != base) *dot = '\0';
    snprintf(out, cap, "attachment; filename=\"%s.%s\"", base[0] ? base : a->audio_id, ext);
}

/* The MP3 is one more object of the file layer (key "{wav key}.mp3"), staged and published like
 * every other: concurrent first downloads each publish a whole file, the last one stays. */
static int ensure_mp3(server_request *r, const store_audio *a, const char *mp3_key)
{
    file_store *fs = store_files(r->app->store);
    vc_error err;
    if (files_exists(fs, mp3_key, NULL, &err) == 1) return 0;
    audio_buffer buf = {0};
    char stage[1700];
    if (decode_row(r, a, &buf)) return -1;
    int rc = files_stage_path(fs, mp3_key, stage, sizeof stage, &err);
    if (rc == 0 && (rc = audio_write_mp3(stage, &buf, 192, &err)) != 0) unlink(stage);
    if (rc == 0) rc = files_put_file(fs, mp3_key, stage, &err);
    audio_buffer_free(&buf);
    /* err names the server path: the client gets the kind of failure only */
    return rc ? server_fail(r, err.code, "the MP3 could not be made (%s); try again or download the WAV",
                            err.code == VC_ERR_IO ? "the server could not write it" : vc_code_name(err.code))
              : 0;
}

static int handle_download(server_request *r)
{
    const char *format = server_query(r, "format");
    if (!format) format = "wav";
    if (strcmp(format, "wav") && strcmp(format, "mp3"))
        return server_fail(r, VC_ERR_INVALID_REQUEST, "format must be wav or mp3");
    store_audio a;
    if (load_audio_row(r, &a)) return -1;
    store_audio_free(&a);
    char mp3[sizeof a.file_path + 8], disp[300];
    snprintf(mp3, sizeof mp3, "%s.mp3", a.file_path);
    int is_mp3 = !strcmp(format, "mp3");
    if (is_mp3 && ensure_mp3(r, &a, mp3)) return -1;
    int fd;
    int64_t size;
    vc_error err;
    if (files_open_read(store_files(r->app->store), is_mp3 ? mp3 : a.file_path, &fd, &size, &err))
        return server_fail(r, VC_ERR_CORRUPT, "the stored file is missing");
    disposition(&a, format, disp, sizeof disp);
    return server_reply_file(r, fd, is_mp3 ? "audio/mpeg" : "audio/wav", disp);
}

const server_route SERVER_ROUTES_AUDIO[] = {
    {.method = "GET", .pattern = "/api/audio", .handle = handle_list, .tag = "audio",
     .summary = "The user's audio files, newest first (?purpose=training|target|reference|output)",
     .responses = "200,400,401",
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["status", "audio"], "additionalProperties": false,
                                       "properties": {"status": {"const": "success"},
                                                      "audio": {"type": "array", "items": {"$ref": "#/components/schemas/AudioFile"}}}})},
    {.method = "DELETE", .pattern = "/api/audio/{audio_id}", .handle = handle_delete, .tag = "audio",
     .summary = "Delete an audio file: its row, its WAV and its cached MP3 (409 CONFLICT while a saved voice uses it "
                "as its sample)", .responses = "200,401,404,409",
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["status", "file_id", "deleted"], "additionalProperties": false,
                                       "properties": {"status": {"const": "success"}, "file_id": {"type": "string"},
                                                      "deleted": {"const": true}}})},
    {.method = "GET", .pattern = "/api/audio/{audio_id}", .handle = handle_get, .tag = "audio",
     .summary = "Audio metadata and its quality analysis", .responses = "200,401,404",
     .response_schema = SERVER_SCHEMA({"$ref": "#/components/schemas/AudioFile"})},
    {.method = "GET", .pattern = "/api/audio/{audio_id}/peaks", .handle = handle_peaks, .tag = "audio",
     .summary = "Min/max peaks for a waveform view (?buckets=N, default 800)", .responses = "200,400,401,404,429", .heavy = 1,
     .response_schema = SERVER_SCHEMA({"type": "object", "additionalProperties": false,
                                       "required": ["status", "file_id", "buckets", "sample_rate", "duration_seconds", "peaks"],
                                       "properties": {"status": {"const": "success"}, "file_id": {"type": "string"},
                                                      "buckets": {"type": "integer"}, "sample_rate": {"type": "integer"},
                                                      "duration_seconds": {"type": "number"},
                                                      "peaks": {"type": "array", "items": {"type": "number"},
                                                                "description": "min, max of each bucket in turn"}}})},
    {.method = "GET", .pattern = "/api/download/{audio_id}", .handle = handle_download, .tag = "audio",
     .summary = "Download as WAV or MP3 (?format=wav|mp3), with HTTP Range support",
     .responses = "200,206,400,401,404,416,429", .heavy = 1, .response_type = "audio/*",
     .response_headers = "Content-Disposition, Accept-Ranges, ETag, Last-Modified, Content-Range"},
    {0},
};
