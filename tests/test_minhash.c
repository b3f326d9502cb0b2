/* test_minhash.c: near-duplicate removal by MinHash LSH (data/minhash.h). */
#include <math.h>
#include <stdlib.h>

#include "data/minhash.h"
#include "kernels/isa.h"
#include "kernels/kern_ops.h"
#include "util/hash.h"
#include "test.h"
#include "util/pool.h"
#include "util/rng.h"
#include "util/utf8.h"

/* A text of `words` pseudo-random words: Hangul (2-4 syllables) when korean, else
 * lowercase Latin (3-8 letters), drawn from stream `key`; a sentence ends every 12
 * words. Returns a malloc'd string. */
static char *random_text(uint64_t key, int words, int korean)
{
    char *s = malloc((size_t)words * 16 + 1), *p = s;
    for (int w = 0; w < words; w++) {
        uint64_t r = rng_u64(key, (uint64_t)w);
        int len = korean ? 2 + (int)(r % 3) : 3 + (int)(r % 6);
        for (int c = 0; c < len; c++) {
            uint64_t x = rng_u64(key ^ 0x77, (uint64_t)w * 16 + (uint64_t)c);
            if (korean)
                p += utf8_encode(0xAC00 + (uint32_t)(x % 11172), (uint8_t *)p);
            else
                *p++ = (char)('a' + x % 26);
        }
        *p++ = w % 12 == 11 ? '.' : ' ';
        if (w % 12 == 11 && w + 1 < words)
            *p++ = ' ';
    }
    *p = 0;
    return s;
}

/* text with the words at positions pos[0..k) (0-based word index) replaced. */
static char *replace_words(const char *text, const int *pos, int k, uint64_t key)
{
    size_t n = strlen(text);
    char *out = malloc(n + (size_t)k * 16 + 1), *o = out;
    int w = 0;
    for (const char *c = text; *c;) {
        const char *e = c;
        while (*e && *e != ' ' && *e != '.')
            e++;
        int hit = 0;
        for (int i = 0; i < k; i++)
            hit |= pos[i] == w;
        if (e > c && hit) {
            for (int j = 0; j < 5; j++)
                *o++ = (char)('a' + rng_u64(key, (uint64_t)(w * 8 + j)) % 26);
        } else {
            memcpy(o, c, (size_t)(e - c));
            o += e - c;
        }
        if (e > c)
            w++;
        while (*e == ' ' || *e == '.')
            *o++ = *e++;
        c = e;
    }
    *o = 0;
    return out;
}

static double true_jaccard(const minhash_params *p, const char *a, const char *b)
{
    dk_err err;
    minhash *m = minhash_new(p, &err);
    size_t na = minhash_shingles(m, a, strlen(a), NULL, 0);
    size_t nb = minhash_shingles(m, b, strlen(b), NULL, 0);
    uint64_t *sa = malloc((na + 1) * 8), *sb = malloc((nb + 1) * 8);
    minhash_shingles(m, a, strlen(a), sa, na);
    minhash_shingles(m, b, strlen(b), sb, nb);
    double j = minhash_jaccard(sa, na, sb, nb);
    free(sa);
    free(sb);
    minhash_free(m);
    return j;
}

/* Runs minhash_dedupe with the defaults on n strings; keep_of is filled. */
static int dedupe(const char *const *docs, size_t n, int threads, uint32_t *keep_of,
                  size_t *dropped)
{
    minhash_params p;
    minhash_params_default(&p);
    size_t lens[64];
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(docs[i]);
    pool *pl = threads ? pool_new(threads) : NULL;
    dk_err err;
    int rc = minhash_dedupe(&p, docs, lens, n, pl, keep_of, dropped, &err);
    pool_free(pl);
    return rc;
}

TEST(minhash_identical_texts_share_a_cluster)
{
    char *a = random_text(1, 120, 1), *b = random_text(2, 120, 0);
    const char *docs[] = {a, b, a, b};
    uint32_t keep[4];
    size_t dropped;
    CHECK_EQ(dedupe(docs, 4, 0, keep, &dropped), 0);
    CHECK_EQ(keep[0], 0);
    CHECK_EQ(keep[1], 1);
    CHECK_EQ(keep[2], 0);
    CHECK_EQ(keep[3], 1);
    CHECK_EQ(dropped, 2);
    free(a);
    free(b);
}

