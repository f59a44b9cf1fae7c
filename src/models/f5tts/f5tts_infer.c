/*
 * The official F5-TTS inference pipeline in C (utils_infer.infer_process):
 *   reference → mono 24 kHz, optional silence-aware clipping to ≤ 12 s, RMS raised to 0.1;
 *   text → chunks sized from the reference's speaking rate (bytes per second);
 *   per chunk: tokens(ref_text + chunk), duration estimate, CFM sampling with the reference
 *   mel as condition, Vocos on the generated frames (from the last reference frame on),
 *   loudness restored to the reference's;
 *   chunks joined with linear cross-fades.
 */
#include "models/f5tts/f5tts_infer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <sys/stat.h>

#include "audio/audio_dsp.h"
#include "nn/pool.h"
#include "nn/spectral.h"

#define MAX_REF_SECONDS 12.0
#define SILENCE_DBFS -50.0

void f5tts_params_default(f5tts_params *p)
{
    memset(p, 0, sizeof *p);
    p->sampler = (f5_sampler){.nfe = 32, .cfg_strength = 2.0f, .sway = -1.0f, .use_epss = 1};
    p->speed = 1.0f;
    p->seed = 0;
    p->cross_fade_seconds = 0.15f;
    p->clip_reference = 1;
}

int f5tts_engine_open(f5tts_engine *e, const char *dit_path, const char *vocab_path, const char *vocos_path,
                      vc_error *err)
{
    memset(e, 0, sizeof *e);
    if (nn_weights_open(dit_path, &e->dit_weights, err) != 0 || f5tts_load(&e->dit, e->dit_weights, err) != 0 ||
        f5_vocab_load(&e->vocab, vocab_path, err) != 0 || nn_weights_open(vocos_path, &e->vocos_weights, err) != 0 ||
        vocos_load(&e->vocos, e->vocos_weights, err) != 0) {
        f5tts_engine_close(e);
        return -1;
    }
    e->mel_fb = malloc(sizeof(float) * (F5_N_FFT / 2 + 1) * F5_MEL_DIM);
    if (!e->mel_fb) { f5tts_engine_close(e); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    if (nn_pool_create(&e->pool, nn_pool_default_threads(), err) != 0) { f5tts_engine_close(e); return -1; }
    vc_error no_pinyin;
    if (f5_pinyin_load(&e->pinyin, NULL, &no_pinyin) != 0) memset(&e->pinyin, 0, sizeof e->pinyin); /* Chinese stays characters */
    e->dit.pool = e->pool;
    nn_mel_filterbank_htk(e->mel_fb, F5_N_FFT / 2 + 1, F5_MEL_DIM, 0.0f, F5_SAMPLE_RATE / 2, F5_SAMPLE_RATE);
    return 0;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* First *.safetensors in dir (the released file is model_1250000.safetensors). */
static int find_safetensors(const char *dir, char *out, size_t n)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    int found = -1;
    while (found && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 12 && !strcmp(e->d_name + len - 12, ".safetensors")) { snprintf(out, n, "%s/%s", dir, e->d_name); found = 0; }
    }
    closedir(d);
    return found;
}

int f5tts_engine_open_dir(f5tts_engine *e, const char *weights_root, vc_error *err)
{
    char dir[1024], dit[1200], vocab[1200], vocos[1200];
    snprintf(dir, sizeof dir, "%s/f5tts", weights_root);
    snprintf(vocab, sizeof vocab, "%s/vocab.txt", dir);
    snprintf(vocos, sizeof vocos, "%s/vocos/model.safetensors", weights_root);
    if (!is_file(vocos)) snprintf(vocos, sizeof vocos, "%s/vocos/pytorch_model.bin", weights_root);
    if (find_safetensors(dir, dit, sizeof dit) != 0 || !is_file(vocab) || !is_file(vocos)) {
        memset(e, 0, sizeof *e);
        return vc_fail(err, VC_ERR_WEIGHTS_MISSING, "F5-TTS weights are not installed under %s; install them with: voiceclone models pull f5tts --data DIR (the server's data folder; offline: voiceclone models import FILE --to f5tts|vocos)",
                       weights_root);
    }
    return f5tts_engine_open(e, dit, vocab, vocos, err);
}

