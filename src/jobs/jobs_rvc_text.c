/* RVC text mode: F5-TTS speaks the text, the RVC voice converts it (contract: jobs_rvc_text.h). */
#include "jobs/jobs_rvc_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/jobs_f5_asr.h"
#include "jobs/jobs_internal.h"
#include "models/f5tts/f5tts_infer.h"

#define TEXT_MAX_BYTES 5000
/* Speech length before it exists, for the estimates: ~15 characters a second of read speech. */
#define CHARS_PER_SECOND 15.0
#define REF_CLIP_SECONDS 12.0

int rvc_text_requested(const json_t *params) { return json_object_get(params, "text") != NULL; }

static int check_shape(const json_t *params, vc_error *err)
{
    const json_t *text = json_object_get(params, "text"), *rt = json_object_get(params, "reference_text");
    const json_t *ref = json_object_get(params, "reference_audio_id");
    if (json_object_get(params, "target_audio_id") || json_object_get(params, "target_audio_ids"))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "give text (to be spoken in the voice) or target_audio_id (a recording to "
                                                    "convert), not both");
    if (!json_is_string(text) || !json_string_value(text)[strspn(json_string_value(text), " \t\r\n")])
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "text must be the words to speak in the voice (a non-empty string)");
    if (strlen(json_string_value(text)) > TEXT_MAX_BYTES)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "text is longer than %d bytes: split it into shorter requests", TEXT_MAX_BYTES);
    if (ref && !json_is_string(ref)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "reference_audio_id must be a string");
    if (rt && !json_is_string(rt))
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "reference_text must be a string (leave it out to transcribe the reference)");
    if (rt && !ref)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "reference_text needs reference_audio_id (the recording it transcribes); "
                                                    "without one the reference is cut from the model's training audio and transcribed");
    const json_t *tp = json_object_get(params, "tts_parameters");
    if (tp && !json_is_object(tp)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "tts_parameters must be an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)tp, key, v) {
        int ok = !strcmp(key, "nfe_step") ? json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 64
               : !strcmp(key, "speed")    ? json_is_number(v) && json_number_value(v) >= 0.3 && json_number_value(v) <= 3
               : !strcmp(key, "seed")     ? json_is_integer(v) && json_integer_value(v) >= 0
                                          : -1;
        if (ok < 0) return vc_fail(err, VC_ERR_INVALID_REQUEST, "tts_parameters.%s is not an option (nfe_step, speed, seed)", key);
        if (!ok) return vc_fail(err, VC_ERR_INVALID_REQUEST, "tts_parameters: nfe_step 1..64, speed 0.3..3, seed a non-negative integer");
    }
    return 0;
}

/* The model's training recordings, as training wrote them into models/{id}/config.json
 * ("training": {training_audio_ids | training_audio_id}); an empty array when there are none. */
static json_t *training_audio_ids(store *s, const store_model *m)
{
    char path[1600];
    store_path(s, path, sizeof path, "%s/config.json", m->file_path);
    json_t *cfg = json_load_file(path, 0, NULL), *out = json_array();
    const json_t *t = json_object_get(cfg, "training"), *ids = json_object_get(t, "training_audio_ids");
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) if (json_is_string(v)) json_array_append(out, v);
    if (json_is_string(json_object_get(t, "training_audio_id")) && json_array_size(out) == 0)
        json_array_append(out, json_object_get(t, "training_audio_id"));
    json_decref(cfg);
    return out;
}

/* The model's training recordings still in the library that are long enough to hold a reference
 * (into params "training_reference_audio_ids"; the job chooses among them), and the longest one's
 * length for the estimate. Cheap: no decoding at request time. */
static int list_training_references(store *s, const char *user_id, const store_model *m, json_t *params,
                                    double *longest, vc_error *err)
{
    json_t *ids = training_audio_ids(s, m), *usable = json_array();
    size_t i;
    json_t *v;
    *longest = 0;
    json_array_foreach(ids, i, v) {
        store_audio a;
        vc_error ignored;
        if (!store_id_valid(json_string_value(v)) || store_audio_get(s, user_id, json_string_value(v), &a, &ignored)) continue;
        if (a.duration_seconds >= WHISPER_CLONE_MIN_REF_SECONDS) {
            json_array_append_new(usable, json_string(a.audio_id));
            *longest = fmax(*longest, a.duration_seconds);
        }
        store_audio_free(&a);
    }
    json_decref(ids);
    if (json_array_size(usable) == 0) {
        json_decref(usable);
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "the voice model \"%s\" has no training recording in your library to speak "
                                                    "from (it was imported, or its recordings were deleted): pick a recording "
                                                    "of this voice as the reference (reference_audio_id)", m->name);
    }
    json_object_set_new(params, "training_reference_audio_ids", usable);
    return 0;
}

