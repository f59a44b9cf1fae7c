/*
 * The CPU backend on oneDNN (Debian's libdnnl 2.6, the library PyTorch's CPU convolutions use):
 * its JIT kernels are chosen at run time from the CPU's flags (AVX2, AVX-512, AVX512-BF16, AMX),
 * independent of our own code's compile flags and of OPENBLAS_CORETYPE.
 *
 * Convolutions: one primitive per (direction, shape, layout, precision), created on first use
 * and kept in a per-context cache (reorders too: compiling one per call cost more than the
 * convolutions). Activations are reordered from the caller's plain layout into the blocked one
 * the JIT kernel asks for and back: on plain nchw oneDNN falls back to im2col + GEMM, slower
 * and with rounding that changes with the thread count; on nhwc its direct kernel measured
 * ~8 % slower than blocked plus the two reorders.
 * Weights are reordered from PyTorch's layout into the kernel's format: once, kept in the running
 * model's weight cache (nn/wcache.h) when it has one active (inference), else on each call
 * (training, whose weights change every step). Scratch (oneDNN's scratchpad, reordered weights, bf16
 * copies, gradients before they are added) comes from grow-only buffers of the context, so a
 * steady-state forward allocates nothing.
 *
 * Matrix products go to dnnl_sgemm (row-major sgemm with oneDNN's JIT GEMM), so the whole
 * engine uses one threading runtime (OpenMP, sized per context) instead of OpenMP and
 * OpenBLAS's own pthreads spinning against each other on a 2-core machine.
 */
#include "nn/backend.h"
#include "nn/ops.h"
#include "nn/par.h"
#include "nn/wcache.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* A training step of the full RVC model uses ≈ 340 convolution primitives and ≈ 270 reorders;
 * the caches grow to this many entries each before evicting the least recently used. */
#define CACHE_SIZE 1024

enum { K_FWD, K_FWD_ACC, K_BWD_DATA, K_BWD_WEIGHTS };
enum { SLOT_SCRATCHPAD, SLOT_WEIGHTS, SLOT_SRC, SLOT_DST, SLOT_OUT, SLOT_GRAD, SLOT_GRAD2, SLOT_PHASE_W, SLOT_PHASE_OUT,
       SLOT_GEMM_A, SLOT_GEMM_B, SLOT_COUNT };

typedef struct prim {
    int kind, has_bias;
    nn_precision prec;
    nn_conv_spec spec;
    unsigned long used;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_desc_t user_src, user_wei, user_dst, bias_md; /* plain f32 as the caller holds them */
    dnnl_memory_desc_t prim_src, prim_wei, prim_dst;         /* what the kernel wants */
    long prof_calls;     /* calls and seconds since profiling was turned on (bench only) */
    double prof_seconds;
} prim;

typedef struct buf { void *p; size_t cap; } buf;

/* A reorder (layout or type conversion) between two memory descriptors: JIT-compiled once. */
typedef struct reorder_entry {
    dnnl_memory_desc_t from, to;
    dnnl_primitive_t prim;
    unsigned long used;
} reorder_entry;

/* A bf16 matmul C[M,N] (row stride ldc) = alpha·A·B + beta·C on contiguous bf16 A, B; or, for
 * a model weight (weights_any), C = A·B + bias with B in the format the kernel prefers, which the
 * model's weight cache keeps converted (linear layers). */
typedef struct matmul_key { int M, N, K, ldc; float alpha, beta; int weights_any, bias, f32; } matmul_key;
typedef struct matmul_entry {
    matmul_key key;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_desc_t a, b, c, bias;
    unsigned long used;
} matmul_entry;

#define MATMUL_CACHE 64

typedef struct cpu_state {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    prim *cache; /* cap_cached entries, grown on demand up to CACHE_SIZE */
    int n_cached, cap_cached;
    reorder_entry *reorders;
    int n_reorders, cap_reorders;
    matmul_entry matmuls[MATMUL_CACHE];
    int n_matmuls;
    unsigned long tick;
    int threads; /* the calling context's thread count, refreshed on every op */
    int profiling;
    buf slots[SLOT_COUNT];
} cpu_state;

#define DN(call)                                                                                                       \
    do {                                                                                                               \
        dnnl_status_t st_ = (call);                                                                                    \
        if (st_ != dnnl_success) return vc_fail(err, VC_ERR_INTERNAL, "oneDNN: %s failed (status %d)", #call, st_);  \
    } while (0)

/* Room for one more entry in a cache array of *n used / *cap allocated (elem bytes each): 1 when
 * there is (grown if needed), 0 when the cache is at CACHE_SIZE or memory is short (evict). */
static int cache_room(void **arr, int *n, int *cap, size_t elem)
{
    if (*n < *cap) return 1;
    if (*cap >= CACHE_SIZE) return 0;
    int grown = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, elem * (size_t)grown);
    if (!p) return 0;
    memset((char *)p + elem * (size_t)*cap, 0, elem * (size_t)(grown - *cap));
    *arr = p;
    *cap = grown;
    return 1;
}

static void *slot(cpu_state *st, int i, size_t bytes)
{
    buf *b = &st->slots[i];
    if (b->cap >= bytes) return b->p;
    free(b->p);
    b->p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    b->cap = b->p ? bytes : 0;
    return b->p;
}

static int cpu_state_get(nn_ctx *c, cpu_state **out, vc_error *err)
{
    if (c->be_state) {
        *out = c->be_state;
        (*out)->threads = nn_ctx_threads(c);
        return 0;
    }
    cpu_state *st = calloc(1, sizeof *st);
    if (!st) return vc_fail(err, VC_ERR_NOMEM, "out of memory (engine context)");
    if (dnnl_engine_create(&st->engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&st->stream, st->engine, dnnl_stream_default_flags) != dnnl_success) {
        if (st->engine) dnnl_engine_destroy(st->engine);
        free(st);
        return vc_fail(err, VC_ERR_INTERNAL, "oneDNN: cannot create the CPU engine");
    }
    st->threads = nn_ctx_threads(c);
    c->be_state = st;
    *out = st;
    return 0;
}

static void prim_clear(prim *p)
{
    if (p->prim) dnnl_primitive_destroy(p->prim);
    if (p->pd) dnnl_primitive_desc_destroy(p->pd);
    memset(p, 0, sizeof *p);
}

static void cpu_release(nn_ctx *c)
{
    cpu_state *st = c->be_state;
    if (!st) return;
    for (int i = 0; i < st->n_cached; i++) prim_clear(&st->cache[i]);
    for (int i = 0; i < st->n_reorders; i++) dnnl_primitive_destroy(st->reorders[i].prim);
    for (int i = 0; i < st->n_matmuls; i++) {
        dnnl_primitive_destroy(st->matmuls[i].prim);
        dnnl_primitive_desc_destroy(st->matmuls[i].pd);
    }
    for (int i = 0; i < SLOT_COUNT; i++) free(st->slots[i].p);
    free(st->cache);
    free(st->reorders);
    dnnl_stream_destroy(st->stream);
    dnnl_engine_destroy(st->engine);
    free(st);
    c->be_state = NULL;
}

/* ---- descriptors ---- */

/* NN_LAYOUT_NATIVE: channels in blocks of one vector register, the layout oneDNN's direct JIT
 * convolutions compute in (16 floats on AVX-512, 8 on AVX2). oneDNN's own view of the ISA, so
 * that DNNL_MAX_CPU_ISA=AVX2 (how the tests run the AVX2 kernels on an AVX-512 machine) agrees. */
static int cpu_native_block(nn_ctx *c)
{
    (void)c;
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core ? 16 : 8;
}

static int cpu_has_bf16(nn_ctx *c)
{
    (void)c;
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
}

/* NN_LAYOUT_NATIVE as oneDNN names it. */
static dnnl_format_tag_t native_tag(void) { return cpu_native_block(NULL) == 16 ? dnnl_nChw16c : dnnl_nChw8c; }

static dnnl_format_tag_t act_tag(const nn_conv_spec *s)
{
    if (s->layout == NN_LAYOUT_NATIVE) return native_tag();
    return s->layout == NN_LAYOUT_CHANNELS_LAST ? dnnl_nhwc : dnnl_nchw;
}

