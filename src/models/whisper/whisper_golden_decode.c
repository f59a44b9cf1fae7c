/*
 * Whisper golden decoding stages (runner: whisper_golden.c). A window is checked twice:
 * teacher-forced on the recorded tokens (per-step logits, masks, timestamp-rule sides,
 * log-probabilities; our argmax must agree wherever the recorded margin is robust), then
 * free-running (the tokens and scores of the result must be the recorded ones).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/whisper/whisper_golden_internal.h"

#define TOPK 50

typedef struct step_rec {
    const whisper_tokenizer *tok;
    const int64_t *raw_idx, *filt_idx; /* [S, 50] recorded indices */
    int S, V;
    float *raw, *filt, *margin, *ts, *max_text, *logprob;
    int *mask, *argmax;
} step_rec;

static void mask_summary(const whisper_tokenizer *t, const float *x, int V, int *out)
{
    int tb = t->timestamp_begin;
    memset(out, 0, sizeof(int) * 6);
    out[4] = out[5] = -1;
    for (int i = 0; i < V; i++) {
        if (isinf(x[i])) continue;
        out[0]++;
        if (i < t->eot) out[1]++;
        else if (i < tb) out[2]++;
        else {
            out[3]++;
            if (out[4] < 0) out[4] = i - tb;
            out[5] = i - tb;
        }
    }
}

static void on_step(void *ctx, const whisper_step *s)
{
    step_rec *r = ctx;
    int i = s->step, V = r->V;
    if (i >= r->S) return;
    for (int k = 0; k < TOPK; k++) {
        int64_t a = r->raw_idx[(size_t)i * TOPK + k], b = r->filt_idx[(size_t)i * TOPK + k];
        r->raw[(size_t)i * TOPK + k] = a >= 0 && a < V ? s->raw[a] : -INFINITY;
        r->filt[(size_t)i * TOPK + k] = b >= 0 && b < V ? s->filtered[b] : -INFINITY;
    }
    float best = -INFINITY, second = -INFINITY;
    int arg = 0;
    for (int k = 0; k < V; k++) {
        float v = s->filtered[k];
        if (v > best) { second = best; best = v; arg = k; }
        else if (v > second) second = v;
    }
    r->margin[i] = isinf(second) ? INFINITY : best - second;
    r->argmax[i] = arg;
    mask_summary(r->tok, s->filtered, V, r->mask + (size_t)i * 6);
    r->ts[i] = (float)s->ts_logprob;
    r->max_text[i] = (float)s->max_text_logprob;
    r->logprob[i] = (float)s->token_logprob;
}

static double robust_threshold(const wg_case *c, const char *key)
{
    const json_t *t = json_object_get(json_object_get(json_object_get(c->config, "robust_decisions"), key), "threshold");
    return json_is_number(t) ? json_number_value(t) : 0;
}

/* Our decisions (argmax, timestamp-rule side) agree with the recorded ones where robust. */
static void check_decisions(wg_case *c, const char *prefix, const step_rec *r, const int *forced)
{
    char key[64], name[96], detail[96];
    snprintf(key, sizeof key, "%smargin", prefix);
    const float *margin = wg_expected_f32(c, key, NULL);
    double thr = robust_threshold(c, key);
    int robust = 0, agree = 0;
    for (int i = 0; margin && i < r->S; i++)
        if (margin[i] > thr) { robust++; agree += r->argmax[i] == forced[i]; }
    snprintf(name, sizeof name, "%sargmax", prefix);
    snprintf(detail, sizeof detail, "%d of %d robust steps", agree, robust);
    wg_verdict(c, name, margin && agree == robust, detail);
    snprintf(key, sizeof key, "%sts_rule", prefix);
    thr = robust_threshold(c, key);
    snprintf(key, sizeof key, "%sts_rule.timestamp_logprob", prefix);
    const float *ts = wg_expected_f32(c, key, NULL);
    snprintf(key, sizeof key, "%sts_rule.max_text_logprob", prefix);
    const float *mt = wg_expected_f32(c, key, NULL);
    if (!ts || !mt) return;
    robust = agree = 0;
    for (int i = 0; i < r->S; i++) {
        double gap = (double)ts[i] - mt[i];
        if (!(fabs(gap) > thr)) continue; /* also skips -inf − -inf */
        robust++;
        agree += (gap > 0) == ((double)r->ts[i] - r->max_text[i] > 0);
    }
    snprintf(name, sizeof name, "%sts_rule.decision", prefix);
    snprintf(detail, sizeof detail, "%d of %d robust steps", agree, robust);
    wg_verdict(c, name, agree == robust, detail);
}

