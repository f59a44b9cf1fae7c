/*
 * The HTTP server of the studio (libmicrohttpd): the app context, the request each handler gets,
 * and the route table every resource file contributes to.
 *
 * How a request flows (http.c):
 *   1st access-handler call   match a route (router.c), check header size, resolve the user
 *                             (auth.c), call route->on_begin; nothing is queued yet (queuing on
 *                             the 1st call makes MHD 0.9.75 send Connection: close).
 *   body calls                SERVER_BODY_BUFFER: appended to r->body up to route->max_body;
 *                             SERVER_BODY_STREAM: handed to route->on_body as it arrives.
 *   last call                 if r->err was set on the way, the error JSON is sent; otherwise
 *                             route->handle runs and must queue exactly one response (server_reply_*).
 *   completed                 route->cleanup, one access-log JSON line on stderr, free.
 *
 * Adding endpoints (e.g. the jobs module: /api/jobs, /api/progress/{id}, /api/train):
 *   1. write src/server/res_<resource>.c with handler functions and a table
 *        const server_route SERVER_ROUTES_<RESOURCE>[] = { {...}, {0} };
 *   2. declare it below and add it to SERVER_ROUTE_TABLES in router.c.
 * That is all: the OpenAPI document (/api/openapi.json) is generated from the same tables (give
 * each route its request_schema / response_schema; docs/API.md "Adding a route to the contract");
 * tests/server/test_router.c checks it lists every route once with its bodies, and tests/contract
 * (make test) checks real answers of every operation against it. Long-lived responses (SSE) build their own
 * MHD_Response with MHD_create_response_from_callback and queue it with server_reply_response;
 * app->jobs is the slot for the jobs module's context; its scheduler starts and stops with the
 * server through one row in SERVER_MODULES (modules.c, see server_module below), and its tables
 * through one row in STORE_MIGRATION_SETS (src/store/migrations.c).
 * SSE connections: MHD's connection timeout is 120 s; lift it per connection with
 * MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, 0).
 */
#ifndef VC_SERVER_H
#define VC_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "base/error.h"
#include "store/store.h"

#define SERVER_VERSION "0.1.0"

typedef struct server_config {
    char host[64];              /* 127.0.0.1 by default */
    int port;                   /* 8000 by default; 0 = any free port */
    char data_dir[1024];        /* ./data */
    char database_url[1024];    /* --database / VCS_DATABASE_URL: postgres://… ("" = data_dir/studio.db) */
    char web_dir[1024];         /* ./web/dist (the built UI); a short page is served when missing */
    int no_workers;             /* --no-workers: API only (scale-out) */
    int upload_expiry_seconds;  /* tus uploads expire after this (VCS_UPLOAD_EXPIRY_SECONDS, 86400) */
    int access_log;             /* 1 = one JSON line per request on stderr (VCS_ACCESS_LOG=0 turns off) */
    int threads;                /* MHD thread pool size (2) */
    int max_connections;        /* MHD connection limit, all threads together (VCS_MAX_CONNECTIONS, 4096) */
    int conn_memory_kb;         /* MHD's per-connection pool (VCS_CONN_MEMORY_KB, 256; min 64): most of an
                                 * idle SSE client's server memory (about 0.6 of it is touched) */
    /* Hostile pages and clients (guard.c). Lists are comma-separated. */
    char allowed_origins[1024]; /* VCS_ALLOWED_ORIGINS: other origins that may POST and get CORS answers,
                                 * e.g. "http://localhost:5173"; the studio's own origin always may */
    char allowed_hosts[1024];   /* VCS_ALLOWED_HOSTS: Host names besides the bound address and the
                                 * loopback names (DNS rebinding defence), e.g. "studio.lan" */
    int per_ip_connections;     /* VCS_PER_IP_CONNECTIONS: connections one client address may hold
                                 * (default: a quarter of max_connections) */
    int idle_timeout_seconds;   /* VCS_IDLE_TIMEOUT_SECONDS: a connection silent this long is closed (60) */
    int min_body_bytes_per_second; /* VCS_MIN_BODY_RATE: a body slower than this on average, after
                                 * a grace period, is cut off (slow-loris uploads; 512) */
    int body_grace_seconds;     /* VCS_BODY_GRACE_SECONDS: that grace period (30) */
    int header_timeout_seconds; /* VCS_HEADER_TIMEOUT_SECONDS: a request head (or the next one on a
                                 * kept-alive connection) must be complete this long after the
                                 * connection opened / the last answer, however slowly it trickles (30) */
    /* Per-user quotas (quota.c); 0 = no limit. Over one: RATE_LIMITED (429) + Retry-After. */
    int quota_active_jobs;      /* VCS_QUOTA_ACTIVE_JOBS: queued + running jobs (20) */
    int quota_uploads;          /* VCS_QUOTA_UPLOADS: uploads in progress (tus and chunked, 10) */
    int quota_upload_mb;        /* VCS_QUOTA_UPLOAD_MB: bytes those uploads declared (2048) */
    int quota_storage_mb;       /* VCS_QUOTA_STORAGE_MB: stored audio and voices together (20480) */
} server_config;

