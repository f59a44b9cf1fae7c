/*
 * F5-TTS text → tokens as the official convert_char_to_pinyin: TONE3 conversion of marked
 * readings, the Debian pinyin data, tone sandhi, the ';'/curly-quote translation and the space
 * before ASCII words. Expected token strings worked out by hand from the official rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "models/f5tts/f5tts_pinyin.h"
#include "models/f5tts/f5tts_text.h"

static void tone3_from_marks(void **state)
{
    char out[F5_PINYIN_MAX];
    static const char *const CASES[][2] = {{"zhōng", "zhong1"}, {"lǜ", "lv4"}, {"de", "de"}, {"nǚ", "nv3"},
                                           {"ń", "n2"}, {"guó", "guo2"}, {"ǎi", "ai3"}, {"lüè", "lve4"}};
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        assert_int_equal(f5_pinyin_tone3(CASES[i][0], out), 0);
        assert_string_equal(out, CASES[i][1]);
    }
    assert_int_equal(f5_pinyin_tone3("zhuāngzhuāng", out), -1); /* too long for one syllable */
}

/* Token strings of text through a vocabulary that holds exactly those strings, joined by '|'. */
static void tokens_as_text(const f5_pinyin *py, const char *text, const char *const *vocab, int n_vocab, char *out, size_t cap)
{
    char path[] = "/tmp/vcs-vocab-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < n_vocab; i++) fprintf(f, "%s\n", vocab[i]);
    fclose(f);
    f5_vocab v;
    vc_error err;
    assert_int_equal(f5_vocab_load(&v, path, &err), 0);
    unlink(path);
    int64_t ids[256];
    int n = f5_tokenize(&v, py, text, ids, 256);
    assert_true(n >= 0);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        strncat(out, ids[i] ? v.tokens[ids[i]] : "<0>", cap - strlen(out) - 1);
        if (i + 1 < n) strncat(out, "|", cap - strlen(out) - 1);
    }
    f5_vocab_free(&v);
}

static const char *const VOCAB[] = {"<filler>", " ", ",", "'", "\"", ".", "H", "e", "l", "o", "w", "r", "d", "I", "m", "A",
                                    "zhong1", "guo2", "ni2", "ni3", "hao3", "bu2", "bu4", "shi4", "yi2", "yi4", "yi1", "ge4",
                                    "tian1", "wo3", "ai4", "hen3", "hen2"};
#define N_VOCAB (int)(sizeof VOCAB / sizeof VOCAB[0])

static void chinese_becomes_tone3_pinyin_with_sandhi(void **state)
{
    f5_pinyin py;
    vc_error err;
    if (f5_pinyin_load(&py, NULL, &err) != 0) fail_msg("%s", err.message); /* installed by scripts/install-deps.sh */
    assert_true(py.count > 20000);
    char got[512];
    tokens_as_text(&py, "中国", VOCAB, N_VOCAB, got, sizeof got);
    assert_string_equal(got, " |zhong1| |guo2");
    tokens_as_text(&py, "你好", VOCAB, N_VOCAB, got, sizeof got); /* 3-3 → 2-3 */
    assert_string_equal(got, " |ni2| |hao3");
    tokens_as_text(&py, "我很好", VOCAB, N_VOCAB, got, sizeof got); /* a run of three 3rd tones */
    assert_string_equal(got, " |<0>| |hen2| |hao3");               /* wo2 is not in this vocabulary */
    tokens_as_text(&py, "不是", VOCAB, N_VOCAB, got, sizeof got);
    assert_string_equal(got, " |bu2| |shi4");
    tokens_as_text(&py, "一个", VOCAB, N_VOCAB, got, sizeof got);
    assert_string_equal(got, " |yi2| |ge4");
    tokens_as_text(&py, "一天", VOCAB, N_VOCAB, got, sizeof got);
    assert_string_equal(got, " |yi4| |tian1");
    tokens_as_text(&py, "我爱AI", VOCAB, N_VOCAB, got, sizeof got); /* a space before the ASCII word */
    assert_string_equal(got, " |wo3| |ai4| |A|I");
    f5_pinyin_free(&py);
}

static void ascii_rules_follow_the_official_code(void **state)
{
    char got[512];
    tokens_as_text(NULL, "Hello;world.", VOCAB, N_VOCAB, got, sizeof got); /* ';' → ',' then a space before "world" */
    assert_string_equal(got, "H|e|l|l|o|,| |w|o|r|l|d|.");
    tokens_as_text(NULL, "I'm", VOCAB, N_VOCAB, got, sizeof got); /* after a quote: no space */
    assert_string_equal(got, "I|'|m");
    tokens_as_text(NULL, "\xE2\x80\x9CHe\xE2\x80\x9D", VOCAB, N_VOCAB, got, sizeof got); /* curly quotes → '"' */
    assert_string_equal(got, "\"|H|e|\"");
    tokens_as_text(NULL, "中", VOCAB, N_VOCAB, got, sizeof got); /* without pinyin data: the character itself */
    assert_string_equal(got, "<0>");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tone3_from_marks),
        cmocka_unit_test(chinese_becomes_tone3_pinyin_with_sandhi),
        cmocka_unit_test(ascii_rules_follow_the_official_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
