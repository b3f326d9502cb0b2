/* bench_synth_mix.c: a synthetic corpus of a given size for timing `dokja data build`
 * (bench/data_build.sh): the dev corpora once, then rounds of edited near-copies.
 *
 * The documents: every directory of DATA (default ../shared/data) except eval_*, cut
 * as bench_dedupe_eval cuts them (bench/dedupe_corpus.h: Korean prose in documents of
 * 4 lines, reviews and comments one per line, English books at blank lines). Written
 * first: every document once, in corpus order. Then rounds: in each, every document
 * with at least one word is drawn with probability P (0.5), and the drawn ones are
 * written in a shuffled order as near-copies (make_copy: a share of words drawn from
 * --edits MIN:MAX (0.01:0.30) replaced, deleted or inserted, Korean particles changed,
 * lines dropped or swapped, white space and punctuation disturbed). No copy is
 * written that is byte-identical to a document already written (it is drawn again, up
 * to 16 times, then left out), so exact deduplication removes none of the copies and
 * the near-duplicate removal has them all to find. Stops when BYTES are written.
 *
 * Output: PREFIX.00.txt, PREFIX.01.txt, ... (one document per line: line breaks inside
 * a document become spaces), or with --jsonl PREFIX.NN.jsonl ({"text": ...}, line
 * breaks kept in the string), or --both; a new file every --file-bytes (64M). The same
 * options and seed give the same bytes. With --both, BYTES and the file size count
 * the .txt bytes.
 *
 * usage: build/bench_synth_mix --out PREFIX [--bytes N] [--data DIR] [--jsonl|--both]
 *          [--p P] [--edits MIN:MAX] [--seed S] [--file-bytes N]
 * N takes a suffix k, M, G, T (powers of 1000) or an exponent: 1G = 1e9. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe_corpus.h"
#include "util/hash.h"
#include "util/progress.h"

/* ---- a set of 64-bit hashes of the documents written ------------------------------- */

static uint64_t *set;
static size_t set_cap, set_n;

static int set_insert(uint64_t h) /* 1 if new */
{
    h |= 1; /* 0 marks an empty slot */
    if (2 * (set_n + 1) > set_cap) {
        size_t old = set_cap;
        uint64_t *o = set;
        set_cap = old ? old * 2 : (size_t)1 << 20;
        set = calloc(set_cap, sizeof *set);
        if (!set) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        for (size_t i = 0; i < old; i++)
            if (o[i])
                for (size_t j = o[i] & (set_cap - 1);; j = (j + 1) & (set_cap - 1))
                    if (!set[j]) {
                        set[j] = o[i];
                        break;
                    }
        free(o);
    }
    for (size_t j = h & (set_cap - 1);; j = (j + 1) & (set_cap - 1)) {
        if (set[j] == h)
            return 0;
        if (!set[j]) {
            set[j] = h;
            set_n++;
            return 1;
        }
    }
}

/* ---- output ------------------------------------------------------------------------ */

typedef struct {
    const char *prefix;
    int txt, jsonl;
    double file_bytes;
    int file_no;
    FILE *ft, *fj;
    double in_file, total; /* the primary format's bytes: .txt if written */
    sbuf line, json;
} out;

static FILE *open_part(const out *o, const char *ext)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.%02d.%s", o->prefix, o->file_no, ext);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    return f;
}

static void close_parts(out *o)
{
    if ((o->ft && fclose(o->ft) != 0) || (o->fj && fclose(o->fj) != 0)) {
        perror(o->prefix);
        exit(1);
    }
    o->ft = o->fj = NULL;
}

/* The document as one line of text: line breaks (and CR) become spaces. */
static void as_line(sbuf *s, const char *p, size_t len)
{
    s->len = 0;
    sb_put(s, p, len);
    for (size_t i = 0; i < s->len; i++)
        if (s->p[i] == '\n' || s->p[i] == '\r')
            s->p[i] = ' ';
    sb_put(s, "\n", 1);
}