/* Everything a handler may touch; no other mutable state exists in the server. */
typedef struct server_app {
    server_config config;
    store *store;
    int loopback;               /* bound to a loopback address: open mode possible */
    struct MHD_Daemon *daemon;
    void *jobs;                 /* the jobs module's context, NULL until it lands */
    void *retention;            /* the retention module's sweeper thread (retention_module.c) */
    /* auth.c caches "how many API keys exist" for a second (read/written with __atomic builtins),
     * so open-mode requests do not query the key table every time; `keys create` from the CLI
     * takes effect within that second. */
    int64_t auth_checked_ms;
    int auth_key_count;
    int offloaded;              /* heavy handlers running on their own threads (__atomic; offload.c) */
    struct server_deadlines *deadlines; /* the slow-client watchdog (deadline.c), NULL when off */
} server_app;

typedef struct server_request server_request;

typedef enum server_body_mode {
    SERVER_BODY_NONE = 0,   /* a body is read and dropped */
    SERVER_BODY_BUFFER,     /* a body up to max_body is collected in r->body (JSON) */
    SERVER_BODY_STREAM,     /* on_body gets the bytes as they arrive (uploads) */
} server_body_mode;

typedef enum server_auth_mode {
    SERVER_AUTH_USER = 0,   /* needs a user (open mode gives "local") */
    SERVER_AUTH_PUBLIC,     /* health, docs, static files */
} server_auth_mode;

typedef struct server_route {
    const char *method;      /* "GET", "POST", "PATCH", "HEAD", "OPTIONS", "DELETE" */
    const char *pattern;     /* "/api/models/{model_id}": a {name} matches one path segment */
    int (*handle)(server_request *r);  /* 0 after queuing a reply, -1 with r->err to send the error */
    server_body_mode body;
    size_t max_body;         /* BUFFER: bytes (0 = 1 MiB) */
    int (*on_begin)(server_request *r);                               /* optional; -1 + r->err */
    int (*on_body)(server_request *r, const char *data, size_t size); /* STREAM; -1 + r->err */
    void (*cleanup)(server_request *r);                               /* optional; frees r->ctx */
    server_auth_mode auth;
    const char *tag;         /* OpenAPI grouping */
    const char *summary;     /* one line for the OpenAPI document */
    /* The API contract (res_docs.c builds /api/openapi.json from these; tests/contract checks real
     * answers against it). Write schemas with SERVER_SCHEMA(...) below; shared objects are
     * {"$ref":"#/components/schemas/NAME"} from SERVER_SCHEMAS (schemas.c). */
    const char *request_type;/* documented request body media type, NULL = none */
    const char *request_schema;  /* JSON Schema of the request body: the JSON object, or the form fields of
                                  * multipart/form-data; NULL for raw bytes (tus) */
    const char *responses;   /* documented status codes, e.g. "200,404"; 400/401/413/415/429 that the
                              * framework itself answers are added from body, auth and heavy */
    const char *response_schema; /* JSON Schema of the success (first 2xx) body: JSON, or with response_type
                                  * the messages of an event stream; NULL with no body */
    const char *response_type;   /* media type of a success body that is not JSON ("audio/wav"), else NULL */
    const char *response_headers;/* headers of the success answer, comma-separated ("Location, Upload-Offset") */
    int heavy;               /* handle() decodes, imports or encodes: run it on its own thread (offload.c)
                              * with the connection suspended, so the HTTP threads stay free for I/O */
} server_route;

