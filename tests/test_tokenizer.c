/* test_tokenizer.c: BPE training, encoding, decoding and special tokens. */
#include <stdlib.h>

#include "test.h"
#include "tokenizer/hangul.h"
#include "tokenizer/pretok.h"
#include "tokenizer/tok_internal.h" /* tok_bpe_scan and tok_bpe_heap, to compare them */
#include "tokenizer/tok_train.h"
#include "tokenizer/tokenizer.h"
#include "util/fs.h"
#include "util/utf8.h"

static const char *const SPECIALS[] = {"<|bos|>", "<|eos|>", "<|pad|>"};

static const char SAMPLE[] =
    "대한민국은 민주공화국이다. 대한민국의 주권은 국민에게 있고, 모든 권력은 국민으로부터 나온다.\n"
    "LibreOffice에서 문서를 열고 저장하는 방법을 설명합니다. 파일 메뉴에서 열기를 선택하십시오.\n"
    "The quick brown fox jumps over the lazy dog. The dog didn't care; it's 2024 and 12345 foxes.\n"
    "한국어 문장과 English words가 섞인 문장입니다. 😀 이모지도 있습니다!\n"
    "국민의 권리와 의무는 법률로 정한다. 국민은 법 앞에 평등하다.\n";

static tok *train_kind(const char *text, uint32_t vocab, int threads, enum tok_norm norm,
                       enum tok_pretok kind)
{
    const char *path = test_write_file("train.txt", text, strlen(text));
    tok_train_opts o = {.vocab_size = vocab, .threads = threads, .norm = norm, .pretok = kind,
                        .min_frequency = 1, .specials = SPECIALS, .n_special = 3, .quiet = 1};
    tok_train_report rep;
    dk_err err;
    tok *t = NULL;
    if (tok_train(&t, &path, 1, &o, &rep, &err) != 0) {
        printf("    train failed: %s\n", err.msg);
        return NULL;
    }
    return t;
}

static tok *train_on(const char *text, uint32_t vocab, int threads, enum tok_norm norm)
{
    return train_kind(text, vocab, threads, norm, TOK_PRETOK_DOKJA_V1);
}

/* decode(encode(s)) into out; returns its length. */
static size_t roundtrip(tok *t, const uint8_t *s, size_t n, int flags, uint8_t **out)
{
    tok_encoder *e = tok_encoder_new(t);
    tok_ids ids = {0};
    dk_err err;
    size_t len = 0, cap = 0;
    *out = NULL;
    if (tok_encode(e, s, n, flags, &ids, &err) != 0 ||
        tok_decode(t, ids.ids, ids.n, out, &len, &cap, &err) != 0)
        len = (size_t)-1;
    tok_ids_free(&ids);
    tok_encoder_free(e);
    return len;
}

TEST(tokenizer_encodes_hand_built_merges_lowest_id_first)
{
    /* merges: 256:"ab", 257:"bc", 258:"ab"+"c"; "abc" -> 261, "bcd" -> "bc","d" */
    const uint32_t merges[][2] = {{'a', 'b'}, {'b', 'c'}, {256, 'c'}};
    tok *t;
    dk_err err;
    CHECK(tok_build(&t, TOK_NORM_NONE, TOK_PRETOK_DOKJA_V1, NULL, 0, merges, 3, "test", &err) == 0);
    CHECK_EQ(tok_vocab_size(t), 259);
    tok_encoder *e = tok_encoder_new(t);
    tok_ids ids = {0};
    CHECK(tok_encode(e, (const uint8_t *)"abc", 3, 0, &ids, &err) == 0);
    CHECK_EQ(ids.n, 1);
    CHECK_EQ(ids.ids[0], 258);
    ids.n = 0;
    CHECK(tok_encode(e, (const uint8_t *)"bcd", 3, 0, &ids, &err) == 0);
    CHECK_EQ(ids.n, 2);
    CHECK_EQ(ids.ids[0], 257);
    CHECK_EQ(ids.ids[1], 'd');
    ids.n = 0; /* "aab": leftmost-first among equal ranks, then merges */
    CHECK(tok_encode(e, (const uint8_t *)"aab", 3, 0, &ids, &err) == 0);
    CHECK_EQ(ids.n, 2);
    CHECK_EQ(ids.ids[0], 'a');
    CHECK_EQ(ids.ids[1], 256);
    tok_ids_free(&ids);
    tok_encoder_free(e);
    tok_free(t);
}

