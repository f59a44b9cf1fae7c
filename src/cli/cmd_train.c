/*
 * voiceclone train --name NAME --consent AUDIO [--epochs N] [--batch N] [--sample-rate 32000|40000|48000]
 *                  [--version v1|v2] [--no-f0] [--seed N] [--save-every N] [--denoise] [--normalize] [--trim] [--data DIR]
 *                  [--work DIR] [--user USER]
 *
 * Trains an RVC voice from one recording, in this process, with the same pipeline the
 * train_rvc job runs (rvc_train_pipeline.h), and adds it to the library under DIR (default
 * data; base models from DIR/weights). Progress is a one-line bar on stderr. The work folder
 * (default DIR/training/cli-NAME) keeps the prepared set and checkpoints: running the same
 * command again after an interruption resumes. --consent states that the voice is yours or that
 * you have the speaker's permission; it is recorded with the model. At the end of each phase it
 * prints that phase's peak RSS (this process is alone in its memory, so the high-water mark is
 * reset at each phase start: base/memstat.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_dsp.h"
#include "base/memstat.h"
#include "cli/cli.h"
#include "jobs/jobs_train.h"
#include "models/rvc/rvc_train_pipeline.h"
#include "store/store.h"

typedef struct train_args {
    const char *name, *audio, *data, *work, *user;
    int consent, denoise, normalize, trim;
    rvc_train_recipe recipe;
    char phase[32];  /* the phase running, for its peak RSS */
    int rss_so_far;  /* the kernel refused a reset: peaks include the phases before */
} train_args;

static int int_arg(const char *v, int lo, int hi, int *out)
{
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || x < lo || x > hi) return -1;
    *out = (int)x;
    return 0;
}

static int rate_ok(int sr) { return sr == 32000 || sr == 40000 || sr == 48000; }

static int version_arg(const char *v, int *out)
{
    if (!v || (strcmp(v, "v1") && strcmp(v, "v2"))) return -1;
    *out = v[1] - '0';
    return 0;
}

static int parse(int argc, char **argv, train_args *a)
{
    a->data = "data";
    a->user = "local";
    rvc_train_recipe_default(&a->recipe);
    int seed = (int)a->recipe.seed;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0, takes = 1;
        if (!strcmp(k, "--name") && v) a->name = v;
        else if (!strcmp(k, "--data") && v) a->data = v;
        else if (!strcmp(k, "--work") && v) a->work = v;
        else if (!strcmp(k, "--user") && v) a->user = v;
        else if (!strcmp(k, "--epochs")) rc = int_arg(v, 1, 1000, &a->recipe.epochs);
        else if (!strcmp(k, "--batch")) rc = int_arg(v, 1, 32, &a->recipe.batch_size);
        else if (!strcmp(k, "--save-every")) rc = int_arg(v, 1, 100000, &a->recipe.save_every_steps);
        else if (!strcmp(k, "--seed")) rc = int_arg(v, 0, 2147483647, &seed);
        else if (!strcmp(k, "--sample-rate")) rc = int_arg(v, 32000, 48000, &a->recipe.sample_rate) || !rate_ok(a->recipe.sample_rate);
        else if (!strcmp(k, "--version")) rc = version_arg(v, &a->recipe.version);
        else {
            takes = 0;
            if (!strcmp(k, "--consent")) a->consent = 1;
            else if (!strcmp(k, "--denoise")) a->denoise = 1;
            else if (!strcmp(k, "--normalize")) a->normalize = 1;
            else if (!strcmp(k, "--trim")) a->trim = 1;
            else if (!strcmp(k, "--no-f0")) a->recipe.f0 = 0;
            else if (!strcmp(k, "--tiny") && getenv("VCS_JOBS_TEST_KINDS")) a->recipe.tiny = 1; /* test suite only */
            else if (k[0] != '-' && !a->audio) a->audio = k;
            else return -1;
        }
        if (rc) return -1;
        i += takes;
    }
    a->recipe.seed = (uint64_t)seed;
    return a->name && a->audio ? 0 : -1;
}

/* The chosen cleanup, in the job's order: denoise → trim → normalise. */
static int preprocess(void *ctx, audio_buffer *buf, vc_error *err)
{
    const train_args *a = ctx;
    audio_buffer next = {0};
    if (a->denoise) {
        if (audio_denoise(buf, 0, NULL, &next, err)) return -1;
        audio_buffer_free(buf);
        *buf = next;
    }
    if (a->trim) {
        if (audio_trim_silence(buf, NULL, NULL, &next, err)) return -1;
        audio_buffer_free(buf);
        *buf = next;
    }
    if (a->normalize) {
        if (audio_normalize_loudness(buf, AUDIO_LUFS_TRAINING, 0, NULL, &next, err)) return -1;
        audio_buffer_free(buf);
        *buf = next;
    }
    return 0;
}

