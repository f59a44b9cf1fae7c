/*
 * Voice import (see rvc_import.h): stage → check → publish. The staging folder lives next to the
 * final one (data/models/.import-{id}), so on the local file layer each publish is one rename on
 * the same file system. A crash before the caller records the row leaves the staging folder
 * (swept at startup) or a models/{id}/ folder that no row points at and nothing reads.
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
    int rc = text ? vc_write_atomic(path, text, strlen(text), err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
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

/* Publishes the staged files under models/{id}/ through the file layer (files.h), config.json
 * last: a reader that finds the config finds the weights. */
static int publish(store *s, const char *staging, const store_model *m, vc_error *err)
{
    static const char *const NAMES[] = {"model.pth", "model.index", "config.json"};
    file_store *fs = store_files(s);
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++) {
        char src[1500], key[sizeof m->file_path + 16];
        if (i == 1 && !m->has_index) continue;
        snprintf(src, sizeof src, "%s/%s", staging, NAMES[i]);
        snprintf(key, sizeof key, "%s/%s", m->file_path, NAMES[i]);
        if (files_put_file(fs, key, src, err) != 0) return vc_error_wrap(err, "storing the model");
    }
    return 0;
}

/* The row's fields that come from the request, before the files are looked at. */
static int fill_row(const rvc_import_request *rq, store_model *m, vc_error *err)
{
    memset(m, 0, sizeof *m);
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
    return 0;
}

int rvc_import_files(store *s, const rvc_import_request *rq, store_model *m, vc_error *err)
{
    char staging[1400];
    rvc_voice_info info;
    int has_index = 0;
    if (fill_row(rq, m, err) != 0) return -1;
    char pth_key[sizeof m->file_path + 16];
    snprintf(pth_key, sizeof pth_key, "%s/model.pth", m->file_path);
    int taken = files_exists(store_files(s), pth_key, NULL, err);
    if (taken != 0) /* never overwrite a stored voice (a re-used id) */
        return taken < 0 ? -1 : vc_fail(err, VC_ERR_CONFLICT, "model %s already exists", m->model_id);
    if (store_path(s, staging, sizeof staging, "models/.import-%s", m->model_id))
        return vc_fail(err, VC_ERR_INTERNAL, "data path too long");
    int rc = vc_mkdirs(staging, err);
    if (rc == 0) rc = stage_files(rq, staging, &has_index, err);
    if (rc == 0) rc = check_staged(staging, has_index, m, &info, err);
    if (rc == 0) rc = write_config(staging, m, &info, rq, err);
    if (rc == 0 && (rc = publish(s, staging, m, err)) != 0) files_remove(store_files(s), m->file_path, NULL);
    vc_error ignored;
    vc_remove_tree(staging, &ignored);
    return rc;
}

/* Kept for rvc_train_pipeline.c only, until it hands its finished voice to the jobs layer to
 * record (another branch); then this goes and no models code writes a row. */
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
        if (vc_remove_tree(path, err) == 0) (*removed)++;
        else rc = -1;
    }
    closedir(d);
    return rc;
}
