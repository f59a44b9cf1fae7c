/*
 * Weight files, loaded by name. nn_weights_open() recognises the container by its bytes:
 * safetensors (8-byte header length + JSON), or a PyTorch zip checkpoint (.pth/.pt/.bin) read
 * through a restricted unpickler that can never run code. Every tensor is exposed as float32
 * (fp16/bf16 converted at load; fp32 safetensors are memory-mapped, not copied) except integer
 * and bool tensors, which keep their dtype. Non-tensor data of a checkpoint (RVC's config/sr/
 * f0/version/info, fairseq's cfg/args) is exposed as JSON, inert.
 *
 * Models take tensors with nn_weights_require(), which checks the shape and names both shapes
 * in its error, so a wrong or foreign file is rejected with a precise message.
 */
#ifndef VC_NN_WEIGHTS_H
#define VC_NN_WEIGHTS_H

#include <jansson.h>

#include "base/error.h"
#include "nn/tensor.h"

typedef struct nn_weights nn_weights;

int nn_weights_open(const char *path, nn_weights **out, vc_error *err);
void nn_weights_free(nn_weights *w);

size_t nn_weights_count(const nn_weights *w);
const char *nn_weights_name(const nn_weights *w, size_t i);
/* NULL when absent. Names are the file's keys (a nested state dict is flattened with '.'). */
const nn_tensor *nn_weights_get(const nn_weights *w, const char *name);
/* The weight file as mapped in memory (zero-copy tensors point into it), and its size; NULL when
 * the set was built in memory. */
const void *nn_weights_map(const nn_weights *w, size_t *bytes);

/* Finds name with exactly ndim dims of the given shape (a -1 entry matches any size). */
int nn_weights_require(const nn_weights *w, const char *name, int ndim, const int64_t *shape,
                       const nn_tensor **out, vc_error *err);

/* Non-tensor content of the file (safetensors __metadata__, pickled scalars/strings/lists);
 * borrowed, may be an empty object, never NULL for an open file. */
const json_t *nn_weights_meta(const nn_weights *w);

#endif
