/*
 * Black-box tests of the brief's chunked multipart uploads and of the audio resources built on
 * them: single and out-of-order chunked uploads with retries, every bad input of issue 2
 * (disguised format, zero bytes, truncated WAV/MP3, lying header, 2-hour file, 8–192 kHz,
 * multichannel, silence, noise, clipping, too short/long), then audio metadata, peaks,
 * downloads (Range, MP3) and POST /api/analyze/quality. Ends by checking nothing stored was lost
 * and no temp files were left.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "support/http_client.h"
#include "support/test_audio.h"
#include "support/test_server.h"

static test_server S;
static char DIR_[300];           /* generated inputs */
static char SPEECH[400];         /* 12+ s espeak speech */
static char GOOD_ID[80];         /* first stored audio, checked again at the end */
static char *GOOD_BYTES;
static size_t GOOD_LEN;

static int group_setup(void **state)
{
    (void)state;
    snprintf(DIR_, sizeof DIR_, "/tmp/vcs-upl-XXXXXX");
    if (!mkdtemp(DIR_)) return -1;
    snprintf(SPEECH, sizeof SPEECH, "%s/speech.wav", DIR_);
    if (test_audio_speech(SPEECH, 12.0)) return -1;
    return test_server_start(&S, NULL, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    /* a clean exit (0) after SIGTERM; under ASan a leak would make it non-zero */
    int status = test_server_stop(&S);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", DIR_);
    if (system(cmd)) {
    }
    free(GOOD_BYTES);
    if (status != 0) fprintf(stderr, "server exit status %d\n", status);
    return status == 0 ? 0 : -1;
}

static void input_path(const char *name, char *out, size_t cap) { snprintf(out, cap, "%s/%s", DIR_, name); }

/* POST one multipart request to /api/upload/<kind>-audio. fields: NULL-terminated pairs. */
static void upload(const char *kind, const char *file, const char *filename, const char *const *fields,
                   http_response *res)
{
    char path[128], url[256];
    snprintf(path, sizeof path, "/api/upload/%s-audio", kind);
    assert_int_equal(http_post_form(test_server_url(&S, url, sizeof url, path), NULL, file, filename, fields, res), 0);
}

static void get(const char *path, const char *const *headers, http_response *res)
{
    char url[1024];
    assert_int_equal(http_request("GET", test_server_url(&S, url, sizeof url, path), headers, NULL, 0, res), 0);
}

static void expect_error(http_response *res, long status, const char *code)
{
    if (res->status != status || strcmp(http_error_code(res), code))
        fail_msg("expected %ld %s, got %ld %s", status, code, res->status, res->body);
    json_t *um = json_object_get(http_json(res), "user_message");
    assert_true(json_is_string(um) && strlen(json_string_value(um)) > 5);
}

static json_t *expect_complete(http_response *res)
{
    if (res->status != 200) fail_msg("upload failed: %ld %s", res->status, res->body);
    json_t *j = http_json(res);
    assert_true(json_is_true(json_object_get(j, "upload_complete")));
    return j;
}

static void test_single_training_upload(void **state)
{
    (void)state;
    http_response res;
    upload("training", SPEECH, "my voice.wav", NULL, &res);
    json_t *j = expect_complete(&res);
    const char *id = json_string_value(json_object_get(j, "file_id"));
    assert_non_null(id);
    snprintf(GOOD_ID, sizeof GOOD_ID, "%s", id);
    assert_string_equal(json_string_value(json_object_get(j, "filename")), "my voice.wav");
    json_t *qa = json_object_get(j, "quality_analysis");
    static const char *const FIELDS[] = {"duration_seconds", "sample_rate", "snr_db", "voice_activity_percent",
                                         "background_noise_level", "clipping_percent", "loudness_lufs",
                                         "quality_grade", "recommendation"};
    for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++)
        if (!json_object_get(qa, FIELDS[i])) fail_msg("quality_analysis lacks %s", FIELDS[i]);
    assert_true(json_real_value(json_object_get(j, "duration_seconds")) >= 12.0);
    char path[700];
    snprintf(path, sizeof path, "%s/uploads/training/local/%s.wav", S.data_dir, id);
    GOOD_BYTES = test_file_read(path, &GOOD_LEN);
    assert_non_null(GOOD_BYTES);
    http_response_free(&res);
    char url[200];
    snprintf(url, sizeof url, "/api/audio/%s", GOOD_ID);
    get(url, NULL, &res);
    assert_int_equal(res.status, 200);
    assert_string_equal(json_string_value(json_object_get(http_json(&res), "purpose")), "training");
    http_response_free(&res);
}

