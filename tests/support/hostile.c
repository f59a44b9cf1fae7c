/* Hostile file generator (see hostile.h). Every writer builds its file from the documented
 * layout (zip, pickle protocol 2, safetensors, faiss index_write.cpp), then breaks one thing. */
#include "hostile.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>
#include <zlib.h>

/* ---- a growing byte buffer ------------------------------------------------------------- */

typedef struct buf { unsigned char *p; size_t n, cap; int failed; } buf;

static void put(buf *b, const void *data, size_t n)
{
    if (b->failed) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        unsigned char *g = realloc(b->p, cap);
        if (!g) { b->failed = 1; return; }
        b->p = g;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}
static void put8(buf *b, unsigned v) { unsigned char c = (unsigned char)v; put(b, &c, 1); }
static void put16(buf *b, unsigned v) { put8(b, v & 0xff); put8(b, (v >> 8) & 0xff); }
static void put32(buf *b, uint32_t v) { put16(b, v & 0xffff); put16(b, v >> 16); }
static void put64(buf *b, uint64_t v) { put32(b, (uint32_t)v); put32(b, (uint32_t)(v >> 32)); }
static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static int save(const char *path, buf *b)
{
    FILE *f = b->failed ? NULL : fopen(path, "wb");
    int rc = f && fwrite(b->p, 1, b->n, f) == b->n ? 0 : -1;
    if (f && fclose(f) != 0) rc = -1;
    free(b->p);
    return rc;
}

/* ---- zip archives ---------------------------------------------------------------------- */

typedef struct zentry {
    const char *name;
    const unsigned char *data; /* what is stored (already deflated for method 8) */
    size_t size;
    int method;
    uint32_t usize, crc;       /* as declared in the headers */
    uint32_t csize;            /* declared compressed size; 0: size (honest) */
} zentry;

/* Local headers, data, central directory and EOCD; eocd_count/eocd_off override the record
 * (0xFFFF / 0xFFFFFFFF ask for ZIP64). z64 1: a ZIP64 locator pointing at z64_value (no record);
 * 2: a ZIP64 record claiming z64_value entries, and its locator. */
static void zip_build(buf *b, const zentry *e, int n, int eocd_count, uint32_t eocd_off, int z64, uint64_t z64_value)
{
    uint32_t offs[8];
    for (int i = 0; i < n; i++) {
        offs[i] = (uint32_t)b->n;
        put32(b, 0x04034b50); put16(b, 20); put16(b, 0); put16(b, (unsigned)e[i].method); put16(b, 0); put16(b, 0);
        put32(b, e[i].crc); put32(b, e[i].csize ? e[i].csize : (uint32_t)e[i].size); put32(b, e[i].usize);
        put16(b, (unsigned)strlen(e[i].name)); put16(b, 0);
        puts_(b, e[i].name);
        put(b, e[i].data, e[i].size);
    }
    uint32_t cd = (uint32_t)b->n;
    for (int i = 0; i < n; i++) {
        put32(b, 0x02014b50); put16(b, 20); put16(b, 20); put16(b, 0); put16(b, (unsigned)e[i].method); put16(b, 0); put16(b, 0);
        put32(b, e[i].crc); put32(b, e[i].csize ? e[i].csize : (uint32_t)e[i].size); put32(b, e[i].usize);
        put16(b, (unsigned)strlen(e[i].name)); put16(b, 0); put16(b, 0); put16(b, 0); put16(b, 0); put32(b, 0);
        put32(b, offs[i]);
        puts_(b, e[i].name);
    }
    uint32_t cd_size = (uint32_t)b->n - cd;
    if (z64 == 2) {
        uint64_t at = b->n;
        put32(b, 0x06064b50); put64(b, 44); put16(b, 45); put16(b, 45); put32(b, 0); put32(b, 0);
        put64(b, z64_value); put64(b, z64_value); put64(b, cd_size); put64(b, cd);
        z64_value = at;
    }
    if (z64) { put32(b, 0x07064b50); put32(b, 0); put64(b, z64_value); put32(b, 1); }
    put32(b, 0x06054b50); put16(b, 0); put16(b, 0);
    put16(b, (unsigned)(eocd_count >= 0 ? eocd_count : n)); put16(b, (unsigned)(eocd_count >= 0 ? eocd_count : n));
    put32(b, cd_size); put32(b, eocd_off != 0 ? eocd_off : cd); put16(b, 0);
}

