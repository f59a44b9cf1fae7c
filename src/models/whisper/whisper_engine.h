/*
 * A ready-to-use Whisper: checkpoint + vocabulary, and transcription of any decoded audio
 * (resampled to 16 kHz here). Weights live in <weights_root>/whisper/<size>.pt next to
 * multilingual.tiktoken (`voiceclone models pull whisper --size …`).
 */
#ifndef VC_MODELS_WHISPER_ENGINE_H
#define VC_MODELS_WHISPER_ENGINE_H

#include "audio/audio.h"
#include "models/whisper/whisper.h"
#include "models/whisper/whisper_decode.h"
#include "models/whisper/whisper_tokenizer.h"

#define WHISPER_DEFAULT_SIZE "base"

typedef struct whisper_engine {
    whisper_model model;
    whisper_tokenizer tok;
} whisper_engine;

int whisper_engine_open(whisper_engine *e, const char *model_path, const char *vocab_path, vc_error *err);
/* <weights_root>/whisper/<size>.pt and <weights_root>/whisper/multilingual.tiktoken
 * (gpt2.tiktoken for the English-only sizes "tiny.en" … "medium.en"). */
int whisper_engine_open_dir(whisper_engine *e, const char *weights_root, const char *size, vc_error *err);
void whisper_engine_close(whisper_engine *e);

/* Transcribes mono audio at any rate (resampled to 16 kHz). */
int whisper_transcribe_buffer(const whisper_engine *e, const audio_buffer *in, const whisper_transcribe_options *o,
                              whisper_transcript *out, vc_error *err);

#endif