#define SERVER_MAX_PARAMS 4

struct server_request {
    server_app *app;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    const server_route *route;
    char params[SERVER_MAX_PARAMS][256];   /* path parameters in pattern order (URL-decoded) */
    char user_id[STORE_ID_MAX];            /* "" for public routes */
    char *body;                            /* BUFFER mode, NUL-terminated */
    size_t body_len, body_cap;
    void *ctx;                             /* per-route state, freed by route->cleanup */
    vc_error err;                          /* set by a failing step; sent at the end of the body */
    json_t *err_extra;                     /* extra fields for the error JSON (owned), e.g. max_size_mb */
    int failed;
    int responded;
    unsigned status;
    struct timespec t0;
    uint64_t body_bytes;                   /* received so far (guard.c's body deadline) */
    char allow[64];                        /* 405: the Allow header */
    int retry_after;                       /* 429/503: Retry-After seconds (0 = none) */
    int close_connection;                  /* framing errors: answer, then close */
    char cors_origin[256];                 /* an allowed cross origin: echoed in Access-Control-Allow-Origin */
    int preflight;                         /* an allowed CORS preflight, answered at the end */
    char extra_header[2][2][96];           /* more headers for whatever reply goes out (name, value) */
    int deferred;                          /* handle() runs off the HTTP thread: replies are kept here */
    struct MHD_Response *deferred_resp;    /* and queued when the connection resumes */
    unsigned deferred_status;
};

/* ---- routes ---- */
extern const server_route SERVER_ROUTES_SYSTEM[];
extern const server_route SERVER_ROUTES_DOCS[];
extern const server_route SERVER_ROUTES_AUDIO[];
extern const server_route SERVER_ROUTES_MODELS[];
extern const server_route SERVER_ROUTES_ANALYZE[];
extern const server_route SERVER_ROUTES_UPLOAD[];
extern const server_route SERVER_ROUTES_TUS[];
extern const server_route SERVER_ROUTES_JOBS[];
extern const server_route SERVER_ROUTES_TRAIN[];
extern const server_route SERVER_ROUTES_VOICES[];
/* ---- slow clients (deadline.c) ---- */
typedef struct server_deadlines server_deadlines;
enum { SERVER_CONN_HEAD, SERVER_CONN_BODY, SERVER_CONN_HANDLING }; /* what a connection waits for */
int server_deadlines_start(server_app *app, vc_error *err);  /* before the daemon */
void server_deadlines_stop(server_app *app);                  /* after the daemon */
/* MHD_OPTION_NOTIFY_CONNECTION callback (cls: the app) */
void server_deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                             enum MHD_ConnectionNotificationCode code);
/* The connection enters `phase` (a new one restarts its clock) and received body_bytes more. */
void server_deadlines_phase(server_app *app, struct MHD_Connection *conn, int phase, size_t body_bytes);

/* All tables, NULL-terminated (router.c). */
extern const server_route *const SERVER_ROUTE_TABLES[];

/* JSON Schema text written as JSON, without escaping: SERVER_SCHEMA({"type":"object"}) becomes the
 * string "{\"type\":\"object\"}" (the preprocessor's # operator). Keep to plain JSON inside. */
#define SERVER_SCHEMA(...) #__VA_ARGS__

