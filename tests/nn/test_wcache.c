/*
 * The weight-format cache (nn/wcache.h): its map, and the backend's use of it — converted once,
 * the same outputs as without it, and never used for weights a tape computes.
 */
#include <math.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "nn/backend.h"
#include "nn/layers.h"
#include "nn/tape.h"
#include "nn/wcache.h"
#include "support/test_random.h"

static void finds_by_pointer_and_format(void **state)
{
    (void)state;
    nn_wcache *wc = nn_wcache_create(NULL);
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

    nn_wcache *wc = nn_wcache_create(NULL);
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
    nn_wcache *wc = nn_wcache_create(NULL);
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

/* A linear layer with a cache active: its weight is converted once into the matmul kernel's
 * blocked format (fp32 when the weight lies in the model's mapped file, never for a heap weight,
 * which would be held twice; bf16 always, half the bytes), later calls reuse it, and the product
 * matches the exact one (fp32: as closely as the plain GEMM; bf16: within its rounding). */
static double rel_error(const float *y, const double *ref, size_t n)
{
    double e = 0, r = 0;
    for (size_t i = 0; i < n; i++) e += (y[i] - ref[i]) * (y[i] - ref[i]), r += ref[i] * ref[i];
    return sqrt(e / r);
}

static void linear_weights_converted_once(void **state)
{
    (void)state;
    enum { ROWS = 64, IN = 256, OUT = 128 };
    float *x = test_random_floats(ROWS * IN, 11), *w = test_random_floats(OUT * IN, 12), *b = test_random_floats(OUT, 13);
    float *plain = malloc(sizeof(float) * ROWS * OUT), *y1 = malloc(sizeof(float) * ROWS * OUT),
          *y2 = malloc(sizeof(float) * ROWS * OUT);
    double *ref = malloc(sizeof(double) * ROWS * OUT);
    for (int r = 0; r < ROWS; r++)
        for (int o = 0; o < OUT; o++) {
            double acc = b[o];
            for (int i = 0; i < IN; i++) acc += (double)x[r * IN + i] * w[o * IN + i];
            ref[r * OUT + o] = acc;
        }
    nn_ctx *c = nn_ctx_current();
    nn_precision was = c->precision;
    nn_wcache *wc = nn_wcache_create(NULL);

    c->precision = NN_PREC_FP32;
    nn_linear(plain, x, w, b, ROWS, IN, OUT); /* no cache: the plain GEMM */
    nn_wcache_scope scope = nn_wcache_enter(wc);
    nn_linear(y1, x, w, b, ROWS, IN, OUT); /* w is a heap weight: the plain GEMM, nothing kept */
    assert_int_equal(nn_wcache_bytes(wc), 0);
    assert_memory_equal(y1, plain, sizeof(float) * ROWS * OUT);
    nn_wcache_set_source_map(wc, w, sizeof(float) * OUT * IN); /* as if mapped from its file */
    nn_linear(y1, x, w, b, ROWS, IN, OUT);
    size_t f32_bytes = nn_wcache_bytes(wc);
    assert_true(f32_bytes >= sizeof(float) * OUT * IN);
    nn_linear(y2, x, w, b, ROWS, IN, OUT);
    assert_int_equal(nn_wcache_bytes(wc), f32_bytes);
    assert_memory_equal(y2, y1, sizeof(float) * ROWS * OUT);
    assert_true(rel_error(y1, ref, ROWS * OUT) < 1e-5);

    c->precision = NN_PREC_BF16;
    nn_linear(y1, x, w, b, ROWS, IN, OUT);
    size_t first = nn_wcache_bytes(wc) - f32_bytes;
    if (c->be->has_bf16(c)) {
        assert_true(first >= sizeof(uint16_t) * OUT * IN && first < sizeof(float) * OUT * IN);
    } else {
        print_message("no bf16 kernels on this CPU: the fp32 GEMM ran, nothing more cached\n");
        assert_int_equal(first, 0);
    }
    nn_linear(y2, x, w, b, ROWS, IN, OUT);
    assert_int_equal(nn_wcache_bytes(wc) - f32_bytes, first);
    assert_memory_equal(y2, y1, sizeof(float) * ROWS * OUT);
    assert_true(rel_error(y1, ref, ROWS * OUT) < 1e-2);
    assert_true(rel_error(plain, ref, ROWS * OUT) < 1e-5);

    nn_wcache_leave(scope);
    c->precision = was;
    nn_wcache_free(wc);
    free(x); free(w); free(b); free(plain); free(y1); free(y2); free(ref);
}

/* Releasing a converted weight's source pages never changes what they hold: heap weights (which
 * MADV_DONTNEED would zero) and weights mapped from a file (read again from it). */
static void mapped_range_is_exact(void **state)
{
    (void)state;
    nn_wcache *wc = nn_wcache_create(NULL);
    char file[4096];
    assert_false(nn_wcache_source_mapped(wc, file, 16)); /* no map set */
    nn_wcache_set_source_map(wc, file + 100, 1000);
    assert_true(nn_wcache_source_mapped(wc, file + 100, 1000));
    assert_true(nn_wcache_source_mapped(wc, file + 600, 500));
    assert_false(nn_wcache_source_mapped(wc, file + 600, 501)); /* runs past the end */
    assert_false(nn_wcache_source_mapped(wc, file + 99, 10));   /* starts before it */
    assert_false(nn_wcache_source_mapped(wc, file + 1200, 4));
    nn_wcache_free(wc);
}

static void released_sources_keep_their_contents(void **state)
{
    (void)state;
    enum { N = 1 << 20 };
    float *heap = test_random_floats(N, 21), *copy = malloc(sizeof(float) * N);
    memcpy(copy, heap, sizeof(float) * N);
    nn_wcache_release_source(heap, sizeof(float) * N);
    assert_memory_equal(heap, copy, sizeof(float) * N);

    char path[] = "/tmp/vcs-wcache-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, copy, sizeof(float) * N), (ssize_t)(sizeof(float) * N));
    const float *mapped = mmap(NULL, sizeof(float) * N, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    unlink(path);
    assert_true(mapped != MAP_FAILED);
    assert_memory_equal(mapped, copy, sizeof(float) * N);
    nn_wcache_release_source(mapped + 3, sizeof(float) * (N - 7)); /* unaligned ends: only whole pages go */
    assert_memory_equal(mapped, copy, sizeof(float) * N);
    munmap((void *)mapped, sizeof(float) * N);
    free(heap);
    free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_by_pointer_and_format),
        cmocka_unit_test(converted_once_and_same_outputs),
        cmocka_unit_test(computed_weights_bypass_the_cache),
        cmocka_unit_test(linear_weights_converted_once),
        cmocka_unit_test(released_sources_keep_their_contents),
        cmocka_unit_test(mapped_range_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
