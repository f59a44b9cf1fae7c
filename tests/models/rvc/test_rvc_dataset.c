/*
 * rvc_dataset: a synthetic 'voice' (harmonic tones with gliding pitch between digital pauses)
 * becomes the pieces the official preprocessing would cut (counted from the recipe's rules:
 * pauses ≥ 0.4 s cut, ≤ 0.5 s of them kept, 3.7 s pieces every 3.4 s while more than 4 s
 * remain), each normalised and aligned at 100 frames/s with the tiny golden HuBERT/RMVPE;
 * the file round-trips exactly, damaged files are VC_ERR_CORRUPT, silent or broken audio is
 * VC_ERR_AUDIO_TOO_SHORT, the progress hook cancels, and the cancel hook is also asked inside
 * every piece's RMVPE pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>

#include "models/rmvpe/rmvpe.h"
#include "models/rvc/rvc_dataset.h"
#include "models/rvc/rvc_features.h"
#include "models/rvc/rvc_slicer.h"
#include "nn/sequence.h"
#include "support/test_audio.h"

#define SR 40000
#define HOP (SR / 100)
#define PHONE_DIM 96 /* the tiny HuBERT's embedding (v2 takes the last layer) */

static char WEIGHTS[64];
static rvc_dataset SET;       /* prepared once from the voice below */
static int SET_RC = -1;

/* pauses and voiced segments in seconds: pause, voice, pause, voice, … , pause */
static const double LAYOUT[] = {0.3, 2.8, 1.5, 8.0, 1.5, 5.5, 1.5, 2.0, 1.0};
#define LAYOUT_N (sizeof LAYOUT / sizeof LAYOUT[0])
/* pieces per voiced segment (+ ≤ 0.5 s of pause on each side): 3.6 → 1, 8.5 → 3, 6 → 2, 2.5 → 1 */
#define EXPECTED_PIECES 7
#define FULL_PIECES 3 /* exactly 3.7 s long */
/* After the causal high-pass the pause after a voice decays, so its quietest frame is the last
 * one the Slicer may keep (0.5 s after the voice) while the cut before a voice falls just before
 * it: segment 2 (8.0 s + 0.5 s) gives 3.7, 3.7 and the 1.7 s rest (from 6.8 s), and so on. */
static const double PIECE_SECONDS[EXPECTED_PIECES] = {3.6, 3.7, 3.7, 1.72, 3.7, 2.62, 2.52};

static const char *root(void)
{
    const char *r = getenv("VCS_TEST_ROOT");
    return r ? r : ".";
}

/* Three harmonics of an f0 gliding 110 → 220 Hz, 10 ms fades, peak < 0.55. */
static void voice_segment(float *x, int64_t n, int rate, double f0_from, double f0_to)
{
    double phase = 0;
    for (int64_t i = 0; i < n; i++) {
        double f0 = f0_from + (f0_to - f0_from) * (double)i / (double)n, fade = 1.0;
        phase += 2 * M_PI * f0 / rate;
        if (i < rate / 100) fade = (double)i / (rate / 100);
        if (n - i < rate / 100) fade = (double)(n - i) / (rate / 100);
        x[i] = (float)(fade * (0.3 * sin(phase) + 0.15 * sin(2 * phase) + 0.08 * sin(3 * phase)));
    }
}

static float *make_voice(int rate, int64_t *n)
{
    double total = 0;
    for (size_t k = 0; k < LAYOUT_N; k++) total += LAYOUT[k];
    *n = (int64_t)(total * rate);
    float *x = calloc((size_t)*n, sizeof(float));
    int64_t at = 0;
    for (size_t k = 0; k < LAYOUT_N; k++) {
        int64_t len = (int64_t)(LAYOUT[k] * rate);
        if (k % 2) voice_segment(x + at, len, rate, 110.0, 220.0);
        at += len;
    }
    return x;
}

static rvc_dataset_options options(int (*progress)(void *, const char *, double))
{
    return (rvc_dataset_options){.sr = SR, .version = 2, .f0 = 1, .weights_root = WEIGHTS, .progress = progress};
}

static int setup(void **state)
{
    char cmd[1024];
    snprintf(WEIGHTS, sizeof WEIGHTS, "/tmp/vcs-rvc-dataset-XXXXXX");
    if (!mkdtemp(WEIGHTS)) return -1;
    snprintf(cmd, sizeof cmd, "mkdir -p %s/hubert %s/rmvpe && cp %s/tests/golden/rvc/hubert_small/hubert_fairseq_style.pt %s/hubert/hubert_base.pt"
             " && cp %s/tests/golden/rvc/rmvpe_small/rmvpe.safetensors %s/rmvpe/rmvpe.pt", WEIGHTS, WEIGHTS, root(), WEIGHTS, root(), WEIGHTS);
    if (system(cmd) != 0) return -1;
    int64_t n;
    float *x = make_voice(SR, &n);
    rvc_dataset_options o = options(NULL);
    vc_error err = {0};
    SET_RC = rvc_dataset_prepare_audio(x, n, SR, &o, &SET, &err);
    if (SET_RC != 0) fprintf(stderr, "prepare: %s\n", err.message);
    free(x);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    rvc_dataset_free(&SET);
    snprintf(cmd, sizeof cmd, "rm -rf %s", WEIGHTS);
    return system(cmd) == 0 ? 0 : -1;
}

