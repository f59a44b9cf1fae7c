/*
 * STFT, ISTFT and mel filterbanks (see spectral.h). The radix-2 FFT runs in double precision
 * on a per-call table; callers hand in float data.
 */
#include "nn/spectral.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct fft_plan {
    int n;
    double *cos_table, *sin_table; /* n/2 twiddles */
    double *re, *im;               /* work buffers of n */
} fft_plan;

static int is_power_of_two(int n) { return n >= 2 && n <= 65536 && (n & (n - 1)) == 0; }

static int fft_plan_init(fft_plan *p, int n, vc_error *err)
{
    memset(p, 0, sizeof *p);
    if (!is_power_of_two(n)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "FFT size %d is not a power of two", n);
    p->n = n;
    p->cos_table = malloc(sizeof(double) * (size_t)n / 2);
    p->sin_table = malloc(sizeof(double) * (size_t)n / 2);
    p->re = malloc(sizeof(double) * (size_t)n);
    p->im = malloc(sizeof(double) * (size_t)n);
    if (!p->cos_table || !p->sin_table || !p->re || !p->im) return vc_fail(err, VC_ERR_NOMEM, "out of memory (FFT)");
    for (int i = 0; i < n / 2; i++) {
        p->cos_table[i] = cos(2.0 * M_PI * i / n);
        p->sin_table[i] = sin(2.0 * M_PI * i / n);
    }
    return 0;
}

static void fft_plan_free(fft_plan *p)
{
    free(p->cos_table); free(p->sin_table); free(p->re); free(p->im);
}

/* In-place iterative FFT of p->re/p->im; inverse uses +i (no 1/n scaling). */
static void fft_run(fft_plan *p, int inverse)
{
    int n = p->n;
    double *re = p->re, *im = p->im;
    for (int i = 1, j = 0; i < n; i++) {
        int bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) { double t = re[i]; re[i] = re[j]; re[j] = t; t = im[i]; im[i] = im[j]; im[j] = t; }
    }
    for (int len = 2; len <= n; len <<= 1) {
        int step = n / len;
        for (int i = 0; i < n; i += len)
            for (int k = 0; k < len / 2; k++) {
                double wr = p->cos_table[k * step], wi = inverse ? p->sin_table[k * step] : -p->sin_table[k * step];
                int a = i + k, b = a + len / 2;
                double xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
                re[b] = re[a] - xr; im[b] = im[a] - xi;
                re[a] += xr; im[a] += xi;
            }
    }
}

void nn_hann_periodic(float *w, int n)
{
    for (int i = 0; i < n; i++) w[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / n));
}

int nn_stft_frames(size_t L, int hop) { return (int)(L / (size_t)hop) + 1; }

/* x index after reflect padding by pad (torch 'reflect': no edge repeat). */
static float reflect_at(const float *x, long L, long i)
{
    while (i < 0 || i >= L) {
        if (i < 0) i = -i;
        if (i >= L) i = 2 * (L - 1) - i;
    }
    return x[i];
}

/* The FFT of the windowed frame starting at `start` of the reflect-padded signal, into p->re/im. */
static void fft_frame(fft_plan *p, const float *x, size_t L, long start, const float *window, int n_fft)
{
    for (int i = 0; i < n_fft; i++) {
        p->re[i] = (double)reflect_at(x, (long)L, start + i) * window[i];
        p->im[i] = 0;
    }
    fft_run(p, 0);
}

int nn_stft_magnitude(float *mag, const float *x, size_t L, int n_fft, int hop, const float *window, vc_error *err)
{
    fft_plan p;
    if (fft_plan_init(&p, n_fft, err) != 0) { fft_plan_free(&p); return -1; }
    if (L < 2) { fft_plan_free(&p); return vc_fail(err, VC_ERR_INVALID_REQUEST, "audio too short for an STFT"); }
    int frames = nn_stft_frames(L, hop), bins = n_fft / 2 + 1, pad = n_fft / 2;
    for (int f = 0; f < frames; f++) {
        fft_frame(&p, x, L, (long)f * hop - pad, window, n_fft);
        for (int k = 0; k < bins; k++) mag[(size_t)f * bins + k] = (float)sqrt(p.re[k] * p.re[k] + p.im[k] * p.im[k]);
    }
    fft_plan_free(&p);
    return 0;
}

