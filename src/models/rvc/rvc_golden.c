/*
 * RVC golden cases (../shared/golden/rvc/<case>/, README there). A case names its stage in
 * config.json ("stage"); this runner accepts the stages the engine implements and leaves the
 * others to `check-golden`'s "no engine" report (never a silent pass):
 *   f0_postprocess_and_feature_upsample   pitch fill/shift/coarse, 2× feature upsampling
 *   index_retrieval                       exact k=8 search, (1/score)² weights, blend
 *   synthesizer_infer                     SynthesizerTrnMs768NSFsid.infer with injected noise
 *   training_step                         one RVC v2 GAN training step (rvc_golden_train.c)
 * Tolerances come from the case's "tolerance" object ("exact" = 0).
 */
#include "models/rvc/rvc_golden.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/hubert/hubert.h"
#include "models/rmvpe/rmvpe.h"
#include "models/rvc/rvc_features.h"
#include "models/rvc/rvc_pipeline.h"
#include "models/rvc/rvc_synth.h"

typedef struct rvc_case {
    const char *dir;
    const json_t *config;
    nn_weights *inputs, *expected;
    golden_report *report;
} rvc_case;

static void tolerance(const rvc_case *c, const char *key, double *atol, double *rtol)
{
    const json_t *t = json_object_get(json_object_get(c->config, "tolerance"), key);
    *atol = 1e-4;
    *rtol = 1e-4;
    if (json_is_string(t) && !strncmp(json_string_value(t), "exact", 5)) { *atol = 0; *rtol = 0; }
    if (json_is_object(t)) {
        *atol = json_number_value(json_object_get(t, "atol"));
        *rtol = json_number_value(json_object_get(t, "rtol"));
    }
}

/* Compares rows [first_row, rows) of got [rows, cols] with the same rows of expected. */
static void check_rows(rvc_case *c, const char *name, const char *tol_key, const float *got, int rows, int cols,
                       int first_row)
{
    const nn_tensor *e = nn_weights_get(c->expected, name);
    double atol, rtol;
    tolerance(c, tol_key, &atol, &rtol);
    if (!e) { golden_missing(c->report, name, "not in expected.safetensors"); return; }
    nn_tensor view = *e;
    size_t skip = (size_t)first_row * cols, elem = e->dtype == NN_I64 ? 8 : 4;
    view.data = (char *)e->data + skip * elem;
    view.ndim = 1;
    view.shape[0] = (int64_t)(rows - first_row) * cols;
    char label[128];
    snprintf(label, sizeof label, first_row ? "%s (rows %d..)" : "%s", name, first_row);
    golden_compare(c->report, label, got + skip, view.shape[0], &view, atol, rtol);
}

static const nn_tensor *input(const rvc_case *c, const char *name, vc_error *err)
{
    const nn_tensor *t = nn_weights_get(c->inputs, name);
    if (!t) vc_fail(err, VC_ERR_INVALID_FORMAT, "golden inputs lack '%s'", name);
    return t;
}

static void as_float(float *dst, const double *src, int n) { for (int i = 0; i < n; i++) dst[i] = (float)src[i]; }
static void ints_as_float(float *dst, const int64_t *src, int n) { for (int i = 0; i < n; i++) dst[i] = (float)src[i]; }

/* Inputs stored as F64 arrive as f32 (the loader converts); widen back for the f0 math. */
static void widen(double *dst, const nn_tensor *t, int n) { for (int i = 0; i < n; i++) dst[i] = ((const float *)t->data)[i]; }

