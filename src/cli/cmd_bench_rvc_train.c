/*
 * voiceclone bench rvc train: two full-size RVC v2 48 kHz training steps (G 37.6 M parameters
 * with enc_q, D 71.4 M) on random weights, batch 4 × 370 frames, segment 17280 samples, the
 * shape bench/engine/run.sh times the official PyTorch step on (STAGES=train), in the same sitting. The first step also
 * pays for touching gigabytes of fresh memory; the mean of the next TIMED is what every later step
 * of a training run costs. Runs only when asked by name: it takes a few minutes.
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

#include "cli/bench.h"
#include "models/rvc/rvc_trainer.h"
#include "nn/backend.h"

#define TIMED 5                /* steps timed after the first */
#define ITEMS (4 * (TIMED + 2)) /* batches of 4: the timed steps never end an epoch (no 1.3 GB checkpoint write) */
#define FRAMES 370
#define HOP 480

static int make_set(rvc_dataset *set)
{
    *set = (rvc_dataset){.sr = 48000, .hop = HOP, .phone_dim = 768, .f0 = 1, .version = 2, .n = ITEMS};
    set->items = calloc(ITEMS, sizeof(rvc_train_item));
    if (!set->items) return -1;
    for (int i = 0; i < ITEMS; i++) {
        rvc_train_item *it = &set->items[i];
        it->frames = FRAMES;
        it->phone = bench_random_buffer((size_t)FRAMES * 768, 100 + (unsigned)i);
        it->wave = malloc(sizeof(float) * FRAMES * HOP);
        it->pitch = malloc(sizeof(int64_t) * FRAMES);
        it->pitchf = malloc(sizeof(float) * FRAMES);
        if (!it->phone || !it->wave || !it->pitch || !it->pitchf) return -1;
        for (int k = 0; k < FRAMES * HOP; k++) it->wave[k] = 0.5f * sinf(2 * (float)M_PI * (120.0f + 10 * i) * k / 48000.0f);
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

int bench_rvc_train(void)
{
    rvc_dataset set;
    vc_error err = {0};
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/vcs-bench-rvc-train-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    rvc_trainer_options o = {.dir = dir, .epochs = 1, .batch_size = 4, .seed = 1};
    rvc_trainer *t = NULL;
    int rc = make_set(&set) == 0 ? 0 : vc_fail(&err, VC_ERR_NOMEM, "out of memory");
    if (rc == 0) rc = rvc_trainer_open(&t, &set, &o, &err);
    double first = 0, step[TIMED], lo = 1e30, hi = 0, sum = 0;
    if (rc == 0) rc = timed_step(t, &first, &err);
    for (int i = 0; rc == 0 && i < TIMED; i++) {
        rc = timed_step(t, &step[i], &err);
        sum += step[i];
        lo = fmin(lo, step[i]);
        hi = fmax(hi, step[i]);
    }
    rvc_trainer_status st = {0};
    if (t) rvc_trainer_status_get(t, &st);
    if (rc == 0) {
        printf("{\"bench\":\"rvc_train_step_v2_48k\",\"shape\":\"batch 4 x 370 frames, segment 17280, G+D 109 M params\","
               "\"first_step_seconds\":%.2f,\"seconds_per_step\":%.2f,\"min_step_seconds\":%.2f,\"max_step_seconds\":%.2f,\"timed_steps\":%d,\"peak_rss_mb\":%.0f,\"step_arena_mb\":%.0f,"
               "\"precision\":\"%s\",\"isa\":\"%s\",\"openblas_threads\":\"%s\"}\n",
               first, sum / TIMED, lo, hi, TIMED, bench_peak_rss_mb(), (double)st.step_memory_bytes / 1048576.0,
               nn_precision_name(nn_precision_for("rvc_train")), nn_cpu_isa(), getenv("OPENBLAS_NUM_THREADS") ? getenv("OPENBLAS_NUM_THREADS") : "unset");
    } else fprintf(stderr, "bench rvc train: %s\n", err.message);
    rvc_trainer_free(t);
    free_set(&set);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench rvc train: could not remove %s\n", dir);
    return rc == 0 ? 0 : 1;
}
