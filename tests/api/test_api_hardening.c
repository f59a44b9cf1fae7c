/*
 * Issue 17 against the real server: hostile model files through /api/models/import (refused,
 * fast, no server path in the message, the server stays up), hostile web pages (Content-Type,
 * Origin, Host / DNS rebinding, CORS preflights, /api/system paths), hostile clients (HTTP
 * framing, decompression bombs, oversized JSON, the first-MP3 race, per-IP connection limit,
 * slow heads and stalled bodies cut at their deadlines, finished SSE streams answer 204).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "support/hostile.h"
#include "support/http_client.h"
#include "support/test_api.h"
#include "support/test_audio.h"
#include "support/test_server.h"

#define ALLOWED "http://allowed.example:5173"

static test_server S;
static const char *const ENV[] = {"VCS_JOBS_TEST_KINDS=1", "VCS_SSE_KEEPALIVE_MS=1000", "VCS_ALLOWED_ORIGINS=" ALLOWED, "VCS_ALLOWED_HOSTS=studio.lan",
                                  "VCS_PER_IP_CONNECTIONS=24", NULL};
static char FILES_[300];
static json_t *ERROR_SCHEMA; /* components.schemas.Error of the server's own /api/openapi.json */

static int setup(void **state)
{
    if (test_server_start(&S, ENV, NULL) != 0) return -1;
    http_response doc;
    char url[512];
    if (http_request("GET", test_server_url(&S, url, sizeof url, "/api/openapi.json"), NULL, NULL, 0, &doc)) return -1;
    ERROR_SCHEMA = json_incref(json_object_get(json_object_get(json_object_get(http_json(&doc), "components"), "schemas"), "Error"));
    http_response_free(&doc);
    if (!ERROR_SCHEMA) return -1;
    snprintf(FILES_, sizeof FILES_, "%s/hostile", S.root);
    return mkdir(FILES_, 0755) == 0 && hostile_write_all(FILES_) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    json_decref(ERROR_SCHEMA);
    return test_server_stop(&S) == 0 ? 0 : -1;
}

/* Every error this file provokes is checked against the documented Error schema (the contract):
 * the branch of its error_code (Error is oneOf, one closed object per code), that branch's
 * required fields present and strings, no field the branch does not list (a code's extras belong
 * to it), every listed field of its documented type. */
static void matches_error_schema(http_response *res)
{
    json_t *body = http_json(res);
    if (!json_is_object(body)) fail_msg("error body is not a JSON object: %s", res->body);
    const char *code = json_string_value(json_object_get(body, "error_code"));
    if (!code) fail_msg("error body without an error_code: %s", res->body);
    json_t *branch = NULL, *b;
    size_t i;
    json_array_foreach(json_object_get(ERROR_SCHEMA, "oneOf"), i, b) {
        const char *c = json_string_value(json_object_get(json_object_get(json_object_get(b, "properties"), "error_code"), "const"));
        if (c && !strcmp(c, code)) branch = b;
    }
    if (!branch) fail_msg("error_code %s has no branch in the documented Error", code);
    json_t *req;
    json_array_foreach(json_object_get(branch, "required"), i, req)
        if (!json_is_string(json_object_get(body, json_string_value(req))))
            fail_msg("error body lacks the string '%s': %s", json_string_value(req), res->body);
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        json_t *prop = json_object_get(json_object_get(branch, "properties"), key);
        if (!prop) fail_msg("%s carries '%s', which its documented branch does not list: %s", code, key, res->body);
        json_t *types = json_object_get(prop, "type");
        if (!types) continue; /* const / oneOf: Ajv checks those (tests/contract) */
        int ok = 0;
        for (size_t t = 0; t < (json_is_array(types) ? json_array_size(types) : 1); t++) {
            const char *want = json_string_value(json_is_array(types) ? json_array_get(types, t) : types);
            ok |= (!strcmp(want, "string") && json_is_string(v)) || (!strcmp(want, "number") && json_is_number(v)) ||
                  (!strcmp(want, "integer") && json_is_integer(v)) || (!strcmp(want, "array") && json_is_array(v)) ||
                  (!strcmp(want, "null") && json_is_null(v));
        }
        if (!ok) fail_msg("error field %s does not have its documented type: %s", key, res->body);
    }
}

static double now_s(void) { return api_now_ms() / 1000.0; }

/* Never a server path anywhere in an error body: not the data root, not a temp folder ("uploads/tmp/"
 * relative to the data root is fine: it names nothing outside). */
static void no_server_path(const http_response *res)
{
    if (strstr(res->body, S.root)) fail_msg("the error shows a server path: %s", res->body);
    for (const char *p = res->body; (p = strstr(p, "/tmp/")); p++)
        if (p == res->body || !(p[-1] == '_' || p[-1] == '-' || p[-1] == '.' || (p[-1] >= 'a' && p[-1] <= 'z') ||
                                (p[-1] >= 'A' && p[-1] <= 'Z') || (p[-1] >= '0' && p[-1] <= '9')))
            fail_msg("the error shows a temp folder: %s", res->body);
}

static void expect_error(http_response *res, long status, const char *code)
{
    if (res->status != status) fail_msg("status %ld (want %ld): %s", res->status, status, res->body);
    const char *got = http_error_code(res);
    if (!got || strcmp(got, code)) fail_msg("error_code %s (want %s): %s", got ? got : "(none)", code, res->body);
    no_server_path(res);
    matches_error_schema(res);
}

static void health_ok(void) { assert_int_equal(api_status(&S, "GET", "/api/health"), 200); }

/* POST /api/models/import with curl -F parts (e.g. "file=@/x.pth"); the response into res. */
static void import_parts(const char *parts, http_response *res)
{
    char cmd[2048], out[] = "/tmp/vcs-hardening-XXXXXX", url[512];
    int fd = mkstemp(out);
    assert_true(fd >= 0);
    close(fd);
    snprintf(cmd, sizeof cmd, "curl -s -o %s -w '%%{http_code}' %s '%s' > %s.code", out, parts,
             test_server_url(&S, url, sizeof url, "/api/models/import"), out);
    assert_int_equal(system(cmd), 0);
    char path[64];
    snprintf(path, sizeof path, "%s.code", out);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long status = 0;
    assert_int_equal(fscanf(f, "%ld", &status), 1);
    fclose(f);
    unlink(path);
    memset(res, 0, sizeof *res);
    res->status = status;
    f = fopen(out, "r");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    res->body = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(res->body, 1, (size_t)n, f), (size_t)n);
    res->body_len = (size_t)n;
    fclose(f);
    unlink(out);
}

