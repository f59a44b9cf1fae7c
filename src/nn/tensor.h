/*
 * Tensors of the neural-network engine: a dtype, up to NN_MAX_DIMS dimensions (row-major,
 * contiguous unless strides say otherwise) and a pointer to data. Compute is float32; other
 * storage dtypes exist only at load time and are converted (fp16/bf16 → f32) by the loaders.
 * A tensor either owns its data (owns_data = 1, freed by nn_tensor_free) or views memory owned
 * by someone else (an arena, a memory-mapped weight file).
 */
#ifndef VC_NN_TENSOR_H
#define VC_NN_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define NN_MAX_DIMS 6

typedef enum nn_dtype {
    NN_F32 = 0,
    NN_F16,
    NN_BF16,
    NN_F64,
    NN_I64,
    NN_I32,
    NN_I16,
    NN_I8,
    NN_U8,
    NN_BOOL,
    NN_DTYPE_COUNT
} nn_dtype;

typedef struct nn_tensor {
    nn_dtype dtype;
    int ndim;
    int64_t shape[NN_MAX_DIMS];
    int64_t strides[NN_MAX_DIMS]; /* in elements; contiguous row-major when built by nn_tensor_* */
    void *data;
    int owns_data;
} nn_tensor;

#endif
