/*
 * voiceclone bench gemm|f5tts|all: speed of the engine, one JSON object per line.
 *
 *   gemm   linear, grouped conv1d and attention at the sizes of the full models, each next to
 *          the backend's plain sgemm (nn_gemm) at the equivalent matrix sizes in the same run, plus the
 *          CPU's theoretical fp32 peak (FMA width from its flags × measured clock × cores).
 *   f5tts  full-size F5TTS_v1_Base + Vocos with random weights: load time of the 1.3 GB
 *          safetensors file (page cache warm), DiT forward (batch 2 = CFG) at 500 frames, Vocos
 *          on 1000 frames, peak RSS; next to the PyTorch baseline in docs/PERFORMANCE.md.
 *   f5tts-gen  full generations (5 s reference + ~5 s speech) at 32 and 16 steps: RTF, peak RSS
 *   rvc    full-size HuBERT base, RMVPE and the v2 48k synthesizer, then a whole conversion
 *          (cmd_bench_rvc.c).
 * Set TMPDIR to choose where the random weight files go (about 1.4 GB + 0.9 GB).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/bench.h"
#include "nn/backend.h"
#include "nn/conv.h"
#include "cli/cli.h"
#include "jobs/jobs.h"
#include "models/f5tts/f5tts.h"
#include "models/f5tts/f5tts_infer.h"
#include "models/f5tts/f5tts_specs.h"
#include "models/vocos/vocos.h"
#include "nn/layers.h"
#include "nn/pool.h"

double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int bench_time_stage(bench_stage_fn run, void *arg, double *cold, double *median, vc_error *err)
{
    double t[BENCH_TIMED_RUNS];
    double t0 = bench_now();
    if (run(arg, err)) return -1;
    *cold = bench_now() - t0;
    for (int i = 0; i < BENCH_TIMED_RUNS; i++) {
        t0 = bench_now();
        if (run(arg, err)) return -1;
        t[i] = bench_now() - t0;
    }
    qsort(t, BENCH_TIMED_RUNS, sizeof t[0], cmp_double);
    *median = t[BENCH_TIMED_RUNS / 2];
    return 0;
}

static void fill_random(float *x, size_t n, unsigned long long seed, float scale)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = scale * ((float)(seed >> 40) / 16777216.0f - 0.5f);
    }
}

float *bench_random_buffer(size_t n, unsigned long long seed)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    if (x) fill_random(x, n, seed, 1.0f);
    return x;
}

/* ---- CPU peak ------------------------------------------------------------------------ */

/* Clock from a chain of dependent adds (one per cycle on every x86 core of the last decade). */
static double measured_ghz(void)
{
    volatile long sink;
    long x = 0;
    const long n = 400000000;
    double t0 = bench_now();
    for (long i = 0; i < n; i++) __asm__ volatile("add $1, %0" : "+r"(x));
    double t = bench_now() - t0;
    sink = x;
    (void)sink;
    return (double)n / t / 1e9;
}

static void print_peak(void)
{
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f"), fma = __builtin_cpu_supports("fma");
    int flops_per_cycle = avx512 ? 64 : fma ? 32 : 8; /* 2 FMA pipes × lanes × 2 */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double ghz = measured_ghz();
    printf("{\"bench\":\"cpu_peak\",\"cores\":%ld,\"ghz\":%.2f,\"isa\":\"%s\",\"flops_per_cycle_per_core\":%d,"
           "\"peak_gflops\":%.1f}\n", cores, ghz, avx512 ? "avx512" : fma ? "avx2+fma" : "sse", flops_per_cycle,
           ghz * flops_per_cycle * (double)cores);
}

/* ---- matrix-multiply-class ops ---------------------------------------------------------- */

static double time_sgemm(int M, int N, int K, int repeat_groups)
{
    float *a = bench_random_buffer((size_t)M * K, 1), *b = bench_random_buffer((size_t)N * K, 2), *c = malloc(sizeof(float) * (size_t)M * N);
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = bench_now();
        for (int g = 0; g < repeat_groups; g++)
            nn_gemm(0, 1, M, N, K, 1.0f, a, K, b, K, 0.0f, c, N);
        best = fmin(best, bench_now() - t0);
    }
    free(a); free(b); free(c);
    return best;
}

