/*
 * The brief's chunked multipart uploads: POST /api/upload/{training,target,reference}-audio.
 * Form fields: file, chunk_index (default 0), total_chunks (default 1), file_id (every chunk after
 * the first answer). Chunks may arrive in any order and may be retried: each lands in
 * uploads/tmp/{file_id}/chunk_NNNNN via rename, the bitmap in the uploads row decides which
 * request completed the set, and only that one assembles, validates and stores the audio.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/form.h"
#include "server/uploads.h"

typedef struct chunk_ctx {
    server_form form;
    const upload_purpose *purpose;
} chunk_ctx;

static const upload_purpose *purpose_of(server_request *r)
{
    const char *p = strstr(r->route->pattern, "/upload/") + 8; /* "training-audio" */
    char name[16];
    size_t n = strcspn(p, "-");
    snprintf(name, sizeof name, "%.*s", (int)n, p);
    return upload_purpose_find(name);
}

static int on_begin(server_request *r)
{
    chunk_ctx *c = calloc(1, sizeof *c);
    if (!c) return server_fail(r, VC_ERR_NOMEM, "out of memory");
    r->ctx = c;
    c->purpose = purpose_of(r);
    c->form.fd = -1;
    return server_form_begin(r, &c->form, c->purpose->max_bytes);
}

static int on_body(server_request *r, const char *data, size_t size)
{
    chunk_ctx *c = r->ctx;
    return server_form_feed(&c->form, data, size);
}

static void cleanup(server_request *r)
{
    chunk_ctx *c = r->ctx;
    if (!c) return;
    server_form_discard(&c->form);
    free(c);
    r->ctx = NULL;
}

/* Parses an integer form field in [lo, hi]; def when absent. */
static int int_field(server_request *r, const char *name, int def, int lo, int hi, int *out)
{
    chunk_ctx *c = r->ctx;
    const char *v = server_form_field(&c->form, name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x < lo || x > hi) return server_fail(r, VC_ERR_INVALID_REQUEST, "%s must be %d..%d", name, lo, hi);
    *out = (int)x;
    return 0;
}

static void chunk_path(server_request *r, const char *id, int index, char *out, size_t cap)
{
    if (index < 0)
        store_path(r->app->store, out, cap, "uploads/tmp/%s", id);
    else
        store_path(r->app->store, out, cap, "uploads/tmp/%s/chunk_%05d", id, index);
}

/* Forgets an upload completely: its chunks and its row. */
static void drop_upload(server_request *r, const char *id)
{
    char dir[1400];
    chunk_path(r, id, -1, dir, sizeof dir);
    vc_remove_tree(dir, NULL);
    store_upload_delete(r->app->store, id, NULL);
}

/* Finds the upload named by file_id, or creates it for a first chunk. */
static int load_or_create(server_request *r, int total, store_upload *u)
{
    chunk_ctx *c = r->ctx;
    const char *file_id = server_form_field(&c->form, "file_id");
    vc_error err;
    if (file_id && *file_id) {
        if (!store_id_valid(file_id) || store_upload_get(r->app->store, r->user_id, file_id, u, &err) ||
            strcmp(u->kind, "chunked") || strcmp(u->purpose, c->purpose->name))
            return server_fail(r, VC_ERR_NOT_FOUND, "no upload with file_id '%s'", file_id);
        if (strcmp(u->state, "complete") && (int64_t)time(NULL) >= u->expires_at) {
            drop_upload(r, u->upload_id);
            return server_fail(r, VC_ERR_GONE, "upload %s expired; please upload the file again", file_id);
        }
        if (u->total_chunks != total)
            return server_fail(r, VC_ERR_INVALID_REQUEST, "total_chunks %d differs from the first chunk's %d", total,
                               u->total_chunks);
        return 0;
    }
    if (server_quota_upload(r, c->form.file_bytes * total)) return -1; /* the first chunk's size × chunks, roughly */
    memset(u, 0, sizeof *u);
    if (store_new_id("audio", u->upload_id, &err)) return server_fail(r, err.code, "%s", err.message);
    snprintf(u->user_id, sizeof u->user_id, "%s", r->user_id);
    snprintf(u->kind, sizeof u->kind, "chunked");
    snprintf(u->purpose, sizeof u->purpose, "%s", c->purpose->name);
    snprintf(u->filename, sizeof u->filename, "%s", c->form.filename);
    snprintf(u->state, sizeof u->state, "receiving");
    u->total_chunks = total;
    memset(u->chunks, '0', (size_t)total);
    u->chunks[total] = '\0';
    u->expires_at = (int64_t)time(NULL) + r->app->config.upload_expiry_seconds;
    if (store_upload_insert(r->app->store, u, &err)) return server_fail(r, err.code, "%s", err.message);
    return 0;
}

