/*
 * A small fork-join thread pool for the engine's work outside BLAS (softmax rows, norms,
 * activations): OpenBLAS threads its own GEMMs, but everything between two GEMMs would
 * otherwise run on one core while the other waits.
 *
 * nn_pool_for splits [0, n) into one contiguous range per thread (sizes differ by at most one;
 * the caller runs the first) and returns when every range is done. Each element is computed by
 * exactly one thread with the same code as the serial loop, so results do not depend on the
 * thread count. A NULL pool, or n too small to share, runs inline on the caller. One pool
 * serves one caller at a time (calls are serialised); an engine owns its own.
 */
#ifndef VC_NN_POOL_H
#define VC_NN_POOL_H

#include "base/error.h"

typedef struct nn_pool nn_pool;

/* threads: total including the caller (1 = no workers). */
int nn_pool_create(nn_pool **out, int threads, vc_error *err);
void nn_pool_free(nn_pool *p);
int nn_pool_threads(const nn_pool *p);

typedef void (*nn_pool_fn)(void *ctx, int begin, int end);
/* min_per_thread: below this many items per thread the work is not worth a wake-up. */
void nn_pool_for(nn_pool *p, int n, int min_per_thread, nn_pool_fn fn, void *ctx);

/* Threads for new engines: VCS_THREADS when set (1..64), else the online CPUs. */
int nn_pool_default_threads(void);

#endif
