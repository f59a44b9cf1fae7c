/*
 * Black-box tests of tus 1.0.0 at /api/uploads/: OPTIONS, creation, creation-with-upload,
 * PATCH in pieces, HEAD, 409 offset mismatch, 460 checksum mismatch (bytes rolled back), 412
 * without Tus-Resumable, 415 wrong content type, termination, expiration (410, on a second
 * server with a 1 s expiry), the finished upload as an audio file (Upload-Audio-Id, GET JSON),
 * and an invalid finished upload that stores nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "store/store.h"
#include "support/http_client.h"
#include "support/test_audio.h"
#include "support/test_server.h"

static test_server S;
static char DIR_[300], SPEECH[400];
static char *DATA;
static size_t LEN;

static int group_setup(void **state)
{
    (void)state;
    snprintf(DIR_, sizeof DIR_, "/tmp/vcs-tus-XXXXXX");
    if (!mkdtemp(DIR_)) return -1;
    snprintf(SPEECH, sizeof SPEECH, "%s/speech.wav", DIR_);
    if (test_audio_speech(SPEECH, 12.0)) return -1;
    DATA = test_file_read(SPEECH, &LEN);
    return DATA ? test_server_start(&S, NULL, NULL) : -1;
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
    free(DATA);
    if (status != 0) fprintf(stderr, "server exit status %d\n", status);
    return status == 0 ? 0 : -1;
}

static void b64(const char *s, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)strlen(s));
}

/* POST creation; returns the Location path in loc. body may be NULL (plain creation). */
static long create(const test_server *s, size_t length, const char *purpose, const char *body, size_t body_len,
                   char *loc, size_t cap, http_response *res)
{
    char url[256], hl[64], meta[300], fn[64], pp[64];
    b64("speech.wav", fn);
    b64(purpose, pp);
    snprintf(hl, sizeof hl, "Upload-Length: %zu", length);
    snprintf(meta, sizeof meta, "Upload-Metadata: filename %s,purpose %s", fn, pp);
    const char *h[] = {"Tus-Resumable: 1.0.0", hl, meta, "Content-Type: application/offset+octet-stream", NULL};
    if (!body) h[3] = NULL;
    assert_int_equal(http_request("POST", test_server_url(s, url, sizeof url, "/api/uploads/"), h, body ? body : "",
                                  body ? body_len : 0, res), 0);
    const char *l = http_header(res, "Location");
    snprintf(loc, cap, "%s", l ? l : "");
    return res->status;
}

static long patch(const test_server *s, const char *loc, size_t offset, const char *data, size_t len,
                  const char *checksum, http_response *res)
{
    char url[256], ho[64], hc[100];
    snprintf(ho, sizeof ho, "Upload-Offset: %zu", offset);
    snprintf(hc, sizeof hc, "Upload-Checksum: sha1 %s", checksum ? checksum : "");
    const char *h[] = {"Tus-Resumable: 1.0.0", ho, "Content-Type: application/offset+octet-stream",
                       checksum ? hc : NULL, NULL};
    assert_int_equal(http_request("PATCH", test_server_url(s, url, sizeof url, loc), h, data, len, res), 0);
    return res->status;
}

static long head(const test_server *s, const char *loc, http_response *res)
{
    char url[256];
    const char *h[] = {"Tus-Resumable: 1.0.0", NULL};
    assert_int_equal(http_request("HEAD", test_server_url(s, url, sizeof url, loc), h, NULL, 0, res), 0);
    return res->status;
}

static void sha1_b64(const char *data, size_t len, char out[64])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n;
    EVP_Digest(data, len, d, &n, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)out, d, (int)n);
}

static void test_options(void **state)
{
    (void)state;
    char url[256];
    http_response res;
    http_request("OPTIONS", test_server_url(&S, url, sizeof url, "/api/uploads/"), NULL, NULL, 0, &res);
    assert_int_equal(res.status, 204);
    assert_string_equal(http_header(&res, "Tus-Version"), "1.0.0");
    const char *ext = http_header(&res, "Tus-Extension");
    assert_non_null(ext);
    static const char *const WANT[] = {"creation", "creation-with-upload", "termination", "checksum", "expiration"};
    for (size_t i = 0; i < 5; i++) assert_non_null(strstr(ext, WANT[i]));
    assert_string_equal(http_header(&res, "Tus-Checksum-Algorithm"), "sha1");
    http_response_free(&res);
}

