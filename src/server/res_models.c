/*
 * /api/models: the user's voice models (rows + data/models/{id}/ folders). Models are created by
 * training (elsewhere) or imported here: POST /api/models/import streams a multipart form
 * (file = .pth or .zip, optional index = .index, name) to temp files, then rvc_import_files
 * checks and publishes the files and store_model_record writes the row, all-or-nothing. This resource lists, shows, imports and deletes them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "models/rvc/rvc_import.h"
#include "server/zip_out.h"
#include "server/form.h"

#define IMPORT_MAX_MB_DEFAULT 1024 /* per file; an RVC v2 voice is ~55 MB, big indexes reach hundreds */

static json_t *model_json(const store_model *m)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:o, s:o}", "model_id", m->model_id, "name", m->name,
                          "kind", m->kind, "created_at", m->created_at, "training_duration_minutes",
                          m->training_duration_minutes, "quality_grade", m->quality_grade, "final_loss",
                          server_json_number(m->final_loss), "training_audio_duration_seconds",
                          server_json_number(m->training_audio_duration_seconds), "file_size_mb",
                          server_json_number(m->file_size_mb));
    json_object_set_new(o, "version", m->version[0] ? json_string(m->version) : json_null());
    json_object_set_new(o, "sample_rate", m->sample_rate ? json_integer(m->sample_rate) : json_null());
    json_object_set_new(o, "f0", json_boolean(m->f0));
    json_object_set_new(o, "has_index", json_boolean(m->has_index));
    return o;
}

/* What the voice's config.json says besides the row (index rows, content dims, source file, the
 * training provenance and consent note), so imported voices show facts instead of blanks. */
static void add_config_facts(server_request *r, const store_model *m, json_t *o)
{
    char path[1600];
    store_path(r->app->store, path, sizeof path, "%s/config.json", m->file_path);
    json_t *c = json_load_file(path, 0, NULL);
    static const char *const KEYS[] = {"index_rows", "phone_dim", "speakers", "source_file", "training", NULL};
    for (int i = 0; c && KEYS[i]; i++)
        if (json_object_get(c, KEYS[i])) json_object_set(o, KEYS[i], json_object_get(c, KEYS[i]));
    json_decref(c);
}

typedef struct list_ctx { server_request *r; json_t *list; } list_ctx;

static int append_model(const store_model *m, void *ctx)
{
    list_ctx *c = ctx;
    json_t *o = model_json(m);
    add_config_facts(c->r, m, o);
    return json_array_append_new(c->list, o);
}

static int handle_list(server_request *r)
{
    json_t *list = json_array();
    vc_error err;
    list_ctx c = {r, list};
    if (store_model_list(r->app->store, r->user_id, append_model, &c, &err)) {
        json_decref(list);
        return server_fail(r, err.code, "%s", err.message);
    }
    return server_reply_json(r, 200, json_pack("{s:s, s:o}", "status", "success", "models", list));
}

static int handle_get(server_request *r)
{
    const char *id;
    store_model m;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_MODEL_NOT_FOUND, &id)) return -1;
    if (store_model_get(r->app->store, r->user_id, id, &m, &err)) return server_fail(r, err.code, "%s", err.message);
    json_t *o = model_json(&m);
    add_config_facts(r, &m, o);
    json_object_set_new(o, "status", json_string("success"));
    return server_reply_json(r, 200, o);
}

/* PATCH /api/models/{id} {name}: rename. */
static int handle_rename(server_request *r)
{
    static const char *const FIELDS[] = {"name", NULL};
    const char *id;
    json_t *body;
    store_model m;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_MODEL_NOT_FOUND, &id) || server_json_body(r, FIELDS, &body)) return -1;
    const char *name = json_string_value(json_object_get(body, "name"));
    char clean[128];
    snprintf(clean, sizeof clean, "%s", name ? name : "");
    size_t a = 0, n = strlen(clean);
    while (a < n && isspace((unsigned char)clean[a])) a++;
    while (n > a && isspace((unsigned char)clean[n - 1])) clean[--n] = '\0';
    int rc = 0;
    if (!name || n == a || strlen(name) > 100)
        rc = server_fail(r, VC_ERR_INVALID_REQUEST, "name must be a string of 1 to 100 characters (not only spaces)");
    else if (store_model_rename(r->app->store, r->user_id, id, clean + a, &err) ||
             store_model_get(r->app->store, r->user_id, id, &m, &err))
        rc = server_fail(r, err.code, "%s", err.message);
    json_decref(body);
    if (rc) return rc;
    json_t *o = model_json(&m);
    add_config_facts(r, &m, o);
    json_object_set_new(o, "status", json_string("success"));
    return server_reply_json(r, 200, o);
}

