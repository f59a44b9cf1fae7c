/* Speech recognition for the quick clone (contract: whisper_clone.h). */
#include "models/whisper/whisper_clone.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int whisper_text_of(const whisper_engine *e, const audio_buffer *in, char **text, vc_error *err)
{
    whisper_transcribe_options o;
    whisper_transcribe_options_default(&o);
    whisper_transcript t;
    if (whisper_transcribe_buffer(e, in, &o, &t, err) != 0) return -1;
    const char *s = t.text;
    while (*s == ' ') s++;
    *text = strdup(s);
    whisper_transcript_free(&t);
    return *text ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
}

static int need_speech(char **text, const char *what, vc_error *err)
{
    if (**text) return 0;
    free(*text);
    *text = NULL;
    return vc_fail(err, VC_ERR_QUALITY_TOO_LOW, "no speech found in the %s", what);
}

int whisper_clone_reference_text(const whisper_engine *e, audio_buffer *ref, f5tts_params *fp, char **text, vc_error *err)
{
    if (whisper_clone_clip_reference(ref, fp, err) != 0 || whisper_text_of(e, ref, text, err) != 0) return -1;
    return need_speech(text, "reference clip", err);
}

int whisper_clone_target_text(const whisper_engine *e, const audio_buffer *target, char **text, vc_error *err)
{
    if (whisper_text_of(e, target, text, err) != 0) return -1;
    return need_speech(text, "target recording", err);
}

int whisper_clone_clip_reference(audio_buffer *ref, f5tts_params *fp, vc_error *err)
{
    if (!fp->clip_reference && ref->sample_rate == F5_SAMPLE_RATE) return 0; /* already done */
    audio_buffer clipped = {0};
    if (audio_resample(ref, F5_SAMPLE_RATE, &clipped, err) != 0) return -1;
    if (fp->clip_reference && f5tts_clip_reference(&clipped, err) != 0) { audio_buffer_free(&clipped); return -1; }
    audio_buffer_free(ref);
    *ref = clipped;
    fp->clip_reference = 0;
    return 0;
}

/* ---- speech to speech with the target's timing ---- */

static double rms_of(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0;
}

static const char *skip_spaces(const char *s)
{
    while (*s == ' ') s++;
    return s;
}

int whisper_clone_read_target(const whisper_engine *e, const audio_buffer *target, whisper_clone_target *t, vc_error *err)
{
    memset(t, 0, sizeof *t);
    whisper_transcribe_options o;
    whisper_transcribe_options_default(&o);
    if (whisper_transcribe_buffer(e, target, &o, &t->transcript, err) != 0) return -1;
    t->seconds = (double)target->frames / target->sample_rate;
    t->rms = rms_of(target->samples, target->frames);
    t->text = strdup(skip_spaces(t->transcript.text));
    if (!t->text) { whisper_clone_target_free(t); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
    if (!t->text[0]) { whisper_clone_target_free(t); return vc_fail(err, VC_ERR_QUALITY_TOO_LOW, "no speech found in the target recording"); }
    return 0;
}

void whisper_clone_target_free(whisper_clone_target *t)
{
    whisper_transcript_free(&t->transcript);
    free(t->text);
    memset(t, 0, sizeof *t);
}

/* F5-TTS's duration rule (f5_duration_frames): generated frames = ref_frames / ref_bytes ·
 * gen_bytes / speed. The speed that makes `frames` frames, within F5-TTS's 0.3 … 3. */
static float speed_for(size_t ref_frames, size_t ref_bytes, size_t gen_bytes, double frames)
{
    double s = frames > 0 && ref_bytes ? (double)ref_frames / (double)ref_bytes * (double)gen_bytes / frames : 1.0;
    return (float)(s < 0.3 ? 0.3 : s > 3.0 ? 3.0 : s);
}

/* Adds wave (fitted to n samples: cut or left short, 10 ms fades at both ends) into out at `at`. */
static void place(audio_buffer *out, size_t at, const float *wave, size_t len, size_t n)
{
    size_t fade = F5_SAMPLE_RATE / 100, m = len < n ? len : n;
    for (size_t i = 0; i < m && at + i < out->frames; i++) {
        double g = 1.0;
        if (i < fade) g = (double)i / fade;
        if (m - i <= fade) g = fmin(g, (double)(m - i) / fade);
        out->samples[at + i] += (float)(wave[i] * g);
    }
}

typedef struct seg_progress {
    f5tts_progress_fn fn;
    void *ctx;
    int seg, n_segs;
} seg_progress;

/* F5-TTS reports chunk 0 of 1 for each segment: report segment i of n instead. */
static int on_segment_progress(void *ctx, f5tts_phase phase, int chunk, int chunks, int step, int steps)
{
    seg_progress *p = ctx;
    return p->fn ? p->fn(p->ctx, phase, p->seg, p->n_segs, phase == F5_PHASE_VOCODING ? steps : step, steps) : 0;
}

static int speak_segment(const f5tts_engine *f5, const audio_buffer *ref, const char *ref_text, const whisper_segment *g,
                         const f5tts_params *fp, seg_progress *sp, audio_buffer *out, vc_error *err)
{
    const char *text = skip_spaces(g->text);
    double end = fmin(g->end, (double)out->frames / F5_SAMPLE_RATE), span = end - g->start;
    if (!*text || span < 0.1) return 0;
    f5tts_params p = *fp;
    size_t ref_frames = ref->frames / F5_HOP + 1, n = (size_t)(span * F5_SAMPLE_RATE);
    p.speed = speed_for(ref_frames, strlen(ref_text) + 1, strlen(text), span * F5_SAMPLE_RATE / F5_HOP);
    audio_buffer wave = {0};
    if (f5tts_synthesize(f5, ref, ref_text, text, &p, on_segment_progress, sp, &wave, NULL, NULL, err) != 0) return -1;
    place(out, (size_t)(g->start * F5_SAMPLE_RATE), wave.samples, wave.frames, n);
    audio_buffer_free(&wave);
    return 0;
}

int whisper_clone_speak_timed(const f5tts_engine *f5, const audio_buffer *ref, const char *ref_text,
                              const whisper_clone_target *t, const f5tts_params *fp, f5tts_progress_fn progress, void *ctx,
                              audio_buffer *out, vc_error *err)
{
    out->sample_rate = F5_SAMPLE_RATE;
    out->frames = (size_t)(t->seconds * F5_SAMPLE_RATE);
    out->samples = calloc(out->frames + 1, sizeof(float));
    if (!out->samples) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    seg_progress sp = {progress, ctx, 0, t->transcript.n_segments};
    for (int i = 0; i < t->transcript.n_segments; i++) {
        sp.seg = i;
        if (speak_segment(f5, ref, ref_text, &t->transcript.segments[i], fp, &sp, out, err) != 0) { audio_buffer_free(out); return -1; }
    }
    double r = rms_of(out->samples, out->frames); /* loudness of the original */
    if (r > 0 && t->rms > 0)
        for (size_t i = 0; i < out->frames; i++) out->samples[i] = (float)fmax(-1.0, fmin(1.0, out->samples[i] * t->rms / r));
    return 0;
}
