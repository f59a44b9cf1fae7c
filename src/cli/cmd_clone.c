/*
 * voiceclone clone: the quick clone, speech to speech.
 *   voiceclone clone --ref SAMPLE.wav --target SPEECH.wav -o OUT.wav [--ref-text "…"] [--whisper-size base]
 *                    [--nfe 32] [--seed N] [--pitch SEMITONES] [--weights DIR]
 *   voiceclone clone --ref SAMPLE.wav --text "…" -o OUT.wav …      (text mode)
 * What is not given is transcribed with Whisper: the reference (after F5-TTS's own clipping)
 * and the target, whose segments F5-TTS then speaks in the reference voice, each within its
 * original time span, so the result lines up with the target. The texts used are printed.
 * --pitch shifts the result by -12 … 12 semitones without changing its length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "audio/audio_dsp.h"
#include "models/whisper/whisper_clone.h"

typedef struct clone_args {
    const char *ref, *target, *ref_text, *text, *out, *weights, *size;
    f5tts_params params;
    double pitch;
} clone_args;

static int usage(void)
{
    fprintf(stderr, "usage: voiceclone clone --ref SAMPLE.wav (--target SPEECH.wav | --text TEXT) -o OUT.wav [--ref-text TEXT] "
                    "[--whisper-size base] [--nfe 32] [--seed N] [--pitch SEMITONES] [--weights DIR]\n");
    return -1;
}

static int parse_args(int argc, char **argv, clone_args *a)
{
    f5tts_params_default(&a->params);
    a->weights = "data/weights";
    a->size = WHISPER_DEFAULT_SIZE;
    for (int i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return usage();
        if (!strcmp(k, "--ref")) a->ref = v;
        else if (!strcmp(k, "--target")) a->target = v;
        else if (!strcmp(k, "--ref-text")) a->ref_text = v;
        else if (!strcmp(k, "--text")) a->text = v;
        else if (!strcmp(k, "-o") || !strcmp(k, "--output")) a->out = v;
        else if (!strcmp(k, "--weights")) a->weights = v;
        else if (!strcmp(k, "--whisper-size")) a->size = v;
        else if (!strcmp(k, "--nfe")) a->params.sampler.nfe = atoi(v);
        else if (!strcmp(k, "--seed")) a->params.seed = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--pitch")) a->pitch = atof(v);
        else return usage();
    }
    if (!a->ref || !a->out || !a->target == !a->text) return usage();
    if (a->params.sampler.nfe < 1 || a->params.sampler.nfe > 128) { fprintf(stderr, "voiceclone clone: --nfe must be 1..128\n"); return -1; }
    if (!(a->pitch >= -AUDIO_PITCH_MAX_SEMITONES && a->pitch <= AUDIO_PITCH_MAX_SEMITONES)) {
        fprintf(stderr, "voiceclone clone: --pitch must be -%d..%d semitones\n", AUDIO_PITCH_MAX_SEMITONES, AUDIO_PITCH_MAX_SEMITONES);
        return -1;
    }
    return 0;
}

/* Fills what was not given: the reference's text, the target's segments. */
static int transcripts(const clone_args *a, audio_buffer *ref, f5tts_params *fp, char **ref_text, whisper_clone_target *target,
                       vc_error *err)
{
    if (a->ref_text && !(*ref_text = strdup(a->ref_text))) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (*ref_text && !a->target) return 0;
    whisper_engine w;
    if (whisper_engine_open_dir(&w, a->weights, a->size, err) != 0)
        return vc_error_wrap(err, "speech recognition (install with: voiceclone models pull whisper --size %s)", a->size);
    audio_buffer t = {0};
    int rc = *ref_text ? 0 : whisper_clone_reference_text(&w, ref, fp, NULL, NULL, ref_text, err);
    if (rc == 0 && a->target) {
        rc = audio_decode_file(a->target, &t, NULL, err);
        if (rc == 0) rc = whisper_clone_read_target(&w, &t, NULL, NULL, target, err);
    }
    audio_buffer_free(&t);
    whisper_engine_close(&w);
    return rc;
}

int cmd_clone(int argc, char **argv)
{
    clone_args a = {0};
    if (parse_args(argc, argv, &a) != 0) return 2;
    vc_error err = {0};
    audio_buffer ref = {0}, out = {0};
    char *ref_text = NULL;
    whisper_clone_target target = {0};
    f5tts_engine engine;
    int engine_open = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = audio_decode_file(a.ref, &ref, NULL, &err);
    /* clipped first, as F5-TTS would: the timing of the target's segments is computed on it */
    if (rc == 0) rc = whisper_clone_clip_reference(&ref, &a.params, &err);
    if (rc == 0) rc = whisper_clone_check_reference(&ref, &err);
    if (rc == 0) rc = transcripts(&a, &ref, &a.params, &ref_text, &target, &err);
    if (rc == 0) {
        fprintf(stderr, "reference text: %s\ntext: %s\n", ref_text, a.target ? target.text : a.text);
        rc = f5tts_engine_open_dir(&engine, a.weights, &err);
        engine_open = rc == 0;
    }
    if (rc == 0 && a.target) /* each target segment spoken within its own time span */
        rc = whisper_clone_speak_timed(&engine, &ref, ref_text, &target, &a.params, a.pitch, NULL, NULL, &out, &err);
    else if (rc == 0) rc = f5tts_synthesize(&engine, &ref, ref_text, a.text, &a.params, NULL, NULL, &out, NULL, NULL, &err);
    if (rc == 0 && !a.target && a.pitch != 0.0) {
        audio_buffer shifted = {0};
        rc = audio_pitch_shift(&out, a.pitch, &shifted, &err);
        audio_buffer_free(&out);
        out = shifted;
    }
    if (rc == 0) rc = audio_write_wav(a.out, &out, 0, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc == 0)
        fprintf(stderr, "wrote %s: %.2f s of audio in %.1f s\n", a.out, (double)out.frames / out.sample_rate,
                (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    else fprintf(stderr, "voiceclone clone: %s\n", err.message);
    if (engine_open) f5tts_engine_close(&engine);
    audio_buffer_free(&ref);
    audio_buffer_free(&out);
    free(ref_text);
    whisper_clone_target_free(&target);
    return rc == 0 ? 0 : 1;
}
