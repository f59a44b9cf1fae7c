/*
 * The engine's compute seam. Every convolution, transposed convolution and matrix product of
 * every model and of the training tape goes through the backend of an nn_ctx: a table of
 * operations (nn_backend) plus the state that table keeps (primitive cache, scratch arena),
 * a thread budget and a precision. The CPU backend (src/nn/cpu/) is the only code that
 * includes oneDNN's or a BLAS header; a GPU backend would be one more table (docs/ENGINE.md).
 *
 * Contexts: an engine owner (a model instance, a job, a test) may create its own with
 * nn_ctx_create and bind it to the thread that runs it (nn_ctx_bind). A thread that runs ops
 * without binding one gets its own lazily created context, freed when the thread exits. That
 * keeps the op functions' signatures stable (nn_conv1d, nn_linear, ag_conv …) while models move
 * onto the seam; a context is used by one thread at a time.
 *
 * Layouts: activations are plain row-major float32, either time-major ("channels last",
 * [N][H][W][C], what the inference models use: [T, C]) or channel-major ([N][C][H][W], the
 * tape's [B, C, T, W]). Weights keep PyTorch's layouts. The backend converts weights into the
 * format its kernels want and keeps activations in the caller's layout.
 */
#ifndef VC_NN_BACKEND_H
#define VC_NN_BACKEND_H

#include <stddef.h>

#include "base/error.h"

typedef enum nn_precision {
    NN_PREC_FP32 = 0, /* float32 everywhere (the default; golden cases are checked in it) */
    NN_PREC_BF16,     /* bf16 weights and inputs of convolutions/matmuls, float32 accumulate and output */
} nn_precision;

typedef enum nn_layout {
    NN_LAYOUT_CHANNELS_LAST = 0, /* [N][H][W][C]: time-major sequences [T, C] (H = 1, W = T) */
    NN_LAYOUT_CHANNELS_FIRST,    /* [N][C][H][W]: the tape's [B, C, T, W] (H = T) */
    NN_LAYOUT_NATIVE,            /* the backend's own blocked layout, [N][C/b][H][W][b] with b = nn_native_block():
                                    what its kernels read and write without conversion. Only for channel counts
                                    that b divides; element-wise ops work on it as on any flat array. */
} nn_layout;

/* A 2-D convolution (1-D ones set the unused axis to size 1, kernel 1). Weights in PyTorch's
 * layout: [c_out, c_in/groups, kh, kw], or [c_in, c_out/groups, kh, kw] when transposed.
 * For a transposed convolution, pad_r already subtracts PyTorch's output_padding. */
typedef struct nn_conv_spec {
    int n, c_in, c_out, groups;
    int in_h, in_w;
    int kh, kw, stride_h, stride_w, dil_h, dil_w;
    int pad_t, pad_b, pad_l, pad_r;
    int transposed;
    nn_layout layout;
    /* The output in NN_LAYOUT_NATIVE while the input is in `layout` (a 1-channel source mixed
     * into a blocked stage: no conversion of the output). c_out must be a multiple of the block. */
    int out_native;
    /* Fused after the convolution and its bias, before any accumulation: LeakyReLU with this
     * slope when post_lrelu is set (0 = ReLU). Saves one pass over the output. */
    int post_lrelu;
    float lrelu_slope;
} nn_conv_spec;

int nn_conv_spec_out_h(const nn_conv_spec *s);
int nn_conv_spec_out_w(const nn_conv_spec *s);

typedef struct nn_ctx nn_ctx;

/* One convolution shape as a model ran it (nn_backend.profile_stats). */
typedef struct nn_op_stat {
    char what[200];       /* shape, layout, precision and the kernel oneDNN chose */
    long calls;
    double gflop;         /* per call */
    double seconds;       /* all calls, each the whole backend call: the seam's conversions included */
    double alone_seconds; /* one call of the same primitive alone on data already in its formats */
} nn_op_stat;

/* The process's thread budget, shared by concurrent engine users (the job lanes): each op of a
 * context that joined it runs on max(1, total / active) threads, so two conversions on a 2-core
 * machine run one thread each instead of four busy threads fighting for two cores. */
