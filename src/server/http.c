/*
 * The listener: libmicrohttpd daemon setup (epoll, internal thread pool, suspend/resume allowed),
 * the access handler that drives each request through its route (see server.h for the flow), and
 * the access log written when a request completes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server/server.h"
#include "server/uploads.h"

#define SERVER_MAX_HEADER_BYTES (16 * 1024)   /* our own limit, answered with JSON 431 */
#define SERVER_CONN_MEMORY_KB 256             /* MHD's per-connection buffer (hard limit), default */

void server_config_defaults(server_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    c->port = 8000;
    snprintf(c->data_dir, sizeof c->data_dir, "./data");
    snprintf(c->web_dir, sizeof c->web_dir, "./web/dist");
    c->upload_expiry_seconds = 86400;
    c->access_log = 1;
    c->threads = 2;
    c->max_connections = 4096; /* SSE clients each hold one; MHD's default (FD_SETSIZE - 4) is too low */
    c->conn_memory_kb = SERVER_CONN_MEMORY_KB;
    c->per_ip_connections = 0; /* 0: a quarter of max_connections, so one client never takes them all */
    c->idle_timeout_seconds = 60;
    c->min_body_bytes_per_second = 512;
    c->body_grace_seconds = 30;
    c->header_timeout_seconds = 30;
    c->quota_active_jobs = 20;
    c->quota_uploads = 10;
    c->quota_upload_mb = 2048;
    c->quota_storage_mb = 20480;
}

static enum MHD_Result sum_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    size_t *total = cls;
    *total += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

/* Route match, header limit, auth and on_begin: everything decided before the body. */
static void request_begin(server_request *r)
{
    int path_known = 0;
    r->route = server_route_match(r->method, r->url, r->params, &path_known);
    size_t header_bytes = 0;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, sum_header, &header_bytes);
    if (header_bytes > SERVER_MAX_HEADER_BYTES) {
        server_fail(r, VC_ERR_INVALID_REQUEST, "request headers are %zu bytes; the limit is %d", header_bytes,
                    SERVER_MAX_HEADER_BYTES);
        r->status = 431;
        return;
    }
    if (server_guard_request(r) || r->preflight) return;
    if (!r->route) {
        if (path_known) {
            server_route_allow(r->url, r->allow, sizeof r->allow);
            server_fail(r, VC_ERR_METHOD_NOT_ALLOWED, "method %s is not allowed on %s; use %s", r->method, r->url, r->allow);
        } else if (strncmp(r->url, "/api/", 5) == 0 || strcmp(r->url, "/api") == 0) {
            server_fail(r, VC_ERR_NOT_FOUND, "no endpoint %s %s", r->method, r->url);
        }
        return; /* non-API paths go to the static UI at the end */
    }
    if (r->route->auth == SERVER_AUTH_USER && server_auth_resolve(r)) return;
    if (r->route->on_begin) r->route->on_begin(r);
}

static void request_body(server_request *r, const char *data, size_t size)
{
    if (r->failed || !r->route) return; /* keep reading so the error can be sent cleanly */
    if (r->route->body == SERVER_BODY_BUFFER)
        server_body_append(r, data, size, r->route->max_body ? r->route->max_body : 1024 * 1024);
    else if (r->route->body == SERVER_BODY_STREAM && r->route->on_body)
        r->route->on_body(r, data, size);
}

/* The route's handler, and an error reply when it produced none. */
static void run_handler(server_request *r)
{
    if (r->route->handle(r) && !r->responded) {
        if (!r->failed) server_fail(r, VC_ERR_INTERNAL, "handler failed without a reason");
        server_reply_error(r);
    }
    if (!r->responded) {
        server_fail(r, VC_ERR_INTERNAL, "no response was produced");
        server_reply_error(r);
    }
}

static void request_end(server_request *r)
{
    if (r->preflight && !r->failed) {
        server_guard_preflight_reply(r);
    } else if (r->failed) {
        server_reply_error(r);
    } else if (!r->route) {
        server_static_handle(r);
    } else if (r->route->heavy) {
        if (server_offload(r, run_handler)) return; /* the reply is queued when the thread resumes us */
        server_reply_error(r);
    } else {
        run_handler(r);
    }
    if (!r->responded) {
        server_fail(r, VC_ERR_INTERNAL, "no response was produced");
        server_reply_error(r);
    }
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                      const char *version, const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    (void)version;
    server_request *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &r->t0);
        r->app = cls;
        r->conn = conn;
        r->method = method;
        r->url = url;
        *con_cls = r;
        server_deadlines_phase(r->app, conn, SERVER_CONN_BODY, 0); /* the head is in */
        request_begin(r);
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (server_guard_body(r, *upload_data_size)) return MHD_NO; /* slower than the minimum rate: cut off */
        server_deadlines_phase(r->app, conn, SERVER_CONN_BODY, *upload_data_size);
        request_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    server_deadlines_phase(r->app, conn, SERVER_CONN_HANDLING, 0); /* the body is in */
    if (r->deferred_resp) { /* an offloaded handler finished and resumed the connection */
        struct MHD_Response *resp = r->deferred_resp;
        r->deferred_resp = NULL;
        r->deferred = 0;
        MHD_queue_response(conn, r->deferred_status, resp);
        MHD_destroy_response(resp);
        return MHD_YES;
    }
    if (!r->responded && !r->deferred) request_end(r);
    return MHD_YES;
}

