/*
 * Whisper golden stages before decoding: tokenizer suites, mel, encoder, decoder, KV cache,
 * language detection (runner: whisper_golden.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/whisper/whisper_golden_internal.h"

/* ---- tokenizer ---- */

/* A test's text: from text_utf8_hex when present (exact bytes), else the JSON string. malloc'd. */
static char *test_text(const json_t *t, const char *key)
{
    char hex_key[64];
    snprintf(hex_key, sizeof hex_key, "%s_utf8_hex", key);
    const char *hex = json_string_value(json_object_get(t, hex_key));
    if (!hex) {
        const char *s = json_string_value(json_object_get(t, key));
        return s ? strdup(s) : NULL;
    }
    size_t n = strlen(hex) / 2;
    char *out = malloc(n + 1);
    for (size_t i = 0; out && i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (char)v;
    }
    if (out) out[n] = '\0';
    return out;
}

static int ids_equal(const json_t *arr, const int *ids, int n)
{
    if (!json_is_array(arr) || (int)json_array_size(arr) != n) return 0;
    for (int i = 0; i < n; i++)
        if (json_integer_value(json_array_get(arr, (size_t)i)) != ids[i]) return 0;
    return 1;
}

static int *json_ids(const json_t *arr, int *n)
{
    *n = (int)json_array_size(arr);
    int *v = malloc(sizeof(int) * (size_t)(*n + 1));
    for (int i = 0; v && i < *n; i++) v[i] = (int)json_integer_value(json_array_get(arr, (size_t)i));
    return v;
}

typedef struct suite {
    int total, ok;
    char first_fail[200];
} suite;

static void suite_add(suite *s, int ok, const char *what)
{
    s->total++;
    s->ok += ok;
    if (!ok && !s->first_fail[0]) snprintf(s->first_fail, sizeof s->first_fail, "(first failure: %.150s)", what);
}

static void suite_report(wg_case *c, const char *name, const suite *s)
{
    if (!s->total) return;
    char detail[300];
    snprintf(detail, sizeof detail, "%d of %d %s", s->ok, s->total, s->first_fail);
    wg_verdict(c, name, s->ok == s->total, detail);
}

/* Pieces of the regex pre-split equal the recorded ones. */
static int pieces_match(const char *text, const json_t *pieces)
{
    size_t n = strlen(text), pos = 0, i = 0;
    for (; pos < n; i++) {
        size_t end = whisper_piece_end(text, n, pos);
        const char *want = json_string_value(json_array_get(pieces, i));
        if (!want || strlen(want) != end - pos || memcmp(want, text + pos, end - pos)) return 0;
        pos = end;
    }
    return i == json_array_size(pieces);
}

static void encode_suite(wg_case *c, const json_t *tests)
{
    suite enc = {0}, dec = {0}, pieces = {0};
    size_t i;
    json_t *t;
    json_array_foreach(tests, i, t) {
        char *text = test_text(t, "text");
        int *ids = NULL, n = 0;
        vc_error err;
        int ok = text && whisper_encode(&c->tok, text, &ids, &n, &err) == 0 && ids_equal(json_object_get(t, "ids"), ids, n);
        suite_add(&enc, ok, text ? text : "?");
        if (text && json_is_array(json_object_get(t, "pieces"))) suite_add(&pieces, pieces_match(text, json_object_get(t, "pieces")), text);
        int n_want;
        int *want = json_ids(json_object_get(t, "ids"), &n_want);
        char *back = want ? whisper_detokenize(&c->tok, want, n_want, 0) : NULL;
        char *decoded = test_text(t, "decoded");
        suite_add(&dec, back && decoded && !strcmp(back, decoded), text ? text : "?");
        free(text); free(ids); free(want); free(back); free(decoded);
    }
    suite_report(c, "tokenizer.encode", &enc);
    suite_report(c, "tokenizer.pieces", &pieces);
    suite_report(c, "tokenizer.decode", &dec);
}

