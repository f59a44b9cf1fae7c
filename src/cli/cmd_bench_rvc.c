/*
 * voiceclone bench rvc: the RVC conversion path at full size with random weights (the real
 * files cannot be downloaded everywhere; speed does not depend on the values): HuBERT base on
 * 10 s, RMVPE on 10 s, the v2 48 kHz synthesizer producing 10 s, then a whole 10 s conversion
 * through the official pipeline (reflect padding, high-pass, pitch, features, synthesis, RMS
 * mixing), each next to the PyTorch numbers of docs/PERFORMANCE.md ("PyTorch baseline"). The
 * peak RSS is that of this process after everything (all three models loaded at once, as a conversion job has).
 *   voiceclone bench rvc [hubert|rmvpe|synth|convert]   (one stage only)
 *   voiceclone bench rvc train [options]   full-size training steps (cmd_bench_rvc_train.c; by name only)
 *   voiceclone bench rvc cancel   the longest stretch without a cancel poll in HuBERT and RMVPE
 *                                 over 60 s of audio (by name only)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/bench.h"
#include "models/rvc/rvc_pipeline.h"
#include "models/rvc/rvc_specs.h"

#define BENCH_SECONDS 10

typedef struct rvc_bench_models {
    nn_weights *hubert_w, *rmvpe_w, *synth_w;
    hubert_model hubert;
    int hubert_ok;
    rmvpe *pitch;
    rvc_synth *synth;
} rvc_bench_models;

static void models_free(rvc_bench_models *m)
{
    rvc_synth_free(m->synth);
    rmvpe_free(m->pitch);
    if (m->hubert_ok) hubert_free(&m->hubert);
    nn_weights_free(m->hubert_w); nn_weights_free(m->rmvpe_w); nn_weights_free(m->synth_w);
}

/* Writes (once) and opens a random-weight file of the given specs. */
static int open_random(const char *name, nn_tensor_spec *specs, size_t n, nn_weights **w, vc_error *err)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[1024];
    snprintf(path, sizeof path, "%s/vcs-bench-%s.safetensors", dir, name);
    int rc = n ? bench_write_random(path, specs, n, err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    free(specs);
    return rc == 0 ? nn_weights_open(path, w, err) : -1;
}

static int synth_config(rvc_synth_config *c, vc_error *err)
{
    json_t *j = json_loads(RVC_V2_48K_CONFIG_JSON, 0, NULL);
    int rc = rvc_synth_config_parse(j, c, err);
    json_decref(j);
    c->phone_dim = 768;
    c->f0 = 1;
    return rc;
}

static int models_load(rvc_bench_models *m, vc_error *err)
{
    nn_tensor_spec *specs = NULL;
    rvc_synth_config c;
    size_t n = hubert_tensor_specs(&HUBERT_BASE, &specs);
    if (open_random("hubert-base", specs, n, &m->hubert_w, err)) return -1;
    n = rmvpe_tensor_specs(&RMVPE_FULL, &specs);
    if (open_random("rmvpe", specs, n, &m->rmvpe_w, err)) return -1;
    if (synth_config(&c, err)) return -1;
    n = rvc_synth_tensor_specs(&c, &specs);
    if (open_random("rvc-v2-48k", specs, n, &m->synth_w, err)) return -1;
    if (hubert_load(&m->hubert, m->hubert_w, "", 12, err)) return -1;
    m->hubert_ok = 1;
    if (rmvpe_load(&m->pitch, m->rmvpe_w, "", err)) return -1;
    return rvc_synth_load(&m->synth, m->synth_w, "", &c, err);
}

static void report(const char *bench, const char *shape, double seconds, double pytorch_avx2, double pytorch_unset)
{
    printf("{\"bench\":\"%s\",\"shape\":\"%s\",\"seconds\":%.3f,\"pytorch_seconds_avx2_cap\":%.2f,"
           "\"pytorch_seconds_env_unset\":%.2f,\"speedup_vs_avx2_cap\":%.2f,\"openblas_coretype\":\"%s\"}\n",
           bench, shape, seconds, pytorch_avx2, pytorch_unset, pytorch_avx2 / seconds,
           getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "unset");
    fflush(stdout);
}

