/*
 * Cutting a recording at its pauses, as RVC's training preprocessing does (its Slicer, with the
 * settings preprocess.py uses). Why its own file: the rules are a small state machine over
 * frame loudness whose exact choices (where in a pause to cut, how much silence to keep, when a
 * pause is too short to cut) decide which training pieces exist; it is tested on its own.
 *
 * Loudness: RMS of windows of 4 hops (hop = 15 ms), centred, zero-padded at both ends.
 * A frame is silent below −42 dBFS. A pause is cut when it lasts at least 0.4 s and the clip
 * before it is at least 1.5 s long; at most 0.5 s of the pause stays with each neighbouring clip
 * (cut at the quietest frame). Leading and trailing pauses are dropped the same way.
 */
#ifndef VC_MODELS_RVC_SLICER_H
#define VC_MODELS_RVC_SLICER_H

#include <stdint.h>

#include "base/error.h"

typedef struct rvc_span {
    int64_t begin, end; /* samples [begin, end) */
} rvc_span;

/* x [n] at sr → *spans [*count] (malloc'd, in order, possibly none for all-silent input). */
int rvc_slice(const double *x, int64_t n, int sr, rvc_span **spans, int *count, vc_error *err);

#endif
