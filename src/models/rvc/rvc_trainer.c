/*
 * The RVC training loop (contract: rvc_trainer.h). Why it is shaped like this:
 *  - Everything random is drawn from splitmix64 streams that a checkpoint can hold: the epoch
 *    plan from (seed, epoch) alone, slice starts and noise from one running state. So a
 *    resumed run replays exactly the steps an uninterrupted one would have taken.
 *  - The epoch plan follows the official DistributedBucketSampler in spirit: items grouped
 *    by length (buckets of 100 frames), shuffled inside a bucket, each bucket padded to whole
 *    batches by repeating its own items, then the batch order shuffled. Batches of similar
 *    lengths waste little compute on padding. Inside a batch items are longest first, as the
 *    official collate sorts them.
 *  - Linear spectrograms (spectrogram_torch) of every item are computed once at open.
 *  - One step = rvc_train_step (D step then G step) with lr = base · lr_decay^(epoch − 1),
 *    the official ExponentialLR stepped at each epoch end.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "models/rvc/rvc_specs.h"
#include "nn/backend.h"
#include "models/rvc/rvc_trainer_internal.h"
#include "nn/spectral.h"
#include "store/store.h"

#define BUCKET_FRAMES 100
#define N_BUCKETS 10
#define SPEC_EPS 1e-6

/* ---- configuration ---- */

typedef struct rate_preset {
    int version, sr, n_fft, hop, n_mels, segment, n_ups, ups[5], kernels[5];
} rate_preset;

/* The official configs/v1 and configs/v2 JSON files; v2 40k trains with v1/40k.json (the official
 * webui does the same: there is no v2/40k.json). */
static const rate_preset PRESETS[] = {
    {2, 48000, 2048, 480, 128, 17280, 4, {12, 10, 2, 2}, {24, 20, 4, 4}},
    {2, 40000, 2048, 400, 125, 12800, 4, {10, 10, 2, 2}, {16, 16, 4, 4}},
    {2, 32000, 1024, 320, 80, 12800, 4, {10, 8, 2, 2}, {20, 16, 4, 4}},
    {1, 48000, 2048, 480, 128, 11520, 5, {10, 6, 2, 2, 2}, {16, 16, 4, 4, 4}},
    {1, 40000, 2048, 400, 125, 12800, 4, {10, 10, 2, 2}, {16, 16, 4, 4}},
    {1, 32000, 1024, 320, 80, 12800, 5, {10, 4, 2, 2, 2}, {16, 16, 4, 4, 4}},
};

int rvc_train_config_default(int sr, int version, int phone_dim, int f0, rvc_train_config *c, vc_error *err)
{
    /* MultiPeriodDiscriminatorV2 (v2) adds periods 23 and 37 to MultiPeriodDiscriminator (v1) */
    static const int periods[8] = {2, 3, 5, 7, 11, 17, 23, 37};
    const rate_preset *p = NULL;
    for (size_t i = 0; i < sizeof PRESETS / sizeof PRESETS[0]; i++)
        if (PRESETS[i].sr == sr && PRESETS[i].version == version) p = &PRESETS[i];
    if (!p) return vc_fail(err, VC_ERR_INVALID_REQUEST, "RVC training: no official configuration for v%d at %d Hz "
                           "(v1 or v2 at 32000, 40000, 48000)", version, sr);
    memset(c, 0, sizeof *c);
    c->g = (rvc_synth_config){.inter = 192, .hidden = 192, .filter = 768, .n_heads = 2, .n_layers = 6, .kernel = 3,
                              .n_kernels = 3, .resblock_kernels = {3, 7, 11},
                              .resblock_dilations = {{1, 3, 5}, {1, 3, 5}, {1, 3, 5}}, .n_ups = p->n_ups,
                              .upsample_initial = 512, .spk_embed_dim = 109, .gin = 256, .sr = sr,
                              .phone_dim = phone_dim, .f0 = f0 != 0};
    memcpy(c->g.upsample_rates, p->ups, sizeof(int) * (size_t)p->n_ups);
    memcpy(c->g.upsample_kernels, p->kernels, sizeof(int) * (size_t)p->n_ups);
    c->version = version;
    c->spec_channels = p->n_fft / 2 + 1;
    c->segment_samples = p->segment;
    c->hop = p->hop;
    c->n_fft = p->n_fft;
    c->n_mels = p->n_mels;
    c->c_mel = 45.0f;
    c->c_kl = 1.0f;
    c->opt = (nn_adamw){1e-4f, 0.8f, 0.99f, 1e-9f, 0.01f};
    c->n_periods = version == 1 ? 6 : 8;
    memcpy(c->disc_periods, periods, sizeof(int) * (size_t)c->n_periods);
    c->disc_divisor = 1;
    c->lr_decay = 0.999875;
    return 0;
}

