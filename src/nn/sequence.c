/* GRU, rotary embedding and relative-position attention (see sequence.h). */
#include "nn/sequence.h"
#include "nn/backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers.h"

static float sigmoid1(float v) { return 1.0f / (1.0f + expf(-v)); }

typedef struct gru_poll { nn_cancel_fn cancelled; void *ctx; } gru_poll;

/* One direction over gx = x·W_ihᵀ + b_ih [T, 3H], writing h_t into out [T, 2H] at column offset
 * col. h and gh are H and 3H floats of scratch. Returns -1 when the poll asked for a stop. */
static int gru_direction(const nn_gru_weights *w, const float *gx, int T, int H, int reverse, float *out, int col,
                         float *h, float *gh, const gru_poll *poll, vc_error *err)
{
    memset(h, 0, sizeof(float) * (size_t)H);
    for (int s = 0; s < T; s++) {
        if (s % NN_GRU_POLL_STEPS == 0 && nn_poll_cancel(poll->cancelled, poll->ctx, err)) return -1;
        int t = reverse ? T - 1 - s : s;
        memcpy(gh, w->b_hh, sizeof(float) * 3 * (size_t)H);
        nn_gemm(0, 0, 3 * H, 1, H, 1.0f, w->w_hh, H, h, 1, 1.0f, gh, 1);
        const float *g = gx + (size_t)t * 3 * H;
        for (int i = 0; i < H; i++) {
            float r = sigmoid1(g[i] + gh[i]), z = sigmoid1(g[H + i] + gh[H + i]);
            float n = tanhf(g[2 * H + i] + r * gh[2 * H + i]);
            h[i] = (1.0f - z) * n + z * h[i];
        }
        memcpy(out + (size_t)t * 2 * H + col, h, sizeof(float) * (size_t)H);
    }
    return 0;
}

int nn_gru_bidirectional_cancellable(float *out, const float *x, int T, int n_in, int H, const nn_gru_weights dir[2],
                                     nn_cancel_fn cancelled, void *ctx, vc_error *err)
{
    float *gx = malloc(sizeof(float) * ((size_t)T * 3 * H + 4 * (size_t)H));
    if (!gx) return vc_fail(err, VC_ERR_NOMEM, "out of memory (GRU, %d steps)", T);
    float *h = gx + (size_t)T * 3 * H, *gh = h + H;
    const gru_poll poll = {cancelled, ctx};
    int rc = 0;
    for (int d = 0; rc == 0 && d < 2; d++) {
        /* the input projections of all steps at once; only the recurrent part is sequential */
        for (int t = 0; t < T; t++) memcpy(gx + (size_t)t * 3 * H, dir[d].b_ih, sizeof(float) * 3 * (size_t)H);
        nn_gemm(0, 1, T, 3 * H, n_in, 1.0f, x, n_in, dir[d].w_ih, n_in, 1.0f, gx, 3 * H);
        rc = gru_direction(&dir[d], gx, T, H, d, out, d * H, h, gh, &poll, err);
    }
    free(gx);
    return rc;
}

int nn_gru_bidirectional(float *out, const float *x, int T, int n_in, int H, const nn_gru_weights dir[2], vc_error *err)
{
    return nn_gru_bidirectional_cancellable(out, x, T, n_in, H, dir, NULL, NULL, err);
}

void nn_rotary_angles(float *theta, int N, int dim)
{
    for (int j = 0; j < dim / 2; j++) {
        float inv = (float)(1.0 / pow(10000.0, (double)(2 * j) / dim));
        for (int n = 0; n < N; n++) theta[(size_t)n * dim + 2 * j] = theta[(size_t)n * dim + 2 * j + 1] = (float)n * inv;
    }
}

void nn_apply_rotary(float *x, const float *cos_t, const float *sin_t, int B, int N, int heads, int dim)
{
    int width = heads * dim;
    for (int r = 0; r < B * N; r++) {
        const float *c = cos_t + (size_t)(r % N) * dim, *s = sin_t + (size_t)(r % N) * dim;
        for (int h = 0; h < heads; h++) {
            float *v = x + (size_t)r * width + h * dim;
            for (int j = 0; j < dim; j += 2) {
                float a = v[j], b = v[j + 1];
                v[j] = a * c[j] - b * s[j];
                v[j + 1] = b * c[j + 1] + a * s[j + 1];
            }
        }
    }
}
