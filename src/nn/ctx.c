/*
 * Engine contexts (see backend.h): creation, the per-thread binding, precision settings and
 * the op wrappers that dispatch through the current context's backend.
 */
#include "nn/backend.h"

#include <assert.h>
#include <cpuid.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nn/par.h"
#include "nn/pool.h"

int nn_conv_spec_out_h(const nn_conv_spec *s)
{
    if (s->transposed) return (s->in_h - 1) * s->stride_h - s->pad_t - s->pad_b + s->dil_h * (s->kh - 1) + 1;
    return (s->in_h + s->pad_t + s->pad_b - s->dil_h * (s->kh - 1) - 1) / s->stride_h + 1;
}

int nn_conv_spec_out_w(const nn_conv_spec *s)
{
    if (s->transposed) return (s->in_w - 1) * s->stride_w - s->pad_l - s->pad_r + s->dil_w * (s->kw - 1) + 1;
    return (s->in_w + s->pad_l + s->pad_r - s->dil_w * (s->kw - 1) - 1) / s->stride_w + 1;
}

int nn_ctx_create(nn_ctx **out, int threads, nn_precision precision, vc_error *err)
{
    nn_ctx *c = calloc(1, sizeof *c);
    if (!c) return vc_fail(err, VC_ERR_NOMEM, "out of memory (engine context)");
    c->be = &nn_cpu_backend;
    c->threads = threads > 0 ? threads : nn_pool_default_threads();
    c->precision = precision;
    *out = c;
    return 0;
}

void nn_ctx_free(nn_ctx *c)
{
    if (!c) return;
    if (c->be && c->be->release) c->be->release(c);
    free(c);
}

void nn_ctx_set_threads(nn_ctx *c, int threads) { c->threads = threads > 0 ? threads : nn_pool_default_threads(); }
void nn_ctx_set_precision(nn_ctx *c, nn_precision p) { c->precision = p; }

int nn_ctx_threads(const nn_ctx *c)
{
    if (!c) return 1;
    if (c->budget) {
        int active = __atomic_load_n(&c->budget->active, __ATOMIC_RELAXED);
        int share = c->budget->total / (active > 0 ? active : 1);
        return share > 0 ? share : 1;
    }
    return c->threads > 0 ? c->threads : 1;
}

int nn_par_threads(size_t work) { return work >= NN_PAR_MIN ? nn_ctx_threads(nn_ctx_current()) : 1; }

void nn_budget_init(nn_budget *b, int total)
{
    b->total = total > 0 ? total : nn_pool_default_threads();
    b->active = 0;
}

void nn_budget_join(nn_budget *b, nn_ctx *c)
{
    if (!c) return;
    __atomic_add_fetch(&b->active, 1, __ATOMIC_RELAXED);
    c->budget = b;
}

void nn_budget_leave(nn_budget *b, nn_ctx *c)
{
    if (!c || c->budget != b) return;
    __atomic_sub_fetch(&b->active, 1, __ATOMIC_RELAXED);
    c->budget = NULL;
}

/* ---- the per-thread binding: the only process-wide state is the pthread key itself ---- */

static pthread_key_t own_key, bound_key;
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;

static void free_own(void *p) { nn_ctx_free(p); }
static void make_keys(void)
{
    pthread_key_create(&own_key, free_own);
    pthread_key_create(&bound_key, NULL);
}

nn_ctx *nn_ctx_current(void)
{
    pthread_once(&keys_once, make_keys);
    nn_ctx *c = pthread_getspecific(bound_key);
    if (c) return c;
    c = pthread_getspecific(own_key);
    if (c) return c;
    vc_error err = {0};
    if (nn_ctx_create(&c, 0, NN_PREC_FP32, &err)) return NULL;
    pthread_setspecific(own_key, c);
    return c;
}

nn_ctx *nn_ctx_bind(nn_ctx *c)
{
    pthread_once(&keys_once, make_keys);
    nn_ctx *prev = pthread_getspecific(bound_key);
    pthread_setspecific(bound_key, c);
    return prev;
}

/* ---- precision ---- */

int nn_precision_parse(const char *s)
{
    if (!s) return -1;
    if (!strcasecmp(s, "fp32")) return 0;
    if (!strcasecmp(s, "bf16")) return 1;
    if (!strcasecmp(s, "auto")) return 2;
    return -1;
}

const char *nn_precision_name(nn_precision p) { return p == NN_PREC_BF16 ? "bf16" : "fp32"; }

/* AMX-BF16 from CPUID leaf 7 (EDX bit 22): not every compiler's __builtin_cpu_supports knows it. */
static int cpu_has_amx_bf16(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (d >> 22) & 1;
}

