/*
 * rvc_engine: a voice opens with the tiny golden base models and converts; every refusal the
 * engine promises (not a voice, truncated, unknown version, index dimension, base models
 * missing or damaged) comes with its code and a message naming the problem, and leaves nothing
 * allocated (the ASan run of this suite checks that).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/rvc/rvc_engine.h"
#include "support/test_audio.h"

static char WEIGHTS[64];

static const char *root(void)
{
    const char *r = getenv("VCS_TEST_ROOT");
    return r ? r : ".";
}

static const char *fixture(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/tests/%s", root(), rel);
    return out;
}

/* weights root with the tiny HuBERT (fairseq-style .pt) and RMVPE (safetensors) as if pulled */
static int setup(void **state)
{
    char cmd[1024];
    snprintf(WEIGHTS, sizeof WEIGHTS, "/tmp/vcs-rvc-engine-XXXXXX");
    if (!mkdtemp(WEIGHTS)) return -1;
    snprintf(cmd, sizeof cmd, "mkdir -p %s/hubert %s/rmvpe && cp %s/tests/golden/rvc/hubert_small/hubert_fairseq_style.pt %s/hubert/hubert_base.pt"
             " && cp %s/tests/golden/rvc/rmvpe_small/rmvpe.safetensors %s/rmvpe/rmvpe.pt", WEIGHTS, WEIGHTS, root(), WEIGHTS, root(), WEIGHTS);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", WEIGHTS);
    return system(cmd) == 0 ? 0 : -1;
}

/* Opening fails with code and a message containing want; *out stays NULL. */
static void expect_open_fails(const char *model, const char *index, const char *weights, vc_code code, const char *want)
{
    rvc_engine *e = (rvc_engine *)&e; /* must be reset to NULL */
    vc_error err = {0};
    assert_int_equal(rvc_engine_open(&e, model, index, weights, &err), -1);
    assert_null(e);
    if (err.code != code || !strstr(err.message, want))
        fail_msg("want %s containing '%s', got %s: %s", vc_code_name(code), want, vc_code_name(err.code), err.message);
}

static void opens_and_converts_a_v2_voice_with_index(void **state)
{
    char model[512], index[512];
    rvc_engine *e;
    vc_error err = {0};
    if (rvc_engine_open(&e, fixture(model, sizeof model, "models/rvc/fixtures/voice_v2_96.pth"),
                        fixture(index, sizeof index, "models/rvc/fixtures/voice_v2_96.index"), WEIGHTS, &err))
        fail_msg("%s", err.message);
    const rvc_voice_info *info = rvc_engine_info(e);
    assert_int_equal(info->version, 2);
    assert_int_equal(info->f0, 1);
    assert_int_equal(info->sample_rate, 48000);
    assert_int_equal(info->phone_dim, 96);
    assert_int_equal(info->index_rows, 64);
    audio_buffer in = {calloc(8000, sizeof(float)), 8000, 16000}, out;
    for (size_t i = 0; i < in.frames; i++) in.samples[i] = 0.5f * sinf(2 * (float)M_PI * 220.0f * (float)i / 16000.0f);
    rvc_params p;
    rvc_params_default(&p);
    assert_int_equal(rvc_engine_convert_audio(e, &in, &p, NULL, &out, &err), 0);
    assert_int_equal(out.sample_rate, 48000);
    assert_true(out.frames > 20000 && out.frames <= 24000); /* ~0.5 s at 48 kHz */
    double energy = 0;
    for (size_t i = 0; i < out.frames; i++) energy += (double)out.samples[i] * out.samples[i];
    assert_true(energy > 0);
    audio_buffer_free(&in);
    audio_buffer_free(&out);
    rvc_engine_free(e);
}

