#include "base/scrub.h"

#include <ctype.h>
#include <string.h>

/* A character that would continue a folder name: "/srv/data2", "/srv/data_old", "/srv/data.old"
 * are not inside "/srv/data"; "/srv/data." ending a sentence, "/srv/data," and "/srv/data]" are. */
static int continues_name(const char *p)
{
    unsigned char c = (unsigned char)p[0], next = (unsigned char)p[1];
    if (isalnum(c) || c == '_' || c == '-' || c == '~' || c >= 0x80) return 1;
    return c == '.' && (isalnum(next) || next == '_' || next == '-' || next == '.');
}

/* The data root is known exactly, spaces and all: every occurrence goes, before the generic rule
 * below (which has to guess where a path ends and stops at a space). */
static void cut_root(char *msg, const char *root_in)
{
    char root[1200];
    size_t n = strlen(root_in);
    while (n > 1 && root_in[n - 1] == '/') n--; /* "<root>/" and "<root>" alike */
    if (n < 2 || n >= sizeof root) return;      /* "/" alone would eat every slash */
    memcpy(root, root_in, n);
    root[n] = '\0';
    static const char bare[] = "the data folder";
    for (char *at = msg; (at = strstr(at, root));) {
        if (continues_name(at + n)) {
            at++;
            continue;
        }
        if (at[n] == '/') { /* "<root>/uploads/x" → "uploads/x" */
            memmove(at, at + n + 1, strlen(at + n + 1) + 1);
            continue;
        }
        /* "<root>" alone → "the data folder" (never longer than the root: the text only shrinks) */
        size_t put = n >= sizeof bare - 1 ? sizeof bare - 1 : 0;
        memcpy(at, bare, put);
        memmove(at + put, at + n, strlen(at + n) + 1);
        at += put;
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
