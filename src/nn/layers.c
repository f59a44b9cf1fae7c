/*
 * CPU implementations of the shared layers (see layers.h). Matrix products (linear,
 * attention) go to the engine's backend (nn_gemm, backend.h), which brings its own threads;
 * the remaining element-wise loops are memory-bound and cheap next to the GEMMs of a
 * transformer.
 */
#include "nn/layers.h"
#include "nn/backend.h"
#include "nn/par.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "nn/pool.h"

void nn_linear(float *out, const float *in, const float *w, const float *b, int rows, int n_in, int n_out)
{
    nn_ctx *c = nn_ctx_current();
    /* Out of memory at a thread's very first op: still compute, on one thread without a context. */
    (c ? c->be : &nn_cpu_backend)->linear(c, out, in, w, b, rows, n_in, n_out);
}

static void layer_norm_rows(float *out, const float *x, int rows, int dim, const float *gamma, const float *beta,
                            float eps)
{
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * dim;
        float *o = out + (size_t)r * dim;
        double mean = 0, var = 0;
        for (int i = 0; i < dim; i++) mean += xr[i];
        mean /= dim;
        for (int i = 0; i < dim; i++) var += (xr[i] - mean) * (xr[i] - mean);
        var /= dim;
        float inv = (float)(1.0 / sqrt(var + eps));
        for (int i = 0; i < dim; i++) {
            float y = (xr[i] - (float)mean) * inv;
            o[i] = (gamma ? y * gamma[i] : y) + (beta ? beta[i] : 0.0f);
        }
    }
}

/* Element-wise ops over long signals (HiFi-GAN's 480 k × 32 activations) are threaded: nn/par.h. */

/* Rows are independent: each is normalised by one thread with the serial code. */
void nn_layer_norm(float *out, const float *x, int rows, int dim, const float *gamma, const float *beta, float eps)
{
#ifdef _OPENMP
    if (nn_par_threads((size_t)rows * dim) > 1) {
        NN_PAR_FOR((size_t)rows * dim)
        for (int r = 0; r < rows; r++)
            layer_norm_rows(out + (size_t)r * dim, x + (size_t)r * dim, 1, dim, gamma, beta, eps);
        return;
    }
#endif
    layer_norm_rows(out, x, rows, dim, gamma, beta, eps);
}

/* Blocks of NN_OMP_BLOCK elements (whole cache lines) per iteration of nn_apply. */
#define NN_OMP_BLOCK 4096

void nn_apply(void (*op)(float *x, size_t n), float *x, size_t n)
{
    size_t blocks = (n + NN_OMP_BLOCK - 1) / NN_OMP_BLOCK;
    NN_PAR_FOR(n)
    for (size_t i = 0; i < blocks; i++) {
        size_t b = i * NN_OMP_BLOCK, len = n - b < NN_OMP_BLOCK ? n - b : NN_OMP_BLOCK;
        op(x + b, len);
    }
}

void nn_leaky_relu(float *x, size_t n, float slope)
{
    NN_PAR_FOR(n)
    for (size_t i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : x[i] * slope;
}

void nn_leaky_relu_to(float *dst, const float *src, size_t n, float slope)
{
    NN_PAR_FOR(n)
    for (size_t i = 0; i < n; i++) dst[i] = src[i] > 0 ? src[i] : src[i] * slope;
}

void nn_add_inplace(float *dst, const float *src, size_t n)
{
    NN_PAR_FOR(n)
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

void nn_sigmoid(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = 1.0f / (1.0f + expf(-x[i]));
}

void nn_tanh(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = tanhf(x[i]);
}

void nn_mish(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float sp = x[i] > 20.0f ? x[i] : log1pf(expf(x[i])); /* softplus, PyTorch threshold 20 */
        x[i] = x[i] * tanhf(sp);
    }
}

void nn_gelu_erf(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

/* exp for 8 floats (x ≤ 0 here): 2^(x·log2 e) split into 2^n · 2^f, 2^f by a degree-6
 * polynomial on [−0.5, 0.5]; relative error ≈ 2e-7, close to expf's. Inputs below −87 give 0. */
static __m256 exp8(__m256 x)
{
    const __m256 log2e = _mm256_set1_ps(1.44269504088896341f), lo = _mm256_set1_ps(-87.0f);
    __m256 valid = _mm256_cmp_ps(x, lo, _CMP_GE_OQ);
    __m256 t = _mm256_mul_ps(_mm256_max_ps(x, lo), log2e);
    __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 f = _mm256_sub_ps(t, n);
    __m256 p = _mm256_set1_ps(1.535336188319500e-4f);
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.339887440266574e-3f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(9.618437357674640e-3f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.550332471162809e-2f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.402264791363012e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(6.931472028550421e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), valid);
}

/* x / (1 + e^(−a)) for 8 lanes: x·sigmoid(a). a is clamped to ±87 so e^(−a) stays finite; the
 * result is then exactly x or 0 to float precision, as the limits are. */
static __m256 times_sigmoid8(__m256 x, __m256 a)
{
    const __m256 lim = _mm256_set1_ps(87.0f), one = _mm256_set1_ps(1.0f);
    __m256 na = _mm256_min_ps(_mm256_max_ps(_mm256_sub_ps(_mm256_setzero_ps(), a), _mm256_sub_ps(_mm256_setzero_ps(), lim)), lim);
    return _mm256_div_ps(x, _mm256_add_ps(one, exp8(na)));
}

void nn_silu(float *x, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        _mm256_storeu_ps(x + i, times_sigmoid8(v, v));
    }
    for (; i < n; i++) x[i] = x[i] / (1.0f + expf(-x[i]));
}

/* 0.5·x·(1 + tanh(u)) = x·sigmoid(2u), u = √(2/π)(x + 0.044715x³): one exp, no tanh. */
void nn_gelu_tanh(float *x, size_t n)
{
    const float c = 0.7978845608028654f; /* sqrt(2/pi) */
    const __m256 c2 = _mm256_set1_ps(2.0f * c), k = _mm256_set1_ps(0.044715f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 u2 = _mm256_mul_ps(c2, _mm256_fmadd_ps(_mm256_mul_ps(k, v), _mm256_mul_ps(v, v), v));
        _mm256_storeu_ps(x + i, times_sigmoid8(v, u2));
    }
    for (; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + tanhf(c * (x[i] + 0.044715f * x[i] * x[i] * x[i])));
}

/* Row maximum with AVX2 (8 lanes, then the tail): the first of softmax's three passes. */
static float row_max(const float *row, int cols)
{
    int i = 0;
    float mx = row[0];
    if (cols >= 8) {
        __m256 v = _mm256_loadu_ps(row);
        for (i = 8; i + 8 <= cols; i += 8) v = _mm256_max_ps(v, _mm256_loadu_ps(row + i));
        float lanes[8];
        _mm256_storeu_ps(lanes, v);
        for (int k = 0; k < 8; k++) mx = lanes[k] > mx ? lanes[k] : mx;
    }
    for (; i < cols; i++) mx = row[i] > mx ? row[i] : mx;
    return mx;
}

void nn_softmax_rows(float *x, int rows, int cols)
{
    for (int r = 0; r < rows; r++) {
        float *row = x + (size_t)r * cols;
        float mx = row_max(row, cols);
        __m256 vmx = _mm256_set1_ps(mx), vsum = _mm256_setzero_ps();
        int i = 0;
        for (; i + 8 <= cols; i += 8) {
            __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(row + i), vmx));
            _mm256_storeu_ps(row + i, e);
            vsum = _mm256_add_ps(vsum, e);
        }
        float lanes[8], sum = 0;
        _mm256_storeu_ps(lanes, vsum);
        for (int k = 0; k < 8; k++) sum += lanes[k];
        for (; i < cols; i++) { row[i] = expf(row[i] - mx); sum += row[i]; }
        __m256 vinv = _mm256_set1_ps(1.0f / sum);
        for (i = 0; i + 8 <= cols; i += 8) _mm256_storeu_ps(row + i, _mm256_mul_ps(_mm256_loadu_ps(row + i), vinv));
        for (float inv = 1.0f / sum; i < cols; i++) row[i] *= inv;
    }
}

