/*
 * /api/openapi.json (OpenAPI 3.1) and /api/docs, both generated from SERVER_ROUTE_TABLES — the
 * same tables that route requests — so the documentation cannot drift from the server.
 *
 * Every schema text (a route's request_schema / response_schema, each components.schemas entry)
 * must parse: the document is built only once all of them do, and otherwise the build fails
 * naming the route or schema. server_start builds it before anything else, so a server whose
 * document would lose a schema does not start (a schema silently left out would otherwise only be
 * noticed, if at all, as an operation the contract test finds undocumented).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

static const char *status_text(const char *code)
{
    static const char *const MAP[][2] = {
        {"200", "Success"}, {"201", "Created"}, {"202", "Accepted: a job was queued"}, {"204", "No content"}, {"206", "Partial content (Range)"},
        {"400", "Invalid request or audio (error JSON)"}, {"401", "API key required"}, {"404", "Not found"},
        {"409", "Conflict (tus offset mismatch, job already finished)"}, {"410", "Upload expired"},
        {"412", "Tus-Resumable missing (Tus-Version says which)"}, {"413", "Too large (FILE_TOO_LARGE, AUDIO_TOO_LONG, REQUEST_TOO_LARGE)"},
        {"415", "Wrong content type (UNSUPPORTED_MEDIA_TYPE)"}, {"416", "Range not satisfiable"},
        {"429", "A quota or the heavy-work limit (RATE_LIMITED, Retry-After)"}, {"460", "Checksum mismatch"},
        {"403", "Another origin (FORBIDDEN)"}, {"405", "Method not allowed (METHOD_NOT_ALLOWED, Allow)"},
        {"421", "Host is not this studio (FORBIDDEN; DNS rebinding)"}, {"431", "Request headers too large"},
        {"500", "Server error (INTERNAL_ERROR, IO_ERROR, ...)"}, {"503", "Weights missing or out of memory"},
    };
    for (size_t i = 0; i < sizeof MAP / sizeof MAP[0]; i++)
        if (!strcmp(code, MAP[i][0])) return MAP[i][1];
    return "See description";
}

/* Answers any request can get from the guard in front of every route (http.c, guard.c), and the
 * 500 any handler may end in. */
static const char *const GUARD_RESPONSES = "403,405,421,431,500";

/* Statuses an error is sent with besides its code's own (vc_code_http_status): the overrides in
 * res_tus.c (412), guard.c (421) and http.c (431). */
static const struct { const char *status, *codes; } STATUS_OVERRIDES[] = {
    {"412", "INVALID_REQUEST"}, {"421", "FORBIDDEN"}, {"431", "INVALID_REQUEST"},
};

static json_t *schema_ref(const char *name)
{
    char ref[96];
    snprintf(ref, sizeof ref, "#/components/schemas/%s", name);
    return json_pack("{s:s}", "$ref", ref);
}

/* The Error schema narrowed to the codes an error with this status can carry. */
static json_t *error_for_status(const char *status)
{
    json_t *codes = json_array();
    for (int c = 1; c < VC_CODE_COUNT; c++)
        if (vc_code_http_status((vc_code)c) == atoi(status)) json_array_append_new(codes, json_string(vc_code_name((vc_code)c)));
    for (size_t i = 0; i < sizeof STATUS_OVERRIDES / sizeof STATUS_OVERRIDES[0]; i++)
        if (!strcmp(status, STATUS_OVERRIDES[i].status)) json_array_append_new(codes, json_string(STATUS_OVERRIDES[i].codes));
    if (json_array_size(codes) == 0) {
        json_decref(codes);
        return schema_ref("Error");
    }
    return json_pack("{s:[o, {s:{s:{s:o}}}]}", "allOf", schema_ref("Error"), "properties", "error_code", "enum", codes);
}

static json_t *header_string(const char *description)
{
    return json_pack("{s:s, s:{s:s}}", "description", description, "schema", "type", "string");
}

