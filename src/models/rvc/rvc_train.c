/*
 * The RVC training step (see rvc_train.h). The generator graph mirrors
 * SynthesizerTrnMs768NSFsid.forward (v2; Ms256 for v1: only emb_phone's width differs) in
 * training mode: text encoder with pitch (VITS relative
 * attention encoder) → prior (m_p, logs_p); posterior encoder (1×1 pre, 16-layer WaveNet,
 * proj) on the linear spectrogram → z = m_q + ε·e^logs_q; four mean-only coupling flows with
 * channel flips → z_p; the segment of z at ids_slice → NSF-HiFiGAN decoder driven by the sine
 * source of the matching pitchf segment → y_hat. Without pitch (the _nono models) the text
 * encoder has no pitch embedding and the decoder is the plain HiFi-GAN Generator (no sine
 * source, no noise convs). Each step builds one tape per optimiser
 * (see nn/tape.h): the D tape sees y_hat as a constant, the G tape sees D as constants.
 */
#include "models/rvc/rvc_train.h"

#include "models/rvc/rvc_gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENC_Q_LAYERS 16

/* The generator's inputs in one batch: the shared graph's (rvc_gen.h) plus the training batch. */
typedef struct gen_io {
    rvc_gen_io gen;
    const rvc_train_config *c;
    const rvc_train_batch *b;
} gen_io;

static float *length_mask(const int64_t *lengths, int B, int T)
{
    float *m = malloc(sizeof(float) * (size_t)B * T);
    if (m)
        for (int b = 0; b < B; b++)
            for (int k = 0; k < T; k++) m[b * T + k] = k < lengths[b] ? 1.0f : 0.0f;
    return m;
}

/* phone [B, T, D] as a constant [B, D, T]. */
static int phone_const(rvc_graph *g, const rvc_train_batch *b, int D)
{
    float *tr = malloc(sizeof(float) * (size_t)b->B * b->T * D);
    if (!tr) { g->t->failed = 1; return -1; }
    for (int i = 0; i < b->B; i++)
        for (int k = 0; k < b->T; k++)
            for (int d = 0; d < D; d++) tr[((size_t)i * D + d) * b->T + k] = b->phone[((size_t)i * b->T + k) * D + d];
    int n = ag_const_copy(g->t, tr, b->B, D, b->T, 1);
    free(tr);
    return n;
}

/* PosteriorEncoder: spec → 1×1 pre → 16-layer WaveNet → 1×1 proj → (m_q, logs_q); z = m_q + ε·e^logs_q. */
static int posterior(rvc_graph *g, const gen_io *io, int *z, int *m_q, int *logs_q)
{
    const rvc_train_batch *b = io->b;
    const float *y_mask = io->gen.y_mask;
    int spec = ag_const(g->t, b->spec, b->B, io->c->spec_channels, b->T, 1);
    int x = ag_mask(g->t, rvc_graph_conv(g, spec, "enc_q.pre", 1, 1, 0, 0), y_mask);
    x = rvc_gen_wavenet(g, &io->gen, x, "enc_q.enc", ENC_Q_LAYERS);
    int stats = ag_mask(g->t, rvc_graph_conv(g, x, "enc_q.proj", 1, 1, 0, 0), y_mask);
    int C = io->c->g.inter;
    *m_q = ag_slice_c(g->t, stats, 0, C);
    *logs_q = ag_slice_c(g->t, stats, C, 2 * C);
    int eps = ag_const(g->t, b->eps_posterior, b->B, C, b->T, 1);
    *z = ag_mask(g->t, ag_add(g->t, *m_q, ag_mul(g->t, eps, ag_exp(g->t, *logs_q))), y_mask);
    return *z < 0 ? -1 : 0;
}

/* har [B, 1, L]: the harmonic source of the pitchf segment at ids_slice. */
static int harmonic_source(rvc_graph *g, const gen_io *io, int upp)
{
    const rvc_train_batch *b = io->b;
    int seg = io->c->segment_samples / upp;
    size_t L = (size_t)seg * upp;
    float *sine = malloc(sizeof(float) * L * b->B), *uv = malloc(sizeof(float) * L), *f0 = malloc(sizeof(float) * seg);
    int rc = sine && uv && f0 ? 0 : -1;
    for (int i = 0; rc == 0 && i < b->B; i++) {
        memcpy(f0, b->pitchf + (size_t)i * b->T + b->ids_slice[i], sizeof(float) * seg);
        rc = rvc_sine_waves(f0, seg, upp, io->c->g.sr, b->eps_sine + (size_t)i * L, 0, sine + (size_t)i * L, uv, NULL);
    }
    int s = rc == 0 ? ag_const_copy(g->t, sine, b->B, 1, (int)L, 1) : -1;
    free(sine); free(uv); free(f0);
    if (s < 0) { g->t->failed = 1; return -1; }
    return rvc_gen_harmonic(g, s);
}

