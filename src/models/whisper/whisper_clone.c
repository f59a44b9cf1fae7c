/* Speech recognition for the quick clone (contract: whisper_clone.h). */
#include "models/whisper/whisper_clone.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_dsp.h"

/* Below these the recording is treated as silence: under 1 % of 10 ms frames above the noise
 * floor (audio_analyze's voice activity), or a peak under -50 dBFS. */
#define MIN_ACTIVITY_PERCENT 1.0
#define MIN_PEAK_DBFS (-50.0)

int whisper_clone_check_reference(const audio_buffer *clip, vc_error *err)
{
    double seconds = clip->sample_rate > 0 ? (double)clip->frames / clip->sample_rate : 0;
    if (seconds >= WHISPER_CLONE_MIN_REF_SECONDS) return 0;
    return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT,
                   "the voice sample holds only %.1f s of sound after trimming silence; at least %.0f s are needed "
                   "(10-30 s works best): record or upload a longer sample",
                   seconds, WHISPER_CLONE_MIN_REF_SECONDS);
}

int whisper_clone_has_sound(const audio_buffer *in, vc_error *err)
{
    if (!in->frames) return 0;
    audio_quality q;
    if (audio_analyze(in, &q, err) != 0) return -1;
    return q.voice_activity_percent >= MIN_ACTIVITY_PERCENT && q.peak_dbfs > MIN_PEAK_DBFS;
}

/* Length of the UTF-8 music symbol at s (♩ ♪ ♫ ♬, 🎵 🎶), 0 if none. */
static size_t music_symbol(const unsigned char *s)
{
    if (s[0] == 0xE2 && s[1] == 0x99 && s[2] >= 0xA9 && s[2] <= 0xAC) return 3;
    if (s[0] == 0xF0 && s[1] == 0x9F && s[2] == 0x8E && (s[3] == 0xB5 || s[3] == 0xB6)) return 4;
    return 0;
}

