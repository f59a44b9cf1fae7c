/*
 * No server path in an error body (issue 17, audit #18): server_scrub_error_body, which
 * server_reply_error runs on every error it sends, cleans every string field (message,
 * user_message, extra fields, nested ones) of the data root and of any other absolute path
 * (base/scrub.c), and keeps the API endpoints and URLs that messages name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/fs.h"
#include "server/server.h"

typedef struct fixture {
    char dir[64];
    server_app app;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/vcs-scrub-XXXXXX");
    vc_error err;
    if (!mkdtemp(f->dir) || store_open(&f->app.store, f->dir, &err)) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->app.store);
    vc_remove_tree(f->dir, NULL);
    free(f);
    return 0;
}

static void assert_no_path(const char *text, const char *root)
{
    if (strstr(text, root)) fail_msg("the data root is still there: %s", text);
    if (strstr(text, "/tmp/vcs")) fail_msg("a /tmp path is still there: %s", text); /* "uploads/tmp/" is relative */
    if (strstr(text, "/opt/")) fail_msg("a weights folder is still there: %s", text);
}

static void every_field_loses_its_paths(void **state)
{
    fixture *f = *state;
    char msg[300], um[300];
    snprintf(msg, sizeof msg, "cannot open %s/uploads/tmp/x.part: No such file", f->dir);
    snprintf(um, sizeof um, "This file cannot be used: cannot open %s/audio/a.wav: gone. Upload a WAV.", f->dir);
    json_t *body = json_pack("{s:s, s:s, s:s, s:{s:s}, s:[s]}", "message", msg, "user_message", um, "detail",
                             "loading '/opt/weights/hubert_base.safetensors' failed", "nested", "why",
                             "see (/var/tmp/vcs-1/cache/model.pth)", "list", "/tmp/vcs-x/model.index: short");
    server_scrub_error_body(&f->app, body);
    char *text = json_dumps(body, JSON_COMPACT);
    assert_no_path(text, f->dir);
    assert_no_path(text, "/var/tmp");
    /* what is left still says which file */
    assert_string_equal(json_string_value(json_object_get(body, "message")), "cannot open uploads/tmp/x.part: No such file");
    assert_non_null(strstr(json_string_value(json_object_get(body, "user_message")), "cannot open audio/a.wav: gone"));
    assert_string_equal(json_string_value(json_object_get(body, "detail")), "loading 'hubert_base.safetensors' failed");
    assert_string_equal(json_string_value(json_object_get(json_object_get(body, "nested"), "why")), "see (model.pth)");
    assert_string_equal(json_string_value(json_array_get(json_object_get(body, "list"), 0)), "model.index: short");
    free(text);
    json_decref(body);
}

static void endpoints_urls_and_units_stay(void **state)
{
    fixture *f = *state;
    const char *keep[] = {
        "delete one (DELETE /api/uploads/{id}) and try again",
        "open http://studio.lan:8000/settings instead",
        "send Content-Type: multipart/form-data at 48000 samples/s",
        "a 1/2 second gap",
        "the root folder / is not writable",
    };
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
        char buf[200];
        snprintf(buf, sizeof buf, "%s", keep[i]);
        server_scrub_paths(&f->app, buf);
        assert_string_equal(buf, keep[i]);
    }
}

/* A data root with spaces ("/tmp/vcs scrub X/my studio data"): replaced whole wherever it occurs,
 * whatever follows it (a '/', a sentence's '.', ',', ')', ']', a newline, the end), never cut at
 * a space by the generic rule; a sibling folder that extends its name is another folder. */
static int setup_spaces(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/vcs scrub XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    strcat(f->dir, "/my studio data");
    vc_error err;
    if (vc_mkdirs(f->dir, &err) || store_open(&f->app.store, f->dir, &err)) return -1;
    *state = f;
    return 0;
}

static int teardown_spaces(void **state)
{
    fixture *f = *state;
    *strrchr(f->dir, '/') = '\0';
    return teardown(state);
}

static void a_data_root_with_spaces_goes_whole(void **state)
{
    fixture *f = *state;
    static const struct { const char *fmt, *want; } cases[] = {
        {"cannot open %s/uploads/a b.wav: gone", "cannot open uploads/a b.wav: gone"},
        {"the disk under %s. is full", "the disk under the data folder. is full"},
        {"no space left in %s, free some", "no space left in the data folder, free some"},
        {"(see %s)", "(see the data folder)"},
        {"[%s]", "[the data folder]"},
        {"%s\nretry", "the data folder\nretry"},
        {"'%s/models/m 1/model.pth' failed", "'models/m 1/model.pth' failed"},
        {"writing %s", "writing the data folder"},
        {"%s/a and %s/b differ", "a and b differ"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char buf[600];
        snprintf(buf, sizeof buf, cases[i].fmt, f->dir, f->dir);
        server_scrub_paths(&f->app, buf);
        if (strstr(buf, "studio data") || strstr(buf, "vcs scrub")) fail_msg("the data root leaks: %s", buf);
        assert_string_equal(buf, cases[i].want);
    }
    /* a sibling whose name extends the root's is not inside it (the generic rule then cuts it) */
    char buf[600];
    snprintf(buf, sizeof buf, "open %s2/x.wav", f->dir);
    server_scrub_paths(&f->app, buf);
    assert_null(strstr(buf, "uploads"));
    assert_non_null(strstr(buf, "data2/x.wav"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_field_loses_its_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(endpoints_urls_and_units_stay, setup, teardown),
        cmocka_unit_test_setup_teardown(a_data_root_with_spaces_goes_whole, setup_spaces, teardown_spaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