static void raises_suite(wg_case *c, const json_t *tests)
{
    suite s = {0};
    size_t i;
    json_t *t;
    json_array_foreach(tests, i, t) {
        const char *text = json_string_value(json_object_get(t, "text"));
        int *ids = NULL, n;
        vc_error err;
        suite_add(&s, text && whisper_encode(&c->tok, text, &ids, &n, &err) != 0, text ? text : "?");
        free(ids);
    }
    suite_report(c, "tokenizer.raises", &s);
}

static void decode_suites(wg_case *c, const json_t *tk)
{
    suite ts = {0}, words = {0};
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(tk, "decode_with_timestamps"), i, t) {
        int n;
        int *ids = json_ids(json_object_get(t, "ids"), &n);
        char *with = ids ? whisper_detokenize(&c->tok, ids, n, 1) : NULL, *without = ids ? whisper_detokenize(&c->tok, ids, n, 0) : NULL;
        const char *w1 = json_string_value(json_object_get(t, "decode_with_timestamps")), *w0 = json_string_value(json_object_get(t, "decode"));
        suite_add(&ts, with && w1 && !strcmp(with, w1), w1 ? w1 : "?");
        suite_add(&ts, without && w0 && !strcmp(without, w0), w0 ? w0 : "?");
        free(ids); free(with); free(without);
    }
    json_array_foreach(json_object_get(tk, "split_on_unicode"), i, t) {
        int n;
        int *ids = json_ids(json_object_get(t, "ids"), &n);
        const json_t *each = json_object_get(t, "decoded_each");
        for (int k = 0; ids && k < n; k++) {
            char *s = whisper_detokenize(&c->tok, ids + k, 1, 0);
            const char *want = json_string_value(json_array_get(each, (size_t)k));
            suite_add(&words, s && want && !strcmp(s, want), want ? want : "?");
            free(s);
        }
        free(ids);
    }
    suite_report(c, "tokenizer.decode_with_timestamps", &ts);
    suite_report(c, "tokenizer.split_on_unicode", &words);
}

static void special_suite(wg_case *c, const json_t *tk)
{
    suite s = {0};
    const whisper_tokenizer *t = &c->tok;
    const char *keys[] = {"eot", "sot", "translate", "transcribe", "sot_lm", "sot_prev", "no_speech", "no_timestamps", "timestamp_begin"};
    const int got[] = {t->eot, t->sot, t->translate, t->transcribe, t->sot_lm, t->sot_prev, t->no_speech, t->no_timestamps, t->timestamp_begin};
    for (int i = 0; i < 9; i++) suite_add(&s, json_integer_value(json_object_get(tk, keys[i])) == got[i], keys[i]);
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(tk, "special_tokens"), key, v) {
        char buf[48];
        whisper_special_text(t, (int)json_integer_value(v), buf, sizeof buf);
        suite_add(&s, !strcmp(buf, key), key);
    }
    const json_t *codes = json_object_get(tk, "all_language_codes"), *ids = json_object_get(tk, "all_language_tokens");
    for (size_t i = 0; i < json_array_size(codes); i++) {
        const char *code = json_string_value(json_array_get(codes, i));
        int idx = whisper_language_index(code);
        suite_add(&s, idx >= 0 && t->sot + 1 + idx == json_integer_value(json_array_get(ids, i)), code ? code : "?");
    }
    suite_add(&s, (int)json_array_size(codes) == t->num_languages, "number of languages");
    suite_add(&s, t->n_vocab == c->model.dims.n_vocab, "n_vocab");
    suite_report(c, "tokenizer.special_tokens", &s);
}

static void sot_suite(wg_case *c, const json_t *tk)
{
    suite s = {0};
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(tk, "sot_sequences"), key, v) {
        char lang[16] = "";
        const char *slash = strchr(key, '/');
        if (!slash || slash - key >= (long)sizeof lang) { suite_add(&s, 0, key); continue; }
        memcpy(lang, key, (size_t)(slash - key));
        int seq[4] = {c->tok.sot, c->tok.sot + 1 + whisper_language_index(lang),
                      !strcmp(slash + 1, "translate") ? c->tok.translate : c->tok.transcribe, c->tok.no_timestamps};
        suite_add(&s, ids_equal(json_object_get(v, "sot_sequence"), seq, 3), key);
        suite_add(&s, ids_equal(json_object_get(v, "including_notimestamps"), seq, 4), key);
    }
    suite_report(c, "tokenizer.sot_sequences", &s);
}

