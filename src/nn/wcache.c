/*
 * The weight-format cache (wcache.h): a list of (weight pointer, format) → converted copy under
 * one mutex. A model has a few hundred convolutions, so a linear scan that compares pointers
 * first costs nothing next to one convolution.
 */
#include "nn/wcache.h"

#include "nn/weights.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct wc_entry {
    const void *w;
    void *fmt;       /* owned copy of the format bytes */
    size_t fmt_len;
    void *packed;    /* owned */
    size_t bytes;
} wc_entry;

struct nn_wcache {
    pthread_mutex_t lock;
    wc_entry *e;
    size_t n, cap, bytes;
    const char *map; /* the model's mapped weight file (set once at load, then read-only) */
    size_t map_bytes;
};

nn_wcache *nn_wcache_create(const struct nn_weights *source)
{
    nn_wcache *wc = calloc(1, sizeof *wc);
    if (wc && pthread_mutex_init(&wc->lock, NULL) != 0) {
        free(wc);
        return NULL;
    }
    if (wc && source) {
        size_t bytes;
        const void *map = nn_weights_map(source, &bytes);
        nn_wcache_set_source_map(wc, map, bytes);
    }
    return wc;
}

void nn_wcache_free(nn_wcache *wc)
{
    if (!wc) return;
    for (size_t i = 0; i < wc->n; i++) {
        free(wc->e[i].fmt);
        free(wc->e[i].packed);
    }
    free(wc->e);
    pthread_mutex_destroy(&wc->lock);
    free(wc);
}

/* Caller holds the lock. */
static const wc_entry *lookup(const nn_wcache *wc, const void *w, const void *fmt, size_t fmt_len)
{
    for (size_t i = 0; i < wc->n; i++) {
        const wc_entry *e = &wc->e[i];
        if (e->w == w && e->fmt_len == fmt_len && memcmp(e->fmt, fmt, fmt_len) == 0) return e;
    }
    return NULL;
}

const void *nn_wcache_find(nn_wcache *wc, const void *w, const void *fmt, size_t fmt_len)
{
    pthread_mutex_lock(&wc->lock);
    const wc_entry *e = lookup(wc, w, fmt, fmt_len);
    const void *p = e ? e->packed : NULL;
    pthread_mutex_unlock(&wc->lock);
    return p;
}

/* Caller holds the lock. 0 or -1 (out of memory). */
static int append(nn_wcache *wc, const void *w, const void *fmt, size_t fmt_len, void *packed, size_t bytes)
{
    if (wc->n == wc->cap) {
        size_t cap = wc->cap ? wc->cap * 2 : 64;
        wc_entry *e = realloc(wc->e, cap * sizeof *e);
        if (!e) return -1;
        wc->e = e;
        wc->cap = cap;
    }
    void *f = malloc(fmt_len ? fmt_len : 1);
    if (!f) return -1;
    memcpy(f, fmt, fmt_len);
    wc->e[wc->n++] = (wc_entry){w, f, fmt_len, packed, bytes};
    wc->bytes += bytes;
    return 0;
}

const void *nn_wcache_add(nn_wcache *wc, const void *w, const void *fmt, size_t fmt_len, void *packed, size_t bytes)
{
    pthread_mutex_lock(&wc->lock);
    const wc_entry *e = lookup(wc, w, fmt, fmt_len);
    const void *stored = e ? e->packed : append(wc, w, fmt, fmt_len, packed, bytes) == 0 ? packed : NULL;
    pthread_mutex_unlock(&wc->lock);
    if (stored != packed) free(packed);
    return stored;
}

size_t nn_wcache_bytes(nn_wcache *wc)
{
    pthread_mutex_lock(&wc->lock);
    size_t b = wc->bytes;
    pthread_mutex_unlock(&wc->lock);
    return b;
}

void nn_wcache_release_source(const void *w, size_t bytes)
{
#ifdef MADV_PAGEOUT
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), lo = ((uintptr_t)w + page - 1) / page * page,
              hi = ((uintptr_t)w + bytes) / page * page;
    /* Only the pages wholly inside the tensor: its neighbours may still be read. A kernel without
     * MADV_PAGEOUT answers EINVAL, and the pages simply stay. */
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_PAGEOUT);
#else
    (void)w;
    (void)bytes;
#endif
}

void nn_wcache_set_source_map(nn_wcache *wc, const void *base, size_t bytes)
{
    wc->map = base;
    wc->map_bytes = base ? bytes : 0;
}

int nn_wcache_source_mapped(const nn_wcache *wc, const void *w, size_t bytes)
{
    const char *p = w;
    return wc->map && p >= wc->map && bytes <= wc->map_bytes && (size_t)(p - wc->map) <= wc->map_bytes - bytes;
}
