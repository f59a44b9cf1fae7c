/*
 * The quick clone's speech-to-speech path through the API, with the tiny golden F5-TTS/Vocos and
 * the random-weight golden Whisper installed as an offline user installs them:
 *   - a voice sample under 3 s → 400 AUDIO_TOO_SHORT (convert and estimate alike);
 *   - a silent target → 400 QUALITY_TOO_LOW "no speech found" (convert and transcribe);
 *   - POST /api/transcribe: "we heard" for a sample (its clip) and a target, with progress
 *     events carrying eta_seconds;
 *   - POST /api/convert/f5tts/estimate: the expected time, nothing queued;
 *   - target_segments (an edited transcript) spoken in their spans, pitch_shift, and the
 *     brief's request shape {reference_audio_id, target_audio_id, parameters{speed, pitch_shift}}.
 * Whisper's words are nonsense with random weights; the paths and the checks are the real ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
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
static char ref_id[64], target_id[64], silent_id[64], short_id[64];

static void upload(const char *path, const char *route, char *id, size_t cap)
{
    char url[512];
    http_response res = {0};
    assert_int_equal(http_post_form(test_server_url(&S, url, sizeof url, route), NULL, path, "clip.wav", NULL, &res), 0);
    if (res.status != 200) fail_msg("upload %s: %ld %s", route, res.status, res.body);
    snprintf(id, cap, "%s", json_string_value(json_object_get(http_json(&res), "file_id")));
    http_response_free(&res);
}

static void install(const char *bin, const char *root, const char *file, const char *to, const char *as)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s models import %s/tests/golden/%s --to %s %s %s --data %s >/dev/null", bin, root, file, to,
             as ? "--as" : "", as ? as : "", S.data_dir);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    if (test_server_start(&S, NULL, NULL) != 0) return -1;
    const char *root = getenv("VCS_TEST_ROOT") ? getenv("VCS_TEST_ROOT") : ".";
    char bin[1024], path[] = "/tmp/vcs-qc-XXXXXX", cmd[2048];
    test_server_binary(bin, sizeof bin);
    install(bin, root, "f5tts/tiny/weights.safetensors", "f5tts", NULL);
    install(bin, root, "f5tts/tiny/vocab.txt", "f5tts", NULL);
    install(bin, root, "f5tts/tiny/pytorch_model.bin", "vocos", NULL);
    install(bin, root, "whisper/tiny_multilingual/model.pt", "whisper", "base.pt");
    install(bin, root, "whisper/tiny_multilingual/multilingual.tiktoken", "whisper", NULL);
    close(mkstemp(path));
    /* the voice sample: the golden ref.wav (1.5 s) three times */
    snprintf(cmd, sizeof cmd, "sox %s/tests/golden/f5tts/tiny/ref.wav -t wav %s repeat 3", root, path);
    if (system(cmd) != 0) return -1;
    upload(path, "/api/upload/reference-audio", ref_id, sizeof ref_id);
    if (test_audio_speech(path, 5.0) != 0) return -1; /* a target: espeak speech */
    upload(path, "/api/upload/target-audio", target_id, sizeof target_id);
    if (test_audio_tone(path, 16000, 1, 5.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "silence", 0) != 0) return -1;
    upload(path, "/api/upload/target-audio", silent_id, sizeof silent_id);
    if (test_audio_tone(path, 16000, 1, 2.0, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.3) != 0) return -1;
    upload(path, "/api/upload/target-audio", short_id, sizeof short_id); /* a target may be 2 s; a voice sample may not */
    unlink(path);
    return 0;
}

static int teardown(void **state) { return test_server_stop(&S) == 0 ? 0 : -1; }

static void assert_error(json_t *j, const char *code, const char *words)
{
    assert_string_equal(json_string_value(json_object_get(j, "error_code")), code);
    const char *m = json_string_value(json_object_get(j, "message"));
    if (!m || !strstr(m, words)) fail_msg("message %s lacks \"%s\"", m ? m : "(none)", words);
}

