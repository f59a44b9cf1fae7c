/* RVC conversion pipeline (see rvc_pipeline.h). Sample positions follow the official code exactly. */
#include "models/rvc/rvc_pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "audio/filter.h"
#include "models/rvc/rvc_features.h"
#include "nn/ops.h"

#define SR 16000
#define WINDOW 160

void rvc_params_default(rvc_params *p)
{
    *p = (rvc_params){.f0_up_key = 0, .index_rate = 0.75, .rms_mix_rate = 0.25, .protect = 0.33,
                      .x_pad = 1, .x_query = 6, .x_center = 38, .x_max = 41, .sid = 0, .filter_radius = 3};
}

static void tap_f(const rvc_hooks *h, const char *name, const float *x, size_t n)
{
    if (h && h->tap) h->tap(h->ctx, name, x, n);
}

static void tap(const rvc_hooks *h, const char *name, const double *x, size_t n)
{
    if (!h || !h->tap) return;
    float *f = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; f && i < n; i++) f[i] = (float)x[i];
    if (f) h->tap(h->ctx, name, f, n);
    free(f);
}

static double reflect_at(const double *x, long n, long i)
{
    while (i < 0 || i >= n) {
        if (i < 0) i = -i;
        if (i >= n) i = 2 * (n - 1) - i;
    }
    return x[i];
}

static double *reflect_pad(const double *x, size_t n, size_t pad)
{
    double *y = malloc(sizeof(double) * (n + 2 * pad));
    for (size_t i = 0; y && i < n + 2 * pad; i++) y[i] = reflect_at(x, (long)n, (long)i - (long)pad);
    return y;
}

/* Quiet points: every t_center samples, the start of the quietest 10 ms within ±t_query. */
static size_t split_points(const double *audio, size_t n, const rvc_params *p, size_t *ts, size_t max_ts)
{
    size_t t_query = (size_t)(SR * p->x_query), t_center = (size_t)(SR * p->x_center), t_max = (size_t)(SR * p->x_max);
    if (n + WINDOW <= t_max) return 0;
    double *padded = reflect_pad(audio, n, WINDOW / 2), *sum = calloc(n, sizeof(double));
    size_t count = 0;
    if (padded && sum) {
        for (size_t t = 0; t < n; t++)
            for (int i = 0; i < WINDOW; i++) sum[t] += fabs(padded[t + (size_t)i]);
        for (size_t t = t_center; t < n && count < max_ts; t += t_center) {
            size_t lo = t - t_query, hi = t + t_query < n ? t + t_query : n, best = lo;
            for (size_t i = lo; i < hi; i++) if (sum[i] < sum[best]) best = i;
            ts[count++] = best;
        }
    }
    free(padded); free(sum);
    return count;
}

/* RMVPE's per-window progress, reported as the "extracting pitch" phase (and a chance to cancel). */
static int pitch_tick(void *ctx, double fraction)
{
    const rvc_hooks *h = ctx;
    return h && h->progress ? h->progress(h->ctx, "extracting pitch", fraction) : 0;
}

/* Pitch over the whole padded input: RMVPE, then fill/shift/coarse. pitch, pitchf [p_len]. */
static int compute_pitch(const rvc_voice *v, const double *pad, size_t n, const rvc_params *p, int64_t *pitch,
                         double *pitchf, const rvc_hooks *h, vc_error *err)
{
    int frames = (int)(n / WINDOW) + 1;
    float *x = malloc(sizeof(float) * n);
    double *f0 = malloc(sizeof(double) * (size_t)frames), *pf = malloc(sizeof(double) * (size_t)frames);
    int64_t *pc = malloc(sizeof(int64_t) * (size_t)frames);
    int rc = (x && f0 && pf && pc) ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (pitch)");
    for (size_t i = 0; rc == 0 && i < n; i++) x[i] = (float)pad[i];
    if (rc == 0) /* cancel is seen between RMVPE's blocks and BiGRU steps too: one window's pass takes seconds */
        rc = rmvpe_f0_cancellable(v->pitch, x, (int)n, f0, pitch_tick, (void *)h, h ? h->cancelled : NULL, h ? h->ctx : NULL, err);
    if (rc == 0) {
        rvc_f0_postprocess(f0, frames, p->f0_up_key, pf, pc);
        size_t p_len = n / WINDOW;
        memcpy(pitchf, pf, sizeof(double) * p_len);
        memcpy(pitch, pc, sizeof(int64_t) * p_len);
        if (h && h->tap) {
            double *asd = malloc(sizeof(double) * (size_t)frames);
            for (int i = 0; asd && i < frames; i++) asd[i] = (double)pc[i];
            if (asd) tap(h, "f0.pitch_full", asd, (size_t)frames);
            tap(h, "f0.pitchf_full", pf, (size_t)frames);
            free(asd);
        }
    }
    free(x); free(f0); free(pf); free(pc);
    return rc;
}

