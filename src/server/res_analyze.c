/*
 * POST /api/analyze/quality: the quality report for a stored audio ({"audio_id": …} as JSON) or
 * for a file sent as multipart/form-data ("file"), which is analysed and not kept.
 */
#include <stdlib.h>
#include <string.h>

#include "server/form.h"
#include "server/uploads.h"

typedef struct analyze_ctx {
    int is_form;
    server_form form;
} analyze_ctx;

static int on_begin(server_request *r)
{
    analyze_ctx *c = calloc(1, sizeof *c);
    if (!c) return server_fail(r, VC_ERR_NOMEM, "out of memory");
    c->form.fd = -1;
    r->ctx = c;
    const char *ct = server_header(r, "Content-Type");
    c->is_form = ct && strncasecmp(ct, "multipart/form-data", 19) == 0;
    if (!c->is_form && (!ct || strncasecmp(ct, "application/json", 16) != 0))
        return server_fail(r, VC_ERR_UNSUPPORTED_MEDIA_TYPE, "send {\"audio_id\"} as application/json, or the file as "
                           "multipart/form-data");
    return c->is_form ? server_form_begin(r, &c->form, upload_max_bytes()) : 0;
}

static int on_body(server_request *r, const char *data, size_t size)
{
    analyze_ctx *c = r->ctx;
    return c->is_form ? server_form_feed(&c->form, data, size) : server_body_append(r, data, size, 64 * 1024);
}

static void cleanup(server_request *r)
{
    analyze_ctx *c = r->ctx;
    if (!c) return;
    server_form_discard(&c->form);
    free(c);
}

static int reply(server_request *r, const char *file_id, json_t *quality)
{
    json_t *o = json_pack("{s:s, s:o}", "status", "success", "quality_analysis", quality);
    if (file_id) json_object_set_new(o, "file_id", json_string(file_id));
    return server_reply_json(r, 200, o);
}

static int analyze_stored(server_request *r)
{
    static const char *const FIELDS[] = {"audio_id", "file_id", NULL};
    json_t *body, *quality;
    if (server_json_body(r, FIELDS, &body)) return -1;
    json_t *idv = json_object_get(body, "audio_id");
    if (!idv) idv = json_object_get(body, "file_id");
    char id[256];
    snprintf(id, sizeof id, "%s", json_is_string(idv) ? json_string_value(idv) : "");
    json_decref(body);
    if (!id[0]) return server_fail(r, VC_ERR_INVALID_REQUEST, "audio_id (string) is required");
    store_audio a;
    vc_error err;
    if (!store_id_valid(id) || store_audio_get(r->app->store, r->user_id, id, &a, &err))
        return server_fail(r, VC_ERR_AUDIO_NOT_FOUND, "audio %s not found", id);
    char path[1600];
    store_path(r->app->store, path, sizeof path, "%s", a.file_path);
    store_audio_free(&a);
    audio_file_info info;
    if (upload_analyze_path(r, path, &quality, &info)) return -1;
    return reply(r, id, quality);
}

static int handle(server_request *r)
{
    analyze_ctx *c = r->ctx;
    if (!c->is_form) return analyze_stored(r);
    json_t *quality;
    audio_file_info info;
    if (server_form_end(&c->form)) return -1;
    if (c->form.file_bytes == 0) return server_fail(r, VC_ERR_INVALID_FORMAT, "the file is empty (0 bytes)");
    if (upload_analyze_path(r, c->form.tmp_path, &quality, &info)) return -1;
    if (info.warning[0]) json_object_set_new(quality, "warning", json_string(info.warning));
    return reply(r, NULL, quality);
}

const server_route SERVER_ROUTES_ANALYZE[] = {
    {.method = "POST", .pattern = "/api/analyze/quality", .handle = handle, .body = SERVER_BODY_STREAM,
     .on_begin = on_begin, .on_body = on_body, .cleanup = cleanup, .tag = "audio",
     .request_type = "application/json, multipart/form-data",
     .request_schema = SERVER_SCHEMA({"type": "object", "additionalProperties": false,
                                      "description": "JSON: audio_id (file_id is its old name); a form: the file",
                                      "properties": {"audio_id": {"type": "string"}, "file_id": {"type": "string"},
                                                     "file": {"type": "string", "contentMediaType": "audio/*"}}}),
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["status", "quality_analysis"], "additionalProperties": false,
                                       "properties": {"status": {"const": "success"}, "file_id": {"type": "string"},
                                                      "quality_analysis": {"$ref": "#/components/schemas/QualityAnalysis"}}}),
     .summary = "Quality analysis of {\"audio_id\"} or of an uploaded 'file' "
                                                    "(multipart/form-data, not stored)",
     .responses = "200,400,401,404,413,415,429", .heavy = 1},
    {0},
};
