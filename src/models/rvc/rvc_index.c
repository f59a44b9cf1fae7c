/* faiss IndexIVFFlat / IndexFlat reader (see rvc_index.h). */
#include "models/rvc/rvc_index.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"

#define MAX_DIM 4096
#define MAX_VECTORS 50000000

typedef struct reader { const uint8_t *p, *end; vc_error *err; int failed; } reader;

static int take(reader *r, void *out, size_t n)
{
    if (r->failed || (size_t)(r->end - r->p) < n) {
        if (!r->failed) vc_fail(r->err, VC_ERR_INVALID_FORMAT, "index file is truncated");
        r->failed = 1;
        if (out) memset(out, 0, n);
        return -1;
    }
    if (out) memcpy(out, r->p, n);
    r->p += n;
    return 0;
}

static uint64_t take_u64(reader *r) { uint64_t v; take(r, &v, 8); return v; }
static int32_t take_i32(reader *r) { int32_t v; take(r, &v, 4); return v; }

typedef struct header { int32_t d; int64_t ntotal; } header;

static int read_header(reader *r, header *h)
{
    h->d = take_i32(r);
    h->ntotal = (int64_t)take_u64(r);
    take_u64(r); take_u64(r);  /* dummies */
    take(r, NULL, 1);          /* is_trained */
    int32_t metric = take_i32(r);
    if (metric > 1) take(r, NULL, 4);
    if (r->failed || h->d < 1 || h->d > MAX_DIM || h->ntotal < 0 || h->ntotal > MAX_VECTORS)
        return r->failed ? -1 : vc_fail(r->err, VC_ERR_INVALID_FORMAT, "index header is implausible (d %d, ntotal %lld)", h->d, (long long)h->ntotal);
    return 0;
}

/* IndexFlat body: the codes as faiss' "xb vector": a count of floats (ntotal·d), then the floats */
static int read_flat(reader *r, const header *h, float *out)
{
    uint64_t floats = take_u64(r); /* ntotal·d was checked against the file before the bank was allocated */
    if (!r->failed && floats != (uint64_t)h->ntotal * (uint64_t)h->d) return vc_fail(r->err, VC_ERR_INVALID_FORMAT, "flat index size mismatch");
    return take(r, out, (size_t)floats * 4);
}

static int skip_vector(reader *r, size_t elem)
{
    uint64_t n = take_u64(r);
    if (!r->failed && n > (uint64_t)(r->end - r->p) / elem) return take(r, NULL, (size_t)-1 / 2);
    return take(r, NULL, (size_t)n * elem);
}

static int read_ivf_lists(reader *r, const header *h, float *bank)
{
    char four[4];
    take(r, four, 4);
    if (r->failed || memcmp(four, "ilar", 4)) return r->failed ? -1 : vc_fail(r->err, VC_ERR_INVALID_FORMAT, "unsupported inverted lists (only array lists)");
    uint64_t nlist = take_u64(r), code_size = take_u64(r);
    if (code_size != (uint64_t)h->d * 4 || nlist > MAX_VECTORS) return vc_fail(r->err, VC_ERR_INVALID_FORMAT, "inverted lists do not hold flat float vectors");
    /* each list has at least its 8-byte size in the file: a count the rest of the file cannot hold is a lie */
    if (nlist > (uint64_t)(r->end - r->p) / 8) return vc_fail(r->err, VC_ERR_INVALID_FORMAT, "index file is truncated (%llu inverted lists claimed)", (unsigned long long)nlist);
    uint64_t *sizes = calloc(nlist + 1, sizeof(uint64_t));
    if (!sizes) return vc_fail(r->err, VC_ERR_NOMEM, "out of memory");
    take(r, four, 4);
    if (!memcmp(four, "full", 4)) {
        if (take_u64(r) != nlist) r->failed = 1;
        for (uint64_t i = 0; !r->failed && i < nlist; i++) sizes[i] = take_u64(r);
    } else if (!memcmp(four, "sprs", 4)) {
        uint64_t n = take_u64(r);
        for (uint64_t i = 0; !r->failed && i + 1 < n + 1 && i < n; i += 2) { uint64_t l = take_u64(r), s = take_u64(r); if (l < nlist) sizes[l] = s; }
    } else r->failed = 1;
    uint64_t seen = 0;
    float *codes = NULL;
    for (uint64_t l = 0; !r->failed && l < nlist; l++) {
        if (!sizes[l]) continue;
        uint64_t need = 0, entry = 0;
        if (sizes[l] > (uint64_t)h->ntotal || ck_add_u64(code_size, 8, &entry) != 0 || ck_mul_u64(sizes[l], entry, &need) != 0 ||
            need > (uint64_t)(r->end - r->p)) { r->failed = 1; break; }
        float *grown = realloc(codes, (size_t)(sizes[l] * code_size));
        if (!grown) { r->failed = 1; break; }
        codes = grown;
        int64_t *ids = malloc((size_t)sizes[l] * 8);
        if (!codes || !ids) { free(ids); r->failed = 1; break; }
        take(r, codes, (size_t)(sizes[l] * code_size));
        take(r, ids, (size_t)sizes[l] * 8);
        for (uint64_t i = 0; !r->failed && i < sizes[l]; i++) {
            if (ids[i] < 0 || ids[i] >= h->ntotal) { r->failed = 1; break; }
            memcpy(bank + (size_t)ids[i] * h->d, codes + (size_t)i * h->d, (size_t)h->d * 4);
            seen++;
        }
        free(ids);
    }
    free(codes); free(sizes);
    if (r->failed || seen != (uint64_t)h->ntotal) return vc_fail(r->err, VC_ERR_INVALID_FORMAT, "inverted lists are damaged or incomplete");
    return 0;
}

