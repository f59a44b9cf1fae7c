/*
 * Router and OpenAPI unit tests (in-process, no sockets): pattern matching with parameters,
 * trailing slashes, 405 detection, HEAD → GET fallback, and the generated OpenAPI document
 * listing each route exactly once with its path parameters, and every route documenting its bodies;
 * a schema text that does not parse fails the document's build, naming where it is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "server/server.h"
#include "support/test_routes.h"

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
    vc_error err;
    json_t *doc = server_openapi_document(&err);
    if (!doc) fail_msg("%s", err.message);
    json_t *paths = json_object_get(doc, "paths");
    size_t ops = 0, routes = 0;
    const char *p;
    json_t *item;
    json_object_foreach(paths, p, item) ops += json_object_size(item);
    for (size_t t = 0; SERVER_ROUTE_TABLES[t]; t++)
        for (const server_route *rt = SERVER_ROUTE_TABLES[t]; rt->method; rt++) routes++;
    assert_int_equal(ops, routes + test_routes_implicit_heads());
    /* URL-safe, unique operationIds; servers; the error schema */
    json_t *seen = json_object();
    json_object_foreach(paths, p, item) {
        const char *m;
        json_t *o;
        json_object_foreach(item, m, o) {
            const char *id = json_string_value(json_object_get(o, "operationId"));
            assert_non_null(id);
            for (const char *c = id; *c; c++) assert_true((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_');
            assert_null(json_object_get(seen, id));
            json_object_set_new(seen, id, json_true());
            assert_non_null(json_object_get(json_object_get(o, "responses"), "405")); /* the guard's answers */
        }
    }
    json_decref(seen);
    assert_true(json_array_size(json_object_get(doc, "servers")) >= 1);
    assert_non_null(json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), "Error"));
    json_t *op = json_object_get(json_object_get(paths, "/api/models/{model_id}"), "delete");
    assert_non_null(op);
    json_t *param = json_array_get(json_object_get(op, "parameters"), 0);
    assert_string_equal(json_string_value(json_object_get(param, "name")), "model_id");
    assert_string_equal(json_string_value(json_object_get(param, "in")), "path");
    json_decref(doc);
}

/* Every route documents its bodies (the contract, docs/API.md): a JSON or form body has a request
 * schema, a success answer with a body has a response schema or media type, and every schema
 * text is JSON. Fails fast, naming the route, before the contract test (tests/contract) runs. */
static void test_every_route_documents_its_bodies(void **state)
{
    (void)state;
    for (size_t t = 0; SERVER_ROUTE_TABLES[t]; t++)
        for (const server_route *rt = SERVER_ROUTE_TABLES[t]; rt->method; rt++) {
            int json_or_form = rt->request_type && (strstr(rt->request_type, "json") || strstr(rt->request_type, "form-data"));
            if (json_or_form && !rt->request_schema) fail_msg("%s %s: no request_schema", rt->method, rt->pattern);
            if (rt->body == SERVER_BODY_BUFFER && !rt->request_schema)
                fail_msg("%s %s: takes a JSON body but documents no request_schema", rt->method, rt->pattern);
            const char *texts[] = {rt->request_schema, rt->response_schema};
            for (int i = 0; i < 2; i++) {
                json_error_t jerr;
                json_t *j = texts[i] ? json_loads(texts[i], 0, &jerr) : NULL;
                if (texts[i] && !j) fail_msg("%s %s: schema is not JSON: %s", rt->method, rt->pattern, jerr.text);
                json_decref(j);
            }
            /* a 200/202/206 answer has a body: JSON with its schema, or another media type */
            int body_answer = rt->responses && (strstr(rt->responses, "200") || strstr(rt->responses, "202"));
            if (body_answer && strcmp(rt->method, "HEAD") && !rt->response_schema && !rt->response_type)
                fail_msg("%s %s: answers with a body but documents neither response_schema nor response_type", rt->method,
                         rt->pattern);
        }
    const server_schema *const tables[] = {SERVER_SCHEMAS, SERVER_JOB_SCHEMAS};
    for (size_t t = 0; t < 2; t++)
        for (const server_schema *s = tables[t]; s->name; s++) {
            json_t *j = json_loads(s->schema, 0, NULL);
            if (!j) fail_msg("components.schemas.%s is not JSON", s->name);
            json_decref(j);
        }
}