/* "Location, Upload-Offset" → {"Location": {...}, "Upload-Offset": {...}} */
static void add_headers(json_t *resp, const char *list)
{
    if (!list || !*list) return;
    json_t *headers = json_object_get(resp, "headers");
    if (!headers) json_object_set_new(resp, "headers", headers = json_object());
    char buf[400];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
        json_object_set_new(headers, tok, header_string("see the summary"));
}

/* The body of a 2xx answer: the route's schema (under its media type, JSON unless response_type
 * says otherwise: an event stream documents its messages) or only its media type (HEAD: none). */
static void add_success_body(json_t *resp, const server_route *rt, const char *code, int is_head)
{
    if (is_head || !strcmp(code, "204")) return;
    if (rt->response_schema) {
        json_t *schema = json_loads(rt->response_schema, 0, NULL); /* parses: check_schemas said so */
        const char *media = rt->response_type ? rt->response_type : "application/json";
        json_object_set_new(resp, "content", json_pack("{s:{s:o}}", media, "schema", schema));
    } else if (rt->response_type) {
        json_object_set_new(resp, "content", json_pack("{s:{}}", rt->response_type));
    }
}

static void add_responses(json_t *o, const server_route *rt, const char *list, int is_head)
{
    char buf[160];
    snprintf(buf, sizeof buf, "%s", list && *list ? list : "200");
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (json_object_get(o, tok)) continue;
        json_t *resp = json_pack("{s:s}", "description", status_text(tok));
        if (tok[0] == '2') {
            add_success_body(resp, rt, tok, is_head);
            add_headers(resp, rt->response_headers);
            if (is_head && strcmp(rt->method, "HEAD")) add_headers(resp, "Content-Length, Content-Type");
        }
        if (!strcmp(tok, "416")) add_headers(resp, "Content-Range"); /* the length in Content-Range, no body */
        else if (tok[0] >= '4' && !is_head)
            json_object_set_new(resp, "content", json_pack("{s:{s:o}}", "application/json", "schema", error_for_status(tok)));
        if (!strcmp(tok, "405")) add_headers(resp, "Allow");
        if (!strcmp(tok, "429")) add_headers(resp, "Retry-After");
        if (!strcmp(tok, "412")) add_headers(resp, "Tus-Version");
        json_object_set_new(o, tok, resp);
    }
}

/* The route's own statuses, then those the framework answers for it: a JSON body can be
 * malformed (400), too large (413) or of another type (415); a user route needs a key (401); a
 * heavy one can find the offload slots full (429); then the guard's. */
static json_t *responses_json(const server_route *rt, int is_head)
{
    json_t *o = json_object();
    add_responses(o, rt, rt->responses, is_head);
    if (rt->body == SERVER_BODY_BUFFER) add_responses(o, rt, "400,413,415", is_head);
    if (rt->body == SERVER_BODY_STREAM && rt->request_type) add_responses(o, rt, "413", is_head);
    if (rt->auth == SERVER_AUTH_USER) add_responses(o, rt, "401", is_head);
    if (rt->heavy) add_responses(o, rt, "429", is_head);
    add_responses(o, rt, GUARD_RESPONSES, is_head);
    return o;
}

/* The extra fields each error code may carry (uploads.c, form.c, res_models.c, res_tus.c): the
 * document ties them to their code, so a checker refuses a max_size_mb on an AUDIO_TOO_LONG. */
static const struct { const char *code, *fields; } CODE_EXTRAS[] = {
    {"FILE_TOO_LARGE", "max_size_mb"},
    {"AUDIO_TOO_SHORT", "duration_seconds min_duration_seconds"},
    {"AUDIO_TOO_LONG", "duration_seconds max_duration_seconds"},
    {"QUALITY_TOO_LOW", "voice_activity_percent min_snr_db refused_below_snr_db actual_snr_db recommendation quality_analysis"},
    {"INVALID_FORMAT", "supported_formats"},
    {"CONFLICT", "file_id"},
};

