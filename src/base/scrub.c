#include "base/scrub.h"

#include <string.h>

static void cut_root(char *msg, const char *root_in)
{
    char root[1200];
    size_t n = strlen(root_in);
    while (n > 1 && root_in[n - 1] == '/') n--; /* "<root>/" and "<root>" alike */
    if (n < 2 || n >= sizeof root) return;      /* "/" alone would eat every slash */
    memcpy(root, root_in, n);
    root[n] = '\0';
    for (char *at = msg; (at = strstr(at, root));) {
        if (at[n] && !strchr("/ :'\")", at[n])) { /* "/srv/data2" is not inside "/srv/data" */
            at++;
            continue;
        }
        size_t skip = n + (at[n] == '/');
        memmove(at, at + skip, strlen(at + skip) + 1);
    }
}

static int path_may_start(const char *msg, const char *p)
{
    return p == msg || strchr(" \t('\"=", p[-1]) != NULL;
}

static void cut_absolute_paths(char *msg)
{
    for (char *p = msg; (p = strchr(p, '/'));) {
        size_t len = strcspn(p, " \t\n'\",;:)]");
        const char *base = NULL;
        for (char *q = p + 1; q < p + len; q++)
            if (*q == '/' && q + 1 < p + len) base = q + 1; /* a trailing '/' names no component */
        if (!path_may_start(msg, p) || !base || p[1] == '/' || !strncmp(p, "/api/", 5)) {
            p += len;
            continue;
        }
        size_t tail = (size_t)(p + len - base);
        memmove(p, base, tail);
        memmove(p + tail, p + len, strlen(p + len) + 1);
        p += tail;
    }
}

void vc_scrub_paths(char *msg, const char *root)
{
    if (root && *root) cut_root(msg, root);
    cut_absolute_paths(msg);
}