static void as_json(sbuf *s, const char *p, size_t len)
{
    s->len = 0;
    sb_put(s, "{\"text\": \"", 10);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        char esc[8];
        if (c == '"' || c == '\\')
            esc[0] = '\\', esc[1] = (char)c, sb_put(s, esc, 2);
        else if (c == '\n')
            sb_put(s, "\\n", 2);
        else if (c == '\t')
            sb_put(s, "\\t", 2);
        else if (c == '\r')
            sb_put(s, "\\r", 2);
        else if (c < 0x20)
            snprintf(esc, sizeof esc, "\\u%04x", c), sb_put(s, esc, 6);
        else
            sb_put(s, p + i, 1);
    }
    sb_put(s, "\"}\n", 3);
}

/* Writes one document unless its text was written before (then 0). */
static int put_doc(out *o, const char *p, size_t len, int force)
{
    as_line(&o->line, p, len);
    if (!set_insert(hash_bytes(o->line.p, o->line.len)) && !force)
        return 0;
    if (o->in_file >= o->file_bytes) {
        close_parts(o);
        o->file_no++, o->in_file = 0;
    }
    if (o->txt && !o->ft)
        o->ft = open_part(o, "txt");
    if (o->jsonl && !o->fj)
        o->fj = open_part(o, "jsonl");
    size_t n = o->line.len;
    if (o->txt && fwrite(o->line.p, 1, o->line.len, o->ft) != o->line.len) {
        perror(o->prefix);
        exit(1);
    }
    if (o->jsonl) {
        as_json(&o->json, p, len);
        if (fwrite(o->json.p, 1, o->json.len, o->fj) != o->json.len) {
            perror(o->prefix);
            exit(1);
        }
        if (!o->txt)
            n = o->json.len;
    }
    o->in_file += (double)n, o->total += (double)n;
    return 1;
}

static int parse_bytes(const char *s, double *v)
{
    char *end;
    double x = strtod(s, &end);
    double mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1e3, end++; break;
    case 'm': case 'M': mul = 1e6, end++; break;
    case 'g': case 'G': mul = 1e9, end++; break;
    case 't': case 'T': mul = 1e12, end++; break;
    default: break;
    }
    if (*end == 'B')
        end++;
    if (end == s || *end || !(x > 0))
        return -1;
    *v = x * mul;
    return 0;
}