static int append_file(int out, const char *path)
{
    int in = open(path, O_RDONLY);
    if (in < 0) return -1;
    char buf[1 << 16];
    ssize_t n;
    int rc = 0;
    while (!rc && (n = read(in, buf, sizeof buf)) > 0) rc = write(out, buf, (size_t)n) == n ? 0 : -1;
    close(in);
    return rc;
}

/* Concatenates the chunks in index order into uploads/tmp/{id}/assembled. */
static int assemble(server_request *r, const store_upload *u, char *out, size_t cap)
{
    char dir[1400], part[1500];
    chunk_path(r, u->upload_id, -1, dir, sizeof dir);
    snprintf(out, cap, "%s/assembled", dir);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return server_fail(r, VC_ERR_IO, "assemble: %s", strerror(errno));
    int rc = 0;
    for (int i = 0; !rc && i < u->total_chunks; i++) {
        chunk_path(r, u->upload_id, i, part, sizeof part);
        rc = append_file(fd, part);
    }
    close(fd);
    return rc ? server_fail(r, VC_ERR_IO, "assembling chunks failed") : 0;
}

static int reply_progress(server_request *r, const store_upload *u, int index)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:f, s:i, s:i, s:b}", "status", "success", "file_id", u->upload_id,
                          "filename", u->filename, "file_size_mb", (double)u->length / (1024.0 * 1024.0),
                          "chunk_received", index, "total_chunks", u->total_chunks, "upload_complete", 0);
    return server_reply_json(r, 200, o);
}

static int reply_complete(server_request *r, json_t *audio)
{
    json_object_set_new(audio, "status", json_string("success"));
    json_object_set_new(audio, "upload_complete", json_true());
    return server_reply_json(r, 200, audio);
}

/* The request whose chunk completed the set: assemble, validate, store (or drop everything). */
static int finish_upload(server_request *r, store_upload *u)
{
    chunk_ctx *c = r->ctx;
    char assembled[1600];
    json_t *audio = NULL;
    if (assemble(r, u, assembled, sizeof assembled) ||
        upload_finish(r, c->purpose, assembled, u->upload_id, u->filename, &audio)) {
        drop_upload(r, u->upload_id);
        return -1;
    }
    char dir[1400];
    chunk_path(r, u->upload_id, -1, dir, sizeof dir);
    vc_remove_tree(dir, NULL);
    snprintf(u->state, sizeof u->state, "complete");
    snprintf(u->audio_id, sizeof u->audio_id, "%s", u->upload_id);
    store_upload_update(r->app->store, u, NULL);
    return reply_complete(r, audio);
}

/* A retry after completion answers like the completing request did. */
static int reply_already_complete(server_request *r, const store_upload *u)
{
    store_audio a;
    vc_error err;
    if (store_audio_get(r->app->store, r->user_id, u->audio_id, &a, &err))
        return server_fail(r, err.code, "%s", err.message);
    json_t *o = upload_audio_json(&a);
    store_audio_free(&a);
    return reply_complete(r, o);
}