static zentry stored(const char *name, const void *data, size_t n)
{
    return (zentry){name, data, n, 0, (uint32_t)n, (uint32_t)crc32(0, data, (uInt)n), 0};
}

/* torch.save layout: archive/data.pkl + archive/data/0 (a storage of `floats` floats). */
static int torch_zip(const char *path, buf *pkl, size_t floats)
{
    float *storage = calloc(floats ? floats : 1, sizeof(float));
    buf z = {0};
    zentry e[2] = {stored("archive/data.pkl", pkl->p, pkl->n), stored("archive/data/0", storage, floats * 4)};
    zip_build(&z, e, 2, -1, 0, 0, 0);
    free(storage);
    free(pkl->p);
    return save(path, &z);
}

/* ---- pickles (protocol 2) ---------------------------------------------------------------- */

static void p_str(buf *b, const char *s) { put8(b, 'X'); put32(b, (uint32_t)strlen(s)); puts_(b, s); }
static void p_int(buf *b, int64_t v) { put8(b, 0x8a); put8(b, 8); put64(b, (uint64_t)v); } /* LONG1, 8 bytes */
static void p_global(buf *b, const char *mod, const char *name) { put8(b, 'c'); puts_(b, mod); put8(b, '\n'); puts_(b, name); put8(b, '\n'); }

static void p_tuple(buf *b, const int64_t *v, int n)
{
    put8(b, '(');
    for (int i = 0; i < n; i++) p_int(b, v[i]);
    put8(b, 't');
}

/* {"w": _rebuild_tensor_v2(storage '0' of FloatStorage, offset, shape, stride, False, None)} */
static void p_tensor_dict(buf *b, int64_t offset, const int64_t *shape, const int64_t *stride, int ndim)
{
    put8(b, 0x80); put8(b, 2);
    put8(b, '}');
    p_str(b, "w");
    p_global(b, "torch._utils", "_rebuild_tensor_v2");
    put8(b, '(');
    put8(b, '('); p_str(b, "storage"); p_global(b, "torch", "FloatStorage"); p_str(b, "0"); p_str(b, "cpu"); p_int(b, 1);
    put8(b, 't'); put8(b, 'Q');
    p_int(b, offset);
    p_tuple(b, shape, ndim);
    p_tuple(b, stride, ndim);
    put8(b, 0x89); put8(b, 'N');
    put8(b, 't');
    put8(b, 'R');
    put8(b, 's');
    put8(b, '.');
}

static int pt_huge_stride(const char *path)
{   /* the original crash: a stride whose product with the shape wraps 64-bit arithmetic */
    buf b = {0};
    p_tensor_dict(&b, 0, (int64_t[]){4}, (int64_t[]){INT64_C(1) << 62}, 1);
    return torch_zip(path, &b, 1);
}

static int pt_huge_offset(const char *path)
{
    buf b = {0};
    p_tensor_dict(&b, INT64_C(0x3fffffffffffffff), (int64_t[]){1}, (int64_t[]){1}, 1);
    return torch_zip(path, &b, 1);
}

static int pt_view_past_storage(const char *path)
{   /* every number within limits, the view still far past its 4-byte storage */
    buf b = {0};
    p_tensor_dict(&b, 0, (int64_t[]){1 << 20, 1 << 20}, (int64_t[]){1 << 20, 1}, 2);
    return torch_zip(path, &b, 1);
}