int rvc_train_config_tiny(int sr, int version, int phone_dim, int f0, rvc_train_config *c, vc_error *err)
{
    if (rvc_train_config_default(sr, version, phone_dim, f0, c, err)) return -1;
    c->g.inter = 8;
    c->g.hidden = 16;
    c->g.filter = 32;
    c->g.n_layers = 1;
    c->g.upsample_initial = 32;
    c->g.spk_embed_dim = 1;
    c->g.gin = 8;
    c->segment_samples = 8 * c->hop;
    c->n_fft = 1024; /* smaller STFTs than the official 2048: same code, less time */
    c->spec_channels = c->n_fft / 2 + 1;
    c->n_mels = 80;
    c->disc_divisor = 32;
    c->opt.lr = 1e-2f; /* a tiny model learns fast at a high rate */
    return 0;
}

static int check_config(const rvc_train_config *c, const rvc_dataset *set, vc_error *err)
{
    int upp = 1;
    for (int i = 0; i < c->g.n_ups; i++) upp *= c->g.upsample_rates[i];
    if (c->hop != set->hop || c->g.sr != set->sr || upp != c->hop)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "RVC training: the set is %d Hz with hop %d, the model %d Hz with hop %d (upsampling %d)",
                       set->sr, set->hop, c->g.sr, c->hop, upp);
    if (c->spec_channels != c->n_fft / 2 + 1 || c->segment_samples < c->hop || c->segment_samples % c->hop ||
        c->n_periods < 0 || c->n_periods > 16 || (c->n_fft - c->hop) % 2)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "RVC training: implausible configuration sizes");
    return 0;
}

static int check_set(const rvc_dataset *set, vc_error *err)
{
    if (!set || set->n < 1 || !set->items) return vc_fail(err, VC_ERR_INVALID_REQUEST, "RVC training: the training set is empty");
    if (set->phone_dim != 768 && set->phone_dim != 256 && set->phone_dim < 1)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "RVC training: bad content dimension %d", set->phone_dim);
    for (int i = 0; i < set->n; i++) {
        const rvc_train_item *it = &set->items[i];
        if (it->frames < 2 || !it->phone || (set->f0 && (!it->pitch || !it->pitchf)) || !it->wave)
            return vc_fail(err, VC_ERR_INVALID_REQUEST, "RVC training: item %d is empty or lacks pitch/features", i);
    }
    return 0;
}

/* ---- the epoch plan ---- */

static int bucket_of(int frames) { return frames / BUCKET_FRAMES < N_BUCKETS ? frames / BUCKET_FRAMES : N_BUCKETS - 1; }

static int count_steps(const rvc_dataset *set, int batch_size)
{
    int count[N_BUCKETS] = {0}, steps = 0;
    for (int i = 0; i < set->n; i++) count[bucket_of(set->items[i].frames)]++;
    for (int b = 0; b < N_BUCKETS; b++) steps += (count[b] + batch_size - 1) / batch_size;
    return steps;
}

static void shuffle(int *x, int n, uint64_t *rng)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rvc_rng_next(rng) % (uint64_t)(i + 1)), tmp = x[i];
        x[i] = x[j];
        x[j] = tmp;
    }
}

/* Longest first inside each batch (insertion sort: batches are small). */
static void sort_batch(const rvc_dataset *set, int *idx, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && set->items[idx[j]].frames > set->items[idx[j - 1]].frames; j--) {
            int tmp = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = tmp;
        }
}

