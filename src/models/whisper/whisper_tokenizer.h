/*
 * Whisper's tokenizer: tiktoken byte-level BPE over a released `.tiktoken` vocabulary
 * (multilingual.tiktoken: 50257 ranks; gpt2.tiktoken: 50256), followed by the special tokens in
 * the order the official tokenizer registers them:
 *   <|endoftext|> <|startoftranscript|> <|en|> … (num_languages) <|translate|> <|transcribe|>
 *   <|startoflm|> <|startofprev|> <|nospeech|> <|notimestamps|> <|0.00|> … <|30.00|>
 * so every special id follows from the rank count and the language count (99, or 100 with
 * <|yue|> for large-v3 / turbo).
 */
#ifndef VC_MODELS_WHISPER_TOKENIZER_H
#define VC_MODELS_WHISPER_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define WHISPER_MAX_LANGUAGES 100
#define WHISPER_N_TIMESTAMPS 1501 /* <|0.00|> … <|30.00|> in 0.02 s steps */

typedef struct whisper_tokenizer {
    int n_ranks;          /* mergeable tokens: ids 0 … n_ranks-1 */
    unsigned char *bytes; /* every token's bytes, concatenated */
    uint32_t *offset;     /* token r = bytes[offset[r] … offset[r+1]) */
    int32_t *slots;       /* open-addressing hash: bytes → rank (-1 empty) */
    uint32_t slot_mask;
    int num_languages;
    int eot, sot, translate, transcribe, sot_lm, sot_prev, no_speech, no_timestamps, timestamp_begin;
    int n_vocab; /* timestamp_begin + WHISPER_N_TIMESTAMPS */
} whisper_tokenizer;

int whisper_tokenizer_load(whisper_tokenizer *t, const char *tiktoken_path, int num_languages, vc_error *err);
void whisper_tokenizer_free(whisper_tokenizer *t);

/* Language code of index i (0 = "en" … 99 = "yue"), NULL out of range; index of a code or -1. */
const char *whisper_language_code(int index);
int whisper_language_index(const char *code);

/* Text of a special token ("<|en|>", "<|1.24|>"); 0 and an empty string for ordinary ids. */
int whisper_special_text(const whisper_tokenizer *t, int id, char *buf, size_t cap);

/* BPE ids of UTF-8 text → *ids (malloc'd, caller frees), *n. Refuses invalid UTF-8 and text
 * holding a special token's string (the official encode raises on those). */
int whisper_encode(const whisper_tokenizer *t, const char *text, int **ids, int *n, vc_error *err);

/* The regex pre-split: end (byte offset) of the piece starting at byte `pos` of valid UTF-8. */
size_t whisper_piece_end(const char *s, size_t n, size_t pos);

/* Tokens → malloc'd UTF-8 (invalid byte sequences become U+FFFD as Python's 'replace').
 * with_timestamps = 0 drops ids >= timestamp_begin (Tokenizer.decode), 1 keeps them
 * (decode_with_timestamps). NULL when out of memory. */
char *whisper_detokenize(const whisper_tokenizer *t, const int *ids, int n, int with_timestamps);

/* Python's str.strip() in place on UTF-8 (Unicode whitespace, as str.isspace); returns s. */
char *whisper_strip(char *s);

/* The official non_speech_tokens(), sorted: writes up to cap ids, returns the count or -1. */
int whisper_non_speech_tokens(const whisper_tokenizer *t, int *out, int cap, vc_error *err);

/* Unicode general categories L* and N* (generated tables, whisper_unicode.c). */
int whisper_is_letter(unsigned cp);
int whisper_is_number(unsigned cp);

#endif
