/*
 * Whisper tokenizer (contract: whisper_tokenizer.h). The vocabulary file is one token per
 * line, "base64(bytes) rank", rank = line index. Encoding splits the text with the tiktoken
 * pattern (written out by hand below, no regex engine) and runs byte-pair merging on each
 * piece: the adjacent pair whose concatenation has the lowest rank merges first.
 */
#include "models/whisper/whisper_tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const LANGUAGES[WHISPER_MAX_LANGUAGES] = {
    "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar", "sv", "it", "id",
    "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no", "th", "ur", "hr", "bg",
    "lt", "la", "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn", "et", "mk", "br",
    "eu", "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw", "gl", "mr", "pa", "si", "km", "sn", "yo", "so",
    "af", "oc", "ka", "be", "tg", "sd", "gu", "am", "yi", "lo", "uz", "fo", "ht", "ps", "tk", "nn", "mt",
    "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "haw", "ln", "ha", "ba", "jw", "su", "yue"};

const char *whisper_language_code(int index)
{
    return index >= 0 && index < WHISPER_MAX_LANGUAGES ? LANGUAGES[index] : NULL;
}

int whisper_language_index(const char *code)
{
    for (int i = 0; code && i < WHISPER_MAX_LANGUAGES; i++)
        if (!strcmp(LANGUAGES[i], code)) return i;
    return -1;
}

/* ---- vocabulary ------------------------------------------------------------------------ */

static uint64_t hash_bytes(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Rank of the byte string p[0..n), or -1. */
static int rank_of(const whisper_tokenizer *t, const unsigned char *p, size_t n)
{
    for (uint32_t s = (uint32_t)hash_bytes(p, n) & t->slot_mask;; s = (s + 1) & t->slot_mask) {
        int32_t r = t->slots[s];
        if (r < 0) return -1;
        size_t len = t->offset[r + 1] - t->offset[r];
        if (len == n && !memcmp(t->bytes + t->offset[r], p, n)) return r;
    }
}

static void insert_rank(whisper_tokenizer *t, int r)
{
    const unsigned char *p = t->bytes + t->offset[r];
    size_t n = t->offset[r + 1] - t->offset[r];
    uint32_t s = (uint32_t)hash_bytes(p, n) & t->slot_mask;
    while (t->slots[s] >= 0) s = (s + 1) & t->slot_mask;
    t->slots[s] = r;
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes base64 text[0..n) into out; returns the byte count or -1. */
static long b64_decode(const char *text, size_t n, unsigned char *out)
{
    long len = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && text[i] != '='; i++) {
        int v = b64_value((unsigned char)text[i]);
        if (v < 0) return -1;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) { bits -= 8; out[len++] = (unsigned char)(acc >> bits); acc &= (1u << bits) - 1; }
    }
    return len;
}

static int parse_vocab(whisper_tokenizer *t, char *text, size_t size, vc_error *err)
{
    size_t lines = 0;
    for (size_t i = 0; i < size; i++) lines += text[i] == '\n';
    lines += size && text[size - 1] != '\n';
    t->bytes = malloc(size + 1);
    t->offset = malloc(sizeof(uint32_t) * (lines + 1));
    if (!t->bytes || !t->offset) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    t->offset[0] = 0;
    int r = 0;
    for (char *line = text, *end; line < text + size; line = end + 1) {
        end = memchr(line, '\n', (size_t)(text + size - line));
        if (!end) end = text + size;
        if (end == line) continue;
        char *space = memchr(line, ' ', (size_t)(end - line));
        long got = space ? b64_decode(line, (size_t)(space - line), t->bytes + t->offset[r]) : -1;
        if (got < 0 || strtol(space + 1, NULL, 10) != r)
            return vc_fail(err, VC_ERR_INVALID_FORMAT, "tiktoken vocabulary: bad line %d", r + 1);
        t->offset[r + 1] = t->offset[r] + (uint32_t)got;
        r++;
    }
    t->n_ranks = r;
    return r > 256 ? 0 : vc_fail(err, VC_ERR_INVALID_FORMAT, "tiktoken vocabulary: only %d tokens", r);
}

static void assign_specials(whisper_tokenizer *t, int num_languages)
{
    t->num_languages = num_languages;
    t->eot = t->n_ranks;
    t->sot = t->eot + 1;
    t->translate = t->sot + 1 + num_languages;
    t->transcribe = t->translate + 1;
    t->sot_lm = t->transcribe + 1;
    t->sot_prev = t->sot_lm + 1;
    t->no_speech = t->sot_prev + 1;
    t->no_timestamps = t->no_speech + 1;
    t->timestamp_begin = t->no_timestamps + 1;
    t->n_vocab = t->timestamp_begin + WHISPER_N_TIMESTAMPS;
}