int whisper_clone_is_nonspeech(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    char close = 0; /* inside an annotation until this character */
    while (*s) {
        size_t m = music_symbol(s);
        if (m) { s += m; continue; }
        if (close) { if (*s == close) close = 0; s++; continue; }
        if (*s == '[') close = ']';
        else if (*s == '(') close = ')';
        else if (*s == '*') close = '*';
        else if (*s == 0xE2 && s[1] == 0x80) { s += s[2] ? 3 : 2; continue; } /* general punctuation (… – “ ”) */
        else if (*s >= 0x80 || (*s >= '0' && *s <= '9') || ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z')) return 0;
        s++;
    }
    return 1;
}

static const char *skip_spaces(const char *s)
{
    while (*s == ' ') s++;
    return s;
}

typedef struct window_progress {
    whisper_clone_progress_fn fn;
    void *ctx;
    double done;
} window_progress;

static void on_window(void *ctx, const whisper_window *w)
{
    window_progress *p = ctx;
    p->done = fmin(1.0, w->content_frames > 0 ? (double)(w->seek + w->segment_size) / w->content_frames : 1.0);
    if (p->fn) p->fn(p->ctx, p->done);
}

static int on_step_stop(void *ctx)
{
    window_progress *p = ctx;
    return p->fn ? p->fn(p->ctx, p->done) : 0;
}

static int transcribe(const whisper_engine *e, const audio_buffer *in, whisper_clone_progress_fn progress, void *ctx,
                      whisper_transcript *t, vc_error *err)
{
    whisper_transcribe_options o;
    whisper_transcribe_options_default(&o);
    window_progress wp = {progress, ctx, 0};
    o.on_window = on_window;
    o.window_ctx = &wp;
    o.stop = on_step_stop;
    o.stop_ctx = &wp;
    return whisper_transcribe_buffer(e, in, &o, t, err);
}

int whisper_text_of(const whisper_engine *e, const audio_buffer *in, char **text, vc_error *err)
{
    whisper_transcript t;
    if (transcribe(e, in, NULL, NULL, &t, err) != 0) return -1;
    *text = strdup(skip_spaces(t.text));
    whisper_transcript_free(&t);
    return *text ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
}

int whisper_clone_reference_text(const whisper_engine *e, audio_buffer *ref, f5tts_params *fp, whisper_clone_progress_fn progress,
                                 void *ctx, char **text, vc_error *err)
{
    if (whisper_clone_clip_reference(ref, fp, err) != 0) return -1;
    whisper_transcript t;
    if (transcribe(e, ref, progress, ctx, &t, err) != 0) return -1;
    const char *s = skip_spaces(t.text);
    int words = !whisper_clone_is_nonspeech(s);
    *text = words ? strdup(s) : NULL;
    whisper_transcript_free(&t);
    if (!words) return vc_fail(err, VC_ERR_QUALITY_TOO_LOW, "no speech found in the voice sample: record or upload one of you speaking");
    return *text ? 0 : vc_fail(err, VC_ERR_NOMEM, "out of memory");
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

static const char NO_SPEECH[] = "no speech found in the target recording (it is silent or holds only music or noise): "
                                "upload or record someone speaking, or type the text instead";

/* t->text = the segments' words joined; "no speech found" when there are none. */
static int join_segments(whisper_clone_target *t, vc_error *err)
{
    size_t len = 1;
    for (int i = 0; i < t->transcript.n_segments; i++) len += strlen(t->transcript.segments[i].text) + 1;
    free(t->text);
    if (!(t->text = malloc(len))) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    t->text[0] = 0;
    for (int i = 0; i < t->transcript.n_segments; i++) {
        const char *w = skip_spaces(t->transcript.segments[i].text);
        if (!*w) continue;
        if (t->text[0]) strcat(t->text, " ");
        strcat(t->text, w);
    }
    return t->text[0] ? 0 : vc_fail(err, VC_ERR_QUALITY_TOO_LOW, NO_SPEECH);
}

static void measure_target(const audio_buffer *target, whisper_clone_target *t)
{
    t->seconds = (double)target->frames / target->sample_rate;
    t->lufs = audio_integrated_loudness(target);
}

int whisper_clone_read_target(const whisper_engine *e, const audio_buffer *target, whisper_clone_progress_fn progress,
                              void *ctx, whisper_clone_target *t, vc_error *err)
{
    memset(t, 0, sizeof *t);
    int sound = whisper_clone_has_sound(target, err);
    if (sound <= 0) return sound < 0 ? -1 : vc_fail(err, VC_ERR_QUALITY_TOO_LOW, NO_SPEECH);
    if (transcribe(e, target, progress, ctx, &t->transcript, err) != 0) return -1;
    measure_target(target, t);
    for (int i = 0; i < t->transcript.n_segments; i++) {
        whisper_segment *g = &t->transcript.segments[i];
        /* timestamps can run past the end of the audio (the last window is padded to 30 s) */
        g->start = fmin(g->start, t->seconds);
        g->end = fmin(fmax(g->end, g->start), t->seconds);
        if (whisper_clone_is_nonspeech(g->text) || g->end <= g->start) g->text[0] = 0; /* "[Music]", "♪": nothing to say */
    }
    if (join_segments(t, err) != 0) { whisper_clone_target_free(t); return -1; }
    return 0;
}

int whisper_clone_target_from_segments(const audio_buffer *target, int n, const double *start, const double *end,
                                       const char *const *text, whisper_clone_target *t, vc_error *err)
{
    memset(t, 0, sizeof *t);
    measure_target(target, t);
    if (n < 1 || n > 10000) return vc_fail(err, VC_ERR_INVALID_REQUEST, "target_segments: 1 to 10000 segments");
    if (!(t->transcript.segments = calloc((size_t)n, sizeof *t->transcript.segments))) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    t->transcript.n_segments = n;
    for (int i = 0; i < n; i++) {
        whisper_segment *g = &t->transcript.segments[i];
        *g = (whisper_segment){.id = i, .start = start[i], .end = end[i], .text = strdup(text[i])};
        if (!g->text) { whisper_clone_target_free(t); return vc_fail(err, VC_ERR_NOMEM, "out of memory"); }
        if (!(start[i] >= 0 && end[i] >= start[i] && start[i] < t->seconds + 0.05)) {
            whisper_clone_target_free(t);
            return vc_fail(err, VC_ERR_INVALID_REQUEST, "target_segments[%d]: start %.2f, end %.2f must lie within the %.2f s recording",
                           i, start[i], end[i], t->seconds);
        }
    }
    if (join_segments(t, err) != 0) {
        whisper_clone_target_free(t);
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "target_segments hold no text: say what the recording should say, or leave "
                                                    "target_segments out to transcribe it");
    }
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

/* Speaks segment g in its time span of the target (total: the target's frames); wave stays
 * empty when it holds no words. */
static int speak_segment(const f5tts_engine *f5, const audio_buffer *ref, const char *ref_text, const whisper_segment *g,
                         const f5tts_params *fp, seg_progress *sp, size_t total, audio_buffer *wave, vc_error *err)
{
    const char *text = skip_spaces(g->text);
    double end = fmin(g->end, (double)total / F5_SAMPLE_RATE), span = end - g->start;
    if (!*text || span < 0.1) return 0;
    f5tts_params p = *fp;
    size_t ref_frames = ref->frames / F5_HOP + 1;
    p.speed = speed_for(ref_frames, strlen(ref_text) + 1, strlen(text), span * F5_SAMPLE_RATE / F5_HOP);
    return f5tts_synthesize(f5, ref, ref_text, text, &p, on_segment_progress, sp, wave, NULL, NULL, err);
}

/* The segments' speech on the target's timeline: pauses kept, joins cross-faded (audio_join_pieces). */
static int join_segments_audio(const whisper_clone_target *t, const audio_buffer *waves, size_t total, audio_buffer *out,
                               vc_error *err)
{
    int n = t->transcript.n_segments;
    audio_piece *pieces = calloc((size_t)n + 1, sizeof *pieces);
    if (!pieces) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        const whisper_segment *g = &t->transcript.segments[i];
        double end = fmin(g->end, (double)total / F5_SAMPLE_RATE);
        pieces[i] = (audio_piece){waves[i].samples, waves[i].frames, (size_t)(g->start * F5_SAMPLE_RATE),
                                  end > g->start ? (size_t)((end - g->start) * F5_SAMPLE_RATE) : 0};
    }
    int rc = audio_join_pieces(pieces, n, total, F5_SAMPLE_RATE, AUDIO_JOIN_FADE_SECONDS, out, err);
    free(pieces);
    return rc;
}

/* The joined speech: pitch shifted (same length), then at the original's loudness. */
static int finish(audio_buffer *out, double pitch_semitones, double target_lufs, vc_error *err)
{
    audio_buffer tmp = {0};
    if (pitch_semitones != 0.0) {
        if (audio_pitch_shift(out, pitch_semitones, &tmp, err) != 0) return -1;
        audio_buffer_free(out);
        *out = tmp;
    }
    if (target_lufs <= -69.0 || audio_integrated_loudness(out) <= -69.0) return 0; /* nothing to match */
    if (audio_normalize_loudness(out, target_lufs, -1.0, NULL, &tmp, err) != 0) return -1;
    audio_buffer_free(out);
    *out = tmp;
    return 0;
}

int whisper_clone_speak_timed(const f5tts_engine *f5, const audio_buffer *ref, const char *ref_text,
                              const whisper_clone_target *t, const f5tts_params *fp, double pitch_semitones,
                              f5tts_progress_fn progress, void *ctx, audio_buffer *out, vc_error *err)
{
    int n = t->transcript.n_segments;
    size_t total = (size_t)(t->seconds * F5_SAMPLE_RATE);
    audio_buffer *waves = calloc((size_t)n + 1, sizeof *waves);
    if (!waves) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    seg_progress sp = {progress, ctx, 0, n};
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        sp.seg = i;
        rc = speak_segment(f5, ref, ref_text, &t->transcript.segments[i], fp, &sp, total, &waves[i], err);
    }
    if (rc == 0) rc = join_segments_audio(t, waves, total, out, err);
    for (int i = 0; i < n; i++) audio_buffer_free(&waves[i]);
    free(waves);
    if (rc == 0) rc = finish(out, pitch_semitones, t->lufs, err);
    if (rc != 0) audio_buffer_free(out);
    return rc;
}
