/*
 * Reading a request: headers, query arguments, bounded bodies, strict JSON objects (unknown
 * fields are rejected so typos do not silently fall back to defaults), and path ids.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

const char *server_header(server_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *server_query(server_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int server_body_append(server_request *r, const char *data, size_t size, size_t limit)
{
    if (r->body_len + size > limit)
        return server_fail(r, VC_ERR_REQUEST_TOO_LARGE, "the request body exceeds %zu bytes; send a smaller JSON body", limit);
    if (r->body_len + size + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + size + 1) cap *= 2;
        char *p = realloc(r->body, cap);
        if (!p) return server_fail(r, VC_ERR_NOMEM, "out of memory reading the body");
        r->body = p;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, size);
    r->body_len += size;
    r->body[r->body_len] = '\0';
    return 0;
}

int server_json_body(server_request *r, const char *const *allowed, json_t **out)
{
    json_error_t je;
    *out = NULL;
    if (!r->body_len) return server_fail(r, VC_ERR_INVALID_REQUEST, "a JSON object body is required");
    json_t *o = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!o) return server_fail(r, VC_ERR_INVALID_REQUEST, "malformed JSON at line %d: %s", je.line, je.text);
    if (!json_is_object(o)) {
        json_decref(o);
        return server_fail(r, VC_ERR_INVALID_REQUEST, "the body must be a JSON object");
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        int known = 0;
        for (size_t i = 0; allowed && allowed[i] && !known; i++) known = !strcmp(key, allowed[i]);
        if (!known) {
            server_fail(r, VC_ERR_INVALID_REQUEST, "unknown field '%s'", key);
            json_decref(o);
            return -1;
        }
    }
    *out = o;
    return 0;
}

int server_param_id(server_request *r, int i, vc_code not_found, const char **out)
{
    *out = r->params[i];
    if (!store_id_valid(r->params[i])) return server_fail(r, not_found, "no such id");
    return 0;
}
