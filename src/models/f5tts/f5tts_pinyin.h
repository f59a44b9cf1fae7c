/*
 * Chinese characters → pinyin syllables in pypinyin's TONE3 style ("zhong1", "lv4", neutral
 * "de"), which is how the official F5-TTS feeds Chinese to its vocabulary (convert_char_to_pinyin
 * with lazy_pinyin(..., Style.TONE3, tone_sandhi=True)).
 *
 * The readings come from Debian's golang-github-mozillazg-go-pinyin-dev (MIT; the per-character
 * data of pypinyin's author, pinyin-data), read from its pinyin_dict.go at engine start: each
 * character's first (most common) reading. What the official pipeline has and this does not:
 * jieba word segmentation and pypinyin's phrase dictionary, which pick the reading of polyphonic
 * characters from the word around them (行 in 银行 háng vs 行走 xíng) and scope tone sandhi to
 * words. Tone sandhi here: 不 before a 4th tone → bu2; 一 before a 4th tone → yi2, before
 * another tone → yi4 (not at the end of a run); a run of 3rd tones → all but the last become 2nd.
 */
#ifndef VC_MODELS_F5TTS_PINYIN_H
#define VC_MODELS_F5TTS_PINYIN_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define F5_PINYIN_DICT_DEFAULT "/usr/share/gocode/src/github.com/mozillazg/go-pinyin/pinyin_dict.go"
#define F5_PINYIN_MAX 8 /* "zhuang1" + NUL */

typedef struct f5_pinyin_entry {
    uint32_t code;
    char tone3[F5_PINYIN_MAX];
} f5_pinyin_entry;

typedef struct f5_pinyin {
    f5_pinyin_entry *entries; /* sorted by code */
    size_t count;
} f5_pinyin;

/* Reads go-pinyin's pinyin_dict.go (path NULL: VCS_PINYIN_DICT, else the Debian path). */
int f5_pinyin_load(f5_pinyin *p, const char *path, vc_error *err);
void f5_pinyin_free(f5_pinyin *p);

/* The TONE3 reading of one character, or NULL when it has none. */
const char *f5_pinyin_of(const f5_pinyin *p, uint32_t code);

/* One reading with tone marks ("zhōng", "lǜ", "de") → TONE3 ("zhong1", "lv4", "de"); 0 on success. */
int f5_pinyin_tone3(const char *marked, char out[F5_PINYIN_MAX]);

/* Tone sandhi over a run of n syllables (TONE3, edited in place; chars are the run's characters). */
void f5_pinyin_sandhi(const uint32_t *chars, char (*syllables)[F5_PINYIN_MAX], int n);

#endif