/* Splits SPEECH into n files chunk_0..n-1. */
static void split(int n, char paths[][400])
{
    size_t len;
    char *data = test_file_read(SPEECH, &len);
    assert_non_null(data);
    for (int i = 0; i < n; i++) {
        snprintf(paths[i], 400, "%s/chunk_%d", DIR_, i);
        size_t from = len * (size_t)i / (size_t)n, to = len * (size_t)(i + 1) / (size_t)n;
        FILE *f = fopen(paths[i], "wb");
        fwrite(data + from, 1, to - from, f);
        fclose(f);
    }
    free(data);
}

static void test_chunked_out_of_order_with_retries(void **state)
{
    (void)state;
    char parts[3][400];
    split(3, parts);
    http_response res;
    const char *first[] = {"chunk_index", "2", "total_chunks", "3", NULL};
    upload("target", parts[2], "long.wav", first, &res);
    assert_int_equal(res.status, 200);
    json_t *j = http_json(&res);
    assert_false(json_is_true(json_object_get(j, "upload_complete")));
    char id[80];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "file_id")));
    http_response_free(&res);
    const char *c0[] = {"chunk_index", "0", "total_chunks", "3", "file_id", id, NULL};
    for (int retry = 0; retry < 2; retry++) { /* the retried chunk is idempotent */
        upload("target", parts[0], "long.wav", c0, &res);
        assert_int_equal(res.status, 200);
        assert_false(json_is_true(json_object_get(http_json(&res), "upload_complete")));
        http_response_free(&res);
    }
    const char *c1[] = {"chunk_index", "1", "total_chunks", "3", "file_id", id, NULL};
    upload("target", parts[1], "long.wav", c1, &res);
    j = expect_complete(&res);
    assert_string_equal(json_string_value(json_object_get(j, "file_id")), id);
    double dur = json_real_value(json_object_get(j, "duration_seconds"));
    assert_true(dur >= 12.0);
    http_response_free(&res);
    upload("target", parts[1], "long.wav", c1, &res); /* retry after completion: same answer */
    j = expect_complete(&res);
    assert_string_equal(json_string_value(json_object_get(j, "file_id")), id);
    http_response_free(&res);
    const char *bad[] = {"chunk_index", "1", "total_chunks", "4", "file_id", id, NULL};
    upload("target", parts[1], "long.wav", bad, &res);
    assert_int_equal(res.status, 400);
    http_response_free(&res);
}

static void test_form_errors(void **state)
{
    (void)state;
    http_response res;
    const char *f1[] = {"chunk_index", "0", NULL};
    upload("target", NULL, NULL, f1, &res); /* no file part */
    expect_error(&res, 400, "INVALID_REQUEST");
    http_response_free(&res);
    const char *f2[] = {"chunk_index", "5", "total_chunks", "2", NULL};
    upload("target", SPEECH, "a.wav", f2, &res);
    expect_error(&res, 400, "INVALID_REQUEST");
    http_response_free(&res);
    const char *f3[] = {"chunk_index", "1", "total_chunks", "2", "file_id", "audio_000000000000000000000000", NULL};
    upload("target", SPEECH, "a.wav", f3, &res);
    expect_error(&res, 404, "NOT_FOUND");
    http_response_free(&res);
    const char *f4[] = {"file_id", "../../studio", NULL};
    upload("target", SPEECH, "a.wav", f4, &res);
    expect_error(&res, 404, "NOT_FOUND");
    http_response_free(&res);
    char url[256];
    test_server_url(&S, url, sizeof url, "/api/upload/target-audio");
    const char *h[] = {"Content-Type: application/json", NULL};
    http_request("POST", url, h, "{}", 2, &res);
    expect_error(&res, 400, "INVALID_REQUEST");
    http_response_free(&res);
}

