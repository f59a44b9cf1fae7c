/*
 * The bump arena (nn/arena.h) and the tape on it: memory comes back zeroed and aligned, a second
 * "step" of the same sizes reuses the first one's blocks (no new memory), releasing to a mark
 * frees exactly what came after it, and tapes nested on one arena return their memory in order.
 * Inference scopes (ag_scope_keep) keep one value, drop the rest, and change nothing in training.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn/arena.h"
#include "nn/tape.h"

#define MB ((size_t)1 << 20)

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* One "step": a mix of small and block-sized requests, each filled with garbage afterwards. */
static void one_step(nn_arena *a, void **ptrs, const size_t *sizes, int n)
{
    nn_arena_mark start = nn_arena_mark_now(a);
    for (int i = 0; i < n; i++) {
        ptrs[i] = nn_arena_alloc_zero(a, sizes[i]);
        assert_non_null(ptrs[i]);
        assert_int_equal((uintptr_t)ptrs[i] % 64, 0);
        assert_true(all_zero(ptrs[i], sizes[i]));
        memset(ptrs[i], 0xA5, sizes[i]);
    }
    for (int i = 0; i < n; i++) /* no two allocations overlap: each still holds only its own fill */
        for (int j = 0; j < n; j++)
            if (i != j) assert_true((char *)ptrs[i] + sizes[i] <= (char *)ptrs[j] || (char *)ptrs[j] + sizes[j] <= (char *)ptrs[i]);
    nn_arena_release(a, start);
}

static void a_second_step_reuses_the_first_steps_memory(void **state)
{
    (void)state;
    nn_arena *a = nn_arena_create(4 * MB);
    assert_non_null(a);
    const size_t sizes[] = {100, 3 * MB, 1 * MB, 9 * MB, 17, 2 * MB + 5, 64, 5 * MB};
    enum { N = sizeof sizes / sizeof sizes[0] };
    void *first[N], *second[N];
    one_step(a, first, sizes, N);
    size_t reserved = nn_arena_reserved(a), high = nn_arena_high_water(a);
    assert_true(reserved >= 20 * MB);
    one_step(a, second, sizes, N); /* zeroed again although the first step filled it */
    assert_int_equal(nn_arena_reserved(a), reserved);
    assert_int_equal(nn_arena_high_water(a), high);
    for (int i = 0; i < N; i++) assert_ptr_equal(first[i], second[i]);
    nn_arena_free(a);
}

static void release_frees_only_what_came_after_the_mark(void **state)
{
    (void)state;
    nn_arena *a = nn_arena_create(1 * MB);
    char *keep = nn_arena_alloc_zero(a, 600 * 1024);
    memset(keep, 7, 600 * 1024);
    nn_arena_mark m = nn_arena_mark_now(a);
    char *tmp = nn_arena_alloc_zero(a, 300 * 1024);
    char *big = nn_arena_alloc_zero(a, 3 * MB); /* its own block */
    assert_non_null(tmp);
    assert_non_null(big);
    nn_arena_release(a, m);
    char *again = nn_arena_alloc_zero(a, 300 * 1024);
    assert_ptr_equal(again, tmp);
    for (size_t i = 0; i < 600 * 1024; i++) assert_int_equal(keep[i], 7);
    nn_arena_free(a);
}

static void nested_tapes_give_memory_back_in_order(void **state)
{
    (void)state;
    nn_arena *a = nn_arena_create(1 * MB);
    float x[256];
    for (int i = 0; i < 256; i++) x[i] = (float)i - 100.0f;
    for (int step = 0; step < 3; step++) {
        ag_tape outer, inner;
        ag_tape_init_arena(&outer, a);
        int xo = ag_const_copy(&outer, x, 1, 256, 1, 1);
        int yo = ag_relu(&outer, xo);
        nn_arena_mark after_outer = nn_arena_mark_now(a);
        ag_tape_init_arena(&inner, a);
        int xi = ag_const_copy(&inner, x, 1, 256, 1, 1);
        assert_true(ag_scale(&inner, xi, 2.0f) >= 0);
        ag_tape_free(&inner);
        nn_arena_mark back = nn_arena_mark_now(a);
        assert_int_equal(back.block, after_outer.block);
        assert_int_equal(back.used, after_outer.used);
        assert_true(ag_ok(&outer));
        for (int i = 0; i < 256; i++) assert_true(outer.nodes[yo].val[i] == (x[i] > 0 ? x[i] : 0.0f));
        ag_tape_free(&outer);
        assert_int_equal(nn_arena_mark_now(a).used, 0);
    }
    nn_arena_free(a);
}

static void given_back_buffers_are_reused_zeroed(void **state)
{
    (void)state;
    nn_arena *a = nn_arena_create(1 * MB);
    float *g = nn_arena_take_zero(a, 1000 * sizeof(float));
    assert_non_null(g);
    for (int i = 0; i < 1000; i++) g[i] = 3.0f;
    nn_arena_give(a, g, 1000 * sizeof(float));
    size_t held = nn_arena_reserved(a);
    float *again = nn_arena_take_zero(a, 1000 * sizeof(float));
    assert_ptr_equal(again, g);
    assert_true(all_zero((const unsigned char *)again, 1000 * sizeof(float)));
    float *other = nn_arena_take_zero(a, 999 * sizeof(float)); /* rounds to the same 64-byte size */
    assert_ptr_not_equal(other, g);
    assert_true(nn_arena_reserved(a) > held);
    nn_arena_give(a, again, 1000 * sizeof(float));
    nn_arena_give(a, other, 999 * sizeof(float));
    nn_arena_free(a);
}