static void hostile_model_files_are_refused_through_the_api(void **state)
{
    int seen = 0;
    for (const hostile_file *h = HOSTILE_FILES; h->name; h++) {
        char parts[1200];
        if (h->loader == HOSTILE_INDEX) {
            const char *root = getenv("VCS_TEST_ROOT") ? getenv("VCS_TEST_ROOT") : ".";
            snprintf(parts, sizeof parts, "-F 'file=@%s/tests/models/rvc/fixtures/voice_v2_96.pth' -F 'index=@%s/%s' -F name=x",
                     root, FILES_, h->name);
        } else {
            snprintf(parts, sizeof parts, "-F 'file=@%s/%s' -F name=x", FILES_, h->name);
        }
        http_response res;
        double t0 = now_s();
        import_parts(parts, &res);
        if (now_s() - t0 > 5.0) fail_msg("%s took %.1f s", h->name, now_s() - t0);
        if (h->expect) {
            expect_error(&res, 400, "INVALID_FORMAT");
            if (!strstr(res.body, h->expect)) fail_msg("%s: %s lacks '%s'", h->name, res.body, h->expect);
        } else if (res.status != 400) {
            fail_msg("%s: %ld %s", h->name, res.status, res.body); /* inert, but not an RVC voice either */
        }
        http_response_free(&res);
        health_ok();
        seen++;
    }
    assert_true(seen >= 19);
    json_t *models = api_call(&S, "GET", "/api/models", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(models, "models")), 0);
    assert_int_equal(api_count_paths(S.data_dir, ".import-"), 0);
}

static void request(const char *method, const char *path, const char *const *headers, const char *body, http_response *res)
{
    char url[512];
    assert_int_equal(http_request(method, test_server_url(&S, url, sizeof url, path), headers, body, body ? strlen(body) : 0, res), 0);
}

static void json_bodies_need_the_json_content_type(void **state)
{
    http_response res;
    const char *plain[] = {"Content-Type: text/plain", NULL}, *json[] = {"Content-Type: application/json; charset=utf-8", NULL};
    request("POST", "/api/jobs", plain, "{\"kind\":\"sleep\",\"params\":{\"seconds\":0}}", &res);
    expect_error(&res, 415, "UNSUPPORTED_MEDIA_TYPE");
    http_response_free(&res);
    request("POST", "/api/analyze/quality", plain, "{\"audio_id\":\"audio_x\"}", &res);
    expect_error(&res, 415, "UNSUPPORTED_MEDIA_TYPE");
    http_response_free(&res);
    request("POST", "/api/jobs", json, "{\"kind\":\"sleep\",\"params\":{\"seconds\":0}}", &res);
    assert_int_equal(res.status, 202);
    http_response_free(&res);
    /* an oversized JSON body is its own error, not "audio file too large" */
    size_t n = 70000;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    request("POST", "/api/jobs", json, big, &res);
    expect_error(&res, 413, "REQUEST_TOO_LARGE");
    assert_null(strstr(res.body, "udio"));
    free(big);
    http_response_free(&res);
}

static void foreign_origins_may_not_change_state(void **state)
{
    http_response res;
    char own[128], own_hdr[160];
    snprintf(own, sizeof own, "http://127.0.0.1:%d", S.port);
    snprintf(own_hdr, sizeof own_hdr, "Origin: %s", own);
    const char *evil[] = {"Origin: http://evil.example", "Content-Type: application/json", NULL};
    const char *null_origin[] = {"Origin: null", "Content-Type: application/json", NULL};
    const char *cross_site[] = {"Sec-Fetch-Site: cross-site", "Content-Type: application/json", NULL};
    const char *mine[] = {own_hdr, "Content-Type: application/json", NULL};
    const char *allowed[] = {"Origin: " ALLOWED, "Content-Type: application/json", NULL};
    const char *body = "{\"kind\":\"sleep\",\"params\":{\"seconds\":0}}";
    request("POST", "/api/jobs", evil, body, &res);
    expect_error(&res, 403, "FORBIDDEN");
    assert_null(http_header(&res, "Access-Control-Allow-Origin"));
    http_response_free(&res);
    request("POST", "/api/jobs", null_origin, body, &res);
    expect_error(&res, 403, "FORBIDDEN");
    http_response_free(&res);
    request("POST", "/api/jobs", cross_site, body, &res);
    expect_error(&res, 403, "FORBIDDEN");
    http_response_free(&res);
    request("DELETE", "/api/audio/audio_nothing", evil, NULL, &res);
    expect_error(&res, 403, "FORBIDDEN");
    http_response_free(&res);
    /* a multipart upload is a "simple" request: no preflight protects it, the Origin check does */
    char url[512], wav[400];
    snprintf(wav, sizeof wav, "%s/hostile/st_overlap.safetensors", S.root);
    const char *evil_only[] = {"Origin: http://evil.example", NULL};
    assert_int_equal(http_post_form(test_server_url(&S, url, sizeof url, "/api/upload/target-audio"), evil_only, wav, "a.wav", NULL, &res), 0);
    expect_error(&res, 403, "FORBIDDEN");
    http_response_free(&res);
    request("POST", "/api/jobs", mine, body, &res);
    assert_int_equal(res.status, 202);
    assert_null(http_header(&res, "Access-Control-Allow-Origin")); /* same origin needs no CORS */
    http_response_free(&res);
    request("POST", "/api/jobs", allowed, body, &res);
    assert_int_equal(res.status, 202);
    assert_string_equal(http_header(&res, "Access-Control-Allow-Origin"), ALLOWED);
    http_response_free(&res);
}

static void preflights_only_for_configured_origins(void **state)
{
    http_response res;
    const char *evil[] = {"Origin: http://evil.example", "Access-Control-Request-Method: POST",
                          "Access-Control-Request-Headers: content-type", NULL};
    const char *allowed[] = {"Origin: " ALLOWED, "Access-Control-Request-Method: POST",
                             "Access-Control-Request-Headers: content-type", NULL};
    request("OPTIONS", "/api/jobs", evil, NULL, &res);
    expect_error(&res, 403, "FORBIDDEN");
    assert_null(http_header(&res, "Access-Control-Allow-Origin"));
    http_response_free(&res);
    request("OPTIONS", "/api/jobs", allowed, NULL, &res);
    assert_int_equal(res.status, 204);
    assert_string_equal(http_header(&res, "Access-Control-Allow-Origin"), ALLOWED);
    assert_non_null(strstr(http_header(&res, "Access-Control-Allow-Methods"), "POST"));
    http_response_free(&res);
    request("OPTIONS", "/api/uploads", allowed, NULL, &res); /* tus clients in a browser preflight too */
    assert_int_equal(res.status, 204);
    http_response_free(&res);
}

