/* Decoding by content, bad inputs, resampling and atomic WAV/MP3 writing (src/audio/audio_io.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/audio.h"
#include "support/test_audio.h"

static char dir[] = "/tmp/vcs-audio-io-XXXXXX";

static const char *path_in(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static int count_entries(const char *d)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "ls -A %s | wc -l", d);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1) n = -1;
    if (p) pclose(p);
    return n;
}

static void decodes_every_format_and_rate(void **state)
{
    static const struct { int format; int rate; int channels; } cases[] = {
        {SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1},   {SF_FORMAT_WAV | SF_FORMAT_PCM_24, 16000, 2},
        {SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 6},   {SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 2},
        {SF_FORMAT_OGG | SF_FORMAT_VORBIS, 48000, 1}, {SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 2},
        {SF_FORMAT_WAV | SF_FORMAT_PCM_16, 96000, 1},  {SF_FORMAT_WAV | SF_FORMAT_PCM_16, 192000, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = path_in("in.audio"); /* extension deliberately uninformative */
        assert_int_equal(test_audio_tone(p, cases[i].rate, cases[i].channels, 2.0, cases[i].format, "sine", 0.5), 0);
        audio_buffer b;
        audio_file_info info;
        vc_error err;
        assert_int_equal(audio_decode_file(p, &b, &info, &err), 0);
        assert_int_equal(b.sample_rate, cases[i].rate);
        assert_int_equal(info.channels, cases[i].channels);
        assert_true(fabs(info.duration_seconds - 2.0) < 0.1);
        float peak = 0;
        for (size_t k = 0; k < b.frames; k++) peak = fmaxf(peak, fabsf(b.samples[k]));
        assert_true(peak > 0.4f && peak < 0.6f); /* channels averaged, not summed */
        assert_int_equal(info.truncated, 0);
        audio_buffer_free(&b);
    }
}

static void rejects_what_is_not_audio(void **state)
{
    vc_error err;
    audio_buffer b;
    FILE *f = fopen(path_in("empty.wav"), "wb");
    fclose(f);
    assert_int_equal(audio_decode_file(path_in("empty.wav"), &b, NULL, &err), -1);
    assert_int_equal(err.code, VC_ERR_INVALID_FORMAT);
    assert_int_equal(test_file_random(path_in("random.mp3"), 50000), 0);
    assert_int_equal(audio_decode_file(path_in("random.mp3"), &b, NULL, &err), -1);
    assert_int_equal(err.code, VC_ERR_INVALID_FORMAT);
    assert_null(strstr(err.message, "pipe")); /* not libsndfile's misleading message */
    f = fopen(path_in("text.wav"), "w");
    fputs("RIFF this is only text pretending to be a wav file", f);
    fclose(f);
    assert_int_equal(audio_decode_file(path_in("text.wav"), &b, NULL, &err), -1);
    assert_int_equal(err.code, VC_ERR_INVALID_FORMAT);
    assert_int_equal(audio_probe_file(path_in("missing.wav"), &(audio_file_info){0}, &err), -1);
}

static void reports_truncated_and_lying_files(void **state)
{
    vc_error err;
    audio_buffer b;
    audio_file_info info;
    const char *p = path_in("cut.wav");
    assert_int_equal(test_audio_tone(p, 16000, 1, 4.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5), 0);
    assert_int_equal(test_file_truncate(p, 0.5), 0); /* header still promises 4 s */
    assert_int_equal(audio_decode_file(p, &b, &info, &err), 0);
    assert_true(info.header_overstated || info.truncated);
    assert_true(strlen(info.warning) > 0);
    assert_true(info.duration_seconds < 2.2);
    audio_buffer_free(&b);
}

static void reports_truncated_mp3(void **state)
{
    vc_error err;
    audio_buffer b;
    audio_file_info info;
    assert_int_equal(test_audio_tone(path_in("m.wav"), 44100, 1, 6.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5), 0);
    assert_int_equal(audio_decode_file(path_in("m.wav"), &b, NULL, &err), 0);
    assert_int_equal(audio_write_mp3(path_in("cut.mp3"), &b, 128, &err), 0);
    audio_buffer_free(&b);
    assert_int_equal(test_file_truncate(path_in("cut.mp3"), 0.5), 0); /* libsndfile decodes this without error */
    assert_int_equal(audio_decode_file(path_in("cut.mp3"), &b, &info, &err), 0);
    printf("# truncated mp3: %.2f s decoded, truncated=%d, warning: %s\n", info.duration_seconds, info.truncated,
           info.warning);
    assert_int_equal(info.truncated, 1);
    assert_true(strlen(info.warning) > 0);
    assert_true(info.duration_seconds < 3.5);
    audio_buffer_free(&b);
}

