/*
 * RVC text mode through the real server (POST /api/convert/rvc with text): F5-TTS speaks the
 * text, the voice converts it. With the tiny golden F5-TTS/Vocos, the random-weight golden
 * Whisper and the tiny RVC base models installed as an offline user installs them:
 *   - missing weights → 503 WEIGHTS_MISSING naming `voiceclone models pull f5tts`, then
 *     `… whisper` (when the reference must be transcribed), then `… rvc`;
 *   - bad requests → 400 with what to do (text and a target, reference_text without a reference,
 *     an imported voice with no training audio and no reference, a reference under 3 s, empty
 *     text, an unknown tts_parameters option), nothing queued;
 *   - a reference the user picks, with its text: the phases in order (speaking, then converting),
 *     the percent only rising, a non-silent WAV at the voice's rate, the texts in the result;
 *   - a voice trained here (tiny, one epoch) on a noisy and a clean copy of the same words, no
 *     reference given: the reference is the best 3-12 s window of its training recordings, from
 *     the clean one though it was listed second, reported with its place (start/end inside the
 *     recording), and transcribed with Whisper (words are nonsense with random weights; the path
 *     is the real one).
 */
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

#include "support/http_client.h"
#include "support/test_api.h"
#include "support/test_audio.h"
#include "support/test_server.h"

static test_server S;
static const char *const ENV[] = {"VCS_JOBS_TEST_KINDS=1", NULL}; /* the test-only "tiny" training size */
static char MODEL_ID[64], REF_ID[64], SHORT_REF_ID[64], TARGET_ID[64], TRAIN_ID[64], NOISY_TRAIN_ID[64];
static double TRAIN_SECONDS;

static const char *root(void) { return getenv("VCS_TEST_ROOT") ? getenv("VCS_TEST_ROOT") : "."; }

static json_t *call(const char *method, const char *path, const char *body, long want)
{
    return api_call(&S, method, path, body, want);
}

static void upload(const char *path, const char *route, char *id, size_t cap)
{
    char url[512];
    http_response res = {0};
    assert_int_equal(http_post_form(test_server_url(&S, url, sizeof url, route), NULL, path, "clip.wav", NULL, &res), 0);
    if (res.status != 200) fail_msg("upload %s: %ld %s", route, res.status, res.body);
    snprintf(id, cap, "%s", json_string_value(json_object_get(http_json(&res), "file_id")));
    http_response_free(&res);
}

static void install(const char *file, const char *to, const char *as)
{
    char bin[1024], cmd[4096];
    test_server_binary(bin, sizeof bin);
    snprintf(cmd, sizeof cmd, "%s models import %s/tests/golden/%s --to %s %s %s --data %s >/dev/null", bin, root(), file, to,
             as ? "--as" : "", as ? as : "", S.data_dir);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    if (test_server_start(&S, ENV, NULL) != 0) return -1;
    char bin[1024], path[] = "/tmp/vcs-rvct-XXXXXX", cmd[2048];
    close(mkstemp(path));
    /* the reference: the golden ref.wav (1.5 s) three times; a short one (any stored audio may be
     * a reference: a 2 s target upload) */
    snprintf(cmd, sizeof cmd, "sox %s/tests/golden/f5tts/tiny/ref.wav -t wav %s repeat 2", root(), path);
    if (system(cmd) != 0) return -1;
    upload(path, "/api/upload/reference-audio", REF_ID, sizeof REF_ID);
    if (test_audio_tone(path, 16000, 1, 2.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.3) != 0) return -1;
    upload(path, "/api/upload/target-audio", SHORT_REF_ID, sizeof SHORT_REF_ID);
    if (test_audio_speech(path, 3.0) != 0) return -1;
    upload(path, "/api/upload/target-audio", TARGET_ID, sizeof TARGET_ID);
    if (test_audio_speech(path, 20.0) != 0) return -1; /* training uploads need 10 s or more */
    upload(path, "/api/upload/training-audio", TRAIN_ID, sizeof TRAIN_ID);
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) return -1;
    sf_close(f);
    TRAIN_SECONDS = (double)info.frames / info.samplerate;
    /* the same words in a noisy room: the reference window must come from the clean one */
    char noisy[] = "/tmp/vcs-rvct-noisy-XXXXXX";
    close(mkstemp(noisy));
    snprintf(cmd, sizeof cmd, "sox %s -p synth whitenoise vol 0.03 | sox -m %s - -t wav %s", path, path, noisy);
    if (system(cmd) != 0) return -1;
    upload(noisy, "/api/upload/training-audio", NOISY_TRAIN_ID, sizeof NOISY_TRAIN_ID);
    unlink(noisy);
    unlink(path);
    /* an imported voice: it has no training audio */
    snprintf(cmd, sizeof cmd, "%s models import %s/tests/models/rvc/fixtures/voice_v2_96.pth --name Imported --data %s >/dev/null",
             test_server_binary(bin, sizeof bin), root(), S.data_dir);
    if (system(cmd) != 0) return -1;
    json_t *models = json_object_get(call("GET", "/api/models", NULL, 200), "models");
    snprintf(MODEL_ID, sizeof MODEL_ID, "%s", json_string_value(json_object_get(json_array_get(models, 0), "model_id")));
    return 0;
}

