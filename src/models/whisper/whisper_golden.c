/*
 * Whisper golden cases (../shared/golden/whisper/<case>/, README there). Which stages run is
 * decided by what expected.safetensors holds, never by the case's name:
 *   weights    model.pt through the restricted unpickler == weights.safetensors, bit for bit
 *   tokenizer  config.tokenizer: encode/decode suites, special ids, non-speech tokens
 *   mel        audio → mel.filters, mel (pad_or_trim), mel.unpadded
 *   encoder    expected mel → encoder.*          decoder  expected encoder.out → decoder.*
 *   kv         the same tokens fed 3 + 1 + 1 … through the KV cache → kv.*
 *   lang       expected mel → lang.*             decode   expected mel → decode.* (whisper_golden_decode.c)
 *   long form  audio → transcribe() → lf.*
 * Integer tensors are compared exactly; top-50 logits are compared by gathering our logits at
 * the recorded indices (index sets may differ among near-equal values).
 */
#include "models/whisper/whisper_golden.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/whisper/whisper_golden_internal.h"

static int matches(const json_t *config)
{
    const json_t *dims = json_object_get(json_object_get(config, "model"), "dims");
    return json_is_integer(json_object_get(dims, "n_audio_ctx")) && json_is_integer(json_object_get(dims, "n_text_ctx"));
}

int wg_has(const wg_case *c, const char *name) { return nn_weights_get(c->expected, name) != NULL; }

void wg_check(wg_case *c, const char *name, const float *got, int64_t n)
{
    if (wg_has(c, name)) golden_check(c->report, c->config, c->expected, name, got, n);
}

void wg_check_exact(wg_case *c, const char *name, const int *got, int64_t n)
{
    const nn_tensor *t = nn_weights_get(c->expected, name);
    if (!t) return;
    float *f = malloc(sizeof(float) * (size_t)(n + 1));
    if (!f) { golden_missing(c->report, name, "out of memory"); return; }
    for (int64_t i = 0; i < n; i++) f[i] = (float)got[i]; /* ids < 2^24: exact in float */
    golden_compare(c->report, name, f, n, t, 0, 0);
    free(f);
}

void wg_check_transposed(wg_case *c, const char *name, const float *x, int rows, int cols)
{
    if (!wg_has(c, name)) return;
    float *t = golden_transposed(x, rows, cols);
    if (t) wg_check(c, name, t, (int64_t)rows * cols);
    else golden_missing(c->report, name, "out of memory");
    free(t);
}

void wg_verdict(wg_case *c, const char *name, int ok, const char *detail)
{
    fprintf(c->report->out ? c->report->out : stdout, "%s %s%s%s\n", name, ok ? "PASS" : "FAIL", detail[0] ? " " : "",
            detail);
    if (ok) c->report->passed++;
    else c->report->failed++;
}

const float *wg_expected_f32(const wg_case *c, const char *name, int64_t *numel)
{
    const nn_tensor *t = nn_weights_get(c->expected, name);
    if (!t || t->dtype != NN_F32) return NULL;
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
    if (numel) *numel = n;
    return t->data;
}

/* Reads an I64 tensor of inputs or expected as ints (malloc'd), *n its length. */
int *wg_ints(const nn_weights *w, const char *name, int *n)
{
    const nn_tensor *t = nn_weights_get(w, name);
    if (!t || t->dtype != NN_I64) return NULL;
    int64_t len = 1;
    for (int d = 0; d < t->ndim; d++) len *= t->shape[d];
    int *v = malloc(sizeof(int) * (size_t)(len + 1));
    for (int64_t i = 0; v && i < len; i++) v[i] = (int)((const int64_t *)t->data)[i];
    *n = (int)len;
    return v;
}

/* Values of logits rows [rows, V] at the recorded top-50 indices [rows, 50] (-1 → -inf). */
float *wg_gather(const float *logits, int V, const nn_tensor *indices)
{
    if (!indices || indices->dtype != NN_I64 || indices->ndim != 2) return NULL;
    int rows = (int)indices->shape[0], k = (int)indices->shape[1];
    float *out = malloc(sizeof(float) * (size_t)rows * k + 1);
    const int64_t *idx = indices->data;
    for (int r = 0; out && r < rows; r++)
        for (int j = 0; j < k; j++) {
            int64_t id = idx[(size_t)r * k + j];
            out[(size_t)r * k + j] = id >= 0 && id < V ? logits[(size_t)r * V + id] : -INFINITY;
        }
    return out;
}

/* ---- files ---- */

/* Path of a case file: DIR/name, or where config.files_from_other_cases points. */
void wg_path(const wg_case *c, const char *name, char *out, size_t cap)
{
    const char *other = json_string_value(json_object_get(json_object_get(c->config, "files_from_other_cases"), name));
    snprintf(out, cap, "%s/%s", c->dir, other ? other : name);
}

