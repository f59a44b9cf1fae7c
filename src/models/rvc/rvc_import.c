/*
 * Voice import (see rvc_import.h): stage → check → commit. The staging folder lives next to the
 * final one (data/models/.import-{id}) so the commit is one rename on the same file system; a
 * crash before it leaves only a staging folder no row points at.
 */
#include "models/rvc/rvc_import.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "models/rvc/rvc_engine.h"

#define NAME_MAX_BYTES 127

/* Copies src to dst (fsync'd); dst is inside the staging folder, so no temp name is needed. */
static int copy_file(const char *src, const char *dst, vc_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return vc_fail(err, VC_ERR_NOT_FOUND, "cannot open %s: %s", src, strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) { close(in); return vc_fail(err, VC_ERR_IO, "cannot create %s: %s", dst, strerror(errno)); }
    char buf[1 << 16];
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        for (ssize_t off = 0; rc == 0 && n > 0 && off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) rc = vc_fail(err, VC_ERR_IO, "writing %s: %s", dst, strerror(errno));
            else off += w;
        }
        if (n < 0) rc = vc_fail(err, VC_ERR_IO, "reading %s: %s", src, strerror(errno));
    }
    if (rc == 0 && fsync(out) != 0) rc = vc_fail(err, VC_ERR_IO, "fsync %s: %s", dst, strerror(errno));
    close(in);
    close(out);
    return rc;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* The model's name: given, or the file name without its extension; 1..127 bytes. */
static int pick_name(const rvc_import_request *rq, char *out, size_t cap, vc_error *err)
{
    if (rq->name && *rq->name) {
        if (strlen(rq->name) > NAME_MAX_BYTES) return vc_fail(err, VC_ERR_INVALID_REQUEST, "name is longer than %d bytes", NAME_MAX_BYTES);
        snprintf(out, cap, "%s", rq->name);
        return 0;
    }
    const char *f = rq->filename ? rq->filename : rq->model_path;
    const char *base = strrchr(f, '/') ? strrchr(f, '/') + 1 : f;
    const char *dot = strrchr(base, '.');
    int len = dot && dot > base ? (int)(dot - base) : (int)strlen(base);
    snprintf(out, cap, "%.*s", len < NAME_MAX_BYTES ? len : NAME_MAX_BYTES, base);
    return out[0] ? 0 : vc_fail(err, VC_ERR_INVALID_REQUEST, "name is required");
}

/* Puts model.pth (and model.index) into the staging folder. */
static int stage_files(const rvc_import_request *rq, const char *dir, int *has_index, vc_error *err)
{
    char pth[1400], idx[1400];
    snprintf(pth, sizeof pth, "%s/model.pth", dir);
    snprintf(idx, sizeof idx, "%s/model.index", dir);
    if (rq->is_zip) return rvc_import_unzip(rq->model_path, dir, has_index, err);
    *has_index = rq->index_path != NULL;
    if (copy_file(rq->model_path, pth, err) != 0) return -1;
    return rq->index_path ? copy_file(rq->index_path, idx, err) : 0;
}

static int write_config(const char *dir, const store_model *m, const rvc_voice_info *info, const rvc_import_request *rq,
                        vc_error *err)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:b, s:i, s:i, s:i, s:s?}", "model_id", m->model_id, "name", m->name,
                          "version", m->version, "sample_rate", info->sample_rate, "f0", info->f0, "phone_dim",
                          info->phone_dim, "speakers", info->speakers, "index_rows", info->index_rows, "source_file",
                          rq->filename);
    if (o && rq->provenance) json_object_set(o, "training", (json_t *)rq->provenance);
    char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    int rc = text ? store_write_atomic(path, text, strlen(text), err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    free(text);
    json_decref(o);
    return rc;
}

