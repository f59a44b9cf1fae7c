/*
 * Golden-case comparison (contract: nn/golden.h). One printed line per tensor:
 *   name max_abs max_rel PASS|FAIL snr_db=S
 * max_rel is max |a-b| / max(|b|, 1e-12) over the elements; the verdict uses the case's own
 * criterion |a-b| <= atol + rtol*|b| elementwise.
 */
#include "nn/golden.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void golden_tolerance(const json_t *config, const char *name, double *atol, double *rtol)
{
    const json_t *tol = json_object_get(config, "tolerance");
    const json_t *src = json_is_object(tol) ? tol : config;
    *atol = json_is_number(json_object_get(src, "atol")) ? json_number_value(json_object_get(src, "atol")) : 1e-4;
    *rtol = json_is_number(json_object_get(src, "rtol")) ? json_number_value(json_object_get(src, "rtol")) : 1e-4;
    /* most specific first: per_tensor_tolerance[name], tolerance[name], tolerance[stage prefix] */
    const json_t *per = json_object_get(json_object_get(config, "per_tensor_tolerance"), name);
    if (!json_is_object(per) && json_is_object(tol)) per = json_object_get(tol, name);
    if (!json_is_object(per) && json_is_object(tol)) {
        char prefix[128];
        snprintf(prefix, sizeof prefix, "%s", name);
        char *dot = strchr(prefix, '.');
        if (dot) *dot = '\0';
        per = json_object_get(tol, prefix);
    }
    if (json_is_object(per)) {
        if (json_is_number(json_object_get(per, "atol"))) *atol = json_number_value(json_object_get(per, "atol"));
        if (json_is_number(json_object_get(per, "rtol"))) *rtol = json_number_value(json_object_get(per, "rtol"));
    }
}

static int64_t tensor_numel(const nn_tensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
    return n;
}

static double expected_value(const nn_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case NN_F32: return ((const float *)t->data)[i];
    case NN_I64: return (double)((const int64_t *)t->data)[i];
    case NN_I32: return ((const int32_t *)t->data)[i];
    case NN_I16: return ((const int16_t *)t->data)[i];
    default: return NAN;
    }
}

double golden_max_abs(const nn_tensor *t)
{
    double m = 0;
    int64_t n = t ? tensor_numel(t) : 0;
    for (int64_t i = 0; i < n; i++) {
        double v = fabs(expected_value(t, i));
        if (v > m) m = v;
    }
    return m;
}

int golden_compare(golden_report *r, const char *name, const float *got, int64_t numel, const nn_tensor *expected,
                   double atol, double rtol)
{
    FILE *out = r->out ? r->out : stdout;
    if (!expected || tensor_numel(expected) != numel) {
        fprintf(out, "%s size %lld vs expected %lld FAIL\n", name, (long long)numel,
                expected ? (long long)tensor_numel(expected) : -1ll);
        r->failed++;
        return 0;
    }
    double max_abs = 0, max_rel = 0, signal = 0, noise = 0;
    int64_t n_bad = 0;
    for (int64_t i = 0; i < numel; i++) {
        double b = expected_value(expected, i), a = got[i];
        if (isnan(a) || isnan(b)) { n_bad += isnan(a) != isnan(b); continue; }
        if (isinf(a) || isinf(b)) { n_bad += a != b; continue; }
        double d = fabs(a - b);
        signal += b * b;
        noise += d * d;
        if (d > max_abs) max_abs = d;
        double rel = d / fmax(fabs(b), 1e-12);
        if (rel > max_rel) max_rel = rel;
        n_bad += d > atol + rtol * fabs(b);
    }
    int ok = n_bad == 0;
    /* signal-to-error ratio of the whole tensor: how far a lower precision moves an output */
    double snr = noise > 0 ? 10 * log10(signal / noise) : INFINITY;
    if (ok) fprintf(out, "%s %.3g %.3g PASS snr_db=%.1f\n", name, max_abs, max_rel, snr);
    else fprintf(out, "%s %.3g %.3g FAIL (%lld of %lld outside tolerance) snr_db=%.1f\n", name, max_abs, max_rel,
                 (long long)n_bad, (long long)numel, snr);
    if (ok) r->passed++; else r->failed++;
    return ok;
}

int golden_check(golden_report *r, const json_t *config, const nn_weights *expected, const char *name,
                 const float *got, int64_t numel)
{
    double atol, rtol;
    golden_tolerance(config, name, &atol, &rtol);
    return golden_compare(r, name, got, numel, nn_weights_get(expected, name), atol, rtol);
}

float *golden_transposed(const float *x, int rows, int cols)
{
    float *t = malloc(sizeof(float) * (size_t)rows * cols + 1);
    if (t)
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < cols; k++) t[(size_t)k * rows + r] = x[(size_t)r * cols + k];
    return t;
}

void golden_missing(golden_report *r, const char *name, const char *why)
{
    fprintf(r->out ? r->out : stdout, "%s - - FAIL (%s)\n", name, why);
    r->failed++;
}
