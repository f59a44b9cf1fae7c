/*
 * Long-form transcription as the official transcribe() (contract: whisper_decode.h):
 *   mel of the audio + 30 s of zeros (the max-8 floor sees the padding too);
 *   seek = 0; while seek < content frames:
 *     window = mel[:, seek : seek + min(3000, left)], zero-padded in the log-mel domain;
 *     decode with the prompt all_tokens[prompt_reset_since:], falling back to the next
 *     temperature while the result is too repetitive or too improbable (unless it is silence);
 *     skip the window on no speech; cut the tokens into segments at timestamp pairs and move
 *     seek to the last timestamp (or by the whole window when it ends on a single timestamp).
 * Segment times are not clipped to the audio, as in the official code.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/whisper/whisper_decode.h"

void whisper_transcribe_options_default(whisper_transcribe_options *o)
{
    memset(o, 0, sizeof *o);
    o->task = WHISPER_TRANSCRIBE;
    o->language = -1;
    for (int i = 0; i < 6; i++) o->temperatures[i] = 0.2f * i;
    o->n_temperatures = 6;
    o->compression_ratio_threshold = 2.4;
    o->logprob_threshold = -1.0;
    o->no_speech_threshold = 0.6;
    o->condition_on_previous_text = 1;
}

void whisper_transcript_free(whisper_transcript *t)
{
    for (int i = 0; i < t->n_segments; i++) {
        free(t->segments[i].text);
        free(t->segments[i].tokens);
    }
    free(t->segments);
    free(t->text);
    free(t->mel);
    memset(t, 0, sizeof *t);
}

/* Growing token list (all_tokens). */
typedef struct int_list {
    int *v;
    int n, cap;
} int_list;

