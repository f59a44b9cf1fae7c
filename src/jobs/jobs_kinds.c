/*
 * The job kinds the scheduler knows. Each is a run(job, ctx) function that reports progress with
 * job_progress()/job_emit() and checks job_cancelled() between steps; JOBS_KINDS lists them all.
 * convert_f5tts and convert_rvc write estimated_seconds (measured throughput × the input,
 * jobs_throughput.c) into their parameters at submit time; the jobs list's ETA uses it.
 *
 *   analyze  {audio_id}        quality analysis of a stored audio file (cpu lane)
 *   convert_f5tts {reference_audio_id, [reference_text], text | target_audio_id [target_segments],
 *                 parameters{speed, pitch_shift, nfe_step, seed, remove_silence}}
 *                 (a missing reference_text and a target recording's words are transcribed: jobs_f5_asr.c)
 *   transcribe {audio_id, purpose}  what the quick clone hears in a sample or a target (jobs_f5_asr.c)
 *            quick clone: speech in the reference's voice, a new output audio file (convert lane)
 *   convert_rvc {model_id, target_audio_id | text [reference_audio_id, reference_text, tts_parameters],
 *            parameters{pitch_shift, index_rate, filter_radius,
 *            rms_mix_rate, protect}}  RVC voice conversion (convert lane, jobs_kind_rvc.c)
 *   train_rvc {training_audio_ids | training_audio_id, model_name, voice_consent, accept_noisy_audio,
 *            preprocessing, training_params}
 *            an RVC voice model trained from a training set (train lane, jobs_kind_train.c)
 *   models_pull {pack}  `voiceclone models pull PACK` on the server (cpu lane, jobs_kind_pull.c)
 *   preprocess {audio_id, options{remove_noise, trim_silence, normalize_volume, target_lufs}}
 *            a new audio file (the input is kept) with its own analysis (cpu lane)
 *   sleep    {seconds, steps, output_bytes, message_bytes, fail, resume, lane, priority}
 *            test kind (VCS_JOBS_TEST_KINDS=1 only): sleeps in steps, optionally writes an
 *            output file of output_bytes through the same commit path real outputs use. Its
 *            progress events carry t_ns (CLOCK_REALTIME, taken just before the event is
 *            persisted) for delivery-latency benchmarks, and a message padded to message_bytes
 *            (to test slow stream readers). With resume: true it keeps the number of steps done
 *            in data/training/{job_id}/sleep.step, like training keeps its checkpoint, so a
 *            re-run (restart, lapsed lease) continues there; the result says resumed_from.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audio/audio.h"
#include "audio/audio_dsp.h"
#include "audio/audio_json.h"
#include "jobs/jobs_f5_asr.h"
#include "jobs/jobs_internal.h"
#include "models/f5tts/f5tts_infer.h"

/* ---- analyze ---- */
static int analyze_validate(store *s, const char *user_id, json_t *params, vc_error *err)
{
    const char *id = json_string_value(json_object_get(params, "audio_id"));
    if (!id) return vc_fail(err, VC_ERR_INVALID_REQUEST, "params.audio_id (string) is required");
    store_audio a;
    if (!store_id_valid(id) || store_audio_get(s, user_id, id, &a, err))
        return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "audio %s not found", id);
    store_audio_free(&a);
    return 0;
}

static int analyze_run(const job *jb, job_ctx *c, json_t **result, vc_error *err)
{
    const char *id = json_string_value(json_object_get(jb->params, "audio_id"));
    store_audio a;
    if (!id || store_audio_get(job_store(c), jb->user_id, id, &a, err))
        return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "audio %s not found", id ? id : "");
    char path[1600];
    store_path(job_store(c), path, sizeof path, "%s", a.file_path);
    store_audio_free(&a);
    job_progress(c, 10, "decoding", "Decoding audio...");
    audio_buffer buf = {0};
    audio_file_info info;
    if (audio_decode_file(path, &buf, &info, err)) return -1;
    if (job_cancelled(c)) {
        audio_buffer_free(&buf);
        return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
    }
    job_progress(c, 50, "analyzing", "Analyzing quality...");
    audio_quality q;
    int rc = audio_analyze(&buf, &q, err);
    audio_buffer_free(&buf);
    if (rc) return -1;
    *result = json_pack("{s:s, s:o}", "audio_id", id, "quality_analysis", audio_quality_json(&q));
    return 0;
}

