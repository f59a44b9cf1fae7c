/*
 * Feature index building (see rvc_index_build.h). Why here and not in rvc_index.c: that file
 * reads any faiss file RVC may hand us; this one makes exactly one kind, and owns the
 * clustering that decides what goes where.
 */
#include "models/rvc/rvc_index_build.h"
#include "nn/backend.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#define KMEANS_ITERATIONS 10       /* faiss' IVF coarse quantizer training */
#define KMEANS_MAX_PER_CENTROID 256 /* faiss subsamples to this many points per centroid */
#define ASSIGN_BLOCK 256           /* rows per distance block */
#define SPLIT_EPS (1.0f / 1024.0f) /* empty cluster: split a big one, centroids nudged apart */

/* splitmix64: small, seedable, the same on every platform */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int64_t rng_below(uint64_t *s, int64_t n) { return (int64_t)(rng_next(s) % (uint64_t)n); }

int64_t rvc_index_nlist(int64_t n)
{
    int64_t by_sqrt = (int64_t)(16.0 * sqrt((double)n)), by_count = n / 39;
    int64_t nlist = by_sqrt < by_count ? by_sqrt : by_count;
    /* faiss cannot train fewer rows than 39 per list, so the official formula gives 0 below
     * 39 rows and index_factory("IVF0,Flat") fails there; one list (an exhaustive search, as a
     * flat index) keeps small voices usable instead. */
    return nlist < 1 ? 1 : nlist;
}

/* k distinct row indices of n, in random order (partial Fisher–Yates). */
static int64_t *random_rows(int64_t n, int64_t k, uint64_t *seed)
{
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)n);
    if (!perm) return NULL;
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = 0; i < k; i++) {
        int64_t j = i + rng_below(seed, n - i), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    return perm;
}

static void squared_norms(const float *x, int64_t n, int d, float *out)
{
    for (int64_t i = 0; i < n; i++) {
        const float *r = x + i * d;
        float acc = 0.0f;
        for (int j = 0; j < d; j++) acc += r[j] * r[j];
        out[i] = acc;
    }
}

/* labels[i] = nearest of k centroids to row i (squared L2 as |x|² + |c|² − 2x·c). */
static int assign_nearest(const float *x, int64_t n, int d, const float *cent, int64_t k, int64_t *labels, vc_error *err)
{
    float *cn = malloc(sizeof(float) * (size_t)k), *dot = malloc(sizeof(float) * ASSIGN_BLOCK * (size_t)k);
    if (!cn || !dot) { free(cn); free(dot); return vc_fail(err, VC_ERR_NOMEM, "out of memory (index assignment)"); }
    squared_norms(cent, k, d, cn);
    for (int64_t b = 0; b < n; b += ASSIGN_BLOCK) {
        int rows = (int)(n - b < ASSIGN_BLOCK ? n - b : ASSIGN_BLOCK);
        nn_gemm(0, 1, rows, (int)k, d, 1.0f, x + b * d, d, cent, d, 0.0f, dot, (int)k);
        for (int r = 0; r < rows; r++) {
            float best = FLT_MAX;
            labels[b + r] = 0;
            for (int64_t c = 0; c < k; c++) {
                float dist = cn[c] - 2.0f * dot[(size_t)r * k + c];
                if (dist < best) { best = dist; labels[b + r] = c; }
            }
        }
    }
    free(cn);
    free(dot);
    return 0;
}

/* An empty centroid takes over half of a cluster chosen in proportion to its size. */
static void split_for_empty(float *cent, int64_t k, int d, int64_t *counts, int64_t n, uint64_t *seed)
{
    for (int64_t c = 0; c < k; c++) {
        if (counts[c] > 0) continue;
        int64_t pick = rng_below(seed, n), big = 0;
        for (int64_t acc = 0; big < k - 1 && (acc += counts[big]) <= pick; big++) {}
        if (counts[big] < 2) continue;
        for (int j = 0; j < d; j++) {
            float v = cent[big * d + j], s = (j % 2 ? 1.0f : -1.0f) * SPLIT_EPS;
            cent[c * d + j] = v * (1 + s);
            cent[big * d + j] = v * (1 - s);
        }
        counts[c] = counts[big] / 2;
        counts[big] -= counts[c];
    }
}

/* One Lloyd step: centroids = means of their rows. */
static void update_centroids(const float *x, int64_t n, int d, const int64_t *labels, float *cent, int64_t k, int64_t *counts,
                             uint64_t *seed)
{
    memset(counts, 0, sizeof(int64_t) * (size_t)k);
    for (int64_t i = 0; i < n; i++) counts[labels[i]]++;
    for (int64_t c = 0; c < k; c++)
        if (counts[c] > 0) memset(cent + c * d, 0, sizeof(float) * (size_t)d);
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) cent[labels[i] * d + j] += x[i * d + j];
    for (int64_t c = 0; c < k; c++) {
        float inv = counts[c] > 0 ? 1.0f / (float)counts[c] : 1.0f;
        for (int j = 0; j < d; j++) cent[c * d + j] *= inv;
    }
    split_for_empty(cent, k, d, counts, n, seed);
}

