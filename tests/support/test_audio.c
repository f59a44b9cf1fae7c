/*
 * Generated test audio (see test_audio.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sndfile.h>

#include "test_audio.h"

static float sample_for(const char *kind, size_t i, int rate, double amplitude, unsigned *seed)
{
    double t = (double)i / rate;
    if (!strcmp(kind, "silence")) return 0.0f;
    if (!strcmp(kind, "noise")) return (float)(amplitude * (2.0 * rand_r(seed) / RAND_MAX - 1.0));
    double s = amplitude * sin(2 * M_PI * 220.0 * t);
    if (!strcmp(kind, "clipped")) {
        s *= 4;
        s = s > 1 ? 1 : s < -1 ? -1 : s;
    }
    return (float)s;
}

int test_audio_tone(const char *path, int rate, int channels, double seconds, int sf_format, const char *kind,
                    double amplitude)
{
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = sf_format};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) return -1;
    size_t frames = (size_t)(seconds * rate), block = 4096;
    float *buf = malloc(sizeof(float) * block * (size_t)channels);
    unsigned seed = 1234;
    for (size_t done = 0; done < frames;) {
        size_t n = frames - done < block ? frames - done : block;
        for (size_t i = 0; i < n; i++)
            for (int c = 0; c < channels; c++) buf[i * (size_t)channels + (size_t)c] = sample_for(kind, done + i, rate, amplitude, &seed);
        sf_writef_float(f, buf, (sf_count_t)n);
        done += n;
    }
    free(buf);
    return sf_close(f) ? -1 : 0;
}

int test_audio_speech(const char *path, double seconds)
{
    static const char TEXT[] =
        "The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore. "
        "A journey of a thousand miles begins with a single step. ";
    char text[4096] = "";
    int repeats = (int)(seconds / 6.0) + 1; /* espeak reads one TEXT in about 7 s */
    for (int i = 0; i < repeats && strlen(text) + sizeof TEXT < sizeof text; i++) strcat(text, TEXT);
    char cmd[5000];
    snprintf(cmd, sizeof cmd, "espeak-ng -s 160 -w '%s' \"%s\" 2>/dev/null", path, text);
    if (system(cmd) != 0) return -1;
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) return -1;
    sf_close(f);
    return (double)info.frames / info.samplerate >= seconds ? 0 : -1;
}

int test_file_truncate(const char *path, double fraction)
{
    struct stat st;
    if (stat(path, &st)) return -1;
    return truncate(path, (off_t)((double)st.st_size * fraction));
}

int test_file_random(const char *path, size_t bytes)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    unsigned seed = 99;
    for (size_t i = 0; i < bytes; i++) fputc(rand_r(&seed) & 0xff, f);
    return fclose(f);
}

char *test_file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) {
        p[n] = '\0'; /* callers may read it as a string (curl's http_code file) */
        *len = (size_t)n;
    }
    return p;
}

int test_file_sha1_b64(const char *path, size_t off, size_t len, char out[64])
{
    size_t n;
    char *data = test_file_read(path, &n);
    if (!data || off + len > n) {
        free(data);
        return -1;
    }
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    EVP_Digest(data + off, len, d, &dl, EVP_sha1(), NULL);
    free(data);
    EVP_EncodeBlock((unsigned char *)out, d, (int)dl);
    return 0;
}
