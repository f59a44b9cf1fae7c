/* Hostile audio headers (tests/support/hostile.c HOSTILE_AUDIO: lying data/RIFF/ds64 sizes, 1024
 * and 65535 channels, 384 kHz and 10 MHz headers, a cut fmt chunk, 0 bits, format magic on junk)
 * through the upload path's audio steps: probe, header limits of the purpose, budgeted decode.
 * Each ends as its table entry says (the brief's code, or decoded within the budget). The same
 * files are posted to the real server in tests/api/test_api_hardening.c and seed fuzz_audio. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "support/hostile.h"

static char dir[] = "/tmp/vcs-hostile-audio-XXXXXX";

/* The upload path's audio steps (src/server/uploads.c): the code it ends with, VC_OK when stored. */
static vc_code upload_steps(const char *path, double max_seconds, audio_buffer *buf, audio_file_info *info, vc_error *err)
{
    if (audio_probe_file(path, info, err)) return err->code;
    vc_code c = audio_header_check(info, max_seconds);
    if (c != VC_OK) { snprintf(err->message, sizeof err->message, "refused from the header"); return c; }
    if (audio_decode_file_max(path, audio_decode_budget(max_seconds), buf, info, err)) return err->code;
    return VC_OK;
}

static void hostile_headers_end_as_documented(void **state)
{
    int n = 0;
    for (const hostile_audio *h = HOSTILE_AUDIO; h->name; h++, n++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, h->name);
        double max_seconds = strcmp(h->purpose, "reference") ? 1800.0 : 30.0;
        audio_buffer buf = {0};
        audio_file_info info;
        vc_error err = {0};
        vc_code c = upload_steps(path, max_seconds, &buf, &info, &err);
        const char *got = c == VC_OK ? "(stored)" : vc_code_name(c);
        if (strcmp(got, h->code ? h->code : "(stored)"))
            fail_msg("%s: %s (%s), want %s", h->name, got, err.message, h->code ? h->code : "stored");
        if (h->code && c != VC_OK && vc_code_http_status(c) != h->status)
            fail_msg("%s: HTTP %d for %s, want %ld", h->name, vc_code_http_status(c), got, h->status);
        if (h->expect && !strstr(err.message, h->expect)) fail_msg("%s: '%s' lacks '%s'", h->name, err.message, h->expect);
        if (c == VC_OK) {
            assert_true(buf.frames > 0 && (long long)buf.frames <= audio_decode_budget(max_seconds));
            if (h->warns != (info.warning[0] != 0)) fail_msg("%s: warning '%s' (want %s)", h->name, info.warning, h->warns ? "one" : "none");
        } else {
            assert_null(buf.samples);
        }
        audio_buffer_free(&buf);
    }
    assert_true(n >= 15);
}

/* The header limits on their own: the decoded-size budget is the duration at 48 kHz (+2 %). */
static void header_check_budgets_the_decoded_size(void **state)
{
    audio_file_info i = {.sample_rate = 48000, .duration_seconds = 30.0};
    assert_int_equal(audio_header_check(&i, 30.0), VC_OK);
    i.duration_seconds = 30.0 * 1.03;
    assert_int_equal(audio_header_check(&i, 30.0), VC_ERR_AUDIO_TOO_LONG);
    i.duration_seconds = 29.0;
    i.sample_rate = 384000; /* 29 s at 384 kHz is 232 s at 48 kHz */
    assert_int_equal(audio_header_check(&i, 30.0), VC_ERR_FILE_TOO_LARGE);
    assert_int_equal(audio_header_check(&i, 1800.0), VC_OK);
    assert_int_equal(audio_decode_budget(30.0), (long long)(30.0 * 48000 * 1.02));
}

static int setup(void **state) { return mkdtemp(dir) && hostile_write_all(dir) == 0 ? 0 : -1; }
static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostile_headers_end_as_documented),
        cmocka_unit_test(header_check_budgets_the_decoded_size),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
