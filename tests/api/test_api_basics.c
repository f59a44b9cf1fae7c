/*
 * Black-box API tests against the real server (loopback, temp data dir): health, system,
 * OpenAPI coverage (every route documented, every documented route answers), docs page,
 * static fallback, unknown routes, 405, malformed JSON, unknown fields, huge headers,
 * path-traversal ids, models list/get/delete (files removed), auth and per-user isolation,
 * graceful shutdown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/server.h"
#include "support/test_routes.h"
#include "store/store.h"
#include "support/http_client.h"
#include "support/test_server.h"

static test_server S;

static int group_setup(void **state)
{
    (void)state;
    return test_server_start(&S, NULL, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    /* a clean exit (0) after SIGTERM; under ASan a leak would make it non-zero */
    int status = test_server_stop(&S);
    if (status != 0) fprintf(stderr, "server exit status %d\n", status);
    return status == 0 ? 0 : -1;
}

static void get(const char *path, const char *const *headers, http_response *res)
{
    char url[1024];
    assert_int_equal(http_request("GET", test_server_url(&S, url, sizeof url, path), headers, NULL, 0, res), 0);
}

static void assert_error(http_response *res, long status, const char *code)
{
    assert_int_equal(res->status, status);
    json_t *j = http_json(res);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "error");
    assert_string_equal(http_error_code(res), code);
    const char *um = json_string_value(json_object_get(j, "user_message"));
    assert_non_null(um);
    assert_true(strlen(um) > 5);
    assert_non_null(json_string_value(json_object_get(j, "message")));
}

static void test_health_and_system(void **state)
{
    (void)state;
    http_response res;
    get("/api/health", NULL, &res);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body, "{\"status\":\"ok\"}");
    http_response_free(&res);
    get("/api/system", NULL, &res);
    assert_int_equal(res.status, 200);
    json_t *j = http_json(&res);
    assert_string_equal(json_string_value(json_object_get(j, "version")), SERVER_VERSION);
    assert_string_equal(json_string_value(json_object_get(j, "auth")), "open");
    json_t *w = json_object_get(j, "weights");
    assert_true(json_array_size(w) >= 4);
    assert_false(json_is_true(json_object_get(json_array_get(w, 0), "installed"))); /* fresh data dir */
    assert_string_equal(json_string_value(json_object_get(j, "weights_status")), "missing");
    /* every entry names its licence; the F5-TTS weights say they are non-commercial */
    for (size_t i = 0; i < json_array_size(w); i++) {
        json_t *e = json_array_get(w, i);
        assert_non_null(json_string_value(json_object_get(e, "licence")));
        if (!strcmp(json_string_value(json_object_get(e, "name")), "f5tts_v1_base")) {
            assert_string_equal(json_string_value(json_object_get(e, "licence")), "CC-BY-NC-4.0");
            assert_non_null(strstr(json_string_value(json_object_get(e, "licence_note")), "Non-commercial"));
        }
    }
    http_response_free(&res);
    /* a file under data/weights/rmvpe/ makes that entry installed */
    char dir[400], file[500];
    snprintf(dir, sizeof dir, "%s/weights/rmvpe", S.data_dir);
    assert_int_equal(vc_mkdirs(dir, NULL), 0);
    snprintf(file, sizeof file, "%s/rmvpe.pt", dir);
    assert_int_equal(vc_write_atomic(file, "x", 1, NULL), 0);
    get("/api/system", NULL, &res);
    w = json_object_get(http_json(&res), "weights");
    int rmvpe = -1;
    for (size_t i = 0; i < json_array_size(w); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(w, i), "name")), "rmvpe"))
            rmvpe = json_is_true(json_object_get(json_array_get(w, i), "installed"));
    assert_int_equal(rmvpe, 1);
    http_response_free(&res);

    /* every pretrained G/D pair is listed; one counts as installed only with both files */
    static const char *const FILES[] = {"rvc_pretrained_v1/f0G40k.pth", "rvc_pretrained_v1/f0D40k.pth",
                                        "rvc_pretrained/G48k.pth"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(file, sizeof file, "%s/weights/%s", S.data_dir, FILES[i]);
        snprintf(dir, sizeof dir, "%s", file);
        *strrchr(dir, '/') = '\0';
        assert_int_equal(vc_mkdirs(dir, NULL), 0);
        assert_int_equal(vc_write_atomic(file, "x", 1, NULL), 0);
    }
    get("/api/system", NULL, &res);
    json_t *sys = http_json(&res);
    json_t *pre = json_object_get(sys, "rvc_pretrained");
    assert_int_equal(json_array_size(pre), 12); /* v1/v2 × 32k/40k/48k × pitch or not */
    int installed = 0, v1_40k_f0 = -1, v2_48k_nof0 = -1;
    for (size_t i = 0; i < json_array_size(pre); i++) {
        json_t *e = json_array_get(pre, i);
        int ok = json_is_true(json_object_get(e, "installed"));
        const char *v = json_string_value(json_object_get(e, "version"));
        json_int_t sr = json_integer_value(json_object_get(e, "sample_rate"));
        int f0 = json_is_true(json_object_get(e, "f0"));
        installed += ok;
        if (!strcmp(v, "v1") && sr == 40000 && f0) v1_40k_f0 = ok;
        if (!strcmp(v, "v2") && sr == 48000 && !f0) v2_48k_nof0 = ok;
    }
    assert_int_equal(installed, 1);
    assert_int_equal(v1_40k_f0, 1);
    assert_int_equal(v2_48k_nof0, 0); /* G48k.pth without D48k.pth */
    w = json_object_get(sys, "weights");
    int v1 = -1;
    for (size_t i = 0; i < json_array_size(w); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(w, i), "name")), "rvc_pretrained_v1"))
            v1 = json_is_true(json_object_get(json_array_get(w, i), "installed"));
    assert_int_equal(v1, 1);
    http_response_free(&res);
}