static void short_voice_sample_is_refused(void **state)
{
    char body[512];
    snprintf(body, sizeof body, "{\"reference_audio_id\":\"%s\",\"target_audio_id\":\"%s\"}", short_id, target_id);
    assert_error(api_call(&S, "POST", "/api/convert/f5tts", body, 400), "AUDIO_TOO_SHORT", "at least 3 s");
    assert_error(api_call(&S, "POST", "/api/convert/f5tts/estimate", body, 400), "AUDIO_TOO_SHORT", "at least 3 s");
    snprintf(body, sizeof body, "{\"reference_audio_id\":\"%s\",\"reference_text\":\"a\",\"text\":\"b\"}", short_id);
    assert_error(api_call(&S, "POST", "/api/convert/f5tts", body, 400), "AUDIO_TOO_SHORT", "at least 3 s"); /* text mode too */
    snprintf(body, sizeof body, "{\"audio_id\":\"%s\",\"purpose\":\"reference\"}", short_id);
    assert_error(api_call(&S, "POST", "/api/transcribe", body, 400), "AUDIO_TOO_SHORT", "at least 3 s");
    assert_int_equal(json_array_size(json_object_get(api_call(&S, "GET", "/api/jobs", NULL, 200), "jobs")), 0); /* nothing queued */
}

static void silent_target_is_no_speech(void **state)
{
    char body[512];
    snprintf(body, sizeof body, "{\"reference_audio_id\":\"%s\",\"target_audio_id\":\"%s\"}", ref_id, silent_id);
    assert_error(api_call(&S, "POST", "/api/convert/f5tts", body, 400), "QUALITY_TOO_LOW", "no speech found");
    snprintf(body, sizeof body, "{\"audio_id\":\"%s\",\"purpose\":\"target\"}", silent_id);
    assert_error(api_call(&S, "POST", "/api/transcribe", body, 400), "QUALITY_TOO_LOW", "no speech found");
    snprintf(body, sizeof body, "{\"audio_id\":\"%s\",\"purpose\":\"song\"}", target_id);
    api_call(&S, "POST", "/api/transcribe", body, 400);
}

static json_t *finished_result(const char *id, double seconds)
{
    char path[128];
    const char *st = api_wait_terminal(&S, id, seconds);
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    json_t *j = api_call(&S, "GET", path, NULL, 200);
    if (strcmp(st, "complete")) fail_msg("job %s: %s: %s", id, st, json_dumps(j, 0));
    return json_incref(json_object_get(j, "result"));
}

/* The job's replayed stream: every progress event of the given phase carries eta_seconds ≥ 0. */
static void assert_phase_has_eta(const char *id, const char *phase)
{
    char url[512], path[128], want[64];
    snprintf(path, sizeof path, "/api/progress/%s", id);
    snprintf(want, sizeof want, "\"phase\":\"%s\"", phase);
    http_response res = {0};
    assert_int_equal(http_request("GET", test_server_url(&S, url, sizeof url, path), NULL, NULL, 0, &res), 0);
    int seen = 0;
    for (char *line = strtok(res.body, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "data: ", 6) || !strstr(line, want)) continue;
        json_t *d = json_loads(line + 6, 0, NULL);
        json_t *eta = json_object_get(d, "eta_seconds");
        if (!json_is_number(eta) || json_number_value(eta) < 0) fail_msg("no eta_seconds in %s", line);
        json_decref(d);
        seen++;
    }
    if (seen < 2) fail_msg("%d %s progress events in the stream of %s", seen, phase, id);
    http_response_free(&res);
}

