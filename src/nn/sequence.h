/*
 * Sequence ops that began inside one model and moved here so each can be tested on its own
 * against PyTorch (tests/nn/test_ops_torch.c): the bidirectional GRU of RMVPE's head, the rotary
 * position embedding F5-TTS applies to queries and keys. Sequences are time-major [T, C]. (RVC's
 * relative-position attention is a tape op, ag_rel_attention: its generator has one graph.)
 */
#ifndef VC_NN_SEQUENCE_H
#define VC_NN_SEQUENCE_H

#include "base/error.h"
#include "nn/cancel.h"

/* One direction of a GRU layer in PyTorch's layouts and gate order (r, z, n):
 * w_ih [3H, n_in], w_hh [3H, H], b_ih and b_hh [3H]. */
typedef struct nn_gru_weights {
    const float *w_ih, *w_hh, *b_ih, *b_hh;
} nn_gru_weights;

/* torch.nn.GRU(bidirectional=True) at batch 1 from a zero state: x [T, n_in] → out [T, 2H], the
 * forward direction's states in columns 0..H−1, the backward direction's in H..2H−1.
 * dir[0] is the forward direction (weight_*_l0), dir[1] the reverse (weight_*_l0_reverse). */
int nn_gru_bidirectional(float *out, const float *x, int T, int n_in, int H, const nn_gru_weights dir[2], vc_error *err);

/* The same, asking cancelled(ctx) at every NN_GRU_POLL_STEPS-th step of each direction (step 0
 * included, so once before each direction starts): non-zero stops the pass there with
 * VC_ERR_CANCELLED and out partly written. The recurrence is sequential, so over RMVPE's 4096-frame
 * window it is 8192 steps with no other place to stop; one step is one [3H, H] matrix-vector
 * product, so polls come milliseconds apart and one poll (an atomic load) costs nothing beside
 * them. cancelled may be NULL; a hook that never asks for a stop gives nn_gru_bidirectional's
 * output exactly. */
#define NN_GRU_POLL_STEPS 64
int nn_gru_bidirectional_cancellable(float *out, const float *x, int T, int n_in, int H, const nn_gru_weights dir[2],
                                     nn_cancel_fn cancelled, void *ctx, vc_error *err);

/* Rotary angles as F5-TTS (x-transformers) builds them: theta [N, dim] with
 * θ[n][2j] = θ[n][2j+1] = n / 10000^(2j/dim). */
void nn_rotary_angles(float *theta, int N, int dim);

/* Rotates x [B·N, heads·dim] in place: in each head, the pair (2j, 2j+1) of the row at position
 * n = row mod N turns by θ[n][2j] (x·cos θ + rotate_half(x)·sin θ). cos_t, sin_t [N, dim]. */
void nn_apply_rotary(float *x, const float *cos_t, const float *sin_t, int B, int N, int heads, int dim);

#endif