static dnnl_data_type_t compute_type(nn_precision p) { return p == NN_PREC_BF16 ? dnnl_bf16 : dnnl_f32; }

static int weight_md(const nn_conv_spec *s, dnnl_data_type_t dt, int any, dnnl_memory_desc_t *md, vc_error *err)
{
    int g = s->groups;
    if (g == 1) {
        dnnl_dims_t d = {s->c_out, s->c_in, s->kh, s->kw};
        DN(dnnl_memory_desc_init_by_tag(md, 4, d, dt, any ? dnnl_format_tag_any : s->transposed ? dnnl_iohw : dnnl_oihw));
    } else {
        dnnl_dims_t d = {g, s->c_out / g, s->c_in / g, s->kh, s->kw};
        DN(dnnl_memory_desc_init_by_tag(md, 5, d, dt, any ? dnnl_format_tag_any : s->transposed ? dnnl_giohw : dnnl_goihw));
    }
    return 0;
}

typedef union op_desc { dnnl_convolution_desc_t conv; dnnl_deconvolution_desc_t deconv; } op_desc;

/* One op descriptor of kind k for spec s (src/wei/dst descs given; formats may be "any"). */
static int init_op_desc(const nn_conv_spec *s, int kind, const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *wei,
                        const dnnl_memory_desc_t *bias, const dnnl_memory_desc_t *dst, op_desc *od, vc_error *err)
{
    dnnl_dims_t strides = {s->stride_h, s->stride_w}, dil = {s->dil_h - 1, s->dil_w - 1};
    dnnl_dims_t pl = {s->pad_t, s->pad_l}, pr = {s->pad_b, s->pad_r};
    if (!s->transposed) {
        dnnl_alg_kind_t a = dnnl_convolution_direct;
        if (kind == K_BWD_DATA)
            DN(dnnl_dilated_convolution_backward_data_desc_init(&od->conv, a, src, wei, dst, strides, dil, pl, pr));
        else if (kind == K_BWD_WEIGHTS)
            DN(dnnl_dilated_convolution_backward_weights_desc_init(&od->conv, a, src, wei, bias, dst, strides, dil, pl, pr));
        else
            DN(dnnl_dilated_convolution_forward_desc_init(&od->conv, kind < 0 ? dnnl_forward_training : dnnl_forward_inference,
                                                          a, src, wei, bias, dst, strides, dil, pl, pr));
    } else {
        dnnl_alg_kind_t a = dnnl_deconvolution_direct;
        if (kind == K_BWD_DATA)
            DN(dnnl_dilated_deconvolution_backward_data_desc_init(&od->deconv, a, src, wei, dst, strides, dil, pl, pr));
        else if (kind == K_BWD_WEIGHTS)
            DN(dnnl_dilated_deconvolution_backward_weights_desc_init(&od->deconv, a, src, wei, bias, dst, strides, dil, pl,
                                                                    pr));
        else
            DN(dnnl_dilated_deconvolution_forward_desc_init(&od->deconv, kind < 0 ? dnnl_forward_training
                                                                                  : dnnl_forward_inference,
                                                            a, src, wei, bias, dst, strides, dil, pl, pr));
    }
    return 0;
}

static int spec_equal(const nn_conv_spec *a, const nn_conv_spec *b) { return memcmp(a, b, sizeof *a) == 0; }

/* How much we want an implementation: 3 for a direct JIT kernel; 2 for im2col + GEMM ("gemm"),
 * about half as fast where it is all a direct kernel leaves (bf16, 11 taps dilated by 5); 1 for
 * oneDNN's brgemm convolutions with a spatial kernel ("brgconv", not "brgconv_1x1"): as fast to
 * run, but creating one costs time in proportion to the output length (0.4 s for a 16 k-frame
 * tile, 6 s for a 480 k-sample layer, measured on one core) and every new length needs a new one;
 * 0 for the reference loops ("ref"), 100× slower (417 s instead of seconds for one bf16 layer). */
static int impl_rank(const_dnnl_primitive_desc_t pd)
{
    const char *impl = "";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    if (!strncmp(impl, "ref", 3)) return 0;
    if (!strncmp(impl, "brgconv:", 8) || !strncmp(impl, "brgdeconv:", 10)) return 1;
    if (strstr(impl, "gemm:")) return 2;
    return 3;
}

/* The best-ranked implementation oneDNN offers (its own order among equals). */
static int choose_impl(cpu_state *st, const void *od, const_dnnl_primitive_attr_t attr, const_dnnl_primitive_desc_t hint,
                       dnnl_primitive_desc_t *out, int *rank)
{
    dnnl_primitive_desc_iterator_t it;
    if (dnnl_primitive_desc_iterator_create(&it, od, attr, st->engine, hint) != dnnl_success) return -1;
    dnnl_primitive_desc_t best = NULL;
    int best_rank = -1;
    do {
        dnnl_primitive_desc_t pd = dnnl_primitive_desc_iterator_fetch(it);
        if (!pd) break;
        int r = impl_rank(pd);
        if (r > best_rank) {
            if (best) dnnl_primitive_desc_destroy(best);
            best = pd;
            best_rank = r;
        } else {
            dnnl_primitive_desc_destroy(pd);
        }
    } while (best_rank < 3 && dnnl_primitive_desc_iterator_next(it) == dnnl_success);
    dnnl_primitive_desc_iterator_destroy(it);
    *out = best;
    *rank = best_rank;
    return best ? 0 : -1;
}

/* The post-ops of a forward convolution: out (+)= act(conv + b), in that order; NULL when none. */
static int post_ops_attr(const prim *p, dnnl_primitive_attr_t *attr, vc_error *err)
{
    DN(dnnl_primitive_attr_create(attr));
    dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    int act = p->spec.post_lrelu && (p->kind == K_FWD || p->kind == K_FWD_ACC);
    if (p->kind != K_FWD_ACC && !act) return 0;
    dnnl_post_ops_t po;
    DN(dnnl_post_ops_create(&po));
    if (act) dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, p->spec.lrelu_slope, 0.0f);
    if (p->kind == K_FWD_ACC) dnnl_post_ops_append_sum(po, 1.0f);
    dnnl_primitive_attr_set_post_ops(*attr, po);
    dnnl_post_ops_destroy(po);
    return 0;
}

/* One attempt at p's primitive descriptor: activations in `tag` (any: oneDNN chooses), computed
 * at `prec`. *rank is impl_rank of what was found. */
static int try_prim_desc(cpu_state *st, prim *p, dnnl_format_tag_t tag, nn_precision prec,
                         dnnl_primitive_desc_t *pd, int *rank, vc_error *err)
{
    const nn_conv_spec *s = &p->spec;
    dnnl_dims_t ds = {s->n, s->c_in, s->in_h, s->in_w}, dd = {s->n, s->c_out, nn_conv_spec_out_h(s), nn_conv_spec_out_w(s)};
    /* At bf16 the operands a kernel reads are bf16 and what it writes stays f32 (the output,
     * or the gradient of the input or of the weights): fp32 accumulation, as PyTorch's autocast. */
    dnnl_data_type_t ct = compute_type(prec);
    dnnl_data_type_t t_src = p->kind == K_BWD_DATA ? dnnl_f32 : ct, t_wei = p->kind == K_BWD_WEIGHTS ? dnnl_f32 : ct;
    dnnl_data_type_t t_dst = p->kind == K_FWD || p->kind == K_FWD_ACC ? dnnl_f32 : ct;
    dnnl_memory_desc_t src, wei, dst;
    DN(dnnl_memory_desc_init_by_tag(&src, 4, ds, t_src, tag));
    DN(dnnl_memory_desc_init_by_tag(&dst, 4, dd, t_dst, tag));
    if (weight_md(s, t_wei, 1, &wei, err)) return -1;
    const dnnl_memory_desc_t *bias = p->has_bias ? &p->bias_md : NULL;
    dnnl_primitive_attr_t attr = NULL;
    op_desc od, hint_od;
    dnnl_primitive_desc_t hint = NULL;
    int rc = post_ops_attr(p, &attr, err);
    if (!rc && (p->kind == K_BWD_DATA || p->kind == K_BWD_WEIGHTS)) {
        dnnl_memory_desc_t hsrc, hwei, hdst; /* the forward it is the backward of, at the same precision */
        if (dnnl_memory_desc_init_by_tag(&hsrc, 4, ds, ct, tag) != dnnl_success ||
            dnnl_memory_desc_init_by_tag(&hdst, 4, dd, dnnl_f32, tag) != dnnl_success || weight_md(s, ct, 1, &hwei, err))
            rc = vc_fail(err, VC_ERR_INTERNAL, "oneDNN: bad convolution shape");
        if (!rc) rc = init_op_desc(s, -1, &hsrc, &hwei, bias, &hdst, &hint_od, err);
        if (!rc && dnnl_primitive_desc_create(&hint, &hint_od, NULL, st->engine, NULL) != dnnl_success)
            rc = vc_fail(err, VC_ERR_INTERNAL, "oneDNN: no forward convolution for this shape");
    }
    if (!rc) rc = init_op_desc(s, p->kind, &src, &wei, bias, &dst, &od, err);
    if (!rc && choose_impl(st, &od, attr, hint, pd, rank) != 0)
        rc = vc_fail(err, VC_ERR_INTERNAL, "oneDNN: no convolution implementation for this shape");
    if (hint) dnnl_primitive_desc_destroy(hint);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return rc;
}

