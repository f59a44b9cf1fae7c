/*
 * Building blocks shared by the models, written against plain float arrays with explicit
 * dimensions (llm.c style). Activations are time-major: a sequence is [T, C] row-major, the
 * layout of PyTorch's [batch, seq, dim] at batch 1. Weights keep PyTorch's layouts: Linear
 * [out, in]. Matrix products go to the engine backend (nn_gemm); convolutions are in conv.h; nothing here
 * allocates except where a scratch size is documented.
 */
#ifndef VC_NN_LAYERS_H
#define VC_NN_LAYERS_H

#include <stddef.h>

/* out[rows, n_out] = in[rows, n_in] · wᵀ + b, w is [n_out, n_in] (PyTorch Linear); b may be NULL.
 * w is a model weight: while the model's weight cache is active (wcache.h), bf16 runs keep it
 * converted once. A weight computed at run time goes through nn_gemm instead. */
void nn_linear(float *out, const float *in, const float *w, const float *b, int rows, int n_in, int n_out);

/* Layer norm over the last axis of x[rows, dim] (biased variance); gamma/beta may be NULL. In place
 * allowed. Long inputs run on the engine context's threads, one row per thread at a time. */
void nn_layer_norm(float *out, const float *x, int rows, int dim, const float *gamma, const float *beta, float eps);

void nn_silu(float *x, size_t n);
void nn_mish(float *x, size_t n);
void nn_gelu_erf(float *x, size_t n);
void nn_gelu_tanh(float *x, size_t n);
/* x < 0 → slope·x (LeakyReLU); in place. Long vectors run on the engine context's threads. */
void nn_leaky_relu(float *x, size_t n, float slope);
/* op (an element-wise op below, serial) over x in blocks on the current engine context's threads
 * (OpenMP). For the models' own threads; pool workers use nn_apply_par instead, so that no pool
 * thread starts an OpenMP team of its own. */
void nn_apply(void (*op)(float *x, size_t n), float *x, size_t n);
/* dst = LeakyReLU(src), out of place (saves the copy when the input is still needed). */
void nn_leaky_relu_to(float *dst, const float *src, size_t n, float slope);
/* dst[i] += src[i]; long vectors run on the engine context's threads. */
void nn_add_inplace(float *dst, const float *src, size_t n);
/* 1/(1 + e^−x) and tanh, scalar libm (used on short vectors: RMVPE's salience, RVC's output). */
void nn_sigmoid(float *x, size_t n);
void nn_tanh(float *x, size_t n);

/* Softmax over each row of x[rows, cols], in place. */
void nn_softmax_rows(float *x, int rows, int cols);

/* Multi-head attention without mask: q, k, v [T, heads·dh] → out [T, heads·dh];
 * softmax(q kᵀ · scale) v per head. scratch: nn_attention_scratch(T, dh) = T·T floats (one
 * head's scores at a time; q, k, v are read in place, so no per-head copies). */
void nn_attention(float *out, const float *q, const float *k, const float *v, int T, int heads, int dh, float scale,
                  float *scratch);
size_t nn_attention_scratch(int T, int dh);

/* ---- the same over an engine's thread pool (pool.h; NULL = serial). Each row / element is
 * computed by one thread with the serial code, so results equal the serial ones exactly. ---- */
struct nn_pool;
void nn_layer_norm_par(struct nn_pool *p, float *out, const float *x, int rows, int dim, const float *gamma,
                       const float *beta, float eps);
void nn_softmax_rows_par(struct nn_pool *p, float *x, int rows, int cols);
/* An in-place element-wise op (nn_gelu_tanh, nn_gelu_erf, nn_silu …) over n values. */
void nn_apply_par(struct nn_pool *p, void (*op)(float *x, size_t n), float *x, size_t n);
void nn_attention_par(struct nn_pool *p, float *out, const float *q, const float *k, const float *v, int T, int heads,
                      int dh, float scale, float *scratch);

#endif