static int pt_wrapping_span(const char *path)
{   /* six dims whose (shape-1)·stride terms sum past 2^63 */
    int64_t shape[6], stride[6];
    for (int i = 0; i < 6; i++) { shape[i] = 2; stride[i] = INT64_C(1) << 40; }
    shape[5] = INT64_C(1) << 23; /* (2^23-1)·2^40 ≈ 2^63 - 2^40, plus five more 2^40 */
    buf b = {0};
    p_tensor_dict(&b, 0, shape, stride, 6);
    return torch_zip(path, &b, 1);
}

static int pt_stride0_expansion(const char *path)
{   /* a 4-byte storage viewed as 2^30 elements with stride 0: 4 GB from nothing */
    buf b = {0};
    p_tensor_dict(&b, 0, (int64_t[]){INT64_C(1) << 30}, (int64_t[]){0}, 1);
    return torch_zip(path, &b, 1);
}

static int pt_exponential_dag(const char *path)
{   /* each level is a list holding the previous level twice: 2^60 nodes when expanded */
    buf b = {0};
    put8(&b, 0x80); put8(&b, 2);
    put8(&b, '}'); p_str(&b, "x");
    put8(&b, ']'); put8(&b, 'q'); put8(&b, 0); put8(&b, '0');
    for (int i = 0; i < 60; i++) {
        put8(&b, '('); put8(&b, 'h'); put8(&b, 0); put8(&b, 'h'); put8(&b, 0); put8(&b, 'l');
        put8(&b, 'q'); put8(&b, 0); put8(&b, '0');
    }
    put8(&b, 'h'); put8(&b, 0); put8(&b, 's'); put8(&b, '.');
    return torch_zip(path, &b, 1);
}

static int pt_dict_dag(const char *path)
{   /* the same with dicts, which the loader walks for tensor names */
    buf b = {0};
    put8(&b, 0x80); put8(&b, 2);
    put8(&b, '}'); put8(&b, 'q'); put8(&b, 0); put8(&b, '0');
    for (int i = 0; i < 60; i++) {
        put8(&b, '}'); p_str(&b, "a"); put8(&b, 'h'); put8(&b, 0); put8(&b, 's'); p_str(&b, "b"); put8(&b, 'h'); put8(&b, 0);
        put8(&b, 's'); put8(&b, 'q'); put8(&b, 0); put8(&b, '0');
    }
    put8(&b, 'h'); put8(&b, 0); put8(&b, '.');
    return torch_zip(path, &b, 1);
}

static int pt_cycles(const char *path)
{   /* a list inside itself and a dict inside itself: loads, as inert data */
    buf b = {0};
    put8(&b, 0x80); put8(&b, 2);
    put8(&b, '}');
    p_str(&b, "l"); put8(&b, ']'); put8(&b, 'q'); put8(&b, 1); put8(&b, 'h'); put8(&b, 1); put8(&b, 'a'); put8(&b, 's');
    p_str(&b, "d"); put8(&b, '}'); put8(&b, 'q'); put8(&b, 2); p_str(&b, "self"); put8(&b, 'h'); put8(&b, 2); put8(&b, 's'); put8(&b, 's');
    put8(&b, '.');
    return torch_zip(path, &b, 1);
}

static int pt_zip64_wrap(const char *path)
{   /* EOCD asks for ZIP64; the locator's offset + 56 wraps to a small number */
    buf pkl = {0};
    put8(&pkl, 0x80); put8(&pkl, 2); put8(&pkl, '}'); put8(&pkl, '.');
    buf z = {0};
    zentry e = stored("archive/data.pkl", pkl.p, pkl.n);
    zip_build(&z, &e, 1, -1, 0xFFFFFFFFu, 1, UINT64_MAX - 20);
    free(pkl.p);
    return save(path, &z);
}

