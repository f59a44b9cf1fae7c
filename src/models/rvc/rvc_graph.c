/*
 * Parameter sets and tape helpers for the RVC training graphs (see rvc_graph.h).
 */
#include "models/rvc/rvc_graph.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t padded(size_t n) { return (n + 15) / 16 * 16; } /* 64-byte aligned offsets */

int rvc_paramset_from_specs(rvc_paramset *ps, const nn_tensor_spec *specs, size_t n, vc_error *err)
{
    memset(ps, 0, sizeof *ps);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (specs[i].ndim < 0 || specs[i].ndim > 4)
            return vc_fail(err, VC_ERR_INVALID_FORMAT, "parameter '%s' has %d dimensions", specs[i].name, specs[i].ndim);
        size_t k = 1;
        for (int d = 0; d < specs[i].ndim; d++) k *= (size_t)specs[i].shape[d];
        total += padded(k);
    }
    ps->p = calloc(n ? n : 1, sizeof(rvc_param));
    ps->block = aligned_alloc(64, sizeof(float) * 4 * (total ? total : 16));
    if (!ps->p || !ps->block) {
        free(ps->p); free(ps->block);
        memset(ps, 0, sizeof *ps);
        return vc_fail(err, VC_ERR_NOMEM, "out of memory (parameters)");
    }
    memset(ps->block, 0, sizeof(float) * 4 * total);
    ps->total = total;
    ps->cap = n ? (int)n : 1;
    for (size_t i = 0, off = 0; i < n; i++) {
        rvc_param *p = &ps->p[ps->count++];
        snprintf(p->name, sizeof p->name, "%s", specs[i].name);
        p->ndim = specs[i].ndim;
        p->n = 1;
        for (int d = 0; d < 4; d++) p->dims[d] = 1;
        for (int d = 0; d < specs[i].ndim; d++) {
            p->shape[d] = specs[i].shape[d];
            p->dims[d] = (int)specs[i].shape[d];
            p->n *= (size_t)specs[i].shape[d];
        }
        p->val = ps->block + off; /* the same offset in each of the four regions */
        p->grad = ps->block + total + off;
        p->m = ps->block + 2 * total + off;
        p->v = ps->block + 3 * total + off;
        p->in_block = 1;
        off += padded(p->n);
    }
    return 0;
}

int rvc_paramset_load(rvc_paramset *ps, const nn_weights *w, vc_error *err)
{
    memset(ps, 0, sizeof *ps);
    size_t n = nn_weights_count(w), k = 0;
    nn_tensor_spec *specs = calloc(n ? n : 1, sizeof *specs);
    const nn_tensor **tensors = calloc(n ? n : 1, sizeof *tensors);
    int rc = specs && tensors ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (parameters)");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *name = nn_weights_name(w, i);
        const nn_tensor *t = nn_weights_get(w, name);
        if (!t || t->dtype != NN_F32 || t->ndim > 4) continue;
        snprintf(specs[k].name, sizeof specs[k].name, "%s", name);
        specs[k].ndim = t->ndim;
        memcpy(specs[k].shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
        tensors[k++] = t;
    }
    if (rc == 0) rc = rvc_paramset_from_specs(ps, specs, k, err);
    for (size_t i = 0; rc == 0 && i < k; i++) memcpy(ps->p[i].val, tensors[i]->data, sizeof(float) * ps->p[i].n);
    free(specs);
    free(tensors);
    return rc;
}