static void report(const char *bench, const char *shape, double flops, double t_op, double t_sgemm)
{
    printf("{\"bench\":\"%s\",\"shape\":\"%s\",\"seconds\":%.5f,\"gflops\":%.1f,\"sgemm_gflops\":%.1f,\"ratio\":%.2f}\n",
           bench, shape, t_op, flops / t_op / 1e9, flops / t_sgemm / 1e9, t_sgemm / t_op);
}

static void bench_linear(const char *model, int rows, int n_in, int n_out)
{
    float *x = bench_random_buffer((size_t)rows * n_in, 3), *w = bench_random_buffer((size_t)n_out * n_in, 4);
    float *b = bench_random_buffer((size_t)n_out, 5), *y = malloc(sizeof(float) * (size_t)rows * n_out);
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = bench_now();
        nn_linear(y, x, w, b, rows, n_in, n_out);
        best = fmin(best, bench_now() - t0);
    }
    char shape[96];
    snprintf(shape, sizeof shape, "%s linear [%d,%d]x[%d,%d]^T", model, rows, n_in, n_out, n_in);
    report("linear", shape, 2.0 * rows * n_in * n_out, best, time_sgemm(rows, n_out, n_in, 1));
    free(x); free(w); free(b); free(y);
}

static void bench_conv(const char *model, int T, int C, int k, int groups)
{
    float *x = bench_random_buffer((size_t)T * C, 6), *w = bench_random_buffer((size_t)C * (C / groups) * k, 7);
    float *y = malloc(sizeof(float) * (size_t)T * C);
    nn_conv1d_desc d = {C, C, k, 1, 1, k / 2, k / 2, groups};
    vc_error err = {0};
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = bench_now();
        if (nn_conv1d(y, x, T, w, NULL, &d, &err)) { fprintf(stderr, "bench conv1d: %s\n", err.message); break; }
        best = fmin(best, bench_now() - t0);
    }
    char shape[96];
    snprintf(shape, sizeof shape, "%s conv1d T=%d C=%d k=%d groups=%d", model, T, C, k, groups);
    report("conv1d", shape, 2.0 * T * C * (C / groups) * k, best, time_sgemm(T, C / groups, (C / groups) * k, groups));
    free(x); free(w); free(y);
}

/* With the engine's thread pool, as the models run it (the softmax rows are split over it). */
static void bench_attention(const char *model, int T, int heads, int dh)
{
    size_t n = (size_t)T * heads * dh;
    float *q = bench_random_buffer(n, 8), *k = bench_random_buffer(n, 9), *v = bench_random_buffer(n, 10), *o = malloc(sizeof(float) * n);
    float *scratch = malloc(sizeof(float) * nn_attention_scratch(T, dh));
    nn_pool *pool = NULL;
    vc_error err;
    if (nn_pool_create(&pool, nn_pool_default_threads(), &err) != 0) pool = NULL; /* then serial */
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = bench_now();
        nn_attention_par(pool, o, q, k, v, T, heads, dh, 0.125f, scratch);
        best = fmin(best, bench_now() - t0);
    }
    nn_pool_free(pool);
    double t_gemm = time_sgemm(T, T, dh, heads) + time_sgemm(T, dh, T, heads);
    char shape[96];
    snprintf(shape, sizeof shape, "%s attention T=%d heads=%d dh=%d", model, T, heads, dh);
    report("attention", shape, 4.0 * T * T * dh * heads, best, t_gemm);
    free(q); free(k); free(v); free(o); free(scratch);
}

static int bench_gemm(void)
{
    print_peak();
    bench_linear("f5tts qkv/out", 2000, 1024, 1024);
    bench_linear("f5tts ff1", 2000, 1024, 2048);
    bench_linear("f5tts ff2", 2000, 2048, 1024);
    bench_linear("vocos pwconv1", 1000, 512, 1536);
    bench_linear("hubert ffn", 500, 768, 3072);
    bench_conv("f5tts conv_pos", 1000, 1024, 31, 16);
    bench_conv("vocos embed-like dense", 1000, 512, 7, 1);
    bench_attention("f5tts", 1000, 16, 64);
    bench_attention("hubert", 500, 12, 64);
    return 0;
}

/* ---- full-size F5-TTS ---------------------------------------------------------------- */

typedef struct fill_ctx { const nn_tensor_spec *specs; } fill_ctx;