/* Fills {param} segments with a harmless id. */
static void concrete_path(const char *pattern, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = pattern; *p && n + 16 < cap;) {
        if (*p == '{') {
            n += (size_t)snprintf(out + n, cap - n, "doesnotexist1");
            p = strchr(p, '}') + 1;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
}

static void test_openapi_matches_routes(void **state)
{
    (void)state;
    http_response res;
    get("/api/openapi.json", NULL, &res);
    assert_int_equal(res.status, 200);
    json_t *doc = http_json(&res);
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    json_t *paths = json_object_get(doc, "paths");
    /* every route of the server's tables is documented */
    int n_routes = 0;
    for (size_t t = 0; SERVER_ROUTE_TABLES[t]; t++)
        for (const server_route *rt = SERVER_ROUTE_TABLES[t]; rt->method; rt++, n_routes++) {
            char m[16];
            size_t i = 0;
            for (; rt->method[i]; i++) m[i] = (char)(rt->method[i] | 0x20);
            m[i] = 0;
            json_t *op = json_object_get(json_object_get(paths, rt->pattern), m);
            if (!op) fail_msg("route %s %s is not documented", rt->method, rt->pattern);
            assert_true(json_is_object(json_object_get(op, "responses")));
        }
    assert_true(n_routes >= 15);
    /* every documented operation is answered by its route (X-VCS-Route), not by the unknown-route 404 */
    const char *path;
    json_t *item;
    int n_ops = 0;
    json_object_foreach(paths, path, item) {
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op) {
            char m[16], url[1024], concrete[512];
            size_t i = 0;
            for (; method[i]; i++) m[i] = (char)(method[i] & ~0x20);
            m[i] = 0;
            concrete_path(path, concrete, sizeof concrete);
            test_server_url(&S, url, sizeof url, concrete);
            http_response r2;
            const char *tus[] = {"Tus-Resumable: 1.0.0", NULL};
            assert_int_equal(http_request(m, url, tus, NULL, 0, &r2), 0);
            const char *route = http_header(&r2, "X-VCS-Route");
            if (!route || strcmp(route, path)) fail_msg("%s %s answered by '%s' (status %ld)", m, concrete, route ? route : "none", r2.status);
            http_response_free(&r2);
            n_ops++;
        }
    }
    assert_int_equal(n_ops, n_routes + (int)test_routes_implicit_heads());
    http_response_free(&res);
}

static void test_docs_and_static(void **state)
{
    (void)state;
    http_response res;
    get("/api/docs", NULL, &res);
    assert_int_equal(res.status, 200);
    assert_non_null(strstr(res.body, "/api/openapi.json"));
    assert_null(strstr(res.body, "https://")); /* no CDN */
    http_response_free(&res);
    get("/", NULL, &res); /* tests run without web/dist in the temp cwd? either index.html or the fallback page */
    assert_int_equal(res.status, 200);
    assert_non_null(strstr(res.body, "<html"));
    http_response_free(&res);
    get("/some/client/route", NULL, &res); /* SPA fallback */
    assert_int_equal(res.status, 200);
    http_response_free(&res);
}