static void usage(const char *argv0)
{
    fprintf(stderr, "usage: %s --out PREFIX [--bytes N] [--data DIR] [--jsonl|--both] [--p P] "
                    "[--edits MIN:MAX] [--seed S] [--file-bytes N]\n", argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *dir = "../shared/data";
    out o = {.txt = 1, .file_bytes = 64e6};
    double bytes = 1e9, p = 0.5;
    uint64_t seed = 2026;
    edit_min = 0.01, edit_max = 0.30;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--jsonl"))
            o.txt = 0, o.jsonl = 1;
        else if (!strcmp(a, "--both"))
            o.txt = 1, o.jsonl = 1;
        else if (v && !strcmp(a, "--out"))
            o.prefix = v, i++;
        else if (v && !strcmp(a, "--data"))
            dir = v, i++;
        else if (v && !strcmp(a, "--bytes") && parse_bytes(v, &bytes) == 0)
            i++;
        else if (v && !strcmp(a, "--file-bytes") && parse_bytes(v, &o.file_bytes) == 0)
            i++;
        else if (v && !strcmp(a, "--p") && (p = atof(v)) > 0 && p <= 1)
            i++;
        else if (v && !strcmp(a, "--edits") && sscanf(v, "%lf:%lf", &edit_min, &edit_max) == 2 &&
                 edit_min >= 0 && edit_min <= edit_max && edit_max <= 1)
            i++;
        else if (v && !strcmp(a, "--seed"))
            seed = (uint64_t)strtoull(v, NULL, 10), i++;
        else
            usage(argv[0]);
    }
    if (!o.prefix)
        usage(argv[0]);
    double t0 = now_seconds();
    if (load_dev_corpora(dir) != 0)
        return 1;
    size_t n_corpus = n_docs;
    if (n_corpus == 0) {
        fprintf(stderr, "%s: no documents\n", dir);
        return 1;
    }
    /* the pools of replacement words, per language; the documents that can be copied */
    size_t *pool_ids[2], n_pool[2] = {0, 0}, *cand = malloc(n_corpus * sizeof *cand), n_cand = 0;
    pool_ids[0] = malloc(n_corpus * sizeof(size_t));
    pool_ids[1] = malloc(n_corpus * sizeof(size_t));
    double corpus_bytes = 0;
    for (size_t i = 0; i < n_corpus; i++) {
        corpus_bytes += (double)docs[i].len;
        if (docs[i].words >= 1) {
            pool_ids[docs[i].ko][n_pool[docs[i].ko]++] = i;
            cand[n_cand++] = i;
        }
    }
    for (int ko = 0; ko < 2; ko++)
        if (!n_pool[ko])
            pool_ids[ko] = pool_ids[!ko], n_pool[ko] = n_pool[!ko]; /* one language only */
    rs = seed;
    size_t originals = 0, copies = 0, redrawn = 0, left_out = 0, rounds = 0;
    double share_sum = 0;
    for (size_t i = 0; i < n_corpus && o.total < bytes; i++) {
        put_doc(&o, docs[i].p, docs[i].len, 1); /* corpus duplicates stay as they are */
        originals++;
    }
    size_t *order = malloc(n_cand * sizeof *order);
    while (o.total < bytes) {
        rounds++;
        size_t n = 0;
        for (size_t i = 0; i < n_cand; i++)
            if (unit() < p)
                order[n++] = cand[i];
        for (size_t i = n; i > 1; i--) {
            size_t j = rnd(i), t = order[i - 1];
            order[i - 1] = order[j], order[j] = t;
        }
        for (size_t i = 0; i < n && o.total < bytes; i++) {
            const edoc *d = &docs[order[i]];
            int done = 0;
            for (int tries = 0; tries < 16 && !done; tries++) {
                edits ed;
                char *c = make_copy(d, pool_ids[d->ko], n_pool[d->ko], &ed);
                done = put_doc(&o, c, strlen(c), 0);
                free(c);
                if (done)
                    share_sum += ed.edit_share;
                else
                    redrawn++;
            }
            copies += (size_t)done;
            left_out += (size_t)!done;
        }
        fprintf(stderr, "\rround %zu: %.0f MB", rounds, o.total / 1e6);
    }
    if (rounds)
        fprintf(stderr, "\n");
    close_parts(&o);
    printf("corpus %s: %zu documents, %.1f MB (%zu with words, %zu Korean, %zu English)\n", dir,
           n_corpus, corpus_bytes / 1e6, n_cand, n_pool[1], n_pool[0]);
    printf("written %s.00..%02d.%s%s: %zu documents (%zu originals, %zu edited copies in %zu "
           "rounds, p %.2f, words edited %.0f-%.0f %%, mean %.1f %%), %.0f bytes (%.1f MB) of %s; "
           "%zu copies drawn again as byte-identical to a document written, %zu left out; "
           "seed %llu; %.1f s\n",
           o.prefix, o.file_no, o.txt ? "txt" : "jsonl", o.txt && o.jsonl ? " and .jsonl" : "",
           originals + copies, originals, copies, rounds, p, 100 * edit_min, 100 * edit_max,
           copies ? 100 * share_sum / (double)copies : 0.0, o.total, o.total / 1e6,
           o.txt ? "text" : "JSONL", redrawn, left_out, (unsigned long long)seed,
           now_seconds() - t0);
    return 0;
}
