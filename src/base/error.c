/*
 * The one place where error codes get their names, HTTP statuses and user-facing sentences,
 * so every layer reports the brief's vocabulary the same way.
 */
#include "base/error.h"

#include <stdio.h>
#include <string.h>

typedef struct code_info {
    const char *name;
    int http_status;
    const char *user_message;
} code_info;

static const code_info CODE_INFO[VC_CODE_COUNT] = {
    [VC_OK] = {"OK", 200, "Done."},
    [VC_ERR_INVALID_REQUEST] = {"INVALID_REQUEST", 400, "The request was not understood. Please check its fields."},
    [VC_ERR_INVALID_FORMAT] = {"INVALID_FORMAT", 400, "Please upload a WAV, MP3, FLAC or OGG file."},
    [VC_ERR_FILE_TOO_LARGE] = {"FILE_TOO_LARGE", 413, "Audio file is too large."},
    [VC_ERR_AUDIO_TOO_SHORT] = {"AUDIO_TOO_SHORT", 400, "Audio is too short."},
    [VC_ERR_AUDIO_TOO_LONG] = {"AUDIO_TOO_LONG", 413, "Audio is too long."},
    [VC_ERR_QUALITY_TOO_LOW] = {"QUALITY_TOO_LOW", 400, "Audio is too noisy. Please use a clearer recording."},
    [VC_ERR_AUDIO_NOT_FOUND] = {"AUDIO_NOT_FOUND", 404, "Audio file not found. Please upload it first."},
    [VC_ERR_MODEL_NOT_FOUND] = {"MODEL_NOT_FOUND", 404, "Voice model not found. It may have been deleted."},
    [VC_ERR_JOB_NOT_FOUND] = {"JOB_NOT_FOUND", 404, "This job does not exist."},
    [VC_ERR_NOT_FOUND] = {"NOT_FOUND", 404, "Not found."},
    [VC_ERR_UNAUTHORIZED] = {"UNAUTHORIZED", 401, "Please sign in with a valid API key."},
    [VC_ERR_CONFLICT] = {"CONFLICT", 409, "The upload is out of step with the server. Resuming will fix it."},
    [VC_ERR_CHECKSUM_MISMATCH] = {"CHECKSUM_MISMATCH", 460, "The upload was damaged in transit. Please retry."},
    [VC_ERR_GONE] = {"UPLOAD_EXPIRED", 410, "This upload has expired. Please upload the file again."},
    [VC_ERR_GPU_BUSY] = {"GPU_BUSY", 202, "Your job has been queued."},
    [VC_ERR_CONVERSION_FAILED] = {"CONVERSION_FAILED", 500, "Conversion failed. Please try again or contact support."},
    [VC_ERR_TRAINING_FAILED] = {"TRAINING_FAILED", 500, "Training failed. Please try again or contact support."},
    [VC_ERR_WEIGHTS_MISSING] = {"WEIGHTS_MISSING", 503, "Voice models are not installed yet. On the server run `voiceclone models pull f5tts` (quick clone) or `voiceclone models pull rvc` (conversion and training), adding --data DIR when it uses another data folder; offline: `voiceclone models import FILE --to FOLDER`."},
    [VC_ERR_CORRUPT] = {"CORRUPT_FILE", 400, "The file is damaged or incomplete."},
    [VC_ERR_CANCELLED] = {"CANCELLED", 409, "The job was cancelled."},
    [VC_ERR_IO] = {"IO_ERROR", 500, "The server could not read or write a file."},
    [VC_ERR_NOMEM] = {"OUT_OF_MEMORY", 503, "The server is out of memory. Please try again later."},
    [VC_ERR_INTERNAL] = {"INTERNAL_ERROR", 500, "Something went wrong on the server."},
    [VC_ERR_FORBIDDEN] = {"FORBIDDEN", 403, "Another website tried to use the studio. Open the studio's own page instead."},
    [VC_ERR_METHOD_NOT_ALLOWED] = {"METHOD_NOT_ALLOWED", 405, "This action is not available here."},
    [VC_ERR_RATE_LIMITED] = {"RATE_LIMITED", 429, "Too many requests at once. Please wait a moment and try again."},
    [VC_ERR_UNSUPPORTED_MEDIA_TYPE] = {"UNSUPPORTED_MEDIA_TYPE", 415, "The request must be sent as JSON."},
    [VC_ERR_REQUEST_TOO_LARGE] = {"REQUEST_TOO_LARGE", 413, "The request is too large."},
};

int vc_failv(vc_error *err, vc_code code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    }
    return -1;
}

int vc_fail(vc_error *err, vc_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vc_failv(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

int vc_error_wrap(vc_error *err, const char *fmt, ...)
{
    if (!err) return -1;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[sizeof err->message];
    memcpy(old, err->message, sizeof old);
    snprintf(err->message, sizeof err->message, "%s: %s", prefix, old);
    return -1;
}

void vc_error_clear(vc_error *err)
{
    if (!err) return;
    err->code = VC_OK;
    err->message[0] = '\0';
}

static const code_info *info_for(vc_code code)
{
    if ((int)code < 0 || code >= VC_CODE_COUNT || !CODE_INFO[code].name) return &CODE_INFO[VC_ERR_INTERNAL];
    return &CODE_INFO[code];
}

const char *vc_code_name(vc_code code) { return info_for(code)->name; }
int vc_code_http_status(vc_code code) { return info_for(code)->http_status; }
const char *vc_code_user_message(vc_code code) { return info_for(code)->user_message; }
