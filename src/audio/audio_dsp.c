/*
 * Preprocessing DSP (see audio_dsp.h for the contract). Three independent passes a job can
 * chain: denoise → trim → normalise. Each works on mono float32 and allocates its output once.
 *
 * Denoise: STFT with a periodic Hann window and hop N/4, so windowed overlap-add sums to a
 * constant 1.5 (analysis and synthesis both Hann: sum of Hann^2 at 75 % overlap = 1.5). The
 * noise power spectrum is the mean of the quietest frames (a stationary-noise assumption); the
 * gain per bin is the decision-directed Wiener gain (Ephraim–Malah a priori SNR, alpha 0.98),
 * which avoids the "musical noise" of plain spectral subtraction, floored at -reduction_db.
 *
 * Loudness: one gain to the target from libebur128's integrated loudness, then a look-ahead
 * limiter (per-sample required gain, backward ramp so the gain is already down when the peak
 * arrives, forward release); the true peak is re-measured (4x oversampled by libebur128) and the
 * ceiling tightened if inter-sample peaks still exceed it.
 *
 * Trim: 10 ms frame RMS against a floor from the 10th percentile of frame levels.
 */
#include "audio/audio_dsp.h"

#include <ebur128.h>
#include <kiss_fftr.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DSP_TINY 1e-12
#define WIENER_ALPHA 0.98
#define NOISE_FRACTION 0.15
#define OLA_SUM 1.5 /* sum of hann^2 at hop N/4 */

static int dsp_check(const audio_dsp_control *ctl, double fraction, vc_error *err)
{
    if (ctl && ctl->cancel && *ctl->cancel) return vc_fail(err, VC_ERR_CANCELLED, "preprocessing cancelled");
    if (ctl && ctl->progress) ctl->progress(ctl->ctx, fraction);
    return 0;
}

static int dsp_alloc(audio_buffer *out, size_t frames, int rate, vc_error *err)
{
    out->samples = calloc(frames ? frames : 1, sizeof(float));
    out->frames = frames;
    out->sample_rate = rate;
    return out->samples ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory for %zu samples", frames);
}

static int dsp_valid(const audio_buffer *in, vc_error *err)
{
    if (!in || (!in->samples && in->frames) || in->sample_rate <= 0)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "invalid audio buffer");
    return 0;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- denoise ---------------------------------------------------------------------------- */

typedef struct stft {
    int n, bins, hop;
    size_t frames; /* frame f covers samples [f*hop - n + hop, f*hop + hop) of the zero-padded signal */
    kiss_fftr_cfg fwd, inv;
    float *window, *buf;
    kiss_fft_cpx *spec;
} stft;

static void stft_free(stft *s)
{
    kiss_fftr_free(s->fwd); kiss_fftr_free(s->inv);
    free(s->window); free(s->buf); free(s->spec);
}

static int stft_init(stft *s, const audio_buffer *in, vc_error *err)
{
    memset(s, 0, sizeof *s);
    s->n = 256;
    while (s->n < in->sample_rate / 32) s->n *= 2; /* ≥ ~32 ms */
    s->bins = s->n / 2 + 1;
    s->hop = s->n / 4;
    s->frames = (in->frames + (size_t)s->n) / (size_t)s->hop;
    s->fwd = kiss_fftr_alloc(s->n, 0, NULL, NULL);
    s->inv = kiss_fftr_alloc(s->n, 1, NULL, NULL);
    s->window = malloc(sizeof(float) * (size_t)s->n);
    s->buf = malloc(sizeof(float) * (size_t)s->n);
    s->spec = malloc(sizeof(kiss_fft_cpx) * (size_t)s->bins);
    if (!s->fwd || !s->inv || !s->window || !s->buf || !s->spec) {
        stft_free(s);
        return vc_fail(err, VC_ERR_NOMEM, "out of memory for the STFT");
    }
    for (int i = 0; i < s->n; i++) s->window[i] = (float)(0.5 - 0.5 * cos(2 * M_PI * i / s->n));
    return 0;
}

/* First sample (may be negative) of frame f. */
static long stft_start(const stft *s, size_t f) { return (long)(f * (size_t)s->hop) - s->n + s->hop; }

static void stft_analyze(stft *s, const audio_buffer *in, size_t f)
{
    long start = stft_start(s, f);
    for (int i = 0; i < s->n; i++) {
        long j = start + i;
        float x = (j >= 0 && (size_t)j < in->frames) ? in->samples[j] : 0.0f;
        s->buf[i] = x * s->window[i];
    }
    kiss_fftr(s->fwd, s->buf, s->spec);
}

