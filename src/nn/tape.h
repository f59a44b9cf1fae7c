/*
 * A small reverse-mode tape for training (RVC's GAN step). Why a tape and not llm.c-style
 * hand-chained backward calls: the RVC generator is a deep composition (text encoder with
 * relative attention, 16-layer WaveNet posterior encoder, 4 coupling flows, NSF-HiFiGAN with
 * 12 resblocks) and the discriminator is run four times per step with different inputs;
 * recording each op once and replaying the list backwards keeps every layer's forward next
 * to its backward (one op = one forward + one backward function, both in the same file)
 * without writing the model's backward twice.
 *
 * Design:
 *  - Every value is a node: a float32 array shaped [B, C, T, W] (row-major; W = 1 except for
 *    DiscriminatorP's 2-D view, where W = period). Ops run eagerly: an op computes its output
 *    when it is recorded and keeps only what its backward needs (inputs stay on the tape).
 *  - Leaves are parameters (value and gradient buffers owned by the caller, gradient
 *    accumulated in place) or constants (no gradient). A node needs a gradient when any input
 *    does; ops skip work for inputs that do not.
 *  - ag_backward(t, loss) seeds d loss = 1 and walks the tape in reverse.
 *  - Out of memory inside an op sets t->failed; the op returns -1 and every later op given -1
 *    returns -1, so callers check once (ag_ok) at the end of a graph.
 *  - Cancellation (ag_tape_set_cancel): every op recorded and every node the reverse walk
 *    visits first asks the caller's requested(ctx); a yes fails the tape the same way and sets
 *    t->cancelled. No single op runs for long, so a step of tens of seconds ends within a
 *    fraction of a second of the request, wherever it is. The caller must then drop the step
 *    (gradients are partial; no optimizer update).
 * The tape owns every node buffer it allocated; ag_tape_free releases them all (to the arena
 * when it has one: a training step then reuses the same memory as the step before). With an
 * arena, the gradient of an op's output is given back as soon as ag_backward has run that op's
 * backward: only leaves' gradients (the caller's) outlive the walk.
 * Recording a node may move the node array: never keep an ag_node pointer across an op call.
 */
#ifndef VC_NN_TAPE_H
#define VC_NN_TAPE_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "nn/arena.h"

#define AG_MAX_IN 5

typedef struct ag_tape ag_tape;
typedef struct ag_node ag_node;
typedef void (*ag_backward_fn)(ag_tape *t, ag_node *n);

struct ag_node {
    int dims[4]; /* B, C, T, W */
    size_t n;
    float *val, *grad;
    int owns_val, owns_grad, needs_grad;
    int grad_spare; /* grad is the arena's (nn_arena_take_zero): given back once the walk passes */
    int val_spare;  /* val is the arena's spare buffer (inference tapes), given back when the node is dropped */
    int native;     /* val is in the backend's blocked layout (ag_to_native), not [B, C, T, W] */
    int param;      /* made by ag_param: val is the caller's parameter memory, stable across tapes */
    int in[AG_MAX_IN];
    int ip[8];
    float fp[2];
    void *aux; /* op-owned saved data: free_aux(aux) when set, then free(aux) */
    void (*free_aux)(void *aux);
    ag_backward_fn backward;
};

/* requested(ctx) != 0: stop now. Polled once per op, so it must be cheap (an atomic load). */
typedef struct ag_cancel {
    int (*requested)(void *ctx);
    void *ctx;
} ag_cancel;

struct ag_tape {
    nn_arena *arena;      /* when set, node values and gradients come from it (ag_tape_init_arena) */
    int infer;            /* values from the arena's spare buffers, scopes release them (ag_tape_init_infer) */
    nn_arena_mark mark;   /* where the arena stood when the tape opened: ag_tape_free returns to it */
    ag_node *nodes;
    int count, cap;
    int failed;
    int cancelled;    /* failed because cancellation was requested */
    ag_cancel cancel; /* requested == NULL: never cancelled */
};

void ag_tape_init(ag_tape *t);
/* Node values and gradients from `arena` instead of the heap; the tape's memory goes back to the
 * arena when it is freed. Tapes sharing an arena must be freed in the reverse order of opening. */
