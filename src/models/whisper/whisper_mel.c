/*
 * Whisper's log-mel front end (contract: whisper.h): centred STFT (n_fft 400, hop 160,
 * periodic Hann, reflect padding), |X|², the librosa Slaney mel filterbank, log10 floored at
 * 1e-10, dynamic range limited to 8 (in log10 units) below the maximum of the whole call, then
 * (l + 4) / 4. The 400-point DFT is a small mixed-radix FFT in double (400 = 2⁴·5²):
 * spectral.h's FFT is radix-2 only.
 */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/whisper/whisper.h"
#include "nn/pool.h"
#include "nn/spectral.h"

/* ---- mel filterbank (librosa.filters.mel, htk=False, norm='slaney') ---- */

static const double F_SP = 200.0 / 3.0, MIN_LOG_HZ = 1000.0, MIN_LOG_MEL = 15.0;

static double log_step(void) { return log(6.4) / 27.0; }

static double hz_to_mel(double f) { return f < MIN_LOG_HZ ? f / F_SP : MIN_LOG_MEL + log(f / MIN_LOG_HZ) / log_step(); }

static double mel_to_hz(double m) { return m < MIN_LOG_MEL ? F_SP * m : MIN_LOG_HZ * exp(log_step() * (m - MIN_LOG_MEL)); }

void whisper_mel_filters(float *fb, int n_mels)
{
    double *p = malloc(sizeof(double) * (size_t)(n_mels + 2));
    if (!p) { memset(fb, 0, sizeof(float) * (size_t)n_mels * WHISPER_N_BINS); return; }
    double top = hz_to_mel(WHISPER_SAMPLE_RATE / 2.0), step = top / (n_mels + 1);
    for (int i = 0; i < n_mels + 2; i++) p[i] = mel_to_hz(i == n_mels + 1 ? top : step * i);
    for (int m = 0; m < n_mels; m++) {
        /* librosa rounds the triangle into float32 before the area norm, then rounds again */
        double norm = 2.0 / (p[m + 2] - p[m]);
        for (int k = 0; k < WHISPER_N_BINS; k++) {
            double f = k * ((double)WHISPER_SAMPLE_RATE / WHISPER_N_FFT);
            double lower = (f - p[m]) / (p[m + 1] - p[m]), upper = (p[m + 2] - f) / (p[m + 2] - p[m + 1]);
            float w = (float)fmax(0.0, fmin(lower, upper));
            fb[(size_t)m * WHISPER_N_BINS + k] = (float)((double)w * norm);
        }
    }
    free(p);
}

/* ---- 400-point DFT ---- */

typedef struct dft_plan {
    double complex tw[WHISPER_N_FFT]; /* e^{-2πij/400} */
} dft_plan;

static void dft_plan_init(dft_plan *p)
{
    for (int j = 0; j < WHISPER_N_FFT; j++) p->tw[j] = cexp(-2.0 * M_PI * I * j / WHISPER_N_FFT);
}

/* out[k] = Σ_j in[j·stride] e^{-2πijk/n}, n | 400: split by the smallest factor (2 or 5). */
static void dft_rec(const dft_plan *p, const double complex *in, int stride, int n, double complex *out)
{
    if (n == 1) { out[0] = in[0]; return; }
    int f = n % 2 == 0 ? 2 : n % 5 == 0 ? 5 : n, m = n / f, tw_step = WHISPER_N_FFT / n;
    if (f == n) { /* direct (only if a factor other than 2, 5 appeared) */
        for (int k = 0; k < n; k++) {
            double complex s = 0;
            for (int j = 0; j < n; j++) s += in[j * stride] * p->tw[(j * k % n) * tw_step];
            out[k] = s;
        }
        return;
    }
    for (int r = 0; r < f; r++) dft_rec(p, in + r * stride, stride * f, m, out + r * m);
    double complex tmp[WHISPER_N_FFT];
    for (int k = 0; k < n; k++) {
        double complex s = 0;
        for (int r = 0; r < f; r++) s += p->tw[(r * k % n) * tw_step] * out[r * m + k % m];
        tmp[k] = s;
    }
    memcpy(out, tmp, sizeof(double complex) * (size_t)n);
}

/* ---- log-mel ---- */

typedef struct mel_job {
    const float *x;
    size_t n, len; /* samples, samples + zero padding */
    const float *fb;
    int n_mels, frames;
    float *mel;
    const dft_plan *plan;
    const float *window;
} mel_job;

/* Sample i of the zero-padded signal after reflect padding by n_fft/2 on both sides. */
static double padded_sample(const mel_job *j, long i)
{
    long L = (long)j->len;
    if (i < 0) i = -i;
    if (i >= L) i = 2 * (L - 1) - i;
    return (size_t)i < j->n ? j->x[i] : 0.0;
}

static void mel_frames(void *ctx, int begin, int end)
{
    const mel_job *j = ctx;
    double complex frame[WHISPER_N_FFT], spec[WHISPER_N_FFT];
    double power[WHISPER_N_BINS];
    for (int t = begin; t < end; t++) {
        long start = (long)t * WHISPER_HOP - WHISPER_N_FFT / 2;
        for (int i = 0; i < WHISPER_N_FFT; i++) frame[i] = padded_sample(j, start + i) * j->window[i];
        dft_rec(j->plan, frame, 1, WHISPER_N_FFT, spec);
        for (int k = 0; k < WHISPER_N_BINS; k++) power[k] = creal(spec[k]) * creal(spec[k]) + cimag(spec[k]) * cimag(spec[k]);
        for (int m = 0; m < j->n_mels; m++) {
            const float *w = j->fb + (size_t)m * WHISPER_N_BINS;
            double s = 0;
            for (int k = 0; k < WHISPER_N_BINS; k++) s += w[k] * power[k];
            j->mel[(size_t)m * j->frames + t] = (float)log10(fmax(s, 1e-10));
        }
    }
}

int whisper_mel_frames(size_t n, size_t pad) { return (int)((n + pad) / WHISPER_HOP); }

int whisper_log_mel(const whisper_model *m, const float *x, size_t n, size_t pad, float *mel, vc_error *err)
{
    size_t len = n + pad;
    if (len <= WHISPER_N_FFT / 2) return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "audio too short for a mel frame");
    dft_plan *plan = malloc(sizeof *plan);
    if (!plan) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    dft_plan_init(plan);
    float window[WHISPER_N_FFT];
    nn_hann_periodic(window, WHISPER_N_FFT);
    /* one frame per hop, the centred STFT's last frame dropped */
    mel_job j = {x, n, len, m->mel_filters, m->dims.n_mels, whisper_mel_frames(n, pad), mel, plan, window};
    nn_pool_for(m->pool, j.frames, 32, mel_frames, &j);
    free(plan);
    size_t total = (size_t)j.n_mels * j.frames;
    float mx = -INFINITY;
    for (size_t i = 0; i < total; i++) mx = fmaxf(mx, mel[i]);
    for (size_t i = 0; i < total; i++) mel[i] = (fmaxf(mel[i], mx - 8.0f) + 4.0f) / 4.0f;
    return 0;
}
