/* Golden-case runner for RVC cases (see nn/golden.h). */
#ifndef VC_MODELS_RVC_GOLDEN_H
#define VC_MODELS_RVC_GOLDEN_H

#include "nn/golden.h"

extern const golden_model rvc_golden_model;

#endif
