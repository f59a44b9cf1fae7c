/*
 * Joining generated speech on the target's timeline (audio_join_pieces): the result is exactly
 * as long as asked, pauses stay silent, no join jumps (a hard cut of a piece that is loud where
 * it is cut steps by its whole amplitude), an overlap is cross-faded at equal power (two
 * unrelated signals keep their level through the join; a linear fade would dip ~1.8 dB), and the
 * order of the pieces does not matter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "audio/audio_dsp.h"

#define RATE 24000
#define FADE ((size_t)(AUDIO_JOIN_FADE_SECONDS * RATE))

static float *sine(double hz, double phase, size_t n)
{
    float *w = malloc(n * sizeof *w);
    for (size_t i = 0; i < n; i++) w[i] = (float)(0.5 * sin(2 * M_PI * hz * (double)i / RATE + phase));
    return w;
}

/* Uniform noise in ±a (own LCG: repeatable, and independent streams per seed). */
static float *noise(unsigned seed, double a, size_t n)
{
    float *w = malloc(n * sizeof *w);
    unsigned long long x = seed * 2654435761ull + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        w[i] = (float)(a * (2.0 * (double)(x >> 11) / 9007199254740992.0 - 1.0));
    }
    return w;
}

static double max_step(const audio_buffer *b)
{
    double m = fabs(b->samples[0]); /* from the silence before the first sample */
    for (size_t i = 1; i < b->frames; i++) m = fmax(m, fabs(b->samples[i] - b->samples[i - 1]));
    return fmax(m, fabs(b->samples[b->frames - 1]));
}

static double rms(const audio_buffer *b, size_t from, size_t to)
{
    double s = 0;
    for (size_t i = from; i < to; i++) s += (double)b->samples[i] * b->samples[i];
    return sqrt(s / (double)(to - from));
}

/* Three contiguous spans of 1 s; each piece runs 0.3 s past its span, and every cut falls where
 * the sine is at its peak: a hard cut steps by 0.5, the sine itself by at most 0.5·2π·220/24000. */
static void test_contiguous_overlaps_have_no_jump(void **state)
{
    (void)state;
    size_t span = RATE, len = RATE + RATE * 3 / 10;
    float *w[3] = {sine(220, M_PI / 2, len), sine(330, M_PI / 2, len), sine(440, M_PI / 2, len)};
    audio_piece p[3] = {{w[0], len, 0, span}, {w[1], len, span, span}, {w[2], len, 2 * span, span}};
    audio_buffer out = {0};
    vc_error err;
    assert_int_equal(audio_join_pieces(p, 3, 3 * span, RATE, AUDIO_JOIN_FADE_SECONDS, &out, &err), 0);
    assert_int_equal(out.frames, 3 * span); /* the original's length, to the sample */
    assert_int_equal(out.sample_rate, RATE);
    /* in a cross-fade both sines move (cos + sin ≤ √2 of the fastest one's step) and both gains
     * move (π/2 / FADE per sample each, on 0.5) */
    double natural = 0.5 * 2 * M_PI * 440 / RATE, fade = 2 * 0.5 * M_PI / 2 / (double)FADE;
    assert_true(max_step(&out) < sqrt(2) * natural + fade);
    assert_true(max_step(&out) < 0.1); /* a hard cut at a peak would step by 0.5 */
    /* mid-piece the signal is untouched */
    assert_float_equal(out.samples[span / 2], w[0][span / 2], 1e-6);
    assert_float_equal(out.samples[span + span / 2], w[1][span / 2], 1e-6);
    audio_buffer_free(&out);
    for (int i = 0; i < 3; i++) free(w[i]);
}

/* Pauses between the spans: the first piece is shorter than its span, the second longer (it is
 * cut where its span ends, at the sine's peak): the pauses are exact silence, every piece starts
 * where its span starts, and the ends fade instead of cutting off. */