static int build_plan(rvc_trainer *t, int epoch, vc_error *err)
{
    const rvc_dataset *set = t->set;
    int bs = t->batch_size, S = t->steps_per_epoch, filled = 0;
    int *members = malloc(sizeof(int) * (size_t)set->n), *slots = malloc(sizeof(int) * (size_t)S * bs);
    int *order = malloc(sizeof(int) * (size_t)S);
    if (!members || !slots || !order) {
        free(members); free(slots); free(order);
        return vc_fail(err, VC_ERR_NOMEM, "out of memory (epoch plan)");
    }
    uint64_t rng = t->seed * 0x9E3779B97F4A7C15ull + (uint64_t)epoch;
    rvc_rng_next(&rng);
    for (int b = 0; b < N_BUCKETS; b++) {
        int n = 0;
        for (int i = 0; i < set->n; i++)
            if (bucket_of(set->items[i].frames) == b) members[n++] = i;
        if (!n) continue;
        shuffle(members, n, &rng);
        int padded = (n + bs - 1) / bs * bs;
        for (int j = 0; j < padded; j++) slots[filled++] = members[j % n];
    }
    for (int s = 0; s < S; s++) order[s] = s;
    shuffle(order, S, &rng);
    for (int s = 0; s < S; s++) {
        memcpy(t->plan + (size_t)s * bs, slots + (size_t)order[s] * bs, sizeof(int) * (size_t)bs);
        sort_batch(set, t->plan + (size_t)s * bs, bs);
    }
    t->plan_epoch = epoch;
    free(members); free(slots); free(order);
    return 0;
}

/* ---- batches ---- */

typedef struct batch_buf {
    rvc_train_batch b;
    float *phone, *pitchf, *spec, *wave, *eps_q, *eps_sine;
    int64_t *pitch, *lengths, *sid, *ids;
} batch_buf;

static void batch_free(batch_buf *bb)
{
    free(bb->phone); free(bb->pitchf); free(bb->spec); free(bb->wave); free(bb->eps_q); free(bb->eps_sine);
    free(bb->pitch); free(bb->lengths); free(bb->sid); free(bb->ids);
}

static int batch_alloc(batch_buf *bb, const rvc_train_config *c, int B, int T, int D)
{
    size_t bt = (size_t)B * T;
    bb->phone = calloc(bt * D, sizeof(float));
    bb->pitchf = calloc(bt, sizeof(float));
    bb->spec = calloc(bt * c->spec_channels, sizeof(float));
    bb->wave = calloc(bt * c->hop, sizeof(float));
    bb->eps_q = malloc(sizeof(float) * bt * c->g.inter);
    bb->eps_sine = malloc(sizeof(float) * (size_t)B * c->segment_samples);
    bb->pitch = calloc(bt, sizeof(int64_t));
    bb->lengths = calloc((size_t)B, sizeof(int64_t));
    bb->sid = calloc((size_t)B, sizeof(int64_t));
    bb->ids = calloc((size_t)B, sizeof(int64_t));
    return bb->phone && bb->pitchf && bb->spec && bb->wave && bb->eps_q && bb->eps_sine && bb->pitch && bb->lengths &&
                   bb->sid && bb->ids ? 0 : -1;
}

static void batch_copy_item(batch_buf *bb, const rvc_trainer *t, int i, int item)
{
    const rvc_train_item *it = &t->set->items[item];
    const rvc_train_config *c = &t->cfg;
    int T = bb->b.T, F = it->frames, D = t->set->phone_dim, K = c->spec_channels;
    memcpy(bb->phone + (size_t)i * T * D, it->phone, sizeof(float) * (size_t)F * D);
    if (t->set->f0) { /* a no-pitch set has none: its batches keep zeros the graph never reads */
        memcpy(bb->pitch + (size_t)i * T, it->pitch, sizeof(int64_t) * (size_t)F);
        memcpy(bb->pitchf + (size_t)i * T, it->pitchf, sizeof(float) * (size_t)F);
    }
    for (int k = 0; k < K; k++)
        memcpy(bb->spec + ((size_t)i * K + k) * T, t->spec[item] + (size_t)k * F, sizeof(float) * (size_t)F);
    memcpy(bb->wave + (size_t)i * bb->b.wave_len, it->wave, sizeof(float) * (size_t)F * c->hop);
    bb->lengths[i] = F;
}

