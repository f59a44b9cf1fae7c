/*
 * The web UI: files from web/dist (built by the UI's own build), with the single-page-app
 * fallback to index.html for client-side routes. When the UI is not built a short plain page
 * says so instead of a 404, so `make run` always shows something useful at /.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server.h"

static const char NO_UI_PAGE[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>VoiceClone Studio</title></head>"
    "<body><h1>VoiceClone Studio</h1><p>The API is running. The web UI is not built yet "
    "(web/dist is missing; run <code>make build</code>).</p>"
    "<p>API documentation: <a href=\"/api/docs\">/api/docs</a> · health: <a href=\"/api/health\">/api/health</a></p>"
    "</body></html>";

static const char *mime_for(const char *path)
{
    static const char *const MAP[][2] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript"}, {".css", "text/css"},
        {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".ico", "image/x-icon"}, {".wasm", "application/wasm"}, {".woff2", "font/woff2"},
        {".wav", "audio/wav"}, {".txt", "text/plain"}, {".map", "application/json"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof MAP / sizeof MAP[0]; i++)
        if (!strcmp(dot, MAP[i][0])) return MAP[i][1];
    return "application/octet-stream";
}

static int open_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

int server_static_handle(server_request *r)
{
    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
        snprintf(r->allow, sizeof r->allow, "GET, HEAD");
        server_fail(r, VC_ERR_METHOD_NOT_ALLOWED, "only GET and HEAD are served outside /api");
        return server_reply_error(r);
    }
    const char *dir = r->app->config.web_dir;
    char path[2048];
    int fd = -1;
    if (!strstr(r->url, "..") && strcmp(r->url, "/") != 0 &&
        snprintf(path, sizeof path, "%s%s", dir, r->url) < (int)sizeof path)
        fd = open_regular(path);
    if (fd < 0) { /* "/" and client-side routes */
        snprintf(path, sizeof path, "%s/index.html", dir);
        fd = open_regular(path);
    }
    if (fd < 0) return server_reply_text(r, 200, "text/html; charset=utf-8", NO_UI_PAGE);
    return server_reply_file(r, fd, mime_for(path), NULL);
}