TEST(minhash_near_copy_with_a_few_words_changed_clusters)
{
    for (int korean = 0; korean < 2; korean++) {
        char *a = random_text(10 + (uint64_t)korean, 150, korean);
        int pos[] = {7, 60, 131}; /* 3 of 150 words (2 %) */
        char *b = replace_words(a, pos, 3, 99);
        minhash_params p;
        minhash_params_default(&p);
        double j = true_jaccard(&p, a, b);
        CHECK_MSG(j > 0.9 && j < 1, "true Jaccard %.3f", j);
        const char *docs[] = {a, b};
        uint32_t keep[2];
        CHECK_EQ(dedupe(docs, 2, 0, keep, NULL), 0);
        CHECK_EQ(keep[1], 0);
        free(a);
        free(b);
    }
}

TEST(minhash_unrelated_texts_stay_apart)
{
    const char *docs[16];
    char *t[16];
    for (int i = 0; i < 16; i++)
        docs[i] = t[i] = random_text(100 + (uint64_t)i, 80, i % 2);
    uint32_t keep[16];
    size_t dropped;
    CHECK_EQ(dedupe(docs, 16, 0, keep, &dropped), 0);
    CHECK_EQ(dropped, 0);
    for (int i = 0; i < 16; i++) {
        CHECK_EQ(keep[i], i);
        free(t[i]);
    }
}

TEST(minhash_text_with_jaccard_near_0_3_stays_apart)
{
    /* b shares its first 45 % of words with a and goes on differently */
    char *a = random_text(7, 200, 1), *tail = random_text(8, 110, 1);
    size_t cut = 0;
    for (int w = 0; w < 90; cut++)
        w += a[cut] == ' ';
    char *b = malloc(cut + strlen(tail) + 1);
    memcpy(b, a, cut);
    strcpy(b + cut, tail);
    minhash_params p;
    minhash_params_default(&p);
    double j = true_jaccard(&p, a, b);
    CHECK_MSG(j > 0.2 && j < 0.4, "true Jaccard %.3f", j);
    const char *docs[] = {a, b};
    uint32_t keep[2];
    CHECK_EQ(dedupe(docs, 2, 0, keep, NULL), 0);
    CHECK_EQ(keep[1], 1);
    free(a);
    free(b);
    free(tail);
}

TEST(minhash_keeps_the_first_document_of_a_cluster)
{
    char *a = random_text(20, 100, 0), *x = random_text(21, 100, 1);
    int p1[] = {3}, p2[] = {50}, p3[] = {90};
    char *a1 = replace_words(a, p1, 1, 1), *a2 = replace_words(a, p2, 1, 2),
         *a3 = replace_words(a, p3, 1, 3);
    /* the cluster {a1, a, a2, a3} is kept as a1, its lowest id, whatever came later */
    const char *docs[] = {x, a1, a, a2, a3};
    uint32_t keep[5];
    size_t dropped;
    CHECK_EQ(dedupe(docs, 5, 0, keep, &dropped), 0);
    CHECK_EQ(keep[0], 0);
    CHECK_EQ(keep[1], 1);
    CHECK_EQ(keep[2], 1);
    CHECK_EQ(keep[3], 1);
    CHECK_EQ(keep[4], 1);
    CHECK_EQ(dropped, 3);
    free(a), free(x), free(a1), free(a2), free(a3);
}

TEST(minhash_same_result_for_1_and_2_threads)
{
    enum { N = 64 };
    char *t[N];
    const char *docs[N];
    for (int i = 0; i < N; i++) {
        if (i % 4 == 3) { /* a near-copy of the document before it */
            int pos[] = {i + 17};
            t[i] = replace_words(t[i - 1], pos, 1, (uint64_t)i);
        } else {
            t[i] = random_text(300 + (uint64_t)i, 80 + i * 3, (i / 4) % 2);
        }
        docs[i] = t[i];
    }
    uint32_t k0[N], k1[N], k2[N];
    size_t d0, d1, d2;
    CHECK_EQ(dedupe(docs, N, 0, k0, &d0), 0);
    CHECK_EQ(dedupe(docs, N, 1, k1, &d1), 0);
    CHECK_EQ(dedupe(docs, N, 2, k2, &d2), 0);
    CHECK_EQ(d0, N / 4);
    CHECK_EQ(d1, d0);
    CHECK_EQ(d2, d0);
    CHECK(memcmp(k0, k1, sizeof k0) == 0);
    CHECK(memcmp(k0, k2, sizeof k0) == 0);
    for (int i = 0; i < N; i++)
        free(t[i]);
}

