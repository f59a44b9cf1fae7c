/*
 * Test support: deterministic pseudo-random inputs.
 *
 *   test_random_floats(n, seed)  n floats uniform in [−1, 1) from a 32-bit LCG (malloc'd; the
 *                                caller frees): the same values for the same seed on every machine
 */
#ifndef VC_TEST_RANDOM_H
#define VC_TEST_RANDOM_H

#include <stddef.h>

float *test_random_floats(size_t n, unsigned seed);

#endif
