/*
 * Where the trainer's parameters come from before the first step. A fresh run either copies
 * the official pretrained G/D (f0G48k.pth-style files: {"model": state_dict}) or draws seeded
 * random weights in the spirit of PyTorch's defaults, so a run without downloads is still
 * reproducible:
 *   conv/linear weights and biases  U(−1/√fan_in, 1/√fan_in)  (kaiming_uniform(a=√5))
 *   attention q/k/v                 xavier uniform             (attentions.py)
 *   HiFi-GAN ups and resblocks      N(0, 0.01)                 (init_weights)
 *   coupling-layer post convs       0                          (flows start as identity)
 *   embeddings                      N(0, 1); relative embeddings N(0, 1/√(C/heads))
 *   layer norm                      γ = 1, β = 0
 *   weight_g                        ‖weight_v‖ per output row  (weight_norm at creation)
 * The layouts are the tensor specs (rvc_specs.h): the allow-list every source must match.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "models/rvc/rvc_trainer_internal.h"

uint64_t rvc_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double rvc_rng_uniform(uint64_t *s) { return (double)(rvc_rng_next(s) >> 11) / 9007199254740992.0; }

float rvc_rng_normal(uint64_t *s)
{
    double u1 = rvc_rng_uniform(s) + 0.5 / 9007199254740992.0, u2 = rvc_rng_uniform(s);
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

/* ---- random initialisation ---- */

/* fan_in of a weight [out, in/groups, k…] (ConvTranspose [in, out, k]: PyTorch also uses dim 1). */
static size_t fan_in(const rvc_param *w)
{
    size_t f = 1;
    for (int d = 1; d < w->ndim; d++) f *= (size_t)w->shape[d];
    return f;
}

/* The weight (or weight_v) beside a bias, for its fan_in. */
static const rvc_param *weight_of(const rvc_paramset *ps, const char *bias_name)
{
    char name[200];
    size_t stem = strlen(bias_name) - strlen("bias");
    snprintf(name, sizeof name, "%.*sweight", (int)stem, bias_name);
    const rvc_param *w = rvc_paramset_find(ps, name);
    if (w) return w;
    snprintf(name, sizeof name, "%.*sweight_v", (int)stem, bias_name);
    return rvc_paramset_find(ps, name);
}

static void fill_uniform(float *x, size_t n, double bound, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)((2.0 * rvc_rng_uniform(rng) - 1.0) * bound);
}

static void fill_normal(float *x, size_t n, double std, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(std * rvc_rng_normal(rng));
}

static void init_one(const rvc_paramset *ps, rvc_param *p, uint64_t *rng)
{
    const char *n = p->name;
    int hifigan = !strncmp(n, "dec.ups.", 8) || !strncmp(n, "dec.resblocks.", 14);
    if (strstr(n, "flow.flows.") && strstr(n, ".post.")) memset(p->val, 0, sizeof(float) * p->n);
    else if (vc_ends_with(n, ".gamma")) for (size_t i = 0; i < p->n; i++) p->val[i] = 1.0f;
    else if (vc_ends_with(n, ".beta")) memset(p->val, 0, sizeof(float) * p->n);
    else if (!strcmp(n, "emb_g.weight") || vc_ends_with(n, "emb_pitch.weight")) fill_normal(p->val, p->n, 1.0, rng);
    else if (vc_ends_with(n, "emb_rel_k") || vc_ends_with(n, "emb_rel_v")) fill_normal(p->val, p->n, 1.0 / sqrt((double)p->shape[2]), rng);
    else if (hifigan && vc_ends_with(n, ".weight_v")) fill_normal(p->val, p->n, 0.01, rng);
    else if (vc_ends_with(n, "conv_q.weight") || vc_ends_with(n, "conv_k.weight") || vc_ends_with(n, "conv_v.weight"))
        fill_uniform(p->val, p->n, sqrt(6.0 / (double)(fan_in(p) + (size_t)p->shape[0] * (fan_in(p) / (size_t)p->shape[1]))), rng);
    else if (vc_ends_with(n, ".bias")) {
        const rvc_param *w = weight_of(ps, n);
        fill_uniform(p->val, p->n, 1.0 / sqrt((double)(w ? fan_in(w) : p->n)), rng);
    } else if (vc_ends_with(n, ".weight") || vc_ends_with(n, ".weight_v")) fill_uniform(p->val, p->n, 1.0 / sqrt((double)fan_in(p)), rng);
}

