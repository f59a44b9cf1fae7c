/*
 * libFuzzer target for audio decoding (libsndfile through src/audio/audio_io.c) with the limits an
 * upload runs under (src/server/uploads.c): the bytes become a file that is probed, checked from
 * its header against a purpose's longest duration and decoded size (audio_header_check), then
 * decoded with that purpose's frame budget. Crashes, leaks, undefined behaviour, a decode past the
 * budget or a stream outside the accepted channels/rates are findings. The first byte picks the
 * purpose (reference 30 s, training 10 min, target 30 min), so the small budgets are fuzzed too.
 * Built and run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "audio/audio.h"

static const double MAX_SECONDS[] = {30.0, 600.0, 1800.0};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    double max_seconds = MAX_SECONDS[data[0] % 3];
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/vcs-fuzz-audio-%d", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) { snprintf(path, sizeof path, "/tmp/vcs-fuzz-audio-%d", (int)getpid()); f = fopen(path, "wb"); }
    if (!f) return 0;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    audio_file_info info;
    vc_error err;
    if (audio_probe_file(path, &info, &err) == 0) {
        if (info.channels < 1 || info.channels > 64 || info.sample_rate < 1000 || info.sample_rate > 384000) abort();
        if (audio_header_check(&info, max_seconds) == VC_OK) {
            long long budget = audio_decode_budget(max_seconds);
            audio_buffer buf = {0};
            if (audio_decode_file_max(path, budget, &buf, &info, &err) == 0) {
                if ((long long)buf.frames > budget || buf.frames == 0 || !buf.samples) abort();
                volatile float sink = 0.f; /* every decoded sample is readable (ASan checks the extent) */
                for (size_t i = 0; i < buf.frames; i += 4096) sink += buf.samples[i];
                sink += buf.samples[buf.frames - 1];
                (void)sink;
            } else if (buf.samples || buf.frames) {
                abort(); /* a failed decode leaves nothing behind */
            }
            audio_buffer_free(&buf);
        }
    }
    unlink(path);
    return 0;
}
