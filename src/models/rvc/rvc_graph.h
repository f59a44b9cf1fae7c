/*
 * Shared pieces of the RVC training graphs (rvc_train.c builds the generator, rvc_disc.c the
 * discriminator): a named parameter set with gradients and AdamW moments, and helpers that
 * put parameters on a tape by their official state_dict names (weight-normed convolutions
 * are recognised by their weight_g/weight_v pair).
 */
#ifndef VC_MODELS_RVC_GRAPH_H
#define VC_MODELS_RVC_GRAPH_H

#include <stddef.h>

#include "base/error.h"
#include "nn/optim.h"
#include "nn/tape.h"
#include "nn/safetensors_write.h"
#include "nn/weights.h"

typedef struct rvc_param {
    char name[160];
    int dims[4];
    int ndim;
    int64_t shape[4];
    size_t n;
    float *val, *grad, *m, *v; /* in the set's block (training), or val alone (inference) */
    int in_block;              /* val, grad, m, v point into the set's block */
    int borrowed;              /* val belongs to someone else (an inference set's weights file) */
} rvc_param;

/* Training sets keep values, gradients and both AdamW moments each in one contiguous region of
 * one block (a parameter sits at the same offset in all four), so zeroing the gradients, their
 * norm and the AdamW update are one loop each over the whole model. */
typedef struct rvc_paramset {
    rvc_param *p;
    int count, cap;
    float *block;  /* 4 × total floats: values | gradients | m | v (NULL for inference sets) */
    size_t total;  /* floats per region, each parameter padded to 16 */
} rvc_paramset;

/* A training set of these names and shapes, all zero. */
int rvc_paramset_from_specs(rvc_paramset *ps, const nn_tensor_spec *specs, size_t n, vc_error *err);
/* Every F32 tensor of w becomes a parameter (values copied, gradients and moments zeroed). */
int rvc_paramset_load(rvc_paramset *ps, const nn_weights *w, vc_error *err);
void rvc_paramset_free(rvc_paramset *ps);
/* Inference: a value without gradient or moments. owned: the set frees val; else val is
 * borrowed and must outlive the set (a tensor of an open weights file). */
int rvc_paramset_add_value(rvc_paramset *ps, const char *name, const int64_t *shape, int ndim, float *val, int owned,
                           vc_error *err);
rvc_param *rvc_paramset_find(const rvc_paramset *ps, const char *name);
void rvc_paramset_zero_grad(rvc_paramset *ps);
/* Total 2-norm of all gradients, as commons.clip_grad_value_(params, None) returns it. */
double rvc_paramset_grad_norm(const rvc_paramset *ps);
void rvc_paramset_adamw(rvc_paramset *ps, const nn_adamw *o, int step);

/* A graph under construction: the tape, the parameter set, and whether its gradients are wanted
 * (0: parameters enter as constants, e.g. the discriminator during the generator's step). */
#define RVC_GRAPH_NORMED 256
typedef struct rvc_graph_normed { const rvc_param *g; int node; } rvc_graph_normed;
typedef struct rvc_graph {
    ag_tape *t;
    rvc_paramset *ps;
    int train;
    char missing[160]; /* first parameter name that was not found */
    /* weight_norm nodes already on the tape, by their weight_g: a network run twice on one tape
     * (the discriminator on real and generated audio) normalises each weight once, and the
     * gradient of the shared node is the sum of both uses, as it is for two separate nodes */
    rvc_graph_normed normed[RVC_GRAPH_NORMED];
    int n_normed;
} rvc_graph;

int rvc_graph_param(rvc_graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rvc_graph_has(const rvc_graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* prefix.weight, or weight_norm(prefix.weight_g, prefix.weight_v) when those exist. */
int rvc_graph_weight(rvc_graph *g, const char *prefix);
/* Conv with prefix's weight and (when present) bias. */
int rvc_graph_conv(rvc_graph *g, int x, const char *prefix, int stride, int dilation, int pad_left, int pad_right);
/* LeakyReLU(slope)(conv(x)), stride 1, symmetric padding: the activation fused into the conv. */
/* acc + the convolution `prefix` of x (undilated, padded by pad on both sides), written over
 * acc (ag_conv_add_into: acc is read by nothing after this). */
int rvc_graph_conv_add_into(rvc_graph *g, int x, const char *prefix, int stride, int pad, int acc);
int rvc_graph_conv_lrelu(rvc_graph *g, int x, const char *prefix, int dilation, int pad, float slope);

#endif
