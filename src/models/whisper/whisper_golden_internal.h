/* Shared by the Whisper golden runner's sources (whisper_golden*.c). */
#ifndef VC_MODELS_WHISPER_GOLDEN_INTERNAL_H
#define VC_MODELS_WHISPER_GOLDEN_INTERNAL_H

#include "models/whisper/whisper.h"
#include "models/whisper/whisper_decode.h"
#include "models/whisper/whisper_tokenizer.h"
#include "nn/golden.h"

typedef struct wg_case {
    const char *dir;
    const json_t *config;
    nn_weights *inputs, *expected;
    whisper_model model;
    whisper_tokenizer tok;
    golden_report *report;
} wg_case;

int wg_has(const wg_case *c, const char *name);
void wg_check(wg_case *c, const char *name, const float *got, int64_t n);
void wg_check_exact(wg_case *c, const char *name, const int *got, int64_t n);
void wg_check_transposed(wg_case *c, const char *name, const float *x, int rows, int cols);
/* A line `name PASS|FAIL detail` that counts. */
void wg_verdict(wg_case *c, const char *name, int ok, const char *detail);
const float *wg_expected_f32(const wg_case *c, const char *name, int64_t *numel);
int *wg_ints(const nn_weights *w, const char *name, int *n);
float *wg_gather(const float *logits, int V, const nn_tensor *indices);
void wg_path(const wg_case *c, const char *name, char *out, size_t cap);

/* Encoder output of a mel window [n_mels, 3000] into a fresh kv. */
int wg_window_kv(wg_case *c, const float *mel, whisper_kv *kv, vc_error *err);
/* <prefix>probs, token_ids, top10.* from language probabilities in index order. */
void wg_check_lang(wg_case *c, const char *prefix, const float *probs);

int wg_stage_tokenizer(wg_case *c, vc_error *err);
int wg_stage_mel(wg_case *c, vc_error *err);
int wg_stage_encoder(wg_case *c, vc_error *err);
int wg_stage_decoder(wg_case *c, vc_error *err);
int wg_stage_kv(wg_case *c, vc_error *err);
int wg_stage_lang(wg_case *c, vc_error *err);
int wg_stage_decode(wg_case *c, vc_error *err);
int wg_stage_long_form(wg_case *c, vc_error *err);

/* Teacher-forced per-step records of one window against `<prefix>*` (prefix "decode." or
 * "lf.w0."), then the free-running result r of the same window. */
int wg_check_window(wg_case *c, const char *prefix, const float *mel, const whisper_decode_options *o,
                    const whisper_decode_result *r, vc_error *err);

#endif
