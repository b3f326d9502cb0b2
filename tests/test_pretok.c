/* test_pretok.c: the llama.cpp-compatible pre-tokenizers (pretok.h, pretok_llama.h)
 * against an independent oracle: JavaScript's regex engine running llama.cpp's regex
 * strings (tests/gen_pretok_fixtures.mjs wrote tests/fixtures/pretok/oracle.json), on
 * hand-written tricky strings and on samples of ../shared/data; and the properties the
 * trainer and the encoder rely on (cover, safe split points, no length cap). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "tokenizer/pretok.h"
#include "tokenizer/pretok_llama.h" /* the generated table's lookup, to check its ASCII part */
#include "util/fs.h"

#define ORACLE "tests/fixtures/pretok/oracle.json"
#define DATA_DIR "../shared/data"

/* The oracle's families and every kind that splits as each. */
static const struct {
    const char *family;
    enum tok_pretok kinds[4];
    int n;
} FAMILY[] = {
    {"gpt2", {TOK_PRETOK_GPT2, TOK_PRETOK_EXAONE4, TOK_PRETOK_AX4, TOK_PRETOK_TRILLION}, 4},
    {"exaone", {TOK_PRETOK_EXAONE}, 1},
    {"llama3", {TOK_PRETOK_LLAMA_BPE, TOK_PRETOK_MIDM2}, 2},
    {"qwen2", {TOK_PRETOK_QWEN2, TOK_PRETOK_SOLAR_OPEN, TOK_PRETOK_KORMO}, 3},
    {"exaone_moe", {TOK_PRETOK_EXAONE_MOE}, 1},
    {"gpt4o", {TOK_PRETOK_KANANA2}, 1},
};
#define N_FAMILY (sizeof FAMILY / sizeof FAMILY[0])

static json_t *oracle(void)
{
    static json_t *root;
    if (!root) {
        json_error_t je;
        root = json_load_file(ORACLE, 0, &je);
        if (!root)
            fprintf(stderr, "%s: %s (line %d)\n", ORACLE, je.text, je.line);
    }
    return root;
}

/* Chunk ends of s[0..n) for kind k into ends (at most cap); returns their number. */
static size_t chunk_ends(enum tok_pretok k, const uint8_t *s, size_t n, size_t *ends, size_t cap)
{
    size_t m = 0;
    for (size_t pos = 0; pos < n;) {
        size_t end = pretok_next_kind(k, s, n, pos);
        if (end <= pos || end > n)
            return SIZE_MAX; /* a broken splitter: no progress or out of bounds */
        if (m < cap)
            ends[m] = end;
        m++;
        pos = end;
    }
    return m;
}

/* FNV-1a 32 of the chunk lengths written "l1,l2,...," (as the generator hashes). */
static uint32_t hash_chunks(enum tok_pretok k, const uint8_t *s, size_t n)
{
    uint32_t h = 0x811c9dc5u;
    for (size_t pos = 0; pos < n;) {
        size_t end = pretok_next_kind(k, s, n, pos);
        char num[32];
        int l = snprintf(num, sizeof num, "%zu,", end - pos);
        for (int i = 0; i < l; i++)
            h = (h ^ (uint8_t)num[i]) * 0x01000193u;
        pos = end;
    }
    return h;
}

TEST(pretok_names_are_llama_cpp_tokenizer_ggml_pre_strings)
{
    static const char *const NAMES[TOK_PRETOK_COUNT] = {
        "dokja-v1", "gpt-2",      "llama-bpe", "qwen2",   "exaone", "exaone4", "exaone-moe",
        "kanana2",  "solar-open", "midm-2.0",  "a.x-4.0", "kormo",  "trillion"};
    for (int k = 0; k < TOK_PRETOK_COUNT; k++) {
        CHECK_STR(pretok_name((enum tok_pretok)k), NAMES[k]);
        enum tok_pretok got;
        CHECK_EQ(pretok_from_name(NAMES[k], &got), 0);
        CHECK_EQ(got, k);
    }
    enum tok_pretok got;
    CHECK_EQ(pretok_from_name("gpt2", &got), -1); /* llama.cpp's name has the hyphen */
    CHECK_EQ(pretok_from_name("llama3", &got), -1);
    CHECK_EQ(pretok_from_name("", &got), -1);
    CHECK_STR(pretok_name(TOK_PRETOK_DEFAULT), TOK_PRETOK_DEFAULT_NAME);
    /* every kind but dokja-v1 is checked against the oracle below */
    int seen[TOK_PRETOK_COUNT] = {0};
    for (size_t f = 0; f < N_FAMILY; f++)
        for (int i = 0; i < FAMILY[f].n; i++)
            seen[FAMILY[f].kinds[i]]++;
    for (int k = 1; k < TOK_PRETOK_COUNT; k++)
        CHECK_MSG(seen[k] == 1, "kind %s is in %d oracle families", NAMES[k], seen[k]);
}

