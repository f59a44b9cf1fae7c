/*
 * RVC voices through the real server: import (.pth + .index, .zip) → listed with what the file
 * says (version, rate, f0, index); refused imports (not RVC, truncated, index of another
 * dimension, too big, bad zip) leave nothing on disk; `voiceclone models import` lands in the same store; POST /api/convert/rvc end to end with the
 * tiny golden base models installed as if pulled → the four phases over SSE → a downloadable,
 * non-silent WAV at the model's rate; bad requests get the brief's codes; 0.2 s and silent inputs
 * finish; a running conversion can be cancelled and leaves no output; the estimate scales with the
 * input's length, from the throughput measured on this machine (data/throughput.json); a batch
 * (target_audio_ids) gives one output per file and all of them as one zip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sndfile.h>

#include "support/http_client.h"
#include "support/test_api.h"
#include "support/test_audio.h"
#include "support/test_server.h"

static test_server S;
/* the voice is ~1.0 MB: anything past 1.5 MB is "too big" here */
static const char *const ENV[] = {"VCS_MODEL_IMPORT_MAX_BYTES=1500000", NULL};
static char MODEL_ID[64];

static int setup(void **state) { return test_server_start(&S, ENV, NULL); }
static int teardown(void **state) { return test_server_stop(&S) == 0 ? 0 : -1; }

static const char *root(void) { return getenv("VCS_TEST_ROOT") ? getenv("VCS_TEST_ROOT") : "."; }

static const char *fixture(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/tests/%s", root(), rel);
    return out;
}

static json_t *call(const char *method, const char *path, const char *body, long want)
{
    return api_call(&S, method, path, body, want);
}

/* POST /api/models/import with curl's -F (the test client sends one file part only). */
static json_t *import_form(const char *parts, long want, http_response *res)
{
    char cmd[2048], out[] = "/tmp/vcs-import-XXXXXX", url[512];
    close(mkstemp(out));
    snprintf(cmd, sizeof cmd, "curl -s -o %s -w '%%{http_code}' %s '%s' > %s.code", out, parts,
             test_server_url(&S, url, sizeof url, "/api/models/import"), out);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s.code", out);
    size_t n;
    char *code = test_file_read(cmd, &n);
    unlink(cmd);
    memset(res, 0, sizeof *res);
    res->status = code ? atol(code) : 0;
    free(code);
    res->body = test_file_read(out, &res->body_len);
    unlink(out);
    if (res->status != want) fail_msg("import %s: %ld (want %ld): %s", parts, res->status, want, res->body);
    return http_json(res);
}

static int count_entries(const char *rel)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", S.data_dir, rel);
    DIR *d = opendir(path);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.' || strncmp(e->d_name, ".import-", 8) == 0;
    closedir(d);
    return n;
}

static void expect_import_refused(const char *parts, long status, const char *code, const char *message_part)
{
    http_response res;
    int models = count_entries("models");
    json_t *j = import_form(parts, status, &res);
    assert_string_equal(json_string_value(json_object_get(j, "error_code")), code);
    if (!strstr(json_string_value(json_object_get(j, "message")), message_part))
        fail_msg("message '%s' lacks '%s'", json_string_value(json_object_get(j, "message")), message_part);
    /* what people read says the same exact reason (each failure its own sentence), without server paths */
    const char *um = json_string_value(json_object_get(j, "user_message"));
    if (!strcmp(code, "INVALID_FORMAT") && (!um || !strstr(um, message_part) || strstr(um, S.data_dir)))
        fail_msg("user_message '%s' lacks '%s' or names a server path", um ? um : "(none)", message_part);
    http_response_free(&res);
    assert_int_equal(count_entries("models"), models); /* nothing left: no folder, no staging */
    /* The request's spooled parts are removed when the server completes the request, which may
     * be a moment after the client has read the reply (seen under load): give it up to 5 s. */
    for (int i = 0; i < 100 && count_entries("uploads/tmp") != 0; i++) usleep(50000);
    assert_int_equal(count_entries("uploads/tmp"), 0);
}