/* ---- the generator forward ---- */

typedef struct gen_nodes { int y_hat, z, z_p, m_p, logs_p, m_q, logs_q; } gen_nodes;

/* SynthesizerTrnMs768NSFsid.forward: prior from the text encoder, posterior z from the spectrogram,
 * flow(z) → z_p, and the decoder on the segment of z at ids_slice. */
static int generator(rvc_graph *g, gen_io *io, gen_nodes *o)
{
    const rvc_train_batch *b = io->b;
    const rvc_synth_config *c = &io->c->g;
    int seg = io->c->segment_samples / io->c->hop, upp = 1;
    for (int i = 0; i < c->n_ups; i++) upp *= c->upsample_rates[i];
    io->gen.g = rvc_gen_speaker(g, b->sid, b->B);
    int D = c->phone_dim;
    rvc_param *w = rvc_paramset_find(g->ps, "enc_p.emb_phone.weight");
    if (w) D = w->dims[1];
    if (rvc_gen_text_encoder(g, &io->gen, phone_const(g, b, D), b->pitch, &o->m_p, &o->logs_p) ||
        posterior(g, io, &o->z, &o->m_q, &o->logs_q))
        return -1;
    o->z_p = rvc_gen_flow(g, &io->gen, o->z, 0);
    int har = c->f0 ? harmonic_source(g, io, upp) : -1;
    o->y_hat = rvc_gen_decoder(g, &io->gen, ag_slice_t(g->t, o->z, b->ids_slice, seg), har);
    return o->y_hat < 0 || !ag_ok(g->t) ? -1 : 0;
}

/* ---- mel targets ---- */

#define MEL_CLIP 2e-6f
#define MAG_EPS 2e-7f

typedef struct mel_data { float *basis, *y_mel, *wave_slice; int seg_frames; } mel_data;

static void mel_data_free(mel_data *m) { free(m->basis); free(m->y_mel); free(m->wave_slice); }

/* spec_to_mel_torch on the whole batch, then its segment at ids_slice; the wave segment. */
static int mel_targets(const rvc_train_config *c, const rvc_train_batch *b, mel_data *md, rvc_train_tap tap, void *ctx)
{
    int K = c->n_fft / 2 + 1, M = c->n_mels, T = b->T, S = c->segment_samples / c->hop, L = c->segment_samples;
    md->seg_frames = S;
    md->basis = malloc(sizeof(float) * (size_t)M * K);
    float *mel = malloc(sizeof(float) * (size_t)b->B * M * T);
    md->y_mel = malloc(sizeof(float) * (size_t)b->B * M * S);
    md->wave_slice = malloc(sizeof(float) * (size_t)b->B * L);
    if (!md->basis || !mel || !md->y_mel || !md->wave_slice ||
        nn_mel_filterbank_slaney(md->basis, c->g.sr, c->n_fft, M, 0.0, c->g.sr / 2.0)) {
        free(mel);
        return -1;
    }
    for (int i = 0; i < b->B; i++)
        for (int m = 0; m < M; m++)
            for (int k = 0; k < T; k++) {
                double acc = 0;
                for (int f = 0; f < K; f++) acc += (double)md->basis[(size_t)m * K + f] * b->spec[((size_t)i * K + f) * T + k];
                mel[((size_t)i * M + m) * T + k] = logf(fmaxf((float)acc, MEL_CLIP));
            }
    for (int i = 0; i < b->B; i++) {
        for (int m = 0; m < M; m++)
            memcpy(md->y_mel + ((size_t)i * M + m) * S, mel + ((size_t)i * M + m) * T + b->ids_slice[i], sizeof(float) * S);
        memcpy(md->wave_slice + (size_t)i * L, b->wave + (size_t)i * b->wave_len + b->ids_slice[i] * c->hop, sizeof(float) * L);
    }
    if (tap) {
        tap(ctx, "mel_basis", md->basis, (size_t)M * K);
        tap(ctx, "mel", mel, (size_t)b->B * M * T);
        tap(ctx, "y_mel", md->y_mel, (size_t)b->B * M * S);
        tap(ctx, "wave_slice", md->wave_slice, (size_t)b->B * L);
    }
    free(mel);
    return 0;
}

