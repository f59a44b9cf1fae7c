/*
 * `voiceclone models pull/list/import` against a real HTTP peer: the studio's own server, whose
 * GET /api/download supports Range. Full download with sha256, resume of an interrupted .part,
 * checksum mismatch (nothing installed, .part removed), 404, and imports (a real checkpoint is
 * accepted, a hostile one refused); the same pull as a job through POST /api/weights/pull (the UI's
 * "Download models"), on a second server whose manifest and base URL point at the first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/http_client.h"
#include "support/test_api.h"
#include "support/test_audio.h"
#include "support/test_server.h"

static test_server S;
static char audio_id[64], expected_sha[65], root[512];
static http_response original;

static void sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char d[32];
    unsigned int len = 0;
    EVP_Digest(data, n, d, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int setup(void **state)
{
    snprintf(root, sizeof root, "%s", getenv("VCS_TEST_ROOT") ? getenv("VCS_TEST_ROOT") : ".");
    if (test_server_start(&S, NULL, NULL) != 0) return -1;
    char wav[] = "/tmp/vcs-pull-XXXXXX", url[512];
    close(mkstemp(wav));
    if (test_audio_tone(wav, 16000, 1, 12.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5) != 0) return -1;
    http_response res = {0};
    http_post_form(test_server_url(&S, url, sizeof url, "/api/upload/target-audio"), NULL, wav, "t.wav", NULL, &res);
    unlink(wav);
    if (res.status != 200) return -1;
    snprintf(audio_id, sizeof audio_id, "%s", json_string_value(json_object_get(http_json(&res), "file_id")));
    http_response_free(&res);
    char path[128];
    snprintf(path, sizeof path, "/api/download/%s", audio_id);
    http_request("GET", test_server_url(&S, url, sizeof url, path), NULL, NULL, 0, &original);
    sha256_hex(original.body, original.body_len, expected_sha);
    return original.status == 200 ? 0 : -1;
}

static int teardown(void **state)
{
    http_response_free(&original);
    return test_server_stop(&S) == 0 ? 0 : -1;
}

/* Writes a one-file manifest and runs `models pull test`; returns the exit status. */
static int pull(const char *data, const char *id, const char *sha)
{
    char manifest[300], cmd[2048], bin[512], base[512];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", data);
    FILE *f = fopen(manifest, "w");
    fprintf(f, "{\"packs\":{\"test\":[{\"folder\":\"voice\",\"file\":\"voice.dat\",\"url\":\"https://example.invalid/x/%s\","
               "\"size\":null,\"sha256\":%s%s%s}]}}", id, sha ? "\"" : "", sha ? sha : "null", sha ? "\"" : "");
    fclose(f);
    test_server_url(&S, base, sizeof base, "/api/download");
    snprintf(cmd, sizeof cmd, "%s models pull test --data %s --manifest %s --base-url %s 2>/dev/null", test_server_binary(bin, sizeof bin),
             data, manifest, base);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *installed(const char *data, size_t *n)
{
    char p[400];
    snprintf(p, sizeof p, "%s/weights/voice/voice.dat", data);
    return test_file_read(p, n);
}

static void full_and_resumed_downloads_are_exact(void **state)
{
    char data[] = "/tmp/vcs-pulldata-XXXXXX", part[400];
    assert_non_null(mkdtemp(data));
    assert_int_equal(pull(data, audio_id, expected_sha), 0);
    size_t n;
    char *got = installed(data, &n);
    assert_non_null(got);
    assert_int_equal(n, original.body_len);
    assert_memory_equal(got, original.body, n);
    free(got);
    /* interrupted: the first third is already on disk as .part; pull asks for the rest only */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -f %s/weights/voice/voice.dat", data);
    assert_int_equal(system(cmd), 0);
    snprintf(part, sizeof part, "%s/weights/voice/voice.dat.part", data);
    FILE *f = fopen(part, "wb");
    fwrite(original.body, 1, original.body_len / 3, f);
    fclose(f);
    assert_int_equal(pull(data, audio_id, expected_sha), 0);
    got = installed(data, &n);
    assert_int_equal(n, original.body_len);
    assert_memory_equal(got, original.body, n);
    free(got);
    assert_int_equal(access(part, F_OK), -1);
    snprintf(cmd, sizeof cmd, "rm -rf %s", data);
    assert_int_equal(system(cmd), 0);
}

static void bad_checksum_and_404_install_nothing(void **state)
{
    char data[] = "/tmp/vcs-pulldata-XXXXXX", cmd[600], part[400];
    assert_non_null(mkdtemp(data));
    assert_int_not_equal(pull(data, audio_id, "0000000000000000000000000000000000000000000000000000000000000000"), 0);
    size_t n;
    assert_null(installed(data, &n));
    snprintf(part, sizeof part, "%s/weights/voice/voice.dat.part", data);
    assert_int_equal(access(part, F_OK), -1);
    assert_int_not_equal(pull(data, "audio_doesnotexist", NULL), 0);
    assert_null(installed(data, &n));
    snprintf(cmd, sizeof cmd, "rm -rf %s", data);
    assert_int_equal(system(cmd), 0);
}

static void import_accepts_checkpoints_and_refuses_hostile_files(void **state)
{
    char data[] = "/tmp/vcs-pulldata-XXXXXX", cmd[2048], bin[512], p[600];
    assert_non_null(mkdtemp(data));
    test_server_binary(bin, sizeof bin);
    snprintf(cmd, sizeof cmd, "%s models import %s/tests/golden/f5tts/tiny/weights.safetensors --to f5tts --data %s >/dev/null", bin, root, data);
    assert_int_equal(system(cmd), 0);
    snprintf(p, sizeof p, "%s/weights/f5tts/weights.safetensors", data);
    assert_int_equal(access(p, R_OK), 0);
    snprintf(cmd, sizeof cmd, "%s models import %s/tests/nn/fixtures/hostile/pt_evil_root.pt --to rvc --data %s 2>/dev/null", bin, root, data);
    assert_int_not_equal(system(cmd), 0);
    snprintf(p, sizeof p, "%s/weights/rvc/pt_evil_root.pt", data);
    assert_int_equal(access(p, F_OK), -1);
    /* --as names the file inside the folder (the studio looks for hubert/hubert_base.pt); a name
     * that leaves the folder is refused */
    snprintf(cmd, sizeof cmd, "%s models import %s/tests/golden/rvc/hubert_small/hubert_fairseq_style.pt --to hubert --as hubert_base.pt "
             "--data %s >/dev/null", bin, root, data);
    assert_int_equal(system(cmd), 0);
    snprintf(p, sizeof p, "%s/weights/hubert/hubert_base.pt", data);
    assert_int_equal(access(p, R_OK), 0);
    snprintf(p, sizeof p, "%s/weights/hubert/hubert_base.pt.part", data);
    assert_int_equal(access(p, F_OK), -1);
    snprintf(cmd, sizeof cmd, "%s models import %s/tests/golden/rvc/hubert_small/hubert_fairseq_style.pt --to hubert --as ../escape.pt "
             "--data %s 2>/dev/null", bin, root, data);
    assert_int_not_equal(system(cmd), 0);
    snprintf(p, sizeof p, "%s/weights/escape.pt", data);
    assert_int_equal(access(p, F_OK), -1);
    snprintf(cmd, sizeof cmd, "rm -rf %s", data);
    assert_int_equal(system(cmd), 0);
}

static void pull_from_the_ui_is_a_job_with_progress(void **state)
{
    char manifest[] = "/tmp/vcs-pullmanifest-XXXXXX", base[512], env_m[600], env_b[600], path[700];
    close(mkstemp(manifest));
    FILE *f = fopen(manifest, "w");
    fprintf(f, "{\"packs\":{\"rvc\":[{\"folder\":\"hubert\",\"file\":\"voice.dat\",\"url\":\"https://example.invalid/x/%s\","
               "\"size\":null,\"sha256\":\"%s\"}]}}", audio_id, expected_sha);
    fclose(f);
    test_server_url(&S, base, sizeof base, "/api/download");
    snprintf(env_m, sizeof env_m, "VCS_MODELS_MANIFEST=%s", manifest);
    snprintf(env_b, sizeof env_b, "VCS_MODELS_BASE_URL=%s", base);
    const char *const env[] = {env_m, env_b, NULL};
    test_server S2;
    assert_int_equal(test_server_start(&S2, env, NULL), 0);
    json_t *bad = api_call(&S2, "POST", "/api/weights/pull", "{\"pack\":\"everything\"}", 400);
    assert_non_null(strstr(json_string_value(json_object_get(bad, "message")), "f5tts, rvc, rvc-pretrained"));
    json_t *j = api_call(&S2, "POST", "/api/weights/pull", "{\"pack\":\"rvc\"}", 202);
    char job[64];
    snprintf(job, sizeof job, "%s", json_string_value(json_object_get(j, "job_id")));
    assert_string_equal(api_wait_terminal(&S2, job, 60), "complete");
    snprintf(path, sizeof path, "%s/weights/hubert/voice.dat", S2.data_dir);
    size_t n;
    char *got = test_file_read(path, &n);
    assert_non_null(got);
    assert_int_equal(n, original.body_len);
    assert_memory_equal(got, original.body, n);
    free(got);
    /* progress with bytes and speed, over the same SSE stream as every job */
    char url[600];
    snprintf(path, sizeof path, "/api/progress/%s", job);
    http_response res = {0};
    assert_int_equal(http_request("GET", test_server_url(&S2, url, sizeof url, path), NULL, NULL, 0, &res), 0);
    if (!strstr(res.body, "\"bytes_done\"") || !strstr(res.body, "\"bytes_per_second\"") || !strstr(res.body, "downloading"))
        fail_msg("no byte progress in the stream: %s", res.body);
    http_response_free(&res);
    /* the system status now says it is installed; pulling again skips it */
    json_t *sys = json_object_get(api_call(&S2, "GET", "/api/system", NULL, 200), "weights");
    for (size_t i = 0; i < json_array_size(sys); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(sys, i), "name")), "hubert_base"))
            assert_true(json_is_true(json_object_get(json_array_get(sys, i), "installed")));
    j = api_call(&S2, "POST", "/api/weights/pull", "{\"pack\":\"rvc\"}", 202);
    snprintf(job, sizeof job, "%s", json_string_value(json_object_get(j, "job_id")));
    assert_string_equal(api_wait_terminal(&S2, job, 60), "complete");
    snprintf(path, sizeof path, "/api/jobs/%s", job);
    json_t *result = json_object_get(api_call(&S2, "GET", path, NULL, 200), "result");
    assert_string_equal(json_string_value(json_array_get(json_object_get(result, "skipped"), 0)), "hubert/voice.dat");
    assert_int_equal(test_server_stop(&S2), 0);
    unlink(manifest);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_and_resumed_downloads_are_exact), cmocka_unit_test(bad_checksum_and_404_install_nothing),
        cmocka_unit_test(import_accepts_checkpoints_and_refuses_hostile_files),
        cmocka_unit_test(pull_from_the_ui_is_a_job_with_progress),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
