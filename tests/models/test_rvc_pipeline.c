/*
 * Pipeline behaviour beyond the golden cases: models without pitch (f0 = 0) convert without
 * RMVPE and with the length the official pipeline gives; resample_sr changes the output rate
 * (>= 16000 only) and keeps the level. Uses the golden small HuBERT/RMVPE/synthesizer files and
 * a small random-weight no-f0 synthesizer written from rvc_specs (its numerics are covered by
 * the synth_*_nono_small golden cases). Cancel is seen inside RMVPE's pass and inside synthesis.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "models/rvc/rvc_pipeline.h"
#include "models/rvc/rvc_specs.h"

typedef struct voice_files {
    nn_weights *hubert_w, *rmvpe_w, *synth_w;
    hubert_model hubert;
    rmvpe *pitch;
    rvc_synth *synth;
} voice_files;

static void golden_path(char *out, size_t cap, const char *rel)
{
    const char *r = getenv("VCS_TEST_ROOT");
    snprintf(out, cap, "%s/tests/golden/rvc/%s", r ? r : ".", rel);
}

static void open_golden(const char *rel, nn_weights **w)
{
    char path[1024];
    vc_error err;
    golden_path(path, sizeof path, rel);
    if (nn_weights_open(path, w, &err) != 0) fail_msg("%s: %s", path, err.message);
}

static void small_weights(void *ctx, size_t index, float *dst, int64_t numel)
{
    const nn_tensor_spec *specs = ctx;
    unsigned long long s = 77 + index;
    int scale_one = strstr(specs[index].name, "gamma") != NULL;
    for (int64_t i = 0; i < numel; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        dst[i] = scale_one ? 1.0f : 0.2f * ((float)(s >> 40) / 16777216.0f - 0.5f);
    }
}

/* A 40 kHz v2-layout synthesizer without pitch, taking the small HuBERT's 96-dim features. */
static void write_nono_synth(const char *path, rvc_synth_config *c)
{
    json_t *j = json_loads("[1025, 36, 32, 32, 64, 2, 2, 3, 0, \"1\", [3, 7, 11], [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "
                           "[10, 10, 2, 2], 64, [16, 16, 4, 4], 4, 16, 40000]", 0, NULL);
    vc_error err;
    assert_int_equal(rvc_synth_config_parse(j, c, &err), 0);
    json_decref(j);
    c->phone_dim = 96;
    c->f0 = 0;
    nn_tensor_spec *specs;
    size_t n = rvc_synth_tensor_specs(c, &specs);
    assert_true(n > 0);
    if (nn_safetensors_write(path, specs, n, small_weights, specs, &err) != 0) fail_msg("%s", err.message);
    free(specs);
}

static void load_hubert(voice_files *f)
{
    vc_error err;
    open_golden("hubert_small/hubert.safetensors", &f->hubert_w);
    assert_int_equal(hubert_load(&f->hubert, f->hubert_w, "", 2, &err), 0);
}

static void voice_free(voice_files *f)
{
    rvc_synth_free(f->synth);
    rmvpe_free(f->pitch);
    hubert_free(&f->hubert);
    nn_weights_free(f->hubert_w); nn_weights_free(f->rmvpe_w); nn_weights_free(f->synth_w);
}

/* 2 s of a gliding tone with a pause, at 16 kHz */
static double *test_input(size_t n)
{
    double *x = malloc(sizeof(double) * n), phase = 0;
    for (size_t i = 0; i < n; i++) {
        phase += 2 * M_PI * (150 + 50 * (double)i / (double)n) / 16000;
        x[i] = (i % 16000 < 12000) ? 0.4 * sin(phase) : 0.0;
    }
    return x;
}

static double rms16(const int16_t *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return sqrt(s / (double)(n ? n : 1));
}

static int pitch_was_computed;
static void on_tap(void *ctx, const char *name, const float *data, size_t n)
{
    if (!strncmp(name, "f0.", 3)) pitch_was_computed = 1;
}

