/*
 * Choosing the best 3–12 s of a recording as a voice reference (audio_best_window), on
 * synthesized "speech": words of three harmonic syllables (Hann-shaped, f0 110–190 Hz) with
 * 0.3 s pauses between words, over a faint noise floor. Every sample is labelled as it is made
 * (pause, clean word, noise word, clipped word), so the tests check the chosen span against
 * what is really there:
 *   - noise bursts, a clipped stretch, clean dense words and sparse words: the window holds only
 *     clean words, nearly all of the dense stretch, and starts and ends in pauses; the same
 *     input gives the same window;
 *   - a recording that starts and ends mid-word: neither partial word is taken;
 *   - the same words in a noisy room and in a quiet one: the quiet one wins though it comes later;
 *   - under 3 s of speech: AUDIO_TOO_SHORT saying how much there is;
 *   - 20 s of speech with no pause: a hard cut of at most 12 s, reported as not at pauses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"

#define RATE 16000
#define SYLLABLE 0.22
#define SYLLABLE_GAP 0.05
#define WORD_PAUSE 0.3

enum label { PAUSE, CLEAN, NOISE, CLIPPED };

typedef struct signal {
    float *x;
    unsigned char *label;
    size_t n, cap;
    unsigned long long rng;
    int syllables; /* made so far: varies the pitch */
} signal;

static double uniform(signal *s) /* ±1, own LCG: repeatable */
{
    s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
    return 2.0 * (double)(s->rng >> 11) / 9007199254740992.0 - 1.0;
}

static void grow(signal *s, size_t more)
{
    if (s->n + more <= s->cap) return;
    s->cap = (s->n + more) * 2;
    s->x = realloc(s->x, s->cap * sizeof(float));
    s->label = realloc(s->label, s->cap);
    assert_non_null(s->x);
    assert_non_null(s->label);
}

static void silence(signal *s, double seconds)
{
    size_t n = (size_t)(seconds * RATE);
    grow(s, n);
    for (size_t i = 0; i < n; i++) s->x[s->n + i] = 0.f, s->label[s->n + i] = PAUSE;
    s->n += n;
}

/* One syllable: harmonics 1..10 at 1/h (or white noise for NOISE), Hann envelope, peak amp;
 * CLIPPED is made at 1.6 and clamped to ±1 as an overdriven input would be. */
static void syllable(signal *s, enum label kind, double seconds)
{
    size_t n = (size_t)(seconds * RATE), len = (size_t)(SYLLABLE * RATE);
    double f0 = 110.0 + 20.0 * (s->syllables++ % 5), amp = kind == CLIPPED ? 1.6 : 0.3;
    grow(s, n);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / RATE, v = 0;
        if (kind == NOISE) v = uniform(s);
        else
            for (int h = 1; h <= 10; h++) v += sin(2 * M_PI * f0 * h * t) / h / 1.707; /* peak of the sum: 1.707 */
        v *= amp * (0.5 - 0.5 * cos(2 * M_PI * (double)i / (double)len));
        s->x[s->n + i] = (float)fmax(-1.0, fmin(1.0, v));
        s->label[s->n + i] = (unsigned char)kind;
    }
    s->n += n;
}

/* A word: three syllables with short gaps inside it (a cut there would cut the word). */
static void word(signal *s, enum label kind)
{
    for (int k = 0; k < 3; k++) {
        syllable(s, kind, SYLLABLE);
        if (k < 2) {
            size_t at = s->n;
            silence(s, SYLLABLE_GAP);
            memset(s->label + at, kind, s->n - at);
        }
    }
}

static void words(signal *s, enum label kind, int count, double pause)
{
    for (int i = 0; i < count; i++) {
        word(s, kind);
        silence(s, pause);
    }
}

/* Adds the faint noise floor of a quiet room (about -70 dBFS) everywhere, or louder noise over
 * [from, to) samples. */
static void add_noise(signal *s, size_t from, size_t to, double amp)
{
    for (size_t i = from; i < to; i++) s->x[i] += (float)(amp * uniform(s));
}

static audio_buffer finish(signal *s)
{
    add_noise(s, 0, s->n, 3e-4);
    return (audio_buffer){s->x, s->n, RATE};
}

static size_t count_label(const signal *s, size_t from, size_t to, enum label kind)
{
    size_t c = 0;
    for (size_t i = from; i < to; i++) c += s->label[i] == kind;
    return c;
}

static void assert_in_pauses(const signal *s, const audio_window *w)
{
    assert_true(w->end > w->start);
    assert_true(w->end <= s->n);
    assert_int_equal(s->label[w->start], PAUSE);
    assert_int_equal(s->label[w->end - 1], PAUSE);
    double seconds = (double)(w->end - w->start) / RATE;
    assert_true(seconds >= AUDIO_WINDOW_MIN_SECONDS && seconds <= AUDIO_WINDOW_MAX_SECONDS);
    assert_true(w->at_pauses);
}