static void foreign_host_names_are_refused(void **state)
{
    http_response res;
    char h[80];
    snprintf(h, sizeof h, "Host: rebind.evil.example:%d", S.port);
    const char *evil[] = {h, NULL};
    request("GET", "/api/audio", evil, NULL, &res);
    expect_error(&res, 421, "FORBIDDEN");
    http_response_free(&res);
    request("GET", "/", evil, NULL, &res); /* the UI too: a rebinding page must not load it as its own */
    assert_int_equal(res.status, 421);
    http_response_free(&res);
    static const char *const OK[] = {"localhost", "127.0.0.1", "studio.lan"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(h, sizeof h, "Host: %s:%d", OK[i], S.port);
        const char *hdr[] = {h, NULL};
        request("GET", "/api/audio", hdr, NULL, &res);
        if (res.status != 200) fail_msg("Host %s: %ld %s", OK[i], res.status, res.body);
        http_response_free(&res);
    }
}

static void system_shows_paths_to_users_only(void **state)
{
    /* open mode: the caller is the local user, paths are shown; with keys see test_api_basics */
    json_t *sys = api_call(&S, "GET", "/api/system", NULL, 200);
    json_t *w = json_array_get(json_object_get(sys, "weights"), 0);
    assert_true(json_is_string(json_object_get(w, "path")));
}

/* Raw request on a socket; returns the status line's code, 0 when the connection just closed. */
static int raw_status(const char *req)
{
    int fd = api_connect(&S, 0);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    char buf[4096] = "";
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    close(fd);
    int code = 0;
    if (n > 0) sscanf(buf, "HTTP/1.%*d %d", &code);
    return code;
}

static void conflicting_framing_is_refused(void **state)
{
    char req[512];
    snprintf(req, sizeof req, "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
             "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}", S.port);
    int code = raw_status(req);
    if (code != 400) fail_msg("two Content-Lengths: %d", code);
    snprintf(req, sizeof req, "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
             "Content-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", S.port);
    code = raw_status(req);
    if (code != 400) fail_msg("Content-Length with Transfer-Encoding: %d", code);
    health_ok();
}

static void decompression_bombs_are_refused_before_decoding(void **state)
{
    char flac[400], url[512];
    http_response res;
    /* 30 s at 384 kHz: within the reference limit of 30 s, but 44 MB decoded for a few kB of file */
    snprintf(flac, sizeof flac, "%s/bomb_384k.flac", S.root);
    assert_int_equal(hostile_write_flac_silence(flac, 384000, 29.0), 0);
    struct stat st;
    assert_int_equal(stat(flac, &st), 0);
    assert_true(st.st_size < 2 * 1024 * 1024);
    assert_int_equal(http_post_form(test_server_url(&S, url, sizeof url, "/api/upload/reference-audio"), NULL, flac, "ref.flac", NULL, &res), 0);
    expect_error(&res, 413, "FILE_TOO_LARGE");
    assert_non_null(strstr(res.body, "decodes to"));
    http_response_free(&res);
    /* /api/analyze/quality has a duration limit too (31 minutes at 8 kHz) */
    snprintf(flac, sizeof flac, "%s/long_8k.flac", S.root);
    assert_int_equal(hostile_write_flac_silence(flac, 8000, 31 * 60.0), 0);
    assert_int_equal(http_post_form(test_server_url(&S, url, sizeof url, "/api/analyze/quality"), NULL, flac, "long.flac", NULL, &res), 0);
    expect_error(&res, 413, "AUDIO_TOO_LONG");
    http_response_free(&res);
    health_ok();
}

/* Number of stored recordings (GET /api/audio). */
static size_t stored_audio(void)
{
    return json_array_size(json_object_get(api_call(&S, "GET", "/api/audio", NULL, 200), "audio"));
}

/* Every generated hostile audio header (tests/support/hostile.c HOSTILE_AUDIO) posted for its
 * purpose: refused with the brief's code and status and nothing stored, or (honest data under a
 * lying size) stored with the warning the table expects. */
static void hostile_audio_headers_are_refused_through_the_api(void **state)
{
    char dir[400], url[512], path[700], route[64];
    snprintf(dir, sizeof dir, "%s/uploads", S.data_dir);
    int seen = 0;
    for (const hostile_audio *h = HOSTILE_AUDIO; h->name; h++, seen++) {
        size_t rows = stored_audio();
        int wavs = api_count_files(dir, ".wav");
        snprintf(path, sizeof path, "%s/%s", FILES_, h->name);
        snprintf(route, sizeof route, "/api/upload/%s-audio", h->purpose);
        http_response res;
        double t0 = now_s();
        assert_int_equal(http_post_form(test_server_url(&S, url, sizeof url, route), NULL, path, h->name, NULL, &res), 0);
        if (now_s() - t0 > 5.0) fail_msg("%s took %.1f s", h->name, now_s() - t0);
        if (h->code) {
            expect_error(&res, h->status, h->code);
            if (h->expect && !strstr(res.body, h->expect)) fail_msg("%s: %s lacks '%s'", h->name, res.body, h->expect);
            assert_int_equal(stored_audio(), rows);
            assert_int_equal(api_count_files(dir, ".wav"), wavs);
        } else {
            if (res.status != 200) fail_msg("%s: %ld %s", h->name, res.status, res.body);
            size_t nw = json_array_size(json_object_get(http_json(&res), "warnings"));
            if ((nw > 0) != (h->warns != 0)) fail_msg("%s: warnings %s", h->name, res.body);
            assert_int_equal(stored_audio(), rows + 1);
        }
        http_response_free(&res);
        health_ok();
    }
    assert_true(seen >= 15);
}

typedef struct dl { char url[512]; long status; } dl;

static void *download(void *arg)
{
    dl *d = arg;
    http_response res;
    d->status = http_request("GET", d->url, NULL, NULL, 0, &res) ? 0 : res.status;
    http_response_free(&res);
    return NULL;
}