static void fill_weights(void *ctx, size_t index, float *dst, int64_t numel)
{
    const fill_ctx *c = ctx;
    /* small values keep activations finite; norm scales and BatchNorm variances get 1 */
    int is_scale = strstr(c->specs[index].name, "norm.weight") || strstr(c->specs[index].name, "gamma") ||
                   strstr(c->specs[index].name, "running_var");
    fill_random(dst, (size_t)numel, 1000 + index, is_scale ? 0.0f : 0.04f);
    if (is_scale)
        for (int64_t i = 0; i < numel; i++) dst[i] = 1.0f;
}

int bench_write_random(const char *path, nn_tensor_spec *specs, size_t n, vc_error *err)
{
    if (access(path, R_OK) == 0) return 0; /* reuse a file from an earlier run */
    fill_ctx c = {specs};
    return nn_safetensors_write(path, specs, n, fill_weights, &c, err);
}

double bench_peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

typedef struct dit_run {
    const f5tts_model *m;
    const float *x, *cond, *text;
    float *out;
    int frames;
} dit_run;

static int run_dit(void *arg, vc_error *err)
{
    const dit_run *r = arg;
    return f5_dit_forward(r->m, r->x, r->cond, r->text, 2, r->frames, 0.5f, r->out, NULL, NULL, err);
}

static int bench_dit(const f5tts_model *m, int frames)
{
    size_t rows = 2 * (size_t)frames;
    float *x = bench_random_buffer(rows * F5_MEL_DIM, 11), *cond = bench_random_buffer(rows * F5_MEL_DIM, 12);
    float *text = bench_random_buffer(rows * (size_t)m->text_dim, 13), *out = malloc(sizeof(float) * rows * F5_MEL_DIM);
    vc_error err;
    /* the first call of a length builds its primitives (and the model's first converts its weights) */
    dit_run r = {m, x, cond, text, out, frames};
    double cold, median;
    int rc = bench_time_stage(run_dit, &r, &cold, &median, &err);
    double baseline = frames == 500 ? 4.35 : 9.36, baseline_avx2 = frames == 500 ? 6.14 : 11.82;
    if (rc == 0)
        printf("{\"bench\":\"f5tts_dit_forward\",\"shape\":\"batch 2 (CFG), %d frames, F5TTS_v1_Base\",\"seconds\":%.2f,"
               "\"first_call_seconds\":%.2f,\"pytorch_seconds_avx512\":%.2f,\"pytorch_seconds_avx2_cap\":%.2f,"
               "\"openblas_coretype\":\"%s\"}\n",
               frames, median, cold, baseline, baseline_avx2, getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "unset");
    else fprintf(stderr, "bench: %s\n", err.message);
    free(x); free(cond); free(text); free(out);
    return rc;
}

typedef struct vocos_run {
    const vocos_model *m;
    const float *mel;
    float *wave;
    int frames;
} vocos_run;

static int run_vocos(void *arg, vc_error *err)
{
    const vocos_run *r = arg;
    return vocos_decode(r->m, r->mel, r->frames, r->wave, NULL, NULL, err);
}

static int bench_vocos(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/vcs-bench-vocos.safetensors", dir);
    nn_tensor_spec *specs;
    size_t n = vocos_tensor_specs(&VOCOS_MEL_24KHZ, &specs);
    vc_error err;
    nn_weights *w = NULL;
    vocos_model m;
    int rc = -1, F = 1000;
    float *mel = bench_random_buffer((size_t)F * 100, 14), *wave = malloc(sizeof(float) * (size_t)(F - 1) * 256);
    if (n && bench_write_random(path, specs, n, &err) == 0 && nn_weights_open(path, &w, &err) == 0 && vocos_load(&m, w, &err) == 0) {
        vocos_run r = {&m, mel, wave, F};
        double cold, median;
        rc = bench_time_stage(run_vocos, &r, &cold, &median, &err);
        if (rc == 0)
            printf("{\"bench\":\"vocos_decode\",\"shape\":\"%d frames, vocos-mel-24khz\",\"seconds\":%.3f,"
                   "\"first_call_seconds\":%.3f,\"pytorch_seconds_avx512\":0.25,\"pytorch_seconds_avx2_cap\":0.345}\n",
                   F, median, cold);
        vocos_free(&m);
    }
    if (rc != 0) fprintf(stderr, "bench vocos: %s\n", err.message);
    nn_weights_free(w);
    free(specs); free(mel); free(wave);
    return rc;
}

