/*
 * Storing a trained RVC voice: the database side of training, kept out of the models layer
 * (rvc_train_pipeline.h returns files and numbers; this turns them into a library row). Used by
 * the train_rvc job and by `voiceclone train`, so both store a model the same way.
 */
#ifndef VC_JOBS_JOBS_TRAIN_H
#define VC_JOBS_JOBS_TRAIN_H

#include <jansson.h>

#include "base/error.h"
#include "models/rvc/rvc_train_pipeline.h"
#include "store/store.h"

/* work_dir's trained voice (model.pth, model.index) → a model in the library (rvc_import_files,
 * then store_model_record here, which removes the published files again if the row fails):
 * the row gets the training summary, config.json's "training" the caller's provenance (consent
 * attestation, source audio) plus the run's steps, epochs, final mel loss and whether it was
 * stopped early. model_id: the id announced when training started, or NULL for a new one. */
int jobs_train_store_model(store *s, const char *user_id, const char *name, const char *model_id, const char *work_dir,
                           const rvc_train_outcome *o, json_t *provenance, store_model *m, vc_error *err);

#endif
