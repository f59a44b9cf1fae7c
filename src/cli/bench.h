/*
 * Helpers shared by the benchmark verbs (cmd_bench.c, cmd_bench_rvc.c): a monotonic clock,
 * deterministic random buffers, random-weight safetensors files written once and reused
 * between runs, and the process's peak RSS.
 */
#ifndef VC_CLI_BENCH_H
#define VC_CLI_BENCH_H

#include <stddef.h>

#include "base/error.h"
#include "nn/safetensors_write.h"

double bench_now(void);

/* Timed as the PyTorch side times itself: the first call (cold: primitives built, weights
 * converted, memory first touched) is the warm-up, then BENCH_TIMED_RUNS runs whose median is
 * reported beside the cold one. */
#define BENCH_TIMED_RUNS 3
typedef int (*bench_stage_fn)(void *arg, vc_error *err);
int bench_time_stage(bench_stage_fn run, void *arg, double *cold, double *median, vc_error *err);
/* n uniform values in [-0.5, 0.5) (malloc'd; NULL when out of memory). */
float *bench_random_buffer(size_t n, unsigned long long seed);
/* Writes specs as small random weights (norm scales 1) unless path already exists. */
int bench_write_random(const char *path, nn_tensor_spec *specs, size_t n, vc_error *err);
double bench_peak_rss_mb(void);

/* only: NULL for every conversion stage, or "hubert" | "rmvpe" | "synth" | "convert" | "train" | "cancel". */
int bench_rvc(const char *only);
/* Full-size RVC training steps (cmd_bench_rvc_train.c); only on `bench rvc train [options]`,
 * argv holding the options after "train". */
int bench_rvc_train(int argc, char **argv);
/* The longest time between cancel polls of full-size HuBERT and RMVPE over 60 s of audio
 * (`bench rvc cancel`, by name only). */
int bench_rvc_cancel(void);

#endif