static void test_hostile_filename(void **state)
{
    (void)state;
    http_response res;
    upload("target", SPEECH, "\xff\xfe../../\x01evil\".wav", NULL, &res);
    json_t *j = expect_complete(&res);
    const char *name = json_string_value(json_object_get(j, "filename"));
    assert_non_null(name);
    assert_null(strchr(name, '\x01'));
    char path[200];
    snprintf(path, sizeof path, "/api/download/%s", json_string_value(json_object_get(j, "file_id")));
    http_response_free(&res);
    get(path, NULL, &res);
    assert_int_equal(res.status, 200);
    const char *cd = http_header(&res, "Content-Disposition");
    assert_non_null(cd);
    assert_null(strchr(cd + strlen("attachment; filename=\""), '/'));
    http_response_free(&res);
}

static void test_not_audio(void **state)
{
    (void)state;
    char p[400];
    http_response res;
    input_path("random.wav", p, sizeof p); /* random bytes disguised by the extension */
    test_file_random(p, 50000);
    upload("target", p, "random.wav", NULL, &res);
    expect_error(&res, 400, "INVALID_FORMAT");
    assert_true(json_array_size(json_object_get(http_json(&res), "supported_formats")) >= 3);
    http_response_free(&res);
    input_path("text.mp3", p, sizeof p);
    FILE *f = fopen(p, "w");
    for (int i = 0; i < 500; i++) fputs("this is not an mp3 file\n", f);
    fclose(f);
    upload("target", p, "song.mp3", NULL, &res);
    expect_error(&res, 400, "INVALID_FORMAT");
    http_response_free(&res);
    input_path("empty.wav", p, sizeof p);
    f = fopen(p, "w");
    fclose(f);
    upload("training", p, "empty.wav", NULL, &res);
    expect_error(&res, 400, "INVALID_FORMAT");
    http_response_free(&res);
}

/* A damaged file is either refused as CORRUPT_FILE or accepted with a warning — never silently. */
static void expect_corrupt_or_warned(http_response *res, const char *what)
{
    if (res->status == 200) {
        json_t *w = json_object_get(http_json(res), "warnings");
        if (json_array_size(w) == 0) fail_msg("%s was accepted without a warning: %s", what, res->body);
    } else if (res->status != 400 || (strcmp(http_error_code(res), "CORRUPT_FILE") &&
                                      strcmp(http_error_code(res), "INVALID_FORMAT"))) {
        fail_msg("%s: unexpected %ld %s", what, res->status, res->body);
    }
}