TEST(minhash_empty_and_short_documents_follow_the_rule)
{
    /* no words: never clustered, even with each other; fewer words than the shingle
     * size: one shingle of the whole normalised text, so only the same normalised
     * text matches */
    minhash_params p;
    minhash_params_default(&p);
    p.kind = MINHASH_WORDS;
    const char *docs[] = {"", "   ", "?!", "", "안녕 하세요", "안녕, 하세요!", "안녕 하세", "a b c d e",
                          "A b c d e", "a b c d"};
    size_t n = sizeof docs / sizeof *docs, lens[16];
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(docs[i]);
    uint32_t keep[16];
    size_t dropped;
    dk_err err;
    CHECK_EQ(minhash_dedupe(&p, docs, lens, n, NULL, keep, &dropped, &err), 0);
    uint32_t want[] = {0, 1, 2, 3, 4, 4, 6, 7, 7, 9};
    for (size_t i = 0; i < n; i++)
        CHECK_MSG(keep[i] == want[i], "document %zu: kept as %u, want %u", i, keep[i], want[i]);
    CHECK_EQ(dropped, 2);
    minhash *m = minhash_new(&p, &err);
    uint32_t sig[MINHASH_MAX_HASHES];
    CHECK_EQ(minhash_signature(m, "", 0, sig), 0);
    CHECK_EQ(sig[0], UINT32_MAX);
    CHECK_EQ(minhash_signature(m, "one two", 7, sig), 1);
    CHECK_EQ(minhash_signature(m, "one two three four five six", 27, sig), 2);
    minhash_free(m);
}

TEST(minhash_normalises_case_spaces_and_punctuation)
{
    minhash_params p;
    minhash_params_default(&p);
    dk_err err;
    for (int kind = 0; kind < 2; kind++) {
        p.kind = (minhash_shingle)kind;
        minhash *m = minhash_new(&p, &err);
        uint32_t a[MINHASH_MAX_HASHES], b[MINHASH_MAX_HASHES];
        const char *x = "The Quick brown fox, 빠른 갈색 여우가 jumps over the lazy dog!";
        const char *y = "the quick   brown fox 빠른\t갈색 (여우가) jumps over the lazy dog";
        CHECK(minhash_signature(m, x, strlen(x), a) > 0);
        CHECK(minhash_signature(m, y, strlen(y), b) > 0);
        CHECK(memcmp(a, b, (size_t)minhash_hashes(m) * 4) == 0);
        minhash_free(m);
    }
}

TEST(minhash_invalid_utf8_is_shingled_without_crash)
{
    /* an invalid byte is a character of its own: signing works, identical bytes
     * cluster, and a truncated sequence at the end is not read past */
    char bad[300];
    for (int i = 0; i < 299; i++)
        bad[i] = (char)(0x80 + (i * 37) % 0x7f);
    bad[299] = 0;
    char *a = random_text(40, 60, 1);
    size_t la = strlen(a);
    char *a_bad = malloc(la + 3);
    memcpy(a_bad, a, la);
    a_bad[la] = (char)0xed; /* the first byte of a 3-byte sequence, cut off */
    a_bad[la + 1] = (char)0x9f;
    a_bad[la + 2] = 0;
    const char *docs[] = {bad, bad, "\xff\xfe", a, a_bad};
    uint32_t keep[5];
    size_t dropped;
    CHECK_EQ(dedupe(docs, 5, 0, keep, &dropped), 0);
    CHECK_EQ(keep[0], 0);
    CHECK_EQ(keep[1], 0);
    CHECK_EQ(keep[2], 2);
    CHECK_EQ(keep[3], 3);
    CHECK_EQ(keep[4], 3);
    minhash_params p;
    minhash_params_default(&p);
    dk_err err;
    minhash *m = minhash_new(&p, &err);
    uint32_t sig[MINHASH_MAX_HASHES];
    CHECK(minhash_signature(m, "\xff", 1, sig) == 1);
    minhash_free(m);
    free(a);
    free(a_bad);
}

TEST(minhash_signature_agreement_estimates_jaccard)
{
    minhash_params p;
    minhash_params_default(&p);
    dk_err err;
    minhash *m = minhash_new(&p, &err);
    char *a = random_text(50, 300, 0);
    uint32_t sa[MINHASH_MAX_HASHES], sb[MINHASH_MAX_HASHES];
    for (int k = 1; k <= 4; k++) {
        int pos[40];
        for (int i = 0; i < k * 10; i++)
            pos[i] = i * 300 / (k * 10);
        char *b = replace_words(a, pos, k * 10, 5);
        double j = true_jaccard(&p, a, b);
        minhash_signature(m, a, strlen(a), sa);
        minhash_signature(m, b, strlen(b), sb);
        double est = minhash_agreement(sa, sb, minhash_hashes(m));
        /* 112 hashes: standard error sqrt(j (1 - j) / 112) <= 0.047; allow 3 of it */
        CHECK_MSG(est > j - 0.15 && est < j + 0.15, "%d words: true %.3f, estimate %.3f",
                  k * 10, j, est);
        free(b);
    }
    free(a);
    minhash_free(m);
}