/* Another attempt (try_prim_desc's arguments), kept in place of p->pd when it ranks higher. */
static void try_better(cpu_state *st, prim *p, dnnl_format_tag_t tag, nn_precision prec, int *rank)
{
    dnnl_primitive_desc_t cand = NULL;
    int r;
    vc_error ignored; /* a failed fallback leaves the first attempt in place */
    if (try_prim_desc(st, p, tag, prec, &cand, &r, &ignored) == 0 && r > *rank) {
        dnnl_primitive_desc_destroy(p->pd);
        p->pd = cand;
        *rank = r;
    } else if (cand) {
        dnnl_primitive_desc_destroy(cand);
    }
}

/* Native activations are already in the kernels' layout: pinning it spares both reorders. Where
 * no direct kernel takes the pinned layout as asked (bf16 with 11 taps dilated by 5 and a fused
 * activation), try in turn the layer in fp32 (more precise, and faster than the alternatives)
 * and last the layout oneDNN chooses, at the cost of two reorders. */
static int build_prim(cpu_state *st, prim *p, vc_error *err)
{
    const nn_conv_spec *s = &p->spec;
    dnnl_dims_t ds = {s->n, s->c_in, s->in_h, s->in_w}, db = {s->c_out};
    dnnl_dims_t dd = {s->n, s->c_out, nn_conv_spec_out_h(s), nn_conv_spec_out_w(s)};
    DN(dnnl_memory_desc_init_by_tag(&p->user_src, 4, ds, dnnl_f32, act_tag(s)));
    dnnl_format_tag_t out_tag = s->out_native ? native_tag() : act_tag(s);
    DN(dnnl_memory_desc_init_by_tag(&p->user_dst, 4, dd, dnnl_f32, out_tag));
    DN(dnnl_memory_desc_init_by_tag(&p->bias_md, 1, db, dnnl_f32, dnnl_a));
    if (weight_md(s, dnnl_f32, 0, &p->user_wei, err)) return -1;
    int native = s->layout == NN_LAYOUT_NATIVE, rank = 0;
    if (try_prim_desc(st, p, native ? act_tag(s) : dnnl_format_tag_any, p->prec, &p->pd, &rank, err)) return -1;
    if (rank < 3 && native && p->prec != NN_PREC_FP32) try_better(st, p, act_tag(s), NN_PREC_FP32, &rank);
    if (rank < 3 && native) try_better(st, p, dnnl_format_tag_any, p->prec, &rank);
    if (rank < 3 && !native && p->prec != NN_PREC_FP32) try_better(st, p, dnnl_format_tag_any, NN_PREC_FP32, &rank);
    dnnl_query_t qs = p->kind == K_BWD_DATA ? dnnl_query_diff_src_md : dnnl_query_src_md;
    dnnl_query_t qw = p->kind == K_BWD_WEIGHTS ? dnnl_query_diff_weights_md : dnnl_query_weights_md;
    dnnl_query_t qd = p->kind == K_FWD || p->kind == K_FWD_ACC ? dnnl_query_dst_md : dnnl_query_diff_dst_md;
    p->prim_src = *dnnl_primitive_desc_query_md(p->pd, qs, 0);
    p->prim_wei = *dnnl_primitive_desc_query_md(p->pd, qw, 0);
    p->prim_dst = *dnnl_primitive_desc_query_md(p->pd, qd, 0);
    DN(dnnl_primitive_create(&p->prim, p->pd));
    return 0;
}

/* The cached primitive for (kind, spec, precision, bias), built on a miss (least recently used
 * entry evicted when the cache is full). */
static prim *get_prim(cpu_state *st, int kind, const nn_conv_spec *s, nn_precision prec, int has_bias, vc_error *err)
{
    prim *victim = NULL;
    st->tick++;
    for (int i = 0; i < st->n_cached; i++) {
        prim *p = &st->cache[i];
        if (p->kind == kind && p->prec == prec && p->has_bias == has_bias && spec_equal(&p->spec, s)) {
            p->used = st->tick;
            return p;
        }
        if (!victim || p->used < victim->used) victim = p;
    }
    prim *p = victim;
    if (cache_room((void **)&st->cache, &st->n_cached, &st->cap_cached, sizeof *st->cache))
        p = &st->cache[st->n_cached++]; /* (a grown array moved the entries: victim is not used) */
    if (!p) {
        vc_fail(err, VC_ERR_NOMEM, "out of memory (primitive cache)");
        return NULL;
    }
    prim_clear(p);
    p->kind = kind;
    p->prec = prec;
    p->has_bias = has_bias;
    p->spec = *s;
    p->used = st->tick;
    if (build_prim(st, p, err)) {
        prim_clear(p);
        if (p == &st->cache[st->n_cached - 1]) st->n_cached--;
        return NULL;
    }
    return p;
}

/* ---- execution ---- */

static int mem(cpu_state *st, const dnnl_memory_desc_t *md, const void *data, dnnl_memory_t *out, vc_error *err)
{
    DN(dnnl_memory_create(out, md, st->engine, (void *)data));
    return 0;
}

/* The cached reorder primitive from → to (created, i.e. JIT-compiled, on the first use only:
 * compiling one per call cost more than the convolutions themselves). */
static dnnl_primitive_t get_reorder(cpu_state *st, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                                    vc_error *err)
{
    reorder_entry *victim = NULL;
    st->tick++;
    for (int i = 0; i < st->n_reorders; i++) {
        reorder_entry *e = &st->reorders[i];
        if (dnnl_memory_desc_equal(&e->from, from) && dnnl_memory_desc_equal(&e->to, to)) {
            e->used = st->tick;
            return e->prim;
        }
        if (!victim || e->used < victim->used) victim = e;
    }
    dnnl_primitive_desc_t pd;
    if (dnnl_reorder_primitive_desc_create(&pd, from, st->engine, to, st->engine, NULL) != dnnl_success) {
        vc_fail(err, VC_ERR_INTERNAL, "oneDNN: no reorder between these layouts");
        return NULL;
    }
    dnnl_primitive_t r;
    dnnl_status_t s = dnnl_primitive_create(&r, pd);
    dnnl_primitive_desc_destroy(pd);
    if (s != dnnl_success) {
        vc_fail(err, VC_ERR_INTERNAL, "oneDNN: reorder failed (status %d)", s);
        return NULL;
    }
    reorder_entry *e = victim;
    if (cache_room((void **)&st->reorders, &st->n_reorders, &st->cap_reorders, sizeof *st->reorders))
        e = &st->reorders[st->n_reorders++];
    if (!e) {
        dnnl_primitive_destroy(r);
        vc_fail(err, VC_ERR_NOMEM, "out of memory (reorder cache)");
        return NULL;
    }
    if (e->prim) dnnl_primitive_destroy(e->prim);
    *e = (reorder_entry){*from, *to, r, st->tick};
    return r;
}

