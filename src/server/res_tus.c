/*
 * tus 1.0.0 resumable uploads at /api/uploads/ (core, creation, creation-with-upload,
 * termination, checksum (sha1), expiration). Bytes stream into uploads/tmp/{id}.part at the
 * durable offset; the offset in the row moves only after fdatasync, so a crash loses at most the
 * PATCH in flight, never bytes the server already acknowledged. When offset reaches the length the
 * upload becomes an audio file (uploads.c) and answers with Upload-Audio-Id.
 * Metadata: filename, purpose (training | target | reference; default target); HEAD returns it.
 *
 * "All bytes durable" and "audio stored" are two steps: the request that writes the last byte
 * keeps the .part file's lock while it turns it into audio. A HEAD that finds offset = length
 * but no audio waits for that lock and, if nobody holds it (the server died in between), finishes
 * the upload itself; startup recovery (tus_recover_all) does the same for every such upload.
 * So HEAD never reports completion before the audio exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "server/uploads.h"

#define TUS_VERSION "1.0.0"
#define TUS_EXTENSIONS "creation,creation-with-upload,termination,checksum,expiration"

typedef struct tus_ctx {
    store_upload u;
    int fd;                 /* .part file open for appending, -1 when no body is accepted */
    int64_t written;        /* bytes of this request's body written */
    EVP_MD_CTX *sha1;       /* when Upload-Checksum was sent */
    unsigned char want[64]; /* the client's digest */
    int want_len;
    int done;               /* offset committed (or rolled back) */
} tus_ctx;

static void part_path(server_request *r, const char *id, char *out, size_t cap)
{
    store_path(r->app->store, out, cap, "uploads/tmp/%s.part", id);
}

static void add_common(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Tus-Resumable", TUS_VERSION);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
}

static void add_upload_headers(struct MHD_Response *resp, const store_upload *u)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%" PRId64, u->offset);
    MHD_add_response_header(resp, "Upload-Offset", buf);
    snprintf(buf, sizeof buf, "%" PRId64, u->length);
    MHD_add_response_header(resp, "Upload-Length", buf);
    time_t t = (time_t)u->expires_at;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (strcmp(u->state, "complete")) MHD_add_response_header(resp, "Upload-Expires", buf);
    if (u->audio_id[0]) MHD_add_response_header(resp, "Upload-Audio-Id", u->audio_id);
}

static int reply_tus(server_request *r, unsigned status, const store_upload *u, const char *location)
{
    struct MHD_Response *resp;
    server_reply_empty(r, status, &resp);
    if (!resp) return server_fail(r, VC_ERR_NOMEM, "out of memory");
    add_common(resp);
    if (u) add_upload_headers(resp, u);
    if (location) MHD_add_response_header(resp, "Location", location);
    return server_reply_response(r, status, resp);
}

/* Every tus request except OPTIONS must say Tus-Resumable: 1.0.0 (412 + Tus-Version otherwise). */
static int require_tus(server_request *r)
{
    const char *v = server_header(r, "Tus-Resumable");
    if (v && !strcmp(v, TUS_VERSION)) return 0;
    r->status = 412;
    server_add_header(r, "Tus-Version", TUS_VERSION);
    return server_fail(r, VC_ERR_INVALID_REQUEST, "Tus-Resumable: " TUS_VERSION " header required");
}

/* Loads the upload; 404 unknown, 410 expired (its bytes are removed, the row stays as a tombstone). */
static int load_upload(server_request *r, store_upload *u)
{
    const char *id;
    vc_error err;
    if (server_param_id(r, 0, VC_ERR_NOT_FOUND, &id)) return -1;
    if (store_upload_get(r->app->store, r->user_id, id, u, &err) || strcmp(u->kind, "tus"))
        return server_fail(r, VC_ERR_NOT_FOUND, "no upload %s", id);
    int expired = !strcmp(u->state, "expired") ||
                  (strcmp(u->state, "complete") && (int64_t)time(NULL) >= u->expires_at);
    if (expired) {
        char part[1400];
        part_path(r, id, part, sizeof part);
        unlink(part);
        snprintf(u->state, sizeof u->state, "expired");
        store_upload_update(r->app->store, u, NULL);
        return server_fail(r, VC_ERR_GONE, "upload %s expired", id);
    }
    return 0;
}