static void test_full_upload_in_pieces(void **state)
{
    (void)state;
    char loc[200], ck[64];
    http_response res;
    assert_int_equal(create(&S, LEN, "training", NULL, 0, loc, sizeof loc, &res), 201);
    assert_non_null(strstr(loc, "/api/uploads/upl_"));
    assert_non_null(http_header(&res, "Upload-Expires"));
    http_response_free(&res);
    size_t a = LEN / 3, b = 2 * LEN / 3;
    assert_int_equal(patch(&S, loc, 0, DATA, a, NULL, &res), 204);
    assert_int_equal(atol(http_header(&res, "Upload-Offset")), (long)a);
    http_response_free(&res);
    /* 409: the client thinks it is elsewhere */
    assert_int_equal(patch(&S, loc, 0, DATA, a, NULL, &res), 409);
    assert_string_equal(http_error_code(&res), "CONFLICT");
    http_response_free(&res);
    /* 460: damaged in transit; the server keeps its old offset */
    char wrong[64];
    sha1_b64("something else", 14, wrong);
    assert_int_equal(patch(&S, loc, a, DATA + a, b - a, wrong, &res), 460);
    assert_string_equal(http_error_code(&res), "CHECKSUM_MISMATCH");
    http_response_free(&res);
    assert_int_equal(head(&S, loc, &res), 200);
    assert_int_equal(atol(http_header(&res, "Upload-Offset")), (long)a);
    assert_int_equal(atol(http_header(&res, "Upload-Length")), (long)LEN);
    assert_string_equal(http_header(&res, "Cache-Control"), "no-store");
    assert_null(http_header(&res, "Upload-Audio-Id"));
    http_response_free(&res);
    sha1_b64(DATA + a, b - a, ck);
    assert_int_equal(patch(&S, loc, a, DATA + a, b - a, ck, &res), 204);
    http_response_free(&res);
    assert_int_equal(patch(&S, loc, b, DATA + b, LEN - b, NULL, &res), 204);
    const char *audio = http_header(&res, "Upload-Audio-Id");
    if (!audio) fail_msg("last PATCH has no Upload-Audio-Id: %s", res.headers);
    char audio_id[80];
    snprintf(audio_id, sizeof audio_id, "%s", audio);
    http_response_free(&res);
    assert_int_equal(head(&S, loc, &res), 200);
    assert_string_equal(http_header(&res, "Upload-Audio-Id"), audio_id);
    http_response_free(&res);
    char url[256];
    http_request("GET", test_server_url(&S, url, sizeof url, loc), NULL, NULL, 0, &res);
    assert_int_equal(res.status, 200);
    json_t *j = http_json(&res);
    assert_true(json_is_true(json_object_get(j, "upload_complete")));
    assert_string_equal(json_string_value(json_object_get(j, "file_id")), audio_id);
    assert_int_equal(json_integer_value(json_object_get(j, "offset")), (json_int_t)LEN);
    assert_true(json_is_object(json_object_get(j, "quality_analysis")));
    http_response_free(&res);
    /* the audio is the uploaded speech */
    char path[200];
    snprintf(path, sizeof path, "/api/audio/%s", audio_id);
    http_request("GET", test_server_url(&S, url, sizeof url, path), NULL, NULL, 0, &res);
    assert_int_equal(res.status, 200);
    assert_string_equal(json_string_value(json_object_get(http_json(&res), "purpose")), "training");
    assert_string_equal(json_string_value(json_object_get(http_json(&res), "filename")), "speech.wav");
    http_response_free(&res);
    /* PATCH after completion is a conflict, not a second file */
    assert_int_equal(patch(&S, loc, LEN, "x", 1, NULL, &res), 409);
    http_response_free(&res);
}

static void test_creation_with_upload(void **state)
{
    (void)state;
    char loc[200];
    http_response res;
    assert_int_equal(create(&S, LEN, "target", DATA, LEN, loc, sizeof loc, &res), 201);
    assert_int_equal(atol(http_header(&res, "Upload-Offset")), (long)LEN);
    assert_non_null(http_header(&res, "Upload-Audio-Id"));
    http_response_free(&res);
}

