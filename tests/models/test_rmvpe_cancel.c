/*
 * RMVPE polls its cancel hook inside a pass (rmvpe_salience_cancellable: before each residual
 * block, up-convolution, the head's convolution and the BiGRU), so feature extraction and
 * conversion stop within one block of a request instead of at the end of a piece or window.
 * Golden small model: a request at poll k ends the call with VC_ERR_CANCELLED at that poll
 * (nothing after it runs or asks again); a hook that never asks gives bit-identical salience and
 * f0 to the plain calls, over one pass and over several windows.
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

typedef struct poll { int calls, stop_at; } poll;

static int asked(void *ctx)
{
    poll *p = ctx;
    return ++p->calls >= p->stop_at;
}

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

/* a gliding tone with a pause, at 16 kHz */
static float *tone(int n)
{
    float *x = malloc(sizeof(float) * (size_t)n);
    double phase = 0;
    for (int i = 0; i < n; i++) {
        phase += 2 * M_PI * (150 + 50 * sin(2 * M_PI * 0.5 * i / 16000.0)) / 16000.0;
        x[i] = (float)((i / 16000) % 4 == 3 ? 0.0 : 0.4 * sin(phase));
    }
    return x;
}

static void salience_stops_at_the_poll_asked(void **state)
{
    nn_weights *w = NULL;
    rmvpe *m = load_small(&w);
    int n = 3 * 16000, frames = nn_stft_frames((size_t)n, RMVPE_HOP);
    float *x = tone(n), *mel = malloc(sizeof(float) * (size_t)frames * RMVPE_MELS);
    float *a = malloc(sizeof(float) * (size_t)frames * RMVPE_BINS), *b = calloc((size_t)frames * RMVPE_BINS, sizeof(float));
    vc_error err;
    assert_int_equal(rmvpe_mel(m, x, n, mel, &err), 0);
    assert_int_equal(rmvpe_salience(m, mel, frames, a, &err), 0);
    poll never = {0, 1 << 30};
    assert_int_equal(rmvpe_salience_cancellable(m, mel, frames, b, asked, &never, &err), 0);
    assert_memory_equal(a, b, sizeof(float) * (size_t)frames * RMVPE_BINS);
    print_message("%d polls in one pass\n", never.calls);
    assert_true(never.calls >= 6); /* at least one per encoder, middle and decoder stage, head and GRU */
    for (int k = 1; k <= never.calls; k++) {
        poll p = {0, k};
        memset(&err, 0, sizeof err);
        assert_int_equal(rmvpe_salience_cancellable(m, mel, frames, b, asked, &p, &err), -1);
        assert_int_equal(err.code, VC_ERR_CANCELLED);
        assert_int_equal(p.calls, k);
    }
    free(x); free(mel); free(a); free(b);
    rmvpe_free(m);
    nn_weights_free(w);
}

/* Over two windows (> RMVPE_WINDOW frames): the same f0 as rmvpe_f0, the hook asked in each
 * window's pass, and a request in the second window's pass stops there. */
static void f0_over_windows(void **state)
{
    nn_weights *w = NULL;
    rmvpe *m = load_small(&w);
    int n = 45 * 16000, frames = nn_stft_frames((size_t)n, RMVPE_HOP);
    assert_true(frames > RMVPE_WINDOW);
    float *x = tone(n);
    double *a = malloc(sizeof(double) * (size_t)frames), *b = calloc((size_t)frames, sizeof(double));
    vc_error err;
    assert_int_equal(rmvpe_f0(m, x, n, a, &err), 0);
    poll never = {0, 1 << 30}, one = {0, 1 << 30};
    assert_int_equal(rmvpe_f0_cancellable(m, x, n, b, NULL, NULL, asked, &never, &err), 0);
    assert_memory_equal(a, b, sizeof(double) * (size_t)frames);
    int mel_frames = 3 * 16000 / RMVPE_HOP + 1;
    float *mel = malloc(sizeof(float) * (size_t)mel_frames * RMVPE_MELS), *sal = malloc(sizeof(float) * (size_t)mel_frames * RMVPE_BINS);
    assert_int_equal(rmvpe_mel(m, x, 3 * 16000, mel, &err), 0);
    assert_int_equal(rmvpe_salience_cancellable(m, mel, mel_frames, sal, asked, &one, &err), 0);
    assert_int_equal(never.calls, 2 * one.calls); /* every pass polls as often: two windows, two passes */
    poll p = {0, one.calls + 1};
    assert_int_equal(rmvpe_f0_cancellable(m, x, n, b, NULL, NULL, asked, &p, &err), -1);
    assert_int_equal(err.code, VC_ERR_CANCELLED);
    assert_int_equal(p.calls, one.calls + 1);
    free(x); free(a); free(b); free(mel); free(sal);
    rmvpe_free(m);
    nn_weights_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(salience_stops_at_the_poll_asked),
        cmocka_unit_test(f0_over_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
