/*
 * voiceclone bench rvc train [--sr 32000|40000|48000] [--version 1|2] [--steps N] [--tiny]:
 * full-size RVC training steps on random weights, batch 4 × 370 frames, the shape
 * bench/engine/run.sh times the official PyTorch step on (STAGES=train), in the same sitting.
 * The default is v2 48 kHz (G 37.6 M parameters with enc_q, D 71.4 M, segment 17280 samples);
 * --sr and --version pick another official configuration, exactly as the trainer builds it for
 * such a set (rvc_train_config_default: v2 40k trains with v1/40k.json, v1 has 256-dim content
 * features and the six-period discriminator). --tiny runs the test-size model instead: only to
 * check the harness, its times mean nothing. The first step also pays for touching gigabytes of
 * fresh memory; the mean of the next N (default 5) is what every later step of a training run costs.
 * Peak RSS is reported per phase (model build, first step, timed steps; see peak_rss below).
 * Runs only when asked by name: it takes minutes.
 * Threads: the tape's convolutions (oneDNN) and its long elementwise, normalisation and attention
 * loops run on the engine context's threads (nn/par.h); BLAS (the mel loss's float64 DFT) uses
 * OPENBLAS_NUM_THREADS (the bench line reports it). VCS_PRECISION=bf16 times mixed precision.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/memstat.h"
#include "cli/bench.h"
#include "models/rvc/rvc_trainer.h"
#include "nn/backend.h"

#define FRAMES 370
#define MAX_TIMED 100

typedef struct train_bench {
    int sr, version, timed, tiny;
} train_bench;

/* Batches of 4, one more than the steps run: the timed steps never end an epoch (no 1.3 GB checkpoint write). */
static int items_for(const train_bench *b) { return 4 * (b->timed + 2); }

static int make_set(rvc_dataset *set, const train_bench *b)
{
    int hop = b->sr / 100, dim = b->version == 1 ? 256 : 768, n = items_for(b);
    *set = (rvc_dataset){.sr = b->sr, .hop = hop, .phone_dim = dim, .f0 = 1, .version = b->version, .n = n};
    set->items = calloc((size_t)n, sizeof(rvc_train_item));
    if (!set->items) return -1;
    for (int i = 0; i < n; i++) {
        rvc_train_item *it = &set->items[i];
        it->frames = FRAMES;
        it->phone = bench_random_buffer((size_t)FRAMES * dim, 100 + (unsigned)i);
        it->wave = malloc(sizeof(float) * FRAMES * (size_t)hop);
        it->pitch = malloc(sizeof(int64_t) * FRAMES);
        it->pitchf = malloc(sizeof(float) * FRAMES);
        if (!it->phone || !it->wave || !it->pitch || !it->pitchf) return -1;
        for (int k = 0; k < FRAMES * hop; k++) it->wave[k] = 0.5f * sinf(2 * (float)M_PI * (120.0f + 10 * i) * k / (float)b->sr);
        for (int t = 0; t < FRAMES; t++) {
            it->pitchf[t] = 120.0f + 10 * i;
            it->pitch[t] = 40 + i;
        }
    }
    return 0;
}
static void free_set(rvc_dataset *set)
{
    for (int i = 0; set->items && i < set->n; i++) {
        free(set->items[i].phone); free(set->items[i].wave); free(set->items[i].pitch); free(set->items[i].pitchf);
    }
    free(set->items);
}

static int timed_step(rvc_trainer *t, double *seconds, vc_error *err)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = rvc_trainer_step(t, err) < 0 ? -1 : 0;
    clock_gettime(CLOCK_MONOTONIC, &b);
    *seconds = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    return rc;
}

/* Peak RSS per phase (base/memstat.h). The kernel's high-water mark only grows, so each phase
 * resets it first (writing 5 to /proc/self/clear_refs) and its reading is then that phase's own
 * peak; "rss_peaks" says "per_phase". Where the kernel refuses a reset the readings are peaks so
 * far (each includes the phases before it) and "rss_peaks" says "so_far". The process's overall
 * peak is the largest of them. */
typedef struct rss_phases { double build, first, steps; int per_phase; } rss_phases;

static void phase_begin(rss_phases *r) { r->per_phase &= vc_rss_peak_reset() == 0; }
static double phase_peak_mb(void) { return (double)vc_rss_peak_bytes() / 1048576.0; }

