/*
 * Instant voices through the API (POST/GET/PATCH/DELETE /api/voices): a quick-clone reference clip
 * saved under a name with its transcript, then reused by POST /api/convert/f5tts {voice_id} with no
 * new upload, with the tiny golden F5-TTS/Vocos weights:
 *   - the library lists it with its kind, name, clip length and transcript; rename and transcript
 *     edits stick; bad names, unknown clips and unknown voices are refused;
 *   - a generation from voice_id speaks with the voice's clip and transcript (the job's result
 *     carries the transcript used), and its estimate is answered as for reference_audio_id;
 *   - voice_id and reference_audio_id together are refused; the brief's shape keeps working;
 *   - POST /api/jobs {kind: convert_f5tts, params: {voice_id, ...}} resolves the voice the same way;
 *   - the clip cannot be deleted while the voice exists (409), and can once the voice is gone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/http_client.h"
#include "support/test_api.h"
#include "support/test_server.h"

#define REF_TEXT "Some call me nature, others call me mother nature."

static test_server S;
static char ref_id[64];

static void install(const char *bin, const char *root, const char *file, const char *to)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s models import %s/tests/golden/%s --to %s --data %s >/dev/null", bin, root, file, to,
             S.data_dir);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    if (test_server_start(&S, NULL, NULL) != 0) return -1;
    const char *root = getenv("VCS_TEST_ROOT") ? getenv("VCS_TEST_ROOT") : ".";
    char bin[1024], path[] = "/tmp/vcs-voice-XXXXXX", cmd[2048], url[512];
    test_server_binary(bin, sizeof bin);
    install(bin, root, "f5tts/tiny/weights.safetensors", "f5tts");
    install(bin, root, "f5tts/tiny/vocab.txt", "f5tts");
    install(bin, root, "f5tts/tiny/pytorch_model.bin", "vocos");
    close(mkstemp(path));
    snprintf(cmd, sizeof cmd, "sox %s/tests/golden/f5tts/tiny/ref.wav -t wav %s repeat 3", root, path);
    if (system(cmd) != 0) return -1;
    http_response res = {0};
    if (http_post_form(test_server_url(&S, url, sizeof url, "/api/upload/reference-audio"), NULL, path, "narrator.wav", NULL,
                       &res) != 0 || res.status != 200)
        return -1;
    snprintf(ref_id, sizeof ref_id, "%s", json_string_value(json_object_get(http_json(&res), "file_id")));
    http_response_free(&res);
    unlink(path);
    return 0;
}

static int teardown(void **state) { return test_server_stop(&S) == 0 ? 0 : -1; }

static void assert_code(json_t *j, const char *code)
{
    assert_string_equal(json_string_value(json_object_get(j, "error_code")), code);
}

/* Saves the reference as a voice; its id into id. */
static void save_voice(const char *name, const char *text, char *id, size_t cap)
{
    char body[512];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"reference_audio_id\":\"%s\"%s%s%s}", name, ref_id,
             text ? ",\"reference_text\":\"" : "", text ? text : "", text ? "\"" : "");
    json_t *v = api_call(&S, "POST", "/api/voices", body, 201);
    snprintf(id, cap, "%s", json_string_value(json_object_get(v, "voice_id")));
}