/* ---- export: the voice's .pth + .index as a stored .zip (server/zip_out.h), the layout RVC-WebUI
 * and Applio load (one folder-less archive holding NAME.pth and NAME.index) ---- */
/* A file-name-safe version of the model's name ("My voice!" → "My_voice_"). */
static void safe_file_name(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < cap && n < 60; p++)
        out[n++] = isalnum((unsigned char)*p) || *p == '-' || *p == '.' ? *p : '_';
    out[n] = '\0';
    if (!n || out[0] == '.') snprintf(out, cap, "voice");
}

/* GET /api/models/{id}/export: NAME.zip holding NAME.pth (+ NAME.index when the voice has one). */
static int handle_export(server_request *r)
{
    const char *id;
    store_model m;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_MODEL_NOT_FOUND, &id)) return -1;
    if (store_model_get(r->app->store, r->user_id, id, &m, &err)) return server_fail(r, err.code, "%s", err.message);
    char base[80], pth[1600], idx[1600], name[160], disp[256];
    safe_file_name(m.name, base, sizeof base);
    store_path(r->app->store, pth, sizeof pth, "%s/model.pth", m.file_path);
    store_path(r->app->store, idx, sizeof idx, "%s/model.index", m.file_path);
    char iname[160];
    snprintf(name, sizeof name, "%s.pth", base);
    snprintf(iname, sizeof iname, "%s.index", base);
    const char *paths[2] = {pth, idx}, *names[2] = {name, iname};
    int n = access(idx, R_OK) == 0 ? 2 : 1, fd;
    if (zip_out_files(paths, names, n, &fd, &err)) return server_fail(r, err.code, "%s", err.message);
    snprintf(disp, sizeof disp, "attachment; filename=\"%s.zip\"", base);
    return server_reply_file(r, fd, "application/zip", disp);
}

static int handle_delete(server_request *r)
{
    const char *id;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_MODEL_NOT_FOUND, &id)) return -1;
    if (store_model_delete(r->app->store, r->user_id, id, &err)) return server_fail(r, err.code, "%s", err.message);
    return server_reply_json(r, 200, json_pack("{s:s, s:s, s:b}", "status", "success", "model_id", id, "deleted", 1));
}

/* ---- import ---- */
static int64_t import_max_bytes(void)
{
    const char *v = getenv("VCS_MODEL_IMPORT_MAX_BYTES");
    long long n = v ? atoll(v) : 0;
    return n > 0 ? n : (int64_t)IMPORT_MAX_MB_DEFAULT * 1024 * 1024;
}

static int import_begin(server_request *r)
{
    server_form *f = calloc(1, sizeof *f);
    if (!f) return server_fail(r, VC_ERR_NOMEM, "out of memory");
    r->ctx = f;
    int rc = server_form_begin(r, f, import_max_bytes());
    server_form_accept_extra(f, "index");
    return rc;
}

static int import_body(server_request *r, const char *data, size_t size)
{
    int rc = server_form_feed(r->ctx, data, size);
    if (rc && r->err.code == VC_ERR_FILE_TOO_LARGE && r->err_extra) /* the form's sentence speaks of audio */
        json_object_set_new(r->err_extra, "user_message", json_string("The model file is too large to import."));
    return rc;
}

static void import_cleanup(server_request *r)
{
    if (!r->ctx) return;
    server_form_discard(r->ctx);
    free(r->ctx);
    r->ctx = NULL;
}

static int has_extension(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && !strcasecmp(name + n - e, ext);
}

/* The message with server paths cut to their last component ("/srv/data/models/.import-x/model.index:
 * …" → "model.index: …"), and a name repeated right after itself ("model.index: model.index:") once. */
