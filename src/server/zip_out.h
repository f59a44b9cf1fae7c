/*
 * A small stored (uncompressed) .zip writer for downloads the server assembles: a voice's export
 * (NAME.pth + NAME.index, GET /api/models/{id}/export) and a batch conversion's outputs
 * (GET /api/jobs/{id}/outputs.zip). Audio and checkpoints barely compress, so entries are stored,
 * with their CRC-32 (zlib); zip32 only (each file under 4 GB).
 */
#ifndef VC_SERVER_ZIP_OUT_H
#define VC_SERVER_ZIP_OUT_H

#include "base/error.h"

/* Writes paths[i] as names[i] into an anonymous temporary file; *fd is it, at offset 0, for
 * server_reply_file (which closes it). Nothing is left on disk either way. */
int zip_out_files(const char *const *paths, const char *const *names, int n, int *fd, vc_error *err);

#endif
