/*
 * Weight files loaded by name (contract: nn/weights.h).
 *
 * safetensors: 8-byte little-endian header length, a JSON header {name: {dtype, shape,
 * data_offsets}}, then raw little-endian data. The file is memory-mapped; fp32 tensors are
 * views into the mapping (zero copy), fp16/bf16 are converted to owned f32 buffers, integer
 * tensors stay as they are. PyTorch zip checkpoints go to ptzip.c. Every header entry is validated before any byte is trusted:
 * known dtype, dims ≥ 0, shape product × element size == span (checked arithmetic), span inside
 * the data area, and no two tensors sharing bytes (the reference implementation refuses overlaps).
 */
#include "nn/weights.h"
#include "nn/weights_internal.h"

#include "base/checked.h"

#include <errno.h>
#include <fcntl.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HEADER_BYTES (100u << 20)
#define MAX_TENSORS 1000000


static const struct { const char *name; nn_dtype dtype; size_t size; } DTYPES[] = {
    {"F32", NN_F32, 4}, {"F16", NN_F16, 2}, {"BF16", NN_BF16, 2}, {"F64", NN_F64, 8}, {"I64", NN_I64, 8},
    {"I32", NN_I32, 4}, {"I16", NN_I16, 2}, {"I8", NN_I8, 1},     {"U8", NN_U8, 1},   {"BOOL", NN_BOOL, 1},
};

static int dtype_from_name(const char *name, nn_dtype *dtype, size_t *size)
{
    for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0]; i++)
        if (!strcmp(name, DTYPES[i].name)) { *dtype = DTYPES[i].dtype; *size = DTYPES[i].size; return 0; }
    return -1;
}

static float half_to_float(uint16_t h) { return _cvtsh_ss(h); }
static float bf16_to_float(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Turns a raw stored tensor into the engine's view: f32 for floats, the raw type otherwise.
 * fp32/integer data is viewed in place when aligned, copied otherwise. */
int nn_weights_materialise(nn_tensor *t, const void *raw, int64_t numel, nn_dtype stored, vc_error *err)
{
    if (stored != NN_F16 && stored != NN_BF16 && stored != NN_F64) {
        size_t bytes = (size_t)numel * nn_dtype_size(stored);
        t->dtype = stored;
        if (((uintptr_t)raw % nn_dtype_size(stored)) == 0) { t->data = (void *)raw; t->owns_data = 0; return 0; }
        t->data = malloc(bytes ? bytes : 1);
        if (!t->data) return vc_fail(err, VC_ERR_NOMEM, "out of memory copying a tensor");
        memcpy(t->data, raw, bytes);
        t->owns_data = 1;
        return 0;
    }
    float *f = malloc(sizeof(float) * (size_t)(numel ? numel : 1));
    if (!f) return vc_fail(err, VC_ERR_NOMEM, "out of memory converting a tensor of %lld elements", (long long)numel);
    for (int64_t i = 0; i < numel; i++) {
        if (stored == NN_F64) { double d; memcpy(&d, (const char *)raw + 8 * i, 8); f[i] = (float)d; }
        else { uint16_t h; memcpy(&h, (const char *)raw + 2 * i, 2); f[i] = stored == NN_F16 ? half_to_float(h) : bf16_to_float(h); }
    }
    t->dtype = NN_F32;
    t->data = f;
    t->owns_data = 1;
    return 0;
}

size_t nn_dtype_size(nn_dtype d)
{
    for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0]; i++)
        if (DTYPES[i].dtype == d) return DTYPES[i].size;
    return 1;
}

void nn_tensor_set_contiguous(nn_tensor *t)
{
    int64_t s = 1;
    for (int d = t->ndim - 1; d >= 0; d--) { t->strides[d] = s; s *= t->shape[d]; }
}

typedef struct byte_range { uint64_t begin, end; const char *name; } byte_range;