static const job_kind KIND_ANALYZE = {
    .name = "analyze", .lane = JOBS_LANE_CPU, .priority = JOBS_PRIO_CPU,
    .validate = analyze_validate, .run = analyze_run,
};

/* Unknown keys inside a nested object are refused, as they are at the top level (a typo must
 * not silently fall back to a default). known: "a,b,c". */
static int known_keys(const json_t *o, const char *what, const char *known, vc_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        size_t n = strlen(key);
        const char *at = strstr(known, key);
        int ok = 0;
        for (; at && !ok; at = strstr(at + 1, key))
            ok = (at == known || at[-1] == ',') && (at[n] == ',' || at[n] == '\0');
        if (!ok) return vc_fail(err, VC_ERR_INVALID_REQUEST, "%s.%s is not a known option (%s)", what, key, known);
    }
    return 0;
}

/* ---- preprocess ---- */
static int preprocess_validate(store *s, const char *user_id, json_t *params, vc_error *err)
{
    json_t *o = json_object_get(params, "options");
    if (o && !json_is_object(o)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "options must be an object");
    if (o && known_keys(o, "options", "remove_noise,trim_silence,normalize_volume,target_lufs", err)) return -1;
    json_t *t = json_object_get(o, "target_lufs");
    if (t && (!json_is_number(t) || json_number_value(t) < -40 || json_number_value(t) > -6))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "options.target_lufs must be a number from -40 to -6");
    return analyze_validate(s, user_id, params, err);
}

typedef struct dsp_progress { job_ctx *c; double from, span; const char *phase; } dsp_progress;

static void on_dsp_progress(void *ctx, double fraction)
{
    dsp_progress *p = ctx;
    job_progress(p->c, p->from + p->span * fraction, p->phase, NULL);
}

typedef int (*dsp_step)(const audio_buffer *in, const json_t *opts, const audio_dsp_control *ctl, audio_buffer *out, vc_error *err);

static int step_denoise(const audio_buffer *in, const json_t *o, const audio_dsp_control *ctl, audio_buffer *out, vc_error *err)
{
    return audio_denoise(in, 0, ctl, out, err);
}

static int step_trim(const audio_buffer *in, const json_t *o, const audio_dsp_control *ctl, audio_buffer *out, vc_error *err)
{
    return audio_trim_silence(in, NULL, ctl, out, err);
}

static int step_normalize(const audio_buffer *in, const json_t *o, const audio_dsp_control *ctl, audio_buffer *out, vc_error *err)
{
    json_t *t = json_object_get(o, "target_lufs");
    return audio_normalize_loudness(in, t ? json_number_value(t) : AUDIO_LUFS_TRAINING, 0, ctl, out, err);
}

int jobs_run_dsp_steps(job_ctx *c, const json_t *opts, struct audio_buffer *buf, double from, double span, vc_error *err)
{
    static const struct { const char *option; const char *phase; dsp_step fn; } STEPS[] = {
        {"remove_noise", "denoising", step_denoise}, {"trim_silence", "trimming", step_trim},
        {"normalize_volume", "normalizing", step_normalize},
    };
    for (size_t i = 0; i < sizeof STEPS / sizeof STEPS[0]; i++) {
        if (!json_is_true(json_object_get(opts, STEPS[i].option))) continue;
        dsp_progress dp = {c, from + span / 3 * (double)i, span / 3, STEPS[i].phase};
        audio_dsp_control ctl = {on_dsp_progress, &dp, NULL};
        audio_buffer next = {0};
        if (job_cancelled(c)) return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
        if (STEPS[i].fn(buf, opts, &ctl, &next, err)) return -1;
        audio_buffer_free(buf);
        *buf = next;
    }
    if (buf->frames == 0) return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "nothing but silence is left after preprocessing");
    return 0;
}

/* Writes buf as a new stored audio file with its analysis (id derived from the job id: a re-run
 * overwrites instead of duplicating) and fills the result's common fields. */