static int bench_f5tts(void)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[1024];
    snprintf(path, sizeof path, "%s/vcs-bench-f5tts-v1-base.safetensors", dir);
    nn_tensor_spec *specs;
    size_t n = f5tts_tensor_specs(&F5TTS_V1_BASE, &specs);
    vc_error err;
    nn_weights *w = NULL;
    f5tts_model m;
    int rc = -1;
    if (n && bench_write_random(path, specs, n, &err) == 0 && nn_weights_open(path, &w, &err) == 0) {
        nn_weights_free(w); /* the first open warms the page cache; time the second */
        double rss0 = bench_peak_rss_mb(), t0 = bench_now();
        rc = nn_weights_open(path, &w, &err);
        double t = bench_now() - t0;
        if (rc == 0)
            printf("{\"bench\":\"f5tts_load\",\"shape\":\"1.35 GB fp32 safetensors, page cache warm\",\"seconds\":%.3f,"
                   "\"peak_rss_growth_mb\":%.1f,\"target_seconds\":1.0}\n", t, bench_peak_rss_mb() - rss0);
    }
    if (rc == 0 && (rc = f5tts_load(&m, w, &err)) == 0) {
        bench_dit(&m, 500);
        bench_dit(&m, 1000);
        f5tts_free(&m);
    }
    if (rc != 0) fprintf(stderr, "bench f5tts: %s\n", err.message);
    nn_weights_free(w);
    free(specs);
    bench_vocos(dir);
    printf("{\"bench\":\"f5tts_peak_rss\",\"peak_rss_mb\":%.0f,\"pytorch_peak_rss_mb\":1963}\n", bench_peak_rss_mb());
    return rc == 0 ? 0 : 1;
}

/* ---- F5-TTS full generation ------------------------------------------------------------------ */

/* A vocab.txt of the released size (2545 entries: the characters the bench text uses, then
 * fillers), so the random-weight model runs the real text path. */
static int write_bench_vocab(const char *path, vc_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f) return vc_fail(err, VC_ERR_IO, "cannot write %s", path);
    fputs(" \n", f);
    for (int c = 33; c < 127; c++) fprintf(f, "%c\n", c);
    for (int i = 95; i < 2545; i++) fprintf(f, "<filler%d>\n", i);
    return fclose(f) == 0 ? 0 : vc_fail(err, VC_ERR_IO, "cannot write %s", path);
}

/* 5 s of reference (a voiced-like tone) + ~5 s of generated speech, at nfe steps: seconds,
 * real-time factor (generation time / generated seconds), peak RSS. */
static int bench_generation(const f5tts_engine *e, int nfe)
{
    size_t n = 5 * F5_SAMPLE_RATE;
    audio_buffer ref = {malloc(sizeof(float) * n), n, F5_SAMPLE_RATE}, out = {0};
    if (!ref.samples) return -1;
    for (size_t i = 0; i < n; i++) ref.samples[i] = 0.2f * sinf(2 * 3.14159265f * 150 * (float)i / F5_SAMPLE_RATE) * (i % 12000 < 9000);
    f5tts_params p;
    f5tts_params_default(&p);
    p.sampler.nfe = nfe;
    p.clip_reference = 0;
    vc_error err;
    const char *ref_text = "This is the reference clip that I recorded for the studio.";
    const char *text = "And this is what the cloned voice says now, in about five seconds.";
    double t0 = bench_now();
    int rc = f5tts_synthesize(e, &ref, ref_text, text, &p, NULL, NULL, &out, NULL, NULL, &err);
    double t = bench_now() - t0, secs = (double)out.frames / F5_SAMPLE_RATE;
    if (rc == 0)
        printf("{\"bench\":\"f5tts_generation\",\"nfe\":%d,\"reference_seconds\":5,\"generated_seconds\":%.2f,\"seconds\":%.1f,"
               "\"rtf\":%.1f,\"peak_rss_mb\":%.0f,\"pytorch_seconds_32_steps_avx512\":280}\n",
               nfe, secs, t, secs > 0 ? t / secs : 0, bench_peak_rss_mb());
    else fprintf(stderr, "bench f5tts-gen: %s\n", err.message);
    fflush(stdout);
    audio_buffer_free(&ref);
    audio_buffer_free(&out);
    return rc;
}