static void import_lists_the_voice_and_refuses_bad_files(void **state)
{
    char pth[512], idx[512], parts[2048];
    fixture(pth, sizeof pth, "models/rvc/fixtures/voice_v2_96.pth");
    fixture(idx, sizeof idx, "models/rvc/fixtures/voice_v2_96.index");
    http_response res;
    snprintf(parts, sizeof parts, "-F 'file=@%s' -F 'index=@%s' -F 'name=Tiny voice'", pth, idx);
    json_t *m = import_form(parts, 201, &res);
    snprintf(MODEL_ID, sizeof MODEL_ID, "%s", json_string_value(json_object_get(m, "model_id")));
    assert_string_equal(json_string_value(json_object_get(m, "name")), "Tiny voice");
    assert_string_equal(json_string_value(json_object_get(m, "version")), "v2");
    assert_int_equal(json_integer_value(json_object_get(m, "sample_rate")), 48000);
    assert_true(json_is_true(json_object_get(m, "f0")));
    assert_true(json_is_true(json_object_get(m, "has_index")));
    http_response_free(&res);
    json_t *list = json_object_get(call("GET", "/api/models", NULL, 200), "models");
    int listed = 0;
    for (size_t i = 0; i < json_array_size(list); i++)
        listed |= !strcmp(json_string_value(json_object_get(json_array_get(list, i), "model_id")), MODEL_ID);
    assert_true(listed);
    char path[600];
    snprintf(path, sizeof path, "%s/models/%s/config.json", S.data_dir, MODEL_ID);
    assert_int_equal(access(path, R_OK), 0);

    snprintf(parts, sizeof parts, "-F 'file=@%s'", fixture(path, sizeof path, "models/rvc/fixtures/not_a_voice.pth"));
    expect_import_refused(parts, 400, "INVALID_FORMAT", "is not an RVC voice model");
    snprintf(parts, sizeof parts, "-F 'file=@%s' -F 'index=@%s'", pth, fixture(path, sizeof path, "models/rvc/fixtures/voice_bad_dim.index"));
    expect_import_refused(parts, 400, "INVALID_FORMAT", "holds 32-dim features but the voice model expects 96");
    snprintf(parts, sizeof parts, "-F 'file=@%s'", fixture(path, sizeof path, "models/rvc/fixtures/voice_v3.pth"));
    expect_import_refused(parts, 400, "INVALID_FORMAT", "unknown RVC model version 'v3'");
    char cut[] = "/tmp/vcs-cut-XXXXXX", cmd[1200];
    close(mkstemp(cut));
    snprintf(cmd, sizeof cmd, "cp %s %s", pth, cut);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(test_file_truncate(cut, 0.6), 0);
    snprintf(parts, sizeof parts, "-F 'file=@%s;filename=cut.pth'", cut);
    expect_import_refused(parts, 400, "INVALID_FORMAT", "damaged or truncated");
    unlink(cut);
    snprintf(parts, sizeof parts, "-F 'file=@%s;filename=big.pth'", fixture(path, sizeof path, "golden/rvc/rmvpe_small/rmvpe.safetensors"));
    expect_import_refused(parts, 413, "FILE_TOO_LARGE", "exceeds the maximum");
}

static void import_of_a_zip_holding_pth_and_index(void **state)
{
    char dir[] = "/tmp/vcs-zip-XXXXXX", cmd[2048], parts[1024];
    assert_non_null(mkdtemp(dir));
    /* deflated entries, a folder and a readme beside the two files, as people share voices */
    snprintf(cmd, sizeof cmd, "python3 -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w',zipfile.ZIP_DEFLATED); "
             "z.write(sys.argv[2],'My Voice/my_voice.pth'); z.write(sys.argv[3],'My Voice/added_IVF64_Flat.index'); "
             "z.writestr('My Voice/readme.txt','hi'); z.close()\" %s/voice.zip %s/tests/models/rvc/fixtures/voice_v2_96.pth "
             "%s/tests/models/rvc/fixtures/voice_v2_96.index && head -c 400000 %s/voice.zip > %s/cut.zip",
             dir, root(), root(), dir, dir);
    assert_int_equal(system(cmd), 0);
    http_response res;
    snprintf(parts, sizeof parts, "-F 'file=@%s/voice.zip'", dir);
    json_t *m = import_form(parts, 201, &res);
    assert_string_equal(json_string_value(json_object_get(m, "name")), "voice"); /* from the file name */
    assert_true(json_is_true(json_object_get(m, "has_index")));
    http_response_free(&res);
    snprintf(parts, sizeof parts, "-F 'file=@%s/cut.zip'", dir);
    expect_import_refused(parts, 400, "INVALID_FORMAT", "zip:");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* The CLI imports into the same store the running server reads. */
static void cli_import_shows_up_in_the_api(void **state)
{
    char bin[512], cmd[2048], pth[512];
    snprintf(cmd, sizeof cmd, "%s models import %s --name 'From the CLI' --data %s >/dev/null", test_server_binary(bin, sizeof bin),
             fixture(pth, sizeof pth, "models/rvc/fixtures/voice_v2_96.pth"), S.data_dir);
    assert_int_equal(system(cmd), 0);
    json_t *list = json_object_get(call("GET", "/api/models", NULL, 200), "models");
    int found = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *m = json_array_get(list, i);
        if (strcmp(json_string_value(json_object_get(m, "name")), "From the CLI")) continue;
        found = 1;
        assert_false(json_is_true(json_object_get(m, "has_index")));
    }
    assert_true(found);
    int models = count_entries("models");
    snprintf(cmd, sizeof cmd, "%s models import %s --data %s 2>/dev/null", bin, fixture(pth, sizeof pth, "models/rvc/fixtures/voice_v3.pth"),
             S.data_dir);
    assert_int_not_equal(system(cmd), 0);
    assert_int_equal(count_entries("models"), models);
}