/* 0.2 s of tone and 2 s of digital silence: a result of the input's length, never a crash or NaN. */
static void short_and_silent_inputs_convert(void **state)
{
    char model[512];
    rvc_engine *e;
    vc_error err = {0};
    assert_int_equal(rvc_engine_open(&e, fixture(model, sizeof model, "models/rvc/fixtures/voice_v2_96.pth"), NULL, WEIGHTS, &err), 0);
    rvc_params p;
    rvc_params_default(&p);
    static const struct { size_t frames; float amplitude; } CASES[] = {{3200, 0.5f}, {32000, 0.0f}};
    for (size_t k = 0; k < sizeof CASES / sizeof CASES[0]; k++) {
        audio_buffer in = {calloc(CASES[k].frames, sizeof(float)), CASES[k].frames, 16000}, out;
        for (size_t i = 0; i < in.frames; i++) in.samples[i] = CASES[k].amplitude * sinf(2 * (float)M_PI * 220.0f * (float)i / 16000.0f);
        if (rvc_engine_convert_audio(e, &in, &p, NULL, &out, &err)) fail_msg("%zu frames: %s", CASES[k].frames, err.message);
        assert_true(out.frames >= CASES[k].frames * 3 - 1000 && out.frames <= CASES[k].frames * 3);
        for (size_t i = 0; i < out.frames; i++) assert_true(isfinite(out.samples[i]));
        audio_buffer_free(&in);
        audio_buffer_free(&out);
    }
    audio_buffer in = {calloc(8, sizeof(float)), 8, 16000}, out;
    assert_int_equal(rvc_engine_convert_audio(e, &in, &p, NULL, &out, &err), -1); /* 0.5 ms */
    assert_int_equal(err.code, VC_ERR_AUDIO_TOO_SHORT);
    audio_buffer_free(&in);
    rvc_engine_free(e);
}

static int cancel_at_once(void *ctx, const char *phase, double fraction) { return 1; }

static void progress_hook_cancels(void **state)
{
    char model[512];
    rvc_engine *e;
    vc_error err = {0};
    assert_int_equal(rvc_engine_open(&e, fixture(model, sizeof model, "models/rvc/fixtures/voice_v2_96.pth"), NULL, WEIGHTS, &err), 0);
    audio_buffer in = {calloc(16000, sizeof(float)), 16000, 16000}, out;
    rvc_params p;
    rvc_params_default(&p);
    rvc_hooks hooks = {NULL, cancel_at_once, NULL, NULL, NULL};
    assert_int_equal(rvc_engine_convert_audio(e, &in, &p, &hooks, &out, &err), -1);
    assert_int_equal(err.code, VC_ERR_CANCELLED);
    assert_null(out.samples);
    audio_buffer_free(&in);
    rvc_engine_free(e);
}

static void refuses_files_that_are_not_voices(void **state)
{
    char path[512];
    expect_open_fails(fixture(path, sizeof path, "models/rvc/fixtures/not_a_voice.pth"), NULL, WEIGHTS, VC_ERR_INVALID_FORMAT,
                      "is not an RVC voice model");
    /* a real weight file of another model */
    expect_open_fails(fixture(path, sizeof path, "golden/rvc/rmvpe_small/rmvpe.safetensors"), NULL, WEIGHTS,
                      VC_ERR_INVALID_FORMAT, "no synthesizer 'weight'");
    expect_open_fails(fixture(path, sizeof path, "models/rvc/fixtures/voice_v3.pth"), NULL, WEIGHTS, VC_ERR_INVALID_FORMAT,
                      "unknown RVC model version 'v3'");
    expect_open_fails("/nonexistent/voice.pth", NULL, WEIGHTS, VC_ERR_NOT_FOUND, "cannot open");
}

static void refuses_a_truncated_pth(void **state)
{
    char src[512], tmp[] = "/tmp/vcs-trunc-XXXXXX", cmd[1200];
    close(mkstemp(tmp));
    snprintf(cmd, sizeof cmd, "cp %s %s", fixture(src, sizeof src, "models/rvc/fixtures/voice_v2_96.pth"), tmp);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(test_file_truncate(tmp, 0.5), 0);
    expect_open_fails(tmp, NULL, WEIGHTS, VC_ERR_INVALID_FORMAT, "damaged or truncated");
    unlink(tmp);
}

