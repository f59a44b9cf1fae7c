/*
 * The studio's file layer: where audio, models and outputs are kept, behind one small interface
 * so that the same code runs on a local folder (one machine, or a data root every node mounts
 * over NFS / a Compose volume) and, later, on S3-compatible object storage.
 *
 * Objects are named by keys relative to the data root ("outputs/{user}/{id}.wav",
 * "models/{id}/model.pth"): the same strings the database rows hold in file_path, so a row never
 * names a back end. Keys are 1–1000 bytes of [A-Za-z0-9._/-], with no empty, "." or ".."
 * segment and no leading or trailing "/"; anything else is refused (VC_ERR_INVALID_REQUEST).
 *
 * Invariant: an object appears under its key only complete. A writer produces the bytes in a
 * local file (files_stage_path names one), then files_put_file publishes it in one step; only
 * then does the caller insert the row that references the key. A crash leaves at most a staged
 * temp file or an object no row references (the retention sweep's orphan pass removes those),
 * never a row pointing at a half-written object.
 *
 * Back ends (docs/OPERATIONS.md, "Files on the shared root"):
 *   local  files_local_open(root): keys are paths under root; put = fsync + rename (+ fsync of
 *          the folder), with a copy into a temp file in the target folder when the staged file is
 *          on another file system.
 *   s3     (not built) put_file = PutObject / multipart upload of the staged file, then unlink it;
 *          open_read = GET into a node-local cache file; remove = delete every key under the
 *          prefix; list = ListObjectsV2. S3's PUT is atomic per object, which is the invariant.
 *
 * All functions return 0 on success and -1 with err filled (VC_ERR_NOT_FOUND for a missing key,
 * VC_ERR_IO for the file system, VC_ERR_INVALID_REQUEST for a bad key). Thread-safe: a back end
 * holds no mutable state after open.
 */
#ifndef VC_STORE_FILES_H
#define VC_STORE_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define FILES_KEY_MAX 1000

typedef struct file_store file_store;

typedef struct files_ops {
    int (*put_file)(file_store *f, const char *key, const char *src_path, vc_error *err);
    int (*put_bytes)(file_store *f, const char *key, const void *data, size_t size, vc_error *err);
    int (*open_read)(file_store *f, const char *key, int *fd, int64_t *size, vc_error *err);
    int (*size)(file_store *f, const char *key, int64_t *size, vc_error *err);
    int (*remove)(file_store *f, const char *key, vc_error *err);
    int (*list)(file_store *f, const char *prefix, int (*fn)(const char *key, int64_t size, void *ctx), void *ctx,
                vc_error *err);
    int (*stage_path)(file_store *f, const char *key, char *out, size_t cap, vc_error *err);
    int (*local_path)(file_store *f, const char *key, char *out, size_t cap, vc_error *err);
    void (*close)(file_store *f);
} files_ops;

/* A back end: its operations and its own state. */
struct file_store {
    const files_ops *ops;
    void *impl;
};

/* The local-folder back end rooted at root (created if missing). */
int files_local_open(file_store **out, const char *root, vc_error *err);
void files_close(file_store *f);

/* 1 when key is a valid object key (see above). */
int files_key_valid(const char *key);

/* Publishes the local file src_path as key, replacing any older object; src_path is consumed
 * (gone afterwards, also on failure). Best when src_path came from files_stage_path(key). */
int files_put_file(file_store *f, const char *key, const char *src_path, vc_error *err);
/* Publishes size bytes as key (small objects: configs, checkpoints' counters). */
int files_put_bytes(file_store *f, const char *key, const void *data, size_t size, vc_error *err);
/* Opens key for reading: *fd (the caller closes it) and *size in bytes. */
int files_open_read(file_store *f, const char *key, int *fd, int64_t *size, vc_error *err);
/* 1 = key exists (*size filled when size is not NULL), 0 = it does not, -1 = error. */
int files_exists(file_store *f, const char *key, int64_t *size, vc_error *err);
/* Removes key, or every key under key + "/"; a missing key is not an error. */
int files_remove(file_store *f, const char *key, vc_error *err);
/* Calls fn for every object whose key starts with prefix + "/" (any depth, in no particular
 * order); a nonzero return from fn stops the walk and is returned. A missing prefix lists nothing. */
int files_list(file_store *f, const char *prefix, int (*fn)(const char *key, int64_t size, void *ctx), void *ctx,
               vc_error *err);
/* A fresh empty local file (its folder created) where the bytes for key can be
 * written before files_put_file; for the local back end it is next to the key, so the put is a
 * rename. The caller removes it if it gives up. */
int files_stage_path(file_store *f, const char *key, char *out, size_t cap, vc_error *err);
/* A local path the object can be read from by name (decoders that take a path). */
int files_local_path(file_store *f, const char *key, char *out, size_t cap, vc_error *err);

#endif