static void without_paths(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = in; *p && n + 1 < cap;) {
        if (*p == '/' && (p == in || p[-1] == ' ')) {
            const char *end = p + strcspn(p, " :,");
            const char *base = p;
            for (const char *q = p; q < end; q++)
                if (*q == '/') base = q + 1;
            size_t len = (size_t)(end - base);
            int repeat = n >= len + 2 && !strncmp(out + n - len - 2, base, len) && !strncmp(out + n - 2, ": ", 2);
            if (repeat) { /* "model.index: /x/model.index: why" → "model.index: why" */
                p = *end == ':' && end[1] == ' ' ? end + 2 : end;
                continue;
            }
            for (const char *q = base; q < end && n + 1 < cap; q++) out[n++] = *q;
            p = end;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
}

static int handle_import(server_request *r)
{
    server_form *f = r->ctx;
    if (server_form_end(f)) return -1;
    if (f->file_bytes == 0) return server_fail(r, VC_ERR_INVALID_FORMAT, "the file is empty (0 bytes)");
    /* the bytes are known only now; the staged parts are discarded on refusal (import_cleanup) */
    if (server_quota_storage(r, f->file_bytes + (f->extra.present ? f->extra.bytes : 0))) return -1;
    int is_zip = has_extension(f->filename, ".zip");
    if (is_zip && f->extra.present)
        return server_fail(r, VC_ERR_INVALID_REQUEST, "send either a .zip holding the .pth and .index, or a .pth with an 'index' part");
    rvc_import_request rq = {.user_id = r->user_id, .name = server_form_field(f, "name"), .model_path = f->tmp_path,
                             .index_path = f->extra.present ? f->extra.tmp_path : NULL, .filename = f->filename,
                             .is_zip = is_zip};
    store_model m;
    vc_error err;
    if (rvc_import_files(r->app->store, &rq, &m, &err) || store_model_record(r->app->store, &m, &err)) {
        if (err.code == VC_ERR_INVALID_FORMAT) { /* the exact reason: which file, and what is wrong with it */
            char um[700], why[sizeof err.message];
            without_paths(err.message, why, sizeof why);
            snprintf(um, sizeof um, "This voice cannot be imported: %s. Upload its .pth (with its .index if you have one), "
                     "or one .zip holding both.", why);
            r->err_extra = json_pack("{s:s, s:[s,s,s]}", "user_message", um, "supported_formats", "pth", "index", "zip");
        }
        return server_fail(r, err.code, "%s", err.message);
    }
    json_t *o = model_json(&m);
    json_object_set_new(o, "status", json_string("success"));
    return server_reply_json(r, 201, o);
}

#define MODEL_SCHEMA SERVER_SCHEMA({"$ref": "#/components/schemas/Model"})

const server_route SERVER_ROUTES_MODELS[] = {
    {.method = "POST", .pattern = "/api/models/import", .handle = handle_import, .body = SERVER_BODY_STREAM,
     .on_begin = import_begin, .on_body = import_body, .cleanup = import_cleanup, .tag = "models",
     .request_type = "multipart/form-data",
     .summary = "Import an RVC voice: file (.pth, or .zip holding .pth + .index), optional index (.index), name; "
                "checked by loading it (version, sample rate, f0 read from the file); nothing is kept on refusal",
     .responses = "201,400,401,413,429", .heavy = 1,
     .request_schema = SERVER_SCHEMA({"type": "object", "required": ["file"], "additionalProperties": false,
                                      "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream",
                                                              "description": ".pth or .zip"},
                                                     "index": {"type": "string", "contentMediaType": "application/octet-stream"},
                                                     "name": {"type": "string", "maxLength": 100}}}),
     .response_schema = MODEL_SCHEMA},
    {.method = "GET", .pattern = "/api/models", .handle = handle_list, .tag = "models",
     .summary = "List the user's voice models", .responses = "200,401",
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["status", "models"], "additionalProperties": false,
                                       "properties": {"status": {"const": "success"},
                                                      "models": {"type": "array", "items": {"$ref": "#/components/schemas/Model"}}}})},
    {.method = "GET", .pattern = "/api/models/{model_id}", .handle = handle_get, .tag = "models",
     .summary = "One model's details", .responses = "200,401,404", .response_schema = MODEL_SCHEMA},
    {.method = "PATCH", .pattern = "/api/models/{model_id}", .handle = handle_rename, .body = SERVER_BODY_BUFFER,
     .max_body = 4096, .tag = "models", .request_type = "application/json",
     .summary = "Rename a model {name}: answers with the model", .responses = "200,400,401,404",
     .request_schema = SERVER_SCHEMA({"type": "object", "required": ["name"], "additionalProperties": false,
                                      "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100}}}),
     .response_schema = MODEL_SCHEMA},
    {.method = "GET", .pattern = "/api/models/{model_id}/export", .handle = handle_export, .tag = "models",
     .summary = "Download the voice as NAME.zip holding NAME.pth and NAME.index (RVC-WebUI / Applio layout)",
     .responses = "200,401,404", .response_type = "application/zip", .response_headers = "Content-Disposition"},
    {.method = "DELETE", .pattern = "/api/models/{model_id}", .handle = handle_delete, .tag = "models",
     .summary = "Delete a model: its row and its files", .responses = "200,401,404",
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["status", "model_id", "deleted"], "additionalProperties": false,
                                       "properties": {"status": {"const": "success"}, "model_id": {"type": "string"},
                                                      "deleted": {"const": true}}})},
    {0},
};
