/*
 * AdamW (see optim.h) and the librosa Slaney mel matrix the HiFi-GAN/VITS training losses use.
 * Both live here because they exist only for training.
 */
#include "nn/optim.h"
#include "nn/par.h"

#include <math.h>
#include <stdlib.h>

void nn_adamw_step(const nn_adamw *o, int step, float *p, const float *g, float *m, float *v, size_t n)
{
    float bc1 = 1.0f - powf(o->beta1, (float)step), bc2 = 1.0f - powf(o->beta2, (float)step);
    float step_size = o->lr / bc1, bc2_sqrt = sqrtf(bc2);
    NN_PAR_FOR(n)
    for (size_t i = 0; i < n; i++) {
        p[i] *= 1.0f - o->lr * o->weight_decay;
        m[i] = m[i] * o->beta1 + (1.0f - o->beta1) * g[i];
        v[i] = v[i] * o->beta2 + (1.0f - o->beta2) * g[i] * g[i];
        float denom = sqrtf(v[i]) / bc2_sqrt + o->eps;
        p[i] -= step_size * m[i] / denom;
    }
}

/* Fixed chunks summed one per thread, then the chunk sums in order: the same result whatever
 * the thread count. */
#define SUMSQ_CHUNK 16384

double nn_sum_squares(const float *x, size_t n)
{
    size_t chunks = (n + SUMSQ_CHUNK - 1) / SUMSQ_CHUNK;
    double small[64], *part = chunks <= 64 ? small : malloc(sizeof(double) * chunks);
    if (!part) { /* out of memory: the serial sum, the same order as one chunk after another */
        double s = 0;
        for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
        return s;
    }
    NN_PAR_FOR(n)
    for (size_t c = 0; c < chunks; c++) {
        size_t end = (c + 1) * SUMSQ_CHUNK < n ? (c + 1) * SUMSQ_CHUNK : n;
        double s = 0;
        for (size_t i = c * SUMSQ_CHUNK; i < end; i++) s += (double)x[i] * x[i];
        part[c] = s;
    }
    double total = 0;
    for (size_t c = 0; c < chunks; c++) total += part[c];
    if (part != small) free(part);
    return total;
}

static double hz_to_mel(double f)
{
    const double f_sp = 200.0 / 3, min_log_hz = 1000.0, logstep = log(6.4) / 27.0;
    return f < min_log_hz ? f / f_sp : min_log_hz / f_sp + log(f / min_log_hz) / logstep;
}

static double mel_to_hz(double m)
{
    const double f_sp = 200.0 / 3, min_log_mel = 1000.0 / f_sp, logstep = log(6.4) / 27.0;
    return m < min_log_mel ? m * f_sp : 1000.0 * exp(logstep * (m - min_log_mel));
}

int nn_mel_filterbank_slaney(float *fb, int sr, int n_fft, int n_mels, double fmin, double fmax)
{
    int bins = n_fft / 2 + 1;
    double *mel_f = malloc(sizeof(double) * (size_t)(n_mels + 2));
    if (!mel_f) return -1;
    double lo = hz_to_mel(fmin), hi = hz_to_mel(fmax);
    for (int i = 0; i < n_mels + 2; i++) mel_f[i] = mel_to_hz(lo + (hi - lo) * i / (n_mels + 1));
    for (int i = 0; i < n_mels; i++) {
        double enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        for (int k = 0; k < bins; k++) {
            double f = (double)sr / 2 * k / (bins - 1);
            double lower = -(mel_f[i] - f) / (mel_f[i + 1] - mel_f[i]);
            double upper = (mel_f[i + 2] - f) / (mel_f[i + 2] - mel_f[i + 1]);
            double w = lower < upper ? lower : upper;
            fb[(size_t)i * bins + k] = (float)((w > 0 ? w : 0) * enorm);
        }
    }
    free(mel_f);
    return 0;
}
