/*
 * Hostile files, generated (never hand-picked bytes only): one table of every attack class of
 * issue 17 on the model loaders — integer wrap-around in views and ZIP64 records, exponential
 * and cyclic pickles, lying .index headers, the empty trained_IVF index, zip bombs, overlapping
 * safetensors ranges — and audio decompression bombs. Used by the unit tests (tests/nn,
 * tests/models/rvc), the API tests (tests/api) and the fuzzers (tests/fuzz/make_seeds.c writes
 * them as seeds).
 *
 *   hostile_write_all("/tmp/dir");                  // every file of HOSTILE_FILES into dir
 *   for (const hostile_file *h = HOSTILE_FILES; h->name; h++) ...
 */
#ifndef VC_TEST_HOSTILE_H
#define VC_TEST_HOSTILE_H

#include <stddef.h>
#include <stdint.h>

typedef enum hostile_loader {
    HOSTILE_WEIGHTS, /* nn_weights_open (.pth / .safetensors) */
    HOSTILE_INDEX,   /* rvc_index_load (.index) */
    HOSTILE_ZIP,     /* rvc_import_unzip (voice .zip) */
} hostile_loader;

typedef struct hostile_file {
    const char *name;     /* file name, its extension as a user would upload it */
    hostile_loader loader;
    const char *expect;   /* a substring of the refusal message; NULL = loads, as inert data */
    int (*write)(const char *path);
} hostile_file;

extern const hostile_file HOSTILE_FILES[]; /* terminated by {0} */

/* Hostile audio headers (WAV/RF64 built field by field, FLAC, Ogg/MP3/FLAC magic on junk), each
 * with what the upload path answers when it is posted for `purpose`: code NULL = stored (status
 * 200, with a warning when warns), else status + the brief's error code. expect: a substring
 * of the decoder's message (NULL: any). */
typedef struct hostile_audio {
    const char *name;
    const char *purpose; /* "target" or "reference" */
    long status;
    const char *code;
    const char *expect;
    int warns;
    int (*write)(const char *path);
} hostile_audio;

extern const hostile_audio HOSTILE_AUDIO[]; /* terminated by {0} */

/* Writes every file of HOSTILE_FILES and HOSTILE_AUDIO into dir (which must exist); 0 or -1. */
int hostile_write_all(const char *dir);

/* A FLAC of silence (mono, 16-bit) at rate for seconds: a few kB that decode to frames·4 bytes. */
int hostile_write_flac_silence(const char *path, int rate, double seconds);

/* Zips past the total uncompressed cap without any entry tripping the ratio cap:
 * a voice .zip of a .pth and an .index, each `bytes` of compressible data (about 2:1 at run 1,
 * 20:1 at run 64: bytes repeated run times), deflated (deflated = 1) or stored; the .pth is no
 * voice, so an import extracts both, then refuses it (the API tests' slow import); */
int hostile_write_zip_pair(const char *path, size_t bytes, int deflated, size_t run);
/* and one whose directory declares both entries as csize bytes expanding to usize (choose
 * usize/csize within the ratio cap) while holding 16 bytes each: refused from the directory. */
int hostile_write_zip_declared(const char *path, uint32_t csize, uint32_t usize);

#endif
