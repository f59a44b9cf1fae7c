/*
 * Opening RVC voices (see rvc_engine.h). Why a separate file: the checks a voice file must pass
 * were inline in the CLI; the job runner and model import need the very same checks, so they
 * live here once, in the order that gives the most useful message first (is it a voice at all →
 * does every tensor load → which version → does the index fit → are the base models there).
 */
#include "models/rvc/rvc_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "models/rvc/rvc_index.h"

#define PULL_HINT                                                                                                  \
    "install the RVC base models with: voiceclone models pull rvc --data DIR (the server's data folder; offline: "   \
    "voiceclone models import FILE --to hubert|rmvpe)"

/* The user's voice: its file, synthesizer and optional feature bank. */
typedef struct voice_part {
    nn_weights *w;
    rvc_synth *synth;
    float *bank; /* [info.index_rows, info.phone_dim] */
    rvc_voice_info info;
} voice_part;

struct rvc_engine {
    voice_part voice;
    rvc_base_models base;
};

static void voice_part_free(voice_part *v)
{
    rvc_synth_free(v->synth);
    nn_weights_free(v->w);
    free(v->bank);
    memset(v, 0, sizeof *v);
}

/* The constructor arguments: a JSON list in .pth files, a JSON text in safetensors metadata. */
static int parse_config(const json_t *meta, const char *path, rvc_synth_config *cfg, vc_error *err)
{
    const json_t *config = json_object_get(meta, "config");
    json_t *parsed = json_is_string(config) ? json_loads(json_string_value(config), 0, NULL) : NULL;
    if (parsed) config = parsed;
    int rc = 0;
    if (!json_is_array(config) && !json_is_object(config))
        rc = vc_fail(err, VC_ERR_INVALID_FORMAT,
                     "%s is not an RVC voice model: it has no synthesizer 'config' (a voice .pth holds 'weight', "
                     "'config', 'version' and 'f0')", path);
    else if (rvc_synth_config_parse(config, cfg, err) != 0)
        rc = vc_error_wrap(err, "%s is not an RVC voice model: bad 'config'", path);
    json_decref(parsed);
    return rc;
}

/* Released voices nest the state dict under "weight."; a bare state dict has no prefix. */
static const char *synth_prefix(const nn_weights *w)
{
    if (nn_weights_get(w, "weight.enc_p.emb_phone.weight")) return "weight.";
    if (nn_weights_get(w, "enc_p.emb_phone.weight")) return "";
    return NULL;
}

/* "v1" / "v2"; a file without the key (early releases) is judged by its feature dimension. */
static int parse_version(const json_t *meta, const char *path, int phone_dim, int *version, vc_error *err)
{
    const json_t *v = json_object_get(meta, "version");
    if (!v) { *version = phone_dim == 256 ? 1 : 2; return 0; }
    const char *s = json_string_value(v);
    if (s && !strcmp(s, "v1")) *version = 1;
    else if (s && !strcmp(s, "v2")) *version = 2;
    else return vc_fail(err, VC_ERR_INVALID_FORMAT, "%s: unknown RVC model version '%s' (v1 and v2 are supported)", path,
                        s ? s : "(not a string)");
    return 0;
}

/* A file we could read but not use is the user's file's fault (400), not ours; running out of
 * memory or a missing file keep their own codes. */
static int as_format_error(vc_error *err)
{
    if (err->code != VC_ERR_NOMEM && err->code != VC_ERR_NOT_FOUND) err->code = VC_ERR_INVALID_FORMAT;
    return -1;
}

