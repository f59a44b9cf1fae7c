/*
 * Whisper pieces that the golden cases reach only through a real vocabulary and random
 * weights: byte-pair merge order, the hand-written pre-split pattern, the special-token layout,
 * U+FFFD decoding, the compression ratio, the mel front end on a pure tone, and refusals.
 * Expected values are worked out by hand from the official rules (README of the golden cases).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "models/whisper/whisper.h"
#include "models/whisper/whisper_decode.h"
#include "models/whisper/whisper_tokenizer.h"

static void b64(const unsigned char *in, size_t n, char *out)
{
    static const char *A = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = A[v >> 18 & 63];
        out[o++] = A[v >> 12 & 63];
        out[o++] = i + 1 < n ? A[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? A[v & 63] : '=';
    }
    out[o] = '\0';
}

/* Vocabulary: the 256 single bytes (ranks 0..255, byte order), then the given merges. */
static const char *const MERGES[] = {"bc", "ab", "abc", " w", "or", " wor", "ld", " world", "cd"};
#define N_MERGES (int)(sizeof MERGES / sizeof MERGES[0])

static void load_vocab(whisper_tokenizer *t)
{
    char path[] = "/tmp/vcs-tiktoken-XXXXXX", line[64];
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    for (int r = 0; r < 256; r++) {
        unsigned char b = (unsigned char)r;
        b64(&b, 1, line);
        fprintf(f, "%s %d\n", line, r);
    }
    for (int i = 0; i < N_MERGES; i++) {
        b64((const unsigned char *)MERGES[i], strlen(MERGES[i]), line);
        fprintf(f, "%s %d\n", line, 256 + i);
    }
    fclose(f);
    vc_error err;
    assert_int_equal(whisper_tokenizer_load(t, path, 99, &err), 0);
    unlink(path);
}

static void encode_expect(const whisper_tokenizer *t, const char *text, const int *want, int n_want)
{
    int *ids, n;
    vc_error err;
    assert_int_equal(whisper_encode(t, text, &ids, &n, &err), 0);
    assert_int_equal(n, n_want);
    for (int i = 0; i < n; i++) assert_int_equal(ids[i], want[i]);
    free(ids);
}

static void bpe_merges_lowest_rank_first(void **state)
{
    whisper_tokenizer t;
    load_vocab(&t);
    /* "bcd": bc (rank 256) merges before cd (264), then "bcd" is no token */
    encode_expect(&t, "bcd", (int[]){256, 'd'}, 2);
    /* "abcd": bc first, then a+bc = "abc" (258); "abcd" is no token */
    encode_expect(&t, "abcd", (int[]){258, 'd'}, 2);
    /* "abc" is a token as a whole piece */
    encode_expect(&t, "abc", (int[]){258}, 1);
    /* " world" whole; "x world" splits into "x" and " world" */
    encode_expect(&t, "x world", (int[]){'x', 263}, 2);
    whisper_tokenizer_free(&t);
}

static void pieces(const char *text, const char *const *want, int n_want)
{
    size_t n = strlen(text), pos = 0;
    int i = 0;
    for (; pos < n; i++) {
        size_t end = whisper_piece_end(text, n, pos);
        assert_true(i < n_want);
        assert_int_equal(end - pos, strlen(want[i]));
        assert_memory_equal(text + pos, want[i], end - pos);
        pos = end;
    }
    assert_int_equal(i, n_want);
}

static void pre_split_follows_the_pattern(void **state)
{
    pieces("Hello  world", (const char *[]){"Hello", " ", " world"}, 3);
    pieces("it's we'll", (const char *[]){"it", "'s", " we", "'ll"}, 4);
    pieces("a  \n", (const char *[]){"a", "  \n"}, 2);            /* trailing whitespace: one piece */
    pieces(" 123abc", (const char *[]){" 123", "abc"}, 2);
    pieces("x !!?", (const char *[]){"x", " !!?"}, 2);
    pieces("é日本 ñ", (const char *[]){"é日本", " ñ"}, 2);       /* letters beyond ASCII */
    pieces("\t\tx", (const char *[]){"\t", "\t", "x"}, 3);      /* \s+(?!\S) backs off one; \t is no ' ' */
}