/* ---- losses and steps ---- */

static void tap_node(rvc_train_tap tap, void *ctx, ag_tape *t, const char *name, int node)
{
    if (tap && node >= 0) tap(ctx, name, t->nodes[node].val, t->nodes[node].n);
}

static void tap_logits(rvc_train_tap tap, void *ctx, ag_tape *t, const char *fmt, const rvc_disc_out *o)
{
    char name[64];
    for (int i = 0; i < o->n; i++) {
        snprintf(name, sizeof name, fmt, i);
        tap_node(tap, ctx, t, name, o->logits[i]);
    }
}

static int sum2(ag_tape *t, int acc, int x) { return acc < 0 ? x : ag_add(t, acc, x); }

/* D(wave, y_hat.detach()) → loss_disc → backward → AdamW(D). */
static int d_step(rvc_paramset *D, const rvc_train_config *c, int B, const float *wave, const float *y_hat, int step,
                  rvc_train_result *res, const rvc_train_hooks *h, char *missing, size_t missing_size, int *cancelled)
{
    rvc_train_tap tap = h ? h->tap : NULL;
    void *ctx = h ? h->tap_ctx : NULL;
    ag_tape t;
    ag_tape_init_arena(&t, h ? h->arena : NULL);
    ag_tape_set_cancel(&t, h ? &h->cancel : NULL);
    rvc_graph g = {.t = &t, .ps = D, .train = 1};
    rvc_disc_out r, f;
    int L = c->segment_samples, loss = -1;
    int rc = rvc_disc_forward(&g, ag_const(&t, wave, B, 1, L, 1), c->disc_periods, c->n_periods, &r);
    if (rc == 0) rc = rvc_disc_forward(&g, ag_const(&t, y_hat, B, 1, L, 1), c->disc_periods, c->n_periods, &f);
    for (int i = 0; rc == 0 && i < r.n; i++)
        loss = sum2(&t, loss, ag_add(&t, ag_lsgan(&t, r.logits[i], 1.0f), ag_lsgan(&t, f.logits[i], 0.0f)));
    if (rc == 0 && loss >= 0 && ag_ok(&t)) {
        tap_logits(tap, ctx, &t, "d_step.y_d_hat_r.%d", &r);
        tap_logits(tap, ctx, &t, "d_step.y_d_hat_g.%d", &f);
        res->loss_disc = t.nodes[loss].val[0];
        rvc_paramset_zero_grad(D);
        ag_backward(&t, loss);
        if (ag_ok(&t)) { /* a cancelled walk leaves partial gradients: no update */
            res->grad_norm_d = rvc_paramset_grad_norm(D);
            rvc_paramset_adamw(D, &c->opt, step);
        }
    }
    rc = rc == 0 && loss >= 0 && ag_ok(&t) ? 0 : -1;
    if (g.missing[0]) snprintf(missing, missing_size, "%s", g.missing);
    *cancelled |= t.cancelled;
    ag_tape_free(&t);
    return rc;
}

/* The generator's losses on its own tape, D (already updated) entering as constants. */
static int g_losses(rvc_graph *g, rvc_paramset *D, const rvc_train_config *c, const rvc_train_batch *b, const gen_io *io,
                    const gen_nodes *gn, const mel_data *md, rvc_train_result *res, rvc_train_tap tap, void *ctx)
{
    ag_tape *t = g->t;
    rvc_graph gd = {.t = t, .ps = D, .train = 0};
    rvc_disc_out r, f;
    int L = c->segment_samples;
    int rc = rvc_disc_forward(&gd, ag_const(t, md->wave_slice, b->B, 1, L, 1), c->disc_periods, c->n_periods, &r);
    if (rc == 0) rc = rvc_disc_forward(&gd, gn->y_hat, c->disc_periods, c->n_periods, &f);
    if (gd.missing[0]) snprintf(g->missing, sizeof g->missing, "%s", gd.missing);
    if (rc) return -1;
    tap_logits(tap, ctx, t, "g_step.y_d_hat_g.%d", &f);
    int gen = -1, fm = -1;
    for (int i = 0; i < f.n; i++) {
        gen = sum2(t, gen, ag_lsgan(t, f.logits[i], 1.0f));
        for (int l = 0; l < f.n_fmaps[i]; l++) fm = sum2(t, fm, ag_l1_const(t, t->nodes[r.fmaps[i][l]].val, f.fmaps[i][l]));
    }
    fm = ag_scale(t, fm, 2.0f);
    int K = c->n_fft;
    int y_hat_mel = ag_log_mel(t, gn->y_hat, md->basis, c->n_mels, K, c->hop, (K - c->hop) / 2, MAG_EPS, MEL_CLIP);
    tap_node(tap, ctx, t, "y_hat_mel", y_hat_mel);
    int mel = ag_scale(t, ag_l1_const(t, md->y_mel, y_hat_mel), c->c_mel);
    int kl = ag_scale(t, ag_kl(t, gn->z_p, gn->logs_q, gn->m_p, gn->logs_p, io->gen.y_mask), c->c_kl);
    int all = ag_add(t, ag_add(t, ag_add(t, gen, fm), mel), kl);
    if (all < 0 || !ag_ok(t)) return -1;
    res->loss_gen = t->nodes[gen].val[0];
    res->loss_fm = t->nodes[fm].val[0];
    res->loss_mel = t->nodes[mel].val[0];
    res->loss_kl = t->nodes[kl].val[0];
    res->loss_gen_all = t->nodes[all].val[0];
    return all;
}

