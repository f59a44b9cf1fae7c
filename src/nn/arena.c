/*
 * The bump arena (arena.h). Blocks form a list in allocation order; a request that does not fit
 * the rest of the current block moves on to the next block that can hold it, or inserts a new
 * one there. Releasing to a mark only moves the cursor back, so the blocks, once touched, stay
 * resident for the next step.
 */
#include "nn/arena.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "nn/par.h"

#define ARENA_ALIGN 64
#define ARENA_MAX_BLOCKS 256

typedef struct arena_block {
    char *mem;
    size_t size;
} arena_block;

typedef struct spare_bin { /* given-back buffers of one size */
    size_t size;
    void **free;
    int n, cap;
} spare_bin;

struct nn_arena {
    spare_bin *bins;
    int n_bins, cap_bins;
    size_t spare_bytes; /* bytes held by buffers of the bins, in use or not */
    arena_block blocks[ARENA_MAX_BLOCKS];
    int n_blocks;
    int cur;      /* block the cursor is in (0 when there are none yet) */
    size_t used;  /* bytes used in blocks[cur] */
    size_t below; /* sizes of the blocks before cur: their unused tails count as in use */
    size_t high_water;
    size_t block_bytes;
};

nn_arena *nn_arena_create(size_t block_bytes)
{
    nn_arena *a = calloc(1, sizeof *a);
    if (a) a->block_bytes = block_bytes ? block_bytes : ((size_t)256 << 20);
    return a;
}

void nn_arena_free(nn_arena *a)
{
    if (!a) return;
    for (int i = 0; i < a->n_blocks; i++) free(a->blocks[i].mem);
    for (int i = 0; i < a->n_bins; i++) {
        for (int k = 0; k < a->bins[i].n; k++) free(a->bins[i].free[k]);
        free(a->bins[i].free);
    }
    free(a->bins);
    free(a);
}

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

/* Inserts a block of at least `bytes` at position `at`; -1 when out of memory or slots. */
static int insert_block(nn_arena *a, int at, size_t bytes)
{
    if (a->n_blocks == ARENA_MAX_BLOCKS) return -1;
    size_t size = round_up(bytes > a->block_bytes ? bytes : a->block_bytes, (size_t)2 << 20);
    char *mem = aligned_alloc(ARENA_ALIGN, size);
    if (!mem) return -1;
    memmove(&a->blocks[at + 1], &a->blocks[at], sizeof(arena_block) * (size_t)(a->n_blocks - at));
    a->blocks[at] = (arena_block){mem, size};
    a->n_blocks++;
    return 0;
}

/* Moves the cursor to the first block from the current one on with room for `bytes`. */
static int find_room(nn_arena *a, size_t bytes)
{
    if (a->n_blocks && a->used + bytes <= a->blocks[a->cur].size) return 0;
    if (a->n_blocks == 0) return insert_block(a, 0, bytes);
    a->below += a->blocks[a->cur].size;
    a->used = 0;
    a->cur++;
    while (a->cur < a->n_blocks && a->blocks[a->cur].size < bytes) a->below += a->blocks[a->cur++].size;
    return a->cur < a->n_blocks ? 0 : insert_block(a, a->cur, bytes);
}

static void zero(char *p, size_t bytes)
{
    size_t chunk = (size_t)1 << 20, n = (bytes + chunk - 1) / chunk;
    NN_PAR_FOR(bytes / sizeof(float))
    for (size_t i = 0; i < n; i++) {
        size_t off = i * chunk;
        memset(p + off, 0, bytes - off < chunk ? bytes - off : chunk);
    }
}

void *nn_arena_alloc(nn_arena *a, size_t bytes)
{
    bytes = round_up(bytes ? bytes : 1, ARENA_ALIGN);
    if (find_room(a, bytes)) return NULL;
    char *p = a->blocks[a->cur].mem + a->used;
    a->used += bytes;
    if (a->below + a->used > a->high_water) a->high_water = a->below + a->used;
    return p;
}

void *nn_arena_alloc_zero(nn_arena *a, size_t bytes)
{
    char *p = nn_arena_alloc(a, bytes);
    if (p) zero(p, round_up(bytes ? bytes : 1, ARENA_ALIGN));
    return p;
}

static spare_bin *bin_for(nn_arena *a, size_t bytes, int create)
{
    for (int i = 0; i < a->n_bins; i++)
        if (a->bins[i].size == bytes) return &a->bins[i];
    if (!create) return NULL;
    if (a->n_bins == a->cap_bins) {
        int cap = a->cap_bins ? 2 * a->cap_bins : 64;
        spare_bin *bins = realloc(a->bins, sizeof *bins * (size_t)cap);
        if (!bins) return NULL;
        a->bins = bins;
        a->cap_bins = cap;
    }
    a->bins[a->n_bins] = (spare_bin){.size = bytes};
    return &a->bins[a->n_bins++];
}

void *nn_arena_take(nn_arena *a, size_t bytes)
{
    bytes = round_up(bytes ? bytes : 1, ARENA_ALIGN);
    spare_bin *b = bin_for(a, bytes, 0);
    char *p = b && b->n ? b->free[--b->n] : NULL;
    if (!p) {
        p = aligned_alloc(ARENA_ALIGN, bytes);
        if (!p) return NULL;
        a->spare_bytes += bytes;
    }
    return p;
}

void *nn_arena_take_zero(nn_arena *a, size_t bytes)
{
    char *p = nn_arena_take(a, bytes);
    if (p) zero(p, round_up(bytes ? bytes : 1, ARENA_ALIGN));
    return p;
}

void nn_arena_give(nn_arena *a, void *p, size_t bytes)
{
    if (!p) return;
    bytes = round_up(bytes ? bytes : 1, ARENA_ALIGN);
    spare_bin *b = bin_for(a, bytes, 1);
    if (b && b->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 8;
        void **grown = realloc(b->free, sizeof(void *) * (size_t)cap);
        if (grown) {
            b->free = grown;
            b->cap = cap;
        }
    }
    if (b && b->n < b->cap) {
        b->free[b->n++] = p;
        return;
    }
    free(p); /* no room to keep it: out of memory for the list itself */
    a->spare_bytes -= bytes;
}

nn_arena_mark nn_arena_mark_now(const nn_arena *a) { return (nn_arena_mark){a->cur, a->used}; }

void nn_arena_release(nn_arena *a, nn_arena_mark m)
{
    assert(m.block < a->cur || (m.block == a->cur && m.used <= a->used));
    size_t below = 0;
    for (int i = 0; i < m.block && i < a->n_blocks; i++) below += a->blocks[i].size;
    a->cur = m.block;
    a->used = m.used;
    a->below = below;
}

size_t nn_arena_reserved(const nn_arena *a)
{
    size_t s = a->spare_bytes;
    for (int i = 0; i < a->n_blocks; i++) s += a->blocks[i].size;
    return s;
}

size_t nn_arena_high_water(const nn_arena *a) { return a->high_water; }