static void slicer_cuts_at_the_pauses(void **state)
{
    int64_t n;
    float *x = make_voice(SR, &n);
    double *xd = malloc(sizeof(double) * (size_t)n);
    for (int64_t i = 0; i < n; i++) xd[i] = x[i];
    rvc_span *spans;
    int count;
    vc_error err;
    assert_int_equal(rvc_slice(xd, n, SR, &spans, &count, &err), 0);
    assert_int_equal(count, (int)LAYOUT_N / 2);
    double at = LAYOUT[0];
    for (int k = 0; k < count; k++) {
        double begin = (double)spans[k].begin / SR, end = (double)spans[k].end / SR, voice = LAYOUT[2 * k + 1];
        /* ≤ 0.5 s of pause kept, measured from the first frame whose centred window is silent */
        assert_true(begin <= at + 0.001 && begin >= at - 0.5 - 0.04);
        assert_true(end >= at + voice - 0.001 && end <= at + voice + 0.5 + 0.04);
        at += voice + LAYOUT[2 * k + 2];
    }
    free(spans); free(xd); free(x);
}

static void voice_becomes_the_recipes_pieces(void **state)
{
    assert_int_equal(SET_RC, 0);
    assert_int_equal(SET.sr, SR);
    assert_int_equal(SET.hop, HOP);
    assert_int_equal(SET.phone_dim, PHONE_DIM);
    assert_int_equal(SET.f0, 1);
    assert_int_equal(SET.version, 2);
    assert_int_equal(SET.n, EXPECTED_PIECES);
    int full = 0;
    for (int i = 0; i < SET.n; i++) {
        /* a 3.7 s piece: 148000 samples → 59200 at 16 kHz → 184 HuBERT frames → 368 (< 371 pitch, 370 wave) */
        if (SET.items[i].frames == 368) full++;
        double seconds = SET.items[i].frames / 100.0;
        if (fabs(seconds - PIECE_SECONDS[i]) > 0.08) fail_msg("piece %d: %.2f s, expected about %.2f s", i, seconds, PIECE_SECONDS[i]);
    }
    assert_int_equal(full, FULL_PIECES);
}

static void pieces_are_normalised(void **state)
{
    assert_int_equal(SET_RC, 0);
    for (int i = 0; i < SET.n; i++) {
        const rvc_train_item *it = &SET.items[i];
        float peak = 0;
        for (int64_t k = 0; k < (int64_t)it->frames * HOP; k++) peak = fmaxf(peak, fabsf(it->wave[k]));
        /* 0.9 · 0.75 + 0.25 · source peak (about 0.5 here) */
        assert_true(peak > 0.74f && peak < 0.82f);
    }
}

static void streams_are_aligned_at_100_fps(void **state)
{
    assert_int_equal(SET_RC, 0);
    for (int i = 0; i < SET.n; i++) {
        const rvc_train_item *it = &SET.items[i];
        assert_non_null(it->phone);
        assert_non_null(it->pitch);
        assert_non_null(it->pitchf);
        for (int t = 0; t + 1 < it->frames; t += 2) /* HuBERT's 50 frames/s, each row twice */
            assert_memory_equal(it->phone + (size_t)t * PHONE_DIM, it->phone + (size_t)(t + 1) * PHONE_DIM, PHONE_DIM * sizeof(float));
        double *f0 = malloc(sizeof(double) * (size_t)it->frames);
        int64_t *coarse = malloc(sizeof(int64_t) * (size_t)it->frames);
        for (int t = 0; t < it->frames; t++) { f0[t] = it->pitchf[t]; assert_true(it->pitchf[t] >= 0); }
        rvc_f0_coarse(f0, it->frames, coarse);
        for (int t = 0; t < it->frames; t++) {
            assert_true(it->pitch[t] >= 1 && it->pitch[t] <= 255);
            assert_true(llabs(coarse[t] - it->pitch[t]) <= 1); /* pitchf is the float32 copy */
        }
        free(f0); free(coarse);
    }
}

