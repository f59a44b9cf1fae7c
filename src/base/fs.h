/*
 * POSIX file helpers every layer may use (no store, no database): mkdir -p, atomic writes
 * (temp file in the same folder + fsync + rename + fsync of the folder) and recursive removal.
 * The studio's data root goes through the file layer (store/files.h), which is built on these.
 */
#ifndef VC_BASE_FS_H
#define VC_BASE_FS_H

#include <stddef.h>

#include "base/error.h"

/* mkdir -p */
int vc_mkdirs(const char *path, vc_error *err);
/* Writes bytes to path atomically (temp in the same folder + fsync + rename + fsync(dir)). */
int vc_write_atomic(const char *path, const void *data, size_t size, vc_error *err);
/* fsync(file) then rename into place and fsync the folder: the last step of an atomic write. */
int vc_commit_file(int fd, const char *tmp_path, const char *final_path, vc_error *err);
/* Removes a file or a whole folder tree; missing is fine. */
int vc_remove_tree(const char *path, vc_error *err);

#endif
