/*
 * Checked size arithmetic for untrusted numbers (file headers, pickles, zip directories).
 * Each helper returns 0 and stores the result, or -1 when it would wrap; a caller turns -1
 * into a format error. Lengths read from a file must never meet a bare + or *.
 */
#ifndef VC_BASE_CHECKED_H
#define VC_BASE_CHECKED_H

#include <stdint.h>

static inline int ck_add_u64(uint64_t a, uint64_t b, uint64_t *out) { return __builtin_add_overflow(a, b, out) ? -1 : 0; }
static inline int ck_mul_u64(uint64_t a, uint64_t b, uint64_t *out) { return __builtin_mul_overflow(a, b, out) ? -1 : 0; }
static inline int ck_add_i64(int64_t a, int64_t b, int64_t *out) { return __builtin_add_overflow(a, b, out) ? -1 : 0; }
static inline int ck_mul_i64(int64_t a, int64_t b, int64_t *out) { return __builtin_mul_overflow(a, b, out) ? -1 : 0; }

/* a + b <= limit, without wrapping. */
static inline int ck_fits(uint64_t a, uint64_t b, uint64_t limit) { uint64_t s; return ck_add_u64(a, b, &s) == 0 && s <= limit; }

#endif