static int pt_directory_count_lie(const char *path)
{   /* a ZIP64 record that claims 2^40 directory entries in a 200-byte file */
    buf pkl = {0};
    put8(&pkl, 0x80); put8(&pkl, 2); put8(&pkl, '}'); put8(&pkl, '.');
    buf z = {0};
    zentry e = stored("archive/data.pkl", pkl.p, pkl.n);
    zip_build(&z, &e, 1, 0xFFFF, 0xFFFFFFFFu, 2, UINT64_C(1) << 40);
    free(pkl.p);
    return save(path, &z);
}

/* ---- safetensors ------------------------------------------------------------------------- */

static int safetensors(const char *path, const char *header, size_t data_bytes)
{
    buf b = {0};
    put64(&b, strlen(header));
    puts_(&b, header);
    for (size_t i = 0; i < data_bytes; i++) put8(&b, 0);
    return save(path, &b);
}

static int st_overlap(const char *path)
{
    return safetensors(path, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                             "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
}

static int st_numel_wrap(const char *path)
{   /* 2^40·2^40·… wraps a 64-bit product back to a small number */
    return safetensors(path, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776,16777216],\"data_offsets\":[0,0]}}", 8);
}

/* ---- faiss .index -------------------------------------------------------------------------- */

static void idx_header(buf *b, const char *fourcc, int d, int64_t ntotal)
{
    puts_(b, fourcc);
    put32(b, (uint32_t)d); put64(b, (uint64_t)ntotal); put64(b, 1 << 20); put64(b, 1 << 20);
    put8(b, 1); put32(b, 1);
}

static int idx_lying_rows(const char *path)
{   /* 45 bytes claiming a million 256-dim vectors (1 GB) */
    buf b = {0};
    idx_header(&b, "IwFl", 256, 1000000);
    put64(&b, 0);
    return save(path, &b);
}

static int idx_flat_lying_rows(const char *path)
{
    buf b = {0};
    idx_header(&b, "IxF2", 768, 40000000);
    put64(&b, UINT64_C(768) * 40000000);
    return save(path, &b);
}

/* An IVF-Flat index of d=4 with `ntotal` vectors claimed, nlist lists of which list 0 holds them all. */
static void ivf_start(buf *b, int64_t ntotal, uint64_t nlist)
{
    idx_header(b, "IwFl", 4, ntotal);
    put64(b, nlist); put64(b, 1);
    idx_header(b, "IxF2", 4, 1);
    put64(b, 4);
    for (int i = 0; i < 4; i++) put32(b, 0);
    put8(b, 0); put64(b, 0);
    puts_(b, "ilar"); put64(b, nlist); put64(b, 16);
}

static int idx_nlist_lie(const char *path)
{
    buf b = {0};
    ivf_start(&b, 1, UINT64_C(1) << 25);
    puts_(&b, "full"); put64(&b, UINT64_C(1) << 25); put64(&b, 1);
    for (int i = 0; i < 4; i++) put32(&b, 0);
    put64(&b, 0);
    return save(path, &b);
}

static int idx_list_size_wrap(const char *path)
{   /* a list size whose ·(code_size + 8) wraps */
    buf b = {0};
    ivf_start(&b, 1, 1);
    puts_(&b, "full"); put64(&b, 1); put64(&b, UINT64_C(1) << 60);
    for (int i = 0; i < 6; i++) put32(&b, 0);
    return save(path, &b);
}

static int idx_trained_empty(const char *path)
{   /* what RVC writes as trained_IVF…: the structure, no vectors */
    buf b = {0};
    ivf_start(&b, 0, 1);
    puts_(&b, "full"); put64(&b, 1); put64(&b, 0);
    return save(path, &b);
}

/* ---- zip bombs (voice import) ------------------------------------------------------------ */