static void upload_target(const char *wav, char *id, size_t cap)
{
    char url[512];
    http_response res = {0};
    assert_int_equal(http_post_form(test_server_url(&S, url, sizeof url, "/api/upload/target-audio"), NULL, wav, "take.wav", NULL, &res), 0);
    if (res.status != 200) fail_msg("upload: %ld %s", res.status, res.body);
    snprintf(id, cap, "%s", json_string_value(json_object_get(http_json(&res), "file_id")));
    http_response_free(&res);
}

static const char *wait_terminal(const char *id, int seconds) { return api_wait_terminal(&S, id, seconds); }

static void submit_convert(const char *audio_id, const char *parameters, char *job_id, size_t cap)
{
    char body[512];
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"target_audio_id\":\"%s\"%s%s}", MODEL_ID, audio_id,
             parameters ? ",\"parameters\":" : "", parameters ? parameters : "");
    json_t *j = call("POST", "/api/convert/rvc", body, 202);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "conversion_started");
    assert_true(json_is_number(json_object_get(j, "estimated_duration_seconds")));
    snprintf(job_id, cap, "%s", json_string_value(json_object_get(j, "job_id")));
    char want[128];
    snprintf(want, sizeof want, "/api/progress/%s", job_id);
    assert_string_equal(json_string_value(json_object_get(j, "progress_stream_url")), want);
}

/* Downloads the job's output; checks rate, length (seconds ± 0.05) and that it is not silent. */
static void check_output_wav_at(const char *job_id, double seconds, int rate)
{
    char path[256], url[512], wav[] = "/tmp/vcs-rvc-out-XXXXXX";
    snprintf(path, sizeof path, "/api/jobs/%s", job_id);
    json_t *result = json_object_get(call("GET", path, NULL, 200), "result");
    char out[64];
    snprintf(out, sizeof out, "%s", json_string_value(json_object_get(result, "output_audio_id")));
    snprintf(path, sizeof path, "/api/download/%s?format=wav", out);
    http_response res = {0};
    assert_int_equal(http_request("GET", test_server_url(&S, url, sizeof url, path), NULL, NULL, 0, &res), 0);
    assert_int_equal(res.status, 200);
    int fd = mkstemp(wav);
    assert_int_equal(write(fd, res.body, res.body_len), (ssize_t)res.body_len);
    close(fd);
    http_response_free(&res);
    SF_INFO info = {0};
    SNDFILE *f = sf_open(wav, SFM_READ, &info);
    assert_non_null(f);
    assert_int_equal(info.samplerate, rate);
    assert_int_equal(info.channels, 1);
    assert_true(fabs((double)info.frames / rate - seconds) < 0.05);
    float *x = malloc(sizeof(float) * (size_t)info.frames);
    assert_int_equal(sf_readf_float(f, x, info.frames), info.frames);
    sf_close(f);
    unlink(wav);
    double energy = 0;
    for (sf_count_t i = 0; i < info.frames; i++) energy += (double)x[i] * x[i];
    free(x);
    assert_true(sqrt(energy / (double)info.frames) > 1e-3); /* not silence */
}

