/*
 * Pitch shift without a change of duration (contract: audio_dsp.h, audio_pitch_shift).
 *
 * A phase vocoder stretches time by r = 2^(semitones/12) (analysis hop Ha, synthesis hop
 * Hs ≈ r·Ha), then soxr resamples the stretched signal by Hs/Ha, which restores the length and
 * multiplies every frequency by Hs/Ha. The vocoder keeps "identity phase locking" (Laroche &
 * Dolson 1999): only spectral peaks get their phase advanced by their measured frequency; the
 * bins around a peak keep their analysis phase offset to it, which removes most of the plain
 * vocoder's "phasiness" on voices. Why our own: the packaged libraries are GPL (Rubber Band) or
 * C++ only (SoundTouch); see docs/AUDIO.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kiss_fftr.h>
#include <soxr.h>

#include "audio/audio_dsp.h"

#define PV_OVERLAP 4 /* Ha = N / 4 */

typedef struct pv_state {
    int n, bins, ha, hs;
    kiss_fftr_cfg fwd, inv;
    kiss_fft_cpx *spec;
    float *window, *frame, *mag, *phase, *prev_phase, *synth_phase;
    int *peak_of;
} pv_state;

static void pv_free(pv_state *s)
{
    kiss_fftr_free(s->fwd);
    kiss_fftr_free(s->inv);
    free(s->spec);
    free(s->window);
    free(s->frame);
    free(s->mag);
    free(s->phase);
    free(s->prev_phase);
    free(s->synth_phase);
    free(s->peak_of);
}

/* Window of about 40 ms (a power of two) so that two harmonics of a low voice are resolved. */
static int pv_init(pv_state *s, int rate, double ratio)
{
    memset(s, 0, sizeof *s);
    s->n = 256;
    while (s->n < rate / 25) s->n *= 2;
    s->bins = s->n / 2 + 1;
    s->ha = s->n / PV_OVERLAP;
    s->hs = (int)lround(s->ha * ratio);
    if (s->hs < 1) s->hs = 1;
    s->fwd = kiss_fftr_alloc(s->n, 0, NULL, NULL);
    s->inv = kiss_fftr_alloc(s->n, 1, NULL, NULL);
    s->spec = malloc(sizeof(kiss_fft_cpx) * (size_t)s->bins);
    s->window = malloc(sizeof(float) * (size_t)s->n);
    s->frame = malloc(sizeof(float) * (size_t)s->n);
    s->mag = malloc(sizeof(float) * (size_t)s->bins);
    s->phase = malloc(sizeof(float) * (size_t)s->bins);
    s->prev_phase = calloc((size_t)s->bins, sizeof(float));
    s->synth_phase = calloc((size_t)s->bins, sizeof(float));
    s->peak_of = malloc(sizeof(int) * (size_t)s->bins);
    if (!s->fwd || !s->inv || !s->spec || !s->window || !s->frame || !s->mag || !s->phase || !s->prev_phase ||
        !s->synth_phase || !s->peak_of) {
        pv_free(s);
        return -1;
    }
    for (int i = 0; i < s->n; i++) s->window[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / s->n)); /* periodic Hann */
    return 0;
}

static double wrap_phase(double p) { return p - 2.0 * M_PI * floor((p + M_PI) / (2.0 * M_PI)); }

/* Each bin's nearest local magnitude maximum (its region of influence). */
static void find_peaks(pv_state *s)
{
    int last_peak = -1;
    for (int k = 0; k < s->bins; k++) {
        float l = k > 0 ? s->mag[k - 1] : -1.0f, r = k + 1 < s->bins ? s->mag[k + 1] : -1.0f;
        if (s->mag[k] >= l && s->mag[k] > r) {
            /* bins between the previous peak and this one go to the nearer of the two */
            for (int j = last_peak < 0 ? 0 : (last_peak + k) / 2 + 1; j <= k; j++) s->peak_of[j] = k;
            last_peak = k;
        } else if (last_peak >= 0) {
            s->peak_of[k] = last_peak;
        }
    }
    if (last_peak < 0)
        for (int k = 0; k < s->bins; k++) s->peak_of[k] = k;
    else
        for (int k = 0; k < s->bins && s->peak_of[k] < 0; k++) s->peak_of[k] = last_peak;
}