TEST(tokenizer_round_trips_random_bytes_without_normalisation)
{
    tok *t = train_on(SAMPLE, 400, 1, TOK_NORM_NONE);
    CHECK(t);
    srand(3);
    for (int it = 0; it < 300; it++) {
        uint8_t s[512];
        size_t n = (size_t)(rand() % 512);
        for (size_t i = 0; i < n; i++) /* mix raw bytes with pieces of real text */
            s[i] = rand() % 3 ? (uint8_t)rand() : (uint8_t)SAMPLE[rand() % (sizeof SAMPLE - 1)];
        uint8_t *out;
        size_t m = roundtrip(t, s, n, 0, &out);
        int same = m == n && (n == 0 || memcmp(out, s, n) == 0);
        free(out);
        CHECK_MSG(same, "round trip failed on random input %d", it);
    }
    tok_free(t);
}

TEST(tokenizer_round_trips_adversarial_strings)
{
    tok *t = train_on(SAMPLE, 400, 1, TOK_NORM_HANGUL_COMPOSE);
    CHECK(t);
    static const struct { const char *s; size_t n; } cases[] = {
        {"", 0}, {"\0\0\0", 3}, {"a\0b", 3},
        {"\xED\xA0\x80\xED\xB0\x80", 6},             /* CESU-8 surrogate pair */
        {"\xC0\x80\xF5\xFF\xFE", 5},                 /* never-valid bytes */
        {"\xED\x95", 2},                             /* truncated 한 */
        {"😀👩‍👩‍👧🇰🇷", 0}, {"中文 日本語 русский", 0},
        {"ㅋㅋㅋ ㅎㅎ ᄀᄁᄂ", 0},                          /* compatibility and lone Jamo */
        {"\r\n\t \xE3\x80\x80 \xC2\xA0", 0},
        {"<|eos|><|bos|>", 0}, {"     ", 0}, {"9999999999999", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].n ? cases[i].n : strlen(cases[i].s);
        uint8_t *out;
        size_t m = roundtrip(t, (const uint8_t *)cases[i].s, n, 0, &out);
        int same = m == n && (n == 0 || memcmp(out, cases[i].s, n) == 0);
        free(out);
        CHECK_MSG(same, "round trip failed on case %zu", i);
    }
    tok_free(t);
}

TEST(tokenizer_composes_nfd_hangul_by_default)
{
    tok *t = train_on(SAMPLE, 600, 1, TOK_NORM_HANGUL_COMPOSE);
    CHECK(t);
    const char *nfd = "\xE1\x84\x83\xE1\x85\xA2\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB"; /* 대한 */
    uint8_t *out;
    size_t m = roundtrip(t, (const uint8_t *)nfd, strlen(nfd), 0, &out);
    CHECK_EQ(m, strlen("대한"));
    CHECK(memcmp(out, "대한", m) == 0);
    free(out);
    /* and NFD costs no more tokens than NFC */
    tok_encoder *e = tok_encoder_new(t);
    tok_ids a = {0}, b = {0};
    dk_err err;
    CHECK(tok_encode(e, (const uint8_t *)nfd, strlen(nfd), 0, &a, &err) == 0);
    CHECK(tok_encode(e, (const uint8_t *)"대한", strlen("대한"), 0, &b, &err) == 0);
    CHECK_EQ(a.n, b.n);
    CHECK(memcmp(a.ids, b.ids, a.n * 4) == 0);
    tok_ids_free(&a);
    tok_ids_free(&b);
    tok_encoder_free(e);
    tok_free(t);
}

