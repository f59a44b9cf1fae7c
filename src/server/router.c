/*
 * The route table of the whole server: one table per resource file, listed here. Matching is a
 * segment-by-segment comparison ({name} matches any one non-empty segment); a trailing slash is
 * ignored so "/api/uploads/" and "/api/uploads" are the same endpoint.
 */
#include <string.h>

#include "server/server.h"

const server_route *const SERVER_ROUTE_TABLES[] = {
    SERVER_ROUTES_SYSTEM,
    SERVER_ROUTES_DOCS,
    SERVER_ROUTES_AUDIO,
    SERVER_ROUTES_MODELS,
    SERVER_ROUTES_ANALYZE,
    SERVER_ROUTES_UPLOAD,
    SERVER_ROUTES_TUS,
    SERVER_ROUTES_JOBS,
    SERVER_ROUTES_TRAIN,
    SERVER_ROUTES_VOICES,
    NULL,
};

/* Length of the segment at p (up to '/' or end). */
static size_t seg_len(const char *p)
{
    size_t n = 0;
    while (p[n] && p[n] != '/') n++;
    return n;
}

static int path_matches(const char *pattern, const char *path, char params[][256])
{
    int np = 0;
    const char *p = pattern, *u = path;
    for (;;) {
        while (*p == '/') p++;
        while (*u == '/') u++;
        if (!*p || !*u) return !*p && !*u;
        size_t pl = seg_len(p), ul = seg_len(u);
        if (p[0] == '{') {
            if (np >= SERVER_MAX_PARAMS || ul >= 256) return 0;
            memcpy(params[np], u, ul);
            params[np++][ul] = '\0';
        } else if (pl != ul || memcmp(p, u, pl) != 0) {
            return 0;
        }
        p += pl;
        u += ul;
    }
}

static const server_route *find(const char *method, const char *path, char params[][256], int *path_known)
{
    for (size_t t = 0; SERVER_ROUTE_TABLES[t]; t++) {
        for (const server_route *rt = SERVER_ROUTE_TABLES[t]; rt->method; rt++) {
            if (!path_matches(rt->pattern, path, params)) continue;
            if (!strcmp(rt->method, method)) return rt;
            *path_known = 1;
        }
    }
    return NULL;
}

void server_route_allow(const char *path, char *out, size_t cap)
{
    char params[SERVER_MAX_PARAMS][256];
    size_t n = 0;
    out[0] = '\0';
    int get = 0, head = 0;
    for (size_t t = 0; SERVER_ROUTE_TABLES[t]; t++)
        for (const server_route *rt = SERVER_ROUTE_TABLES[t]; rt->method; rt++) {
            if (!path_matches(rt->pattern, path, params) || strstr(out, rt->method)) continue;
            get |= !strcmp(rt->method, "GET");
            head |= !strcmp(rt->method, "HEAD");
            n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? ", " : "", rt->method);
            if (n >= cap) return;
        }
    if (get && !head && n < cap) snprintf(out + n, cap - n, ", HEAD"); /* HEAD falls back to GET */
}

const server_route *server_route_match(const char *method, const char *path, char params[][256], int *path_known)
{
    *path_known = 0;
    const server_route *rt = find(method, path, params, path_known);
    if (!rt && !strcmp(method, "HEAD")) rt = find("GET", path, params, path_known);
    if (rt) *path_known = 1;
    return rt;
}