/* base64 → bytes; -1 when malformed. */
static int b64_decode(const char *in, unsigned char *out, int cap)
{
    size_t n = strlen(in);
    if (n == 0 || n % 4 || (int)(n / 4 * 3) > cap) return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (len < 0) return -1;
    if (n >= 1 && in[n - 1] == '=') len--;
    if (n >= 2 && in[n - 2] == '=') len--;
    return len;
}

/* Upload-Metadata: "key base64,key base64"; fills filename and purpose. */
static int parse_metadata(server_request *r, store_upload *u)
{
    const char *h = server_header(r, "Upload-Metadata");
    char buf[2048], val[600];
    snprintf(u->filename, sizeof u->filename, "upload");
    snprintf(u->purpose, sizeof u->purpose, "target");
    if (!h) return 0;
    snprintf(buf, sizeof buf, "%s", h);
    for (char *save, *pair = strtok_r(buf, ",", &save); pair; pair = strtok_r(NULL, ",", &save)) {
        while (*pair == ' ') pair++;
        char *sp = strchr(pair, ' ');
        int len = sp ? b64_decode(sp + 1, (unsigned char *)val, (int)sizeof val - 1) : 0;
        if (len < 0) return server_fail(r, VC_ERR_INVALID_REQUEST, "Upload-Metadata value is not base64");
        val[len] = '\0';
        if (sp) *sp = '\0';
        if (!strcmp(pair, "filename") && len > 0) snprintf(u->filename, sizeof u->filename, "%s", val);
        if (!strcmp(pair, "purpose")) snprintf(u->purpose, sizeof u->purpose, "%s", val);
    }
    server_utf8_sanitize(u->filename);
    server_utf8_sanitize(u->purpose);
    if (!upload_purpose_find(u->purpose))
        return server_fail(r, VC_ERR_INVALID_REQUEST, "purpose must be training, target or reference");
    return 0;
}

/* Upload-Checksum: "sha1 <base64>" (other algorithms → 400). */
static int parse_checksum(server_request *r, tus_ctx *c)
{
    const char *h = server_header(r, "Upload-Checksum");
    if (!h) return 0;
    if (strncmp(h, "sha1 ", 5) != 0) return server_fail(r, VC_ERR_INVALID_REQUEST, "only sha1 checksums are supported");
    c->want_len = b64_decode(h + 5, c->want, sizeof c->want);
    if (c->want_len != 20) return server_fail(r, VC_ERR_INVALID_REQUEST, "Upload-Checksum is not a base64 sha1");
    c->sha1 = EVP_MD_CTX_new();
    if (!c->sha1 || !EVP_DigestInit_ex(c->sha1, EVP_sha1(), NULL)) return server_fail(r, VC_ERR_NOMEM, "sha1");
    return 0;
}