static void compare_records(wg_case *c, const char *prefix, const step_rec *r)
{
    char name[96];
    int S = r->S;
#define CHECK(suffix, data, n) (snprintf(name, sizeof name, "%s%s", prefix, suffix), wg_check(c, name, data, n))
    CHECK("raw_top50.values", r->raw, (int64_t)S * TOPK);
    CHECK("filtered_top50.values", r->filt, (int64_t)S * TOPK);
    CHECK("margin", r->margin, S);
    CHECK("ts_rule.timestamp_logprob", r->ts, S);
    CHECK("ts_rule.max_text_logprob", r->max_text, S);
    CHECK("token_logprob", r->logprob, S);
#undef CHECK
    snprintf(name, sizeof name, "%smask_summary", prefix);
    wg_check_exact(c, name, r->mask, (int64_t)S * 6);
}

/* The free-running result against the record. */
static void compare_result(wg_case *c, const char *prefix, const whisper_decode_result *res)
{
    char name[96];
    float v;
#define EXACT(suffix, data, n) (snprintf(name, sizeof name, "%s%s", prefix, suffix), wg_check_exact(c, name, data, n))
#define VALUE(suffix, x) (snprintf(name, sizeof name, "%s%s", prefix, suffix), v = (float)(x), wg_check(c, name, &v, 1))
    EXACT("initial_tokens", res->buffer, res->sample_begin);
    EXACT("sampled_tokens", res->buffer + res->sample_begin, res->n_buffer - res->sample_begin);
    EXACT("tokens", res->buffer, res->n_buffer);
    EXACT("result_tokens", res->tokens, res->n_tokens);
    VALUE("sum_logprob", res->sum_logprob);
    VALUE("avg_logprob", res->avg_logprob);
    VALUE("no_speech_prob", res->no_speech_prob);
#undef EXACT
#undef VALUE
}

static int alloc_rec(step_rec *r, int S)
{
    size_t n = (size_t)S * TOPK + 1;
    r->raw = malloc(sizeof(float) * n);
    r->filt = malloc(sizeof(float) * n);
    r->margin = malloc(sizeof(float) * n);
    r->ts = malloc(sizeof(float) * n);
    r->max_text = malloc(sizeof(float) * n);
    r->logprob = malloc(sizeof(float) * n);
    r->mask = malloc(sizeof(int) * n);
    r->argmax = malloc(sizeof(int) * n);
    return r->raw && r->filt && r->margin && r->ts && r->max_text && r->logprob && r->mask && r->argmax;
}

static void free_rec(step_rec *r)
{
    free(r->raw); free(r->filt); free(r->margin); free(r->ts); free(r->max_text); free(r->logprob); free(r->mask); free(r->argmax);
}

