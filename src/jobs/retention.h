/*
 * Retention: the brief's cleanup policy (§4.4 "Cleanup Strategy") as one sweep that a server
 * thread runs periodically (src/server/retention_module.c).
 *
 *   uploaded audio (training | target | reference)  deleted after VCS_RETAIN_UPLOADS_HOURS (24)
 *   output audio (purpose "output", data/outputs/)   deleted after VCS_RETAIN_OUTPUTS_DAYS (7)
 *   finished jobs and their event logs               deleted after the outputs window too
 *   models                                           never (user-managed)
 *
 * An audio file is never deleted while something needs it: a queued or running job whose params
 * name its id, or a completed training job that used it ("used for training"). The check and the
 * row deletion are one SQL statement inside one transaction, so a job queued a moment earlier is
 * seen. Order on disk: the row goes first (and the tus upload rows that point at it), then the
 * file; a crash in between leaves a file without a row — never a row the API would serve whose
 * file is gone. Such orphan files (and files of outputs that never had a row) are removed by the
 * same sweep once they are older than their window.
 *
 * Crash leftovers (temp files of atomic writes, import staging folders) go once nothing changed
 * them for VCS_RETAIN_TEMPS_HOURS (1): a live write keeps touching its file.
 *
 * Windows are given as fractions too (VCS_RETAIN_UPLOADS_HOURS=0.001 is 3.6 s) so tests can use
 * seconds; 0 disables that part. VCS_RETENTION_INTERVAL_S (600) is the pause between sweeps;
 * 0 leaves only the sweep at startup.
 */
#ifndef VC_JOBS_RETENTION_H
#define VC_JOBS_RETENTION_H

#include <stdint.h>

#include "base/error.h"
#include "store/store.h"

typedef struct retention_config {
    double uploads_seconds;  /* uploaded audio older than this is deleted (0 = kept forever) */
    double outputs_seconds;  /* output audio and finished jobs older than this (0 = kept forever) */
    double interval_seconds; /* between sweeps (0 = no periodic sweep) */
    double leftovers_seconds; /* crash leftovers (temp files, import staging) untouched this long go (0 = kept) */
} retention_config;

void retention_config_defaults(retention_config *c);
/* Reads the variables above; a value that is not a number >= 0 is VC_ERR_INVALID_REQUEST. */
int retention_config_from_env(retention_config *c, vc_error *err);

/* One audio file due for deletion. */
typedef struct retention_item {
    char audio_id[STORE_ID_MAX];
    char file_path[512]; /* relative to the data root */
} retention_item;

/* The audio rows due at now_s (unix seconds), oldest first; *items is owned by the caller (free). */
int retention_select(store *s, const retention_config *c, int64_t now_s, retention_item **items, int *n,
                     vc_error *err);

typedef struct retention_report {
    int audio_deleted;   /* rows (and their files) */
    int orphans_deleted; /* files without a row, and training folders of jobs that will not run again */
    int jobs_deleted;    /* finished jobs (rows + event logs) */
    int leftovers_deleted; /* temp files and staging folders a crash left (store_sweep_leftovers) */
} retention_report;

/* One full pass at now_s: due audio, old finished jobs, orphan files. Each item is re-checked as
 * it is deleted, so a job queued after the selection still protects its audio. */
int retention_sweep(store *s, const retention_config *c, int64_t now_s, retention_report *rep, vc_error *err);

#endif