static void a_voice_is_saved_listed_renamed_and_deleted(void **state)
{
    char id[64], path[128], body[512];
    save_voice("  Narrator ", REF_TEXT, id, sizeof id);
    json_t *list = json_object_get(api_call(&S, "GET", "/api/voices", NULL, 200), "voices");
    assert_int_equal(json_array_size(list), 1);
    json_t *v = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(v, "voice_id")), id);
    assert_string_equal(json_string_value(json_object_get(v, "name")), "Narrator"); /* trimmed */
    assert_string_equal(json_string_value(json_object_get(v, "kind")), "instant");
    assert_string_equal(json_string_value(json_object_get(v, "reference_text")), REF_TEXT);
    assert_string_equal(json_string_value(json_object_get(v, "reference_audio_id")), ref_id);
    assert_true(json_is_true(json_object_get(v, "audio_available")));
    double seconds = json_number_value(json_object_get(v, "duration_seconds")); /* v is gone after the next call */
    snprintf(path, sizeof path, "/api/audio/%s", ref_id);
    assert_true(seconds > 3); /* the clip's own length */
    assert_float_equal(seconds, json_number_value(json_object_get(api_call(&S, "GET", path, NULL, 200), "duration_seconds")), 1e-6);

    snprintf(path, sizeof path, "/api/voices/%s", id);
    v = api_call(&S, "PATCH", path, "{\"name\":\"Storyteller\"}", 200);
    assert_string_equal(json_string_value(json_object_get(v, "name")), "Storyteller");
    assert_string_equal(json_string_value(json_object_get(v, "reference_text")), REF_TEXT);
    api_call(&S, "PATCH", path, "{\"reference_text\":\"Corrected words.\"}", 200);
    v = api_call(&S, "GET", path, NULL, 200);
    assert_string_equal(json_string_value(json_object_get(v, "name")), "Storyteller");
    assert_string_equal(json_string_value(json_object_get(v, "reference_text")), "Corrected words.");

    /* refusals */
    api_call(&S, "PATCH", path, "{\"name\":\"   \"}", 400);
    api_call(&S, "PATCH", path, "{}", 400);
    assert_code(api_call(&S, "POST", "/api/voices", "{\"name\":\"x\",\"reference_audio_id\":\"audio_nope\"}", 404), "AUDIO_NOT_FOUND");
    snprintf(body, sizeof body, "{\"reference_audio_id\":\"%s\"}", ref_id);
    api_call(&S, "POST", "/api/voices", body, 400); /* no name */
    assert_code(api_call(&S, "GET", "/api/voices/voice_nope", NULL, 404), "MODEL_NOT_FOUND");

    /* the clip is held while the voice exists */
    snprintf(path, sizeof path, "/api/audio/%s", ref_id);
    json_t *e = api_call(&S, "DELETE", path, NULL, 409);
    assert_non_null(strstr(json_string_value(json_object_get(e, "user_message")), "saved voice"));
    snprintf(path, sizeof path, "/api/voices/%s", id);
    json_t *gone = api_call(&S, "DELETE", path, NULL, 200); /* json_is_true evaluates its argument twice */
    assert_true(json_is_true(json_object_get(gone, "deleted")));
    api_call(&S, "GET", path, NULL, 404);
    snprintf(path, sizeof path, "/api/audio/%s", ref_id);
    api_call(&S, "GET", path, NULL, 200); /* deleting the voice leaves the clip an ordinary upload */
    assert_int_equal(json_array_size(json_object_get(api_call(&S, "GET", "/api/voices", NULL, 200), "voices")), 0);
}

static json_t *finished_result(const char *id)
{
    char path[128];
    const char *st = api_wait_terminal(&S, id, 300);
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    json_t *j = api_call(&S, "GET", path, NULL, 200);
    if (strcmp(st, "complete")) fail_msg("job %s: %s: %s", id, st, json_dumps(j, 0));
    return json_incref(json_object_get(j, "result"));
}