static int deflate_zeros(size_t n, unsigned char **out, size_t *out_n, uint32_t *crc)
{
    unsigned char *zeros = calloc(n, 1);
    uLong cap = compressBound((uLong)n);
    *out = malloc(cap);
    z_stream z = {0};
    int ok = zeros && *out && deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 9, Z_DEFAULT_STRATEGY) == Z_OK;
    if (ok) {
        z.next_in = zeros; z.avail_in = (uInt)n; z.next_out = *out; z.avail_out = (uInt)cap;
        ok = deflate(&z, Z_FINISH) == Z_STREAM_END;
        *out_n = z.total_out;
        deflateEnd(&z);
    }
    *crc = zeros ? (uint32_t)crc32(0, zeros, (uInt)n) : 0;
    free(zeros);
    return ok ? 0 : -1;
}

static int zip_bomb(const char *path, uint32_t declared_factor)
{
    unsigned char *d = NULL;
    size_t dn = 0;
    uint32_t crc = 0;
    size_t real = (size_t)16 << 20;
    if (deflate_zeros(real, &d, &dn, &crc) != 0) { free(d); return -1; }
    zentry e = {"voice/model.pth", d, dn, 8, declared_factor ? (uint32_t)(dn * declared_factor) : (uint32_t)real, crc, 0};
    buf z = {0};
    zip_build(&z, &e, 1, -1, 0, 0, 0);
    free(d);
    return save(path, &z);
}

static int zip_bomb_ratio(const char *path) { return zip_bomb(path, 0); }       /* honest sizes, 1000:1 */
static int zip_bomb_size_lie(const char *path) { return zip_bomb(path, 50); }   /* declares 50:1, inflates 1000:1 */

/* ---- audio headers (uploads, analysis) ----------------------------------------------------- */

/* A canonical PCM WAV (RIFF, "fmt " of 16 bytes, "data"), one field of which may lie: riff_size
 * and data_size 0 mean honest; fmt_size below 16 cuts the fmt chunk short. The samples are a
 * 220 Hz tone in every channel, frames = seconds·rate (honest whatever the header says). */
typedef struct wav_spec {
    uint32_t riff_size, fmt_size, rate, data_size;
    unsigned channels, bits;
    double seconds;
} wav_spec;

static void wav_samples(buf *b, const wav_spec *w, size_t frames)
{
    for (size_t i = 0; i < frames; i++) {
        double v = 0.3 * sin(2.0 * 3.14159265358979 * 220.0 * (double)i / (w->rate ? w->rate : 1));
        for (unsigned c = 0; c < w->channels; c++) {
            if (w->bits == 8) put8(b, (unsigned)(128 + (int)(v * 127)));
            else put16(b, (unsigned)(uint16_t)(int16_t)(v * 32767));
        }
    }
}

static int wav(const char *path, wav_spec w)
{
    size_t frames = (size_t)(w.seconds * w.rate);
    size_t data = frames * w.channels * (w.bits / 8);
    buf b = {0};
    puts_(&b, "RIFF"); put32(&b, w.riff_size ? w.riff_size : (uint32_t)(4 + 8 + w.fmt_size + 8 + data)); puts_(&b, "WAVE");
    buf fmt = {0};
    put16(&fmt, 1); put16(&fmt, w.channels); put32(&fmt, w.rate);
    put32(&fmt, w.rate * w.channels * (w.bits / 8)); put16(&fmt, w.channels * (w.bits / 8)); put16(&fmt, w.bits);
    puts_(&b, "fmt "); put32(&b, w.fmt_size); put(&b, fmt.p, w.fmt_size < fmt.n ? w.fmt_size : fmt.n);
    free(fmt.p);
    puts_(&b, "data"); put32(&b, w.data_size ? w.data_size : (uint32_t)data);
    wav_samples(&b, &w, frames);
    return save(path, &b);
}