TEST(pretok_code_point_classes_are_llama_cpps)
{
    for (uint32_t c = 0; c < 128; c++)
        CHECK_EQ(PRETOK_ASCII_FLAGS[c], pretok_ucd_flags(c));
    /* White space is the White_Space property: U+0085 yes, U+FEFF and U+001F no. */
    static const uint32_t SPACE[] = {0x09,   0x0D,   0x20,   0x85,   0xA0,   0x1680, 0x2000,
                                     0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000};
    for (size_t i = 0; i < sizeof SPACE / sizeof SPACE[0]; i++)
        CHECK_EQ(pretok_ucd_flags(SPACE[i]), UCD_SPACE);
    CHECK_EQ(pretok_ucd_flags(0xFEFF), 0);
    CHECK_EQ(pretok_ucd_flags(0x1F), 0);
    CHECK_EQ(pretok_ucd_flags(0x200B), 0);
    CHECK_EQ(pretok_ucd_flags(0xAC00), UCD_LETTER);  /* 가 */
    CHECK_EQ(pretok_ucd_flags(0xD7A3), UCD_LETTER);  /* 힣 */
    CHECK_EQ(pretok_ucd_flags(0x3131), UCD_LETTER);  /* ㄱ (compatibility Jamo) */
    CHECK_EQ(pretok_ucd_flags(0x4E00), UCD_LETTER);  /* 一 */
    CHECK_EQ(pretok_ucd_flags(0x20000), UCD_LETTER); /* CJK extension B */
    CHECK_EQ(pretok_ucd_flags(0x0301), UCD_MARK);
    CHECK_EQ(pretok_ucd_flags(0x0663), UCD_NUMBER); /* ٣ */
    CHECK_EQ(pretok_ucd_flags(0x2167), UCD_NUMBER); /* Ⅷ (Nl) */
    CHECK_EQ(pretok_ucd_flags(0x00B2), UCD_NUMBER); /* ² (No) */
    CHECK_EQ(pretok_ucd_flags(0x1F600), 0);         /* 😀 */
    CHECK_EQ(pretok_ucd_flags(0xE000), 0);          /* private use */
    CHECK_EQ(pretok_ucd_flags(0x10FFFF), 0);
    CHECK_EQ(pretok_ucd_flags(0x110000), 0);
}

TEST(pretok_kinds_split_the_oracle_strings_exactly)
{
    json_t *root = oracle();
    CHECK_MSG(root, "cannot read %s", ORACLE);
    json_t *cases = json_object_get(root, "cases");
    CHECK(json_array_size(cases) > 100);
    size_t got[4096];
    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        const uint8_t *s = (const uint8_t *)json_string_value(json_object_get(c, "text"));
        size_t n = json_string_length(json_object_get(c, "text"));
        for (size_t f = 0; f < N_FAMILY; f++) {
            json_t *want = json_object_get(json_object_get(c, "ends"), FAMILY[f].family);
            CHECK(json_is_array(want));
            for (int k = 0; k < FAMILY[f].n; k++) {
                enum tok_pretok kind = FAMILY[f].kinds[k];
                size_t m = chunk_ends(kind, s, n, got, 4096);
                size_t first_diff = 0;
                while (first_diff < m && first_diff < json_array_size(want) &&
                       got[first_diff] == (size_t)json_integer_value(json_array_get(want, first_diff)))
                    first_diff++;
                CHECK_MSG(m == json_array_size(want) && first_diff == m,
                          "%s on case %zu \"%.60s\": %zu chunks, oracle %zu; first difference at "
                          "chunk %zu (end %zu, oracle %lld)",
                          pretok_name(kind), i, (const char *)s, m, json_array_size(want), first_diff,
                          first_diff < m ? got[first_diff] : 0,
                          (long long)json_integer_value(json_array_get(want, first_diff)));
            }
        }
    }
}