static void a_saved_voice_is_reused_without_upload(void **state)
{
    char id[64], body[512], job[64];
    save_voice("Narrator", REF_TEXT, id, sizeof id);
    snprintf(body, sizeof body, "{\"voice_id\":\"%s\",\"text\":\"Hello there.\",\"parameters\":{\"nfe_step\":2,\"seed\":1}}", id);
    assert_true(json_number_value(json_object_get(api_call(&S, "POST", "/api/convert/f5tts/estimate", body, 200),
                                                  "estimated_duration_seconds")) > 0);
    json_t *j = api_call(&S, "POST", "/api/convert/f5tts", body, 202);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "conversion_started");
    snprintf(job, sizeof job, "%s", json_string_value(json_object_get(j, "job_id")));
    json_t *r = finished_result(job);
    assert_string_equal(json_string_value(json_object_get(r, "reference_text")), REF_TEXT); /* the voice's transcript */
    assert_string_equal(json_string_value(json_object_get(r, "text")), "Hello there.");
    assert_non_null(json_string_value(json_object_get(r, "output_audio_id")));
    json_decref(r);
    char path[128];
    snprintf(path, sizeof path, "/api/jobs/%s", job);
    json_t *subject = json_object_get(api_call(&S, "GET", path, NULL, 200), "subject");
    assert_string_equal(json_string_value(json_object_get(subject, "audio_id")), ref_id); /* the voice's clip */

    /* a reference_text in the request wins over the saved one */
    snprintf(body, sizeof body, "{\"voice_id\":\"%s\",\"reference_text\":\"Other words.\",\"text\":\"Hi.\",\"parameters\":{\"nfe_step\":2}}", id);
    snprintf(job, sizeof job, "%s", json_string_value(json_object_get(api_call(&S, "POST", "/api/convert/f5tts", body, 202), "job_id")));
    r = finished_result(job);
    assert_string_equal(json_string_value(json_object_get(r, "reference_text")), "Other words.");
    json_decref(r);

    /* refusals: both ids, neither, an unknown voice */
    snprintf(body, sizeof body, "{\"voice_id\":\"%s\",\"reference_audio_id\":\"%s\",\"text\":\"x\"}", id, ref_id);
    assert_code(api_call(&S, "POST", "/api/convert/f5tts", body, 400), "INVALID_REQUEST");
    api_call(&S, "POST", "/api/convert/f5tts", "{\"text\":\"x\"}", 400);
    assert_code(api_call(&S, "POST", "/api/convert/f5tts", "{\"voice_id\":\"voice_gone\",\"text\":\"x\"}", 404), "MODEL_NOT_FOUND");
    assert_code(api_call(&S, "POST", "/api/convert/f5tts/estimate", "{\"voice_id\":\"voice_gone\",\"text\":\"x\"}", 404),
                "MODEL_NOT_FOUND");

    /* the brief's shape, unchanged */
    snprintf(body, sizeof body, "{\"reference_audio_id\":\"%s\",\"reference_text\":\"%s\",\"text\":\"Yes.\",\"parameters\":{\"nfe_step\":2}}",
             ref_id, REF_TEXT);
    snprintf(job, sizeof job, "%s", json_string_value(json_object_get(api_call(&S, "POST", "/api/convert/f5tts", body, 202), "job_id")));
    json_decref(finished_result(job));
}

/* POST /api/jobs {kind: convert_f5tts, params} takes the same voice_id as the quick clone's route */
static void the_generic_jobs_route_takes_a_voice_id(void **state)
{
    char id[64], body[512], job[64], path[128];
    save_voice("Reader", REF_TEXT, id, sizeof id);
    snprintf(body, sizeof body,
             "{\"kind\":\"convert_f5tts\",\"params\":{\"voice_id\":\"%s\",\"text\":\"Generic route.\",\"parameters\":{\"nfe_step\":2}}}",
             id);
    json_t *j = api_call(&S, "POST", "/api/jobs", body, 202);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "convert_f5tts");
    snprintf(job, sizeof job, "%s", json_string_value(json_object_get(j, "job_id")));
    json_t *r = finished_result(job);
    assert_string_equal(json_string_value(json_object_get(r, "reference_text")), REF_TEXT); /* the voice's transcript */
    assert_string_equal(json_string_value(json_object_get(r, "text")), "Generic route.");
    json_decref(r);
    snprintf(path, sizeof path, "/api/jobs/%s", job);
    json_t *subject = json_object_get(api_call(&S, "GET", path, NULL, 200), "subject");
    assert_string_equal(json_string_value(json_object_get(subject, "audio_id")), ref_id); /* the voice's clip */

    /* refusals as on POST /api/convert/f5tts */
    snprintf(body, sizeof body,
             "{\"kind\":\"convert_f5tts\",\"params\":{\"voice_id\":\"%s\",\"reference_audio_id\":\"%s\",\"text\":\"x\"}}", id, ref_id);
    assert_code(api_call(&S, "POST", "/api/jobs", body, 400), "INVALID_REQUEST");
    assert_code(api_call(&S, "POST", "/api/jobs", "{\"kind\":\"convert_f5tts\",\"params\":{\"voice_id\":\"voice_gone\",\"text\":\"x\"}}", 404),
                "MODEL_NOT_FOUND");
    assert_code(api_call(&S, "POST", "/api/jobs", "{\"kind\":\"convert_f5tts\",\"params\":{\"voice_id\":7,\"text\":\"x\"}}", 400),
                "INVALID_REQUEST");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_voice_is_saved_listed_renamed_and_deleted),
        cmocka_unit_test(a_saved_voice_is_reused_without_upload),
        cmocka_unit_test(the_generic_jobs_route_takes_a_voice_id),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
