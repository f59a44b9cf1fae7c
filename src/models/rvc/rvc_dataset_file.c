/*
 * The prepared training set on disk (see rvc_dataset.h). Why a file format at all: extracting
 * features takes minutes; a training job that restarts after a crash reloads this instead.
 * Why its own source file: the layout changes for other reasons than the recipe does.
 *
 * One float32 safetensors file, items concatenated along time (F = Σ frames):
 *   meta   [6]          sr, hop, phone_dim, f0, version, n (small integers, exact in float32)
 *   frames [n]          frames of each item
 *   phone  [F, phone_dim]
 *   wave   [F · hop]
 *   pitch  [F]          coarse pitch 1..255 (only when f0 = 1)
 *   pitchf [F]          Hz (only when f0 = 1)
 * Written atomically (nn_safetensors_write: temp file, fsync, rename). Loading accepts exactly
 * these tensors with consistent shapes and plausible values; anything else is VC_ERR_CORRUPT.
 */
#include "models/rvc/rvc_dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/safetensors_write.h"
#include "nn/weights.h"

enum { T_META, T_FRAMES, T_PHONE, T_WAVE, T_PITCH, T_PITCHF, T_COUNT };
static const char *const NAMES[T_COUNT] = {"meta", "frames", "phone", "wave", "pitch", "pitchf"};
#define META_LEN 6

static int64_t total_frames(const rvc_dataset *d)
{
    int64_t f = 0;
    for (int i = 0; i < d->n; i++) f += d->items[i].frames;
    return f;
}

/* Copies stream `which` of every item, one after the other, into dst. */
static void fill_stream(const rvc_dataset *d, int which, float *dst)
{
    for (int i = 0; i < d->n; i++) {
        const rvc_train_item *it = &d->items[i];
        size_t F = (size_t)it->frames;
        if (which == T_PHONE) { memcpy(dst, it->phone, sizeof(float) * F * (size_t)d->phone_dim); dst += F * (size_t)d->phone_dim; }
        else if (which == T_WAVE) { memcpy(dst, it->wave, sizeof(float) * F * (size_t)d->hop); dst += F * (size_t)d->hop; }
        else if (which == T_PITCHF) { memcpy(dst, it->pitchf, sizeof(float) * F); dst += F; }
        else for (size_t t = 0; t < F; t++) *dst++ = (float)it->pitch[t];
    }
}

static void fill(void *ctx, size_t index, float *dst, int64_t numel)
{
    const rvc_dataset *d = ctx;
    if (index == T_META) {
        const int meta[META_LEN] = {d->sr, d->hop, d->phone_dim, d->f0, d->version, d->n};
        for (int k = 0; k < META_LEN; k++) dst[k] = (float)meta[k];
    } else if (index == T_FRAMES) {
        for (int i = 0; i < d->n; i++) dst[i] = (float)d->items[i].frames;
    } else fill_stream(d, (int)index, dst);
}

int rvc_dataset_save(const rvc_dataset *d, const char *path, vc_error *err)
{
    if (!d || d->n < 1 || d->hop < 1 || d->phone_dim < 1)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "training set is empty: nothing to save");
    int64_t F = total_frames(d);
    nn_tensor_spec specs[T_COUNT];
    memset(specs, 0, sizeof specs);
    const int64_t shapes[T_COUNT][2] = {{META_LEN}, {d->n}, {F, d->phone_dim}, {F * d->hop}, {F}, {F}};
    size_t count = d->f0 ? T_COUNT : T_PITCH;
    for (size_t k = 0; k < count; k++) {
        snprintf(specs[k].name, sizeof specs[k].name, "%s", NAMES[k]);
        specs[k].ndim = k == T_PHONE ? 2 : 1;
        memcpy(specs[k].shape, shapes[k], sizeof shapes[k]);
    }
    if (nn_safetensors_write(path, specs, count, fill, (void *)d, err) != 0) return vc_error_wrap(err, "saving the training set");
    return 0;
}

/* ---- loading ---- */

/* what may be err->message itself: copied before err is rewritten */
static int corrupt(const char *path, const char *what, vc_error *err)
{
    char why[sizeof err->message];
    snprintf(why, sizeof why, "%s", what);
    return vc_fail(err, VC_ERR_CORRUPT, "training set %s is damaged: %s", path, why);
}

static int is_count(float v, double max) { return v >= 0 && v <= max && v == floorf(v); }

static int read_meta(const nn_weights *w, rvc_dataset *d, const char *path, vc_error *err)
{
    const nn_tensor *t;
    if (nn_weights_require(w, "meta", 1, (int64_t[]){META_LEN}, &t, err) != 0) return corrupt(path, err->message, err);
    const float *m = t->data;
    for (int k = 0; k < META_LEN; k++)
        if (!is_count(m[k], 1e7)) return corrupt(path, "meta holds a non-integer", err);
    *d = (rvc_dataset){(int)m[0], (int)m[1], (int)m[2], (int)m[3], (int)m[4], (int)m[5], NULL};
    if ((d->sr != 32000 && d->sr != 40000 && d->sr != 48000) || d->hop != d->sr / 100 || d->phone_dim < 1 ||
        d->f0 > 1 || (d->version != 1 && d->version != 2) || d->n < 1)
        return corrupt(path, "implausible meta (rate, hop, dimension, f0, version or count)", err);
    size_t want = d->f0 ? T_COUNT : T_PITCH;
    if (nn_weights_count(w) != want) return corrupt(path, "unexpected tensors", err);
    return 0;
}