/* ---- time-major sequences in and out of the native layout [C/b][T][b] ----
 * Plain loops moving one register-wide block per copy: oneDNN 2.6's generic reorder between
 * these layouts ran at a fraction of memory speed on long sequences (226 ms for 64 × 240 k). */

static void seq_to_native(float *dst, const float *src, int C, int from, int n, int b, int threads)
{
    int nb = C / b;
    (void)threads;
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static)
#endif
    for (int cb = 0; cb < nb; cb++)
        for (int t = 0; t < n; t++)
            memcpy(dst + ((size_t)cb * n + t) * b, src + (size_t)(from + t) * C + (size_t)cb * b, sizeof(float) * b);
}

static void seq_from_native(float *dst, int to, const float *src, int T, int C, int from, int n, int b, int threads)
{
    int nb = C / b;
    (void)threads;
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static)
#endif
    for (int t = 0; t < n; t++)
        for (int cb = 0; cb < nb; cb++)
            memcpy(dst + (size_t)(to + t) * C + (size_t)cb * b, src + ((size_t)cb * T + from + t) * b, sizeof(float) * b);
}

/* When from → to is a one-row float32 activation between time-major (nhwc) and the native
 * blocked layout, converts it with the loops above and returns 1; else 0 (nothing done). */
static int act_reorder_fast(cpu_state *st, const dnnl_memory_desc_t *from, const void *src,
                            const dnnl_memory_desc_t *to, void *dst)
{
    if (from->ndims != 4 || from->data_type != dnnl_f32 || to->data_type != dnnl_f32) return 0;
    const dnnl_dim_t *d = from->dims;
    int b = cpu_native_block(NULL);
    if (d[0] != 1 || d[2] != 1 || d[1] % b != 0 || d[3] > 0x7fffffff) return 0;
    dnnl_memory_desc_t last, native;
    if (dnnl_memory_desc_init_by_tag(&last, 4, d, dnnl_f32, dnnl_nhwc) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&native, 4, d, dnnl_f32, native_tag()) != dnnl_success)
        return 0;
    int C = (int)d[1], T = (int)d[3];
    if (dnnl_memory_desc_equal(from, &last) && dnnl_memory_desc_equal(to, &native))
        seq_to_native(dst, src, C, 0, T, b, st->threads);
    else if (dnnl_memory_desc_equal(from, &native) && dnnl_memory_desc_equal(to, &last))
        seq_from_native(dst, 0, src, T, C, 0, T, b, st->threads);
    else
        return 0;
    return 1;
}

/* Converts src (layout/type `from`) into `to`; dst is written. */
static int reorder(cpu_state *st, const dnnl_memory_desc_t *from, const void *src, const dnnl_memory_desc_t *to, void *dst,
                   vc_error *err)
{
    if (act_reorder_fast(st, from, src, to, dst)) return 0;
    dnnl_primitive_t r = get_reorder(st, from, to, err);
    if (!r) return -1;
    dnnl_status_t s;
    dnnl_memory_t a = NULL, b = NULL;
    int rc = mem(st, from, src, &a, err) || mem(st, to, dst, &b, err);
    if (!rc) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, a}, {DNNL_ARG_TO, b}};
        s = dnnl_primitive_execute(r, st->stream, 2, args);
        if (s == dnnl_success) s = dnnl_stream_wait(st->stream);
        if (s != dnnl_success) rc = vc_fail(err, VC_ERR_INTERNAL, "oneDNN: reorder failed (status %d)", s);
    }
    if (a) dnnl_memory_destroy(a);
    if (b) dnnl_memory_destroy(b);
    return rc ? -1 : 0;
}

/* `data` in the caller's layout, as the kernel wants it: itself when the formats agree, else a
 * converted copy in scratch slot i. */
static const void *as_prim(cpu_state *st, int i, const dnnl_memory_desc_t *user, const void *data,
                           const dnnl_memory_desc_t *want, vc_error *err)
{
    if (dnnl_memory_desc_equal(user, want)) return data;
    void *dst = slot(st, i, dnnl_memory_desc_get_size(want));
    if (!dst) {
        vc_fail(err, VC_ERR_NOMEM, "out of memory (convolution scratch)");
        return NULL;
    }
    return reorder(st, user, data, want, dst, err) ? NULL : dst;
}

typedef struct arg { int name; const dnnl_memory_desc_t *md; const void *data; } arg;

/* The forward weights as the kernel wants them: from the context's weight cache when a model
 * made one active (converted on the first call only), else converted into scratch each call. */
/* Weights w (described by user) in the kernel's format prim, from the context's weight cache:
 * converted on the first call only (wcache.h). Needs an active cache. */
static const void *cached_reorder(nn_ctx *c, cpu_state *st, const dnnl_memory_desc_t *user, const void *w,
                                  const dnnl_memory_desc_t *prim_md, vc_error *err)
{
    const void *hit = nn_wcache_find(c->wcache, w, prim_md, sizeof *prim_md);
    if (hit) return hit;
    size_t bytes = dnnl_memory_desc_get_size(prim_md);
    void *dst = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!dst) {
        vc_fail(err, VC_ERR_NOMEM, "out of memory (converted weights)");
        return NULL;
    }
    if (reorder(st, user, w, prim_md, dst, err)) {
        free(dst);
        return NULL;
    }
    const void *stored = nn_wcache_add(c->wcache, w, prim_md, sizeof *prim_md, dst, bytes);
    if (!stored) vc_fail(err, VC_ERR_NOMEM, "out of memory (converted weights)");
    if (stored == dst) nn_wcache_release_source(w, dnnl_memory_desc_get_size(user));
    return stored;
}

static const void *weights_as_prim(nn_ctx *c, cpu_state *st, const prim *p, const float *w, vc_error *err)
{
    if (!c->wcache || dnnl_memory_desc_equal(&p->user_wei, &p->prim_wei))
        return as_prim(st, SLOT_WEIGHTS, &p->user_wei, w, &p->prim_wei, err);
    return cached_reorder(c, st, &p->user_wei, w, &p->prim_wei, err);
}

static int execute(nn_ctx *c, cpu_state *st, prim *p, const arg *args, int n, vc_error *err)
{
    const dnnl_memory_desc_t *sp_md = dnnl_primitive_desc_query_md(p->pd, dnnl_query_scratchpad_md, 0);
    size_t sp_bytes = sp_md ? dnnl_memory_desc_get_size(sp_md) : 0;
    void *sp = sp_bytes ? slot(st, SLOT_SCRATCHPAD, sp_bytes) : NULL;
    if (sp_bytes && !sp) return vc_fail(err, VC_ERR_NOMEM, "out of memory (convolution scratchpad)");
    dnnl_memory_t mems[6] = {0};
    dnnl_exec_arg_t ea[6];
    int rc = 0, m = 0;
    for (int i = 0; i < n && !rc; i++, m++) {
        rc = mem(st, args[i].md, args[i].data, &mems[m], err);
        ea[m] = (dnnl_exec_arg_t){args[i].name, mems[m]};
    }
    if (!rc && sp_bytes) {
        rc = mem(st, sp_md, sp, &mems[m], err);
        ea[m] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, mems[m]};
        m++;
    }
    if (!rc) {
        omp_set_num_threads(nn_ctx_threads(c));
        dnnl_status_t s = dnnl_primitive_execute(p->prim, st->stream, m, ea);
        if (s == dnnl_success) s = dnnl_stream_wait(st->stream);
        if (s != dnnl_success) rc = vc_fail(err, VC_ERR_INTERNAL, "oneDNN: convolution failed (status %d)", s);
    }
    for (int i = 0; i < m; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    return rc ? -1 : 0;
}


static int cpu_conv_forward(nn_ctx *c, const nn_conv_spec *s, float *out, const float *in, const float *w,
                            const float *b, int accumulate, vc_error *err);

