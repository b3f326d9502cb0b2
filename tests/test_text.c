/* test_text.c: UTF-8 decoding, Hangul composition and the pre-tokenizer. */
#include <stdlib.h>

#include "test.h"
#include "kernels/kern_ops.h"
#include "tokenizer/hangul.h"
#include "tokenizer/pretok.h"
#include "util/rng.h"
#include "util/utf8.h"

static size_t dec(const char *s, uint32_t *cp) { return utf8_decode((const uint8_t *)s, strlen(s), cp); }

TEST(utf8_decode_accepts_valid_sequences)
{
    uint32_t cp;
    CHECK_EQ(dec("A", &cp), 1);
    CHECK_EQ(cp, 'A');
    CHECK_EQ(dec("\xC3\xA9", &cp), 2);
    CHECK_EQ(cp, 0xE9);
    CHECK_EQ(dec("\xED\x95\x9C", &cp), 3); /* 한 */
    CHECK_EQ(cp, 0xD55C);
    CHECK_EQ(dec("\xF0\x9F\x98\x80", &cp), 4); /* 😀 */
    CHECK_EQ(cp, 0x1F600);
}

TEST(utf8_decode_rejects_overlong_surrogates_and_out_of_range)
{
    uint32_t cp;
    CHECK_EQ(dec("\xC0\xAF", &cp), 0);          /* overlong '/' */
    CHECK_EQ(dec("\xE0\x80\xAF", &cp), 0);      /* overlong */
    CHECK_EQ(dec("\xED\xA0\x80", &cp), 0);      /* lone surrogate U+D800 */
    CHECK_EQ(dec("\xF4\x90\x80\x80", &cp), 0);  /* U+110000 */
    CHECK_EQ(dec("\x80", &cp), 0);              /* continuation byte */
    CHECK_EQ(dec("\xFF", &cp), 0);
    CHECK_EQ(utf8_decode((const uint8_t *)"\xED\x95", 2, &cp), 0); /* truncated */
    CHECK_EQ(utf8_validate((const uint8_t *)"ab\xED\x95", 4), 2);
}

TEST(utf8_class_separates_scripts)
{
    CHECK_EQ(utf8_class(0xD55C), UC_HANGUL);
    CHECK_EQ(utf8_class(0x1100), UC_HANGUL);
    CHECK_EQ(utf8_class(0x314B), UC_HANGUL); /* ㅋ */
    CHECK_EQ(utf8_class('a'), UC_LATIN);
    CHECK_EQ(utf8_class(0xE9), UC_LATIN);
    CHECK_EQ(utf8_class('7'), UC_DIGIT);
    CHECK_EQ(utf8_class(0x4E2D), UC_LETTER); /* 中 */
    CHECK_EQ(utf8_class(0x3000), UC_SPACE);
    CHECK_EQ(utf8_class(0xA0), UC_SPACE);
    CHECK_EQ(utf8_class(','), UC_PUNCT);
    CHECK_EQ(utf8_class(0x1F600), UC_PUNCT);
    CHECK_EQ(utf8_class(0x301), UC_EXTEND);
}

static void compose(const char *in, char *out)
{
    size_t n = hangul_compose((const uint8_t *)in, strlen(in), (uint8_t *)out);
    out[n] = 0;
}

TEST(hangul_compose_builds_syllables_from_nfd_jamo)
{
    char out[64];
    /* 한국어 in NFD: ᄒ ᅡ ᆫ ᄀ ᅮ ᆨ ᄋ ᅥ */
    compose("\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB\xE1\x84\x80\xE1\x85\xAE\xE1\x86\xA8"
            "\xE1\x84\x8B\xE1\x85\xA5", out);
    CHECK_STR(out, "한국어");
    /* precomposed LV followed by a T: 가 + ᆨ = 각 */
    compose("\xEA\xB0\x80\xE1\x86\xA8", out);
    CHECK_STR(out, "각");
    CHECK(hangul_needs_compose((const uint8_t *)"\xEA\xB0\x80\xE1\x86\xA8", 6));
}

TEST(hangul_compose_leaves_other_text_alone)
{
    char out[64];
    const char *cases[] = {"plain ascii", "한국어 ㅋㅋㅋ", "\xE1\x84\x92 lone L", "\xFF\xFE bad",
                           "각\xE1\x86", "\xE1\x85\xA1 lone V"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        compose(cases[i], out);
        CHECK_STR(out, cases[i]);
    }
    CHECK(!hangul_needs_compose((const uint8_t *)"한국어 ㅋㅋ", strlen("한국어 ㅋㅋ")));
}

TEST(hangul_compose_is_idempotent_on_random_jamo)
{
    srand(7);
    for (int it = 0; it < 200; it++) {
        uint8_t in[120], a[120], b[120];
        size_t n = 0;
        while (n + 3 <= sizeof in) {
            uint32_t cp = (uint32_t)(rand() % 3 == 0 ? 0x1100 + rand() % 0x100 : 0xAC00 + rand() % 11172);
            n += utf8_encode(cp, in + n);
        }
        size_t na = hangul_compose(in, n, a);
        CHECK(na <= n);
        size_t nb = hangul_compose(a, na, b);
        CHECK_EQ(na, nb);
        CHECK(memcmp(a, b, na) == 0);
    }
}