static int f0_case(rvc_case *c, const char *f0_name, const char *pitch_name, const char *pitchf_name, double key,
                   vc_error *err)
{
    const nn_tensor *f0 = input(c, f0_name, err);
    if (!f0) return -1;
    int n = (int)f0->shape[0];
    double *raw = malloc(sizeof(double) * n), *pitchf = malloc(sizeof(double) * n);
    int64_t *pitch = malloc(sizeof(int64_t) * n);
    float *tmp = malloc(sizeof(float) * n);
    if (!raw || !pitchf || !pitch || !tmp) { free(raw); free(pitchf); free(pitch); free(tmp); return vc_fail(err, VC_ERR_NOMEM, "oom"); }
    widen(raw, f0, n);
    rvc_f0_postprocess(raw, n, key, pitchf, pitch);
    ints_as_float(tmp, pitch, n);
    check_rows(c, pitch_name, "pitch", tmp, n, 1, 0);
    as_float(tmp, pitchf, n);
    check_rows(c, pitchf_name, "pitchf", tmp, n, 1, 0);
    free(raw); free(pitchf); free(pitch); free(tmp);
    return 0;
}

static int stage_f0(rvc_case *c, vc_error *err)
{
    double key = (double)json_integer_value(json_object_get(c->config, "f0_up_key"));
    if (f0_case(c, "f0_raw", "pitch", "pitchf", key, err) != 0) return -1;
    if (f0_case(c, "f0_raw_all_unvoiced", "pitch_all_unvoiced", "pitchf_all_unvoiced", key, err) != 0) return -1;
    const nn_tensor *feats = input(c, "hubert_feats", err);
    if (!feats) return -1;
    int T = (int)feats->shape[1], C = (int)feats->shape[2];
    float *up = malloc(sizeof(float) * 2 * (size_t)T * C);
    if (!up) return vc_fail(err, VC_ERR_NOMEM, "oom");
    rvc_upsample2(up, feats->data, T, C);
    check_rows(c, "hubert_feats_x2", "feats_x2", up, 2 * T, C, 0);
    free(up);
    return 0;
}

static int stage_index(rvc_case *c, vc_error *err)
{
    const nn_tensor *bank = input(c, "big_npy", err), *query = input(c, "query", err);
    if (!bank || !query) return -1;
    int nb = (int)bank->shape[0], nq = (int)query->shape[0], dim = (int)bank->shape[1], K = RVC_INDEX_K;
    float rate = (float)json_number_value(json_object_get(c->config, "index_rate"));
    float *score = malloc(sizeof(float) * nq * K), *weight = malloc(sizeof(float) * nq * K), *ixf = malloc(sizeof(float) * nq * K);
    int64_t *ix = malloc(sizeof(int64_t) * nq * K);
    float *retrieved = malloc(sizeof(float) * (size_t)nq * dim), *blend = malloc(sizeof(float) * (size_t)nq * dim);
    int rc = -1;
    if (!score || !weight || !ixf || !ix || !retrieved || !blend) { vc_fail(err, VC_ERR_NOMEM, "oom"); goto done; }
    if (rvc_knn(bank->data, nb, query->data, nq, dim, score, ix, err) != 0) goto done;
    rvc_retrieve_blend(bank->data, query->data, nq, dim, score, ix, rate, weight, retrieved, blend);
    ints_as_float(ixf, ix, nq * K);
    /* row 0 is an exact copy of a bank row: the official weights are inf/NaN there (guarded here) */
    check_rows(c, "exact_score", "score", score, nq, K, 0);
    check_rows(c, "exact_ix", "ix", ixf, nq, K, 1);
    check_rows(c, "exact_weight", "weight", weight, nq, K, 1);
    check_rows(c, "exact_retrieved", "retrieved", retrieved, nq, dim, 1);
    check_rows(c, "blend", "retrieved", blend, nq, dim, 1);
    int finite = 1;
    for (int d = 0; d < dim; d++) finite &= isfinite(blend[d]);
    if (!finite) golden_missing(c->report, "blend row 0 (exact match)", "not finite");
    rc = 0;
done:
    free(score); free(weight); free(ixf); free(ix); free(retrieved); free(blend);
    return rc;
}

/* The synthesizer's intermediates, channel-major [rows, cols] as the reference records them. */
static void on_synth_tap(void *ctx, const char *name, const float *data, int rows, int cols)
{
    rvc_case *c = ctx;
    const char *key = !strncmp(name, "sine_gen", 8) || !strncmp(name, "m_source", 8) ? "sine"
                      : !strcmp(name, "g") || !strncmp(name, "enc_p", 5) ? "enc_p" : "flow";
    check_rows(c, name, key, data, rows, cols, 0);
}

