/*
 * PyTorch checkpoint writer (contract: pth_write.h): a pickle in a growing byte buffer, the
 * tensors' storages kept beside it, and a small stored-zip writer with CRC-32 (torch's zip
 * reader checks it) and 64-byte aligned records (an "FB" padding extra field, as torch's
 * own writer does, so readers may map storages in place).
 */
#include "nn/pth_write.h"

#include <errno.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nn/tensor.h"

#define MAX_NEST 32
#define ALIGN 64

typedef struct byte_buf {
    unsigned char *data;
    size_t len, cap;
} byte_buf;

typedef struct storage {
    void *data;
    size_t bytes;
} storage;

struct nn_pth {
    byte_buf pkl;
    storage *storages;
    size_t n_storages, cap_storages;
    char kind[MAX_NEST];       /* 'd' dict (key next), 'v' dict (value next), 'l' list */
    int depth;
    int failed;
};

static void put(nn_pth *p, const void *src, size_t n)
{
    byte_buf *b = &p->pkl;
    if (p->failed) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n) cap *= 2;
        unsigned char *grown = realloc(b->data, cap);
        if (!grown) { p->failed = 1; return; }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
}

static void op(nn_pth *p, unsigned char c) { put(p, &c, 1); }

static void le32(unsigned char *d, uint32_t v) { for (int i = 0; i < 4; i++) d[i] = (unsigned char)(v >> (8 * i)); }
static void le16(unsigned char *d, uint16_t v) { d[0] = (unsigned char)v; d[1] = (unsigned char)(v >> 8); }

nn_pth *nn_pth_new(void)
{
    nn_pth *p = calloc(1, sizeof *p);
    if (p) put(p, (const unsigned char[]){0x80, 2}, 2); /* PROTO 2 */
    return p;
}

void nn_pth_free(nn_pth *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n_storages; i++) free(p->storages[i].data);
    free(p->storages);
    free(p->pkl.data);
    free(p);
}

/* After a complete value: SETITEM once a dict has key and value, APPEND in a list. */
static void value_done(nn_pth *p)
{
    if (p->depth == 0) return;
    char *k = &p->kind[p->depth - 1];
    if (*k == 'd') *k = 'v';
    else if (*k == 'v') { op(p, 's'); *k = 'd'; }
    else op(p, 'a');
}

static void open_container(nn_pth *p, char kind)
{
    if (p->depth == MAX_NEST) { p->failed = 1; return; }
    p->kind[p->depth++] = kind;
}

static void global(nn_pth *p, const char *module, const char *name)
{
    op(p, 'c');
    put(p, module, strlen(module));
    op(p, '\n');
    put(p, name, strlen(name));
    op(p, '\n');
}

void nn_pth_dict(nn_pth *p, int ordered)
{
    if (ordered) {
        global(p, "collections", "OrderedDict");
        op(p, ')');
        op(p, 'R');
    } else op(p, '}');
    open_container(p, 'd');
}

void nn_pth_list(nn_pth *p)
{
    op(p, ']');
    open_container(p, 'l');
}

void nn_pth_end(nn_pth *p)
{
    if (p->depth == 0 || p->kind[p->depth - 1] == 'v') { p->failed = 1; return; }
    p->depth--;
    value_done(p);
}

static void raw_str(nn_pth *p, const char *s)
{
    unsigned char hdr[5] = {'X'};
    le32(hdr + 1, (uint32_t)strlen(s));
    put(p, hdr, 5);
    put(p, s, strlen(s));
}

void nn_pth_str(nn_pth *p, const char *s)
{
    raw_str(p, s);
    value_done(p);
}

static void raw_int(nn_pth *p, int64_t v)
{
    unsigned char b[9];
    if (v >= INT32_MIN && v <= INT32_MAX) {
        b[0] = 'J';
        le32(b + 1, (uint32_t)(int32_t)v);
        put(p, b, 5);
    } else {
        op(p, 0x8a); /* LONG1, 8 bytes two's complement */
        op(p, 8);
        for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)v >> (8 * i));
        put(p, b, 8);
    }
}