/* Named schemas shared by several routes: components.schemas of the OpenAPI document (schemas.c). */
typedef struct server_schema {
    const char *name;   /* "Job": referenced as #/components/schemas/Job */
    const char *schema; /* SERVER_SCHEMA(...) text */
} server_schema;
extern const server_schema SERVER_SCHEMAS[]; /* {0}-terminated */
extern const server_schema SERVER_JOB_SCHEMAS[]; /* job results and progress events (schemas_jobs.c), {0}-terminated */

/* Finds the route for method + path; fills r->params. Returns NULL and sets *path_known when the
 * path exists with another method (→ 405). HEAD falls back to GET. */
const server_route *server_route_match(const char *method, const char *path, char params[][256], int *path_known);
/* The methods a path answers to ("GET, HEAD, DELETE"), for 405's Allow header. */
void server_route_allow(const char *path, char *out, size_t cap);

/* ---- per-user quotas (quota.c): 0, or -1 with RATE_LIMITED + Retry-After in r ---- */
int server_quota_upload(server_request *r, int64_t declared_bytes); /* a new upload of that many bytes */
/* Storing that many more bytes (an imported voice) within VCS_QUOTA_STORAGE_MB. */
int server_quota_storage(server_request *r, int64_t new_bytes);
int server_quota_jobs(server_request *r);                            /* one more job */

/* ---- heavy handlers off the HTTP threads (offload.c) ----
 * Runs route->handle for a `heavy` route on a new thread with the connection suspended; its reply
 * is kept (server_reply_response sees r->deferred) and queued by the access handler once the
 * thread resumes the connection. 1 = offloaded; 0 = too many already: r->err is RATE_LIMITED. */
int server_offload(server_request *r, void (*run)(server_request *r));
/* Waits until no offloaded handler is running (before MHD stops). */
void server_offload_drain(server_app *app);

/* ---- hostile pages and clients (guard.c) ----
 * Before routing: Host must be the bound address, a loopback name or a configured name (DNS
 * rebinding); CORS preflights are answered for configured origins only; state-changing requests
 * (POST/PUT/PATCH/DELETE) from a browser must come from the studio's own origin or a configured
 * one; a JSON endpoint's body must be Content-Type: application/json; conflicting
 * Content-Lengths and Content-Length with Transfer-Encoding are refused (request smuggling).
 * 0 = go on; -1 = r->err set (or a reply queued: r->responded). */
int server_guard_request(server_request *r);
/* The 204 answer to an allowed preflight (r->preflight), with its CORS headers. */
int server_guard_preflight_reply(server_request *r);
/* Per body chunk: cuts off bodies that arrive slower than the configured minimum rate. */
int server_guard_body(server_request *r, size_t size);
/* Response headers the guard owes every reply (CORS for allowed origins, Allow, Retry-After, close). */
void server_guard_headers(server_request *r, struct MHD_Response *resp);
/* A header for whatever reply this request ends with, errors included (two at most). */
void server_add_header(server_request *r, const char *name, const char *value);
/* Removes server paths from a message: the data folder's prefix, and any other absolute file path cut
 * to its last component ("/api/…" endpoints stay). server_reply_error runs it on every string field. */
void server_scrub_paths(const server_app *app, char *msg);
/* server_scrub_paths on every string of an error body (objects and arrays walked), in place. */
void server_scrub_error_body(const server_app *app, json_t *body);

/* ---- modules with a lifecycle (modules.c) ----
 * A module that runs beside the HTTP server (the jobs scheduler and its workers, SSE tickers) adds
 * one row to SERVER_MODULES in modules.c. Order: store opens → upload sweep → each start() (in
 * list order) → listening … SIGTERM → each quiesce() (resume suspended SSE connections, stop
 * accepting work) → MHD stops (waits for handlers) → each stop() (reverse order) → store closes. */
