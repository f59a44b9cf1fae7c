/*
 * Hostile web pages and hostile clients (see server.h, "hostile pages and clients").
 *
 * In the open local mode (loopback, no API keys) any website the user visits can send requests
 * to 127.0.0.1. Browsers send simple cross-origin requests (form posts, text/plain bodies,
 * multipart uploads) without a CORS preflight, and DNS rebinding makes a foreign site look
 * same-origin. So before a route runs:
 *   Host      must name this studio: the bound address, a loopback name, or VCS_ALLOWED_HOSTS
 *             (a rebinding site's requests carry its own name). A wildcard bind accepts any Host
 *             unless VCS_ALLOWED_HOSTS is set (keys are required off loopback anyway).
 *   Origin    on POST/PUT/PATCH/DELETE must be the studio's own (scheme://Host) or in
 *             VCS_ALLOWED_ORIGINS; "null" and foreign origins get 403. No Origin (curl, tus
 *             clients) is allowed unless Sec-Fetch-Site says cross-site.
 *   preflight OPTIONS with Access-Control-Request-Method: 204 with CORS headers for allowed
 *             origins, 403 otherwise.
 *   JSON      a body sent to a JSON endpoint must be Content-Type: application/json (415), so a
 *             text/plain form post cannot reach the JSON parser.
 *   framing   two different Content-Lengths, or Content-Length with Transfer-Encoding, are
 *             refused and the connection closed (a proxy in front may frame it differently).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/scrub.h"
#include "server/server.h"

#define BODY_GRACE_SECONDS 30 /* default of body_grace_seconds */
#define PREFLIGHT_MAX_AGE "600"
#define EXPOSED_HEADERS "Location, Upload-Offset, Upload-Length, Upload-Metadata, Upload-Expires, Tus-Version, " \
                        "Tus-Resumable, Tus-Max-Size, Tus-Extension, Retry-After, Content-Range, Content-Disposition, ETag"

/* 1 when item (len n) is one of the comma-separated entries of list (case-insensitive). */
static int in_list(const char *list, const char *item, size_t n)
{
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',') p++;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && p[len - 1] == ' ') len--;
        if (len && len == n && !strncasecmp(p, item, n)) return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* The host part of a Host header value: "[::1]:8000" → "::1", "a.b:80" → "a.b". */
static size_t host_name(const char *host, const char **start)
{
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        *start = host + 1;
        return close ? (size_t)(close - host - 1) : strlen(host + 1);
    }
    *start = host;
    const char *colon = strchr(host, ':');
    return colon ? (size_t)(colon - host) : strlen(host);
}

static int is_wildcard(const char *bound) { return !strcmp(bound, "0.0.0.0") || !strcmp(bound, "::"); }

static int host_allowed(const server_app *app, const char *host)
{
    const char *name;
    size_t n = host_name(host, &name);
    const server_config *c = &app->config;
    if (n == 0) return 0;
    if (in_list(c->allowed_hosts, name, n)) return 1;
    if (is_wildcard(c->host)) return c->allowed_hosts[0] == '\0';
    static const char *const LOOPBACK = "localhost,127.0.0.1,::1";
    if (app->loopback && in_list(LOOPBACK, name, n)) return 1;
    if (n >= 10 && !strncasecmp(name + n - 10, ".localhost", 10) && app->loopback) return 1; /* RFC 6761 */
    return strlen(c->host) == n && !strncasecmp(c->host, name, n);
}

/* The request's own origin: scheme://Host, for either scheme (a TLS proxy may sit in front). */
static int same_origin(const char *origin, const char *host)
{
    if (!host) return 0;
    const char *rest = !strncasecmp(origin, "http://", 7) ? origin + 7 : !strncasecmp(origin, "https://", 8) ? origin + 8 : NULL;
    if (!rest) return 0;
    if (!strcasecmp(rest, host)) return 1;
    /* default ports: Origin omits them, Host may carry them */
    size_t n = strlen(rest);
    return !strncasecmp(rest, host, n) && (!strcmp(host + n, ":80") || !strcmp(host + n, ":443"));
}

