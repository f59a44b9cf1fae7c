/*
 * Streaming multipart/form-data: the "file" part goes straight to a temp file under
 * data/uploads/tmp (memory stays flat whatever the size), small fields are kept in memory.
 * One optional second file part may be named with server_form_accept_extra (a voice model's
 * "index" beside its "file"); it gets its own temp file and the same size limit.
 * Built on MHD's post processor, which handles boundaries split across reads.
 */
#ifndef VC_SERVER_FORM_H
#define VC_SERVER_FORM_H

#include <stdint.h>

#include "server/server.h"

#define FORM_MAX_FIELDS 8

/* The optional second file part. */
typedef struct server_form_extra {
    const char *key;           /* part name, NULL = not accepted (its bytes are ignored) */
    int fd;                    /* -1 until the part arrives */
    char tmp_path[1200];
    int64_t bytes;
    int present;
    char filename[256];
} server_form_extra;

typedef struct server_form {
    struct MHD_PostProcessor *pp;
    server_request *r;
    int fd;                    /* temp file for the "file" part, -1 when none */
    char tmp_path[1200];
    int64_t file_bytes, max_file_bytes;
    int has_file;
    char filename[256];
    int n_fields;
    struct {
        char key[32];
        char value[256];
    } fields[FORM_MAX_FIELDS];
    server_form_extra extra;
} server_form;

/* Starts parsing r's body; fails (INVALID_REQUEST) unless Content-Type is multipart/form-data. */
int server_form_begin(server_request *r, server_form *f, int64_t max_file_bytes);
/* After begin: a part named key is kept as a second file (f->extra), e.g. "index". */
void server_form_accept_extra(server_form *f, const char *key);
/* Feeds body bytes; on failure r->err is set (FILE_TOO_LARGE past max_file_bytes). */
int server_form_feed(server_form *f, const char *data, size_t size);
/* Finishes parsing and closes (fsyncs) the temp file; the file stays at f->tmp_path. */
int server_form_end(server_form *f);
const char *server_form_field(const server_form *f, const char *key);
/* Destroys the parser and removes the temp files (if they still exist). Safe to call twice. */
void server_form_discard(server_form *f);

#endif