/* Training rows: all of them, or a random k·256 when there are more (as faiss). */
static float *training_rows(const float *x, int64_t n, int d, int64_t k, uint64_t *seed, int64_t *nt)
{
    *nt = n < k * KMEANS_MAX_PER_CENTROID ? n : k * KMEANS_MAX_PER_CENTROID;
    int64_t *pick = random_rows(n, *nt, seed);
    float *t = pick ? malloc(sizeof(float) * (size_t)*nt * (size_t)d) : NULL;
    for (int64_t i = 0; t && i < *nt; i++) memcpy(t + i * d, x + pick[i] * d, sizeof(float) * (size_t)d);
    free(pick);
    return t;
}

/* k-means: k random training rows, then KMEANS_ITERATIONS Lloyd steps. cent [k, d]. */
static int kmeans(const float *x, int64_t n, int d, int64_t k, uint64_t *seed, float *cent, vc_error *err)
{
    int64_t nt;
    float *t = training_rows(x, n, d, k, seed, &nt);
    int64_t *init = t ? random_rows(nt, k, seed) : NULL, *labels = malloc(sizeof(int64_t) * (size_t)nt);
    int64_t *counts = malloc(sizeof(int64_t) * (size_t)k);
    int rc = t && init && labels && counts ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (k-means)");
    for (int64_t c = 0; rc == 0 && c < k; c++) memcpy(cent + c * d, t + init[c] * d, sizeof(float) * (size_t)d);
    for (int it = 0; rc == 0 && it < KMEANS_ITERATIONS; it++) {
        rc = assign_nearest(t, nt, d, cent, k, labels, err);
        if (rc == 0) update_centroids(t, nt, d, labels, cent, k, counts, seed);
    }
    free(t); free(init); free(labels); free(counts);
    return rc;
}

/* sklearn-style mini-batch k-means (random init, per-centre learning rate 1/count), one pass
 * over the rows in batches of 256 per core: the reduction of very large sets. */
static int minibatch_kmeans(const float *x, int64_t n, int d, int64_t k, uint64_t *seed, float *cent, vc_error *err)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t batch = 256 * (cores > 0 ? cores : 1), steps = (n + batch - 1) / batch;
    int64_t *init = random_rows(n, k, seed), *counts = calloc((size_t)k, sizeof(int64_t));
    int64_t *labels = malloc(sizeof(int64_t) * (size_t)batch);
    float *b = malloc(sizeof(float) * (size_t)batch * (size_t)d);
    int rc = init && counts && labels && b ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (mini-batch k-means)");
    for (int64_t c = 0; rc == 0 && c < k; c++) memcpy(cent + c * d, x + init[c] * d, sizeof(float) * (size_t)d);
    for (int64_t s = 0; rc == 0 && s < steps; s++) {
        for (int64_t i = 0; i < batch; i++) memcpy(b + i * d, x + rng_below(seed, n) * d, sizeof(float) * (size_t)d);
        rc = assign_nearest(b, batch, d, cent, k, labels, err);
        for (int64_t i = 0; rc == 0 && i < batch; i++) {
            float *c = cent + labels[i] * d, lr = 1.0f / (float)++counts[labels[i]];
            for (int j = 0; j < d; j++) c[j] += lr * (b[i * d + j] - c[j]);
        }
    }
    free(init); free(counts); free(labels); free(b);
    return rc;
}

/* ---- faiss layout ---- */

typedef struct out_file { FILE *f; int failed; } out_file;

static void put(out_file *o, const void *p, size_t n)
{
    if (!o->failed && n && fwrite(p, 1, n, o->f) != n) o->failed = 1;
}
static void put_u64(out_file *o, uint64_t v) { put(o, &v, 8); }

/* write_index_header: d, ntotal, two dummies, is_trained, metric (L2) */
static void put_header(out_file *o, const char *fourcc, int dim, int64_t ntotal)
{
    int32_t d = dim, metric = 1;
    uint8_t trained = 1;
    put(o, fourcc, 4);
    put(o, &d, 4);
    put_u64(o, (uint64_t)ntotal);
    put_u64(o, 1u << 20);
    put_u64(o, 1u << 20);
    put(o, &trained, 1);
    put(o, &metric, 4);
}

/* ArrayInvertedLists: sizes ("full" when most lists are used, else "sprs" pairs), then per
 * non-empty list its codes and ids. order = row ids grouped by list. */
static void put_lists(out_file *o, const float *rows, int dim, int64_t nlist, const int64_t *sizes, const int64_t *order)
{
    int64_t used = 0;
    for (int64_t l = 0; l < nlist; l++) used += sizes[l] > 0;
    put(o, "ilar", 4);
    put_u64(o, (uint64_t)nlist);
    put_u64(o, (uint64_t)dim * 4);
    if (used > nlist / 2) {
        put(o, "full", 4);
        put_u64(o, (uint64_t)nlist);
        for (int64_t l = 0; l < nlist; l++) put_u64(o, (uint64_t)sizes[l]);
    } else {
        put(o, "sprs", 4);
        put_u64(o, 2 * (uint64_t)used);
        for (int64_t l = 0; l < nlist; l++)
            if (sizes[l] > 0) { put_u64(o, (uint64_t)l); put_u64(o, (uint64_t)sizes[l]); }
    }
    const int64_t *ids = order;
    for (int64_t l = 0; l < nlist; ids += sizes[l], l++) {
        for (int64_t i = 0; i < sizes[l]; i++) put(o, rows + ids[i] * dim, sizeof(float) * (size_t)dim);
        put(o, ids, sizeof(int64_t) * (size_t)sizes[l]);
    }
}