/* gpt2[]: the English-only vocabulary. The shared cases do not carry gpt2.tiktoken (then the
 * suite is reported, not counted); the committed copy does. */
static int gpt2_suite(wg_case *c, const json_t *tk, vc_error *err)
{
    const json_t *tests = json_object_get(tk, "gpt2"), *v = json_object_get(tk, "gpt2_vocab");
    char path[1024];
    snprintf(path, sizeof path, "%s/gpt2.tiktoken", c->dir);
    FILE *f = json_array_size(tests) ? fopen(path, "rb") : NULL;
    if (!f) {
        if (json_array_size(tests)) fprintf(c->report->out ? c->report->out : stdout, "tokenizer.gpt2 - (gpt2.tiktoken not in the case: not checked)\n");
        return 0;
    }
    fclose(f);
    whisper_tokenizer g;
    if (whisper_tokenizer_load(&g, path, 99, err) != 0) return -1;
    suite s = {0};
    size_t i;
    json_t *t;
    json_array_foreach(tests, i, t) {
        const char *text = json_string_value(json_object_get(t, "text"));
        int *ids = NULL, n = 0;
        vc_error e2;
        suite_add(&s, text && whisper_encode(&g, text, &ids, &n, &e2) == 0 && ids_equal(json_object_get(t, "ids"), ids, n), text ? text : "?");
        free(ids);
    }
    suite_add(&s, g.eot == json_integer_value(json_object_get(v, "eot")), "eot");
    suite_add(&s, g.n_vocab == json_integer_value(json_object_get(v, "n_vocab")), "n_vocab");
    suite_add(&s, ids_equal(json_object_get(v, "sot_sequence"), &g.sot, 1), "sot_sequence");
    suite_report(c, "tokenizer.gpt2", &s);
    whisper_tokenizer_free(&g);
    return 0;
}

int wg_stage_tokenizer(wg_case *c, vc_error *err)
{
    const json_t *tk = json_object_get(c->config, "tokenizer");
    if (!json_is_object(tk)) return 0;
    special_suite(c, tk);
    sot_suite(c, tk);
    encode_suite(c, json_object_get(tk, "tests"));
    raises_suite(c, json_object_get(tk, "raises"));
    decode_suites(c, tk);
    int ns[512];
    int n = whisper_non_speech_tokens(&c->tok, ns, 512, err);
    if (n < 0) return -1;
    wg_verdict(c, "tokenizer.non_speech_tokens", ids_equal(json_object_get(tk, "non_speech_tokens"), ns, n), "");
    int *sp, n_sp;
    if (whisper_encode(&c->tok, " ", &sp, &n_sp, err) != 0) return -1;
    wg_verdict(c, "tokenizer.encode_of_space", ids_equal(json_object_get(tk, "encode_of_space"), sp, n_sp), "");
    free(sp);
    return gpt2_suite(c, tk, err);
}

/* ---- mel ---- */

static const float *audio_input(const wg_case *c, size_t *n)
{
    const nn_tensor *t = nn_weights_get(c->inputs, "audio");
    if (!t || t->dtype != NN_F32) return NULL;
    *n = (size_t)t->shape[t->ndim - 1];
    return t->data;
}

int wg_stage_mel(wg_case *c, vc_error *err)
{
    size_t n;
    const float *audio = audio_input(c, &n);
    if (!audio) return vc_fail(err, VC_ERR_INVALID_FORMAT, "inputs lack audio");
    int M = c->model.dims.n_mels;
    wg_check(c, "mel.filters", c->model.mel_filters, (int64_t)M * WHISPER_N_BINS);
    size_t used = n < WHISPER_CHUNK_SAMPLES ? n : WHISPER_CHUNK_SAMPLES; /* pad_or_trim */
    int frames = whisper_mel_frames(n, 0);
    float *mel = malloc(sizeof(float) * (size_t)M * (frames > WHISPER_N_FRAMES ? frames : WHISPER_N_FRAMES));
    if (!mel) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    int rc = whisper_log_mel(&c->model, audio, used, WHISPER_CHUNK_SAMPLES - used, mel, err);
    if (rc == 0) wg_check(c, "mel", mel, (int64_t)M * WHISPER_N_FRAMES);
    if (rc == 0 && wg_has(c, "mel.unpadded")) {
        rc = whisper_log_mel(&c->model, audio, n, 0, mel, err);
        if (rc == 0) wg_check(c, "mel.unpadded", mel, (int64_t)M * frames);
    }
    free(mel);
    return rc;
}