typedef struct server_module {
    const char *name;
    int (*start)(server_app *app, vc_error *err); /* may set app->jobs; -1 aborts startup */
    void (*quiesce)(server_app *app);             /* optional */
    void (*stop)(server_app *app);                /* optional */
} server_module;
extern const server_module *const SERVER_MODULES[];
extern const server_module JOBS_SERVER_MODULE; /* jobs_module.c */
extern const server_module RETENTION_SERVER_MODULE; /* retention_module.c */

/* ---- lifecycle (http.c) ---- */
void server_config_defaults(server_config *c);
int server_start(server_app *app, vc_error *err);  /* opens the store, starts MHD */
int server_bound_port(const server_app *app);
void server_stop(server_app *app);                 /* stops MHD, closes the store */

/* ---- replies (reply.c); each returns 0 so handlers can `return server_reply_json(...)` ---- */
int server_reply_response(server_request *r, unsigned status, struct MHD_Response *resp);
/* Takes ownership of body (json_decref'd). */
int server_reply_json(server_request *r, unsigned status, json_t *body);
int server_reply_text(server_request *r, unsigned status, const char *content_type, const char *text);
int server_reply_empty(server_request *r, unsigned status, struct MHD_Response **out_resp);
/* Sends r->err (+ r->err_extra) as the brief's error JSON. */
int server_reply_error(server_request *r);
/* Sets r->err and returns -1, so handlers can `return server_fail(r, VC_ERR_…, "…")`. */
int server_fail(server_request *r, vc_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Serves an open file (takes fd) with Range support; disposition may be NULL. */
int server_reply_file(server_request *r, int fd, const char *content_type, const char *disposition);

/* ---- request helpers (request.c) ---- */
const char *server_header(server_request *r, const char *name);
const char *server_query(server_request *r, const char *name);
/* Appends to r->body; -1 with r->err (FILE_TOO_LARGE) past limit. */
int server_body_append(server_request *r, const char *data, size_t size, size_t limit);
/* Parses r->body as a JSON object, rejecting malformed JSON and any key not in allowed (NULL-terminated). */
int server_json_body(server_request *r, const char *const *allowed, json_t **out);
/* Path parameter i as an id: 404 (with not_found code) unless it passes store_id_valid. */
int server_param_id(server_request *r, int i, vc_code not_found, const char **out);

/* ---- auth (auth.c) ---- */
/* Fills r->user_id or fails with VC_ERR_UNAUTHORIZED. */
int server_auth_resolve(server_request *r);
/* 1 when the request resolves to a user (a valid key, or open mode); never fails the request.
 * For public routes that show more to users (paths in /api/system). */
int server_auth_try(server_request *r);
/* 1 when requests need no key (loopback and no active key; re-checked at most once a second). */
int server_auth_open_mode(server_app *app);

/* ---- static UI (static.c) ---- */
int server_static_handle(server_request *r);

/* ---- JSON helpers (json.c) ---- */
json_t *server_json_number(double v);  /* null for NaN/Inf (JSON has no such numbers) */
/* res_voices.c: a saved instant voice as the Voice schema says. */
json_t *server_voice_json(const store_voice *v);
/* A quick-clone body naming a saved voice {voice_id}: replaced in place by the voice's
 * reference_audio_id (and its reference_text unless the body has one), so the job sees the brief's
 * shape. 0 when done or no voice_id; -1 with r->err set (unknown voice, both ids given). */
int server_voice_resolve(server_request *r, json_t *body);
/* In place: invalid UTF-8 bytes and control characters become '?'. */
void server_utf8_sanitize(char *s);

/* ---- OpenAPI (res_docs.c) ---- */
/* The document of these route tables and components.schemas tables (both NULL-terminated lists).
 * NULL with err (VC_ERR_INTERNAL, naming the route or schema) when a schema text does not parse:
 * nothing is left out silently. */
json_t *server_openapi_build(const server_route *const *routes, const server_schema *const *schemas, vc_error *err);
/* The server's own: SERVER_ROUTE_TABLES with SERVER_SCHEMAS and SERVER_JOB_SCHEMAS. */
json_t *server_openapi_document(vc_error *err);

#endif