void ag_tape_init_arena(ag_tape *t, nn_arena *arena);
void ag_tape_free(ag_tape *t);
static inline ag_node *ag_at(ag_tape *t, int i) { return &t->nodes[i]; }
static inline int ag_ok(const ag_tape *t) { return !t->failed; }
/* c may be NULL (no cancellation). */
void ag_tape_set_cancel(ag_tape *t, const ag_cancel *c);
/* Polls the cancel hook; 1 (and the tape failed) when cancellation was requested. Ops that run
 * long loops of their own may call it between chunks. */
int ag_poll_cancel(ag_tape *t);

/* Leaves. ag_param: val/grad belong to the caller (grad accumulated, never zeroed here).
 * ag_const copies nothing: val must outlive the tape. ag_const_copy copies. */
int ag_param(ag_tape *t, float *val, float *grad, int B, int C, int T, int W);
int ag_const(ag_tape *t, const float *val, int B, int C, int T, int W);
int ag_const_copy(ag_tape *t, const float *val, int B, int C, int T, int W);

/* Internal helpers for op files: a new node with inputs (−1 = none), gradient buffer. */
int ag_new(ag_tape *t, int B, int C, int T, int W, const int *in, int n_in);
/* The same with the value not zeroed, for ops that write every element (convolutions). */
int ag_new_raw(ag_tape *t, int B, int C, int T, int W, const int *in, int n_in);
float *ag_grad(ag_tape *t, int i);
int ag_needs(ag_tape *t, int i);
/* A node of a's shape whose value is a's buffer (the *_into ops below write their result there). */
int ag_new_over(ag_tape *t, int a, const int *in, int n_in);

void ag_backward(ag_tape *t, int loss);

/* ---- inference on a tape ----
 * The same ops run a model's forward without gradients when no leaf has one (parameters put on
 * the tape with grad NULL): inference and training share one op set and one graph. An inference
 * tape (ag_tape_init_infer) takes every node's value from the arena's buffers kept by size
 * (nn_arena_take_zero) and gives it back when the node is dropped, so a forward over minutes of
 * audio need not keep every activation until the end: ag_scope_open marks the tape;
 * ag_scope_keep drops every node recorded since the mark, gives their buffers back except the one
 * holding `keep`'s value, and returns `keep` as a new leaf. A scope opened once before a loop and
 * kept at the end of every pass holds one pass's output at a time. Peak memory is then the live
 * values of the open scopes, as PyTorch's reference counting gives, with no copies. On a tape that
 * is not an inference tape, or where a node since the mark needs a gradient, keep changes nothing
 * and returns `keep`: the backward walk needs every node. */
typedef struct ag_scope { int count; } ag_scope;
void ag_tape_init_infer(ag_tape *t, nn_arena *arena);
ag_scope ag_scope_open(ag_tape *t);
int ag_scope_keep(ag_tape *t, ag_scope s, int keep);

/* ---- elementwise and structural ops (tape_ops.c) ---- */
int ag_add(ag_tape *t, int a, int b);             /* b same shape, or [B,C,1,1] broadcast over T·W */
int ag_mul(ag_tape *t, int a, int b);             /* same shape */
int ag_scale(ag_tape *t, int a, float s);
int ag_mask(ag_tape *t, int a, const float *mask); /* mask [B, T] (constant), broadcast over C, W */
int ag_exp(ag_tape *t, int a);
int ag_tanh(ag_tape *t, int a);
int ag_relu(ag_tape *t, int a);
/* The same ops writing their result over a's values, as PyTorch's in-place ops do, to keep one
 * activation instead of two. Only for an `a` that nothing reads after this op and whose value no
 * backward needs: a convolution's output or a sum (conv, add and scale backwards read no output).
 * leaky_relu_into's backward tests the output's sign, which is the input's for slope ≥ 0. */
int ag_add_into(ag_tape *t, int a, int b);
int ag_scale_into(ag_tape *t, int a, float s);
int ag_leaky_relu_into(ag_tape *t, int a, float slope);
int ag_leaky_relu(ag_tape *t, int a, float slope);
int ag_gate(ag_tape *t, int a);                   /* tanh(a[:, :C/2]) · sigmoid(a[:, C/2:]) */
int ag_slice_c(ag_tape *t, int a, int c0, int c1);
int ag_concat_c(ag_tape *t, int a, int b);
int ag_flip_c(ag_tape *t, int a);
int ag_slice_t(ag_tape *t, int a, const int64_t *starts, int len); /* per batch item start */
int ag_reflect_pad_t(ag_tape *t, int a, int left, int right);      /* W must be 1 */
int ag_reshape(ag_tape *t, int a, int B, int C, int T, int W);     /* same element count */
int ag_embedding(ag_tape *t, int table, const int64_t *idx, int B, int T); /* table [N, D] → [B, D, T] */

