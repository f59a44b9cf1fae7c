/*
 * RVC synthesizer inference (see rvc_synth.h): the generator of rvc_gen.c, the same graph
 * training records, run on a tape whose parameters carry no gradients:
 *   prior   text encoder → (m_p, logs_p); z_p = m_p + e^logs_p · ε · 0.66666
 *   flow    the coupling flows in reverse: z_p → z
 *   source  SineGen (harmonic 0) of the pitch → tanh(Linear): the NSF excitation
 *   decoder NSF-HiFiGAN: z (+ source) → audio
 * Models without pitch (the *_nono classes, f0 = 0) have no pitch embedding and a plain
 * HiFi-GAN decoder. Loading checks every tensor against the official layout (rvc_specs.c) and
 * folds weight norm once; the other tensors are used in place from the weights file.
 */
#include "models/rvc/rvc_synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "models/rvc/rvc_gen.h"
#include "models/rvc/rvc_graph.h"
#include "models/rvc/rvc_specs.h"
#include "nn/arena.h"
#include "nn/backend.h"
#include "nn/bind.h"
#include "nn/conv.h"
#include "nn/ops.h"
#include "nn/wcache.h"

#define SINE_AMP 0.1f
#define NOISE_STD 0.003f
#define PRIOR_SCALE 0.66666f /* SynthesizerTrn.infer's noise scale on the prior */

struct rvc_synth {
    rvc_synth_config c;
    rvc_paramset ps; /* values only: weight-normed kernels folded at load, the rest borrowed */
    nn_wcache *wc;   /* ps's kernels in the backend's formats, converted on the first call */
};

/* ---- configuration ------------------------------------------------------------------------ */

static int int_list(const json_t *a, int *out, int max, int *n)
{
    if (!json_is_array(a) || (int)json_array_size(a) > max) return -1;
    *n = (int)json_array_size(a);
    for (int i = 0; i < *n; i++) out[i] = (int)json_integer_value(json_array_get(a, (size_t)i));
    return 0;
}

static const json_t *field(const json_t *j, const char *name, size_t index)
{
    return json_is_array(j) ? json_array_get(j, index) : json_object_get(j, name);
}

int rvc_synth_config_parse(const json_t *j, rvc_synth_config *c, vc_error *err)
{
    memset(c, 0, sizeof *c);
    c->inter = (int)json_integer_value(field(j, "inter_channels", 2));
    c->hidden = (int)json_integer_value(field(j, "hidden_channels", 3));
    c->filter = (int)json_integer_value(field(j, "filter_channels", 4));
    c->n_heads = (int)json_integer_value(field(j, "n_heads", 5));
    c->n_layers = (int)json_integer_value(field(j, "n_layers", 6));
    c->kernel = (int)json_integer_value(field(j, "kernel_size", 7));
    int n_dil = 0, n_uk = 0;
    if (int_list(field(j, "resblock_kernel_sizes", 10), c->resblock_kernels, RVC_MAX_KERNELS, &c->n_kernels) != 0 ||
        !json_is_array(field(j, "resblock_dilation_sizes", 11)) ||
        int_list(field(j, "upsample_rates", 12), c->upsample_rates, RVC_MAX_UPS, &c->n_ups) != 0 ||
        int_list(field(j, "upsample_kernel_sizes", 14), c->upsample_kernels, RVC_MAX_UPS, &n_uk) != 0 || n_uk != c->n_ups)
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "RVC config: bad resblock/upsample lists");
    for (int i = 0; i < c->n_kernels; i++) {
        int n = 0;
        if (int_list(json_array_get(field(j, "resblock_dilation_sizes", 11), (size_t)i), c->resblock_dilations[i], 3, &n) != 0 || n != 3)
            return vc_fail(err, VC_ERR_INVALID_FORMAT, "RVC config: dilations must be 3 per kernel");
        n_dil++;
    }
    c->upsample_initial = (int)json_integer_value(field(j, "upsample_initial_channel", 13));
    c->spk_embed_dim = (int)json_integer_value(field(j, "spk_embed_dim", 15));
    c->gin = (int)json_integer_value(field(j, "gin_channels", 16));
    c->sr = (int)json_integer_value(field(j, "sr", 17));
    if (c->inter < 2 || c->hidden < 1 || c->n_heads < 1 || c->hidden % c->n_heads || c->n_ups < 1 || c->upsample_initial < 1 || c->sr < 8000)
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "RVC config: implausible sizes");
    return 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