int jobs_store_audio_output(const job *jb, job_ctx *c, const char *purpose, const char *filename, const audio_buffer *buf,
                        json_t *result, vc_error *err)
{
    return jobs_store_audio_output_n(jb, c, 0, purpose, filename, buf, result, err);
}

int jobs_store_audio_output_n(const job *jb, job_ctx *c, int n, const char *purpose, const char *filename,
                              const audio_buffer *buf, json_t *result, vc_error *err)
{
    store_audio out = {0};
    audio_quality q;
    job_output_id(jb, n, out.audio_id);
    snprintf(out.user_id, sizeof out.user_id, "%s", jb->user_id);
    snprintf(out.purpose, sizeof out.purpose, "%s", purpose);
    snprintf(out.format, sizeof out.format, "wav");
    snprintf(out.filename, sizeof out.filename, "%s", filename);
    if (!strcmp(purpose, "output")) snprintf(out.file_path, sizeof out.file_path, "outputs/%s/%s.wav", jb->user_id, out.audio_id);
    else snprintf(out.file_path, sizeof out.file_path, "uploads/%s/%s/%s.wav", purpose, jb->user_id, out.audio_id);
    /* written to a staged file, published under its key, then recorded (files.h) */
    file_store *fs = store_files(job_store(c));
    char stage[1600];
    int64_t size = 0;
    if (audio_analyze(buf, &q, err) || files_stage_path(fs, out.file_path, stage, sizeof stage, err)) return -1;
    if (audio_write_wav(stage, buf, 0, err)) { unlink(stage); return -1; }
    if (files_put_file(fs, out.file_path, stage, err) || files_exists(fs, out.file_path, &size, err) < 0) return -1;
    json_t *qa = audio_quality_json(&q);
    out.analysis_json = json_dumps(qa, JSON_COMPACT);
    out.duration_seconds = q.duration_seconds;
    out.snr_db = q.snr_db;
    out.sample_rate = buf->sample_rate;
    out.channels = 1;
    out.file_size_mb = (double)size / (1024.0 * 1024.0);
    int rc = store_audio_insert(job_store(c), &out, err);
    free(out.analysis_json);
    if (rc) { files_remove(fs, out.file_path, NULL); json_decref(qa); return -1; }
    char url[128];
    snprintf(url, sizeof url, "/api/download/%s", out.audio_id);
    json_object_set_new(result, "output_audio_id", json_string(out.audio_id));
    json_object_set_new(result, "download_url", json_string(url));
    json_object_set_new(result, "duration_seconds", json_real(q.duration_seconds));
    json_object_set_new(result, "quality_analysis", qa);
    return 0;
}

static int preprocess_run(const job *jb, job_ctx *c, json_t **result, vc_error *err)
{
    const char *id = json_string_value(json_object_get(jb->params, "audio_id"));
    const json_t *opts = json_object_get(jb->params, "options");
    store_audio a;
    if (!id || store_audio_get(job_store(c), jb->user_id, id, &a, err))
        return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "audio %s not found", id ? id : "");
    char path[1600];
    store_path(job_store(c), path, sizeof path, "%s", a.file_path);
    job_progress(c, 5, "decoding", "Decoding audio...");
    audio_buffer buf = {0};
    int rc = audio_decode_file(path, &buf, NULL, err);
    if (rc == 0) rc = jobs_run_dsp_steps(c, opts, &buf, 20, 60, err);
    if (rc == 0) {
        char name[300];
        snprintf(name, sizeof name, "preprocessed_%.200s", a.filename);
        job_progress(c, 85, "saving", "Saving the cleaned audio...");
        *result = json_pack("{s:s}", "input_audio_id", a.audio_id);
        rc = jobs_store_audio_output(jb, c, a.purpose, name, &buf, *result, err);
        if (rc) { json_decref(*result); *result = NULL; }
    }
    audio_buffer_free(&buf);
    store_audio_free(&a);
    return rc;
}

static const job_kind KIND_PREPROCESS = {
    .name = "preprocess", .lane = JOBS_LANE_CPU, .priority = JOBS_PRIO_CPU,
    .validate = preprocess_validate, .run = preprocess_run,
};