static void feature_rows_undo_the_repetition(void **state)
{
    assert_int_equal(SET_RC, 0);
    float *rows;
    int64_t n, want = 0;
    vc_error err;
    for (int i = 0; i < SET.n; i++) want += (SET.items[i].frames + 1) / 2;
    assert_int_equal(rvc_dataset_feature_rows(&SET, &rows, &n, &err), 0);
    assert_int_equal(n, want);
    assert_memory_equal(rows + PHONE_DIM, SET.items[0].phone + 2 * PHONE_DIM, PHONE_DIM * sizeof(float));
    free(rows);
}

static void save_load_round_trip_and_damage(void **state)
{
    assert_int_equal(SET_RC, 0);
    char path[128];
    snprintf(path, sizeof path, "%s/set.safetensors", WEIGHTS);
    vc_error err;
    rvc_dataset back;
    assert_int_equal(rvc_dataset_save(&SET, path, &err), 0);
    assert_int_equal(rvc_dataset_load(&back, path, &err), 0);
    assert_int_equal(back.n, SET.n);
    assert_int_equal(back.sr, SET.sr);
    assert_int_equal(back.hop, SET.hop);
    assert_int_equal(back.phone_dim, SET.phone_dim);
    assert_int_equal(back.f0, SET.f0);
    assert_int_equal(back.version, SET.version);
    for (int i = 0; i < SET.n; i++) {
        const rvc_train_item *a = &SET.items[i], *b = &back.items[i];
        assert_int_equal(a->frames, b->frames);
        assert_memory_equal(a->phone, b->phone, sizeof(float) * (size_t)a->frames * PHONE_DIM);
        assert_memory_equal(a->wave, b->wave, sizeof(float) * (size_t)a->frames * HOP);
        assert_memory_equal(a->pitch, b->pitch, sizeof(int64_t) * (size_t)a->frames);
        assert_memory_equal(a->pitchf, b->pitchf, sizeof(float) * (size_t)a->frames);
    }
    rvc_dataset_free(&back);
    assert_int_equal(test_file_truncate(path, 0.6), 0);
    assert_int_equal(rvc_dataset_load(&back, path, &err), -1);
    assert_int_equal(err.code, VC_ERR_CORRUPT);
    assert_int_equal(back.n, 0);
    assert_int_equal(test_file_random(path, 4096), 0);
    assert_int_equal(rvc_dataset_load(&back, path, &err), -1);
    assert_int_equal(err.code, VC_ERR_CORRUPT);
    assert_int_equal(rvc_dataset_load(&back, "/nonexistent/set.safetensors", &err), -1);
    assert_int_equal(err.code, VC_ERR_NOT_FOUND);
    unlink(path);
}

static void silent_or_broken_audio_is_too_short(void **state)
{
    int64_t n = 5 * SR;
    float *x = calloc((size_t)n, sizeof(float));
    rvc_dataset d;
    rvc_dataset_options o = options(NULL);
    vc_error err;
    assert_int_equal(rvc_dataset_prepare_audio(x, n, SR, &o, &d, &err), -1);
    assert_int_equal(err.code, VC_ERR_AUDIO_TOO_SHORT);
    assert_int_equal(d.n, 0);
    voice_segment(x + SR, 3 * SR, SR, 150, 160); /* a 'voice' peaking far above full scale: dropped */
    for (int64_t i = 0; i < n; i++) x[i] *= 8.0f;
    assert_int_equal(rvc_dataset_prepare_audio(x, n, SR, &o, &d, &err), -1);
    assert_int_equal(err.code, VC_ERR_AUDIO_TOO_SHORT);
    free(x);
}

static int cancel_features(void *ctx, const char *phase, double fraction) { return strcmp(phase, "features") == 0 && fraction > 0; }

static void progress_cancels(void **state)
{
    int64_t n;
    float *x = make_voice(SR, &n);
    rvc_dataset d;
    rvc_dataset_options o = options(cancel_features);
    vc_error err;
    assert_int_equal(rvc_dataset_prepare_audio(x, n, SR, &o, &d, &err), -1);
    assert_int_equal(err.code, VC_ERR_CANCELLED);
    assert_int_equal(d.n, 0);
    assert_null(d.items);
    free(x);
}

/* The cancel poll runs before each piece's HuBERT pass, inside it, again before its RMVPE pass and
 * inside that: a request seen at the second poll stops inside the first piece. */
static int cancel_on_second_poll(void *ctx) { return ++*(int *)ctx >= 2; }

static void cancel_between_hubert_and_rmvpe(void **state)
{
    int64_t n;
    float *x = make_voice(SR, &n);
    rvc_dataset d;
    rvc_dataset_options o = options(NULL);
    int polls = 0;
    o.cancelled = cancel_on_second_poll;
    o.ctx = &polls;
    vc_error err;
    assert_int_equal(rvc_dataset_prepare_audio(x, n, SR, &o, &d, &err), -1);
    assert_int_equal(err.code, VC_ERR_CANCELLED);
    assert_int_equal(polls, 2);
    assert_null(d.items);
    free(x);
}

