/*
 * /api/openapi.json (OpenAPI 3.1) and /api/docs, both generated from SERVER_ROUTE_TABLES — the
 * same tables that route requests — so the documentation cannot drift from the server.
 */
#include <stdio.h>
#include <string.h>

#include "server/server.h"

static const char *status_text(const char *code)
{
    static const char *const MAP[][2] = {
        {"200", "Success"}, {"201", "Created"}, {"204", "No content"}, {"206", "Partial content (Range)"},
        {"400", "Invalid request or audio (error JSON)"}, {"401", "API key required"}, {"404", "Not found"},
        {"409", "Conflict (tus offset mismatch)"}, {"410", "Upload expired"}, {"412", "Tus-Resumable missing"},
        {"413", "Too large"}, {"415", "Wrong content type"}, {"416", "Range not satisfiable"},
        {"460", "Checksum mismatch"},
    };
    for (size_t i = 0; i < sizeof MAP / sizeof MAP[0]; i++)
        if (!strcmp(code, MAP[i][0])) return MAP[i][1];
    return "See description";
}

static json_t *responses_json(const char *list)
{
    json_t *o = json_object();
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list && *list ? list : "200");
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        json_object_set_new(o, tok, json_pack("{s:s}", "description", status_text(tok)));
    return o;
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

static json_t *operation_json(const server_route *rt)
{
    char op_id[160];
    snprintf(op_id, sizeof op_id, "%s %s", rt->method, rt->pattern);
    json_t *op = json_pack("{s:s, s:s, s:[s], s:o, s:o}", "summary", rt->summary ? rt->summary : "", "operationId",
                           op_id, "tags", rt->tag ? rt->tag : "misc", "parameters", parameters_json(rt->pattern),
                           "responses", responses_json(rt->responses));
    if (rt->request_type)
        json_object_set_new(op, "requestBody",
                            json_pack("{s:{s:{}}}", "content", rt->request_type));
    if (rt->auth == SERVER_AUTH_PUBLIC) json_object_set_new(op, "security", json_array());
    return op;
}

json_t *server_openapi_document(void)
{
    json_t *paths = json_object();
    for (size_t t = 0; SERVER_ROUTE_TABLES[t]; t++) {
        for (const server_route *rt = SERVER_ROUTE_TABLES[t]; rt->method; rt++) {
            json_t *item = json_object_get(paths, rt->pattern);
            if (!item) {
                item = json_object();
                json_object_set_new(paths, rt->pattern, item);
            }
            char method[16];
            size_t i = 0;
            for (; rt->method[i] && i + 1 < sizeof method; i++) method[i] = (char)(rt->method[i] | 0x20);
            method[i] = '\0';
            json_object_set_new(item, method, operation_json(rt));
        }
    }
    return json_pack("{s:s, s:{s:s, s:s, s:s}, s:o, s:{s:{s:{s:s, s:s}}}, s:[{s:[]}]}", "openapi", "3.1.0", "info",
                     "title", "VoiceClone Studio API", "version", SERVER_VERSION, "description",
                     "Errors: {status:'error', error_code, message, user_message}. Open on loopback without keys; "
                     "otherwise Authorization: Bearer <key>.",
                     "paths", paths, "components", "securitySchemes", "bearer", "type", "http", "scheme", "bearer",
                     "security", "bearer");
}

static int handle_openapi(server_request *r)
{
    return server_reply_json(r, 200, server_openapi_document());
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
     .tag = "docs", .summary = "This API as an OpenAPI 3.1 document", .responses = "200"},
    {.method = "GET", .pattern = "/api/docs", .handle = handle_docs, .auth = SERVER_AUTH_PUBLIC, .tag = "docs",
     .summary = "Human-readable API documentation (HTML)", .responses = "200"},
    {0},
};