/* Chunks of s joined by '|'. */
static void chunks(const char *s, char *out)
{
    size_t n = strlen(s), pos = 0, o = 0;
    while (pos < n) {
        size_t end = pretok_next((const uint8_t *)s, n, pos);
        if (pos)
            out[o++] = '|';
        memcpy(out + o, s + pos, end - pos);
        o += end - pos;
        pos = end;
    }
    out[o] = 0;
}

TEST(pretok_attaches_one_leading_space_to_words)
{
    char out[256];
    chunks("Hello world", out);
    CHECK_STR(out, "Hello| world");
    chunks("a  b", out);
    CHECK_STR(out, "a| | b");
    chunks("a\n\nb", out);
    CHECK_STR(out, "a|\n\n|b");
    chunks("end.  ", out);
    CHECK_STR(out, "end|.|  ");
}

TEST(pretok_splits_scripts_digits_and_punctuation)
{
    char out[256];
    chunks("LibreOffice에서 파일을 열면", out);
    CHECK_STR(out, "LibreOffice|에서| 파일을| 열면");
    chunks("12345 678 x 9", out);
    CHECK_STR(out, "123|45| 678| x| 9");
    chunks("(참고: 제3조)", out);
    CHECK_STR(out, "(|참고|:| 제|3|조|)");
    chunks("don't I'LL", out);
    CHECK_STR(out, "don|'t| I|'LL");
    chunks("中文한국 日本", out);
    CHECK_STR(out, "中文|한국| 日本");
    chunks("hi 😀😀!", out);
    CHECK_STR(out, "hi| 😀😀!");
    chunks("cafe\xCC\x81 ok", out); /* combining acute continues the Latin run */
    CHECK_STR(out, "cafe\xCC\x81| ok");
}

TEST(pretok_caps_chunk_length_at_character_boundaries)
{
    char s[2000];
    size_t n = 0;
    for (int i = 0; i < 600; i++)
        n += utf8_encode(0xAC00 + (uint32_t)i, (uint8_t *)s + n);
    size_t pos = 0;
    while (pos < n) {
        size_t end = pretok_next((const uint8_t *)s, n, pos);
        CHECK(end - pos <= PRETOK_MAX_CHUNK);
        CHECK((end - pos) % 3 == 0); /* whole syllables */
        pos = end;
    }
}

TEST(pretok_chunks_cover_random_bytes_exactly)
{
    srand(11);
    for (int it = 0; it < 500; it++) {
        uint8_t s[300];
        size_t n = 1 + (size_t)(rand() % 300);
        for (size_t i = 0; i < n; i++)
            s[i] = (uint8_t)(rand() % 5 == 0 ? ' ' : rand());
        size_t pos = 0;
        while (pos < n) {
            size_t end = pretok_next(s, n, pos);
            CHECK(end > pos && end <= n && end - pos <= PRETOK_MAX_CHUNK);
            pos = end;
        }
    }
}

TEST(pretok_safe_split_points_do_not_change_chunking)
{
    const char *text = "첫째 줄입니다.\n  들여쓴 줄\n\n셋째 12345\nLast line's end\n x";
    size_t n = strlen(text);
    const uint8_t *s = (const uint8_t *)text;
    /* chunk boundaries of the whole text */
    uint8_t whole[256] = {0};
    for (size_t pos = 0; pos < n;)
        whole[pos = pretok_next(s, n, pos)] = 1;
    for (size_t target = 0; target < n; target++) {
        size_t p = pretok_safe_split(s, n, target);
        CHECK(p >= target && p <= n);
        if (p == n)
            continue;
        CHECK_EQ(s[p - 1], '\n');
        CHECK_EQ(whole[p], 1);
        /* chunking the tail alone gives the same boundaries */
        for (size_t pos = p; pos < n;) {
            pos = p + pretok_next(s + p, n - p, pos - p);
            CHECK_EQ(whole[pos], 1);
        }
    }
}

/* utf8_validate against its definition, one character at a time: random mixes of
 * ASCII runs (the 8-byte fast path), Hangul, 4-byte characters and bad bytes at every
 * offset, in buffers of exactly their size (ASan sees any read past the end). */
static size_t validate_ref(const uint8_t *s, size_t n)
{
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_decode(s + i, n - i, &cp);
        if (l == 0)
            return i;
        i += l;
    }
    return n;
}