static void access_log(server_request *r, enum MHD_RequestTerminationCode toe)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - r->t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e6;
    char ts[32], path[512], method[16];
    store_now_iso(ts);
    snprintf(path, sizeof path, "%s", r->url);
    snprintf(method, sizeof method, "%s", r->method);
    server_utf8_sanitize(path);
    server_utf8_sanitize(method);
    json_t *line = json_pack("{s:s, s:s, s:s, s:i, s:f, s:s, s:s}", "ts", ts, "method", method, "path", path,
                             "status", (int)r->status, "ms", ms, "user", r->user_id,
                             "route", r->route ? r->route->pattern : "");
    if (!line) return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) json_object_set_new(line, "aborted", json_true());
    if (r->failed) json_object_set_new(line, "error_code", json_string(vc_code_name(r->err.code)));
    char *text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(line);
    if (!text) return;
    size_t n = strlen(text);
    text[n] = '\n'; /* one write() per line keeps lines whole across the pool's threads */
    fwrite(text, 1, n + 1, stderr);
    fflush(stderr);
    free(text);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    server_app *app = cls;
    server_request *r = *con_cls;
    server_deadlines_phase(app, conn, SERVER_CONN_HEAD, 0); /* kept alive: the next head's clock starts */
    if (!r) return;
    if (r->route && r->route->cleanup) r->route->cleanup(r);
    if (r->deferred_resp) MHD_destroy_response(r->deferred_resp);
    if (app->config.access_log) access_log(r, toe);
    json_decref(r->err_extra);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

/* MHD's own messages (oversized headers, socket errors) as JSON lines like the access log. */
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '.')) msg[--n] = '\0';
    char ts[32];
    store_now_iso(ts);
    json_t *line = json_pack("{s:s, s:s, s:s}", "ts", ts, "event", "http_error", "message", msg);
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    if (text) fprintf(stderr, "%s\n", text);
    free(text);
}

static int host_is_loopback(const char *host)
{
    return !strcmp(host, "127.0.0.1") || !strcmp(host, "localhost") || !strcmp(host, "::1") ||
           !strncmp(host, "127.", 4);
}

static int start_daemon(server_app *app, vc_error *err)
{
    const server_config *c = &app->config;
    struct sockaddr_in a4 = {0};
    struct sockaddr_in6 a6 = {0};
    const char *host = strcmp(c->host, "localhost") == 0 ? "127.0.0.1" : c->host;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    const struct sockaddr *sa;
    int max_conn = c->max_connections > 0 ? c->max_connections : 4096;
    unsigned per_ip = (unsigned)(c->per_ip_connections > 0 ? c->per_ip_connections : (max_conn / 4 > 0 ? max_conn / 4 : 1));
    if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)c->port);
        sa = (const struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)c->port);
        sa = (const struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "--host must be an IP address (got '%s')", c->host);
    }
    app->daemon = MHD_start_daemon(flags, (uint16_t)c->port, NULL, NULL, access_handler, app,
                                   MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL, /* must come first */
                                   MHD_OPTION_SOCK_ADDR, sa,
                                   MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(c->threads > 0 ? c->threads : 2),
                                   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(c->conn_memory_kb >= 64 ? c->conn_memory_kb : SERVER_CONN_MEMORY_KB) * 1024,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned)max_conn,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(c->idle_timeout_seconds > 0 ? c->idle_timeout_seconds : 60),
                                   MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
                                   MHD_OPTION_NOTIFY_COMPLETED, request_completed, app,
                                   MHD_OPTION_NOTIFY_CONNECTION, server_deadlines_notify, app,
                                   MHD_OPTION_END);
    if (!app->daemon) return vc_fail(err, VC_ERR_IO, "cannot listen on %s:%d (port in use?)", c->host, c->port);
    return 0;
}

static void stop_modules(server_app *app, size_t started)
{
    while (started-- > 0)
        if (SERVER_MODULES[started]->stop) SERVER_MODULES[started]->stop(app);
}

int server_start(server_app *app, vc_error *err)
{
    /* A route or schema whose documentation cannot be built is a bug to fix before serving, not a
     * document quietly missing a schema. */
    json_t *doc = server_openapi_document(err);
    if (!doc) return -1;
    json_decref(doc);
    app->loopback = host_is_loopback(app->config.host);
    if (store_open_url(&app->store, app->config.data_dir, app->config.database_url, err)) return -1;
    size_t started = 0;
    int rc = upload_sweep(app, err);
    for (; !rc && SERVER_MODULES[started]; started++) {
        if (SERVER_MODULES[started]->start(app, err)) {
            vc_error_wrap(err, "starting %s", SERVER_MODULES[started]->name);
            rc = -1;
            break;
        }
    }
    if (!rc) rc = server_deadlines_start(app, err);
    if (!rc) rc = start_daemon(app, err);
    if (rc) {
        server_deadlines_stop(app);
        stop_modules(app, started);
        store_close(app->store);
        app->store = NULL;
    }
    return rc;
}

int server_bound_port(const server_app *app)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(app->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : app->config.port;
}

void server_stop(server_app *app)
{
    size_t n = 0;
    while (SERVER_MODULES[n]) n++;
    for (size_t i = 0; i < n; i++)
        if (SERVER_MODULES[i]->quiesce) SERVER_MODULES[i]->quiesce(app);
    server_offload_drain(app); /* suspended connections must be resumed before MHD stops */
    if (app->daemon) MHD_stop_daemon(app->daemon);
    app->daemon = NULL;
    server_deadlines_stop(app);
    stop_modules(app, n);
    store_close(app->store);
    app->store = NULL;
}