static int stage_synth(rvc_case *c, vc_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/synthesizer.safetensors", c->dir);
    nn_weights *w = NULL;
    rvc_synth *s = NULL;
    rvc_synth_config cfg;
    const nn_tensor *phone = input(c, "phone", err), *prior = input(c, "noise.00.models.infer.randn_like", err);
    const nn_tensor *sid = input(c, "sid", err);
    /* pitch inputs exist for f0 models only (no-f0 cases: tools/golden/make_rvc_nono_cases.py) */
    const nn_tensor *pitch_t = nn_weights_get(c->inputs, "pitch"), *f0_t = nn_weights_get(c->inputs, "nsff0");
    const nn_tensor *sine = nn_weights_get(c->inputs, "noise.02.models.forward.randn_like");
    if (!phone || !prior || !sid) return -1;
    const int64_t *pitch = pitch_t ? pitch_t->data : NULL;
    const float *f0 = f0_t ? f0_t->data : NULL;
    if (rvc_synth_config_parse(json_object_get(c->config, "synthesizer"), &cfg, err) != 0) return -1;
    if (nn_weights_open(path, &w, err) != 0 || rvc_synth_load(&s, w, "", &cfg, err) != 0) { nn_weights_free(w); return -1; }
    int T = (int)phone->shape[1], upp = 1;
    for (int i = 0; i < cfg.n_ups; i++) upp *= cfg.upsample_rates[i];
    float *audio = malloc(sizeof(float) * (size_t)T * upp);
    rvc_noise noise = {prior->data, sine ? sine->data : NULL, 0, NULL, NULL}; /* recorded [C, T], as used */
    int rc = audio ? rvc_synth_infer(s, phone->data, pitch, f0, T, (int)((int64_t *)sid->data)[0], &noise, audio,
                                                 on_synth_tap, c, err) : vc_fail(err, VC_ERR_NOMEM, "oom");
    if (rc == 0) check_rows(c, "audio", "audio", audio, T * upp, 1, 0);
    rvc_synth_free(s);
    nn_weights_free(w);
    /* the same model as the official small-model .pth (fp16 "weight." dict + config list) */
    snprintf(path, sizeof path, "%s/synthesizer_official.pth", c->dir);
    if (rc == 0 && access(path, R_OK) == 0) {
        s = NULL;
        w = NULL;
        rc = nn_weights_open(path, &w, err);
        if (rc == 0) rc = rvc_synth_config_parse(json_object_get(nn_weights_meta(w), "config"), &cfg, err);
        if (rc == 0) rc = rvc_synth_load(&s, w, "weight.", &cfg, err);
        if (rc == 0) rc = rvc_synth_infer(s, phone->data, pitch, f0, T, (int)((int64_t *)sid->data)[0], &noise, audio, NULL, NULL, err);
        if (rc == 0) check_rows(c, "audio", "audio", audio, T * upp, 1, 0);
        rvc_synth_free(s);
        nn_weights_free(w);
    }
    free(audio);
    return rc;
}

static void on_hubert_tap(void *ctx, const char *name, const float *data, int rows, int cols)
{
    check_rows(ctx, name, "", data, rows, cols, 0);
}