/* weight_g[o] = ‖weight_v[o, …]‖ */
static void init_weight_g(const rvc_paramset *ps, rvc_param *g)
{
    char name[200];
    snprintf(name, sizeof name, "%.*s_v", (int)(strlen(g->name) - 2), g->name);
    const rvc_param *v = rvc_paramset_find(ps, name);
    if (!v || (size_t)v->shape[0] != g->n) return;
    size_t row = v->n / g->n;
    for (size_t o = 0; o < g->n; o++) {
        double s = 0;
        for (size_t k = 0; k < row; k++) s += (double)v->val[o * row + k] * v->val[o * row + k];
        g->val[o] = (float)sqrt(s);
    }
}

void rvc_paramset_init_random(rvc_paramset *ps, uint64_t seed)
{
    uint64_t rng = seed ^ 0x5EEDC0DEull;
    for (int i = 0; i < ps->count; i++)
        if (!vc_ends_with(ps->p[i].name, ".weight_g")) init_one(ps, &ps->p[i], &rng);
    for (int i = 0; i < ps->count; i++)
        if (vc_ends_with(ps->p[i].name, ".weight_g")) init_weight_g(ps, &ps->p[i]);
}

/* ---- copies from weight files ---- */

static int same_shape(const rvc_param *p, const nn_tensor *t)
{
    if (t->ndim != p->ndim) return 0;
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] != p->shape[d]) return 0;
    return 1;
}

static void shape_text(char *out, size_t cap, int ndim, const int64_t *shape)
{
    size_t k = (size_t)snprintf(out, cap, "[");
    for (int d = 0; d < ndim && k < cap; d++) k += (size_t)snprintf(out + k, cap - k, d ? ", %lld" : "%lld", (long long)shape[d]);
    if (k < cap) snprintf(out + k, cap - k, "]");
}

int rvc_paramset_copy_from(rvc_paramset *ps, const nn_weights *w, const char *prefix, int field, vc_error *err)
{
    char name[256], want[96], got[96];
    for (int i = 0; i < ps->count; i++) {
        rvc_param *p = &ps->p[i];
        snprintf(name, sizeof name, "%s%s", prefix, p->name);
        const nn_tensor *t = nn_weights_get(w, name);
        if (!t) return vc_fail(err, VC_ERR_INVALID_FORMAT, "tensor '%s' missing", name);
        if (t->dtype != NN_F32 || !same_shape(p, t)) {
            shape_text(want, sizeof want, p->ndim, p->shape);
            shape_text(got, sizeof got, t->ndim, t->shape);
            return vc_fail(err, VC_ERR_INVALID_FORMAT, "tensor '%s' has shape %s, expected %s", name, got, want);
        }
        float *dst = field == 0 ? p->val : field == 1 ? p->m : p->v;
        memcpy(dst, t->data, sizeof(float) * p->n);
    }
    return 0;
}

int rvc_paramset_load_pretrained(rvc_paramset *ps, const char *path, vc_error *err)
{
    nn_weights *w = NULL;
    if (nn_weights_open(path, &w, err)) return vc_error_wrap(err, "pretrained model");
    char first[200];
    snprintf(first, sizeof first, "model.%s", ps->count ? ps->p[0].name : "");
    int nested = nn_weights_get(w, first) != NULL;
    int rc = rvc_paramset_copy_from(ps, w, nested ? "model." : "", 0, err);
    nn_weights_free(w);
    return rc ? vc_error_wrap(err, "pretrained model %s", path) : 0;
}