TEST(minhash_rejects_bad_parameters)
{
    minhash_params p;
    minhash_params_default(&p);
    dk_err err;
    p.n = 0;
    CHECK(minhash_new(&p, &err) == NULL);
    CHECK_CONTAINS(err.msg, "shingle size");
    minhash_params_default(&p);
    p.bands = 100, p.rows = 100;
    CHECK(minhash_new(&p, &err) == NULL);
    CHECK_CONTAINS(err.msg, "bands");
    minhash_params_default(&p);
    p.threshold = 1.5;
    CHECK(minhash_new(&p, &err) == NULL);
    CHECK_CONTAINS(err.msg, "threshold");
}

TEST(minhash_index_grows_in_batches_like_one_call)
{
    /* documents added in batches (as data build adds them file by file), some signed
     * apart and added one by one (as from another MPI rank), give the clusters of one
     * call */
    enum { N = 24 };
    char *t[N];
    const char *docs[N];
    size_t lens[N];
    for (int i = 0; i < N; i++) {
        t[i] = i % 3 == 2 ? replace_words(t[i - 2], (int[]){5}, 1, (uint64_t)i)
                          : random_text(500 + (uint64_t)i, 60, i % 2);
        docs[i] = t[i];
        lens[i] = strlen(t[i]);
    }
    minhash_params p;
    minhash_params_default(&p);
    dk_err err;
    uint32_t whole[N], parts[N];
    CHECK_EQ(minhash_dedupe(&p, docs, lens, N, NULL, whole, NULL, &err), 0);
    minhash *m = minhash_new(&p, &err);
    minhash_index *x = minhash_index_new(m);
    CHECK_EQ(minhash_index_add_docs(x, docs, lens, 10, NULL, &err), 0);
    uint8_t kept[5 * MINHASH_MAX_HASHES];
    uint8_t has[5];
    pool *pl = pool_new(2);
    minhash_sign_kept(m, docs + 10, lens + 10, 5, pl, kept, has);
    pool_free(pl);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(minhash_index_add_kept(x, kept + i * minhash_hashes(m), has[i], &err), 0);
    CHECK_EQ(minhash_index_add_docs(x, docs + 15, lens + 15, N - 15, NULL, &err), 0);
    CHECK_EQ(minhash_index_size(x), N);
    size_t dropped;
    CHECK_EQ(minhash_index_cluster(x, NULL, parts, &dropped, &err), 0);
    CHECK(memcmp(whole, parts, sizeof whole) == 0);
    CHECK_EQ(dropped, N / 3);
    CHECK_EQ(parts[2], 0);
    minhash_index_free(x);
    minhash_free(m);
    for (int i = 0; i < N; i++)
        free(t[i]);
}

/* The signature as the definition states it, plainly: each shingle's value into its
 * bin, the least kept; an empty bin probes minhash_probe(i, 0), (i, 1), ... for a
 * non-empty bin, at most 64 H times, then takes the next non-empty bin cyclically. */
static void reference_signature(const minhash *m, const char *t, uint32_t *sig)
{
    int h = minhash_hashes(m);
    size_t ns = minhash_shingles(m, t, strlen(t), NULL, 0);
    uint64_t *sh = malloc((ns + 1) * sizeof *sh), *bins = malloc((size_t)h * sizeof *bins);
    minhash_shingles(m, t, strlen(t), sh, ns);
    for (int k = 0; k < h; k++)
        bins[k] = UINT64_MAX;
    for (size_t i = 0; i < ns; i++) {
        uint32_t b, v;
        minhash_place(m, sh[i], &b, &v);
        if (v < bins[b])
            bins[b] = v;
    }
    for (int i = 0; i < h && ns > 0; i++) {
        uint32_t j = (uint32_t)i;
        for (uint32_t t2 = 0; bins[j] == UINT64_MAX && t2 < 64u * (uint32_t)h; t2++)
            j = minhash_probe(m, i, t2);
        while (bins[j] == UINT64_MAX)
            j = (j + 1) % (uint32_t)h;
        sig[i] = (uint32_t)bins[j];
    }
    for (int i = 0; i < h && ns == 0; i++)
        sig[i] = UINT32_MAX;
    free(sh);
    free(bins);
}