static void concurrent_first_mp3_downloads_all_succeed(void **state)
{
    for (int round = 0; round < 3; round++) {
        char id[64], path[128];
        api_upload_tone(&S, 20.0, id, sizeof id);
        snprintf(path, sizeof path, "/api/download/%s?format=mp3", id);
        dl d[4];
        pthread_t t[4];
        for (int i = 0; i < 4; i++) {
            test_server_url(&S, d[i].url, sizeof d[i].url, path);
            pthread_create(&t[i], NULL, download, &d[i]);
        }
        for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
        for (int i = 0; i < 4; i++)
            if (d[i].status != 200) fail_msg("round %d download %d: %ld", round, i, d[i].status);
    }
    assert_int_equal(api_count_files(S.data_dir, ".tmp."), 0); /* no temp file left behind */
}

static void one_client_cannot_take_every_connection(void **state)
{
    int fds[40], n = 0;
    for (; n < 40; n++) {
        fds[n] = api_connect(&S, 0);
        if (fds[n] < 0) break;
    }
    usleep(300 * 1000);
    /* beyond VCS_PER_IP_CONNECTIONS (24) the server closes new connections at once */
    int closed = 0;
    for (int i = 0; i < n; i++) {
        char c;
        struct timeval tv = {0, 200000};
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (recv(fds[i], &c, 1, 0) == 0) closed++;
    }
    for (int i = 0; i < n; i++) close(fds[i]);
    if (closed < n - 24) fail_msg("%d of %d idle connections were closed; want at least %d", closed, n, n - 24);
    usleep(200 * 1000);
    health_ok();
}

static void finished_streams_answer_204(void **state)
{
    char id[64], path[128], url[512], hdr[64];
    api_submit_sleep(&S, "{\"seconds\":0}", id, sizeof id);
    assert_string_equal(api_wait_terminal(&S, id, 10), "complete");
    snprintf(path, sizeof path, "/api/progress/%s", id);
    http_response res;
    const char *accept[] = {"Accept: text/event-stream", NULL};
    assert_int_equal(http_request("GET", test_server_url(&S, url, sizeof url, path), accept, NULL, 0, &res), 0);
    assert_int_equal(res.status, 200); /* from the start: every event through close, then the end */
    const char *last = NULL;
    for (const char *p = res.body; (p = strstr(p, "id: ")); p += 4) last = p + 4;
    assert_non_null(last);
    long long last_id = atoll(last);
    assert_non_null(strstr(res.body, "event: close"));
    http_response_free(&res);
    for (long long at = last_id; at <= last_id + 5; at += 5) {
        snprintf(hdr, sizeof hdr, "Last-Event-ID: %lld", at);
        const char *h[] = {"Accept: text/event-stream", hdr, NULL};
        double t0 = now_s();
        assert_int_equal(http_request("GET", url, h, NULL, 0, &res), 0);
        if (res.status != 204) fail_msg("Last-Event-ID %lld of a finished job: %ld", at, res.status);
        assert_true(now_s() - t0 < 3.0);
        http_response_free(&res);
    }
}

static void keepalives_come_at_the_configured_interval(void **state)
{
    char id[64], path[128];
    api_submit_sleep(&S, "{\"seconds\":6,\"steps\":1}", id, sizeof id);
    snprintf(path, sizeof path, "/api/progress/%s", id);
    int fd = api_open_stream(&S, path, 0);
    assert_true(fd >= 0);
    double t0 = now_s(), stamps[16];
    int n = 0;
    char buf[8192];
    while (now_s() - t0 < 5.0 && n < 16) {
        struct timeval tv = {0, 200000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t got = recv(fd, buf, sizeof buf - 1, 0);
        if (got <= 0) continue;
        buf[got] = '\0';
        for (char *p = buf; (p = strstr(p, ": keep-alive")); p++) stamps[n++] = now_s();
    }
    close(fd);
    if (n < 3) fail_msg("%d keep-alives in 5 s at a 1 s interval", n);
    for (int i = 2; i < n; i++) /* steady state: the configured interval, not two ticks */
        if (stamps[i] - stamps[i - 1] > 1.5 || stamps[i] - stamps[i - 1] < 0.5)
            fail_msg("keep-alive interval %.2f s (configured 1 s)", stamps[i] - stamps[i - 1]);
}

static long get_with(const char *path, const char *const *h, http_response *res)
{
    char url[512];
    assert_int_equal(http_request("GET", test_server_url(&S, url, sizeof url, path), h, NULL, 0, res), 0);
    return res->status;
}

static void ranges_follow_rfc_9110(void **state)
{
    char id[64], path[128];
    api_upload_tone(&S, 2.0, id, sizeof id);
    snprintf(path, sizeof path, "/api/download/%s", id);
    http_response full, res;
    assert_int_equal(get_with(path, NULL, &full), 200);
    char etag[128], lm[128]; /* http_header's answer lives until its next call */
    assert_non_null(http_header(&full, "ETag"));
    snprintf(etag, sizeof etag, "%s", http_header(&full, "ETag"));
    assert_non_null(http_header(&full, "Last-Modified"));
    snprintf(lm, sizeof lm, "%s", http_header(&full, "Last-Modified"));
    assert_int_equal(etag[0], '"');
    /* ignored, not 416: unknown unit, malformed, several ranges */
    static const char *const IGNORED[] = {"Range: items=0-10", "Range: bytes=abc", "Range: bytes=5-1", "Range: bytes=0-1,4-5"};
    for (size_t i = 0; i < 4; i++) {
        const char *h[] = {IGNORED[i], NULL};
        if (get_with(path, h, &res) != 200) fail_msg("%s: %ld (want 200, the whole file)", IGNORED[i], res.status);
        assert_int_equal(res.body_len, full.body_len);
        http_response_free(&res);
    }
    const char *part[] = {"Range: bytes=10-19", NULL};
    assert_int_equal(get_with(path, part, &res), 206);
    assert_int_equal(res.body_len, 10);
    assert_memory_equal(res.body, full.body + 10, 10);
    http_response_free(&res);
    /* If-Range: a current validator keeps the range, a stale one gets the whole file */
    char cur[160], date[160];
    snprintf(cur, sizeof cur, "If-Range: %s", etag);
    snprintf(date, sizeof date, "If-Range: %s", lm);
    const char *fresh[] = {"Range: bytes=10-19", cur, NULL}, *fresh_date[] = {"Range: bytes=10-19", date, NULL};
    const char *stale[] = {"Range: bytes=10-19", "If-Range: \"0-0-0\"", NULL};
    const char *stale_date[] = {"Range: bytes=10-19", "If-Range: Thu, 01 Jan 1970 00:00:00 GMT", NULL};
    assert_int_equal(get_with(path, fresh, &res), 206);
    http_response_free(&res);
    assert_int_equal(get_with(path, fresh_date, &res), 206);
    http_response_free(&res);
    assert_int_equal(get_with(path, stale, &res), 200);
    assert_int_equal(res.body_len, full.body_len);
    http_response_free(&res);
    assert_int_equal(get_with(path, stale_date, &res), 200);
    http_response_free(&res);
    const char *past[] = {"Range: bytes=99999999-", NULL};
    assert_int_equal(get_with(path, past, &res), 416);
    http_response_free(&res);
    http_response_free(&full);
}

static void messages_fit_their_errors(void **state)
{
    char id[64], path[128];
    api_submit_sleep(&S, "{\"seconds\":0}", id, sizeof id);
    assert_string_equal(api_wait_terminal(&S, id, 10), "complete");
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    http_response res;
    request("DELETE", path, NULL, NULL, &res);
    expect_error(&res, 409, "CONFLICT");
    assert_non_null(strstr(res.body, "already finished"));
    assert_null(strstr(res.body, "out of step"));
    http_response_free(&res);
    /* unknown keys inside options / parameters are refused like unknown top-level fields */
    const char *json[] = {"Content-Type: application/json", NULL};
    char audio[64], body[300];
    api_upload_tone(&S, 2.0, audio, sizeof audio);
    snprintf(body, sizeof body, "{\"audio_id\":\"%s\",\"options\":{\"remove_nosie\":true}}", audio);
    request("POST", "/api/preprocess", json, body, &res);
    expect_error(&res, 400, "INVALID_REQUEST");
    assert_non_null(strstr(res.body, "remove_nosie"));
    http_response_free(&res);
    snprintf(body, sizeof body, "{\"reference_audio_id\":\"%s\",\"reference_text\":\"a\",\"text\":\"b\",\"parameters\":{\"sped\":1}}", audio);
    request("POST", "/api/convert/f5tts", json, body, &res);
    expect_error(&res, 400, "INVALID_REQUEST");
    assert_non_null(strstr(res.body, "sped"));
    http_response_free(&res);
}

typedef struct post_job { char url[512], file[400]; long status; } post_job;

static void *post_analyze(void *arg)
{
    post_job *p = arg;
    http_response res;
    p->status = http_post_form(p->url, NULL, p->file, "long.flac", NULL, &res) ? 0 : res.status;
    http_response_free(&res);
    return NULL;
}

static void heavy_work_leaves_the_http_threads_free(void **state)
{
    /* three analyses of 10 minutes at 48 kHz keep the 2 HTTP threads busy unless they are offloaded */
    post_job p[3];
    pthread_t t[3];
    char flac[400];
    snprintf(flac, sizeof flac, "%s/ten_minutes.flac", S.root);
    assert_int_equal(hostile_write_flac_silence(flac, 48000, 600.0), 0);
    for (int i = 0; i < 3; i++) {
        test_server_url(&S, p[i].url, sizeof p[i].url, "/api/analyze/quality");
        snprintf(p[i].file, sizeof p[i].file, "%s", flac);
        pthread_create(&t[i], NULL, post_analyze, &p[i]);
    }
    usleep(400 * 1000);
    double worst = 0;
    for (int i = 0; i < 5; i++) {
        double t0 = now_s();
        health_ok();
        if (now_s() - t0 > worst) worst = now_s() - t0;
        usleep(100 * 1000);
    }
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 3; i++) assert_int_equal(p[i].status, 200);
    if (worst > 1.0) fail_msg("/api/health took %.2f s while analyses ran", worst);
}