/* wav_at(path, channels, rate, bits, seconds, riff_size, fmt_size, data_size): 0 sizes are honest */
static int wav_at(const char *path, unsigned ch, uint32_t rate, unsigned bits, double seconds, uint32_t riff, uint32_t fmt,
                  uint32_t data)
{
    return wav(path, (wav_spec){.riff_size = riff, .fmt_size = fmt ? fmt : 16, .rate = rate, .data_size = data,
                                .channels = ch, .bits = bits, .seconds = seconds});
}
static int wav_valid(const char *path) { return wav_at(path, 1, 16000, 16, 2.0, 0, 0, 0); }
static int wav_data_size_lie(const char *path) { return wav_at(path, 1, 16000, 16, 1.0, 0, 0, 0x7ffffff0u); }
static int wav_riff_size_lie(const char *path) { return wav_at(path, 1, 16000, 16, 1.0, 0xfffffff0u, 0, 0); }
static int wav_1024_channels(const char *path) { return wav_at(path, 1024, 8000, 16, 0.01, 0, 0, 0); }
static int wav_65535_channels(const char *path) { return wav_at(path, 65535, 8000, 16, 1.0 / 8000, 0, 0, 0); }
static int wav_384k_header(const char *path) { return wav_at(path, 1, 384000, 8, 4.0, 0, 0, 0); }
static int wav_10mhz_header(const char *path) { return wav_at(path, 1, 10000000, 8, 0.01, 0, 0, 0); }
static int wav_zero_rate(const char *path) { return wav_at(path, 1, 0, 16, 1.0, 0, 0, 0); }
static int wav_truncated_fmt(const char *path) { return wav_at(path, 1, 16000, 16, 1.0, 0, 8, 0); }
static int wav_zero_bits(const char *path) { return wav_at(path, 1, 16000, 0, 1.0, 0, 0, 0); }

/* RF64 (WAV's 64-bit form): the ds64 chunk claims 2^62 bytes of data and 2^61 frames (libsndfile
 * clamps them to the file: stored, with the "header claims more" warning). */
static int rf64_huge_ds64(const char *path)
{
    buf b = {0};
    puts_(&b, "RF64"); put32(&b, 0xffffffffu); puts_(&b, "WAVE");
    puts_(&b, "ds64"); put32(&b, 28); put64(&b, UINT64_C(1) << 62); put64(&b, UINT64_C(1) << 62); put64(&b, UINT64_C(1) << 61);
    put32(&b, 0);
    puts_(&b, "fmt "); put32(&b, 16); put16(&b, 1); put16(&b, 1); put32(&b, 16000); put32(&b, 32000); put16(&b, 2); put16(&b, 16);
    puts_(&b, "data"); put32(&b, 0xffffffffu);
    wav_spec w = {.rate = 16000, .channels = 1, .bits = 16};
    wav_samples(&b, &w, 8000);
    return save(path, &b);
}

/* A format's magic, then junk (a fixed pseudo-random sequence). */
static int magic_junk(const char *path, const char *magic, size_t magic_n)
{
    buf b = {0};
    put(&b, magic, magic_n);
    uint32_t x = 0x9e3779b9u;
    for (int i = 0; i < 4096; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; put8(&b, x & 0xff); }
    return save(path, &b);
}
static int ogg_magic(const char *path) { return magic_junk(path, "OggS\0\2\0\0\0\0\0\0\0\0", 14); }
static int flac_magic(const char *path) { return magic_junk(path, "fLaC\0\0\0\x22", 8); }
static int mp3_id3_magic(const char *path) { return magic_junk(path, "ID3\4\0\0\0\0\0\0", 10); }
static int flac_384k_silence(const char *path) { return hostile_write_flac_silence(path, 384000, 29.0); }

