/*
 * MultiPeriodDiscriminatorV2 on a tape (see rvc_train.h): DiscriminatorS (Conv1d stack with
 * grouped strided convs) and one DiscriminatorP per period (reflect pad to a multiple of the
 * period, view [B, 1, L/p, p], (5,1) Conv2d stack = per-column Conv1d). Channel counts and
 * groups come from the weights (groups = in_channels / weight.shape[1]), so reduced test
 * models and the released sizes run through the same code.
 */
#include "models/rvc/rvc_train.h"

#include <stdio.h>

#define LRELU 0.1f

static const int S_STRIDES[6] = {1, 4, 4, 4, 4, 1};
static const int S_PADS[6] = {7, 20, 20, 20, 20, 2};

/* Runs convs.0..n−1 (+ leaky relu, each an fmap) then conv_post (an fmap, the logits). */
static int conv_stack(rvc_graph *g, int x, int di, const int *strides, const int *pads, int n, int post_pad,
                      rvc_disc_out *out)
{
    char prefix[96];
    int k = 0;
    for (int i = 0; i < n; i++) {
        snprintf(prefix, sizeof prefix, "discriminators.%d.convs.%d", di, i);
        x = ag_leaky_relu_into(g->t, rvc_graph_conv(g, x, prefix, strides[i], 1, pads[i], pads[i]), LRELU);
        out->fmaps[di][k++] = x;
    }
    snprintf(prefix, sizeof prefix, "discriminators.%d.conv_post", di);
    x = rvc_graph_conv(g, x, prefix, 1, 1, post_pad, post_pad);
    out->fmaps[di][k++] = x;
    out->n_fmaps[di] = k;
    if (x < 0) return -1;
    const int *d = g->t->nodes[x].dims;
    out->logits[di] = ag_reshape(g->t, x, d[0], 1, d[1] * d[2] * d[3], 1);
    return out->logits[di] < 0 ? -1 : 0;
}

static int disc_p(rvc_graph *g, int x, int di, int period, rvc_disc_out *out)
{
    static const int strides[5] = {3, 3, 3, 3, 1}, pads[5] = {2, 2, 2, 2, 2};
    const int *d = g->t->nodes[x].dims;
    int B = d[0], L = d[2];
    if (L % period) {
        x = ag_reflect_pad_t(g->t, x, 0, period - L % period);
        L += period - L % period;
    }
    x = ag_reshape(g->t, x, B, 1, L / period, period);
    return conv_stack(g, x, di, strides, pads, 5, 1, out);
}

int rvc_disc_forward(rvc_graph *g, int x, const int *periods, int n_periods, rvc_disc_out *out)
{
    if (x < 0 || n_periods + 1 > RVC_DISC_MAX) return -1;
    out->n = n_periods + 1;
    if (conv_stack(g, x, 0, S_STRIDES, S_PADS, 6, 1, out)) return -1;
    for (int i = 0; i < n_periods; i++)
        if (disc_p(g, x, i + 1, periods[i], out)) return -1;
    return 0;
}
