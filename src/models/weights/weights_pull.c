/* Resumable, verified downloads of model files (see weights_pull.h). */
#include "models/weights/weights_pull.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn/weights.h"
#include "store/store.h"

typedef struct transfer {
    FILE *out;
    const char *file;
    double offset; /* bytes already on disk before this request */
    weights_progress_fn progress;
    void *ctx;
} transfer;

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    transfer *t = ctx;
    return fwrite(p, size, n, t->out) * size;
}

static int on_progress(void *ctx, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
    transfer *t = ctx;
    if (t->progress && total > 0) t->progress(t->ctx, t->file, t->offset + (double)now, t->offset + (double)total);
    return 0;
}

static void entry_paths(const json_t *e, const char *root, char *dir, char *final, char *part, size_t n)
{
    snprintf(dir, n, "%s/%s", root, json_string_value(json_object_get(e, "folder")));
    snprintf(final, n, "%s/%s", dir, json_string_value(json_object_get(e, "file")));
    snprintf(part, n, "%s.part", final);
}

int weights_installed(const json_t *entry, const char *root)
{
    char dir[1024], final[1200], part[1300];
    entry_paths(entry, root, dir, final, part, sizeof dir);
    struct stat st;
    return stat(final, &st) == 0 && S_ISREG(st.st_mode);
}

static void url_for(const json_t *e, const char *base_url, char *out, size_t n)
{
    const char *url = json_string_value(json_object_get(e, "url"));
    if (!base_url) { snprintf(out, n, "%s", url); return; }
    const char *last = strrchr(url, '/');
    snprintf(out, n, "%s%s", base_url, last ? last : "/");
}

/* GET url appending to part from its current size (Range). */
static int fetch(const char *url, const char *part, const char *file, weights_progress_fn progress, void *ctx, vc_error *err)
{
    FILE *out = fopen(part, "ab");
    if (!out) return vc_fail(err, VC_ERR_IO, "cannot write %s: %s", part, strerror(errno));
    long have = ftell(out);
    transfer t = {out, file, (double)have, progress, ctx};
    CURL *c = curl_easy_init();
    char range[64];
    snprintf(range, sizeof range, "%ld-", have);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    if (have > 0) curl_easy_setopt(c, CURLOPT_RANGE, range);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    int closed = fclose(out);
    if (rc == CURLE_HTTP_RETURNED_ERROR && status == 416) return 0; /* already complete */
    if (rc != CURLE_OK) return vc_fail(err, VC_ERR_IO, "download of %s failed: %s (HTTP %ld)", url, curl_easy_strerror(rc), status);
    if (have > 0 && status == 200) { /* the server ignored Range: start over from what it sent */
        unlink(part);
        return fetch(url, part, file, progress, ctx, err);
    }
    return closed == 0 ? 0 : vc_fail(err, VC_ERR_IO, "writing %s failed (disk full?)", part);
}

static int sha256_hex(const char *path, char out[65])
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    unsigned char buf[1 << 16], digest[32];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) EVP_DigestUpdate(md, buf, n);
    unsigned int len = 0;
    EVP_DigestFinal_ex(md, digest, &len);
    EVP_MD_CTX_free(md);
    fclose(f);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", digest[i]);
    return 0;
}

/* size and sha256 when the manifest states them; weight files must load through the safe loaders */
static int verify(const json_t *e, const char *part, vc_error *err)
{
    struct stat st;
    if (stat(part, &st) != 0) return vc_fail(err, VC_ERR_IO, "download vanished: %s", part);
    const json_t *size = json_object_get(e, "size"), *sha = json_object_get(e, "sha256");
    if (json_is_integer(size) && (json_int_t)st.st_size != json_integer_value(size))
        return vc_fail(err, VC_ERR_CORRUPT, "%s has %lld bytes, the manifest says %lld", part, (long long)st.st_size, (long long)json_integer_value(size));
    char hex[65];
    if (json_is_string(sha) && (sha256_hex(part, hex) != 0 || strcasecmp(hex, json_string_value(sha))))
        return vc_fail(err, VC_ERR_CHECKSUM_MISMATCH, "checksum mismatch for %s", json_string_value(json_object_get(e, "file")));
    const char *file = json_string_value(json_object_get(e, "file"));
    size_t len = strlen(file);
    int is_weights = (len > 12 && !strcmp(file + len - 12, ".safetensors")) || (len > 3 && (!strcmp(file + len - 3, ".pt") || !strcmp(file + len - 4, ".pth") || !strcmp(file + len - 4, ".bin")));
    if (is_weights) {
        nn_weights *w;
        if (nn_weights_open(part, &w, err) != 0) return vc_error_wrap(err, "downloaded %s is not a readable checkpoint", file);
        nn_weights_free(w);
    }
    return 0;
}

int weights_pull_file(const json_t *e, const char *root, const char *base_url, weights_progress_fn progress, void *ctx,
                      vc_error *err)
{
    if (!json_is_string(json_object_get(e, "folder")) || !json_is_string(json_object_get(e, "file")) || !json_is_string(json_object_get(e, "url")))
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "manifest entry lacks folder/file/url");
    if (strchr(json_string_value(json_object_get(e, "file")), '/') || strstr(json_string_value(json_object_get(e, "folder")), ".."))
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "manifest entry has an unsafe path");
    char dir[1024], final[1200], part[1300], url[2048];
    entry_paths(e, root, dir, final, part, sizeof dir);
    url_for(e, base_url, url, sizeof url);
    if (vc_mkdirs(dir, err) != 0) return -1;
    if (fetch(url, part, json_string_value(json_object_get(e, "file")), progress, ctx, err) != 0) return -1;
    if (verify(e, part, err) != 0) { unlink(part); return -1; }
    if (rename(part, final) != 0) return vc_fail(err, VC_ERR_IO, "cannot install %s: %s", final, strerror(errno));
    return 0;
}