const hostile_audio HOSTILE_AUDIO[] = {
    {"wav_valid.wav", "target", 200, NULL, NULL, 0, wav_valid},
    {"wav_data_size_lie.wav", "target", 200, NULL, NULL, 1, wav_data_size_lie},
    {"wav_riff_size_lie.wav", "target", 200, NULL, NULL, 1, wav_riff_size_lie},
    {"wav_1024_channels.wav", "target", 400, "INVALID_FORMAT", "unsupported stream", 0, wav_1024_channels},
    {"wav_65535_channels.wav", "target", 400, "INVALID_FORMAT", NULL, 0, wav_65535_channels},
    {"wav_384k_header.wav", "reference", 413, "FILE_TOO_LARGE", NULL, 0, wav_384k_header},
    {"wav_10mhz_header.wav", "target", 400, "INVALID_FORMAT", NULL, 0, wav_10mhz_header},
    {"wav_zero_rate.wav", "target", 400, "INVALID_FORMAT", NULL, 0, wav_zero_rate},
    {"wav_truncated_fmt.wav", "target", 400, "INVALID_FORMAT", NULL, 0, wav_truncated_fmt},
    {"wav_zero_bits.wav", "target", 400, "INVALID_FORMAT", NULL, 0, wav_zero_bits},
    {"rf64_huge_ds64.wav", "target", 200, NULL, NULL, 1, rf64_huge_ds64},
    {"ogg_magic.ogg", "target", 400, "INVALID_FORMAT", NULL, 0, ogg_magic},
    {"flac_magic.flac", "target", 400, "INVALID_FORMAT", NULL, 0, flac_magic},
    {"mp3_id3_magic.mp3", "target", 400, "INVALID_FORMAT", NULL, 0, mp3_id3_magic},
    {"flac_384k_silence.flac", "reference", 413, "FILE_TOO_LARGE", NULL, 0, flac_384k_silence},
    {0},
};

/* Compressible pseudo-random bytes (values 0..15, each repeated `run` times): deflate makes about
 * 2:1 of them at run 1 and about 20:1 at run 64, inside the 100:1 ratio cap either way. */
static unsigned char *nibbles(size_t n, size_t run)
{
    unsigned char *p = malloc(n ? n : 1);
    uint32_t x = 0x2545f491u;
    for (size_t i = 0; p && i < n; i++) {
        if (i % run == 0) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; }
        p[i] = x & 15;
    }
    return p;
}

static int deflate_bytes(const unsigned char *in, size_t n, unsigned char **out, size_t *out_n)
{
    uLong cap = compressBound((uLong)n);
    *out = malloc(cap);
    z_stream z = {0};
    int ok = *out && deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    if (ok) {
        z.next_in = (unsigned char *)in; z.avail_in = (uInt)n; z.next_out = *out; z.avail_out = (uInt)cap;
        ok = deflate(&z, Z_FINISH) == Z_STREAM_END;
        *out_n = z.total_out;
        deflateEnd(&z);
    }
    return ok ? 0 : -1;
}

int hostile_write_zip_pair(const char *path, size_t bytes, int deflated, size_t run)
{
    unsigned char *data = nibbles(bytes, run ? run : 1), *packed = NULL;
    size_t packed_n = bytes;
    if (!data || (deflated && deflate_bytes(data, bytes, &packed, &packed_n) != 0)) { free(data); free(packed); return -1; }
    uint32_t crc = (uint32_t)crc32(0, data, (uInt)bytes);
    const unsigned char *body = deflated ? packed : data;
    zentry e[2] = {{"voice/model.pth", body, packed_n, deflated ? 8 : 0, (uint32_t)bytes, crc, 0},
                   {"voice/added_IVF1_Flat.index", body, packed_n, deflated ? 8 : 0, (uint32_t)bytes, crc, 0}};
    buf z = {0};
    zip_build(&z, e, 2, -1, 0, 0, 0);
    free(data);
    free(packed);
    return save(path, &z);
}

int hostile_write_zip_declared(const char *path, uint32_t csize, uint32_t usize)
{
    static const unsigned char few[16];
    zentry e[2] = {{"voice/model.pth", few, sizeof few, 8, usize, 0, csize},
                   {"voice/added_IVF1_Flat.index", few, sizeof few, 8, usize, 0, csize}};
    buf z = {0};
    zip_build(&z, e, 2, -1, 0, 0, 0);
    return save(path, &z);
}

