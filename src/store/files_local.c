/*
 * The local-folder back end of the file layer (files.h): keys are paths under the root. Every
 * put ends in fsync + rename + fsync of the folder (vc_commit_file), so a reader opening the
 * key sees the old object or the new one, whole, and a crash keeps one of them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/files.h"
#include "store/store.h"

typedef struct local_files {
    file_store base;
    char root[1024];
} local_files;

static const char *root_of(file_store *f) { return ((local_files *)f->impl)->root; }

/* root/key into out, after checking the key. */
static int key_path(file_store *f, const char *key, char *out, size_t cap, vc_error *err)
{
    if (!files_key_valid(key)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "not a valid file key: \"%.200s\"", key ? key : "");
    int n = snprintf(out, cap, "%s/%s", root_of(f), key);
    if (n < 0 || (size_t)n >= cap) return vc_fail(err, VC_ERR_INTERNAL, "file path too long for key %.200s", key);
    return 0;
}

/* Creates the folder that will hold path. */
static int make_parent(const char *path, vc_error *err)
{
    char dir[FILES_KEY_MAX + 1100];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) *slash = '\0';
    return vc_mkdirs(dir, err);
}

/* A new empty temp file next to final: its fd and name. */
static int temp_beside(const char *final, char *tmp, size_t cap, int *fd, vc_error *err)
{
    if (make_parent(final, err)) return -1;
    if (snprintf(tmp, cap, "%s.tmp.XXXXXX", final) >= (int)cap) return vc_fail(err, VC_ERR_INTERNAL, "path too long");
    *fd = mkstemp(tmp);
    if (*fd < 0) return vc_fail(err, VC_ERR_IO, "cannot create a file in %s: %s", final, strerror(errno));
    fchmod(*fd, 0644);
    return 0;
}

static int write_all(int fd, const void *data, size_t size, const char *what, vc_error *err)
{
    const char *p = data;
    while (size > 0) {
        ssize_t w = write(fd, p, size);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            return vc_fail(err, VC_ERR_IO, "writing %s: %s%s", what, strerror(e),
                           e == ENOSPC || e == EDQUOT ? " (free some disk space on the data volume)" : "");
        }
        p += w;
        size -= (size_t)w;
    }
    return 0;
}

/* The staged file is on another file system: copy it into a temp file beside final, then commit. */
static int copy_in(const char *src, const char *final, vc_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return vc_fail(err, VC_ERR_NOT_FOUND, "cannot open %s: %s", src, strerror(errno));
    char tmp[FILES_KEY_MAX + 1200], buf[1 << 16];
    int out, rc = temp_beside(final, tmp, sizeof tmp, &out, err);
    ssize_t n = 0;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        rc = n < 0 ? vc_fail(err, VC_ERR_IO, "reading %s: %s", src, strerror(errno)) : write_all(out, buf, (size_t)n, final, err);
    }
    close(in);
    if (rc == 0) return vc_commit_file(out, tmp, final, err);
    if (out >= 0) { close(out); unlink(tmp); }
    return -1;
}

/* fsync of the folder holding path: makes a rename into it durable. */
static void fsync_parent(const char *path)
{
    char dir[FILES_KEY_MAX + 1100];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) { fsync(fd); close(fd); }
}

