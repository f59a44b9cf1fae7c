/* Joining pieces of speech on a timeline with equal-power cross-fades (contract: audio_dsp.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio_dsp.h"

static int by_start(const void *a, const void *b)
{
    const audio_piece *x = a, *y = b;
    return (x->at > y->at) - (x->at < y->at);
}

/* Gain of sample i of a fade of f samples: sin(π/2 · t) at the sample's centre, so a fade-out
 * (the same curve read backwards, = cos) and a fade-in over the same samples sum to power 1. */
static double fade_gain(size_t i, size_t f) { return sin(M_PI / 2 * ((double)i + 0.5) / (double)f); }

/* Adds piece p (kept to `keep` samples, faded at both ends) into out. */
static void add_piece(audio_buffer *out, const audio_piece *p, size_t keep, size_t fade)
{
    size_t f = fade < keep / 2 ? fade : keep / 2;
    for (size_t i = 0; i < keep; i++) {
        double g = 1.0;
        if (i < f) g = fade_gain(i, f);
        else if (keep - i <= f) g = fade_gain(keep - 1 - i, f);
        out->samples[p->at + i] += (float)(p->wave[i] * g);
    }
}

int audio_join_pieces(const audio_piece *pieces, int n, size_t frames, int sample_rate, double fade_seconds,
                      audio_buffer *out, vc_error *err)
{
    if (n < 0 || sample_rate <= 0 || fade_seconds < 0) return vc_fail(err, VC_ERR_INTERNAL, "audio_join_pieces: bad arguments");
    audio_piece *sorted = malloc(((size_t)n + 1) * sizeof *sorted);
    out->samples = calloc(frames + 1, sizeof(float));
    if (!sorted || !out->samples) {
        free(sorted);
        audio_buffer_free(out);
        return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    }
    out->frames = frames;
    out->sample_rate = sample_rate;
    if (n > 0) memcpy(sorted, pieces, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, by_start);
    size_t fade = (size_t)lround(fade_seconds * sample_rate);
    for (int i = 0; i < n; i++) {
        const audio_piece *p = &sorted[i];
        if (p->at >= frames || !p->wave) continue;
        /* a piece reaching the next one runs one fade past the next one's start (their fades
         * overlap: a cross-fade); before a pause it ends with its span (the pause stays silent) */
        size_t limit = p->at + p->span;
        for (int j = i + 1; j < n; j++)
            if (sorted[j].at > p->at) { limit = sorted[j].at <= limit ? sorted[j].at + fade : limit; break; }
        size_t keep = p->len;
        if (keep > limit - p->at) keep = limit - p->at;
        if (keep > frames - p->at) keep = frames - p->at;
        add_piece(out, p, keep, fade);
    }
    free(sorted);
    return 0;
}
