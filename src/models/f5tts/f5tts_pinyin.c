/* Pinyin readings and TONE3 conversion (see f5tts_pinyin.h). */
#include "models/f5tts/f5tts_pinyin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tone marks → TONE3 ---- */

typedef struct marked_vowel {
    const char *utf8;
    char base; /* 'v' for ü */
    int tone;  /* 0 = none */
} marked_vowel;

static const marked_vowel MARKED[] = {
    {"ā", 'a', 1}, {"á", 'a', 2}, {"ǎ", 'a', 3}, {"à", 'a', 4}, {"ē", 'e', 1}, {"é", 'e', 2}, {"ě", 'e', 3},
    {"è", 'e', 4}, {"ī", 'i', 1}, {"í", 'i', 2}, {"ǐ", 'i', 3}, {"ì", 'i', 4}, {"ō", 'o', 1}, {"ó", 'o', 2},
    {"ǒ", 'o', 3}, {"ò", 'o', 4}, {"ū", 'u', 1}, {"ú", 'u', 2}, {"ǔ", 'u', 3}, {"ù", 'u', 4}, {"ǖ", 'v', 1},
    {"ǘ", 'v', 2}, {"ǚ", 'v', 3}, {"ǜ", 'v', 4}, {"ü", 'v', 0}, {"ń", 'n', 2}, {"ň", 'n', 3}, {"ǹ", 'n', 4},
    {"ḿ", 'm', 2}, {"ê", 'e', 0},
};

int f5_pinyin_tone3(const char *marked, char out[F5_PINYIN_MAX])
{
    size_t n = 0;
    int tone = 0;
    for (const char *p = marked; *p;) {
        if ((unsigned char)*p < 0x80) {
            if (n + 1 >= F5_PINYIN_MAX) return -1;
            out[n++] = *p++;
            continue;
        }
        size_t k = 0;
        while (k < sizeof MARKED / sizeof MARKED[0] && strncmp(p, MARKED[k].utf8, strlen(MARKED[k].utf8))) k++;
        if (k == sizeof MARKED / sizeof MARKED[0] || n + 1 >= F5_PINYIN_MAX) return -1;
        out[n++] = MARKED[k].base;
        if (MARKED[k].tone) tone = MARKED[k].tone;
        p += strlen(MARKED[k].utf8);
    }
    if (tone) {
        if (n + 1 >= F5_PINYIN_MAX) return -1;
        out[n++] = (char)('0' + tone);
    }
    out[n] = '\0';
    return n ? 0 : -1;
}

/* ---- the dictionary ---- */

static int by_code(const void *a, const void *b)
{
    uint32_t x = ((const f5_pinyin_entry *)a)->code, y = ((const f5_pinyin_entry *)b)->code;
    return x < y ? -1 : x > y;
}

/* One line of the Go map: `\t0x4E2D: "zhōng,zhòng",` → the first reading in TONE3. */
static int parse_line(const char *line, f5_pinyin_entry *e)
{
    unsigned int code;
    char first[64];
    if (sscanf(line, " 0x%x: \"%63[^,\"]", &code, first) != 2) return -1;
    e->code = code;
    return f5_pinyin_tone3(first, e->tone3);
}

static int grow(f5_pinyin *p, size_t *cap)
{
    if (p->count < *cap) return 0;
    size_t next = *cap ? *cap * 2 : 1024;
    f5_pinyin_entry *g = realloc(p->entries, sizeof *g * next);
    if (!g) return -1;
    p->entries = g;
    *cap = next;
    return 0;
}

int f5_pinyin_load(f5_pinyin *p, const char *path, vc_error *err)
{
    memset(p, 0, sizeof *p);
    if (!path) path = getenv("VCS_PINYIN_DICT") ? getenv("VCS_PINYIN_DICT") : F5_PINYIN_DICT_DEFAULT;
    FILE *f = fopen(path, "r");
    if (!f) return vc_fail(err, VC_ERR_WEIGHTS_MISSING, "pinyin data %s not found (apt install golang-github-mozillazg-go-pinyin-dev)", path);
    char line[512];
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        f5_pinyin_entry e;
        if (parse_line(line, &e) != 0) continue;
        if (grow(p, &cap) != 0) rc = vc_fail(err, VC_ERR_NOMEM, "out of memory (pinyin)");
        else p->entries[p->count++] = e;
    }
    fclose(f);
    if (rc == 0 && p->count == 0) rc = vc_fail(err, VC_ERR_INVALID_FORMAT, "%s holds no pinyin readings", path);
    if (rc != 0) { f5_pinyin_free(p); return -1; }
    qsort(p->entries, p->count, sizeof *p->entries, by_code);
    return 0;
}

void f5_pinyin_free(f5_pinyin *p)
{
    free(p->entries);
    memset(p, 0, sizeof *p);
}

const char *f5_pinyin_of(const f5_pinyin *p, uint32_t code)
{
    if (!p || !p->count) return NULL;
    f5_pinyin_entry key = {code, ""};
    const f5_pinyin_entry *e = bsearch(&key, p->entries, p->count, sizeof key, by_code);
    return e ? e->tone3 : NULL;
}

/* ---- tone sandhi ---- */

static int tone_of(const char *s)
{
    size_t n = strlen(s);
    return n && s[n - 1] >= '1' && s[n - 1] <= '5' ? s[n - 1] - '0' : 0;
}

static void set_tone(char *s, int tone)
{
    size_t n = strlen(s);
    if (n && s[n - 1] >= '1' && s[n - 1] <= '5') s[n - 1] = (char)('0' + tone);
}

void f5_pinyin_sandhi(const uint32_t *chars, char (*syl)[F5_PINYIN_MAX], int n)
{
    for (int i = 0; i + 1 < n; i++) {
        int next = tone_of(syl[i + 1]);
        if (chars[i] == 0x4E0D /* 不 */ && next == 4) set_tone(syl[i], 2);
        if (chars[i] == 0x4E00 /* 一 */ && next) set_tone(syl[i], next == 4 ? 2 : 4);
    }
    for (int i = n - 2; i >= 0; i--) /* 3-3 → 2-3, right to left over a run of 3rd tones */
        if (tone_of(syl[i]) == 3 && tone_of(syl[i + 1]) == 3) {
            int j = i;
            while (j > 0 && tone_of(syl[j - 1]) == 3) j--;
            for (int k = j; k <= i; k++) set_tone(syl[k], 2);
            i = j;
        }
}
