/*
 * Preprocessing DSP (audio_dsp.h): denoise measurably raises the SNR against the clean
 * reference, loudness lands on the target without exceeding the true-peak ceiling, silence
 * trimming removes edges and shortens long pauses, and progress/cancel work for jobs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ebur128.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/audio_dsp.h"
#include "support/test_audio.h"

static audio_buffer speech; /* espeak speech, peak-normalised to 0.5 */

static int load_speech(void **state)
{
    (void)state;
    char path[] = "/tmp/vcs-dsp-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    close(fd);
    vc_error err;
    int rc = test_audio_speech(path, 4.0) || audio_decode_file(path, &speech, NULL, &err);
    unlink(path);
    if (rc) return -1;
    float peak = 0;
    for (size_t i = 0; i < speech.frames; i++) peak = fmaxf(peak, fabsf(speech.samples[i]));
    for (size_t i = 0; i < speech.frames; i++) speech.samples[i] *= 0.5f / peak;
    return 0;
}

static int free_speech(void **state)
{
    (void)state;
    audio_buffer_free(&speech);
    return 0;
}

static float white(unsigned long long *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)(((double)(*s >> 11) / 9007199254740992.0 - 0.5) * 3.4641); /* unit variance */
}

/* 10·log10(P(ref) / P(x − ref)) */
static double snr_against(const audio_buffer *ref, const audio_buffer *x)
{
    double ps = 0, pe = 0;
    for (size_t i = 0; i < ref->frames; i++) {
        double e = (double)x->samples[i] - ref->samples[i];
        ps += (double)ref->samples[i] * ref->samples[i];
        pe += e * e;
    }
    return 10 * log10(ps / pe);
}

static void denoise_raises_snr(void **state)
{
    (void)state;
    audio_buffer noisy = {malloc(sizeof(float) * speech.frames), speech.frames, speech.sample_rate}, clean;
    unsigned long long seed = 42;
    for (size_t i = 0; i < speech.frames; i++) noisy.samples[i] = speech.samples[i] + 0.02f * white(&seed);
    vc_error err;
    assert_int_equal(audio_denoise(&noisy, 0, NULL, &clean, &err), 0);
    assert_int_equal(clean.frames, noisy.frames);
    audio_quality qin, qout;
    assert_int_equal(audio_analyze(&noisy, &qin, &err), 0);
    assert_int_equal(audio_analyze(&clean, &qout, &err), 0);
    double before = snr_against(&speech, &noisy), after = snr_against(&speech, &clean);
    printf("# denoise: SNR vs clean %.1f -> %.1f dB; blind estimate %.1f -> %.1f dB\n", before, after, qin.snr_db,
           qout.snr_db);
    assert_true(after > before + 3.0);
    assert_true(qout.snr_db > qin.snr_db + 8.0);
    audio_buffer_free(&clean);
    free(noisy.samples);
}

static void measure(const audio_buffer *b, double *lufs, double *tp)
{
    ebur128_state *st = ebur128_init(1, (unsigned long)b->sample_rate, EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK);
    assert_non_null(st);
    ebur128_add_frames_float(st, b->samples, b->frames);
    ebur128_loudness_global(st, lufs);
    ebur128_true_peak(st, 0, tp);
    ebur128_destroy(&st);
}

static void normalize_hits_target_without_clipping(void **state)
{
    (void)state;
    vc_error err;
    const double targets[] = {AUDIO_LUFS_TRAINING, AUDIO_LUFS_OUTPUT, -9.0}; /* -9: forces the limiter */
    for (int t = 0; t < 3; t++) {
        audio_buffer out;
        assert_int_equal(audio_normalize_loudness(&speech, targets[t], 0, NULL, &out, &err), 0);
        double lufs, tp;
        measure(&out, &lufs, &tp);
        printf("# normalise to %.0f LUFS: got %.2f LUFS, true peak %.2f dBTP\n", targets[t], lufs, 20 * log10(tp));
        assert_true(tp <= pow(10.0, -1.0 / 20.0) + 1e-4);
        if (t < 2) assert_true(fabs(lufs - targets[t]) < 0.5);
        else assert_true(lufs > -15.0); /* limited: espeak peaks ~12 dB above its loudness, so -9 is unreachable at -1 dBTP */
        audio_buffer_free(&out);
    }
    audio_buffer silent = {calloc(48000, sizeof(float)), 48000, 48000}, out;
    assert_int_equal(audio_normalize_loudness(&silent, -23, 0, NULL, &out, &err), 0); /* no gain on silence */
    for (size_t i = 0; i < out.frames; i++) assert_true(out.samples[i] == 0.0f);
    audio_buffer_free(&out);
    free(silent.samples);
}