size_t nn_attention_scratch(int T, int dh) { return (size_t)T * T; }

/* Each head reads its columns of q, k, v in place (lda = heads·dh): no per-head copies. The
 * softmax between the two GEMMs is split by rows over the pool. */
void nn_attention_par(nn_pool *p, float *out, const float *q, const float *k, const float *v, int T, int heads, int dh,
                      float scale, float *scratch)
{
    int width = heads * dh;
    float *scores = scratch;
    for (int h = 0; h < heads; h++) {
        size_t off = (size_t)h * dh;
        nn_gemm(0, 1, T, T, dh, scale, q + off, width, k + off, width, 0.0f, scores, T);
        nn_softmax_rows_par(p, scores, T, T);
        nn_gemm(0, 0, T, dh, T, 1.0f, scores, T, v + off, width, 0.0f, out + off,
                    width);
    }
}

void nn_attention(float *out, const float *q, const float *k, const float *v, int T, int heads, int dh, float scale,
                  float *scratch)
{
    nn_attention_par(NULL, out, q, k, v, T, heads, dh, scale, scratch);
}

/* ---- pool-parallel forms ---- */

typedef struct rows_task {
    float *out;
    const float *x;
    int cols;
    const float *gamma, *beta;
    float eps;
} rows_task;

static void layer_norm_range(void *ctx, int begin, int end)
{
    const rows_task *t = ctx;
    layer_norm_rows(t->out + (size_t)begin * t->cols, t->x + (size_t)begin * t->cols, end - begin, t->cols, t->gamma,
                    t->beta, t->eps);
}

void nn_layer_norm_par(nn_pool *p, float *out, const float *x, int rows, int dim, const float *gamma, const float *beta,
                       float eps)
{
    rows_task t = {out, x, dim, gamma, beta, eps};
    nn_pool_for(p, rows, 16, layer_norm_range, &t);
}

static void softmax_range(void *ctx, int begin, int end)
{
    const rows_task *t = ctx;
    nn_softmax_rows(t->out + (size_t)begin * t->cols, end - begin, t->cols);
}

void nn_softmax_rows_par(nn_pool *p, float *x, int rows, int cols)
{
    rows_task t = {x, x, cols, NULL, NULL, 0};
    nn_pool_for(p, rows, 16, softmax_range, &t);
}

/* elements in blocks of NN_APPLY_BLOCK: whole cache lines per thread, enough work per range */
#define NN_APPLY_BLOCK 4096

typedef struct apply_task {
    float *x;
    size_t n;
    void (*op)(float *x, size_t n);
} apply_task;

static void apply_range(void *ctx, int begin, int end)
{
    const apply_task *t = ctx;
    size_t b = (size_t)begin * NN_APPLY_BLOCK, e = (size_t)end * NN_APPLY_BLOCK;
    t->op(t->x + b, (e < t->n ? e : t->n) - b);
}

void nn_apply_par(nn_pool *p, void (*op)(float *x, size_t n), float *x, size_t n)
{
    apply_task t = {x, n, op};
    nn_pool_for(p, (int)((n + NN_APPLY_BLOCK - 1) / NN_APPLY_BLOCK), 4, apply_range, &t);
}