TEST(minhash_signature_matches_the_plain_definition_on_every_path)
{
    /* the densification's fast paths (table of first probes with a vector kernel,
     * cached probe masks, probing only above 256 bins) against the plain loop, for
     * documents from one shingle to hundreds (from nearly all bins empty to none),
     * bin counts not a multiple of 16 and above 256, on every ISA path */
    dk_err err;
    dk_isa saved = isa_current();
    const int shapes[][2] = {{14, 8}, {7, 3}, {40, 8}, {1, 1}};
    const int sizes[] = {0, 1, 2, 3, 5, 9, 20, 40, 90, 300};
    for (int path = 0; path < 3; path++) {
        if (isa_set((dk_isa)path) != 0)
            continue; /* the CPU lacks this path */
        for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++)
            for (int kind = 0; kind < 2; kind++) {
                minhash_params p;
                minhash_params_default(&p);
                p.kind = (minhash_shingle)kind;
                p.bands = shapes[sh][0], p.rows = shapes[sh][1];
                minhash *m = minhash_new(&p, &err);
                CHECK(m != NULL);
                int h = minhash_hashes(m);
                uint32_t got[MINHASH_MAX_HASHES], want[MINHASH_MAX_HASHES];
                for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
                    char *t = random_text(70 + z, sizes[z], (int)(z % 2));
                    minhash_signature(m, t, strlen(t), got);
                    reference_signature(m, t, want);
                    CHECK_MSG(memcmp(got, want, (size_t)h * sizeof *got) == 0,
                              "path %d, %d x %d, kind %d, %d words", path, shapes[sh][0],
                              shapes[sh][1], kind, sizes[z]);
                    free(t);
                }
                minhash_free(m);
            }
    }
    isa_set(saved);
}

TEST(minhash_many_short_distinct_documents_are_not_merged)
{
    /* 30,000 distinct documents of four Hangul syllables: one shingle each, so every
     * position of a signature holds the same value; the index's 8 bits per position
     * must not let two of them collide everywhere (the low 8 bits of the value would:
     * about 1.8 million pairs among 30,000) */
    size_t n = 30000;
    char **docs = malloc(n * sizeof *docs);
    size_t *lens = malloc(n * sizeof *lens);
    for (size_t i = 0; i < n; i++) {
        docs[i] = malloc(16);
        char *p = docs[i];
        for (int c = 0; c < 4; c++)
            p += utf8_encode(0xAC00 + (uint32_t)(rng_u64(4242, i * 4 + (uint64_t)c) % 11172), (uint8_t *)p);
        *p = 0;
        lens[i] = strlen(docs[i]);
    }
    minhash_params p;
    minhash_params_default(&p);
    uint32_t *keep = malloc(n * sizeof *keep);
    size_t dropped = 99;
    dk_err err;
    CHECK_EQ(minhash_dedupe(&p, (const char *const *)docs, lens, n, NULL, keep, &dropped, &err), 0);
    size_t exact = 0; /* the draw may repeat a document: those must merge */
    for (size_t i = 0; i < n; i++)
        if (keep[i] != i) {
            exact += strcmp(docs[i], docs[keep[i]]) == 0;
            CHECK_MSG(strcmp(docs[i], docs[keep[i]]) == 0, "%s merged into %s", docs[i], docs[keep[i]]);
        }
    CHECK_EQ(dropped, exact);
    for (size_t i = 0; i < n; i++)
        free(docs[i]);
    free(docs);
    free(lens);
    free(keep);
}

TEST(minhash_short_documents_agree_in_proportion_to_jaccard)
{
    /* densification must not bias short documents (most bins empty): over 300 pairs of
     * 6-12 word texts with one or two words changed, the mean agreement is the mean true
     * Jaccard (standard error of the mean about 0.005), and never an exact 1 for a pair
     * that differs */
    minhash_params p;
    minhash_params_default(&p);
    dk_err err;
    minhash *m = minhash_new(&p, &err);
    double sum_est = 0, sum_true = 0;
    int n = 300;
    uint32_t sa[MINHASH_MAX_HASHES], sb[MINHASH_MAX_HASHES];
    for (int i = 0; i < n; i++) {
        int words = 6 + i % 7, pos[2] = {i % words, (i * 7 + 3) % words};
        char *a = random_text(1000 + (uint64_t)i, words, i % 2);
        char *b = replace_words(a, pos, 1 + i % 2, 9000 + (uint64_t)i);
        double j = true_jaccard(&p, a, b);
        minhash_signature(m, a, strlen(a), sa);
        minhash_signature(m, b, strlen(b), sb);
        double est = minhash_agreement(sa, sb, minhash_hashes(m));
        CHECK_MSG(j == 1 || est < 1, "pair %d: true %.3f, estimate 1", i, j);
        sum_est += est;
        sum_true += j;
        free(a);
        free(b);
    }
    CHECK_MSG(fabs(sum_est - sum_true) / n < 0.02, "mean estimate %.4f, mean true Jaccard %.4f",
              sum_est / n, sum_true / n);
    minhash_free(m);
}

