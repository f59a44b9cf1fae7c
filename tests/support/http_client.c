/*
 * libcurl-based HTTP client for tests (see http_client.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "http_client.h"

typedef struct growbuf {
    char *p;
    size_t n;
} growbuf;

static size_t collect(char *data, size_t size, size_t nmemb, void *ud)
{
    growbuf *b = ud;
    size_t add = size * nmemb;
    char *q = realloc(b->p, b->n + add + 1);
    if (!q) return 0;
    memcpy(q + b->n, data, add);
    b->p = q;
    b->n += add;
    b->p[b->n] = '\0';
    return add;
}

/* Keeps only the last response's headers (after 100-continue etc.). */
static size_t collect_header(char *data, size_t size, size_t nmemb, void *ud)
{
    growbuf *b = ud;
    if (nmemb * size >= 5 && strncmp(data, "HTTP/", 5) == 0) b->n = 0;
    return collect(data, size, nmemb, ud);
}

static int perform(CURL *c, const char *const *headers, http_response *res)
{
    growbuf body = {0}, hdr = {0};
    struct curl_slist *list = NULL;
    for (size_t i = 0; headers && headers[i]; i++) list = curl_slist_append(list, headers[i]);
    list = curl_slist_append(list, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* send ../ as written (path traversal tests) */
    CURLcode rc = curl_easy_perform(c);
    memset(res, 0, sizeof *res);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    res->body = body.p ? body.p : calloc(1, 1);
    res->body_len = body.n;
    res->headers = hdr.p ? hdr.p : calloc(1, 1);
    res->headers_len = hdr.n;
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}

int http_request(const char *method, const char *url, const char *const *headers, const void *body, size_t body_len,
                 http_response *res)
{
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    return perform(c, headers, res);
}

int http_post_form(const char *url, const char *const *headers, const char *file_path, const char *filename,
                   const char *const *fields, http_response *res)
{
    CURL *c = curl_easy_init();
    curl_mime *mime = curl_mime_init(c);
    if (file_path) {
        curl_mimepart *part = curl_mime_addpart(mime);
        curl_mime_name(part, "file");
        curl_mime_filedata(part, file_path);
        if (filename) curl_mime_filename(part, filename);
        curl_mime_type(part, "application/octet-stream");
    }
    for (size_t i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
        curl_mimepart *part = curl_mime_addpart(mime);
        curl_mime_name(part, fields[i]);
        curl_mime_data(part, fields[i + 1], CURL_ZERO_TERMINATED);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    int rc = perform(c, headers, res);
    curl_mime_free(mime);
    return rc;
}

json_t *http_json(http_response *res)
{
    if (!res->json && res->body_len) res->json = json_loadb(res->body, res->body_len, 0, NULL);
    return res->json;
}

const char *http_error_code(http_response *res)
{
    json_t *j = http_json(res);
    const char *code = j ? json_string_value(json_object_get(j, "error_code")) : NULL;
    return code ? code : "";
}

const char *http_header(http_response *res, const char *name)
{
    size_t n = strlen(name);
    const char *found = NULL;
    for (const char *line = res->headers; line && *line;) {
        const char *eol = strstr(line, "\r\n");
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > n && line[n] == ':' && strncasecmp(line, name, n) == 0) {
            const char *v = line + n + 1;
            while (*v == ' ') v++;
            size_t vl = len - (size_t)(v - line);
            if (vl >= sizeof res->header_value) vl = sizeof res->header_value - 1;
            memcpy(res->header_value, v, vl);
            res->header_value[vl] = '\0';
            found = res->header_value;
        }
        line = eol ? eol + 2 : NULL;
    }
    return found;
}

void http_response_free(http_response *res)
{
    free(res->body);
    free(res->headers);
    json_decref(res->json);
    memset(res, 0, sizeof *res);
}
