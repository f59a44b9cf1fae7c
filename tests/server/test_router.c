/*
 * Router and OpenAPI unit tests (in-process, no sockets): pattern matching with parameters,
 * trailing slashes, 405 detection, HEAD → GET fallback, and the generated OpenAPI document
 * listing each route exactly once with its path parameters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "server/server.h"

static void test_match_with_params(void **state)
{
    (void)state;
    char params[SERVER_MAX_PARAMS][256];
    int known;
    const server_route *rt = server_route_match("GET", "/api/audio/audio_1/peaks", params, &known);
    assert_non_null(rt);
    assert_string_equal(rt->pattern, "/api/audio/{audio_id}/peaks");
    assert_string_equal(params[0], "audio_1");
    rt = server_route_match("GET", "/api/audio/audio_2", params, &known);
    assert_string_equal(rt->pattern, "/api/audio/{audio_id}");
    assert_string_equal(params[0], "audio_2");
    rt = server_route_match("POST", "/api/uploads/", params, &known);
    assert_non_null(rt);
    assert_string_equal(rt->pattern, "/api/uploads");
}

static void test_no_match_and_method_not_allowed(void **state)
{
    (void)state;
    char params[SERVER_MAX_PARAMS][256];
    int known;
    assert_null(server_route_match("GET", "/api/nothing", params, &known));
    assert_false(known);
    assert_null(server_route_match("PUT", "/api/models", params, &known));
    assert_true(known);
    assert_null(server_route_match("GET", "/api/audio/a/b/c", params, &known));
    assert_null(server_route_match("GET", "/api/download/", params, &known)); /* an empty id never matches */
}

static void test_head_falls_back_to_get(void **state)
{
    (void)state;
    char params[SERVER_MAX_PARAMS][256];
    int known;
    const server_route *rt = server_route_match("HEAD", "/api/download/audio_1", params, &known);
    assert_non_null(rt);
    assert_string_equal(rt->method, "GET");
    rt = server_route_match("HEAD", "/api/uploads/upl_1", params, &known); /* tus has its own HEAD */
    assert_string_equal(rt->method, "HEAD");
}

static void test_openapi_lists_every_route_once(void **state)
{
    (void)state;
    json_t *doc = server_openapi_document();
    json_t *paths = json_object_get(doc, "paths");
    size_t ops = 0, routes = 0;
    const char *p;
    json_t *item;
    json_object_foreach(paths, p, item) ops += json_object_size(item);
    for (size_t t = 0; SERVER_ROUTE_TABLES[t]; t++)
        for (const server_route *rt = SERVER_ROUTE_TABLES[t]; rt->method; rt++) routes++;
    assert_int_equal(ops, routes);
    json_t *op = json_object_get(json_object_get(paths, "/api/models/{model_id}"), "delete");
    assert_non_null(op);
    json_t *param = json_array_get(json_object_get(op, "parameters"), 0);
    assert_string_equal(json_string_value(json_object_get(param, "name")), "model_id");
    assert_string_equal(json_string_value(json_object_get(param, "in")), "path");
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_with_params),
        cmocka_unit_test(test_no_match_and_method_not_allowed),
        cmocka_unit_test(test_head_falls_back_to_get),
        cmocka_unit_test(test_openapi_lists_every_route_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
