/*
 * The best 3–12 s of a recording to clone a voice from (audio.h audio_best_window).
 *
 * Why: F5-TTS hears at most 12 s of reference, and whatever is in it (a cough, a clipped
 * shout, a room tone burst, long silences) is copied into the speech it generates. Taking the
 * first 12 s of a training recording takes whatever the speaker did first.
 *
 * How: audio_analyze's speech detection frame by frame (audio_analyze_frames), then each 10 ms
 * frame gets a worth: clean speech +0.5…+1 (by its SNR), silence a small cost (dense speech
 * wins over a window that is half pauses), noise-like "speech" (spectral flatness of white
 * noise) and clipped frames a large cost. Windows start and end in pauses (runs of non-speech
 * of at least PAUSE_SECONDS), so no word is cut and the recording's first/last partial word
 * (speech touching its edge) is never taken while a pause-bounded window exists. A window's
 * worth is a difference of prefix sums; each pause pairs with the few pauses within 12 s after
 * it, so the search is linear in the recording's frames.
 */
#include "audio/audio.h"

#include <math.h>
#include <stdlib.h>

#define PAUSE_SECONDS 0.15     /* a gap between words this long is a safe place to cut */
#define LEAD_SECONDS 0.10      /* silence kept before the first word and after the last */
#define NOISE_FLATNESS 0.40f   /* voiced speech stays well under; white noise is ~0.56 */
#define SNR_FULL_DB 40.0       /* speech this far above the noise floor is worth the full +1 */
#define WORTH_SILENCE (-0.3)
#define WORTH_NOISE (-0.5)
#define WORTH_CLIPPED (-4.0)
#define EDGE_PENALTY_SECONDS 2.0     /* a window ending at the recording's edge, mid-word perhaps */
#define HARD_CUT_PENALTY_SECONDS 4.0 /* no pause within 12 s: cut in speech */

typedef struct pause_run { size_t from, to; int edge; } pause_run; /* frames [from, to) */

typedef struct window_search {
    const audio_frames *fr;
    double frame_seconds;
    double *prefix; /* prefix[f] = worth of frames [0, f), in seconds of clean speech */
    size_t *speech; /* speech frames in [0, f) */
    pause_run *pauses;
    size_t n_pauses;
    size_t lead, min_span, max_len; /* frames */
} window_search;

static double frame_worth(const audio_frames *fr, size_t f)
{
    if (fr->clipped[f]) return WORTH_CLIPPED;
    if (!fr->speech[f]) return WORTH_SILENCE;
    if (fr->flatness[f] >= NOISE_FLATNESS) return WORTH_NOISE;
    double snr = fmin(fmax(fr->snr_db[f], 0.0), SNR_FULL_DB);
    return 0.5 + 0.5 * snr / SNR_FULL_DB;
}

/* Pauses in order; the recording's edges count as (penalised) boundaries when speech touches them. */
static int find_pauses(window_search *w)
{
    const audio_frames *fr = w->fr;
    size_t min_pause = (size_t)ceil(PAUSE_SECONDS / w->frame_seconds);
    w->pauses = malloc(sizeof(pause_run) * (fr->count / 2 + 3));
    if (!w->pauses) return -1;
    w->n_pauses = 0;
    if (fr->count && fr->speech[0]) w->pauses[w->n_pauses++] = (pause_run){0, 0, 1}; /* starts mid-word */
    size_t f = 0;
    while (f < fr->count) {
        size_t from = f;
        if (fr->speech[f]) {
            while (f < fr->count && fr->speech[f]) f++;
            if (f == fr->count) w->pauses[w->n_pauses++] = (pause_run){f, f, 1}; /* ends mid-word */
            continue;
        }
        while (f < fr->count && !fr->speech[f]) f++;
        if (f - from >= min_pause) w->pauses[w->n_pauses++] = (pause_run){from, f, 0};
        else if (from == 0) w->pauses[w->n_pauses++] = (pause_run){0, 0, 1}; /* too short a lead to trust */
        else if (f == fr->count) w->pauses[w->n_pauses++] = (pause_run){f, f, 1};
    }
    return 0;
}

/* Window from pause i to pause j: LEAD of each pause kept, as far as the pause reaches. */
static void window_between(const window_search *w, const pause_run *a, const pause_run *b, size_t *s, size_t *e)
{
    *s = a->to - a->from > w->lead ? a->to - w->lead : a->from;
    *e = b->to - b->from > w->lead ? b->from + w->lead : b->to;
}

static void consider(const window_search *w, size_t s, size_t e, double penalty, int at_pauses, audio_window *best,
                     int *found)
{
    double score = w->prefix[e] - w->prefix[s] - penalty;
    if (*found && score <= best->score) return; /* ties: the earlier window, so the choice is deterministic */
    *found = 1;
    best->start = s;
    best->end = e;
    best->score = score;
    best->speech_seconds = (double)(w->speech[e] - w->speech[s]) * w->frame_seconds;
    best->at_pauses = at_pauses;
}

