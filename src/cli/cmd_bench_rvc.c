/*
 * voiceclone bench rvc: the RVC conversion path at full size with random weights (the real
 * files cannot be downloaded everywhere; speed does not depend on the values): HuBERT base on
 * 10 s, RMVPE on 10 s, the v2 48 kHz synthesizer producing 10 s, then a whole 10 s conversion
 * through the official pipeline (reflect padding, high-pass, pitch, features, synthesis, RMS
 * mixing), each next to the PyTorch numbers of docs/PERFORMANCE.md ("PyTorch baseline"). The
 * peak RSS is that of this process after everything (all three models loaded at once, as a conversion job has).
 * Each stage runs once cold, then BENCH_TIMED_RUNS times warm (bench_time_stage); "seconds" is
 * the warm median, as the PyTorch side reports (a warm-up, then the median of 3), and
 * "first_call_seconds" the cold run.
 *   voiceclone bench rvc [hubert|rmvpe|synth|convert]   (one stage only)
 *   voiceclone bench rvc shapes   every convolution of the synthesizer and RMVPE as they ran it
 *                                 against the same oneDNN primitive alone (by name only)
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
#include "nn/backend.h"
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


static void report(const char *bench, const char *shape, double cold, double seconds, double pytorch_avx2,
                   double pytorch_unset)
{
    printf("{\"bench\":\"%s\",\"shape\":\"%s\",\"seconds\":%.3f,\"first_call_seconds\":%.3f,\"timed_runs\":%d,"
           "\"pytorch_seconds_avx2_cap\":%.2f,\"pytorch_seconds_env_unset\":%.2f,\"speedup_vs_avx2_cap\":%.2f,"
           "\"openblas_coretype\":\"%s\"}\n",
           bench, shape, seconds, cold, BENCH_TIMED_RUNS, pytorch_avx2, pytorch_unset, pytorch_avx2 / seconds,
           getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "unset");
    fflush(stdout);
}

typedef struct hubert_run { const rvc_bench_models *m; const float *wave; int n; float *feats; } hubert_run;

static int run_hubert(void *arg, vc_error *err)
{
    hubert_run *r = arg;
    return hubert_extract(&r->m->hubert, r->wave, r->n, 12, 0, r->feats, NULL, NULL, err);
}

static int bench_hubert(const rvc_bench_models *m, const float *wave, int n, vc_error *err)
{
    hubert_run r = {m, wave, n, malloc(sizeof(float) * (size_t)hubert_frames(&m->hubert, n) * 768)};
    double cold = 0, t = 0;
    int rc = r.feats ? bench_time_stage(run_hubert, &r, &cold, &t, err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (rc == 0) report("rvc_hubert_base", "10 s of 16 kHz audio, layer 12", cold, t, 1.77, 1.29);
    free(r.feats);
    return rc;
}

typedef struct rmvpe_run { const rvc_bench_models *m; const float *wave; int n; double *f0; } rmvpe_run;

static int run_rmvpe(void *arg, vc_error *err)
{
    rmvpe_run *r = arg;
    return rmvpe_f0(r->m->pitch, r->wave, r->n, r->f0, err);
}

static int bench_rmvpe(const rvc_bench_models *m, const float *wave, int n, vc_error *err)
{
    rmvpe_run r = {m, wave, n, malloc(sizeof(double) * (size_t)(n / 160 + 1))};
    double cold = 0, t = 0;
    int rc = r.f0 ? bench_time_stage(run_rmvpe, &r, &cold, &t, err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (rc == 0) report("rvc_rmvpe", "10 s of 16 kHz audio (1001 mel frames)", cold, t, 0.50, 0.31);
    free(r.f0);
    return rc;
}

typedef struct synth_run {
    const rvc_bench_models *m;
    int T;
    float *phone, *nsff0, *audio;
    int64_t *pitch;
} synth_run;

static int run_synth(void *arg, vc_error *err)
{
    synth_run *r = arg;
    rvc_noise noise = {NULL, NULL, 7, NULL, NULL};
    return rvc_synth_infer(r->m->synth, r->phone, r->pitch, r->nsff0, r->T, 0, &noise, r->audio, NULL, NULL, err);
}

/* 10 s of synthesizer input: random features and a voiced contour around 150 Hz with short
 * pauses. 0 or -1 (out of memory; synth_run_free still applies). */
static int synth_run_init(synth_run *r, const rvc_bench_models *m, vc_error *err)
{
    const int T = BENCH_SECONDS * 100; /* 100 frames a second, hop 480 at 48 kHz */
    *r = (synth_run){m, T, bench_random_buffer((size_t)T * 768, 21), malloc(sizeof(float) * T),
                     malloc(sizeof(float) * (size_t)T * 480), malloc(sizeof(int64_t) * T)};
    if (!r->phone || !r->nsff0 || !r->pitch || !r->audio) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    for (int t = 0; t < T; t++) {
        r->nsff0[t] = t % 50 < 40 ? 150.0f + (float)(t % 40) : 0.0f;
        r->pitch[t] = r->nsff0[t] > 0 ? 60 + t % 40 : 1;
    }
    return 0;
}