static void tap_generator(rvc_train_tap tap, void *ctx, ag_tape *t, const gen_io *io, const gen_nodes *gn)
{
    if (!tap) return;
    size_t m = (size_t)io->b->B * io->b->T;
    tap_node(tap, ctx, t, "y_hat", gn->y_hat);
    tap_node(tap, ctx, t, "z", gn->z);
    tap_node(tap, ctx, t, "z_p", gn->z_p);
    tap_node(tap, ctx, t, "m_p", gn->m_p);
    tap_node(tap, ctx, t, "logs_p", gn->logs_p);
    tap_node(tap, ctx, t, "m_q", gn->m_q);
    tap_node(tap, ctx, t, "logs_q", gn->logs_q);
    tap(ctx, "x_mask", io->gen.x_mask, m);
    tap(ctx, "z_mask", io->gen.y_mask, m);
}

int rvc_train_step(rvc_paramset *G, rvc_paramset *D, const rvc_train_config *c, const rvc_train_batch *b, int step,
                   rvc_train_result *res, const rvc_train_hooks *hooks, vc_error *err)
{
    rvc_train_tap tap = hooks ? hooks->tap : NULL;
    void *tap_ctx = hooks ? hooks->tap_ctx : NULL;
    int cancelled = 0;
    memset(res, 0, sizeof *res);
    float *x_mask = length_mask(b->phone_lengths, b->B, b->T), *y_mask = length_mask(b->spec_lengths, b->B, b->T);
    gen_io io = {.gen = {.c = &c->g, .B = b->B, .T = b->T, .x_mask = x_mask, .y_mask = y_mask, .lengths = b->phone_lengths},
                 .c = c, .b = b};
    mel_data md = {0};
    ag_tape t;
    ag_tape_init_arena(&t, hooks ? hooks->arena : NULL);
    ag_tape_set_cancel(&t, hooks ? &hooks->cancel : NULL);
    rvc_graph g = {.t = &t, .ps = G, .train = 1};
    gen_nodes gn;
    int rc = x_mask && y_mask && mel_targets(c, b, &md, tap, tap_ctx) == 0 ? 0 : -1;
    if (rc == 0) rc = generator(&g, &io, &gn);
    if (rc == 0) {
        tap_generator(tap, tap_ctx, &t, &io, &gn);
        rc = d_step(D, c, b->B, md.wave_slice, t.nodes[gn.y_hat].val, step, res, hooks, g.missing, sizeof g.missing,
                    &cancelled);
    }
    int all = rc == 0 ? g_losses(&g, D, c, b, &io, &gn, &md, res, tap, tap_ctx) : -1;
    if (all >= 0) {
        rvc_paramset_zero_grad(G);
        ag_backward(&t, all);
        if (ag_ok(&t)) {
            res->grad_norm_g = rvc_paramset_grad_norm(G);
            rvc_paramset_adamw(G, &c->opt, step);
        }
    }
    if (rc == 0 && (all < 0 || !ag_ok(&t))) rc = -1;
    cancelled |= t.cancelled;
    if (rc && cancelled) rc = vc_fail(err, VC_ERR_CANCELLED, "RVC training step cancelled");
    else if (rc)
        rc = g.missing[0] ? vc_fail(err, VC_ERR_INVALID_FORMAT, "RVC training: parameter '%s' missing", g.missing)
                          : vc_fail(err, VC_ERR_NOMEM, "RVC training step failed (out of memory or bad shapes)");
    ag_tape_free(&t);
    mel_data_free(&md);
    free(x_mask);
    free(y_mask);
    return rc;
}