static void model_without_pitch_converts_without_rmvpe(void **state)
{
    voice_files f = {0};
    rvc_synth_config c;
    vc_error err;
    char path[] = "/tmp/vcs-test-nono-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_nono_synth(path, &c);
    load_hubert(&f);
    assert_int_equal(nn_weights_open(path, &f.synth_w, &err), 0);
    assert_int_equal(rvc_synth_load(&f.synth, f.synth_w, "", &c, &err), 0);
    assert_int_equal(rvc_synth_get_config(f.synth)->f0, 0);
    rvc_voice v = {&f.hubert, NULL /* no RMVPE at all */, f.synth, NULL, 0, 2};
    rvc_params p;
    rvc_params_default(&p);
    p.protect = 0.2; /* would matter with pitch; must be harmless without */
    size_t n = 32000, out_n = 0;
    double *x = test_input(n);
    int16_t *out = NULL;
    rvc_hooks hooks = {NULL, NULL, on_tap, NULL, NULL};
    pitch_was_computed = 0;
    if (rvc_convert(&v, x, n, &p, &hooks, &out, &out_n, &err) != 0) fail_msg("%s", err.message);
    assert_int_equal(pitch_was_computed, 0);
    assert_int_equal(rvc_output_rate(&v, &p), 40000);
    /* official length: p_len = min(N/160 = 400, 2 × HuBERT frames = 2 × 199) = 398 frames of hop 400,
     * minus 1 s of padding at 40 kHz on each side */
    assert_int_equal(out_n, 398 * 400 - 2 * 40000);
    assert_true(rms16(out, out_n) > 10);
    free(x); free(out);
    voice_free(&f);
    unlink(path);
}

static void resample_sr_changes_the_rate_and_keeps_the_level(void **state)
{
    voice_files f = {0};
    rvc_synth_config c;
    vc_error err;
    load_hubert(&f);
    open_golden("rmvpe_small/rmvpe.safetensors", &f.rmvpe_w);
    assert_int_equal(rmvpe_load(&f.pitch, f.rmvpe_w, "", &err), 0);
    open_golden("pipeline_v2_e2e/synthesizer.safetensors", &f.synth_w);
    json_t *j = json_loads("[1025, 36, 32, 32, 64, 2, 2, 3, 0, \"1\", [3, 7, 11], [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "
                           "[12, 10, 2, 2], 64, [24, 20, 4, 4], 4, 16, 48000]", 0, NULL);
    assert_int_equal(rvc_synth_config_parse(j, &c, &err), 0);
    json_decref(j);
    assert_int_equal(rvc_synth_load(&f.synth, f.synth_w, "", &c, &err), 0);
    rvc_voice v = {&f.hubert, f.pitch, f.synth, NULL, 0, 2};
    rvc_params p;
    rvc_params_default(&p);
    size_t n = 32000, n48 = 0, n24 = 0, n8 = 0;
    double *x = test_input(n);
    int16_t *o48 = NULL, *o24 = NULL, *o8 = NULL;
    assert_int_equal(rvc_convert(&v, x, n, &p, NULL, &o48, &n48, &err), 0);
    p.resample_sr = 24000;
    assert_int_equal(rvc_output_rate(&v, &p), 24000);
    assert_int_equal(rvc_convert(&v, x, n, &p, NULL, &o24, &n24, &err), 0);
    p.resample_sr = 8000; /* below 16 kHz: ignored, as officially */
    assert_int_equal(rvc_output_rate(&v, &p), 48000);
    assert_int_equal(rvc_convert(&v, x, n, &p, NULL, &o8, &n8, &err), 0);
    assert_int_equal(n8, n48);
    assert_true(labs((long)n24 - (long)n48 / 2) <= 2);
    double r48 = rms16(o48, n48), r24 = rms16(o24, n24);
    assert_true(r48 > 10);
    assert_true(fabs(r24 / r48 - 1) < 0.1);
    free(x); free(o48); free(o24); free(o8);
    voice_free(&f);
}

typedef struct stop_counter { int progress_calls, stop_calls, stop_at, after_pitch, after_hubert; } stop_counter;

static int count_progress(void *ctx, const char *phase, double fraction)
{
    ((stop_counter *)ctx)->progress_calls++;
    return 0;
}

static int stop_after(void *ctx)
{
    stop_counter *c = ctx;
    return ++c->stop_calls >= c->stop_at;
}

/* The polls made before each stage's tap: the pitch of the whole input, HuBERT over chunk 0. */
static void mark_stages(void *ctx, const char *name, const float *x, size_t n)
{
    stop_counter *c = ctx;
    if (!strcmp(name, "f0.pitchf_full")) c->after_pitch = c->stop_calls;
    if (!strcmp(name, "chunk0.hubert_feats")) c->after_hubert = c->stop_calls;
}