static int teardown(void **state) { return test_server_stop(&S) == 0 ? 0 : -1; }

static int jobs_count(void) { return (int)json_array_size(json_object_get(call("GET", "/api/jobs", NULL, 200), "jobs")); }

static void expect_refused(const char *body, long status, const char *code, const char *words)
{
    int before = jobs_count();
    json_t *j = call("POST", "/api/convert/rvc", body, status);
    assert_string_equal(json_string_value(json_object_get(j, "error_code")), code);
    const char *m = json_string_value(json_object_get(j, "message"));
    if (!m || !strstr(m, words)) fail_msg("message '%s' lacks '%s'", m ? m : "(none)", words);
    assert_int_equal(jobs_count(), before);
}

static void missing_weights_name_the_pack(void **state)
{
    char body[1024];
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"text\":\"Hello there.\",\"reference_audio_id\":\"%s\","
             "\"reference_text\":\"Some call me nature.\"}", MODEL_ID, REF_ID);
    expect_refused(body, 503, "WEIGHTS_MISSING", "voiceclone models pull f5tts");
    install("f5tts/tiny/weights.safetensors", "f5tts", NULL);
    install("f5tts/tiny/vocab.txt", "f5tts", NULL);
    install("f5tts/tiny/pytorch_model.bin", "vocos", NULL);
    char no_text[512];
    snprintf(no_text, sizeof no_text, "{\"model_id\":\"%s\",\"text\":\"Hello there.\",\"reference_audio_id\":\"%s\"}", MODEL_ID, REF_ID);
    expect_refused(no_text, 503, "WEIGHTS_MISSING", "voiceclone models pull whisper");
    expect_refused(body, 503, "WEIGHTS_MISSING", "voiceclone models pull rvc");
    install("whisper/tiny_multilingual/model.pt", "whisper", "base.pt");
    install("whisper/tiny_multilingual/multilingual.tiktoken", "whisper", NULL);
    install("rvc/hubert_small/hubert_fairseq_style.pt", "hubert", "hubert_base.pt");
    install("rvc/rmvpe_small/rmvpe.safetensors", "rmvpe", "rmvpe.pt");
}

static void bad_requests_say_what_to_do(void **state)
{
    char body[1024];
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"text\":\"Hi.\",\"target_audio_id\":\"%s\"}", MODEL_ID, TARGET_ID);
    expect_refused(body, 400, "INVALID_REQUEST", "not both");
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"text\":\"Hi.\",\"reference_text\":\"Some call me nature.\"}", MODEL_ID);
    expect_refused(body, 400, "INVALID_REQUEST", "reference_text needs reference_audio_id");
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"text\":\"Hi.\"}", MODEL_ID);
    expect_refused(body, 400, "INVALID_REQUEST", "no training recording");
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"text\":\"Hi.\",\"reference_audio_id\":\"%s\"}", MODEL_ID, SHORT_REF_ID);
    expect_refused(body, 400, "AUDIO_TOO_SHORT", "at least 3 s");
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"text\":\"  \",\"reference_audio_id\":\"%s\"}", MODEL_ID, REF_ID);
    expect_refused(body, 400, "INVALID_REQUEST", "non-empty");
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"text\":\"Hi.\",\"reference_audio_id\":\"%s\",\"tts_parameters\":{\"steps\":2}}",
             MODEL_ID, REF_ID);
    expect_refused(body, 400, "INVALID_REQUEST", "tts_parameters.steps");
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"text\":\"Hi.\",\"reference_audio_id\":\"nosuchaudio\"}", MODEL_ID);
    expect_refused(body, 404, "AUDIO_NOT_FOUND", "not found");
}

static char *stream_of(const char *job_id)
{
    char path[160], url[512];
    snprintf(path, sizeof path, "/api/progress/%s", job_id);
    http_response res = {0};
    assert_int_equal(http_request("GET", test_server_url(&S, url, sizeof url, path), NULL, NULL, 0, &res), 0);
    char *body = res.body;
    res.body = NULL;
    http_response_free(&res);
    return body;
}

/* The phases in order, the percent never falling, and complete last. */
static void assert_stream(const char *job_id)
{
    char *body = stream_of(job_id);
    const char *phases[] = {"\"preprocessing\"", "\"generating\"", "\"loading model\"", "\"converting\"", "\"postprocessing\"",
                            "event: complete"};
    const char *at = body;
    for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++) {
        const char *p = strstr(at, phases[i]);
        if (!p) fail_msg("stream lacks %s (in order): %s", phases[i], body);
        at = p;
    }
    double last = -1;
    for (const char *p = strstr(body, "\"percent\":"); p; p = strstr(p + 1, "\"percent\":")) {
        double v = atof(p + 10);
        if (v + 1e-9 < last) fail_msg("percent fell from %g to %g: %s", last, v, body);
        last = v;
    }
    assert_true(last >= 90);
    free(body);
}

