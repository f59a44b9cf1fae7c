/*
 * Golden cases: stage-by-stage comparison of our engine against tensors recorded from the
 * official PyTorch code (../shared/golden/<model>/<case>/, copies in tests/golden/).
 *
 * `voiceclone check-golden DIR` (src/cli/cmd_check_golden.c) reads DIR/config.json, picks the
 * model runner whose matches() accepts the config (by content, never by case name) and calls
 * its run(). A runner computes each stage from the case's inputs and hands every output to
 * golden_compare(), which prints `name max_abs max_rel PASS|FAIL snr_db=S` and counts. The CLI ends with
 * `golden: N passed, M failed` and exits 0 only when M == 0. A stage a runner cannot compute
 * yet is reported with golden_missing() — a FAIL, never a silent skip.
 */
#ifndef VC_NN_GOLDEN_H
#define VC_NN_GOLDEN_H

#include <stdio.h>
#include <jansson.h>

#include "base/error.h"
#include "nn/tensor.h"
#include "nn/weights.h"

typedef struct golden_report {
    FILE *out;
    int passed;
    int failed;
} golden_report;

/* Tolerance for one tensor: config.per_tensor_tolerance[name] {atol, rtol} when present,
 * else the top-level atol/rtol. */
void golden_tolerance(const json_t *config, const char *name, double *atol, double *rtol);

/* Compares got (float32, contiguous, numel elements) with expected elementwise:
 * |a-b| <= atol + rtol*|b|. A shape/size mismatch or any NaN/Inf disagreement is a FAIL.
 * Prints one line, updates the counts, returns 1 on PASS, 0 on FAIL. */
int golden_compare(golden_report *r, const char *name, const float *got, int64_t numel,
                   const nn_tensor *expected, double atol, double rtol);

/* Largest |value| of an expected tensor (0 for NULL). */
double golden_max_abs(const nn_tensor *t);
/* golden_compare with tolerances looked up in config and expected looked up by name. */
int golden_check(golden_report *r, const json_t *config, const nn_weights *expected, const char *name,
                 const float *got, int64_t numel);

/* [rows, cols] → malloc'd [cols, rows]: our time-major activations vs the reference's channel-major
 * recordings. NULL when out of memory. */
float *golden_transposed(const float *x, int rows, int cols);

/* Counts a stage that could not be computed (with why) as a FAIL line. */
void golden_missing(golden_report *r, const char *name, const char *why);

typedef struct golden_model {
    const char *name;
    int (*matches)(const json_t *config);
    int (*run)(golden_report *r, const char *case_dir, const json_t *config, vc_error *err);
} golden_model;

#endif