static void check_output_wav(const char *job_id, double seconds) { check_output_wav_at(job_id, seconds, 48000); }

static void convert_end_to_end(void **state)
{
    char wav[512], audio_id[64], job_id[64], body[512], cmd[2048];
    upload_target(fixture(wav, sizeof wav, "golden/rvc/pipeline_v2_e2e/input.wav"), audio_id, sizeof audio_id);
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"target_audio_id\":\"%s\"}", MODEL_ID, audio_id);
    json_t *missing = call("POST", "/api/convert/rvc", body, 503);
    assert_string_equal(json_string_value(json_object_get(missing, "error_code")), "WEIGHTS_MISSING");
    assert_non_null(strstr(json_string_value(json_object_get(missing, "message")), "voiceclone models pull rvc"));
    /* the base models installed the way an offline user does: voiceclone models import FILE --to FOLDER --as NAME */
    char bin[1024];
    test_server_binary(bin, sizeof bin);
    snprintf(cmd, sizeof cmd, "%s models import %s/tests/golden/rvc/hubert_small/hubert_fairseq_style.pt --to hubert --as hubert_base.pt "
             "--data %s >/dev/null && %s models import %s/tests/golden/rvc/rmvpe_small/rmvpe.safetensors --to rmvpe --as rmvpe.pt "
             "--data %s >/dev/null", bin, root(), S.data_dir, bin, root(), S.data_dir);
    assert_int_equal(system(cmd), 0);
    submit_convert(audio_id, "{\"pitch_shift\":2,\"index_rate\":0.5,\"filter_radius\":3,\"rms_mix_rate\":0.25,\"protect\":0.33}",
                   job_id, sizeof job_id);
    assert_string_equal(wait_terminal(job_id, 60), "complete");
    char path[128], url[512];
    snprintf(path, sizeof path, "/api/progress/%s", job_id);
    http_response res = {0};
    assert_int_equal(http_request("GET", test_server_url(&S, url, sizeof url, path), NULL, NULL, 0, &res), 0);
    const char *phases[] = {"\"loading model\"", "\"extracting features\"", "\"converting\"", "\"postprocessing\"", "event: complete"};
    const char *at = res.body;
    for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++) {
        const char *p = strstr(at, phases[i]);
        if (!p) fail_msg("stream lacks %s (in order): %s", phases[i], res.body);
        at = p;
    }
    assert_non_null(strstr(at, "\"output_audio_id\""));
    http_response_free(&res);
    check_output_wav(job_id, 0.98); /* the pipeline keeps whole 10 ms frames of the 1 s input */
    /* resample_sr: the same conversion delivered at 24 kHz */
    submit_convert(audio_id, "{\"resample_sr\":24000}", job_id, sizeof job_id);
    assert_string_equal(wait_terminal(job_id, 60), "complete");
    check_output_wav_at(job_id, 0.98, 24000);
}

static void bad_requests_get_the_brief_codes(void **state)
{
    char body[512], wav[512], audio_id[64];
    upload_target(fixture(wav, sizeof wav, "golden/rvc/pipeline_v2_e2e/input.wav"), audio_id, sizeof audio_id);
    snprintf(body, sizeof body, "{\"model_id\":\"model_nope\",\"target_audio_id\":\"%s\"}", audio_id);
    assert_string_equal(json_string_value(json_object_get(call("POST", "/api/convert/rvc", body, 404), "error_code")), "MODEL_NOT_FOUND");
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"target_audio_id\":\"audio_nope\"}", MODEL_ID);
    assert_string_equal(json_string_value(json_object_get(call("POST", "/api/convert/rvc", body, 404), "error_code")), "AUDIO_NOT_FOUND");
    static const char *const BAD[] = {"{\"index_rate\":1.5}", "{\"pitch_shift\":-30}", "{\"filter_radius\":2.5}",
                                      "{\"rms_mix_rate\":-0.1}", "{\"protect\":0.9}", "{\"speed\":1}", "[1]"};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"target_audio_id\":\"%s\",\"parameters\":%s}", MODEL_ID, audio_id, BAD[i]);
        assert_string_equal(json_string_value(json_object_get(call("POST", "/api/convert/rvc", body, 400), "error_code")), "INVALID_REQUEST");
    }
    snprintf(body, sizeof body, "{\"target_audio_id\":\"%s\"}", audio_id);
    call("POST", "/api/convert/rvc", body, 400);
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"target_audio_id\":\"%s\",\"extra\":1}", MODEL_ID, audio_id);
    call("POST", "/api/convert/rvc", body, 400);
}