/* One HuBERT weight file: every recorded stage, v2 features, then v1 features. */
static int hubert_file(rvc_case *c, const char *file, const char *prefix, vc_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", c->dir, file);
    if (access(path, R_OK) != 0) return 0;
    const json_t *h = json_object_get(c->config, "hubert");
    int heads = (int)json_integer_value(json_object_get(h, "encoder_attention_heads"));
    int v1 = (int)json_integer_value(json_object_get(h, "v1_output_layer")), v2 = (int)json_integer_value(json_object_get(h, "v2_output_layer"));
    const nn_tensor *src = input(c, "source", err);
    nn_weights *w = NULL;
    hubert_model m;
    if (!src || nn_weights_open(path, &w, err) != 0) return -1;
    int rc = hubert_load(&m, w, prefix, heads, err), n = (int)src->shape[src->ndim - 1];
    float *feats = rc == 0 ? malloc(sizeof(float) * (size_t)hubert_frames(&m, n) * m.embed) : NULL;
    printf("# %s\n", file);
    if (rc == 0 && !feats) rc = vc_fail(err, VC_ERR_NOMEM, "oom");
    if (rc == 0) rc = hubert_extract(&m, src->data, n, v2, 0, feats, on_hubert_tap, c, err);
    if (rc == 0) check_rows(c, "feats_v2", "", feats, hubert_frames(&m, n), m.embed, 0);
    if (rc == 0) rc = hubert_extract(&m, src->data, n, v1, 1, feats, NULL, NULL, err);
    if (rc == 0) check_rows(c, "feats_v1", "", feats, hubert_frames(&m, n), m.final_dim, 0);
    free(feats);
    if (rc == 0) hubert_free(&m);
    nn_weights_free(w);
    return rc;
}

static int stage_hubert(rvc_case *c, vc_error *err)
{
    if (hubert_file(c, "hubert.safetensors", "", err) != 0) return -1;
    if (hubert_file(c, "hubert_hf.safetensors", "", err) != 0) return -1;
    return hubert_file(c, "hubert_fairseq_style.pt", "model.", err);
}

static void compare_f0(rvc_case *c, const char *cents_name, const char *f0_name, const double *cents, const double *f0, int n)
{
    float *tmp = calloc((size_t)n + 1, sizeof(float));
    if (!tmp) return;
    as_float(tmp, cents, n);
    check_rows(c, cents_name, "f0", tmp, n, 1, 0);
    as_float(tmp, f0, n);
    check_rows(c, f0_name, "f0", tmp, n, 1, 0);
    free(tmp);
}

static int stage_rmvpe(rvc_case *c, vc_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/rmvpe.safetensors", c->dir);
    const nn_tensor *audio = input(c, "audio", err), *hand = input(c, "salience_handmade", err);
    nn_weights *w = NULL;
    rmvpe *m = NULL;
    if (!audio || !hand || nn_weights_open(path, &w, err) != 0) return -1;
    int rc = rmvpe_load(&m, w, "", err), n = (int)audio->shape[1], frames = n / RMVPE_HOP + 1;
    float *basis = malloc(sizeof(float) * RMVPE_MELS * 513), *mel = malloc(sizeof(float) * (size_t)frames * RMVPE_MELS);
    float *sal = malloc(sizeof(float) * (size_t)frames * RMVPE_BINS);
    double *cents = malloc(sizeof(double) * (size_t)frames), *f0 = malloc(sizeof(double) * (size_t)frames);
    if (rc == 0 && (!basis || !mel || !sal || !cents || !f0)) rc = vc_fail(err, VC_ERR_NOMEM, "oom");
    if (rc == 0) {
        rmvpe_mel_basis(basis, 16000, 1024, RMVPE_MELS, 30.0, 8000.0);
        check_rows(c, "mel_basis", "mel", basis, RMVPE_MELS, 513, 0);
        rc = rmvpe_mel(m, audio->data, n, mel, err);
    }
    if (rc == 0) {
        float *t = golden_transposed(mel, frames, RMVPE_MELS);
        if (t) check_rows(c, "mel", "mel", t, RMVPE_MELS, frames, 0);
        free(t);
        rc = rmvpe_salience(m, mel, frames, sal, err);
    }
    if (rc == 0) {
        check_rows(c, "hidden", "hidden", sal, frames, RMVPE_BINS, 0);
        rmvpe_decode(sal, frames, RMVPE_THRESHOLD, cents, f0);
        compare_f0(c, "cents", "f0", cents, f0, frames);
        int nh = (int)hand->shape[0];
        rmvpe_decode(hand->data, nh, RMVPE_THRESHOLD, cents, f0);
        compare_f0(c, "cents_handmade", "f0_handmade", cents, f0, nh);
    }
    free(basis); free(mel); free(sal); free(cents); free(f0);
    rmvpe_free(m);
    nn_weights_free(w);
    return rc;
}