typedef struct post_import { char url[512], file[400]; long status; char code[32]; int done; } post_import;

static void *post_import_zip(void *arg)
{
    post_import *p = arg;
    http_response res;
    const char *fields[] = {"name", "slow", NULL};
    p->status = http_post_form(p->url, NULL, p->file, "voice.zip", fields, &res) ? 0 : res.status;
    const char *code = p->status ? http_error_code(&res) : NULL;
    snprintf(p->code, sizeof p->code, "%s", code ? code : "");
    http_response_free(&res);
    __atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The issue's own example: two slow model imports in flight (each a ~30 MB voice .zip that
 * inflates to 2 x 400 MB, within the ratio cap: extracted, CRC-checked, fsynced, then refused as
 * no voice) while /api/health is polled. The second starts once the first is under way, so that
 * were imports run on the HTTP threads, each of the 2 would hold one (a thread inside a handler
 * accepts no connection) and every poll would wait for an import to finish. */
static void slow_imports_leave_health_fast(void **state)
{
    post_import p[2];
    pthread_t t[2];
    char zip[400], models[400];
    snprintf(zip, sizeof zip, "%s/slow_voice.zip", S.root);
    snprintf(models, sizeof models, "%s/models", S.data_dir);
    int files_before = api_count_files(models, NULL);
    assert_int_equal(hostile_write_zip_pair(zip, 400u << 20, 1, 64), 0);
    for (int i = 0; i < 2; i++) {
        memset(&p[i], 0, sizeof p[i]);
        test_server_url(&S, p[i].url, sizeof p[i].url, "/api/models/import");
        snprintf(p[i].file, sizeof p[i].file, "%s", zip);
        pthread_create(&t[i], NULL, post_import_zip, &p[i]);
        usleep(400 * 1000); /* the upload is in, the import under way */
    }
    double lat[400];
    int n = 0;
    double t_start = now_s();
    while (n < 400 && !(__atomic_load_n(&p[0].done, __ATOMIC_ACQUIRE) && __atomic_load_n(&p[1].done, __ATOMIC_ACQUIRE))) {
        double t0 = now_s();
        health_ok();
        lat[n++] = now_s() - t0;
        usleep(50 * 1000);
    }
    double busy = now_s() - t_start;
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    unlink(zip);
    for (int i = 0; i < 2; i++)
        if (p[i].status != 400 || strcmp(p[i].code, "INVALID_FORMAT")) fail_msg("import %d: %ld %s", i, p[i].status, p[i].code);
    if (n < 5) fail_msg("the imports took only %.2f s (%d polls): not slow enough to test anything", busy, n);
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    double median = lat[n / 2], worst = lat[n - 1];
    print_message("slow imports: %.2f s, %d health polls, median %.3f s, max %.3f s\n", busy, n, median, worst);
    if (median > 0.25 || worst > 1.0)
        fail_msg("/api/health took median %.3f s, max %.3f s while two imports ran (%.2f s)", median, worst, busy);
    assert_int_equal(api_count_files(models, NULL), files_before); /* no staging folder left, nothing published */
}

