/*
 * multipart/form-data to disk (see form.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/form.h"
#include "server/uploads.h"

static int store_field(server_form *f, const char *key, const char *data, uint64_t off, size_t size)
{
    int i = 0;
    while (i < f->n_fields && strcmp(f->fields[i].key, key)) i++;
    if (i == f->n_fields) {
        if (f->n_fields == FORM_MAX_FIELDS || strlen(key) >= sizeof f->fields[0].key) return 0; /* ignored */
        snprintf(f->fields[i].key, sizeof f->fields[i].key, "%s", key);
        f->fields[i].value[0] = '\0';
        f->n_fields++;
    }
    size_t cap = sizeof f->fields[i].value - 1;
    if (off + size > cap) return server_fail(f->r, VC_ERR_INVALID_REQUEST, "form field '%s' is too long", key);
    memcpy(f->fields[i].value + off, data, size);
    f->fields[i].value[off + size] = '\0';
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Appends to one part's temp file, refusing past the size limit (FILE_TOO_LARGE + max_size_mb). */
static int append_part(server_form *f, int fd, int64_t *bytes, const char *data, size_t size)
{
    if (*bytes + (int64_t)size > f->max_file_bytes) {
        server_fail(f->r, VC_ERR_FILE_TOO_LARGE, "file exceeds the maximum of %.0f MB",
                    (double)f->max_file_bytes / (1024.0 * 1024.0));
        json_decref(f->r->err_extra);
        f->r->err_extra = upload_size_extra(f->max_file_bytes);
        return -1;
    }
    if (write_all(fd, data, size)) return server_fail(f->r, VC_ERR_IO, "writing upload: %s", strerror(errno));
    *bytes += (int64_t)size;
    return 0;
}

static void name_part(char *out, size_t cap, const char *filename)
{
    snprintf(out, cap, "%s", filename && *filename ? filename : "upload");
    server_utf8_sanitize(out);
}

static int store_file_part(server_form *f, const char *filename, const char *data, size_t size)
{
    if (!f->has_file) {
        f->has_file = 1;
        name_part(f->filename, sizeof f->filename, filename);
    }
    return append_part(f, f->fd, &f->file_bytes, data, size);
}

static int store_extra_part(server_form *f, const char *filename, const char *data, size_t size)
{
    server_form_extra *x = &f->extra;
    if (!x->present) {
        x->present = 1;
        name_part(x->filename, sizeof x->filename, filename);
        if (store_path(f->r->app->store, x->tmp_path, sizeof x->tmp_path, "uploads/tmp/incoming-XXXXXX"))
            return server_fail(f->r, VC_ERR_INTERNAL, "data path too long");
        x->fd = mkstemp(x->tmp_path);
        if (x->fd < 0) {
            x->tmp_path[0] = '\0';
            return server_fail(f->r, VC_ERR_IO, "temp file: %s", strerror(errno));
        }
    }
    return append_part(f, x->fd, &x->bytes, data, size);
}

static enum MHD_Result iterate(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                               const char *content_type, const char *transfer_encoding, const char *data,
                               uint64_t off, size_t size)
{
    (void)kind, (void)content_type, (void)transfer_encoding;
    server_form *f = cls;
    if (f->r->failed) return MHD_NO;
    int rc = !strcmp(key, "file")                          ? store_file_part(f, filename, data, size)
             : f->extra.key && !strcmp(key, f->extra.key) ? store_extra_part(f, filename, data, size)
                                                           : store_field(f, key, data, off, size);
    return rc ? MHD_NO : MHD_YES;
}

int server_form_begin(server_request *r, server_form *f, int64_t max_file_bytes)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    f->extra.fd = -1;
    f->r = r;
    f->max_file_bytes = max_file_bytes;
    const char *ct = server_header(r, "Content-Type");
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0)
        return server_fail(r, VC_ERR_INVALID_REQUEST, "expected Content-Type multipart/form-data with a 'file' part");
    if (store_path(r->app->store, f->tmp_path, sizeof f->tmp_path, "uploads/tmp/incoming-XXXXXX"))
        return server_fail(r, VC_ERR_INTERNAL, "data path too long");
    f->fd = mkstemp(f->tmp_path);
    if (f->fd < 0) return server_fail(r, VC_ERR_IO, "temp file: %s", strerror(errno));
    f->pp = MHD_create_post_processor(r->conn, 64 * 1024, iterate, f);
    if (!f->pp) return server_fail(r, VC_ERR_INVALID_REQUEST, "malformed multipart/form-data (no boundary?)");
    return 0;
}

void server_form_accept_extra(server_form *f, const char *key) { f->extra.key = key; }

/* fsync + close one temp file; -1 with r->err on failure */
static int close_part(server_form *f, int *fd)
{
    if (*fd < 0) return 0;
    int rc = fsync(*fd);
    close(*fd);
    *fd = -1;
    return rc ? server_fail(f->r, VC_ERR_IO, "fsync upload: %s", strerror(errno)) : 0;
}

int server_form_feed(server_form *f, const char *data, size_t size)
{
    if (f->r->failed) return -1;
    if (MHD_post_process(f->pp, data, size) != MHD_YES && !f->r->failed)
        return server_fail(f->r, VC_ERR_INVALID_REQUEST, "malformed multipart/form-data");
    return f->r->failed ? -1 : 0;
}

int server_form_end(server_form *f)
{
    if (f->pp) {
        MHD_destroy_post_processor(f->pp);
        f->pp = NULL;
    }
    if (close_part(f, &f->fd) || (f->extra.present && close_part(f, &f->extra.fd))) return -1;
    if (f->r->failed) return -1;
    if (!f->has_file) return server_fail(f->r, VC_ERR_INVALID_REQUEST, "the form has no 'file' part");
    return 0;
}

const char *server_form_field(const server_form *f, const char *key)
{
    for (int i = 0; i < f->n_fields; i++)
        if (!strcmp(f->fields[i].key, key)) return f->fields[i].value;
    return NULL;
}

void server_form_discard(server_form *f)
{
    if (f->pp) MHD_destroy_post_processor(f->pp);
    f->pp = NULL;
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    if (f->tmp_path[0]) unlink(f->tmp_path);
    f->tmp_path[0] = '\0';
    /* present guards fd: a form some routes never begin (JSON bodies) is all zeros, and fd 0 is not ours */
    if (f->extra.present && f->extra.fd >= 0) close(f->extra.fd);
    f->extra.fd = -1;
    if (f->extra.tmp_path[0]) unlink(f->extra.tmp_path);
    f->extra.tmp_path[0] = '\0';
}
