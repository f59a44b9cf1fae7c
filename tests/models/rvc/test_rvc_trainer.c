/*
 * rvc_trainer on a tiny model (40 kHz layout, a few channels, discriminator ÷ 32) and a
 * synthetic set built here (harmonic waves with a gliding f0; pitch from the known f0; content
 * features = a fixed random projection of each frame's samples):
 *   the training tensor specs match the golden case's G/D files (skipped, and said, when
 *   ../shared/golden is absent); the mel loss falls; a run killed after a checkpoint and
 *   resumed ends bit for bit where an uninterrupted run ends (parameters and loss history);
 *   the exported .pth opens in rvc_engine and converts; bad inputs are clear errors; a cancel
 *   requested mid-step ends the step within a small part of it and leaves the checkpoint; v1 and
 *   pitch-less (_nono) models train, export and convert.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nn/backend.h"
#include "models/rvc/rvc_engine.h"
#include "models/rvc/rvc_specs.h"
#include "models/rvc/rvc_trainer_internal.h"
#include "nn/pth_write.h"
#include "nn/weights.h"

#define SR 40000
#define HOP 400
#define PHONE_DIM 96 /* the tiny HuBERT's width, so the engine can convert with the export */

static char TMP[64];

static const char *root(void)
{
    const char *r = getenv("VCS_TEST_ROOT");
    return r ? r : ".";
}

/* ---- the synthetic set ---- */

static float f0_at(int item, double t) { return (float)(110.0 + 15.0 * item + 60.0 * t); }

static int64_t coarse(float f0)
{
    const double lo = 1127.0 * log(1.0 + 50.0 / 700.0), hi = 1127.0 * log(1.0 + 1100.0 / 700.0);
    double m = 1127.0 * log(1.0 + f0 / 700.0);
    double c = (m - lo) * 254.0 / (hi - lo) + 1.0;
    return (int64_t)lround(c < 1 ? 1 : c > 255 ? 255 : c);
}

static void make_item(rvc_train_item *it, int item, int frames, const float *proj)
{
    it->frames = frames;
    it->wave = malloc(sizeof(float) * (size_t)frames * HOP);
    it->phone = malloc(sizeof(float) * (size_t)frames * PHONE_DIM);
    it->pitch = malloc(sizeof(int64_t) * (size_t)frames);
    it->pitchf = malloc(sizeof(float) * (size_t)frames);
    double phase = 0;
    for (int i = 0; i < frames * HOP; i++) {
        phase += 2 * M_PI * f0_at(item, (double)i / SR) / SR;
        double x = 0;
        for (int h = 1; h <= 5; h++) x += 0.3 / h * sin(h * phase);
        it->wave[i] = (float)x;
    }
    for (int t = 0; t < frames; t++) {
        it->pitchf[t] = f0_at(item, (t + 0.5) * HOP / (double)SR);
        it->pitch[t] = coarse(it->pitchf[t]);
        for (int d = 0; d < PHONE_DIM; d++) {
            double acc = 0;
            for (int k = 0; k < HOP; k += 4) acc += proj[d * (HOP / 4) + k / 4] * it->wave[t * HOP + k];
            it->phone[t * PHONE_DIM + d] = (float)tanh(acc);
        }
    }
}

static void make_set(rvc_dataset *set)
{
    static const int frames[4] = {60, 80, 90, 110};
    float *proj = malloc(sizeof(float) * PHONE_DIM * (HOP / 4));
    uint64_t rng = 42;
    for (int i = 0; i < PHONE_DIM * (HOP / 4); i++) proj[i] = rvc_rng_normal(&rng) * 0.2f;
    *set = (rvc_dataset){.sr = SR, .hop = HOP, .phone_dim = PHONE_DIM, .f0 = 1, .version = 2, .n = 4};
    set->items = calloc(4, sizeof(rvc_train_item));
    for (int i = 0; i < 4; i++) make_item(&set->items[i], i, frames[i], proj);
    free(proj);
}

