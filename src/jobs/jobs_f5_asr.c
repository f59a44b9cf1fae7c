/* Speech recognition for the quick clone (contract: jobs_f5_asr.h). */
#include "jobs/jobs_f5_asr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/whisper/whisper_clone.h"

static int nonempty(const json_t *v) { return json_is_string(v) && json_string_value(v)[0]; }

int f5_asr_needed(const json_t *params)
{
    return !nonempty(json_object_get(params, "reference_text")) || json_object_get(params, "target_audio_id") != NULL;
}

static int whisper_files(const char *root, char *model, char *vocab, size_t cap)
{
    struct stat st;
    snprintf(model, cap, "%s/whisper/%s.pt", root, WHISPER_DEFAULT_SIZE);
    snprintf(vocab, cap, "%s/whisper/multilingual.tiktoken", root);
    return stat(model, &st) == 0 && stat(vocab, &st) == 0;
}

int f5_asr_validate(store *s, const char *user_id, const json_t *params, vc_error *err)
{
    char root[1200], model[1400], vocab[1400];
    store_path(s, root, sizeof root, "weights");
    if (!whisper_files(root, model, vocab, sizeof model))
        return vc_fail(err, VC_ERR_WEIGHTS_MISSING,
                       "speech recognition (Whisper %s) is not installed under %s/whisper; install it with: voiceclone "
                       "models pull whisper, or give reference_text and text",
                       WHISPER_DEFAULT_SIZE, root);
    const json_t *target = json_object_get(params, "target_audio_id");
    if (!target) return 0;
    store_audio a;
    if (!json_is_string(target) || !store_id_valid(json_string_value(target)) ||
        store_audio_get(s, user_id, json_string_value(target), &a, err))
        return vc_fail(err, VC_ERR_AUDIO_NOT_FOUND, "target audio %s not found", json_is_string(target) ? json_string_value(target) : "");
    store_audio_free(&a);
    return 0;
}

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

static int run_asr(const job *jb, job_ctx *c, const whisper_engine *e, audio_buffer *ref, f5tts_params *fp,
                   f5_asr_texts *texts, vc_error *err)
{
    if (whisper_clone_clip_reference(ref, fp, err) != 0) return -1;
    if (!texts->reference_text) {
        job_progress(c, 3, "voice encoding", "Transcribing the reference...");
        if (whisper_clone_reference_text(e, ref, fp, &texts->reference_text, err) != 0) return -1;
    }
    if (!texts->text) {
        job_progress(c, 4, "voice encoding", "Transcribing the target recording...");
        audio_buffer target = {0};
        const char *id = json_string_value(json_object_get(jb->params, "target_audio_id"));
        int rc = decode_audio(c, jb, id, &target, err);
        if (rc == 0) rc = whisper_clone_read_target(e, &target, &texts->target, err);
        audio_buffer_free(&target);
        if (rc != 0) return -1;
        texts->has_target = 1;
        if (!(texts->text = strdup(texts->target.text))) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    }
    return 0;
}

int f5_asr_prepare(const job *jb, job_ctx *c, const char *weights_root, audio_buffer *ref, f5tts_params *fp,
                   f5_asr_texts *texts, vc_error *err)
{
    memset(texts, 0, sizeof *texts);
    const json_t *rt = json_object_get(jb->params, "reference_text"), *tx = json_object_get(jb->params, "text");
    if (nonempty(rt) && !(texts->reference_text = strdup(json_string_value(rt)))) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (nonempty(tx) && !(texts->text = strdup(json_string_value(tx)))) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    if (texts->reference_text && texts->text) return 0;
    char dir[1300], key[1300 + JOBS_STAMP_MAX], stamp[JOBS_STAMP_MAX];
    snprintf(dir, sizeof dir, "%s/whisper", weights_root);
    jobs_files_stamp((const char *const[]){dir}, 1, stamp);
    snprintf(key, sizeof key, "%s\n%s", weights_root, stamp);
    void *e = NULL;
    if (jobs_shared_acquire(job_shared_models(c), &SHARED_WHISPER, key, &e, err) != 0) return -1;
    int rc = run_asr(jb, c, e, ref, fp, texts, err);
    jobs_shared_release(job_shared_models(c), e);
    return rc;
}

void f5_asr_texts_free(f5_asr_texts *t)
{
    whisper_clone_target_free(&t->target);
    free(t->reference_text);
    free(t->text);
    memset(t, 0, sizeof *t);
}