static void stft_overlap_add(stft *s, audio_buffer *out, size_t f)
{
    kiss_fftri(s->inv, s->spec, s->buf);
    long start = stft_start(s, f);
    float scale = (float)(1.0 / (s->n * OLA_SUM)); /* kissfft's inverse is unnormalised */
    for (int i = 0; i < s->n; i++) {
        long j = start + i;
        if (j >= 0 && (size_t)j < out->frames) out->samples[j] += s->buf[i] * s->window[i] * scale;
    }
}

static double frame_energy(const audio_buffer *in, const stft *s, size_t f)
{
    long start = stft_start(s, f);
    double e = 0;
    for (int i = 0; i < s->n; i++) {
        long j = start + i;
        if (j >= 0 && (size_t)j < in->frames) e += (double)in->samples[j] * in->samples[j];
    }
    return e;
}

/* Mean power spectrum of the quietest NOISE_FRACTION of frames that lie fully inside the signal. */
static int noise_profile(stft *s, const audio_buffer *in, double *noise, vc_error *err)
{
    double *energy = malloc(sizeof(double) * (s->frames ? s->frames : 1));
    double *sorted = malloc(sizeof(double) * (s->frames ? s->frames : 1));
    if (!energy || !sorted) { free(energy); free(sorted); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    size_t inside = 0;
    for (size_t f = 0; f < s->frames; f++) {
        long st = stft_start(s, f);
        int full = st >= 0 && (size_t)st + (size_t)s->n <= in->frames;
        energy[f] = full ? frame_energy(in, s, f) : -1.0;
        if (full) sorted[inside++] = energy[f];
    }
    int rc = 0;
    if (inside == 0) {
        memset(noise, 0, sizeof(double) * (size_t)s->bins); /* shorter than one frame: nothing to learn */
    } else {
        qsort(sorted, inside, sizeof(double), compare_double);
        double limit = sorted[(size_t)(NOISE_FRACTION * (double)(inside - 1))];
        size_t used = 0;
        memset(noise, 0, sizeof(double) * (size_t)s->bins);
        for (size_t f = 0; f < s->frames; f++) {
            if (energy[f] < 0 || energy[f] > limit) continue;
            stft_analyze(s, in, f);
            for (int k = 0; k < s->bins; k++) noise[k] += (double)s->spec[k].r * s->spec[k].r + (double)s->spec[k].i * s->spec[k].i;
            used++;
        }
        for (int k = 0; k < s->bins; k++) noise[k] /= (double)used;
    }
    free(energy); free(sorted);
    return rc;
}

/* Decision-directed Wiener gain, applied to s->spec in place; prev holds |G·X|² of the last frame. */
static void wiener_apply(stft *s, const double *noise, double *prev, double floor_gain)
{
    for (int k = 0; k < s->bins; k++) {
        double p = (double)s->spec[k].r * s->spec[k].r + (double)s->spec[k].i * s->spec[k].i;
        double nk = noise[k] > DSP_TINY ? noise[k] : DSP_TINY;
        double gamma = p / nk;
        double xi = WIENER_ALPHA * prev[k] / nk + (1 - WIENER_ALPHA) * fmax(gamma - 1.0, 0.0);
        double g = fmax(xi / (1.0 + xi), floor_gain);
        s->spec[k].r *= (float)g; s->spec[k].i *= (float)g;
        prev[k] = g * g * p;
    }
}

int audio_denoise(const audio_buffer *in, double reduction_db, const audio_dsp_control *ctl, audio_buffer *out,
                  vc_error *err)
{
    memset(out, 0, sizeof *out);
    if (dsp_valid(in, err) || dsp_check(ctl, 0.0, err)) return -1;
    if (reduction_db <= 0) reduction_db = 18.0;
    stft s;
    if (stft_init(&s, in, err)) return -1;
    double *noise = calloc((size_t)s.bins, sizeof(double)), *prev = calloc((size_t)s.bins, sizeof(double));
    int rc = (!noise || !prev) ? vc_fail(err, VC_ERR_NOMEM, "out of memory") : 0;
    if (!rc) rc = noise_profile(&s, in, noise, err);
    if (!rc) rc = dsp_alloc(out, in->frames, in->sample_rate, err);
    double floor_gain = pow(10.0, -reduction_db / 20.0);
    for (size_t f = 0; !rc && f < s.frames; f++) {
        stft_analyze(&s, in, f);
        wiener_apply(&s, noise, prev, floor_gain);
        stft_overlap_add(&s, out, f);
        if ((f & 255) == 255) rc = dsp_check(ctl, (double)f / (double)s.frames, err);
    }
    if (!rc) rc = dsp_check(ctl, 1.0, err);
    if (rc) audio_buffer_free(out);
    free(noise); free(prev); stft_free(&s);
    return rc;
}

/* ---- loudness ---------------------------------------------------------------------------- */

static int measure_loudness(const float *x, size_t n, int rate, double *lufs, double *true_peak)
{
    ebur128_state *st = ebur128_init(1, (unsigned long)rate, EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK);
    if (!st) return -1;
    int ok = ebur128_add_frames_float(st, x, n) == EBUR128_SUCCESS &&
             ebur128_loudness_global(st, lufs) == EBUR128_SUCCESS &&
             ebur128_true_peak(st, 0, true_peak) == EBUR128_SUCCESS;
    ebur128_destroy(&st);
    return ok ? 0 : -1;
}

/* Gain curve g[i] ≤ ceiling/|x[i]| everywhere, ramping down over `look` samples before a peak
 * and recovering over ~`release` samples after it. */
static void limiter_gain(const float *x, size_t n, double ceiling, size_t look, size_t release, float *g)
{
    for (size_t i = 0; i < n; i++) {
        double a = fabs((double)x[i]);
        g[i] = (float)(a > ceiling ? ceiling / a : 1.0);
    }
    float down = 1.0f / (float)look, up = 1.0f / (float)release;
    for (size_t i = n; i-- > 1;) g[i - 1] = fminf(g[i - 1], g[i] + down); /* attack before the peak */
    for (size_t i = 1; i < n; i++) g[i] = fminf(g[i], g[i - 1] + up);     /* release after it */
}

int audio_normalize_loudness(const audio_buffer *in, double target_lufs, double ceiling_dbtp,
                             const audio_dsp_control *ctl, audio_buffer *out, vc_error *err)
{
    memset(out, 0, sizeof *out);
    if (dsp_valid(in, err) || dsp_check(ctl, 0.0, err)) return -1;
    if (ceiling_dbtp >= 0) ceiling_dbtp = -1.0; /* 0 means the default; above full scale would clip */
    if (dsp_alloc(out, in->frames, in->sample_rate, err)) return -1;
    if (in->frames) memcpy(out->samples, in->samples, sizeof(float) * in->frames);
    double lufs, tp;
    if (measure_loudness(in->samples, in->frames, in->sample_rate, &lufs, &tp) || !isfinite(lufs))
        return dsp_check(ctl, 1.0, err) ? (audio_buffer_free(out), -1) : 0; /* silence / too short */
    float gain = (float)pow(10.0, (target_lufs - lufs) / 20.0);
    for (size_t i = 0; i < out->frames; i++) out->samples[i] *= gain;
    float *g = malloc(sizeof(float) * (out->frames ? out->frames : 1));
    float *work = malloc(sizeof(float) * (out->frames ? out->frames : 1));
    if (!g || !work) { free(g); free(work); audio_buffer_free(out); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    size_t look = (size_t)(in->sample_rate / 200) + 1, release = (size_t)(in->sample_rate / 20) + 1; /* 5 ms, 50 ms */
    double ceiling = pow(10.0, ceiling_dbtp / 20.0);
    int rc = 0;
    for (int pass = 0; pass < 6 && !rc; pass++) {
        limiter_gain(out->samples, out->frames, ceiling, look, release, g);
        for (size_t i = 0; i < out->frames; i++) work[i] = out->samples[i] * g[i];
        rc = dsp_check(ctl, 0.2 + 0.13 * pass, err);
        double l2, tp2;
        if (rc || measure_loudness(work, out->frames, out->sample_rate, &l2, &tp2) || tp2 <= pow(10.0, ceiling_dbtp / 20.0)) break;
        ceiling *= 0.94; /* inter-sample peaks above the ceiling: tighten by ~0.5 dB and retry */
    }
    if (!rc) { memcpy(out->samples, work, sizeof(float) * out->frames); rc = dsp_check(ctl, 1.0, err); }
    free(g); free(work);
    if (rc) audio_buffer_free(out);
    return rc;
}

/* ---- silence trimming --------------------------------------------------------------------- */

/* 1 per 10 ms frame above the threshold. */
static int mark_sound(const audio_buffer *in, size_t hop, double threshold_db, unsigned char *sound, size_t frames,
                      vc_error *err)
{
    double *level = malloc(sizeof(double) * frames), *sorted = malloc(sizeof(double) * frames);
    if (!level || !sorted) { free(level); free(sorted); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    for (size_t f = 0; f < frames; f++) {
        double p = 0;
        for (size_t i = f * hop; i < (f + 1) * hop && i < in->frames; i++) p += (double)in->samples[i] * in->samples[i];
        level[f] = sorted[f] = 10 * log10(p / (double)hop + DSP_TINY);
    }
    qsort(sorted, frames, sizeof(double), compare_double);
    double limit = fmax(sorted[frames / 10] + threshold_db, -70.0);
    for (size_t f = 0; f < frames; f++) sound[f] = level[f] > limit;
    free(level); free(sorted);
    return 0;
}

/* Appends in[a, b) to out at *len, crossfading `fade` samples with what is already there. */
static void append_segment(const audio_buffer *in, size_t a, size_t b, size_t fade, audio_buffer *out, size_t *len)
{
    size_t overlap = (*len >= fade && b - a >= fade) ? fade : 0;
    size_t at = *len - overlap;
    for (size_t i = 0; i < b - a; i++) {
        float x = in->samples[a + i];
        if (i < overlap) {
            float w = (float)(i + 1) / (float)(overlap + 1);
            out->samples[at + i] = out->samples[at + i] * (1 - w) + x * w;
        } else {
            out->samples[at + i] = x;
        }
    }
    *len = at + (b - a);
}

int audio_trim_silence(const audio_buffer *in, const audio_trim_options *opts, const audio_dsp_control *ctl,
                       audio_buffer *out, vc_error *err)
{
    memset(out, 0, sizeof *out);
    if (dsp_valid(in, err) || dsp_check(ctl, 0.0, err)) return -1;
    audio_trim_options o = opts ? *opts : (audio_trim_options){0, 0, 0};
    if (o.threshold_db <= 0) o.threshold_db = 12.0;
    if (o.keep_edge_seconds <= 0) o.keep_edge_seconds = 0.15;
    if (o.max_silence_seconds <= 0) o.max_silence_seconds = 0.8;
    size_t hop = (size_t)(in->sample_rate / 100) ? (size_t)(in->sample_rate / 100) : 1;
    size_t frames = (in->frames + hop - 1) / hop;
    if (dsp_alloc(out, in->frames, in->sample_rate, err)) return -1;
    if (frames == 0) { out->frames = 0; return dsp_check(ctl, 1.0, err) ? (audio_buffer_free(out), -1) : 0; }
    unsigned char *sound = malloc(frames);
    if (!sound || mark_sound(in, hop, o.threshold_db, sound, frames, err)) {
        free(sound); audio_buffer_free(out);
        return sound ? -1 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    }
    size_t first = frames, last = 0;
    for (size_t f = 0; f < frames; f++) if (sound[f]) { if (first == frames) first = f; last = f; }
    size_t len = 0;
    if (first < frames) {
        size_t edge = (size_t)(o.keep_edge_seconds * in->sample_rate), keep = (size_t)(o.max_silence_seconds * in->sample_rate);
        size_t fade = hop, a = first * hop > edge ? first * hop - edge : 0;
        size_t end = (last + 1) * hop + edge < in->frames ? (last + 1) * hop + edge : in->frames;
        size_t f = first;
        while (f <= last) {
            size_t g = f; /* next long pause after frame f */
            while (g <= last && sound[g]) g++;
            size_t h = g;
            while (h <= last && !sound[h]) h++;
            if (g > last) break;
            if ((h - g) * hop > keep) { /* keep half the allowed pause on each side of the cut */
                append_segment(in, a, g * hop + keep / 2, fade, out, &len);
                a = h * hop - keep / 2;
            }
            f = h;
        }
        append_segment(in, a, end, fade, out, &len);
    }
    out->frames = len;
    free(sound);
    int rc = dsp_check(ctl, 1.0, err);
    if (rc) audio_buffer_free(out);
    return rc;
}

/* ---- pydub-style silence removal (F5-TTS remove_silence) ---------------------------------- */

typedef struct ms_ranges {
    long (*r)[2];
    size_t n, cap;
} ms_ranges;

static int ranges_push(ms_ranges *l, long start, long end)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        long(*grown)[2] = realloc(l->r, sizeof *grown * cap);
        if (!grown) return -1;
        l->r = grown;
        l->cap = cap;
    }
    l->r[l->n][0] = start;
    l->r[l->n][1] = end;
    l->n++;
    return 0;
}

static size_t ms_to_frame(const audio_buffer *a, long ms)
{
    size_t f = (size_t)((double)ms * a->sample_rate / 1000.0);
    return f < a->frames ? f : a->frames;
}

/* RMS of [start, start + len) ms from prefix sums of squares. */
static double window_rms(const audio_buffer *a, const double *cum, long start, long len)
{
    size_t s = ms_to_frame(a, start), e = ms_to_frame(a, start + len);
    return e > s ? sqrt((cum[e] - cum[s]) / (double)(e - s)) : 0.0;
}

/* pydub detect_silence: ranges [start, end) ms of merged silent windows. */
static int detect_silence(const audio_buffer *a, const double *cum, long seg_ms, int min_ms, double thresh, int seek,
                          ms_ranges *silent)
{
    long last_start = seg_ms - min_ms, prev = -1, range_start = -1;
    for (long i = 0; i <= last_start; i = (i + seek > last_start && i != last_start) ? last_start : i + seek) {
        if (window_rms(a, cum, i, min_ms) > thresh) continue;
        if (prev >= 0 && i != prev + seek && i > prev + min_ms) {
            if (ranges_push(silent, range_start, prev + min_ms)) return -1;
            range_start = i;
        }
        if (prev < 0) range_start = i;
        prev = i;
    }
    return prev >= 0 ? ranges_push(silent, range_start, prev + min_ms) : 0;
}

/* pydub detect_nonsilent from the silent ranges. */
static int nonsilent_ranges(const ms_ranges *silent, long seg_ms, ms_ranges *speech)
{
    if (silent->n == 0) return ranges_push(speech, 0, seg_ms);
    if (silent->r[0][0] == 0 && silent->r[0][1] == seg_ms) return 0;
    long prev_end = 0;
    for (size_t i = 0; i < silent->n; i++) {
        if (!(prev_end == 0 && silent->r[i][0] == 0) && ranges_push(speech, prev_end, silent->r[i][0])) return -1;
        prev_end = silent->r[i][1];
    }
    return prev_end != seg_ms ? ranges_push(speech, prev_end, seg_ms) : 0;
}

int audio_remove_long_silences(const audio_buffer *in, int min_silence_ms, double thresh_dbfs, int keep_ms, int seek_ms,
                               audio_buffer *out, vc_error *err)
{
    *out = (audio_buffer){NULL, 0, in->sample_rate};
    long seg_ms = lround(1000.0 * (double)in->frames / in->sample_rate);
    double *cum = malloc(sizeof(double) * (in->frames + 1));
    ms_ranges silent = {0}, speech = {0};
    int rc = cum ? 0 : -1;
    if (cum) cum[0] = 0;
    for (size_t i = 0; cum && i < in->frames; i++) cum[i + 1] = cum[i] + (double)in->samples[i] * in->samples[i];
    if (rc == 0 && seg_ms >= min_silence_ms)
        rc = detect_silence(in, cum, seg_ms, min_silence_ms, pow(10.0, thresh_dbfs / 20.0), seek_ms > 0 ? seek_ms : 1, &silent);
    if (rc == 0) rc = nonsilent_ranges(&silent, seg_ms, &speech);
    for (size_t i = 0; rc == 0 && i < speech.n; i++) { speech.r[i][0] -= keep_ms; speech.r[i][1] += keep_ms; }
    for (size_t i = 0; rc == 0 && i + 1 < speech.n; i++) /* overlapping keeps meet halfway */
        if (speech.r[i + 1][0] < speech.r[i][1]) speech.r[i][1] = speech.r[i + 1][0] = (speech.r[i][1] + speech.r[i + 1][0]) / 2;
    out->samples = rc == 0 ? malloc(sizeof(float) * (in->frames + 1)) : NULL;
    if (rc == 0 && !out->samples) rc = -1;
    for (size_t i = 0; rc == 0 && i < speech.n; i++) {
        size_t s = ms_to_frame(in, speech.r[i][0] < 0 ? 0 : speech.r[i][0]), e = ms_to_frame(in, speech.r[i][1]);
        if (e > s) memcpy(out->samples + out->frames, in->samples + s, sizeof(float) * (e - s));
        out->frames += e > s ? e - s : 0;
    }
    free(cum); free(silent.r); free(speech.r);
    if (rc != 0) { free(out->samples); out->samples = NULL; out->frames = 0; return vc_fail(err, VC_ERR_NOMEM, "out of memory (silence removal)"); }
    return 0;
}
