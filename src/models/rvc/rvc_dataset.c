/*
 * Building an RVC training set from a recording (see rvc_dataset.h). Why this file: the
 * official recipe is spread over four scripts that talk through directories of .wav and .npy
 * files; here it is one pass in memory, in the same order and with the same numbers:
 *   resample to the model rate → 48 Hz high-pass (causal lfilter, as preprocess.py in HEAD:
 *   its filtfilt line is commented out for pre-ringing) → slice at pauses (rvc_slicer) →
 *   3.7 s pieces advancing 3.4 s, the rest of a slice (≤ 4 s) as the last piece → per piece:
 *   peak normalisation, 16 kHz copy, HuBERT features, RMVPE pitch → streams aligned at 100
 *   frames/s. The file format (save/load) lives in rvc_dataset_file.c.
 */
#include "models/rvc/rvc_dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "audio/filter.h"
#include "models/hubert/hubert.h"
#include "models/rmvpe/rmvpe.h"
#include "models/rvc/rvc_engine.h"
#include "models/rvc/rvc_features.h"
#include "models/rvc/rvc_slicer.h"

#define PIECE_SECONDS 3.7
#define PIECE_OVERLAP 0.3
#define PIECE_MAX 0.9      /* normalised peak … */
#define PIECE_ALPHA 0.75   /* … blended with the original at 1 − alpha */
#define PIECE_REJECT 2.5   /* pieces peaking above this are broken audio, not loud voice */
#define FEATURE_RATE 16000
#define HUBERT_MIN_SAMPLES 400 /* one HuBERT frame (its conv stack's receptive field) */
#define MAX_FRAMES 900         /* the data loader's cut (DistributedBucketSampler's last bucket) */
#define MIN_SECONDS 1.0        /* less usable audio than this is no training set */

/* The base models the features come from, and the caller's cancel poll. */
typedef struct feature_models {
    rvc_base_models base;
    int version, f0;
    const rvc_dataset_options *o;
} feature_models;

static int cancel_check(const feature_models *fm, vc_error *err)
{
    if (fm->o->cancelled && fm->o->cancelled(fm->o->ctx))
        return vc_fail(err, VC_ERR_CANCELLED, "training set preparation cancelled");
    return 0;
}

static void feature_models_free(feature_models *fm) { rvc_base_models_free(&fm->base); }

static int feature_models_open(feature_models *fm, const rvc_dataset_options *o, vc_error *err)
{
    fm->version = o->version;
    fm->f0 = o->f0;
    fm->o = o;
    if (rvc_base_models_open(&fm->base, o->weights_root, o->f0, err) != 0) return -1;
    if (o->version == 1 && fm->base.hubert.final_dim <= 0)
        return vc_fail(err, VC_ERR_WEIGHTS_MISSING, "%s has no final_proj (v1 features need it)", RVC_HUBERT_FILE);
    return 0;
}

static int phone_dim(const feature_models *fm) { return fm->version == 1 ? fm->base.hubert.final_dim : fm->base.hubert.embed; }

static int options_check(const rvc_dataset_options *o, vc_error *err)
{
    if (!o || !o->weights_root) return vc_fail(err, VC_ERR_INVALID_REQUEST, "training set: options and weights_root are required");
    if (o->sr != 32000 && o->sr != 40000 && o->sr != 48000)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "training set: sample rate %d is not 32000, 40000 or 48000", o->sr);
    if (o->version != 1 && o->version != 2) return vc_fail(err, VC_ERR_INVALID_REQUEST, "training set: version %d is not 1 or 2", o->version);
    if (o->f0 != 0 && o->f0 != 1) return vc_fail(err, VC_ERR_INVALID_REQUEST, "training set: f0 must be 0 or 1");
    return 0;
}

static int report(const rvc_dataset_options *o, const char *phase, double fraction, vc_error *err)
{
    if (o->progress && o->progress(o->ctx, phase, fraction) != 0)
        return vc_fail(err, VC_ERR_CANCELLED, "training set preparation cancelled (%s)", phase);
    return 0;
}

/* ---- slicing: audio → high-passed signal and the pieces to keep ---- */

