/*
 * transcribe()'s control flow beyond the golden long-form case, on the committed random-weight
 * golden model (tests/golden/whisper/tiny_multilingual): its results are not speech, but every
 * window is "improbable" (avg log-prob < −1), which drives the temperature fallback, and
 * thresholds can be set so that every window counts as silence.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/whisper/whisper_engine.h"

typedef struct fixture {
    whisper_engine e;
    nn_weights *inputs;
    const float *audio;
    size_t n;
} fixture;

static int setup(void **state)
{
    const char *root = getenv("VCS_TEST_ROOT") ? getenv("VCS_TEST_ROOT") : ".";
    char model[1024], vocab[1024], in[1024];
    snprintf(model, sizeof model, "%s/tests/golden/whisper/tiny_multilingual/model.pt", root);
    snprintf(vocab, sizeof vocab, "%s/tests/golden/whisper/tiny_multilingual/multilingual.tiktoken", root);
    snprintf(in, sizeof in, "%s/tests/golden/whisper/tiny_multilingual/inputs.safetensors", root);
    fixture *f = calloc(1, sizeof *f);
    vc_error err;
    if (!f || whisper_engine_open(&f->e, model, vocab, &err) != 0 || nn_weights_open(in, &f->inputs, &err) != 0) {
        fprintf(stderr, "setup: %s\n", err.message);
        return -1;
    }
    const nn_tensor *a = nn_weights_get(f->inputs, "audio");
    f->audio = a->data;
    f->n = (size_t)a->shape[0];
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    nn_weights_free(f->inputs);
    whisper_engine_close(&f->e);
    free(f);
    return 0;
}

typedef struct window_log {
    int n, seek[16], prompt_len[16];
    float temperature[16];
} window_log;

static void log_window(void *ctx, const whisper_window *w)
{
    window_log *l = ctx;
    if (l->n >= 16) return;
    l->seek[l->n] = w->seek;
    l->prompt_len[l->n] = w->options->n_prompt;
    l->temperature[l->n] = w->result->temperature;
    l->n++;
}

/* Improbable windows fall back through every temperature; the last result (T = 1) is kept and,
 * being above 0.5, the next window gets no prompt. */
static void fallback_reaches_the_last_temperature(void **state)
{
    fixture *f = *state;
    whisper_transcribe_options o;
    whisper_transcribe_options_default(&o);
    o.language = whisper_language_index("en");
    window_log log = {0};
    o.on_window = log_window;
    o.window_ctx = &log;
    /* the 7.3 s input twice with a pause: two windows would need > 30 s, so repeat it 5 times */
    size_t n = f->n * 5;
    float *audio = malloc(sizeof(float) * n);
    for (int k = 0; k < 5; k++) memcpy(audio + k * f->n, f->audio, sizeof(float) * f->n);
    whisper_transcript t;
    vc_error err;
    assert_int_equal(whisper_transcribe(&f->e.model, &f->e.tok, audio, n, &o, &t, &err), 0);
    assert_true(log.n >= 2);
    for (int i = 0; i < log.n; i++) assert_float_equal(log.temperature[i], 1.0f, 1e-6);
    for (int i = 1; i < log.n; i++) {
        assert_true(log.seek[i] > log.seek[i - 1]);
        assert_int_equal(log.prompt_len[i], 0); /* temperature > 0.5 resets the prompt */
    }
    for (int i = 0; i < t.n_segments; i++) {
        assert_true(t.segments[i].end >= t.segments[i].start);
        assert_float_equal(t.segments[i].temperature, 1.0f, 1e-6);
        if (i) assert_true(t.segments[i].seek >= t.segments[i - 1].seek);
    }
    assert_int_equal(t.language, whisper_language_index("en"));
    whisper_transcript_free(&t);
    free(audio);
}

/* no_speech_prob above the threshold and avg log-prob not above its threshold: every window
 * is skipped by its whole size and nothing is transcribed. */
static void silence_skips_whole_windows(void **state)
{
    fixture *f = *state;
    whisper_transcribe_options o;
    whisper_transcribe_options_default(&o);
    o.n_temperatures = 1;
    o.no_speech_threshold = 0.0; /* any no_speech_prob counts as silence */
    o.logprob_threshold = 0.0;   /* and no window is probable enough to overrule it */
    window_log log = {0};
    o.on_window = log_window;
    o.window_ctx = &log;
    whisper_transcript t;
    vc_error err;
    assert_int_equal(whisper_transcribe(&f->e.model, &f->e.tok, f->audio, f->n, &o, &t, &err), 0);
    assert_int_equal(log.n, 1);
    assert_int_equal(t.n_segments, 0);
    assert_string_equal(t.text, "");
    whisper_transcript_free(&t);
}

typedef struct nots_log {
    int windows, ends_with_notimestamps;
    int no_timestamps;
} nots_log;

static void check_window_nots(void *ctx, const whisper_window *w)
{
    nots_log *l = ctx;
    l->windows++;
    l->ends_with_notimestamps += w->result->sample_begin > 0 && w->result->buffer[w->result->sample_begin - 1] == l->no_timestamps;
}

/* Without timestamps the SOT sequence ends with <|notimestamps|> in every window. */
static void without_timestamps_asks_for_none(void **state)
{
    fixture *f = *state;
    whisper_transcribe_options o;
    whisper_transcribe_options_default(&o);
    o.n_temperatures = 1;
    o.without_timestamps = 1;
    o.language = 0;
    nots_log log = {.no_timestamps = f->e.tok.no_timestamps};
    o.on_window = check_window_nots;
    o.window_ctx = &log;
    whisper_transcript t;
    vc_error err;
    assert_int_equal(whisper_transcribe(&f->e.model, &f->e.tok, f->audio, f->n, &o, &t, &err), 0);
    assert_true(log.windows >= 1);
    assert_int_equal(log.ends_with_notimestamps, log.windows);
    whisper_transcript_free(&t);
}

/* Refusals: a tokenizer that does not fit the model, a language the model does not have. */
static void mismatches_are_errors(void **state)
{
    fixture *f = *state;
    whisper_transcribe_options o;
    whisper_transcribe_options_default(&o);
    o.language = WHISPER_MAX_LANGUAGES - 1; /* yue: only in the 100-language layout */
    o.n_temperatures = 1;
    whisper_transcript t;
    vc_error err;
    assert_int_equal(whisper_transcribe(&f->e.model, &f->e.tok, f->audio, f->n, &o, &t, &err), -1);
    assert_non_null(strstr(err.message, "language"));
    whisper_tokenizer other = f->e.tok;
    other.n_vocab++;
    assert_int_equal(whisper_transcribe(&f->e.model, &other, f->audio, f->n, &o, &t, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fallback_reaches_the_last_temperature),
        cmocka_unit_test(silence_skips_whole_windows),
        cmocka_unit_test(without_timestamps_asks_for_none),
        cmocka_unit_test(mismatches_are_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
