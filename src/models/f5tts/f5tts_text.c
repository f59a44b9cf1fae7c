/* F5-TTS text handling (see f5tts_text.h). */
#include "models/f5tts/f5tts_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"

#define F5_MAX_FRAMES 65536

int f5_vocab_load(f5_vocab *v, const char *path, vc_error *err)
{
    memset(v, 0, sizeof *v);
    FILE *f = fopen(path, "rb");
    if (!f) return vc_fail(err, VC_ERR_WEIGHTS_MISSING, "cannot open vocabulary %s", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int capacity = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
        if (v->count == capacity) {
            capacity = capacity ? capacity * 2 : 256;
            char **grown = realloc(v->tokens, sizeof(char *) * (size_t)capacity);
            if (!grown) break;
            v->tokens = grown;
        }
        v->tokens[v->count] = strdup(line);
        if (!v->tokens[v->count]) break;
        v->count++;
    }
    int complete = feof(f);
    free(line);
    fclose(f);
    if (!complete) { f5_vocab_free(v); return vc_fail(err, VC_ERR_NOMEM, "out of memory reading %s", path); }
    if (v->count == 0) { f5_vocab_free(v); return vc_fail(err, VC_ERR_INVALID_FORMAT, "vocabulary %s is empty", path); }
    return 0;
}

void f5_vocab_free(f5_vocab *v)
{
    for (int i = 0; i < v->count; i++) free(v->tokens[i]);
    free(v->tokens);
    memset(v, 0, sizeof *v);
}

static int utf8_length(unsigned char c)
{
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return -1;
}

static int64_t lookup(const f5_vocab *v, const char *s, int len)
{
    for (int i = 0; i < v->count; i++)
        if ((int)strlen(v->tokens[i]) == len && !memcmp(v->tokens[i], s, (size_t)len)) return i;
    return 0;
}

/* ---- tokenisation: official convert_char_to_pinyin, then list_str_to_idx ---- */

typedef struct token_sink {
    const f5_vocab *v;
    int64_t *ids;
    int n, max;
    char last[F5_PINYIN_MAX + 4]; /* the previous token, for the space rule */
} token_sink;

static void emit(token_sink *o, const char *tok, int len)
{
    if (o->n < o->max) o->ids[o->n++] = lookup(o->v, tok, len);
    snprintf(o->last, sizeof o->last, "%.*s", len, tok);
}

/* The official custom_trans: ';' → ',', curly quotes → straight ones (out of vocabulary otherwise). */
static uint32_t translate(uint32_t c)
{
    if (c == ';') return ',';
    if (c == 0x201C || c == 0x201D) return '"';
    if (c == 0x2018 || c == 0x2019) return '\'';
    return c;
}

/* Decodes one UTF-8 character at p (validated), translated; its byte length in *len, −1 if invalid. */
static int64_t next_char(const char *p, int *len)
{
    *len = utf8_length((unsigned char)*p);
    if (*len < 0) return -1;
    uint32_t c = *len == 1 ? (unsigned char)*p : (unsigned char)*p & (0x3F >> (*len - 1));
    for (int i = 1; i < *len; i++) {
        if ((p[i] & 0xC0) != 0x80) return -1;
        c = (c << 6) | (p[i] & 0x3F);
    }
    return translate(c);
}

static int encode_utf8(uint32_t c, char out[4])
{
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | c >> 6); out[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) { out[0] = (char)(0xE0 | c >> 12); out[1] = (char)(0x80 | (c >> 6 & 0x3F)); out[2] = (char)(0x80 | (c & 0x3F)); return 3; }
    out[0] = (char)(0xF0 | c >> 18); out[1] = (char)(0x80 | (c >> 12 & 0x3F)); out[2] = (char)(0x80 | (c >> 6 & 0x3F)); out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

static int is_chinese(uint32_t c) { return c >= 0x3100 && c <= 0x9FFF; }
static int is_ascii_alnum(uint32_t c) { return c < 0x80 && ((c | 32) - 'a' < 26 || c - '0' < 10); }

/* An ASCII word (jieba yields [A-Za-z0-9]+ as one segment): a space before a word of 2+ characters
 * unless the previous token is a space, ':', '\'' or '"'. Returns the bytes consumed. */
static int ascii_word(token_sink *o, const char *p)
{
    int n = 0;
    while (is_ascii_alnum((unsigned char)p[n])) n++;
    if (n > 1 && o->n > 0 && !strchr(" :'\"", o->last[0] ? o->last[0] : 'x')) emit(o, " ", 1);
    for (int i = 0; i < n; i++) emit(o, p + i, 1);
    return n;
}

/* A run of Chinese characters: " " + TONE3 syllable each, with tone sandhi over the run; a
 * character without a reading (or no pinyin data at all) stays itself. Returns the bytes consumed. */