/* y = Σ tanh(w·x)²: the leaf's gradient with an arena equals the heap tape's, and the walk has
 * given back every inner gradient (only the leaf's, the caller's, remains). */
static void a_tape_on_an_arena_gives_the_same_gradients(void **state)
{
    (void)state;
    enum { N = 70000 }; /* above NN_PAR_MIN: the threaded loops run */
    static float w[N], x[N], g_heap[N], g_arena[N];
    for (int i = 0; i < N; i++) { w[i] = 0.001f * (float)(i % 997) - 0.4f; x[i] = 0.002f * (float)(i % 331) - 0.3f; }
    nn_arena *a = nn_arena_create(1 * MB);
    for (int pass = 0; pass < 2; pass++) {
        ag_tape t;
        if (pass) ag_tape_init_arena(&t, a); else ag_tape_init(&t);
        float *g = pass ? g_arena : g_heap;
        int wi = ag_param(&t, w, g, 1, N, 1, 1);
        int y = ag_tanh(&t, ag_mul(&t, wi, ag_const(&t, x, 1, N, 1, 1)));
        int loss = ag_lsgan(&t, y, 0.0f);
        ag_backward(&t, loss);
        assert_true(ag_ok(&t));
        if (pass)
            for (int i = 1; i < t.count; i++) assert_null(t.nodes[i].grad == g ? NULL : t.nodes[i].grad);
        ag_tape_free(&t);
    }
    assert_memory_equal(g_heap, g_arena, sizeof g_heap);
    nn_arena_free(a);
}

/* A long inference forward in scopes holds only the live values: 50 "layers" of 8 MB nodes. */
static void scopes_keep_inference_memory_flat(void **state)
{
    (void)state;
    nn_arena *a = nn_arena_create(16 * MB);
    ag_tape t;
    ag_tape_init_infer(&t, a);
    enum { N = 2 * (int)MB }; /* floats: 8 MB a node */
    float *ones = malloc(sizeof(float) * N);
    for (int i = 0; i < N; i++) ones[i] = 1.0f;
    int x = ag_const_copy(&t, ones, 1, 1, N, 1);
    ag_scope s = ag_scope_open(&t); /* once: each layer's result replaces the one before */
    for (int layer = 0; layer < 50; layer++) {
        int h = ag_scale(&t, ag_tanh(&t, x), 2.0f); /* two new nodes, then one more */
        x = ag_scope_keep(&t, s, ag_add(&t, h, x));
        assert_true(x >= 0);
        assert_int_equal(x, 1); /* the input and the last kept value: nothing else stays recorded */
    }
    double want = 1.0; /* x ← 2·tanh(x) + x, computed the same way */
    for (int layer = 0; layer < 50; layer++) want = (float)((float)(2.0f * tanhf((float)want)) + (float)want);
    assert_float_equal(t.nodes[x].val[0], (float)want, 1e-3 * want);
    assert_float_equal(t.nodes[x].val[N - 1], (float)want, 1e-3 * want);
    /* peak: input, previous x, tanh, scale, add = 5 nodes; without scopes 151 nodes (1.2 GB) */
    assert_true(nn_arena_reserved(a) <= 5 * 8 * MB + MB);
    ag_tape_free(&t);
    free(ones);
    nn_arena_free(a);
}

/* A kept value written into a buffer from before the scope (an in-place add) stays where it is. */
static void a_kept_in_place_result_stays_in_its_buffer(void **state)
{
    (void)state;
    nn_arena *a = nn_arena_create(MB);
    ag_tape t;
    ag_tape_init_infer(&t, a);
    float v[4] = {1, 2, 3, 4};
    int acc = ag_const_copy(&t, v, 1, 1, 4, 1);
    float *buf = t.nodes[acc].val;
    ag_scope s = ag_scope_open(&t);
    int k = ag_scope_keep(&t, s, ag_add_into(&t, acc, ag_scale(&t, acc, 10.0f)));
    assert_true(k >= 0);
    assert_ptr_equal(t.nodes[k].val, buf);
    assert_float_equal(t.nodes[k].val[3], 44.0f, 0);
    ag_tape_free(&t);
    nn_arena_free(a);
}

/* With gradients (training), even on an inference tape, a scope changes nothing: backward needs every node. */
static void scopes_change_nothing_in_training(void **state)
{
    (void)state;
    nn_arena *a = nn_arena_create(MB);
    ag_tape t;
    ag_tape_init_arena(&t, a);
    float w[3] = {0.5f, -1.0f, 2.0f}, gw[3] = {0};
    t.infer = 1;
    int p = ag_param(&t, w, gw, 1, 1, 3, 1);
    ag_scope s = ag_scope_open(&t);
    int y = ag_tanh(&t, ag_scale(&t, p, 3.0f));
    int count = t.count;
    assert_int_equal(ag_scope_keep(&t, s, y), y);
    assert_int_equal(t.count, count);
    ag_backward(&t, ag_lsgan(&t, y, 0.0f));
    assert_true(ag_ok(&t));
    assert_true(gw[0] != 0.0f && gw[2] != 0.0f);
    ag_tape_free(&t);
    nn_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_second_step_reuses_the_first_steps_memory),
        cmocka_unit_test(release_frees_only_what_came_after_the_mark),
        cmocka_unit_test(nested_tapes_give_memory_back_in_order),
        cmocka_unit_test(given_back_buffers_are_reused_zeroed),
        cmocka_unit_test(a_tape_on_an_arena_gives_the_same_gradients),
        cmocka_unit_test(scopes_keep_inference_memory_flat),
        cmocka_unit_test(a_kept_in_place_result_stays_in_its_buffer),
        cmocka_unit_test(scopes_change_nothing_in_training),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