/* Full generations at 32 and 16 steps with full-size random weights (minutes on 2 cores). */
static int bench_f5tts_generation(void)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dit[1024], vocos[1024], vocab[1024];
    snprintf(dit, sizeof dit, "%s/vcs-bench-f5tts-v1-base.safetensors", dir);
    snprintf(vocos, sizeof vocos, "%s/vcs-bench-vocos.safetensors", dir);
    snprintf(vocab, sizeof vocab, "%s/vcs-bench-vocab.txt", dir);
    nn_tensor_spec *specs = NULL;
    vc_error err = {0};
    size_t n = f5tts_tensor_specs(&F5TTS_V1_BASE, &specs);
    int rc = n ? bench_write_random(dit, specs, n, &err) : -1;
    free(specs);
    n = vocos_tensor_specs(&VOCOS_MEL_24KHZ, &specs);
    if (rc == 0) rc = n ? bench_write_random(vocos, specs, n, &err) : -1;
    free(specs);
    f5tts_engine e;
    if (rc == 0) rc = write_bench_vocab(vocab, &err);
    if (rc == 0) rc = f5tts_engine_open(&e, dit, vocab, vocos, &err);
    if (rc != 0) { fprintf(stderr, "bench f5tts-gen: %s\n", err.message); return 1; }
    rc = bench_generation(&e, 32) | bench_generation(&e, 16);
    f5tts_engine_close(&e);
    return rc == 0 ? 0 : 1;
}

/* ---- job queue ------------------------------------------------------------------------------ */

/* Empty jobs through submit → claim → run → complete on a fresh store: jobs per second. */
static int bench_jobs(void)
{
    char dir[] = "/tmp/vcs-bench-jobs-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    setenv("VCS_JOBS_TEST_KINDS", "1", 1);
    store *s = NULL;
    jobs *j = NULL;
    jobs_config cfg;
    vc_error err;
    jobs_config_defaults(&cfg);
    jobs_config_from_env(&cfg);
    int rc = store_open(&s, dir, &err);
    if (rc == 0) rc = jobs_start(&j, s, &cfg, 1, &err);
    const int n = 1000;
    double t0 = bench_now();
    for (int i = 0; rc == 0 && i < n; i++) {
        char id[STORE_ID_MAX];
        rc = jobs_submit(j, "local", "sleep", json_pack("{s:f, s:i}", "seconds", 0.0, "steps", 1), id, &err);
    }
    while (rc == 0 && jobs_count(j, "cpu", "complete", &err) < n && bench_now() - t0 < 120) usleep(1000);
    double t = bench_now() - t0;
    int done = rc == 0 ? jobs_count(j, "cpu", "complete", &err) : 0;
    if (rc == 0)
        printf("{\"bench\":\"jobs_queue\",\"jobs\":%d,\"completed\":%d,\"seconds\":%.3f,\"jobs_per_second\":%.0f}\n", n, done, t, done / t);
    else fprintf(stderr, "bench jobs: %s\n", err.message);
    if (j) jobs_stop(j);
    if (s) store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) rc = -1;
    return rc == 0 ? 0 : 1;
}

int cmd_bench(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "all";
    if (!strcmp(which, "gemm")) return bench_gemm();
    if (!strcmp(which, "f5tts")) return bench_f5tts();
    if (!strcmp(which, "rvc") && argc > 2 && !strcmp(argv[2], "train")) return bench_rvc_train(argc - 3, argv + 3);
    if (!strcmp(which, "rvc")) return bench_rvc(argc > 2 ? argv[2] : NULL);
    if (!strcmp(which, "f5tts-gen")) return bench_f5tts_generation();
    if (!strcmp(which, "jobs")) return bench_jobs();
    if (!strcmp(which, "isa")) { /* the CPU's best vector ISA, for bench scripts' JSON */
        printf("%s\n", nn_cpu_isa());
        return 0;
    }
    if (!strcmp(which, "all")) return bench_gemm() | bench_f5tts() | bench_rvc(NULL);
    fprintf(stderr, "usage: voiceclone bench gemm|f5tts|f5tts-gen|rvc [stage]|rvc train [options]|rvc cancel|jobs|isa|all\n");
    return 2;
}