static void clean_dense_stretch_wins(void **state)
{
    signal s = {.rng = 1};
    silence(&s, 0.5);
    words(&s, NOISE, 6, WORD_PAUSE);
    silence(&s, 0.3);
    words(&s, CLIPPED, 6, WORD_PAUSE);
    silence(&s, 0.3);
    size_t dense_from = s.n;
    words(&s, CLEAN, 9, WORD_PAUSE);
    size_t dense_to = s.n;
    silence(&s, 0.3);
    words(&s, CLEAN, 5, 1.5); /* sparse: more pause than speech */
    audio_buffer b = finish(&s);
    audio_window w, again;
    vc_error err = {0};
    assert_int_equal(audio_best_window(&b, &w, &err), 0);
    assert_in_pauses(&s, &w);
    assert_int_equal(count_label(&s, w.start, w.end, NOISE), 0);
    assert_int_equal(count_label(&s, w.start, w.end, CLIPPED), 0);
    /* nearly all of the dense stretch's words are in it */
    size_t dense = count_label(&s, dense_from, dense_to, CLEAN);
    size_t taken = count_label(&s, w.start > dense_from ? w.start : dense_from, w.end < dense_to ? w.end : dense_to, CLEAN);
    assert_true(taken >= dense * 9 / 10);
    assert_true(w.speech_seconds >= AUDIO_WINDOW_MIN_SECONDS);
    assert_int_equal(audio_best_window(&b, &again, &err), 0);
    assert_int_equal(again.start, w.start);
    assert_int_equal(again.end, w.end);
    assert_true(again.score == w.score);
    free(s.x); free(s.label);
}

static void partial_words_at_the_edges_are_left_out(void **state)
{
    signal s = {.rng = 2};
    syllable(&s, CLEAN, SYLLABLE / 2); /* the recording starts in the middle of a word */
    syllable(&s, CLEAN, SYLLABLE);
    size_t first_word_end = s.n;
    silence(&s, WORD_PAUSE);
    words(&s, CLEAN, 14, WORD_PAUSE);
    word(&s, CLEAN);
    syllable(&s, CLEAN, SYLLABLE / 2); /* ... and stops in the middle of one */
    audio_buffer b = finish(&s);
    audio_window w;
    vc_error err = {0};
    assert_int_equal(audio_best_window(&b, &w, &err), 0);
    assert_in_pauses(&s, &w);
    assert_true(w.start >= first_word_end);
    assert_true(w.end < s.n - (size_t)(SYLLABLE * RATE));
    free(s.x); free(s.label);
}

static void quiet_room_beats_noisy_room(void **state)
{
    signal s = {.rng = 3};
    silence(&s, 0.5);
    size_t noisy_from = s.n;
    words(&s, CLEAN, 10, WORD_PAUSE);
    size_t noisy_to = s.n;
    silence(&s, 1.0);
    size_t quiet_from = s.n;
    words(&s, CLEAN, 10, WORD_PAUSE);
    audio_buffer b = finish(&s);
    add_noise(&s, noisy_from, noisy_to, 0.05); /* about 12 dB below the words */
    audio_window w;
    vc_error err = {0};
    assert_int_equal(audio_best_window(&b, &w, &err), 0);
    assert_in_pauses(&s, &w);
    assert_true(w.start >= quiet_from - (size_t)(1.0 * RATE));
    assert_true(w.start >= noisy_to);
    free(s.x); free(s.label);
}

static void under_three_seconds_of_speech_is_refused(void **state)
{
    signal s = {.rng = 4};
    silence(&s, 0.5);
    words(&s, CLEAN, 2, 1.0); /* 1.7 s of words in 3.5 s */
    silence(&s, 0.5);
    audio_buffer b = finish(&s);
    audio_window w;
    vc_error err = {0};
    assert_int_equal(audio_best_window(&b, &w, &err), -1);
    assert_int_equal(err.code, VC_ERR_AUDIO_TOO_SHORT);
    assert_non_null(strstr(err.message, "at least 3 s"));
    free(s.x); free(s.label);
}

static void speech_without_pauses_is_cut_at_twelve_seconds(void **state)
{
    signal s = {.rng = 5};
    silence(&s, 0.5);
    size_t from = s.n;
    for (int i = 0; i < 90; i++) syllable(&s, CLEAN, SYLLABLE); /* ~20 s, no gap */
    silence(&s, 0.5);
    audio_buffer b = finish(&s);
    audio_window w;
    vc_error err = {0};
    assert_int_equal(audio_best_window(&b, &w, &err), 0);
    assert_false(w.at_pauses);
    assert_true(w.end - w.start <= (size_t)(AUDIO_WINDOW_MAX_SECONDS * RATE));
    assert_true(w.speech_seconds >= AUDIO_WINDOW_MAX_SECONDS - 0.5);
    assert_true(w.start <= from && w.start + (size_t)(0.2 * RATE) >= from); /* from the pause before the speech */
    free(s.x); free(s.label);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_dense_stretch_wins),
        cmocka_unit_test(partial_words_at_the_edges_are_left_out),
        cmocka_unit_test(quiet_room_beats_noisy_room),
        cmocka_unit_test(under_three_seconds_of_speech_is_refused),
        cmocka_unit_test(speech_without_pauses_is_cut_at_twelve_seconds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
