/* Speech recognition for the quick clone (contract: jobs_f5_asr.h). */
#include "jobs/jobs_f5_asr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jobs/jobs_internal.h"

#define MAX_TARGET_SEGMENTS 2000
#define MAX_SEGMENTS_TEXT 20000

/* Percent bands of a quick clone: reference transcript, target transcript, then generating. */
#define PCT_REF_FROM 3.0
#define PCT_TARGET_FROM 6.0
#define PCT_TARGET_TO 25.0

static int nonempty(const json_t *v) { return json_is_string(v) && json_string_value(v)[0]; }

/* ---- progress with ETA ---- */

void f5_progress_start(f5_progress *p, job_ctx *c, const json_t *params)
{
    memset(p, 0, sizeof *p);
    p->c = c;
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    const json_t *est = json_object_get(params, "estimated_seconds");
    p->estimate = json_is_number(est) ? json_number_value(est) : 0;
    p->gen_from = 5;
    p->scale = 1;
}

double f5_progress_elapsed(const f5_progress *p)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - p->t0.tv_sec) + (t.tv_nsec - p->t0.tv_nsec) / 1e9;
}

/* Below 10 % the measured rate says little (model loading dominates): the estimate minus the
 * time spent, then the rate so far. */
static double eta_seconds(const f5_progress *p, double percent)
{
    double elapsed = f5_progress_elapsed(p);
    if (percent < 10 && p->estimate > 0) return fmax(0, p->estimate - elapsed);
    return percent > 0 ? elapsed * (100 - percent) / percent : p->estimate;
}

void f5_progress_emit(f5_progress *p, double percent, const char *phase, const char *message)
{
    vc_error err;
    percent *= p->scale;
    json_t *d = json_pack("{s:f, s:s, s:s, s:f}", "percent", percent, "phase", phase, "message", message ? message : "",
                          "eta_seconds", round(eta_seconds(p, percent)));
    job_emit(p->c, "progress", d, &err);
}

/* ---- request checks ---- */

int f5_asr_needed(const json_t *params)
{
    const json_t *target = json_object_get(params, "target_audio_id");
    return !nonempty(json_object_get(params, "reference_text")) || (target && !json_object_get(params, "target_segments"));
}

static int segments_valid(const json_t *segs, vc_error *err)
{
    if (!json_is_array(segs) || json_array_size(segs) < 1 || json_array_size(segs) > MAX_TARGET_SEGMENTS)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "target_segments must be an array of 1 to %d {start, end, text}", MAX_TARGET_SEGMENTS);
    size_t i, bytes = 0;
    json_t *g;
    json_array_foreach(segs, i, g) {
        json_t *st = json_object_get(g, "start"), *en = json_object_get(g, "end"), *tx = json_object_get(g, "text");
        if (!json_is_object(g) || json_object_size(g) != 3 || !json_is_number(st) || !json_is_number(en) || !json_is_string(tx) ||
            json_number_value(st) < 0 || json_number_value(en) < json_number_value(st))
            return vc_fail(err, VC_ERR_INVALID_REQUEST,
                           "target_segments[%zu] must be {start, end, text} with 0 <= start <= end (seconds) and a string text", i);
        bytes += strlen(json_string_value(tx));
    }
    if (bytes > MAX_SEGMENTS_TEXT) return vc_fail(err, VC_ERR_INVALID_REQUEST, "target_segments hold more than %d bytes of text", MAX_SEGMENTS_TEXT);
    return 0;
}

/* The upload's analysis (voice activity, peak) already tells a silent recording: refuse at once. */
static int target_has_sound(store *s, const char *user_id, const char *id, vc_error *err)
{
    store_audio a;
    if (!store_id_valid(id) || store_audio_get(s, user_id, id, &a, err))
        return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "target audio %s not found", id);
    json_t *q = a.analysis_json ? json_loads(a.analysis_json, 0, NULL) : NULL;
    store_audio_free(&a);
    json_t *va = json_object_get(q, "voice_activity_percent"), *peak = json_object_get(q, "peak_dbfs");
    int silent = (json_is_number(va) && json_number_value(va) < 1.0) || (json_is_number(peak) && json_number_value(peak) <= -50.0);
    json_decref(q);
    if (silent)
        return vc_fail(err, VC_ERR_QUALITY_TOO_LOW, "no speech found in the target recording (it is silent): upload or record "
                                                    "someone speaking, or type the text instead");
    return 0;
}

int f5_asr_validate_request(store *s, const char *user_id, const json_t *params, vc_error *err)
{
    const json_t *target = json_object_get(params, "target_audio_id"), *segs = json_object_get(params, "target_segments");
    if (segs && !target) return vc_fail(err, VC_ERR_INVALID_REQUEST, "target_segments need target_audio_id (the recording they time)");
    if (segs && segments_valid(segs, err) != 0) return -1;
    if (target && !json_is_string(target)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "target_audio_id must be a string");
    return target ? target_has_sound(s, user_id, json_string_value(target), err) : 0;
}

