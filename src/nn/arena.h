/*
 * A bump arena for activations and gradients: blocks are allocated on first use and kept, so a
 * training step that records the same graph as the step before touches no fresh memory (no page
 * faults, no malloc) after the first one. Allocation is last-in first-out: a tape takes a mark
 * when it opens and releases to it when it is freed, so the discriminator's tape, opened and
 * freed inside the generator's, returns its memory for the generator's losses to reuse.
 *
 * Ownership: the arena owns every block; callers never free what nn_arena_alloc returns.
 * Not thread-safe: one arena per training run (the trainer owns it).
 */
#ifndef VC_NN_ARENA_H
#define VC_NN_ARENA_H

#include <stddef.h>

typedef struct nn_arena nn_arena;

typedef struct nn_arena_mark {
    int block;   /* index of the block in use */
    size_t used; /* bytes used in that block */
} nn_arena_mark;

/* block_bytes: the size of an ordinary block (larger requests get a block of their own). */
nn_arena *nn_arena_create(size_t block_bytes);
void nn_arena_free(nn_arena *a);

/* bytes zeroed (on the current engine context's threads), 64-byte aligned; NULL when out of memory. */
void *nn_arena_alloc_zero(nn_arena *a, size_t bytes);

/* The same without zeroing, for a buffer its user overwrites whole (a convolution's output). */
void *nn_arena_alloc(nn_arena *a, size_t bytes);

nn_arena_mark nn_arena_mark_now(const nn_arena *a);
void nn_arena_release(nn_arena *a, nn_arena_mark m); /* everything allocated after m is gone */

/* Buffers that die in any order (a tape's gradients, freed as soon as the reverse walk has
 * passed their node): nn_arena_take returns a zeroed buffer, reusing one of exactly that size
 * given back earlier with nn_arena_give when there is one. They are separate from the blocks and
 * kept until nn_arena_free, so a step's gradients need only as much memory as are alive at once. */
void *nn_arena_take_zero(nn_arena *a, size_t bytes);
void *nn_arena_take(nn_arena *a, size_t bytes); /* not zeroed */
void nn_arena_give(nn_arena *a, void *p, size_t bytes);

size_t nn_arena_reserved(const nn_arena *a);   /* bytes held in blocks */
size_t nn_arena_high_water(const nn_arena *a); /* most bytes in use at once (block tails skipped count) */

#endif