static int read_index(reader *r, float **bank, int *n, int *dim)
{
    char four[4];
    header h;
    take(r, four, 4);
    if (r->failed || read_header(r, &h) != 0) return -1;
    int flat = !memcmp(four, "IxF2", 4) || !memcmp(four, "IxFI", 4), ivf = !memcmp(four, "IwFl", 4);
    if (!flat && !ivf) return vc_fail(r->err, VC_ERR_INVALID_FORMAT, "unsupported faiss index type '%.4s' (RVC writes IVF-Flat)", four);
    if (h.ntotal == 0)
        return vc_fail(r->err, VC_ERR_INVALID_FORMAT, "the index holds no vectors: this is the empty 'trained_IVF…' index RVC "
                       "writes before it adds the features; use the 'added_IVF….index' file from the same logs folder");
    /* the vectors are stored in the file: never allocate more than what is left of it can hold */
    uint64_t bank_bytes = 0;
    if (ck_mul_u64((uint64_t)h.ntotal * (uint64_t)h.d, 4, &bank_bytes) != 0 || bank_bytes > (uint64_t)(r->end - r->p))
        return vc_fail(r->err, VC_ERR_INVALID_FORMAT, "index file is truncated: its header claims %lld vectors of %d floats "
                       "(%llu bytes) but only %zu bytes follow", (long long)h.ntotal, h.d, (unsigned long long)bank_bytes,
                       (size_t)(r->end - r->p));
    *bank = calloc((size_t)h.ntotal * h.d + 1, sizeof(float));
    if (!*bank) return vc_fail(r->err, VC_ERR_NOMEM, "out of memory");
    *n = (int)h.ntotal;
    *dim = h.d;
    if (flat) return read_flat(r, &h, *bank);
    take_u64(r); take_u64(r); /* nlist, nprobe */
    char qfour[4];
    header qh;
    take(r, qfour, 4);
    if (r->failed || read_header(r, &qh) != 0) return -1;
    if (memcmp(qfour, "IxF2", 4) && memcmp(qfour, "IxFI", 4)) return vc_fail(r->err, VC_ERR_INVALID_FORMAT, "unsupported IVF quantizer '%.4s'", qfour);
    skip_vector(r, 4); /* centroids: xb vector, counted in floats */
    char maptype;      /* direct map: type, its id array (always written, empty without a map), */
    take(r, &maptype, 1);
    skip_vector(r, 8);
    if (maptype == 2) skip_vector(r, 16); /* and for a hash table its (id, offset) pairs */
    return read_ivf_lists(r, &h, *bank);
}

int rvc_index_load(const char *path, float **bank, int *n, int *dim, vc_error *err)
{
    *bank = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return vc_fail(err, VC_ERR_NOT_FOUND, "cannot open index %s", path);
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (fseek(f, 0, SEEK_SET) != 0) size = -1;
    uint8_t *buf = size > 0 ? malloc((size_t)size) : NULL;
    int rc = buf && fread(buf, 1, (size_t)size, f) == (size_t)size ? 0 : vc_fail(err, VC_ERR_INVALID_FORMAT, "cannot read index %s", path);
    fclose(f);
    if (rc == 0) {
        reader r = {buf, buf + size, err, 0};
        rc = read_index(&r, bank, n, dim);
        if (rc != 0 || r.failed) { rc = -1; free(*bank); *bank = NULL; if (err->message[0] == '\0') vc_fail(err, VC_ERR_INVALID_FORMAT, "damaged index"); }
    }
    free(buf);
    return rc == 0 ? 0 : vc_error_wrap(err, "%s", path);
}