void nn_pth_int(nn_pth *p, int64_t v)
{
    raw_int(p, v);
    value_done(p);
}

void nn_pth_float(nn_pth *p, double v)
{
    unsigned char b[9] = {'G'};
    uint64_t u;
    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++) b[1 + i] = (unsigned char)(u >> (8 * (7 - i)));
    put(p, b, 9);
    value_done(p);
}

/* Keeps a copy of the tensor's bytes; returns its storage key or -1. */
static long add_storage(nn_pth *p, const float *data, size_t n, int half)
{
    if (p->failed) return -1;
    if (p->n_storages == p->cap_storages) {
        size_t cap = p->cap_storages ? p->cap_storages * 2 : 64;
        storage *grown = realloc(p->storages, sizeof *grown * cap);
        if (!grown) { p->failed = 1; return -1; }
        p->storages = grown;
        p->cap_storages = cap;
    }
    size_t bytes = n * (half ? 2 : 4);
    void *copy = malloc(bytes ? bytes : 1);
    if (!copy) { p->failed = 1; return -1; }
    if (half)
        for (size_t i = 0; i < n; i++) ((uint16_t *)copy)[i] = _cvtss_sh(data[i], _MM_FROUND_TO_NEAREST_INT);
    else memcpy(copy, data, bytes);
    p->storages[p->n_storages] = (storage){copy, bytes};
    return (long)p->n_storages++;
}

static void int_tuple(nn_pth *p, int n, const int64_t *v)
{
    op(p, '(');
    for (int i = 0; i < n; i++) raw_int(p, v[i]);
    op(p, 't');
}

void nn_pth_tensor(nn_pth *p, const float *data, int ndim, const int64_t *shape, int half)
{
    int64_t stride[NN_MAX_DIMS], numel = 1;
    if (ndim < 0 || ndim > NN_MAX_DIMS) { p->failed = 1; return; }
    for (int d = ndim - 1; d >= 0; d--) { stride[d] = numel; numel *= shape[d]; }
    long key = add_storage(p, data, (size_t)numel, half);
    if (key < 0) return;
    char key_text[32];
    snprintf(key_text, sizeof key_text, "%ld", key);
    global(p, "torch._utils", "_rebuild_tensor_v2");
    op(p, '(');
    op(p, '(');                                   /* persistent id */
    raw_str(p, "storage");
    global(p, "torch", half ? "HalfStorage" : "FloatStorage");
    raw_str(p, key_text);
    raw_str(p, "cpu");
    raw_int(p, numel);
    op(p, 't');
    op(p, 'Q');                                   /* BINPERSID */
    raw_int(p, 0);                                /* storage offset */
    int_tuple(p, ndim, shape);
    int_tuple(p, ndim, stride);
    op(p, 0x89);                                  /* requires_grad False */
    global(p, "collections", "OrderedDict");      /* backward hooks */
    op(p, ')');
    op(p, 'R');
    op(p, 't');
    op(p, 'R');
    value_done(p);
}

/* ---- the zip archive ---- */

typedef struct zip_rec {
    char name[96];
    uint32_t crc, size, offset;
} zip_rec;

typedef struct zip_out {
    FILE *f;
    uint64_t pos;
    zip_rec *recs;
    size_t n;
    int failed;
} zip_out;

static void zwrite(zip_out *z, const void *d, size_t n)
{
    if (!z->failed && n && fwrite(d, 1, n, z->f) != n) z->failed = 1;
    z->pos += n;
}

