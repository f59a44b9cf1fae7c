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
#include <sys/stat.h>
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
    server_scrub_paths(r->app, r->err.message, sizeof r->err.message); /* never show server paths */
    server_utf8_sanitize(r->err.message); /* it may echo the URL or a file name */
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "status", "error", "error_code", vc_code_name(code), "message",
                          r->err.message, "user_message", vc_code_user_message(code));
    if (o && r->err_extra) json_object_update(o, r->err_extra);
    if (o && code == VC_ERR_INVALID_FORMAT && !json_object_get(o, "supported_formats"))
        json_object_set_new(o, "supported_formats", json_pack("[s,s,s,s]", "wav", "mp3", "flac", "ogg"));
    r->failed = 1;
    return server_reply_json(r, status, o);
}

/* Parses "bytes=a-b" | "bytes=a-" | "bytes=-n" against size; 0 ok, -1 unsatisfiable/unsupported. */
static int parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
    if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') || size == 0) return -1;
    const char *p = h + 6;
    char *end;
    if (*p == '-') {
        uint64_t n = strtoull(p + 1, &end, 10);
        if (end == p + 1 || *end || n == 0) return -1;
        *from = n >= size ? 0 : size - n;
        *to = size - 1;
        return 0;
    }
    *from = strtoull(p, &end, 10);
    if (end == p || *end != '-') return -1;
    p = end + 1;
    *to = *p ? strtoull(p, &end, 10) : size - 1;
    if (*p && *end) return -1;
    if (*to >= size) *to = size - 1;
    return *from <= *to && *from < size ? 0 : -1;
}

int server_reply_file(server_request *r, int fd, const char *content_type, const char *disposition)
{
    struct stat st;
    if (fstat(fd, &st)) {
        close(fd);
        return server_fail(r, VC_ERR_IO, "stat: %s", strerror(errno));
    }
    uint64_t size = (uint64_t)st.st_size, from = 0, to = size ? size - 1 : 0;
    const char *range = server_header(r, "Range");
    unsigned status = 200;
    char cr[96];
    if (range) {
        if (parse_range(range, size, &from, &to)) {
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
    if (status == 206) MHD_add_response_header(resp, "Content-Range", cr);
    if (disposition) MHD_add_response_header(resp, "Content-Disposition", disposition);
    return server_reply_response(r, status, resp);
}
