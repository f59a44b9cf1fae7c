/*
 * voiceclone convert: RVC voice conversion from the command line.
 *   voiceclone convert --model M.pth [--index M.index] IN -o OUT.wav [--pitch N] [--index-rate R] [--protect P]
 *                      [--rms-mix R] [--filter-radius N] [--sid N] [--weights DIR]
 * M.pth is an RVC small-model file (fp16 "weight" dict + config/version/f0), as RVC tools
 * write them. HuBERT and RMVPE come from DIR (default data/weights): hubert/hubert_base.pt and
 * rmvpe/rmvpe.pt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "cli/cli.h"
#include "models/rvc/rvc_index.h"
#include "models/rvc/rvc_pipeline.h"

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
        else return -1;
    }
    return a->model && a->in && a->out ? 0 : -1;
}

typedef struct loaded {
    nn_weights *model_w, *hubert_w, *rmvpe_w;
    hubert_model hubert;
    int hubert_ok;
    rmvpe *pitch;
    rvc_synth *synth;
    int version;
} loaded;

static void unload(loaded *l)
{
    rvc_synth_free(l->synth);
    rmvpe_free(l->pitch);
    if (l->hubert_ok) hubert_free(&l->hubert);
    nn_weights_free(l->model_w); nn_weights_free(l->hubert_w); nn_weights_free(l->rmvpe_w);
}

static int load_all(const convert_args *a, loaded *l, vc_error *err)
{
    char hub[1024], rmv[1024];
    snprintf(hub, sizeof hub, "%s/hubert/hubert_base.pt", a->weights);
    snprintf(rmv, sizeof rmv, "%s/rmvpe/rmvpe.pt", a->weights);
    if (nn_weights_open(a->model, &l->model_w, err) != 0) return -1;
    const json_t *meta = nn_weights_meta(l->model_w);
    const char *version = json_string_value(json_object_get(meta, "version"));
    l->version = version && !strcmp(version, "v1") ? 1 : 2;
    rvc_synth_config cfg;
    if (rvc_synth_config_parse(json_object_get(meta, "config"), &cfg, err) != 0) return vc_error_wrap(err, "%s", a->model);
    const char *prefix = nn_weights_get(l->model_w, "weight.emb_g.weight") ? "weight." : "";
    if (rvc_synth_load(&l->synth, l->model_w, prefix, &cfg, err) != 0) return -1;
    if (nn_weights_open(hub, &l->hubert_w, err) != 0 || nn_weights_open(rmv, &l->rmvpe_w, err) != 0) {
        char why[sizeof err->message];
        snprintf(why, sizeof why, "%s", err->message);
        return vc_fail(err, VC_ERR_WEIGHTS_MISSING, "%s; install the RVC base models with: voiceclone models pull rvc", why);
    }
    const json_t *heads = json_object_get(json_object_get(json_object_get(nn_weights_meta(l->hubert_w), "cfg"), "model"), "encoder_attention_heads");
    const char *hprefix = nn_weights_get(l->hubert_w, "model.post_extract_proj.weight") ? "model." : "";
    if (hubert_load(&l->hubert, l->hubert_w, hprefix, heads ? (int)json_integer_value(heads) : 12, err) != 0) return -1;
    l->hubert_ok = 1;
    return rmvpe_load(&l->pitch, l->rmvpe_w, "", err);
}

static int show_progress(void *ctx, const char *phase, double fraction)
{
    fprintf(stderr, "\r%s %3.0f%%", phase, 100 * fraction);
    return 0;
}

/* input file → 16 kHz doubles */
static int read_input(const char *path, double **x, size_t *n, vc_error *err)
{
    audio_buffer in, r;
    if (audio_decode_file(path, &in, NULL, err) != 0) return -1;
    int rc = audio_resample(&in, 16000, &r, err);
    audio_buffer_free(&in);
    if (rc != 0) return -1;
    *x = malloc(sizeof(double) * (r.frames + 1));
    for (size_t i = 0; *x && i < r.frames; i++) (*x)[i] = r.samples[i];
    *n = r.frames;
    audio_buffer_free(&r);
    return *x ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
}

int cmd_convert(int argc, char **argv)
{
    convert_args a = {0};
    if (parse_args(argc, argv, &a) != 0) {
        fprintf(stderr, "usage: voiceclone convert --model M.pth [--index M.index] IN -o OUT.wav [--pitch N] [--index-rate R] [--protect P] "
                        "[--rms-mix R] [--filter-radius N] [--sid N] [--weights DIR]\n");
        return 2;
    }
    vc_error err = {0};
    loaded l = {0};
    double *x = NULL;
    size_t n = 0, out_n = 0;
    int16_t *out = NULL;
    float *bank = NULL;
    int n_bank = 0, bank_dim = 0;
    int rc = load_all(&a, &l, &err);
    if (rc == 0 && a.index) rc = rvc_index_load(a.index, &bank, &n_bank, &bank_dim, &err);
    if (rc == 0 && bank && bank_dim != rvc_synth_get_config(l.synth)->phone_dim)
        rc = vc_fail(&err, VC_ERR_INVALID_FORMAT, "the index holds %d-dim features, the model expects %d", bank_dim, rvc_synth_get_config(l.synth)->phone_dim);
    if (rc == 0) rc = read_input(a.in, &x, &n, &err);
    if (rc == 0) {
        rvc_voice v = {&l.hubert, l.pitch, l.synth, bank, n_bank, l.version};
        rvc_hooks hooks = {NULL, show_progress, NULL, NULL};
        rc = rvc_convert(&v, x, n, &a.params, &hooks, &out, &out_n, &err);
    }
    if (rc == 0) {
        audio_buffer o = {malloc(sizeof(float) * (out_n + 1)), out_n, rvc_synth_get_config(l.synth)->sr};
        for (size_t i = 0; o.samples && i < out_n; i++) o.samples[i] = out[i] / 32768.0f;
        rc = o.samples ? audio_write_wav(a.out, &o, 0, &err) : vc_fail(&err, VC_ERR_NOMEM, "out of memory");
        if (rc == 0) fprintf(stderr, "\nwrote %s: %.2f s at %d Hz\n", a.out, (double)out_n / o.sample_rate, o.sample_rate);
        audio_buffer_free(&o);
    }
    if (rc != 0) fprintf(stderr, "\nvoiceclone convert: %s\n", err.message);
    free(x); free(out); free(bank);
    unload(&l);
    return rc == 0 ? 0 : 1;
}
