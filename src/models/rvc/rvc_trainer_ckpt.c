/*
 * The trainer checkpoint: everything a restart needs in ONE safetensors file, so there is
 * never a moment where half of a state is new and half old. nn_safetensors_write_meta writes
 * a temp file, fsyncs and renames it over the previous checkpoint; a kill at any point leaves
 * either the old or the new file, whole.
 *   tensors   G.<name>, G.adam_m.<name>, G.adam_v.<name> and the same for D (float32)
 *   metadata  "format": "voiceclone-rvc-trainer-1"; "state": JSON text with epoch, position
 *             in the epoch, step, the RNG state (decimal string: 64 bits do not fit a JSON
 *             double), seed, batch size, steps per epoch, item count, and the loss history
 *             (doubles printed with 17 digits, so they read back bit for bit; non-finite
 *             losses as null → NaN).
 * The epoch's shuffled order is not stored: it is a function of (seed, epoch).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/rvc/rvc_trainer_internal.h"

#define CKPT_FORMAT "voiceclone-rvc-trainer-1"
#define N_LOSSES 8

static const char *const FIELD_PREFIX[3] = {"", "adam_m.", "adam_v."};

typedef struct ckpt_map {
    const rvc_trainer *t;
} ckpt_map;

/* Tensor i of the file: G fields first (val, m, v), then D. */
static const float *ckpt_source(const rvc_trainer *t, size_t i)
{
    size_t ng = (size_t)t->G.count * 3;
    const rvc_paramset *ps = i < ng ? &t->G : &t->D;
    size_t k = i < ng ? i : i - ng;
    const rvc_param *p = &ps->p[k / 3];
    return k % 3 == 0 ? p->val : k % 3 == 1 ? p->m : p->v;
}

static void ckpt_fill(void *ctx, size_t index, float *dst, int64_t numel)
{
    const ckpt_map *m = ctx;
    memcpy(dst, ckpt_source(m->t, index), sizeof(float) * (size_t)numel);
}

static void add_specs(nn_tensor_spec *specs, size_t *n, const rvc_paramset *ps, const char *set)
{
    for (int i = 0; i < ps->count; i++)
        for (int f = 0; f < 3; f++) {
            nn_tensor_spec *s = &specs[(*n)++];
            snprintf(s->name, sizeof s->name, "%s.%s%s", set, FIELD_PREFIX[f], ps->p[i].name);
            s->ndim = ps->p[i].ndim;
            for (int d = 0; d < s->ndim; d++) s->shape[d] = ps->p[i].shape[d];
        }
}

static json_t *loss_row(const rvc_train_result *r)
{
    const double v[N_LOSSES] = {r->loss_disc, r->loss_gen, r->loss_fm, r->loss_mel, r->loss_kl, r->loss_gen_all,
                                r->grad_norm_d, r->grad_norm_g};
    json_t *row = json_array();
    for (int k = 0; k < N_LOSSES; k++) json_array_append_new(row, isfinite(v[k]) ? json_real(v[k]) : json_null());
    return row;
}

static char *state_text(const rvc_trainer *t)
{
    char rng[32], seed[32];
    snprintf(rng, sizeof rng, "%llu", (unsigned long long)t->rng);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)t->seed);
    json_t *hist = json_array();
    for (int64_t i = 0; i < t->n_hist; i++) json_array_append_new(hist, loss_row(&t->hist[i]));
    json_t *s = json_pack("{s:i,s:i,s:I,s:s,s:s,s:i,s:i,s:i,s:o}", "epoch", t->epoch, "pos", t->pos, "step",
                          (json_int_t)t->step, "rng", rng, "seed", seed, "batch_size", t->batch_size, "steps_per_epoch",
                          t->steps_per_epoch, "items", t->set->n, "history", hist);
    char *text = s ? json_dumps(s, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(s);
    return text;
}

int rvc_trainer_checkpoint(rvc_trainer *t, vc_error *err)
{
    if (t->torn) /* never overwrite the last good checkpoint with half a step */
        return vc_fail(err, VC_ERR_INTERNAL, "RVC training: the last step did not finish; the checkpoint on disk is kept");
    size_t n = 0, cap = (size_t)(t->G.count + t->D.count) * 3;
    nn_tensor_spec *specs = malloc(sizeof *specs * (cap ? cap : 1));
    char *state = state_text(t);
    json_t *meta = state ? json_pack("{s:s,s:s}", "format", CKPT_FORMAT, "state", state) : NULL;
    int rc = specs && meta ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (checkpoint)");
    if (rc == 0) {
        add_specs(specs, &n, &t->G, "G");
        add_specs(specs, &n, &t->D, "D");
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", t->dir, RVC_CKPT_FILE);
        ckpt_map m = {t};
        rc = nn_safetensors_write_meta(path, specs, n, ckpt_fill, &m, meta, err);
        if (rc) vc_error_wrap(err, "RVC checkpoint");
    }
    json_decref(meta);
    free(state);
    free(specs);
    return rc;
}