static void free_set(rvc_dataset *set)
{
    for (int i = 0; i < set->n; i++) {
        free(set->items[i].wave); free(set->items[i].phone); free(set->items[i].pitch); free(set->items[i].pitchf);
    }
    free(set->items);
}

/* ---- the tiny model ---- */

static rvc_train_config tiny_config(float lr)
{
    rvc_train_config c;
    vc_error err;
    assert_int_equal(rvc_train_config_tiny(SR, 2, PHONE_DIM, 1, &c, &err), 0);
    c.opt.lr = lr;
    return c;
}

static rvc_trainer_options options(const char *sub, const rvc_train_config *c, int epochs, int save_every)
{
    static char dirs[4][128];
    static int next;
    char *dir = dirs[next++ % 4];
    snprintf(dir, 128, "%s/%s", TMP, sub);
    return (rvc_trainer_options){.dir = dir, .epochs = epochs, .batch_size = 2, .save_every_steps = save_every, .seed = 7,
                                 .config = c};
}

static rvc_trainer *open_ok(const rvc_dataset *set, const rvc_trainer_options *o)
{
    rvc_trainer *t = NULL;
    vc_error err = {0};
    if (rvc_trainer_open(&t, set, o, &err)) fail_msg("open: %s", err.message);
    return t;
}

static void steps(rvc_trainer *t, int n)
{
    vc_error err = {0};
    for (int i = 0; i < n; i++) {
        int rc = rvc_trainer_step(t, &err);
        if (rc < 0) fail_msg("step: %s", err.message);
        assert_int_equal(rc, 0);
    }
}

static int setup(void **state)
{
    char cmd[1024];
    snprintf(TMP, sizeof TMP, "/tmp/vcs-rvc-trainer-XXXXXX");
    if (!mkdtemp(TMP)) return -1;
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/weights/hubert %s/weights/rmvpe && cp %s/tests/golden/rvc/hubert_small/hubert_fairseq_style.pt "
             "%s/weights/hubert/hubert_base.pt && cp %s/tests/golden/rvc/rmvpe_small/rmvpe.safetensors %s/weights/rmvpe/rmvpe.pt",
             TMP, TMP, root(), TMP, root(), TMP);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", TMP);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- tests ---- */

static void expect_specs_match(const char *path, const nn_tensor_spec *specs, size_t n)
{
    nn_weights *w = NULL;
    vc_error err = {0};
    if (nn_weights_open(path, &w, &err)) fail_msg("%s", err.message);
    assert_int_equal(nn_weights_count(w), n);
    for (size_t i = 0; i < n; i++) {
        const nn_tensor *t = nn_weights_get(w, specs[i].name);
        if (!t) fail_msg("%s: no tensor %s", path, specs[i].name);
        assert_int_equal(t->ndim, specs[i].ndim);
        for (int d = 0; d < t->ndim; d++)
            if (t->shape[d] != specs[i].shape[d]) fail_msg("%s: %s dim %d is %lld, spec says %lld", path, specs[i].name, d,
                                                           (long long)t->shape[d], (long long)specs[i].shape[d]);
    }
    nn_weights_free(w);
}

static void training_specs_match_the_golden_case(void **state)
{
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/../shared/golden/rvc/train_step_v2_48k_small", root());
    snprintf(path, sizeof path, "%s/generator.safetensors", dir);
    if (access(path, R_OK) != 0) {
        printf("SKIPPED: %s absent; training tensor specs not checked against the golden case\n", dir);
        return;
    }
    rvc_train_config c;
    vc_error err;
    assert_int_equal(rvc_train_config_default(48000, 2, 768, 1, &c, &err), 0);
    c.g.inter = c.g.hidden = 32;
    c.g.filter = 64;
    c.g.n_layers = 2;
    c.g.upsample_initial = 64;
    c.g.spk_embed_dim = 4;
    c.g.gin = 16;
    nn_tensor_spec *specs = NULL;
    size_t n = rvc_generator_tensor_specs(&c.g, c.spec_channels, &specs);
    expect_specs_match(path, specs, n);
    free(specs);
    snprintf(path, sizeof path, "%s/discriminator.safetensors", dir);
    n = rvc_disc_tensor_specs(c.disc_periods, c.n_periods, 16, &specs);
    expect_specs_match(path, specs, n);
    free(specs);
    /* the full-size counts of the brief: G ≈ 37.6 M (with enc_q), D ≈ 71.4 M */
    assert_int_equal(rvc_train_config_default(48000, 2, 768, 1, &c, &err), 0);
    int64_t total = 0;
    n = rvc_generator_tensor_specs(&c.g, c.spec_channels, &specs);
    for (size_t i = 0; i < n; i++) {
        int64_t e = 1;
        for (int d = 0; d < specs[i].ndim; d++) e *= specs[i].shape[d];
        total += e;
    }
    free(specs);
    printf("full-size v2 48k generator: %.2f M parameters\n", total / 1e6);
    assert_true(total > 37000000 && total < 38500000);
}