int rvc_paramset_add_value(rvc_paramset *ps, const char *name, const int64_t *shape, int ndim, float *val, int owned,
                           vc_error *err)
{
    assert(ndim >= 1 && ndim <= 4);
    if (ps->count == ps->cap) {
        int cap = ps->cap ? 2 * ps->cap : 64;
        rvc_param *grown = realloc(ps->p, sizeof(rvc_param) * (size_t)cap);
        if (!grown) {
            if (owned) free(val);
            return vc_fail(err, VC_ERR_NOMEM, "out of memory (parameters)");
        }
        ps->p = grown;
        ps->cap = cap;
    }
    rvc_param *p = &ps->p[ps->count++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->n = 1;
    for (int d = 0; d < 4; d++) p->dims[d] = 1;
    for (int d = 0; d < ndim; d++) {
        p->shape[d] = shape[d];
        p->dims[d] = (int)shape[d];
        p->n *= (size_t)shape[d];
    }
    p->val = val;
    p->borrowed = !owned;
    return 0;
}

void rvc_paramset_free(rvc_paramset *ps)
{
    for (int i = 0; i < ps->count; i++)
        if (!ps->p[i].borrowed && !ps->p[i].in_block) free(ps->p[i].val); /* an inference set's folded kernels */
    free(ps->block);
    free(ps->p);
    memset(ps, 0, sizeof *ps);
}

rvc_param *rvc_paramset_find(const rvc_paramset *ps, const char *name)
{
    for (int i = 0; i < ps->count; i++)
        if (!strcmp(ps->p[i].name, name)) return &ps->p[i];
    return NULL;
}

/* The three below run once over the whole gradient (and moment) region. The padding between
 * parameters stays zero: its gradient is 0, so AdamW leaves its value and moments at 0. */
void rvc_paramset_zero_grad(rvc_paramset *ps)
{
    assert(ps->block || ps->count == 0);
    if (ps->block) memset(ps->block + ps->total, 0, sizeof(float) * ps->total);
}

double rvc_paramset_grad_norm(const rvc_paramset *ps)
{
    return ps->block ? sqrt(nn_sum_squares(ps->block + ps->total, ps->total)) : 0.0;
}

void rvc_paramset_adamw(rvc_paramset *ps, const nn_adamw *o, int step)
{
    if (ps->block)
        nn_adamw_step(o, step, ps->block, ps->block + ps->total, ps->block + 2 * ps->total, ps->block + 3 * ps->total, ps->total);
}

static rvc_param *vfind(const rvc_graph *g, const char *fmt, va_list ap)
{
    char name[160];
    vsnprintf(name, sizeof name, fmt, ap);
    return rvc_paramset_find(g->ps, name);
}

int rvc_graph_has(const rvc_graph *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rvc_param *p = vfind(g, fmt, ap);
    va_end(ap);
    return p != NULL;
}

int rvc_graph_param(rvc_graph *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char name[160];
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    rvc_param *p = rvc_paramset_find(g->ps, name);
    if (!p) {
        if (!g->missing[0]) snprintf(g->missing, sizeof g->missing, "%s", name);
        return -1;
    }
    return ag_param(g->t, p->val, g->train ? p->grad : NULL, p->dims[0], p->dims[1], p->dims[2], p->dims[3]);
}

int rvc_graph_weight(rvc_graph *g, const char *prefix)
{
    char name[160];
    snprintf(name, sizeof name, "%s.weight_g", prefix);
    const rvc_param *wg = rvc_paramset_find(g->ps, name);
    if (!wg) return rvc_graph_param(g, "%s.weight", prefix);
    for (int i = 0; i < g->n_normed; i++)
        if (g->normed[i].g == wg) return g->normed[i].node;
    int w = ag_weight_norm(g->t, rvc_graph_param(g, "%s.weight_g", prefix), rvc_graph_param(g, "%s.weight_v", prefix));
    if (w >= 0 && g->n_normed < RVC_GRAPH_NORMED) g->normed[g->n_normed++] = (rvc_graph_normed){wg, w};
    return w;
}

/* The convolution `prefix` of x, added into acc (ag_conv_add_into) when acc ≥ 0. */
static int graph_conv(rvc_graph *g, int x, const char *prefix, ag_conv_desc d, int acc)
{
    int w = rvc_graph_weight(g, prefix);
    int b = rvc_graph_has(g, "%s.bias", prefix) ? rvc_graph_param(g, "%s.bias", prefix) : -1;
    if (w < 0 || x < 0) return -1;
    d.groups = g->t->nodes[x].dims[1] / g->t->nodes[w].dims[1];
    return acc >= 0 ? ag_conv_add_into(g->t, x, w, b, &d, acc) : ag_conv(g->t, x, w, b, &d);
}

int rvc_graph_conv(rvc_graph *g, int x, const char *prefix, int stride, int dilation, int pad_left, int pad_right)
{
    return graph_conv(g, x, prefix, (ag_conv_desc){stride, dilation, pad_left, pad_right, 1, 0, 0.0f}, -1);
}

int rvc_graph_conv_add_into(rvc_graph *g, int x, const char *prefix, int stride, int pad, int acc)
{
    return acc < 0 ? -1 : graph_conv(g, x, prefix, (ag_conv_desc){stride, 1, pad, pad, 1, 0, 0.0f}, acc);
}

int rvc_graph_conv_lrelu(rvc_graph *g, int x, const char *prefix, int dilation, int pad, float slope)
{
    return graph_conv(g, x, prefix, (ag_conv_desc){1, dilation, pad, pad, 1, 1, slope}, -1);
}