static tus_ctx *new_ctx(server_request *r)
{
    tus_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        server_fail(r, VC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->fd = -1;
    r->ctx = c;
    return c;
}

/* Closes the .part file, which also drops the single-writer lock. Called as soon as a request's
 * bytes are settled — before its response is queued — because MHD reports a request complete
 * only after the client already has the answer, and the client's next PATCH must not find the
 * lock still held. */
static void release_part(tus_ctx *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

/* Opens the .part file at the durable offset, ready to take this request's body. */
static int open_for_append(server_request *r, tus_ctx *c)
{
    const char *ct = server_header(r, "Content-Type");
    if (!ct || strcmp(ct, "application/offset+octet-stream")) {
        return server_fail(r, VC_ERR_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/offset+octet-stream");
    }
    if (parse_checksum(r, c)) return -1;
    char part[1400];
    part_path(r, c->u.upload_id, part, sizeof part);
    c->fd = open(part, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (c->fd < 0) return server_fail(r, VC_ERR_IO, "open upload: %s", strerror(errno));
    /* one writer per upload: a second concurrent PATCH is refused instead of interleaving bytes;
     * the lock dies with the fd, so a crashed request never blocks the upload */
    if (flock(c->fd, LOCK_EX | LOCK_NB)) {
        close(c->fd);
        c->fd = -1;
        return server_fail(r, VC_ERR_CONFLICT, "another PATCH to this upload is in progress");
    }
    store_upload fresh; /* a PATCH that finished between our read and the lock moved the offset */
    if (store_upload_get(r->app->store, r->user_id, c->u.upload_id, &fresh, NULL) || fresh.offset != c->u.offset ||
        strcmp(fresh.state, c->u.state)) {
        release_part(c);
        return server_fail(r, VC_ERR_CONFLICT, "the upload moved on while this PATCH waited; HEAD for the offset");
    }
    /* drop bytes past the durable offset (a PATCH that died before its commit) */
    if (ftruncate(c->fd, c->u.offset) || lseek(c->fd, c->u.offset, SEEK_SET) < 0)
        return server_fail(r, VC_ERR_IO, "seek upload: %s", strerror(errno));
    return 0;
}

static int on_body(server_request *r, const char *data, size_t size)
{
    tus_ctx *c = r->ctx;
    if (!c || c->fd < 0) return 0;
    if (c->u.offset + c->written + (int64_t)size > c->u.length) {
        /* this request's bytes are discarded: the durable offset stays where it was */
        c->done = 1;
        if (ftruncate(c->fd, c->u.offset)) { /* the row never moved past u.offset: nothing lost */
        }
        release_part(c);
        return server_fail(r, VC_ERR_FILE_TOO_LARGE, "body goes past Upload-Length %" PRId64, c->u.length);
    }
    for (size_t done = 0; done < size;) {
        ssize_t w = write(c->fd, data + done, size - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return server_fail(r, VC_ERR_IO, "write upload: %s", strerror(errno));
        done += (size_t)w;
    }
    if (c->sha1) EVP_DigestUpdate(c->sha1, data, size);
    c->written += (int64_t)size;
    return 0;
}

/* Makes this request's bytes durable and moves the offset; or rolls them back on a bad checksum. */
static int commit_bytes(server_request *r, tus_ctx *c)
{
    c->done = 1;
    if (c->sha1) {
        unsigned char got[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        EVP_DigestFinal_ex(c->sha1, got, &n);
        if ((int)n != c->want_len || memcmp(got, c->want, n)) {
            if (ftruncate(c->fd, c->u.offset)) { /* the offset row was never moved: nothing lost */
            }
            return server_fail(r, VC_ERR_CHECKSUM_MISMATCH, "sha1 of the body does not match Upload-Checksum");
        }
    }
    if (c->written == 0) return 0;
    if (fdatasync(c->fd)) return server_fail(r, VC_ERR_IO, "fdatasync upload: %s", strerror(errno));
    c->u.offset += c->written;
    vc_error err;
    if (store_upload_update(r->app->store, &c->u, &err)) return server_fail(r, err.code, "%s", err.message);
    return 0;
}

/* Offset reached the length: validate + store as audio; on failure the upload is dropped. */
static int finish_if_complete(server_request *r, tus_ctx *c)
{
    if (c->u.offset < c->u.length || !strcmp(c->u.state, "complete")) return 0;
    char part[1400], id[STORE_ID_MAX];
    vc_error err;
    part_path(r, c->u.upload_id, part, sizeof part);
    /* the lock stays held until the audio exists: a HEAD meanwhile waits for it */
    json_t *audio = NULL;
    if (store_new_id("audio", id, &err)) return server_fail(r, err.code, "%s", err.message);
    const upload_purpose *p = upload_purpose_find(c->u.purpose);
    int rc = upload_finish(r, p, part, id, c->u.filename, &audio);
    unlink(part);
    json_decref(audio);
    if (rc) {
        store_upload_delete(r->app->store, c->u.upload_id, NULL);
        return -1;
    }
    snprintf(c->u.state, sizeof c->u.state, "complete");
    snprintf(c->u.audio_id, sizeof c->u.audio_id, "%s", id);
    return store_upload_update(r->app->store, &c->u, &err) ? server_fail(r, err.code, "%s", err.message) : 0;
}

/* offset = length but no audio yet: wait for the request finishing it, or finish it here. */
static int finish_pending(server_request *r, store_upload *u)
{
    char part[1400];
    part_path(r, u->upload_id, part, sizeof part);
    tus_ctx c = {.u = *u, .fd = open(part, O_RDWR | O_CLOEXEC)};
    /* no .part: the finishing request has just removed it and is writing the row (wait for it) */
    for (int i = 0; c.fd < 0 && i < 50; i++) {
        store_upload fresh;
        if (store_upload_get(r->app->store, r->user_id, u->upload_id, &fresh, NULL))
            return server_fail(r, VC_ERR_NOT_FOUND, "upload %s was refused when it completed; see its POST/PATCH answer", u->upload_id);
        if (!strcmp(fresh.state, "complete")) { *u = fresh; return 0; }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (c.fd < 0) {
        store_upload_delete(r->app->store, u->upload_id, NULL);
        return server_fail(r, VC_ERR_GONE, "upload %s lost its bytes before it became audio; upload the file again", u->upload_id);
    }
    while (flock(c.fd, LOCK_EX) != 0 && errno == EINTR) {
    }
    vc_error err;
    int rc = 0;
    if (store_upload_get(r->app->store, r->user_id, u->upload_id, &c.u, &err))
        rc = server_fail(r, VC_ERR_NOT_FOUND, "upload %s was refused when it completed; see its POST/PATCH answer", u->upload_id);
    else rc = finish_if_complete(r, &c);
    release_part(&c);
    if (rc == 0) *u = c.u;
    return rc;
}

int tus_recover_upload(server_app *app, const store_upload *u)
{
    server_request r = {.app = app};
    snprintf(r.user_id, sizeof r.user_id, "%s", u->user_id);
    store_upload copy = *u;
    int rc = finish_pending(&r, &copy);
    char ts[32];
    store_now_iso(ts);
    fprintf(stderr, "{\"ts\":\"%s\",\"event\":\"tus_recovered\",\"upload_id\":\"%s\",\"ok\":%s%s%s%s}\n", ts,
            u->upload_id, rc ? "false" : "true", rc ? ",\"error_code\":\"" : "", rc ? vc_code_name(r.err.code) : "",
            rc ? "\"" : "");
    json_decref(r.err_extra);
    return 0; /* one upload's failure never stops startup */
}

/* Upload-Metadata as the client sent it (re-encoded from what was kept: filename, purpose). */
static void add_metadata(struct MHD_Response *resp, const store_upload *u)
{
    unsigned char f[800], p[64];
    int fn = EVP_EncodeBlock(f, (const unsigned char *)u->filename, (int)strlen(u->filename));
    int pn = EVP_EncodeBlock(p, (const unsigned char *)u->purpose, (int)strlen(u->purpose));
    char meta[900];
    snprintf(meta, sizeof meta, "filename %.*s,purpose %.*s", fn, (const char *)f, pn, (const char *)p);
    MHD_add_response_header(resp, "Upload-Metadata", meta);
}

static void cleanup(server_request *r)
{
    tus_ctx *c = r->ctx;
    if (!c) return;
    /* an interrupted PATCH without checksum keeps what arrived (tus: resume from HEAD's offset) */
    if (c->fd >= 0 && !c->done && !c->sha1 && c->written > 0) commit_bytes(r, c);
    release_part(c);
    if (c->sha1) EVP_MD_CTX_free(c->sha1);
    free(c);
    r->ctx = NULL;
}

/* ---- POST (creation, creation-with-upload) ---- */
static int post_begin(server_request *r)
{
    tus_ctx *c = new_ctx(r);
    if (!c || require_tus(r)) return -1;
    const char *len = server_header(r, "Upload-Length");
    char *end;
    long long n = len ? strtoll(len, &end, 10) : -1;
    if (!len || *end || n < 0)
        return server_fail(r, VC_ERR_INVALID_REQUEST, "Upload-Length (bytes) is required; deferred length is not supported");
    store_upload *u = &c->u;
    if (parse_metadata(r, u)) return -1;
    const upload_purpose *p = upload_purpose_find(u->purpose);
    if (n > p->max_bytes) {
        server_fail(r, VC_ERR_FILE_TOO_LARGE, "Upload-Length %lld exceeds the %s limit of %lld MB", n, p->name,
                    (long long)(p->max_bytes >> 20));
        r->err_extra = upload_size_extra(p->max_bytes);
        return -1;
    }
    if (server_quota_upload(r, n)) return -1;
    vc_error err;
    if (store_new_id("upl", u->upload_id, &err)) return server_fail(r, err.code, "%s", err.message);
    snprintf(u->user_id, sizeof u->user_id, "%s", r->user_id);
    snprintf(u->kind, sizeof u->kind, "tus");
    snprintf(u->state, sizeof u->state, "receiving");
    u->length = n;
    u->expires_at = (int64_t)time(NULL) + r->app->config.upload_expiry_seconds;
    if (store_upload_insert(r->app->store, u, &err)) return server_fail(r, err.code, "%s", err.message);
    const char *ct = server_header(r, "Content-Type");
    if (ct && !strcmp(ct, "application/offset+octet-stream")) return open_for_append(r, c);
    char part[1400];
    part_path(r, u->upload_id, part, sizeof part);
    return vc_write_atomic(part, "", 0, &err) ? server_fail(r, err.code, "%s", err.message) : 0;
}

static int post_handle(server_request *r)
{
    tus_ctx *c = r->ctx;
    char location[128];
    snprintf(location, sizeof location, "/api/uploads/%s", c->u.upload_id);
    int rc = c->fd >= 0 && (commit_bytes(r, c) || finish_if_complete(r, c));
    if (!rc && c->u.length == 0) rc = finish_if_complete(r, c);
    release_part(c);
    return rc ? -1 : reply_tus(r, 201, &c->u, location);
}

/* ---- PATCH ---- */
static int patch_begin(server_request *r)
{
    tus_ctx *c = new_ctx(r);
    if (!c || require_tus(r) || load_upload(r, &c->u)) return -1;
    const char *off = server_header(r, "Upload-Offset");
    char *end;
    long long n = off ? strtoll(off, &end, 10) : -1;
    if (!off || *end || n < 0) return server_fail(r, VC_ERR_INVALID_REQUEST, "Upload-Offset header required");
    if (!strcmp(c->u.state, "complete")) {
        r->err_extra = json_pack("{s:s, s:s}", "user_message", "This upload is already finished.", "file_id", c->u.audio_id);
        return server_fail(r, VC_ERR_CONFLICT, "upload %s is already complete (audio %s); there is nothing more to send",
                           c->u.upload_id, c->u.audio_id);
    }
    if (n != c->u.offset)
        return server_fail(r, VC_ERR_CONFLICT, "Upload-Offset %lld does not match the server's %" PRId64 "; HEAD for the offset and resume from there", n,
                           c->u.offset);
    return open_for_append(r, c);
}

static int patch_handle(server_request *r)
{
    tus_ctx *c = r->ctx;
    int rc = commit_bytes(r, c) || finish_if_complete(r, c);
    release_part(c);
    return rc ? -1 : reply_tus(r, 204, &c->u, NULL);
}

/* ---- HEAD, GET, DELETE, OPTIONS ---- */
static int head_handle(server_request *r)
{
    store_upload u;
    if (require_tus(r) || load_upload(r, &u)) return -1;
    if (u.offset == u.length && strcmp(u.state, "complete") && finish_pending(r, &u)) return -1;
    struct MHD_Response *resp;
    server_reply_empty(r, 200, &resp);
    if (!resp) return server_fail(r, VC_ERR_NOMEM, "out of memory");
    add_common(resp);
    add_upload_headers(resp, &u);
    add_metadata(resp, &u);
    return server_reply_response(r, 200, resp);
}

static int get_handle(server_request *r)
{
    store_upload u;
    if (load_upload(r, &u)) return -1;
    json_t *qa = json_null();
    store_audio a;
    if (u.audio_id[0] && !store_audio_get(r->app->store, r->user_id, u.audio_id, &a, NULL)) {
        json_decref(qa);
        qa = a.analysis_json ? json_loads(a.analysis_json, 0, NULL) : json_null();
        store_audio_free(&a);
    }
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:b, s:s?, s:s, s:s, s:o}", "status", "success", "upload_id",
                          u.upload_id, "offset", (json_int_t)u.offset, "length", (json_int_t)u.length,
                          "upload_complete", !strcmp(u.state, "complete"), "file_id",
                          u.audio_id[0] ? u.audio_id : NULL, "filename", u.filename, "purpose", u.purpose,
                          "quality_analysis", qa ? qa : json_null());
    return server_reply_json(r, 200, o);
}

static int delete_handle(server_request *r)
{
    store_upload u;
    if (require_tus(r) || load_upload(r, &u)) return -1;
    char part[1400];
    part_path(r, u.upload_id, part, sizeof part);
    unlink(part);
    store_upload_delete(r->app->store, u.upload_id, NULL);
    return reply_tus(r, 204, NULL, NULL);
}

static int options_handle(server_request *r)
{
    struct MHD_Response *resp;
    server_reply_empty(r, 204, &resp);
    if (!resp) return server_fail(r, VC_ERR_NOMEM, "out of memory");
    char max[32];
    snprintf(max, sizeof max, "%" PRId64, upload_max_bytes());
    MHD_add_response_header(resp, "Tus-Resumable", TUS_VERSION);
    MHD_add_response_header(resp, "Tus-Version", TUS_VERSION);
    MHD_add_response_header(resp, "Tus-Extension", TUS_EXTENSIONS);
    MHD_add_response_header(resp, "Tus-Checksum-Algorithm", "sha1");
    MHD_add_response_header(resp, "Tus-Max-Size", max);
    return server_reply_response(r, 204, resp);
}

const server_route SERVER_ROUTES_TUS[] = {
    {.method = "OPTIONS", .pattern = "/api/uploads", .handle = options_handle, .tag = "uploads",
     .summary = "tus 1.0.0 capabilities (Tus-Version, Tus-Extension, Tus-Max-Size)", .responses = "204",
     .response_headers = "Tus-Resumable, Tus-Version, Tus-Extension, Tus-Checksum-Algorithm, Tus-Max-Size"},
    {.method = "POST", .pattern = "/api/uploads", .handle = post_handle, .body = SERVER_BODY_STREAM,
     .on_begin = post_begin, .on_body = on_body, .cleanup = cleanup, .tag = "uploads",
     .request_type = "application/offset+octet-stream",
     .summary = "tus creation (+ creation-with-upload); Upload-Length, Upload-Metadata filename/purpose",
     .responses = "201,400,401,412,413,429", .heavy = 1,
     .response_headers = "Location, Tus-Resumable, Upload-Offset, Upload-Length, Upload-Expires"},
    {.method = "HEAD", .pattern = "/api/uploads/{upload_id}", .handle = head_handle, .tag = "uploads",
     .summary = "tus offset (Upload-Offset, Upload-Length, Upload-Metadata, Upload-Audio-Id when finished; "
                "offset = length only once the audio exists)",
     .responses = "200,401,404,410,412,429", .heavy = 1,
     .response_headers = "Tus-Resumable, Cache-Control, Upload-Offset, Upload-Length, Upload-Metadata, Upload-Expires, "
                         "Upload-Audio-Id"},
    {.method = "PATCH", .pattern = "/api/uploads/{upload_id}", .handle = patch_handle, .body = SERVER_BODY_STREAM,
     .on_begin = patch_begin, .on_body = on_body, .cleanup = cleanup, .tag = "uploads",
     .request_type = "application/offset+octet-stream",
     .summary = "tus append at Upload-Offset (409 on mismatch; Upload-Checksum sha1, 460 on mismatch)",
     .responses = "204,400,404,409,410,412,413,415,429,460", .heavy = 1,
     .response_headers = "Tus-Resumable, Upload-Offset, Upload-Expires, Upload-Audio-Id"},
    {.method = "DELETE", .pattern = "/api/uploads/{upload_id}", .handle = delete_handle, .tag = "uploads",
     .summary = "tus termination", .responses = "204,404,410,412", .response_headers = "Tus-Resumable"},
    {.method = "GET", .pattern = "/api/uploads/{upload_id}", .handle = get_handle, .tag = "uploads",
     .summary = "Upload state as JSON: upload_id, offset, length, upload_complete, file_id, quality_analysis",
     .responses = "200,404,410",
     .response_schema = SERVER_SCHEMA({
         "type": "object", "additionalProperties": false,
         "required": ["status", "upload_id", "offset", "length", "upload_complete", "filename", "purpose", "quality_analysis"],
         "properties": {
             "status": {"const": "success"}, "upload_id": {"type": "string"}, "offset": {"type": "integer"},
             "length": {"type": "integer"}, "upload_complete": {"type": "boolean"},
             "file_id": {"type": ["string", "null"], "description": "the audio file, once complete"},
             "filename": {"type": "string"}, "purpose": {"type": "string"},
             "quality_analysis": {"oneOf": [{"$ref": "#/components/schemas/QualityAnalysis"}, {"type": "null"}]}}})},
    {0},
};