typedef struct piece_list {
    rvc_span *items;
    int count, cap;
} piece_list;

static int piece_add(piece_list *p, int64_t begin, int64_t end, vc_error *err)
{
    if (end <= begin) return 0;
    if (p->count == p->cap) {
        int cap = p->cap ? p->cap * 2 : 64;
        rvc_span *grown = realloc(p->items, sizeof(rvc_span) * (size_t)cap);
        if (!grown) return vc_fail(err, VC_ERR_NOMEM, "out of memory (pieces)");
        p->items = grown;
        p->cap = cap;
    }
    p->items[p->count++] = (rvc_span){begin, end};
    return 0;
}

/* preprocess.py's loop: pieces of per·sr samples every (per − overlap)·sr while more than
 * (per + overlap)·sr remain, then the remainder. Same float arithmetic, truncated as int(). */
static int pieces_of_slice(rvc_span s, int sr, piece_list *p, vc_error *err)
{
    int64_t len = s.end - s.begin, piece = (int64_t)(PIECE_SECONDS * sr);
    double tail = (PIECE_SECONDS + PIECE_OVERLAP) * sr;
    for (int i = 0;; i++) {
        int64_t start = (int64_t)((double)sr * (PIECE_SECONDS - PIECE_OVERLAP) * i);
        if ((double)(len - start) > tail) {
            if (piece_add(p, s.begin + start, s.begin + start + piece, err) != 0) return -1;
            continue;
        }
        return piece_add(p, s.begin + start, s.end, err);
    }
}

/* mono float at in_rate → *x [*n] doubles at sr, high-passed */
static int highpassed_at_rate(const float *audio, int64_t n, int in_rate, int sr, double **x, int64_t *nx, vc_error *err)
{
    audio_buffer in = {(float *)audio, (size_t)n, in_rate}, res = {0};
    const float *src = audio;
    *nx = n;
    if (in_rate != sr) {
        if (audio_resample(&in, sr, &res, err) != 0) return -1;
        src = res.samples;
        *nx = (int64_t)res.frames;
    }
    *x = malloc(sizeof(double) * (size_t)(*nx ? *nx : 1));
    if (!*x) { audio_buffer_free(&res); return vc_fail(err, VC_ERR_NOMEM, "out of memory (%lld samples)", (long long)*nx); }
    for (int64_t i = 0; i < *nx; i++) (*x)[i] = src[i];
    audio_buffer_free(&res);
    double b[6], a[6];
    iir_butter_highpass(5, 48.0, sr, b, a);
    iir_lfilter(b, a, 5, *x, (size_t)*nx, *x);
    return 0;
}

static int slice_into_pieces(const double *x, int64_t n, int sr, piece_list *p, vc_error *err)
{
    rvc_span *slices = NULL;
    int count = 0;
    if (rvc_slice(x, n, sr, &slices, &count, err) != 0) return -1;
    int rc = 0;
    for (int k = 0; rc == 0 && k < count; k++) rc = pieces_of_slice(slices[k], sr, p, err);
    free(slices);
    return rc;
}

/* ---- features: one piece → one item (or nothing when the recipe drops it) ---- */

static double peak_of(const double *x, int64_t n)
{
    double peak = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = fabs(x[i]);
        if (!(v <= peak)) peak = v; /* NaN propagates */
    }
    return peak;
}

/* norm_write's scaling: x / peak · max · alpha + (1 − alpha) · x; 0 when the piece is dropped. */
static int normalise(const double *x, int64_t n, float *out)
{
    double peak = peak_of(x, n);
    if (!isfinite(peak) || peak <= 0 || peak > PIECE_REJECT) return 0;
    for (int64_t i = 0; i < n; i++) out[i] = (float)(x[i] / peak * (PIECE_MAX * PIECE_ALPHA) + (1 - PIECE_ALPHA) * x[i]);
    return 1;
}

/* Raw streams of one piece before alignment. */
typedef struct piece_streams {
    float *wave, *wave16, *feats; /* [n], [n16], [T, embed] */
    double *f0;                   /* [n16 / 160 + 1] */
    int64_t n, n16;
    int T;
} piece_streams;