static void test_truncated_and_lying_files(void **state)
{
    (void)state;
    char p[400], cmd[1000];
    http_response res;
    input_path("trunc.wav", p, sizeof p);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", SPEECH, p);
    assert_int_equal(system(cmd), 0);
    test_file_truncate(p, 0.6);
    upload("target", p, "trunc.wav", NULL, &res);
    expect_corrupt_or_warned(&res, "truncated WAV");
    http_response_free(&res);
    /* lying header: data chunk claims twice the real size (bytes 40..43 of a canonical WAV) */
    input_path("liar.wav", p, sizeof p);
    assert_int_equal(test_audio_tone(p, 16000, 1, 3.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5), 0);
    FILE *f = fopen(p, "r+b");
    unsigned char sz[4];
    fseek(f, 40, SEEK_SET);
    assert_int_equal(fread(sz, 1, 4, f), 4);
    unsigned v = (unsigned)sz[0] | (unsigned)sz[1] << 8 | (unsigned)sz[2] << 16 | (unsigned)sz[3] << 24;
    v *= 2;
    unsigned char nv[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    fseek(f, 40, SEEK_SET);
    fwrite(nv, 1, 4, f);
    fclose(f);
    upload("target", p, "liar.wav", NULL, &res);
    expect_corrupt_or_warned(&res, "WAV with a lying header");
    http_response_free(&res);
    input_path("trunc.mp3", p, sizeof p);
    assert_int_equal(test_audio_tone(p, 44100, 1, 8.0, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, "sine", 0.5), 0);
    test_file_truncate(p, 0.4);
    upload("target", p, "trunc.mp3", NULL, &res);
    expect_corrupt_or_warned(&res, "truncated MP3");
    http_response_free(&res);
}

static void test_sample_rates_and_channels(void **state)
{
    (void)state;
    static const int RATES[] = {8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000, 192000};
    char p[400];
    for (size_t i = 0; i < sizeof RATES / sizeof RATES[0]; i++) {
        input_path("rate.wav", p, sizeof p);
        assert_int_equal(test_audio_tone(p, RATES[i], 1, 2.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5), 0);
        http_response res;
        upload("target", p, "rate.wav", NULL, &res);
        json_t *j = expect_complete(&res);
        assert_int_equal(json_integer_value(json_object_get(j, "sample_rate")), RATES[i]);
        http_response_free(&res);
    }
    static const int CHANNELS[] = {2, 6};
    for (size_t i = 0; i < 2; i++) {
        input_path("multi.wav", p, sizeof p);
        assert_int_equal(test_audio_tone(p, 48000, CHANNELS[i], 2.0, SF_FORMAT_WAV | SF_FORMAT_PCM_24, "sine", 0.5), 0);
        http_response res;
        upload("target", p, "multi.wav", NULL, &res);
        json_t *j = expect_complete(&res);
        assert_int_equal(json_integer_value(json_object_get(j, "channels")), CHANNELS[i]);
        http_response_free(&res);
    }
}

static void test_silence_noise_clipping(void **state)
{
    (void)state;
    char p[400];
    http_response res;
    input_path("silence.wav", p, sizeof p);
    test_audio_tone(p, 16000, 1, 12.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "silence", 0);
    upload("training", p, "silence.wav", NULL, &res);
    expect_error(&res, 400, "QUALITY_TOO_LOW");
    http_response_free(&res);
    input_path("noise.wav", p, sizeof p);
    test_audio_tone(p, 16000, 1, 12.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "noise", 0.3);
    upload("training", p, "noise.wav", NULL, &res);
    expect_error(&res, 400, "QUALITY_TOO_LOW");
    json_t *j = http_json(&res);
    assert_true(json_is_number(json_object_get(j, "min_snr_db")) ||
                json_is_number(json_object_get(j, "voice_activity_percent")));
    http_response_free(&res);
    input_path("clipped.wav", p, sizeof p);
    test_audio_tone(p, 16000, 1, 3.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "clipped", 0.9);
    upload("target", p, "clipped.wav", NULL, &res);
    j = expect_complete(&res);
    assert_true(json_real_value(json_object_get(json_object_get(j, "quality_analysis"), "clipping_percent")) > 1.0);
    http_response_free(&res);
}

static void test_duration_and_size_limits(void **state)
{
    (void)state;
    char p[400], cmd[1000];
    http_response res;
    input_path("short.wav", p, sizeof p);
    snprintf(cmd, sizeof cmd, "sox '%s' '%s' trim 0 3", SPEECH, p);
    assert_int_equal(system(cmd), 0);
    upload("training", p, "short.wav", NULL, &res);
    expect_error(&res, 400, "AUDIO_TOO_SHORT");
    assert_string_equal(json_string_value(json_object_get(http_json(&res), "user_message")),
                        "Audio is too short. Minimum: 10 seconds.");
    assert_true(json_is_number(json_object_get(http_json(&res), "min_duration_seconds")));
    http_response_free(&res);
    upload("reference", SPEECH, "ref.wav", NULL, &res); /* 3–30 s: fine */
    expect_complete(&res);
    http_response_free(&res);
    input_path("long_ref.wav", p, sizeof p);
    test_audio_tone(p, 16000, 1, 40.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5);
    upload("reference", p, "long_ref.wav", NULL, &res);
    expect_error(&res, 413, "AUDIO_TOO_LONG");
    http_response_free(&res);
    /* a 2-hour file: too long as a target (30 min), too large for training (100 MB) */
    input_path("two_hours.wav", p, sizeof p);
    assert_int_equal(test_audio_tone(p, 8000, 1, 7200.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "silence", 0), 0);
    upload("target", p, "two_hours.wav", NULL, &res);
    expect_error(&res, 413, "AUDIO_TOO_LONG");
    http_response_free(&res);
    upload("training", p, "two_hours.wav", NULL, &res);
    expect_error(&res, 413, "FILE_TOO_LARGE");
    assert_int_equal(json_integer_value(json_object_get(http_json(&res), "max_size_mb")), 100);
    assert_string_equal(json_string_value(json_object_get(http_json(&res), "user_message")),
                        "Audio file is too large. Maximum: 100 MB.");
    http_response_free(&res);
    unlink(p);
}

static void test_download_range_mp3(void **state)
{
    (void)state;
    char path[200];
    http_response res;
    snprintf(path, sizeof path, "/api/download/%s", GOOD_ID);
    get(path, NULL, &res);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.body_len, GOOD_LEN);
    assert_memory_equal(res.body, GOOD_BYTES, GOOD_LEN);
    assert_string_equal(http_header(&res, "Content-Type"), "audio/wav");
    assert_string_equal(http_header(&res, "Content-Disposition"), "attachment; filename=\"my voice.wav\"");
    http_response_free(&res);
    const char *r1[] = {"Range: bytes=0-99", NULL};
    get(path, r1, &res);
    assert_int_equal(res.status, 206);
    assert_int_equal(res.body_len, 100);
    assert_memory_equal(res.body, GOOD_BYTES, 100);
    char cr[100];
    snprintf(cr, sizeof cr, "bytes 0-99/%zu", GOOD_LEN);
    assert_string_equal(http_header(&res, "Content-Range"), cr);
    http_response_free(&res);
    const char *r2[] = {"Range: bytes=-10", NULL};
    get(path, r2, &res);
    assert_int_equal(res.status, 206);
    assert_memory_equal(res.body, GOOD_BYTES + GOOD_LEN - 10, 10);
    http_response_free(&res);
    const char *r3[] = {"Range: bytes=999999999-", NULL};
    get(path, r3, &res);
    assert_int_equal(res.status, 416);
    http_response_free(&res);
    snprintf(path, sizeof path, "/api/download/%s?format=mp3", GOOD_ID);
    get(path, NULL, &res);
    assert_int_equal(res.status, 200);
    assert_string_equal(http_header(&res, "Content-Type"), "audio/mpeg");
    assert_true(res.body_len > 1000);
    unsigned char *b = (unsigned char *)res.body;
    assert_true(!memcmp(b, "ID3", 3) || (b[0] == 0xFF && (b[1] & 0xE0) == 0xE0));
    http_response_free(&res);
    snprintf(path, sizeof path, "/api/download/%s?format=ogg", GOOD_ID);
    get(path, NULL, &res);
    expect_error(&res, 400, "INVALID_REQUEST");
    http_response_free(&res);
    get("/api/download/audio_000000000000000000000000", NULL, &res);
    expect_error(&res, 404, "AUDIO_NOT_FOUND");
    http_response_free(&res);
}