/* ---- encoder ---- */

static void on_tap(void *ctx, const char *name, const float *data, int rows, int cols)
{
    wg_case *c = ctx;
    if (!strcmp(name, "encoder.conv1_gelu") || !strcmp(name, "encoder.conv2_gelu")) /* recorded channel-major */
        wg_check_transposed(c, name, data, rows, cols);
    else wg_check(c, name, data, (int64_t)rows * cols);
}

/* whisper.model.sinusoids(length, channels): [sin(t·inv) | cos(t·inv)]. */
static void sinusoids(float *out, int length, int channels)
{
    int half = channels / 2;
    double inc = log(10000.0) / (half - 1);
    for (int t = 0; t < length; t++)
        for (int i = 0; i < half; i++) {
            double a = t * exp(-inc * i);
            out[(size_t)t * channels + i] = (float)sin(a);
            out[(size_t)t * channels + half + i] = (float)cos(a);
        }
}

int wg_stage_encoder(wg_case *c, vc_error *err)
{
    const float *mel = wg_expected_f32(c, "mel", NULL);
    const whisper_dims *d = &c->model.dims;
    if (!mel) return vc_fail(err, VC_ERR_INVALID_FORMAT, "expected lacks mel");
    float *x = malloc(sizeof(float) * (size_t)d->n_audio_ctx * d->n_audio_state);
    if (!x) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (wg_has(c, "encoder.sinusoids")) {
        sinusoids(x, d->n_audio_ctx, d->n_audio_state);
        wg_check(c, "encoder.sinusoids", x, (int64_t)d->n_audio_ctx * d->n_audio_state);
    }
    int rc = whisper_encode_audio(&c->model, mel, x, on_tap, c, err);
    free(x);
    return rc;
}

/* ---- decoder, kv ---- */

static int *decoder_tokens(const wg_case *c, int *n) { return wg_ints(c->inputs, "decoder.tokens", n); }