/* One analysis frame in s->frame (windowed) → one synthesis frame in s->frame (windowed). */
static void pv_frame(pv_state *s, int first)
{
    kiss_fftr(s->fwd, s->frame, s->spec);
    for (int k = 0; k < s->bins; k++) {
        s->mag[k] = hypotf(s->spec[k].r, s->spec[k].i);
        s->phase[k] = atan2f(s->spec[k].i, s->spec[k].r);
        s->peak_of[k] = -1;
    }
    find_peaks(s);
    for (int k = 0; k < s->bins; k++) {
        if (s->peak_of[k] != k) continue;
        double omega = 2.0 * M_PI * k / s->n; /* the bin's centre frequency, radians per sample */
        double dev = wrap_phase(s->phase[k] - s->prev_phase[k] - omega * s->ha);
        s->synth_phase[k] = first ? s->phase[k] : (float)wrap_phase(s->synth_phase[k] + (omega + dev / s->ha) * s->hs);
    }
    for (int k = 0; k < s->bins; k++) {
        int p = s->peak_of[k];
        double ph = p == k ? s->synth_phase[k] : s->synth_phase[p] + s->phase[k] - s->phase[p];
        if (p != k) s->synth_phase[k] = (float)wrap_phase(ph);
        s->spec[k].r = (float)(s->mag[k] * cos(ph));
        s->spec[k].i = (float)(s->mag[k] * sin(ph));
        s->prev_phase[k] = s->phase[k];
    }
    kiss_fftri(s->inv, s->spec, s->frame);
    for (int i = 0; i < s->n; i++) s->frame[i] *= s->window[i] / (float)s->n; /* kissfft's inverse is unnormalised */
}

/* Time stretch of x (n samples) by hs/ha into *y (*m samples, malloc'd). */
static int pv_stretch(pv_state *s, const float *x, size_t n, float **y, size_t *m)
{
    size_t frames = n / (size_t)s->ha + 1;
    *m = (frames - 1) * (size_t)s->hs + (size_t)s->n;
    *y = calloc(*m, sizeof(float));
    float *norm = calloc(*m, sizeof(float));
    if (!*y || !norm) { free(*y); free(norm); *y = NULL; return -1; }
    for (size_t f = 0; f < frames; f++) {
        /* frames are centred: frame f covers x[f·ha − n/2, f·ha + n/2) */
        long start = (long)(f * (size_t)s->ha) - s->n / 2;
        for (int i = 0; i < s->n; i++) {
            long j = start + i;
            s->frame[i] = j >= 0 && (size_t)j < n ? x[j] * s->window[i] : 0.0f;
        }
        pv_frame(s, f == 0);
        size_t at = f * (size_t)s->hs;
        for (int i = 0; i < s->n; i++) {
            (*y)[at + (size_t)i] += s->frame[i];
            norm[at + (size_t)i] += s->window[i] * s->window[i];
        }
    }
    /* overlap-add of window² is constant inside; the edges get the same level by dividing */
    float floor_norm = 0.1f * (float)PV_OVERLAP * 0.375f;
    for (size_t i = 0; i < *m; i++) (*y)[i] /= fmaxf(norm[i], floor_norm);
    free(norm);
    return 0;
}

int audio_pitch_shift(const audio_buffer *in, double semitones, audio_buffer *out, vc_error *err)
{
    memset(out, 0, sizeof *out);
    if (!(semitones >= -AUDIO_PITCH_MAX_SEMITONES && semitones <= AUDIO_PITCH_MAX_SEMITONES))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "pitch_shift must be between -%d and %d semitones", AUDIO_PITCH_MAX_SEMITONES,
                       AUDIO_PITCH_MAX_SEMITONES);
    out->sample_rate = in->sample_rate;
    out->frames = in->frames;
    out->samples = calloc(in->frames + 1, sizeof(float));
    if (!out->samples) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (semitones == 0.0 || in->frames == 0) {
        if (in->frames) memcpy(out->samples, in->samples, in->frames * sizeof(float));
        return 0;
    }
    pv_state s;
    if (pv_init(&s, in->sample_rate, pow(2.0, semitones / 12.0)) != 0) { audio_buffer_free(out); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    float *y = NULL;
    size_t m = 0;
    int rc = pv_stretch(&s, in->samples, in->frames, &y, &m);
    double ratio = (double)s.hs / s.ha; /* the exact stretch, so the resampling restores the length */
    size_t lead = (size_t)(s.n / 2);     /* the centred first frame starts n/2 early: skip that */
    pv_free(&s);
    if (rc != 0) { audio_buffer_free(out); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    size_t avail = m > lead ? m - lead : 0, done = 0;
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_error_t e = soxr_oneshot(in->sample_rate * ratio, in->sample_rate, 1, y + lead, avail, NULL, out->samples,
                                  in->frames, &done, NULL, &q, NULL);
    free(y);
    if (e) { audio_buffer_free(out); return vc_fail(err, VC_ERR_INTERNAL, "resampling the pitch-shifted audio: %s", e); }
    for (size_t i = 0; i < in->frames; i++) out->samples[i] = fmaxf(-1.0f, fminf(1.0f, out->samples[i]));
    return 0;
}