TEST(tokenizer_special_tokens_only_when_asked)
{
    tok *t = train_on(SAMPLE, 400, 1, TOK_NORM_HANGUL_COMPOSE);
    CHECK(t);
    CHECK_EQ(tok_special_id(t, "<|eos|>"), 257);
    const char *s = "끝<|eos|>시작<|bos|>";
    tok_encoder *e = tok_encoder_new(t);
    tok_ids plain = {0}, sp = {0};
    dk_err err;
    CHECK(tok_encode(e, (const uint8_t *)s, strlen(s), 0, &plain, &err) == 0);
    for (size_t i = 0; i < plain.n; i++)
        CHECK(plain.ids[i] < 256 || plain.ids[i] >= 259);
    CHECK(tok_encode(e, (const uint8_t *)s, strlen(s), TOK_ENCODE_SPECIAL, &sp, &err) == 0);
    int eos = 0, bos = 0;
    for (size_t i = 0; i < sp.n; i++) {
        eos += sp.ids[i] == 257;
        bos += sp.ids[i] == 256;
    }
    CHECK_EQ(eos, 1);
    CHECK_EQ(bos, 1);
    CHECK_EQ(sp.ids[sp.n - 1], 256);
    uint8_t *out = NULL;
    size_t len = 0, cap = 0;
    CHECK(tok_decode(t, sp.ids, sp.n, &out, &len, &cap, &err) == 0);
    CHECK_EQ(len, strlen(s));
    CHECK(memcmp(out, s, len) == 0);
    free(out);
    tok_ids_free(&plain);
    tok_ids_free(&sp);
    tok_encoder_free(e);
    tok_free(t);
}

/* ---- the incremental trainer against a naive one that recounts every pair -------- */

typedef struct {
    uint32_t sym[512];
    uint32_t len;
    uint64_t count;
} nword;

static uint32_t naive_train(const char *text, enum tok_pretok kind, uint32_t n_merges, uint32_t first,
                            uint32_t (*merges)[2])
{
    size_t n = strlen(text);
    nword *w = calloc(4096, sizeof *w);
    size_t nw = 0;
    for (size_t pos = 0; pos < n;) {
        size_t end = pretok_next_kind(kind, (const uint8_t *)text, n, pos);
        if (end - pos > 512) {
            free(w);
            return UINT32_MAX;
        }
        size_t k = 0;
        for (; k < nw; k++)
            if (w[k].len == end - pos) {
                int same = 1;
                for (uint32_t j = 0; j < w[k].len && same; j++)
                    same = w[k].sym[j] == (uint8_t)text[pos + j];
                if (same)
                    break;
            }
        if (k == nw) {
            w[nw].len = (uint32_t)(end - pos);
            for (uint32_t j = 0; j < w[nw].len; j++)
                w[nw].sym[j] = (uint8_t)text[pos + j];
            nw++;
        }
        w[k].count++;
        pos = end;
    }
    uint32_t done = 0;
    for (; done < n_merges; done++) {
        uint64_t best = 0;
        uint32_t ba = 0, bb = 0;
        /* count all pairs (quadratic, fine for a test) */
        for (size_t i = 0; i < nw; i++)
            for (uint32_t j = 0; j + 1 < w[i].len; j++) {
                uint32_t a = w[i].sym[j], b = w[i].sym[j + 1];
                uint64_t c = 0;
                for (size_t i2 = 0; i2 < nw; i2++)
                    for (uint32_t j2 = 0; j2 + 1 < w[i2].len; j2++)
                        if (w[i2].sym[j2] == a && w[i2].sym[j2 + 1] == b)
                            c += w[i2].count; /* every adjacent pair counts, overlapping too */
                if (c > best || (c == best && (a < ba || (a == ba && b < bb)))) {
                    best = c;
                    ba = a;
                    bb = b;
                }
            }
        if (best == 0)
            break;
        merges[done][0] = ba;
        merges[done][1] = bb;
        for (size_t i = 0; i < nw; i++) {
            uint32_t k = 0;
            for (uint32_t j = 0; j < w[i].len;) {
                if (j + 1 < w[i].len && w[i].sym[j] == ba && w[i].sym[j + 1] == bb) {
                    w[i].sym[k++] = first + done;
                    j += 2;
                } else {
                    w[i].sym[k++] = w[i].sym[j++];
                }
            }
            w[i].len = k;
        }
    }
    free(w);
    return done;
}