static const nn_tensor_spec *find_spec(const nn_tensor_spec *specs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(specs[i].name, name)) return &specs[i];
    return NULL;
}

/* A weight-normed kernel X: weight_g/weight_v folded into an owned X.weight, or a file that
 * already holds the folded X.weight (v's shape), used in place. */
static int add_normed(rvc_synth *s, nn_binder *b, const char *base, const nn_tensor_spec *v, vc_error *err)
{
    char name[200];
    snprintf(name, sizeof name, "%s.weight", base);
    if (!nn_bind_has(b, "%s.weight_v", base)) {
        const float *w = nn_bind(b, v->shape, v->ndim, "%s", name);
        return w ? rvc_paramset_add_value(&s->ps, name, v->shape, v->ndim, (float *)w, 0, err) : -1;
    }
    const float *g = nn_bind(b, NN_SHAPE(v->shape[0], 1, 1), "%s.weight_g", base);
    const float *vv = nn_bind(b, v->shape, v->ndim, "%s.weight_v", base);
    if (!g || !vv) return -1;
    size_t n = 1;
    for (int d = 0; d < v->ndim; d++) n *= (size_t)v->shape[d];
    float *w = malloc(sizeof(float) * n);
    if (!w) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    nn_weight_norm_fold(w, g, vv, (int)v->shape[0], n / (size_t)v->shape[0]);
    return rvc_paramset_add_value(&s->ps, name, v->shape, v->ndim, w, 1, err);
}