static void test_protocol_errors(void **state)
{
    (void)state;
    char url[256], loc[200];
    http_response res;
    const char *no_tus[] = {"Upload-Length: 10", NULL};
    http_request("POST", test_server_url(&S, url, sizeof url, "/api/uploads/"), no_tus, "", 0, &res);
    assert_int_equal(res.status, 412);
    http_response_free(&res);
    const char *no_len[] = {"Tus-Resumable: 1.0.0", NULL};
    http_request("POST", url, no_len, "", 0, &res);
    assert_int_equal(res.status, 400);
    http_response_free(&res);
    const char *bad_purpose[] = {"Tus-Resumable: 1.0.0", "Upload-Length: 10", "Upload-Metadata: purpose ZXZpbA==", NULL};
    http_request("POST", url, bad_purpose, "", 0, &res); /* "evil" */
    assert_int_equal(res.status, 400);
    http_response_free(&res);
    const char *huge[] = {"Tus-Resumable: 1.0.0", "Upload-Length: 999999999999", NULL};
    http_request("POST", url, huge, "", 0, &res);
    assert_int_equal(res.status, 413);
    assert_string_equal(http_error_code(&res), "FILE_TOO_LARGE");
    http_response_free(&res);
    assert_int_equal(create(&S, 100, "target", NULL, 0, loc, sizeof loc, &res), 201);
    http_response_free(&res);
    const char *wrong_ct[] = {"Tus-Resumable: 1.0.0", "Upload-Offset: 0", "Content-Type: text/plain", NULL};
    http_request("PATCH", test_server_url(&S, url, sizeof url, loc), wrong_ct, "abc", 3, &res);
    assert_int_equal(res.status, 415);
    http_response_free(&res);
    const char *patch_no_tus[] = {"Upload-Offset: 0", "Content-Type: application/offset+octet-stream", NULL};
    http_request("PATCH", url, patch_no_tus, "abc", 3, &res);
    assert_int_equal(res.status, 412);
    http_response_free(&res);
    char big[200];
    memset(big, 'x', sizeof big);
    assert_int_equal(patch(&S, loc, 0, big, sizeof big, NULL, &res), 413); /* past Upload-Length */
    http_response_free(&res);
    http_request("GET", test_server_url(&S, url, sizeof url, "/api/uploads/upl_000000000000000000000000"), NULL, NULL, 0, &res);
    assert_int_equal(res.status, 404);
    http_response_free(&res);
    assert_int_equal(head(&S, "/api/uploads/..%2F..%2Fstudio.db", &res), 404);
    http_response_free(&res);
}

static void test_termination(void **state)
{
    (void)state;
    char url[256], loc[200];
    http_response res;
    assert_int_equal(create(&S, LEN, "target", NULL, 0, loc, sizeof loc, &res), 201);
    http_response_free(&res);
    assert_int_equal(patch(&S, loc, 0, DATA, 1000, NULL, &res), 204);
    http_response_free(&res);
    const char *h[] = {"Tus-Resumable: 1.0.0", NULL};
    http_request("DELETE", test_server_url(&S, url, sizeof url, loc), h, NULL, 0, &res);
    assert_int_equal(res.status, 204);
    http_response_free(&res);
    assert_int_equal(head(&S, loc, &res), 404);
    http_response_free(&res);
    char part[600];
    snprintf(part, sizeof part, "%s/uploads/tmp/%s.part", S.data_dir, strrchr(loc, '/') + 1);
    assert_int_not_equal(access(part, F_OK), 0);
}

static void test_invalid_audio_stores_nothing(void **state)
{
    (void)state;
    char loc[200], rnd[400];
    http_response res;
    snprintf(rnd, sizeof rnd, "%s/random.bin", DIR_);
    test_file_random(rnd, 4000);
    size_t n;
    char *bytes = test_file_read(rnd, &n);
    assert_int_equal(create(&S, n, "target", NULL, 0, loc, sizeof loc, &res), 201);
    http_response_free(&res);
    assert_int_equal(patch(&S, loc, 0, bytes, n, NULL, &res), 400);
    assert_string_equal(http_error_code(&res), "INVALID_FORMAT");
    http_response_free(&res);
    free(bytes);
    char part[600];
    snprintf(part, sizeof part, "%s/uploads/tmp/%s.part", S.data_dir, strrchr(loc, '/') + 1);
    assert_int_not_equal(access(part, F_OK), 0);
}