static void transcribe_reports_what_we_heard(void **state)
{
    char body[512], id[64];
    snprintf(body, sizeof body, "{\"audio_id\":\"%s\",\"purpose\":\"target\"}", target_id);
    json_t *j = api_call(&S, "POST", "/api/transcribe", body, 202);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "transcription_started");
    assert_true(json_is_number(json_object_get(j, "estimated_duration_seconds")));
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "job_id")));
    json_t *r = finished_result(id, 120);
    assert_string_equal(json_string_value(json_object_get(r, "purpose")), "target");
    assert_true(json_string_length(json_object_get(r, "text")) > 0);
    json_t *segs = json_object_get(r, "segments");
    assert_true(json_array_size(segs) >= 1);
    double dur = json_number_value(json_object_get(r, "duration_seconds"));
    size_t i;
    json_t *g;
    json_array_foreach(segs, i, g) {
        double a = json_number_value(json_object_get(g, "start")), b = json_number_value(json_object_get(g, "end"));
        assert_true(a >= 0 && b >= a && a <= dur + 0.05);
        assert_true(json_string_length(json_object_get(g, "text")) > 0);
    }
    json_decref(r);
    assert_phase_has_eta(id, "voice encoding");

    snprintf(body, sizeof body, "{\"audio_id\":\"%s\",\"purpose\":\"reference\"}", ref_id);
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(api_call(&S, "POST", "/api/transcribe", body, 202), "job_id")));
    r = finished_result(id, 120);
    double clip = json_number_value(json_object_get(r, "clip_seconds"));
    assert_true(clip >= 3.0 && clip <= 12.0); /* the clip the quick clone uses, not the file */
    assert_true(json_string_length(json_object_get(r, "text")) > 0);
    json_decref(r);
}

static void edited_segments_are_spoken_in_their_spans(void **state)
{
    char body[1024], id[64], path[128];
    snprintf(body, sizeof body,
             "{\"reference_audio_id\":\"%s\",\"reference_text\":\"Some call me nature.\",\"target_audio_id\":\"%s\","
             "\"target_segments\":[{\"start\":0.5,\"end\":1.8,\"text\":\"Hello there.\"},{\"start\":2.5,\"end\":4.0,\"text\":\"How are you?\"}],"
             "\"parameters\":{\"nfe_step\":2,\"seed\":1,\"pitch_shift\":3}}",
             ref_id, target_id);
    json_t *est = api_call(&S, "POST", "/api/convert/f5tts/estimate", body, 200);
    assert_true(json_number_value(json_object_get(est, "estimated_duration_seconds")) > 0);
    assert_int_equal(json_array_size(json_object_get(api_call(&S, "GET", "/api/jobs", NULL, 200), "jobs")), 2); /* the two transcriptions */
    json_t *j = api_call(&S, "POST", "/api/convert/f5tts", body, 202);
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "job_id")));
    json_t *r = finished_result(id, 120);
    assert_string_equal(json_string_value(json_object_get(r, "text")), "Hello there. How are you?");
    assert_int_equal(json_array_size(json_object_get(r, "target_segments")), 2);
    double out_seconds = json_number_value(json_object_get(r, "duration_seconds"));
    snprintf(path, sizeof path, "/api/audio/%s", target_id);
    double target_seconds = json_number_value(json_object_get(api_call(&S, "GET", path, NULL, 200), "duration_seconds"));
    assert_float_equal(out_seconds, target_seconds, 0.05); /* lines up with the original */
    json_decref(r);
    assert_phase_has_eta(id, "generating");

    snprintf(body, sizeof body, "{\"reference_audio_id\":\"%s\",\"reference_text\":\"a\",\"text\":\"b\",\"parameters\":{\"pitch_shift\":13}}", ref_id);
    assert_error(api_call(&S, "POST", "/api/convert/f5tts", body, 400), "INVALID_REQUEST", "pitch_shift");
    snprintf(body, sizeof body, "{\"reference_audio_id\":\"%s\",\"text\":\"b\",\"target_segments\":[]}", ref_id);
    api_call(&S, "POST", "/api/convert/f5tts", body, 400); /* segments without a target recording */
    snprintf(body, sizeof body, "{\"reference_audio_id\":\"%s\",\"target_audio_id\":\"%s\",\"target_segments\":[{\"start\":1}]}", ref_id, target_id);
    api_call(&S, "POST", "/api/convert/f5tts", body, 400);
}

/* The replayed stream of a finished job: percent never decreases and the phases come in the
 * brief's order (queued → starting → preprocessing → voice encoding → generating → vocoding → saving), each once. */