int wg_stage_decoder(wg_case *c, vc_error *err)
{
    const float *features = wg_expected_f32(c, "encoder.out", NULL);
    int n = 0, V = c->model.dims.n_vocab;
    int *tokens = decoder_tokens(c, &n);
    if (!features || !tokens) { free(tokens); return vc_fail(err, VC_ERR_INVALID_FORMAT, "decoder stage needs encoder.out, decoder.tokens"); }
    float *logits = malloc(sizeof(float) * (size_t)n * V), *top = NULL;
    whisper_kv kv;
    int rc = logits ? whisper_kv_init(&kv, &c->model, features, err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (rc == 0) {
        rc = whisper_decoder_forward(&kv, tokens, n, logits, on_tap, c, err);
        whisper_kv_free(&kv);
    }
    if (rc == 0) {
        top = wg_gather(logits, V, nn_weights_get(c->expected, "decoder.logits_top50.indices"));
        if (top) wg_check(c, "decoder.logits_top50.values", top, (int64_t)n * 50);
        wg_check(c, "decoder.logits_last", logits + (size_t)(n - 1) * V, V);
    }
    free(top); free(logits); free(tokens);
    return rc;
}

int wg_stage_kv(wg_case *c, vc_error *err)
{
    const float *features = wg_expected_f32(c, "encoder.out", NULL);
    int n = 0, V = c->model.dims.n_vocab;
    int *tokens = decoder_tokens(c, &n);
    const json_t *first_j = json_object_get(json_object_get(json_object_get(c->config, "stages"), "kv"), "initial_token_length");
    int first = json_is_integer(first_j) ? (int)json_integer_value(first_j) : 3;
    if (!features || !tokens || first < 1 || first > n) { free(tokens); return vc_fail(err, VC_ERR_INVALID_FORMAT, "kv stage needs encoder.out, decoder.tokens"); }
    float *logits = malloc(sizeof(float) * (size_t)n * V), *top = NULL;
    whisper_kv kv;
    int rc = logits ? whisper_kv_init(&kv, &c->model, features, err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (rc == 0) {
        rc = whisper_decoder_forward(&kv, tokens, first, logits, NULL, NULL, err); /* the SOT sequence at once */
        for (int i = first; rc == 0 && i < n; i++)                                /* then one token per call */
            rc = whisper_decoder_forward(&kv, tokens + i, 1, logits + (size_t)i * V, NULL, NULL, err);
        whisper_kv_free(&kv);
    }
    if (rc == 0) {
        wg_check(c, "kv.logits_last", logits + (size_t)(n - 1) * V, V);
        top = wg_gather(logits, V, nn_weights_get(c->expected, "decoder.logits_top50.indices"));
        if (top) wg_check(c, "kv.logits_at_top50", top, (int64_t)n * 50);
    }
    free(top); free(logits); free(tokens);
    return rc;
}

/* ---- language detection ---- */

int wg_window_kv(wg_case *c, const float *mel, whisper_kv *kv, vc_error *err)
{
    const whisper_dims *d = &c->model.dims;
    float *x = malloc(sizeof(float) * (size_t)d->n_audio_ctx * d->n_audio_state);
    if (!x) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    int rc = whisper_encode_audio(&c->model, mel, x, NULL, NULL, err);
    if (rc == 0) rc = whisper_kv_init(kv, &c->model, x, err);
    free(x);
    return rc;
}

void wg_check_lang(wg_case *c, const char *prefix, const float *probs)
{
    int NL = c->tok.num_languages, ids[WHISPER_MAX_LANGUAGES], order[WHISPER_MAX_LANGUAGES];
    float top[10];
    char name[64];
    for (int i = 0; i < NL; i++) { ids[i] = c->tok.sot + 1 + i; order[i] = i; }
    for (int i = 0; i < NL; i++) /* selection of the 10 most probable, stable */
        for (int j = i + 1; j < NL && i < 10; j++)
            if (probs[order[j]] > probs[order[i]]) { int t = order[i]; order[i] = order[j]; order[j] = t; }
    int top_ids[10];
    for (int i = 0; i < 10 && i < NL; i++) { top_ids[i] = ids[order[i]]; top[i] = probs[order[i]]; }
    snprintf(name, sizeof name, "%sprobs", prefix), wg_check(c, name, probs, NL);
    snprintf(name, sizeof name, "%stoken_ids", prefix), wg_check_exact(c, name, ids, NL);
    snprintf(name, sizeof name, "%stop10.token_ids", prefix), wg_check_exact(c, name, top_ids, 10);
    snprintf(name, sizeof name, "%stop10.probs", prefix), wg_check(c, name, top, 10);
}

int wg_stage_lang(wg_case *c, vc_error *err)
{
    const float *mel = wg_expected_f32(c, "mel", NULL);
    if (!mel) return vc_fail(err, VC_ERR_INVALID_FORMAT, "expected lacks mel");
    whisper_kv kv;
    float probs[WHISPER_MAX_LANGUAGES];
    int lang;
    if (wg_window_kv(c, mel, &kv, err) != 0) return -1;
    int rc = whisper_detect_language(&kv, &c->tok, probs, &lang, err);
    whisper_kv_free(&kv);
    if (rc != 0) return -1;
    wg_check_lang(c, "lang.", probs);
    const json_t *det = json_object_get(json_object_get(json_object_get(c->config, "stages"), "lang"), "detected_token");
    if (json_is_integer(det)) {
        char detail[64];
        snprintf(detail, sizeof detail, "(%s)", whisper_language_code(lang));
        wg_verdict(c, "lang.detected", c->tok.sot + 1 + lang == json_integer_value(det), detail);
    }
    return 0;
}