static int parse(int argc, char **argv, train_bench *b)
{
    *b = (train_bench){.sr = 48000, .version = 2, .timed = 5};
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--tiny")) b->tiny = 1;
        else if (!strcmp(argv[i], "--sr") && v) b->sr = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--version") && v) b->version = atoi(argv[++i] + (v[0] == 'v'));
        else if (!strcmp(argv[i], "--steps") && v) b->timed = atoi(argv[++i]);
        else return -1;
    }
    if ((b->sr != 32000 && b->sr != 40000 && b->sr != 48000) || (b->version != 1 && b->version != 2) || b->timed < 1 ||
        b->timed > MAX_TIMED)
        return -1;
    return 0;
}

/* The trainer's own configuration for such a set; --tiny: the test-size one. */
static int bench_config(const train_bench *b, rvc_train_config *c, vc_error *err)
{
    int dim = b->version == 1 ? 256 : 768;
    return b->tiny ? rvc_train_config_tiny(b->sr, b->version, dim, 1, c, err) : rvc_train_config_default(b->sr, b->version, dim, 1, c, err);
}

static void report(const train_bench *b, const rvc_train_config *c, double first, const double *step, const rss_phases *r,
                   const rvc_trainer_status *st)
{
    double lo = 1e30, hi = 0, sum = 0;
    for (int i = 0; i < b->timed; i++) {
        sum += step[i];
        lo = fmin(lo, step[i]);
        hi = fmax(hi, step[i]);
    }
    double peak = fmax(r->build, fmax(r->first, r->steps));
    printf("{\"bench\":\"rvc_train_step_v%d_%dk%s\",\"version\":\"v%d\",\"sample_rate\":%d,\"model\":\"%s\","
           "\"shape\":\"batch 4 x %d frames, segment %d, hop %d, %d-dim content\","
           "\"first_step_seconds\":%.2f,\"seconds_per_step\":%.2f,\"min_step_seconds\":%.2f,\"max_step_seconds\":%.2f,"
           "\"timed_steps\":%d,\"peak_rss_mb\":%.0f,\"peak_rss_mb_build\":%.0f,\"peak_rss_mb_first_step\":%.0f,"
           "\"peak_rss_mb_steps\":%.0f,\"rss_peaks\":\"%s\",\"step_arena_mb\":%.0f,"
           "\"precision\":\"%s\",\"isa\":\"%s\",\"openblas_threads\":\"%s\"}\n",
           b->version, b->sr / 1000, b->tiny ? "_tiny" : "", b->version, b->sr, b->tiny ? "tiny (harness check only)" : "full",
           FRAMES, c->segment_samples, c->hop, c->g.phone_dim, first, sum / b->timed, lo, hi, b->timed, peak, r->build,
           r->first, r->steps, r->per_phase ? "per_phase" : "so_far", (double)st->step_memory_bytes / 1048576.0,
           nn_precision_name(nn_precision_for("rvc_train")), nn_cpu_isa(),
           getenv("OPENBLAS_NUM_THREADS") ? getenv("OPENBLAS_NUM_THREADS") : "unset");
}

int bench_rvc_train(int argc, char **argv)
{
    train_bench b;
    if (parse(argc, argv, &b)) {
        fprintf(stderr, "usage: voiceclone bench rvc train [--sr 32000|40000|48000] [--version 1|2] [--steps 1-%d] [--tiny]\n",
                MAX_TIMED);
        return 2;
    }
    rvc_dataset set = {0};
    rvc_train_config cfg;
    vc_error err = {0};
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/vcs-bench-rvc-train-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    rvc_trainer_options o = {.dir = dir, .epochs = 1, .batch_size = 4, .seed = 1, .config = &cfg};
    rvc_trainer *t = NULL;
    rss_phases r = {.per_phase = 1};
    double first = 0, step[MAX_TIMED];
    int rc = bench_config(&b, &cfg, &err);
    if (rc == 0 && make_set(&set, &b) != 0) rc = vc_fail(&err, VC_ERR_NOMEM, "out of memory");
    phase_begin(&r);
    if (rc == 0) rc = rvc_trainer_open(&t, &set, &o, &err);
    r.build = phase_peak_mb();
    phase_begin(&r);
    if (rc == 0) rc = timed_step(t, &first, &err);
    r.first = phase_peak_mb();
    phase_begin(&r);
    for (int i = 0; rc == 0 && i < b.timed; i++) rc = timed_step(t, &step[i], &err);
    r.steps = phase_peak_mb();
    rvc_trainer_status st = {0};
    if (t) rvc_trainer_status_get(t, &st);
    if (rc == 0) report(&b, &cfg, first, step, &r, &st);
    else fprintf(stderr, "bench rvc train: %s\n", err.message);
    rvc_trainer_free(t);
    free_set(&set);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench rvc train: could not remove %s\n", dir);
    return rc == 0 ? 0 : 1;
}