TEST(utf8_validate_equals_its_definition_on_random_mixes)
{
    static const char *const piece[] = {"a", "hello wor", "0123456789abcdef", "\xED\x95\x9C", "\xF0\x9F\x98\x80",
                                        "\xC3\xA9", "\x80", "\xED\xA0\x80", "\xE0\x80\xAF", "\xFF"};
    uint64_t st = 11;
    int same = 1;
    for (int t = 0; t < 3000; t++) {
        uint8_t tmp[256];
        size_t n = 0;
        int parts = (int)(rng_splitmix64(&st) % 12);
        for (int k = 0; k < parts; k++) {
            uint64_t r = rng_splitmix64(&st);
            /* bad pieces (index 6..9) rarely, so most strings are long and valid */
            int which = (int)(r % 100 < 4 ? 6 + (r >> 8) % 4 : (r >> 8) % 6);
            size_t l = strlen(piece[which]);
            memcpy(tmp + n, piece[which], l);
            n += l;
        }
        uint8_t *buf = malloc(n ? n : 1);
        memcpy(buf, tmp, n);
        size_t got = utf8_validate(buf, n), want = validate_ref(buf, n);
        if (got != want) {
            printf("    case %d: %zu, want %zu (n %zu)\n", t, got, want, n);
            same = 0;
        }
        free(buf);
    }
    CHECK(same);
}

/* Every path's utf8_valid kernel (32 or 64 bytes a block) against the definition:
 * random mixes up to 1 KB of every kind of good and bad sequence, errors at every
 * place of a block and across blocks, and every byte pair and every lead-started
 * triple at the places where blocks meet or the text ends; buffers of exactly their
 * size (ASan sees a read past the end). */
static int utf8_kernel_agrees(const kern_ops *k, const uint8_t *s, size_t n, int path)
{
    uint8_t *buf = malloc(n ? n : 1);
    memcpy(buf, s, n);
    size_t got = k->utf8_valid(buf, n), want = validate_ref(buf, n);
    free(buf);
    if (got != want)
        printf("    path %d, n %zu: %zu, want %zu\n", path, n, got, want);
    return got == want;
}

TEST(utf8_valid_kernels_equal_the_definition_on_every_path)
{
    static const char *const piece[] = {
        "a", "hello wor", "0123456789abcdef0123456789abcdef", "\xED\x95\x9C", "\xEA\xB0\x80\xEB\x82\x98",
        "\xF0\x9F\x98\x80", "\xC3\xA9", "\xF4\x8F\xBF\xBF", "\xEF\xBF\xBF", "\xE0\xA0\x80", "\xC2\x80",
        /* bad from here on (BAD) */
        "\x80", "\xBF", "\xED\xA0\x80", "\xE0\x80\xAF", "\xC0\x80", "\xC1\xBF", "\xF0\x80\x80\x80",
        "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\xFE", "\xC3", "\xE0\xA0", "\xF0\x9F\x98", "\xC3\xC3"};
    enum { NPIECE = sizeof piece / sizeof *piece, BAD = 11 };
    static uint8_t tmp[2048];
    int same = 1, checked = 0;
    for (int path = 0; path < 3; path++) {
        if (!isa_supported((dk_isa)path))
            continue;
        const kern_ops *k = kern_of((dk_isa)path);
        checked++;
        uint64_t st = 7 + (uint64_t)path;
        for (int t = 0; t < 20000 && same; t++) {
            size_t n = 0;
            int parts = (int)(rng_splitmix64(&st) % 80);
            for (int q = 0; q < parts; q++) {
                uint64_t r = rng_splitmix64(&st);
                int which = (int)(r % 1000 < 8 ? BAD + (r >> 10) % (NPIECE - BAD) : (r >> 10) % BAD);
                size_t l = strlen(piece[which]);
                memcpy(tmp + n, piece[which], l);
                n += l;
            }
            same &= utf8_kernel_agrees(k, tmp, n, path);
        }
        /* a pair or a lead-started triple at each place near a block's end, after
         * ASCII or after Hangul, in texts that end there or go on */
        static const size_t at[] = {0, 30, 31, 62, 63, 126, 127};
        for (int a = 0; a < 256 && same; a++)
            for (int b = 0; b < 256 && same; b++)
                for (size_t w = 0; w < sizeof at / sizeof *at; w++) {
                    for (size_t j = 0; j < at[w]; j++)
                        tmp[j] = (at[w] % 3 == 0 && j + 3 <= at[w]) ? "\xED\x95\x9C"[j % 3] : 'x';
                    tmp[at[w]] = (uint8_t)a;
                    tmp[at[w] + 1] = (uint8_t)b;
                    same &= utf8_kernel_agrees(k, tmp, at[w] + 2, path);
                    memset(tmp + at[w] + 2, 'y', 70);
                    same &= utf8_kernel_agrees(k, tmp, at[w] + 72, path);
                    if (a >= 0xE0 && a <= 0xF4 && b >= 0x80 && b <= 0xBF)
                        for (int c = 0; c < 256; c += (w & 1) ? 1 : 7) {
                            tmp[at[w] + 2] = (uint8_t)c;
                            same &= utf8_kernel_agrees(k, tmp, at[w] + 3, path);
                            tmp[at[w] + 3] = 0x80;
                            same &= utf8_kernel_agrees(k, tmp, at[w] + 4, path);
                            same &= utf8_kernel_agrees(k, tmp, at[w] + 40, path);
                        }
                }
    }
    CHECK(checked >= 1);
    CHECK(same);
}
