/*
 * Ids that are safe in paths, path building under the data root, time stamps and hashes. The
 * POSIX file helpers live in base/fs.c; the data root's objects go through files.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/sha.h>

#include "store/store.h"

int store_new_id(const char *prefix, char out[STORE_ID_MAX], vc_error *err)
{
    unsigned char raw[12];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return vc_fail(err, VC_ERR_INTERNAL, "getrandom: %s", strerror(errno));
    int n = snprintf(out, STORE_ID_MAX, "%s_", prefix);
    for (size_t i = 0; i < sizeof raw && n + 2 < STORE_ID_MAX; i++) n += snprintf(out + n, 3, "%02x", raw[i]);
    return 0;
}

int store_id_valid(const char *id)
{
    size_t n = 0;
    if (!id) return 0;
    for (; id[n]; n++) {
        char c = id[n];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok || n >= 64) return 0;
    }
    return n > 0;
}

int store_path(const store *s, char *out, size_t cap, const char *rel_fmt, ...)
{
    int n = snprintf(out, cap, "%s/", store_root(s));
    if (n < 0 || (size_t)n >= cap) return -1;
    va_list ap;
    va_start(ap, rel_fmt);
    int m = vsnprintf(out + n, cap - (size_t)n, rel_fmt, ap);
    va_end(ap);
    return (m < 0 || (size_t)(n + m) >= cap) ? -1 : 0;
}

void store_now_iso(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void store_sha256_hex(const char *text, char out[65])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)text, strlen(text), d);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}
