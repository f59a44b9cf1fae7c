/* Golden-case runner for F5-TTS + Vocos cases (see nn/golden.h). */
#ifndef VC_MODELS_F5TTS_GOLDEN_H
#define VC_MODELS_F5TTS_GOLDEN_H

#include "nn/golden.h"

extern const golden_model f5tts_golden_model;

#endif
