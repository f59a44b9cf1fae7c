/*
 * Crash leftovers under the data root (store.h store_sweep_leftovers): what a process killed in
 * the middle of a write leaves behind, and nothing else.
 *
 *   - temp files of atomic writes: "NAME.tmp.XXXXXX" (vc_write_atomic, the file layer's puts and
 *     stages, audio and index writers) and "NAME.tmp<pid>" (the .pth / safetensors writers);
 *   - staging folders of voice imports: models/.import-{model_id}/.
 *
 * A live write owns its temp file and keeps changing it (every write moves its mtime; a staging
 * folder changes as files land in it), so only leftovers untouched for min_age_seconds go.
 * Published files never carry these names (they are renamed away from them), so a real file is
 * never matched. Symbolic links are neither followed nor removed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "store/store.h"

/* "x.tmp.AbC123" or "x.tmp4242" (digits to the end). */
static int is_temp_name(const char *name)
{
    if (strstr(name, ".tmp.")) return 1;
    const char *t = strstr(name, ".tmp");
    while (t && t[4]) {
        const char *p = t + 4;
        while (*p >= '0' && *p <= '9') p++;
        if (!*p && p > t + 4) return 1;
        t = strstr(t + 1, ".tmp");
    }
    return 0;
}

/* The newest change of a staging folder: itself or anything directly in it. */
static time_t newest_change(const char *dir, time_t own)
{
    time_t newest = own;
    DIR *d = opendir(dir);
    if (!d) return newest;
    char path[4200];
    for (struct dirent *e; (e = readdir(d));) {
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path) continue;
        if (lstat(path, &st) == 0 && st.st_mtime > newest) newest = st.st_mtime;
    }
    closedir(d);
    return newest;
}

typedef struct sweep {
    time_t before; /* untouched since before this */
    int removed;
} sweep;

static void sweep_dir(sweep *w, char *path, size_t cap, int depth)
{
    DIR *d = opendir(path);
    if (!d) return;
    size_t len = strlen(path);
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if ((size_t)snprintf(path + len, cap - len, "/%s", e->d_name) >= cap - len) continue;
        struct stat st;
        if (lstat(path, &st) == 0) {
            int staging = S_ISDIR(st.st_mode) && !strncmp(e->d_name, ".import-", 8);
            if (staging && newest_change(path, st.st_mtime) < w->before) {
                vc_error ignored;
                if (vc_remove_tree(path, &ignored) == 0) w->removed++;
            } else if (S_ISDIR(st.st_mode) && depth < 16) {
                sweep_dir(w, path, cap, depth + 1);
            } else if (S_ISREG(st.st_mode) && is_temp_name(e->d_name) && st.st_mtime < w->before && unlink(path) == 0) {
                w->removed++;
            }
        }
        path[len] = '\0';
    }
    closedir(d);
}

int store_sweep_leftovers(store *s, int64_t now_s, double min_age_seconds, int *removed, vc_error *err)
{
    *removed = 0;
    char root[4200];
    if ((size_t)snprintf(root, sizeof root, "%s", store_root(s)) >= sizeof root)
        return vc_fail(err, VC_ERR_INTERNAL, "data path too long");
    sweep w = {.before = (time_t)(now_s - (int64_t)min_age_seconds)};
    sweep_dir(&w, root, sizeof root, 0);
    *removed = w.removed;
    return 0;
}