static int handle(server_request *r)
{
    chunk_ctx *c = r->ctx;
    int total, index;
    store_upload u;
    if (server_form_end(&c->form) || int_field(r, "total_chunks", 1, 1, STORE_MAX_CHUNKS, &total) ||
        int_field(r, "chunk_index", 0, 0, total - 1, &index) || load_or_create(r, total, &u))
        return -1;
    if (!strcmp(u.state, "complete")) return reply_already_complete(r, &u);
    char dir[1400], dest[1500];
    vc_error err;
    chunk_path(r, u.upload_id, -1, dir, sizeof dir);
    chunk_path(r, u.upload_id, index, dest, sizeof dest);
    if (vc_mkdirs(dir, &err)) return server_fail(r, err.code, "%s", err.message);
    if (rename(c->form.tmp_path, dest)) return server_fail(r, VC_ERR_IO, "storing chunk: %s", strerror(errno));
    c->form.tmp_path[0] = '\0'; /* now owned by the upload folder */
    int claim;
    if (store_upload_mark_chunk(r->app->store, r->user_id, u.upload_id, index, c->form.file_bytes, &u, &claim, &err))
        return server_fail(r, err.code, "%s", err.message);
    if (u.length > c->purpose->max_bytes) {
        drop_upload(r, u.upload_id);
        server_fail(r, VC_ERR_FILE_TOO_LARGE, "the chunks add up to more than %lld MB",
                    (long long)(c->purpose->max_bytes >> 20));
        r->err_extra = upload_size_extra(c->purpose->max_bytes);
        return -1;
    }
    if (claim) return finish_upload(r, &u);
    return reply_progress(r, &u, index);
}

/* The form: the file whole, or one chunk of it (chunk_index of total_chunks; file_id from the first
 * chunk's answer on the next ones). */
#define UPLOAD_FORM_SCHEMA                                                                                    \
    SERVER_SCHEMA({"type": "object", "required": ["file"], "additionalProperties": false, "properties": {      \
        "file": {"type": "string", "contentMediaType": "audio/*"}, "chunk_index": {"type": "integer", "minimum": 0}, \
        "total_chunks": {"type": "integer", "minimum": 1}, "file_id": {"type": "string"}}})
/* A chunk before the last: the upload's progress; the last (or a whole file): the stored audio. */
#define UPLOAD_REPLY_SCHEMA                                                                                   \
    SERVER_SCHEMA({"oneOf": [{"$ref": "#/components/schemas/AudioFile"},                                     \
                             {"type": "object", "additionalProperties": false,                                \
                              "required": ["status", "file_id", "filename", "file_size_mb", "chunk_received",  \
                                           "total_chunks", "upload_complete"],                                 \
                              "properties": {"status": {"const": "success"}, "file_id": {"type": "string"},    \
                                             "filename": {"type": "string"}, "file_size_mb": {"type": "number"}, \
                                             "chunk_received": {"type": "integer"}, "total_chunks": {"type": "integer"}, \
                                             "upload_complete": {"const": false}}}]})

#define UPLOAD_ROUTE(path_, purpose_)                                                                         \
    {.method = "POST", .pattern = path_, .handle = handle, .body = SERVER_BODY_STREAM, .on_begin = on_begin, \
     .on_body = on_body, .cleanup = cleanup, .tag = "uploads", .request_type = "multipart/form-data",         \
     .summary = "Chunked multipart upload of " purpose_ " audio (file, chunk_index, total_chunks, file_id)",  \
     .responses = "200,400,401,404,413,429", .heavy = 1,                                                    \
     .request_schema = UPLOAD_FORM_SCHEMA, .response_schema = UPLOAD_REPLY_SCHEMA}

const server_route SERVER_ROUTES_UPLOAD[] = {
    UPLOAD_ROUTE("/api/upload/training-audio", "training"),
    UPLOAD_ROUTE("/api/upload/target-audio", "target"),
    UPLOAD_ROUTE("/api/upload/reference-audio", "quick-clone reference"),
    {0},
};