/* Every extra field's schema, by name. */
static json_t *extra_fields(void)
{
    static const char *const EXTRA[][3] = {
        {"max_size_mb", "integer", "the limit"},
        {"duration_seconds", "number", "the file's length"},
        {"min_duration_seconds", "number", "the limit"},
        {"max_duration_seconds", "number", "the limit"},
        {"voice_activity_percent", "number", "no speech found"},
        {"min_snr_db", "number", "the SNR training needs"},
        {"refused_below_snr_db", "number", "the SNR under which a file is refused"},
        {"actual_snr_db", "number", "the file's SNR"},
        {"recommendation", "string", "what to do"},
        {"file_id", "string", "on a finished tus upload: the audio it became"},
    };
    json_t *f = json_pack("{s:{s:s, s:{s:s}}, s:{s:[o,{s:s}]}}", "supported_formats", "type", "array", "items", "type",
                          "string", "quality_analysis", "oneOf", schema_ref("QualityAnalysis"), "type", "null");
    for (size_t i = 0; i < sizeof EXTRA / sizeof EXTRA[0]; i++)
        json_object_set_new(f, EXTRA[i][0], json_pack("{s:[s,s], s:s}", "type", EXTRA[i][1], "null", "description", EXTRA[i][2]));
    return f;
}

/* One code's error object: the four fields every error has, error_code fixed, that code's extras. */
static json_t *error_for_code(const char *code, const json_t *extras)
{
    json_t *props = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}}", "status", "const", "error", "error_code", "const",
                              code, "message", "type", "string", "user_message", "type", "string");
    for (size_t i = 0; i < sizeof CODE_EXTRAS / sizeof CODE_EXTRAS[0]; i++) {
        if (strcmp(CODE_EXTRAS[i].code, code)) continue;
        char names[200], *save = NULL;
        snprintf(names, sizeof names, "%s", CODE_EXTRAS[i].fields);
        for (char *n = strtok_r(names, " ", &save); n; n = strtok_r(NULL, " ", &save))
            json_object_set(props, n, json_object_get(extras, n));
    }
    return json_pack("{s:s, s:s, s:[s,s,s,s], s:o, s:b}", "title", code, "type", "object", "required", "status",
                     "error_code", "message", "user_message", "properties", props, "additionalProperties", 0);
}

/* The brief's error object: one branch per code the server uses (oneOf: error_code tells them
 * apart), each closed, with exactly the extra fields that code may carry. */
static json_t *error_schema(void)
{
    json_t *branches = json_array(), *extras = extra_fields(), *seen = json_object();
    for (int c = 1; c < VC_CODE_COUNT; c++) {
        const char *name = vc_code_name((vc_code)c);
        if (json_object_get(seen, name)) continue; /* several internal codes share a name */
        json_object_set_new(seen, name, json_true());
        json_array_append_new(branches, error_for_code(name, extras));
    }
    json_decref(extras);
    json_decref(seen);
    return json_pack("{s:s, s:o}", "description", "An error: status, error_code, message, user_message, and the extra "
                     "fields of its code", "oneOf", branches);
}

/* "GET /api/models/{model_id}" → "get_api_models_model_id": a URL-safe identifier. */
static void operation_id(const server_route *rt, const char *method, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "%s", method);
    for (const char *p = rt->pattern; *p && n + 1 < cap; p++) {
        char ch = *p;
        int alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && (n == 0 || out[n - 1] == '_')) continue;
        out[n++] = alnum ? ch : '_';
    }
    while (n > 0 && out[n - 1] == '_') n--;
    out[n] = '\0';
}

/* Path parameters from the {name} segments of the pattern. */
static json_t *parameters_json(const char *pattern)
{
    json_t *list = json_array();
    for (const char *p = strchr(pattern, '{'); p; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        if (!end) break;
        json_array_append_new(list, json_pack("{s:s%, s:s, s:b, s:{s:s, s:s}}", "name", p + 1, (size_t)(end - p - 1),
                                              "in", "path", "required", 1, "schema", "type", "string", "pattern",
                                              "^[A-Za-z0-9_-]{1,64}$"));
    }
    return list;
}

