/*
 * The back-end-neutral half of the file layer (files.h): key rules and dispatch to a back end.
 */
#include <string.h>

#include "store/files.h"

int files_key_valid(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0 || n > FILES_KEY_MAX || key[0] == '/' || key[n - 1] == '/') return 0;
    for (const char *seg = key; seg;) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.')) return 0;
        for (size_t i = 0; i < len; i++) {
            char c = seg[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == '-'))
                return 0;
        }
        seg = end ? end + 1 : NULL;
    }
    return 1;
}

void files_close(file_store *f)
{
    if (f) f->ops->close(f);
}

int files_put_file(file_store *f, const char *key, const char *src_path, vc_error *err)
{
    return f->ops->put_file(f, key, src_path, err);
}

int files_put_bytes(file_store *f, const char *key, const void *data, size_t size, vc_error *err)
{
    return f->ops->put_bytes(f, key, data, size, err);
}

int files_open_read(file_store *f, const char *key, int *fd, int64_t *size, vc_error *err)
{
    return f->ops->open_read(f, key, fd, size, err);
}

int files_exists(file_store *f, const char *key, int64_t *size, vc_error *err) { return f->ops->size(f, key, size, err); }

int files_remove(file_store *f, const char *key, vc_error *err) { return f->ops->remove(f, key, err); }

int files_list(file_store *f, const char *prefix, int (*fn)(const char *key, int64_t size, void *ctx), void *ctx,
               vc_error *err)
{
    return f->ops->list(f, prefix, fn, ctx, err);
}

int files_stage_path(file_store *f, const char *key, char *out, size_t cap, vc_error *err)
{
    return f->ops->stage_path(f, key, out, cap, err);
}

int files_local_path(file_store *f, const char *key, char *out, size_t cap, vc_error *err)
{
    return f->ops->local_path(f, key, out, cap, err);
}
