/*
 * The weights manager: the official model files listed in docs/models-manifest.json, fetched
 * with libcurl into data/weights/<folder>/<file>. Downloads resume from a ".part" file (HTTP
 * Range), report progress, are checked (size and sha256 when the manifest states them; the
 * checkpoint must load through the safe loaders when it is a weight file) and only then renamed
 * into place, so a half file is never taken for an installed model.
 */
#ifndef VC_MODELS_WEIGHTS_PULL_H
#define VC_MODELS_WEIGHTS_PULL_H

#include <jansson.h>

#include "base/error.h"

typedef void (*weights_progress_fn)(void *ctx, const char *file, double done_bytes, double total_bytes);

/* Downloads one manifest entry ({folder, file, url, size, sha256}) into weights_root.
 * base_url (may be NULL) replaces everything before the path's last component, for tests. */
int weights_pull_file(const json_t *entry, const char *weights_root, const char *base_url, weights_progress_fn progress,
                      void *ctx, vc_error *err);

/* 1 when <weights_root>/<folder>/<file> exists. */
int weights_installed(const json_t *entry, const char *weights_root);

#endif
