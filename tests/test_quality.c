/* test_quality.c: the quality filters of `dokja data build` (data/quality.h). */
#include <stdlib.h>
#include <string.h>

#include "data/quality.h"
#include "test.h"
#include "util/rng.h"
#include "util/utf8.h"

static int verdict(const quality_params *p, const char *t)
{
    quality_scratch s = {0};
    int q = quality_check(p, (const unsigned char *)t, strlen(t), &s);
    quality_scratch_free(&s);
    return q;
}

/* n words of ordinary running text, no word n-gram said twice beyond chance */
static char *prose(int n)
{
    static const char *w[] = {"the", "river", "ran", "past", "old", "mills", "where", "children",
                              "learned", "to", "count", "boats", "and", "herons", "before", "winter"};
    char *s = malloc((size_t)n * 12 + 1), *p = s;
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s%s%d", i ? " " : "", w[(i * 7 + i / 16) % 16], i); /* each word unique */
    return s;
}

TEST(quality_too_short_and_letter_share_keep_real_korean_text)
{
    quality_params p;
    quality_params_default(&p);
    CHECK_EQ(p.min_chars, 3);
    CHECK_EQ(p.repetition, 0);
    CHECK_EQ(verdict(&p, "굿"), QUALITY_SHORT);
    CHECK_EQ(verdict(&p, "  ㅋ \t"), QUALITY_SHORT);
    CHECK_EQ(verdict(&p, "최고!!"), QUALITY_OK); /* 2 letters of 4: a real review */
    CHECK_EQ(verdict(&p, "이 영화 정말 재미있어요"), QUALITY_OK);
    /* statutes: numbers, brackets and Hanja are text, not junk */
    CHECK_EQ(verdict(&p, "제1조(목적) 이 법은 國民의 權利를 보장함을 목적으로 한다. <개정 2016.2.3>"), QUALITY_OK);
    CHECK_EQ(verdict(&p, "* * * * * * * *"), QUALITY_LETTERS);
    CHECK_EQ(verdict(&p, "1. 삭제 <2016.2.3>"), QUALITY_LETTERS); /* a deletion marker: 2 letters of 14 */
    CHECK_EQ(verdict(&p, "2015.00.00 12:34:56 | 0x7f3a | 99.9%"), QUALITY_LETTERS);
    /* off */
    quality_params off = {0};
    CHECK_EQ(verdict(&off, "굿"), QUALITY_OK);
    CHECK_EQ(verdict(&off, "* * *"), QUALITY_OK);
    p.min_chars = 0;
    CHECK_EQ(verdict(&p, "굿"), QUALITY_OK);
    /* invalid UTF-8 (other callers) is read without a crash: a byte is a character */
    CHECK_EQ(verdict(&p, "\xff\xfe\xfd\xfc"), QUALITY_LETTERS);
}

TEST(quality_repetition_follows_gophers_rules_on_long_documents_only)
{
    quality_params p = {.repetition = 1};
    char *ok = prose(80);
    CHECK_EQ(verdict(&p, ok), QUALITY_OK);
    /* a short text saying one 2-gram twice is not judged (under 50 words) */
    CHECK_EQ(verdict(&p, "usual, and she had then only to sit and think of what she had lost."), QUALITY_OK);
    /* the top 2-gram: "buy now" 20 times in 100 words covers far more than 20 % */
    char *spam = malloc(4096), *q = spam;
    for (int i = 0; i < 60; i++)
        q += sprintf(q, "%s", i % 3 == 0 ? "buy now " : "");
    q += sprintf(q, "%s", ok);
    CHECK_EQ(verdict(&p, spam), QUALITY_REPETITION);
    /* duplicated 5..10-grams: the same 12-word sentence three times in 80 words */
    char *dup = malloc(8192);
    sprintf(dup, "%s %s %s %s", "one two three four five six seven eight nine ten eleven twelve",
            "one two three four five six seven eight nine ten eleven twelve",
            "one two three four five six seven eight nine ten eleven twelve", ok);
    CHECK_EQ(verdict(&p, dup), QUALITY_REPETITION);
    /* lines: more than 30 % of the lines repeat an earlier one */
    CHECK_EQ(verdict(&p, "menu\nhome\nmenu\nmenu\nabout us and more"), QUALITY_REPETITION);
    CHECK_EQ(verdict(&p, "first line\nsecond line\nthird line\nfourth line"), QUALITY_OK);
    /* the same documents pass with repetition off (the default) */
    quality_params d;
    quality_params_default(&d);
    CHECK_EQ(verdict(&d, spam), QUALITY_OK);
    CHECK_EQ(verdict(&d, dup), QUALITY_OK);
    free(ok);
    free(spam);
    free(dup);
}

TEST(quality_counts_equal_the_character_classes)
{
    /* the byte-table count against decoding every character and asking utf8_class, on
     * 2,000 random valid texts: code points from every plane (surrogates excepted),
     * half of them ASCII or Hangul, as the corpora are */
    uint8_t buf[4 * 300];
    for (uint64_t doc = 0; doc < 2000; doc++) {
        size_t len = 0, want_ns = 0, want_lt = 0;
        size_t n = rng_u64(1234, doc) % 300;
        for (size_t c = 0; c < n; c++) {
            uint64_t r = rng_u64(doc + 99, c);
            uint32_t cp;
            switch (r % 4) {
            case 0: cp = (uint32_t)(r >> 8) % 0x80; break;
            case 1: cp = 0xAC00 + (uint32_t)(r >> 8) % 11172; break;
            case 2: cp = (uint32_t)(r >> 8) % 0x10000; break;
            default: cp = (uint32_t)(r >> 8) % 0x110000; break;
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD;
            len += utf8_encode(cp, buf + len);
            uclass k = utf8_class(cp);
            want_ns += k != UC_SPACE;
            want_lt += k == UC_HANGUL || k == UC_LATIN || k == UC_LETTER;
        }
        uint8_t *t = malloc(len ? len : 1); /* exactly the text: ASan sees any over-read */
        memcpy(t, buf, len);
        size_t ns, lt;
        quality_counts(t, len, &ns, &lt);
        CHECK_MSG(ns == want_ns && lt == want_lt, "text %llu: %zu/%zu non-space, %zu/%zu letters",
                  (unsigned long long)doc, ns, want_ns, lt, want_lt);
        free(t);
    }
}
