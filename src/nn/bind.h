/*
 * Binding model structs to weight files by name (whisper.cpp style allow-list): each field is
 * looked up with a printf-style name and an expected shape. The first failure is kept in the
 * binder (naming the tensor and both shapes) and later lookups become no-ops, so a loader is
 * a flat list of nn_bind() lines followed by one check of binder.failed.
 */
#ifndef VC_NN_BIND_H
#define VC_NN_BIND_H

#include <stdint.h>

#include "base/error.h"
#include "nn/weights.h"

typedef struct nn_binder {
    const nn_weights *weights;
    const char *prefix; /* prepended to every name, e.g. "ema_model.transformer." ("" for none) */
    vc_error *err;
    int failed;
} nn_binder;

/* A shape literal for nn_bind: NN_SHAPE(out, in) expands to (array, count). -1 matches any size. */
#define NN_SHAPE(...) (const int64_t[]){__VA_ARGS__}, (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t))

const float *nn_bind(nn_binder *b, const int64_t *shape, int ndim, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* 1 if prefix+name exists in the file (any dtype/shape). */
int nn_bind_has(const nn_binder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
