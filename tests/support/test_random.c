/* Deterministic pseudo-random test inputs (see test_random.h). */
#include "test_random.h"

#include <stdlib.h>

float *test_random_floats(size_t n, unsigned seed)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; x && i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return x;
}