/* Local header + "FB" padding extra so the data starts on an ALIGN boundary, then the data. */
static void zip_add(zip_out *z, const char *name, const void *data, size_t size)
{
    zip_rec *r = &z->recs[z->n++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, (uInt)size);
    r->size = (uint32_t)size;
    r->offset = (uint32_t)z->pos;
    size_t nl = strlen(name), head = 30 + nl + 4, pad = (ALIGN - (z->pos + head) % ALIGN) % ALIGN;
    unsigned char h[34] = {0}, zeros[ALIGN] = {0};
    le32(h, 0x04034b50);
    le16(h + 4, 20);
    le32(h + 14, r->crc);
    le32(h + 18, r->size);
    le32(h + 22, r->size);
    le16(h + 26, (uint16_t)nl);
    le16(h + 28, (uint16_t)(4 + pad));
    zwrite(z, h, 30);
    zwrite(z, name, nl);
    le16(h + 30, 0x4246); /* "FB" */
    le16(h + 32, (uint16_t)pad);
    zwrite(z, h + 30, 4);
    zwrite(z, zeros, pad);
    zwrite(z, data, size);
    if (z->pos > UINT32_MAX) z->failed = 1; /* no ZIP64: voice models are far smaller */
}

static void zip_finish(zip_out *z)
{
    uint64_t cd = z->pos;
    for (size_t i = 0; i < z->n; i++) {
        const zip_rec *r = &z->recs[i];
        unsigned char h[46] = {0};
        size_t nl = strlen(r->name);
        le32(h, 0x02014b50);
        le16(h + 4, 20);
        le16(h + 6, 20);
        le32(h + 16, r->crc);
        le32(h + 20, r->size);
        le32(h + 24, r->size);
        le16(h + 28, (uint16_t)nl);
        le32(h + 42, r->offset);
        zwrite(z, h, 46);
        zwrite(z, r->name, nl);
    }
    unsigned char e[22] = {0};
    le32(e, 0x06054b50);
    le16(e + 8, (uint16_t)z->n);
    le16(e + 10, (uint16_t)z->n);
    le32(e + 12, (uint32_t)(z->pos - cd));
    le32(e + 16, (uint32_t)cd);
    zwrite(z, e, 22);
}

static void write_records(nn_pth *p, zip_out *z, const char *root)
{
    char name[96];
    snprintf(name, sizeof name, "%s/data.pkl", root);
    zip_add(z, name, p->pkl.data, p->pkl.len);
    for (size_t i = 0; i < p->n_storages; i++) {
        snprintf(name, sizeof name, "%s/data/%zu", root, i);
        zip_add(z, name, p->storages[i].data, p->storages[i].bytes);
    }
    snprintf(name, sizeof name, "%s/version", root);
    zip_add(z, name, "3\n", 2);
    zip_finish(z);
}

int nn_pth_save(nn_pth *p, const char *path, const char *root, vc_error *err)
{
    if (p->depth != 0) return vc_fail(err, VC_ERR_INTERNAL, "pth writer: unclosed container");
    op(p, '.'); /* STOP */
    if (p->failed) return vc_fail(err, VC_ERR_NOMEM, "out of memory building %s", path);
    if (p->n_storages > 60000 || strlen(root) > 40) return vc_fail(err, VC_ERR_INTERNAL, "pth writer: too many tensors");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    zip_out z = {.f = fopen(tmp, "wb"), .recs = calloc(p->n_storages + 2, sizeof(zip_rec))};
    if (!z.f || !z.recs) {
        int e = errno;
        if (z.f) fclose(z.f);
        free(z.recs);
        return z.recs ? vc_fail(err, VC_ERR_IO, "cannot create %s: %s", path, strerror(e)) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    }
    write_records(p, &z, root);
    int ok = !z.failed && fflush(z.f) == 0 && fsync(fileno(z.f)) == 0;
    ok = fclose(z.f) == 0 && ok;
    free(z.recs);
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return vc_fail(err, VC_ERR_IO, "writing %s failed: %s", path, z.pos > UINT32_MAX ? "larger than 4 GB" : strerror(e));
    }
    return 0;
}