/* ---- one chunk (official Pipeline.vc) ------------------------------------------------------- */

typedef struct chunk_out { float *audio; size_t n; } chunk_out;

static void chunk_tap(const rvc_hooks *h, int k, const char *what, const float *x, size_t n)
{
    char name[64];
    snprintf(name, sizeof name, "chunk%d.%s", k, what);
    tap_f(h, name, x, n);
}

/* HuBERT features of a chunk, blended with the index and upsampled: phone [2T, dim] */
static int chunk_features(const rvc_voice *v, const float *x, int len, const rvc_params *p, float **phone, float **phone0,
                          int *frames, int *dim, const rvc_hooks *h, int k, vc_error *err)
{
    const hubert_model *m = v->hubert;
    int T = hubert_frames(m, len), D = v->version == 1 ? m->final_dim : m->embed, rc;
    float *feats = malloc(sizeof(float) * (size_t)T * m->embed), *blend = malloc(sizeof(float) * (size_t)T * D);
    *phone = malloc(sizeof(float) * 2 * (size_t)T * D);
    *phone0 = malloc(sizeof(float) * 2 * (size_t)T * D);
    rc = (feats && blend && *phone && *phone0) ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory (features)");
    if (rc == 0) /* cancel is seen inside HuBERT (layer halves, encoder chunks): a 41 s chunk takes seconds */
        rc = hubert_extract_cancellable(m, x, len, v->version == 1 ? rvc_v1_layer(m->layers) : m->layers, v->version == 1, feats,
                                        h ? h->cancelled : NULL, h ? h->ctx : NULL, err);
    if (rc == 0) {
        chunk_tap(h, k, "hubert_feats", feats, (size_t)T * D);
        rvc_upsample2(*phone0, feats, T, D);
        if (v->bank && p->index_rate != 0) {
            float *score = malloc(sizeof(float) * (size_t)T * RVC_INDEX_K), *w = malloc(sizeof(float) * (size_t)T * RVC_INDEX_K);
            float *ret = malloc(sizeof(float) * (size_t)T * D);
            int64_t *ix = malloc(sizeof(int64_t) * (size_t)T * RVC_INDEX_K);
            rc = (score && w && ret && ix) ? rvc_knn(v->bank, v->n_bank, feats, T, D, score, ix, err) : vc_fail(err, VC_ERR_NOMEM, "oom");
            if (rc == 0) { rvc_retrieve_blend(v->bank, feats, T, D, score, ix, (float)p->index_rate, w, ret, blend); memcpy(feats, blend, sizeof(float) * (size_t)T * D); }
            free(score); free(w); free(ret); free(ix);
        }
        rvc_upsample2(*phone, feats, T, D);
    }
    *frames = 2 * T;
    *dim = D;
    free(feats); free(blend);
    return rc;
}

static void tap_pitch(const rvc_hooks *h, int k, const int64_t *pitch, const float *nsf, int p_len)
{
    chunk_tap(h, k, "nsff0", nsf, (size_t)p_len);
    float *pf = malloc(sizeof(float) * (size_t)p_len + 1);
    for (int t = 0; pf && t < p_len; t++) pf[t] = (float)pitch[t];
    if (pf) chunk_tap(h, k, "pitch", pf, (size_t)p_len);
    free(pf);
}