typedef struct nn_budget {
    int total;  /* cores to share (nn_pool_default_threads()) */
    int active; /* contexts running right now (atomic) */
} nn_budget;

void nn_budget_init(nn_budget *b, int total);
void nn_budget_join(nn_budget *b, nn_ctx *c);  /* c may be NULL (no context: nothing to do) */
void nn_budget_leave(nn_budget *b, nn_ctx *c);

/* The operation table of a backend. Each returns 0 or -1 with err set (out of memory, a shape
 * the backend cannot run). Gradients are accumulated (+=) like the tape's. */
typedef struct nn_backend {
    const char *name;
    /* out = conv(in, w) + b (b may be NULL); accumulate: out += instead of =. */
    int (*conv_forward)(nn_ctx *c, const nn_conv_spec *s, float *out, const float *in, const float *w,
                        const float *b, int accumulate, vc_error *err);
    /* g_in += conv_backward_data(g_out, w) */
    int (*conv_backward_data)(nn_ctx *c, const nn_conv_spec *s, float *g_in, const float *g_out, const float *w,
                              vc_error *err);
    /* g_w += dL/dw, g_b += dL/db (either may be NULL) */
    int (*conv_backward_weights)(nn_ctx *c, const nn_conv_spec *s, float *g_w, float *g_b, const float *in,
                                 const float *g_out, vc_error *err);
    /* Row-major C[M,N] = alpha·op(A)·op(B) + beta·C with leading dimensions (BLAS sgemm semantics). */
    void (*gemm)(nn_ctx *c, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc);
    /* out[rows, n_out] = in[rows, n_in]·wᵀ + b (b may be NULL) where w is a model weight: while a
     * weight cache is active (wcache.h) the backend may keep w converted for its kernels. Cannot
     * fail: where a faster kernel has no memory or no implementation, the plain GEMM runs. */
    void (*linear)(nn_ctx *c, float *out, const float *in, const float *w, const float *b, int rows, int n_in,
                   int n_out);
    /* The same in float64 (the training loss's DFT runs in double, as its reference does). */
    void (*gemm_f64)(nn_ctx *c, int trans_a, int trans_b, int M, int N, int K, double alpha, const double *A, int lda,
                     const double *B, int ldb, double beta, double *C, int ldc);
    /* Whether the backend's kernels compute bf16 natively on this machine (ctx may be NULL). */
    int (*has_bf16)(nn_ctx *c);
    /* The channel block b of NN_LAYOUT_NATIVE (16 where the CPU has AVX-512, else 8). */
    int (*native_block)(nn_ctx *c);
    /* dst (native, n frames) = frames [from, from + n) of the time-major src [T, C] (C a multiple of b). */
    void (*seq_to_native)(nn_ctx *c, float *dst, const float *src, int C, int from, int n);
    /* dst[to + t] = frame from + t of the native src (T frames), t < n, into time-major dst [·, C]. */
    void (*seq_from_native)(nn_ctx *c, float *dst, int to, const float *src, int T, int C, int from, int n);
    /* Per-convolution statistics (bench only): profile(c, 1) clears and starts counting every
     * forward convolution of c by primitive; profile_stats lists what was counted, each with
     * its primitive timed alone (see nn_op_stat). *out is malloc'd, the caller frees it. */
    void (*profile)(nn_ctx *c, int on);
    int (*profile_stats)(nn_ctx *c, nn_op_stat **out, int *n, vc_error *err);
    /* Frees the backend state of a context. */
    void (*release)(nn_ctx *c);
} nn_backend;

struct nn_ctx {
    const nn_backend *be;
    void *be_state;        /* owned by the backend */
    int threads;           /* threads when the context has no budget */
    nn_budget *budget;     /* when set, threads = the budget's share (nn_ctx_threads) */
    nn_precision precision;
    struct nn_wcache *wcache; /* the running model's weight-format cache (nn/wcache.h), or NULL */
};