void f5tts_engine_close(f5tts_engine *e)
{
    f5tts_free(&e->dit);
    vocos_free(&e->vocos);
    f5_vocab_free(&e->vocab);
    nn_weights_free(e->dit_weights);
    nn_weights_free(e->vocos_weights);
    free(e->mel_fb);
    nn_pool_free(e->pool);
    f5_pinyin_free(&e->pinyin);
    memset(e, 0, sizeof *e);
}

int f5tts_log_mel(const f5tts_engine *e, const float *wave, size_t L, float *mel, vc_error *err)
{
    int T = nn_stft_frames(L, F5_HOP), bins = F5_N_FFT / 2 + 1;
    float window[F5_N_FFT];
    float *mag = malloc(sizeof(float) * (size_t)T * bins);
    if (!mag) return vc_fail(err, VC_ERR_NOMEM, "out of memory (mel)");
    nn_hann_periodic(window, F5_N_FFT);
    int rc = nn_stft_magnitude(mag, wave, L, F5_N_FFT, F5_HOP, window, err);
    if (rc == 0) nn_log_mel(mel, mag, e->mel_fb, T, bins, F5_MEL_DIM, 1e-5f);
    free(mag);
    return rc;
}

/* ---- reference preparation ------------------------------------------------------------ */

static double rms_of(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0;
}

/* Loudness in dBFS of the 10 ms window at i (pydub-style silence detection). */
static int is_silent_at(const audio_buffer *a, size_t i, size_t win)
{
    double r = rms_of(a->samples + i, win);
    return r <= 0 || 20.0 * log10(r) < SILENCE_DBFS;
}

/* Trims leading/trailing silence and, for references over 12 s, cuts at the last pause of at
 * least 100 ms before 12 s (hard cut when there is none); appends 50 ms of silence. */
static int clip_reference(audio_buffer *a, vc_error *err)
{
    size_t win = (size_t)a->sample_rate / 100, start = 0, end = a->frames;
    while (start + win <= end && is_silent_at(a, start, win)) start += win;
    while (end >= start + win && is_silent_at(a, end - win, win)) end -= win;
    size_t max_len = (size_t)(MAX_REF_SECONDS * a->sample_rate);
    if (end - start > max_len) {
        size_t cut = start + max_len, run = 0, best = 0;
        for (size_t i = start; i + win <= start + max_len; i += win) {
            run = is_silent_at(a, i, win) ? run + win : 0;
            if (run >= 10 * win) best = i + win;
        }
        end = best ? best : cut;
    }
    size_t pad = (size_t)a->sample_rate / 20, n = end - start;
    float *clipped = calloc(n + pad, sizeof(float));
    if (!clipped) return vc_fail(err, VC_ERR_NOMEM, "out of memory (reference)");
    memcpy(clipped, a->samples + start, sizeof(float) * n);
    free(a->samples);
    a->samples = clipped;
    a->frames = n + pad;
    return 0;
}

int f5tts_clip_reference(audio_buffer *a, vc_error *err) { return clip_reference(a, err); }

static int prepare_reference(const audio_buffer *ref, const f5tts_params *p, audio_buffer *out, double *rms,
                             vc_error *err)
{
    if (audio_resample(ref, F5_SAMPLE_RATE, out, err) != 0) return -1;
    if (p->clip_reference && clip_reference(out, err) != 0) { audio_buffer_free(out); return -1; }
    if (out->frames < (size_t)F5_N_FFT) { audio_buffer_free(out); return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "the reference clip is too short"); }
    *rms = rms_of(out->samples, out->frames);
    if (*rms < F5_TARGET_RMS && *rms > 0)
        for (size_t i = 0; i < out->frames; i++) out->samples[i] = (float)(out->samples[i] * F5_TARGET_RMS / *rms);
    return 0;
}

/* ---- noise ------------------------------------------------------------------------------ */