int nn_cpu_has_bf16(void)
{
    __builtin_cpu_init();
    return (__builtin_cpu_supports("avx512bf16") || cpu_has_amx_bf16()) && nn_cpu_backend.has_bf16(NULL);
}

const char *nn_cpu_isa(void)
{
    __builtin_cpu_init();
    if (cpu_has_amx_bf16()) return "amx";
    if (__builtin_cpu_supports("avx512bf16")) return "avx512_bf16";
    if (__builtin_cpu_supports("avx512f")) return "avx512";
    if (__builtin_cpu_supports("avx2")) return "avx2";
    return "baseline";
}

/* Models whose bf16 outputs stay within the error budget measured in docs/PERFORMANCE.md. */
static const char *const auto_bf16_models[] = {"rvc_synth", "vocos"};

const char *nn_precision_setting(void)
{
    const char *env = getenv("VCS_PRECISION");
    int p = nn_precision_parse(env);
    return p == 1 ? "bf16" : p == 2 ? "auto" : "fp32";
}

nn_precision nn_precision_for(const char *model)
{
    const char *setting = nn_precision_setting();
    if (!strcmp(setting, "fp32") || !nn_cpu_has_bf16()) return NN_PREC_FP32;
    if (!strcmp(setting, "bf16")) return NN_PREC_BF16;
    for (size_t i = 0; i < sizeof auto_bf16_models / sizeof auto_bf16_models[0]; i++)
        if (model && !strcmp(model, auto_bf16_models[i])) return NN_PREC_BF16;
    return NN_PREC_FP32;
}

nn_precision_scope nn_precision_enter(const char *model)
{
    nn_precision_scope s = {nn_ctx_current(), NN_PREC_FP32};
    if (s.ctx) {
        s.prev = s.ctx->precision;
        s.ctx->precision = nn_precision_for(model);
    }
    return s;
}

void nn_precision_leave(nn_precision_scope s)
{
    if (s.ctx) s.ctx->precision = s.prev;
}

nn_wcache_scope nn_wcache_enter(struct nn_wcache *wc)
{
    nn_wcache_scope s = {nn_ctx_current(), NULL};
    if (s.ctx) {
        s.prev = s.ctx->wcache;
        s.ctx->wcache = wc;
    }
    return s;
}

void nn_wcache_leave(nn_wcache_scope s)
{
    if (s.ctx) s.ctx->wcache = s.prev;
}

/* ---- op wrappers ---- */

static nn_ctx *ctx_or_fail(vc_error *err)
{
    nn_ctx *c = nn_ctx_current();
    if (!c) vc_fail(err, VC_ERR_NOMEM, "out of memory (engine context)");
    return c;
}

int nn_conv(const nn_conv_spec *s, float *out, const float *in, const float *w, const float *b, int accumulate,
            vc_error *err)
{
    nn_ctx *c = ctx_or_fail(err);
    return c ? c->be->conv_forward(c, s, out, in, w, b, accumulate, err) : -1;
}

int nn_native_block(void)
{
    nn_ctx *c = nn_ctx_current();
    return c ? c->be->native_block(c) : 0;
}

void nn_seq_to_native(float *dst, const float *src, int C, int from, int n)
{
    nn_ctx *c = nn_ctx_current();
    assert(c); /* callers asked nn_native_block() first, which created the context */
    c->be->seq_to_native(c, dst, src, C, from, n);
}

void nn_seq_from_native(float *dst, int to, const float *src, int T, int C, int from, int n)
{
    nn_ctx *c = nn_ctx_current();
    assert(c);
    c->be->seq_from_native(c, dst, to, src, T, C, from, n);
}

int nn_conv_bwd_data(const nn_conv_spec *s, float *g_in, const float *g_out, const float *w, vc_error *err)
{
    nn_ctx *c = ctx_or_fail(err);
    return c ? c->be->conv_backward_data(c, s, g_in, g_out, w, err) : -1;
}

int nn_conv_bwd_weights(const nn_conv_spec *s, float *g_w, float *g_b, const float *in, const float *g_out,
                        vc_error *err)
{
    nn_ctx *c = ctx_or_fail(err);
    return c ? c->be->conv_backward_weights(c, s, g_w, g_b, in, g_out, err) : -1;
}

void nn_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
             int ldb, float beta, float *C, int ldc)
{
    nn_ctx *c = nn_ctx_current();
    /* Out of memory at a thread's very first op: still compute, on one thread without a context. */
    const nn_backend *be = c ? c->be : &nn_cpu_backend;
    be->gemm(c, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void nn_gemm_f64(int trans_a, int trans_b, int M, int N, int K, double alpha, const double *A, int lda,
                 const double *B, int ldb, double beta, double *C, int ldc)
{
    nn_ctx *c = nn_ctx_current();
    const nn_backend *be = c ? c->be : &nn_cpu_backend;
    be->gemm_f64(c, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