static int list_push(int_list *l, const int *x, int n)
{
    if (l->n + n > l->cap) {
        int cap = (l->n + n) * 2 + 16;
        int *v = realloc(l->v, sizeof(int) * (size_t)cap);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    if (n) memcpy(l->v + l->n, x, sizeof(int) * (size_t)n);
    l->n += n;
    return 0;
}

typedef struct lf_state {
    const whisper_model *m;
    const whisper_tokenizer *tok;
    const whisper_transcribe_options *o;
    whisper_transcript *out;
    int content_frames, language, seek, window, prompt_reset_since, n_initial_prompt;
    int_list all_tokens;
    int seg_cap;
    float *window_mel, *features;
} lf_state;

/* text.strip() == "" */
static int is_blank(const char *s)
{
    char *copy = strdup(s);
    int blank = copy && !whisper_strip(copy)[0];
    free(copy);
    return blank;
}

static int needs_fallback(const whisper_transcribe_options *o, const whisper_decode_result *r)
{
    int lp_low = !isnan(o->logprob_threshold) && r->avg_logprob < o->logprob_threshold;
    int fallback = (!isnan(o->compression_ratio_threshold) && r->compression_ratio > o->compression_ratio_threshold) || lp_low;
    if (!isnan(o->no_speech_threshold) && r->no_speech_prob > o->no_speech_threshold && lp_low) fallback = 0; /* silence */
    return fallback;
}

/* Decodes one window with the temperature fallback; the last result is kept. */
static int decode_with_fallback(lf_state *s, whisper_kv *kv, whisper_decode_options *d, whisper_decode_result *r,
                                vc_error *err)
{
    int n_t = s->o->n_temperatures > 0 ? s->o->n_temperatures : 1;
    for (int i = 0; i < n_t; i++) {
        if (i > 0) whisper_decode_result_free(r);
        d->temperature = s->o->n_temperatures > 0 ? s->o->temperatures[i] : 0.0f;
        d->seed = s->o->seed + (uint64_t)s->window * 131 + (uint64_t)i;
        if (whisper_decode(kv, s->tok, d, r, err) != 0) return -1;
        if (!needs_fallback(s->o, r)) break;
    }
    return 0;
}

static int add_segment(lf_state *s, double start, double end, const int *tokens, int n, const whisper_decode_result *r,
                       vc_error *err)
{
    whisper_transcript *out = s->out;
    if (out->n_segments == s->seg_cap) {
        int cap = s->seg_cap * 2 + 8;
        whisper_segment *v = realloc(out->segments, sizeof *v * (size_t)cap);
        if (!v) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
        out->segments = v;
        s->seg_cap = cap;
    }
    whisper_segment *g = &out->segments[out->n_segments];
    memset(g, 0, sizeof *g);
    int n_text = 0, *text_ids = malloc(sizeof(int) * (size_t)(n + 1));
    g->tokens = malloc(sizeof(int) * (size_t)(n + 1));
    for (int i = 0; text_ids && i < n; i++)
        if (tokens[i] < s->tok->eot) text_ids[n_text++] = tokens[i];
    g->text = text_ids ? whisper_detokenize(s->tok, text_ids, n_text, 0) : NULL;
    free(text_ids);
    if (!g->tokens || !g->text) { free(g->tokens); free(g->text); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    out->n_segments++;
    g->id = out->n_segments - 1;
    g->seek = s->seek;
    g->start = start;
    g->end = end;
    g->temperature = r->temperature;
    g->avg_logprob = r->avg_logprob;
    g->compression_ratio = r->compression_ratio;
    g->no_speech_prob = r->no_speech_prob;
    if (start == end || is_blank(g->text)) g->text[0] = '\0'; /* cleared: no tokens */
    else { memcpy(g->tokens, tokens, sizeof(int) * (size_t)n); g->n_tokens = n; }
    return list_push(&s->all_tokens, g->tokens, g->n_tokens) == 0 ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
}

/* Cuts the window's tokens into segments and returns the seek advance in frames (or -1). */
static int segment_window(lf_state *s, const whisper_decode_result *r, int segment_size, double time_offset,
                          vc_error *err)
{
    const int *t = r->tokens, n = r->n_tokens, tb = s->tok->timestamp_begin;
    const double precision = 320 / 16000.0; /* 2 mel frames per position */
    int single_ending = n >= 2 && t[n - 2] < tb && t[n - 1] >= tb;
    int last_slice = 0, any_pair = 0;
    for (int i = 1; i <= n; i++) {
        int pair = i < n && t[i - 1] >= tb && t[i] >= tb;
        int cut = pair || (i == n && single_ending && any_pair);
        if (!cut) continue;
        any_pair = 1;
        double start = time_offset + (t[last_slice] - tb) * precision, end = time_offset + (t[i - 1] - tb) * precision;
        if (add_segment(s, start, end, t + last_slice, i - last_slice, r, err) != 0) return -1;
        last_slice = i;
    }
    if (any_pair) return single_ending ? segment_size : (t[last_slice - 1] - tb) * 2;
    double duration = segment_size * 160 / 16000.0;
    int last_ts = -1;
    for (int i = 0; i < n; i++)
        if (t[i] >= tb) last_ts = t[i];
    if (last_ts > tb) duration = (last_ts - tb) * precision;
    if (add_segment(s, time_offset, time_offset + duration, t, n, r, err) != 0) return -1;
    return segment_size;
}

static int decode_window(lf_state *s, whisper_kv *kv, int segment_size, vc_error *err)
{
    const whisper_model *m = s->m;
    int M = m->dims.n_mels, frames = s->out->mel_frames;
    for (int c = 0; c < M; c++) {
        float *row = s->window_mel + (size_t)c * WHISPER_N_FRAMES;
        memcpy(row, s->out->mel + (size_t)c * frames + s->seek, sizeof(float) * (size_t)segment_size);
        memset(row + segment_size, 0, sizeof(float) * (size_t)(WHISPER_N_FRAMES - segment_size));
    }
    if (whisper_encode_audio(m, s->window_mel, s->features, NULL, NULL, err) != 0) return -1;
    if (whisper_kv_init(kv, m, s->features, err) != 0) return -1;
    whisper_decode_options d;
    whisper_decode_options_default(&d);
    d.stop = s->o->stop;
    d.stop_ctx = s->o->stop_ctx;
    d.task = s->o->task;
    d.language = s->language;
    d.without_timestamps = s->o->without_timestamps;
    d.prompt = s->all_tokens.v ? s->all_tokens.v + s->prompt_reset_since : NULL; /* no list yet: no prompt */
    d.n_prompt = s->all_tokens.n - s->prompt_reset_since;
    whisper_decode_result r;
    int rc = decode_with_fallback(s, kv, &d, &r, err);
    whisper_kv_free(kv);
    if (rc != 0) return -1;
    double time_offset = s->seek * 160 / 16000.0;
    if (s->o->on_window) {
        whisper_window w = {s->window, s->seek, segment_size, s->content_frames, time_offset, s->window_mel, &d, &r};
        s->o->on_window(s->o->window_ctx, &w);
    }
    s->window++;
    int skip = !isnan(s->o->no_speech_threshold) && r.no_speech_prob > s->o->no_speech_threshold;
    if (!isnan(s->o->logprob_threshold) && r.avg_logprob > s->o->logprob_threshold) skip = 0;
    int advance = skip ? segment_size : segment_window(s, &r, segment_size, time_offset, err);
    if (!skip && (!s->o->condition_on_previous_text || r.temperature > 0.5f)) s->prompt_reset_since = s->all_tokens.n;
    whisper_decode_result_free(&r);
    if (advance < 0) return -1;
    /* a last timestamp pair at <|0.00|> would leave seek where it was (the official loop then
     * decodes the same window again, forever when greedy): move on by the window instead */
    s->seek += advance > 0 ? advance : segment_size;
    return 0;
}

static int detect(lf_state *s, whisper_kv *kv, vc_error *err)
{
    const whisper_model *m = s->m;
    int M = m->dims.n_mels, frames = s->out->mel_frames;
    for (int c = 0; c < M; c++)
        memcpy(s->window_mel + (size_t)c * WHISPER_N_FRAMES, s->out->mel + (size_t)c * frames, sizeof(float) * WHISPER_N_FRAMES);
    if (whisper_encode_audio(m, s->window_mel, s->features, NULL, NULL, err) != 0) return -1;
    if (whisper_kv_init(kv, m, s->features, err) != 0) return -1;
    int rc = whisper_detect_language(kv, s->tok, s->o->language_probs, &s->language, err);
    whisper_kv_free(kv);
    return rc;
}

static int initial_prompt(lf_state *s, vc_error *err)
{
    const char *p = s->o->initial_prompt;
    if (!p) return 0;
    while (*p && strchr(" \t\n\r\v\f", *p)) p++;
    size_t len = strlen(p);
    while (len && strchr(" \t\n\r\v\f", p[len - 1])) len--;
    char *text = malloc(len + 2);
    if (!text) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    text[0] = ' ';
    memcpy(text + 1, p, len);
    text[len + 1] = '\0';
    int *ids, n;
    int rc = whisper_encode(s->tok, text, &ids, &n, err);
    free(text);
    if (rc != 0) return -1;
    rc = list_push(&s->all_tokens, ids, n) == 0 ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    s->n_initial_prompt = n;
    free(ids);
    return rc;
}

static int run(lf_state *s, const float *audio, size_t n, vc_error *err)
{
    const whisper_model *m = s->m;
    whisper_transcript *out = s->out;
    out->mel_frames = whisper_mel_frames(n, WHISPER_CHUNK_SAMPLES);
    s->content_frames = out->mel_frames - WHISPER_N_FRAMES;
    out->mel = malloc(sizeof(float) * (size_t)m->dims.n_mels * out->mel_frames);
    s->window_mel = malloc(sizeof(float) * (size_t)m->dims.n_mels * WHISPER_N_FRAMES);
    s->features = malloc(sizeof(float) * (size_t)m->dims.n_audio_ctx * m->dims.n_audio_state);
    if (!out->mel || !s->window_mel || !s->features) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (whisper_log_mel(m, audio, n, WHISPER_CHUNK_SAMPLES, out->mel, err) != 0) return -1;
    whisper_kv kv;
    s->language = m->multilingual ? s->o->language : 0;
    if (s->language < 0 && detect(s, &kv, err) != 0) return -1;
    out->language = s->language;
    if (initial_prompt(s, err) != 0) return -1;
    while (s->seek < s->content_frames) {
        int left = s->content_frames - s->seek;
        if (decode_window(s, &kv, left < WHISPER_N_FRAMES ? left : WHISPER_N_FRAMES, err) != 0) return -1;
    }
    const int *spoken = s->all_tokens.v ? s->all_tokens.v + s->n_initial_prompt : NULL;
    out->text = whisper_detokenize(s->tok, spoken, s->all_tokens.n - s->n_initial_prompt, 0);
    return out->text ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
}

int whisper_transcribe(const whisper_model *m, const whisper_tokenizer *tok, const float *audio, size_t n,
                       const whisper_transcribe_options *o, whisper_transcript *out, vc_error *err)
{
    memset(out, 0, sizeof *out);
    if (tok->n_vocab != m->dims.n_vocab)
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "tokenizer (%d ids) does not fit the model (%d)", tok->n_vocab, m->dims.n_vocab);
    lf_state s = {.m = m, .tok = tok, .o = o, .out = out};
    int rc = run(&s, audio, n, err);
    free(s.all_tokens.v);
    free(s.window_mel);
    free(s.features);
    if (rc != 0) whisper_transcript_free(out);
    return rc;
}
