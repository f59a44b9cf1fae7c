/*
 * POSIX file helpers (see fs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"

int vc_mkdirs(const char *path, vc_error *err)
{
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return vc_fail(err, VC_ERR_IO, "path too long");
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) && errno != EEXIST) return vc_fail(err, VC_ERR_IO, "mkdir %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) && errno != EEXIST) return vc_fail(err, VC_ERR_IO, "mkdir %s: %s", buf, strerror(errno));
    return 0;
}

static void fsync_parent(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    int dfd = open(dirname(buf), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

int vc_commit_file(int fd, const char *tmp_path, const char *final_path, vc_error *err)
{
    if (fsync(fd)) {
        int e = errno;
        close(fd);
        unlink(tmp_path);
        return vc_fail(err, VC_ERR_IO, "fsync %s: %s", tmp_path, strerror(e));
    }
    close(fd);
    if (rename(tmp_path, final_path)) {
        int e = errno;
        unlink(tmp_path);
        return vc_fail(err, VC_ERR_IO, "rename to %s: %s", final_path, strerror(e));
    }
    fsync_parent(final_path);
    return 0;
}

int vc_write_atomic(const char *path, const void *data, size_t size, vc_error *err)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return vc_fail(err, VC_ERR_IO, "create %s: %s", tmp, strerror(errno));
    const char *p = data;
    while (size > 0) {
        ssize_t w = write(fd, p, size);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return vc_fail(err, VC_ERR_IO, "write %s: %s", tmp, strerror(e));
        }
        p += w;
        size -= (size_t)w;
    }
    fchmod(fd, 0644);
    return vc_commit_file(fd, tmp, path, err);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path) && errno != ENOENT ? -1 : 0;
}

int vc_remove_tree(const char *path, vc_error *err)
{
    struct stat st;
    if (lstat(path, &st)) return 0;
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS))
        return vc_fail(err, VC_ERR_IO, "remove %s: %s", path, strerror(errno));
    return 0;
}