static int whisper_files(const char *root, char *model, char *vocab, size_t cap)
{
    struct stat st;
    snprintf(model, cap, "%s/whisper/%s.pt", root, WHISPER_DEFAULT_SIZE);
    snprintf(vocab, cap, "%s/whisper/multilingual.tiktoken", root);
    return stat(model, &st) == 0 && stat(vocab, &st) == 0;
}

static int whisper_installed(store *s, vc_error *err)
{
    char root[1200], model[1400], vocab[1400];
    store_path(s, root, sizeof root, "weights");
    if (!whisper_files(root, model, vocab, sizeof model))
        return vc_fail(err, VC_ERR_WEIGHTS_MISSING,
                       "speech recognition (Whisper %s) is not installed under %s/whisper; install it with: voiceclone "
                       "models pull whisper, or give reference_text and text",
                       WHISPER_DEFAULT_SIZE, root);
    return 0;
}

int f5_asr_validate(store *s, const char *user_id, const json_t *params, vc_error *err)
{
    if (whisper_installed(s, err) != 0) return -1;
    const json_t *target = json_object_get(params, "target_audio_id");
    if (!target) return 0;
    store_audio a;
    if (!json_is_string(target) || !store_id_valid(json_string_value(target)) ||
        store_audio_get(s, user_id, json_string_value(target), &a, err))
        return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "target audio %s not found", json_is_string(target) ? json_string_value(target) : "");
    store_audio_free(&a);
    return 0;
}

/* ---- Whisper, shared ---- */

/* One Whisper per weights folder (and stamp of its files), shared by concurrent jobs. */
static int whisper_open(const char *key, void **out, vc_error *err)
{
    char root[1200];
    snprintf(root, sizeof root, "%.*s", (int)strcspn(key, "\n"), key);
    whisper_engine *e = malloc(sizeof *e);
    if (!e) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (whisper_engine_open_dir(e, root, WHISPER_DEFAULT_SIZE, err) != 0) { free(e); return -1; }
    *out = e;
    return 0;
}

static void whisper_close(void *e)
{
    whisper_engine_close(e);
    free(e);
}

static const job_shared_kind SHARED_WHISPER = {"whisper", whisper_open, whisper_close};

static int whisper_acquire(job_ctx *c, const char *weights_root, void **e, vc_error *err)
{
    char dir[1300], key[1300 + JOBS_STAMP_MAX], stamp[JOBS_STAMP_MAX];
    snprintf(dir, sizeof dir, "%s/whisper", weights_root);
    jobs_files_stamp((const char *const[]){dir}, 1, stamp);
    snprintf(key, sizeof key, "%s\n%s", weights_root, stamp);
    return jobs_shared_acquire(job_shared_models(c), &SHARED_WHISPER, key, e, err);
}

static int decode_audio(job_ctx *c, const job *jb, const char *id, audio_buffer *out, vc_error *err)
{
    store_audio a;
    if (!id || store_audio_get(job_store(c), jb->user_id, id, &a, err))
        return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "audio %s not found", id ? id : "");
    char path[1600];
    store_path(job_store(c), path, sizeof path, "%s", a.file_path);
    store_audio_free(&a);
    return audio_decode_file(path, out, NULL, err);
}

/* Transcription progress inside a percent band [from, to]; asked before every decoding step, it
 * emits only when the percent moved and answers whether the job was cancelled. */
typedef struct band {
    f5_progress *p;
    double from, to;
    const char *message;
    double last;
} band;

static int on_band(void *ctx, double fraction)
{
    band *b = ctx;
    double percent = b->from + (b->to - b->from) * fraction;
    if (percent > b->last) {
        f5_progress_emit(b->p, percent, "voice encoding", b->message);
        b->last = percent;
    }
    return job_cancelled(b->p->c);
}

/* The target's segments from the request (checked by the user) instead of Whisper's. */
static int target_from_request(const json_t *segs, const audio_buffer *target, whisper_clone_target *t, vc_error *err)
{
    int n = (int)json_array_size(segs);
    double *start = calloc((size_t)n + 1, sizeof *start), *end = calloc((size_t)n + 1, sizeof *end);
    const char **text = calloc((size_t)n + 1, sizeof *text);
    int rc = start && end && text ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    for (int i = 0; rc == 0 && i < n; i++) {
        const json_t *g = json_array_get(segs, (size_t)i);
        start[i] = json_number_value(json_object_get(g, "start"));
        end[i] = json_number_value(json_object_get(g, "end"));
        text[i] = json_string_value(json_object_get(g, "text"));
    }
    if (rc == 0) rc = whisper_clone_target_from_segments(target, n, start, end, text, t, err);
    free(start);
    free(end);
    free(text);
    return rc;
}