static void test_pauses_stay_silent(void **state)
{
    (void)state;
    size_t len = RATE / 2;
    float *a = sine(200, M_PI / 2, len), *b = sine(300, M_PI / 2, len);
    audio_piece p[2] = {{a, len, RATE / 10, RATE}, {b, len, 2 * RATE, RATE / 4}};
    audio_buffer out = {0};
    vc_error err;
    assert_int_equal(audio_join_pieces(p, 2, 3 * RATE, RATE, AUDIO_JOIN_FADE_SECONDS, &out, &err), 0);
    assert_int_equal(out.frames, 3 * RATE);
    for (size_t i = 0; i < RATE / 10; i++) assert_true(out.samples[i] == 0.0f);
    for (size_t i = RATE / 10 + len; i < 2 * RATE; i++) assert_true(out.samples[i] == 0.0f);
    for (size_t i = 2 * RATE + RATE / 4; i < 3 * RATE; i++) assert_true(out.samples[i] == 0.0f);
    assert_float_equal(out.samples[2 * RATE + RATE / 8], b[RATE / 8], 1e-6);
    assert_float_equal(out.samples[RATE / 10 + len / 2], a[len / 2], 1e-6);
    assert_true(max_step(&out) < 0.5 * 2 * M_PI * 300 / RATE + 0.5 * M_PI / 2 / (double)FADE);
    audio_buffer_free(&out);
    free(a);
    free(b);
}

/* Two independent noises of equal level meeting in an overlap: the level through the join stays
 * within 0.6 dB of the level around it (equal power; linear gains would give -1.8 dB), and the
 * first piece's tail beyond the cross-fade is gone. */
static void test_overlap_is_equal_power(void **state)
{
    (void)state;
    size_t span = RATE, len = 2 * RATE;
    float *a = noise(1, 0.5, len), *b = noise(2, 0.5, len);
    audio_piece p[2] = {{a, len, 0, span}, {b, len, span, span}};
    audio_buffer out = {0};
    vc_error err;
    assert_int_equal(audio_join_pieces(p, 2, 2 * span, RATE, AUDIO_JOIN_FADE_SECONDS, &out, &err), 0);
    double around = rms(&out, span / 2, span - FADE), join = rms(&out, span, span + FADE);
    assert_true(fabs(20 * log10(join / around)) < 0.6);
    /* past the cross-fade only the second piece sounds */
    assert_float_equal(out.samples[span + FADE + 10], b[FADE + 10], 1e-6);
    audio_buffer_free(&out);
    free(a);
    free(b);
}

/* A piece running past the end is cut at the end with a fade, and the pieces' order in the
 * array does not change the result. */
static void test_end_and_order(void **state)
{
    (void)state;
    size_t len = RATE;
    float *a = sine(250, M_PI / 2, len), *b = sine(350, M_PI / 2, len);
    audio_piece fwd[2] = {{a, len, 0, RATE / 2}, {b, len, RATE / 2, RATE / 2}};
    audio_piece rev[2] = {fwd[1], fwd[0]};
    audio_buffer x = {0}, y = {0};
    vc_error err;
    assert_int_equal(audio_join_pieces(fwd, 2, RATE, RATE, AUDIO_JOIN_FADE_SECONDS, &x, &err), 0);
    assert_int_equal(audio_join_pieces(rev, 2, RATE, RATE, AUDIO_JOIN_FADE_SECONDS, &y, &err), 0);
    assert_int_equal(x.frames, RATE);
    assert_memory_equal(x.samples, y.samples, RATE * sizeof(float));
    assert_true(fabs(x.samples[RATE - 1]) < 0.01);
    assert_true(max_step(&x) < 0.06);
    audio_buffer_free(&x);
    audio_buffer_free(&y);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contiguous_overlaps_have_no_jump),
        cmocka_unit_test(test_pauses_stay_silent),
        cmocka_unit_test(test_overlap_is_equal_power),
        cmocka_unit_test(test_end_and_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