int whisper_tokenizer_load(whisper_tokenizer *t, const char *path, int num_languages, vc_error *err)
{
    memset(t, 0, sizeof *t);
    if (num_languages < 1 || num_languages > WHISPER_MAX_LANGUAGES)
        return vc_fail(err, VC_ERR_INVALID_REQUEST, "whisper tokenizer: %d languages", num_languages);
    FILE *f = fopen(path, "rb");
    if (!f) return vc_fail(err, VC_ERR_WEIGHTS_MISSING, "cannot open tokenizer vocabulary %s", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = size > 0 && size < (64l << 20) ? malloc((size_t)size) : NULL;
    int ok = text && fread(text, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    int rc = ok ? parse_vocab(t, text, (size_t)size, err) : vc_fail(err, VC_ERR_INVALID_FORMAT, "cannot read %s", path);
    free(text);
    if (rc == 0) {
        uint32_t slots = 1;
        while (slots < 2u * (uint32_t)t->n_ranks) slots <<= 1;
        t->slots = malloc(sizeof(int32_t) * slots);
        t->slot_mask = slots - 1;
        if (!t->slots) rc = vc_fail(err, VC_ERR_NOMEM, "out of memory");
        else {
            memset(t->slots, 0xff, sizeof(int32_t) * slots);
            for (int r = 0; r < t->n_ranks; r++) insert_rank(t, r);
            assign_specials(t, num_languages);
        }
    }
    if (rc != 0) whisper_tokenizer_free(t);
    return rc;
}

void whisper_tokenizer_free(whisper_tokenizer *t)
{
    free(t->bytes);
    free(t->offset);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

int whisper_special_text(const whisper_tokenizer *t, int id, char *buf, size_t cap)
{
    const char *name = NULL;
    buf[0] = '\0';
    if (id < t->eot || id >= t->n_vocab) return 0;
    if (id >= t->timestamp_begin) {
        snprintf(buf, cap, "<|%.2f|>", (id - t->timestamp_begin) * 0.02);
        return 1;
    }
    if (id == t->eot) name = "endoftext";
    else if (id == t->sot) name = "startoftranscript";
    else if (id < t->translate) name = LANGUAGES[id - t->sot - 1];
    else if (id == t->translate) name = "translate";
    else if (id == t->transcribe) name = "transcribe";
    else if (id == t->sot_lm) name = "startoflm";
    else if (id == t->sot_prev) name = "startofprev";
    else if (id == t->no_speech) name = "nospeech";
    else name = "notimestamps";
    snprintf(buf, cap, "<|%s|>", name);
    return 1;
}

/* ---- UTF-8 ------------------------------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence at p (n bytes left): 1..4, or the negated length
 * of its longest well-formed prefix (at least 1 byte) when it is ill-formed. */
static int utf8_sequence(const unsigned char *p, size_t n, unsigned *cp)
{
    unsigned c = p[0];
    if (c < 0x80) { *cp = c; return 1; }
    int need = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : 0;
    if (!need) return -1;
    unsigned lo = 0x80, hi = 0xBF;
    if (c == 0xE0) lo = 0xA0;
    else if (c == 0xED) hi = 0x9F;
    else if (c == 0xF0) lo = 0x90;
    else if (c == 0xF4) hi = 0x8F;
    unsigned v = c & (0x3F >> need);
    for (int i = 1; i <= need; i++) {
        if ((size_t)i >= n || p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xBF)) return -i;
        v = v << 6 | (p[i] & 0x3F);
    }
    *cp = v;
    return need + 1;
}

static unsigned cp_at(const char *s, size_t n, size_t pos, int *len)
{
    unsigned cp = 0xFFFD;
    int l = utf8_sequence((const unsigned char *)s + pos, n - pos, &cp);
    *len = l > 0 ? l : -l;
    return cp;
}

/* Python's str.decode('utf-8', 'replace'): out needs 3n+1 bytes. */
static size_t utf8_replace(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned cp;
        int l = utf8_sequence(in + i, n - i, &cp);
        if (l > 0) { memcpy(out + o, in + i, (size_t)l); o += (size_t)l; i += (size_t)l; continue; }
        memcpy(out + o, "\xEF\xBF\xBD", 3);
        o += 3;
        i += (size_t)-l;
    }
    out[o] = '\0';
    return o;
}

/* ---- pre-tokenizer: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ ---- */

static int is_white(unsigned c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

enum { CLS_LETTER, CLS_NUMBER, CLS_OTHER, CLS_WHITE };

static int char_class(unsigned c)
{
    if (is_white(c)) return CLS_WHITE;
    if (whisper_is_letter(c)) return CLS_LETTER;
    return whisper_is_number(c) ? CLS_NUMBER : CLS_OTHER;
}

static size_t contraction_end(const char *s, size_t n, size_t pos)
{
    static const char *const SUFFIX[] = {"s", "t", "re", "ve", "m", "ll", "d"};
    for (size_t k = 0; k < sizeof SUFFIX / sizeof SUFFIX[0]; k++) {
        size_t l = strlen(SUFFIX[k]);
        if (pos + 1 + l <= n && !memcmp(s + pos + 1, SUFFIX[k], l)) return pos + 1 + l;
    }
    return 0;
}

size_t whisper_piece_end(const char *s, size_t n, size_t pos)
{
    int l0, l;
    unsigned c0 = cp_at(s, n, pos, &l0);
    if (c0 == '\'') {
        size_t e = contraction_end(s, n, pos);
        if (e) return e;
    }
    /* ` ?X+` for the three non-space classes: an optional leading ASCII space */
    size_t start = c0 == ' ' && pos + 1 < n ? pos + 1 : pos;
    int cls = start < n ? char_class(cp_at(s, n, start, &l)) : CLS_WHITE;
    if (cls != CLS_WHITE) {
        size_t e = start;
        while (e < n && char_class(cp_at(s, n, e, &l)) == cls) e += (size_t)l;
        return e;
    }
    /* whitespace run: up to the end of text, else all but its last character (\s+(?!\S)), else one */
    size_t e = pos, last = pos;
    while (e < n && char_class(cp_at(s, n, e, &l)) == CLS_WHITE) { last = e; e += (size_t)l; }
    if (e == n || last == pos) return e;
    return last;
}

char *whisper_strip(char *s)
{
    size_t n = strlen(s), a = 0, b = 0; /* [a, b): from the first to after the last non-space */
    for (size_t i = 0; i < n;) {
        int l;
        unsigned c = cp_at(s, n, i, &l);
        if (!is_white(c)) { if (b == 0) a = i; b = i + (size_t)l; }
        i += (size_t)l;
    }
    memmove(s, s + a, b - a);
    s[b - a] = '\0';
    return s;
}

/* ---- BPE -------------------------------------------------------------------------------- */

/* Appends the ranks of one piece p[0..n) to ids (room for n more). */
static int bpe_piece(const whisper_tokenizer *t, const unsigned char *p, size_t n, int *ids, int *count, vc_error *err)
{
    int whole = rank_of(t, p, n);
    if (whole >= 0) { ids[(*count)++] = whole; return 0; }
    size_t *b = malloc(sizeof(size_t) * (n + 1)); /* part boundaries */
    if (!b) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    size_t m = n;
    for (size_t i = 0; i <= n; i++) b[i] = i;
    for (;;) {
        int best = -1;
        size_t at = 0;
        for (size_t i = 0; i + 2 <= m; i++) {
            int r = rank_of(t, p + b[i], b[i + 2] - b[i]);
            if (r >= 0 && (best < 0 || r < best)) { best = r; at = i; }
        }
        if (best < 0) break;
        memmove(b + at + 1, b + at + 2, sizeof(size_t) * (m - at - 1));
        m--;
    }
    int rc = 0;
    for (size_t i = 0; i < m && rc == 0; i++) {
        int r = rank_of(t, p + b[i], b[i + 1] - b[i]);
        if (r < 0) rc = vc_fail(err, VC_ERR_INVALID_FORMAT, "tokenizer: byte %02x is not in the vocabulary", p[b[i]]);
        else ids[(*count)++] = r;
    }
    free(b);
    return rc;
}

/* Refuses text holding a special token's string, as the official encode does. */
static int check_no_special(const whisper_tokenizer *t, const char *text, vc_error *err)
{
    for (const char *p = strstr(text, "<|"); p; p = strstr(p + 1, "<|")) {
        const char *q = strstr(p + 2, "|>");
        if (!q || q - p > 40) continue;
        char buf[48];
        for (int id = t->eot; id < t->n_vocab; id++) {
            whisper_special_text(t, id, buf, sizeof buf);
            size_t l = strlen(buf);
            if (!strncmp(p, buf, l)) return vc_fail(err, VC_ERR_INVALID_REQUEST, "text contains the special token %s", buf);
        }
    }
    return 0;
}

int whisper_encode(const whisper_tokenizer *t, const char *text, int **ids, int *n, vc_error *err)
{
    size_t len = strlen(text);
    *ids = NULL;
    *n = 0;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        int l = utf8_sequence((const unsigned char *)text + i, len - i, &cp);
        if (l < 0) return vc_fail(err, VC_ERR_INVALID_REQUEST, "text is not valid UTF-8 (byte %zu)", i);
        i += (size_t)l;
    }
    if (check_no_special(t, text, err) != 0) return -1;
    int *out = malloc(sizeof(int) * (len + 1));
    if (!out) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    int count = 0;
    for (size_t pos = 0; pos < len;) {
        size_t end = whisper_piece_end(text, len, pos);
        if (bpe_piece(t, (const unsigned char *)text + pos, end - pos, out, &count, err) != 0) { free(out); return -1; }
        pos = end;
    }
    *ids = out;
    *n = count;
    return 0;
}

char *whisper_detokenize(const whisper_tokenizer *t, const int *ids, int n, int with_timestamps)
{
    size_t cap = 1;
    for (int i = 0; i < n; i++)
        cap += ids[i] >= 0 && ids[i] < t->n_ranks ? t->offset[ids[i] + 1] - t->offset[ids[i]] : 32;
    unsigned char *raw = malloc(cap);
    char *out = malloc(3 * cap + 1);
    if (!raw || !out) { free(raw); free(out); return NULL; }
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        int id = ids[i];
        if (id >= 0 && id < t->n_ranks) {
            size_t l = t->offset[id + 1] - t->offset[id];
            memcpy(raw + len, t->bytes + t->offset[id], l);
            len += l;
        } else if (with_timestamps || id < t->timestamp_begin) {
            char buf[32];
            whisper_special_text(t, id, buf, sizeof buf);
            memcpy(raw + len, buf, strlen(buf));
            len += strlen(buf);
        }
    }
    utf8_replace(raw, len, out);
    free(raw);
    return out;
}