/* requestBody: each media type of request_type ("application/json, multipart/form-data") with
 * request_schema; raw bytes (tus) with none. */
static json_t *request_body_json(const server_route *rt)
{
    json_t *content = json_object();
    json_t *schema = rt->request_schema ? json_loads(rt->request_schema, 0, NULL) : NULL; /* check_schemas */
    char buf[160];
    snprintf(buf, sizeof buf, "%s", rt->request_type);
    for (char *save, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
        json_object_set_new(content, tok, schema ? json_pack("{s:O}", "schema", schema) : json_object());
    json_decref(schema);
    return json_pack("{s:b, s:o}", "required", rt->request_schema != NULL, "content", content);
}

static json_t *operation_json(const server_route *rt, const char *method)
{
    char op_id[160];
    int is_head = !strcmp(method, "head");
    operation_id(rt, method, op_id, sizeof op_id);
    json_t *op = json_pack("{s:s, s:s, s:[s], s:o, s:o}", "summary", rt->summary ? rt->summary : "", "operationId",
                           op_id, "tags", rt->tag ? rt->tag : "misc", "parameters", parameters_json(rt->pattern),
                           "responses", responses_json(rt, is_head));
    if (is_head && strcmp(rt->method, "HEAD"))
        json_object_set_new(op, "summary", json_pack("s++", "Headers of GET: ", rt->summary ? rt->summary : "", ""));
    if (rt->request_type && !is_head) json_object_set_new(op, "requestBody", request_body_json(rt));
    if (rt->auth == SERVER_AUTH_PUBLIC) json_object_set_new(op, "security", json_array());
    return op;
}

static json_t *components_schemas(const server_schema *const *tables)
{
    json_t *o = json_object();
    for (size_t t = 0; tables[t]; t++)
        for (const server_schema *s = tables[t]; s->name; s++) json_object_set_new(o, s->name, json_loads(s->schema, 0, NULL));
    json_object_set_new(o, "Error", error_schema());
    return o;
}

/* One schema text: NULL (none) or a JSON object or array; else fails naming where it is. */
static int check_schema(const char *text, const char *what, const char *field, vc_error *err)
{
    if (!text) return 0;
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (j) {
        json_decref(j);
        return 0;
    }
    return vc_fail(err, VC_ERR_INTERNAL,
                   "the API document cannot be built: the %s of %s is not valid JSON (%s, at character %d): "
                   "fix its SERVER_SCHEMA(...) text", field, what, jerr.text, jerr.position);
}

static int check_schemas(const server_route *const *routes, const server_schema *const *schemas, vc_error *err)
{
    char what[300];
    for (size_t t = 0; routes[t]; t++)
        for (const server_route *rt = routes[t]; rt->method; rt++) {
            snprintf(what, sizeof what, "the route %s %s", rt->method, rt->pattern);
            if (check_schema(rt->request_schema, what, "request_schema", err) ||
                check_schema(rt->response_schema, what, "response_schema", err))
                return -1;
        }
    for (size_t t = 0; schemas[t]; t++)
        for (const server_schema *s = schemas[t]; s->name; s++) {
            snprintf(what, sizeof what, "components.schemas.%s", s->name);
            if (check_schema(s->schema, what, "schema", err)) return -1;
        }
    return 0;
}

json_t *server_openapi_build(const server_route *const *routes, const server_schema *const *schemas, vc_error *err)
{
    if (check_schemas(routes, schemas, err)) return NULL;
    json_t *paths = json_object();
    for (size_t t = 0; routes[t]; t++) {
        for (const server_route *rt = routes[t]; rt->method; rt++) {
            json_t *item = json_object_get(paths, rt->pattern);
            if (!item) {
                item = json_object();
                json_object_set_new(paths, rt->pattern, item);
            }
            char method[16];
            size_t i = 0;
            for (; rt->method[i] && i + 1 < sizeof method; i++) method[i] = (char)(rt->method[i] | 0x20);
            method[i] = '\0';
            json_object_set_new(item, method, operation_json(rt, method));
            /* every GET answers HEAD too (the router falls back) */
            if (!strcmp(method, "get") && !json_object_get(item, "head")) json_object_set_new(item, "head", operation_json(rt, "head"));
        }
    }
    return json_pack("{s:s, s:{s:s, s:s, s:s}, s:[{s:s, s:s}], s:o, s:{s:{s:{s:s, s:s}}, s:o}, s:[{s:[]}]}",
                     "openapi", "3.1.0", "info", "title", "VoiceClone Studio API", "version", SERVER_VERSION, "description",
                     "Errors: {status:'error', error_code, message, user_message} plus the extra fields of the Error "
                     "schema. Open on loopback without keys; otherwise Authorization: Bearer <key>.",
                     "servers", "url", "/", "description", "this studio (same origin)",
                     "paths", paths, "components", "securitySchemes", "bearer", "type", "http", "scheme", "bearer",
                     "schemas", components_schemas(schemas), "security", "bearer");
}

json_t *server_openapi_document(vc_error *err)
{
    static const server_schema *const SCHEMAS[] = {SERVER_SCHEMAS, SERVER_JOB_SCHEMAS, NULL};
    return server_openapi_build(SERVER_ROUTE_TABLES, SCHEMAS, err);
}

static int handle_openapi(server_request *r)
{
    vc_error err;
    json_t *doc = server_openapi_document(&err); /* cannot fail once the server started (server_start) */
    return doc ? server_reply_json(r, 200, doc) : server_fail(r, VC_ERR_INTERNAL, "%s", err.message);
}

/* A self-contained page (no CDN): fetches the document and renders one row per operation. */
static const char DOCS_PAGE[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>VoiceClone Studio API</title>"
    "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "code{background:#eee;padding:0 .3em}.m{display:inline-block;width:5.5em;font-weight:bold}"
    "h2{margin-top:1.5em;text-transform:capitalize}</style></head><body><main><h1>VoiceClone Studio API</h1>"
    "<p>Machine-readable: <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI 3.1).</p>"
    "<div id=\"ops\">Loading…</div></main><script>"
    "fetch('/api/openapi.json').then(r=>r.json()).then(d=>{const g={};"
    "for(const[p,item]of Object.entries(d.paths))for(const[m,op]of Object.entries(item)){"
    "const t=(op.tags||['misc'])[0];(g[t]=g[t]||[]).push([m,p,op]);}"
    "const el=document.getElementById('ops');el.textContent='';"
    "for(const[t,ops]of Object.entries(g)){const h=document.createElement('h2');h.textContent=t;el.append(h);"
    "const ul=document.createElement('ul');for(const[m,p,op]of ops){const li=document.createElement('li');"
    "const s=document.createElement('span');s.className='m';s.textContent=m.toUpperCase();"
    "const c=document.createElement('code');c.textContent=p;"
    "li.append(s,c,' — '+(op.summary||'')+' ['+Object.keys(op.responses).join(', ')+']');ul.append(li);}el.append(ul);}"
    "}).catch(e=>{document.getElementById('ops').textContent='Could not load the document: '+e;});"
    "</script></body></html>";

static int handle_docs(server_request *r)
{
    return server_reply_text(r, 200, "text/html; charset=utf-8", DOCS_PAGE);
}

const server_route SERVER_ROUTES_DOCS[] = {
    {.method = "GET", .pattern = "/api/openapi.json", .handle = handle_openapi, .auth = SERVER_AUTH_PUBLIC,
     .tag = "docs", .summary = "This API as an OpenAPI 3.1 document", .responses = "200",
     .response_schema = SERVER_SCHEMA({"type": "object", "required": ["openapi", "info", "paths"],
                                       "properties": {"openapi": {"const": "3.1.0"}, "info": {"type": "object"},
                                                      "paths": {"type": "object"}}})},
    {.method = "GET", .pattern = "/api/docs", .handle = handle_docs, .auth = SERVER_AUTH_PUBLIC, .tag = "docs",
     .summary = "Human-readable API documentation (HTML)", .responses = "200", .response_type = "text/html"},
    {0},
};
