/*
 * The weight-format cache (nn/wcache.h): its map, and the backend's use of it — converted once,
 * the same outputs as without it, and never used for weights a tape computes.
 */
#include <math.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn/backend.h"
#include "nn/tape.h"
#include "nn/wcache.h"
#include "support/test_random.h"

static void finds_by_pointer_and_format(void **state)
{
    (void)state;
    nn_wcache *wc = nn_wcache_create();
    float w[4] = {1, 2, 3, 4};
    int fmt_a = 1, fmt_b = 2;
    assert_null(nn_wcache_find(wc, w, &fmt_a, sizeof fmt_a));
    float *packed = malloc(sizeof w);
    memcpy(packed, w, sizeof w);
    assert_ptr_equal(nn_wcache_add(wc, w, &fmt_a, sizeof fmt_a, packed, sizeof w), packed);
    assert_ptr_equal(nn_wcache_find(wc, w, &fmt_a, sizeof fmt_a), packed);
    assert_null(nn_wcache_find(wc, w, &fmt_b, sizeof fmt_b)); /* another format of the same weights */
    assert_null(nn_wcache_find(wc, w + 1, &fmt_a, sizeof fmt_a));
    /* a second copy of an entry already there (another thread won the race) is freed, the first kept */
    float *dup = malloc(sizeof w);
    assert_ptr_equal(nn_wcache_add(wc, w, &fmt_a, sizeof fmt_a, dup, sizeof w), packed);
    assert_int_equal(nn_wcache_bytes(wc), sizeof w);
    nn_wcache_free(wc);
}

/* A 1-D convolution (64 → 64, k 3, dilation 3) and a stride-4 transposed one (the HiFi-GAN
 * upsampler's rewrite into phases), channels-first, with and without a cache active. */
static int run_convs(float *y1, float *y2, const float *x, const float *w1, const float *b1, const float *w2,
                     const float *b2, int T)
{
    vc_error err = {0};
    nn_conv_spec c = {.n = 1, .c_in = 64, .c_out = 64, .groups = 1, .in_h = 1, .in_w = T, .kh = 1, .kw = 3,
                      .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 3, .pad_l = 3, .pad_r = 3,
                      .layout = NN_LAYOUT_CHANNELS_FIRST};
    nn_conv_spec u = {.n = 1, .c_in = 64, .c_out = 32, .groups = 1, .in_h = 1, .in_w = T, .kh = 1, .kw = 8,
                      .stride_h = 1, .stride_w = 4, .dil_h = 1, .dil_w = 1, .pad_l = 2, .pad_r = 2, .transposed = 1,
                      .layout = NN_LAYOUT_CHANNELS_LAST};
    return nn_conv(&c, y1, x, w1, b1, 0, &err) || nn_conv(&u, y2, x, w2, b2, 0, &err);
}

static void converted_once_and_same_outputs(void **state)
{
    (void)state;
    const int T = 300;
    float *x = test_random_floats(64 * T, 1), *w1 = test_random_floats(64 * 64 * 3, 2), *b1 = test_random_floats(64, 3);
    float *w2 = test_random_floats(64 * 32 * 8, 4), *b2 = test_random_floats(32, 5);
    float *ref1 = malloc(sizeof(float) * 64 * T), *ref2 = malloc(sizeof(float) * 32 * 4 * T);
    float *y1 = malloc(sizeof(float) * 64 * T), *y2 = malloc(sizeof(float) * 32 * 4 * T);
    assert_int_equal(run_convs(ref1, ref2, x, w1, b1, w2, b2, T), 0);

    nn_wcache *wc = nn_wcache_create();
    nn_wcache_scope scope = nn_wcache_enter(wc);
    assert_int_equal(run_convs(y1, y2, x, w1, b1, w2, b2, T), 0);
    size_t after_first = nn_wcache_bytes(wc);
    assert_true(after_first > 0);
    assert_memory_equal(y1, ref1, sizeof(float) * 64 * T);
    assert_memory_equal(y2, ref2, sizeof(float) * 32 * 4 * T);
    /* Again, and on another length: nothing converted anew (the phases' weights do not depend
     * on the length), the same results. */
    assert_int_equal(run_convs(y1, y2, x, w1, b1, w2, b2, T), 0);
    assert_int_equal(run_convs(y1, y2, x, w1, b1, w2, b2, T / 2), 0);
    assert_int_equal(nn_wcache_bytes(wc), after_first);
    assert_int_equal(run_convs(y1, y2, x, w1, b1, w2, b2, T), 0);
    assert_memory_equal(y1, ref1, sizeof(float) * 64 * T);
    assert_memory_equal(y2, ref2, sizeof(float) * 32 * 4 * T);
    nn_wcache_leave(scope);
    nn_wcache_free(wc);
    free(x); free(w1); free(b1); free(w2); free(b2); free(ref1); free(ref2); free(y1); free(y2);
}

/* A weight the tape computes (weight norm) sits in memory a later tape reuses with other values:
 * the cache must not keep it, or the second tape would convolve with the first tape's weights. */
static void computed_weights_bypass_the_cache(void **state)
{
    (void)state;
    const int T = 50, C = 16, K = 3;
    float *x = test_random_floats((size_t)C * T, 7), *v = test_random_floats((size_t)C * C * K, 8);
    float g1[16], g2[16], out1[16 * 50], out2[16 * 50];
    for (int i = 0; i < C; i++) g1[i] = 1.0f, g2[i] = 2.0f;
    nn_wcache *wc = nn_wcache_create();
    nn_wcache_scope scope = nn_wcache_enter(wc);
    const float *g[2] = {g1, g2};
    float *out[2] = {out1, out2};
    nn_arena *arena = nn_arena_create(0);
    for (int k = 0; k < 2; k++) {
        ag_tape t;
        ag_tape_init_infer(&t, arena);
        int w = ag_weight_norm(&t, ag_param(&t, (float *)g[k], NULL, C, 1, 1, 1), ag_param(&t, v, NULL, C, C, K, 1));
        int y = ag_conv(&t, ag_const(&t, x, 1, C, T, 1), w, -1, &(ag_conv_desc){1, 1, 1, 1, 1, 0, 0.0f});
        assert_true(y >= 0 && ag_ok(&t));
        memcpy(out[k], t.nodes[y].val, sizeof(float) * C * T);
        ag_tape_free(&t);
    }
    for (int i = 0; i < C * T; i++) assert_float_equal(out2[i], 2.0f * out1[i], 1e-4f * (1.0f + fabsf(out2[i])));
    nn_wcache_leave(scope);
    nn_arena_free(arena);
    nn_wcache_free(wc);
    free(x); free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_by_pointer_and_format),
        cmocka_unit_test(converted_once_and_same_outputs),
        cmocka_unit_test(computed_weights_bypass_the_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