TEST(tokenizer_training_matches_naive_bpe)
{
    /* Repeated letters exercise overlapping pairs (aaaa) and ties; every pre-tokenizer. */
    const char *text = "aaaaaaa aaaaaaa abab abab zz zz zz aaaa aaa aa banana bandana 한국 한국어 한국어를 나라 aaaa\nxyz xyz xyzzy 123 1234\n"
                       "It's THEY'RE  \t tab.\n\n(x) <2016.2.3> ========================== 한국어English\n";
    for (int kind = 0; kind < TOK_PRETOK_COUNT; kind++) {
        uint32_t want = 60, naive[60][2];
        uint32_t got = naive_train(text, (enum tok_pretok)kind, want, 259, naive);
        CHECK(got != UINT32_MAX);
        tok *t = train_kind(text, 259 + want, 1, TOK_NORM_NONE, (enum tok_pretok)kind);
        CHECK(t);
        CHECK_EQ(tok_pretok(t), kind);
        CHECK_EQ(tok_n_merges(t), got);
        const uint32_t(*m)[2] = tok_merges(t);
        for (uint32_t k = 0; k < got; k++)
            CHECK_MSG(m[k][0] == naive[k][0] && m[k][1] == naive[k][1],
                      "%s: merge %u: got [%u, %u], naive [%u, %u]", pretok_name((enum tok_pretok)kind), k,
                      m[k][0], m[k][1], naive[k][0], naive[k][1]);
        tok_free(t);
    }
}

TEST(tokenizer_training_is_identical_across_thread_counts)
{
    /* Enough text for several 1 MiB blocks, so threads really split the work. */
    size_t reps = (3u << 20) / strlen(SAMPLE);
    char *big = malloc(reps * (strlen(SAMPLE) + 8) + 1);
    size_t n = 0;
    for (size_t i = 0; i < reps; i++) {
        memcpy(big + n, SAMPLE, strlen(SAMPLE));
        n += strlen(SAMPLE);
        n += (size_t)sprintf(big + n, "%zu\n", i % 997); /* vary the text a little */
    }
    big[n] = 0;
    tok *a = train_on(big, 700, 1, TOK_NORM_HANGUL_COMPOSE);
    tok *b = train_on(big, 700, 2, TOK_NORM_HANGUL_COMPOSE);
    tok *c = train_on(big, 700, 3, TOK_NORM_HANGUL_COMPOSE);
    free(big);
    CHECK(a && b && c);
    char pa[512], pb[512], pc[512];
    snprintf(pa, sizeof pa, "%s/a.json", test_tmpdir());
    snprintf(pb, sizeof pb, "%s/b.json", test_tmpdir());
    snprintf(pc, sizeof pc, "%s/c.json", test_tmpdir());
    dk_err err;
    CHECK(tok_save(a, pa, &err) == 0 && tok_save(b, pb, &err) == 0 && tok_save(c, pc, &err) == 0);
    CHECK_EQ(test_run(NULL, 0, "cmp -s %s %s && cmp -s %s %s", pa, pb, pa, pc), 0);
    tok_free(a);
    tok_free(b);
    tok_free(c);
}