/* ---- convert_f5tts ---- */
/* Work of a quick clone: the seconds of audio the model generates over (reference + the new speech,
 * whose length F5-TTS itself estimates from the texts' length ratio) × nfe_step / 32. Before any
 * finished here: 354 s for 10.5 s at 32 steps (docs/PERFORMANCE.md). The key names the weights
 * (their size), so the test suite's tiny weights and the real ones are measured apart. */
#define F5_DEFAULT_RATE 33.7
#define F5_OVERHEAD_SECONDS 5.0

/* Speech to speech (target_seconds > 0): each target segment (about 5 s) is generated with the
 * reference clip (≤ 12 s) before it, so the work is segments × clip + the target. */
static double f5_units(const json_t *params, double ref_seconds, double target_seconds)
{
    const char *ref_text = json_string_value(json_object_get(params, "reference_text"));
    const char *text = json_string_value(json_object_get(params, "text"));
    json_t *nfe = json_object_get(json_object_get(params, "parameters"), "nfe_step");
    double steps = json_is_integer(nfe) ? (double)json_integer_value(nfe) : 32.0;
    if (target_seconds > 0) {
        double clip = ref_seconds < 12 ? ref_seconds : 12;
        return (ceil(target_seconds / 5.0) * clip + target_seconds) * steps / 32.0;
    }
    double ratio = ref_text && *ref_text && text ? (double)strlen(text) / (double)strlen(ref_text) : 1.0;
    return (ref_seconds + ref_seconds * ratio) * steps / 32.0;
}

static double audio_seconds(store *s, const char *user_id, const char *id)
{
    store_audio a;
    vc_error err;
    if (!id || store_audio_get(s, user_id, id, &a, &err)) return 0;
    double seconds = a.duration_seconds;
    store_audio_free(&a);
    return seconds;
}

static void f5_key(store *s, char *out, size_t cap)
{
    char dir[1200];
    store_path(s, dir, sizeof dir, "weights/f5tts");
    long long bytes = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[1500];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.' && stat(p, &st) == 0) bytes += st.st_size;
    }
    if (d) closedir(d);
    snprintf(out, cap, "convert_f5tts:%lldMB", bytes >> 20);
}

double jobs_f5_estimate(store *s, double units)
{
    char key[64];
    f5_key(s, key, sizeof key);
    return jobs_throughput_estimate(s, key, units, F5_DEFAULT_RATE, F5_OVERHEAD_SECONDS);
}

void jobs_f5_record(store *s, double units, double seconds)
{
    char key[64];
    f5_key(s, key, sizeof key);
    jobs_throughput_record(s, key, units, seconds, F5_OVERHEAD_SECONDS);
}