static void short_and_silent_inputs_finish(void **state)
{
    char wav[] = "/tmp/vcs-rvc-in-XXXXXX", audio_id[64], job_id[64];
    close(mkstemp(wav));
    assert_int_equal(test_audio_tone(wav, 16000, 1, 0.2, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5), 0);
    upload_target(wav, audio_id, sizeof audio_id);
    submit_convert(audio_id, NULL, job_id, sizeof job_id);
    assert_string_equal(wait_terminal(job_id, 30), "complete");
    check_output_wav(job_id, 0.18);
    assert_int_equal(test_audio_tone(wav, 16000, 1, 2.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "silence", 0), 0);
    upload_target(wav, audio_id, sizeof audio_id);
    submit_convert(audio_id, NULL, job_id, sizeof job_id);
    assert_string_equal(wait_terminal(job_id, 30), "complete");
    unlink(wav);
}

static void cancel_a_running_conversion(void **state)
{
    char wav[] = "/tmp/vcs-rvc-long-XXXXXX", audio_id[64], job_id[64], path[128];
    close(mkstemp(wav));
    assert_int_equal(test_audio_tone(wav, 16000, 1, 60.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5), 0);
    upload_target(wav, audio_id, sizeof audio_id);
    unlink(wav);
    int outputs = count_entries("outputs/local");
    submit_convert(audio_id, NULL, job_id, sizeof job_id);
    snprintf(path, sizeof path, "/api/jobs/%s", job_id);
    for (int i = 0; i < 100 && strcmp(api_job_status(&S, job_id), "running"); i++) usleep(50000);
    usleep(300000);
    call("DELETE", path, NULL, 200);
    assert_string_equal(wait_terminal(job_id, 60), "cancelled");
    json_t *j = call("GET", path, NULL, 200);
    assert_null(json_object_get(j, "result"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "error_code")), "CANCELLED");
    assert_int_equal(count_entries("outputs/local"), outputs);
}

static double submit_estimate(const char *audio_id, char *job_id, size_t cap)
{
    char body[512];
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"target_audio_id\":\"%s\"}", MODEL_ID, audio_id);
    json_t *j = call("POST", "/api/convert/rvc", body, 202);
    snprintf(job_id, cap, "%s", json_string_value(json_object_get(j, "job_id")));
    return json_number_value(json_object_get(j, "estimated_duration_seconds"));
}

static void estimates_scale_with_the_input(void **state)
{
    char wav[] = "/tmp/vcs-rvc-eta-XXXXXX", short_id[64], long_id[64], job[64], path[700];
    close(mkstemp(wav));
    assert_int_equal(test_audio_tone(wav, 16000, 1, 3.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5), 0);
    upload_target(wav, short_id, sizeof short_id);
    assert_int_equal(test_audio_tone(wav, 16000, 1, 240.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5), 0);
    upload_target(wav, long_id, sizeof long_id);
    unlink(wav);
    submit_estimate(short_id, job, sizeof job); /* a finished conversion: the rate of this machine is measured */
    assert_string_equal(wait_terminal(job, 60), "complete");
    snprintf(path, sizeof path, "%s/throughput.json", S.data_dir);
    size_t n;
    char *saved = test_file_read(path, &n);
    if (!saved || !strstr(saved, "convert_rvc:v2:") || !strstr(saved, "seconds_per_unit")) fail_msg("throughput not kept: %s", saved);
    free(saved);
    double long_est = submit_estimate(long_id, job, sizeof job);
    snprintf(path, sizeof path, "/api/jobs/%s", job);
    call("DELETE", path, NULL, 200);
    assert_string_equal(wait_terminal(job, 60), "cancelled");
    double short_est = submit_estimate(short_id, job, sizeof job);
    assert_string_equal(wait_terminal(job, 60), "complete");
    /* the same rate × 240 s and × 3 s, plus the same fixed loading time */
    if (!(long_est > short_est + 1.0)) fail_msg("estimate for 240 s: %.1f s, for 3 s: %.1f s: it does not scale", long_est, short_est);
}

