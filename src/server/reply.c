/*
 * Every response leaves through here: JSON bodies (jansson, JSON_REAL_PRECISION(15) so 7.777 is
 * not 7.7770000000000001), the brief's error object, and files with HTTP Range support.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/server.h"

int server_reply_response(server_request *r, unsigned status, struct MHD_Response *resp)
{
    if (!resp) {
        r->status = 500;
        r->responded = 1;
        return 0;
    }
    if (r->route) MHD_add_response_header(resp, "X-VCS-Route", r->route->pattern);
    server_guard_headers(r, resp);
    if (r->deferred) { /* off the HTTP thread: MHD takes it when the connection resumes */
        r->deferred_resp = resp;
        r->deferred_status = status;
        r->status = status;
        r->responded = 1;
        return 0;
    }
    MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    r->status = status;
    r->responded = 1;
    return 0;
}

int server_reply_json(server_request *r, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(body);
    if (!text) text = strdup("{\"status\":\"error\",\"error_code\":\"OUT_OF_MEMORY\"}");
    size_t n = text ? strlen(text) : 0;
    struct MHD_Response *resp = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE);
    if (resp) MHD_add_response_header(resp, "Content-Type", "application/json");
    else free(text);
    return server_reply_response(r, status, resp);
}

int server_reply_text(server_request *r, unsigned status, const char *content_type, const char *text)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (resp) MHD_add_response_header(resp, "Content-Type", content_type);
    return server_reply_response(r, status, resp);
}

int server_reply_empty(server_request *r, unsigned status, struct MHD_Response **out_resp)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (out_resp) { /* caller adds headers, then queues with server_reply_response */
        *out_resp = resp;
        return 0;
    }
    return server_reply_response(r, status, resp);
}

int server_fail(server_request *r, vc_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vc_failv(&r->err, code, fmt, ap);
    va_end(ap);
    r->failed = 1;
    return -1;
}

int server_reply_error(server_request *r)
{
    vc_code code = r->err.code == VC_OK ? VC_ERR_INTERNAL : r->err.code;
    unsigned status = r->status >= 400 ? r->status : (unsigned)vc_code_http_status(code);
    server_utf8_sanitize(r->err.message); /* it may echo the URL or a file name (json_pack wants UTF-8) */
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "status", "error", "error_code", vc_code_name(code), "message",
                          r->err.message, "user_message", vc_code_user_message(code));
    if (o && r->err_extra) json_object_update(o, r->err_extra);
    if (o && code == VC_ERR_INVALID_FORMAT && !json_object_get(o, "supported_formats"))
        json_object_set_new(o, "supported_formats", json_pack("[s,s,s,s]", "wav", "mp3", "flac", "ogg"));
    server_scrub_error_body(r->app, o); /* never a server path, in any field: one place for every handler */
    r->failed = 1;
    return server_reply_json(r, status, o);
}

/* Range (RFC 9110 §14): RANGE_FULL ignores the header (unknown unit, malformed, several ranges:
 * the whole file with 200 is always allowed), RANGE_PART serves [from, to] with 206,
 * RANGE_UNSATISFIABLE answers 416. */
enum { RANGE_FULL, RANGE_PART, RANGE_UNSATISFIABLE };

static int digits(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9') return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9) / 10) return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *out = v;
    return 0;
}

static int parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
    while (*h == ' ' || *h == '\t') h++;
    if (strncasecmp(h, "bytes", 5) != 0) return RANGE_FULL;
    const char *p = h + 5;
    while (*p == ' ' || *p == '\t') p++;
    if (*p++ != '=') return RANGE_FULL;
    while (*p == ' ' || *p == '\t') p++;
    if (strchr(p, ',')) return RANGE_FULL; /* multi-range: answered with the whole file */
    uint64_t a = 0, b = 0;
    if (*p == '-') {
        p++;
        if (digits(&p, &b)) return RANGE_FULL;
        while (*p == ' ' || *p == '\t') p++;
        if (*p) return RANGE_FULL;
        if (b == 0 || size == 0) return RANGE_UNSATISFIABLE;
        *from = b >= size ? 0 : size - b;
        *to = size - 1;
        return RANGE_PART;
    }
    if (digits(&p, &a) || *p++ != '-') return RANGE_FULL;
    int open = !(*p >= '0' && *p <= '9');
    if (!open && digits(&p, &b)) return RANGE_FULL;
    while (*p == ' ' || *p == '\t') p++;
    if (*p || (!open && b < a)) return RANGE_FULL; /* invalid range-spec: ignored */
    if (a >= size) return RANGE_UNSATISFIABLE;
    *from = a;
    *to = open || b >= size ? size - 1 : b;
    return RANGE_PART;
}

/* If-Range: the range applies only when the validator still matches (strong ETag or the exact date). */
static int if_range_matches(const char *v, const char *etag, const char *last_modified)
{
    if (!v) return 1;
    if (v[0] == '"' ) return !strcmp(v, etag);
    if (!strncmp(v, "W/", 2)) return 0; /* weak validators never match for ranges */
    return !strcmp(v, last_modified);
}

int server_reply_file(server_request *r, int fd, const char *content_type, const char *disposition)
{
    struct stat st;
    if (fstat(fd, &st)) {
        close(fd);
        return server_fail(r, VC_ERR_IO, "stat: %s", strerror(errno));
    }
    uint64_t size = (uint64_t)st.st_size, from = 0, to = size ? size - 1 : 0;
    char etag[64], last_modified[64];
    snprintf(etag, sizeof etag, "\"%" PRIx64 "-%" PRIx64 "-%lx\"", size, (uint64_t)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
    struct tm tm;
    gmtime_r(&st.st_mtim.tv_sec, &tm);
    strftime(last_modified, sizeof last_modified, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    const char *range = server_header(r, "Range");
    int kind = range && if_range_matches(server_header(r, "If-Range"), etag, last_modified)
                   ? parse_range(range, size, &from, &to) : RANGE_FULL;
    if (kind == RANGE_FULL) { from = 0; to = size ? size - 1 : 0; }
    unsigned status = 200;
    char cr[96];
    if (kind != RANGE_FULL) {
        if (kind == RANGE_UNSATISFIABLE) {
            close(fd);
            struct MHD_Response *resp;
            server_reply_empty(r, 416, &resp);
            snprintf(cr, sizeof cr, "bytes */%" PRIu64, size);
            if (resp) MHD_add_response_header(resp, "Content-Range", cr);
            return server_reply_response(r, 416, resp);
        }
        status = 206;
        snprintf(cr, sizeof cr, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, from, to, size);
    }
    uint64_t len = size ? to - from + 1 : 0;
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(len, fd, from);
    if (!resp) {
        close(fd);
        return server_fail(r, VC_ERR_NOMEM, "cannot create file response");
    }
    MHD_add_response_header(resp, "Content-Type", content_type);
    MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    MHD_add_response_header(resp, "ETag", etag);
    MHD_add_response_header(resp, "Last-Modified", last_modified);
    if (status == 206) MHD_add_response_header(resp, "Content-Range", cr);
    if (disposition) MHD_add_response_header(resp, "Content-Disposition", disposition);
    return server_reply_response(r, status, resp);
}