static int origin_allowed(const server_app *app, const char *origin, const char *host)
{
    return same_origin(origin, host) || in_list(app->config.allowed_origins, origin, strlen(origin));
}

static int is_state_changing(const char *method)
{
    return !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH") || !strcmp(method, "DELETE");
}

typedef struct framing { int cl_count, cl_conflict, te; char first_cl[32]; } framing;

static enum MHD_Result scan_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    framing *f = cls;
    if (!strcasecmp(key, "Content-Length")) {
        char v[32];
        snprintf(v, sizeof v, "%s", value ? value : "");
        if (f->cl_count++ == 0) snprintf(f->first_cl, sizeof f->first_cl, "%s", v);
        else if (strcmp(f->first_cl, v)) f->cl_conflict = 1;
        if (strchr(v, ',')) f->cl_conflict = 1; /* "5, 7" folded into one line */
    } else if (!strcasecmp(key, "Transfer-Encoding")) {
        f->te = 1;
    }
    return MHD_YES;
}

static int preflight(server_request *r, const char *origin, const char *host)
{
    if (!origin || !origin_allowed(r->app, origin, host) || same_origin(origin, host))
        return server_fail(r, VC_ERR_FORBIDDEN, "cross-origin requests from %s are not allowed; add the origin to "
                           "VCS_ALLOWED_ORIGINS to allow it", origin ? origin : "(no origin)");
    snprintf(r->cors_origin, sizeof r->cors_origin, "%s", origin);
    r->preflight = 1; /* answered at the end of the request (queuing now makes MHD close the connection) */
    return 0;
}

int server_guard_preflight_reply(server_request *r)
{
    struct MHD_Response *resp;
    server_reply_empty(r, 204, &resp);
    if (resp) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, HEAD, POST, PATCH, DELETE, OPTIONS");
        const char *want = server_header(r, "Access-Control-Request-Headers");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                want ? want : "Authorization, Content-Type, Tus-Resumable, Upload-Length, Upload-Offset, Upload-Metadata");
        MHD_add_response_header(resp, "Access-Control-Max-Age", PREFLIGHT_MAX_AGE);
    }
    return server_reply_response(r, 204, resp);
}

static int body_present(server_request *r)
{
    const char *cl = server_header(r, "Content-Length");
    return (cl && strtoull(cl, NULL, 10) > 0) || server_header(r, "Transfer-Encoding");
}

int server_guard_request(server_request *r)
{
    r->body_bytes = 0;
    framing f = {0};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, scan_framing, &f);
    if (f.cl_conflict || (f.cl_count && f.te)) {
        r->close_connection = 1;
        return server_fail(r, VC_ERR_INVALID_REQUEST, "%s", f.cl_conflict ? "conflicting Content-Length headers"
                                                                          : "Content-Length together with Transfer-Encoding");
    }
    const char *host = server_header(r, "Host");
    if (host && !host_allowed(r->app, host)) {
        char shown[128];
        snprintf(shown, sizeof shown, "%s", host);
        server_utf8_sanitize(shown);
        r->status = 421;
        return server_fail(r, VC_ERR_FORBIDDEN, "Host '%s' is not this studio's address; open the studio at its own "
                           "address, or add the name to VCS_ALLOWED_HOSTS", shown);
    }
    const char *origin = server_header(r, "Origin");
    if (origin && origin_allowed(r->app, origin, host) && !same_origin(origin, host))
        snprintf(r->cors_origin, sizeof r->cors_origin, "%s", origin);
    if (!strcmp(r->method, "OPTIONS") && origin && server_header(r, "Access-Control-Request-Method"))
        return preflight(r, origin, host);
    if (!strcmp(r->method, "OPTIONS") && origin && !same_origin(origin, host) && !r->cors_origin[0])
        return server_fail(r, VC_ERR_FORBIDDEN, "cross-origin requests are not allowed from this origin; add it to "
                           "VCS_ALLOWED_ORIGINS to allow it");
    if (is_state_changing(r->method)) {
        const char *site = server_header(r, "Sec-Fetch-Site");
        int foreign = origin ? !origin_allowed(r->app, origin, host) : site && !strcmp(site, "cross-site");
        if (foreign) {
            char shown[128];
            snprintf(shown, sizeof shown, "%s", origin ? origin : "a cross-site page");
            server_utf8_sanitize(shown);
            return server_fail(r, VC_ERR_FORBIDDEN, "a page from %s may not %s to the studio; only the studio's own "
                               "pages and the origins in VCS_ALLOWED_ORIGINS may", shown, r->method);
        }
    }
    if (r->route && r->route->body == SERVER_BODY_BUFFER && body_present(r)) {
        const char *ct = server_header(r, "Content-Type");
        size_t n = ct ? strcspn(ct, "; ") : 0;
        if (!ct || n != 16 || strncasecmp(ct, "application/json", 16))
            return server_fail(r, VC_ERR_UNSUPPORTED_MEDIA_TYPE, "the body must be sent with Content-Type: "
                               "application/json (got %s)", ct ? "another type" : "none");
    }
    return 0;
}