/* ---- a strided transposed convolution as one ordinary convolution (time-major only) ----
 * oneDNN has no JIT kernel for HiFi-GAN's large-stride upsamplers (k 24 s 12, k 20 s 10) and
 * falls back to GEMM + col2im; its stride-2 kernel (k 4 s 2) ran ≈ 3× slower than this rewrite
 * (280 ms against 100 ms for 128 → 64 channels over 120 k frames, one core). Output frame o = t·s + r gets x[i]·w[k] for k = (t − i)·s + r + p,
 * so with m = t − i every phase r is an ordinary convolution over x with the taps k = m·s + r + p.
 * Stacking the s phases as output channels gives one convolution x [T, c_in] → y [T', s·c_out]
 * whose rows, read as [T'·s, c_out], are the transposed convolution's output frames in order
 * (the time-major layout makes the interleave free). Costs ⌈K/s⌉+1 taps per phase instead of
 * K/s, on a kernel that runs several times faster. */
typedef struct phase_plan { int m_lo, m_hi, taps, t_conv, pad_r; } phase_plan;

static phase_plan plan_phases(const nn_conv_spec *s)
{
    int st = s->stride_w, p = s->pad_l, K = s->kw;
    phase_plan pl;
    pl.m_hi = (K - 1 - p) >= 0 ? (K - 1 - p) / st : -((p - K + 1 + st - 1) / st);
    int lo_num = -(st - 1) - p; /* ceil(lo_num / st) for a negative numerator */
    pl.m_lo = lo_num >= 0 ? (lo_num + st - 1) / st : -((-lo_num) / st);
    pl.taps = pl.m_hi - pl.m_lo + 1;
    int t_out = nn_conv_spec_out_w(s);
    pl.t_conv = (t_out + st - 1) / st;
    pl.pad_r = pl.t_conv - s->in_w - pl.m_hi + pl.taps - 1;
    if (pl.pad_r < 0) { pl.t_conv -= pl.pad_r; pl.pad_r = 0; }
    return pl;
}

/* Time-major (one sequence), or the native blocked layout (any batch) with both channel counts
 * in whole blocks: there the phases come out as channel blocks and are interleaved in one pass. */
static int use_phases(const nn_conv_spec *s)
{
    int b = cpu_native_block(NULL);
    int layout_ok = (s->layout == NN_LAYOUT_CHANNELS_LAST && s->n == 1) ||
                    (s->layout == NN_LAYOUT_NATIVE && s->c_out % b == 0 && s->c_in % b == 0);
    return s->transposed && layout_ok && !s->out_native && !s->post_lrelu && s->groups == 1 && s->in_h == 1 && s->kh == 1 &&
           s->dil_w == 1 && s->pad_l == s->pad_r && s->stride_w >= 2;
}

/* out (+)= the native phase output y [n][(S·co)/b][T'][b] interleaved: out[n][ob][t·S + r] =
 * y[n][r·co/b + ob][t] for the t_out frames kept. One thread per (item, output block). */
static void interleave_native_phases(float *out, const float *y, int n, int co, int S, int t_conv, int t_out, int b,
                                     int accumulate, int threads)
{
    int ob_n = co / b;
    (void)threads;
#ifdef _OPENMP
#pragma omp parallel for num_threads((size_t)n * co * t_out >= NN_PAR_MIN ? threads : 1) schedule(static)
#endif
    for (int g = 0; g < n * ob_n; g++) {
        int item = g / ob_n, ob = g % ob_n;
        float *dst = out + ((size_t)item * ob_n + ob) * t_out * b;
        for (int r = 0; r < S; r++) {
            const float *src = y + ((size_t)item * S * ob_n + (size_t)r * ob_n + ob) * t_conv * b;
            for (int t = 0; t * S + r < t_out; t++)
                for (int c = 0; c < b; c++) {
                    float v = src[(size_t)t * b + c];
                    float *o = &dst[((size_t)t * S + r) * b + c];
                    *o = accumulate ? *o + v : v;
                }
        }
    }
}

/* w [ci, co, K] → wp [(r, co), ci, a] with k = (m_hi − a)·S + r + p, then the phases' bias
 * [(r, co)] after it. */
static void fill_phase_weights(const nn_conv_spec *s, const phase_plan *pl, const float *w, const float *b, float *wp)
{
    int S = s->stride_w, K = s->kw, ci = s->c_in, co = s->c_out, A = pl->taps;
    float *bp = wp + (size_t)S * co * ci * A;
    for (int r = 0; r < S; r++)
        for (int o = 0; o < co; o++) {
            float *dst = wp + ((size_t)r * co + o) * ci * A;
            for (int i = 0; i < ci; i++)
                for (int a = 0; a < A; a++) {
                    int k = (pl->m_hi - a) * S + r + s->pad_l;
                    dst[(size_t)i * A + a] = k >= 0 && k < K ? w[((size_t)i * co + o) * K + k] : 0.0f;
                }
            bp[(size_t)r * co + o] = b ? b[o] : 0.0f;
        }
}

/* The phases' weights and bias: kept in the model's weight cache when one is active (a stable
 * pointer, so the convolution below caches its blocked copy too), else rebuilt in scratch. */
static float *phase_weights(nn_ctx *c, cpu_state *st, const nn_conv_spec *s, const phase_plan *pl, const float *w,
                            const float *b, vc_error *err)
{
    size_t n = (size_t)s->stride_w * s->c_out * (s->c_in * (size_t)pl->taps + 1);
    struct { nn_conv_spec spec; const float *bias; } key;
    memset(&key, 0, sizeof key);
    key.spec = *s; /* the weights do not depend on the sequence's length or layout */
    key.spec.n = key.spec.in_h = key.spec.in_w = key.spec.pad_r = key.spec.pad_b = 0;
    key.spec.layout = NN_LAYOUT_CHANNELS_LAST;
    key.bias = b;
    if (c->wcache) {
        const void *hit = nn_wcache_find(c->wcache, w, &key, sizeof key);
        if (hit) return (float *)hit;
    }
    float *wp = c->wcache ? malloc(sizeof(float) * n) : slot(st, SLOT_PHASE_W, sizeof(float) * n);
    if (!wp) {
        vc_fail(err, VC_ERR_NOMEM, "out of memory (transposed convolution)");
        return NULL;
    }
    fill_phase_weights(s, pl, w, b, wp);
    if (!c->wcache) return wp;
    float *stored = (float *)nn_wcache_add(c->wcache, w, &key, sizeof key, wp, sizeof(float) * n);
    if (!stored) vc_fail(err, VC_ERR_NOMEM, "out of memory (transposed convolution)");
    return stored;
}

static int conv_transpose_by_phases(nn_ctx *c, cpu_state *st, const nn_conv_spec *s, float *out, const float *in,
                                    const float *w, const float *b, int accumulate, vc_error *err)
{
    phase_plan pl = plan_phases(s);
    int S = s->stride_w, ci = s->c_in, co = s->c_out, A = pl.taps, native = s->layout == NN_LAYOUT_NATIVE;
    size_t wn = (size_t)S * co * ci * A;
    size_t t_out = (size_t)nn_conv_spec_out_w(s), rows = (size_t)pl.t_conv * S;
    int direct = !native && rows == t_out && !accumulate;
    float *wp = phase_weights(c, st, s, &pl, w, b, err);
    if (!wp) return -1;
    float *y = direct ? out : slot(st, SLOT_PHASE_OUT, sizeof(float) * (size_t)s->n * rows * co);
    if (!y) return vc_fail(err, VC_ERR_NOMEM, "out of memory (transposed convolution)");
    float *bp = wp + wn;
    nn_conv_spec cs = {.n = s->n, .c_in = ci, .c_out = S * co, .groups = 1, .in_h = 1, .in_w = s->in_w, .kh = 1, .kw = A,
                       .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1, .pad_l = pl.m_hi, .pad_r = pl.pad_r,
                       .layout = s->layout};
    if (cpu_conv_forward(c, &cs, y, in, wp, bp, 0, err)) return -1;
    if (native) {
        interleave_native_phases(out, y, s->n, co, S, pl.t_conv, (int)t_out, cpu_native_block(NULL), accumulate, st->threads);
        return 0;
    }
    if (direct) return 0;
    if (accumulate) nn_add_into(out, y, t_out * co);
    else memcpy(out, y, sizeof(float) * t_out * co);
    return 0;
}