static int read_target(const job *jb, f5_progress *p, const whisper_engine *e, f5_asr_texts *texts, vc_error *err)
{
    audio_buffer target = {0};
    const char *id = json_string_value(json_object_get(jb->params, "target_audio_id"));
    const json_t *segs = json_object_get(jb->params, "target_segments");
    band b = {p, PCT_TARGET_FROM, PCT_TARGET_TO, "Transcribing the target recording...", PCT_TARGET_FROM};
    if (!segs) f5_progress_emit(p, PCT_TARGET_FROM, "voice encoding", b.message);
    int rc = decode_audio(p->c, jb, id, &target, err);
    if (rc == 0 && segs) rc = target_from_request(segs, &target, &texts->target, err);
    else if (rc == 0) rc = whisper_clone_read_target(e, &target, on_band, &b, &texts->target, err);
    audio_buffer_free(&target);
    if (rc != 0) return -1;
    texts->has_target = 1;
    if (!texts->text && !(texts->text = strdup(texts->target.text))) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    return 0;
}

static int run_asr(const job *jb, f5_progress *p, const whisper_engine *e, audio_buffer *ref, f5tts_params *fp,
                   f5_asr_texts *texts, vc_error *err)
{
    if (whisper_clone_clip_reference(ref, fp, err) != 0 || whisper_clone_check_reference(ref, err) != 0) return -1;
    int has_target = json_object_get(jb->params, "target_audio_id") != NULL;
    if (!texts->reference_text) {
        band b = {p, PCT_REF_FROM, has_target ? PCT_TARGET_FROM : 10.0, "Transcribing the voice sample...", PCT_REF_FROM};
        f5_progress_emit(p, PCT_REF_FROM, "voice encoding", b.message);
        if (whisper_clone_reference_text(e, ref, fp, on_band, &b, &texts->reference_text, err) != 0) return -1;
        p->gen_from = 10;
    }
    if (has_target) {
        if (job_cancelled(p->c)) return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
        if (read_target(jb, p, e, texts, err) != 0) return -1;
        p->gen_from = PCT_TARGET_TO;
    }
    return 0;
}

int f5_asr_prepare(const job *jb, f5_progress *p, const char *weights_root, audio_buffer *ref, f5tts_params *fp,
                   f5_asr_texts *texts, vc_error *err)
{
    memset(texts, 0, sizeof *texts);
    const json_t *rt = json_object_get(jb->params, "reference_text"), *tx = json_object_get(jb->params, "text");
    if (nonempty(rt) && !(texts->reference_text = strdup(json_string_value(rt)))) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (nonempty(tx) && !(texts->text = strdup(json_string_value(tx)))) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (texts->reference_text && texts->text) return 0;
    if (!f5_asr_needed(jb->params)) return run_asr(jb, p, NULL, ref, fp, texts, err); /* reference_text + target_segments */
    void *e = NULL;
    if (whisper_acquire(p->c, weights_root, &e, err) != 0) return -1;
    int rc = run_asr(jb, p, e, ref, fp, texts, err);
    jobs_shared_release(job_shared_models(p->c), e);
    return rc;
}

void f5_asr_texts_free(f5_asr_texts *t)
{
    whisper_clone_target_free(&t->target);
    free(t->reference_text);
    free(t->text);
    memset(t, 0, sizeof *t);
}

json_t *f5_asr_segments_json(const whisper_transcript *t)
{
    json_t *a = json_array();
    for (int i = 0; a && i < t->n_segments; i++) {
        const whisper_segment *g = &t->segments[i];
        const char *text = g->text;
        while (*text == ' ') text++;
        if (!*text) continue; /* cleared (no words): nothing to show or to speak */
        json_array_append_new(a, json_pack("{s:f, s:f, s:s}", "start", round(g->start * 100) / 100, "end",
                                           round(g->end * 100) / 100, "text", text));
    }
    return a;
}

/* ---- the transcribe job ---- */

/* Whisper's speed here before any transcription finished: seconds of work per second of audio
 * (base on 2 cores, docs/WHISPER.md's tiny measurement × the size ratio), plus loading. */
#define ASR_DEFAULT_RATE 0.5
#define ASR_OVERHEAD_SECONDS 3.0

static void asr_key(char *out, size_t cap) { snprintf(out, cap, "transcribe:%s", WHISPER_DEFAULT_SIZE); }