static void assert_stream_moves_forward(const char *id)
{
    static const char *const ORDER[] = {"queued", "starting", "preprocessing", "voice encoding", "generating", "vocoding", "saving"};
    char url[512], path[128];
    snprintf(path, sizeof path, "/api/progress/%s", id);
    http_response res = {0};
    assert_int_equal(http_request("GET", test_server_url(&S, url, sizeof url, path), NULL, NULL, 0, &res), 0);
    double last = -1;
    int rank = 0, events = 0;
    for (char *line = strtok(res.body, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "data: ", 6)) continue;
        json_t *d = json_loads(line + 6, 0, NULL);
        const char *phase = json_string_value(json_object_get(d, "phase"));
        json_t *pct = json_object_get(d, "percent");
        if (phase && json_is_number(pct)) {
            int r = 0;
            while (r < 7 && strcmp(ORDER[r], phase)) r++;
            if (r == 7) fail_msg("unknown phase %s", phase);
            if (r < rank) fail_msg("phase went back to %s: %s", phase, line);
            if (json_number_value(pct) < last) fail_msg("percent went back from %.1f: %s", last, line);
            rank = r;
            last = json_number_value(pct);
            events++;
        }
        json_decref(d);
    }
    assert_true(events >= 5);
    assert_int_equal(rank, 6); /* reached saving */
    http_response_free(&res);
}

/* The brief's request as written (§3.2 endpoint 3): no text anywhere. */
static void brief_request_shape_works(void **state)
{
    char body[512], id[64];
    snprintf(body, sizeof body, "{\"reference_audio_id\":\"%s\",\"target_audio_id\":\"%s\",\"parameters\":{\"speed\":1.0,\"pitch_shift\":0}}",
             ref_id, target_id);
    json_t *j = api_call(&S, "POST", "/api/convert/f5tts", body, 202);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "conversion_started");
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "job_id")));
    json_t *r = finished_result(id, 300);
    assert_non_null(json_string_value(json_object_get(r, "output_audio_id")));
    assert_non_null(json_string_value(json_object_get(r, "download_url")));
    assert_true(json_is_number(json_object_get(r, "duration_seconds")));
    assert_true(json_is_number(json_object_get(r, "processing_time_seconds")));
    assert_true(json_array_size(json_object_get(r, "target_segments")) >= 1);
    json_decref(r);
    assert_stream_moves_forward(id);
}

/* Whisper asks before every decoding step whether the job was cancelled: a long transcription
 * stops within a couple of seconds, not at the end of a 30 s window. */
static void transcription_cancels_promptly(void **state)
{
    char path[] = "/tmp/vcs-qcl-XXXXXX", id[64], body[256], job[64], url[128];
    close(mkstemp(path));
    assert_int_equal(test_audio_speech(path, 60.0), 0);
    upload(path, "/api/upload/target-audio", id, sizeof id);
    unlink(path);
    snprintf(body, sizeof body, "{\"audio_id\":\"%s\",\"purpose\":\"target\"}", id);
    snprintf(job, sizeof job, "%s", json_string_value(json_object_get(api_call(&S, "POST", "/api/transcribe", body, 202), "job_id")));
    for (int i = 0; i < 100 && strcmp(api_job_status(&S, job), "running"); i++) usleep(50000);
    usleep(1500000); /* well inside the first window */
    snprintf(url, sizeof url, "/api/jobs/%s", job);
    api_call(&S, "DELETE", url, NULL, 200);
    double t0 = api_now_ms();
    assert_string_equal(api_wait_terminal(&S, job, 10), "cancelled");
    if (api_now_ms() - t0 > 3000) fail_msg("cancel took %.0f ms", api_now_ms() - t0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(short_voice_sample_is_refused), cmocka_unit_test(silent_target_is_no_speech),
        cmocka_unit_test(transcribe_reports_what_we_heard), cmocka_unit_test(edited_segments_are_spoken_in_their_spans),
        cmocka_unit_test(brief_request_shape_works), cmocka_unit_test(transcription_cancels_promptly),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