static void search_pairs(const window_search *w, audio_window *best, int *found)
{
    for (size_t i = 0; i < w->n_pauses; i++) {
        const pause_run *a = &w->pauses[i];
        for (size_t j = i + 1; j < w->n_pauses; j++) {
            const pause_run *b = &w->pauses[j];
            size_t s, e;
            window_between(w, a, b, &s, &e);
            if (e - s > w->max_len) break; /* later pauses only make it longer */
            if (b->from - a->to < w->min_span) continue;
            double penalty = (a->edge + b->edge) * EDGE_PENALTY_SECONDS;
            consider(w, s, e, penalty, !a->edge && !b->edge, best, found);
        }
    }
}

/* Speech without a pause for 12 s: the 12 s after some boundary, cut in the speech. */
static void search_hard_cuts(const window_search *w, audio_window *best, int *found)
{
    for (size_t i = 0; i < w->n_pauses; i++) {
        size_t s = w->pauses[i].to - w->pauses[i].from > w->lead ? w->pauses[i].to - w->lead : w->pauses[i].from;
        size_t e = s + w->max_len < w->fr->count ? s + w->max_len : w->fr->count;
        if (w->speech[e] - w->speech[s] < w->min_span) continue;
        consider(w, s, e, HARD_CUT_PENALTY_SECONDS + w->pauses[i].edge * EDGE_PENALTY_SECONDS, 0, best, found);
    }
}

static int prepare(window_search *w)
{
    const audio_frames *fr = w->fr;
    w->prefix = malloc(sizeof(double) * (fr->count + 1));
    w->speech = malloc(sizeof(size_t) * (fr->count + 1));
    if (!w->prefix || !w->speech) return -1;
    w->prefix[0] = 0;
    w->speech[0] = 0;
    for (size_t f = 0; f < fr->count; f++) {
        w->prefix[f + 1] = w->prefix[f] + frame_worth(fr, f) * w->frame_seconds;
        w->speech[f + 1] = w->speech[f] + (fr->speech[f] != 0);
    }
    return find_pauses(w);
}

int audio_best_window_frames(const audio_frames *fr, int sample_rate, size_t total_samples, audio_window *out,
                             vc_error *err)
{
    if (sample_rate <= 0 || fr->hop <= 0) return vc_fail(err, VC_ERR_INVALID_REQUEST, "invalid sample rate");
    window_search w = {.fr = fr, .frame_seconds = (double)fr->hop / sample_rate};
    w.lead = (size_t)lround(LEAD_SECONDS / w.frame_seconds);
    w.min_span = (size_t)ceil(AUDIO_WINDOW_MIN_SECONDS / w.frame_seconds);
    /* one frame short of 12 s, so a resampled copy (a sample longer, perhaps) is still within F5-TTS's
     * 12 s and its clip never cuts it again */
    w.max_len = (size_t)floor(AUDIO_WINDOW_MAX_SECONDS / w.frame_seconds) - 1;
    int found = 0, rc = fr->count ? prepare(&w) : 0;
    double speech_seconds = fr->count && rc == 0 ? (double)w.speech[fr->count] * w.frame_seconds : 0;
    if (rc == 0 && speech_seconds >= AUDIO_WINDOW_MIN_SECONDS) {
        search_pairs(&w, out, &found);
        if (!found) search_hard_cuts(&w, out, &found);
    }
    free(w.prefix); free(w.speech); free(w.pauses);
    if (rc != 0) return vc_fail(err, VC_ERR_NOMEM, "out of memory choosing a reference window");
    if (speech_seconds < AUDIO_WINDOW_MIN_SECONDS)
        return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "the recording holds only %.1f s of speech; at least %.0f s are needed "
                                                    "(10-30 s works best): record or upload a longer one",
                       speech_seconds, AUDIO_WINDOW_MIN_SECONDS);
    if (!found)
        return vc_fail(err, VC_ERR_AUDIO_TOO_SHORT, "the recording has no stretch of %.0f s of speech between pauses: "
                                                    "record or upload one with longer sentences",
                       AUDIO_WINDOW_MIN_SECONDS);
    out->start = out->start * (size_t)fr->hop;
    out->end = out->end * (size_t)fr->hop < total_samples ? out->end * (size_t)fr->hop : total_samples;
    return 0;
}

int audio_best_window(const audio_buffer *in, audio_window *out, vc_error *err)
{
    audio_frames fr;
    if (audio_analyze_frames(in, &fr, err) != 0) return -1;
    int rc = audio_best_window_frames(&fr, in->sample_rate, in->frames, out, err);
    audio_frames_free(&fr);
    return rc;
}