static double mel_mean(const rvc_train_result *r, int from, int n)
{
    double s = 0;
    for (int i = from; i < from + n; i++) s += r[i].loss_mel;
    return s / n;
}

static void mel_loss_falls(void **state)
{
    rvc_dataset set;
    make_set(&set);
    rvc_train_config c = tiny_config(1e-2f); /* a tiny model learns fast at a high rate */
    rvc_trainer_options o = options("falls", &c, 100, 0);
    rvc_trainer *t = open_ok(&set, &o);
    const int K = 40;
    steps(t, K);
    rvc_train_result *h;
    int64_t n;
    vc_error err;
    assert_int_equal(rvc_trainer_history(t, &h, &n, &err), 0);
    assert_int_equal(n, K);
    double first = mel_mean(h, 0, 8), last = mel_mean(h, K - 8, 8);
    if (getenv("VCS_TRACE")) for (int i = 0; i < K; i++) printf("%d mel %.2f disc %.3f gen %.3f kl %.3f\n", i, h[i].loss_mel, h[i].loss_disc, h[i].loss_gen, h[i].loss_kl);
    rvc_trainer_status s;
    rvc_trainer_status_get(t, &s);
    printf("mel loss (×c_mel) first 8 steps %.3f, last 8 %.3f; %.3f s/step; epoch %d, %lld of %lld steps\n", first, last,
           s.seconds_per_step, s.epoch, (long long)s.step, (long long)s.total_steps);
    assert_true(last < 0.75 * first); /* seen: ≈ 0.6 */
    assert_int_equal(s.step, K);
    assert_int_equal(s.total_steps, 300); /* 3 batches an epoch: buckets {120,150,170} → 2, {210} → 1 */
    free(h);
    rvc_trainer_free(t);
    free_set(&set);
}

/* Mean mel loss of the second half of K steps of a fresh run at VCS_PRECISION=prec (*first: of the first 8). */
static double mel_after(const char *prec, int K, double *first)
{
    rvc_dataset set;
    make_set(&set);
    rvc_train_config c = tiny_config(1e-2f);
    rvc_trainer_options o = options(prec, &c, 100, 0);
    setenv("VCS_PRECISION", prec, 1);
    rvc_trainer *t = open_ok(&set, &o);
    steps(t, K);
    unsetenv("VCS_PRECISION");
    rvc_train_result *h;
    int64_t n;
    vc_error err;
    assert_int_equal(rvc_trainer_history(t, &h, &n, &err), 0);
    *first = mel_mean(h, 0, 8);
    double last = mel_mean(h, K / 2, K / 2); /* the second half: less noisy than a few steps */
    free(h);
    rvc_trainer_free(t);
    free_set(&set);
    return last;
}

/* bf16 mixed precision (where the CPU has AVX512-BF16) learns like fp32: over 32 steps of the
 * tiny model its mel loss falls as far, the second half's mean within 25 % of fp32's (seen on Zen 5:
 * -14 %, bf16 lower; the first step's loss differs by 1.3 %). A GAN's losses wander with any
 * rounding change, so the band is wider than bf16's rounding alone would need. */