static int f5tts_validate(store *s, const char *user_id, json_t *params, vc_error *err)
{
    const char *ref = json_string_value(json_object_get(params, "reference_audio_id"));
    const char *text = json_string_value(json_object_get(params, "text"));
    const json_t *target = json_object_get(params, "target_audio_id");
    if (!ref) return vc_fail(err, VC_ERR_INVALID_REQUEST, "reference_audio_id (string) is required");
    /* text mode (text) or speech to speech (target_audio_id: its words are transcribed) */
    if ((!text || !*text) && !target)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "text (what the cloned voice should say) or target_audio_id is required");
    if (text && *text && target) return vc_fail(err, VC_ERR_INVALID_REQUEST, "give text or target_audio_id, not both");
    if (json_object_get(params, "reference_text") && !json_is_string(json_object_get(params, "reference_text")))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "reference_text must be a string (leave it out to transcribe the reference)");
    if (text && strlen(text) > 5000) return vc_fail(err, VC_ERR_INVALID_REQUEST, "text is longer than 5000 bytes");
    json_t *p = json_object_get(params, "parameters");
    if (p && !json_is_object(p)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "parameters must be an object");
    if (p && known_keys(p, "parameters", "speed,pitch_shift,nfe_step,seed,remove_silence", err)) return -1;
    json_t *nfe = json_object_get(p, "nfe_step"), *speed = json_object_get(p, "speed"), *rs = json_object_get(p, "remove_silence");
    json_t *pitch = json_object_get(p, "pitch_shift");
    if ((nfe && (!json_is_integer(nfe) || json_integer_value(nfe) < 1 || json_integer_value(nfe) > 64)) ||
        (speed && (!json_is_number(speed) || json_number_value(speed) < 0.3 || json_number_value(speed) > 3)) ||
        (pitch && (!json_is_number(pitch) || fabs(json_number_value(pitch)) > AUDIO_PITCH_MAX_SEMITONES)) ||
        (rs && !json_is_boolean(rs)))
        return vc_fail(err, VC_ERR_INVALID_REQUEST,
                       "parameters: nfe_step 1..64, speed 0.3..3, pitch_shift -12..12 (semitones), remove_silence true/false");
    if (f5_asr_validate_request(s, user_id, params, err) != 0) return -1;
    char root[1200];
    store_path(s, root, sizeof root, "weights");
    f5tts_engine probe;
    if (f5tts_engine_open_dir(&probe, root, err) != 0) return -1; /* first: say how to install the models */
    f5tts_engine_close(&probe);
    if (f5_asr_needed(params) && f5_asr_validate(s, user_id, params, err) != 0) return -1;
    json_t *ref_only = json_pack("{s:s}", "audio_id", ref);
    int rc = analyze_validate(s, user_id, ref_only, err);
    json_decref(ref_only);
    store_audio a;
    if (rc == 0 && store_audio_get(s, user_id, ref, &a, err) == 0) {
        double ref_seconds = a.duration_seconds;
        store_audio_free(&a);
        if (ref_seconds < WHISPER_CLONE_MIN_REF_SECONDS)
            return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "the voice sample is %.1f s long; the quick clone needs at least %.0f s of "
                                                        "speech (10-30 s works best): record or upload a longer sample",
                           ref_seconds, WHISPER_CLONE_MIN_REF_SECONDS);
        char key[64];
        f5_key(s, key, sizeof key);
        double units = f5_units(params, ref_seconds, audio_seconds(s, user_id, json_string_value(target)));
        json_object_set_new(params, "work_units", json_real(units));
        json_object_set_new(params, "estimated_seconds",
                            json_real(jobs_throughput_estimate(s, key, units, F5_DEFAULT_RATE, F5_OVERHEAD_SECONDS)));
    }
    return rc;
}

int jobs_f5_on_progress(void *ctx, f5tts_phase phase, int chunk, int chunks, int step, int steps)
{
    static const char *const PHASES[] = {"preprocessing", "voice encoding", "generating", "vocoding"};
    static const char *const MESSAGES[] = {"Preparing the reference...", "Encoding the voice...", "Generating speech...", "Vocoding..."};
    f5_progress *p = ctx;
    /* vocoding a chunk comes after all its sampling steps: count the chunk as generated */
    double within = phase == F5_PHASE_VOCODING ? 1.0 : steps > 0 ? (double)step / steps : 0;
    double done = chunks > 0 ? ((double)chunk + within) / chunks : 0;
    double from = p->gen_from, percent = from + (95 - from) * done;
    const char *name = PHASES[phase], *message = MESSAGES[phase];
    /* The stream's phases and percent only move forward: speech to speech runs F5-TTS once per
     * segment (chunk = segment), and after a transcription the voice is already being encoded. */
    if (phase <= F5_PHASE_ENCODING && chunk == 0 && from <= 5) percent = phase == F5_PHASE_PREPROCESSING ? 2 : 5;
    else if (phase <= F5_PHASE_ENCODING && chunk == 0) name = PHASES[F5_PHASE_ENCODING], message = MESSAGES[F5_PHASE_ENCODING];
    else if (phase <= F5_PHASE_ENCODING || (phase == F5_PHASE_VOCODING && chunk + 1 < chunks))
        name = PHASES[F5_PHASE_GENERATING], message = MESSAGES[F5_PHASE_GENERATING];
    f5_progress_emit(p, percent, name, message);
    return job_cancelled(p->c);
}

