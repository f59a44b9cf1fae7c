/*
 * The bump arena (nn/arena.h) and the tape on it: memory comes back zeroed and aligned, a second
 * "step" of the same sizes reuses the first one's blocks (no new memory), releasing to a mark
 * frees exactly what came after it, and tapes nested on one arena return their memory in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_second_step_reuses_the_first_steps_memory),
        cmocka_unit_test(release_frees_only_what_came_after_the_mark),
        cmocka_unit_test(nested_tapes_give_memory_back_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