static int transcribe_validate(store *s, const char *user_id, json_t *params, vc_error *err)
{
    const char *id = json_string_value(json_object_get(params, "audio_id"));
    const json_t *purpose = json_object_get(params, "purpose");
    if (!id) return vc_fail(err, VC_ERR_INVALID_REQUEST, "audio_id (string) is required");
    if (purpose && (!json_is_string(purpose) || (strcmp(json_string_value(purpose), "reference") &&
                                                 strcmp(json_string_value(purpose), "target"))))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "purpose must be \"reference\" (a voice sample, clipped as the quick clone "
                                                    "clips it) or \"target\" (a recording to speak again)");
    int is_ref = purpose && !strcmp(json_string_value(purpose), "reference");
    store_audio a;
    if (!store_id_valid(id) || store_audio_get(s, user_id, id, &a, err)) return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "audio %s not found", id);
    double seconds = a.duration_seconds;
    store_audio_free(&a);
    if (is_ref && seconds < WHISPER_CLONE_MIN_REF_SECONDS)
        return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "the voice sample is %.1f s long; at least %.0f s are needed (10-30 s works "
                                                    "best): record or upload a longer sample", seconds, WHISPER_CLONE_MIN_REF_SECONDS);
    if (!is_ref && target_has_sound(s, user_id, id, err) != 0) return -1;
    if (whisper_installed(s, err) != 0) return -1;
    char key[64];
    asr_key(key, sizeof key);
    double units = is_ref ? fmin(seconds, 12.0) : seconds;
    json_object_set_new(params, "work_units", json_real(units));
    json_object_set_new(params, "estimated_seconds", json_real(jobs_throughput_estimate(s, key, units, ASR_DEFAULT_RATE, ASR_OVERHEAD_SECONDS)));
    return 0;
}

static int transcribe_audio(const job *jb, f5_progress *p, const whisper_engine *e, audio_buffer *in, int is_ref,
                            json_t **result, vc_error *err)
{
    band b = {p, 5, 95, is_ref ? "Transcribing the voice sample..." : "Transcribing the recording...", 5};
    whisper_clone_target t = {0};
    f5_progress_emit(p, b.from, "voice encoding", b.message);
    if (is_ref) { /* as the quick clone will hear it: the F5-TTS clip of the sample */
        f5tts_params fp;
        f5tts_params_default(&fp);
        char *text = NULL;
        if (whisper_clone_clip_reference(in, &fp, err) || whisper_clone_check_reference(in, err) ||
            whisper_clone_reference_text(e, in, &fp, on_band, &b, &text, err))
            return -1;
        double clip = (double)in->frames / in->sample_rate;
        *result = json_pack("{s:s, s:s, s:s, s:f, s:[{s:f, s:f, s:s}]}", "audio_id", json_string_value(json_object_get(jb->params, "audio_id")),
                            "purpose", "reference", "text", text, "clip_seconds", clip, "segments", "start", 0.0, "end", clip, "text", text);
        free(text);
        return *result ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
    }
    if (whisper_clone_read_target(e, in, on_band, &b, &t, err) != 0) return -1;
    *result = json_pack("{s:s, s:s, s:s, s:f, s:o}", "audio_id", json_string_value(json_object_get(jb->params, "audio_id")), "purpose",
                        "target", "text", t.text, "duration_seconds", t.seconds, "segments", f5_asr_segments_json(&t.transcript));
    whisper_clone_target_free(&t);
    return *result ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
}

static int transcribe_run(const job *jb, job_ctx *c, json_t **result, vc_error *err)
{
    const json_t *purpose = json_object_get(jb->params, "purpose");
    int is_ref = json_is_string(purpose) && !strcmp(json_string_value(purpose), "reference");
    f5_progress p;
    f5_progress_start(&p, c, jb->params);
    f5_progress_emit(&p, 1, "preprocessing", "Loading speech recognition...");
    char root[1200];
    store_path(job_store(c), root, sizeof root, "weights");
    audio_buffer in = {0};
    void *e = NULL;
    int rc = decode_audio(c, jb, json_string_value(json_object_get(jb->params, "audio_id")), &in, err);
    if (rc == 0) rc = whisper_acquire(c, root, &e, err);
    if (rc == 0) {
        rc = transcribe_audio(jb, &p, e, &in, is_ref, result, err);
        jobs_shared_release(job_shared_models(c), e);
    }
    audio_buffer_free(&in);
    if (rc == 0 && json_is_number(json_object_get(jb->params, "work_units"))) {
        char key[64];
        asr_key(key, sizeof key);
        jobs_throughput_record(job_store(c), key, json_number_value(json_object_get(jb->params, "work_units")),
                               f5_progress_elapsed(&p), ASR_OVERHEAD_SECONDS);
    }
    return rc;
}

const job_kind JOBS_KIND_TRANSCRIBE = {
    .name = "transcribe", .lane = JOBS_LANE_CONVERT, .priority = JOBS_PRIO_F5,
    .validate = transcribe_validate, .run = transcribe_run,
};
