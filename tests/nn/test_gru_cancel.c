/*
 * The bidirectional GRU polls its cancel hook inside the recurrence
 * (nn_gru_bidirectional_cancellable: every NN_GRU_POLL_STEPS steps of each direction), so RMVPE's
 * head, 8192 sequential steps over a 41 s window, stops within a few milliseconds of a request.
 * Random weights: a hook that never asks gives bit-identical output to nn_gru_bidirectional and is
 * asked 2 · ceil(T / NN_GRU_POLL_STEPS) times; a request at poll k ends the call there with
 * VC_ERR_CANCELLED; a request at the reverse direction's first poll finds the forward direction
 * complete, and one a poll later finds exactly NN_GRU_POLL_STEPS reverse steps done.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn/sequence.h"

#define T_STEPS 150 /* not a multiple of NN_GRU_POLL_STEPS: the last chunk is short */
#define N_IN 5
#define HID 8

typedef struct poll { int calls, stop_at; } poll;

static int asked(void *ctx)
{
    poll *p = ctx;
    return ++p->calls >= p->stop_at;
}

static float *random_floats(size_t n, unsigned *seed)
{
    float *x = malloc(sizeof(float) * n);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        x[i] = ((float)(*seed >> 8) / (float)(1u << 24) - 0.5f) * 0.8f;
    }
    return x;
}

typedef struct gru_case {
    float *x, *w[8], *ref, *out;
    nn_gru_weights dir[2];
} gru_case;

static void case_new(gru_case *c)
{
    unsigned seed = 7;
    c->x = random_floats((size_t)T_STEPS * N_IN, &seed);
    for (int d = 0; d < 2; d++) {
        float **w = c->w + 4 * d;
        w[0] = random_floats(3 * HID * N_IN, &seed);
        w[1] = random_floats(3 * HID * HID, &seed);
        w[2] = random_floats(3 * HID, &seed);
        w[3] = random_floats(3 * HID, &seed);
        c->dir[d] = (nn_gru_weights){w[0], w[1], w[2], w[3]};
    }
    c->ref = malloc(sizeof(float) * T_STEPS * 2 * HID);
    c->out = malloc(sizeof(float) * T_STEPS * 2 * HID);
    assert_true(c->ref && c->out);
    vc_error err;
    assert_int_equal(nn_gru_bidirectional(c->ref, c->x, T_STEPS, N_IN, HID, c->dir, &err), 0);
}

static void case_free(gru_case *c)
{
    free(c->x); free(c->ref); free(c->out);
    for (int i = 0; i < 8; i++) free(c->w[i]);
}

static int chunks(void) { return (T_STEPS + NN_GRU_POLL_STEPS - 1) / NN_GRU_POLL_STEPS; }

static void never_asked_is_exact(void **state)
{
    gru_case c;
    case_new(&c);
    poll never = {0, 1 << 30};
    vc_error err;
    assert_int_equal(nn_gru_bidirectional_cancellable(c.out, c.x, T_STEPS, N_IN, HID, c.dir, asked, &never, &err), 0);
    assert_memory_equal(c.out, c.ref, sizeof(float) * T_STEPS * 2 * HID);
    assert_int_equal(never.calls, 2 * chunks());
    assert_int_equal(nn_gru_bidirectional_cancellable(c.out, c.x, T_STEPS, N_IN, HID, c.dir, NULL, NULL, &err), 0);
    assert_memory_equal(c.out, c.ref, sizeof(float) * T_STEPS * 2 * HID);
    case_free(&c);
}

static void stops_at_the_poll_asked(void **state)
{
    gru_case c;
    case_new(&c);
    for (int k = 1; k <= 2 * chunks(); k++) {
        poll p = {0, k};
        vc_error err = {0};
        assert_int_equal(nn_gru_bidirectional_cancellable(c.out, c.x, T_STEPS, N_IN, HID, c.dir, asked, &p, &err), -1);
        assert_int_equal(err.code, VC_ERR_CANCELLED);
        assert_int_equal(p.calls, k);
    }
    case_free(&c);
}

/* forward columns [0, HID) of every row, reverse columns [HID, 2·HID) of rows [t0, T) */
static void assert_rows_equal(const float *a, const float *b, int col, int t0)
{
    for (int t = t0; t < T_STEPS; t++)
        assert_memory_equal(a + (size_t)t * 2 * HID + col, b + (size_t)t * 2 * HID + col, sizeof(float) * HID);
}

/* The stop lands inside the recurrence, not only before or after it: what was written before the
 * poll that said stop is the finished output's, and the steps after it never ran. */
static void stops_inside_the_recurrence(void **state)
{
    gru_case c;
    case_new(&c);
    vc_error err;
    poll p = {0, chunks() + 1}; /* the reverse direction's first poll */
    for (size_t i = 0; i < T_STEPS * 2 * HID; i++) c.out[i] = -99.0f;
    assert_int_equal(nn_gru_bidirectional_cancellable(c.out, c.x, T_STEPS, N_IN, HID, c.dir, asked, &p, &err), -1);
    assert_rows_equal(c.out, c.ref, 0, 0);
    for (int t = 0; t < T_STEPS; t++) assert_true(c.out[(size_t)t * 2 * HID + HID] == -99.0f);

    p = (poll){0, chunks() + 2}; /* one chunk of the reverse direction (it runs from T−1 down) */
    for (size_t i = 0; i < T_STEPS * 2 * HID; i++) c.out[i] = -99.0f;
    assert_int_equal(nn_gru_bidirectional_cancellable(c.out, c.x, T_STEPS, N_IN, HID, c.dir, asked, &p, &err), -1);
    assert_rows_equal(c.out, c.ref, HID, T_STEPS - NN_GRU_POLL_STEPS);
    for (int t = 0; t < T_STEPS - NN_GRU_POLL_STEPS; t++) assert_true(c.out[(size_t)t * 2 * HID + HID] == -99.0f);

    p = (poll){0, 2}; /* inside the forward direction: its first chunk only */
    for (size_t i = 0; i < T_STEPS * 2 * HID; i++) c.out[i] = -99.0f;
    assert_int_equal(nn_gru_bidirectional_cancellable(c.out, c.x, T_STEPS, N_IN, HID, c.dir, asked, &p, &err), -1);
    for (int t = 0; t < NN_GRU_POLL_STEPS; t++)
        assert_memory_equal(c.out + (size_t)t * 2 * HID, c.ref + (size_t)t * 2 * HID, sizeof(float) * HID);
    for (int t = NN_GRU_POLL_STEPS; t < T_STEPS; t++) assert_true(c.out[(size_t)t * 2 * HID] == -99.0f);
    case_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(never_asked_is_exact),
        cmocka_unit_test(stops_at_the_poll_asked),
        cmocka_unit_test(stops_inside_the_recurrence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