int server_guard_body(server_request *r, size_t size)
{
    r->body_bytes += size;
    int rate = r->app->config.min_body_bytes_per_second;
    if (rate <= 0) return 0;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double elapsed = (double)(t.tv_sec - r->t0.tv_sec) + (double)(t.tv_nsec - r->t0.tv_nsec) / 1e9;
    int grace = r->app->config.body_grace_seconds > 0 ? r->app->config.body_grace_seconds : BODY_GRACE_SECONDS;
    if (elapsed < grace || (double)r->body_bytes >= elapsed * rate) return 0;
    return -1;
}

void server_guard_headers(server_request *r, struct MHD_Response *resp)
{
    if (r->cors_origin[0]) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", r->cors_origin);
        MHD_add_response_header(resp, "Access-Control-Expose-Headers", EXPOSED_HEADERS);
        MHD_add_response_header(resp, "Vary", "Origin");
    }
    if (r->allow[0]) MHD_add_response_header(resp, "Allow", r->allow);
    if (r->retry_after > 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", r->retry_after);
        MHD_add_response_header(resp, "Retry-After", v);
    }
    if (r->close_connection) MHD_add_response_header(resp, "Connection", "close");
    for (int i = 0; i < 2; i++)
        if (r->extra_header[i][0][0]) MHD_add_response_header(resp, r->extra_header[i][0], r->extra_header[i][1]);
}

void server_add_header(server_request *r, const char *name, const char *value)
{
    for (int i = 0; i < 2; i++)
        if (!r->extra_header[i][0][0]) {
            snprintf(r->extra_header[i][0], sizeof r->extra_header[i][0], "%s", name);
            snprintf(r->extra_header[i][1], sizeof r->extra_header[i][1], "%s", value);
            return;
        }
}

void server_scrub_paths(const server_app *app, char *msg)
{
    char root[1200];
    if (!app->store || store_path(app->store, root, sizeof root, "x")) root[0] = '\0';
    else root[strlen(root) - 1] = '\0'; /* "<root>/x" → "<root>/" */
    vc_scrub_paths(msg, root);
}

/* Every string in v (objects and arrays walked) without server paths: message, user_message and
 * whatever extra field a handler added all reach the client. */
void server_scrub_error_body(const server_app *app, json_t *v)
{
    if (json_is_string(v)) {
        char *copy = strdup(json_string_value(v));
        if (!copy) return;
        server_scrub_paths(app, copy);
        json_string_set(v, copy); /* only ever shorter, at whole characters: still UTF-8 */
        free(copy);
        return;
    }
    const char *key;
    json_t *item;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach(v, key, item) server_scrub_error_body(app, item);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, item) server_scrub_error_body(app, item);
    }
}