/* Items padded to T = max(longest, segment) frames; slice starts as commons.rand_slice_segments
 * (start in [0, len − segment]); posterior and sine noise. All drawn from t->rng, in that order. */
static int batch_assemble(rvc_trainer *t, const int *items, batch_buf *bb, vc_error *err)
{
    const rvc_train_config *c = &t->cfg;
    int B = t->batch_size, seg = c->segment_samples / c->hop, T = seg;
    for (int i = 0; i < B; i++)
        if (t->set->items[items[i]].frames > T) T = t->set->items[items[i]].frames;
    memset(bb, 0, sizeof *bb);
    if (batch_alloc(bb, c, B, T, t->set->phone_dim)) {
        batch_free(bb);
        return vc_fail(err, VC_ERR_NOMEM, "out of memory (batch of %d × %d frames)", B, T);
    }
    bb->b = (rvc_train_batch){.B = B, .T = T, .wave_len = T * c->hop};
    for (int i = 0; i < B; i++) batch_copy_item(bb, t, i, items[i]);
    for (int i = 0; i < B; i++) {
        int64_t room = bb->lengths[i] - seg + 1;
        bb->ids[i] = room > 0 ? (int64_t)(rvc_rng_uniform(&t->rng) * (double)room) : 0;
    }
    for (size_t k = 0; k < (size_t)B * c->g.inter * T; k++) bb->eps_q[k] = rvc_rng_normal(&t->rng);
    for (size_t k = 0; k < (size_t)B * c->segment_samples; k++) bb->eps_sine[k] = rvc_rng_normal(&t->rng);
    bb->b.phone = bb->phone;
    bb->b.phone_lengths = bb->b.spec_lengths = bb->lengths;
    bb->b.pitch = bb->pitch;
    bb->b.pitchf = bb->pitchf;
    bb->b.spec = bb->spec;
    bb->b.sid = bb->sid;
    bb->b.ids_slice = bb->ids;
    bb->b.wave = bb->wave;
    bb->b.eps_posterior = bb->eps_q;
    bb->b.eps_sine = bb->eps_sine;
    return 0;
}

/* ---- open / free ---- */

static int compute_spectrograms(rvc_trainer *t, vc_error *err)
{
    const rvc_train_config *c = &t->cfg;
    t->spec = calloc((size_t)t->set->n, sizeof(float *));
    if (!t->spec) return vc_fail(err, VC_ERR_NOMEM, "out of memory (spectrograms)");
    for (int i = 0; i < t->set->n; i++) {
        const rvc_train_item *it = &t->set->items[i];
        t->spec[i] = malloc(sizeof(float) * (size_t)c->spec_channels * it->frames);
        if (!t->spec[i]) return vc_fail(err, VC_ERR_NOMEM, "out of memory (spectrograms)");
        if (nn_spectrogram_padded(t->spec[i], it->wave, (size_t)it->frames * c->hop, c->n_fft, c->hop, (c->n_fft - c->hop) / 2,
                                  SPEC_EPS, err))
            return vc_error_wrap(err, "spectrogram of item %d", i);
    }
    return 0;
}

static int prepare_dir(const char *dir, vc_error *err)
{
    char probe[4096];
    if (vc_mkdirs(dir, err)) return vc_error_wrap(err, "trainer directory %s", dir);
    snprintf(probe, sizeof probe, "%s/.write-test", dir);
    FILE *f = fopen(probe, "wb");
    if (!f) return vc_fail(err, VC_ERR_IO, "trainer directory %s is not writable: %s", dir, strerror(errno));
    fclose(f);
    unlink(probe);
    return 0;
}