static void bf16_training_follows_fp32(void **state)
{
    if (!nn_cpu_has_bf16()) {
        print_message("this CPU has no AVX512-BF16: bf16 training is not offered here\n");
        skip();
    }
    const int K = 32;
    double f32_first, bf_first;
    double f32_last = mel_after("fp32", K, &f32_first), bf_last = mel_after("bf16", K, &bf_first);
    printf("mel loss over %d steps: fp32 %.2f -> %.2f, bf16 %.2f -> %.2f (%+.1f %%)\n", K, f32_first, f32_last, bf_first,
           bf_last, 100.0 * (bf_last / f32_last - 1.0));
    assert_true(bf_last < 0.8 * bf_first);
    assert_true(fabs(bf_last / f32_last - 1.0) < 0.25);
}

static void same_params(const rvc_paramset *a, const rvc_paramset *b)
{
    assert_int_equal(a->count, b->count);
    for (int i = 0; i < a->count; i++) {
        if (memcmp(a->p[i].val, b->p[i].val, sizeof(float) * a->p[i].n)) fail_msg("%s differs", a->p[i].name);
        assert_memory_equal(a->p[i].m, b->p[i].m, sizeof(float) * a->p[i].n);
        assert_memory_equal(a->p[i].v, b->p[i].v, sizeof(float) * a->p[i].n);
    }
}

/* 6 steps = 2 epochs in one go, against 5 steps (checkpoints every 2, so step 5 is lost),
 * a "kill" (free without saving), reopen (resumes at step 4, mid-epoch) and the rest. */
static void killed_and_resumed_run_matches(void **state)
{
    rvc_dataset set;
    make_set(&set);
    rvc_train_config c = tiny_config(1e-3f);
    rvc_trainer_options a_opt = options("whole", &c, 2, 0), b_opt = options("killed", &c, 2, 2);
    rvc_trainer *a = open_ok(&set, &a_opt), *b = open_ok(&set, &b_opt);
    steps(a, 6);
    vc_error err;
    assert_int_equal(rvc_trainer_step(a, &err), 1); /* done */
    steps(b, 5);
    rvc_trainer_free(b);
    b = open_ok(&set, &b_opt);
    rvc_trainer_status s;
    rvc_trainer_status_get(b, &s);
    assert_int_equal(s.step, 4);
    assert_int_equal(s.epoch, 2);
    steps(b, 2);
    assert_int_equal(rvc_trainer_step(b, &err), 1);
    same_params(&a->G, &b->G);
    same_params(&a->D, &b->D);
    rvc_train_result *ha, *hb;
    int64_t na, nb;
    assert_int_equal(rvc_trainer_history(a, &ha, &na, &err), 0);
    assert_int_equal(rvc_trainer_history(b, &hb, &nb, &err), 0);
    assert_int_equal(na, 6);
    assert_int_equal(nb, 6);
    assert_memory_equal(ha, hb, sizeof *ha * 6);
    free(ha);
    free(hb);

    /* the export of the finished run opens as a voice and converts */
    char pth[256];
    snprintf(pth, sizeof pth, "%s/voice.pth", TMP);
    if (rvc_trainer_export(a, pth, NULL, &err)) fail_msg("export: %s", err.message);
    rvc_voice_info info;
    if (rvc_voice_inspect(pth, NULL, &info, &err)) fail_msg("inspect: %s", err.message);
    assert_int_equal(info.version, 2);
    assert_int_equal(info.f0, 1);
    assert_int_equal(info.sample_rate, SR);
    assert_int_equal(info.phone_dim, PHONE_DIM);
    char weights[128];
    snprintf(weights, sizeof weights, "%s/weights", TMP);
    rvc_engine *e = NULL;
    if (rvc_engine_open(&e, pth, NULL, weights, &err)) fail_msg("engine: %s", err.message);
    audio_buffer in = {calloc(8000, sizeof(float)), 8000, 16000}, out;
    for (size_t i = 0; i < in.frames; i++) in.samples[i] = 0.4f * sinf(2 * (float)M_PI * 180.0f * (float)i / 16000.0f);
    rvc_params p;
    rvc_params_default(&p);
    if (rvc_engine_convert_audio(e, &in, &p, NULL, &out, &err)) fail_msg("convert: %s", err.message);
    assert_int_equal(out.sample_rate, SR);
    assert_true(out.frames > 15000 && out.frames <= 20000); /* 0.5 s at 40 kHz */
    for (size_t i = 0; i < out.frames; i++) assert_true(isfinite(out.samples[i]));
    audio_buffer_free(&in);
    audio_buffer_free(&out);
    rvc_engine_free(e);
    rvc_trainer_free(a);
    rvc_trainer_free(b);
    free_set(&set);
}