static void piece_streams_free(piece_streams *s)
{
    free(s->wave); free(s->wave16); free(s->feats); free(s->f0);
    memset(s, 0, sizeof *s);
}

static int extract_streams(const feature_models *fm, int sr, piece_streams *s, vc_error *err)
{
    audio_buffer in = {s->wave, (size_t)s->n, sr}, out16 = {0};
    if (audio_resample(&in, FEATURE_RATE, &out16, err) != 0) return -1;
    s->wave16 = out16.samples;
    s->n16 = (int64_t)out16.frames;
    if (s->n16 < HUBERT_MIN_SAMPLES || s->n16 > INT32_MAX / 2) return 0; /* the official extraction fails on it: dropped */
    s->T = hubert_frames(&fm->base.hubert, (int)s->n16);
    if (s->T < 1) { s->T = 0; return 0; }
    s->feats = malloc(sizeof(float) * (size_t)s->T * (size_t)fm->base.hubert.embed);
    if (fm->f0) s->f0 = malloc(sizeof(double) * (size_t)(s->n16 / RMVPE_HOP + 1));
    if (!s->feats || (fm->f0 && !s->f0)) return vc_fail(err, VC_ERR_NOMEM, "out of memory (features)");
    int layer = fm->version == 1 ? rvc_v1_layer(fm->base.hubert.layers) : fm->base.hubert.layers;
    if (cancel_check(fm, err) ||
        hubert_extract_cancellable(&fm->base.hubert, s->wave16, (int)s->n16, layer, fm->version == 1, s->feats,
                                   fm->o->cancelled, fm->o->ctx, err) != 0)
        return -1;
    if (!fm->f0) return 0;
    if (cancel_check(fm, err)) return -1;
    return rmvpe_f0_cancellable(fm->base.pitch, s->wave16, (int)s->n16, s->f0, NULL, NULL, fm->o->cancelled, fm->o->ctx, err);
}

/* TextAudioLoaderMultiNSFsid: phone ×2, every stream cut to the shortest (and to 900). */
static int aligned_frames(const feature_models *fm, const piece_streams *s, int hop)
{
    int64_t frames = 2 * (int64_t)s->T, wave_frames = s->n / hop;
    if (fm->f0 && s->n16 / RMVPE_HOP + 1 < frames) frames = s->n16 / RMVPE_HOP + 1;
    if (wave_frames < frames) frames = wave_frames;
    return (int)(frames < MAX_FRAMES ? frames : MAX_FRAMES);
}

static int item_from_streams(const feature_models *fm, const piece_streams *s, int hop, rvc_train_item *it, vc_error *err)
{
    int D = phone_dim(fm), F = aligned_frames(fm, s, hop);
    memset(it, 0, sizeof *it);
    it->frames = F;
    it->phone = malloc(sizeof(float) * (size_t)F * (size_t)D);
    it->wave = malloc(sizeof(float) * (size_t)F * (size_t)hop);
    if (fm->f0) { it->pitch = malloc(sizeof(int64_t) * (size_t)F); it->pitchf = malloc(sizeof(float) * (size_t)F); }
    if (!it->phone || !it->wave || (fm->f0 && (!it->pitch || !it->pitchf))) return vc_fail(err, VC_ERR_NOMEM, "out of memory (item)");
    for (int t = 0; t < F; t++) memcpy(it->phone + (size_t)t * D, s->feats + (size_t)(t / 2) * D, sizeof(float) * (size_t)D);
    memcpy(it->wave, s->wave, sizeof(float) * (size_t)F * (size_t)hop);
    if (!fm->f0) return 0;
    rvc_f0_coarse(s->f0, F, it->pitch);
    for (int t = 0; t < F; t++) it->pitchf[t] = (float)s->f0[t];
    return 0;
}

static void item_free(rvc_train_item *it)
{
    free(it->phone); free(it->pitch); free(it->pitchf); free(it->wave);
    memset(it, 0, sizeof *it);
}