/* G and D as zeroed parameter sets of the configured layouts. */
static int build_layouts(rvc_trainer *t, vc_error *err)
{
    const rvc_train_config *c = &t->cfg;
    t->n_g_specs = rvc_generator_tensor_specs(&c->g, c->spec_channels, &t->g_specs);
    t->n_d_specs = rvc_disc_tensor_specs(c->disc_periods, c->n_periods, c->disc_divisor, &t->d_specs);
    if (!t->n_g_specs || !t->n_d_specs) return vc_fail(err, VC_ERR_NOMEM, "out of memory (tensor specs)");
    if (rvc_paramset_from_specs(&t->G, t->g_specs, t->n_g_specs, err)) return -1;
    return rvc_paramset_from_specs(&t->D, t->d_specs, t->n_d_specs, err);
}

/* A fresh start: pretrained G/D when given, seeded random weights otherwise. */
static int fresh_start(rvc_trainer *t, const rvc_trainer_options *o, vc_error *err)
{
    t->epoch = 1;
    t->rng = t->seed ^ 0xA5A5A5A5DEADBEEFull;
    rvc_paramset_init_random(&t->G, t->seed);
    rvc_paramset_init_random(&t->D, t->seed + 1);
    if (o->pretrained_g && rvc_paramset_load_pretrained(&t->G, o->pretrained_g, err)) return -1;
    if (o->pretrained_d && rvc_paramset_load_pretrained(&t->D, o->pretrained_d, err)) return -1;
    return 0;
}

static int open_inner(rvc_trainer *t, const rvc_dataset *set, const rvc_trainer_options *o, vc_error *err)
{
    if (!o || !o->dir || !o->dir[0]) return vc_fail(err, VC_ERR_INVALID_REQUEST, "RVC training: no trainer directory given");
    if (o->epochs < 1 || o->batch_size < 1 || o->save_every_steps < 0)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "RVC training: epochs and batch size must be at least 1");
    if (check_set(set, err)) return -1;
    if (o->config) t->cfg = *o->config;
    else if (rvc_train_config_default(set->sr, set->version, set->phone_dim, set->f0, &t->cfg, err)) return -1;
    t->cfg.g.phone_dim = set->phone_dim;
    t->cfg.g.f0 = set->f0 != 0; /* the set decides: a pitch-less set trains a _nono synthesizer */
    t->cfg.version = set->version;
    if (t->cfg.lr_decay <= 0) t->cfg.lr_decay = 0.999875;
    if (t->cfg.disc_divisor < 1) t->cfg.disc_divisor = 1;
    if (check_config(&t->cfg, set, err)) return -1;
    t->set = set;
    t->lr_decay = t->cfg.lr_decay;
    t->epochs = o->epochs;
    t->batch_size = o->batch_size;
    t->save_every = o->save_every_steps;
    t->seed = o->seed;
    t->cancel = o->cancel;
    t->dir = strdup(o->dir);
    t->steps_per_epoch = count_steps(set, o->batch_size);
    t->plan = malloc(sizeof(int) * (size_t)t->steps_per_epoch * o->batch_size);
    if (!t->dir || !t->plan) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (prepare_dir(o->dir, err) || compute_spectrograms(t, err)) return -1;
    if (build_layouts(t, err)) return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", o->dir, RVC_CKPT_FILE);
    if (access(path, F_OK) == 0) return rvc_trainer_load_checkpoint(t, path, err);
    return fresh_start(t, o, err);
}

