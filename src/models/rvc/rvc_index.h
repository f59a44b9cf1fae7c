/*
 * RVC's feature index: the .index file RVC writes with faiss (IndexIVFFlat, "IVF{n},Flat", or a
 * plain IndexFlatL2). We only need its stored vectors (what the official code gets from
 * index.reconstruct_n(0, ntotal)); search is exact k = 8 (rvc_knn), which finds the same or
 * closer neighbours than faiss' nprobe = 1 probe of one cluster.
 *
 * The reader follows faiss' on-disk layout (index_write.cpp): fourcc, header (d, ntotal, two
 * dummies, is_trained, metric), for IVF: nlist, nprobe, the nested quantizer index (IndexFlat
 * codes are an "xb vector": the count is of floats, not bytes), the direct map (type byte, then
 * its id array, written even when empty), then the inverted lists ("ilar": full or sparse sizes,
 * then codes and ids per list). rvc_index_build.h writes the same layout.
 * Every count and size is checked against the file before it is used.
 */
#ifndef VC_MODELS_RVC_INDEX_H
#define VC_MODELS_RVC_INDEX_H

#include "base/error.h"

/* bank [n, dim] (malloc'd, row = vector id). */
int rvc_index_load(const char *path, float **bank, int *n, int *dim, vc_error *err);

#endif