/* Garbage in the middle of a FLAC stream: libsndfile stops decoding there without an error, so
 * it surfaces as a short read against STREAMINFO's length (flag + warning), never as a crash or
 * as silently complete audio. */
static void flags_flac_damaged_mid_stream(void **state)
{
    const char *p = path_in("bad.flac");
    assert_int_equal(test_audio_tone(p, 44100, 1, 4.0, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, "noise", 0.5), 0);
    size_t len;
    char *bytes = test_file_read(p, &len);
    assert_non_null(bytes);
    unsigned long long seed = 3;
    for (size_t i = len / 2; i < len / 2 + 4000 && i < len; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        bytes[i] = (char)(seed >> 56);
    }
    FILE *fp = fopen(p, "wb");
    assert_non_null(fp);
    fwrite(bytes, 1, len, fp);
    fclose(fp);
    free(bytes);
    audio_buffer b = {0};
    audio_file_info info;
    vc_error err;
    int rc = audio_decode_file(p, &b, &info, &err);
    if (rc == 0) {
        assert_int_equal(info.truncated, 1);
        assert_true(info.duration_seconds < 3.0);
        audio_buffer_free(&b);
    } else {
        assert_int_equal(err.code, VC_ERR_CORRUPT);
    }
}

/* A 2-hour 8 kHz WAV as a sparse file (silence, no disk use): probe reads only the header. */
static void probes_a_two_hour_file_without_decoding(void **state)
{
    const char *p = path_in("long.wav");
    SF_INFO si = {.samplerate = 8000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(p, SFM_WRITE, &si);
    assert_non_null(f);
    short zero[8000] = {0};
    sf_write_short(f, zero, 8000); /* a real 1 s data chunk, then the header is patched to 2 h */
    sf_close(f);
    FILE *fp = fopen(p, "r+b");
    assert_non_null(fp);
    unsigned int data_bytes = 7200u * 8000u * 2u, riff = data_bytes + 36u;
    unsigned char le[4];
    for (int i = 0; i < 4; i++) le[i] = (unsigned char)(riff >> (8 * i));
    fseek(fp, 4, SEEK_SET);
    fwrite(le, 1, 4, fp);
    for (int i = 0; i < 4; i++) le[i] = (unsigned char)(data_bytes >> (8 * i));
    fseek(fp, 40, SEEK_SET); /* the canonical 44-byte header: "data" at 36, its size at 40 */
    fwrite(le, 1, 4, fp);
    fclose(fp);
    assert_int_equal(truncate(p, 44 + (off_t)data_bytes), 0);
    audio_file_info info;
    vc_error err;
    assert_int_equal(audio_probe_file(p, &info, &err), 0);
    assert_true(fabs(info.duration_seconds - 7200.0) < 1.0);
    assert_int_equal(info.sample_rate, 8000);
    unlink(p);
}

/* A caller's cap stops decoding at that many frames, whatever the header says: the upload path
 * passes each purpose's budget, so no file decodes to more than an honest one of that purpose. */
static void decoding_stops_at_the_callers_cap(void **state)
{
    const char *p = path_in("capped.wav");
    audio_buffer b = {.sample_rate = 16000, .frames = 16000 * 5};
    b.samples = calloc(b.frames, sizeof(float));
    assert_non_null(b.samples);
    for (size_t i = 0; i < b.frames; i++) b.samples[i] = 0.25f * sinf((float)i * 0.07f);
    vc_error err;
    assert_int_equal(audio_write_wav(p, &b, 0, &err), 0);
    free(b.samples);
    audio_buffer out;
    audio_file_info info;
    assert_int_equal(audio_decode_file_max(p, 16000 * 2, &out, &info, &err), -1); /* 5 s over a 2 s cap */
    assert_int_equal(err.code, VC_ERR_AUDIO_TOO_LONG);
    assert_non_null(strstr(err.message, "decoding stopped"));
    assert_int_equal(audio_decode_file_max(p, 16000 * 6, &out, &info, &err), 0); /* under the cap: whole */
    assert_int_equal(out.frames, 16000 * 5);
    audio_buffer_free(&out);
    unlink(p);
}

static void resamples_to_the_requested_rate(void **state)
{
    vc_error err;
    audio_buffer b, r;
    assert_int_equal(test_audio_tone(path_in("r.wav"), 44100, 1, 1.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5), 0);
    assert_int_equal(audio_decode_file(path_in("r.wav"), &b, NULL, &err), 0);
    assert_int_equal(audio_resample(&b, 16000, &r, &err), 0);
    assert_int_equal(r.sample_rate, 16000);
    assert_true(labs((long)r.frames - 16000) <= 2);
    double e_in = 0, e_out = 0;
    for (size_t i = 0; i < b.frames; i++) e_in += b.samples[i] * b.samples[i];
    for (size_t i = 0; i < r.frames; i++) e_out += r.samples[i] * r.samples[i];
    assert_true(fabs(e_in / b.frames - e_out / r.frames) < 0.01); /* a 220 Hz tone keeps its power */
    audio_buffer_free(&b);
    audio_buffer_free(&r);
}

static void writes_wav_and_mp3_that_read_back(void **state)
{
    vc_error err;
    audio_buffer b, back;
    audio_file_info info;
    assert_int_equal(test_audio_tone(path_in("src.wav"), 24000, 1, 3.0, SF_FORMAT_WAV | SF_FORMAT_FLOAT, "sine", 0.5), 0);
    assert_int_equal(audio_decode_file(path_in("src.wav"), &b, NULL, &err), 0);
    assert_int_equal(audio_write_wav(path_in("out.wav"), &b, 0, &err), 0);
    assert_int_equal(audio_decode_file(path_in("out.wav"), &back, &info, &err), 0);
    assert_int_equal(back.frames, b.frames);
    assert_string_equal(info.format, "wav");
    audio_buffer_free(&back);
    assert_int_equal(audio_write_mp3(path_in("out.mp3"), &b, 128, &err), 0);
    assert_int_equal(audio_decode_file(path_in("out.mp3"), &back, &info, &err), 0);
    assert_string_equal(info.format, "mp3");
    assert_true(fabs(info.duration_seconds - 3.0) < 0.1); /* the LAME tag makes the length exact-ish */
    audio_buffer_free(&back);
    /* a failed write leaves no file and no temp file behind */
    int before = count_entries(dir);
    assert_int_equal(audio_write_wav("/nonexistent-dir/x.wav", &b, 0, &err), -1);
    assert_int_equal(err.code, VC_ERR_IO);
    assert_int_equal(count_entries(dir), before);
    audio_buffer_free(&b);
}

static void peaks_bound_the_signal(void **state)
{
    float s[8] = {0.1f, -0.5f, 0.3f, 0.2f, -0.1f, 0.9f, -0.9f, 0.0f};
    audio_buffer b = {s, 8, 8000};
    float p[4];
    vc_error err;
    assert_int_equal(audio_peaks(&b, 2, p, &err), 0);
    assert_true(p[0] == -0.5f && p[1] == 0.3f && p[2] == -0.9f && p[3] == 0.9f);
    assert_int_equal(audio_peaks(&b, 0, p, &err), -1);
}

static int setup(void **state) { return mkdtemp(dir) ? 0 : -1; }
static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decodes_every_format_and_rate), cmocka_unit_test(rejects_what_is_not_audio),
        cmocka_unit_test(reports_truncated_and_lying_files), cmocka_unit_test(resamples_to_the_requested_rate),
        cmocka_unit_test(writes_wav_and_mp3_that_read_back), cmocka_unit_test(peaks_bound_the_signal),
        cmocka_unit_test(reports_truncated_mp3), cmocka_unit_test(probes_a_two_hour_file_without_decoding),
        cmocka_unit_test(flags_flac_damaged_mid_stream), cmocka_unit_test(decoding_stops_at_the_callers_cap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