TEST(minhash_stars_drop_only_for_a_match_components_chain)
{
    /* b is a with words changed at the start, c is b with words changed at the end:
     * a ~ b and b ~ c match, a and c do not. Stars keep c (its only kept candidate, a,
     * does not match it); components chain it to a through b. */
    char *a = random_text(70, 200, 0);
    int p1[] = {2, 7, 12, 17, 22, 27, 32, 37, 42, 47, 52, 57},
        p2[] = {140, 145, 150, 155, 160, 165, 170, 175, 180, 185, 190, 195};
    char *b = replace_words(a, p1, 12, 1), *c = replace_words(b, p2, 12, 2);
    minhash_params p;
    minhash_params_default(&p);
    dk_err err;
    minhash *m = minhash_new(&p, &err);
    uint32_t sa[MINHASH_MAX_HASHES], sb[MINHASH_MAX_HASHES], sc[MINHASH_MAX_HASHES];
    minhash_signature(m, a, strlen(a), sa);
    minhash_signature(m, b, strlen(b), sb);
    minhash_signature(m, c, strlen(c), sc);
    int h = minhash_hashes(m);
    CHECK_MSG(minhash_agreement(sa, sb, h) >= 0.8 && minhash_agreement(sb, sc, h) >= 0.8 &&
                  minhash_agreement(sa, sc, h) < 0.8,
              "agreements a-b %.3f b-c %.3f a-c %.3f", minhash_agreement(sa, sb, h),
              minhash_agreement(sb, sc, h), minhash_agreement(sa, sc, h));
    minhash_free(m);
    const char *docs[] = {a, b, c};
    size_t lens[] = {strlen(a), strlen(b), strlen(c)};
    uint32_t keep[3];
    CHECK_EQ(minhash_dedupe(&p, docs, lens, 3, NULL, keep, NULL, &err), 0);
    CHECK_EQ(keep[1], 0);
    CHECK_EQ(keep[2], 2);
    p.cluster = MINHASH_COMPONENTS;
    CHECK_EQ(minhash_dedupe(&p, docs, lens, 3, NULL, keep, NULL, &err), 0);
    CHECK_EQ(keep[1], 0);
    CHECK_EQ(keep[2], 0);
    free(a), free(b), free(c);
}

TEST(minhash_shingle_hash_depends_only_on_the_shingle)
{
    /* the rolling hash gives a shingle the same value wherever it occurs: texts that
     * share exactly one 5-gram have the Jaccard that counting shingles gives */
    minhash_params p;
    minhash_params_default(&p);
    p.kind = MINHASH_WORDS;
    CHECK(true_jaccard(&p, "x y z a b c d e", "a b c d e q") == 0.2);
    CHECK(true_jaccard(&p, "one two three four five six seven eight nine ten eleven twelve",
                       "Eight, nine, ten, eleven, twelve!") == 1.0 / 8);
    p.kind = MINHASH_CHARS;
    CHECK(true_jaccard(&p, "xy가나다라마", "가나다라마q") == 0.25);
}

/* A shingle by its definition (minhash.c): the polynomial over the w mixed units,
 * sum hash_u64(u_j) B^(w-1-j) mod 2^64, mixed with w. */
static uint64_t plain_shingle(const uint64_t *units, int w)
{
    uint64_t s = 0, pw = 1;
    for (int j = w - 1; j >= 0; j--, pw *= MH_ROLL_B)
        s += hash_u64(units[j]) * pw;
    return hash_u64(s + (uint64_t)w);
}