static int parse_entry(nn_weights *w, const char *name, json_t *entry, const uint8_t *data, uint64_t data_size,
                       byte_range *range, vc_error *err)
{
    json_t *jdtype = json_object_get(entry, "dtype"), *jshape = json_object_get(entry, "shape");
    json_t *joff = json_object_get(entry, "data_offsets");
    nn_dtype dtype;
    size_t esize;
    if (!json_is_string(jdtype) || dtype_from_name(json_string_value(jdtype), &dtype, &esize) != 0)
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "tensor '%s': unknown dtype", name);
    if (!json_is_array(jshape) || json_array_size(jshape) > NN_MAX_DIMS)
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "tensor '%s': bad shape", name);
    if (!json_is_array(joff) || json_array_size(joff) != 2 || !json_is_integer(json_array_get(joff, 0)) ||
        !json_is_integer(json_array_get(joff, 1)))
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "tensor '%s': bad data_offsets", name);
    named_tensor *nt = &w->items[w->count];
    memset(nt, 0, sizeof *nt);
    nt->tensor.ndim = (int)json_array_size(jshape);
    uint64_t numel = 1;
    for (int d = 0; d < nt->tensor.ndim; d++) {
        json_t *jd = json_array_get(jshape, (size_t)d);
        if (!json_is_integer(jd) || json_integer_value(jd) < 0 || json_integer_value(jd) > (1ll << 40))
            return vc_fail(err, VC_ERR_INVALID_FORMAT, "tensor '%s': bad dimension", name);
        nt->tensor.shape[d] = json_integer_value(jd);
        if (ck_mul_u64(numel, (uint64_t)nt->tensor.shape[d], &numel) != 0 || numel > (1ull << 40))
            return vc_fail(err, VC_ERR_INVALID_FORMAT, "tensor '%s': too large", name);
    }
    uint64_t bytes = 0;
    json_int_t begin = json_integer_value(json_array_get(joff, 0)), end = json_integer_value(json_array_get(joff, 1));
    if (ck_mul_u64(numel, esize, &bytes) != 0 || begin < 0 || end < begin || (uint64_t)end > data_size ||
        (uint64_t)end - (uint64_t)begin != bytes)
        return vc_fail(err, VC_ERR_INVALID_FORMAT,
                       "tensor '%s': data_offsets [%lld, %lld] do not match its shape or the file size", name,
                       (long long)begin, (long long)end);
    *range = (byte_range){(uint64_t)begin, (uint64_t)end, NULL};
    nn_tensor_set_contiguous(&nt->tensor);
    if (nn_weights_materialise(&nt->tensor, data + begin, (int64_t)numel, dtype, err) != 0) return -1;
    nt->name = strdup(name);
    if (!nt->name) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    w->count++;
    return 0;
}

static int by_begin(const void *a, const void *b)
{
    const byte_range *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

/* Two tensors whose bytes overlap (empty tensors occupy nothing). */
static int check_overlaps(byte_range *r, size_t n, const char *path, vc_error *err)
{
    qsort(r, n, sizeof *r, by_begin);
    uint64_t reach = 0;
    const char *owner = NULL;
    for (size_t i = 0; i < n; i++) {
        if (r[i].begin == r[i].end) continue;
        if (owner && r[i].begin < reach)
            return vc_fail(err, VC_ERR_INVALID_FORMAT, "%s: tensors '%s' and '%s' share bytes (overlapping data_offsets); "
                           "this is not a valid safetensors file", path, owner, r[i].name);
        reach = r[i].end;
        owner = r[i].name;
    }
    return 0;
}

static int parse_header(nn_weights *w, const char *path, vc_error *err)
{
    const uint8_t *bytes = w->map;
    if (w->map_size < 8) return vc_fail(err, VC_ERR_INVALID_FORMAT, "%s: too short for a weights file", path);
    uint64_t header_len;
    memcpy(&header_len, bytes, 8);
    if (header_len < 2 || header_len > MAX_HEADER_BYTES || header_len > w->map_size - 8)
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "%s: not a weights file (neither safetensors nor a PyTorch zip checkpoint; header length %llu)", path,
                       (unsigned long long)header_len);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)bytes + 8, header_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "%s: safetensors header is not a JSON object (%s)", path, jerr.text);
    }
    size_t n = json_object_size(root);
    w->items = calloc(n ? n : 1, sizeof(named_tensor));
    w->capacity = n ? n : 1;
    if (!w->items || n > MAX_TENSORS) { json_decref(root); return vc_fail(err, VC_ERR_NOMEM, "%s: too many tensors", path); }
    const uint8_t *data = bytes + 8 + header_len;
    uint64_t data_size = w->map_size - 8 - header_len;
    const char *key;
    json_t *value;
    byte_range *ranges = calloc(n ? n : 1, sizeof *ranges);
    if (!ranges) { json_decref(root); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    int rc = 0;
    size_t nr = 0;
    json_object_foreach(root, key, value) {
        if (!strcmp(key, "__metadata__")) { json_object_update(w->meta, value); continue; }
        if (!json_is_object(value) || parse_entry(w, key, value, data, data_size, &ranges[nr], err) != 0) {
            if (!json_is_object(value)) vc_fail(err, VC_ERR_INVALID_FORMAT, "tensor '%s': entry is not an object", key);
            rc = vc_error_wrap(err, "%s", path);
            break;
        }
        ranges[nr++].name = w->items[w->count - 1].name;
    }
    if (rc == 0) rc = check_overlaps(ranges, nr, path, err);
    free(ranges);
    json_decref(root);
    return rc;
}