/* The same steps on 1 and on 3 threads give bit-identical weights and moments: every threaded
 * loop of the tape computes each element on one thread in a fixed order (nn/par.h). */
static void steps_do_not_depend_on_the_thread_count(void **state)
{
    rvc_dataset set;
    make_set(&set);
    rvc_train_config c = tiny_config(1e-3f);
    rvc_trainer_options a_opt = options("one-thread", &c, 1, 0), b_opt = options("three-threads", &c, 1, 0);
    nn_ctx *ctx = nn_ctx_current();
    int before = nn_ctx_threads(ctx);
    rvc_trainer *a = open_ok(&set, &a_opt), *b = open_ok(&set, &b_opt);
    nn_ctx_set_threads(ctx, 1);
    steps(a, 2);
    nn_ctx_set_threads(ctx, 3);
    steps(b, 2);
    nn_ctx_set_threads(ctx, before);
    same_params(&a->G, &b->G);
    same_params(&a->D, &b->D);
    rvc_trainer_free(a);
    rvc_trainer_free(b);
    free_set(&set);
}

/* ---- v1 and no-pitch models ---- */

/* The set as a v1 (the tiny HuBERT's final_proj width, 32) and/or pitch-less set: features cut
 * to dim columns, pitch dropped. */
static void derive_set(rvc_dataset *set, int version, int dim, int f0)
{
    for (int i = 0; i < set->n; i++) {
        rvc_train_item *it = &set->items[i];
        for (int t = 0; t < it->frames; t++) memmove(it->phone + (size_t)t * dim, it->phone + (size_t)t * PHONE_DIM, sizeof(float) * dim);
        if (!f0) {
            free(it->pitch); free(it->pitchf);
            it->pitch = NULL;
            it->pitchf = NULL;
        }
    }
    set->version = version;
    set->phone_dim = dim;
    set->f0 = f0;
}