/* The job's output: rate, length within 0.05 s of the speech's, not silent. */
static void check_output(json_t *result, int rate)
{
    char path[160], url[512], wav[] = "/tmp/vcs-rvct-out-XXXXXX";
    snprintf(path, sizeof path, "/api/download/%s?format=wav", json_string_value(json_object_get(result, "output_audio_id")));
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
    float *x = malloc(sizeof(float) * (size_t)info.frames);
    assert_int_equal(sf_readf_float(f, x, info.frames), info.frames);
    sf_close(f);
    unlink(wav);
    double speech = json_number_value(json_object_get(result, "speech_seconds")), energy = 0;
    assert_true(speech > 0.2);
    assert_true(fabs((double)info.frames / rate - speech) < 0.05);
    for (sf_count_t i = 0; i < info.frames; i++) energy += (double)x[i] * x[i];
    free(x);
    assert_true(sqrt(energy / (double)info.frames) > 1e-3);
}

static json_t *run_to_complete(const char *body)
{
    json_t *j = call("POST", "/api/convert/rvc", body, 202);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "conversion_started");
    assert_true(json_number_value(json_object_get(j, "estimated_duration_seconds")) > 0);
    char id[64], path[160];
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "job_id")));
    const char *st = api_wait_terminal(&S, id, 180);
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    json_t *job = call("GET", path, NULL, 200);
    if (strcmp(st, "complete")) fail_msg("job %s ended %s: %s", id, st, json_dumps(job, JSON_COMPACT));
    assert_stream(id);
    return json_deep_copy(json_object_get(job, "result"));
}

static void speaks_text_with_a_picked_reference(void **state)
{
    char body[1024];
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"text\":\"Hello there, this is a test.\",\"reference_audio_id\":\"%s\","
             "\"reference_text\":\"Some call me nature.\",\"tts_parameters\":{\"nfe_step\":2,\"seed\":1},"
             "\"parameters\":{\"pitch_shift\":0}}", MODEL_ID, REF_ID);
    json_t *r = run_to_complete(body);
    assert_string_equal(json_string_value(json_object_get(r, "text")), "Hello there, this is a test.");
    assert_string_equal(json_string_value(json_object_get(r, "reference_text")), "Some call me nature.");
    assert_string_equal(json_string_value(json_object_get(r, "reference_audio_id")), REF_ID);
    assert_string_equal(json_string_value(json_object_get(r, "reference_source")), "request");
    assert_string_equal(json_string_value(json_object_get(r, "model_id")), MODEL_ID);
    assert_int_equal(json_integer_value(json_object_get(r, "sample_rate")), 48000);
    check_output(r, 48000);
    json_decref(r);
}

static void speaks_text_from_the_training_audio(void **state)
{
    char body[1024], job[64], model[64];
    /* the noisy recording first: taking the first training recording would take it */
    snprintf(body, sizeof body, "{\"training_audio_ids\":[\"%s\",\"%s\"],\"model_name\":\"Trained\",\"voice_consent\":true,"
             "\"accept_noisy_audio\":true,\"training_params\":{\"model_size\":\"tiny\",\"batch_size\":2,\"epochs\":1}}",
             NOISY_TRAIN_ID, TRAIN_ID);
    json_t *j = call("POST", "/api/train", body, 202);
    snprintf(job, sizeof job, "%s", json_string_value(json_object_get(j, "job_id")));
    snprintf(model, sizeof model, "%s", json_string_value(json_object_get(j, "model_id")));
    assert_string_equal(api_wait_terminal(&S, job, 300), "complete");
    snprintf(body, sizeof body, "{\"model_id\":\"%s\",\"text\":\"Good morning.\",\"tts_parameters\":{\"nfe_step\":2}}", model);
    json_t *r = run_to_complete(body);
    assert_string_equal(json_string_value(json_object_get(r, "reference_source")), "training_audio");
    assert_string_equal(json_string_value(json_object_get(r, "reference_audio_id")), TRAIN_ID);
    /* the window: inside the recording, 3-12 s */
    double start = json_number_value(json_object_get(r, "reference_start_seconds"));
    double end = json_number_value(json_object_get(r, "reference_end_seconds"));
    assert_true(json_is_number(json_object_get(r, "reference_start_seconds")));
    assert_true(json_is_number(json_object_get(r, "reference_end_seconds")));
    if (!(start >= 0 && end <= TRAIN_SECONDS + 1e-3 && end - start >= 3.0 && end - start <= 12.0))
        fail_msg("reference window %.3f-%.3f s of a %.3f s recording", start, end, TRAIN_SECONDS);
    assert_true(json_is_string(json_object_get(r, "reference_text"))); /* Whisper's transcript of the clip */
    assert_string_equal(json_string_value(json_object_get(r, "text")), "Good morning.");
    check_output(r, (int)json_integer_value(json_object_get(r, "sample_rate")));
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(missing_weights_name_the_pack),
        cmocka_unit_test(bad_requests_say_what_to_do),
        cmocka_unit_test(speaks_text_with_a_picked_reference),
        cmocka_unit_test(speaks_text_from_the_training_audio),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
