/*
 * Building a voice's feature index after training, as the official train_index does, and
 * writing it in faiss' IndexIVFFlat layout ("IVF{nlist},Flat") so the file works with RVC
 * itself and with rvc_index_load (the reader documents the layout).
 *   rows > 200000: reduced first to RVC_INDEX_REDUCED mini-batch k-means centres, which are
 *   then what the index holds (as the official code does);
 *   nlist = min(int(16·√rows), rows / 39), at least 1; coarse centroids by k-means (faiss'
 *   defaults for an IVF: 10 iterations, at most 256 training points per centroid), every row in
 *   the list of its nearest centroid, nprobe 1, no direct map.
 * The k-means is ours (seeded, deterministic), so centroids differ from faiss' run; the stored
 * vectors, ids and layout are the same kind.
 */
#ifndef VC_MODELS_RVC_INDEX_BUILD_H
#define VC_MODELS_RVC_INDEX_BUILD_H

#include <stdint.h>

#include "base/error.h"

#define RVC_INDEX_REDUCE_ABOVE 200000
#define RVC_INDEX_REDUCED 10000

/* Inverted lists for n rows (after any reduction): min(int(16·√n), n / 39), never below 1. */
int64_t rvc_index_nlist(int64_t n);

/* rows [n, dim] → an IndexIVFFlat file at path, written atomically (temp file, fsync, rename:
 * on failure no file and no temp file is left). */
int rvc_index_build(const float *rows, int64_t n, int dim, uint64_t seed, const char *path, vc_error *err);

#endif