/* The peak RSS of the phase that just ended; the mark is reset for the next one. */
static void phase_peak(train_args *a, const char *next)
{
    if (a->phase[0])
        fprintf(stderr, "\n%s: peak RSS %.0f MB%s\n", a->phase, (double)vc_rss_peak_bytes() / 1048576.0,
                a->rss_so_far ? " (so far: this kernel does not reset the mark)" : "");
    if (next && vc_rss_peak_reset() != 0) a->rss_so_far = 1;
    snprintf(a->phase, sizeof a->phase, "%s", next ? next : "");
}

static int show_phase(void *ctx, const char *phase, double fraction, const char *message)
{
    train_args *a = ctx;
    if (strcmp(a->phase, phase)) phase_peak(a, phase);
    fprintf(stderr, "\r%-20s %3.0f%%  %-50.50s", phase, 100 * fraction, message ? message : "");
    if (fraction >= 1) fputc('\n', stderr);
    return 0;
}

static int show_step(void *ctx, const rvc_trainer_status *st, double eta)
{
    int width = 30, filled = (int)(width * (double)st->step / (double)(st->total_steps > 0 ? st->total_steps : 1));
    fprintf(stderr, "\rtraining [%.*s%*s] step %lld/%lld epoch %d/%d loss %.3f mel %.2f eta %.0f s   ", filled,
            "##############################", width - filled, "", (long long)st->step, (long long)st->total_steps,
            st->epoch, st->epochs, st->last.loss_gen_all, st->last.loss_mel, eta);
    return 0;
}

static int show_report(void *ctx, const rvc_train_report *r)
{
    fprintf(stderr, "\ntraining set: %.0f s of speech kept after slicing, %d pieces; %d steps an epoch, measured %.1f s a "
                    "step: about %.1f min an epoch, %.0f min to go (%d epochs)\n", r->speech_seconds, r->pieces,
            r->steps_per_epoch, r->step_seconds, r->epoch_seconds / 60.0, r->remaining_seconds / 60.0, r->epochs);
    return 0;
}

static int add_to_library(const train_args *a, const char *work, const rvc_train_outcome *o, vc_error *err)
{
    json_t *prov = json_pack("{s:s, s:b, s:s}", "attestation",
                             "The user confirmed (--consent) that the voice is theirs or that they have the speaker's permission.",
                             "voice_consent", 1, "training_audio", a->audio);
    store *s = NULL;
    store_model m;
    int rc = prov ? store_open_url(&s, a->data, getenv("VCS_DATABASE_URL"), err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (rc == 0) rc = jobs_train_store_model(s, a->user, a->name, NULL, work, o, prov, &m, err);
    if (rc == 0) printf("trained %s \"%s\": %lld steps, mel loss %.2f → %.2f, grade %s\n", m.model_id, m.name,
                        (long long)o->steps, o->first.loss_mel, o->final.loss_mel, o->grade);
    store_close(s);
    json_decref(prov);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    train_args a = {0};
    if (parse(argc, argv, &a)) {
        fprintf(stderr, "usage: voiceclone train --name NAME --consent AUDIO [--epochs N] [--batch N] [--sample-rate "
                        "32000|40000|48000] [--version v1|v2] [--no-f0] [--seed N] [--save-every N] [--denoise] [--normalize] "
                        "[--trim] [--data DIR] "
                        "[--work DIR] [--user USER]\n");
        return 2;
    }
    if (!a.consent) {
        fprintf(stderr, "voiceclone train: add --consent to confirm that the voice is yours or that you have the "
                        "speaker's permission to clone it\n");
        return 2;
    }
    char work[1200], weights[1200];
    if (a.work) snprintf(work, sizeof work, "%s", a.work);
    else snprintf(work, sizeof work, "%s/training/cli-%s", a.data, a.name);
    snprintf(weights, sizeof weights, "%s/weights", a.data);
    vc_error err = {0};
    audio_file_info info;
    if (audio_probe_file(a.audio, &info, &err)) { fprintf(stderr, "voiceclone train: %s\n", err.message); return 1; }
    a.recipe.epochs_chosen = a.recipe.epochs == 0; /* chosen again once a step is measured */
    if (a.recipe.epochs_chosen) a.recipe.epochs = rvc_train_default_epochs(&a.recipe, info.duration_seconds);
    fprintf(stderr, "training %d epochs%s, about %.0f minutes on this machine\n", a.recipe.epochs,
            a.recipe.epochs_chosen ? " (estimated: set again from the measured step)" : "",
            rvc_train_estimate_seconds(&a.recipe, info.duration_seconds) / 60.0);
    rvc_train_job_spec spec = {.audio_path = a.audio, .work_dir = work, .weights_root = weights, .recipe = &a.recipe,
                               .preprocess = preprocess, .on_phase = show_phase, .on_step = show_step, .on_report = show_report,
                               .ctx = &a};
    rvc_train_outcome o;
    int rc = rvc_train_pipeline_run(&spec, &o, &err);
    phase_peak(&a, NULL);
    fputc('\n', stderr);
    if (rc == 0) rc = add_to_library(&a, work, &o, &err);
    if (rc) { fprintf(stderr, "voiceclone train: %s\n", err.message); return 1; }
    return 0;
}
