/* contam.h: benchmark contamination: does a long n-gram of a test item occur in a
 * training text?
 *
 * An item's text is what the model is scored on: for a multiple-choice task its context
 * followed by its gold choice (the strings of eval/task.h, concatenated as they are);
 * for a text task (`text:PATH`) a non-empty line. Texts are normalised as the n-grams
 * of GPT-3 and lm-evaluation-harness are: A-Z and Latin-1 capitals lowercased, white
 * space and punctuation/symbols (utf8_class UC_SPACE, UC_PUNCT) dropped as separators.
 * Two kinds of n-grams:
 *   - words: n consecutive words (default 13, as GPT-3 and lm-evaluation-harness);
 *   - characters: n consecutive word characters with the separators removed (default
 *     50), so that Korean spacing (띄어쓰기), which writers vary, does not matter.
 * An item whose Hangul syllables are at least as many as its Latin letters (and at
 * least one) is Korean and uses character n-grams; any other uses word n-grams
 * (docs/data.md says why, with the measurement). An item shorter than n has a single
 * n-gram: all of its units. A training text is scanned for both kinds.
 *
 * The items' n-grams are hashed (64-bit polynomial hashes, mixed) into a table; a
 * training text is streamed once, each window's hash looked up (a bitmap filter first).
 * A 64-bit collision could give a false hit with a probability of about
 * (item n-grams x training windows) / 2^64: 10^-4 for 10^5 n-grams over 10^10 windows.
 * The table is read-only once built: scan from many threads, each with its own
 * contam_scratch. A text longer than 1 MiB is scanned in 1 MiB pieces overlapping by
 * 64 KiB, so that the scratch stays at most 20 MiB: an n-gram spread over more than
 * 64 KiB of text (its units separated by pages of punctuation) could be missed. */
#ifndef DK_DATA_CONTAM_H
#define DK_DATA_CONTAM_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define CONTAM_WORD_N 13
#define CONTAM_CHAR_N 50

typedef struct contam contam;

/* word_n, char_n: 0 for the defaults. NULL on out of memory. */
contam *contam_new(int word_n, int char_n);
void contam_free(contam *c);
int contam_word_n(const contam *c);
int contam_char_n(const contam *c);

/* Adds a task by its spec as `dokja eval --task` takes it (eval/task.h: FORMAT:PATH,
 * PATH.jsonl, text:PATH, PATH.txt); returns its index, or -1 with err. */
int contam_add_task(contam *c, const char *spec, dk_err *err);
/* Adds one item's text to task `task` (an index from contam_add_task, or a new one when
 * task == number of tasks: for tests). 0, or -1 on out of memory. */
int contam_add_item(contam *c, uint32_t task, uint32_t item, const char *text, size_t len);
/* After the last add, before scanning. 0, or -1 on out of memory. */
int contam_finish(contam *c, dk_err *err);

size_t contam_n_tasks(const contam *c);
const char *contam_task_name(const contam *c, size_t task);
const char *contam_task_sha256(const contam *c, size_t task);
size_t contam_task_items(const contam *c, size_t task);
/* How many of a task's items use character n-grams (the others words). */
size_t contam_task_char_items(const contam *c, size_t task);

/* Per-thread buffers for scanning. */
typedef struct {
    uint32_t *cp;      /* where each word starts among the characters */
    uint64_t *ch, *wh; /* prefix hashes of characters and words */
    size_t cap_c, cap_w;
} contam_scratch;
void contam_scratch_free(contam_scratch *s);

/* Called for each (task, item) whose n-gram occurs in the text (an item may be
 * reported more than once per text). */
typedef void (*contam_hit_fn)(void *ctx, uint32_t task, uint32_t item);

/* Scans text[0..len): returns the number of item n-gram occurrences found (0: clean),
 * calling fn for each when fn is not NULL; with fn NULL it stops at the first. -1 on
 * out of memory. */
long contam_scan(const contam *c, const char *text, size_t len, contam_scratch *s,
                 contam_hit_fn fn, void *ctx);

/* ---- a dataset built by `dokja data build` -------------------------------------------- */

/* Where an item's n-gram was first found: source (its manifest name), split (0 train,
 * 1 val) and document (0-based, in the split's shards in order, documents ending at
 * <|eos|>). */
typedef struct {
    int found;
    uint32_t source;
    int split;
    uint64_t document;
    char excerpt[100]; /* the document's first characters (at most 96 bytes, whole UTF-8
                          characters, control characters as spaces) */
} contam_where;

typedef struct {
    uint64_t documents, bytes; /* scanned: decoded text */
    double seconds;
} contam_stats;

/* Decodes every document of the dataset at dir (verified as training verifies it) with
 * its own tokenizer copy and scans it; where[t] (contam_task_items(c, t) entries each,
 * allocated by the caller, zeroed) gets the first occurrence of each item: the lowest
 * source, then split, then document. names (may be NULL): *names gets a malloc'd array
 * of the sources' names (n_sources entries of 96 bytes). 0, or -1 with err.
 * On `threads` threads (0: all CPUs): a sequential pass over the ids finds the
 * documents' ends and cuts each split into blocks of whole documents (about 2^20 ids
 * each; a document may continue across shards); the blocks are decoded and scanned in
 * parallel, each hit keeping the lowest position, so where and st's counts are the
 * same for any thread count. */
int contam_scan_dataset(const contam *c, const char *dir, contam_where **where, int threads,
                        char (**names)[96], size_t *n_sources, contam_stats *st, dk_err *err);

/* For tests: the ids per block of contam_scan_dataset (0: the default 2^20), so that a
 * small dataset is cut into many blocks. Set it before scanning, not during. */
void contam_set_block_tokens(uint64_t n);

#endif
