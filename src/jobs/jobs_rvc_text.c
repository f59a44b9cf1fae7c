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

/* The first training recording still in the library with enough sound for a reference. */
static int pick_training_reference(store *s, const char *user_id, const store_model *m, char *id, size_t cap,
                                   double *seconds, vc_error *err)
{
    json_t *ids = training_audio_ids(s, m);
    size_t i;
    json_t *v;
    id[0] = '\0';
    json_array_foreach(ids, i, v) {
        store_audio a;
        vc_error ignored;
        if (!store_id_valid(json_string_value(v)) || store_audio_get(s, user_id, json_string_value(v), &a, &ignored)) continue;
        int usable = a.duration_seconds >= WHISPER_CLONE_MIN_REF_SECONDS;
        if (usable) snprintf(id, cap, "%s", a.audio_id), *seconds = a.duration_seconds;
        store_audio_free(&a);
        if (usable) break;
    }
    json_decref(ids);
    if (!id[0])
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "the voice model \"%s\" has no training recording in your library to speak "
                                                    "from (it was imported, or its recordings were deleted): pick a recording "
                                                    "of this voice as the reference (reference_audio_id)", m->name);
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
    char picked[STORE_ID_MAX];
    if (ref && request_reference(s, user_id, ref, &ref_seconds, err) != 0) return -1;
    if (!ref) {
        if (pick_training_reference(s, user_id, m, picked, sizeof picked, &ref_seconds, err) != 0) return -1;
        json_object_set_new(params, "training_reference_audio_id", json_string(picked));
    }
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

int rvc_text_speak(const job *jb, job_ctx *c, audio_buffer *speech, json_t *info, vc_error *err)
{
    store *s = job_store(c);
    const char *given = json_string_value(json_object_get(jb->params, "reference_audio_id"));
    const char *ref_id = given ? given : json_string_value(json_object_get(jb->params, "training_reference_audio_id"));
    char root[1200];
    store_path(s, root, sizeof root, "weights");
    f5_progress prog;
    f5_progress_start(&prog, c, jb->params);
    prog.scale = RVC_TEXT_TTS_PERCENT / 100.0;
    f5tts_params fp;
    jobs_f5_params_from(json_object_get(jb->params, "tts_parameters"), &fp);
    f5_progress_emit(&prog, 1, "preprocessing", "Loading the speech models...");
    audio_buffer ref = {0};
    f5_asr_texts texts = {0};
    void *e = NULL;
    int rc = decode_reference(s, jb, ref_id, &ref, err);
    if (rc == 0) rc = jobs_f5_acquire(c, root, &e, err);
    if (rc == 0) {
        /* the reference clipped as F5-TTS clips it (≤ 12 s at a pause) and transcribed when needed */
        rc = f5_asr_prepare(jb, &prog, root, &ref, &fp, &texts, err);
        if (rc == 0)
            rc = f5tts_synthesize(e, &ref, texts.reference_text, texts.text, &fp, jobs_f5_on_progress, &prog, speech, NULL, NULL, err);
        jobs_shared_release(job_shared_models(c), e);
    }
    if (rc == 0) {
        json_object_set_new(info, "text", json_string(texts.text));
        json_object_set_new(info, "reference_text", json_string(texts.reference_text));
        json_object_set_new(info, "reference_audio_id", json_string(ref_id));
        json_object_set_new(info, "reference_source", json_string(given ? "request" : "training_audio"));
        json_t *units = json_object_get(jb->params, "tts_work_units");
        if (json_is_number(units)) jobs_f5_record(s, json_number_value(units), f5_progress_elapsed(&prog));
    }
    audio_buffer_free(&ref);
    f5_asr_texts_free(&texts);
    return rc;
}
