/*
 * A model's weights in the backend's own formats, converted once (issue 13: "weights are
 * converted once at load into the format the backend wants").
 *
 * An inference model owns one nn_wcache for its lifetime (created at load, freed with the
 * model) and makes it the context's active cache while it runs (nn_wcache_enter/leave). The
 * backend then keeps every weight tensor it receives in each format its kernels asked for
 * (blocked, bf16, the rearranged phases of a transposed convolution), converted on first use,
 * instead of converting them again on every call.
 *
 * The contract: while a cache is active, every weight pointer given to a convolution points at
 * memory the model never changes while the cache lives (its loaded or load-time-folded weights).
 * Training never activates one: its weights change every step.
 *
 * Keys are (weight pointer, format bytes). Thread-safe: two job lanes may run one loaded model
 * at once; a stored entry never changes, so lookups return pointers the caller reads without
 * holding the lock. The cache owns every stored copy.
 */
#ifndef VC_NN_WCACHE_H
#define VC_NN_WCACHE_H

#include <stddef.h>

typedef struct nn_wcache nn_wcache;

struct nn_weights;
/* A cache for the model loaded from `source` (may be NULL: weights built in memory). The cache
 * records where source's file is mapped (nn_wcache_set_source_map). NULL when out of memory. */
nn_wcache *nn_wcache_create(const struct nn_weights *source);
void nn_wcache_free(nn_wcache *wc);

/* The stored copy of weights w in the format described by the fmt_len bytes at fmt, or NULL. */
const void *nn_wcache_find(nn_wcache *wc, const void *w, const void *fmt, size_t fmt_len);

/* Stores `packed` (bytes long, from malloc/aligned_alloc; the cache takes ownership) as w's copy
 * in format fmt and returns the stored copy: `packed` itself, or the copy another thread stored
 * first (then `packed` is freed). NULL when out of memory (then `packed` is freed too). */
const void *nn_wcache_add(nn_wcache *wc, const void *w, const void *fmt, size_t fmt_len, void *packed, size_t bytes);

size_t nn_wcache_bytes(nn_wcache *wc); /* total bytes of the stored copies */

/* The model's weight file as mapped in memory (nn_weights_map; nn_wcache_create sets it from its
 * source, tests set it directly): weights inside it are file
 * pages, which nn_wcache_release_source really gives back. Weights outside it (converted from
 * fp16 at load, folded, computed) live on the heap, where a converted copy only adds memory. */
void nn_wcache_set_source_map(nn_wcache *wc, const void *base, size_t bytes);
/* 1 when [w, w + bytes) lies inside the mapped file (so a same-size copy replaces it). */
int nn_wcache_source_mapped(const nn_wcache *wc, const void *w, size_t bytes);

/* Once a weight's converted copy is stored, the model reads that copy and no longer the source
 * (bytes at w): its memory pages may go. madvise(MADV_PAGEOUT) keeps the contents — weights
 * mapped from their file (nn_weights_open) are dropped from memory and read again from the file
 * if anything touches them; heap weights stay unless the machine has swap — so a bf16 model does
 * not hold its fp32 weights as well. */
void nn_wcache_release_source(const void *w, size_t bytes);

#endif