typedef struct pipeline_ctx { rvc_case *c; } pipeline_ctx;

static void on_pipeline_tap(void *ctx, const char *name, const float *data, size_t n)
{
    pipeline_ctx *p = ctx;
    const char *key = strstr(name, "hubert_feats") ? "hubert_feats" : strstr(name, "pitch") && !strstr(name, "pitchf") ? "pitch" : "";
    double atol = 1e-4, rtol = 1e-4;
    if (strstr(name, ".audio")) { atol = 2e-5; rtol = 0; } /* config note: chunkN.audio atol 2e-5 */
    if (!strcmp(key, "")) {
        const nn_tensor *e = nn_weights_get(p->c->expected, name);
        if (e) golden_compare(p->c->report, name, data, (int64_t)n, e, atol, rtol);
        return;
    }
    check_rows(p->c, name, key, data, (int)n, 1, 0);
}

static void pipeline_noise(void *ctx, int chunk, int frames, rvc_noise *noise)
{
    pipeline_ctx *p = ctx;
    char a[96], b[96];
    snprintf(a, sizeof a, "noise.%02d.models.infer.randn_like", 3 * chunk);
    snprintf(b, sizeof b, "noise.%02d.models.forward.randn_like", 3 * chunk + 2);
    const nn_tensor *prior = nn_weights_get(p->c->inputs, a), *sine = nn_weights_get(p->c->inputs, b);
    noise->prior = prior && prior->shape[2] == frames ? prior->data : NULL; /* [1, inter, T], as used */
    noise->sine = sine ? sine->data : NULL;
}

static int open_near(const rvc_case *c, const char *rel, nn_weights **w, vc_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", c->dir, rel);
    return nn_weights_open(path, w, err);
}