static void special_tokens_follow_the_ranks(void **state)
{
    whisper_tokenizer t;
    load_vocab(&t);
    int R = 256 + N_MERGES;
    assert_int_equal(t.eot, R);
    assert_int_equal(t.sot, R + 1);
    assert_int_equal(t.translate, R + 2 + 99);
    assert_int_equal(t.no_timestamps, R + 2 + 99 + 5);
    assert_int_equal(t.timestamp_begin, R + 2 + 99 + 6);
    assert_int_equal(t.n_vocab, t.timestamp_begin + 1501);
    char buf[32];
    assert_int_equal(whisper_special_text(&t, t.timestamp_begin + 1500, buf, sizeof buf), 1);
    assert_string_equal(buf, "<|30.00|>");
    whisper_special_text(&t, t.sot + 1 + whisper_language_index("haw"), buf, sizeof buf);
    assert_string_equal(buf, "<|haw|>");
    int ids[] = {t.sot, 'h', 'i', t.timestamp_begin + 7, t.eot};
    char *with = whisper_detokenize(&t, ids, 5, 1), *without = whisper_detokenize(&t, ids, 5, 0);
    assert_string_equal(with, "<|startoftranscript|>hi<|0.14|><|endoftext|>");
    assert_string_equal(without, "<|startoftranscript|>hi<|endoftext|>");
    free(with);
    free(without);
    whisper_tokenizer_free(&t);
}

static void decode_replaces_broken_utf8(void **state)
{
    whisper_tokenizer t;
    load_vocab(&t);
    int ids[] = {0xE2, 0x82, 'x', 0xFF, 0xC3, 0xA9}; /* truncated 3-byte sequence, x, invalid byte, é */
    char *s = whisper_detokenize(&t, ids, 6, 0);
    assert_string_equal(s, "\xEF\xBF\xBDx\xEF\xBF\xBD\xC3\xA9");
    free(s);
    whisper_tokenizer_free(&t);
}

static void encode_refuses_specials_and_bad_utf8(void **state)
{
    whisper_tokenizer t;
    load_vocab(&t);
    int *ids = NULL, n;
    vc_error err;
    assert_int_equal(whisper_encode(&t, "say <|en|> now", &ids, &n, &err), -1);
    assert_non_null(strstr(err.message, "<|en|>"));
    assert_int_equal(whisper_encode(&t, "bad \xC3(", &ids, &n, &err), -1);
    assert_int_equal(whisper_encode(&t, "<|notaspecial|>", &ids, &n, &err), 0); /* only real specials refuse */
    free(ids);
    whisper_tokenizer_free(&t);
}

static void strip_is_pythons(void **state)
{
    char a[] = " \t\xE3\x80\x80hi there\xC2\xA0\n", b[] = "\xE2\x80\x83 ", c[] = "x";
    assert_string_equal(whisper_strip(a), "hi there"); /* U+3000 and U+00A0 are whitespace too */
    assert_string_equal(whisper_strip(b), "");
    assert_string_equal(whisper_strip(c), "x");
}

static void compression_ratio_flags_repetition(void **state)
{
    char rep[401];
    for (int i = 0; i < 400; i++) rep[i] = "ab "[i % 3];
    rep[400] = '\0';
    assert_true(whisper_compression_ratio(rep) > 2.4);
    assert_true(whisper_compression_ratio("Hello world") < 1.0);
    assert_true(whisper_compression_ratio("") == 0.0);
}

/* A front-end-only model: filters and no pool. */
static void mel_model(whisper_model *m, int n_mels)
{
    memset(m, 0, sizeof *m);
    m->dims.n_mels = n_mels;
    m->mel_filters = malloc(sizeof(float) * n_mels * WHISPER_N_BINS);
    whisper_mel_filters(m->mel_filters, n_mels);
}