TEST(pretok_kinds_split_sampled_corpus_text_as_the_oracle)
{
    json_t *root = oracle();
    CHECK_MSG(root, "cannot read %s", ORACLE);
    json_t *files = json_object_get(root, "files"), *samples = json_object_get(root, "samples");
    json_t *fams = json_object_get(root, "families");
    CHECK(json_array_size(samples) > 1000);
    int col[N_FAMILY]; /* the sample column of each family */
    for (size_t f = 0; f < N_FAMILY; f++) {
        col[f] = -1;
        for (size_t j = 0; j < json_array_size(fams); j++)
            if (strcmp(json_string_value(json_array_get(fams, j)), FAMILY[f].family) == 0)
                col[f] = 3 + (int)j;
        CHECK(col[f] >= 0);
    }
    fs_map maps[128];
    size_t nf = json_array_size(files);
    CHECK(nf <= 128);
    dk_err err;
    for (size_t i = 0; i < nf; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", DATA_DIR, json_string_value(json_array_get(files, i)));
        CHECK_MSG(fs_map_open(&maps[i], path, SIZE_MAX, &err) == 0, "%s", err.msg);
    }
    size_t bad = 0, checked = 0;
    for (size_t i = 0; i < json_array_size(samples); i++) {
        json_t *row = json_array_get(samples, i);
        size_t fi = (size_t)json_integer_value(json_array_get(row, 0));
        size_t off = (size_t)json_integer_value(json_array_get(row, 1));
        size_t len = (size_t)json_integer_value(json_array_get(row, 2));
        CHECK(fi < nf && off + len <= maps[fi].size);
        const uint8_t *s = maps[fi].data + off;
        for (size_t f = 0; f < N_FAMILY; f++) {
            uint32_t want = (uint32_t)json_integer_value(json_array_get(row, (size_t)col[f]));
            for (int k = 0; k < FAMILY[f].n; k++, checked++)
                if (hash_chunks(FAMILY[f].kinds[k], s, len) != want && bad++ < 5)
                    fprintf(stderr, "  %s differs from the oracle on %s at byte %zu: \"%.80s\"\n",
                            pretok_name(FAMILY[f].kinds[k]), json_string_value(json_array_get(files, fi)),
                            off, (const char *)s);
        }
    }
    for (size_t i = 0; i < nf; i++)
        fs_map_close(&maps[i]);
    CHECK_MSG(bad == 0, "%zu of %zu sample splits differ from the oracle", bad, checked);
}

TEST(pretok_kinds_cover_random_bytes_exactly)
{
    srand(12);
    static const char *const PIECES[] = {
        " ", "\n", "\r\n",     "\t",           "'",        "'s",       "a",
        "Z", "é",  "가",       "\xE3\x80\x80", "1",        "٣",        ".",
        "/", "😀",  "\xCC\x81", "\xFF",         "\xE3\x80", "\xC0\x80", "\xED\xA0\x80"};
    for (int it = 0; it < 300; it++) {
        uint8_t s[400];
        size_t n = 0;
        while (n < 380) {
            if (rand() % 3 == 0) {
                s[n++] = (uint8_t)rand();
            } else {
                const char *p = PIECES[rand() % (sizeof PIECES / sizeof PIECES[0])];
                memcpy(s + n, p, strlen(p));
                n += strlen(p);
            }
        }
        size_t ends[400];
        for (int k = 0; k < TOK_PRETOK_COUNT; k++)
            CHECK_MSG(chunk_ends((enum tok_pretok)k, s, n, ends, 400) != SIZE_MAX,
                      "%s made no progress or overran", pretok_name((enum tok_pretok)k));
    }
}