/* Checks the staged files and fills the row from what they say. */
static int check_staged(const char *dir, int has_index, store_model *m, rvc_voice_info *info, vc_error *err)
{
    char pth[1400], idx[1400];
    snprintf(pth, sizeof pth, "%s/model.pth", dir);
    snprintf(idx, sizeof idx, "%s/model.index", dir);
    if (rvc_voice_inspect(pth, has_index ? idx : NULL, info, err) != 0) {
        /* the message names the staging path (maybe more than once); the user knows their file
         * by its own name, and server paths never reach a client */
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err->message);
        size_t dl = strlen(dir);
        for (char *at; (at = strstr(why, dir));) {
            size_t skip = dl + (at[dl] == '/');
            memmove(at, at + skip, strlen(at + skip) + 1);
        }
        snprintf(err->message, sizeof err->message, "%s", why);
        return -1;
    }
    m->sample_rate = info->sample_rate;
    snprintf(m->version, sizeof m->version, "v%d", info->version);
    m->f0 = info->f0;
    m->has_index = has_index;
    m->file_size_mb = (double)(file_size(pth) + (has_index ? file_size(idx) : 0)) / (1024.0 * 1024.0);
    return 0;
}

/* rename(staging → final) and make it durable. */
static int commit_folder(const char *staging, const char *final, vc_error *err)
{
    if (rename(staging, final) != 0) return vc_fail(err, VC_ERR_IO, "storing the model: %s", strerror(errno));
    char parent[1400];
    snprintf(parent, sizeof parent, "%s", final);
    *strrchr(parent, '/') = '\0';
    int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) { fsync(fd); close(fd); }
    return 0;
}

int rvc_import_voice(store *s, const rvc_import_request *rq, store_model *m, vc_error *err)
{
    memset(m, 0, sizeof *m);
    char staging[1400], final[1400];
    rvc_voice_info info;
    int has_index = 0;
    if (pick_name(rq, m->name, sizeof m->name, err) != 0) return -1;
    if (rq->model_id) {
        if (!store_id_valid(rq->model_id)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "bad model id");
        snprintf(m->model_id, sizeof m->model_id, "%s", rq->model_id);
    } else if (store_new_id("model", m->model_id, err) != 0) {
        return -1;
    }
    if (rq->trained) {
        m->training_duration_minutes = rq->trained->training_duration_minutes;
        snprintf(m->quality_grade, sizeof m->quality_grade, "%s", rq->trained->quality_grade);
        m->final_loss = rq->trained->final_loss;
        m->training_audio_duration_seconds = rq->trained->training_audio_duration_seconds;
    }
    snprintf(m->user_id, sizeof m->user_id, "%s", rq->user_id);
    snprintf(m->kind, sizeof m->kind, "rvc");
    snprintf(m->file_path, sizeof m->file_path, "models/%s", m->model_id);
    if (store_path(s, staging, sizeof staging, "models/.import-%s", m->model_id) ||
        store_path(s, final, sizeof final, "models/%s", m->model_id))
        return vc_fail(err, VC_ERR_INTERNAL, "data path too long");
    int rc = store_mkdirs(staging, err);
    if (rc == 0) rc = stage_files(rq, staging, &has_index, err);
    if (rc == 0) rc = check_staged(staging, has_index, m, &info, err);
    if (rc == 0) rc = write_config(staging, m, &info, rq, err);
    if (rc == 0) rc = commit_folder(staging, final, err);
    if (rc != 0) {
        vc_error ignored;
        store_remove_tree(staging, &ignored);
        return -1;
    }
    if (store_model_insert(s, m, err) != 0) {
        vc_error ignored;
        store_remove_tree(final, &ignored);
        return -1;
    }
    return store_model_get(s, m->user_id, m->model_id, m, err); /* created_at as stored */
}

int rvc_import_sweep_staging(store *s, int64_t min_age_seconds, int *removed, vc_error *err)
{
    *removed = 0;
    char models[1400];
    if (store_path(s, models, sizeof models, "models")) return vc_fail(err, VC_ERR_INTERNAL, "data path too long");
    DIR *d = opendir(models);
    if (!d) return errno == ENOENT ? 0 : vc_fail(err, VC_ERR_IO, "cannot list the models folder: %s", strerror(errno));
    int rc = 0;
    time_t now = time(NULL);
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        if (strncmp(e->d_name, ".import-", 8) != 0) continue;
        char path[2900];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", models, e->d_name);
        if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) || (int64_t)(now - st.st_mtime) < min_age_seconds) continue;
        if (store_remove_tree(path, err) == 0) (*removed)++;
        else rc = -1;
    }
    closedir(d);
    return rc;
}