static int no_handler(server_request *r)
{
    (void)r;
    return 0;
}

/* A table with one broken schema text: the build fails and says which route and field (or which
 * components.schemas entry), instead of a document quietly missing that schema. The same tables
 * with the text repaired build, with the schema in place. */
static void test_a_schema_that_does_not_parse_fails_the_document(void **state)
{
    (void)state;
    static const server_schema GOOD_SCHEMAS[] = {{"Thing", SERVER_SCHEMA({"type": "object"})}, {0}};
    static const server_schema BAD_SCHEMAS[] = {{"Thing", SERVER_SCHEMA({"type": "object"})}, {"Broken", "{\"type\": \"object\",}"}, {0}};
    const server_schema *const good_schemas[] = {GOOD_SCHEMAS, NULL}, *const bad_schemas[] = {BAD_SCHEMAS, NULL};
    static const server_route GOOD[] = {
        {.method = "POST", .pattern = "/api/things", .handle = no_handler, .body = SERVER_BODY_BUFFER, .responses = "201",
         .request_type = "application/json", .request_schema = SERVER_SCHEMA({"type": "object"}),
         .response_schema = SERVER_SCHEMA({"$ref": "#/components/schemas/Thing"})},
        {0}};
    static const server_route BAD_RESPONSE[] = {
        {.method = "GET", .pattern = "/api/things/{thing_id}", .handle = no_handler, .responses = "200",
         .response_schema = "{\"type\": \"object\", \"properties\": {\"name\": {\"type\": \"string\"}}"}, /* one } short */
        {0}};
    static const server_route BAD_REQUEST[] = {
        {.method = "PATCH", .pattern = "/api/things/{thing_id}", .handle = no_handler, .body = SERVER_BODY_BUFFER,
         .responses = "200", .request_type = "application/json", .request_schema = "{type: object}",
         .response_schema = SERVER_SCHEMA({"type": "object"})},
        {0}};
    const server_route *const good[] = {GOOD, NULL}, *const bad_response[] = {GOOD, BAD_RESPONSE, NULL},
                              *const bad_request[] = {BAD_REQUEST, GOOD, NULL};
    vc_error err;
    json_t *doc = server_openapi_build(good, good_schemas, &err);
    if (!doc) fail_msg("%s", err.message);
    json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"), "/api/things"), "post");
    assert_non_null(json_object_get(json_object_get(json_object_get(op, "requestBody"), "content"), "application/json"));
    json_t *ok = json_object_get(json_object_get(json_object_get(op, "responses"), "201"), "content");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(ok, "application/json"), "schema"), "$ref")),
                        "#/components/schemas/Thing");
    assert_non_null(json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), "Thing"));
    json_decref(doc);

    assert_null(server_openapi_build(bad_response, good_schemas, &err));
    assert_int_equal(err.code, VC_ERR_INTERNAL);
    if (!strstr(err.message, "GET /api/things/{thing_id}") || !strstr(err.message, "response_schema"))
        fail_msg("the message does not name the route and field: %s", err.message);
    assert_null(server_openapi_build(bad_request, good_schemas, &err));
    if (!strstr(err.message, "PATCH /api/things/{thing_id}") || !strstr(err.message, "request_schema"))
        fail_msg("the message does not name the route and field: %s", err.message);
    assert_null(server_openapi_build(good, bad_schemas, &err));
    if (!strstr(err.message, "components.schemas.Broken")) fail_msg("the message does not name the schema: %s", err.message);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_with_params),
        cmocka_unit_test(test_no_match_and_method_not_allowed),
        cmocka_unit_test(test_head_falls_back_to_get),
        cmocka_unit_test(test_openapi_lists_every_route_once),
        cmocka_unit_test(test_every_route_documents_its_bodies),
        cmocka_unit_test(test_a_schema_that_does_not_parse_fails_the_document),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