void jobs_f5_params_from(const json_t *p, f5tts_params *fp)
{
    f5tts_params_default(fp);
    json_t *v;
    if ((v = json_object_get(p, "nfe_step"))) fp->sampler.nfe = (int)json_integer_value(v);
    if ((v = json_object_get(p, "speed"))) fp->speed = (float)json_number_value(v);
    if ((v = json_object_get(p, "cfg_strength")) && json_is_number(v)) fp->sampler.cfg_strength = (float)json_number_value(v);
    if ((v = json_object_get(p, "seed")) && json_is_integer(v)) fp->seed = (unsigned long long)json_integer_value(v);
    if ((v = json_object_get(p, "remove_silence"))) fp->remove_silence = json_is_true(v);
}

/* Text mode's pitch_shift (speech to speech shifts inside whisper_clone_speak_timed). */
static int shift_pitch(audio_buffer *out, double semitones, vc_error *err)
{
    if (semitones == 0.0) return 0;
    audio_buffer shifted = {0};
    if (audio_pitch_shift(out, semitones, &shifted, err) != 0) return -1;
    audio_buffer_free(out);
    *out = shifted;
    return 0;
}

/* One F5-TTS engine per weights folder (and stamp of its files), shared by concurrent quick
 * clones (jobs_shared.c); the key is "weights root\nstamp". */
static int f5_engine_open(const char *key, void **out, vc_error *err)
{
    char root[1200];
    snprintf(root, sizeof root, "%.*s", (int)strcspn(key, "\n"), key);
    f5tts_engine *e = malloc(sizeof *e);
    if (!e) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (f5tts_engine_open_dir(e, root, err) != 0) { free(e); return -1; }
    *out = e;
    return 0;
}

static void f5_engine_close(void *e)
{
    f5tts_engine_close(e);
    free(e);
}

static const job_shared_kind SHARED_F5TTS = {"f5tts", f5_engine_open, f5_engine_close};

int jobs_f5_acquire(job_ctx *c, const char *weights_root, void **e, vc_error *err)
{
    char dirs[2][1300], key[1300 + JOBS_STAMP_MAX], stamp[JOBS_STAMP_MAX];
    snprintf(dirs[0], sizeof dirs[0], "%s/f5tts", weights_root);
    snprintf(dirs[1], sizeof dirs[1], "%s/vocos", weights_root);
    jobs_files_stamp((const char *const[]){dirs[0], dirs[1]}, 2, stamp);
    snprintf(key, sizeof key, "%s\n%s", weights_root, stamp);
    return jobs_shared_acquire(job_shared_models(c), &SHARED_F5TTS, key, e, err);
}

static int f5tts_run(const job *jb, job_ctx *c, json_t **result, vc_error *err)
{
    const char *ref_id = json_string_value(json_object_get(jb->params, "reference_audio_id"));
    store_audio a;
    if (!ref_id || store_audio_get(job_store(c), jb->user_id, ref_id, &a, err))
        return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "reference audio %s not found", ref_id ? ref_id : "");
    char path[1600], root[1200];
    store_path(job_store(c), path, sizeof path, "%s", a.file_path);
    store_path(job_store(c), root, sizeof root, "weights");
    store_audio_free(&a);
    f5_progress prog;
    f5_progress_start(&prog, c, jb->params);
    void *e = NULL;
    f5tts_params fp;
    jobs_f5_params_from(json_object_get(jb->params, "parameters"), &fp);
    double pitch = json_number_value(json_object_get(json_object_get(jb->params, "parameters"), "pitch_shift"));
    audio_buffer ref = {0}, out = {0};
    f5_asr_texts texts = {0};
    f5_progress_emit(&prog, 1, "preprocessing", "Loading the voice models...");
    int rc = jobs_f5_acquire(c, root, &e, err);
    if (rc == 0) {
        rc = audio_decode_file(path, &ref, NULL, err);
        if (rc == 0) rc = f5_asr_prepare(jb, &prog, root, &ref, &fp, &texts, err); /* transcripts when not given */
        if (rc == 0 && texts.has_target) /* speech to speech: each segment within its original time span */
            rc = whisper_clone_speak_timed(e, &ref, texts.reference_text, &texts.target, &fp, pitch, jobs_f5_on_progress, &prog, &out, err);
        else if (rc == 0)
            rc = f5tts_synthesize(e, &ref, texts.reference_text, texts.text, &fp, jobs_f5_on_progress, &prog, &out, NULL, NULL, err);
        if (rc == 0 && !texts.has_target) rc = shift_pitch(&out, pitch, err);
        jobs_shared_release(job_shared_models(c), e);
    }
    double took = f5_progress_elapsed(&prog);
    if (rc == 0) {
        f5_progress_emit(&prog, 97, "saving", "Saving the result...");
        *result = json_pack("{s:f, s:s, s:s}", "processing_time_seconds", took, "reference_text", texts.reference_text, "text", texts.text);
        if (*result && texts.has_target) json_object_set_new(*result, "target_segments", f5_asr_segments_json(&texts.target.transcript));
        rc = jobs_store_audio_output(jb, c, "output", "quick_clone.wav", &out, *result, err);
        if (rc) { json_decref(*result); *result = NULL; }
    }
    if (rc == 0 && json_is_number(json_object_get(jb->params, "work_units"))) {
        char tkey[64];
        f5_key(job_store(c), tkey, sizeof tkey);
        jobs_throughput_record(job_store(c), tkey, json_number_value(json_object_get(jb->params, "work_units")), took,
                               F5_OVERHEAD_SECONDS);
    }
    audio_buffer_free(&ref);
    audio_buffer_free(&out);
    f5_asr_texts_free(&texts);
    return rc;
}