static int local_put_file(file_store *f, const char *key, const char *src, vc_error *err)
{
    char final[FILES_KEY_MAX + 1100];
    if (key_path(f, key, final, sizeof final, err) || make_parent(final, err)) { unlink(src); return -1; }
    int fd = open(src, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return vc_fail(err, VC_ERR_NOT_FOUND, "cannot open the file to store (%s): %s", src, strerror(errno));
    int synced = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    if (synced) { unlink(src); return vc_fail(err, VC_ERR_IO, "fsync %s: %s", src, strerror(synced)); }
    if (rename(src, final) == 0) { fsync_parent(final); return 0; }
    int e = errno;
    if (e != EXDEV) { unlink(src); return vc_fail(err, VC_ERR_IO, "storing %s: %s", key, strerror(e)); }
    int rc = copy_in(src, final, err);
    unlink(src);
    return rc;
}

static int local_put_bytes(file_store *f, const char *key, const void *data, size_t size, vc_error *err)
{
    char final[FILES_KEY_MAX + 1100], tmp[FILES_KEY_MAX + 1200];
    int fd;
    if (key_path(f, key, final, sizeof final, err) || temp_beside(final, tmp, sizeof tmp, &fd, err)) return -1;
    if (write_all(fd, data, size, final, err)) { close(fd); unlink(tmp); return -1; }
    return vc_commit_file(fd, tmp, final, err);
}

static int local_open_read(file_store *f, const char *key, int *fd, int64_t *size, vc_error *err)
{
    char path[FILES_KEY_MAX + 1100];
    struct stat st;
    *fd = -1;
    if (key_path(f, key, path, sizeof path, err)) return -1;
    int d = open(path, O_RDONLY | O_CLOEXEC);
    if (d < 0) return vc_fail(err, errno == ENOENT ? VC_ERR_NOT_FOUND : VC_ERR_IO, "%s: %s", key, strerror(errno));
    if (fstat(d, &st) || !S_ISREG(st.st_mode)) { close(d); return vc_fail(err, VC_ERR_NOT_FOUND, "%s is not a file", key); }
    *fd = d;
    if (size) *size = (int64_t)st.st_size;
    return 0;
}

static int local_size(file_store *f, const char *key, int64_t *size, vc_error *err)
{
    char path[FILES_KEY_MAX + 1100];
    struct stat st;
    if (key_path(f, key, path, sizeof path, err)) return -1;
    if (stat(path, &st)) return errno == ENOENT || errno == ENOTDIR ? 0 : vc_fail(err, VC_ERR_IO, "%s: %s", key, strerror(errno));
    if (!S_ISREG(st.st_mode)) return 0;
    if (size) *size = (int64_t)st.st_size;
    return 1;
}

static int local_remove(file_store *f, const char *key, vc_error *err)
{
    char path[FILES_KEY_MAX + 1100];
    return key_path(f, key, path, sizeof path, err) ? -1 : vc_remove_tree(path, err);
}

typedef struct walk {
    int (*fn)(const char *key, int64_t size, void *ctx);
    void *ctx;
    size_t root_len;
    vc_error *err;
} walk;

/* Every regular file under path (a folder), depth first; temp files of puts in flight are not objects. */
static int walk_dir(walk *w, char *path, size_t cap)
{
    DIR *d = opendir(path);
    if (!d) return errno == ENOENT || errno == ENOTDIR ? 0 : vc_fail(w->err, VC_ERR_IO, "listing %s: %s", path, strerror(errno));
    size_t len = strlen(path);
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp.")) continue;
        if ((size_t)snprintf(path + len, cap - len, "/%s", e->d_name) >= cap - len) continue;
        struct stat st;
        if (lstat(path, &st)) continue;
        if (S_ISDIR(st.st_mode)) rc = walk_dir(w, path, cap);
        else if (S_ISREG(st.st_mode)) rc = w->fn(path + w->root_len + 1, (int64_t)st.st_size, w->ctx);
        path[len] = '\0';
    }
    closedir(d);
    return rc;
}

static int local_list(file_store *f, const char *prefix, int (*fn)(const char *key, int64_t size, void *ctx), void *ctx,
                      vc_error *err)
{
    char path[FILES_KEY_MAX + 1100];
    if (key_path(f, prefix, path, sizeof path, err)) return -1;
    walk w = {fn, ctx, strlen(root_of(f)), err};
    return walk_dir(&w, path, sizeof path);
}

static int local_stage_path(file_store *f, const char *key, char *out, size_t cap, vc_error *err)
{
    char final[FILES_KEY_MAX + 1100];
    int fd;
    if (key_path(f, key, final, sizeof final, err) || temp_beside(final, out, cap, &fd, err)) return -1;
    close(fd);
    return 0;
}

static int local_local_path(file_store *f, const char *key, char *out, size_t cap, vc_error *err)
{
    return key_path(f, key, out, cap, err);
}

static void local_close(file_store *f) { free(f->impl); }

static const files_ops LOCAL_OPS = {
    .put_file = local_put_file, .put_bytes = local_put_bytes, .open_read = local_open_read, .size = local_size,
    .remove = local_remove, .list = local_list, .stage_path = local_stage_path, .local_path = local_local_path,
    .close = local_close,
};

int files_local_open(file_store **out, const char *root, vc_error *err)
{
    *out = NULL;
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/') n--;
    if (n == 0 || n >= sizeof((local_files *)0)->root) return vc_fail(err, VC_ERR_INVALID_REQUEST, "data root path too long or empty");
    local_files *lf = calloc(1, sizeof *lf);
    if (!lf) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    snprintf(lf->root, sizeof lf->root, "%.*s", (int)n, root);
    if (vc_mkdirs(lf->root, err)) { free(lf); return -1; }
    lf->base.ops = &LOCAL_OPS;
    lf->base.impl = lf;
    *out = &lf->base;
    return 0;
}