static int request_reference(store *s, const char *user_id, const char *id, double *seconds, vc_error *err)
{
    store_audio a;
    if (!store_id_valid(id) || store_audio_get(s, user_id, id, &a, err))
        return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "reference audio %s not found", id);
    *seconds = a.duration_seconds;
    store_audio_free(&a);
    if (*seconds < WHISPER_CLONE_MIN_REF_SECONDS)
        return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "the reference recording is %.1f s long; at least %.0f s are needed "
                                                    "(10-30 s works best): pick a longer one", *seconds, WHISPER_CLONE_MIN_REF_SECONDS);
    return 0;
}

/* F5-TTS (and Whisper when the reference must be transcribed) installed, else the command. */
static int weights_installed(store *s, const char *user_id, const json_t *params, vc_error *err)
{
    char root[1200];
    store_path(s, root, sizeof root, "weights");
    f5tts_engine probe;
    if (f5tts_engine_open_dir(&probe, root, err) != 0) return -1;
    f5tts_engine_close(&probe);
    if (json_object_get(params, "reference_text") || f5_asr_validate(s, user_id, params, err) == 0) return 0;
    if (err->code != VC_ERR_WEIGHTS_MISSING) return -1;
    return vc_fail(err, VC_ERR_WEIGHTS_MISSING, "speaking text needs speech recognition (Whisper %s) to transcribe the "
                                                "reference, and it is not installed under %s/whisper; install it with: "
                                                "voiceclone models pull whisper, or pick a reference recording "
                                                "(reference_audio_id) and type what it says (reference_text)",
                   WHISPER_DEFAULT_SIZE, root);
}

int rvc_text_validate(store *s, const char *user_id, json_t *params, const store_model *m, double *tts_seconds,
                      double *speech_seconds, vc_error *err)
{
    if (check_shape(params, err) != 0) return -1;
    const char *ref = json_string_value(json_object_get(params, "reference_audio_id"));
    double ref_seconds = 0;
    if (ref && request_reference(s, user_id, ref, &ref_seconds, err) != 0) return -1;
    if (!ref && list_training_references(s, user_id, m, params, &ref_seconds, err) != 0) return -1;
    if (weights_installed(s, user_id, params, err) != 0) return -1;
    const json_t *nfe = json_object_get(json_object_get(params, "tts_parameters"), "nfe_step");
    double steps = json_is_integer(nfe) ? (double)json_integer_value(nfe) : 32.0;
    *speech_seconds = fmax(1.0, (double)strlen(json_string_value(json_object_get(params, "text"))) / CHARS_PER_SECOND);
    double units = (fmin(ref_seconds, REF_CLIP_SECONDS) + *speech_seconds) * steps / 32.0;
    json_object_set_new(params, "tts_work_units", json_real(units));
    *tts_seconds = jobs_f5_estimate(s, units);
    return 0;
}

static int decode_reference(store *s, const job *jb, const char *id, audio_buffer *out, vc_error *err)
{
    store_audio a;
    if (!id || store_audio_get(s, jb->user_id, id, &a, err))
        return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "reference audio %s not found (deleted since the request?)", id ? id : "");
    char path[1600];
    store_path(s, path, sizeof path, "%s", a.file_path);
    store_audio_free(&a);
    return audio_decode_file(path, out, NULL, err);
}

/* The best window (audio_best_window) over all the training recordings: its audio into *ref
 * (the recording's rate), where it came from into *from. A recording that cannot be read or holds
 * too little speech is passed over; none left is AUDIO_TOO_SHORT with what to do. */
typedef struct reference_origin { char audio_id[STORE_ID_MAX]; double start, end, score; } reference_origin;

static int keep_window(const audio_buffer *in, const audio_window *w, const char *id, audio_buffer *ref,
                       reference_origin *from, vc_error *err)
{
    float *cut = malloc(sizeof(float) * (w->end - w->start));
    if (!cut) return vc_fail(err, VC_ERR_NOMEM, "out of memory (reference)");
    memcpy(cut, in->samples + w->start, sizeof(float) * (w->end - w->start));
    audio_buffer_free(ref);
    *ref = (audio_buffer){cut, w->end - w->start, in->sample_rate};
    snprintf(from->audio_id, sizeof from->audio_id, "%s", id);
    from->start = (double)w->start / in->sample_rate;
    from->end = (double)w->end / in->sample_rate;
    from->score = w->score;
    return 0;
}