/* A 1×1 convolution of one input channel in the time-major layout (the NSF source mixed into the
 * last HiFi-GAN stage: 1 → 32 channels over 480 k samples) is an outer product; oneDNN's kernel
 * for it ran at a tenth of memory speed (311 ms for 10 s of 48 kHz audio on one core). */
static int is_channel_outer_product(const nn_conv_spec *s)
{
    return !s->transposed && !s->out_native && s->layout == NN_LAYOUT_CHANNELS_LAST && s->c_in == 1 && s->groups == 1 && s->kh == 1 &&
           s->kw == 1 && s->stride_h == 1 && s->stride_w == 1 && !s->pad_t && !s->pad_b && !s->pad_l && !s->pad_r;
}

static void channel_outer_product(const nn_conv_spec *s, float *out, const float *in, const float *w, const float *b,
                                  int accumulate, int threads)
{
    long rows = (long)s->n * s->in_h * s->in_w;
    int co = s->c_out;
    (void)threads;
#ifdef _OPENMP
#pragma omp parallel for num_threads((size_t)rows * co >= NN_PAR_MIN ? threads : 1) schedule(static)
#endif
    for (long r = 0; r < rows; r++) {
        float *o = out + (size_t)r * co;
        for (int k = 0; k < co; k++) {
            float v = w[k] * in[r] + (b ? b[k] : 0.0f);
            if (s->post_lrelu && v < 0) v *= s->lrelu_slope;
            o[k] = accumulate ? o[k] + v : v;
        }
    }
}

static int conv_forward_prim(nn_ctx *c, cpu_state *st, prim *p, float *out, const float *in, const float *w,
                             const float *b, int accumulate, vc_error *err);

static int cpu_conv_forward(nn_ctx *c, const nn_conv_spec *s, float *out, const float *in, const float *w,
                            const float *b, int accumulate, vc_error *err)
{
    cpu_state *st;
    if (cpu_state_get(c, &st, err)) return -1;
    if (is_channel_outer_product(s)) {
        channel_outer_product(s, out, in, w, b, accumulate, st->threads);
        return 0;
    }
    if (use_phases(s)) return conv_transpose_by_phases(c, st, s, out, in, w, b, accumulate, err);
    prim *p = get_prim(st, accumulate ? K_FWD_ACC : K_FWD, s, c->precision, b != NULL, err);
    if (!p) return -1;
    if (!st->profiling) return conv_forward_prim(c, st, p, out, in, w, b, accumulate, err);
    double t0 = omp_get_wtime();
    int rc = conv_forward_prim(c, st, p, out, in, w, b, accumulate, err);
    p->prof_calls++;
    p->prof_seconds += omp_get_wtime() - t0;
    return rc;
}

/* One forward convolution on p: the activations into p's formats and back, the weights from the
 * model's cache or converted. */
static int conv_forward_prim(nn_ctx *c, cpu_state *st, prim *p, float *out, const float *in, const float *w,
                             const float *b, int accumulate, vc_error *err)
{
    const void *src = as_prim(st, SLOT_SRC, &p->user_src, in, &p->prim_src, err);
    const void *wei = src ? weights_as_prim(c, st, p, w, err) : NULL;
    if (!src || !wei) return -1;
    int direct = dnnl_memory_desc_equal(&p->user_dst, &p->prim_dst);
    float *dst = direct ? out : slot(st, SLOT_OUT, dnnl_memory_desc_get_size(&p->prim_dst));
    if (!dst) return vc_fail(err, VC_ERR_NOMEM, "out of memory (convolution output)");
    if (!direct && accumulate && reorder(st, &p->user_dst, out, &p->prim_dst, dst, err)) return -1;
    arg args[4] = {{DNNL_ARG_SRC, &p->prim_src, src}, {DNNL_ARG_WEIGHTS, &p->prim_wei, wei},
                   {DNNL_ARG_DST, &p->prim_dst, dst}, {DNNL_ARG_BIAS, &p->bias_md, b}};
    if (execute(c, st, p, args, b ? 4 : 3, err)) return -1;
    return direct ? 0 : reorder(st, &p->prim_dst, dst, &p->user_dst, out, err);
}

static int cpu_conv_backward_data(nn_ctx *c, const nn_conv_spec *s, float *g_in, const float *g_out, const float *w,
                                  vc_error *err)
{
    cpu_state *st;
    if (cpu_state_get(c, &st, err)) return -1;
    prim *p = get_prim(st, K_BWD_DATA, s, c->precision, 0, err);
    if (!p) return -1;
    const void *wei = as_prim(st, SLOT_WEIGHTS, &p->user_wei, w, &p->prim_wei, err);
    const void *gy = wei ? as_prim(st, SLOT_DST, &p->user_dst, g_out, &p->prim_dst, err) : NULL;
    if (!gy) return -1;
    size_t n = dnnl_memory_desc_get_size(&p->user_src);
    int direct = dnnl_memory_desc_equal(&p->user_src, &p->prim_src);
    float *tmp = slot(st, SLOT_GRAD, dnnl_memory_desc_get_size(&p->prim_src));
    float *plain = direct ? tmp : slot(st, SLOT_GRAD2, n);
    if (!tmp || !plain) return vc_fail(err, VC_ERR_NOMEM, "out of memory (convolution backward)");
    arg args[3] = {{DNNL_ARG_DIFF_DST, &p->prim_dst, gy}, {DNNL_ARG_WEIGHTS, &p->prim_wei, wei},
                   {DNNL_ARG_DIFF_SRC, &p->prim_src, tmp}};
    if (execute(c, st, p, args, 3, err)) return -1;
    if (!direct && reorder(st, &p->prim_src, tmp, &p->user_src, plain, err)) return -1;
    nn_add_into(g_in, plain, n / sizeof(float));
    return 0;
}

static int cpu_conv_backward_weights(nn_ctx *c, const nn_conv_spec *s, float *g_w, float *g_b, const float *in,
                                     const float *g_out, vc_error *err)
{
    cpu_state *st;
    if (cpu_state_get(c, &st, err)) return -1;
    prim *p = get_prim(st, K_BWD_WEIGHTS, s, c->precision, g_b != NULL, err);
    if (!p) return -1;
    size_t wn = dnnl_memory_desc_get_size(&p->prim_wei), un = dnnl_memory_desc_get_size(&p->user_wei);
    float *dw = slot(st, SLOT_GRAD, wn), *dw_plain = slot(st, SLOT_GRAD2, un + (size_t)s->c_out * sizeof(float));
    if (!dw || !dw_plain) return vc_fail(err, VC_ERR_NOMEM, "out of memory (convolution backward)");
    float *db = dw_plain + un / sizeof(float);
    const void *x = as_prim(st, SLOT_SRC, &p->user_src, in, &p->prim_src, err);
    const void *gy = x ? as_prim(st, SLOT_DST, &p->user_dst, g_out, &p->prim_dst, err) : NULL;
    if (!gy) return -1;
    arg args[4] = {{DNNL_ARG_SRC, &p->prim_src, x}, {DNNL_ARG_DIFF_DST, &p->prim_dst, gy},
                   {DNNL_ARG_DIFF_WEIGHTS, &p->prim_wei, dw}, {DNNL_ARG_DIFF_BIAS, &p->bias_md, db}};
    if (execute(c, st, p, args, g_b ? 4 : 3, err)) return -1;
    if (g_w) {
        if (dnnl_memory_desc_equal(&p->prim_wei, &p->user_wei)) nn_add_into(g_w, dw, un / sizeof(float));
        else {
            if (reorder(st, &p->prim_wei, dw, &p->user_wei, dw_plain, err)) return -1;
            nn_add_into(g_w, dw_plain, un / sizeof(float));
        }
    }
    if (g_b) nn_add_into(g_b, db, (size_t)s->c_out);
    return 0;
}

/* ---- oneDNN matmuls. The bf16 GEMM: both operands converted to contiguous bf16 (oneDNN
 * reorders, which read the transposed or strided views directly), one matmul with fp32
 * accumulation whose output scale is alpha and whose sum post-op adds beta·C. Linear layers of
 * cached models: the weight prepacked once (fp32 or bf16), the bias fused. ---- */