/* Trains a few steps, exports, and the engine opens the file as that kind of model and converts. */
static void train_export_convert(int version, int f0)
{
    rvc_dataset set;
    make_set(&set);
    int dim = version == 1 ? 32 : PHONE_DIM;
    derive_set(&set, version, dim, f0);
    rvc_train_config c;
    vc_error err = {0};
    assert_int_equal(rvc_train_config_tiny(SR, version, dim, f0, &c, &err), 0);
    assert_int_equal(c.n_periods, version == 1 ? 6 : 8);
    char sub[32], pth[256], weights[128];
    snprintf(sub, sizeof sub, "v%d-f0-%d", version, f0);
    rvc_trainer_options o = options(sub, &c, 1, 0);
    rvc_trainer *t = open_ok(&set, &o);
    assert_int_equal(rvc_paramset_find(&t->G, "enc_p.emb_pitch.weight") != NULL, f0);
    assert_int_equal(rvc_paramset_find(&t->G, "dec.m_source.l_linear.weight") != NULL, f0);
    assert_int_equal(rvc_paramset_find(&t->D, "discriminators.7.conv_post.weight_v") != NULL, version == 2);
    steps(t, 2);
    rvc_trainer_status st;
    rvc_trainer_status_get(t, &st);
    assert_true(isfinite(st.last.loss_gen_all) && st.last.loss_mel > 0);
    snprintf(pth, sizeof pth, "%s/%s.pth", TMP, sub);
    if (rvc_trainer_export(t, pth, NULL, &err)) fail_msg("export: %s", err.message);
    rvc_voice_info info;
    if (rvc_voice_inspect(pth, NULL, &info, &err)) fail_msg("inspect: %s", err.message);
    assert_int_equal(info.version, version);
    assert_int_equal(info.f0, f0);
    assert_int_equal(info.phone_dim, dim);
    snprintf(weights, sizeof weights, "%s/weights", TMP);
    rvc_engine *e = NULL;
    if (rvc_engine_open(&e, pth, NULL, weights, &err)) fail_msg("engine: %s", err.message);
    audio_buffer in = {calloc(8000, sizeof(float)), 8000, 16000}, out;
    for (size_t i = 0; i < in.frames; i++) in.samples[i] = 0.4f * sinf(2 * (float)M_PI * 180.0f * (float)i / 16000.0f);
    rvc_params p;
    rvc_params_default(&p);
    if (rvc_engine_convert_audio(e, &in, &p, NULL, &out, &err)) fail_msg("convert: %s", err.message);
    assert_true(out.frames > 15000 && out.frames <= 20000);
    for (size_t i = 0; i < out.frames; i++) assert_true(isfinite(out.samples[i]));
    audio_buffer_free(&in);
    audio_buffer_free(&out);
    rvc_engine_free(e);
    rvc_trainer_free(t);
    free_set(&set);
}

static void no_pitch_model_trains_and_converts(void **state) { train_export_convert(2, 0); }
static void v1_model_trains_and_converts(void **state) { train_export_convert(1, 1); }
static void v1_no_pitch_model_trains_and_converts(void **state) { train_export_convert(1, 0); }

/* ---- cancellation mid-step ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The cancel request lands at a fixed poll of step 3 (half the polls step 2 made), set by another
 * thread (as the job's DELETE would) while the step waits at that poll. Not after a time: step 2
 * is the first step of the second length bucket (it creates that bucket's oneDNN primitives) and
 * ends the epoch with a checkpoint (written and fsynced), so step 3 can end before half of step
 * 2's time has passed (seen: step 2 1.7 s, step 3 0.4 s), and a timed request then misses it. */
typedef struct cancel_probe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int flag, polls, cancel_at, reached, quit;
    double requested_at;
} cancel_probe;

