/* bench_dedupe_eval.c: how well near-duplicate removal (data/minhash.h) finds planted
 * near-copies in the dev corpora, how often it merges what it should not, and how fast
 * it signs text (docs/dedupe.md has the results).
 *
 * The corpus: every document of the Korean and English dev corpora (DATA, default
 * ../shared/data): Korean prose files cut into documents of 4 lines, reviews and
 * comments one per line, English books, Shakespeare and the Devil's Dictionary cut at
 * blank lines. Of the documents with at least 20 words, PLANTED (2,000) are drawn,
 * half Korean and half English, and each gets a near-copy: a share of its words drawn
 * from [5 %, 30 %] is changed (replaced by a word of another document, deleted, a word
 * inserted after it; in Korean also a particle changed: the last syllable replaced by
 * 은/는/이/가/...), then with probability 0.3 a line is dropped and with 0.3 two lines
 * are swapped, and with 0.5 the white space is disturbed (doubled spaces, tabs, line
 * breaks joined) and with 0.5 the punctuation (trailing marks removed, commas added).
 * Copies are mixed into the corpus in a random order, and the whole is deduplicated.
 *
 * Reported: each planted pair's true Jaccard on the configured shingles and whether
 * the pair ended in one cluster, by Jaccard band and by edit share; every other
 * document dropped, with its true Jaccard to the document that represents it (a
 * merge at <= 0.5 is a false merge); signing speed on 1 and 2 threads, and that both
 * gave the same clusters.
 *
 * usage: build/bench_dedupe_eval [--data DIR] [--words|--chars] [--n N] [--bands B]
 *          [--rows R] [--threshold T] [--components] [--planted N] [--edits MIN:MAX] [--examples K]
 *          [--seed S]
 * --edits: the share of words edited is drawn from [MIN, MAX] (default 0.05:0.30);
 * --examples K prints the first K other dropped documents with a true Jaccard <= 0.5
 * to their representatives (false merges), with the representative, to judge by eye.
 * --background K only prints the true Jaccard among the K longest documents of each
 * language, and among K/3 texts of 40 consecutive documents (unrelated texts: how much
 * shingles of this kind overlap by chance).
 * The corpus loader and the near-copy maker are in bench/dedupe_corpus.c (shared with
 * bench/bench_synth_mix.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/minhash.h"
#include "dedupe_corpus.h"
#include "util/pool.h"
#include "util/progress.h"

/* ---- measuring ---------------------------------------------------------------------- */

static double jaccard(const minhash *m, const edoc *a, const edoc *b)
{
    size_t na = minhash_shingles(m, a->p, a->len, NULL, 0);
    size_t nb = minhash_shingles(m, b->p, b->len, NULL, 0);
    uint64_t *sa = malloc((na + 1) * 8), *sb = malloc((nb + 1) * 8);
    minhash_shingles(m, a->p, a->len, sa, na);
    minhash_shingles(m, b->p, b->len, sb, nb);
    double j = minhash_jaccard(sa, na, sb, nb);
    free(sa), free(sb);
    return j;
}

