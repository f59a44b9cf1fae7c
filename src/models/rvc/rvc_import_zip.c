/*
 * The .zip form of a voice import: people share RVC voices as one archive holding the .pth and
 * its .index. Only those two entries are read (anything else — readme, __MACOSX/ — is ignored),
 * written as model.pth / model.index into the staging folder. Why our own reader: libzip is not
 * a dependency, and the needed subset is small: the central directory, stored or deflated
 * entries (zlib raw inflate), CRC-32 checked. Untrusted input, so every offset and size is
 * checked against the file, the output is capped at the size the directory declares (checked
 * while inflating, before each write), declared sizes are capped in total and in expansion ratio
 * before anything is written (zip bombs), and encrypted, zip64 or split archives are refused
 * with a message rather than guessed at.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "models/rvc/rvc_import.h"

#define EOCD_MIN 22
#define EOCD_SEARCH (EOCD_MIN + 65535)
#define CHUNK (1 << 16)
/* A voice is a ~50 MB .pth and an index of up to a few hundred MB: 2 GiB extracted is plenty.
 * Weights and float vectors barely compress; text-like data reaches ~10:1. Beyond 100:1 (for
 * entries above 1 MiB) it is a bomb, not a voice. */
rvc_zip_limits rvc_zip_default_limits(void)
{
    return (rvc_zip_limits){.max_total_bytes = 2ull << 30, .max_ratio = 100u, .ratio_free_bytes = 1u << 20};
}

typedef struct zip_member {
    uint16_t method, flags;
    uint32_t crc, csize, usize, local_offset;
    int found;
} zip_member;

static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static int bad(vc_error *err, const char *what) { return vc_fail(err, VC_ERR_INVALID_FORMAT, "zip: %s", what); }

static int read_at(int fd, void *buf, size_t n, off_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (char *)buf + done, n - done, off + (off_t)done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        done += (size_t)r;
    }
    return 0;
}

/* Finds the end-of-central-directory record: directory offset, size and entry count. */
static int find_directory(int fd, off_t size, uint32_t *cd_off, uint32_t *cd_size, uint16_t *count, vc_error *err)
{
    size_t tail = (size_t)(size < EOCD_SEARCH ? size : EOCD_SEARCH);
    unsigned char *b = malloc(tail ? tail : 1);
    if (!b) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    int rc = size < EOCD_MIN || read_at(fd, b, tail, size - (off_t)tail) ? bad(err, "not a zip archive (too short)") : -2;
    for (size_t i = tail - EOCD_MIN + 1; rc == -2 && i-- > 0;) {
        if (rd32(b + i) != 0x06054b50) continue;
        if (rd16(b + i + 4) || rd16(b + i + 6)) rc = bad(err, "split archives are not supported");
        else {
            *count = rd16(b + i + 10);
            *cd_size = rd32(b + i + 12);
            *cd_off = rd32(b + i + 16);
            rc = *cd_off == 0xFFFFFFFFu || *count == 0xFFFF ? bad(err, "zip64 archives are not supported")
                 : (uint64_t)*cd_off + *cd_size > (uint64_t)size ? bad(err, "the directory runs past the file") : 0;
        }
    }
    free(b);
    return rc == -2 ? bad(err, "not a zip archive (no end-of-central-directory record)") : rc;
}

static int ends_with(const char *name, size_t len, const char *ext)
{
    size_t el = strlen(ext);
    return len > el && !strncasecmp(name + len - el, ext, el);
}