/* 1: *it filled; 0: the recipe drops this piece; -1: error. */
static int piece_to_item(const feature_models *fm, const double *x, rvc_span piece, int sr, rvc_train_item *it, vc_error *err)
{
    piece_streams s = {0};
    s.n = piece.end - piece.begin;
    s.wave = malloc(sizeof(float) * (size_t)s.n);
    if (!s.wave) return vc_fail(err, VC_ERR_NOMEM, "out of memory (piece)");
    int rc = normalise(x + piece.begin, s.n, s.wave);
    if (rc == 1 && extract_streams(fm, sr, &s, err) != 0) rc = -1;
    if (rc == 1 && (s.T < 1 || aligned_frames(fm, &s, sr / 100) < 1)) rc = 0;
    if (rc == 1 && item_from_streams(fm, &s, sr / 100, it, err) != 0) { item_free(it); rc = -1; }
    piece_streams_free(&s);
    return rc;
}

static int extract_items(const feature_models *fm, const double *x, const piece_list *p, const rvc_dataset_options *o,
                         rvc_dataset *out, vc_error *err)
{
    out->items = calloc((size_t)(p->count ? p->count : 1), sizeof(rvc_train_item));
    if (!out->items) return vc_fail(err, VC_ERR_NOMEM, "out of memory (items)");
    for (int k = 0; k < p->count; k++) {
        if (report(o, "features", (double)k / p->count, err) != 0) return -1;
        int rc = piece_to_item(fm, x, p->items[k], o->sr, &out->items[out->n], err);
        if (rc < 0) return -1;
        out->n += rc;
    }
    return report(o, "features", 1.0, err);
}

static int enough_audio(const rvc_dataset *d, vc_error *err)
{
    int64_t frames = 0;
    for (int i = 0; i < d->n; i++) frames += d->items[i].frames;
    if (frames >= (int64_t)(MIN_SECONDS * 100)) return 0;
    return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "only %.2f s of usable voice after removing silence (at least %.1f s needed)",
                   (double)frames / 100.0, MIN_SECONDS);
}

int rvc_dataset_prepare_audio(const float *audio, int64_t n, int in_rate, const rvc_dataset_options *o,
                              rvc_dataset *out, vc_error *err)
{
    memset(out, 0, sizeof *out);
    if (options_check(o, err) != 0) return -1;
    if (!audio || n <= 0 || in_rate <= 0) return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "training set: no audio");
    feature_models fm;
    memset(&fm, 0, sizeof fm);
    double *x = NULL;
    int64_t nx = 0;
    piece_list pieces = {0};
    int rc = report(o, "slicing", 0.0, err);
    if (rc == 0) rc = feature_models_open(&fm, o, err);
    if (rc == 0) rc = highpassed_at_rate(audio, n, in_rate, o->sr, &x, &nx, err);
    if (rc == 0) rc = slice_into_pieces(x, nx, o->sr, &pieces, err);
    if (rc == 0) rc = report(o, "slicing", 1.0, err);
    *out = (rvc_dataset){o->sr, o->sr / 100, rc == 0 ? phone_dim(&fm) : 0, o->f0, o->version, 0, NULL};
    if (rc == 0) rc = extract_items(&fm, x, &pieces, o, out, err);
    if (rc == 0) rc = enough_audio(out, err);
    if (rc != 0) rvc_dataset_free(out);
    feature_models_free(&fm);
    free(x);
    free(pieces.items);
    return rc;
}

int rvc_dataset_prepare(const char *audio_path, const rvc_dataset_options *o, rvc_dataset *out, vc_error *err)
{
    memset(out, 0, sizeof *out);
    audio_buffer buf = {0};
    if (options_check(o, err) != 0) return -1;
    if (audio_decode_file(audio_path, &buf, NULL, err) != 0) return -1;
    int rc = rvc_dataset_prepare_audio(buf.samples, (int64_t)buf.frames, buf.sample_rate, o, out, err);
    audio_buffer_free(&buf);
    return rc;
}

void rvc_dataset_free(rvc_dataset *d)
{
    if (!d) return;
    for (int i = 0; d->items && i < d->n; i++) item_free(&d->items[i]);
    free(d->items);
    memset(d, 0, sizeof *d);
}
