/*
 * One-window decoding (contract: whisper_decode.h), as the official DecodingTask with one
 * audio and no beam search:
 *   initial tokens = [<|startofprev|> + prompt[-223:]] + [sot, language, task (, notimestamps)]
 *   step i: logits of the last position → SuppressBlank → SuppressTokens → ApplyTimestampRules
 *           → argmax (temperature 0) or a categorical sample → append; stop on EOT, after
 *           sample_len steps, or when the buffer outgrows n_text_ctx.
 * Log-probabilities are computed in double over the float32 logits.
 */
#include "models/whisper/whisper_decode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void whisper_decode_options_default(whisper_decode_options *o)
{
    memset(o, 0, sizeof *o);
    o->task = WHISPER_TRANSCRIBE;
    o->language = -1;
    o->suppress_blank = 1;
    o->suppress_non_speech = 1;
    o->max_initial_timestamp = 1.0f;
}

void whisper_decode_result_free(whisper_decode_result *r)
{
    free(r->buffer);
    free(r->text);
    memset(r, 0, sizeof *r);
}

double whisper_compression_ratio(const char *text)
{
    size_t n = strlen(text);
    uLongf cap = compressBound((uLong)n);
    Bytef *buf = malloc(cap);
    if (!buf || compress2(buf, &cap, (const Bytef *)text, (uLong)n, 6) != Z_OK) { free(buf); return 0; }
    free(buf);
    return (double)n / (double)cap;
}

/* log Σ exp(x[i]) over [lo, hi) in double; -inf when all are -inf. */
static double logsumexp(const float *x, int lo, int hi)
{
    double mx = -INFINITY, s = 0;
    for (int i = lo; i < hi; i++) mx = fmax(mx, x[i]);
    if (isinf(mx)) return mx;
    for (int i = lo; i < hi; i++) s += exp((double)x[i] - mx);
    return mx + log(s);
}

static void mask_range(float *x, int lo, int hi)
{
    for (int i = lo; i < hi; i++) x[i] = -INFINITY;
}

int whisper_detect_language(whisper_kv *kv, const whisper_tokenizer *tok, float *probs, int *language, vc_error *err)
{
    const whisper_model *m = kv->m;
    float *logits = malloc(sizeof(float) * (size_t)m->dims.n_vocab);
    if (!logits) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    whisper_kv_reset(kv);
    int rc = whisper_decoder_forward(kv, &tok->sot, 1, logits, NULL, NULL, err);
    whisper_kv_reset(kv);
    if (rc == 0) {
        int first = tok->sot + 1, n = tok->num_languages, best = 0;
        double lse = logsumexp(logits, first, first + n);
        for (int i = 0; i < n; i++) {
            if (probs) probs[i] = (float)exp(logits[first + i] - lse);
            if (logits[first + i] > logits[first + best]) best = i;
        }
        *language = best;
    }
    free(logits);
    return rc;
}

/* ---- decoding task ---- */

typedef struct task {
    whisper_kv *kv;
    const whisper_tokenizer *tok;
    const whisper_decode_options *o;
    int V, sample_len, blank;  /* blank = encode(" ")[0] */
    int *suppress;
    int n_suppress;
    float *raw, *filtered, *logits_all;
    uint64_t rng;
} task;

static int build_suppress(task *t, vc_error *err)
{
    const whisper_tokenizer *k = t->tok;
    int cap = 256;
    t->suppress = malloc(sizeof(int) * (size_t)cap);
    if (!t->suppress) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    int n = 0;
    if (t->o->suppress_non_speech && (n = whisper_non_speech_tokens(k, t->suppress, cap - 8, err)) < 0) return -1;
    int fixed[] = {k->transcribe, k->translate, k->sot, k->sot_prev, k->sot_lm, k->no_speech};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) t->suppress[n++] = fixed[i];
    t->n_suppress = n;
    int *blank, nb;
    if (whisper_encode(k, " ", &blank, &nb, err) != 0) return -1;
    t->blank = nb > 0 ? blank[0] : -1;
    free(blank);
    return 0;
}