/* Records entry as the .pth or the .index; two of either kind is ambiguous. */
static int note_member(const unsigned char *e, const char *name, size_t len, zip_member *pth, zip_member *idx, vc_error *err)
{
    if (len >= 9 && !strncmp(name, "__MACOSX/", 9)) return 0;
    zip_member *m = ends_with(name, len, ".pth") ? pth : ends_with(name, len, ".index") ? idx : NULL;
    if (!m) return 0;
    if (m->found) return vc_fail(err, VC_ERR_INVALID_FORMAT, "zip: more than one %s file; put one voice per archive", m == pth ? ".pth" : ".index");
    *m = (zip_member){.flags = rd16(e + 8), .method = rd16(e + 10), .crc = rd32(e + 16), .csize = rd32(e + 20),
                      .usize = rd32(e + 24), .local_offset = rd32(e + 42), .found = 1};
    if (m->flags & 1) return bad(err, "encrypted entries are not supported");
    if (m->method != 0 && m->method != 8) return bad(err, "entries must be stored or deflated");
    if (m->csize == 0xFFFFFFFFu || m->usize == 0xFFFFFFFFu || m->local_offset == 0xFFFFFFFFu)
        return bad(err, "zip64 entries are not supported");
    return 0;
}

static int scan_directory(const unsigned char *cd, size_t n, uint16_t count, const rvc_zip_limits *lim, zip_member *pth,
                          zip_member *idx, vc_error *err)
{
    size_t p = 0;
    for (uint16_t i = 0; i < count; i++) {
        if (p + 46 > n || rd32(cd + p) != 0x02014b50) return bad(err, "damaged central directory");
        size_t name_len = rd16(cd + p + 28), next = p + 46 + name_len + rd16(cd + p + 30) + rd16(cd + p + 32);
        if (next > n) return bad(err, "damaged central directory");
        if (note_member(cd + p, (const char *)cd + p + 46, name_len, pth, idx, err) != 0) return -1;
        p = next;
    }
    if (!pth->found) return vc_fail(err, VC_ERR_INVALID_FORMAT, "the zip holds no .pth voice model");
    const zip_member *both[2] = {pth, idx};
    uint64_t total = 0;
    for (int i = 0; i < 2; i++) {
        const zip_member *m = both[i];
        if (!m->found) continue;
        total += m->usize; /* two 32-bit sizes: cannot wrap */
        if (m->usize > lim->ratio_free_bytes && (uint64_t)m->usize > (uint64_t)m->csize * lim->max_ratio)
            return vc_fail(err, VC_ERR_INVALID_FORMAT, "zip: an entry claims to expand %llu times (%u bytes to %u); "
                           "that is a zip bomb, not a voice model", (unsigned long long)(m->usize / (m->csize ? m->csize : 1)),
                           m->csize, m->usize);
        if (m->method == 0 && m->csize != m->usize) return bad(err, "a stored entry's sizes disagree");
    }
    /* the declared sizes bound what is written: extraction stops at each entry's declared size */
    if (total > lim->max_total_bytes)
        return vc_fail(err, VC_ERR_FILE_TOO_LARGE, "zip: the voice files would take %llu MB extracted; the limit is %llu MB",
                       (unsigned long long)(total >> 20), (unsigned long long)(lim->max_total_bytes >> 20));
    return 0;
}

/* Where the entry's data starts (after its local header). */
static int data_offset(int fd, off_t size, const zip_member *m, off_t *out, vc_error *err)
{
    unsigned char h[30];
    if ((off_t)m->local_offset + 30 > size || read_at(fd, h, 30, m->local_offset) || rd32(h) != 0x04034b50)
        return bad(err, "bad local header");
    *out = (off_t)m->local_offset + 30 + rd16(h + 26) + rd16(h + 28);
    return *out + (off_t)m->csize > size ? bad(err, "an entry runs past the file") : 0;
}