int nn_spectrogram_padded(float *spec, const float *x, size_t L, int n_fft, int hop, int pad, double eps, vc_error *err)
{
    if ((size_t)pad >= L || L + 2 * (size_t)pad < (size_t)n_fft || hop < 1)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "audio of %zu samples too short for a %d-point spectrogram", L, n_fft);
    fft_plan p;
    float *window = malloc(sizeof(float) * (size_t)n_fft);
    if (!window || fft_plan_init(&p, n_fft, err) != 0) {
        if (window) fft_plan_free(&p);
        free(window);
        return window ? -1 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    }
    nn_hann_periodic(window, n_fft);
    int frames = (int)((L + 2 * (size_t)pad - (size_t)n_fft) / (size_t)hop) + 1, bins = n_fft / 2 + 1;
    for (int f = 0; f < frames; f++) {
        fft_frame(&p, x, L, (long)f * hop - pad, window, n_fft);
        for (int k = 0; k < bins; k++)
            spec[(size_t)k * frames + f] = (float)sqrt(p.re[k] * p.re[k] + p.im[k] * p.im[k] + eps);
    }
    fft_plan_free(&p);
    free(window);
    return 0;
}

void nn_log_mel(float *out, const float *mag, const float *fb, int frames, int bins, int n_mels, float clamp)
{
    for (int f = 0; f < frames; f++) {
        const float *m = mag + (size_t)f * bins;
        for (int j = 0; j < n_mels; j++) {
            double s = 0;
            for (int k = 0; k < bins; k++) s += (double)m[k] * fb[(size_t)k * n_mels + j];
            float v = (float)s;
            out[(size_t)f * n_mels + j] = logf(v > clamp ? v : clamp);
        }
    }
}

static float hz_to_mel_htk(float f) { return 2595.0f * log10f(1.0f + f / 700.0f); }
static float mel_to_hz_htk(float m) { return 700.0f * (powf(10.0f, m / 2595.0f) - 1.0f); }

void nn_mel_filterbank_htk(float *fb, int n_freqs, int n_mels, float f_min, float f_max, int sample_rate)
{
    float m_min = hz_to_mel_htk(f_min), m_max = hz_to_mel_htk(f_max);
    float f_pts[n_mels + 2];
    for (int i = 0; i < n_mels + 2; i++) f_pts[i] = mel_to_hz_htk(m_min + (m_max - m_min) * i / (n_mels + 1));
    for (int k = 0; k < n_freqs; k++) {
        float fk = (float)(sample_rate / 2) * k / (n_freqs - 1);
        for (int m = 0; m < n_mels; m++) {
            float down = (fk - f_pts[m]) / (f_pts[m + 1] - f_pts[m]);
            float up = (f_pts[m + 2] - fk) / (f_pts[m + 2] - f_pts[m + 1]);
            float v = down < up ? down : up;
            fb[(size_t)k * n_mels + m] = v > 0 ? v : 0;
        }
    }
}

int nn_istft(float *out, const float *re, const float *im, int frames, int n_fft, int hop, const float *window,
             vc_error *err)
{
    fft_plan p;
    if (fft_plan_init(&p, n_fft, err) != 0) { fft_plan_free(&p); return -1; }
    int bins = n_fft / 2 + 1, pad = n_fft / 2;
    size_t full = (size_t)n_fft + (size_t)hop * (size_t)(frames - 1);
    double *acc = calloc(full, sizeof(double)), *env = calloc(full, sizeof(double));
    if (!acc || !env) { free(acc); free(env); fft_plan_free(&p); return vc_fail(err, VC_ERR_NOMEM, "out of memory (ISTFT)"); }
    for (int f = 0; f < frames; f++) {
        const float *r = re + (size_t)f * bins, *i = im + (size_t)f * bins;
        for (int k = 0; k < bins; k++) { p.re[k] = r[k]; p.im[k] = i[k]; }
        p.im[0] = 0; p.im[bins - 1] = 0; /* irfft ignores the imaginary part of DC and Nyquist */
        for (int k = bins; k < n_fft; k++) { p.re[k] = p.re[n_fft - k]; p.im[k] = -p.im[n_fft - k]; }
        fft_run(&p, 1);
        size_t off = (size_t)f * hop;
        for (int n = 0; n < n_fft; n++) {
            acc[off + n] += p.re[n] / n_fft * window[n];
            env[off + n] += (double)window[n] * window[n];
        }
    }
    size_t out_len = (size_t)hop * (size_t)(frames - 1);
    for (size_t n = 0; n < out_len; n++) {
        double e = env[n + pad];
        out[n] = (float)(e > 1e-11 ? acc[n + pad] / e : 0.0);
    }
    free(acc); free(env);
    fft_plan_free(&p);
    return 0;
}
