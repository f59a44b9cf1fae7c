/*
 * Tape bookkeeping: node storage, leaves, lazy gradient buffers and the reverse walk.
 * The ops themselves live in tape_ops.c, tape_conv.c, tape_seq.c and tape_loss.c (see tape.h).
 */
#include "nn/tape.h"

#include <stdlib.h>
#include <string.h>

void ag_tape_init(ag_tape *t) { memset(t, 0, sizeof *t); }

void ag_tape_init_arena(ag_tape *t, nn_arena *arena)
{
    ag_tape_init(t);
    t->arena = arena;
    if (arena) t->mark = nn_arena_mark_now(arena);
}

void ag_tape_init_infer(ag_tape *t, nn_arena *arena)
{
    ag_tape_init_arena(t, arena);
    t->infer = arena != NULL;
}

/* A node's value buffer (zeroed unless `raw`: its op overwrites it whole); an inference tape's
 * comes from the arena's spare buffers. */
static float *node_val(ag_tape *t, ag_node *n, int raw)
{
    size_t bytes = sizeof(float) * (n->n ? n->n : 1);
    if (t->infer) {
        n->val = raw ? nn_arena_take(t->arena, bytes) : nn_arena_take_zero(t->arena, bytes);
        n->val_spare = n->val != NULL;
    } else if (t->arena) {
        n->val = raw ? nn_arena_alloc(t->arena, bytes) : nn_arena_alloc_zero(t->arena, bytes);
    } else {
        n->val = raw ? malloc(bytes) : calloc(1, bytes);
        n->owns_val = 1;
    }
    if (!n->val) t->failed = 1;
    return n->val;
}

static void drop_node(ag_tape *t, ag_node *n)
{
    if (n->owns_val) free(n->val);
    if (n->val_spare) nn_arena_give(t->arena, n->val, sizeof(float) * (n->n ? n->n : 1));
    if (n->owns_grad) free(n->grad);
    if (n->grad_spare) nn_arena_give(t->arena, n->grad, sizeof(float) * (n->n ? n->n : 1));
    if (n->free_aux && n->aux) n->free_aux(n->aux);
    free(n->aux);
}

void ag_tape_free(ag_tape *t)
{
    for (int i = 0; i < t->count; i++) drop_node(t, &t->nodes[i]);
    free(t->nodes);
    if (t->arena) nn_arena_release(t->arena, t->mark);
    memset(t, 0, sizeof *t);
}

void ag_tape_set_cancel(ag_tape *t, const ag_cancel *c)
{
    t->cancel = c ? *c : (ag_cancel){0};
}

int ag_poll_cancel(ag_tape *t)
{
    if (!t->cancelled && t->cancel.requested && t->cancel.requested(t->cancel.ctx)) {
        t->cancelled = 1;
        t->failed = 1;
    }
    return t->cancelled;
}

static int push(ag_tape *t, int B, int C, int T, int W)
{
    if (t->failed || ag_poll_cancel(t)) return -1;
    if (t->count == t->cap) {
        int cap = t->cap ? t->cap * 2 : 256;
        ag_node *nodes = realloc(t->nodes, sizeof(ag_node) * (size_t)cap);
        if (!nodes) { t->failed = 1; return -1; }
        t->nodes = nodes;
        t->cap = cap;
    }
    ag_node *n = &t->nodes[t->count];
    memset(n, 0, sizeof *n);
    n->dims[0] = B; n->dims[1] = C; n->dims[2] = T; n->dims[3] = W;
    n->n = (size_t)B * C * T * W;
    for (int k = 0; k < AG_MAX_IN; k++) n->in[k] = -1;
    return t->count++;
}

int ag_param(ag_tape *t, float *val, float *grad, int B, int C, int T, int W)
{
    int i = push(t, B, C, T, W);
    if (i < 0) return -1;
    ag_node *n = &t->nodes[i];
    n->val = val;
    n->grad = grad;
    n->needs_grad = grad != NULL;
    n->param = 1;
    return i;
}

int ag_const(ag_tape *t, const float *val, int B, int C, int T, int W)
{
    int i = push(t, B, C, T, W);
    if (i >= 0) t->nodes[i].val = (float *)val; /* never written: constants have no gradient */
    return i;
}

int ag_const_copy(ag_tape *t, const float *val, int B, int C, int T, int W)
{
    int i = push(t, B, C, T, W);
    if (i < 0) return -1;
    ag_node *n = &t->nodes[i];
    if (!node_val(t, n, 1)) return -1;
    memcpy(n->val, val, sizeof(float) * n->n);
    return i;
}

