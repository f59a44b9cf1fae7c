/* The stored .zip writer (zip_out.h). */
#include "server/zip_out.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

typedef struct zip_entry { char name[160]; uint32_t crc, size, offset; } zip_entry;

static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v) { put16(p, v & 0xffff); put16(p + 2, v >> 16); }

/* Appends the file at path to the archive as name; entry gets its CRC, size and offset. */
static int zip_add_file(FILE *z, const char *path, const char *name, zip_entry *e, vc_error *err)
{
    FILE *in = fopen(path, "rb");
    if (!in) return vc_fail(err, VC_ERR_IO, "cannot read %s", path);
    long off = ftell(z);
    snprintf(e->name, sizeof e->name, "%s", name);
    unsigned char h[30] = {0};
    size_t nl = strlen(e->name);
    fwrite(h, 1, sizeof h, z); /* rewritten below, once CRC and size are known */
    fwrite(e->name, 1, nl, z);
    unsigned char buf[1 << 16];
    size_t k;
    uLong crc = crc32(0, Z_NULL, 0);
    uint64_t size = 0;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0) {
        crc = crc32(crc, buf, (uInt)k);
        size += k;
        if (fwrite(buf, 1, k, z) != k) break;
    }
    int bad = ferror(in) || ferror(z) || size > 0xfffffffeULL || off < 0;
    fclose(in);
    if (bad) return vc_fail(err, VC_ERR_IO, "cannot write the export archive (disk full, or a file over 4 GB)");
    e->crc = (uint32_t)crc;
    e->size = (uint32_t)size;
    e->offset = (uint32_t)off;
    put32(h, 0x04034b50);
    put16(h + 4, 20);
    put32(h + 14, e->crc);
    put32(h + 18, e->size);
    put32(h + 22, e->size);
    put16(h + 26, (unsigned)nl);
    long end = ftell(z);
    fseek(z, off, SEEK_SET);
    fwrite(h, 1, sizeof h, z);
    fseek(z, end, SEEK_SET);
    return 0;
}

static void zip_finish(FILE *z, const zip_entry *e, int n)
{
    long start = ftell(z);
    for (int i = 0; i < n; i++) {
        unsigned char c[46] = {0};
        size_t nl = strlen(e[i].name);
        put32(c, 0x02014b50);
        put16(c + 4, 20);
        put16(c + 6, 20);
        put32(c + 16, e[i].crc);
        put32(c + 20, e[i].size);
        put32(c + 24, e[i].size);
        put16(c + 28, (unsigned)nl);
        put32(c + 42, e[i].offset);
        fwrite(c, 1, sizeof c, z);
        fwrite(e[i].name, 1, nl, z);
    }
    long end = ftell(z);
    unsigned char d[22] = {0};
    put32(d, 0x06054b50);
    put16(d + 8, (unsigned)n);
    put16(d + 10, (unsigned)n);
    put32(d + 12, (uint32_t)(end - start));
    put32(d + 16, (uint32_t)start);
    fwrite(d, 1, sizeof d, z);
}


int zip_out_files(const char *const *paths, const char *const *names, int n, int *fd, vc_error *err)
{
    *fd = -1;
    FILE *z = tmpfile();
    if (!z) return vc_fail(err, VC_ERR_IO, "cannot create a temporary file for the archive");
    zip_entry *e = calloc((size_t)(n > 0 ? n : 1), sizeof *e);
    int rc = e ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    for (int i = 0; rc == 0 && i < n; i++) rc = zip_add_file(z, paths[i], names[i], &e[i], err);
    if (rc == 0) zip_finish(z, e, n);
    if (rc == 0 && (fflush(z) || ferror(z))) rc = vc_fail(err, VC_ERR_IO, "cannot write the archive");
    free(e);
    int d = rc == 0 ? dup(fileno(z)) : -1;
    fclose(z);
    if (rc) return -1;
    if (d < 0 || lseek(d, 0, SEEK_SET) < 0) {
        if (d >= 0) close(d);
        return vc_fail(err, VC_ERR_IO, "cannot read back the archive");
    }
    *fd = d;
    return 0;
}