int rvc_trainer_open(rvc_trainer **out, const rvc_dataset *set, const rvc_trainer_options *o, vc_error *err)
{
    *out = NULL;
    rvc_trainer *t = calloc(1, sizeof *t);
    if (t) t->arena = nn_arena_create(0);
    if (!t || !t->arena) {
        free(t);
        return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    }
    if (open_inner(t, set, o, err)) {
        rvc_trainer_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void rvc_trainer_free(rvc_trainer *t)
{
    if (!t) return;
    rvc_paramset_free(&t->G);
    rvc_paramset_free(&t->D);
    free(t->g_specs);
    free(t->d_specs);
    for (int i = 0; t->spec && i < t->set->n; i++) free(t->spec[i]);
    free(t->spec);
    free(t->plan);
    free(t->hist);
    free(t->dir);
    nn_arena_free(t->arena);
    free(t);
}

/* ---- steps ---- */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int history_append(rvc_trainer *t, const rvc_train_result *r)
{
    if (t->n_hist == t->cap_hist) {
        int64_t cap = t->cap_hist ? t->cap_hist * 2 : 256;
        rvc_train_result *grown = realloc(t->hist, sizeof *grown * (size_t)cap);
        if (!grown) return -1;
        t->hist = grown;
        t->cap_hist = cap;
    }
    t->hist[t->n_hist++] = *r;
    return 0;
}

int rvc_trainer_step(rvc_trainer *t, vc_error *err)
{
    if (t->torn) return vc_fail(err, VC_ERR_INTERNAL, "RVC training: an earlier step failed midway; reopen the trainer");
    if (t->epoch > t->epochs) return 1;
    if (t->plan_epoch != t->epoch && build_plan(t, t->epoch, err)) return -1;
    batch_buf bb;
    if (batch_assemble(t, t->plan + (size_t)t->pos * t->batch_size, &bb, err)) return -1;
    rvc_train_config c = t->cfg;
    c.opt.lr = (float)(t->cfg.opt.lr * pow(t->lr_decay, t->epoch - 1));
    rvc_train_result res;
    double t0 = now_seconds();
    rvc_train_hooks hooks = {.cancel = t->cancel, .arena = t->arena};
    /* Mixed precision (VCS_PRECISION=bf16 where the CPU has AVX512-BF16; `auto` keeps fp32 for
     * training): convolutions read bf16 copies of activations and weights and accumulate in fp32;
     * weights, gradients and AdamW moments stay fp32 (the master copy). */
    nn_precision_scope scope = nn_precision_enter("rvc_train");
    int rc = rvc_train_step(&t->G, &t->D, &c, &bb.b, (int)(t->step + 1), &res, &hooks, err);
    nn_precision_leave(scope);
    batch_free(&bb);
    if (rc) {
        t->torn = 1;
        return err->code == VC_ERR_CANCELLED ? -1 : vc_error_wrap(err, "RVC training step %lld", (long long)t->step + 1);
    }
    t->seconds += now_seconds() - t0;
    t->steps_here++;
    if (history_append(t, &res)) return vc_fail(err, VC_ERR_NOMEM, "out of memory (loss history)");
    t->step++;
    if (++t->pos == t->steps_per_epoch) {
        t->pos = 0;
        t->epoch++;
    }
    if ((t->save_every > 0 && t->step % t->save_every == 0) || t->pos == 0) return rvc_trainer_checkpoint(t, err);
    return 0;
}

void rvc_trainer_set_epochs(rvc_trainer *t, int epochs)
{
    int begun = t->pos > 0 ? t->epoch : t->epoch - 1; /* at pos 0 the epoch has not started */
    if (begun < 1) begun = 1;
    t->epochs = epochs > begun ? epochs : begun;
}

void rvc_trainer_status_get(const rvc_trainer *t, rvc_trainer_status *s)
{
    memset(s, 0, sizeof *s);
    s->epochs = t->epochs;
    s->epoch = t->epoch > t->epochs ? t->epochs : t->epoch;
    s->step = t->step;
    s->total_steps = (int64_t)t->epochs * t->steps_per_epoch;
    if (t->n_hist) s->last = t->hist[t->n_hist - 1];
    s->seconds_per_step = t->steps_here ? t->seconds / (double)t->steps_here : 0;
    s->step_memory_bytes = nn_arena_reserved(t->arena);
}

int rvc_trainer_history(const rvc_trainer *t, rvc_train_result **rows, int64_t *n, vc_error *err)
{
    *rows = malloc(sizeof **rows * (size_t)(t->n_hist ? t->n_hist : 1));
    if (!*rows) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (t->n_hist) memcpy(*rows, t->hist, sizeof **rows * (size_t)t->n_hist);
    *n = t->n_hist;
    return 0;
}
