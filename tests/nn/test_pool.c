/*
 * The engine's thread pool (nn/pool.h): every index is run exactly once whatever the thread
 * count, and the pool forms of the ops give bit-identical results to the serial ones for 1, 2
 * and 3 threads (the determinism the engine promises).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn/layers.h"
#include "nn/pool.h"

static float *random_floats(size_t n, unsigned seed)
{
    float *x = malloc(sizeof(float) * n);
    unsigned long long s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = 8.0f * ((float)(s >> 40) / 16777216.0f - 0.5f);
    }
    return x;
}

static void count_range(void *ctx, int begin, int end)
{
    int *hits = ctx;
    for (int i = begin; i < end; i++) __atomic_add_fetch(&hits[i], 1, __ATOMIC_RELAXED);
}

static void every_index_runs_once(void **state)
{
    for (int threads = 1; threads <= 4; threads++) {
        nn_pool *p = NULL;
        vc_error err;
        assert_int_equal(nn_pool_create(&p, threads, &err), 0);
        assert_int_equal(nn_pool_threads(p), threads);
        for (int n = 0; n < 40; n++) {
            int hits[40] = {0};
            for (int rep = 0; rep < 50; rep++) nn_pool_for(p, n, 1, count_range, hits);
            for (int i = 0; i < n; i++) assert_int_equal(hits[i], 50);
        }
        nn_pool_free(p);
    }
}

static void pool_ops_equal_serial_ops_bitwise(void **state)
{
    const int rows = 301, cols = 257, heads = 4, dh = 16, T = 97;
    for (int threads = 1; threads <= 3; threads++) {
        nn_pool *p = NULL;
        vc_error err;
        assert_int_equal(nn_pool_create(&p, threads, &err), 0);
        float *x = random_floats((size_t)rows * cols, 1), *a = malloc(sizeof(float) * rows * cols), *b = malloc(sizeof(float) * rows * cols);
        float *g = random_floats(cols, 2), *be = random_floats(cols, 3);
        nn_layer_norm(a, x, rows, cols, g, be, 1e-6f);
        nn_layer_norm_par(p, b, x, rows, cols, g, be, 1e-6f);
        assert_memory_equal(a, b, sizeof(float) * rows * cols);
        memcpy(a, x, sizeof(float) * rows * cols); memcpy(b, x, sizeof(float) * rows * cols);
        nn_softmax_rows(a, rows, cols);
        nn_softmax_rows_par(p, b, rows, cols);
        assert_memory_equal(a, b, sizeof(float) * rows * cols);
        memcpy(a, x, sizeof(float) * rows * cols); memcpy(b, x, sizeof(float) * rows * cols);
        nn_gelu_tanh(a, (size_t)rows * cols);
        nn_apply_par(p, nn_gelu_tanh, b, (size_t)rows * cols);
        assert_memory_equal(a, b, sizeof(float) * rows * cols);
        float *q = random_floats((size_t)T * heads * dh, 4), *k = random_floats((size_t)T * heads * dh, 5), *v = random_floats((size_t)T * heads * dh, 6);
        float *o1 = malloc(sizeof(float) * T * heads * dh), *o2 = malloc(sizeof(float) * T * heads * dh);
        float *scratch = malloc(sizeof(float) * nn_attention_scratch(T, dh));
        nn_attention(o1, q, k, v, T, heads, dh, 0.25f, scratch);
        nn_attention_par(p, o2, q, k, v, T, heads, dh, 0.25f, scratch);
        assert_memory_equal(o1, o2, sizeof(float) * T * heads * dh);
        free(x); free(a); free(b); free(g); free(be); free(q); free(k); free(v); free(o1); free(o2); free(scratch);
        nn_pool_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_index_runs_once),
        cmocka_unit_test(pool_ops_equal_serial_ops_bitwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