TEST(minhash_shingle_kernels_are_their_definition_on_every_path)
{
    /* mh_mix, mh_shingles (as shingles and as places) and mh_keep_bits of each path
     * against the definitions written out, for every count 0..40 and some past a
     * vector's multiple, shingle sizes 1..32, in buffers of exactly the size needed */
    const int ws[] = {1, 2, 5, 8, 9, 13, 32};
    const size_t ms[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 40, 255, 256, 257};
    for (int path = 0; path < 3; path++) {
        if (!isa_supported((dk_isa)path))
            continue;
        const kern_ops *k = kern_of((dk_isa)path);
        for (size_t wi = 0; wi < sizeof ws / sizeof *ws; wi++)
            for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++) {
                int w = ws[wi];
                size_t m = ms[mi], nu = m + (size_t)w - 1;
                uint64_t *u = malloc(nu * sizeof *u), *hu = malloc(nu * sizeof *hu);
                uint64_t *out = malloc((m ? m : 1) * sizeof *out);
                for (size_t i = 0; i < nu; i++)
                    u[i] = hu[i] = rng_u64(77 + (uint64_t)w, i) >> (i % 3 * 20); /* small values too */
                k->mh_mix(hu, nu);
                int ok = 1;
                for (size_t i = 0; i < nu; i++)
                    ok &= hu[i] == hash_u64(u[i]);
                CHECK_MSG(ok, "path %d: mh_mix of %zu", path, nu);
                for (uint32_t h = 0; h <= 112; h += 112) {
                    k->mh_shingles(hu, m, w, 0x1234567890abcdefULL, h, out);
                    ok = 1;
                    for (size_t i = 0; i < m; i++) {
                        uint64_t s = plain_shingle(u + i, w), want = s;
                        if (h) {
                            uint32_t b, v;
                            uint64_t x = hash_u64(s ^ 0x1234567890abcdefULL);
                            b = (uint32_t)(((x >> 32) * h) >> 32), v = (uint32_t)x;
                            want = (uint64_t)b << 32 | v;
                        }
                        ok &= out[i] == want;
                    }
                    CHECK_MSG(ok, "path %d: mh_shingles w %d, m %zu, h %u", path, w, m, h);
                }
                free(u), free(hu), free(out);
            }
        for (size_t n = 0; n <= 130; n++) {
            uint32_t *v = malloc((n ? n : 1) * sizeof *v);
            uint8_t *got = malloc(n ? n : 1);
            for (size_t i = 0; i < n; i++)
                v[i] = (uint32_t)rng_u64(99, i + n * 1000);
            k->mh_keep_bits(v, n, got);
            int ok = 1;
            for (size_t i = 0; i < n; i++)
                ok &= got[i] == (uint8_t)(hash_u64((uint64_t)i << 32 | v[i]) >> 56);
            CHECK_MSG(ok, "path %d: mh_keep_bits of %zu", path, n);
            free(v), free(got);
        }
    }
}

TEST(minhash_shingles_of_long_text_are_the_rolling_definition_on_every_path)
{
    /* lower-case ASCII words between single spaces: the character units are the bytes
     * themselves, so every shingle of the text is plain_shingle over its bytes. Lengths
     * around the block the shingles are made in (256 at a time) and far past it. */
    dk_isa saved = isa_current();
    const size_t lens[] = {1, 4, 5, 6, 259, 260, 261, 262, 515, 516, 517, 5000};
    dk_err err;
    for (int path = 0; path < 3; path++) {
        if (isa_set((dk_isa)path) != 0)
            continue;
        for (int n = 1; n <= 32; n += 6) {
            minhash_params p;
            minhash_params_default(&p);
            p.n = n;
            minhash *m = minhash_new(&p, &err);
            CHECK(m != NULL);
            for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
                size_t len = lens[li];
                char *t = malloc(len + 1);
                for (size_t i = 0; i < len; i++) /* no space first, last or twice */
                    t[i] = i > 0 && i + 1 < len && t[i - 1] != ' ' && rng_u64(5, i) % 5 == 0
                               ? ' ' : (char)('a' + rng_u64(6, i) % 26);
                t[len] = 0;
                uint64_t *units = malloc(len * sizeof *units);
                for (size_t i = 0; i < len; i++)
                    units[i] = (uint8_t)t[i];
                size_t want_n = len >= (size_t)n ? len - (size_t)n + 1 : 1;
                uint64_t *got = malloc(want_n * sizeof *got);
                CHECK_EQ(minhash_shingles(m, t, len, got, want_n), want_n);
                int ok = 1;
                for (size_t i = 0; i < want_n; i++)
                    ok &= got[i] == plain_shingle(units + i, len >= (size_t)n ? n : (int)len);
                CHECK_MSG(ok, "path %d, n %d, %zu bytes", path, n, len);
                free(t), free(units), free(got);
            }
            minhash_free(m);
        }
    }
    isa_set(saved);
}

