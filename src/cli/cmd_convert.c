/*
 * voiceclone convert: RVC voice conversion from the command line.
 *   voiceclone convert --model M.pth [--index M.index] IN -o OUT.wav [--pitch N] [--index-rate R] [--protect P]
 *                      [--rms-mix R] [--filter-radius N] [--sid N] [--resample-sr HZ] [--weights DIR]
 * M.pth is an RVC small-model file (fp16 "weight" dict + config/version/f0), as RVC tools
 * write them. HuBERT and RMVPE come from DIR (default data/weights): hubert/hubert_base.pt and
 * rmvpe/rmvpe.pt. Loading and checking is rvc_engine's; this file only parses arguments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "cli/cli.h"
#include "models/rvc/rvc_engine.h"

typedef struct convert_args {
    const char *model, *index, *in, *out, *weights;
    rvc_params params;
} convert_args;

static int parse_args(int argc, char **argv, convert_args *a)
{
    rvc_params_default(&a->params);
    a->weights = "data/weights";
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (k[0] != '-') { if (a->in) return -1; a->in = k; continue; }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (!v) return -1;
        if (!strcmp(k, "--model")) a->model = v;
        else if (!strcmp(k, "--index")) a->index = v;
        else if (!strcmp(k, "-o") || !strcmp(k, "--output")) a->out = v;
        else if (!strcmp(k, "--weights")) a->weights = v;
        else if (!strcmp(k, "--pitch")) a->params.f0_up_key = atof(v);
        else if (!strcmp(k, "--index-rate")) a->params.index_rate = atof(v);
        else if (!strcmp(k, "--protect")) a->params.protect = atof(v);
        else if (!strcmp(k, "--rms-mix")) a->params.rms_mix_rate = atof(v);
        else if (!strcmp(k, "--filter-radius")) a->params.filter_radius = atoi(v);
        else if (!strcmp(k, "--sid")) a->params.sid = atoi(v);
        else if (!strcmp(k, "--resample-sr")) a->params.resample_sr = atoi(v);
        else return -1;
    }
    return a->model && a->in && a->out ? 0 : -1;
}

static int show_progress(void *ctx, const char *phase, double fraction)
{
    fprintf(stderr, "\r%s %3.0f%%", phase, 100 * fraction);
    return 0;
}

int cmd_convert(int argc, char **argv)
{
    convert_args a = {0};
    if (parse_args(argc, argv, &a) != 0) {
        fprintf(stderr, "usage: voiceclone convert --model M.pth [--index M.index] IN -o OUT.wav [--pitch N] [--index-rate R] [--protect P] "
                        "[--rms-mix R] [--filter-radius N] [--sid N] [--resample-sr HZ] [--weights DIR]\n");
        return 2;
    }
    vc_error err = {0};
    rvc_engine *e = NULL;
    audio_buffer in = {0}, out = {0};
    rvc_hooks hooks = {NULL, show_progress, NULL, NULL, NULL};
    int rc = rvc_engine_open(&e, a.model, a.index, a.weights, &err);
    if (rc == 0) rc = audio_decode_file(a.in, &in, NULL, &err);
    if (rc == 0) rc = rvc_engine_convert_audio(e, &in, &a.params, &hooks, &out, &err);
    if (rc == 0) rc = audio_write_wav(a.out, &out, 0, &err);
    if (rc == 0) fprintf(stderr, "\nwrote %s: %.2f s at %d Hz\n", a.out, (double)out.frames / out.sample_rate, out.sample_rate);
    if (rc != 0) fprintf(stderr, "\nvoiceclone convert: %s\n", err.message);
    audio_buffer_free(&in);
    audio_buffer_free(&out);
    rvc_engine_free(e);
    return rc == 0 ? 0 : 1;
}