static void mel_filters_are_slaney_triangles(void **state)
{
    whisper_model m;
    mel_model(&m, 80);
    for (int r = 0; r < 80; r++) {
        const float *w = m.mel_filters + r * WHISPER_N_BINS;
        int nonzero = 0;
        for (int k = 0; k < WHISPER_N_BINS; k++) {
            assert_true(w[k] >= 0);
            nonzero += w[k] > 0;
        }
        assert_true(nonzero >= 1);
    }
    /* worked out in double from librosa's definition: band 0 spans 0 / 37.239 / 74.478 Hz, bin 1
     * is 40 Hz: (74.478 − 40) / 37.239 · 2 / 74.478; band 79 ends at 8000 Hz (bin 199: 7960 Hz) */
    assert_float_equal(m.mel_filters[0], 0.0f, 0);
    assert_float_equal(m.mel_filters[1], 0.024862594f, 1e-8);
    assert_float_equal(m.mel_filters[79 * WHISPER_N_BINS + 199], 0.00044875903f, 1e-9);
    assert_float_equal(m.mel_filters[79 * WHISPER_N_BINS + 200], 0.0f, 1e-9);
    free(m.mel_filters);
}

static void mel_of_a_tone_peaks_at_its_band(void **state)
{
    whisper_model m;
    mel_model(&m, 80);
    size_t n = 16000;
    float *x = malloc(sizeof(float) * n), *mel = malloc(sizeof(float) * 80 * 100);
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * sinf(2 * (float)M_PI * 1000.0f * i / 16000.0f);
    vc_error err;
    assert_int_equal(whisper_log_mel(&m, x, n, 0, mel, &err), 0);
    assert_int_equal(whisper_mel_frames(n, 0), 100);
    int best = 0;
    for (int r = 1; r < 80; r++)
        if (mel[r * 100 + 50] > mel[best * 100 + 50]) best = r;
    /* 1000 Hz sits at mel 15; 80 bands over 0..hz_to_mel(8000) ≈ 45.2 put band centres every
     * 45.2/81 ≈ 0.558 mel: centre index ≈ 15/0.558 − 1 ≈ 25.9 */
    assert_true(best == 25 || best == 26);
    /* silence: everything is the floor, (−10 + 4) / 4 */
    memset(x, 0, sizeof(float) * n);
    assert_int_equal(whisper_log_mel(&m, x, n, 0, mel, &err), 0);
    assert_float_equal(mel[0], -1.5f, 1e-6);
    assert_float_equal(mel[80 * 100 - 1], -1.5f, 1e-6);
    free(x);
    free(mel);
    free(m.mel_filters);
}

static void load_refuses_other_files(void **state)
{
    whisper_model m;
    vc_error err;
    assert_int_equal(whisper_load(&m, "/nonexistent/whisper.pt", &err), -1);
    char path[] = "/tmp/vcs-notwhisper-XXXXXX";
    int fd = mkstemp(path);
    /* a valid safetensors file with one unrelated tensor */
    const char *hdr = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    unsigned long long len = strlen(hdr);
    FILE *f = fdopen(fd, "wb");
    fwrite(&len, 8, 1, f);
    fwrite(hdr, 1, len, f);
    float zero = 0;
    fwrite(&zero, 4, 1, f);
    fclose(f);
    assert_int_equal(whisper_load(&m, path, &err), -1);
    assert_non_null(strstr(err.message, "Whisper"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bpe_merges_lowest_rank_first),
        cmocka_unit_test(pre_split_follows_the_pattern),
        cmocka_unit_test(special_tokens_follow_the_ranks),
        cmocka_unit_test(decode_replaces_broken_utf8),
        cmocka_unit_test(encode_refuses_specials_and_bad_utf8),
        cmocka_unit_test(strip_is_pythons),
        cmocka_unit_test(compression_ratio_flags_repetition),
        cmocka_unit_test(mel_filters_are_slaney_triangles),
        cmocka_unit_test(mel_of_a_tone_peaks_at_its_band),
        cmocka_unit_test(load_refuses_other_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