static int write_all(int fd, const unsigned char *p, size_t n, vc_error *err)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return vc_fail(err, VC_ERR_IO, "writing the extracted file: %s", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Inflates (or copies) csize bytes at off into out, producing at most usize bytes; checks the CRC. */
static int extract_stream(int in, off_t off, const zip_member *m, int out, vc_error *err)
{
    unsigned char *src = malloc(CHUNK), *dst = malloc(CHUNK);
    z_stream z = {0};
    int rc = src && dst ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory"), zrc = Z_OK, inflating = 0;
    if (rc == 0 && m->method == 8) {
        if (inflateInit2(&z, -MAX_WBITS) != Z_OK) rc = vc_fail(err, VC_ERR_NOMEM, "zlib init failed");
        else inflating = 1;
    }
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0), left = m->csize;
    uint64_t produced = 0;
    while (rc == 0 && left > 0) {
        uInt n = left < CHUNK ? left : CHUNK;
        if (read_at(in, src, n, off + (off_t)(m->csize - left))) { rc = bad(err, "truncated entry"); break; }
        left -= n;
        z.next_in = src;
        z.avail_in = n;
        do {
            size_t got = n;
            const unsigned char *chunk = src;
            if (inflating) {
                z.next_out = dst;
                z.avail_out = CHUNK;
                zrc = inflate(&z, Z_NO_FLUSH);
                if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) { rc = bad(err, "corrupt deflate data"); break; }
                got = CHUNK - z.avail_out;
                chunk = dst;
            } else z.avail_in = 0;
            produced += got;
            if (produced > m->usize) { rc = bad(err, "an entry inflates past its declared size"); break; }
            crc = (uint32_t)crc32(crc, chunk, (uInt)got);
            rc = write_all(out, chunk, got, err);
        } while (rc == 0 && inflating && (z.avail_in > 0 || z.avail_out == 0) && zrc != Z_STREAM_END);
    }
    if (inflating) inflateEnd(&z);
    free(src);
    free(dst);
    if (rc == 0 && (produced != m->usize || crc != m->crc)) rc = bad(err, "an entry is damaged (size or CRC-32 mismatch)");
    return rc;
}

static int extract_member(int in, off_t size, const zip_member *m, const char *dst, vc_error *err)
{
    off_t off = 0;
    if (data_offset(in, size, m, &off, err) != 0) return -1;
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) return vc_fail(err, VC_ERR_IO, "cannot create %s: %s", dst, strerror(errno));
    int rc = extract_stream(in, off, m, out, err);
    if (rc == 0 && fsync(out) != 0) rc = vc_fail(err, VC_ERR_IO, "fsync %s: %s", dst, strerror(errno));
    close(out);
    return rc;
}

int rvc_import_unzip(const char *zip_path, const char *dir, int *has_index, vc_error *err)
{
    rvc_zip_limits lim = rvc_zip_default_limits();
    return rvc_import_unzip_limited(zip_path, dir, &lim, has_index, err);
}

int rvc_import_unzip_limited(const char *zip_path, const char *dir, const rvc_zip_limits *lim, int *has_index,
                             vc_error *err)
{
    *has_index = 0;
    int fd = open(zip_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return vc_fail(err, VC_ERR_NOT_FOUND, "cannot open %s: %s", zip_path, strerror(errno));
    struct stat st;
    uint32_t cd_off = 0, cd_size = 0;
    uint16_t count = 0;
    zip_member pth = {0}, idx = {0};
    unsigned char *cd = NULL;
    int rc = fstat(fd, &st) ? vc_fail(err, VC_ERR_IO, "stat %s: %s", zip_path, strerror(errno))
                            : find_directory(fd, st.st_size, &cd_off, &cd_size, &count, err);
    if (rc == 0 && !(cd = malloc(cd_size ? cd_size : 1))) rc = vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (rc == 0 && read_at(fd, cd, cd_size, cd_off)) rc = bad(err, "cannot read the central directory");
    if (rc == 0) rc = scan_directory(cd, cd_size, count, lim, &pth, &idx, err);
    char path[1400];
    snprintf(path, sizeof path, "%s/model.pth", dir);
    if (rc == 0) rc = extract_member(fd, st.st_size, &pth, path, err);
    snprintf(path, sizeof path, "%s/model.index", dir);
    if (rc == 0 && idx.found) rc = extract_member(fd, st.st_size, &idx, path, err);
    *has_index = rc == 0 && idx.found;
    free(cd);
    close(fd);
    return rc;
}
