/*
 * Audio in the studio: every file is decoded (by content, never by extension) into mono
 * float32 at its native rate, resampled where a model needs another rate, and written back as
 * WAV or MP3. This header is the contract other modules (server, jobs, models) rely on;
 * the implementation lives in the .c files of src/audio/.
 */
#ifndef VC_AUDIO_H
#define VC_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Mono float32 samples in [-1, 1]; owned by the struct (free with audio_buffer_free). */
typedef struct audio_buffer {
    float *samples;
    size_t frames;
    int sample_rate;
} audio_buffer;

/* What decoding found out about a file besides its samples. */
typedef struct audio_file_info {
    char format[16];        /* "wav", "flac", "mp3", "ogg", "opus" */
    int channels;           /* of the file, before the mono mix-down */
    int sample_rate;
    double duration_seconds;
    int truncated;          /* decoded fewer frames than the header promised (MP3: estimate check) */
    int header_overstated;  /* WAV data chunk claims more bytes than the file has */
    char warning[256];      /* human-readable note about the above, "" when clean */
} audio_file_info;

/* The most frames one decode produces: an hour at 48 kHz (about 660 MB of float32). A file that
 * announces more is refused before decoding (VC_ERR_AUDIO_TOO_LONG); one whose header lies is
 * stopped when decoding reaches the cap. Compressed files (FLAC of silence at 384 kHz) can
 * otherwise expand a few MB into gigabytes. */
#define AUDIO_MAX_DECODE_FRAMES (48000LL * 3600)

/* Decodes a whole file to mono float32 (channels averaged). VC_ERR_INVALID_FORMAT for anything
 * that is not audio (including zero-byte and random-byte files), VC_ERR_CORRUPT for a file that
 * breaks off mid-stream, VC_ERR_AUDIO_TOO_LONG past AUDIO_MAX_DECODE_FRAMES. info may be NULL. */
int audio_decode_file(const char *path, audio_buffer *out, audio_file_info *info, vc_error *err);
/* The same with a smaller cap: decoding stops with VC_ERR_AUDIO_TOO_LONG once max_frames are out,
 * whatever the header said (an MP3's length is only estimated from its first frame's bitrate). */
int audio_decode_file_max(const char *path, long long max_frames, audio_buffer *out, audio_file_info *info,
                          vc_error *err);

/* Reads only the header: format, channels, rate, duration; cheap enough for upload validation. */
int audio_probe_file(const char *path, audio_file_info *info, vc_error *err);

/* The limits of one use of a recording (an upload purpose: training 10 min, target 30 min, ...):
 * its longest duration, and what it may decode to, that duration at 48 kHz (a 384 kHz file of the
 * same length expands 8x further). MP3 lengths are estimates, hence 2 % slack on both. */
#define AUDIO_BUDGET_RATE 48000.0
#define AUDIO_ESTIMATE_SLACK 1.02
/* The most frames a use with this longest duration decodes (audio_decode_file_max's max_frames). */
long long audio_decode_budget(double max_seconds);
/* From the header alone, before decoding: VC_OK, VC_ERR_AUDIO_TOO_LONG (longer than max_seconds)
 * or VC_ERR_FILE_TOO_LARGE (decodes to more than the budget: a short file at a huge rate). */
vc_code audio_header_check(const audio_file_info *info, double max_seconds);

/* Resamples in to rate (soxr HQ). out must not alias in. */
int audio_resample(const audio_buffer *in, int rate, audio_buffer *out, vc_error *err);

/* Writes 16-bit PCM WAV (or float WAV when float32 != 0), atomically: temp file + fsync + rename. */
int audio_write_wav(const char *path, const audio_buffer *in, int float32, vc_error *err);
/* Writes MP3 (LAME, with the LAME tag), atomically. kbps e.g. 192. */
int audio_write_mp3(const char *path, const audio_buffer *in, int kbps, vc_error *err);

void audio_buffer_free(audio_buffer *b);

/* Quality analysis: the fields of the API's quality_analysis object (the brief's names; audio_json.h). */
typedef struct audio_quality {
    double duration_seconds;
    int sample_rate;
    double snr_db;                 /* active-speech SNR, blind estimate */
    double voice_activity_percent; /* share of 10 ms frames with speech */
    char background_noise_level[8];/* "low" | "medium" | "high" */
    double noise_floor_dbfs;
    double clipping_percent;
    double loudness_lufs;          /* integrated, EBU R128 (libebur128) */
    double peak_dbfs;
    char quality_grade[4];         /* A+ ≥45, A ≥35, B+ ≥25, B ≥20, C ≥15, D <15 (dB) */
    char recommendation[160];
} audio_quality;

int audio_analyze(const audio_buffer *in, audio_quality *q, vc_error *err);
const char *audio_grade_for_snr(double snr_db);

/* audio_analyze's speech detection frame by frame (10 ms, hop samples each), for choosing parts of
 * a recording. Arrays of count entries, owned by the struct (audio_frames_free). */
typedef struct audio_frames {
    size_t count;
    int hop;
    unsigned char *speech;  /* 1 = speech (what voice_activity_percent counts) */
    float *snr_db;          /* the frame's power above the recording's noise floor, dB (-20 when not above) */
    float *flatness;        /* spectral flatness of the voice band: ~0 tonal/voiced … ~0.56 white noise */
    unsigned char *clipped; /* a sample of the frame at or above the clipping level */
} audio_frames;

int audio_analyze_frames(const audio_buffer *in, audio_frames *out, vc_error *err);
void audio_frames_free(audio_frames *f);

/* The best stretch of a recording to clone a voice from (audio_window.c): AUDIO_WINDOW_MIN_SECONDS
 * to AUDIO_WINDOW_MAX_SECONDS long, starting and ending in pauses (never in the recording's first
 * or last partial word when a pause-bounded window exists), with as much clean speech as
 * possible: little silence inside, no clipped or noise-like frames, high SNR. start/end are
 * sample offsets into the recording; score is comparable across recordings (higher is better).
 * Deterministic; linear in the recording's frames. VC_ERR_AUDIO_TOO_SHORT when the recording
 * holds under AUDIO_WINDOW_MIN_SECONDS of speech. */
#define AUDIO_WINDOW_MIN_SECONDS 3.0
#define AUDIO_WINDOW_MAX_SECONDS 12.0
typedef struct audio_window {
    size_t start, end;
    double score;
    double speech_seconds; /* speech frames inside */
    int at_pauses;         /* 1: both ends in pauses; 0: a recording edge or a hard cut was needed */
} audio_window;

int audio_best_window(const audio_buffer *in, audio_window *out, vc_error *err);
/* The same from frames already analysed (in->sample_rate and in->frames are all it reads of in). */
int audio_best_window_frames(const audio_frames *fr, int sample_rate, size_t total_samples, audio_window *out,
                             vc_error *err);

/* Min/max peaks for a waveform view: n_buckets pairs written to peaks[2*i], peaks[2*i+1]. */
int audio_peaks(const audio_buffer *in, size_t n_buckets, float *peaks, vc_error *err);

#endif
