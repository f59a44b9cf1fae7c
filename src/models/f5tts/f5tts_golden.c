/*
 * F5-TTS golden cases (../shared/golden/f5tts/<case>/, README there): every stage a case
 * records is computed from the case's own inputs and compared tensor by tensor. Which tensors
 * are compared is decided by what expected.safetensors holds (a small case records only the
 * first and last DiT blocks, say), never by the case's name.
 *   mel      ref_wave → ref_rms, ref_wave_norm, ref_mel
 *   text     tokenizer(config.text.full_text) → inputs' text_ids
 *   DiT      dit.x, dit.cond, text_ids, dit.time → dit.*
 *   sampler  ref_mel, text_ids, noise → sample.*
 *   vocoder  expected sample.out → vocos.*
 *   e2e      ref_wave + texts + noise through the whole pipeline → e2e.*
 */
#include "models/f5tts/f5tts_golden.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/f5tts/f5tts_infer.h"

typedef struct f5_case {
    const char *dir;
    const json_t *config;
    nn_weights *inputs, *expected;
    f5tts_engine engine;
    golden_report *report;
} f5_case;

typedef struct tap_ctx {
    f5_case *c;
    const char *prefix;  /* "dit." … */
    float *trajectory;   /* sampler: all states, [nfe+1][N·100] */
    int trajectory_rows;
} tap_ctx;

static int matches(const json_t *config)
{
    const json_t *backbone = json_object_get(json_object_get(config, "model"), "backbone");
    return json_is_string(backbone) && !strcmp(json_string_value(backbone), "DiT");
}

static int has(const f5_case *c, const char *name) { return nn_weights_get(c->expected, name) != NULL; }

static void check(f5_case *c, const char *name, const float *got, int64_t n)
{
    if (has(c, name)) golden_check(c->report, c->config, c->expected, name, got, n);
}

static const float *input_f32(const f5_case *c, const char *name, vc_error *err)
{
    const nn_tensor *t = nn_weights_get(c->inputs, name);
    if (!t || t->dtype != NN_F32) { vc_fail(err, VC_ERR_INVALID_FORMAT, "golden inputs lack float tensor '%s'", name); return NULL; }
    return t->data;
}

static void on_tap(void *ctx, const char *name, const float *data, int rows, int cols)
{
    tap_ctx *t = ctx;
    if (t->trajectory && !strcmp(name, "trajectory")) {
        memcpy(t->trajectory + (size_t)t->trajectory_rows++ * rows * cols, data, sizeof(float) * (size_t)rows * cols);
        return;
    }
    char full[128];
    snprintf(full, sizeof full, "%s%s", t->prefix, name);
    if (!strcmp(full, "e2e.gen_mel")) { /* recorded channel-major */
        float *tr = golden_transposed(data, rows, cols);
        if (tr) check(t->c, full, tr, (int64_t)rows * cols);
        free(tr);
        return;
    }
    check(t->c, full, data, (int64_t)rows * cols);
}