/* The cancel polls of one RMVPE pass over a 32-frame input (longer ones add BiGRU polls). */
static int rmvpe_polls(const rmvpe *m)
{
    int frames = 32, n = (frames - 1) * RMVPE_HOP;
    float *wave = calloc((size_t)n, sizeof(float)), *mel = malloc(sizeof(float) * frames * RMVPE_MELS),
          *sal = malloc(sizeof(float) * frames * RMVPE_BINS);
    stop_counter never = {0, 0, 1 << 30, 0, 0};
    vc_error err;
    assert_int_equal(rmvpe_mel(m, wave, n, mel, &err), 0);
    assert_int_equal(rmvpe_salience_cancellable(m, mel, frames, sal, stop_after, &never, &err), 0);
    free(wave); free(mel); free(sal);
    return never.stop_calls;
}

/* Cancellation is seen inside a chunk's synthesis (after each conv pair of the decoder's residual blocks), not
 * only between chunks: the one chunk of this input is stopped part-way. Before it, the pitch pass over the
 * whole input polls between RMVPE's blocks: a request there stops before any chunk starts. Where each stage's
 * polls end is read from a run that never stops (the stage taps record the count). */
static void cancel_is_seen_inside_synthesis(void **state)
{
    voice_files f = {0};
    rvc_synth_config c;
    vc_error err;
    load_hubert(&f);
    open_golden("rmvpe_small/rmvpe.safetensors", &f.rmvpe_w);
    assert_int_equal(rmvpe_load(&f.pitch, f.rmvpe_w, "", &err), 0);
    open_golden("pipeline_v2_e2e/synthesizer.safetensors", &f.synth_w);
    json_t *j = json_loads("[1025, 36, 32, 32, 64, 2, 2, 3, 0, \"1\", [3, 7, 11], [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "
                           "[12, 10, 2, 2], 64, [24, 20, 4, 4], 4, 16, 48000]", 0, NULL);
    assert_int_equal(rvc_synth_config_parse(j, &c, &err), 0);
    json_decref(j);
    assert_int_equal(rvc_synth_load(&f.synth, f.synth_w, "", &c, &err), 0);
    rvc_voice v = {&f.hubert, f.pitch, f.synth, NULL, 0, 2};
    rvc_params p;
    rvc_params_default(&p);
    size_t n = 32000, out_n = 0;
    double *x = test_input(n);
    int16_t *out = NULL;
    stop_counter never = {0, 0, 1 << 30, 0, 0};
    rvc_hooks hooks = {NULL, count_progress, mark_stages, &never, stop_after};
    assert_int_equal(rvc_convert(&v, x, n, &p, &hooks, &out, &out_n, &err), 0);
    free(out);
    out = NULL;
    assert_true(never.after_pitch >= rmvpe_polls(f.pitch)); /* at least one 32-frame pass's polls */
    assert_true(never.after_hubert > never.after_pitch);    /* HuBERT polled too */
    assert_true(never.stop_calls > never.after_hubert + 2); /* and synthesis, many times */
    stop_counter in_pitch = {0, 0, 2, 0, 0};
    hooks = (rvc_hooks){NULL, count_progress, NULL, &in_pitch, stop_after};
    assert_int_equal(rvc_convert(&v, x, n, &p, &hooks, &out, &out_n, &err), -1);
    assert_int_equal(err.code, VC_ERR_CANCELLED);
    assert_int_equal(in_pitch.stop_calls, 2);     /* the second block of RMVPE's pass */
    assert_int_equal(in_pitch.progress_calls, 0); /* no chunk had started */
    assert_null(out);
    stop_counter sc = {0, 0, never.after_hubert + 2, 0, 0};
    hooks.ctx = &sc;
    memset(&err, 0, sizeof err);
    assert_int_equal(rvc_convert(&v, x, n, &p, &hooks, &out, &out_n, &err), -1);
    assert_int_equal(err.code, VC_ERR_CANCELLED);
    assert_int_equal(sc.stop_calls, never.after_hubert + 2); /* the pitch pass, HuBERT, then 2 of synthesis's */
    assert_int_equal(sc.progress_calls, 1);                  /* the only chunk had started: no chunk boundary was needed */
    assert_null(out);
    free(x);
    voice_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(model_without_pitch_converts_without_rmvpe),
        cmocka_unit_test(resample_sr_changes_the_rate_and_keeps_the_level),
        cmocka_unit_test(cancel_is_seen_inside_synthesis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