static int file_exists(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (f) fclose(f);
    return f != NULL;
}

/* model.pt and weights.safetensors hold the same tensors (pt ones in float16, upcast). */
static void stage_weights(wg_case *c)
{
    char st[1024];
    wg_path(c, "weights.safetensors", st, sizeof st);
    if (!file_exists(st)) return; /* the committed copies keep only model.pt */
    nn_weights *w;
    vc_error err;
    if (nn_weights_open(st, &w, &err) != 0) { golden_missing(c->report, "weights", err.message); return; }
    size_t n = nn_weights_count(w), same = 0;
    char detail[256] = "";
    for (size_t i = 0; i < n; i++) {
        const char *name = nn_weights_name(w, i);
        char full[256];
        snprintf(full, sizeof full, "model_state_dict.%s", name);
        const nn_tensor *a = nn_weights_get(c->model.file, full), *b = nn_weights_get(w, name);
        size_t numel = 1;
        for (int d = 0; b && d < b->ndim; d++) numel *= (size_t)b->shape[d];
        int ok = a && b && a->dtype == NN_F32 && b->dtype == NN_F32 && a->ndim == b->ndim &&
                 !memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)b->ndim) &&
                 !memcmp(a->data, b->data, sizeof(float) * numel);
        if (ok) same++;
        else if (!detail[0]) snprintf(detail, sizeof detail, "(first difference: %s)", name);
    }
    char line[320];
    snprintf(line, sizeof line, "%zu of %zu tensors bit-identical %s", same, n, detail);
    wg_verdict(c, "weights.model_pt_vs_safetensors", same == n && n > 0, line);
    nn_weights_free(w);
}

/* config.model.dims == what the loader read from model.pt. */
static void stage_dims(wg_case *c)
{
    const json_t *dims = json_object_get(json_object_get(c->config, "model"), "dims");
    const whisper_dims *d = &c->model.dims;
    const int got[] = {d->n_mels, d->n_audio_ctx, d->n_audio_state, d->n_audio_head, d->n_audio_layer,
                       d->n_vocab, d->n_text_ctx, d->n_text_state, d->n_text_head, d->n_text_layer};
    const char *keys[] = {"n_mels", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
                          "n_vocab", "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer"};
    int ok = 1;
    for (int i = 0; i < 10; i++) ok &= json_integer_value(json_object_get(dims, keys[i])) == got[i];
    wg_verdict(c, "weights.dims", ok, "");
}

static int open_case(wg_case *c, vc_error *err)
{
    char model[1024], vocab[1024], in[1024], ex[1024];
    wg_path(c, "model.pt", model, sizeof model);
    wg_path(c, "multilingual.tiktoken", vocab, sizeof vocab);
    snprintf(in, sizeof in, "%s/inputs.safetensors", c->dir);
    snprintf(ex, sizeof ex, "%s/expected.safetensors", c->dir);
    if (whisper_load(&c->model, model, err) != 0) return -1;
    if (whisper_tokenizer_load(&c->tok, vocab, c->model.num_languages, err) != 0) return -1;
    if (nn_weights_open(in, &c->inputs, err) != 0 || nn_weights_open(ex, &c->expected, err) != 0) return -1;
    return 0;
}

static void run_stage(wg_case *c, const char *name, int (*fn)(wg_case *c, vc_error *err))
{
    vc_error err = {0};
    if (fn(c, &err) != 0) golden_missing(c->report, name, err.message);
}

static int run(golden_report *r, const char *case_dir, const json_t *config, vc_error *err)
{
    wg_case c = {.dir = case_dir, .config = config, .report = r};
    int rc = open_case(&c, err);
    if (rc == 0) {
        stage_weights(&c);
        stage_dims(&c);
        run_stage(&c, "tokenizer", wg_stage_tokenizer);
        if (wg_has(&c, "mel")) run_stage(&c, "mel", wg_stage_mel);
        if (wg_has(&c, "encoder.out")) run_stage(&c, "encoder", wg_stage_encoder);
        if (wg_has(&c, "decoder.ln")) run_stage(&c, "decoder", wg_stage_decoder);
        if (wg_has(&c, "kv.logits_last")) run_stage(&c, "kv", wg_stage_kv);
        if (wg_has(&c, "lang.probs")) run_stage(&c, "lang", wg_stage_lang);
        if (wg_has(&c, "decode.tokens")) run_stage(&c, "decode", wg_stage_decode);
        if (wg_has(&c, "lf.seek")) run_stage(&c, "long_form", wg_stage_long_form);
    }
    nn_weights_free(c.inputs);
    nn_weights_free(c.expected);
    whisper_tokenizer_free(&c.tok);
    whisper_free(&c.model);
    return rc;
}

const golden_model whisper_golden_model = {"whisper", matches, run};