static int best_training_window(const job *jb, job_ctx *c, audio_buffer *ref, reference_origin *from, vc_error *err)
{
    const json_t *ids = json_object_get(jb->params, "training_reference_audio_ids");
    size_t i;
    json_t *v;
    int found = 0;
    json_array_foreach(ids, i, v) {
        if (job_cancelled(c)) return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
        audio_buffer in = {0};
        audio_window w;
        vc_error skip;
        if (decode_reference(job_store(c), jb, json_string_value(v), &in, &skip) == 0 && audio_best_window(&in, &w, &skip) == 0 &&
            (!found || w.score > from->score)) { /* ties: the earlier recording */
            if (keep_window(&in, &w, json_string_value(v), ref, from, err) != 0) { audio_buffer_free(&in); return -1; }
            found = 1;
        }
        audio_buffer_free(&in);
    }
    if (!found)
        return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "none of this voice's training recordings holds %.0f s of speech between "
                                                    "pauses to speak from: pick a recording of this voice as the reference "
                                                    "(reference_audio_id)", AUDIO_WINDOW_MIN_SECONDS);
    return 0;
}

/* The reference: the user's recording as it is (f5_asr_prepare clips it), or the best window of
 * the training audio (already ≤ 12 s between pauses, so that clip only trims its edges). */
static int load_reference(const job *jb, job_ctx *c, const char *given, audio_buffer *ref, reference_origin *from,
                          vc_error *err)
{
    if (given) {
        snprintf(from->audio_id, sizeof from->audio_id, "%s", given);
        return decode_reference(job_store(c), jb, given, ref, err);
    }
    return best_training_window(jb, c, ref, from, err);
}

static void record_reference(json_t *info, const f5_asr_texts *texts, const reference_origin *from, int given)
{
    json_object_set_new(info, "text", json_string(texts->text));
    json_object_set_new(info, "reference_text", json_string(texts->reference_text));
    json_object_set_new(info, "reference_audio_id", json_string(from->audio_id));
    json_object_set_new(info, "reference_source", json_string(given ? "request" : "training_audio"));
    if (given) return;
    json_object_set_new(info, "reference_start_seconds", json_real(round(from->start * 1000) / 1000));
    json_object_set_new(info, "reference_end_seconds", json_real(round(from->end * 1000) / 1000));
}

int rvc_text_speak(const job *jb, job_ctx *c, audio_buffer *speech, json_t *info, vc_error *err)
{
    store *s = job_store(c);
    const char *given = json_string_value(json_object_get(jb->params, "reference_audio_id"));
    char root[1200];
    store_path(s, root, sizeof root, "weights");
    f5_progress prog;
    f5_progress_start(&prog, c, jb->params);
    prog.scale = RVC_TEXT_TTS_PERCENT / 100.0;
    f5tts_params fp;
    jobs_f5_params_from(json_object_get(jb->params, "tts_parameters"), &fp);
    f5_progress_emit(&prog, 1, "preprocessing", given ? "Loading the speech models..."
                                                      : "Choosing the best 12 s of the training audio...");
    audio_buffer ref = {0};
    f5_asr_texts texts = {0};
    reference_origin from = {{0}, 0, 0, 0};
    void *e = NULL;
    int rc = load_reference(jb, c, given, &ref, &from, err);
    if (rc == 0) rc = jobs_f5_acquire(c, root, &e, err);
    if (rc == 0) {
        /* the reference clipped as F5-TTS clips it (≤ 12 s at a pause) and transcribed when needed */
        rc = f5_asr_prepare(jb, &prog, root, &ref, &fp, &texts, err);
        if (rc == 0)
            rc = f5tts_synthesize(e, &ref, texts.reference_text, texts.text, &fp, jobs_f5_on_progress, &prog, speech, NULL, NULL, err);
        jobs_shared_release(job_shared_models(c), e);
    }
    if (rc == 0) {
        record_reference(info, &texts, &from, given != NULL);
        json_t *units = json_object_get(jb->params, "tts_work_units");
        if (json_is_number(units)) jobs_f5_record(s, json_number_value(units), f5_progress_elapsed(&prog));
    }
    audio_buffer_free(&ref);
    f5_asr_texts_free(&texts);
    return rc;
}