/* ApplyTimestampRules over the sampled tokens seq[0..n). */
static void timestamp_rules(const task *t, float *x, const int *seq, int n, whisper_step *st)
{
    const whisper_tokenizer *k = t->tok;
    int tb = k->timestamp_begin, V = t->V;
    x[k->no_timestamps] = -INFINITY;
    int last = n >= 1 && seq[n - 1] >= tb, penult = n < 2 || seq[n - 2] >= tb;
    if (last) {
        if (penult) mask_range(x, tb, V); /* a pair just closed: text must follow */
        else mask_range(x, 0, k->eot);   /* an opening timestamp: close it or end */
    }
    int last_ts = -1;
    for (int i = 0; i < n; i++)
        if (seq[i] >= tb) last_ts = seq[i];
    if (last_ts >= 0) mask_range(x, tb, last && !penult ? last_ts : last_ts + 1); /* never backwards */
    if (n == 0) {
        mask_range(x, 0, tb);
        if (t->o->max_initial_timestamp >= 0) {
            int last_allowed = tb + (int)lround(t->o->max_initial_timestamp / 0.02);
            mask_range(x, last_allowed + 1, V);
        }
    }
    double lse = logsumexp(x, 0, V), max_text = -INFINITY;
    for (int i = 0; i < tb; i++) max_text = fmax(max_text, (double)x[i] - lse);
    double ts = logsumexp(x, tb, V) - lse;
    st->has_ts_rule = 1;
    st->ts_logprob = ts;
    st->max_text_logprob = max_text;
    if (ts > max_text) mask_range(x, 0, tb);
}

static void apply_filters(const task *t, float *x, const int *seq, int n, whisper_step *st)
{
    if (t->o->suppress_blank && n == 0) {
        if (t->blank >= 0) x[t->blank] = -INFINITY;
        x[t->tok->eot] = -INFINITY;
    }
    for (int i = 0; i < t->n_suppress; i++) x[t->suppress[i]] = -INFINITY;
    st->has_ts_rule = 0;
    if (!t->o->without_timestamps) timestamp_rules(t, x, seq, n, st);
}

