/*
 * Audio file I/O: decode anything libsndfile reads (WAV, FLAC, MP3, Ogg) into mono float32,
 * resample with soxr, and write WAV (libsndfile) or MP3 (LAME) atomically.
 *
 * Decoding goes block by block so a long multichannel file never needs a second full-size
 * interleaved buffer. libsndfile 1.2 hides two kinds of damage that we surface as warnings:
 * a WAV header that overstates its data (silently clamped; only its log says "should be") and
 * a stream that breaks off (fewer frames than the header promised).
 */
#include "audio/audio.h"

#include <errno.h>
#include <fcntl.h>
#include <lame.h>
#include <soxr.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { DECODE_BLOCK_FRAMES = 65536 };

static void format_name(int sf_format, char out[16])
{
    const char *name = "audio";
    switch (sf_format & SF_FORMAT_TYPEMASK) {
    case SF_FORMAT_WAV: case SF_FORMAT_WAVEX: case SF_FORMAT_RF64: name = "wav"; break;
    case SF_FORMAT_FLAC: name = "flac"; break;
    case SF_FORMAT_MPEG: name = "mp3"; break;
    case SF_FORMAT_OGG: name = (sf_format & SF_FORMAT_SUBMASK) == SF_FORMAT_OPUS ? "opus" : "ogg"; break;
    case SF_FORMAT_AIFF: name = "aiff"; break;
    default: break;
    }
    snprintf(out, 16, "%s", name);
}

/* Opens path for reading; maps libsndfile's misleading failures to INVALID_FORMAT. */
static SNDFILE *open_for_read(const char *path, SF_INFO *si, vc_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (st.st_size == 0) {
        vc_fail(err, VC_ERR_INVALID_FORMAT, "the file is empty (0 bytes)");
        return NULL;
    }
    memset(si, 0, sizeof *si);
    SNDFILE *f = sf_open(path, SFM_READ, si);
    if (!f) {
        vc_fail(err, VC_ERR_INVALID_FORMAT, "not a recognised audio file (WAV, FLAC, MP3 or OGG expected)");
        return NULL;
    }
    if (si->channels < 1 || si->channels > 64 || si->samplerate < 1000 || si->samplerate > 384000) {
        sf_close(f);
        vc_fail(err, VC_ERR_INVALID_FORMAT, "unsupported stream: %d channels at %d Hz", si->channels, si->samplerate);
        return NULL;
    }
    return f;
}

static void fill_info(SNDFILE *f, const SF_INFO *si, audio_file_info *info)
{
    memset(info, 0, sizeof *info);
    format_name(si->format, info->format);
    info->channels = si->channels;
    info->sample_rate = si->samplerate;
    info->duration_seconds = (double)si->frames / si->samplerate;
    char log[4096] = "";
    sf_command(f, SFC_GET_LOG_INFO, log, sizeof log);
    if (strstr(log, "should be")) {
        info->header_overstated = 1;
        snprintf(info->warning, sizeof info->warning,
                 "the file header claims more audio than the file contains; it may be truncated");
    }
}

int audio_probe_file(const char *path, audio_file_info *info, vc_error *err)
{
    SF_INFO si;
    SNDFILE *f = open_for_read(path, &si, err);
    if (!f) return -1;
    fill_info(f, &si, info);
    sf_close(f);
    return 0;
}

long long audio_decode_budget(double max_seconds)
{
    return (long long)(max_seconds * AUDIO_BUDGET_RATE * AUDIO_ESTIMATE_SLACK);
}

vc_code audio_header_check(const audio_file_info *info, double max_seconds)
{
    if (!(info->duration_seconds <= max_seconds * AUDIO_ESTIMATE_SLACK)) return VC_ERR_AUDIO_TOO_LONG;
    double frames = info->duration_seconds * info->sample_rate;
    return frames <= (double)audio_decode_budget(max_seconds) ? VC_OK : VC_ERR_FILE_TOO_LARGE;
}

