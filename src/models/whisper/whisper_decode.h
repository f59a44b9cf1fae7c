/*
 * Whisper decoding as the official DecodingOptions / DecodingTask (greedy at temperature 0,
 * one categorical sample per step above it; no beam search) and transcribe()'s long-form loop:
 * 30 s windows, seek by timestamps, conditioning on the previous text, temperature fallback
 * on compression ratio / average log-probability, no-speech skipping, segments with times.
 */
#ifndef VC_MODELS_WHISPER_DECODE_H
#define VC_MODELS_WHISPER_DECODE_H

#include <stdint.h>

#include "models/whisper/whisper.h"
#include "models/whisper/whisper_tokenizer.h"

typedef enum whisper_task { WHISPER_TRANSCRIBE = 0, WHISPER_TRANSLATE } whisper_task;

/* What one decoding step saw (observer for tests and golden cases). */
typedef struct whisper_step {
    int step;
    const float *raw;      /* [n_vocab] logits of the last position before the filters */
    const float *filtered; /* after SuppressBlank, SuppressTokens, ApplyTimestampRules */
    int chosen;
    double token_logprob;  /* log_softmax(filtered)[chosen] */
    int has_ts_rule;       /* timestamps on: the two sides of the probability-mass rule */
    double ts_logprob, max_text_logprob;
} whisper_step;

typedef void (*whisper_step_fn)(void *ctx, const whisper_step *s);

typedef struct whisper_decode_options {
    whisper_task task;
    int language;              /* language index (whisper_language_index), -1 = detect */
    int without_timestamps;
    float temperature;
    int sample_len;            /* 0 = n_text_ctx / 2 */
    int suppress_blank;
    int suppress_non_speech;   /* suppress_tokens "-1": the non-speech symbols */
    float max_initial_timestamp; /* seconds; < 0 = no limit */
    const int *prompt;         /* previous text tokens (may include timestamps) */
    int n_prompt;
    uint64_t seed;             /* for temperature > 0 */
    const int *forced;         /* teacher forcing (tests): step i takes forced[i] */
    int n_forced;
    whisper_step_fn on_step;
    void *step_ctx;
    int (*stop)(void *ctx);    /* asked before every step; non-zero ends decoding with VC_ERR_CANCELLED (may be NULL) */
    void *stop_ctx;
} whisper_decode_options;

typedef struct whisper_decode_result {
    int *buffer; /* initial tokens + every sampled token */
    int n_buffer, sample_begin, sot_index;
    int *tokens; /* sampled tokens before the first EOT (points into buffer) */
    int n_tokens;
    int language;
    char *text;  /* decode(tokens).strip() */
    double sum_logprob, avg_logprob, no_speech_prob, compression_ratio;
    float temperature;
} whisper_decode_result;

void whisper_decode_options_default(whisper_decode_options *o);
void whisper_decode_result_free(whisper_decode_result *r);

/* Language probabilities from the decoder on <|startoftranscript|> (kv's cache is reset):
 * probs [num_languages] (may be NULL), *language = argmax. */
int whisper_detect_language(whisper_kv *kv, const whisper_tokenizer *tok, float *probs, int *language, vc_error *err);

/* One window: kv holds the window's audio (whisper_kv_init). */
int whisper_decode(whisper_kv *kv, const whisper_tokenizer *tok, const whisper_decode_options *o, whisper_decode_result *r,
                   vc_error *err);

/* len(utf8) / len(zlib.compress(utf8)) at level 6. */
double whisper_compression_ratio(const char *text);

/* ---- long form ---- */

typedef struct whisper_segment {
    int id, seek;
    double start, end; /* seconds */
    char *text;
    int *tokens;       /* timestamps included; none if the segment was cleared */
    int n_tokens;
    float temperature;
    double avg_logprob, compression_ratio, no_speech_prob;
} whisper_segment;

/* One decoded window, for observers (tests, golden cases, progress). */
typedef struct whisper_window {
    int index, seek, segment_size, content_frames;
    double time_offset;
    const float *mel; /* [n_mels, 3000] encoder input */
    const whisper_decode_options *options;
    const whisper_decode_result *result;
} whisper_window;

typedef void (*whisper_window_fn)(void *ctx, const whisper_window *w);

#define WHISPER_MAX_TEMPERATURES 8

typedef struct whisper_transcribe_options {
    whisper_task task;
    int language;                     /* -1 = detect on the first 30 s */
    float temperatures[WHISPER_MAX_TEMPERATURES];
    int n_temperatures;               /* default 0, 0.2, …, 1.0 */
    double compression_ratio_threshold, logprob_threshold, no_speech_threshold; /* NAN = off */
    int condition_on_previous_text;
    int without_timestamps;
    const char *initial_prompt;       /* may be NULL */
    uint64_t seed;
    whisper_window_fn on_window;
    void *window_ctx;
    float *language_probs;            /* [num_languages], filled when detecting (may be NULL) */
    int (*stop)(void *ctx);           /* passed to every decode: a job's cancel (may be NULL) */
    void *stop_ctx;
} whisper_transcribe_options;

typedef struct whisper_transcript {
    int language;
    whisper_segment *segments;
    int n_segments;
    char *text;
    float *mel;          /* the whole log-mel [n_mels, content_frames + 3000] (kept for observers) */
    int mel_frames;
} whisper_transcript;

void whisper_transcribe_options_default(whisper_transcribe_options *o);
/* audio: 16 kHz mono float samples. */
int whisper_transcribe(const whisper_model *m, const whisper_tokenizer *tok, const float *audio, size_t n,
                       const whisper_transcribe_options *o, whisper_transcript *out, vc_error *err);
void whisper_transcript_free(whisper_transcript *t);

#endif