static int map_file(nn_weights *w, const char *path, vc_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return vc_fail(err, VC_ERR_NOT_FOUND, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        close(fd);
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "%s: not a regular, non-empty file", path);
    }
    w->map_size = (size_t)st.st_size;
    w->map = mmap(NULL, w->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (w->map == MAP_FAILED) { w->map = NULL; return vc_fail(err, VC_ERR_IO, "cannot map %s: %s", path, strerror(errno)); }
    return 0;
}

int nn_weights_open(const char *path, nn_weights **out, vc_error *err)
{
    *out = NULL;
    nn_weights *w = calloc(1, sizeof *w);
    if (!w) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    w->meta = json_object();
    int is_zip = 0;
    if (map_file(w, path, err) == 0) is_zip = w->map_size >= 4 && !memcmp(w->map, "PK\x03\x04", 4);
    else { nn_weights_free(w); return -1; }
    if ((is_zip ? nn_ptzip_load(w, path, err) : parse_header(w, path, err)) != 0) {
        nn_weights_free(w);
        return -1;
    }
    *out = w;
    return 0;
}

const void *nn_weights_map(const nn_weights *w, size_t *bytes)
{
    *bytes = w->map ? w->map_size : 0;
    return w->map;
}

void nn_weights_free(nn_weights *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->count; i++) {
        free(w->items[i].name);
        if (w->items[i].tensor.owns_data) free(w->items[i].tensor.data);
    }
    free(w->items);
    if (w->map) munmap(w->map, w->map_size);
    json_decref(w->meta);
    free(w);
}

int nn_weights_add(nn_weights *w, const char *name, const nn_tensor *t, vc_error *err)
{
    if (w->count == w->capacity) {
        size_t cap = w->capacity ? w->capacity * 2 : 64;
        named_tensor *grown = realloc(w->items, sizeof(named_tensor) * cap);
        if (!grown) return vc_fail(err, VC_ERR_NOMEM, "out of memory (tensor table)");
        w->items = grown;
        w->capacity = cap;
    }
    w->items[w->count].name = strdup(name);
    if (!w->items[w->count].name) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    w->items[w->count].tensor = *t;
    w->count++;
    return 0;
}

size_t nn_weights_count(const nn_weights *w) { return w->count; }
const char *nn_weights_name(const nn_weights *w, size_t i) { return i < w->count ? w->items[i].name : NULL; }
const json_t *nn_weights_meta(const nn_weights *w) { return w->meta; }

const nn_tensor *nn_weights_get(const nn_weights *w, const char *name)
{
    for (size_t i = 0; i < w->count; i++)
        if (!strcmp(w->items[i].name, name)) return &w->items[i].tensor;
    return NULL;
}

static void format_shape(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < ndim && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (used < n) snprintf(buf + used, n - used, "]");
}

int nn_weights_require(const nn_weights *w, const char *name, int ndim, const int64_t *shape, const nn_tensor **out,
                       vc_error *err)
{
    const nn_tensor *t = nn_weights_get(w, name);
    if (!t) return vc_fail(err, VC_ERR_INVALID_FORMAT, "weights: tensor '%s' is missing", name);
    int match = t->ndim == ndim;
    for (int d = 0; match && d < ndim; d++) match = shape[d] < 0 || shape[d] == t->shape[d];
    if (!match) {
        char want[128], got[128];
        format_shape(want, sizeof want, ndim, shape);
        format_shape(got, sizeof got, t->ndim, t->shape);
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "weights: tensor '%s' has shape %s, expected %s", name, got, want);
    }
    *out = t;
    return 0;
}
