/*
 * Writing float32 safetensors files: used to build full-size random-weight models for
 * benchmarks and to save tensors in tests. Data is produced tensor by tensor by a fill
 * callback, so a 1.3 GB file never needs 1.3 GB of memory.
 */
#ifndef VC_NN_SAFETENSORS_WRITE_H
#define VC_NN_SAFETENSORS_WRITE_H

#include <stdint.h>

#include "base/error.h"
#include "nn/tensor.h"

typedef struct nn_tensor_spec {
    char name[160];
    int ndim;
    int64_t shape[NN_MAX_DIMS];
} nn_tensor_spec;

typedef void (*nn_fill_fn)(void *ctx, size_t index, float *dst, int64_t numel);

/* Writes specs[0..n) as F32 tensors; the file appears atomically (temp + fsync + rename). */
int nn_safetensors_write(const char *path, const nn_tensor_spec *specs, size_t n, nn_fill_fn fill, void *ctx,
                         vc_error *err);

#endif