/* Every tensor of the official layout for this config, checked by name and shape. */
static int bind_all(rvc_synth *s, nn_binder *b, vc_error *err)
{
    nn_tensor_spec *specs = NULL;
    size_t n = rvc_synth_tensor_specs(&s->c, &specs);
    int rc = n ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const nn_tensor_spec *sp = &specs[i];
        if (vc_ends_with(sp->name, ".weight_v")) continue; /* with its weight_g */
        if (vc_ends_with(sp->name, ".weight_g")) {
            char base[160], vname[176];
            snprintf(base, sizeof base, "%.*s", (int)(strlen(sp->name) - strlen(".weight_g")), sp->name);
            snprintf(vname, sizeof vname, "%s.weight_v", base);
            const nn_tensor_spec *v = find_spec(specs, n, vname);
            rc = v ? add_normed(s, b, base, v, err) : vc_fail(err, VC_ERR_INTERNAL, "RVC layout: %s without weight_v", base);
            continue;
        }
        int emb_g = !strcmp(sp->name, "emb_g.weight"); /* any number of speakers */
        const float *w = emb_g ? nn_bind(b, NN_SHAPE(-1, s->c.gin), "emb_g.weight") : nn_bind(b, sp->shape, sp->ndim, "%s", sp->name);
        if (!w) { rc = -1; break; }
        int64_t shape[NN_MAX_DIMS];
        memcpy(shape, sp->shape, sizeof shape);
        if (emb_g) { /* a sid beyond the table is refused at inference */
            char full[200];
            snprintf(full, sizeof full, "%semb_g.weight", b->prefix);
            shape[0] = nn_weights_get(b->weights, full)->shape[0];
            if (shape[0] < s->c.spk_embed_dim || s->c.spk_embed_dim <= 0) s->c.spk_embed_dim = (int)shape[0];
        }
        rc = rvc_paramset_add_value(&s->ps, sp->name, shape, sp->ndim, (float *)w, 0, err);
    }
    free(specs);
    return rc;
}
/* Standard normal draws when no noise is injected (LCG + Box–Muller; documented, seedable). */
static float gaussian(unsigned long long *seed)
{
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    double u1 = ((*seed >> 11) + 0.5) / 9007199254740992.0;
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    double u2 = ((*seed >> 11) + 0.5) / 9007199254740992.0;
    return (float)(sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
}

/* ---- NSF source --------------------------------------------------------------------------- */

/* SineGen with harmonic_num 0, as the official current release: phase increments per frame,
 * their running sum scaled by upp and linearly interpolated (align_corners) to samples,
 * wrap-arounds turned into −1 shifts, then sin(2π·cumsum) (nn_cumsum: torch's CPU cumsum,
 * accumulating in double); stored values are float32. */
int rvc_sine_waves(const float *f0, int T, int upp, int sr, const float *eps, unsigned long long seed, float *sine,
                   float *uv, vc_error *err)
{
    size_t L = (size_t)T * upp;
    float *rad = calloc((size_t)T + 1, sizeof(float)), *cum = malloc(sizeof(float) * ((size_t)T + 1));
    float *phase = malloc(sizeof(float) * L);
    if (!rad || !cum || !phase) { free(rad); free(cum); free(phase); return vc_fail(err, VC_ERR_NOMEM, "out of memory (sine)"); }
    for (int t = 0; t < T; t++) {
        float r = f0[t] / (float)sr;
        rad[t] = r - floorf(r);
    }
    nn_cumsum(cum, rad, (size_t)T);
    for (int t = 0; t < T; t++) cum[t] *= (float)upp;
    nn_interp_linear_align_corners(phase, L, cum, (size_t)T);
    float prev = 0;
    for (size_t o = 0; o < L; o++) { /* the interpolated phase → increments, summed below */
        float v = phase[o] - floorf(phase[o]);
        float shift = (o > 0 && v - prev < 0) ? -1.0f : 0.0f;
        prev = v;
        phase[o] = rad[o / (size_t)upp] + shift;
        uv[o] = f0[o / (size_t)upp] > 0 ? 1.0f : 0.0f;
    }
    nn_cumsum(phase, phase, L);
    for (size_t o = 0; o < L; o++) {
        float sn = sinf(phase[o] * 2.0f * (float)M_PI) * SINE_AMP;
        float amp = uv[o] * NOISE_STD + (1.0f - uv[o]) * SINE_AMP / 3.0f;
        float e = eps ? eps[o] : gaussian(&seed);
        sine[o] = sn * uv[o] + amp * e;
    }
    free(rad); free(cum); free(phase);
    return 0;
}

/* ---- loading, continued ---------------------------------------------------------------------- */

int rvc_synth_load(rvc_synth **out, const nn_weights *w, const char *prefix, const rvc_synth_config *c, vc_error *err)
{
    *out = NULL;
    rvc_synth *s = calloc(1, sizeof *s);
    if (!s) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    s->c = *c;
    s->wc = nn_wcache_create(w);
    if (!s->wc) { free(s); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    nn_binder b = {.weights = w, .prefix = prefix ? prefix : "", .err = err};
    char name[128];
    snprintf(name, sizeof name, "%senc_p.emb_phone.weight", b.prefix);
    const nn_tensor *emb = nn_weights_get(w, name);
    s->c.phone_dim = emb && emb->ndim == 2 ? (int)emb->shape[1] : 768;
    s->c.f0 = nn_bind_has(&b, "enc_p.emb_pitch.weight");
    if (bind_all(s, &b, err) != 0) { rvc_synth_free(s); return vc_error_wrap(err, "RVC synthesizer"); }
    *out = s;
    return 0;
}

void rvc_synth_free(rvc_synth *s)
{
    if (!s) return;
    rvc_paramset_free(&s->ps);
    nn_wcache_free(s->wc);
    free(s);
}

const rvc_synth_config *rvc_synth_get_config(const rvc_synth *s) { return &s->c; }

/* ---- forward ------------------------------------------------------------------------------ */

typedef struct synth_call {
    const rvc_synth *s;
    rvc_graph g;
    rvc_gen_io io;
    const rvc_noise *noise;
    unsigned long long seed;
    rvc_tap_fn tap;
    void *tap_ctx;
} synth_call;

static void tap_node(synth_call *k, const char *name, int node, int rows)
{
    if (!k->tap || node < 0 || !ag_ok(k->g.t)) return;
    const ag_node *n = &k->g.t->nodes[node];
    k->tap(k->tap_ctx, name, n->val, rows, (int)(n->n / (size_t)rows));
}

/* phone [T, D] (time-major, as features come) → a constant [1, D, T]. */
static int phone_node(ag_tape *t, const float *phone, int T, int D)
{
    float *tr = malloc(sizeof(float) * (size_t)T * D + 1);
    if (!tr) { t->failed = 1; return -1; }
    for (int k = 0; k < T; k++)
        for (int d = 0; d < D; d++) tr[(size_t)d * T + k] = phone[(size_t)k * D + d];
    int n = ag_const_copy(t, tr, 1, D, T, 1);
    free(tr);
    return n;
}

/* ε [1, inter, T]: the caller's (golden cases inject the official draws) or from the seed. */
static int prior_noise(synth_call *k, int T)
{
    int C = k->s->c.inter;
    if (k->noise && k->noise->prior) return ag_const(k->g.t, k->noise->prior, 1, C, T, 1);
    float *e = malloc(sizeof(float) * (size_t)C * T + 1);
    if (!e) { k->g.t->failed = 1; return -1; }
    for (size_t i = 0; i < (size_t)C * T; i++) e[i] = gaussian(&k->seed);
    int n = ag_const_copy(k->g.t, e, 1, C, T, 1);
    free(e);
    return n;
}

/* The prior sample z_p = m_p + e^logs_p · ε · 0.66666, then the flows in reverse → z [1, inter, T]. */
static int latent(synth_call *k, const float *phone, const int64_t *pitch, int T)
{
    ag_tape *t = k->g.t;
    int m_p, logs_p;
    if (rvc_gen_text_encoder(&k->g, &k->io, phone_node(t, phone, T, k->s->c.phone_dim), pitch, &m_p, &logs_p)) return -1;
    tap_node(k, "enc_p.m_p", m_p, k->s->c.inter);
    tap_node(k, "enc_p.logs_p", logs_p, k->s->c.inter);
    int z_p = ag_add(t, m_p, ag_scale(t, ag_mul(t, ag_exp(t, logs_p), prior_noise(k, T)), PRIOR_SCALE));
    tap_node(k, "z_p", z_p, k->s->c.inter);
    int z = rvc_gen_flow(&k->g, &k->io, z_p, 1);
    tap_node(k, "flow_reverse.z", z, k->s->c.inter);
    return z;
}

/* har [1, 1, T·upp]: the NSF source of the pitch contour nsff0 [T] Hz. */
static int harmonic(synth_call *k, const float *f0, int T, int upp)
{
    size_t L = (size_t)T * upp;
    float *sine = malloc(sizeof(float) * L), *uv = malloc(sizeof(float) * L);
    int rc = sine && uv ? 0 : vc_fail(NULL, VC_ERR_NOMEM, "out of memory (sine)");
    if (rc == 0) rc = rvc_sine_waves(f0, T, upp, k->s->c.sr, k->noise ? k->noise->sine : NULL, k->seed, sine, uv, NULL);
    if (rc == 0 && k->tap) {
        k->tap(k->tap_ctx, "sine_gen.sine_waves", sine, (int)L, 1);
        k->tap(k->tap_ctx, "sine_gen.uv", uv, (int)L, 1);
    }
    int s = rc == 0 ? ag_const_copy(k->g.t, sine, 1, 1, (int)L, 1) : -1;
    free(sine); free(uv);
    if (s < 0) { k->g.t->failed = 1; return -1; }
    int har = rvc_gen_harmonic(&k->g, s);
    tap_node(k, "m_source.har_source", har, (int)L);
    return har;
}

static int stop_requested(void *ctx)
{
    const rvc_noise *n = ctx;
    return n->stop(n->stop_ctx);
}

static int rvc_synth_infer_run(const rvc_synth *s, const float *phone, const int64_t *pitch, const float *nsff0, int T, int sid,
                               const rvc_noise *noise, float *audio, rvc_tap_fn tap, void *tap_ctx, nn_arena *arena, vc_error *err)
{
    int upp = 1;
    for (int i = 0; i < s->c.n_ups; i++) upp *= s->c.upsample_rates[i];
    int64_t sid64 = sid, len = T, *coarse = s->c.f0 ? malloc(sizeof(int64_t) * (size_t)T + 1) : NULL;
    float *ones = malloc(sizeof(float) * (size_t)T + 1);
    ag_tape t;
    ag_tape_init_infer(&t, arena);
    ag_cancel cancel = {stop_requested, (void *)noise};
    if (noise && noise->stop) ag_tape_set_cancel(&t, &cancel);
    synth_call k = {.s = s, .g = {.t = &t, .ps = (rvc_paramset *)&s->ps, .train = 0}, .noise = noise,
                    .seed = noise ? noise->seed : 0, .tap = tap, .tap_ctx = tap_ctx};
    k.io = (rvc_gen_io){.c = &s->c, .B = 1, .T = T, .x_mask = ones, .y_mask = ones, .lengths = &len};
    int rc = ones && (coarse || !s->c.f0) ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (synthesizer)");
    for (int i = 0; rc == 0 && i < T; i++) {
        ones[i] = 1.0f;
        if (coarse) coarse[i] = pitch[i] < 0 ? 0 : pitch[i] > 255 ? 255 : pitch[i];
    }
    if (rc == 0) {
        k.io.g = rvc_gen_speaker(&k.g, &sid64, 1);
        tap_node(&k, "g", k.io.g, s->c.gin);
        int z = latent(&k, phone, coarse, T);
        int har = s->c.f0 && z >= 0 ? harmonic(&k, nsff0, T, upp) : -1;
        int y = rvc_gen_decoder(&k.g, &k.io, z, har); /* [1, 1, T·upp] */
        if (y >= 0 && ag_ok(&t)) memcpy(audio, t.nodes[y].val, sizeof(float) * (size_t)T * upp);
        else if (t.cancelled) rc = vc_fail(err, VC_ERR_CANCELLED, "cancelled");
        else rc = k.g.missing[0] ? vc_fail(err, VC_ERR_INVALID_FORMAT, "RVC synthesizer: tensor '%s' missing", k.g.missing)
                                 : vc_fail(err, VC_ERR_NOMEM, "out of memory (synthesizer)");
    }
    ag_tape_free(&t);
    free(coarse); free(ones);
    return rc;
}

/* The model's compute precision (VCS_PRECISION / --precision) applies while it runs. */
int rvc_synth_infer(const rvc_synth *s, const float *phone, const int64_t *pitch, const float *nsff0, int T, int sid,
                    const rvc_noise *noise, float *audio, rvc_tap_fn tap, void *tap_ctx, vc_error *err)
{
    if (sid < 0 || sid >= s->c.spk_embed_dim) return vc_fail(err, VC_ERR_INVALID_REQUEST, "speaker id %d out of range", sid);
    if (s->c.f0 && (!pitch || !nsff0)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "this model needs a pitch contour");
    if (T < 1) return vc_fail(err, VC_ERR_INVALID_REQUEST, "no frames to synthesize");
    /* The call's activations: buffers by size, reused as layers end (one stage's activations all
     * have one size), and freed with the arena when the call ends. */
    nn_arena *arena = nn_arena_create(0);
    if (!arena) return vc_fail(err, VC_ERR_NOMEM, "out of memory (synthesizer)");
    nn_precision_scope scope = nn_precision_enter("rvc_synth");
    nn_wcache_scope weights = nn_wcache_enter(s->wc);
    int rc = rvc_synth_infer_run(s, phone, pitch, nsff0, T, sid, noise, audio, tap, tap_ctx, arena, err);
    nn_wcache_leave(weights);
    nn_precision_leave(scope);
    nn_arena_free(arena);
    return rc;
}