TEST(tokenizer_compresses_held_out_korean_below_080_tokens_per_syllable)
{
    /* Train on Korean statutes and check that the result compresses held-out Korean
     * to well under one token per syllable. */
    const char *train = "../shared/data/ko_laws/laws_dev_00.txt";
    const char *held = "../shared/data/ko_laws/laws_dev_01.txt";
    tok_train_opts o = {.vocab_size = 4000, .threads = 2, .norm = TOK_NORM_HANGUL_COMPOSE,
                        .min_frequency = 2, .specials = SPECIALS, .n_special = 3, .quiet = 1};
    tok_train_report rep;
    dk_err err;
    tok *t;
    CHECK_MSG(tok_train(&t, &train, 1, &o, &rep, &err) == 0, "%s", err.msg);
    CHECK_EQ(tok_vocab_size(t), 4000);
    fs_map m;
    CHECK(fs_map_open(&m, held, SIZE_MAX, &err) == 0);
    size_t n = m.size < (1u << 20) ? m.size : pretok_safe_split(m.data, m.size, 1u << 20);
    tok_encoder *e = tok_encoder_new(t);
    tok_ids ids = {0};
    CHECK(tok_encode(e, m.data, n, 0, &ids, &err) == 0);
    size_t syll = 0;
    for (size_t i = 0; i + 2 < n; i++) /* lead bytes EA..ED followed by continuation = syllable */
        syll += m.data[i] >= 0xEA && m.data[i] <= 0xED && (m.data[i + 1] & 0xC0) == 0x80;
    double per = (double)ids.n / (double)syll;
    CHECK_MSG(per < 0.8, "tokens per syllable %.3f", per);
    uint8_t *out = NULL;
    size_t len = 0, cap = 0;
    CHECK(tok_decode(t, ids.ids, ids.n, &out, &len, &cap, &err) == 0);
    CHECK_EQ(len, n);
    CHECK(memcmp(out, m.data, n) == 0);
    free(out);
    tok_ids_free(&ids);
    tok_encoder_free(e);
    fs_map_close(&m);
    tok_free(t);
}

/* ---- chunks of any length ----------------------------------------------------------- */

static tok *laws_tokenizer(enum tok_pretok kind, uint32_t vocab)
{
    const char *train = "../shared/data/ko_laws/laws_dev_00.txt";
    tok_train_opts o = {.vocab_size = vocab, .threads = 2, .norm = TOK_NORM_NONE, .pretok = kind,
                        .min_frequency = 2, .specials = SPECIALS, .n_special = 3, .quiet = 1};
    tok_train_report rep;
    dk_err err;
    tok *t = NULL;
    if (tok_train(&t, &train, 1, &o, &rep, &err) != 0)
        printf("    train failed: %s\n", err.msg);
    return t;
}

TEST(tokenizer_heap_bpe_equals_the_scan_on_every_length)
{
    /* Long chunks take the heap, short ones the scan; both must give the same tokens.
     * Compare them on substrings of real text (whole merges apply) and random bytes. */
    tok *t = laws_tokenizer(TOK_PRETOK_GPT2, 3000);
    CHECK(t);
    dk_err err;
    fs_map m;
    CHECK(fs_map_open(&m, "../shared/data/ko_laws/laws_dev_01.txt", SIZE_MAX, &err) == 0);
    srand(5);
    uint32_t a[TOK_BPE_SCAN_MAX], b[TOK_BPE_SCAN_MAX];
    for (int it = 0; it < 4000; it++) {
        size_t n = 1 + (size_t)(rand() % TOK_BPE_SCAN_MAX);
        size_t off = (size_t)rand() % (m.size - n);
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] = it % 10 == 9 ? (uint8_t)rand() : m.data[off + i];
        size_t na = tok_bpe_scan(t, a, n), nb;
        CHECK(tok_bpe_heap(t, b, n, &nb) == 0);
        CHECK_MSG(na == nb && memcmp(a, b, na * sizeof *a) == 0, "length %zu at %zu: %zu vs %zu tokens", n,
                  off, na, nb);
    }
    fs_map_close(&m);
    tok_free(t);
}