static long tus_create(const test_server *s, long length, http_response *res)
{
    char url[512], hl[64];
    snprintf(hl, sizeof hl, "Upload-Length: %ld", length);
    const char *h[] = {"Tus-Resumable: 1.0.0", hl, NULL};
    assert_int_equal(http_request("POST", test_server_url(s, url, sizeof url, "/api/uploads"), h, "", 0, res), 0);
    return res->status;
}

/* Audit #18: an undecodable upload, an MP3 whose stored WAV is gone, and a refused import: no field
 * of the error (message, user_message, extras) shows a server path. */
static void error_bodies_show_no_server_path(void **state)
{
    char junk[] = "/tmp/vcs-junk-XXXXXX", url[512], cmd[1200];
    int fd = mkstemp(junk);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "RIFF\x10\0\0\0WAVEjunkjunkjunk", 24), 24);
    close(fd);
    http_response res;
    assert_int_equal(http_post_form(test_server_url(&S, url, sizeof url, "/api/upload/target-audio"), NULL, junk, "a.wav", NULL, &res), 0);
    expect_error(&res, 400, "INVALID_FORMAT");
    assert_non_null(json_object_get(http_json(&res), "user_message"));
    http_response_free(&res);
    /* the stored WAV removed behind the server's back: the MP3 cannot be made */
    char id[64], path[128];
    api_upload_tone(&S, 0.5, id, sizeof id);
    snprintf(cmd, sizeof cmd, "find '%s' -name '%s*.wav' -delete", S.data_dir, id);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "/api/download/%s?format=mp3", id);
    assert_int_equal(http_request("GET", test_server_url(&S, url, sizeof url, path), NULL, NULL, 0, &res), 0);
    if (res.status < 400) fail_msg("an MP3 of a missing WAV: %ld", res.status);
    no_server_path(&res);
    matches_error_schema(&res);
    http_response_free(&res);
    snprintf(cmd, sizeof cmd, "-F 'file=@%s;filename=voice.pth' -F name=x", junk);
    import_parts(cmd, &res);
    expect_error(&res, 400, "INVALID_FORMAT");
    http_response_free(&res);
    unlink(junk);
    health_ok();
}

/* A data root with spaces (the server started with --data ".../my studio data"): the MP3 of a
 * vanished WAV and an undecodable upload name files under it; no part of the root shows. */
static void a_data_root_with_spaces_stays_hidden(void **state)
{
    test_server q;
    assert_int_equal(test_server_start_in(&q, "my studio data", ENV, NULL), 0);
    char id[64], path[128], url[512], cmd[1200];
    api_upload_tone(&q, 0.5, id, sizeof id);
    snprintf(cmd, sizeof cmd, "find '%s' -name '%s*.wav' -delete", q.data_dir, id);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "/api/download/%s?format=mp3", id);
    http_response res;
    assert_int_equal(http_request("GET", test_server_url(&q, url, sizeof url, path), NULL, NULL, 0, &res), 0);
    if (res.status < 400) fail_msg("an MP3 of a missing WAV: %ld", res.status);
    if (strstr(res.body, "studio data") || strstr(res.body, q.root)) fail_msg("the data root shows: %s", res.body);
    if (!strstr(res.body, "uploads/")) fail_msg("the message no longer names the file (nothing to scrub): %s", res.body);
    matches_error_schema(&res);
    http_response_free(&res);
    assert_int_equal(test_server_stop(&q), 0);
}

static void quotas_answer_rate_limited_with_retry_after(void **state)
{
    test_server q;
    const char *env[] = {"VCS_JOBS_TEST_KINDS=1", "VCS_QUOTA_ACTIVE_JOBS=2", "VCS_QUOTA_UPLOADS=2", "VCS_QUOTA_UPLOAD_MB=1", NULL};
    assert_int_equal(test_server_start(&q, env, NULL), 0);
    char id[64], url[512];
    http_response res;
    api_submit_sleep(&q, "{\"seconds\":5,\"steps\":1}", id, sizeof id);
    api_submit_sleep(&q, "{\"seconds\":5,\"steps\":1}", id, sizeof id);
    const char *json[] = {"Content-Type: application/json", NULL};
    const char *body = "{\"kind\":\"sleep\",\"params\":{\"seconds\":0}}";
    assert_int_equal(http_request("POST", test_server_url(&q, url, sizeof url, "/api/jobs"), json, body, strlen(body), &res), 0);
    assert_int_equal(res.status, 429);
    assert_string_equal(http_error_code(&res), "RATE_LIMITED");
    assert_non_null(http_header(&res, "Retry-After"));
    assert_true(atoi(http_header(&res, "Retry-After")) > 0);
    http_response_free(&res);
    /* declared tus bytes over the quota, then the number of uploads in progress */
    assert_int_equal(tus_create(&q, 2 * 1024 * 1024, &res), 429);
    assert_non_null(http_header(&res, "Retry-After"));
    http_response_free(&res);
    assert_int_equal(tus_create(&q, 1000, &res), 201);
    http_response_free(&res);
    assert_int_equal(tus_create(&q, 1000, &res), 201);
    http_response_free(&res);
    assert_int_equal(tus_create(&q, 1000, &res), 429);
    assert_string_equal(http_error_code(&res), "RATE_LIMITED");
    assert_non_null(strstr(res.body, "in progress"));
    http_response_free(&res);
    test_server_stop(&q);
}

/* A failed job's error (GET /api/jobs/{id}, the list, the SSE replay) shows no server path either:
 * the sleep test kind fails naming <data>/jobs/{id}/model.pth. */
static void job_errors_show_no_server_path(void **state)
{
    char id[64], path[128];
    api_submit_sleep(&S, "{\"seconds\":0,\"steps\":1,\"fail\":true}", id, sizeof id);
    assert_string_equal(api_wait_terminal(&S, id, 20.0), "failed");
    const char *views[] = {"/api/jobs/%s", "/api/jobs?limit=100%.0s", "/api/progress/%s"};
    for (size_t i = 0; i < sizeof views / sizeof *views; i++) {
        char url[512];
        snprintf(path, sizeof path, views[i], id);
        http_response res;
        assert_int_equal(http_request("GET", test_server_url(&S, url, sizeof url, path), NULL, NULL, 0, &res), 0);
        if (!strstr(res.body, "model.pth")) fail_msg("%s: the error no longer names the file: %s", path, res.body);
        no_server_path(&res);
        http_response_free(&res);
    }
}