TEST(pretok_kinds_treat_an_invalid_byte_as_u_fffd)
{
    /* llama.cpp decodes a byte that starts no well-formed sequence as U+FFFD (a
     * symbol); the chunks keep the byte itself. */
    struct {
        enum tok_pretok k;
        const char *text, *fffd;
    } CASES[] = {
        {TOK_PRETOK_GPT2,
         "ab\xFF"
         "cd ef\xC3",
         "ab\xEF\xBF\xBD"
         "cd ef\xEF\xBF\xBD"},
        {TOK_PRETOK_LLAMA_BPE, "x \xFF\xFEy\n\xE3\x80z",
         "x \xEF\xBF\xBD\xEF\xBF\xBDy\n\xEF\xBF\xBD\xEF\xBF\xBDz"},
        {TOK_PRETOK_QWEN2, "\xFF\xFF 12\xED\xA0\x80",
         "\xEF\xBF\xBD\xEF\xBF\xBD 12\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        {TOK_PRETOK_KANANA2,
         "A\xFF"
         "b \x80",
         "A\xEF\xBF\xBD"
         "b \xEF\xBF\xBD"},
        {TOK_PRETOK_EXAONE_MOE,
         "a b\xFF"
         "c d",
         "a b\xEF\xBF\xBD"
         "c d"},
        {TOK_PRETOK_EXAONE,
         "a1\xFF"
         "2",
         "a1\xEF\xBF\xBD"
         "2"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const uint8_t *a = (const uint8_t *)CASES[i].text, *b = (const uint8_t *)CASES[i].fffd;
        size_t na = strlen(CASES[i].text), nb = strlen(CASES[i].fffd), pa = 0, pb = 0;
        /* Same chunks, counting characters (an invalid byte is one, as U+FFFD is). */
        while (pa < na && pb < nb) {
            size_t ea = pretok_next_kind(CASES[i].k, a, na, pa), eb = pretok_next_kind(CASES[i].k, b, nb, pb);
            size_t ca = 0, cb = 0;
            for (size_t p = pa; p < ea; p += pch_at(a, na, p).len)
                ca++;
            for (size_t p = pb; p < eb; p += pch_at(b, nb, p).len)
                cb++;
            CHECK_MSG(ca == cb, "%s case %zu: chunk of %zu characters, with U+FFFD %zu",
                      pretok_name(CASES[i].k), i, ca, cb);
            pa = ea;
            pb = eb;
        }
        CHECK(pa == na && pb == nb);
    }
}

TEST(pretok_llama_kinds_have_no_chunk_length_cap)
{
    uint8_t s[3000];
    memset(s, '=', 400);
    size_t n = 0;
    for (int i = 0; i < 300; i++)
        n += utf8_encode(0xAC00 + (uint32_t)i, s + 400 + n);
    for (int k = 1; k < TOK_PRETOK_COUNT; k++) {
        CHECK_EQ(pretok_next_kind((enum tok_pretok)k, s, 400, 0), 400);
        CHECK_EQ(pretok_next_kind((enum tok_pretok)k, s + 400, n, 0), n);
    }
    CHECK_EQ(pretok_next_kind(TOK_PRETOK_DOKJA_V1, s, 400, 0), PRETOK_MAX_CHUNK);
}

/* Splitting at every safe point and chunking the pieces alone gives the chunks of the
 * whole, for every kind, on real text and on the oracle's tricky strings. */
TEST(pretok_kinds_safe_split_points_do_not_change_chunking)
{
    json_t *root = oracle();
    CHECK_MSG(root, "cannot read %s", ORACLE);
    static uint8_t buf[200000];
    size_t n = 0;
    json_t *cases = json_object_get(root, "cases");
    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *t = json_object_get(json_array_get(cases, i), "text");
        size_t l = json_string_length(t);
        if (n + l + 1 > sizeof buf / 2)
            break;
        memcpy(buf + n, json_string_value(t), l);
        n += l;
        buf[n++] = i % 3 ? '\n' : ' ';
    }
    dk_err err;
    fs_map m;
    const char *files[] = {DATA_DIR "/ko_chatbot", DATA_DIR "/en_tinyshakespeare"};
    for (size_t f = 0; f < 2; f++) {
        char **list;
        size_t nl;
        const char *in[1] = {files[f]};
        CHECK_MSG(fs_expand_inputs((char **)in, 1, &list, &nl, &err) == 0 && nl > 0, "%s", files[f]);
        CHECK_MSG(fs_map_open(&m, list[0], SIZE_MAX, &err) == 0, "%s", err.msg);
        size_t take = m.size < 40000 ? m.size : 40000;
        memcpy(buf + n, m.data, take);
        n += take;
        fs_map_close(&m);
        fs_free_list(list, nl);
    }
    static uint8_t whole[200001];
    for (int k = 0; k < TOK_PRETOK_COUNT; k++) {
        enum tok_pretok kind = (enum tok_pretok)k;
        memset(whole, 0, n + 1);
        for (size_t pos = 0; pos < n;)
            whole[pos = pretok_next_kind(kind, buf, n, pos)] = 1;
        size_t splits = 0;
        for (size_t target = 0; target < n;) {
            size_t p = pretok_safe_split_kind(kind, buf, n, target);
            CHECK(p >= target && p <= n);
            if (p == n)
                break;
            splits++;
            CHECK_EQ(buf[p - 1], '\n');
            CHECK_MSG(whole[p], "%s: safe point %zu is not a chunk boundary", pretok_name(kind), p);
            /* the head alone and the tail alone chunk as the whole */
            for (size_t q = p > 3000 ? pretok_safe_split_kind(kind, buf, p, p - 3000) : 0; q < p;) {
                q = pretok_next_kind(kind, buf, p, q);
                CHECK_MSG(whole[q], "%s: the piece up to %zu cuts at %zu", pretok_name(kind), p, q);
            }
            for (size_t q = p; q < n;) {
                q = p + pretok_next_kind(kind, buf + p, n - p, q - p);
                CHECK_MSG(whole[q], "%s: the piece from %zu cuts at %zu", pretok_name(kind), p, q);
            }
            target = p + 1 + 1500; /* not every point: each check chunks the whole tail */
        }
        CHECK_MSG(splits > 20, "%s: only %zu safe points", pretok_name(kind), splits);
    }
}