static void trim_removes_edges_and_long_pauses(void **state)
{
    (void)state;
    int rate = speech.sample_rate;
    size_t lead = (size_t)rate, pause = (size_t)(3 * rate), n = lead + 2 * speech.frames + pause + lead;
    audio_buffer x = {calloc(n, sizeof(float)), n, rate}, out;
    memcpy(x.samples + lead, speech.samples, sizeof(float) * speech.frames);
    memcpy(x.samples + lead + speech.frames + pause, speech.samples, sizeof(float) * speech.frames);
    unsigned long long seed = 7;
    for (size_t i = 0; i < n; i++) x.samples[i] += 1e-4f * white(&seed);
    vc_error err;
    audio_trim_options o = {0, 0.15, 0.8};
    assert_int_equal(audio_trim_silence(&x, &o, NULL, &out, &err), 0);
    double secs = (double)out.frames / rate, speech_secs = (double)speech.frames / rate;
    printf("# trim: %.2f s -> %.2f s (two %.2f s utterances, 1 s edges, 3 s pause)\n", (double)n / rate, secs,
           speech_secs);
    /* espeak's own edges are quiet, so the bound allows their pauses plus 2 edges + one 0.8 s pause */
    assert_true(secs < 2 * speech_secs + 0.3 + 0.8 + 0.05);
    assert_true(secs > 2 * speech_secs - 1.0);
    audio_buffer_free(&out);
    memset(x.samples, 0, sizeof(float) * n); /* all silent → empty */
    assert_int_equal(audio_trim_silence(&x, NULL, NULL, &out, &err), 0);
    assert_true(out.frames < (size_t)rate / 10);
    audio_buffer_free(&out);
    free(x.samples);
}

/* Tone sections (ms) separated by silence; returns the buffer at 24 kHz. */
static audio_buffer sections(const long (*on)[2], int n_on, long total_ms)
{
    int rate = 24000;
    size_t n = (size_t)total_ms * rate / 1000;
    audio_buffer x = {calloc(n, sizeof(float)), n, rate};
    for (int k = 0; k < n_on; k++)
        for (size_t i = (size_t)on[k][0] * rate / 1000; i < (size_t)on[k][1] * rate / 1000; i++)
            x.samples[i] = 0.3f * sinf(2 * (float)M_PI * 220 * (float)i / rate);
    return x;
}

/* pydub split_on_silence(1000 ms, −50 dBFS, keep 500, seek 10) + join, worked by hand:
 * speech [0,1000] [4000,4500] [4800,5800] of 7800 ms → silences [1000,4000] and [5800,7800]
 * (the 300 ms gap is too short) → keep [0,1500] and [3500,6300] → 4300 ms. */
static void long_silences_removed_like_pydub(void **state)
{
    const long on[][2] = {{0, 1000}, {4000, 4500}, {4800, 5800}};
    audio_buffer x = sections(on, 3, 7800), out;
    vc_error err;
    assert_int_equal(audio_remove_long_silences(&x, 1000, -50, 500, 10, &out, &err), 0);
    assert_int_equal(out.frames, (size_t)4300 * 24);
    assert_true(fabsf(out.samples[24 * 1000 + 5]) < 1e-6f && fabsf(out.samples[24 * 2100 + 3]) > 0.01f); /* kept pause, then speech */
    audio_buffer_free(&out);
    const long none[][2] = {{0, 2000}};
    audio_buffer y = sections(none, 1, 2000);
    assert_int_equal(audio_remove_long_silences(&y, 1000, -50, 500, 10, &out, &err), 0);
    assert_int_equal(out.frames, y.frames); /* nothing silent: unchanged */
    audio_buffer_free(&out);
    memset(y.samples, 0, sizeof(float) * y.frames);
    assert_int_equal(audio_remove_long_silences(&y, 1000, -50, 500, 10, &out, &err), 0);
    assert_int_equal(out.frames, 0); /* all silent: empty, as pydub gives no pieces */
    audio_buffer_free(&out);
    free(x.samples); free(y.samples);
}

typedef struct progress_log { double last; int calls, monotonic; volatile int cancel; int cancel_after; } progress_log;

static void on_progress(void *ctx, double fraction)
{
    progress_log *p = ctx;
    if (fraction < p->last) p->monotonic = 0;
    p->last = fraction;
    if (++p->calls == p->cancel_after) p->cancel = 1;
}

static void progress_and_cancel(void **state)
{
    (void)state;
    vc_error err;
    audio_buffer out;
    progress_log p = {0, 0, 1, 0, -1};
    audio_dsp_control ctl = {on_progress, &p, &p.cancel};
    assert_int_equal(audio_denoise(&speech, 0, &ctl, &out, &err), 0);
    assert_true(p.calls >= 2 && p.monotonic && p.last == 1.0);
    audio_buffer_free(&out);
    p = (progress_log){0, 0, 1, 0, 1};
    ctl.cancel = &p.cancel;
    assert_int_equal(audio_denoise(&speech, 0, &ctl, &out, &err), -1);
    assert_int_equal(err.code, VC_ERR_CANCELLED);
    assert_null(out.samples);
    p = (progress_log){0, 0, 1, 1, -1};
    assert_int_equal(audio_normalize_loudness(&speech, -23, 0, &ctl, &out, &err), -1);
    assert_int_equal(audio_trim_silence(&speech, NULL, &ctl, &out, &err), -1);
    assert_int_equal(err.code, VC_ERR_CANCELLED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(denoise_raises_snr),
        cmocka_unit_test(normalize_hits_target_without_clipping),
        cmocka_unit_test(trim_removes_edges_and_long_pauses), cmocka_unit_test(long_silences_removed_like_pydub),
        cmocka_unit_test(progress_and_cancel),
    };
    return cmocka_run_group_tests(tests, load_speech, free_speech);
}
