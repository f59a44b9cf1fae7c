/*
 * Loops over long arrays run on the current engine context's threads (nn_ctx_current) through
 * OpenMP, the runtime oneDNN already uses, so the second core works instead of spinning between
 * two kernels. Each element (or row) is computed by one thread with the same expression, so
 * results do not depend on the thread count. Files using NN_PAR_FOR are built with -fopenmp
 * (Makefile); without it (the sanitizer build) the loops run serially.
 *
 *     NN_PAR_FOR(n)               // n: elements of work, below NN_PAR_MIN stays on one thread
 *     for (size_t i = 0; i < n; i++) ...
 */
#ifndef VC_NN_PAR_H
#define VC_NN_PAR_H

#include <stddef.h>

#define NN_PAR_MIN 65536

int nn_par_threads(size_t work); /* 1 below NN_PAR_MIN, else the context's thread count */

#ifdef _OPENMP
#define NN_PRAGMA_(x) _Pragma(#x)
#define NN_PAR_FOR(work) NN_PRAGMA_(omp parallel for num_threads(nn_par_threads(work)) schedule(static))
#else
#define NN_PAR_FOR(work)
#endif

#endif