static int convert_chunk(const rvc_voice *v, const double *audio, size_t len, const int64_t *pitch, const double *pitchf,
                         int max_frames, const rvc_params *p, const rvc_hooks *h, int k, chunk_out *out, vc_error *err)
{
    float *x = malloc(sizeof(float) * len), *phone = NULL, *phone0 = NULL, *nsf = NULL;
    int frames = 0, D = 0, rc = x ? 0 : vc_fail(err, VC_ERR_NOMEM, "oom");
    for (size_t i = 0; rc == 0 && i < len; i++) x[i] = (float)audio[i];
    if (rc == 0) { chunk_tap(h, k, "hubert_input", x, len); rc = chunk_features(v, x, (int)len, p, &phone, &phone0, &frames, &D, h, k, err); }
    int p_len = (int)(len / WINDOW) < frames ? (int)(len / WINDOW) : frames;
    if (p_len > max_frames) p_len = max_frames;
    if (rc == 0 && !(nsf = malloc(sizeof(float) * (size_t)p_len + 1))) rc = vc_fail(err, VC_ERR_NOMEM, "oom");
    for (int t = 0; rc == 0 && pitchf && t < p_len; t++) { /* no-f0 models: no pitch, no protect */
        nsf[t] = (float)pitchf[t];
        if (p->protect < 0.5) { /* voiceless frames keep more of the unretrieved features */
            float keep = pitchf[t] >= 1 ? 1.0f : (float)p->protect; /* official: >0 → 1, then <1 → protect */
            for (int d = 0; d < D; d++) phone[(size_t)t * D + d] = phone[(size_t)t * D + d] * keep + phone0[(size_t)t * D + d] * (1 - keep);
        }
    }
    const rvc_synth_config *c = rvc_synth_get_config(v->synth);
    int hop = 1;
    for (int i = 0; i < c->n_ups; i++) hop *= c->upsample_rates[i];
    rvc_noise noise = {NULL, NULL, 1234 + (unsigned long long)k, h ? h->cancelled : NULL, h ? h->ctx : NULL};
    if (h && h->noise) h->noise(h->ctx, k, p_len, &noise);
    out->n = (size_t)p_len * hop;
    out->audio = rc == 0 ? malloc(sizeof(float) * out->n + 1) : NULL;
    if (rc == 0 && !out->audio) rc = vc_fail(err, VC_ERR_NOMEM, "oom");
    if (rc == 0) {
        chunk_tap(h, k, "phone", phone, (size_t)p_len * D);
        if (pitch) tap_pitch(h, k, pitch, nsf, p_len);
        rc = rvc_synth_infer(v->synth, phone, pitch, pitch ? nsf : NULL, p_len, p->sid, &noise, out->audio, NULL, NULL, err);
    }
    if (rc == 0) chunk_tap(h, k, "audio", out->audio, out->n);
    free(x); free(phone); free(phone0); free(nsf);
    return rc;
}

/* ---- loudness envelope and output ----------------------------------------------------------- */

/* librosa.feature.rms(y, frame_length = 2·(sr/2), hop = sr/2), centred with zero padding */
static double *frame_rms(const float *xf, const double *xd, size_t n, int sr, size_t *frames)
{
    size_t hop = (size_t)sr / 2, fl = 2 * hop, pad = fl / 2;
    *frames = 1 + n / hop;
    double *r = malloc(sizeof(double) * *frames);
    for (size_t f = 0; r && f < *frames; f++) {
        double s = 0;
        for (size_t i = 0; i < fl; i++) {
            long j = (long)(f * hop + i) - (long)pad;
            double v = (j < 0 || (size_t)j >= n) ? 0.0 : (xd ? xd[j] : xf[j]);
            s += v * v;
        }
        r[f] = sqrt(s / (double)fl);
    }
    return r;
}

/* out ← out · rms_in^(1−rate) · rms_out^(rate−1): the input's loudness contour, by rate */
static int mix_rms(const double *in, size_t n_in, float *out, size_t n_out, int sr_out, double rate, vc_error *err)
{
    size_t m1, m2;
    double *r1 = frame_rms(NULL, in, n_in, SR, &m1), *r2 = frame_rms(out, NULL, n_out, sr_out, &m2);
    if (!r1 || !r2) { free(r1); free(r2); return vc_fail(err, VC_ERR_NOMEM, "oom"); }
    for (size_t i = 0; i < n_out; i++) {
        double a = nn_interp_linear_at(r1, m1, n_out, i), b = nn_interp_linear_at(r2, m2, n_out, i);
        b = b > 1e-6 ? b : 1e-6;
        out[i] = (float)(out[i] * (pow(a, 1 - rate) * pow(b, rate - 1)));
    }
    free(r1); free(r2);
    return 0;
}

static int16_t *to_int16(const float *x, size_t n)
{
    float peak = 0;
    for (size_t i = 0; i < n; i++) peak = fabsf(x[i]) > peak ? fabsf(x[i]) : peak;
    float scale = 32768.0f, over = peak / 0.99f;
    if (over > 1) scale /= over;
    int16_t *y = malloc(sizeof(int16_t) * (n ? n : 1));
    for (size_t i = 0; y && i < n; i++) {
        float v = x[i] * scale;
        y[i] = (int16_t)(v > 32767.0f ? 32767 : v < -32768.0f ? -32768 : (int)v);
    }
    return y;
}

/* The official `if tgt_sr != resample_sr >= 16000: librosa.resample(...)` (soxr HQ, librosa's
 * default), after the loudness mixing and before the int16 conversion. */
static int resample_output(float **all, size_t *n, int from, int to, vc_error *err)
{
    audio_buffer in = {*all, *n, from}, out = {0};
    if (audio_resample(&in, to, &out, err) != 0) return -1;
    free(*all);
    *all = out.samples;
    *n = out.frames;
    return 0;
}