static const job_kind KIND_CONVERT_F5TTS = {
    .name = "convert_f5tts", .lane = JOBS_LANE_CONVERT, .priority = JOBS_PRIO_F5,
    .validate = f5tts_validate, .run = f5tts_run,
};

/* ---- sleep (tests) ---- */
static int sleep_validate(store *s, const char *user_id, json_t *params, vc_error *err)
{
    json_t *sec = json_object_get(params, "seconds"), *bytes = json_object_get(params, "output_bytes");
    if (sec && (!json_is_number(sec) || json_number_value(sec) < 0 || json_number_value(sec) > 600))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "seconds must be a number in 0..600");
    if (bytes && (!json_is_integer(bytes) || json_integer_value(bytes) < 0))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "output_bytes must be a non-negative integer");
    json_t *mb = json_object_get(params, "message_bytes");
    if (mb && (!json_is_integer(mb) || json_integer_value(mb) < 0 || json_integer_value(mb) > 65536))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "message_bytes must be an integer in 0..65536");
    return 0;
}

/* Writes n bytes to the work folder, then publishes them as the job's output file. */
static int sleep_write_output(const job *jb, job_ctx *c, int64_t n, json_t **result, vc_error *err)
{
    char tmp[1400], key[200], out_id[STORE_ID_MAX];
    job_output_id(jb, 0, out_id);
    snprintf(tmp, sizeof tmp, "%s/output.part", jb->work_dir);
    snprintf(key, sizeof key, "outputs/%s/%s.bin", jb->user_id, out_id);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return vc_fail(err, VC_ERR_IO, "cannot create the output: %s", strerror(errno));
    char block[65536];
    memset(block, 0x5a, sizeof block);
    for (int64_t done = 0; done < n;) {
        size_t want = (size_t)(n - done < (int64_t)sizeof block ? n - done : (int64_t)sizeof block);
        ssize_t w = write(fd, block, want);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            close(fd);
            return vc_fail(err, VC_ERR_IO, "%s: writing the output failed after %lld of %lld bytes (%s)",
                           e == ENOSPC || e == EFBIG || e == EDQUOT ? "not enough disk space" : "disk error",
                           (long long)done, (long long)n, strerror(e));
        }
        done += w;
    }
    close(fd);
    if (files_put_file(store_files(job_store(c)), key, tmp, err)) return -1;
    *result = json_pack("{s:s, s:I}", "output_id", out_id, "output_bytes", (json_int_t)n);
    return 0;
}

/* A progress event stamped with the wall clock in ns, its message padded to pad bytes, with the
 * seconds the remaining steps will sleep as its eta_seconds (as a real kind's live estimate). */
