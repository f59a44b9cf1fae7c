/*
 * voiceclone analyze FILE [--json]: the quality report of a recording, with the same fields
 * (and the same code) as the API's quality_analysis.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audio/audio.h"
#include "cli/cli.h"

static json_t *report_json(const audio_quality *q, const audio_file_info *info)
{
    json_t *j = json_pack("{s:f,s:i,s:f,s:f,s:s,s:f,s:f,s:f,s:s,s:s,s:s,s:i}", "duration_seconds", q->duration_seconds,
                          "sample_rate", q->sample_rate, "snr_db", q->snr_db, "voice_activity_percent",
                          q->voice_activity_percent, "background_noise_level", q->background_noise_level,
                          "clipping_percent", q->clipping_percent, "loudness_lufs", q->loudness_lufs, "peak_dbfs",
                          q->peak_dbfs, "quality_grade", q->quality_grade, "recommendation", q->recommendation,
                          "format", info->format, "channels", info->channels);
    if (info->warning[0]) json_object_set_new(j, "warning", json_string(info->warning));
    return j;
}

int cmd_analyze(int argc, char **argv)
{
    const char *path = NULL;
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) as_json = 1;
        else if (!path) path = argv[i];
        else { fprintf(stderr, "usage: voiceclone analyze FILE [--json]\n"); return 2; }
    }
    if (!path) { fprintf(stderr, "usage: voiceclone analyze FILE [--json]\n"); return 2; }
    audio_buffer audio;
    audio_file_info info;
    audio_quality q;
    vc_error err = {0};
    if (audio_decode_file(path, &audio, &info, &err) != 0 || audio_analyze(&audio, &q, &err) != 0) {
        fprintf(stderr, "voiceclone analyze: %s: %s\n", vc_code_name(err.code), err.message);
        audio_buffer_free(&audio);
        return 1;
    }
    audio_buffer_free(&audio);
    if (as_json) {
        json_t *j = report_json(&q, &info);
        char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(4));
        puts(text ? text : "{}");
        free(text);
        json_decref(j);
        return 0;
    }
    printf("%s: %.1f s, %s, %d Hz, %d channel(s)\n", path, q.duration_seconds, info.format, info.sample_rate, info.channels);
    printf("  quality grade      %s  (SNR %.1f dB)\n", q.quality_grade, q.snr_db);
    printf("  voice activity     %.0f %%\n", q.voice_activity_percent);
    printf("  background noise   %s (%.1f dBFS)\n", q.background_noise_level, q.noise_floor_dbfs);
    printf("  clipping           %.2f %%\n", q.clipping_percent);
    printf("  loudness           %.1f LUFS (peak %.1f dBFS)\n", q.loudness_lufs, q.peak_dbfs);
    printf("  recommendation     %s\n", q.recommendation);
    if (info.warning[0]) printf("  warning            %s\n", info.warning);
    return 0;
}
