/* dedupe_corpus.h: the dev corpora cut into documents, and near-copies of documents with
 * planted edits: shared by bench/bench_dedupe_eval.c (how well near-duplicate removal
 * finds planted copies) and bench/bench_synth_mix.c (the synthetic mix for timing
 * `dokja data build`). Bench code only: one process-wide document list and one
 * random-number stream, as the benchmarks need no more.
 *
 * Documents: Korean prose files (ko_boddari, ko_laws, ko_libreoffice_help) cut into
 * documents of 4 non-empty lines; reviews, comments and chatbot pairs (ko_nsmc,
 * ko_hatespeech, ko_chatbot) one per line; English books, Shakespeare and the Devil's
 * Dictionary cut at blank lines. Trailing line breaks and spaces are removed and empty
 * documents skipped.
 *
 * Near-copies (make_copy): a share of the words drawn from [edit_min, edit_max] is
 * changed (replaced by a word of another document of the language, deleted, a word
 * inserted after it; in Korean also a particle changed: the last syllable replaced by
 * 은/는/이/가/...), then with probability 0.3 a line is dropped and with 0.3 two lines
 * are swapped, with 0.5 the white space is disturbed (doubled spaces, tabs, line breaks
 * joined) and with 0.5 the punctuation (trailing marks removed, commas added). */
#ifndef BENCH_DEDUPE_CORPUS_H
#define BENCH_DEDUPE_CORPUS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *p; /* NUL-terminated */
    size_t len;
    int ko;    /* Korean (1) or English (0) */
    int words; /* space-, tab- or newline-separated runs */
} edoc;

extern edoc *docs; /* every document loaded or added, in order */
extern size_t n_docs;

/* Appends a copy of p[0, len) (trailing line breaks and spaces removed; nothing if
 * that leaves it empty). */
void add_doc(const char *p, size_t len, int ko);

/* Appends the documents of DIR/NAME: mode 0 one per line, G > 0 groups of G non-empty
 * lines, -1 paragraphs (blank-line separated). -1 (and a line on stderr) if unreadable. */
int load_file(const char *dir, const char *name, int mode, int ko);

/* bench_dedupe_eval's corpus: the Korean and English dev corpora under DIR in a fixed
 * order (ko_chatbot is not among them). */
int load_corpus(const char *dir);

/* Every directory under DIR except eval_* (sorted by name), every regular file in it
 * (sorted), cut as above; a directory named ko_* is Korean; unknown ko_* directories
 * are read one document per line, unknown others by paragraphs. Prints nothing. */
int load_dev_corpora(const char *dir);

typedef struct {
    const char *p;
    size_t len;
} span;

typedef struct {
    char *p; /* NUL-terminated while not NULL */
    size_t len, cap;
} sbuf;

void sb_put(sbuf *s, const char *p, size_t n);

/* The random-number stream (util/rng.h splitmix64) every draw below comes from. */
extern uint64_t rs;
uint64_t rnd(uint64_t n); /* uniform in [0, n), n > 0 */
double unit(void);        /* uniform in [0, 1) */

/* The share of words edited per copy is drawn from [edit_min, edit_max]
 * (default 0.05, 0.30). */
extern double edit_min, edit_max;

typedef struct {
    double edit_share;
    int dropped_line, swapped_lines, ws, punct;
} edits;

/* A near-copy of d (d->words >= 1), malloc'd and NUL-terminated; replacement and
 * inserted words come from random documents pool_ids[0 .. n_pool) of docs[]. What was
 * done goes to *ed. */
char *make_copy(const edoc *d, const size_t *pool_ids, size_t n_pool, edits *ed);

#endif