static void synth_run_free(synth_run *r)
{
    free(r->phone); free(r->nsff0); free(r->pitch); free(r->audio);
}

static int bench_synth(const rvc_bench_models *m, vc_error *err)
{
    synth_run r;
    int rc = synth_run_init(&r, m, err);
    double cold = 0, t = 0;
    if (rc == 0) rc = bench_time_stage(run_synth, &r, &cold, &t, err);
    if (rc == 0) report("rvc_synth_v2_48k", "10 s of output (1000 frames, 480 k samples)", cold, t, 8.49, 8.46);
    synth_run_free(&r);
    return rc;
}

typedef struct conversion_run { const rvc_bench_models *m; const double *x; size_t n; } conversion_run;

static int run_conversion(void *arg, vc_error *err)
{
    conversion_run *r = arg;
    rvc_voice v = {&r->m->hubert, r->m->pitch, r->m->synth, NULL, 0, 2};
    rvc_params p;
    rvc_params_default(&p);
    int16_t *out = NULL;
    size_t out_n = 0;
    int rc = rvc_convert(&v, r->x, r->n, &p, NULL, &out, &out_n, err);
    free(out);
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
    conversion_run r = {m, x, n};
    double cold = 0, t = 0;
    int rc = bench_time_stage(run_conversion, &r, &cold, &t, err);
    if (rc == 0) {
        report("rvc_conversion", "10 s of 16 kHz input → 48 kHz, v2, no index", cold, t, 10.3, 10.3);
        printf("{\"bench\":\"rvc_real_time_factor\",\"input_seconds\":%d,\"seconds\":%.3f,\"rtf\":%.3f}\n", BENCH_SECONDS, t,
               t / BENCH_SECONDS);
    }
    free(x);
    return rc;
}

/* ---- per-shape rates: every convolution as the model ran it against the same primitive alone ---- */

static int print_shapes(const char *model, bench_stage_fn run, void *arg, vc_error *err)
{
    nn_ctx *c = nn_ctx_current();
    if (!c || !c->be->profile) return vc_fail(err, VC_ERR_INTERNAL, "this backend has no per-shape statistics");
    if (run(arg, err)) return -1; /* warm: primitives built, weights converted */
    c->be->profile(c, 1);
    double t0 = bench_now();
    int rc = run(arg, err);
    double total = bench_now() - t0;
    c->be->profile(c, 0);
    nn_op_stat *st = NULL;
    int n = 0;
    if (rc == 0) rc = c->be->profile_stats(c, &st, &n, err);
    double conv_s = 0, alone_s = 0, gflop = 0;
    int below = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        double ratio = st[i].alone_seconds * st[i].calls / st[i].seconds;
        conv_s += st[i].seconds;
        alone_s += st[i].alone_seconds * st[i].calls;
        gflop += st[i].gflop * st[i].calls;
        below += ratio < 0.85;
        printf("{\"bench\":\"conv_shape\",\"model\":\"%s\",\"what\":\"%s\",\"calls\":%ld,\"seconds\":%.4f,"
               "\"gflops_in_model\":%.1f,\"gflops_alone\":%.1f,\"ratio\":%.3f}\n",
               model, st[i].what, st[i].calls, st[i].seconds, st[i].gflop * st[i].calls / st[i].seconds,
               st[i].gflop / st[i].alone_seconds, ratio);
    }
    if (rc == 0)
        printf("{\"bench\":\"conv_shapes\",\"model\":\"%s\",\"isa\":\"%s\",\"precision\":\"%s\",\"shapes\":%d,"
               "\"shapes_below_85_percent\":%d,\"model_seconds\":%.3f,\"conv_seconds\":%.3f,\"conv_seconds_alone\":%.3f,"
               "\"time_weighted_ratio\":%.3f,\"conv_gflops_in_model\":%.1f}\n",
               model, nn_cpu_isa(), nn_precision_name(nn_precision_for(!strcmp(model, "synth") ? "rvc_synth" : model)), n,
               below, total, conv_s, alone_s, conv_s > 0 ? alone_s / conv_s : 0, conv_s > 0 ? gflop / conv_s : 0);
    fflush(stdout);
    free(st);
    return rc;
}

static int bench_shapes(const rvc_bench_models *m, const float *wave, int n, vc_error *err)
{
    synth_run sr;
    rmvpe_run rr = {m, wave, n, malloc(sizeof(double) * (size_t)(n / 160 + 1))};
    int rc = synth_run_init(&sr, m, err);
    if (rc == 0 && !rr.f0) rc = vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (rc == 0) rc = print_shapes("synth", run_synth, &sr, err);
    if (rc == 0) rc = print_shapes("rmvpe", run_rmvpe, &rr, err);
    synth_run_free(&sr);
    free(rr.f0);
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
    if (rc == 0 && only && !strcmp(only, "shapes")) rc = bench_shapes(&m, wave, n, &err); /* by name only */
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