static int load_synth(voice_part *v, const char *path, vc_error *err)
{
    if (nn_weights_open(path, &v->w, err) != 0) {
        if (err->code == VC_ERR_NOT_FOUND) return -1;
        as_format_error(err);
        return vc_error_wrap(err, "not a readable RVC voice model (damaged or truncated?)");
    }
    const json_t *meta = nn_weights_meta(v->w);
    const char *prefix = synth_prefix(v->w);
    if (!prefix)
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "%s is not an RVC voice model: it has no synthesizer 'weight' "
                       "(enc_p.emb_phone.weight is missing)", path);
    rvc_synth_config cfg;
    if (parse_config(meta, path, &cfg, err) != 0) return -1;
    if (rvc_synth_load(&v->synth, v->w, prefix, &cfg, err) != 0) {
        as_format_error(err);
        return vc_error_wrap(err, "%s is not a usable RVC voice model", path);
    }
    const rvc_synth_config *c = rvc_synth_get_config(v->synth);
    v->info = (rvc_voice_info){.f0 = c->f0, .sample_rate = c->sr, .phone_dim = c->phone_dim, .speakers = c->spk_embed_dim};
    return parse_version(meta, path, c->phone_dim, &v->info.version, err);
}

static int load_index(voice_part *v, const char *path, vc_error *err)
{
    int dim = 0;
    if (rvc_index_load(path, &v->bank, &v->info.index_rows, &dim, err) != 0) {
        as_format_error(err);
        return vc_error_wrap(err, "index %s", path);
    }
    if (dim != v->info.phone_dim)
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "the index %s holds %d-dim features but the voice model expects %d "
                       "(an index of another model, or of the other RVC version?)", path, dim, v->info.phone_dim);
    return 0;
}

static int voice_part_open(voice_part *v, const char *model_path, const char *index_path, vc_error *err)
{
    memset(v, 0, sizeof *v);
    int rc = load_synth(v, model_path, err);
    if (rc == 0 && index_path) rc = load_index(v, index_path, err);
    if (rc != 0) voice_part_free(v);
    return rc;
}