const hostile_file HOSTILE_FILES[] = {
    {"pt_huge_stride.pth", HOSTILE_WEIGHTS, "malformed _rebuild_tensor_v2", pt_huge_stride},
    {"pt_huge_offset.pth", HOSTILE_WEIGHTS, "malformed _rebuild_tensor_v2", pt_huge_offset},
    {"pt_view_past_storage.pth", HOSTILE_WEIGHTS, "view exceeds its storage", pt_view_past_storage},
    {"pt_wrapping_span.pth", HOSTILE_WEIGHTS, "view exceeds its storage", pt_wrapping_span},
    {"pt_stride0_expansion.pth", HOSTILE_WEIGHTS, "expand to more than", pt_stride0_expansion},
    {"pt_exponential_dag.pth", HOSTILE_WEIGHTS, "expands to more than", pt_exponential_dag},
    {"pt_dict_dag.pth", HOSTILE_WEIGHTS, "expands to more than", pt_dict_dag},
    {"pt_cycles.pth", HOSTILE_WEIGHTS, NULL, pt_cycles},
    {"pt_zip64_wrap.pth", HOSTILE_WEIGHTS, "bad ZIP64 record", pt_zip64_wrap},
    {"pt_directory_count_lie.pth", HOSTILE_WEIGHTS, "implausible directory", pt_directory_count_lie},
    {"st_overlap.safetensors", HOSTILE_WEIGHTS, "share bytes", st_overlap},
    {"st_numel_wrap.safetensors", HOSTILE_WEIGHTS, "too large", st_numel_wrap},
    {"idx_lying_rows.index", HOSTILE_INDEX, "header claims", idx_lying_rows},
    {"idx_flat_lying_rows.index", HOSTILE_INDEX, "header claims", idx_flat_lying_rows},
    {"idx_nlist_lie.index", HOSTILE_INDEX, "inverted lists claimed", idx_nlist_lie},
    {"idx_list_size_wrap.index", HOSTILE_INDEX, "inverted lists are damaged", idx_list_size_wrap},
    {"trained_IVF1_Flat_nprobe_1_empty.index", HOSTILE_INDEX, "added_IVF", idx_trained_empty},
    {"zip_bomb_ratio.zip", HOSTILE_ZIP, "zip bomb", zip_bomb_ratio},
    {"zip_bomb_size_lie.zip", HOSTILE_ZIP, "inflates past its declared size", zip_bomb_size_lie},
    {0},
};

int hostile_write_all(const char *dir)
{
    for (const hostile_file *h = HOSTILE_FILES; h->name; h++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, h->name);
        if (h->write(path) != 0) { fprintf(stderr, "hostile: cannot write %s\n", path); return -1; }
    }
    for (const hostile_audio *h = HOSTILE_AUDIO; h->name; h++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, h->name);
        if (h->write(path) != 0) { fprintf(stderr, "hostile: cannot write %s\n", path); return -1; }
    }
    return 0;
}

int hostile_write_flac_silence(const char *path, int rate, double seconds)
{
    SF_INFO si = {.samplerate = rate, .channels = 1, .format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &si);
    if (!f) return -1;
    enum { BLOCK = 1 << 16 };
    static const short zeros[BLOCK];
    sf_count_t left = (sf_count_t)(seconds * rate);
    /* a little noise at the start so it is not all-digital-silence */
    short noise[64];
    for (int i = 0; i < 64; i++) noise[i] = (short)((i * 7919) % 200 - 100);
    left -= sf_writef_short(f, noise, 64);
    while (left > 0) {
        sf_count_t n = left < BLOCK ? left : BLOCK;
        if (sf_writef_short(f, zeros, n) != n) { sf_close(f); return -1; }
        left -= n;
    }
    return sf_close(f) == 0 ? 0 : -1;
}
