/*
 * Small string predicates shared across modules.
 */
#ifndef VC_BASE_TEXT_H
#define VC_BASE_TEXT_H

#include <string.h>

/* 1 when s ends with suffix (an empty suffix always matches). */
static inline int vc_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !memcmp(s + a - b, suffix, b);
}

#endif