static matmul_entry *get_matmul(cpu_state *st, const matmul_key *k, vc_error *err)
{
    matmul_entry *victim = NULL;
    st->tick++;
    for (int i = 0; i < st->n_matmuls; i++) {
        matmul_entry *e = &st->matmuls[i];
        if (!memcmp(&e->key, k, sizeof *k)) {
            e->used = st->tick;
            return e;
        }
        if (!victim || e->used < victim->used) victim = e;
    }
    matmul_entry *e = st->n_matmuls < MATMUL_CACHE ? &st->matmuls[st->n_matmuls++] : victim;
    if (e->prim) {
        dnnl_primitive_destroy(e->prim);
        dnnl_primitive_desc_destroy(e->pd);
    }
    memset(e, 0, sizeof *e);
    e->key = *k;
    e->used = st->tick;
    dnnl_dims_t da = {k->M, k->K}, db = {k->K, k->N}, dc = {k->M, k->N}, sc = {k->ldc, 1}, dbias = {1, k->N};
    dnnl_primitive_attr_t attr = NULL;
    dnnl_matmul_desc_t md;
    dnnl_data_type_t dt = k->f32 ? dnnl_f32 : dnnl_bf16;
    int ok = dnnl_memory_desc_init_by_tag(&e->a, 2, da, dt, dnnl_ab) == dnnl_success &&
             dnnl_memory_desc_init_by_tag(&e->b, 2, db, dt, k->weights_any ? dnnl_format_tag_any : dnnl_ab) ==
                 dnnl_success &&
             (!k->bias || dnnl_memory_desc_init_by_tag(&e->bias, 2, dbias, dnnl_f32, dnnl_ab) == dnnl_success) &&
             dnnl_memory_desc_init_by_strides(&e->c, 2, dc, dnnl_f32, sc) == dnnl_success &&
             dnnl_matmul_desc_init(&md, &e->a, &e->b, k->bias ? &e->bias : NULL, &e->c) == dnnl_success &&
             dnnl_primitive_attr_create(&attr) == dnnl_success;
    if (ok && k->alpha != 1.0f) ok = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &k->alpha) == dnnl_success;
    if (ok && k->beta != 0.0f) {
        dnnl_post_ops_t po;
        ok = dnnl_post_ops_create(&po) == dnnl_success;
        if (ok) {
            ok = dnnl_post_ops_append_sum(po, k->beta) == dnnl_success &&
                 dnnl_primitive_attr_set_post_ops(attr, po) == dnnl_success;
            dnnl_post_ops_destroy(po);
        }
    }
    ok = ok && dnnl_primitive_desc_create(&e->pd, &md, attr, st->engine, NULL) == dnnl_success &&
         dnnl_primitive_create(&e->prim, e->pd) == dnnl_success;
    if (ok && k->weights_any) e->b = *dnnl_primitive_desc_query_md(e->pd, dnnl_query_weights_md, 0);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (!ok) {
        if (e->pd) dnnl_primitive_desc_destroy(e->pd);
        memset(e, 0, sizeof *e);
        if (e == &st->matmuls[st->n_matmuls - 1]) st->n_matmuls--;
        vc_fail(err, VC_ERR_INTERNAL, "oneDNN: no bf16 matmul for %dx%dx%d", k->M, k->N, k->K);
        return NULL;
    }
    return e;
}

/* op(X) [rows, cols] of a row-major X with leading dimension ld, as a strided f32 view. */
static int view_md(dnnl_memory_desc_t *md, int rows, int cols, int trans, int ld)
{
    dnnl_dims_t d = {rows, cols}, s = {trans ? 1 : ld, trans ? ld : 1};
    return dnnl_memory_desc_init_by_strides(md, 2, d, dnnl_f32, s) == dnnl_success ? 0 : -1;
}

/* Executes matmul e on A and B (in e's formats and type), the optional fp32 bias and fp32 C. */
static int run_matmul(cpu_state *st, const matmul_entry *e, const void *A, const void *B, const float *bias, float *C,
                      vc_error *err)
{
    dnnl_memory_t m[4] = {0};
    int rc = mem(st, &e->a, A, &m[0], err) || mem(st, &e->b, B, &m[1], err) || mem(st, &e->c, C, &m[2], err) ||
             (bias && mem(st, &e->bias, bias, &m[3], err));
    if (!rc) {
        dnnl_exec_arg_t args[4] = {
            {DNNL_ARG_SRC, m[0]}, {DNNL_ARG_WEIGHTS, m[1]}, {DNNL_ARG_DST, m[2]}, {DNNL_ARG_BIAS, m[3]}};
        dnnl_status_t s = dnnl_primitive_execute(e->prim, st->stream, bias ? 4 : 3, args);
        if (s == dnnl_success) s = dnnl_stream_wait(st->stream);
        if (s != dnnl_success) rc = vc_fail(err, VC_ERR_INTERNAL, "oneDNN: matmul failed (status %d)", s);
    }
    for (int i = 0; i < 4; i++)
        if (m[i]) dnnl_memory_destroy(m[i]);
    return rc ? -1 : 0;
}

static int gemm_bf16(nn_ctx *c, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc, vc_error *err)
{
    cpu_state *st;
    if (cpu_state_get(c, &st, err)) return -1;
    matmul_key key = {M, N, K, ldc, alpha, beta, 0, 0, 0};
    matmul_entry *e = get_matmul(st, &key, err);
    if (!e) return -1;
    dnnl_memory_desc_t va, vb;
    if (view_md(&va, M, K, trans_a, lda) || view_md(&vb, K, N, trans_b, ldb))
        return vc_fail(err, VC_ERR_INTERNAL, "oneDNN: bad GEMM operand view");
    void *a16 = slot(st, SLOT_GEMM_A, dnnl_memory_desc_get_size(&e->a));
    void *b16 = slot(st, SLOT_GEMM_B, dnnl_memory_desc_get_size(&e->b));
    if (!a16 || !b16) return vc_fail(err, VC_ERR_NOMEM, "out of memory (bf16 GEMM)");
    omp_set_num_threads(nn_ctx_threads(c));
    if (reorder(st, &va, A, &e->a, a16, err) || reorder(st, &vb, B, &e->b, b16, err)) return -1;
    return run_matmul(st, e, a16, b16, NULL, C, err);
}

/* out[rows, n_out] = in[rows, n_in]·wᵀ + b with w (a model weight [n_out, n_in]) converted once
 * into the matmul kernel's own blocked format (bf16 or fp32, the context's precision) by the
 * active weight cache, and the bias added by the kernel. In fp32 the input is read in place; in
 * bf16 it is converted per call. dnnl_sgemm instead packs w again on every call: measured on the
 * F5 shapes, the prepacked matmul is faster (docs/PERFORMANCE.md). */
static int linear_cached(nn_ctx *c, float *out, const float *in, const float *w, const float *b, int rows, int n_in,
                         int n_out, vc_error *err)
{
    cpu_state *st;
    if (cpu_state_get(c, &st, err)) return -1;
    int f32 = c->precision != NN_PREC_BF16;
    matmul_key key = {rows, n_out, n_in, n_out, 1.0f, 0.0f, 1, b != NULL, f32};
    matmul_entry *e = get_matmul(st, &key, err);
    if (!e) return -1;
    dnnl_memory_desc_t va, vw;
    if (view_md(&va, rows, n_in, 0, n_in) || view_md(&vw, n_in, n_out, 1, n_in))
        return vc_fail(err, VC_ERR_INTERNAL, "oneDNN: bad linear operand view");
    omp_set_num_threads(nn_ctx_threads(c));
    /* The weights' format does not depend on rows (checked for M = 16…4000 with AVX-512 and
     * AVX2 kernels): one copy per weight, whatever the lengths a model runs at. */
    const void *packed = cached_reorder(c, st, &vw, w, &e->b, err);
    if (packed && f32) return run_matmul(st, e, in, packed, b, out, err);
    void *a16 = packed ? slot(st, SLOT_GEMM_A, dnnl_memory_desc_get_size(&e->a)) : NULL;
    if (!a16) return packed ? vc_fail(err, VC_ERR_NOMEM, "out of memory (bf16 linear)") : -1;
    if (reorder(st, &va, in, &e->a, a16, err)) return -1;
    return run_matmul(st, e, a16, packed, b, out, err);
}

