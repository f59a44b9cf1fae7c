/*
 * The quality report as JSON (see audio_json.h).
 */
#include <math.h>

#include "audio/audio_json.h"

/* JSON has no NaN or infinity: those become null. */
static json_t *number_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

json_t *audio_quality_json(const audio_quality *q)
{
    return json_pack("{s:o, s:i, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:s, s:s}", "duration_seconds",
                     number_or_null(q->duration_seconds), "sample_rate", q->sample_rate, "snr_db",
                     number_or_null(q->snr_db), "voice_activity_percent", number_or_null(q->voice_activity_percent),
                     "background_noise_level", q->background_noise_level, "noise_floor_dbfs",
                     number_or_null(q->noise_floor_dbfs), "clipping_percent", number_or_null(q->clipping_percent),
                     "loudness_lufs", number_or_null(q->loudness_lufs), "peak_dbfs", number_or_null(q->peak_dbfs),
                     "quality_grade", q->quality_grade, "recommendation", q->recommendation);
}
