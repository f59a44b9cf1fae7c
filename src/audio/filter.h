/*
 * IIR filtering with scipy.signal semantics: Butterworth design (butter, via zpk and the
 * bilinear transform), causal filtering (lfilter from rest) and zero-phase filtering (filtfilt with
 * odd extension and lfilter_zi initial conditions). RVC high-passes every input at 48 Hz with a
 * 5th-order Butterworth: zero-phase when converting, causal when preparing a training set.
 */
#ifndef VC_AUDIO_FILTER_H
#define VC_AUDIO_FILTER_H

#include <stddef.h>

#include "base/error.h"

#define IIR_MAX_ORDER 8

/* High-pass Butterworth of order n (≤ IIR_MAX_ORDER): b[n+1], a[n+1] with a[0] = 1. */
void iir_butter_highpass(int order, double cutoff_hz, double fs, double *b, double *a);

/* y = lfilter(b, a, x) with zero initial state (x and y may alias); order = len(a) − 1. */
void iir_lfilter(const double *b, const double *a, int order, const double *x, size_t n, double *y);

/* y = filtfilt(b, a, x) (x and y may alias); order = len(a) − 1. */
int iir_filtfilt(const double *b, const double *a, int order, const double *x, size_t n, double *y, vc_error *err);

#endif