static int too_long(vc_error *err, double frames, int rate)
{
    return vc_fail(err, VC_ERR_AUDIO_TOO_LONG, "the audio is %.0f s at %d Hz, %.0f MB decoded: more than the studio decodes "
                   "at once (%.0f minutes at 48 kHz); shorten it or lower its sample rate", frames / rate, rate,
                   frames * 4 / (1024.0 * 1024.0), (double)AUDIO_MAX_DECODE_FRAMES / 48000 / 60);
}

/* Reads every block, averaging channels into out; grows out as needed (MP3 counts are estimates,
 * headers may lie): the first allocation is bounded, and decoding stops at the frame cap. */
static int read_mono(SNDFILE *f, const SF_INFO *si, long long max_frames, audio_buffer *out, vc_error *err)
{
    size_t cap = si->frames > 0 ? (size_t)si->frames : DECODE_BLOCK_FRAMES;
    if (cap > (1u << 22)) cap = 1u << 22;
    float *block = malloc(sizeof(float) * DECODE_BLOCK_FRAMES * si->channels);
    out->samples = malloc(sizeof(float) * cap);
    if (!block || !out->samples) {
        free(block);
        return vc_fail(err, VC_ERR_NOMEM, "out of memory decoding %zu frames", cap);
    }
    for (;;) {
        sf_count_t n = sf_readf_float(f, block, DECODE_BLOCK_FRAMES);
        if (n <= 0) break;
        if ((long long)(out->frames + (size_t)n) > max_frames && max_frames < AUDIO_MAX_DECODE_FRAMES) {
            free(block);
            return vc_fail(err, VC_ERR_AUDIO_TOO_LONG, "decoding stopped after %.0f s at %d Hz: the file holds more audio "
                           "than its header announced and than this use allows (%.0f MB decoded); shorten it",
                           (double)out->frames / si->samplerate, si->samplerate, (double)max_frames * 4 / (1024.0 * 1024.0));
        }
        if ((long long)(out->frames + (size_t)n) > AUDIO_MAX_DECODE_FRAMES) {
            free(block);
            return too_long(err, (double)si->frames > (double)(out->frames + (size_t)n) ? (double)si->frames
                                                                                        : (double)(out->frames + (size_t)n),
                            si->samplerate);
        }
        if (out->frames + (size_t)n > cap) {
            size_t ncap = (cap + (size_t)n) * 2;
            float *grown = realloc(out->samples, sizeof(float) * ncap);
            if (!grown) { free(block); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
            out->samples = grown;
            cap = ncap;
        }
        for (sf_count_t i = 0; i < n; i++) {
            float sum = 0.f;
            for (int c = 0; c < si->channels; c++) sum += block[i * si->channels + c];
            out->samples[out->frames + i] = sum / (float)si->channels;
        }
        out->frames += (size_t)n;
    }
    free(block);
    if (sf_error(f) != SF_ERR_NO_ERROR)
        return vc_fail(err, VC_ERR_CORRUPT, "the audio stream is damaged after %.1f s: %s",
                       (double)out->frames / si->samplerate, sf_strerror(f));
    return 0;
}

int audio_decode_file(const char *path, audio_buffer *out, audio_file_info *info, vc_error *err)
{
    return audio_decode_file_max(path, AUDIO_MAX_DECODE_FRAMES, out, info, err);
}

int audio_decode_file_max(const char *path, long long max_frames, audio_buffer *out, audio_file_info *info,
                          vc_error *err)
{
    if (max_frames <= 0 || max_frames > AUDIO_MAX_DECODE_FRAMES) max_frames = AUDIO_MAX_DECODE_FRAMES;
    memset(out, 0, sizeof *out);
    SF_INFO si;
    SNDFILE *f = open_for_read(path, &si, err);
    if (!f) return -1;
    audio_file_info local;
    audio_file_info *inf = info ? info : &local;
    fill_info(f, &si, inf);
    out->sample_rate = si.samplerate;
    if (si.frames > AUDIO_MAX_DECODE_FRAMES) { /* refused from the header, before any decoding */
        sf_close(f);
        return too_long(err, (double)si.frames, si.samplerate);
    }
    int rc = read_mono(f, &si, max_frames, out, err);
    sf_close(f);
    if (rc != 0) { audio_buffer_free(out); return -1; }
    if (out->frames == 0) { audio_buffer_free(out); return vc_fail(err, VC_ERR_INVALID_FORMAT, "the file contains no audio"); }
    /* A stream that ends well before its header says (more than one MP3 frame short) was cut off. */
    if (si.frames > 0 && (sf_count_t)out->frames + 1152 < si.frames && !inf->header_overstated) {
        inf->truncated = 1;
        snprintf(inf->warning, sizeof inf->warning, "the file ends early: %.1f s decoded of %.1f s announced",
                 (double)out->frames / si.samplerate, (double)si.frames / si.samplerate);
    }
    inf->duration_seconds = (double)out->frames / si.samplerate;
    return 0;
}

int audio_resample(const audio_buffer *in, int rate, audio_buffer *out, vc_error *err)
{
    memset(out, 0, sizeof *out);
    if (rate <= 0 || in->sample_rate <= 0) return vc_fail(err, VC_ERR_INVALID_REQUEST, "invalid sample rate %d", rate);
    size_t cap = (size_t)((double)in->frames * rate / in->sample_rate) + 16;
    out->samples = malloc(sizeof(float) * cap);
    if (!out->samples) return vc_fail(err, VC_ERR_NOMEM, "out of memory resampling");
    out->sample_rate = rate;
    if (rate == in->sample_rate) {
        memcpy(out->samples, in->samples, sizeof(float) * in->frames);
        out->frames = in->frames;
        return 0;
    }
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    size_t done = 0;
    soxr_error_t e = soxr_oneshot(in->sample_rate, rate, 1, in->samples, in->frames, NULL,
                                  out->samples, cap, &done, NULL, &q, NULL);
    if (e) { audio_buffer_free(out); return vc_fail(err, VC_ERR_INTERNAL, "resampling failed: %s", e); }
    out->frames = done;
    return 0;
}

/* A unique temp file in the same directory (so rename() is atomic): concurrent writers of the
 * same path (two first downloads of one MP3) never share it. Returns an open fd or -1. The name
 * keeps the ".tmp." marker the startup sweep looks for. */
static int temp_open(const char *path, char *tmp, size_t n)
{
    if ((size_t)snprintf(tmp, n, "%s.tmp.XXXXXX", path) >= n) { errno = ENAMETOOLONG; return -1; }
    int fd = mkstemp(tmp);
    if (fd >= 0) fchmod(fd, 0644);
    return fd;
}

static int commit_temp(const char *tmp, const char *path, vc_error *err)
{
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        if (fd >= 0) close(fd);
        unlink(tmp);
        return vc_fail(err, VC_ERR_IO, "cannot flush %s: %s", path, strerror(errno));
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return vc_fail(err, VC_ERR_IO, "cannot finish %s: %s", path, strerror(errno));
    }
    return 0;
}

