/*
 * voiceclone transcribe: Whisper speech recognition from the command line.
 *   voiceclone transcribe AUDIO [--size base] [--weights DIR] [--model M.pt --vocab V.tiktoken]
 *                        [--language auto|en|…] [--task transcribe|translate] [--no-timestamps]
 *                        [--greedy-only] [--prompt TEXT] [--json]
 * Prints one line per segment ("[start --> end] text") or, with --json, the whole result.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "models/whisper/whisper_engine.h"

typedef struct transcribe_args {
    const char *audio, *size, *weights, *model, *vocab, *language;
    int json;
    whisper_transcribe_options opts;
} transcribe_args;

static int usage(void)
{
    fprintf(stderr, "usage: voiceclone transcribe AUDIO [--size tiny|base|small|medium|large-v3|large-v3-turbo] "
                    "[--weights DIR] [--model M.pt --vocab V.tiktoken] [--language auto|CODE] "
                    "[--task transcribe|translate] [--no-timestamps] [--greedy-only] [--prompt TEXT] [--json]\n");
    return -1;
}

static int parse_args(int argc, char **argv, transcribe_args *a)
{
    whisper_transcribe_options_default(&a->opts);
    a->size = WHISPER_DEFAULT_SIZE;
    a->weights = "data/weights";
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--json")) a->json = 1;
        else if (!strcmp(k, "--no-timestamps")) a->opts.without_timestamps = 1;
        else if (!strcmp(k, "--greedy-only")) a->opts.n_temperatures = 1; /* temperature 0 only: no fallback */
        else if (k[0] != '-' && !a->audio) a->audio = k;
        else if (!v) return usage();
        else if (!strcmp(k, "--size")) a->size = argv[++i];
        else if (!strcmp(k, "--weights")) a->weights = argv[++i];
        else if (!strcmp(k, "--model")) a->model = argv[++i];
        else if (!strcmp(k, "--vocab")) a->vocab = argv[++i];
        else if (!strcmp(k, "--language")) a->language = argv[++i];
        else if (!strcmp(k, "--prompt")) a->opts.initial_prompt = argv[++i];
        else if (!strcmp(k, "--task")) {
            const char *t = argv[++i];
            if (strcmp(t, "transcribe") && strcmp(t, "translate")) return usage();
            a->opts.task = !strcmp(t, "translate") ? WHISPER_TRANSLATE : WHISPER_TRANSCRIBE;
        } else return usage();
    }
    if (!a->audio || (a->model && !a->vocab)) return usage();
    if (a->language && strcmp(a->language, "auto")) {
        a->opts.language = whisper_language_index(a->language);
        if (a->opts.language < 0) { fprintf(stderr, "voiceclone transcribe: unknown language '%s'\n", a->language); return -1; }
    }
    return 0;
}

static void print_time(double s, char *buf, size_t cap)
{
    int ms = (int)(s * 1000 + 0.5);
    snprintf(buf, cap, "%02d:%02d.%03d", ms / 60000, ms / 1000 % 60, ms % 1000);
}

static void print_text(const whisper_transcript *t)
{
    for (int i = 0; i < t->n_segments; i++) {
        const whisper_segment *g = &t->segments[i];
        char a[32], b[32];
        print_time(g->start, a, sizeof a);
        print_time(g->end, b, sizeof b);
        if (g->text[0]) printf("[%s --> %s]%s\n", a, b, g->text);
    }
}

static void print_json(const whisper_transcript *t, double audio_s, double secs)
{
    json_t *segs = json_array();
    for (int i = 0; i < t->n_segments; i++) {
        const whisper_segment *g = &t->segments[i];
        json_array_append_new(segs, json_pack("{s:i, s:f, s:f, s:s, s:f, s:f, s:f}", "id", g->id, "start", g->start, "end", g->end,
                                              "text", g->text, "avg_logprob", g->avg_logprob, "no_speech_prob",
                                              g->no_speech_prob, "temperature", (double)g->temperature));
    }
    json_t *o = json_pack("{s:s, s:s, s:o, s:f, s:f}", "language", whisper_language_code(t->language), "text", t->text,
                          "segments", segs, "audio_seconds", audio_s, "processing_seconds", secs);
    char *s = json_dumps(o, JSON_INDENT(1));
    if (s) puts(s);
    free(s);
    json_decref(o);
}

int cmd_transcribe(int argc, char **argv)
{
    transcribe_args a = {0};
    if (parse_args(argc, argv, &a) != 0) return 2;
    vc_error err = {0};
    whisper_engine e;
    audio_buffer in = {0};
    whisper_transcript t = {0};
    int rc = a.model ? whisper_engine_open(&e, a.model, a.vocab, &err) : whisper_engine_open_dir(&e, a.weights, a.size, &err);
    if (rc != 0) {
        fprintf(stderr, "voiceclone transcribe: %s\n(install with: voiceclone models pull whisper --size %s)\n", err.message, a.size);
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = audio_decode_file(a.audio, &in, NULL, &err);
    if (rc == 0) rc = whisper_transcribe_buffer(&e, &in, &a.opts, &t, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc == 0) {
        double audio_s = (double)in.frames / in.sample_rate;
        if (a.json) print_json(&t, audio_s, secs);
        else print_text(&t);
        fprintf(stderr, "transcribed %.1f s of audio in %.2f s (language %s)\n", audio_s, secs, whisper_language_code(t.language));
    } else fprintf(stderr, "voiceclone transcribe: %s\n", err.message);
    whisper_transcript_free(&t);
    audio_buffer_free(&in);
    whisper_engine_close(&e);
    return rc == 0 ? 0 : 1;
}