static void refuses_an_index_of_another_dimension(void **state)
{
    char model[512], index[512];
    expect_open_fails(fixture(model, sizeof model, "models/rvc/fixtures/voice_v2_96.pth"),
                      fixture(index, sizeof index, "models/rvc/fixtures/voice_bad_dim.index"), WEIGHTS, VC_ERR_INVALID_FORMAT,
                      "holds 32-dim features but the voice model expects 96");
    /* the index reader's own refusal keeps its reason */
    expect_open_fails(model, fixture(index, sizeof index, "models/rvc/fixtures/voice_v2_96.pth"), WEIGHTS,
                      VC_ERR_INVALID_FORMAT, "index ");
}

static void missing_or_damaged_base_models_say_how_to_install(void **state)
{
    char model[512], dir[] = "/tmp/vcs-rvc-empty-XXXXXX", cmd[1200];
    assert_non_null(mkdtemp(dir));
    fixture(model, sizeof model, "models/rvc/fixtures/voice_v2_96.pth");
    expect_open_fails(model, NULL, dir, VC_ERR_WEIGHTS_MISSING, "voiceclone models pull rvc");
    vc_error err = {0};
    assert_int_equal(rvc_base_weights_check(dir, &err), -1);
    assert_int_equal(err.code, VC_ERR_WEIGHTS_MISSING);
    assert_int_equal(rvc_base_weights_check(WEIGHTS, &err), 0);
    /* present but not a HuBERT: the voice file itself stands in for it */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/hubert %s/rmvpe && cp %s %s/hubert/hubert_base.pt && cp %s/rmvpe/rmvpe.pt %s/rmvpe/",
             dir, dir, model, dir, WEIGHTS, dir);
    assert_int_equal(system(cmd), 0);
    expect_open_fails(model, NULL, dir, VC_ERR_WEIGHTS_MISSING, "reinstall: voiceclone models pull rvc");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void inspect_reads_metadata_without_base_models(void **state)
{
    char model[512];
    rvc_voice_info info;
    vc_error err = {0};
    assert_int_equal(rvc_voice_inspect(fixture(model, sizeof model, "golden/rvc/synth_v2_48k_small/synthesizer_official.pth"),
                                       NULL, &info, &err), 0);
    assert_int_equal(info.version, 2);
    assert_int_equal(info.phone_dim, 768);
    assert_int_equal(info.sample_rate, 48000);
    assert_int_equal(info.speakers, 4);
    assert_int_equal(info.index_rows, 0);
}

/* The official-sized feature dimension against the tiny 96-dim HuBERT: refused before any work. */
static void feature_dimension_mismatch_with_hubert_is_an_error(void **state)
{
    char model[512];
    rvc_engine *e;
    vc_error err = {0};
    assert_int_equal(rvc_engine_open(&e, fixture(model, sizeof model, "golden/rvc/synth_v2_48k_small/synthesizer_official.pth"),
                                     NULL, WEIGHTS, &err), 0);
    audio_buffer in = {calloc(16000, sizeof(float)), 16000, 16000}, out;
    rvc_params p;
    rvc_params_default(&p);
    assert_int_equal(rvc_engine_convert_audio(e, &in, &p, NULL, &out, &err), -1);
    assert_non_null(strstr(err.message, "768-dim"));
    audio_buffer_free(&in);
    rvc_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(opens_and_converts_a_v2_voice_with_index),
        cmocka_unit_test(short_and_silent_inputs_convert),
        cmocka_unit_test(progress_hook_cancels),
        cmocka_unit_test(refuses_files_that_are_not_voices),
        cmocka_unit_test(refuses_a_truncated_pth),
        cmocka_unit_test(refuses_an_index_of_another_dimension),
        cmocka_unit_test(missing_or_damaged_base_models_say_how_to_install),
        cmocka_unit_test(inspect_reads_metadata_without_base_models),
        cmocka_unit_test(feature_dimension_mismatch_with_hubert_is_an_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