typedef struct {
    size_t orig, copy; /* corpus indices */
    int ko;
    double j;
    edits ed;
} planted;

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_len_desc(const void *a, const void *b)
{
    size_t x = docs[*(const size_t *)a].len, y = docs[*(const size_t *)b].len;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The background: the true Jaccard between unrelated long texts of one language, its
 * mean and its largest value: the `k` longest documents (join = 1), or k texts of
 * `join` consecutive documents from evenly spaced places of the corpus (longer texts,
 * different parts of one book or of one file among them). Pairs above 0.95 (copies)
 * are left out. Shingles too short to tell texts apart show up as a high background. */
static void background(const minhash *m, int k, int join)
{
    for (int ko = 0; ko < 2; ko++) {
        size_t *ids = malloc(n_docs * sizeof *ids), c = 0;
        for (size_t i = 0; i < n_docs; i++)
            if (docs[i].ko == ko)
                ids[c++] = i;
        size_t all = c;
        uint64_t **sh = malloc((size_t)k * sizeof *sh);
        size_t *ns = malloc((size_t)k * sizeof *ns);
        size_t min_len = SIZE_MAX;
        if (join > 1) {
            /* k texts of `join` consecutive documents each, from evenly spaced places */
            c = (size_t)k;
            for (size_t i = 0; i < c; i++) {
                sbuf t = {0};
                size_t first = i * (all - (size_t)join) / c;
                for (int j = 0; j < join; j++) {
                    const edoc *d = &docs[ids[first + (size_t)j]];
                    sb_put(&t, d->p, d->len);
                    sb_put(&t, "\n", 1);
                }
                ns[i] = minhash_shingles(m, t.p, t.len, NULL, 0);
                sh[i] = malloc((ns[i] + 1) * 8);
                minhash_shingles(m, t.p, t.len, sh[i], ns[i]);
                min_len = t.len < min_len ? t.len : min_len;
                free(t.p);
            }
        } else {
            qsort(ids, c, sizeof *ids, cmp_len_desc);
            if (c > (size_t)k)
                c = (size_t)k;
            for (size_t i = 0; i < c; i++) {
                const edoc *d = &docs[ids[i]];
                ns[i] = minhash_shingles(m, d->p, d->len, NULL, 0);
                sh[i] = malloc((ns[i] + 1) * 8);
                minhash_shingles(m, d->p, d->len, sh[i], ns[i]);
                min_len = d->len < min_len ? d->len : min_len;
            }
        }
        double sum = 0, mx = 0;
        size_t pairs = 0;
        for (size_t i = 0; i < c; i++)
            for (size_t j = i + 1; j < c; j++) {
                double x = minhash_jaccard(sh[i], ns[i], sh[j], ns[j]);
                if (x > 0.95)
                    continue; /* a copy in the corpus, not background */
                sum += x, pairs++;
                mx = x > mx ? x : mx;
            }
        printf("background, %s, %zu %s (>= %zu bytes): mean Jaccard %.4f, max %.4f\n",
               ko ? "Korean" : "English", c,
               join > 1 ? "texts of consecutive documents" : "longest documents", min_len,
               pairs ? sum / (double)pairs : 0, mx);
        for (size_t i = 0; i < c; i++)
            free(sh[i]);
        free(sh), free(ns), free(ids);
    }
}

int main(int argc, char **argv)
{
    const char *dir = "../shared/data";
    minhash_params p;
    minhash_params_default(&p);
    size_t n_planted = 2000;
    uint64_t seed = 2026;
    int n_examples = 0, n_background = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--words"))
            p.kind = MINHASH_WORDS;
        else if (!strcmp(a, "--chars"))
            p.kind = MINHASH_CHARS;
        else if (!strcmp(a, "--components"))
            p.cluster = MINHASH_COMPONENTS;
        else if (v && !strcmp(a, "--data"))
            dir = v, i++;
        else if (v && !strcmp(a, "--n"))
            p.n = atoi(v), i++;
        else if (v && !strcmp(a, "--bands"))
            p.bands = atoi(v), i++;
        else if (v && !strcmp(a, "--rows"))
            p.rows = atoi(v), i++;
        else if (v && !strcmp(a, "--threshold"))
            p.threshold = atof(v), i++;
        else if (v && !strcmp(a, "--planted"))
            n_planted = (size_t)atol(v), i++;
        else if (v && !strcmp(a, "--edits"))
            sscanf(v, "%lf:%lf", &edit_min, &edit_max), i++;
        else if (v && !strcmp(a, "--background"))
            n_background = atoi(v), i++;
        else if (v && !strcmp(a, "--examples"))
            n_examples = atoi(v), i++;
        else if (v && !strcmp(a, "--seed"))
            seed = (uint64_t)atoll(v), i++;
        else {
            fprintf(stderr, "usage: %s [--data DIR] [--words|--chars] [--n N] [--bands B] [--rows R] "
                            "[--threshold T] [--components] [--planted N] [--edits MIN:MAX] [--examples K] [--background K] [--seed S]\n", argv[0]);
            return 2;
        }
    }
    dk_err err;
    minhash *m = minhash_new(&p, &err);
    if (!m) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    if (load_corpus(dir) != 0)
        return 1;
    size_t n_corpus = n_docs;
    if (n_background > 0) {
        printf("shingles: %s %d-grams\n", p.kind == MINHASH_WORDS ? "word" : "character", p.n);
        background(m, n_background, 1);
        background(m, n_background / 3, 40);
        return 0;
    }
    /* the documents to copy: half Korean, half English, >= 20 words each */
    rs = seed;
    size_t *pool_ids[2], n_pool[2] = {0, 0};
    pool_ids[0] = malloc(n_corpus * sizeof(size_t));
    pool_ids[1] = malloc(n_corpus * sizeof(size_t));
    for (size_t i = 0; i < n_corpus; i++)
        if (docs[i].words >= 20)
            pool_ids[docs[i].ko][n_pool[docs[i].ko]++] = i;
    uint8_t *chosen = calloc(n_corpus, 1);
    planted *pl = calloc(n_planted, sizeof *pl);
    for (size_t k = 0; k < n_planted;) {
        int ko = (int)(k & 1);
        size_t o = pool_ids[ko][rnd(n_pool[ko])];
        if (chosen[o])
            continue;
        chosen[o] = 1;
        char *c = make_copy(&docs[o], pool_ids[ko], n_pool[ko], &pl[k].ed);
        add_doc(c, strlen(c), ko);
        free(c);
        pl[k].orig = o, pl[k].copy = n_docs - 1, pl[k].ko = ko;
        k++;
    }
    size_t n = n_docs;
    /* mixed: a random order of corpus and copies */
    size_t *at = malloc(n * sizeof *at), *id_of = malloc(n * sizeof *id_of); /* at[pos] = doc */
    for (size_t i = 0; i < n; i++)
        at[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = rnd(i + 1), t = at[i];
        at[i] = at[j], at[j] = t;
    }
    const char **texts = malloc(n * sizeof *texts);
    size_t *lens = malloc(n * sizeof *lens);
    double bytes = 0;
    for (size_t pos = 0; pos < n; pos++) {
        id_of[at[pos]] = pos;
        texts[pos] = docs[at[pos]].p;
        lens[pos] = docs[at[pos]].len;
        bytes += (double)lens[pos];
    }
    /* sign and cluster on 1 and 2 threads */
    uint32_t *keep[2];
    double sign_s[2], clus_s = 0;
    size_t dropped = 0;
    for (int t = 0; t < 2; t++) {
        pool *pp = pool_new(t + 1);
        minhash_index *x = minhash_index_new(m);
        keep[t] = malloc(n * sizeof(uint32_t));
        double t0 = now_seconds();
        if (!pp || !x || minhash_index_add_docs(x, texts, lens, n, pp, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        sign_s[t] = now_seconds() - t0;
        t0 = now_seconds();
        if (minhash_index_cluster(x, pp, keep[t], &dropped, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        clus_s = now_seconds() - t0;
        minhash_index_free(x);
        pool_free(pp);
    }
    int same = memcmp(keep[0], keep[1], n * sizeof(uint32_t)) == 0;
    uint32_t *kp = keep[0];

    printf("corpus: %zu documents (%zu Korean, %zu English), %.1f MB; planted %zu near-copies\n",
           n_corpus, n_pool[1], n_pool[0], bytes / 1e6, n_planted);
    printf("shingles: %s %d-grams; %d bands x %d rows = %d hashes; threshold %.2f; %s; "
           "words edited %.0f-%.0f %%; seed %llu\n\n",
           p.kind == MINHASH_WORDS ? "word" : "character", p.n, p.bands, p.rows,
           p.bands * p.rows, p.threshold, p.cluster == MINHASH_STARS ? "stars" : "components",
           100 * edit_min, 100 * edit_max, (unsigned long long)seed);
    /* planted pairs by true Jaccard */
    static const double lo[] = {0.9, 0.8, 0.5, 0.0}, hi[] = {1.01, 0.9, 0.8, 0.5};
    static const char *band_name[] = {"[0.9, 1]", "[0.8, 0.9)", "(0.5, 0.8)", "[0, 0.5]"};
    size_t cnt[4][3] = {{0}}, hit[4][3] = {{0}}; /* [band][en, ko, all] */
    double *js[4];
    size_t nj[4] = {0};
    for (int e = 0; e < 4; e++)
        js[e] = malloc(n_planted * sizeof(double));
    size_t eb_cnt[4][2] = {{0}}, eb_hit[4][2] = {{0}};
    for (size_t k = 0; k < n_planted; k++) {
        planted *q = &pl[k];
        q->j = jaccard(m, &docs[q->orig], &docs[q->copy]);
        int caught = kp[id_of[q->orig]] == kp[id_of[q->copy]];
        int b = q->j >= 0.9 ? 0 : q->j >= 0.8 ? 1 : q->j > 0.5 ? 2 : 3;
        cnt[b][q->ko]++, cnt[b][2]++;
        hit[b][q->ko] += (size_t)caught, hit[b][2] += (size_t)caught;
        int eb = q->ed.edit_share < 0.05 ? 0 : q->ed.edit_share < 0.10 ? 1 : q->ed.edit_share < 0.20 ? 2 : 3;
        js[eb][nj[eb]++] = q->j;
        eb_cnt[eb][q->ko]++;
        eb_hit[eb][q->ko] += (size_t)caught;
    }
    printf("planted pairs by true Jaccard: merged / pairs (English | Korean | all)\n");
    printf("| true Jaccard | English | Korean | all | merged |\n|---|---|---|---|---|\n");
    for (int b = 0; b < 4; b++)
        printf("| %s | %zu / %zu | %zu / %zu | %zu / %zu | %.1f %% |\n", band_name[b], hit[b][0],
               cnt[b][0], hit[b][1], cnt[b][1], hit[b][2], cnt[b][2],
               cnt[b][2] ? 100.0 * (double)hit[b][2] / (double)cnt[b][2] : 0.0);
    (void)lo, (void)hi;
    printf("\nplanted pairs by share of words edited: median true Jaccard, merged\n");
    printf("| words edited | median Jaccard | English merged | Korean merged |\n|---|---|---|---|\n");
    static const char *eb_name[] = {"1-5 %", "5-10 %", "10-20 %", "20-30 %"};
    for (int eb = 0; eb < 4; eb++) {
        if (!nj[eb])
            continue;
        qsort(js[eb], nj[eb], sizeof(double), cmp_dbl);
        printf("| %s | %.3f | %zu / %zu | %zu / %zu |\n", eb_name[eb], nj[eb] ? js[eb][nj[eb] / 2] : 0,
               eb_hit[eb][0], eb_cnt[eb][0], eb_hit[eb][1], eb_cnt[eb][1]);
    }
    /* every other dropped document, against its representative */
    uint8_t *is_copy_pair = calloc(n, 1); /* by position: a copy merged with its original */
    for (size_t k = 0; k < n_planted; k++) {
        size_t o = id_of[pl[k].orig], c = id_of[pl[k].copy];
        if (kp[o] == kp[c]) {
            is_copy_pair[o] |= kp[o] != o && kp[o] == c;
            is_copy_pair[c] |= kp[c] != c && kp[c] == o;
        }
    }
    size_t other = 0, oj[4] = {0}, exact = 0;
    for (size_t pos = 0; pos < n; pos++) {
        if (kp[pos] == pos || is_copy_pair[pos])
            continue;
        other++;
        double j = jaccard(m, &docs[at[pos]], &docs[at[kp[pos]]]);
        exact += lens[pos] == lens[kp[pos]] && !memcmp(texts[pos], texts[kp[pos]], lens[pos]);
        oj[j >= 0.9 ? 0 : j >= 0.8 ? 1 : j > 0.5 ? 2 : 3]++;
        if (n_examples > 0 && j <= 0.5) {
            n_examples--;
            printf("example, true Jaccard %.3f:\n  kept:    %.300s\n  dropped: %.300s\n", j,
                   texts[kp[pos]], texts[pos]);
        }
    }
    printf("\nall other dropped documents, by true Jaccard to their kept representative\n");
    printf("(corpus duplicates, and planted pairs joined through a third document)\n");
    printf("| dropped | exact copies | [0.9, 1] | [0.8, 0.9) | (0.5, 0.8) | [0, 0.5]: false |\n"
           "|---|---|---|---|---|---|\n");
    printf("| %zu | %zu | %zu | %zu | %zu | %zu |\n", other, exact, oj[0], oj[1], oj[2], oj[3]);
    printf("\nfalse merges (true Jaccard <= 0.5 to the representative): %zu of %zu documents "
           "(%.4f %%); planted pairs <= 0.5 merged: %zu of %zu\n",
           oj[3], n, 100.0 * (double)oj[3] / (double)n, hit[3][2], cnt[3][2]);
    printf("\ndropped %zu of %zu documents; clusters identical on 1 and 2 threads: %s\n", dropped,
           n, same ? "yes" : "NO");
    printf("signing: %.1f MB/s on 1 thread, %.1f MB/s on 2 threads; clustering %.2f s\n",
           bytes / 1e6 / sign_s[0], bytes / 1e6 / sign_s[1], clus_s);
    return same ? 0 : 1;
}
