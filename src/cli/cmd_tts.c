/*
 * voiceclone tts: quick clone from the command line.
 *   voiceclone tts --ref REF.wav --ref-text "…" --text "…" -o OUT.wav [--nfe 32] [--cfg 2]
 *                  [--sway -1] [--speed 1] [--seed N] [--remove-silence 0|1] [--weights DIR]
 * Weights are looked up under DIR (default data/weights): f5tts/ (a *.safetensors DiT
 * checkpoint + vocab.txt) and vocos/ (pytorch_model.bin or model.safetensors).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "models/f5tts/f5tts_infer.h"

typedef struct tts_args {
    const char *ref, *ref_text, *text, *out, *weights;
    f5tts_params params;
} tts_args;

static int parse_args(int argc, char **argv, tts_args *a)
{
    f5tts_params_default(&a->params);
    a->weights = "data/weights";
    for (int i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "voiceclone tts: %s needs a value\n", k); return -1; }
        if (!strcmp(k, "--ref")) a->ref = v;
        else if (!strcmp(k, "--ref-text")) a->ref_text = v;
        else if (!strcmp(k, "--text")) a->text = v;
        else if (!strcmp(k, "-o") || !strcmp(k, "--output")) a->out = v;
        else if (!strcmp(k, "--weights")) a->weights = v;
        else if (!strcmp(k, "--nfe")) a->params.sampler.nfe = atoi(v);
        else if (!strcmp(k, "--cfg")) a->params.sampler.cfg_strength = strtof(v, NULL);
        else if (!strcmp(k, "--sway")) a->params.sampler.sway = strtof(v, NULL);
        else if (!strcmp(k, "--speed")) a->params.speed = strtof(v, NULL);
        else if (!strcmp(k, "--seed")) a->params.seed = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--remove-silence")) a->params.remove_silence = atoi(v) != 0;
        else { fprintf(stderr, "voiceclone tts: unknown option %s\n", k); return -1; }
    }
    if (!a->ref || !a->ref_text || !a->text || !a->out) {
        fprintf(stderr, "usage: voiceclone tts --ref REF.wav --ref-text TEXT --text TEXT -o OUT.wav "
                        "[--nfe 32] [--cfg 2] [--sway -1] [--speed 1] [--seed N] [--remove-silence 0|1] [--weights DIR]\n");
        return -1;
    }
    if (a->params.sampler.nfe < 1 || a->params.sampler.nfe > 128 || a->params.speed <= 0.1f || a->params.speed > 4.0f) {
        fprintf(stderr, "voiceclone tts: --nfe must be 1..128 and --speed 0.1..4\n");
        return -1;
    }
    return 0;
}

static int draw_progress(void *ctx, f5tts_phase phase, int chunk, int chunks, int step, int steps)
{
    static const char *const names[] = {"preprocessing", "voice encoding", "generating", "vocoding"};
    int width = 30, filled = steps ? width * step / steps : 0;
    fprintf(stderr, "\r%-15s chunk %d/%d [%.*s%*s] %d/%d", names[phase], chunk + 1, chunks, filled,
            "##############################", width - filled, "", step, steps);
    fflush(stderr);
    return 0;
}

int cmd_tts(int argc, char **argv)
{
    tts_args a = {0};
    if (parse_args(argc, argv, &a) != 0) return 2;
    vc_error err = {0};
    f5tts_engine engine;
    audio_buffer ref = {0}, out = {0};
    int rc = 1;
    if (f5tts_engine_open_dir(&engine, a.weights, &err) != 0) { fprintf(stderr, "voiceclone tts: %s\n", err.message); return 1; }
    if (audio_decode_file(a.ref, &ref, NULL, &err) != 0) goto done;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (f5tts_synthesize(&engine, &ref, a.ref_text, a.text, &a.params, draw_progress, NULL, &out, NULL, NULL, &err) != 0) goto done;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "\n");
    if (audio_write_wav(a.out, &out, 0, &err) != 0) goto done;
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "wrote %s: %.2f s of audio in %.1f s\n", a.out, (double)out.frames / out.sample_rate, secs);
    rc = 0;
done:
    if (rc) fprintf(stderr, "\nvoiceclone tts: %s\n", err.message);
    audio_buffer_free(&ref);
    audio_buffer_free(&out);
    f5tts_engine_close(&engine);
    return rc;
}