static void test_peaks(void **state)
{
    (void)state;
    char path[200];
    http_response res;
    snprintf(path, sizeof path, "/api/audio/%s/peaks?buckets=100", GOOD_ID);
    get(path, NULL, &res);
    assert_int_equal(res.status, 200);
    json_t *peaks = json_object_get(http_json(&res), "peaks");
    assert_int_equal(json_array_size(peaks), 200);
    double maxabs = 0;
    for (size_t i = 0; i < 100; i++) {
        double lo = json_number_value(json_array_get(peaks, 2 * i)), hi = json_number_value(json_array_get(peaks, 2 * i + 1));
        assert_true(lo <= hi && lo >= -1.0 && hi <= 1.0);
        if (hi > maxabs) maxabs = hi;
    }
    assert_true(maxabs > 0.05); /* speech, not zeros */
    http_response_free(&res);
    snprintf(path, sizeof path, "/api/audio/%s/peaks?buckets=0", GOOD_ID);
    get(path, NULL, &res);
    expect_error(&res, 400, "INVALID_REQUEST");
    http_response_free(&res);
}

static void test_analyze_quality(void **state)
{
    (void)state;
    char url[256], body[200];
    http_response res;
    test_server_url(&S, url, sizeof url, "/api/analyze/quality");
    const char *h[] = {"Content-Type: application/json", NULL};
    snprintf(body, sizeof body, "{\"audio_id\":\"%s\"}", GOOD_ID);
    http_request("POST", url, h, body, strlen(body), &res);
    assert_int_equal(res.status, 200);
    assert_true(json_is_number(json_object_get(json_object_get(http_json(&res), "quality_analysis"), "snr_db")));
    http_response_free(&res);
    http_post_form(url, NULL, SPEECH, "x.wav", NULL, &res);
    assert_int_equal(res.status, 200);
    assert_non_null(json_string_value(json_object_get(json_object_get(http_json(&res), "quality_analysis"), "quality_grade")));
    http_response_free(&res);
    const char *missing = "{\"audio_id\":\"audio_000000000000000000000000\"}";
    http_request("POST", url, h, missing, strlen(missing), &res);
    expect_error(&res, 404, "AUDIO_NOT_FOUND");
    http_response_free(&res);
    char p[400];
    input_path("random.wav", p, sizeof p);
    http_post_form(url, NULL, p, "random.wav", NULL, &res);
    expect_error(&res, 400, "INVALID_FORMAT");
    http_response_free(&res);
}

