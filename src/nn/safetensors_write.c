/* F32 safetensors writer (see safetensors_write.h). */
#include "nn/safetensors_write.h"

#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void nn_spec_add(nn_spec_list *l, int ndim, const int64_t *shape, const char *fmt, ...)
{
    if (l->failed) return;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        nn_tensor_spec *grown = realloc(l->items, sizeof(nn_tensor_spec) * cap);
        if (!grown) { l->failed = 1; return; }
        l->items = grown;
        l->cap = cap;
    }
    nn_tensor_spec *s = &l->items[l->count++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->name, sizeof s->name, fmt, ap);
    va_end(ap);
    s->ndim = ndim;
    for (int d = 0; d < ndim; d++) s->shape[d] = shape[d];
}

size_t nn_spec_finish(nn_spec_list *l, nn_tensor_spec **out)
{
    if (l->failed) { free(l->items); *out = NULL; return 0; }
    *out = l->items;
    return l->count;
}

static int64_t spec_numel(const nn_tensor_spec *s)
{
    int64_t n = 1;
    for (int d = 0; d < s->ndim; d++) n *= s->shape[d];
    return n;
}

/* Header JSON padded with spaces to a multiple of 8 (as the reference writer does). */
static char *build_header(const nn_tensor_spec *specs, size_t n, const json_t *meta, size_t *len)
{
    json_t *root = json_object();
    if (meta) json_object_set(root, "__metadata__", (json_t *)meta);
    int64_t offset = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *shape = json_array();
        for (int d = 0; d < specs[i].ndim; d++) json_array_append_new(shape, json_integer(specs[i].shape[d]));
        int64_t bytes = spec_numel(&specs[i]) * 4;
        json_object_set_new(root, specs[i].name, json_pack("{s:s,s:o,s:[I,I]}", "dtype", "F32", "shape", shape,
                                                           "data_offsets", (json_int_t)offset, (json_int_t)(offset + bytes)));
        offset += bytes;
    }
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text) return NULL;
    size_t raw = strlen(text), padded = (raw + 7) / 8 * 8;
    char *out = realloc(text, padded + 1);
    if (!out) { free(text); return NULL; }
    memset(out + raw, ' ', padded - raw);
    out[padded] = '\0';
    *len = padded;
    return out;
}

int nn_safetensors_write(const char *path, const nn_tensor_spec *specs, size_t n, nn_fill_fn fill, void *ctx,
                         vc_error *err)
{
    return nn_safetensors_write_meta(path, specs, n, fill, ctx, NULL, err);
}

int nn_safetensors_write_meta(const char *path, const nn_tensor_spec *specs, size_t n, nn_fill_fn fill, void *ctx,
                              const json_t *meta, vc_error *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    size_t header_len = 0;
    char *header = build_header(specs, n, meta, &header_len);
    FILE *f = header ? fopen(tmp, "wb") : NULL;
    float *buf = NULL;
    int rc = -1;
    if (!f) { vc_fail(err, header ? VC_ERR_IO : VC_ERR_NOMEM, "cannot create %s: %s", path, strerror(errno)); goto done; }
    uint64_t len64 = header_len;
    if (fwrite(&len64, 8, 1, f) != 1 || fwrite(header, 1, header_len, f) != header_len) goto io_error;
    for (size_t i = 0; i < n; i++) {
        int64_t numel = spec_numel(&specs[i]);
        float *grown = realloc(buf, sizeof(float) * (size_t)(numel ? numel : 1));
        if (!grown) { vc_fail(err, VC_ERR_NOMEM, "out of memory writing %s", specs[i].name); goto done; }
        buf = grown;
        fill(ctx, i, buf, numel);
        if (fwrite(buf, sizeof(float), (size_t)numel, f) != (size_t)numel) goto io_error;
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) goto io_error;
    if (fclose(f) != 0) { f = NULL; goto io_error; }
    f = NULL;
    if (rename(tmp, path) != 0) goto io_error;
    rc = 0;
    goto done;
io_error:
    vc_fail(err, VC_ERR_IO, "writing %s failed: %s", path, strerror(errno));
done:
    if (f) fclose(f);
    if (rc != 0) unlink(tmp);
    free(buf);
    free(header);
    return rc;
}