static int stage_mel(f5_case *c, vc_error *err)
{
    const nn_tensor *w = nn_weights_get(c->inputs, "ref_wave");
    if (!w || w->dtype != NN_F32) return vc_fail(err, VC_ERR_INVALID_FORMAT, "golden inputs lack ref_wave");
    size_t L = (size_t)w->shape[w->ndim - 1];
    float *norm = malloc(sizeof(float) * L);
    if (!norm) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    double s = 0;
    for (size_t i = 0; i < L; i++) s += (double)((float *)w->data)[i] * ((float *)w->data)[i];
    float rms = (float)sqrt(s / (double)L);
    for (size_t i = 0; i < L; i++) norm[i] = rms < F5_TARGET_RMS ? ((float *)w->data)[i] * F5_TARGET_RMS / rms : ((float *)w->data)[i];
    check(c, "ref_rms", &rms, 1);
    check(c, "ref_wave_norm", norm, (int64_t)L);
    int T = (int)(L / F5_HOP) + 1;
    float *mel = malloc(sizeof(float) * (size_t)T * F5_MEL_DIM);
    int rc = mel ? f5tts_log_mel(&c->engine, norm, L, mel, err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (rc == 0) { float *tr = golden_transposed(mel, T, F5_MEL_DIM); if (tr) check(c, "ref_mel", tr, (int64_t)T * F5_MEL_DIM); free(tr); }
    free(norm); free(mel);
    return rc;
}

static int stage_tokenizer(f5_case *c, vc_error *err)
{
    const char *full = json_string_value(json_object_get(json_object_get(c->config, "text"), "full_text"));
    const nn_tensor *ids = nn_weights_get(c->inputs, "text_ids");
    if (!full || !ids) return 0;
    int max = 2 * (int)strlen(full) + 1;
    int64_t *got = malloc(sizeof(int64_t) * (size_t)max);
    float *as_float = malloc(sizeof(float) * (size_t)max);
    if (!got || !as_float) { free(got); free(as_float); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    int n = f5_tokenize(&c->engine.vocab, &c->engine.pinyin, full, got, max);
    for (int i = 0; i < n; i++) as_float[i] = (float)got[i];
    golden_compare(c->report, "text_ids (tokenizer)", as_float, n, ids, 0, 0);
    free(got); free(as_float);
    return 0;
}

static const int64_t *text_ids(const f5_case *c, int *n)
{
    const nn_tensor *t = nn_weights_get(c->inputs, "text_ids");
    if (!t || t->dtype != NN_I64) return NULL;
    *n = (int)t->shape[t->ndim - 1];
    return t->data;
}

static int stage_dit(f5_case *c, vc_error *err)
{
    const float *x = input_f32(c, "dit.x", err), *cond = input_f32(c, "dit.cond", err), *time = input_f32(c, "dit.time", err);
    int n_ids = 0;
    const int64_t *ids = text_ids(c, &n_ids);
    if (!x || !cond || !time || !ids) return -1;
    const nn_tensor *xt = nn_weights_get(c->inputs, "dit.x");
    int N = (int)xt->shape[1], Dt = c->engine.dit.text_dim;
    size_t mel = (size_t)N * F5_MEL_DIM;
    float *x2 = malloc(sizeof(float) * 2 * mel), *cond2 = calloc(2 * mel, sizeof(float));
    float *text2 = malloc(sizeof(float) * 2 * (size_t)N * Dt), *out2 = malloc(sizeof(float) * 2 * mel);
    int rc = -1;
    if (!x2 || !cond2 || !text2 || !out2) { vc_fail(err, VC_ERR_NOMEM, "out of memory"); goto done; }
    memcpy(x2, x, sizeof(float) * mel); memcpy(x2 + mel, x, sizeof(float) * mel);
    memcpy(cond2, cond, sizeof(float) * mel);
    if (f5_text_embed(&c->engine.dit, ids, n_ids, N, 0, text2, err) != 0 ||
        f5_text_embed(&c->engine.dit, ids, n_ids, N, 1, text2 + (size_t)N * Dt, err) != 0) goto done;
    check(c, "dit.text_embed.cond", text2, (int64_t)N * Dt);
    check(c, "dit.text_embed.uncond", text2 + (size_t)N * Dt, (int64_t)N * Dt);
    tap_ctx t = {c, "dit.", NULL, 0};
    if (f5_dit_forward(&c->engine.dit, x2, cond2, text2, 2, N, time[0], out2, on_tap, &t, err) != 0) goto done;
    float cfg = (float)json_number_value(json_object_get(json_object_get(c->config, "sampler"), "cfg_strength"));
    for (size_t i = 0; i < mel; i++) x2[i] = out2[i] + (out2[i] - out2[mel + i]) * cfg;
    check(c, "dit.out.guided", x2, (int64_t)mel);
    rc = 0;
done:
    free(x2); free(cond2); free(text2); free(out2);
    return rc;
}

static void sampler_settings(const f5_case *c, f5_sampler *s)
{
    const json_t *j = json_object_get(c->config, "sampler");
    s->nfe = (int)json_integer_value(json_object_get(j, "nfe_step"));
    s->cfg_strength = (float)json_number_value(json_object_get(j, "cfg_strength"));
    s->sway = (float)json_number_value(json_object_get(j, "sway_sampling_coef"));
    s->use_epss = json_is_true(json_object_get(j, "use_epss"));
}

/* Every setting of the case's "sampler" section that infer_process reads, not only those the
 * shared cases happen to vary; a setting this engine cannot honour fails the stage by name. */
static int e2e_settings(const f5_case *c, f5tts_params *p, vc_error *err)
{
    const json_t *j = json_object_get(c->config, "sampler");
    f5tts_params_default(p);
    sampler_settings(c, &p->sampler);
    const json_t *speed = json_object_get(j, "speed"), *fade = json_object_get(j, "cross_fade_duration");
    const json_t *method = json_object_get(j, "ode_method"), *fix = json_object_get(j, "fix_duration");
    const json_t *rms = json_object_get(j, "target_rms");
    if (json_is_number(speed)) p->speed = (float)json_number_value(speed);
    if (json_is_number(fade)) p->cross_fade_seconds = (float)json_number_value(fade);
    if (method && (!json_is_string(method) || strcmp(json_string_value(method), "euler")))
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "e2e: ode_method other than euler is not supported");
    if (fix && !json_is_null(fix))
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "e2e: fix_duration is not supported by this engine");
    if (rms && (!json_is_number(rms) || fabs(json_number_value(rms) - F5_TARGET_RMS) > 1e-6))
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "e2e: target_rms other than %g is not supported", F5_TARGET_RMS);
    return 0;
}