static int new_node(ag_tape *t, int B, int C, int T, int W, const int *in, int n_in, int raw)
{
    for (int k = 0; k < n_in; k++)
        if (in[k] < -1 || (in[k] == -1 && k == 0)) return -1; /* a failed input poisons the op */
    int i = push(t, B, C, T, W);
    if (i < 0) return -1;
    ag_node *n = &t->nodes[i];
    if (!node_val(t, n, raw)) return -1;
    n->native = in[0] >= 0 && t->nodes[in[0]].native; /* element-wise ops keep their input's layout */
    for (int k = 0; k < n_in; k++) {
        n->in[k] = in[k];
        if (in[k] >= 0 && t->nodes[in[k]].needs_grad) n->needs_grad = 1;
    }
    return i;
}

int ag_new(ag_tape *t, int B, int C, int T, int W, const int *in, int n_in) { return new_node(t, B, C, T, W, in, n_in, 0); }

int ag_new_raw(ag_tape *t, int B, int C, int T, int W, const int *in, int n_in) { return new_node(t, B, C, T, W, in, n_in, 1); }

int ag_new_over(ag_tape *t, int a, const int *in, int n_in)
{
    if (a < 0) return -1;
    for (int k = 0; k < n_in; k++)
        if (in[k] < -1 || (in[k] == -1 && k == 0)) return -1;
    int d[4];
    memcpy(d, t->nodes[a].dims, sizeof d); /* push may move the nodes */
    int i = push(t, d[0], d[1], d[2], d[3]);
    if (i < 0) return -1;
    ag_node *n = &t->nodes[i];
    n->val = t->nodes[a].val; /* a's owner (the tape or its arena) keeps it */
    n->native = t->nodes[a].native;
    for (int k = 0; k < n_in; k++) {
        n->in[k] = in[k];
        if (in[k] >= 0 && t->nodes[in[k]].needs_grad) n->needs_grad = 1;
    }
    return i;
}

ag_scope ag_scope_open(ag_tape *t) { return (ag_scope){t->count}; }

int ag_scope_keep(ag_tape *t, ag_scope s, int keep)
{
    if (keep < 0 || t->failed) return -1;
    if (!t->infer) return keep;
    for (int i = s.count; i < t->count; i++)
        if (t->nodes[i].needs_grad) return keep; /* a training graph: backward reads them all */
    ag_node k = t->nodes[keep];
    int owner = -1; /* the dropped node whose buffer holds keep's value (keep itself, or what it aliases) */
    for (int i = s.count; i < t->count; i++)
        if (t->nodes[i].val_spare && t->nodes[i].val == k.val) owner = i;
    if (owner >= 0) t->nodes[owner].val_spare = 0; /* handed to the new leaf below */
    for (int i = s.count; i < t->count; i++) drop_node(t, &t->nodes[i]);
    t->count = s.count;
    if (keep < s.count) return keep;
    int i = push(t, k.dims[0], k.dims[1], k.dims[2], k.dims[3]);
    if (i < 0) {
        if (owner >= 0) nn_arena_give(t->arena, k.val, sizeof(float) * (k.n ? k.n : 1));
        return -1;
    }
    t->nodes[i].val = k.val;
    t->nodes[i].val_spare = owner >= 0;
    t->nodes[i].native = k.native;
    return i;
}

int ag_needs(ag_tape *t, int i) { return i >= 0 && t->nodes[i].needs_grad; }

float *ag_grad(ag_tape *t, int i)
{
    ag_node *n = &t->nodes[i];
    if (!n->grad) {
        if (t->arena) {
            n->grad = nn_arena_take_zero(t->arena, sizeof(float) * (n->n ? n->n : 1));
            n->grad_spare = n->grad != NULL;
        } else {
            n->grad = calloc(n->n ? n->n : 1, sizeof(float));
            n->owns_grad = n->grad != NULL;
        }
        if (!n->grad) { t->failed = 1; return NULL; }
    }
    return n->grad;
}

void ag_backward(ag_tape *t, int loss)
{
    if (loss < 0 || t->failed) return;
    float *g = ag_grad(t, loss);
    if (!g) return;
    for (size_t k = 0; k < t->nodes[loss].n; k++) g[k] += 1.0f;
    for (int i = loss; i >= 0 && !t->failed && !ag_poll_cancel(t); i--) {
        ag_node *n = &t->nodes[i];
        if (n->backward && n->needs_grad && n->grad) n->backward(t, n);
        if (n->grad_spare) { /* every consumer of node i comes after it: its gradient is complete and used */
            nn_arena_give(t->arena, n->grad, sizeof(float) * (n->n ? n->n : 1));
            n->grad = NULL;
            n->grad_spare = 0;
        }
    }
}
