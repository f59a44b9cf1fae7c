/*
 * RMVPE polls its cancel hook inside a pass (rmvpe_salience_cancellable: before each residual
 * block, up-convolution and the head's convolution, and inside the BiGRU every
 * NN_GRU_POLL_STEPS recurrent steps of each direction), so feature extraction and conversion stop
 * within one block or a few milliseconds of recurrence after a request, instead of at the end of a
 * piece or window. Golden small model: a request at poll k ends the call with VC_ERR_CANCELLED at
 * that poll (nothing after it runs or asks again), the polls at the end of a pass included, which
 * are the GRU's; the GRU's share grows with the input (2 · ceil(T / NN_GRU_POLL_STEPS) of them,
 * T padded to 32 frames), the rest does not; a hook that never asks gives bit-identical salience
 * and f0 to the plain calls, over one pass and over several windows.
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
#include "nn/sequence.h"
#include "nn/spectral.h"

typedef struct poll { int calls, stop_at; } poll;

static int asked(void *ctx)
{
    poll *p = ctx;
    return ++p->calls >= p->stop_at;
}

/* the BiGRU's polls in one pass over `frames` mel frames (padded to a multiple of 32) */
static int gru_polls(int frames)
{
    int T = 32 * ((frames - 1) / 32 + 1);
    return 2 * ((T + NN_GRU_POLL_STEPS - 1) / NN_GRU_POLL_STEPS);
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

/* polls of a never-stopping hook over one salience pass of the first `frames` mel frames of x */
static int polls_of_pass(const rmvpe *m, const float *x, int n)
{
    int frames = nn_stft_frames((size_t)n, RMVPE_HOP);
    float *mel = malloc(sizeof(float) * (size_t)frames * RMVPE_MELS), *sal = malloc(sizeof(float) * (size_t)frames * RMVPE_BINS);
    vc_error err;
    poll never = {0, 1 << 30};
    assert_int_equal(rmvpe_mel(m, x, n, mel, &err), 0);
    assert_int_equal(rmvpe_salience_cancellable(m, mel, frames, sal, asked, &never, &err), 0);
    free(mel); free(sal);
    return never.calls;
}

static void salience_stops_at_the_poll_asked(void **state)
{
    nn_weights *w = NULL;
    rmvpe *m = load_small(&w);
    int n = 3 * 16000, frames = nn_stft_frames((size_t)n, RMVPE_HOP);
    float *x = tone(2 * n), *mel = malloc(sizeof(float) * (size_t)frames * RMVPE_MELS);
    float *a = malloc(sizeof(float) * (size_t)frames * RMVPE_BINS), *b = calloc((size_t)frames * RMVPE_BINS, sizeof(float));
    vc_error err;
    assert_int_equal(rmvpe_mel(m, x, n, mel, &err), 0);
    assert_int_equal(rmvpe_salience(m, mel, frames, a, &err), 0);
    poll never = {0, 1 << 30};
    assert_int_equal(rmvpe_salience_cancellable(m, mel, frames, b, asked, &never, &err), 0);
    assert_memory_equal(a, b, sizeof(float) * (size_t)frames * RMVPE_BINS);
    print_message("%d polls in one pass, %d of them in the BiGRU\n", never.calls, gru_polls(frames));
    /* at least one per encoder, middle and decoder stage and the head, then the GRU's */
    assert_true(never.calls >= 5 + gru_polls(frames));
    /* twice the input: the U-Net's polls stay, the GRU's follow its length */
    int frames2 = nn_stft_frames((size_t)(2 * n), RMVPE_HOP);
    assert_true(gru_polls(frames2) > gru_polls(frames));
    assert_int_equal(polls_of_pass(m, x, 2 * n) - never.calls, gru_polls(frames2) - gru_polls(frames));
    for (int k = 1; k <= never.calls; k++) { /* the last gru_polls(frames) of these are inside the GRU */
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
    poll never = {0, 1 << 30};
    assert_int_equal(rmvpe_f0_cancellable(m, x, n, b, NULL, NULL, asked, &never, &err), 0);
    assert_memory_equal(a, b, sizeof(double) * (size_t)frames);
    /* each window's pass polls as often as a lone pass of its length: the U-Net's share is the same
     * for any length (a 3 s pass less its GRU polls), the GRU's follows the window */
    int fixed = polls_of_pass(m, x, 3 * 16000) - gru_polls(nn_stft_frames(3 * 16000, RMVPE_HOP));
    int core = RMVPE_WINDOW - 2 * RMVPE_CONTEXT, first = fixed + gru_polls(core + RMVPE_CONTEXT);
    assert_true(frames <= 2 * core); /* two windows: [0, core + context), [core − context, frames) */
    assert_int_equal(never.calls, first + fixed + gru_polls(frames - (core - RMVPE_CONTEXT)));
    poll p = {0, first + 1};
    assert_int_equal(rmvpe_f0_cancellable(m, x, n, b, NULL, NULL, asked, &p, &err), -1);
    assert_int_equal(err.code, VC_ERR_CANCELLED);
    assert_int_equal(p.calls, first + 1);
    free(x); free(a); free(b);
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