static int bench_hubert(const rvc_bench_models *m, const float *wave, int n, vc_error *err)
{
    int frames = hubert_frames(&m->hubert, n);
    float *feats = malloc(sizeof(float) * (size_t)frames * 768);
    if (!feats) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    double t0 = bench_now();
    int rc = hubert_extract(&m->hubert, wave, n, 12, 0, feats, NULL, NULL, err);
    if (rc == 0) report("rvc_hubert_base", "10 s of 16 kHz audio, layer 12", bench_now() - t0, 1.77, 1.29);
    free(feats);
    return rc;
}

static int bench_rmvpe(const rvc_bench_models *m, const float *wave, int n, vc_error *err)
{
    double *f0 = malloc(sizeof(double) * (size_t)(n / 160 + 1));
    if (!f0) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    double t0 = bench_now();
    int rc = rmvpe_f0(m->pitch, wave, n, f0, err);
    if (rc == 0) report("rvc_rmvpe", "10 s of 16 kHz audio (1001 mel frames)", bench_now() - t0, 0.50, 0.31);
    free(f0);
    return rc;
}

static int bench_synth(const rvc_bench_models *m, vc_error *err)
{
    const int T = BENCH_SECONDS * 100; /* 100 frames a second, hop 480 at 48 kHz */
    float *phone = bench_random_buffer((size_t)T * 768, 21), *nsff0 = malloc(sizeof(float) * T);
    int64_t *pitch = malloc(sizeof(int64_t) * T);
    float *audio = malloc(sizeof(float) * (size_t)T * 480);
    int rc = phone && nsff0 && pitch && audio ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    for (int t = 0; rc == 0 && t < T; t++) { /* a voiced contour around 150 Hz with short pauses */
        nsff0[t] = t % 50 < 40 ? 150.0f + (float)(t % 40) : 0.0f;
        pitch[t] = nsff0[t] > 0 ? 60 + t % 40 : 1;
    }
    rvc_noise noise = {NULL, NULL, 7, NULL, NULL};
    double t0 = bench_now();
    if (rc == 0) rc = rvc_synth_infer(m->synth, phone, pitch, nsff0, T, 0, &noise, audio, NULL, NULL, err);
    if (rc == 0) report("rvc_synth_v2_48k", "10 s of output (1000 frames, 480 k samples)", bench_now() - t0, 8.49, 8.46);
    free(phone); free(nsff0); free(pitch); free(audio);
    return rc;
}

/* A whole conversion of 10 s of 16 kHz "speech" (a gliding tone with pauses: gives RMVPE's
 * decoder and the pipeline's quiet-point search something to do). No index. */
static int bench_conversion(const rvc_bench_models *m, vc_error *err)
{
    size_t n = BENCH_SECONDS * 16000;
    double *x = malloc(sizeof(double) * n);
    if (!x) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    double phase = 0;
    for (size_t i = 0; i < n; i++) {
        phase += 2 * 3.141592653589793 * (140 + 40 * (double)(i % 32000) / 32000) / 16000;
        x[i] = (i % 16000 < 12000) ? 0.3 * sin(phase) : 0.0;
    }
    rvc_voice v = {&m->hubert, m->pitch, m->synth, NULL, 0, 2};
    rvc_params p;
    rvc_params_default(&p);
    int16_t *out = NULL;
    size_t out_n = 0;
    double t0 = bench_now();
    int rc = rvc_convert(&v, x, n, &p, NULL, &out, &out_n, err);
    double t = bench_now() - t0;
    if (rc == 0) {
        report("rvc_conversion", "10 s of 16 kHz input → 48 kHz, v2, no index", t, 10.3, 10.3);
        printf("{\"bench\":\"rvc_real_time_factor\",\"input_seconds\":%d,\"seconds\":%.3f,\"rtf\":%.3f}\n", BENCH_SECONDS, t,
               t / BENCH_SECONDS);
    }
    free(x); free(out);
    return rc;
}

/* A cancel hook that never stops and times the stretches between its polls: the longest one
 * bounds how late a request is seen (docs/RVC.md, cancel latency). The stretch from the call to
 * the first poll and from the last poll to the return count too. Wall time depends on what else
 * the machine runs; the process's CPU seconds in the longest stretch (all threads) do not. */
typedef struct poll_clock { double last, last_cpu, worst, worst_cpu; int polls, worst_after; } poll_clock;

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static poll_clock poll_clock_start(void) { return (poll_clock){bench_now(), cpu_now(), 0, 0, 0, 0}; }

