/*
 * Importing a voice someone trained elsewhere: an RVC .pth (+ optional .index), or one .zip
 * holding both, becomes the files models/{id}/model.pth, model.index (when given) and
 * config.json (what the file says about itself), and the models row that describes them, which
 * the caller records (store_model_record): models code never writes to the database.
 * Used by POST /api/models/import and `voiceclone models import FILE.pth --name NAME`.
 *
 * Why a module of its own: the checks are the engine's (rvc_voice_inspect loads the synthesizer
 * config and every tensor), but the all-or-nothing storage is this file's job: everything is
 * copied into a staging folder on the data volume, checked there, and only then published
 * through the file layer (store/files.h). A refused file (not RVC, truncated, index dimension
 * mismatch, bad zip) leaves nothing behind: no files, and the caller records no row.
 */
#ifndef VC_MODELS_RVC_IMPORT_H
#define VC_MODELS_RVC_IMPORT_H

#include <jansson.h>

#include "store/store.h"

typedef struct rvc_import_request {
    const char *user_id;
    const char *name;        /* shown in the model list; NULL/"" = the file name without extension */
    const char *model_path;  /* the .pth, or a .zip when is_zip */
    const char *index_path;  /* optional .index (NULL); not used with a zip */
    const char *filename;    /* the name the user gave the file (for the default name and config.json) */
    int is_zip;              /* model_path is a zip holding one .pth and at most one .index */
    /* A voice trained here (train_rvc): the id announced when training started, the training
     * summary for the row, and what config.json records about its making (the speaker-consent
     * attestation, the recipe). All optional. */
    const char *model_id;
    const store_model *trained; /* training_duration_minutes, quality_grade, final_loss, training_audio_duration_seconds */
    const json_t *provenance;   /* merged into config.json under "training" */
} rvc_import_request;

/* Checks and publishes the voice's files; on success *out is the row to record (the caller then
 * calls store_model_record, which removes the files again if the row cannot be written).
 * Errors: VC_ERR_INVALID_REQUEST (bad name), VC_ERR_INVALID_FORMAT (not a voice / damaged /
 * index mismatch / bad zip), VC_ERR_IO. Nothing is left behind on error. */
int rvc_import_files(store *s, const rvc_import_request *rq, store_model *out, vc_error *err);

/* Extracts the .pth and optional .index of a zip into dir as model.pth / model.index (stored or
 * deflated entries; sizes and paths checked). *has_index tells whether an index was there. */
int rvc_import_unzip(const char *zip_path, const char *dir, int *has_index, vc_error *err);

/* The zip reader's caps (zip bombs), checked on the directory's declared sizes before anything is
 * written (extraction then stops at each entry's declared size): the total of the .pth and .index,
 * and each entry's expansion ratio once it is above ratio_free_bytes. */
typedef struct rvc_zip_limits {
    uint64_t max_total_bytes; /* VC_ERR_FILE_TOO_LARGE past it */
    uint32_t max_ratio;       /* VC_ERR_INVALID_FORMAT ("zip bomb") past it */
    uint32_t ratio_free_bytes;
} rvc_zip_limits;

/* What imports use: 2 GiB in total, 100:1 for entries above 1 MiB. */
rvc_zip_limits rvc_zip_default_limits(void);
/* rvc_import_unzip under other caps (tests use small ones instead of writing gigabytes). */
int rvc_import_unzip_limited(const char *zip_path, const char *dir, const rvc_zip_limits *lim, int *has_index,
                             vc_error *err);

/* Removes staging folders (data/models/.import-*) that crashed imports left behind: those last
 * changed at least min_age_seconds ago (an import in another process may still be writing a
 * fresh one). *removed counts them. Run at startup. */
int rvc_import_sweep_staging(store *s, int64_t min_age_seconds, int *removed, vc_error *err);

#endif
