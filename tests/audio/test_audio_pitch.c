/*
 * Pitch shift (audio_pitch_shift): a sine's frequency moves by exactly 2^(semitones/12) (within
 * 0.5 %), the length stays the same to the sample, the level stays close, 0 copies, and values
 * past ±12 are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "audio/audio_dsp.h"

static audio_buffer sine(double hz, double seconds, int rate)
{
    audio_buffer b = {.sample_rate = rate, .frames = (size_t)(seconds * rate)};
    b.samples = malloc(b.frames * sizeof(float));
    for (size_t i = 0; i < b.frames; i++) b.samples[i] = (float)(0.5 * sin(2.0 * M_PI * hz * (double)i / rate));
    return b;
}

/* Frequency from the rising zero crossings between t0 and t1 s (interpolated crossing times). */
static double frequency(const audio_buffer *b, double t0, double t1)
{
    size_t i0 = (size_t)(t0 * b->sample_rate), i1 = (size_t)(t1 * b->sample_rate);
    double first = -1, last = -1;
    int count = 0;
    for (size_t i = i0; i + 1 < i1; i++) {
        float a = b->samples[i], c = b->samples[i + 1];
        if (a < 0 && c >= 0) {
            double t = ((double)i + a / (a - c)) / b->sample_rate;
            if (first < 0) first = t;
            last = t;
            count++;
        }
    }
    return count > 1 ? (count - 1) / (last - first) : 0;
}

static double rms(const audio_buffer *b, double t0, double t1)
{
    size_t i0 = (size_t)(t0 * b->sample_rate), i1 = (size_t)(t1 * b->sample_rate);
    double s = 0;
    for (size_t i = i0; i < i1; i++) s += (double)b->samples[i] * b->samples[i];
    return sqrt(s / (double)(i1 - i0));
}

static void check_shift(double hz, double semitones, int rate)
{
    audio_buffer in = sine(hz, 2.0, rate), out;
    vc_error err;
    assert_int_equal(audio_pitch_shift(&in, semitones, &out, &err), 0);
    assert_int_equal(out.frames, in.frames);
    assert_int_equal(out.sample_rate, rate);
    double want = hz * pow(2.0, semitones / 12.0), got = frequency(&out, 0.5, 1.5);
    if (fabs(got / want - 1.0) > 0.005) fail_msg("%+.0f semitones of %.0f Hz: %.2f Hz, want %.2f", semitones, hz, got, want);
    double level = rms(&out, 0.5, 1.5) / rms(&in, 0.5, 1.5);
    if (level < 0.8 || level > 1.25) fail_msg("%+.0f semitones: level changed by %.2f", semitones, level);
    audio_buffer_free(&in);
    audio_buffer_free(&out);
}

static void sine_moves_by_the_ratio(void **state)
{
    check_shift(220, 5, 24000);
    check_shift(220, -7, 24000);
    check_shift(330, 12, 24000);
    check_shift(440, -12, 24000);
    check_shift(200, 3, 44100);
}

static void zero_copies_and_out_of_range_refused(void **state)
{
    audio_buffer in = sine(220, 0.5, 24000), out;
    vc_error err;
    assert_int_equal(audio_pitch_shift(&in, 0, &out, &err), 0);
    assert_int_equal(out.frames, in.frames);
    for (size_t i = 0; i < in.frames; i++) assert_true(out.samples[i] == in.samples[i]);
    audio_buffer_free(&out);
    assert_int_equal(audio_pitch_shift(&in, 12.5, &out, &err), -1);
    assert_int_equal(err.code, VC_ERR_INVALID_REQUEST);
    assert_int_equal(audio_pitch_shift(&in, NAN, &out, &err), -1);
    audio_buffer_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(sine_moves_by_the_ratio),
                                       cmocka_unit_test(zero_copies_and_out_of_range_refused)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