/* POST /api/models/import of the committed test voice (0.97 MB) to server q. */
static void import_test_voice(test_server *q, http_response *res)
{
    const char *root = getenv("VCS_TEST_ROOT") ? getenv("VCS_TEST_ROOT") : ".";
    char pth[700], url[512];
    snprintf(pth, sizeof pth, "%s/tests/models/rvc/fixtures/voice_v2_96.pth", root);
    const char *fields[] = {"name", "quota voice", NULL};
    assert_int_equal(http_post_form(test_server_url(q, url, sizeof url, "/api/models/import"), NULL, pth, "voice.pth", fields, res), 0);
}

/* Upload a tone of `seconds` (16 kHz, 16 bit: 32 KB a second) to q; the HTTP status. */
static long upload_tone_to(test_server *q, double seconds, http_response *res)
{
    char wav[] = "/tmp/vcs-quota-XXXXXX", url[512];
    int fd = mkstemp(wav);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(test_audio_tone(wav, 16000, 1, seconds, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5), 0);
    assert_int_equal(http_post_form(test_server_url(q, url, sizeof url, "/api/upload/target-audio"), NULL, wav, "tone.wav", NULL, res), 0);
    unlink(wav);
    return res->status;
}

static void expect_storage_quota(http_response *res)
{
    if (res->status != 429) fail_msg("over the storage quota: %ld %s", res->status, res->body);
    assert_string_equal(http_error_code(res), "RATE_LIMITED");
    assert_non_null(http_header(res, "Retry-After"));
    assert_true(atoi(http_header(res, "Retry-After")) > 0);
    /* it says what is used, the limit, and how to make room */
    assert_non_null(strstr(res->body, "of your 1 MB"));
    assert_non_null(strstr(res->body, "DELETE /api/audio/{id}"));
    assert_non_null(strstr(res->body, "DELETE /api/models/{id}"));
}

/* VCS_QUOTA_STORAGE_MB counts stored recordings and imported voices together. */
static void storage_quota_counts_recordings_and_voices(void **state)
{
    test_server q;
    const char *env[] = {"VCS_QUOTA_STORAGE_MB=1", NULL};
    assert_int_equal(test_server_start(&q, env, NULL), 0);
    http_response res;
    /* a 0.97 MB voice fits in 1 MB (31 KB left); then a 2 s recording (63 KB) does not */
    import_test_voice(&q, &res);
    if (res.status != 201) fail_msg("import under the quota: %ld %s", res.status, res.body);
    char model[64], path[128];
    snprintf(model, sizeof model, "%s", json_string_value(json_object_get(http_json(&res), "model_id")));
    http_response_free(&res);
    upload_tone_to(&q, 2.0, &res);
    expect_storage_quota(&res);
    assert_non_null(strstr(res.body, "voices (1.0 MB)"));
    http_response_free(&res);
    import_test_voice(&q, &res); /* a second voice neither */
    expect_storage_quota(&res);
    http_response_free(&res);
    /* room made: recordings count on their own too (2 × 0.6 MB > 1 MB) */
    snprintf(path, sizeof path, "/api/models/%s", model);
    json_decref(api_call(&q, "DELETE", path, NULL, 200));
    assert_int_equal(upload_tone_to(&q, 20.0, &res), 200);
    http_response_free(&res);
    upload_tone_to(&q, 20.0, &res);
    expect_storage_quota(&res);
    assert_non_null(strstr(res.body, "recordings (0.6 MB)"));
    http_response_free(&res);
    import_test_voice(&q, &res); /* and a voice does not fit beside them */
    expect_storage_quota(&res);
    http_response_free(&res);
    assert_int_equal(api_count_paths(q.data_dir, ".import-"), 0); /* nothing of the refused imports kept */
    test_server_stop(&q);
}