static int stage_pipeline(rvc_case *c, vc_error *err)
{
    const json_t *cfg = c->config, *from = json_object_get(cfg, "weights_from_other_cases");
    const char *hub_path = json_string_value(json_object_get(from, "hubert.safetensors"));
    const char *rmv_path = json_string_value(json_object_get(from, "rmvpe.safetensors"));
    nn_weights *hw = NULL, *rw = NULL, *sw = NULL;
    hubert_model hub;
    rmvpe *rm = NULL;
    rvc_synth *syn = NULL;
    rvc_synth_config sc;
    int hub_ok = 0;
    const nn_tensor *audio = input(c, "audio", err), *bank = input(c, "big_npy", err);
    int rc = (audio && bank && hub_path && rmv_path) ? 0 : vc_fail(err, VC_ERR_INVALID_FORMAT, "pipeline case incomplete");
    if (rc == 0) rc = open_near(c, hub_path, &hw, err);
    if (rc == 0) rc = hubert_load(&hub, hw, "", (int)json_integer_value(json_object_get(json_object_get(cfg, "hubert"), "encoder_attention_heads")), err);
    hub_ok = rc == 0;
    if (rc == 0) rc = open_near(c, rmv_path, &rw, err);
    if (rc == 0) rc = rmvpe_load(&rm, rw, "", err);
    if (rc == 0) rc = open_near(c, "synthesizer.safetensors", &sw, err);
    if (rc == 0) rc = rvc_synth_config_parse(json_object_get(cfg, "synthesizer"), &sc, err);
    if (rc == 0) rc = rvc_synth_load(&syn, sw, "", &sc, err);
    size_t n = audio ? (size_t)audio->shape[0] : 0;
    double *x = malloc(sizeof(double) * (n + 1));
    if (rc == 0 && !x) rc = vc_fail(err, VC_ERR_NOMEM, "oom");
    for (size_t i = 0; rc == 0 && i < n; i++) x[i] = ((const float *)audio->data)[i];
    if (rc == 0) {
        rvc_voice v = {&hub, rm, syn, bank->data, (int)bank->shape[0], json_is_string(json_object_get(cfg, "version")) && !strcmp(json_string_value(json_object_get(cfg, "version")), "v1") ? 1 : 2};
        rvc_params p;
        rvc_params_default(&p);
        p.f0_up_key = (double)json_integer_value(json_object_get(cfg, "f0_up_key"));
        p.index_rate = json_number_value(json_object_get(cfg, "index_rate"));
        p.rms_mix_rate = json_number_value(json_object_get(cfg, "rms_mix_rate"));
        p.protect = json_number_value(json_object_get(cfg, "protect"));
        p.x_pad = json_number_value(json_object_get(cfg, "x_pad"));
        p.x_query = json_number_value(json_object_get(cfg, "x_query"));
        p.x_center = json_number_value(json_object_get(cfg, "x_center"));
        p.x_max = json_number_value(json_object_get(cfg, "x_max"));
        p.sid = (int)json_integer_value(json_object_get(cfg, "sid"));
        pipeline_ctx pc = {c};
        rvc_hooks hooks = {pipeline_noise, NULL, on_pipeline_tap, &pc, NULL};
        int16_t *out = NULL;
        size_t out_n = 0;
        rc = rvc_convert(&v, x, n, &p, &hooks, &out, &out_n, err);
        if (rc == 0) {
            float *f = malloc(sizeof(float) * (out_n + 1));
            for (size_t i = 0; f && i < out_n; i++) f[i] = out[i];
            const nn_tensor *e = nn_weights_get(c->expected, "audio_int16");
            double atol = json_number_value(json_object_get(json_object_get(json_object_get(cfg, "tolerance"), "audio_int16"), "atol"));
            if (f) golden_compare(c->report, "audio_int16", f, (int64_t)out_n, e, atol, 0);
            free(f);
        }
        free(out);
    }
    free(x);
    rvc_synth_free(syn);
    rmvpe_free(rm);
    if (hub_ok) hubert_free(&hub);
    nn_weights_free(hw); nn_weights_free(rw); nn_weights_free(sw);
    return rc;
}

static int stage_train(rvc_case *c, vc_error *err)
{
    return rvc_golden_train(c->report, c->dir, c->config, c->inputs, c->expected, err);
}

typedef int (*stage_fn)(rvc_case *c, vc_error *err);

static const struct { const char *stage; stage_fn run; } STAGES[] = {
    {"f0_postprocess_and_feature_upsample", stage_f0},
    {"index_retrieval", stage_index},
    {"synthesizer_infer", stage_synth},
    {"hubert", stage_hubert},
    {"rmvpe", stage_rmvpe},
    {"pipeline_end_to_end", stage_pipeline},
    {"training_step", stage_train},
};

static stage_fn stage_for(const json_t *config)
{
    const char *stage = json_string_value(json_object_get(config, "stage"));
    for (size_t i = 0; stage && i < sizeof STAGES / sizeof STAGES[0]; i++)
        if (!strcmp(stage, STAGES[i].stage)) return STAGES[i].run;
    return NULL;
}

static int matches(const json_t *config)
{
    return stage_for(config) != NULL;
}

static int run(golden_report *r, const char *case_dir, const json_t *config, vc_error *err)
{
    rvc_case c = {.dir = case_dir, .config = config, .report = r};
    char in[1024], ex[1024];
    snprintf(in, sizeof in, "%s/inputs.safetensors", case_dir);
    snprintf(ex, sizeof ex, "%s/expected.safetensors", case_dir);
    int rc = nn_weights_open(in, &c.inputs, err);
    if (rc == 0) rc = nn_weights_open(ex, &c.expected, err);
    vc_error stage_err = {0};
    if (rc == 0 && stage_for(config)(&c, &stage_err) != 0) golden_missing(r, "stage", stage_err.message);
    nn_weights_free(c.inputs);
    nn_weights_free(c.expected);
    return rc;
}

const golden_model rvc_golden_model = {"rvc", matches, run};