static void batch_converts_each_file_and_zips_them(void **state)
{
    char wav[] = "/tmp/vcs-rvc-batch-XXXXXX", a1[64], a2[64], body[512], job[64], path[200], url[600];
    close(mkstemp(wav));
    assert_int_equal(test_audio_tone(wav, 16000, 1, 1.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5), 0);
    upload_target(wav, a1, sizeof a1);
    assert_int_equal(test_audio_tone(wav, 16000, 1, 2.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5), 0);
    upload_target(wav, a2, sizeof a2);
    unlink(wav);
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"target_audio_ids\":[]}", MODEL_ID);
    call("POST", "/api/convert/rvc", body, 400);
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"target_audio_ids\":[\"%s\"],\"target_audio_id\":\"%s\"}", MODEL_ID, a1, a1);
    call("POST", "/api/convert/rvc", body, 400);
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"target_audio_ids\":[\"%s\",\"audio_nope\"]}", MODEL_ID, a1);
    call("POST", "/api/convert/rvc", body, 404);
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"target_audio_ids\":[\"%s\",\"%s\"]}", MODEL_ID, a1, a2);
    json_t *j = call("POST", "/api/convert/rvc", body, 202);
    snprintf(job, sizeof job, "%s", json_string_value(json_object_get(j, "job_id")));
    assert_string_equal(wait_terminal(job, 120), "complete");
    snprintf(path, sizeof path, "/api/jobs/%s", job);
    json_t *result = json_deep_copy(json_object_get(call("GET", path, NULL, 200), "result")); /* call() reuses its answer */
    json_t *outs = json_object_get(result, "outputs");
    assert_int_equal(json_array_size(outs), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *o = json_array_get(outs, i);
        assert_string_equal(json_string_value(json_object_get(o, "input_audio_id")), i ? a2 : a1);
        double d = json_number_value(json_object_get(o, "duration_seconds"));
        if (fabs(d - (i ? 2.0 : 1.0)) > 0.05) fail_msg("output %zu lasts %.2f s", i, d);
        snprintf(path, sizeof path, "/api/download/%s", json_string_value(json_object_get(o, "output_audio_id")));
        call("GET", path, NULL, 200); /* each file downloads on its own */
    }
    assert_string_equal(json_string_value(json_object_get(result, "output_audio_id")),
                        json_string_value(json_object_get(json_array_get(outs, 0), "output_audio_id")));
    http_response res = {0};
    assert_int_equal(http_request("GET", test_server_url(&S, url, sizeof url, json_string_value(json_object_get(result, "download_zip_url"))),
                                  NULL, NULL, 0, &res), 0);
    assert_int_equal(res.status, 200);
    assert_true(!memcmp(res.body, "PK\x03\x04", 4));
    char zip[] = "/tmp/vcs-batch-zip-XXXXXX", cmd[400];
    int fd = mkstemp(zip);
    assert_int_equal(write(fd, res.body, res.body_len), (ssize_t)res.body_len);
    close(fd);
    http_response_free(&res);
    snprintf(cmd, sizeof cmd, "python3 -c \"import zipfile,sys; z=zipfile.ZipFile('%s'); n=z.namelist(); "
             "sys.exit(z.testzip() is not None or len(n) != 2 or not n[0].startswith('01_take_rvc_'))\"", zip);
    assert_int_equal(system(cmd), 0);
    unlink(zip);
    json_decref(result);
    /* a single conversion has no zip */
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"target_audio_id\":\"%s\"}", MODEL_ID, a1);
    j = call("POST", "/api/convert/rvc", body, 202);
    snprintf(job, sizeof job, "%s", json_string_value(json_object_get(j, "job_id")));
    assert_string_equal(wait_terminal(job, 60), "complete");
    snprintf(path, sizeof path, "/api/jobs/%s/outputs.zip", job);
    call("GET", path, NULL, 404);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(import_lists_the_voice_and_refuses_bad_files),
        cmocka_unit_test(import_of_a_zip_holding_pth_and_index),
        cmocka_unit_test(cli_import_shows_up_in_the_api),
        cmocka_unit_test(convert_end_to_end),
        cmocka_unit_test(bad_requests_get_the_brief_codes),
        cmocka_unit_test(short_and_silent_inputs_finish),
        cmocka_unit_test(cancel_a_running_conversion),
        cmocka_unit_test(estimates_scale_with_the_input),
        cmocka_unit_test(batch_converts_each_file_and_zips_them),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
