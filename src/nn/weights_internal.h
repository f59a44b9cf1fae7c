/*
 * The inside of nn_weights, shared by the container readers (weights.c for safetensors,
 * ptzip.c for PyTorch zip checkpoints). Nothing outside src/nn/ includes this.
 */
#ifndef VC_NN_WEIGHTS_INTERNAL_H
#define VC_NN_WEIGHTS_INTERNAL_H

#include "nn/weights.h"

typedef struct named_tensor {
    char *name;
    nn_tensor tensor;
} named_tensor;

struct nn_weights {
    void *map; /* the whole file, read-only; zero-copy tensors point into it */
    size_t map_size;
    named_tensor *items;
    size_t count, capacity;
    json_t *meta;
};

size_t nn_dtype_size(nn_dtype d);
void nn_tensor_set_contiguous(nn_tensor *t);
/* Sets t's dtype/data from raw stored bytes (t's shape already set): floats become f32. */
int nn_weights_materialise(nn_tensor *t, const void *raw, int64_t numel, nn_dtype stored, vc_error *err);
/* Appends a named tensor (the name is copied; t's data ownership moves to w). */
int nn_weights_add(nn_weights *w, const char *name, const nn_tensor *t, vc_error *err);

/* Reads a PyTorch zip checkpoint from w->map (restricted unpickler). */
int nn_ptzip_load(nn_weights *w, const char *path, vc_error *err);

#endif
