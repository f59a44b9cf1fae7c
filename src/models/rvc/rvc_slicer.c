/* Pause-based slicing of training audio (see rvc_slicer.h). */
#include "models/rvc/rvc_slicer.h"

#include <math.h>
#include <stdlib.h>

/* preprocess.py's settings, in milliseconds and dB */
#define SLICE_THRESHOLD_DB (-42.0)
#define SLICE_MIN_LENGTH_MS 1500
#define SLICE_MIN_INTERVAL_MS 400
#define SLICE_HOP_MS 15
#define SLICE_MAX_SIL_KEPT_MS 500

/* The settings in frames (lengths) and linear amplitude; rounding half to even as Python's round. */
typedef struct slicer_config {
    double threshold;
    int hop, win, min_length, min_interval, max_sil_kept;
} slicer_config;

static slicer_config slicer_config_for(int sr)
{
    slicer_config c;
    double interval = (double)sr * SLICE_MIN_INTERVAL_MS / 1000.0;
    c.threshold = pow(10.0, SLICE_THRESHOLD_DB / 20.0);
    c.hop = (int)nearbyint((double)sr * SLICE_HOP_MS / 1000.0);
    int win = (int)nearbyint(interval);
    c.win = win < 4 * c.hop ? win : 4 * c.hop;
    c.min_length = (int)nearbyint((double)sr * SLICE_MIN_LENGTH_MS / 1000.0 / c.hop);
    c.min_interval = (int)nearbyint(interval / c.hop);
    c.max_sil_kept = (int)nearbyint((double)sr * SLICE_MAX_SIL_KEPT_MS / 1000.0 / c.hop);
    return c;
}

/* RMS of window i: samples [i·hop − win/2, i·hop − win/2 + win), zero outside x. */
static void frame_rms(const double *x, int64_t n, const slicer_config *c, double *rms, int frames)
{
    for (int i = 0; i < frames; i++) {
        int64_t start = (int64_t)i * c->hop - c->win / 2;
        double power = 0;
        for (int64_t k = start < 0 ? 0 : start; k < start + c->win && k < n; k++) power += x[k] * x[k];
        rms[i] = sqrt(power / c->win);
    }
}

/* first index of the minimum of rms[from, min(to, frames)) */
static int argmin(const double *rms, int frames, int from, int to)
{
    if (to > frames) to = frames;
    int best = from;
    for (int i = from + 1; i < to; i++)
        if (rms[i] < rms[best]) best = i;
    return best;
}

typedef struct tag_list {
    int (*tags)[2]; /* silent frame ranges [begin, end) to remove */
    int count;
} tag_list;

static void tag_add(tag_list *t, int begin, int end)
{
    t->tags[t->count][0] = begin;
    t->tags[t->count][1] = end;
    t->count++;
}

/* A pause [silence_start, i) has ended at frame i and is to be cut: where. Returns the new
 * clip start. Short pauses are cut at their quietest frame; longer ones keep at most
 * max_sil_kept frames on each side. */
static int cut_pause(const double *rms, int frames, const slicer_config *c, int silence_start, int i, tag_list *t)
{
    int keep = c->max_sil_kept, len = i - silence_start;
    if (len <= keep) {
        int pos = argmin(rms, frames, silence_start, i + 1);
        tag_add(t, silence_start == 0 ? 0 : pos, pos);
        return pos;
    }
    int pos_l = argmin(rms, frames, silence_start, silence_start + keep + 1);
    int pos_r = argmin(rms, frames, i - keep, i + 1);
    if (len <= 2 * keep) {
        int pos = argmin(rms, frames, i - keep, silence_start + keep + 1);
        if (silence_start == 0) { tag_add(t, 0, pos_r); return pos_r; }
        int begin = pos_l < pos ? pos_l : pos, end = pos_r > pos ? pos_r : pos;
        tag_add(t, begin, end);
        return end;
    }
    tag_add(t, silence_start == 0 ? 0 : pos_l, pos_r);
    return pos_r;
}

static void find_pauses(const double *rms, int frames, const slicer_config *c, tag_list *t)
{
    int silence_start = -1, clip_start = 0;
    for (int i = 0; i < frames; i++) {
        if (rms[i] < c->threshold) {
            if (silence_start < 0) silence_start = i;
            continue;
        }
        if (silence_start < 0) continue;
        int leading = silence_start == 0 && i > c->max_sil_kept;
        int cut_middle = i - silence_start >= c->min_interval && i - clip_start >= c->min_length;
        if (leading || cut_middle) clip_start = cut_pause(rms, frames, c, silence_start, i, t);
        silence_start = -1;
    }
    if (silence_start >= 0 && frames - silence_start >= c->min_interval) {
        int end = silence_start + c->max_sil_kept < frames ? silence_start + c->max_sil_kept : frames;
        tag_add(t, argmin(rms, frames, silence_start, end + 1), frames + 1);
    }
}

static void span_add(rvc_span *spans, int *count, int64_t n, int hop, int begin, int end)
{
    int64_t b = (int64_t)begin * hop, e = (int64_t)end * hop;
    spans[*count].begin = b < n ? b : n;
    spans[*count].end = e < n ? e : n;
    (*count)++;
}

/* The clips between the removed pauses (frame units → samples). */
static void spans_from_tags(const tag_list *t, int frames, int64_t n, int hop, rvc_span *spans, int *count)
{
    *count = 0;
    if (t->count == 0) { spans[0].begin = 0; spans[0].end = n; *count = 1; return; }
    if (t->tags[0][0] > 0) span_add(spans, count, n, hop, 0, t->tags[0][0]);
    for (int k = 0; k + 1 < t->count; k++) span_add(spans, count, n, hop, t->tags[k][1], t->tags[k + 1][0]);
    if (t->tags[t->count - 1][1] < frames) span_add(spans, count, n, hop, t->tags[t->count - 1][1], frames);
}

int rvc_slice(const double *x, int64_t n, int sr, rvc_span **spans, int *count, vc_error *err)
{
    *spans = NULL;
    *count = 0;
    slicer_config c = slicer_config_for(sr);
    if (sr <= 0 || c.hop < 1) return vc_fail(err, VC_ERR_INVALID_REQUEST, "slicing needs a positive sample rate (got %d)", sr);
    if (n <= c.min_length) { /* the official compares samples with a frame count here: kept as is */
        *spans = malloc(sizeof **spans);
        if (!*spans) return vc_fail(err, VC_ERR_NOMEM, "out of memory (slicing)");
        (*spans)[0] = (rvc_span){0, n};
        *count = 1;
        return 0;
    }
    int64_t frames64 = (n + 2 * (c.win / 2) - c.win) / c.hop + 1;
    if (frames64 > INT32_MAX / 2) return vc_fail(err, VC_ERR_AUDIO_TOO_LONG, "audio too long to slice");
    int frames = (int)frames64;
    double *rms = malloc(sizeof(double) * (size_t)frames);
    tag_list t = {malloc(sizeof(int[2]) * ((size_t)frames + 1)), 0};
    *spans = malloc(sizeof(rvc_span) * ((size_t)frames + 2));
    if (!rms || !t.tags || !*spans) {
        free(rms); free(t.tags); free(*spans); *spans = NULL;
        return vc_fail(err, VC_ERR_NOMEM, "out of memory (slicing %d frames)", frames);
    }
    frame_rms(x, n, &c, rms, frames);
    find_pauses(rms, frames, &c, &t);
    spans_from_tags(&t, frames, n, c.hop, *spans, count);
    free(rms);
    free(t.tags);
    return 0;
}