TEST(minhash_pick_kernel_is_its_definition_on_every_path)
{
    /* densification's last step on every path against generic_mh_pick's loop written
     * out: random full/empty bins, random borrowed bins, some empty bins that no probe
     * reached (best >> 8 == 0xFFFF), every h from 1 to 256 */
    uint64_t bins[256];
    uint32_t best[256], got[256], want[256];
    uint8_t full[1024] = {0};
    for (int path = 0; path < 3; path++) {
        if (!isa_supported((dk_isa)path))
            continue;
        const kern_ops *k = kern_of((dk_isa)path);
        for (size_t h = 1; h <= 256; h++) {
            uint32_t want_missed = 0;
            for (size_t i = 0; i < 256; i++) {
                uint64_t r = rng_u64(31 + h, i);
                bins[i] = (uint32_t)r;
                full[i] = (uint8_t)(r >> 40 & 1);
                best[i] = (uint32_t)((r >> 48) % 300 == 0 ? 0xFFFFu << 8 : (r >> 41 & 0x7FFF) << 8) |
                          (uint32_t)((r >> 32) % h);
            }
            for (size_t i = 0; i < h; i++) {
                want[i] = (uint32_t)bins[full[i] ? i : best[i] & 0xFF];
                want_missed |= !full[i] && best[i] >> 8 == 0xFFFF;
            }
            memset(got, 0xAB, sizeof got);
            uint32_t missed = k->mh_pick(bins, best, full, h, got);
            CHECK_MSG(memcmp(got, want, h * sizeof *got) == 0 && (missed != 0) == (want_missed != 0),
                      "path %d, h %zu", path, h);
            CHECK_MSG(h == 256 || got[h] == 0xABABABABu, "path %d, h %zu: wrote past h", path, h);
        }
    }
}

/* The character units by the rules of minhash.h written out one character at a time
 * (utf8_decode, utf8_class, the case folding): words joined by one space, an invalid
 * byte a unit of its own above U+10FFFF. */
static size_t reference_units(const uint8_t *t, size_t len, uint64_t *u)
{
    size_t n = 0, i = 0;
    int in_word = 0, pending = 0;
    while (i < len) {
        uint32_t cp;
        size_t l = utf8_decode(t + i, len - i, &cp);
        int sep = 0;
        if (l == 0) {
            cp = 0x110000u + t[i];
            l = 1;
        } else {
            uclass c = utf8_class(cp);
            sep = c == UC_SPACE || c == UC_PUNCT;
            if ((cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7))
                cp += 32;
        }
        i += l;
        if (sep) {
            pending |= in_word;
            in_word = 0;
            continue;
        }
        if (pending)
            u[n++] = ' ';
        pending = 0;
        u[n++] = cp;
        in_word = 1;
    }
    return n;
}

TEST(minhash_character_units_follow_the_rules_on_every_kind_of_character)
{
    /* 1-character shingles are the units themselves: every ASCII byte, Hangul syllables
     * and the code points around their block (the shingler's fast path), Latin-1
     * capitals and U+00D7, other scripts, spaces, and bytes that are not UTF-8 (lone
     * leads of the Hangul block, surrogates, truncated at the end), mixed at random */
    static const char *const piece[] = {
        "\xEA\xB0\x80", "\xED\x9E\xA3", "\xED\x9E\xA4", "\xEA\xAF\xBF", "\xED\x9F\xBF", "\xEB\x82\x98",
        "\xEC\x9D\x80", "\xC3\x80", "\xC3\x97", "\xC3\x9E", "\xC3\x9F", "\xC2\xA0", "\xE3\x80\x80", "\xD0\x96",
        "\xF0\x9F\x98\x80", "\xE2\x80\x94", "\xEA", "\xED\xA0\x80", "\xEA\xB0", "\xEC\x80", "\xFF", "\x80"};
    enum { NP = sizeof piece / sizeof *piece };
    minhash_params p;
    minhash_params_default(&p);
    p.n = 1;
    dk_err err;
    minhash *m = minhash_new(&p, &err);
    CHECK(m != NULL);
    uint8_t t[600];
    uint64_t want[600], got[600];
    int ok = 1;
    for (int it = 0; it < 3000 && ok; it++) {
        size_t len = 0;
        int parts = (int)(rng_u64(300, (uint64_t)it) % 120);
        for (int q = 0; q < parts; q++) {
            uint64_t r = rng_u64(301 + (uint64_t)it, (uint64_t)q);
            if (r % 2) {
                t[len++] = (uint8_t)(r >> 8 & 0x7F); /* any ASCII byte */
            } else {
                const char *s = piece[(r >> 8) % NP];
                memcpy(t + len, s, strlen(s));
                len += strlen(s);
            }
        }
        size_t nw = reference_units(t, len, want);
        size_t ng = minhash_shingles(m, (const char *)t, len, got, 600);
        ok &= ng == nw;
        for (size_t i = 0; ok && i < nw; i++)
            ok &= got[i] == plain_shingle(&want[i], 1);
        if (!ok)
            printf("    text %d: %zu units, want %zu\n", it, ng, nw);
    }
    CHECK(ok);
    minhash_free(m);
}