/* ---- reading ---- */

static int load_history(rvc_trainer *t, const json_t *hist, vc_error *err)
{
    size_t n = json_array_size(hist);
    t->hist = malloc(sizeof *t->hist * (n ? n : 1));
    if (!t->hist) return vc_fail(err, VC_ERR_NOMEM, "out of memory (loss history)");
    t->cap_hist = (int64_t)(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        const json_t *row = json_array_get(hist, i);
        double v[N_LOSSES];
        if (json_array_size(row) != N_LOSSES) return vc_fail(err, VC_ERR_CORRUPT, "checkpoint: bad loss history row %zu", i);
        for (int k = 0; k < N_LOSSES; k++) {
            const json_t *x = json_array_get(row, (size_t)k);
            v[k] = json_is_number(x) ? json_number_value(x) : NAN;
        }
        t->hist[i] = (rvc_train_result){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
    }
    t->n_hist = (int64_t)n;
    return 0;
}

static int apply_state(rvc_trainer *t, const json_t *s, vc_error *err)
{
    const char *rng = json_string_value(json_object_get(s, "rng")), *seed = json_string_value(json_object_get(s, "seed"));
    int batch = (int)json_integer_value(json_object_get(s, "batch_size"));
    int spe = (int)json_integer_value(json_object_get(s, "steps_per_epoch"));
    int items = (int)json_integer_value(json_object_get(s, "items"));
    if (!rng || !seed || !json_is_array(json_object_get(s, "history")))
        return vc_fail(err, VC_ERR_CORRUPT, "checkpoint: incomplete training state");
    if (strtoull(seed, NULL, 10) != t->seed || batch != t->batch_size)
        return vc_fail(err, VC_ERR_CONFLICT, "checkpoint was made with seed %s and batch size %d; resume with the same options", seed, batch);
    if (spe != t->steps_per_epoch || items != t->set->n)
        return vc_fail(err, VC_ERR_CONFLICT, "checkpoint was made on another training set (%d items, %d steps an epoch)", items, spe);
    t->epoch = (int)json_integer_value(json_object_get(s, "epoch"));
    t->pos = (int)json_integer_value(json_object_get(s, "pos"));
    t->step = (int64_t)json_integer_value(json_object_get(s, "step"));
    t->rng = strtoull(rng, NULL, 10);
    if (t->epoch < 1 || t->pos < 0 || t->pos >= t->steps_per_epoch || t->step < 0)
        return vc_fail(err, VC_ERR_CORRUPT, "checkpoint: implausible position (epoch %d, batch %d)", t->epoch, t->pos);
    if (load_history(t, json_object_get(s, "history"), err)) return -1;
    return t->n_hist == t->step ? 0 : vc_fail(err, VC_ERR_CORRUPT, "checkpoint: history length ≠ step count");
}

static int load_params(rvc_trainer *t, const nn_weights *w, vc_error *err)
{
    static const char *const SETS[2] = {"G", "D"};
    char prefix[32];
    for (int s = 0; s < 2; s++)
        for (int f = 0; f < 3; f++) {
            snprintf(prefix, sizeof prefix, "%s.%s", SETS[s], FIELD_PREFIX[f]);
            if (rvc_paramset_copy_from(s ? &t->D : &t->G, w, prefix, f, err)) return -1;
        }
    return 0;
}

int rvc_trainer_load_checkpoint(rvc_trainer *t, const char *path, vc_error *err)
{
    nn_weights *w = NULL;
    if (nn_weights_open(path, &w, err)) {
        err->code = VC_ERR_CORRUPT;
        return vc_error_wrap(err, "RVC checkpoint");
    }
    const json_t *meta = nn_weights_meta(w);
    const char *format = json_string_value(json_object_get(meta, "format"));
    const char *state = json_string_value(json_object_get(meta, "state"));
    json_t *s = state ? json_loads(state, 0, NULL) : NULL;
    int rc = 0;
    if (!format || strcmp(format, CKPT_FORMAT) || !s)
        rc = vc_fail(err, VC_ERR_CORRUPT, "%s is not a checkpoint of this trainer", path);
    if (rc == 0) rc = apply_state(t, s, err);
    if (rc == 0 && load_params(t, w, err)) rc = vc_error_wrap(err, "RVC checkpoint %s", path);
    json_decref(s);
    nn_weights_free(w);
    return rc;
}