int wg_check_window(wg_case *c, const char *prefix, const float *mel, const whisper_decode_options *o,
                    const whisper_decode_result *res, vc_error *err)
{
    char name[96];
    snprintf(name, sizeof name, "%ssampled_tokens", prefix);
    int S = 0;
    int *forced = wg_ints(c->expected, name, &S);
    snprintf(name, sizeof name, "%sraw_top50.indices", prefix);
    const nn_tensor *raw_idx = nn_weights_get(c->expected, name);
    snprintf(name, sizeof name, "%sfiltered_top50.indices", prefix);
    const nn_tensor *filt_idx = nn_weights_get(c->expected, name);
    if (!forced || !raw_idx || !filt_idx || S < 1) { free(forced); return vc_fail(err, VC_ERR_INVALID_FORMAT, "%s record incomplete", prefix); }
    step_rec r = {.tok = &c->tok, .raw_idx = raw_idx->data, .filt_idx = filt_idx->data, .S = S, .V = c->model.dims.n_vocab};
    whisper_kv kv;
    int rc = alloc_rec(&r, S) ? wg_window_kv(c, mel, &kv, err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (rc == 0) {
        whisper_decode_options tf = *o; /* teacher-forced on the recorded tokens */
        tf.forced = forced;
        tf.n_forced = S;
        tf.sample_len = S;
        tf.temperature = 0;
        tf.on_step = on_step;
        tf.step_ctx = &r;
        whisper_decode_result forced_res;
        rc = whisper_decode(&kv, &c->tok, &tf, &forced_res, err);
        whisper_kv_free(&kv);
        if (rc == 0) whisper_decode_result_free(&forced_res);
    }
    if (rc == 0) {
        compare_records(c, prefix, &r);
        check_decisions(c, prefix, &r, forced);
        compare_result(c, prefix, res);
    }
    free_rec(&r);
    free(forced);
    return rc;
}

/* ---- single-window decode ---- */

static void options_from_json(const wg_case *c, const json_t *j, whisper_decode_options *o)
{
    whisper_decode_options_default(o);
    const char *lang = json_string_value(json_object_get(j, "language"));
    const char *task = json_string_value(json_object_get(j, "task"));
    o->language = lang ? whisper_language_index(lang) : -1;
    o->task = task && !strcmp(task, "translate") ? WHISPER_TRANSLATE : WHISPER_TRANSCRIBE;
    o->without_timestamps = json_is_true(json_object_get(j, "without_timestamps"));
    o->temperature = (float)json_number_value(json_object_get(j, "temperature"));
    o->sample_len = json_is_integer(json_object_get(j, "sample_len")) ? (int)json_integer_value(json_object_get(j, "sample_len")) : 0;
    (void)c;
}

static void check_text(wg_case *c, const char *name, const char *got, const json_t *want)
{
    char detail[160];
    snprintf(detail, sizeof detail, "(%.120s)", got ? got : "");
    wg_verdict(c, name, got && json_is_string(want) && !strcmp(got, json_string_value(want)), detail);
}

int wg_stage_decode(wg_case *c, vc_error *err)
{
    const json_t *stage = json_object_get(json_object_get(c->config, "stages"), "decode");
    const float *mel = wg_expected_f32(c, "mel", NULL);
    if (!mel || !stage) return vc_fail(err, VC_ERR_INVALID_FORMAT, "decode stage needs mel and config.stages.decode");
    whisper_decode_options o;
    options_from_json(c, json_object_get(stage, "options"), &o);
    whisper_kv kv;
    whisper_decode_result res;
    if (wg_window_kv(c, mel, &kv, err) != 0) return -1;
    int rc = whisper_decode(&kv, &c->tok, &o, &res, err);
    whisper_kv_free(&kv);
    if (rc != 0) return -1;
    rc = wg_check_window(c, "decode.", mel, &o, &res, err);
    const json_t *resolved = json_object_get(stage, "resolved");
    check_text(c, "decode.text", res.text, json_object_get(resolved, "text"));
    double cr = json_number_value(json_object_get(resolved, "compression_ratio"));
    char detail[64];
    snprintf(detail, sizeof detail, "(%.6g vs %.6g)", res.compression_ratio, cr);
    wg_verdict(c, "decode.compression_ratio", fabs(res.compression_ratio - cr) <= 1e-9, detail);
    whisper_decode_result_free(&res);
    return rc;
}

/* ---- long form ---- */

typedef struct lf_obs {
    wg_case *c;
    int seek[64], size[64], n;
    int failed;
    vc_error err;
} lf_obs;

static void on_window(void *ctx, const whisper_window *w)
{
    lf_obs *obs = ctx;
    wg_case *c = obs->c;
    char prefix[32], name[48];
    snprintf(prefix, sizeof prefix, "lf.w%d.", w->index);
    if (obs->n < 64) { obs->seek[obs->n] = w->seek; obs->size[obs->n] = w->segment_size; obs->n++; }
    snprintf(name, sizeof name, "%smel", prefix);
    wg_check(c, name, w->mel, (int64_t)c->model.dims.n_mels * WHISPER_N_FRAMES);
    snprintf(name, sizeof name, "%ssampled_tokens", prefix);
    if (!wg_has(c, name)) { golden_missing(c->report, prefix, "window not in the record"); return; }
    if (wg_check_window(c, prefix, w->mel, w->options, w->result, &obs->err) != 0) golden_missing(c->report, prefix, obs->err.message);
}

static void transcribe_options(const wg_case *c, whisper_transcribe_options *o)
{
    const json_t *t = json_object_get(c->config, "transcribe"), *opt = json_object_get(t, "options");
    const json_t *def = json_object_get(t, "other_options_default");
    whisper_transcribe_options_default(o);
    const json_t *temps = json_object_get(opt, "temperature");
    if (json_is_array(temps)) {
        o->n_temperatures = 0;
        for (size_t i = 0; i < json_array_size(temps) && i < WHISPER_MAX_TEMPERATURES; i++)
            o->temperatures[o->n_temperatures++] = (float)json_number_value(json_array_get(temps, i));
    }
    const json_t *v;
    if ((v = json_object_get(opt, "condition_on_previous_text"))) o->condition_on_previous_text = json_is_true(v);
    if ((v = json_object_get(opt, "compression_ratio_threshold"))) o->compression_ratio_threshold = json_is_number(v) ? json_number_value(v) : NAN;
    if ((v = json_object_get(opt, "logprob_threshold"))) o->logprob_threshold = json_is_number(v) ? json_number_value(v) : NAN;
    if ((v = json_object_get(opt, "no_speech_threshold"))) o->no_speech_threshold = json_is_number(v) ? json_number_value(v) : NAN;
    const char *lang = json_string_value(json_object_get(def, "language"));
    o->language = lang ? whisper_language_index(lang) : -1;
}

static void check_segments(wg_case *c, const whisper_transcript *tr)
{
    const json_t *segs = json_object_get(json_object_get(c->config, "transcribe"), "segments");
    int n = tr->n_segments, *seeks = malloc(sizeof(int) * (size_t)(n + 1));
    double worst_start = 0, worst_end = 0;
    int texts_ok = (int)json_array_size(segs) == n;
    for (int i = 0; seeks && i < n; i++) {
        const whisper_segment *g = &tr->segments[i];
        const json_t *want = json_array_get(segs, (size_t)i);
        seeks[i] = g->seek;
        worst_start = fmax(worst_start, want ? fabs(g->start - json_number_value(json_object_get(want, "start"))) : INFINITY);
        worst_end = fmax(worst_end, want ? fabs(g->end - json_number_value(json_object_get(want, "end"))) : INFINITY);
        const char *want_text = json_string_value(json_object_get(want, "text"));
        texts_ok &= want_text && !strcmp(g->text, want_text);
        char name[48];
        snprintf(name, sizeof name, "lf.seg%d.tokens", i);
        if (wg_has(c, name)) wg_check_exact(c, name, g->tokens, g->n_tokens);
        else golden_missing(c->report, name, "segment not in the record");
    }
    char detail[96];
    snprintf(detail, sizeof detail, "%d segments, max |diff| %.3g s (atol 1e-9)", n, worst_start);
    wg_verdict(c, "lf.segments.start", (int)json_array_size(segs) == n && worst_start <= 1e-9, detail);
    snprintf(detail, sizeof detail, "%d segments, max |diff| %.3g s (atol 1e-9)", n, worst_end);
    wg_verdict(c, "lf.segments.end", (int)json_array_size(segs) == n && worst_end <= 1e-9, detail);
    wg_verdict(c, "lf.segments.text", texts_ok, "");
    if (seeks) wg_check_exact(c, "lf.segments.seek", seeks, n);
    free(seeks);
}

int wg_stage_long_form(wg_case *c, vc_error *err)
{
    const nn_tensor *a = nn_weights_get(c->inputs, "audio");
    if (!a || a->dtype != NN_F32) return vc_fail(err, VC_ERR_INVALID_FORMAT, "inputs lack audio");
    whisper_transcribe_options o;
    transcribe_options(c, &o);
    float probs[WHISPER_MAX_LANGUAGES] = {0};
    lf_obs obs = {.c = c};
    o.language_probs = probs;
    o.on_window = on_window;
    o.window_ctx = &obs;
    whisper_transcript tr;
    if (whisper_transcribe(&c->model, &c->tok, a->data, (size_t)a->shape[a->ndim - 1], &o, &tr, err) != 0) return -1;
    int M = c->model.dims.n_mels, content = tr.mel_frames - WHISPER_N_FRAMES;
    float *mc = malloc(sizeof(float) * (size_t)M * content + 1);
    for (int r = 0; mc && r < M; r++) memcpy(mc + (size_t)r * content, tr.mel + (size_t)r * tr.mel_frames, sizeof(float) * content);
    if (mc) wg_check(c, "lf.mel_content", mc, (int64_t)M * content);
    free(mc);
    if (o.language < 0) wg_check_lang(c, "lf.lang.", probs);
    wg_check_exact(c, "lf.seek", obs.seek, obs.n);
    wg_check_exact(c, "lf.segment_size", obs.size, obs.n);
    check_segments(c, &tr);
    check_text(c, "lf.text", tr.text, json_object_get(json_object_get(c->config, "transcribe"), "text"));
    const char *lang = json_string_value(json_object_get(json_object_get(c->config, "transcribe"), "language"));
    wg_verdict(c, "lf.language", lang && whisper_language_index(lang) == tr.language, "");
    whisper_transcript_free(&tr);
    return 0;
}