static double next_uniform(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static int choose(task *t, const float *x, int step)
{
    if (t->o->forced && step < t->o->n_forced) return t->o->forced[step];
    int best = 0;
    for (int i = 1; i < t->V; i++)
        if (x[i] > x[best]) best = i;
    if (t->o->temperature <= 0) return best;
    /* Categorical(logits / T) */
    double inv = 1.0 / t->o->temperature, sum = 0, mx = x[best] * inv;
    for (int i = 0; i < t->V; i++) sum += isinf(x[i]) ? 0 : exp(x[i] * inv - mx);
    double u = next_uniform(&t->rng) * sum;
    for (int i = 0; i < t->V; i++) {
        if (isinf(x[i])) continue;
        u -= exp(x[i] * inv - mx);
        if (u <= 0) return i;
    }
    return best;
}

/* initial tokens into r->buffer; sets sample_begin, sot_index. */
static int initial_tokens(task *t, int language, whisper_decode_result *r, vc_error *err)
{
    const whisper_tokenizer *k = t->tok;
    int ctx = t->kv->m->dims.n_text_ctx, keep = t->o->n_prompt < ctx / 2 - 1 ? t->o->n_prompt : ctx / 2 - 1;
    r->buffer = malloc(sizeof(int) * (size_t)(keep + 5 + t->sample_len + 1));
    if (!r->buffer) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    int n = 0;
    if (keep > 0) {
        r->buffer[n++] = k->sot_prev;
        memcpy(r->buffer + n, t->o->prompt + t->o->n_prompt - keep, sizeof(int) * (size_t)keep);
        n += keep;
    }
    r->sot_index = n;
    r->buffer[n++] = k->sot;
    if (t->kv->m->multilingual) {
        r->buffer[n++] = k->sot + 1 + language;
        r->buffer[n++] = t->o->task == WHISPER_TRANSLATE ? k->translate : k->transcribe;
    }
    if (t->o->without_timestamps) r->buffer[n++] = k->no_timestamps;
    r->n_buffer = r->sample_begin = n;
    return 0;
}

/* softmax(row)[id] in double. */
static double prob_of(const float *row, int V, int id) { return exp((double)row[id] - logsumexp(row, 0, V)); }

static int run_loop(task *t, whisper_decode_result *r, vc_error *err)
{
    const whisper_tokenizer *k = t->tok;
    int V = t->V, ctx = t->kv->m->dims.n_text_ctx;
    whisper_kv_reset(t->kv);
    if (whisper_decoder_forward(t->kv, r->buffer, r->n_buffer, t->logits_all, NULL, NULL, err) != 0) return -1;
    r->no_speech_prob = prob_of(t->logits_all + (size_t)r->sot_index * V, V, k->no_speech);
    memcpy(t->raw, t->logits_all + (size_t)(r->n_buffer - 1) * V, sizeof(float) * V);
    for (int i = 0; i < t->sample_len; i++) {
        if (t->o->stop && t->o->stop(t->o->stop_ctx)) return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
        if (i > 0 && whisper_decoder_forward(t->kv, r->buffer + r->n_buffer - 1, 1, t->raw, NULL, NULL, err) != 0) return -1;
        memcpy(t->filtered, t->raw, sizeof(float) * V);
        whisper_step st = {.step = i, .raw = t->raw, .filtered = t->filtered};
        apply_filters(t, t->filtered, r->buffer + r->sample_begin, r->n_buffer - r->sample_begin, &st);
        st.chosen = choose(t, t->filtered, i);
        if (st.chosen < 0 || st.chosen >= V) return vc_fail(err, VC_ERR_INVALID_REQUEST, "forced token %d", st.chosen);
        st.token_logprob = (double)t->filtered[st.chosen] - logsumexp(t->filtered, 0, V);
        if (r->buffer[r->n_buffer - 1] != k->eot) r->sum_logprob += st.token_logprob;
        if (t->o->on_step) t->o->on_step(t->o->step_ctx, &st);
        r->buffer[r->n_buffer++] = st.chosen;
        if (st.chosen == k->eot || r->n_buffer > ctx) break;
    }
    return 0;
}

static int finish(task *t, whisper_decode_result *r, vc_error *err)
{
    r->tokens = r->buffer + r->sample_begin;
    r->n_tokens = 0;
    while (r->sample_begin + r->n_tokens < r->n_buffer && r->tokens[r->n_tokens] != t->tok->eot) r->n_tokens++;
    char *text = whisper_detokenize(t->tok, r->tokens, r->n_tokens, 0);
    if (!text) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    r->text = whisper_strip(text);
    r->avg_logprob = r->sum_logprob / (r->n_tokens + 1);
    r->compression_ratio = whisper_compression_ratio(text);
    r->temperature = t->o->temperature;
    return 0;
}

int whisper_decode(whisper_kv *kv, const whisper_tokenizer *tok, const whisper_decode_options *o, whisper_decode_result *r,
                   vc_error *err)
{
    memset(r, 0, sizeof *r);
    const whisper_model *m = kv->m;
    if (tok->n_vocab != m->dims.n_vocab)
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "tokenizer (%d ids) does not fit the model (%d)", tok->n_vocab, m->dims.n_vocab);
    task t = {kv, tok, o, m->dims.n_vocab, o->sample_len > 0 ? o->sample_len : m->dims.n_text_ctx / 2, -1, NULL, 0,
              NULL, NULL, NULL, o->seed};
    int language = o->language;
    int rc = 0;
    if (m->multilingual && language < 0) rc = whisper_detect_language(kv, tok, NULL, &language, err);
    if (!m->multilingual) language = 0;
    if (rc == 0 && (language >= tok->num_languages || language < 0))
        rc = vc_fail(err, VC_ERR_INVALID_REQUEST, "language index %d outside the model's %d", language, tok->num_languages);
    r->language = language;
    if (rc == 0) rc = build_suppress(&t, err);
    if (rc == 0) rc = initial_tokens(&t, language, r, err);
    if (rc == 0) {
        t.raw = malloc(sizeof(float) * t.V);
        t.filtered = malloc(sizeof(float) * t.V);
        t.logits_all = malloc(sizeof(float) * t.V * (size_t)r->n_buffer);
        if (!t.raw || !t.filtered || !t.logits_all) rc = vc_fail(err, VC_ERR_NOMEM, "out of memory");
    }
    if (rc == 0) rc = run_loop(&t, r, err);
    if (rc == 0) rc = finish(&t, r, err);
    free(t.suppress); free(t.raw); free(t.filtered); free(t.logits_all);
    if (rc != 0) whisper_decode_result_free(r);
    return rc;
}
