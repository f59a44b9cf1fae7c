/*
 * Writing float32 safetensors files: used to build full-size random-weight models for
 * benchmarks and to save tensors in tests. Data is produced tensor by tensor by a fill
 * callback, so a 1.3 GB file never needs 1.3 GB of memory.
 */
#ifndef VC_NN_SAFETENSORS_WRITE_H
#define VC_NN_SAFETENSORS_WRITE_H

#include <jansson.h>
#include <stdint.h>

#include "base/error.h"
#include "nn/tensor.h"

typedef struct nn_tensor_spec {
    char name[160];
    int ndim;
    int64_t shape[NN_MAX_DIMS];
} nn_tensor_spec;

/* A growing list of tensor specs, built by model spec functions (f5tts_specs.c, rvc_specs.c):
 * nn_spec_add() appends one (printf-style name); after a failed allocation later adds are no-ops
 * and nn_spec_finish() reports 0. */
typedef struct nn_spec_list {
    nn_tensor_spec *items;
    size_t count, cap;
    int failed;
} nn_spec_list;

void nn_spec_add(nn_spec_list *l, int ndim, const int64_t *shape, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Hands the array to *out (caller frees) and returns the count; 0 (and *out NULL) on failure. */
size_t nn_spec_finish(nn_spec_list *l, nn_tensor_spec **out);
/* A shape literal for nn_spec_add: NN_SPEC_SHAPE(4, 3) → (ndim, array). */
#define NN_SPEC_SHAPE(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__}

typedef void (*nn_fill_fn)(void *ctx, size_t index, float *dst, int64_t numel);

/* Writes specs[0..n) as F32 tensors; the file appears atomically (temp + fsync + rename). */
int nn_safetensors_write(const char *path, const nn_tensor_spec *specs, size_t n, nn_fill_fn fill, void *ctx,
                         vc_error *err);
/* The same with a "__metadata__" object (string values, as the format asks; may be NULL). */
int nn_safetensors_write_meta(const char *path, const nn_tensor_spec *specs, size_t n, nn_fill_fn fill, void *ctx,
                              const json_t *meta, vc_error *err);

#endif