static void put_ivf_flat(out_file *o, const float *rows, int64_t n, int dim, const float *cent, int64_t nlist,
                         const int64_t *sizes, const int64_t *order)
{
    put_header(o, "IwFl", dim, n);
    put_u64(o, (uint64_t)nlist);
    put_u64(o, 1); /* nprobe */
    put_header(o, "IxF2", dim, nlist);
    put_u64(o, (uint64_t)nlist * (uint64_t)dim); /* xb vector: count of floats */
    put(o, cent, sizeof(float) * (size_t)nlist * (size_t)dim);
    put(o, "\0", 1); /* no direct map, */
    put_u64(o, 0);   /* so an empty id array */
    put_lists(o, rows, dim, nlist, sizes, order);
}

/* Row ids grouped by label (stable): sizes [nlist], order [n]. */
static int group_by_list(const int64_t *labels, int64_t n, int64_t nlist, int64_t *sizes, int64_t *order, vc_error *err)
{
    int64_t *at = calloc((size_t)nlist, sizeof(int64_t)), start = 0;
    if (!at) return vc_fail(err, VC_ERR_NOMEM, "out of memory (index lists)");
    memset(sizes, 0, sizeof(int64_t) * (size_t)nlist);
    for (int64_t i = 0; i < n; i++) sizes[labels[i]]++;
    for (int64_t l = 0; l < nlist; l++) { at[l] = start; start += sizes[l]; }
    for (int64_t i = 0; i < n; i++) order[at[labels[i]]++] = i;
    free(at);
    return 0;
}

static int write_atomic(const char *path, const float *rows, int64_t n, int dim, const float *cent, int64_t nlist,
                        const int64_t *sizes, const int64_t *order, vc_error *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return vc_fail(err, VC_ERR_IO, "cannot create the index next to %s: %s", path, strerror(errno));
    out_file o = {fdopen(fd, "wb"), 0};
    if (!o.f) { close(fd); unlink(tmp); return vc_fail(err, VC_ERR_IO, "cannot write %s: %s", tmp, strerror(errno)); }
    fchmod(fd, 0644);
    put_ivf_flat(&o, rows, n, dim, cent, nlist, sizes, order);
    int failed = o.failed || fflush(o.f) != 0 || fsync(fd) != 0;
    int e = errno;
    failed |= fclose(o.f) != 0;
    if (!failed && rename(tmp, path) == 0) return 0;
    e = failed ? e : errno;
    unlink(tmp);
    return vc_fail(err, VC_ERR_IO, "writing the index %s failed: %s", path, strerror(e));
}

/* Centroids, lists and file for rows that are final (after any reduction). */
static int build_ivf(const float *rows, int64_t n, int dim, uint64_t *seed, const char *path, vc_error *err)
{
    int64_t nlist = rvc_index_nlist(n);
    float *cent = malloc(sizeof(float) * (size_t)nlist * (size_t)dim);
    int64_t *labels = malloc(sizeof(int64_t) * (size_t)n), *order = malloc(sizeof(int64_t) * (size_t)n);
    int64_t *sizes = malloc(sizeof(int64_t) * (size_t)nlist);
    int rc = cent && labels && order && sizes ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (index of %lld rows)", (long long)n);
    if (rc == 0) rc = kmeans(rows, n, dim, nlist, seed, cent, err);
    if (rc == 0) rc = assign_nearest(rows, n, dim, cent, nlist, labels, err);
    if (rc == 0) rc = group_by_list(labels, n, nlist, sizes, order, err);
    if (rc == 0) rc = write_atomic(path, rows, n, dim, cent, nlist, sizes, order, err);
    free(cent); free(labels); free(order); free(sizes);
    return rc;
}

int rvc_index_build(const float *rows, int64_t n, int dim, uint64_t seed, const char *path, vc_error *err)
{
    if (!rows || n < 1 || dim < 1 || dim > 4096)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "index: need at least one feature row of 1..4096 dimensions (got %lld × %d)",
                       (long long)n, dim);
    uint64_t state = seed;
    if (n <= RVC_INDEX_REDUCE_ABOVE) return build_ivf(rows, n, dim, &state, path, err);
    float *centres = malloc(sizeof(float) * RVC_INDEX_REDUCED * (size_t)dim);
    if (!centres) return vc_fail(err, VC_ERR_NOMEM, "out of memory (index reduction)");
    int rc = minibatch_kmeans(rows, n, dim, RVC_INDEX_REDUCED, &state, centres, err);
    if (rc == 0) rc = build_ivf(centres, RVC_INDEX_REDUCED, dim, &state, path, err);
    free(centres);
    return rc;
}
