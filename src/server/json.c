/*
 * Small JSON helpers shared by resources. jansson refuses strings that are not valid UTF-8
 * (json_pack then returns NULL), so anything that came from a client — file names, URLs echoed in
 * messages — goes through server_utf8_sanitize first.
 */
#include <math.h>
#include <stddef.h>

#include "server/server.h"

json_t *server_json_number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Length of the valid UTF-8 sequence at p, 0 when invalid. */
static size_t utf8_seq(const unsigned char *p)
{
    size_t n = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 2 && p[0] < 0xC2) return 0; /* overlong */
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return n;
}

void server_utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq(p);
        if (n == 0 || (n == 1 && *p < 0x20)) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}