static int count_polls(void *ctx) { ++*(int *)ctx; return 0; }

/* The BiGRU's polls in one RMVPE pass over `frames` mel frames (padded to a multiple of 32). */
static int bigru_polls(int frames)
{
    int T = 32 * ((frames - 1) / 32 + 1);
    return 2 * ((T + NN_GRU_POLL_STEPS - 1) / NN_GRU_POLL_STEPS);
}

/* The polls of one pass of the tiny RMVPE over 32 frames (each piece is one window). */
static int rmvpe_pass_polls(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/rmvpe/rmvpe.pt", WEIGHTS);
    nn_weights *w = NULL;
    rmvpe *m = NULL;
    vc_error err;
    if (nn_weights_open(path, &w, &err) != 0 || rmvpe_load(&m, w, "", &err) != 0) fail_msg("%s", err.message);
    float mel[32 * RMVPE_MELS] = {0}, sal[32 * RMVPE_BINS];
    int polls = 0;
    assert_int_equal(rmvpe_salience_cancellable(m, mel, 32, sal, count_polls, &polls, &err), 0);
    rmvpe_free(m);
    nn_weights_free(w);
    return polls;
}

/* With pitch, each piece adds the poll before its RMVPE pass and every poll inside that pass, the
 * BiGRU's included. */
static void cancel_is_asked_inside_each_rmvpe_pass(void **state)
{
    int64_t n;
    float *x = make_voice(SR, &n);
    int polls[2] = {0, 0};
    rvc_dataset d[2];
    for (int f0 = 0; f0 < 2; f0++) {
        rvc_dataset_options o = options(NULL);
        o.f0 = f0;
        o.cancelled = count_polls;
        o.ctx = &polls[f0];
        vc_error err;
        assert_int_equal(rvc_dataset_prepare_audio(x, n, SR, &o, &d[f0], &err), 0);
        assert_int_equal(d[f0].n, EXPECTED_PIECES);
    }
    /* a pass polls in the U-Net (the same for any length) and in the BiGRU (by length); a piece's
     * mel frames are its aligned frames + 0..6 (the aligned streams are cut to the shortest) */
    int fixed = rmvpe_pass_polls() - bigru_polls(32), lo = 0, hi = 0;
    assert_true(fixed >= 6);
    for (int i = 0; i < d[1].n; i++) {
        lo += 1 + fixed + bigru_polls(d[1].items[i].frames);
        hi += 1 + fixed + bigru_polls(d[1].items[i].frames + 6);
    }
    print_message("%d polls for the pitch of %d pieces (%d..%d)\n", polls[1] - polls[0], d[1].n, lo, hi);
    if (polls[1] - polls[0] < lo || polls[1] - polls[0] > hi)
        fail_msg("%d polls for the pitch of %d pieces, expected %d..%d", polls[1] - polls[0], d[1].n, lo, hi);
    rvc_dataset_free(&d[0]);
    rvc_dataset_free(&d[1]);
    free(x);
}

static void file_at_another_rate_and_missing_models(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/voice.wav", WEIGHTS);
    assert_int_equal(test_audio_tone(path, 44100, 1, 2.5, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5), 0);
    rvc_dataset d;
    rvc_dataset_options o = options(NULL);
    o.f0 = 0;
    vc_error err;
    assert_int_equal(rvc_dataset_prepare(path, &o, &d, &err), 0);
    assert_int_equal(d.n, 1);
    assert_null(d.items[0].pitch);
    assert_true(d.items[0].frames > 230 && d.items[0].frames <= 250);
    rvc_dataset_free(&d);
    o.weights_root = "/nonexistent";
    assert_int_equal(rvc_dataset_prepare(path, &o, &d, &err), -1);
    assert_int_equal(err.code, VC_ERR_WEIGHTS_MISSING);
    o = options(NULL);
    o.sr = 44100;
    assert_int_equal(rvc_dataset_prepare(path, &o, &d, &err), -1);
    assert_int_equal(err.code, VC_ERR_INVALID_REQUEST);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slicer_cuts_at_the_pauses),
        cmocka_unit_test(voice_becomes_the_recipes_pieces),
        cmocka_unit_test(pieces_are_normalised),
        cmocka_unit_test(streams_are_aligned_at_100_fps),
        cmocka_unit_test(feature_rows_undo_the_repetition),
        cmocka_unit_test(save_load_round_trip_and_damage),
        cmocka_unit_test(silent_or_broken_audio_is_too_short),
        cmocka_unit_test(progress_cancels),
        cmocka_unit_test(cancel_between_hubert_and_rmvpe),
        cmocka_unit_test(cancel_is_asked_inside_each_rmvpe_pass),
        cmocka_unit_test(file_at_another_rate_and_missing_models),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