int rvc_output_rate(const rvc_voice *v, const rvc_params *p)
{
    int sr = rvc_synth_get_config(v->synth)->sr;
    return p->resample_sr >= 16000 && p->resample_sr != sr ? p->resample_sr : sr;
}

/* ---- the pipeline -------------------------------------------------------------------------- */

static int append(float **all, size_t *n, const float *x, size_t len, vc_error *err)
{
    float *grown = realloc(*all, sizeof(float) * (*n + len + 1));
    if (!grown) return vc_fail(err, VC_ERR_NOMEM, "oom");
    memcpy(grown + *n, x, sizeof(float) * len);
    *all = grown;
    *n += len;
    return 0;
}

int rvc_convert(const rvc_voice *v, const double *audio, size_t n, const rvc_params *p, const rvc_hooks *h,
                int16_t **out, size_t *out_n, vc_error *err)
{
    *out = NULL;
    *out_n = 0;
    const rvc_synth_config *c = rvc_synth_get_config(v->synth);
    int feat_dim = v->version == 1 ? v->hubert->final_dim : v->hubert->embed;
    if (feat_dim != c->phone_dim)
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "the voice model expects %d-dim content features but HuBERT gives %d (v1/v2 mismatch?)",
                       c->phone_dim, feat_dim);
    if (n < 32) return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "the audio is too short to convert");
    size_t t_pad = (size_t)(SR * p->x_pad), t_pad_tgt = (size_t)(c->sr * p->x_pad), ts[4096];
    double b[6], a[6];
    iir_butter_highpass(5, 48.0, SR, b, a);
    tap(h, "bh", b, 6);
    tap(h, "ah", a, 6);
    double *filtered = malloc(sizeof(double) * (n ? n : 1)), *pad = NULL, *pitchf = NULL;
    int64_t *pitch = NULL;
    float *all = NULL;
    size_t total = 0, n_ts = 0;
    int rc = filtered ? iir_filtfilt(b, a, 5, audio, n, filtered, err) : vc_fail(err, VC_ERR_NOMEM, "oom");
    if (rc == 0) {
        tap(h, "audio_filtered", filtered, n);
        n_ts = split_points(filtered, n, p, ts, sizeof ts / sizeof ts[0]);
        pad = reflect_pad(filtered, n, t_pad);
        if (c->f0) { /* models without pitch skip RMVPE altogether */
            pitch = malloc(sizeof(int64_t) * ((n + 2 * t_pad) / WINDOW + 1));
            pitchf = malloc(sizeof(double) * ((n + 2 * t_pad) / WINDOW + 1));
        }
        if (!pad || (c->f0 && (!pitch || !pitchf))) rc = vc_fail(err, VC_ERR_NOMEM, "oom");
    }
    size_t N = n + 2 * t_pad, p_len = N / WINDOW;
    if (rc == 0 && c->f0) { tap(h, "f0.input_audio_pad", pad, N); rc = compute_pitch(v, pad, N, p, pitch, pitchf, h, err); }
    size_t s = 0;
    for (size_t i = 0; rc == 0 && i <= n_ts; i++) {
        int last = i == n_ts;
        size_t t = last ? 0 : ts[i] / WINDOW * WINDOW, start = last ? (n_ts ? ts[n_ts - 1] / WINDOW * WINDOW : 0) : s;
        size_t end = last ? N : t + 2 * t_pad + WINDOW, f_end = last ? p_len : (t + 2 * t_pad) / WINDOW;
        if (h && h->progress && h->progress(h->ctx, "converting", (double)i / (double)(n_ts + 1))) { rc = vc_fail(err, VC_ERR_CANCELLED, "conversion cancelled"); break; }
        chunk_out co = {0};
        rc = convert_chunk(v, pad + start, end - start, pitch ? pitch + start / WINDOW : NULL,
                           pitchf ? pitchf + start / WINDOW : NULL,
                           (int)(f_end - start / WINDOW), p, h, (int)i, &co, err);
        if (rc == 0 && co.n > 2 * t_pad_tgt) rc = append(&all, &total, co.audio + t_pad_tgt, co.n - 2 * t_pad_tgt, err);
        free(co.audio);
        s = t;
    }
    if (rc == 0 && p->rms_mix_rate != 1) rc = mix_rms(filtered, n, all, total, c->sr, p->rms_mix_rate, err);
    if (rc == 0 && rvc_output_rate(v, p) != c->sr) rc = resample_output(&all, &total, c->sr, p->resample_sr, err);
    if (rc == 0) {
        *out = to_int16(all, total);
        *out_n = total;
        if (!*out) rc = vc_fail(err, VC_ERR_NOMEM, "oom");
    }
    free(filtered); free(pad); free(pitch); free(pitchf); free(all);
    return rc;
}
