/* Golden-case runner for RVC cases (see nn/golden.h). */
#ifndef VC_MODELS_RVC_GOLDEN_H
#define VC_MODELS_RVC_GOLDEN_H

#include "nn/golden.h"

extern const golden_model rvc_golden_model;

/* Stage "training_step" (rvc_golden_train.c): one RVC v2 GAN training step against the case. */
int rvc_golden_train(golden_report *r, const char *dir, const json_t *config, const nn_weights *inputs,
                     const nn_weights *expected, vc_error *err);

#endif