static int stage_sampler(f5_case *c, vc_error *err)
{
    const float *noise = input_f32(c, "noise", err);
    const nn_tensor *ref_mel = nn_weights_get(c->expected, "ref_mel");
    int n_ids = 0;
    const int64_t *ids = text_ids(c, &n_ids);
    if (!noise || !ref_mel || !ids) return vc_fail(err, VC_ERR_INVALID_FORMAT, "sampler stage needs noise, ref_mel, text_ids");
    int N = (int)nn_weights_get(c->inputs, "noise")->shape[1], T = (int)ref_mel->shape[2];
    f5_sampler s;
    sampler_settings(c, &s);
    float *cond = golden_transposed(ref_mel->data, F5_MEL_DIM, T), *mel = malloc(sizeof(float) * (size_t)N * F5_MEL_DIM);
    tap_ctx t = {c, "sample.", malloc(sizeof(float) * (size_t)(s.nfe + 1) * N * F5_MEL_DIM), 0};
    int rc = -1;
    if (!cond || !mel || !t.trajectory) { vc_fail(err, VC_ERR_NOMEM, "out of memory"); goto done; }
    if (f5_sample(&c->engine.dit, &s, cond, T, ids, n_ids, N, noise, mel, NULL, NULL, on_tap, &t, err) != 0) goto done;
    check(c, "sample.trajectory", t.trajectory, (int64_t)t.trajectory_rows * N * F5_MEL_DIM);
    check(c, "sample.out", mel, (int64_t)N * F5_MEL_DIM);
    rc = 0;
done:
    free(cond); free(mel); free(t.trajectory);
    return rc;
}

static void on_vocos_tap(void *ctx, const char *stage, const float *data, int rows, int cols)
{
    f5_case *c = ctx;
    check(c, !strcmp(stage, "backbone") ? "vocos.backbone_out" : "vocos.head_linear", data, (int64_t)rows * cols);
}

static int stage_vocoder(f5_case *c, vc_error *err)
{
    const nn_tensor *out = nn_weights_get(c->expected, "sample.out");
    if (!out) return vc_fail(err, VC_ERR_INVALID_FORMAT, "vocoder stage needs sample.out");
    int F = (int)out->shape[1];
    float *wave = malloc(sizeof(float) * (size_t)(F - 1) * F5_HOP);
    if (!wave) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    int rc = vocos_decode(&c->engine.vocos, out->data, F, wave, on_vocos_tap, c, err);
    if (rc == 0) check(c, "vocos.wave", wave, (int64_t)(F - 1) * F5_HOP);
    free(wave);
    return rc;
}

