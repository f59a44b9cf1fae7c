/* Golden-case runner for Whisper cases (see nn/golden.h). */
#ifndef VC_MODELS_WHISPER_GOLDEN_H
#define VC_MODELS_WHISPER_GOLDEN_H

#include "nn/golden.h"

extern const golden_model whisper_golden_model;

#endif
