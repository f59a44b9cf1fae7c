/*
 * pth_write: what we write, our own restricted reader (nn_weights_open) reads back exactly:
 * nested containers, strings, ints (small and 64-bit), floats, fp16 and fp32 tensors; the
 * archive is a stored zip with 64-byte aligned records; misuse is an error, not a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/pth_write.h"
#include "nn/weights.h"

static void write_sample(const char *path, const float *a, const float *b)
{
    nn_pth *p = nn_pth_new();
    assert_non_null(p);
    nn_pth_dict(p, 1);
    nn_pth_str(p, "weight");
    nn_pth_dict(p, 0);
    nn_pth_str(p, "a.weight");
    nn_pth_tensor(p, a, 2, (const int64_t[]){2, 3}, 1);
    nn_pth_str(p, "b");
    nn_pth_tensor(p, b, 1, (const int64_t[]){4}, 0);
    nn_pth_end(p);
    nn_pth_str(p, "config");
    nn_pth_list(p);
    nn_pth_int(p, 1025);
    nn_pth_str(p, "1");
    nn_pth_list(p);
    nn_pth_int(p, -7);
    nn_pth_int(p, 5000000000ll);
    nn_pth_end(p);
    nn_pth_end(p);
    nn_pth_str(p, "lr");
    nn_pth_float(p, 0.25);
    nn_pth_str(p, "sr");
    nn_pth_str(p, "48k");
    nn_pth_end(p);
    vc_error err = {0};
    if (nn_pth_save(p, path, "archive", &err)) fail_msg("%s", err.message);
    nn_pth_free(p);
}

static void round_trips_through_our_reader(void **state)
{
    char path[] = "/tmp/vcs-pth-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    const float a[6] = {0.1f, -2.5f, 3.0f, 1e-3f, 65504.0f, -0.0f}, b[4] = {1.5f, -1e-8f, 3.25f, 7.0f};
    write_sample(path, a, b);
    nn_weights *w = NULL;
    vc_error err = {0};
    if (nn_weights_open(path, &w, &err)) fail_msg("%s", err.message);
    const nn_tensor *ta = nn_weights_get(w, "weight.a.weight"), *tb = nn_weights_get(w, "weight.b");
    assert_non_null(ta);
    assert_non_null(tb);
    assert_int_equal(ta->ndim, 2);
    assert_int_equal(ta->shape[1], 3);
    for (int i = 0; i < 6; i++) assert_true(((float *)ta->data)[i] == _cvtsh_ss(_cvtss_sh(a[i], 0)));
    assert_memory_equal(tb->data, b, sizeof b);
    char *meta = json_dumps(nn_weights_meta(w), JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(meta, "{\"config\":[1025,\"1\",[-7,5000000000]],\"lr\":0.25,\"sr\":\"48k\"}");
    free(meta);
    nn_weights_free(w);
    unlink(path);
}

/* Every record's data starts on a 64-byte boundary (local header + name + extra). */
static void records_are_aligned(void **state)
{
    char path[] = "/tmp/vcs-pth-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    const float a[6] = {0}, b[4] = {0};
    write_sample(path, a, b);
    FILE *f = fopen(path, "rb");
    unsigned char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    int records = 0;
    for (size_t i = 0; i + 30 < n; i++)
        if (buf[i] == 'P' && buf[i + 1] == 'K' && buf[i + 2] == 3 && buf[i + 3] == 4) {
            size_t data = i + 30 + (buf[i + 26] | buf[i + 27] << 8) + (buf[i + 28] | buf[i + 29] << 8);
            assert_int_equal(data % 64, 0);
            records++;
        }
    assert_int_equal(records, 4); /* data.pkl, data/0, data/1, version */
    unlink(path);
}

static void unbalanced_or_unwritable_fails(void **state)
{
    vc_error err = {0};
    nn_pth *p = nn_pth_new();
    nn_pth_dict(p, 0);
    assert_int_equal(nn_pth_save(p, "/tmp/vcs-never.pth", "archive", &err), -1);
    nn_pth_end(p);
    assert_int_equal(nn_pth_save(p, "/nonexistent-dir/x.pth", "archive", &err), -1);
    assert_int_equal(err.code, VC_ERR_IO);
    nn_pth_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips_through_our_reader),
        cmocka_unit_test(records_are_aligned),
        cmocka_unit_test(unbalanced_or_unwritable_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