static void test_built_ui_is_served(void **state)
{
    (void)state;
    char web[] = "/tmp/vcs-web-XXXXXX", path[300];
    assert_non_null(mkdtemp(web));
    snprintf(path, sizeof path, "%s/assets", web);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/index.html", web);
    FILE *f = fopen(path, "w");
    fputs("<!doctype html><html>STUDIO INDEX</html>", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/assets/app.js", web);
    f = fopen(path, "w");
    fputs("console.log('app')", f);
    fclose(f);
    const char *args[] = {"--web", web, NULL};
    test_server s2;
    assert_int_equal(test_server_start(&s2, NULL, args), 0);
    char url[300];
    http_response res;
    http_request("GET", test_server_url(&s2, url, sizeof url, "/"), NULL, NULL, 0, &res);
    assert_int_equal(res.status, 200);
    assert_non_null(strstr(res.body, "STUDIO INDEX"));
    assert_non_null(strstr(http_header(&res, "Content-Type"), "text/html"));
    http_response_free(&res);
    http_request("GET", test_server_url(&s2, url, sizeof url, "/assets/app.js"), NULL, NULL, 0, &res);
    assert_int_equal(res.status, 200);
    assert_string_equal(res.body, "console.log('app')");
    assert_string_equal(http_header(&res, "Content-Type"), "text/javascript");
    http_response_free(&res);
    http_request("GET", test_server_url(&s2, url, sizeof url, "/models/123"), NULL, NULL, 0, &res);
    assert_non_null(strstr(res.body, "STUDIO INDEX")); /* client-side route */
    http_response_free(&res);
    http_request("GET", test_server_url(&s2, url, sizeof url, "/../../../etc/passwd"), NULL, NULL, 0, &res);
    assert_null(strstr(res.body, "root:"));
    http_response_free(&res);
    test_server_stop(&s2);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", web);
    assert_int_equal(system(cmd), 0);
}

static void test_unknown_route_and_method(void **state)
{
    (void)state;
    http_response res;
    get("/api/no-such-thing", NULL, &res);
    assert_error(&res, 404, "NOT_FOUND");
    assert_null(http_header(&res, "X-VCS-Route"));
    http_response_free(&res);
    get("/api/%ff%fe%01", NULL, &res); /* not UTF-8: still a well-formed JSON error */
    assert_error(&res, 404, "NOT_FOUND");
    http_response_free(&res);
    char url[256];
    http_request("PUT", test_server_url(&S, url, sizeof url, "/api/models"), NULL, "{}", 2, &res);
    assert_error(&res, 405, "METHOD_NOT_ALLOWED"); /* its own code, and the methods that do work */
    assert_non_null(http_header(&res, "Allow"));
    assert_non_null(strstr(http_header(&res, "Allow"), "GET"));
    assert_non_null(strstr(http_header(&res, "Allow"), "HEAD"));
    http_response_free(&res);
}

static void test_malformed_json_and_unknown_fields(void **state)
{
    (void)state;
    char url[256];
    const char *h[] = {"Content-Type: application/json", NULL};
    http_response res;
    test_server_url(&S, url, sizeof url, "/api/analyze/quality");
    http_request("POST", url, h, "{\"audio_id\": ", 13, &res);
    assert_error(&res, 400, "INVALID_REQUEST");
    assert_non_null(strstr(json_string_value(json_object_get(http_json(&res), "message")), "malformed"));
    http_response_free(&res);
    const char *body = "{\"audio_id\":\"audio_x\",\"colour\":\"blue\"}";
    http_request("POST", url, h, body, strlen(body), &res);
    assert_error(&res, 400, "INVALID_REQUEST");
    assert_non_null(strstr(json_string_value(json_object_get(http_json(&res), "message")), "colour"));
    http_response_free(&res);
    http_request("POST", url, h, "[1,2]", 5, &res);
    assert_error(&res, 400, "INVALID_REQUEST");
    http_response_free(&res);
}

static void test_huge_headers(void **state)
{
    (void)state;
    size_t n = 32 * 1024;
    char *h = malloc(n + 16);
    memcpy(h, "X-Big: ", 7);
    memset(h + 7, 'a', n);
    h[7 + n] = 0;
    const char *headers[] = {h, NULL};
    http_response res;
    get("/api/models", headers, &res);
    assert_error(&res, 431, "INVALID_REQUEST");
    http_response_free(&res);
    /* beyond MHD's connection buffer the server still answers (no crash) and stays up */
    char *h2 = malloc(600 * 1024);
    memcpy(h2, "X-Huge: ", 8);
    memset(h2 + 8, 'b', 600 * 1024 - 9);
    h2[600 * 1024 - 1] = 0;
    const char *headers2[] = {h2, NULL};
    get("/api/models", headers2, &res);
    assert_true(res.status == 431 || res.status == 413 || res.status == 0);
    http_response_free(&res);
    get("/api/health", NULL, &res);
    assert_int_equal(res.status, 200);
    http_response_free(&res);
    free(h);
    free(h2);
}

static void test_path_traversal_ids(void **state)
{
    (void)state;
    static const char *const PATHS[] = {
        "/api/audio/..%2F..%2Fstudio.db", "/api/audio/../../studio.db", "/api/download/..%2fstudio.db",
        "/api/models/..", "/api/models/%2e%2e", "/api/audio/a.b/peaks", "/api/uploads/..%2Fstudio.db",
    };
    for (size_t i = 0; i < sizeof PATHS / sizeof PATHS[0]; i++) {
        http_response res;
        get(PATHS[i], NULL, &res);
        if (res.status != 404) fail_msg("%s → %ld", PATHS[i], res.status);
        assert_non_null(strstr(http_error_code(&res), "NOT_FOUND"));
        http_response_free(&res);
    }
}

static void insert_model(const char *user, const char *id, char *file_out, size_t cap)
{
    store *st;
    vc_error err;
    assert_int_equal(store_open_url(&st, S.data_dir, S.db_url, &err), 0);
    store_model m = {0};
    snprintf(m.model_id, sizeof m.model_id, "%s", id);
    snprintf(m.user_id, sizeof m.user_id, "%s", user);
    snprintf(m.name, sizeof m.name, "Voice %s", id);
    snprintf(m.quality_grade, sizeof m.quality_grade, "A");
    snprintf(m.file_path, sizeof m.file_path, "models/%s", id);
    m.final_loss = 0.0124;
    m.training_duration_minutes = 38;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/models/%s", S.data_dir, id);
    assert_int_equal(vc_mkdirs(dir, &err), 0);
    snprintf(file_out, cap, "%s/model.pth", dir);
    assert_int_equal(vc_write_atomic(file_out, "weights", 7, &err), 0);
    assert_int_equal(store_model_insert(st, &m, &err), 0);
    store_close(st);
}

static void test_models(void **state)
{
    (void)state;
    char file[600];
    insert_model("local", "model_api_1", file, sizeof file);
    http_response res;
    get("/api/models", NULL, &res);
    assert_int_equal(res.status, 200);
    json_t *models = json_object_get(http_json(&res), "models");
    assert_int_equal(json_array_size(models), 1);
    json_t *m = json_array_get(models, 0);
    assert_string_equal(json_string_value(json_object_get(m, "model_id")), "model_api_1");
    assert_true(json_real_value(json_object_get(m, "final_loss")) == 0.0124);
    assert_non_null(strstr(res.body, "\"final_loss\":0.0124")); /* JSON_REAL_PRECISION: no 0.01240000000001 */
    http_response_free(&res);
    get("/api/models/model_api_1", NULL, &res);
    assert_int_equal(res.status, 200);
    http_response_free(&res);
    get("/api/models/model_nope", NULL, &res);
    assert_error(&res, 404, "MODEL_NOT_FOUND");
    http_response_free(&res);
    char url[256];
    http_request("DELETE", test_server_url(&S, url, sizeof url, "/api/models/model_api_1"), NULL, NULL, 0, &res);
    assert_int_equal(res.status, 200);
    http_response_free(&res);
    struct stat st;
    assert_int_not_equal(stat(file, &st), 0); /* files gone */
    get("/api/models/model_api_1", NULL, &res);
    assert_error(&res, 404, "MODEL_NOT_FOUND");
    http_response_free(&res);
    http_request("DELETE", url, NULL, NULL, 0, &res);
    assert_error(&res, 404, "MODEL_NOT_FOUND");
    http_response_free(&res);
}

/* Runs last in the group: creating a key switches the server out of open mode. */
static void test_auth_and_isolation(void **state)
{
    (void)state;
    char file[600], key_a[80], key_b[80], kid[STORE_ID_MAX], hdr_a[120], hdr_b[120];
    insert_model("alice", "model_alice", file, sizeof file);
    store *st;
    vc_error err;
    assert_int_equal(store_open_url(&st, S.data_dir, S.db_url, &err), 0);
    assert_int_equal(store_key_create(st, "alice", key_a, kid, &err), 0);
    assert_int_equal(store_key_create(st, "bob", key_b, kid, &err), 0);
    store_close(st);
    usleep(1100 * 1000); /* the server re-reads the key count at most once a second */
    snprintf(hdr_a, sizeof hdr_a, "Authorization: Bearer %s", key_a);
    snprintf(hdr_b, sizeof hdr_b, "Authorization: Bearer %s", key_b);
    const char *ha[] = {hdr_a, NULL}, *hb[] = {hdr_b, NULL}, *hbad[] = {"Authorization: Bearer vcs_nope", NULL};
    http_response res;
    get("/api/models", NULL, &res); /* keys exist → no more open mode */
    assert_error(&res, 401, "UNAUTHORIZED");
    http_response_free(&res);
    get("/api/models", hbad, &res);
    assert_error(&res, 401, "UNAUTHORIZED");
    http_response_free(&res);
    get("/api/health", NULL, &res); /* public */
    assert_int_equal(res.status, 200);
    http_response_free(&res);
    get("/api/models/model_alice", ha, &res);
    assert_int_equal(res.status, 200);
    http_response_free(&res);
    get("/api/models/model_alice", hb, &res); /* another user's id: 404, not 403 */
    assert_error(&res, 404, "MODEL_NOT_FOUND");
    http_response_free(&res);
    get("/api/models", hb, &res);
    assert_int_equal(json_array_size(json_object_get(http_json(&res), "models")), 0);
    http_response_free(&res);
    char url[256];
    http_request("DELETE", test_server_url(&S, url, sizeof url, "/api/models/model_alice"), hb, NULL, 0, &res);
    assert_error(&res, 404, "MODEL_NOT_FOUND");
    http_response_free(&res);
    struct stat sb;
    assert_int_equal(stat(file, &sb), 0); /* bob could not delete alice's files */
    get("/api/system", NULL, &res);
    assert_string_equal(json_string_value(json_object_get(http_json(&res), "auth")), "api_key");
    http_response_free(&res);
    /* with keys, weight paths only for a key holder: null for the public, a path for alice */
    get("/api/system", NULL, &res);
    assert_true(json_is_null(json_object_get(json_array_get(json_object_get(http_json(&res), "weights"), 0), "path")));
    assert_null(strstr(res.body, S.data_dir));
    http_response_free(&res);
    get("/api/system", ha, &res);
    assert_true(json_is_string(json_object_get(json_array_get(json_object_get(http_json(&res), "weights"), 0), "path")));
    http_response_free(&res);
    /* the CLI creates a working key (printed once on stdout) */
    char bin[1024], cmd[2048], key_c[128] = "", hdr_c[160];
    snprintf(cmd, sizeof cmd, "%s keys create --user carol --data %s 2>/dev/null", test_server_binary(bin, sizeof bin),
             S.data_dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(key_c, sizeof key_c, p));
    assert_int_equal(pclose(p), 0);
    key_c[strcspn(key_c, "\n")] = 0;
    assert_int_equal(strncmp(key_c, "vcs_", 4), 0);
    snprintf(hdr_c, sizeof hdr_c, "Authorization: Bearer %s", key_c);
    const char *hc[] = {hdr_c, NULL};
    get("/api/models", hc, &res);
    assert_int_equal(res.status, 200);
    assert_int_equal(json_array_size(json_object_get(http_json(&res), "models")), 0);
    http_response_free(&res);
}

static void test_graceful_shutdown(void **state)
{
    (void)state;
    test_server s2;
    assert_int_equal(test_server_start(&s2, NULL, NULL), 0);
    assert_int_equal(test_server_stop_keep(&s2), 0); /* SIGTERM → exit status 0 */
    char log[400];
    snprintf(log, sizeof log, "grep -q '\"event\":\"shutdown\"' %s", s2.log_path);
    assert_int_equal(system(log), 0);
    test_server_cleanup(&s2);
}

static void test_access_log_lines_are_json(void **state)
{
    (void)state;
    FILE *f = fopen(S.log_path, "r");
    assert_non_null(f);
    char line[4096];
    int requests = 0;
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j) fail_msg("log line is not JSON: %s", line);
        if (json_object_get(j, "status")) {
            requests++;
            assert_non_null(json_string_value(json_object_get(j, "method")));
            assert_true(json_is_number(json_object_get(j, "ms")));
        }
        json_decref(j);
    }
    fclose(f);
    assert_true(requests > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_and_system),
        cmocka_unit_test(test_openapi_matches_routes),
        cmocka_unit_test(test_docs_and_static),
        cmocka_unit_test(test_built_ui_is_served),
        cmocka_unit_test(test_unknown_route_and_method),
        cmocka_unit_test(test_malformed_json_and_unknown_fields),
        cmocka_unit_test(test_huge_headers),
        cmocka_unit_test(test_path_traversal_ids),
        cmocka_unit_test(test_models),
        cmocka_unit_test(test_access_log_lines_are_json),
        cmocka_unit_test(test_auth_and_isolation),
        cmocka_unit_test(test_graceful_shutdown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