/* splitmix64 → uniform → Box–Muller: a documented, seedable standard normal source. */
static double next_uniform(unsigned long long *state)
{
    unsigned long long z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static void gaussian_noise(float *x, size_t n, unsigned long long *state)
{
    for (size_t i = 0; i < n; i += 2) {
        double r = sqrt(-2.0 * log(next_uniform(state))), a = 2.0 * M_PI * next_uniform(state);
        x[i] = (float)(r * cos(a));
        if (i + 1 < n) x[i + 1] = (float)(r * sin(a));
    }
}

/* ---- generation --------------------------------------------------------------------------- */

typedef struct chunk_ctx {
    f5tts_progress_fn progress;
    void *ctx;
    int chunk, chunks;
} chunk_ctx;

static int on_step(void *ctx, int step, int total)
{
    chunk_ctx *c = ctx;
    return c->progress ? c->progress(c->ctx, F5_PHASE_GENERATING, c->chunk, c->chunks, step, total) : 0;
}

/* Generates one chunk: returns wave (malloc'd) of *len samples. */
static int generate_chunk(const f5tts_engine *e, const f5tts_params *p, const audio_buffer *ref, const float *ref_mel,
                          int T, const char *ref_text, const char *chunk, double rms, unsigned long long *rng,
                          chunk_ctx *cc, float **wave, size_t *len, f5_tap_fn tap, void *tap_ctx, vc_error *err)
{
    size_t text_len = strlen(ref_text) + strlen(chunk);
    char *full = malloc(text_len + 1);
    int64_t *ids = malloc(sizeof(int64_t) * (2 * text_len + 1)); /* ≤ 2 tokens a byte (a word's space) */
    float *noise = NULL, *mel = NULL;
    int rc = -1;
    if (!full || !ids) { vc_fail(err, VC_ERR_NOMEM, "out of memory"); goto done; }
    snprintf(full, text_len + 1, "%s%s", ref_text, chunk);
    int n_ids = f5_tokenize(&e->vocab, &e->pinyin, full, ids, (int)(2 * text_len + 1));
    if (n_ids < 0) { vc_fail(err, VC_ERR_INVALID_REQUEST, "the text is not valid UTF-8"); goto done; }
    int ref_frames = (int)(ref->frames / F5_HOP);
    int N = f5_duration_frames(ref_frames, T, n_ids, strlen(ref_text), strlen(chunk), p->speed);
    noise = malloc(sizeof(float) * (size_t)N * F5_MEL_DIM);
    mel = malloc(sizeof(float) * (size_t)N * F5_MEL_DIM);
    if (!noise || !mel) { vc_fail(err, VC_ERR_NOMEM, "out of memory (%d frames)", N); goto done; }
    if (p->noise) memcpy(noise, p->noise, sizeof(float) * (size_t)N * F5_MEL_DIM);
    else gaussian_noise(noise, (size_t)N * F5_MEL_DIM, rng);
    if (f5_sample(&e->dit, &p->sampler, ref_mel, T, ids, n_ids, N, noise, mel, on_step, cc, NULL, NULL, err) != 0) goto done;
    if (cc->progress && cc->progress(cc->ctx, F5_PHASE_VOCODING, cc->chunk, cc->chunks, 0, 1)) { vc_fail(err, VC_ERR_CANCELLED, "generation cancelled"); goto done; }
    int gen = N - ref_frames; /* vocode from the last reference frame on, as the official code */
    if (tap) tap(tap_ctx, "gen_mel", mel + (size_t)ref_frames * F5_MEL_DIM, gen, F5_MEL_DIM);
    *len = (size_t)(gen - 1) * F5_HOP;
    *wave = malloc(sizeof(float) * (*len ? *len : 1));
    if (!*wave) { vc_fail(err, VC_ERR_NOMEM, "out of memory"); goto done; }
    if (vocos_decode(&e->vocos, mel + (size_t)ref_frames * F5_MEL_DIM, gen, *wave, NULL, NULL, err) != 0) { free(*wave); *wave = NULL; goto done; }
    if (rms < F5_TARGET_RMS)
        for (size_t i = 0; i < *len; i++) (*wave)[i] = (float)((*wave)[i] * rms / F5_TARGET_RMS);
    rc = 0;
done:
    free(full); free(ids); free(noise); free(mel);
    return rc;
}

/* Appends next to out with a linear cross-fade of up to fade samples. */
static int append_cross_faded(audio_buffer *out, const float *next, size_t len, size_t fade, vc_error *err)
{
    size_t overlap = fade < out->frames ? fade : out->frames;
    overlap = overlap < len ? overlap : len;
    float *grown = realloc(out->samples, sizeof(float) * (out->frames + len - overlap + 1));
    if (!grown) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    out->samples = grown;
    float *tail = out->samples + out->frames - overlap;
    for (size_t i = 0; i < overlap; i++) {
        float w = overlap > 1 ? (float)i / (float)(overlap - 1) : 1.0f;
        tail[i] = tail[i] * (1.0f - w) + next[i] * w;
    }
    memcpy(out->samples + out->frames, next + overlap, sizeof(float) * (len - overlap));
    out->frames += len - overlap;
    return 0;
}

/* The official remove_silence_for_generated_wav: pauses of 1 s or more under −50 dBFS keep
 * 500 ms on each side (pydub split_on_silence, seek 10 ms). */
static int remove_silence(audio_buffer *out, vc_error *err)
{
    audio_buffer kept;
    if (audio_remove_long_silences(out, 1000, -50.0, 500, 10, &kept, err) != 0) return -1;
    audio_buffer_free(out);
    *out = kept;
    return 0;
}

int f5tts_synthesize(const f5tts_engine *e, const audio_buffer *ref, const char *ref_text, const char *gen_text,
                     const f5tts_params *p, f5tts_progress_fn progress, void *progress_ctx, audio_buffer *out,
                     f5_tap_fn tap, void *tap_ctx, vc_error *err)
{
    memset(out, 0, sizeof *out);
    if (!gen_text || !*gen_text) return vc_fail(err, VC_ERR_INVALID_REQUEST, "text to speak is required");
    if (progress && progress(progress_ctx, F5_PHASE_PREPROCESSING, 0, 1, 0, 1)) return vc_fail(err, VC_ERR_CANCELLED, "cancelled");
    audio_buffer r;
    double rms = 0;
    if (prepare_reference(ref, p, &r, &rms, err) != 0) return -1;
    char *rtext = malloc(strlen(ref_text) + 4);
    int T = nn_stft_frames(r.frames, F5_HOP);
    float *ref_mel = malloc(sizeof(float) * (size_t)T * F5_MEL_DIM);
    char **chunks = NULL;
    int n_chunks = 0, rc = -1;
    if (!rtext || !ref_mel) { vc_fail(err, VC_ERR_NOMEM, "out of memory"); goto done; }
    f5_prepare_ref_text(ref_text, rtext);
    if (progress && progress(progress_ctx, F5_PHASE_ENCODING, 0, 1, 0, 1)) { vc_fail(err, VC_ERR_CANCELLED, "cancelled"); goto done; }
    if (f5tts_log_mel(e, r.samples, r.frames, ref_mel, err) != 0) goto done;
    if (tap) tap(tap_ctx, "ref_mel", ref_mel, T, F5_MEL_DIM);
    double seconds = (double)r.frames / F5_SAMPLE_RATE;
    int max_chars = (int)((double)strlen(ref_text) / seconds * (22.0 - seconds) * p->speed);
    n_chunks = f5_chunk_text(gen_text, max_chars > 1 ? max_chars : 1, &chunks);
    if (n_chunks < 1) { vc_fail(err, VC_ERR_INVALID_REQUEST, "nothing to say in the text"); goto done; }
    out->sample_rate = F5_SAMPLE_RATE;
    unsigned long long rng = p->seed;
    for (int i = 0; i < n_chunks; i++) {
        chunk_ctx cc = {progress, progress_ctx, i, n_chunks};
        float *wave = NULL;
        size_t len = 0;
        if (generate_chunk(e, p, &r, ref_mel, T, rtext, chunks[i], rms, &rng, &cc, &wave, &len, tap, tap_ctx, err) != 0) goto done;
        int appended = append_cross_faded(out, wave, len, (size_t)(p->cross_fade_seconds * F5_SAMPLE_RATE), err);
        free(wave);
        if (appended != 0) goto done;
    }
    if (p->remove_silence && remove_silence(out, err) != 0) goto done;
    rc = 0;
done:
    if (rc != 0) audio_buffer_free(out);
    f5_chunks_free(chunks, n_chunks);
    free(rtext); free(ref_mel);
    audio_buffer_free(&r);
    return rc;
}