static void sleep_progress(job_ctx *c, double percent, double eta, size_t pad)
{
    char msg[65537];
    memset(msg, '.', pad);
    memcpy(msg, "Sleeping", pad < 8 ? pad : 8);
    msg[pad] = '\0';
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    json_t *d = json_pack("{s:f, s:s, s:s, s:I, s:f}", "percent", percent, "phase", "sleeping", "message", pad ? msg : "Sleeping...",
                          "t_ns", (json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec, "eta_seconds", eta);
    vc_error err;
    job_emit(c, "progress", d, &err);
}

/* The checkpoint of a resumable sleep (key training/{job_id}/sleep.step): steps done so far (0
 * when none). */
static int sleep_checkpoint(job_ctx *c, const job *jb, char *key, size_t cap)
{
    snprintf(key, cap, "training/%s/sleep.step", jb->job_id);
    int fd, done = 0;
    int64_t size;
    char text[16] = "";
    if (files_open_read(store_files(job_store(c)), key, &fd, &size, NULL)) return 0;
    ssize_t r = read(fd, text, sizeof text - 1);
    close(fd);
    if (r > 0) text[r] = '\0';
    if (sscanf(text, "%d", &done) != 1) done = 0;
    return done;
}

static int sleep_run(const job *jb, job_ctx *c, json_t **result, vc_error *err)
{
    size_t pad = (size_t)json_integer_value(json_object_get(jb->params, "message_bytes"));
    double seconds = json_number_value(json_object_get(jb->params, "seconds"));
    json_t *st = json_object_get(jb->params, "steps");
    int steps = json_is_integer(st) && json_integer_value(st) > 0 ? (int)json_integer_value(st) : 10;
    int resume = json_is_true(json_object_get(jb->params, "resume"));
    char ckpt[200] = "";
    int first = resume ? sleep_checkpoint(c, jb, ckpt, sizeof ckpt) : 0;
    /* Sleep in slices of at most 50 ms so cancellation is seen well within a second. */
    for (int i = first + 1; i <= steps; i++) {
        double slice = seconds / steps;
        while (slice > 0) {
            if (job_cancelled(c)) return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
            double t = slice < 0.05 ? slice : 0.05;
            struct timespec ts = {(time_t)t, (long)((t - (time_t)t) * 1e9)};
            nanosleep(&ts, NULL);
            slice -= t;
        }
        if (job_cancelled(c)) return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
        if (resume) {
            char text[16];
            int n = snprintf(text, sizeof text, "%d\n", i);
            if (files_put_bytes(store_files(job_store(c)), ckpt, text, (size_t)n, err)) return -1;
        }
        sleep_progress(c, 100.0 * i / steps, seconds / steps * (steps - i), pad);
    }
    if (resume) {
        *strrchr(ckpt, '/') = '\0';
        files_remove(store_files(job_store(c)), ckpt, NULL);
    }
    if (json_is_true(json_object_get(jb->params, "fail"))) {
        /* naming a file as real failures do: what clients see must not show where it lives */
        char at[1200];
        store_path(job_store(c), at, sizeof at, "jobs/%s/model.pth", jb->job_id);
        return vc_fail(err, VC_ERR_CONVERSION_FAILED, "failed on request (test kind) reading %s", at);
    }
    json_int_t bytes = json_integer_value(json_object_get(jb->params, "output_bytes"));
    if (bytes > 0) return sleep_write_output(jb, c, bytes, result, err);
    *result = json_pack("{s:i}", "steps", steps);
    if (resume) json_object_set_new(*result, "resumed_from", json_integer(first));
    return 0;
}

static const job_kind KIND_SLEEP = {
    .name = "sleep", .lane = JOBS_LANE_CPU, .priority = JOBS_PRIO_CPU, .test_only = 1,
    .validate = sleep_validate, .run = sleep_run,
};

const job_kind *const JOBS_KINDS[] = {&KIND_ANALYZE, &KIND_PREPROCESS, &KIND_CONVERT_F5TTS, &JOBS_KIND_CONVERT_RVC, &JOBS_KIND_TRAIN_RVC,
                                          &JOBS_KIND_MODELS_PULL, &JOBS_KIND_TRANSCRIBE, &KIND_SLEEP, NULL};

const job_kind *jobs_kind_find(const char *name)
{
    for (size_t i = 0; JOBS_KINDS[i]; i++)
        if (!strcmp(JOBS_KINDS[i]->name, name)) return JOBS_KINDS[i];
    return NULL;
}