static void test_expired_upload_is_gone(void **state)
{
    (void)state;
    test_server s2;
    /* expiry is kept in whole seconds (now + N): with N = 1 an upload created at x.99 s would
     * already be expired 10 ms later, so 2 s, and a sleep past it */
    const char *env[] = {"VCS_UPLOAD_EXPIRY_SECONDS=2", NULL};
    assert_int_equal(test_server_start(&s2, env, NULL), 0);
    char loc[200];
    http_response res;
    assert_int_equal(create(&s2, LEN, "target", NULL, 0, loc, sizeof loc, &res), 201);
    http_response_free(&res);
    assert_int_equal(patch(&s2, loc, 0, DATA, 100, NULL, &res), 204);
    http_response_free(&res);
    usleep(2300 * 1000);
    assert_int_equal(head(&s2, loc, &res), 410);
    http_response_free(&res);
    assert_int_equal(patch(&s2, loc, 100, DATA + 100, 100, NULL, &res), 410);
    assert_string_equal(http_error_code(&res), "UPLOAD_EXPIRED");
    assert_non_null(json_string_value(json_object_get(http_json(&res), "user_message")));
    http_response_free(&res);
    test_server_stop(&s2);
}

/* Across a restart: finished audio is kept; expired uploads lose their bytes and answer 410. */
static void test_restart_keeps_audio_and_sweeps_expired(void **state)
{
    (void)state;
    test_server s2;
    /* expiry is kept in whole seconds (now + N): with N = 1 an upload created at x.99 s would
     * already be expired 10 ms later, so 2 s, and a sleep past it */
    const char *env[] = {"VCS_UPLOAD_EXPIRY_SECONDS=2", NULL};
    assert_int_equal(test_server_start(&s2, env, NULL), 0);
    char done[200], open_[200], url[300];
    http_response res;
    assert_int_equal(create(&s2, LEN, "target", DATA, LEN, done, sizeof done, &res), 201);
    char audio[80];
    snprintf(audio, sizeof audio, "/api/download/%s", http_header(&res, "Upload-Audio-Id"));
    http_response_free(&res);
    assert_int_equal(create(&s2, LEN, "target", NULL, 0, open_, sizeof open_, &res), 201);
    http_response_free(&res);
    assert_int_equal(patch(&s2, open_, 0, DATA, 500, NULL, &res), 204);
    http_response_free(&res);
    http_request("GET", test_server_url(&s2, url, sizeof url, audio), NULL, NULL, 0, &res);
    assert_int_equal(res.status, 200);
    size_t wav_len = res.body_len;
    char *wav = malloc(wav_len);
    memcpy(wav, res.body, wav_len);
    http_response_free(&res);
    usleep(2300 * 1000);
    assert_int_equal(test_server_restart(&s2), 0);
    char part[700];
    snprintf(part, sizeof part, "%s/uploads/tmp/%s.part", s2.data_dir, strrchr(open_, '/') + 1);
    assert_int_not_equal(access(part, F_OK), 0); /* swept at startup */
    assert_int_equal(head(&s2, open_, &res), 410);
    http_response_free(&res);
    http_request("GET", test_server_url(&s2, url, sizeof url, audio), NULL, NULL, 0, &res);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.body_len, wav_len);
    assert_memory_equal(res.body, wav, wav_len);
    http_response_free(&res);
    free(wav);
    assert_int_equal(head(&s2, done, &res), 200); /* a finished upload never expires */
    assert_non_null(http_header(&res, "Upload-Audio-Id"));
    http_response_free(&res);
    test_server_stop(&s2);
}

/* The state a kill -9 leaves between "bytes durable" and "audio stored": the row says
 * offset = length, the .part file holds every byte, no audio exists. Made by hand here. */
static void all_bytes_but_no_audio(test_server *s, char *loc, size_t cap)
{
    http_response res;
    assert_int_equal(create(s, LEN, "target", NULL, 0, loc, cap, &res), 201);
    http_response_free(&res);
    assert_int_equal(patch(s, loc, 0, DATA, LEN - 1, NULL, &res), 204);
    http_response_free(&res);
    const char *id = strrchr(loc, '/') + 1;
    char part[700];
    snprintf(part, sizeof part, "%s/uploads/tmp/%s.part", s->data_dir, id);
    FILE *f = fopen(part, "ab");
    assert_non_null(f);
    fputc(DATA[LEN - 1], f);
    fclose(f);
    store *st;
    store_upload u;
    vc_error err;
    assert_int_equal(store_open_url(&st, s->data_dir, s->db_url, &err), 0);
    assert_int_equal(store_upload_get(st, "local", id, &u, &err), 0);
    u.offset = (int64_t)LEN;
    assert_int_equal(store_upload_update(st, &u, &err), 0);
    store_close(st);
}

