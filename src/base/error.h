/*
 * Errors as values.
 *
 * Every fallible function in the studio returns 0 on success or -1 on failure and fills a
 * caller-owned vc_error with a code and a human-readable message. Codes are the brief's error
 * vocabulary (§7.2) plus a few internal ones; the HTTP edge turns them into
 * {"status":"error","error_code":…,"message":…,"user_message":…} with vc_error_http_status().
 * Nothing here allocates, so an out-of-memory error can still be reported.
 */
#ifndef VC_BASE_ERROR_H
#define VC_BASE_ERROR_H

#include <stdarg.h>

typedef enum vc_code {
    VC_OK = 0,
    VC_ERR_INVALID_REQUEST,  /* malformed JSON, missing/unknown fields, bad parameters */
    VC_ERR_INVALID_FORMAT,   /* not a decodable audio file / not a model file we accept */
    VC_ERR_FILE_TOO_LARGE,
    VC_ERR_AUDIO_TOO_SHORT,
    VC_ERR_AUDIO_TOO_LONG,
    VC_ERR_QUALITY_TOO_LOW,
    VC_ERR_AUDIO_NOT_FOUND,
    VC_ERR_MODEL_NOT_FOUND,
    VC_ERR_JOB_NOT_FOUND,
    VC_ERR_NOT_FOUND,        /* any other missing resource */
    VC_ERR_UNAUTHORIZED,
    VC_ERR_CONFLICT,         /* e.g. tus offset mismatch */
    VC_ERR_CHECKSUM_MISMATCH,
    VC_ERR_GONE,             /* expired upload */
    VC_ERR_GPU_BUSY,
    VC_ERR_CONVERSION_FAILED,
    VC_ERR_TRAINING_FAILED,
    VC_ERR_WEIGHTS_MISSING,  /* model weights are not installed */
    VC_ERR_CORRUPT,          /* a file we wrote or read is damaged (truncated, lying header) */
    VC_ERR_CANCELLED,
    VC_ERR_IO,
    VC_ERR_NOMEM,
    VC_ERR_INTERNAL,
    VC_ERR_FORBIDDEN,         /* a cross-origin page or a foreign Host (DNS rebinding) */
    VC_ERR_METHOD_NOT_ALLOWED,/* the path exists, not with this method (405 + Allow) */
    VC_ERR_RATE_LIMITED,      /* a per-user quota is exhausted (429 + Retry-After) */
    VC_ERR_UNSUPPORTED_MEDIA_TYPE, /* a JSON endpoint got another Content-Type */
    VC_ERR_REQUEST_TOO_LARGE, /* a JSON body (not an audio file) over its limit */
    VC_CODE_COUNT
} vc_code;

typedef struct vc_error {
    vc_code code;
    char message[512];
} vc_error;

/* Sets err (if not NULL) and returns -1, so callers can write `return vc_fail(err, …);`. */
int vc_fail(vc_error *err, vc_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vc_failv(vc_error *err, vc_code code, const char *fmt, va_list ap);

/* Prefixes the existing message with context ("loading weights: …"); returns -1. */
int vc_error_wrap(vc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void vc_error_clear(vc_error *err);

/* "INVALID_FORMAT", "FILE_TOO_LARGE", … (the brief's spelling). */
const char *vc_code_name(vc_code code);
/* HTTP status for the code: 400, 404, 409, 413, 460, 410, 500, … */
int vc_code_http_status(vc_code code);
/* A default sentence for people (the brief's user-message table). */
const char *vc_code_user_message(vc_code code);

#endif
