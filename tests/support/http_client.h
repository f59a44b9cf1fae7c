/*
 * Test support: a small blocking HTTP client over libcurl for the black-box API tests.
 * Linked into every test binary (the Makefile links every .c file of tests/support into each test).
 *
 *   http_response res;
 *   http_request("GET", url, NULL, NULL, 0, &res);          // status in res.status, body in res.body
 *   json_t *j = http_json(&res);                            // parsed body (owned by res)
 *   http_header(&res, "Upload-Offset")                      // last value of a response header, or NULL
 *   http_response_free(&res);
 *
 * Headers are passed as a NULL-terminated array of "Name: value" strings.
 */
#ifndef VC_TEST_HTTP_CLIENT_H
#define VC_TEST_HTTP_CLIENT_H

#include <stddef.h>

#include <jansson.h>

typedef struct http_response {
    long status;          /* 0 when the request could not be made */
    char *body;           /* NUL-terminated */
    size_t body_len;
    char *headers;        /* raw header block of the final response */
    size_t headers_len;
    json_t *json;         /* cache for http_json */
    char header_value[512];
} http_response;

/* Any method; body may be NULL. Returns 0 when a response arrived (check res->status). */
int http_request(const char *method, const char *url, const char *const *headers, const void *body, size_t body_len,
                 http_response *res);
/* multipart/form-data POST: a "file" part read from file_path (sent as filename), plus fields as
 * NULL-terminated name, value pairs. */
int http_post_form(const char *url, const char *const *headers, const char *file_path, const char *filename,
                   const char *const *fields, http_response *res);
/* Parsed JSON body (NULL if not JSON); freed with the response. */
json_t *http_json(http_response *res);
/* The error_code of an error body, or "" */
const char *http_error_code(http_response *res);
/* Case-insensitive header lookup in the final response; NULL when absent. */
const char *http_header(http_response *res, const char *name);
void http_response_free(http_response *res);

#endif
