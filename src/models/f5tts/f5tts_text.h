/*
 * F5-TTS text handling: the vocabulary (vocab.txt, one token per line, id = line index),
 * character tokenisation, the reference-text punctuation rule, the duration estimate and the
 * official sentence chunking of long texts. All lengths the official code measures in UTF-8
 * bytes are measured in bytes here too.
 */
#ifndef VC_MODELS_F5TTS_TEXT_H
#define VC_MODELS_F5TTS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "models/f5tts/f5tts_pinyin.h"

typedef struct f5_vocab {
    char **tokens;
    int count;
} f5_vocab;

int f5_vocab_load(f5_vocab *v, const char *path, vc_error *err);
void f5_vocab_free(f5_vocab *v);

/* Text → vocabulary ids as the official convert_char_to_pinyin + list_str_to_idx: ';' and curly
 * quotes translated, one token per character, a space before an ASCII word of 2+ characters that
 * follows anything but a space/':'/quote, Chinese characters as " " + TONE3 pinyin (py may be
 * NULL: then they stay characters; see f5tts_pinyin.h for what differs from pypinyin); tokens not
 * in the vocabulary → 0. Returns the count written (≤ max_ids), −1 on invalid UTF-8. */
int f5_tokenize(const f5_vocab *v, const f5_pinyin *py, const char *text, int64_t *ids, int max_ids);

/* Official reference-text rule: end with ". " (append " " after a final '.', else ". "), then
 * one more " " when the last character is a single byte. out must hold strlen(in) + 4. */
void f5_prepare_ref_text(const char *in, char *out);

/* Total frames N for the reference (ref_frames = samples / hop) and texts (byte lengths). */
int f5_duration_frames(int ref_frames, int ref_mel_frames, int n_text_ids, size_t ref_text_bytes,
                       size_t gen_text_bytes, float speed);

/* Splits text at sentence punctuation into chunks of at most max_chars bytes (official
 * chunk_text). Returns the number of chunks; *chunks is a malloc'd array of malloc'd strings. */
int f5_chunk_text(const char *text, int max_chars, char ***chunks);
void f5_chunks_free(char **chunks, int n);

#endif