/* Every stream's shape from the frame counts; *F = Σ frames. */
static int check_shapes(const nn_weights *w, const rvc_dataset *d, const nn_tensor *t[T_COUNT], const char *path, vc_error *err)
{
    if (nn_weights_require(w, "frames", 1, (int64_t[]){d->n}, &t[T_FRAMES], err) != 0) return corrupt(path, err->message, err);
    const float *fr = t[T_FRAMES]->data;
    int64_t F = 0;
    for (int i = 0; i < d->n; i++) {
        if (!is_count(fr[i], 1e6) || fr[i] < 1) return corrupt(path, "an item has an impossible frame count", err);
        F += (int64_t)fr[i];
    }
    const int64_t shapes[T_COUNT][2] = {{META_LEN}, {d->n}, {F, d->phone_dim}, {F * d->hop}, {F}, {F}};
    for (int k = T_PHONE; k < (d->f0 ? T_COUNT : T_PITCH); k++)
        if (nn_weights_require(w, NAMES[k], k == T_PHONE ? 2 : 1, shapes[k], &t[k], err) != 0) return corrupt(path, err->message, err);
    return 0;
}

static int check_values(const rvc_dataset *d, const nn_tensor *t[T_COUNT], const char *path, vc_error *err)
{
    int64_t F = t[T_PHONE]->shape[0];
    const float *streams[] = {t[T_PHONE]->data, t[T_WAVE]->data};
    const int64_t lens[] = {F * d->phone_dim, F * d->hop};
    for (int s = 0; s < 2; s++)
        for (int64_t i = 0; i < lens[s]; i++)
            if (!isfinite(streams[s][i])) return corrupt(path, "non-finite features or audio", err);
    if (!d->f0) return 0;
    const float *pitch = t[T_PITCH]->data, *pitchf = t[T_PITCHF]->data;
    for (int64_t i = 0; i < F; i++)
        if (!is_count(pitch[i], 255) || pitch[i] < 1 || !isfinite(pitchf[i]) || pitchf[i] < 0)
            return corrupt(path, "pitch out of range", err);
    return 0;
}

static int item_alloc(rvc_train_item *it, int frames, const rvc_dataset *d)
{
    it->frames = frames;
    it->phone = malloc(sizeof(float) * (size_t)frames * (size_t)d->phone_dim);
    it->wave = malloc(sizeof(float) * (size_t)frames * (size_t)d->hop);
    if (d->f0) { it->pitch = malloc(sizeof(int64_t) * (size_t)frames); it->pitchf = malloc(sizeof(float) * (size_t)frames); }
    return it->phone && it->wave && (!d->f0 || (it->pitch && it->pitchf)) ? 0 : -1;
}

/* Splits the concatenated streams back into items (d->items allocated, d->n items). */
static int split_items(rvc_dataset *d, const nn_tensor *t[T_COUNT], vc_error *err)
{
    int n = d->n;
    d->n = 0;
    d->items = calloc((size_t)n, sizeof(rvc_train_item));
    if (!d->items) return vc_fail(err, VC_ERR_NOMEM, "out of memory (training set)");
    const float *fr = t[T_FRAMES]->data;
    size_t at = 0; /* frame offset */
    for (int i = 0; i < n; i++, d->n++) {
        rvc_train_item *it = &d->items[i];
        size_t F = (size_t)fr[i];
        if (item_alloc(it, (int)F, d) != 0) { d->n++; return vc_fail(err, VC_ERR_NOMEM, "out of memory (training set)"); }
        memcpy(it->phone, (const float *)t[T_PHONE]->data + at * (size_t)d->phone_dim, sizeof(float) * F * (size_t)d->phone_dim);
        memcpy(it->wave, (const float *)t[T_WAVE]->data + at * (size_t)d->hop, sizeof(float) * F * (size_t)d->hop);
        if (d->f0) {
            memcpy(it->pitchf, (const float *)t[T_PITCHF]->data + at, sizeof(float) * F);
            for (size_t k = 0; k < F; k++) it->pitch[k] = (int64_t)((const float *)t[T_PITCH]->data)[at + k];
        }
        at += F;
    }
    return 0;
}

int rvc_dataset_load(rvc_dataset *d, const char *path, vc_error *err)
{
    memset(d, 0, sizeof *d);
    nn_weights *w = NULL;
    if (nn_weights_open(path, &w, err) != 0) {
        if (err->code == VC_ERR_NOT_FOUND || err->code == VC_ERR_NOMEM || err->code == VC_ERR_IO) return -1;
        return corrupt(path, err->message, err);
    }
    const nn_tensor *t[T_COUNT] = {0};
    int rc = read_meta(w, d, path, err);
    if (rc == 0) rc = check_shapes(w, d, t, path, err);
    if (rc == 0) rc = check_values(d, t, path, err);
    if (rc == 0) rc = split_items(d, t, err);
    if (rc != 0) rvc_dataset_free(d);
    nn_weights_free(w);
    return rc;
}

int rvc_dataset_feature_rows(const rvc_dataset *d, float **rows, int64_t *n_rows, vc_error *err)
{
    *rows = NULL;
    *n_rows = 0;
    int64_t n = 0;
    for (int i = 0; i < d->n; i++) n += (d->items[i].frames + 1) / 2;
    *rows = malloc(sizeof(float) * (size_t)(n ? n : 1) * (size_t)d->phone_dim);
    if (!*rows) return vc_fail(err, VC_ERR_NOMEM, "out of memory (%lld feature rows)", (long long)n);
    float *dst = *rows;
    for (int i = 0; i < d->n; i++)
        for (int f = 0; f < d->items[i].frames; f += 2, dst += d->phone_dim) /* rows were repeated ×2 */
            memcpy(dst, d->items[i].phone + (size_t)f * d->phone_dim, sizeof(float) * (size_t)d->phone_dim);
    *n_rows = n;
    return 0;
}