static int stage_e2e(f5_case *c, vc_error *err)
{
    const json_t *text = json_object_get(c->config, "text");
    const char *ref_text = json_string_value(json_object_get(text, "ref_text_given"));
    const char *gen_text = json_string_value(json_object_get(text, "gen_text_given"));
    const nn_tensor *w = nn_weights_get(c->inputs, "ref_wave");
    const float *noise = input_f32(c, "noise", err);
    if (!ref_text || !gen_text || !w || !noise) return vc_fail(err, VC_ERR_INVALID_FORMAT, "e2e stage needs texts, ref_wave, noise");
    audio_buffer ref = {w->data, (size_t)w->shape[w->ndim - 1], F5_SAMPLE_RATE}, out;
    f5tts_params p;
    if (e2e_settings(c, &p, err)) return -1;
    p.clip_reference = 0; /* the case feeds ref.wav to infer_process as it is */
    p.noise = noise;
    tap_ctx t = {c, "e2e.", NULL, 0};
    if (f5tts_synthesize(&c->engine, &ref, ref_text, gen_text, &p, NULL, NULL, &out, on_tap, &t, err) != 0) return -1;
    check(c, "e2e.wave", out.samples, (int64_t)out.frames);
    audio_buffer_free(&out);
    return 0;
}

static int open_case(f5_case *c, vc_error *err)
{
    char dit[1024], vocab[1024], vocos[1024], in[1024], ex[1024];
    const char *vocab_file = json_string_value(json_object_get(json_object_get(c->config, "model"), "tokenizer_path"));
    const char *vocos_file = json_string_value(json_object_get(json_object_get(c->config, "vocoder"), "weights_file"));
    snprintf(dit, sizeof dit, "%s/weights.safetensors", c->dir);
    snprintf(vocab, sizeof vocab, "%s/%s", c->dir, vocab_file ? vocab_file : "vocab.txt");
    snprintf(vocos, sizeof vocos, "%s/%s", c->dir, vocos_file ? vocos_file : "vocos.safetensors");
    snprintf(in, sizeof in, "%s/inputs.safetensors", c->dir);
    snprintf(ex, sizeof ex, "%s/expected.safetensors", c->dir);
    if (f5tts_engine_open(&c->engine, dit, vocab, vocos, err) != 0) return -1;
    if (nn_weights_open(in, &c->inputs, err) != 0 || nn_weights_open(ex, &c->expected, err) != 0) return -1;
    return 0;
}

typedef int (*stage_fn)(f5_case *c, vc_error *err);

static int run(golden_report *r, const char *case_dir, const json_t *config, vc_error *err)
{
    f5_case c = {.dir = case_dir, .config = config, .report = r};
    int rc = open_case(&c, err);
    static const struct { const char *name, *needs; stage_fn fn; } stages[] = {
        {"mel", "ref_mel", stage_mel},         {"tokenizer", NULL, stage_tokenizer},
        {"dit", "dit.out.cond", stage_dit},    {"sampler", "sample.out", stage_sampler},
        {"vocoder", "vocos.wave", stage_vocoder}, {"e2e", "e2e.wave", stage_e2e},
    };
    for (size_t i = 0; rc == 0 && i < sizeof stages / sizeof stages[0]; i++) {
        if (stages[i].needs && !has(&c, stages[i].needs)) continue;
        vc_error stage_err;
        if (stages[i].fn(&c, &stage_err) != 0) golden_missing(r, stages[i].name, stage_err.message);
    }
    nn_weights_free(c.inputs);
    nn_weights_free(c.expected);
    f5tts_engine_close(&c.engine);
    return rc;
}

const golden_model f5tts_golden_model = {"f5tts", matches, run};
