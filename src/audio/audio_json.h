/*
 * The quality report as the API and the job results show it (the contract fields of the brief's
 * quality_analysis object). Lives with audio_analyze so that every layer above (jobs, server)
 * builds the same object without reaching sideways into another.
 */
#ifndef VC_AUDIO_JSON_H
#define VC_AUDIO_JSON_H

#include <jansson.h>

#include "audio/audio.h"

/* {duration_seconds, sample_rate, snr_db, voice_activity_percent, background_noise_level,
 *  noise_floor_dbfs, clipping_percent, loudness_lufs, peak_dbfs, quality_grade, recommendation};
 * a measurement that is not a finite number (silence's SNR) is null. New reference. */
json_t *audio_quality_json(const audio_quality *q);

#endif