int rvc_voice_inspect(const char *model_path, const char *index_path, rvc_voice_info *info, vc_error *err)
{
    voice_part v;
    if (voice_part_open(&v, model_path, index_path, err) != 0) return -1;
    *info = v.info;
    voice_part_free(&v);
    return 0;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The first `needed` of these: models without pitch need no RMVPE. */
static int base_files_check(const char *weights_root, size_t needed, vc_error *err)
{
    static const char *const FILES[] = {RVC_HUBERT_FILE, RVC_RMVPE_FILE};
    for (size_t i = 0; i < needed && i < sizeof FILES / sizeof FILES[0]; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", weights_root, FILES[i]);
        if (!is_file(path)) return vc_fail(err, VC_ERR_WEIGHTS_MISSING, "%s is not installed; " PULL_HINT, path);
    }
    return 0;
}

int rvc_base_weights_check(const char *weights_root, vc_error *err) { return base_files_check(weights_root, 2, err); }

/* A base model that exists but does not load is as unusable as a missing one: same code, same hint. */
static int base_failed(vc_error *err)
{
    err->code = VC_ERR_WEIGHTS_MISSING;
    return vc_error_wrap(err, "RVC base model unusable (reinstall: voiceclone models pull rvc)");
}

int rvc_base_models_open(rvc_base_models *b, const char *root, int with_pitch, vc_error *err)
{
    memset(b, 0, sizeof *b);
    char hub[1200], rmv[1200];
    snprintf(hub, sizeof hub, "%s/" RVC_HUBERT_FILE, root);
    snprintf(rmv, sizeof rmv, "%s/" RVC_RMVPE_FILE, root);
    if (base_files_check(root, with_pitch ? 2 : 1, err) != 0) return -1;
    if (nn_weights_open(hub, &b->hubert_w, err) != 0 || (with_pitch && nn_weights_open(rmv, &b->rmvpe_w, err) != 0))
        return base_failed(err);
    /* fairseq keeps the architecture in cfg.model; the official file has 12 heads */
    const json_t *model_cfg = json_object_get(json_object_get(nn_weights_meta(b->hubert_w), "cfg"), "model");
    const json_t *heads = json_object_get(model_cfg, "encoder_attention_heads");
    const char *prefix = nn_weights_get(b->hubert_w, "model.post_extract_proj.weight") ? "model." : "";
    if (hubert_load(&b->hubert, b->hubert_w, prefix, heads ? (int)json_integer_value(heads) : 12, err) != 0) return base_failed(err);
    b->hubert_loaded = 1;
    if (with_pitch && rmvpe_load(&b->pitch, b->rmvpe_w, "", err) != 0) return base_failed(err);
    return 0;
}

void rvc_base_models_free(rvc_base_models *b)
{
    rmvpe_free(b->pitch);
    if (b->hubert_loaded) hubert_free(&b->hubert);
    nn_weights_free(b->hubert_w);
    nn_weights_free(b->rmvpe_w);
    memset(b, 0, sizeof *b);
}

int rvc_engine_open(rvc_engine **out, const char *model_path, const char *index_path, const char *weights_root,
                    vc_error *err)
{
    *out = NULL;
    rvc_engine *e = calloc(1, sizeof *e);
    if (!e) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    /* models without pitch never run RMVPE: it need not be installed */
    if (voice_part_open(&e->voice, model_path, index_path, err) != 0 ||
        rvc_base_models_open(&e->base, weights_root, e->voice.info.f0, err) != 0) {
        rvc_engine_free(e);
        return -1;
    }
    *out = e;
    return 0;
}

void rvc_engine_free(rvc_engine *e)
{
    if (!e) return;
    voice_part_free(&e->voice);
    rvc_base_models_free(&e->base);
    free(e);
}

const rvc_voice_info *rvc_engine_info(const rvc_engine *e) { return &e->voice.info; }

static rvc_voice engine_voice(const rvc_engine *e)
{
    const voice_part *v = &e->voice;
    return (rvc_voice){&e->base.hubert, e->base.pitch, v->synth, v->bank, v->info.index_rows, v->info.version};
}

int rvc_engine_output_rate(const rvc_engine *e, const rvc_params *p)
{
    rvc_voice rv = engine_voice(e);
    return rvc_output_rate(&rv, p);
}

int rvc_engine_convert(const rvc_engine *e, const double *audio, size_t n, const rvc_params *p, const rvc_hooks *hooks,
                       int16_t **out, size_t *out_n, vc_error *err)
{
    rvc_voice rv = engine_voice(e);
    return rvc_convert(&rv, audio, n, p, hooks, out, out_n, err);
}

/* mono float at any rate → 16 kHz doubles (the pipeline's input) */
static int to_16k(const audio_buffer *in, double **x, size_t *n, vc_error *err)
{
    audio_buffer r = {0};
    if (audio_resample(in, 16000, &r, err) != 0) return -1;
    *x = malloc(sizeof(double) * (r.frames + 1));
    for (size_t i = 0; *x && i < r.frames; i++) (*x)[i] = r.samples[i];
    *n = r.frames;
    audio_buffer_free(&r);
    return *x ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
}

int rvc_engine_convert_audio(const rvc_engine *e, const audio_buffer *in, const rvc_params *p, const rvc_hooks *hooks,
                             audio_buffer *out, vc_error *err)
{
    memset(out, 0, sizeof *out);
    double *x = NULL;
    int16_t *pcm = NULL;
    size_t n = 0, pcm_n = 0;
    int rc = to_16k(in, &x, &n, err);
    if (rc == 0) rc = rvc_engine_convert(e, x, n, p, hooks, &pcm, &pcm_n, err);
    if (rc == 0) {
        out->samples = malloc(sizeof(float) * (pcm_n + 1));
        out->frames = pcm_n;
        out->sample_rate = rvc_engine_output_rate(e, p);
        for (size_t i = 0; out->samples && i < pcm_n; i++) out->samples[i] = pcm[i] / 32768.0f;
        if (!out->samples) rc = vc_fail(err, VC_ERR_NOMEM, "out of memory");
    }
    free(x);
    free(pcm);
    return rc;
}