static int probe_requested(void *ctx)
{
    cancel_probe *p = ctx;
    int n = __atomic_add_fetch(&p->polls, 1, __ATOMIC_RELAXED);
    if (p->cancel_at && n == p->cancel_at) { /* hand over to the requesting thread, wait for its flag */
        pthread_mutex_lock(&p->mu);
        p->reached = 1;
        pthread_cond_broadcast(&p->cv);
        while (!__atomic_load_n(&p->flag, __ATOMIC_ACQUIRE)) pthread_cond_wait(&p->cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
    return __atomic_load_n(&p->flag, __ATOMIC_ACQUIRE);
}

/* The other thread: waits until the step reaches poll cancel_at (or quit), then requests the cancel. */
static void *request_cancel(void *ctx)
{
    cancel_probe *p = ctx;
    pthread_mutex_lock(&p->mu);
    while (!p->reached && !p->quit) pthread_cond_wait(&p->cv, &p->mu);
    if (p->reached) {
        p->requested_at = now_s();
        __atomic_store_n(&p->flag, 1, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Tiny sizes, batch 4. A check only between steps would show: cancel requested halfway
 * through step 3 must end it within a small part of a step (and 1.5 s), leaving the
 * checkpoint step 2 wrote as it was. */
static void cancel_mid_step_keeps_the_checkpoint(void **state)
{
    rvc_dataset set;
    make_set(&set);
    rvc_train_config c = tiny_config(1e-3f);
    rvc_trainer_options o = options("cancel", &c, 5, 1);
    o.batch_size = 4;
    cancel_probe probe = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    o.cancel = (ag_cancel){probe_requested, &probe};
    rvc_trainer *t = open_ok(&set, &o);
    steps(t, 1);
    probe.polls = 0;
    steps(t, 1); /* writes the checkpoint (save_every 1) */
    int step_polls = probe.polls;
    assert_true(step_polls > 100); /* polled per op, not once a step */
    rvc_paramset g1;
    vc_error err = {0};
    assert_int_equal(rvc_paramset_from_specs(&g1, t->g_specs, t->n_g_specs, &err), 0);
    for (int i = 0; i < g1.count; i++) memcpy(g1.p[i].val, t->G.p[i].val, sizeof(float) * g1.p[i].n);

    probe.polls = 0;
    probe.cancel_at = step_polls / 2;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, request_cancel, &probe), 0);
    double started = now_s();
    int rc = rvc_trainer_step(t, &err);
    double ended = now_s();
    pthread_mutex_lock(&probe.mu);
    probe.quit = 1; /* frees the thread if the step never reached the poll */
    pthread_cond_broadcast(&probe.cv);
    pthread_mutex_unlock(&probe.mu);
    pthread_join(th, NULL);
    assert_true(probe.reached);
    double first_half = probe.requested_at - started, latency = ended - probe.requested_at;
    printf("step 3: cancel requested at poll %d of %d, %.3f s into the step; the step ended %.4f s later\n",
           probe.cancel_at, step_polls, first_half, latency);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, VC_ERR_CANCELLED);
    assert_true(latency < 1.5);
    assert_true(latency < first_half / 2); /* mid-step: a between-steps check would wait ≈ the other half */
    /* the torn trainer refuses to save or go on; the checkpoint of step 2 reopens */
    assert_int_equal(rvc_trainer_checkpoint(t, &err), -1);
    assert_int_equal(rvc_trainer_step(t, &err), -1);
    rvc_trainer_free(t);
    o.cancel = (ag_cancel){0};
    t = open_ok(&set, &o);
    rvc_trainer_status s;
    rvc_trainer_status_get(t, &s);
    assert_int_equal(s.step, 2);
    for (int i = 0; i < g1.count; i++)
        if (memcmp(g1.p[i].val, t->G.p[i].val, sizeof(float) * g1.p[i].n)) fail_msg("%s changed", g1.p[i].name);
    steps(t, 1); /* and training goes on from it */
    rvc_paramset_free(&g1);
    rvc_trainer_free(t);
    free_set(&set);
}

static void expect_open_fails(const rvc_dataset *set, const rvc_trainer_options *o, vc_code code, const char *want)
{
    rvc_trainer *t = (rvc_trainer *)&t;
    vc_error err = {0};
    assert_int_equal(rvc_trainer_open(&t, set, o, &err), -1);
    assert_null(t);
    if (err.code != code || !strstr(err.message, want))
        fail_msg("want %s containing '%s', got %s: %s", vc_code_name(code), want, vc_code_name(err.code), err.message);
}

static void bad_inputs_are_clear_errors(void **state)
{
    rvc_dataset set, empty = {.sr = SR, .hop = HOP, .phone_dim = PHONE_DIM, .f0 = 1, .version = 2};
    make_set(&set);
    rvc_train_config c = tiny_config(1e-4f);
    rvc_trainer_options o = options("bad", &c, 1, 0);
    expect_open_fails(&empty, &o, VC_ERR_INVALID_REQUEST, "empty");
    rvc_trainer_options ro = o;
    ro.dir = "/proc/vcs-no-such-dir/trainer";
    expect_open_fails(&set, &ro, VC_ERR_IO, "/proc/vcs-no-such-dir/trainer");
    ro.dir = "/proc";
    expect_open_fails(&set, &ro, VC_ERR_IO, "not writable");
    rvc_trainer_options bo = o;
    bo.batch_size = 0;
    expect_open_fails(&set, &bo, VC_ERR_INVALID_REQUEST, "batch size");
    rvc_train_config wrong = tiny_config(1e-4f);
    wrong.hop = 480;
    bo = o;
    bo.config = &wrong;
    expect_open_fails(&set, &bo, VC_ERR_INVALID_REQUEST, "hop");
    bo = o;
    bo.pretrained_g = "/nonexistent/f0G40k.pth";
    expect_open_fails(&set, &bo, VC_ERR_NOT_FOUND, "pretrained");
    /* a damaged checkpoint is refused, never half-loaded */
    char path[256];
    snprintf(path, sizeof path, "%s/bad/%s", TMP, RVC_CKPT_FILE);
    FILE *f = fopen(path, "wb");
    fputs("garbage", f);
    fclose(f);
    expect_open_fails(&set, &o, VC_ERR_CORRUPT, "checkpoint");
    free_set(&set);
}

/* An official-style pretrained file ({"model": state_dict}, fp32) is copied exactly; one with
 * a wrong shape is refused with the tensor named. */
static void write_pretrained(const char *path, const rvc_paramset *ps, const char *skew)
{
    nn_pth *p = nn_pth_new();
    nn_pth_dict(p, 0);
    nn_pth_str(p, "model");
    nn_pth_dict(p, 1);
    for (int i = 0; i < ps->count; i++) {
        const rvc_param *w = &ps->p[i];
        int wrong = skew && !strcmp(w->name, skew);
        int64_t flat[2] = {1, (int64_t)w->n}; /* same data, wrong shape */
        nn_pth_str(p, w->name);
        nn_pth_tensor(p, w->val, wrong ? 2 : w->ndim, wrong ? flat : w->shape, 0);
    }
    nn_pth_end(p);
    nn_pth_end(p);
    vc_error err;
    if (nn_pth_save(p, path, "archive", &err)) fail_msg("%s", err.message);
    nn_pth_free(p);
}

static void pretrained_weights_are_loaded(void **state)
{
    rvc_dataset set;
    make_set(&set);
    rvc_train_config c = tiny_config(1e-4f);
    c.g.phone_dim = PHONE_DIM;
    nn_tensor_spec *specs = NULL;
    size_t n = rvc_generator_tensor_specs(&c.g, c.spec_channels, &specs);
    rvc_paramset src;
    vc_error err;
    assert_int_equal(rvc_paramset_from_specs(&src, specs, n, &err), 0);
    rvc_paramset_init_random(&src, 99);
    char g_path[256], bad_path[256];
    snprintf(g_path, sizeof g_path, "%s/f0G40k.pth", TMP);
    snprintf(bad_path, sizeof bad_path, "%s/bad_G.pth", TMP);
    write_pretrained(g_path, &src, NULL);
    write_pretrained(bad_path, &src, "enc_p.proj.bias");
    rvc_trainer_options o = options("pretrained", &c, 1, 0);
    o.pretrained_g = g_path;
    rvc_trainer *t = open_ok(&set, &o);
    for (int i = 0; i < src.count; i++)
        if (memcmp(src.p[i].val, t->G.p[i].val, sizeof(float) * src.p[i].n)) fail_msg("%s not copied", src.p[i].name);
    rvc_trainer_free(t);
    o = options("pretrained-bad", &c, 1, 0);
    o.pretrained_g = bad_path;
    expect_open_fails(&set, &o, VC_ERR_INVALID_FORMAT, "enc_p.proj.bias");
    rvc_paramset_free(&src);
    free(specs);
    free_set(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(training_specs_match_the_golden_case),
        cmocka_unit_test(bad_inputs_are_clear_errors),
        cmocka_unit_test(pretrained_weights_are_loaded),
        cmocka_unit_test(killed_and_resumed_run_matches),
        cmocka_unit_test(steps_do_not_depend_on_the_thread_count),
        cmocka_unit_test(mel_loss_falls),
        cmocka_unit_test(bf16_training_follows_fp32),
        cmocka_unit_test(cancel_mid_step_keeps_the_checkpoint),
        cmocka_unit_test(no_pitch_model_trains_and_converts),
        cmocka_unit_test(v1_model_trains_and_converts),
        cmocka_unit_test(v1_no_pitch_model_trains_and_converts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
