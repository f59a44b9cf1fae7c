/*
 * RMVPE on long inputs runs in overlapping windows (rmvpe.h: memory of a 41 s input for any
 * length). Checked against one pass over the whole input with the golden small model: the
 * voiced/unvoiced decisions and the pitch of voiced frames agree; short inputs are untouched
 * (the golden rmvpe/pipeline cases cover those); a tick can cancel between windows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/rmvpe/rmvpe.h"
#include "nn/spectral.h"

static rmvpe *load_small(nn_weights **w)
{
    const char *r = getenv("VCS_TEST_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/golden/rvc/rmvpe_small/rmvpe.safetensors", r ? r : ".");
    vc_error err;
    rmvpe *m = NULL;
    if (nn_weights_open(path, w, &err) != 0 || rmvpe_load(&m, *w, "", &err) != 0) fail_msg("%s", err.message);
    return m;
}

/* a vibrato tone with pauses and a little noise, at 16 kHz */
static float *long_input(int n)
{
    float *x = malloc(sizeof(float) * (size_t)n);
    double phase = 0;
    unsigned long long s = 3;
    for (int i = 0; i < n; i++) {
        double f = 180 + 40 * sin(2 * M_PI * 0.3 * i / 16000.0);
        phase += 2 * M_PI * f / 16000.0;
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double noise = 0.01 * ((double)(s >> 40) / 16777216.0 - 0.5);
        x[i] = (float)(((i / 16000) % 5 == 4 ? 0.0 : 0.4 * sin(phase)) + noise);
    }
    return x;
}

static void windows_agree_with_one_pass(void **state)
{
    nn_weights *w = NULL;
    rmvpe *m = load_small(&w);
    int n = 100 * 16000, frames = nn_stft_frames((size_t)n, RMVPE_HOP);
    assert_true(frames > 2 * RMVPE_WINDOW);
    float *x = long_input(n), *mel = malloc(sizeof(float) * (size_t)frames * RMVPE_MELS);
    float *sal = malloc(sizeof(float) * (size_t)frames * RMVPE_BINS);
    double *whole = malloc(sizeof(double) * frames), *cents = malloc(sizeof(double) * frames), *win = malloc(sizeof(double) * frames);
    vc_error err;
    assert_int_equal(rmvpe_mel(m, x, n, mel, &err), 0);
    assert_int_equal(rmvpe_salience(m, mel, frames, sal, &err), 0);
    rmvpe_decode(sal, frames, RMVPE_THRESHOLD, cents, whole);
    assert_int_equal(rmvpe_f0(m, x, n, win, &err), 0);
    int same_decision = 0, voiced = 0, close = 0;
    for (int t = 0; t < frames; t++) {
        same_decision += (whole[t] > 0) == (win[t] > 0);
        if (whole[t] > 0 && win[t] > 0) {
            voiced++;
            close += fabs(1200 * log2(win[t] / whole[t])) < 5; /* within 5 cents */
        }
    }
    print_message("windows vs one pass: %d/%d same voicing, %d/%d voiced frames within 5 cents\n", same_decision, frames,
                  close, voiced);
    assert_true(voiced > frames / 10);
    assert_true(same_decision >= frames * 0.99);
    assert_true(close >= voiced * 0.99);
    free(x); free(mel); free(sal); free(whole); free(cents); free(win);
    rmvpe_free(m);
    nn_weights_free(w);
}

static int stop_after_first(void *ctx, double fraction)
{
    int *calls = ctx;
    return ++*calls >= 1;
}

static void a_tick_cancels_between_windows(void **state)
{
    nn_weights *w = NULL;
    rmvpe *m = load_small(&w);
    int n = 70 * 16000, calls = 0;
    float *x = long_input(n);
    double *f0 = malloc(sizeof(double) * (size_t)(n / RMVPE_HOP + 1));
    vc_error err;
    assert_int_equal(rmvpe_f0_progress(m, x, n, f0, stop_after_first, &calls, &err), -1);
    assert_int_equal(err.code, VC_ERR_CANCELLED);
    assert_int_equal(calls, 1);
    free(x); free(f0);
    rmvpe_free(m);
    nn_weights_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(windows_agree_with_one_pass),
        cmocka_unit_test(a_tick_cancels_between_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
