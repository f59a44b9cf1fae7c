/* Weight loaders: real layouts load exactly, hostile files are refused or stay inert. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/bind.h"
#include "nn/weights.h"

static const char *root(void)
{
    const char *r = getenv("VCS_TEST_ROOT");
    return r ? r : ".";
}

static nn_weights *open_ok(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root(), rel);
    nn_weights *w = NULL;
    vc_error err;
    if (nn_weights_open(path, &w, &err) != 0) fail_msg("%s: %s", path, err.message);
    return w;
}

static void safetensors_loads_every_tensor(void **state)
{
    nn_weights *w = open_ok("tests/golden/f5tts/tiny/weights.safetensors");
    const nn_tensor *t = nn_weights_get(w, "ema_model.transformer.proj_out.weight");
    assert_non_null(t);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 100);
    assert_int_equal(nn_weights_get(w, "step")->dtype, NN_I64);
    vc_error err;
    const nn_tensor *out;
    assert_int_equal(nn_weights_require(w, "ema_model.transformer.proj_out.weight", 2, (int64_t[]){100, 32}, &out, &err), -1);
    assert_non_null(strstr(err.message, "[100, 64]")); /* names both shapes */
    assert_non_null(strstr(err.message, "[100, 32]"));
    nn_weights_free(w);
}

static void pytorch_zip_equals_safetensors_bit_for_bit(void **state)
{
    nn_weights *a = open_ok("tests/golden/f5tts/tiny/pytorch_model.bin");
    nn_weights *b = open_ok("tests/golden/f5tts/tiny/vocos.safetensors");
    assert_int_equal(nn_weights_count(a), nn_weights_count(b));
    for (size_t i = 0; i < nn_weights_count(a); i++) {
        const char *name = nn_weights_name(a, i);
        const nn_tensor *x = nn_weights_get(a, name), *y = nn_weights_get(b, name);
        assert_non_null(y);
        assert_int_equal(x->ndim, y->ndim);
        size_t n = 1;
        for (int d = 0; d < x->ndim; d++) { assert_int_equal(x->shape[d], y->shape[d]); n *= (size_t)x->shape[d]; }
        assert_memory_equal(x->data, y->data, n * sizeof(float));
    }
    nn_weights_free(a);
    nn_weights_free(b);
}

static void binder_reports_the_first_missing_tensor(void **state)
{
    nn_weights *w = open_ok("tests/golden/f5tts/tiny/vocos.safetensors");
    vc_error err;
    nn_binder b = {.weights = w, .prefix = "backbone.", .err = &err};
    assert_non_null(nn_bind(&b, NN_SHAPE(64), "norm.weight"));
    assert_null(nn_bind(&b, NN_SHAPE(64), "no_such.weight"));
    assert_null(nn_bind(&b, NN_SHAPE(64), "norm.bias")); /* after a failure: no-op */
    assert_true(b.failed);
    assert_non_null(strstr(err.message, "backbone.no_such.weight"));
    nn_weights_free(w);
}

/* Every hostile file: a clean error, or (evil call inside a dict) inert metadata; no file appears. */
static void hostile_files_never_run_code(void **state)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/nn/fixtures/hostile", root());
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int seen = 0;
    unlink("/tmp/vcs-pwned");
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        nn_weights *w = NULL;
        vc_error err = {0};
        int rc = nn_weights_open(path, &w, &err);
        if (!strcmp(e->d_name, "pt_evil_in_dict.pt")) {
            assert_int_equal(rc, 0);
            assert_int_equal(nn_weights_count(w), 0);
            const json_t *x = json_object_get(nn_weights_meta(w), "x");
            assert_non_null(json_object_get(x, "__class__")); /* kept as data, never called */
            nn_weights_free(w);
        } else {
            if (rc == 0) fail_msg("%s was accepted", e->d_name);
            assert_int_equal(err.code == VC_ERR_INVALID_FORMAT || err.code == VC_ERR_NOMEM, 1);
            assert_true(strlen(err.message) > 0);
        }
        seen++;
    }
    closedir(d);
    assert_true(seen >= 14);
    assert_int_equal(access("/tmp/vcs-pwned", F_OK), -1);
}

static void missing_and_empty_files_are_errors(void **state)
{
    nn_weights *w;
    vc_error err;
    assert_int_equal(nn_weights_open("/nonexistent/model.safetensors", &w, &err), -1);
    assert_int_equal(err.code, VC_ERR_NOT_FOUND);
    FILE *f = fopen("/tmp/vcs-empty.safetensors", "wb");
    fclose(f);
    assert_int_equal(nn_weights_open("/tmp/vcs-empty.safetensors", &w, &err), -1);
    assert_int_equal(err.code, VC_ERR_INVALID_FORMAT);
    unlink("/tmp/vcs-empty.safetensors");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(safetensors_loads_every_tensor), cmocka_unit_test(pytorch_zip_equals_safetensors_bit_for_bit),
        cmocka_unit_test(binder_reports_the_first_missing_tensor), cmocka_unit_test(hostile_files_never_run_code),
        cmocka_unit_test(missing_and_empty_files_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
