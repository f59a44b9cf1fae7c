/*
 * Test support: audio files generated at test time (no binary fixtures in the repo).
 *
 *   test_audio_tone(path, rate, channels, seconds, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5)
 *     kinds: "sine" (220 Hz), "noise" (white, seeded), "silence", "clipped" (sine ×4 hard-clipped)
 *   test_audio_speech(path, seconds)   espeak-ng speech (22.05 kHz mono WAV) at least `seconds` long
 *   test_file_truncate(path, fraction) keeps the first fraction of the bytes
 *   test_file_random(path, bytes)      random bytes (a "file" that is not audio)
 *   test_file_sha1_b64(path, off, len) base64 sha1 of a byte range (tus Upload-Checksum)
 * All return 0 on success.
 */
#ifndef VC_TEST_AUDIO_H
#define VC_TEST_AUDIO_H

#include <stddef.h>

int test_audio_tone(const char *path, int rate, int channels, double seconds, int sf_format, const char *kind,
                    double amplitude);
int test_audio_speech(const char *path, double seconds);
int test_file_truncate(const char *path, double fraction);
int test_file_random(const char *path, size_t bytes);
/* Reads a whole file (malloc'd, *len bytes, NUL-terminated for string use); NULL on failure. */
char *test_file_read(const char *path, size_t *len);
int test_file_sha1_b64(const char *path, size_t off, size_t len, char out[64]);

#endif