TEST(tokenizer_encodes_uncapped_chunks_exactly)
{
    /* gpt-2 keeps a line of '=' or a page of Hangul without spaces as one chunk: the
     * encoder must take it whole (no cap), and give the tokens BPE gives. */
    tok *t = laws_tokenizer(TOK_PRETOK_GPT2, 2000);
    CHECK(t);
    size_t n = 0;
    uint8_t *s = malloc(200000);
    memset(s, '=', 400);
    n = 400;
    s[n++] = '\n';
    for (int i = 0; i < 20000; i++) /* 60 KB of Hangul in one chunk */
        n += utf8_encode(0xAC00 + (uint32_t)((i * 7919) % 11172), s + n);
    s[n++] = ' ';
    for (int i = 0; i < 300; i++)
        s[n++] = (uint8_t)(0x80 + i % 64); /* stray continuation bytes: one "other" run */
    CHECK_EQ(pretok_next_kind(TOK_PRETOK_GPT2, s, n, 0), 400);
    uint8_t *out;
    size_t len = roundtrip(t, s, n, 0, &out);
    CHECK_EQ(len, n);
    CHECK(memcmp(out, s, n) == 0);
    free(out);
    /* the '=' line: the heap's tokens are the scan's on the same 256-byte prefix
     * repeated, and round-trip */
    tok_encoder *e = tok_encoder_new(t);
    tok_ids ids = {0};
    dk_err err;
    CHECK(tok_encode(e, s, 400, 0, &ids, &err) == 0);
    uint32_t sym[400];
    for (int i = 0; i < 400; i++)
        sym[i] = '=';
    size_t nh;
    CHECK(tok_bpe_heap(t, sym, 400, &nh) == 0);
    CHECK_EQ(ids.n, nh);
    for (size_t i = 0; i < nh; i++)
        CHECK_EQ(ids.ids[i], sym[i]);
    tok_ids_free(&ids);
    tok_encoder_free(e);
    free(s);
    tok_free(t);
}

TEST(tokenizer_file_keeps_the_pretokenizer_name)
{
    for (int k = 0; k < TOK_PRETOK_COUNT; k++) {
        const uint32_t merges[1][2] = {{'a', 'b'}};
        tok *t;
        dk_err err;
        CHECK(tok_build(&t, TOK_NORM_NONE, (enum tok_pretok)k, SPECIALS, 3, merges, 1, "t", &err) == 0);
        CHECK_STR(tok_pretok_name(t), pretok_name((enum tok_pretok)k));
        char path[512];
        snprintf(path, sizeof path, "%s/kind%d.json", test_tmpdir(), k);
        CHECK(tok_save(t, path, &err) == 0);
        tok_free(t);
        char out[4096];
        CHECK_EQ(test_run(out, sizeof out, "grep -c '\"pretokenizer\": \"%s\"' %s", pretok_name((enum tok_pretok)k),
                          path), 0);
        CHECK_MSG(tok_load(&t, path, &err) == 0, "%s", err.msg);
        CHECK_EQ(tok_pretok(t), k);
        tok_free(t);
    }
}

TEST(cli_tokenizer_train_takes_a_pretokenizer_name)
{
    char out[8192];
    const char *in = test_write_file("pt.txt", SAMPLE, strlen(SAMPLE));
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer train -q --vocab-size 300 --pretokenizer kanana2 -o %s/pt.json %s",
                      test_bin(), test_tmpdir(), in), 0);
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer info -t %s/pt.json", test_bin(), test_tmpdir()), 0);
    CHECK_CONTAINS(out, "pretokenizer kanana2");
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer train -q --vocab-size 300 -o %s/pt0.json %s && "
                      "%s tokenizer info -t %s/pt0.json", test_bin(), test_tmpdir(), in, test_bin(), test_tmpdir()), 0);
    CHECK_CONTAINS(out, "pretokenizer " TOK_PRETOK_DEFAULT_NAME);
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer train -q --vocab-size 300 --pretokenizer gpt2 -o %s/x.json %s 2>&1",
                      test_bin(), test_tmpdir(), in), 2);
    CHECK_CONTAINS(out, "unknown --pretokenizer 'gpt2'");
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer train --help", test_bin()), 0);
    CHECK_CONTAINS(out, "exaone4");
}