/* ---- non-speech tokens ------------------------------------------------------------------ */

static int add_unique(int *out, int count, int cap, int id)
{
    for (int i = 0; i < count; i++)
        if (out[i] == id) return count;
    if (count < cap) out[count++] = id;
    return count;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* The first id of encode(text) when it is one token or `always`; -1 otherwise. */
static int first_id_if(const whisper_tokenizer *t, const char *text, int always, vc_error *err)
{
    int *ids, n, id = -1;
    if (whisper_encode(t, text, &ids, &n, err) != 0) return -2;
    if (n >= 1 && (n == 1 || always)) id = ids[0];
    free(ids);
    return id;
}

int whisper_non_speech_tokens(const whisper_tokenizer *t, int *out, int cap, vc_error *err)
{
    static const char *const SYMBOLS[] = {
        "\"", "#", "(", ")", "*", "+", "/", ":", ";", "<", "=", ">", "@", "[", "\\", "]", "^", "_", "`",
        "{", "|", "}", "~", "「", "」", "『", "』", "<<", ">>", "<<<", ">>>", "--", "---", "-(", "-[",
        "('", "(\"", "((", "))", "(((", ")))", "[[", "]]", "{{", "}}", "♪♪", "♪♪♪"};
    /* U+2640..U+267F: a multi-token encoding still starts with their shared lead bytes */
    static const char *const MUSIC[] = {"♩", "♪", "♫", "♬", "♭", "♮", "♯"};
    int count = 0;
    const char *starts[] = {" -", " '"};
    for (int i = 0; i < 2; i++) {
        int id = first_id_if(t, starts[i], 1, err);
        if (id < -1) return -1;
        count = add_unique(out, count, cap, id);
    }
    size_t n_sym = sizeof SYMBOLS / sizeof SYMBOLS[0], n_mus = sizeof MUSIC / sizeof MUSIC[0];
    for (size_t i = 0; i < n_sym + n_mus; i++) {
        const char *sym = i < n_sym ? SYMBOLS[i] : MUSIC[i - n_sym];
        char spaced[16];
        snprintf(spaced, sizeof spaced, " %s", sym);
        for (int k = 0; k < 2; k++) {
            int id = first_id_if(t, k ? spaced : sym, i >= n_sym, err);
            if (id < -1) return -1;
            if (id >= 0) count = add_unique(out, count, cap, id);
        }
    }
    qsort(out, (size_t)count, sizeof(int), cmp_int);
    return count;
}