static void poll_mark(poll_clock *c, int end)
{
    double t = bench_now(), cpu = cpu_now();
    if (t - c->last > c->worst) {
        c->worst = t - c->last;
        c->worst_cpu = cpu - c->last_cpu;
        c->worst_after = end ? -1 : c->polls;
    }
    c->last = t;
    c->last_cpu = cpu;
}

static int poll_tick(void *ctx)
{
    poll_clock *c = ctx;
    poll_mark(c, 0);
    c->polls++;
    return 0;
}

static void report_polls(const char *bench, const char *shape, double t0, poll_clock *c)
{
    poll_mark(c, 1);
    /* worst_after: polls seen before the longest stretch began (0: from the call; -1: to the return) */
    printf("{\"bench\":\"%s\",\"shape\":\"%s\",\"seconds\":%.3f,\"polls\":%d,\"worst_gap_s\":%.3f,"
           "\"worst_gap_cpu_s\":%.3f,\"worst_after_polls\":%d}\n",
           bench, shape, bench_now() - t0, c->polls, c->worst, c->worst_cpu, c->worst_after);
    fflush(stdout);
}

#define CANCEL_SECONDS 60

static int bench_cancel(const rvc_bench_models *m, const float *wave, int n, vc_error *err)
{
    int frames = hubert_frames(&m->hubert, n);
    float *feats = malloc(sizeof(float) * (size_t)frames * 768);
    double *f0 = malloc(sizeof(double) * (size_t)(n / RMVPE_HOP + 1));
    int rc = feats && f0 ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    double t0 = bench_now();
    poll_clock c = poll_clock_start();
    if (rc == 0) rc = hubert_extract_cancellable(&m->hubert, wave, n, 12, 0, feats, poll_tick, &c, err);
    if (rc == 0) report_polls("rvc_cancel_gap_hubert", "60 s of 16 kHz audio, layer 12, one pass", t0, &c);
    t0 = bench_now();
    c = poll_clock_start();
    if (rc == 0) rc = rmvpe_f0_cancellable(m->pitch, wave, n, f0, NULL, NULL, poll_tick, &c, err);
    if (rc == 0) report_polls("rvc_cancel_gap_rmvpe", "60 s of 16 kHz audio, 2 windows of <= 4096 frames", t0, &c);
    free(feats); free(f0);
    return rc;
}

int bench_rvc(const char *only)
{
    if (only && !strcmp(only, "train")) return bench_rvc_train(0, NULL);
    if (only && !strcmp(only, "cancel")) return bench_rvc_cancel();
    rvc_bench_models m = {0};
    vc_error err = {0};
    int n = BENCH_SECONDS * 16000;
    float *wave = bench_random_buffer((size_t)n, 5);
    int rc = wave ? models_load(&m, &err) : vc_fail(&err, VC_ERR_NOMEM, "out of memory");
#define WANTS(stage) (!only || !strcmp(only, stage))
    if (rc == 0 && WANTS("hubert")) rc = bench_hubert(&m, wave, n, &err);
    if (rc == 0 && WANTS("rmvpe")) rc = bench_rmvpe(&m, wave, n, &err);
    if (rc == 0 && WANTS("synth")) rc = bench_synth(&m, &err);
    if (rc == 0 && WANTS("convert")) rc = bench_conversion(&m, &err);
#undef WANTS
    if (rc == 0)
        printf("{\"bench\":\"rvc_peak_rss\",\"peak_rss_mb\":%.0f,\"pytorch_peak_rss_mb_synth\":1500,"
               "\"pytorch_peak_rss_mb_hubert\":900}\n", bench_peak_rss_mb());
    else fprintf(stderr, "bench rvc: %s\n", err.message);
    free(wave);
    models_free(&m);
    return rc == 0 ? 0 : 1;
}

/* by name only: a minute of audio through HuBERT and RMVPE is slow next to the stages above */
int bench_rvc_cancel(void)
{
    rvc_bench_models m = {0};
    vc_error err = {0};
    int n = CANCEL_SECONDS * 16000;
    float *wave = bench_random_buffer((size_t)n, 5);
    int rc = wave ? models_load(&m, &err) : vc_fail(&err, VC_ERR_NOMEM, "out of memory");
    if (rc == 0) rc = bench_cancel(&m, wave, n, &err);
    if (rc != 0) fprintf(stderr, "bench rvc cancel: %s\n", err.message);
    free(wave);
    models_free(&m);
    return rc == 0 ? 0 : 1;
}
