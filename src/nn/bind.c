/* Name-and-shape binding of float tensors (see bind.h). */
#include "nn/bind.h"

#include <stdarg.h>
#include <stdio.h>

static void full_name(char *out, size_t n, const char *prefix, const char *fmt, va_list ap)
{
    int used = snprintf(out, n, "%s", prefix ? prefix : "");
    vsnprintf(out + used, n - (size_t)used, fmt, ap);
}

const float *nn_bind(nn_binder *b, const int64_t *shape, int ndim, const char *fmt, ...)
{
    if (b->failed) return NULL;
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    full_name(name, sizeof name, b->prefix, fmt, ap);
    va_end(ap);
    const nn_tensor *t;
    if (nn_weights_require(b->weights, name, ndim, shape, &t, b->err) != 0) { b->failed = 1; return NULL; }
    if (t->dtype != NN_F32) {
        vc_fail(b->err, VC_ERR_INVALID_FORMAT, "weights: tensor '%s' is not floating point", name);
        b->failed = 1;
        return NULL;
    }
    return t->data;
}

int nn_bind_has(const nn_binder *b, const char *fmt, ...)
{
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    full_name(name, sizeof name, b->prefix, fmt, ap);
    va_end(ap);
    return nn_weights_get(b->weights, name) != NULL;
}