static void a_body_trickling_in_is_cut_off(void **state)
{
    test_server q;
    const char *env[] = {"VCS_MIN_BODY_RATE=1000", "VCS_BODY_GRACE_SECONDS=1", NULL};
    assert_int_equal(test_server_start(&q, env, NULL), 0);
    int fd = api_connect(&q, 0);
    assert_true(fd >= 0);
    char req[256];
    snprintf(req, sizeof req, "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
             "Content-Length: 100000\r\n\r\n{", q.port);
    assert_true(send(fd, req, strlen(req), MSG_NOSIGNAL) > 0);
    double t0 = now_s();
    int cut = 0;
    while (!cut && now_s() - t0 < 8.0) { /* one byte every 300 ms: 3 bytes/s, far below 1000 */
        usleep(300 * 1000);
        if (send(fd, " ", 1, MSG_NOSIGNAL) != 1) cut = 1;
        char c;
        struct timeval tv = {0, 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (recv(fd, &c, 1, 0) == 0) cut = 1;
    }
    close(fd);
    if (!cut) fail_msg("a body at 3 bytes/s was still open after %.1f s", now_s() - t0);
    assert_true(now_s() - t0 < 6.0);
    assert_int_equal(api_status(&q, "GET", "/api/health"), 200);
    test_server_stop(&q);
}

/* 1 when the server closes fd within `seconds`, sending `drip` (if any) one byte every 200 ms meanwhile. */
static int closed_within(int fd, double seconds, const char *drip)
{
    double t0 = now_s();
    size_t at = 0;
    while (now_s() - t0 < seconds) {
        if (drip && drip[at] && send(fd, drip + at++, 1, MSG_NOSIGNAL) != 1) return 1;
        char buf[512];
        struct timeval tv = {0, 200000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return 1;
    }
    return 0;
}

static void slow_heads_and_stalled_bodies_meet_their_deadlines(void **state)
{
    test_server q;
    const char *env[] = {"VCS_HEADER_TIMEOUT_SECONDS=2", "VCS_MIN_BODY_RATE=1000", "VCS_BODY_GRACE_SECONDS=1", NULL};
    assert_int_equal(test_server_start(&q, env, NULL), 0);
    char head[256];
    snprintf(head, sizeof head, "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: %s\r\n", q.port,
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    /* a head trickling in at 5 bytes/s never completes: cut at the 2 s deadline (MHD's idle timeout
     * alone would keep it forever, each byte resetting it) */
    int fd = api_connect(&q, 0);
    assert_true(fd >= 0);
    double t0 = now_s();
    if (!closed_within(fd, 6.0, head)) fail_msg("a head trickling in was still open after 6 s");
    assert_true(now_s() - t0 > 1.5);
    close(fd);
    /* a connection that never sends anything is closed too, so idle sockets do not keep others out */
    fd = api_connect(&q, 0);
    t0 = now_s();
    if (!closed_within(fd, 6.0, NULL)) fail_msg("a silent connection was still open after 6 s");
    close(fd);
    /* a head complete within the deadline, even slowly, is answered */
    fd = api_connect(&q, 0);
    char req[256];
    snprintf(req, sizeof req, "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n", q.port);
    assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    usleep(1000 * 1000);
    assert_int_equal(send(fd, "\r\n", 2, MSG_NOSIGNAL), 2);
    char buf[1024] = "";
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_true(recv(fd, buf, sizeof buf - 1, 0) > 0);
    assert_non_null(strstr(buf, " 200 "));
    close(fd);
    /* a body that stops after its first byte is cut once the grace is over, with no byte arriving
     * to trigger the check */
    fd = api_connect(&q, 0);
    snprintf(req, sizeof req, "POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
             "Content-Length: 100000\r\n\r\n{", q.port);
    assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    t0 = now_s();
    if (!closed_within(fd, 6.0, NULL)) fail_msg("a stalled body was still open after 6 s");
    if (now_s() - t0 > 3.5) fail_msg("a stalled body was cut after %.1f s (grace 1 s)", now_s() - t0);
    close(fd);
    assert_int_equal(api_status(&q, "GET", "/api/health"), 200);
    test_server_stop(&q);
}

/* A small JSON Schema check (type incl. type lists, enum, required, properties, items): enough for
 * the schemas the server documents. Fails the test naming the path of the first mismatch. */
static int type_ok(const char *want, const json_t *v)
{
    return (!strcmp(want, "string") && json_is_string(v)) || (!strcmp(want, "number") && json_is_number(v)) ||
           (!strcmp(want, "integer") && json_is_integer(v)) || (!strcmp(want, "boolean") && json_is_boolean(v)) ||
           (!strcmp(want, "array") && json_is_array(v)) || (!strcmp(want, "object") && json_is_object(v)) ||
           (!strcmp(want, "null") && json_is_null(v));
}

static void validate(const json_t *schema, const json_t *v, const char *where)
{
    json_t *type = json_object_get(schema, "type");
    if (type) {
        int ok = 0;
        if (json_is_string(type)) ok = type_ok(json_string_value(type), v);
        for (size_t i = 0; json_is_array(type) && i < json_array_size(type); i++) ok |= type_ok(json_string_value(json_array_get(type, i)), v);
        if (!ok) fail_msg("%s: %s does not have type %s", where, json_dumps(v, JSON_ENCODE_ANY), json_dumps(type, JSON_ENCODE_ANY));
    }
    json_t *en = json_object_get(schema, "enum");
    if (en) {
        int ok = 0;
        for (size_t i = 0; i < json_array_size(en); i++) ok |= json_equal(json_array_get(en, i), (json_t *)v);
        if (!ok) fail_msg("%s: %s is not one of %s", where, json_dumps(v, JSON_ENCODE_ANY), json_dumps(en, 0));
    }
    size_t i;
    json_t *x;
    if (json_is_object(v)) {
        json_array_foreach(json_object_get(schema, "required"), i, x)
            if (!json_object_get(v, json_string_value(x))) fail_msg("%s: '%s' is required", where, json_string_value(x));
        const char *key;
        json_object_foreach(json_object_get(schema, "properties"), key, x) {
            json_t *field = json_object_get(v, key);
            char sub[300];
            snprintf(sub, sizeof sub, "%s.%s", where, key);
            if (field) validate(x, field, sub);
        }
    }
    if (json_is_array(v) && json_object_get(schema, "items"))
        json_array_foreach(v, i, x) {
            char sub[300];
            snprintf(sub, sizeof sub, "%s[%zu]", where, i);
            validate(json_object_get(schema, "items"), x, sub);
        }
}

static void real_responses_match_the_documented_schemas(void **state)
{
    /* something in every list, so item schemas are checked too */
    char audio[64], job[64];
    api_upload_tone(&S, 2.0, audio, sizeof audio);
    api_submit_sleep(&S, "{\"seconds\":0}", job, sizeof job);
    api_wait_terminal(&S, job, 10);
    char url[512];
    http_response doc;
    assert_int_equal(http_request("GET", test_server_url(&S, url, sizeof url, "/api/openapi.json"), NULL, NULL, 0, &doc), 0);
    json_t *paths = json_object_get(http_json(&doc), "paths");
    const char *path;
    json_t *item;
    int checked = 0;
    json_object_foreach(paths, path, item) {
        json_t *schema = json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(item, "get"),
                                         "responses"), "200"), "content"), "application/json"), "schema");
        if (!schema || strchr(path, '{')) continue;
        http_response res;
        assert_int_equal(http_request("GET", test_server_url(&S, url, sizeof url, path), NULL, NULL, 0, &res), 0);
        assert_int_equal(res.status, 200);
        validate(schema, http_json(&res), path);
        http_response_free(&res);
        checked++;
    }
    http_response_free(&doc);
    assert_true(checked >= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostile_model_files_are_refused_through_the_api),
        cmocka_unit_test(json_bodies_need_the_json_content_type),
        cmocka_unit_test(foreign_origins_may_not_change_state),
        cmocka_unit_test(preflights_only_for_configured_origins),
        cmocka_unit_test(foreign_host_names_are_refused),
        cmocka_unit_test(system_shows_paths_to_users_only),
        cmocka_unit_test(conflicting_framing_is_refused),
        cmocka_unit_test(decompression_bombs_are_refused_before_decoding),
        cmocka_unit_test(hostile_audio_headers_are_refused_through_the_api),
        cmocka_unit_test(concurrent_first_mp3_downloads_all_succeed),
        cmocka_unit_test(one_client_cannot_take_every_connection),
        cmocka_unit_test(finished_streams_answer_204),
        cmocka_unit_test(keepalives_come_at_the_configured_interval),
        cmocka_unit_test(ranges_follow_rfc_9110),
        cmocka_unit_test(messages_fit_their_errors),
        cmocka_unit_test(heavy_work_leaves_the_http_threads_free),
        cmocka_unit_test(slow_imports_leave_health_fast),
        cmocka_unit_test(error_bodies_show_no_server_path),
        cmocka_unit_test(a_data_root_with_spaces_stays_hidden),
        cmocka_unit_test(quotas_answer_rate_limited_with_retry_after),
        cmocka_unit_test(job_errors_show_no_server_path),
        cmocka_unit_test(storage_quota_counts_recordings_and_voices),
        cmocka_unit_test(a_body_trickling_in_is_cut_off),
        cmocka_unit_test(slow_heads_and_stalled_bodies_meet_their_deadlines),
        cmocka_unit_test(real_responses_match_the_documented_schemas),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