static void cpu_gemm(nn_ctx *c, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc);

/* A product with a model weight (backend.h): the matmul kernel on the cached weights while a
 * model's weight cache is active, else the bias broadcast and the GEMM. */
static void cpu_linear(nn_ctx *c, float *out, const float *in, const float *w, const float *b, int rows, int n_in,
                       int n_out)
{
    vc_error err;
    /* fp32 prepacks only weights mapped from their file, whose pages the copy then replaces; a
     * heap weight (an fp16 checkpoint converted at load) would be held twice. bf16 always: its
     * copy is half the size and the kernel twice as fast. */
    int worth = c && c->wcache &&
                (c->precision == NN_PREC_BF16 ||
                 nn_wcache_source_mapped(c->wcache, w, sizeof(float) * (size_t)n_out * (size_t)n_in));
    if (worth && rows >= 16 && n_out >= 16 && n_in > 0 && linear_cached(c, out, in, w, b, rows, n_in, n_out, &err) == 0)
        return;
    /* no cache (training), a matrix-vector product, out of memory or no kernel: the GEMM below */
    if (b)
        for (int r = 0; r < rows; r++) memcpy(out + (size_t)r * n_out, b, sizeof(float) * (size_t)n_out);
    cpu_gemm(c, 0, 1, rows, n_out, n_in, 1.0f, in, n_in, w, n_in, b ? 1.0f : 0.0f, out, n_out);
}

static void cpu_gemm(nn_ctx *c, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0) return;
    /* bf16 only where it pays: a matrix-vector product (GRU steps) gains nothing from it */
    if (c && c->precision == NN_PREC_BF16 && K > 0 && M >= 16 && N >= 16) {
        vc_error err;
        if (gemm_bf16(c, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, &err) == 0) return;
        /* out of memory or no kernel: the fp32 GEMM below computes the same product */
    }
    omp_set_num_threads(nn_ctx_threads(c));
    /* Shapes are checked by the callers (asserted invariants); dnnl_sgemm only fails on bad arguments. */
    dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* oneDNN has no float64 GEMM: this one op stays on OpenBLAS (docs/ENGINE.md). */
static void cpu_gemm_f64(nn_ctx *c, int trans_a, int trans_b, int M, int N, int K, double alpha, const double *A,
                         int lda, const double *B, int ldb, double beta, double *C, int ldc)
{
    (void)c;
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha,
                A, lda, B, ldb, beta, C, ldc);
}

static void cpu_seq_to_native(nn_ctx *c, float *dst, const float *src, int C, int from, int n)
{
    seq_to_native(dst, src, C, from, n, cpu_native_block(c), nn_ctx_threads(c));
}

static void cpu_seq_from_native(nn_ctx *c, float *dst, int to, const float *src, int T, int C, int from, int n)
{
    seq_from_native(dst, to, src, T, C, from, n, cpu_native_block(c), nn_ctx_threads(c));
}

/* ---- per-shape statistics (bench only: docs/PERFORMANCE.md's "85 % of oneDNN alone") ---- */

static void cpu_profile(nn_ctx *c, int on)
{
    cpu_state *st;
    vc_error err;
    if (cpu_state_get(c, &st, &err)) return;
    st->profiling = on;
    if (!on) return;
    for (int i = 0; i < st->n_cached; i++) st->cache[i].prof_calls = 0, st->cache[i].prof_seconds = 0;
}

static double conv_gflop(const nn_conv_spec *s)
{
    double taps = (double)s->kh * s->kw, per = 2.0 * taps * s->n;
    if (s->transposed) return per * s->in_h * s->in_w * s->c_in * (s->c_out / s->groups) / 1e9;
    return per * nn_conv_spec_out_h(s) * nn_conv_spec_out_w(s) * s->c_out * (s->c_in / s->groups) / 1e9;
}

static void describe(const prim *p, char *out, size_t cap)
{
    const nn_conv_spec *s = &p->spec;
    const char *impl = NULL;
    dnnl_primitive_desc_query(p->pd, dnnl_query_impl_info_str, 0, &impl);
    static const char *const layouts[] = {"time-major", "channels-first", "native"};
    snprintf(out, cap, "%s%s %d→%d ch, %d×%d in, k %d×%d s %d d %d g %d, %s, %s%s, %s",
             s->transposed ? "convT" : "conv", p->kind == K_FWD_ACC ? "+sum" : "", s->c_in, s->c_out, s->in_h,
             s->in_w, s->kh, s->kw, s->stride_w, s->dil_w, s->groups, layouts[s->layout],
             p->prec == NN_PREC_BF16 ? "bf16" : "fp32", s->post_lrelu ? ", lrelu" : "", impl ? impl : "?");
}

/* Seconds per call of p's primitive alone, its operands already in its formats (what oneDNN
 * reaches for this shape): a warm-up, then calls until 0.2 s or 20 calls. */
static int time_alone(nn_ctx *c, cpu_state *st, prim *p, double *seconds, vc_error *err)
{
    size_t nb[4] = {dnnl_memory_desc_get_size(&p->prim_src), dnnl_memory_desc_get_size(&p->prim_wei),
                    dnnl_memory_desc_get_size(&p->prim_dst), (size_t)p->spec.c_out * sizeof(float)};
    void *m[4];
    int rc = 0;
    for (int i = 0; i < 4; i++) {
        m[i] = aligned_alloc(64, (nb[i] + 63) / 64 * 64);
        if (m[i]) memset(m[i], 0, nb[i]); /* zeros of either type: no denormals */
        else rc = vc_fail(err, VC_ERR_NOMEM, "out of memory (profile)");
    }
    arg args[4] = {{DNNL_ARG_SRC, &p->prim_src, m[0]}, {DNNL_ARG_WEIGHTS, &p->prim_wei, m[1]},
                   {DNNL_ARG_DST, &p->prim_dst, m[2]}, {DNNL_ARG_BIAS, &p->bias_md, m[3]}};
    int n = 0;
    double t0 = 0;
    for (int k = 0; rc == 0 && k < 21; k++) {
        if (k == 1) t0 = omp_get_wtime();
        rc = execute(c, st, p, args, p->has_bias ? 4 : 3, err);
        if (k >= 1) n++;
        if (k >= 1 && omp_get_wtime() - t0 > 0.2) break;
    }
    if (rc == 0) *seconds = (omp_get_wtime() - t0) / n;
    for (int i = 0; i < 4; i++) free(m[i]);
    return rc;
}

static int cpu_profile_stats(nn_ctx *c, nn_op_stat **out, int *n, vc_error *err)
{
    cpu_state *st;
    *out = NULL;
    *n = 0;
    if (cpu_state_get(c, &st, err)) return -1;
    nn_op_stat *v = calloc((size_t)st->n_cached + 1, sizeof *v);
    if (!v) return vc_fail(err, VC_ERR_NOMEM, "out of memory (profile)");
    int was = st->profiling, rc = 0;
    st->profiling = 0;
    for (int i = 0; rc == 0 && i < st->n_cached; i++) {
        prim *p = &st->cache[i];
        if (!p->prof_calls) continue;
        nn_op_stat *o = &v[(*n)++];
        describe(p, o->what, sizeof o->what);
        o->calls = p->prof_calls;
        o->seconds = p->prof_seconds;
        o->gflop = conv_gflop(&p->spec);
        rc = time_alone(c, st, p, &o->alone_seconds, err);
    }
    st->profiling = was;
    if (rc) { free(v); *n = 0; return -1; }
    *out = v;
    return 0;
}

const nn_backend nn_cpu_backend = {
    .name = "cpu-onednn",
    .conv_forward = cpu_conv_forward,
    .conv_backward_data = cpu_conv_backward_data,
    .conv_backward_weights = cpu_conv_backward_weights,
    .gemm = cpu_gemm,
    .linear = cpu_linear,
    .gemm_f64 = cpu_gemm_f64,
    .has_bf16 = cpu_has_bf16,
    .native_block = cpu_native_block,
    .seq_to_native = cpu_seq_to_native,
    .seq_from_native = cpu_seq_from_native,
    .profile = cpu_profile,
    .profile_stats = cpu_profile_stats,
    .release = cpu_release,
};