int audio_write_wav(const char *path, const audio_buffer *in, int float32, vc_error *err)
{
    char tmp[4096];
    int fd = temp_open(path, tmp, sizeof tmp);
    if (fd < 0) return vc_fail(err, VC_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    SF_INFO si = {.samplerate = in->sample_rate, .channels = 1,
                  .format = SF_FORMAT_WAV | (float32 ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16)};
    SNDFILE *f = sf_open_fd(fd, SFM_WRITE, &si, SF_TRUE);
    if (!f) { close(fd); unlink(tmp); return vc_fail(err, VC_ERR_IO, "cannot create %s: %s", path, sf_strerror(NULL)); }
    if (!float32) sf_command(f, SFC_SET_CLIPPING, NULL, SF_TRUE);
    sf_count_t n = sf_writef_float(f, in->samples, (sf_count_t)in->frames);
    int close_rc = sf_close(f);
    if (n != (sf_count_t)in->frames || close_rc != 0) {
        unlink(tmp);
        return vc_fail(err, VC_ERR_IO, "writing %s failed (disk full?)", path);
    }
    return commit_temp(tmp, path, err);
}

static int lame_encode_all(lame_global_flags *lame, FILE *fp, const audio_buffer *in, vc_error *err)
{
    enum { CHUNK = 8192 };
    unsigned char mp3[CHUNK * 5 / 4 + 7200];
    for (size_t pos = 0; pos < in->frames; pos += CHUNK) {
        int n = (int)((in->frames - pos) < CHUNK ? in->frames - pos : CHUNK);
        int bytes = lame_encode_buffer_ieee_float(lame, in->samples + pos, NULL, n, mp3, sizeof mp3);
        if (bytes < 0 || fwrite(mp3, 1, (size_t)bytes, fp) != (size_t)bytes)
            return vc_fail(err, VC_ERR_IO, "MP3 encoding failed");
    }
    int bytes = lame_encode_flush(lame, mp3, sizeof mp3);
    if (bytes < 0 || fwrite(mp3, 1, (size_t)bytes, fp) != (size_t)bytes) return vc_fail(err, VC_ERR_IO, "MP3 flush failed");
    lame_mp3_tags_fid(lame, fp); /* needs "w+b": it seeks back to write the LAME tag */
    return 0;
}

int audio_write_mp3(const char *path, const audio_buffer *in, int kbps, vc_error *err)
{
    char tmp[4096];
    int fd = temp_open(path, tmp, sizeof tmp);
    FILE *fp = fd >= 0 ? fdopen(fd, "w+b") : NULL;
    if (!fp) {
        int e = errno;
        if (fd >= 0) { close(fd); unlink(tmp); }
        return vc_fail(err, VC_ERR_IO, "cannot create %s: %s", path, strerror(e));
    }
    lame_global_flags *lame = lame_init();
    int rc = -1;
    if (!lame) { vc_fail(err, VC_ERR_NOMEM, "cannot start the MP3 encoder"); goto done; }
    lame_set_num_channels(lame, 1);
    lame_set_mode(lame, MONO);
    lame_set_in_samplerate(lame, in->sample_rate);
    lame_set_brate(lame, kbps > 0 ? kbps : 192);
    lame_set_write_id3tag_automatic(lame, 0);
    if (lame_init_params(lame) < 0) { vc_fail(err, VC_ERR_INVALID_REQUEST, "MP3 encoder rejected %d Hz", in->sample_rate); goto done; }
    rc = lame_encode_all(lame, fp, in, err);
done:
    if (lame) lame_close(lame);
    if (fclose(fp) != 0 && rc == 0) rc = vc_fail(err, VC_ERR_IO, "writing %s failed (disk full?)", path);
    if (rc != 0) { unlink(tmp); return -1; }
    return commit_temp(tmp, path, err);
}

void audio_buffer_free(audio_buffer *b)
{
    if (!b) return;
    free(b->samples);
    b->samples = NULL;
    b->frames = 0;
}

int audio_peaks(const audio_buffer *in, size_t n_buckets, float *peaks, vc_error *err)
{
    if (n_buckets == 0) return vc_fail(err, VC_ERR_INVALID_REQUEST, "need at least one bucket");
    for (size_t b = 0; b < n_buckets; b++) {
        size_t lo = b * in->frames / n_buckets, hi = (b + 1) * in->frames / n_buckets;
        float mn = 0.f, mx = 0.f;
        for (size_t i = lo; i < hi; i++) {
            if (in->samples[i] < mn) mn = in->samples[i];
            if (in->samples[i] > mx) mx = in->samples[i];
        }
        peaks[2 * b] = mn;
        peaks[2 * b + 1] = mx;
    }
    return 0;
}