static int chinese_run(token_sink *o, const f5_pinyin *py, const char *p)
{
    enum { RUN = 64 };
    uint32_t chars[RUN];
    char syl[RUN][F5_PINYIN_MAX];
    int n = 0, bytes = 0, len;
    int64_t c;
    while (n < RUN && (c = next_char(p + bytes, &len)) >= 0 && is_chinese((uint32_t)c)) {
        const char *r = f5_pinyin_of(py, (uint32_t)c);
        chars[n] = (uint32_t)c;
        if (r) snprintf(syl[n], F5_PINYIN_MAX, "%s", r);
        else syl[n][encode_utf8((uint32_t)c, syl[n])] = '\0';
        n++;
        bytes += len;
    }
    f5_pinyin_sandhi(chars, syl, n);
    for (int i = 0; i < n; i++) {
        if (f5_pinyin_of(py, chars[i])) emit(o, " ", 1);
        emit(o, syl[i], (int)strlen(syl[i]));
    }
    return bytes;
}

int f5_tokenize(const f5_vocab *v, const f5_pinyin *py, const char *text, int64_t *ids, int max_ids)
{
    token_sink o = {v, ids, 0, max_ids, ""};
    for (const char *p = text; *p && o.n < max_ids;) {
        int len;
        int64_t c = next_char(p, &len);
        if (c < 0) return -1;
        if (is_ascii_alnum((uint32_t)c)) { p += ascii_word(&o, p); continue; }
        if (is_chinese((uint32_t)c)) { p += chinese_run(&o, py, p); continue; }
        char buf[4];
        emit(&o, buf, encode_utf8((uint32_t)c, buf));
        p += len;
    }
    return o.n;
}

void f5_prepare_ref_text(const char *in, char *out)
{
    strcpy(out, in);
    if (!vc_ends_with(out, ". ") && !vc_ends_with(out, "\xE3\x80\x82")) strcat(out, vc_ends_with(out, ".") ? " " : ". ");
    size_t len = strlen(out);
    if (len && (unsigned char)out[len - 1] < 0x80) strcat(out, " ");
}

int f5_duration_frames(int ref_frames, int ref_mel_frames, int n_text_ids, size_t ref_text_bytes,
                       size_t gen_text_bytes, float speed)
{
    double local_speed = gen_text_bytes < 10 ? 0.3 : speed; /* very short texts are spoken slowly */
    double extra = ref_text_bytes ? (double)ref_frames / (double)ref_text_bytes * (double)gen_text_bytes / local_speed : 0;
    int dur = ref_frames + (int)extra;
    int floor = (n_text_ids > ref_mel_frames ? n_text_ids : ref_mel_frames) + 1;
    int n = dur > floor ? dur : floor;
    return n < F5_MAX_FRAMES ? n : F5_MAX_FRAMES;
}

/* Sentence boundaries: ASCII ;:,.!? followed by whitespace (the whitespace is dropped), or
 * right after a full-width ；：，。！？ (3-byte UTF-8). Returns the length of the sentence
 * starting at p and sets *next to where the following one starts. */
static size_t next_sentence(const char *p, const char **next)
{
    static const char *const wide[] = {"\xEF\xBC\x9B", "\xEF\xBC\x9A", "\xEF\xBC\x8C", "\xE3\x80\x82", "\xEF\xBC\x81", "\xEF\xBC\x9F"};
    for (const char *q = p; *q; q++) {
        if (strchr(";:,.!?", *q) && (q[1] == ' ' || q[1] == '\t' || q[1] == '\n')) {
            const char *r = q + 1;
            while (*r == ' ' || *r == '\t' || *r == '\n') r++;
            *next = r;
            return (size_t)(q + 1 - p);
        }
        for (size_t i = 0; i < 6; i++)
            if (!strncmp(q, wide[i], 3)) { *next = q + 3; return (size_t)(q + 3 - p); }
    }
    *next = p + strlen(p);
    return strlen(p);
}

static int push_chunk(char ***chunks, int *n, const char *text)
{
    const char *s = text, *e = text + strlen(text);
    while (*s == ' ') s++;
    while (e > s && e[-1] == ' ') e--;
    char **grown = realloc(*chunks, sizeof(char *) * (size_t)(*n + 1));
    if (!grown) return -1;
    *chunks = grown;
    (*chunks)[*n] = strndup(s, (size_t)(e - s));
    if (!(*chunks)[*n]) return -1;
    (*n)++;
    return 0;
}

int f5_chunk_text(const char *text, int max_chars, char ***chunks)
{
    *chunks = NULL;
    int n = 0;
    size_t cap = strlen(text) * 2 + 16;
    char *current = calloc(cap, 1);
    if (!current) return -1;
    for (const char *p = text; *p;) {
        const char *next;
        size_t len = next_sentence(p, &next);
        int ascii_end = len && (unsigned char)p[len - 1] < 0x80;
        if (strlen(current) + len > (size_t)max_chars && current[0]) {
            if (push_chunk(chunks, &n, current) != 0) break;
            current[0] = '\0';
        }
        strncat(current, p, len);
        if (ascii_end) strcat(current, " ");
        p = next;
    }
    if (current[0]) push_chunk(chunks, &n, current);
    free(current);
    return n;
}

void f5_chunks_free(char **chunks, int n)
{
    for (int i = 0; i < n; i++) free(chunks[i]);
    free(chunks);
}