/* ---- the backend's blocked layout (tape_conv.c) ----
 * A node may hold its values (and gradient) in the backend's native layout (NN_LAYOUT_NATIVE:
 * [B][C/b][T][b], b = nn_native_block()) instead of [B, C, T]; convolutions then read and write
 * it, forward and backward, with no reorders. ag_to_native returns x itself when b does not
 * divide C or when W > 1. Convolutions keep the layout when their output channels allow it and
 * convert back otherwise. Element-wise ops (add, mul, scale, exp, tanh, leaky_relu and the _into
 * forms) treat it as any array, converting a second operand to the first one's layout; every
 * other op asserts [B, C, T] (ag_from_native first). The conversions' backward is the opposite
 * conversion of the gradient. */
int ag_to_native(ag_tape *t, int x);
#define AG_PLAIN(t, x) assert((x) < 0 || !(t)->nodes[(x)].native) /* an op that needs [B, C, T] */
int ag_from_native(ag_tape *t, int x);
/* b in a's layout (b itself when they already agree). */
int ag_layout_like(ag_tape *t, int b, int a);

/* ---- convolutions (tape_conv.c); weights in PyTorch layouts ---- */
/* lrelu: LeakyReLU(slope) fused after the bias (one pass fewer over the output; its backward
 * reads the output's sign, the input's for slope ≥ 0). */
typedef struct ag_conv_desc { int stride, dilation, pad_left, pad_right, groups, lrelu; float slope; } ag_conv_desc;
/* x [B, Cin, T, W], w [Cout, Cin/groups, K] (a (K,1) Conv2d kernel is the same) → along T. b may be −1. */
int ag_conv(ag_tape *t, int x, int w, int b, const ag_conv_desc *d);
/* acc + ag_conv(x, w, b, d) in acc's layout: a residual connection, or a source mixed into a
 * stage. On an inference tape the convolution adds into acc's values itself (oneDNN's sum
 * post-op: no separate pass over the sum; a plain x writes straight into a blocked acc), so acc
 * must be a value nothing reads after this op (ag_add_into's rule). On a training tape the sum
 * goes over the convolution's output, acc kept for backward. */
int ag_conv_add_into(ag_tape *t, int x, int w, int b, const ag_conv_desc *d, int acc);
/* x [B, Cin, T], w [Cin, Cout, K] → [B, Cout, (T−1)·stride − 2·pad + K]. */
int ag_conv_transpose(ag_tape *t, int x, int w, int b, int stride, int pad);
/* weight = g · v / ‖v‖ per output row: g [O], v [O, rest] (node dims C = rest). */
int ag_weight_norm(ag_tape *t, int g, int v);

/* ---- sequence ops (tape_seq.c) ---- */
int ag_layer_norm_c(ag_tape *t, int x, int gamma, int beta, float eps); /* over C of [B, C, T] */
/* VITS relative-position self-attention (window w, shared heads): q, k, v [B, C, T];
 * rel_k, rel_v [2w+1, C/heads]; lengths[B] masks keys/queries (scores −1e4 outside). */
int ag_rel_attention(ag_tape *t, int q, int k, int v, int rel_k, int rel_v, int heads, int window,
                     const int64_t *lengths);

/* ---- losses (tape_loss.c), each a [1] node ---- */
int ag_lsgan(ag_tape *t, int x, float target);   /* mean((target − x)²) */
int ag_l1_const(ag_tape *t, const float *ref, int x); /* mean(|ref − x|), ref constant */
int ag_kl(ag_tape *t, int z_p, int logs_q, int m_p, int logs_p, const float *mask); /* mask [B, T] */
/* log(clamp(basis · |STFT(x)|, clip)): x [B, 1, L]; reflect pad, frames of n_fft every hop,
 * periodic Hann window, magnitude sqrt(re²+im²+mag_eps); basis [n_mels, n_fft/2+1]
 * → [B, n_mels, frames]. */
int ag_log_mel(ag_tape *t, int x, const float *basis, int n_mels, int n_fft, int hop, int pad, float mag_eps,
               float clip);

#endif