static void test_list_and_delete_audio(void **state)
{
    (void)state;
    http_response res;
    get("/api/audio?purpose=training", NULL, &res);
    assert_int_equal(res.status, 200);
    json_t *list = json_object_get(http_json(&res), "audio");
    int found = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *a = json_array_get(list, i);
        assert_string_equal(json_string_value(json_object_get(a, "purpose")), "training");
        found |= !strcmp(json_string_value(json_object_get(a, "file_id")), GOOD_ID);
    }
    assert_true(found);
    http_response_free(&res);
    get("/api/audio?purpose=bogus", NULL, &res);
    expect_error(&res, 400, "INVALID_REQUEST");
    http_response_free(&res);
    upload("target", SPEECH, "doomed.wav", NULL, &res);
    json_t *j = expect_complete(&res);
    char id[80], path[200], file[700], url[300];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "file_id")));
    http_response_free(&res);
    snprintf(path, sizeof path, "/api/download/%s?format=mp3", id); /* creates the cached mp3 too */
    get(path, NULL, &res);
    assert_int_equal(res.status, 200);
    http_response_free(&res);
    snprintf(file, sizeof file, "%s/uploads/target/local/%s.wav", S.data_dir, id);
    assert_int_equal(access(file, F_OK), 0);
    snprintf(path, sizeof path, "/api/audio/%s", id);
    http_request("DELETE", test_server_url(&S, url, sizeof url, path), NULL, NULL, 0, &res);
    assert_int_equal(res.status, 200);
    http_response_free(&res);
    assert_int_not_equal(access(file, F_OK), 0);
    strcat(file, ".mp3");
    assert_int_not_equal(access(file, F_OK), 0);
    get(path, NULL, &res);
    expect_error(&res, 404, "AUDIO_NOT_FOUND");
    http_response_free(&res);
}

/* After all the failures above: the first upload is intact and no temp file was left behind. */
static void test_nothing_lost_nothing_left(void **state)
{
    (void)state;
    char path[700];
    snprintf(path, sizeof path, "%s/uploads/training/local/%s.wav", S.data_dir, GOOD_ID);
    size_t len;
    char *now = test_file_read(path, &len);
    assert_non_null(now);
    assert_int_equal(len, GOOD_LEN);
    assert_memory_equal(now, GOOD_BYTES, len);
    free(now);
    snprintf(path, sizeof path, "%s/uploads/tmp", S.data_dir);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') fail_msg("left behind in uploads/tmp: %s", e->d_name);
    closedir(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_training_upload),
        cmocka_unit_test(test_chunked_out_of_order_with_retries),
        cmocka_unit_test(test_form_errors),
        cmocka_unit_test(test_hostile_filename),
        cmocka_unit_test(test_not_audio),
        cmocka_unit_test(test_truncated_and_lying_files),
        cmocka_unit_test(test_sample_rates_and_channels),
        cmocka_unit_test(test_silence_noise_clipping),
        cmocka_unit_test(test_duration_and_size_limits),
        cmocka_unit_test(test_download_range_mp3),
        cmocka_unit_test(test_peaks),
        cmocka_unit_test(test_analyze_quality),
        cmocka_unit_test(test_list_and_delete_audio),
        cmocka_unit_test(test_nothing_lost_nothing_left),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
