/* Butterworth design and filtfilt (see filter.h), following scipy.signal step by step. */
#include "audio/filter.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* coefficients of prod (x − r_i), highest power first; real parts only (conjugate pairs) */
static void poly(const double complex *roots, int n, double *out)
{
    double complex c[IIR_MAX_ORDER + 1] = {1};
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j > 0; j--) c[j] -= roots[i] * c[j - 1];
    for (int i = 0; i <= n; i++) out[i] = creal(c[i]);
}

void iir_butter_highpass(int order, double cutoff_hz, double fs, double *b, double *a)
{
    double complex p[IIR_MAX_ORDER] = {0}, z[IIR_MAX_ORDER] = {0};
    double warped = 4.0 * tan(M_PI * (2.0 * cutoff_hz / fs) / 2.0); /* scipy normalises fs to 2 */
    double complex prod_p = 1, prod_zb = 1, prod_pb = 1;
    for (int k = 0; k < order; k++) {
        double complex analog = -cexp(I * M_PI * (double)(-order + 1 + 2 * k) / (2.0 * order)); /* buttap */
        p[k] = warped / analog;                                                                   /* lp2hp */
        prod_p *= -analog; /* lp2hp's gain uses the prototype poles */
        z[k] = 0; /* lp2hp puts all zeros at the origin */
    }
    double gain = creal(1.0 / prod_p);
    for (int k = 0; k < order; k++) { prod_zb *= 4.0 - z[k]; prod_pb *= 4.0 - p[k]; }
    gain *= creal(prod_zb / prod_pb);
    for (int k = 0; k < order; k++) { z[k] = (4.0 + z[k]) / (4.0 - z[k]); p[k] = (4.0 + p[k]) / (4.0 - p[k]); } /* bilinear */
    poly(z, order, b);
    poly(p, order, a);
    for (int i = 0; i <= order; i++) b[i] *= gain;
}

/* Steady-state initial conditions for a unit step (scipy.signal.lfilter_zi). */
static int lfilter_zi(const double *b, const double *a, int order, double *zi)
{
    int n = order;
    double m[IIR_MAX_ORDER][IIR_MAX_ORDER + 1];
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            double companion_t = (j == 0) ? -a[i + 1] : (i == j - 1 ? 1.0 : 0.0); /* companion(a).T[i][j] */
            m[i][j] = (i == j ? 1.0 : 0.0) - companion_t;
        }
        m[i][n] = b[i + 1] - a[i + 1] * b[0];
    }
    for (int c = 0; c < n; c++) { /* Gaussian elimination with partial pivoting */
        int piv = c;
        for (int r = c + 1; r < n; r++) if (fabs(m[r][c]) > fabs(m[piv][c])) piv = r;
        if (fabs(m[piv][c]) < 1e-300) return -1;
        for (int j = 0; j <= n; j++) { double t = m[c][j]; m[c][j] = m[piv][j]; m[piv][j] = t; }
        for (int r = 0; r < n; r++) {
            if (r == c) continue;
            double f = m[r][c] / m[c][c];
            for (int j = c; j <= n; j++) m[r][j] -= f * m[c][j];
        }
    }
    for (int i = 0; i < n; i++) zi[i] = m[i][n] / m[i][i];
    return 0;
}

/* Direct form II transposed, state z[order] updated in place. */
static void lfilter(const double *b, const double *a, int order, const double *x, size_t n, double *y, double *z)
{
    for (size_t i = 0; i < n; i++) {
        double xi = x[i], yi = b[0] * xi + z[0];
        for (int k = 0; k < order - 1; k++) z[k] = b[k + 1] * xi + z[k + 1] - a[k + 1] * yi;
        z[order - 1] = b[order] * xi - a[order] * yi;
        y[i] = yi;
    }
}

void iir_lfilter(const double *b, const double *a, int order, const double *x, size_t n, double *y)
{
    double z[IIR_MAX_ORDER] = {0};
    lfilter(b, a, order, x, n, y, z);
}

static void reverse(double *x, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) { double t = x[i]; x[i] = x[n - 1 - i]; x[n - 1 - i] = t; }
}

int iir_filtfilt(const double *b, const double *a, int order, const double *x, size_t n, double *y, vc_error *err)
{
    size_t pad = 3 * (size_t)(order + 1), len = n + 2 * pad;
    if (n <= pad) return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "audio too short to filter (%zu samples)", n);
    double *ext = malloc(sizeof(double) * len), *tmp = malloc(sizeof(double) * len), zi[IIR_MAX_ORDER], z[IIR_MAX_ORDER];
    if (!ext || !tmp || lfilter_zi(b, a, order, zi) != 0) { free(ext); free(tmp); return vc_fail(err, VC_ERR_INTERNAL, "filter design failed"); }
    for (size_t i = 0; i < pad; i++) {
        ext[i] = 2 * x[0] - x[pad - i];                  /* odd extension */
        ext[pad + n + i] = 2 * x[n - 1] - x[n - 2 - i];
    }
    memcpy(ext + pad, x, sizeof(double) * n);
    for (int k = 0; k < order; k++) z[k] = zi[k] * ext[0];
    lfilter(b, a, order, ext, len, tmp, z);
    reverse(tmp, len);
    for (int k = 0; k < order; k++) z[k] = zi[k] * tmp[0];
    lfilter(b, a, order, tmp, len, ext, z);
    reverse(ext, len);
    memmove(y, ext + pad, sizeof(double) * n);
    free(ext); free(tmp);
    return 0;
}