static void test_crash_between_bytes_and_audio(void **state)
{
    (void)state;
    test_server s2;
    assert_int_equal(test_server_start(&s2, NULL, NULL), 0);
    char lazy[200], at_start[200];
    http_response res;
    /* a HEAD finds it: it finishes the upload before answering, never "complete" without audio */
    all_bytes_but_no_audio(&s2, lazy, sizeof lazy);
    assert_int_equal(head(&s2, lazy, &res), 200);
    assert_string_equal(http_header(&res, "Upload-Offset"), http_header(&res, "Upload-Length"));
    assert_non_null(http_header(&res, "Upload-Audio-Id"));
    http_response_free(&res);
    /* startup recovery finishes it before anyone asks: the store, read directly before any request
     * names the upload (a GET or HEAD would finish it lazily), already holds its audio */
    all_bytes_but_no_audio(&s2, at_start, sizeof at_start);
    assert_int_equal(test_server_restart(&s2), 0);
    store *st;
    store_upload u;
    store_audio a;
    vc_error err;
    assert_int_equal(store_open_url(&st, s2.data_dir, s2.db_url, &err), 0);
    assert_int_equal(store_upload_get(st, "local", strrchr(at_start, '/') + 1, &u, &err), 0);
    if (strcmp(u.state, "complete") || !u.audio_id[0])
        fail_msg("after the restart the upload is '%s' with no audio: startup recovery did not finish it", u.state);
    assert_int_equal(store_audio_get(st, "local", u.audio_id, &a, &err), 0);
    store_audio_free(&a);
    store_close(st);
    char url[300];
    http_request("GET", test_server_url(&s2, url, sizeof url, at_start), NULL, NULL, 0, &res);
    assert_int_equal(res.status, 200);
    json_t *j = http_json(&res);
    assert_true(json_is_true(json_object_get(j, "upload_complete")));
    assert_true(json_is_string(json_object_get(j, "file_id")));
    http_response_free(&res);
    test_server_stop(&s2);
}

static void test_head_metadata_412_version_and_patch_after_completion(void **state)
{
    (void)state;
    char loc[200], url[256];
    http_response res;
    assert_int_equal(create(&S, LEN, "target", DATA, LEN, loc, sizeof loc, &res), 201);
    http_response_free(&res);
    assert_int_equal(head(&S, loc, &res), 200);
    const char *meta = http_header(&res, "Upload-Metadata");
    assert_non_null(meta);
    char fn[64], pp[64];
    b64("speech.wav", fn);
    b64("target", pp);
    assert_non_null(strstr(meta, fn));
    assert_non_null(strstr(meta, pp));
    http_response_free(&res);
    const char *no_tus[] = {"Upload-Length: 10", NULL};
    http_request("POST", test_server_url(&S, url, sizeof url, "/api/uploads/"), no_tus, "", 0, &res);
    assert_int_equal(res.status, 412);
    assert_string_equal(http_header(&res, "Tus-Version"), "1.0.0");
    http_response_free(&res);
    assert_int_equal(patch(&S, loc, LEN, "x", 1, NULL, &res), 409);
    assert_non_null(strstr(res.body, "already complete"));
    assert_null(strstr(res.body, "out of step"));
    http_response_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_full_upload_in_pieces),
        cmocka_unit_test(test_creation_with_upload),
        cmocka_unit_test(test_protocol_errors),
        cmocka_unit_test(test_termination),
        cmocka_unit_test(test_invalid_audio_stores_nothing),
        cmocka_unit_test(test_expired_upload_is_gone),
        cmocka_unit_test(test_restart_keeps_audio_and_sweeps_expired),
        cmocka_unit_test(test_crash_between_bytes_and_audio),
        cmocka_unit_test(test_head_metadata_412_version_and_patch_after_completion),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