/* A context on the CPU backend with `threads` threads (≤ 0: nn_threads_default()). */
int nn_ctx_create(nn_ctx **out, int threads, nn_precision precision, vc_error *err);
void nn_ctx_free(nn_ctx *c);
/* The context ops on this thread use: the bound one, else this thread's own (created on first
 * use). Never NULL unless out of memory at first use, which ops report as an error. */
nn_ctx *nn_ctx_current(void);
/* Binds c to the calling thread (NULL unbinds); returns the previous binding. */
nn_ctx *nn_ctx_bind(nn_ctx *c);
void nn_ctx_set_threads(nn_ctx *c, int threads);
/* The threads an op of c runs on now. */
int nn_ctx_threads(const nn_ctx *c);
void nn_ctx_set_precision(nn_ctx *c, nn_precision p);

/* ---- precision settings ---- */
/* "fp32" | "bf16" | "auto" → 0/1/2; -1 for anything else. */
int nn_precision_parse(const char *s);
const char *nn_precision_name(nn_precision p);
/* Whether this CPU runs bf16 dot products natively (AVX512-BF16 or AMX) and the CPU backend
 * uses them (DNNL_MAX_CPU_ISA can cap it below what the CPU has). */
int nn_cpu_has_bf16(void);
/* The CPU's best vector ISA as our benches print it: "amx", "avx512_bf16", "avx512", "avx2" or "baseline". */
const char *nn_cpu_isa(void);

/* The precision a model runs at on this machine: VCS_PRECISION (set by the CLI's --precision)
 * "fp32" (default) → fp32; "bf16" → bf16 where the CPU has it natively, else fp32; "auto" →
 * bf16 for the models whose measured bf16 error is harmless (docs/PERFORMANCE.md), fp32 for the
 * rest. model: "rvc_synth", "vocos", "hubert", "rmvpe", "f5tts_dit". */
nn_precision nn_precision_for(const char *model);
/* The setting itself as a string ("fp32", "bf16", "auto"), for /api/system. */
const char *nn_precision_setting(void);
/* Runs the current context at nn_precision_for(model) until nn_precision_leave. */
typedef struct nn_precision_scope { nn_ctx *ctx; nn_precision prev; } nn_precision_scope;
nn_precision_scope nn_precision_enter(const char *model);
void nn_precision_leave(nn_precision_scope s);

/* Makes a model's weight-format cache (nn/wcache.h) the current context's until
 * nn_wcache_leave: weights given to convolutions meanwhile are converted once and kept. */
typedef struct nn_wcache_scope { nn_ctx *ctx; struct nn_wcache *prev; } nn_wcache_scope;
nn_wcache_scope nn_wcache_enter(struct nn_wcache *wc);
void nn_wcache_leave(nn_wcache_scope s);

/* ---- convenience wrappers over nn_ctx_current() ---- */
int nn_conv(const nn_conv_spec *s, float *out, const float *in, const float *w, const float *b, int accumulate,
            vc_error *err);
int nn_conv_bwd_data(const nn_conv_spec *s, float *g_in, const float *g_out, const float *w, vc_error *err);
int nn_conv_bwd_weights(const nn_conv_spec *s, float *g_w, float *g_b, const float *in, const float *g_out,
                        vc_error *err);
/* NN_LAYOUT_NATIVE's channel block on the current context, and the conversions of time-major
 * sequences into and out of it (see nn_backend). */
int nn_native_block(void);
void nn_seq_to_native(float *dst, const float *src, int C, int from, int n);
void nn_seq_from_native(float *dst, int to, const float *src, int T, int C, int from, int n);

/* Row-major sgemm through the current context (trans flags 0/1). */
void nn_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
             int ldb, float beta, float *C, int ldc);

void nn_gemm_f64(int trans_a, int trans_b, int M, int N, int K, double alpha, const double *A, int lda,
                 const double *B, int ldb, double beta, double *C, int ldc);

/* The CPU backend's table (src/nn/cpu/cpu_backend.c). */
extern const nn_backend nn_cpu_backend;

#endif
