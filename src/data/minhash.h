/* minhash.h: near-duplicate detection by MinHash signatures and locality-sensitive
 * hashing (LSH) bands, then clusters, as datatrove and text-dedup do it.
 *
 * A document's text is normalised and cut into shingles (word n-grams or character
 * n-grams, see below); each shingle gets a 64-bit hash, keyed by the seed. The
 * signature is a one permutation hash (Li, Owen and Zhang 2012) with optimal
 * densification (Shrivastava 2017): the hash's high half puts the shingle in one of
 * H = bands * rows bins, its low half competes for the bin's minimum (32 bits); an empty
 * bin takes the value of the first non-empty bin of a probe sequence that is the same
 * for every document. Two signatures agree at position k with probability equal to the
 * Jaccard similarity of the two shingle sets, as with H independent permutations, at
 * the cost of one hash per shingle instead of H. LSH: the signature is cut into `bands` bands of `rows` values; two
 * documents are candidates when they agree on a whole band, which happens with
 * probability 1 - (1 - s^rows)^bands at Jaccard s (the S-curve, docs/dedupe.md). A
 * candidate pair is a match when the Jaccard its signatures estimate is >= threshold
 * (the share of the H positions where they agree, corrected for the index's chance
 * agreements, see below; threshold 0: every candidate is a match). Two ways
 * to make clusters of the matches, each keeping the first document in the caller's
 * order (source order, then position) and dropping the rest:
 *   - MINHASH_STARS (the default): documents in id order; a document is dropped for the
 *     lowest-id kept document it matches, else kept. Every dropped document matches its
 *     representative itself, so no chain A~B~C drops C for an A it does not resemble.
 *   - MINHASH_COMPONENTS: the connected components of the matches (union-find, as
 *     datatrove clusters); the representative is the lowest id of the component.
 *     Chains merge: "Chapter XV" ~ "Chapter XVI" ~ ... ~ "Chapter XXXVIII".
 *
 * Normalisation (before shingling; the text itself is never modified):
 *   - A-Z and Latin-1 capitals are lowercased; nothing else is folded (digits kept).
 *   - White space and punctuation/symbols (utf8_class UC_SPACE, UC_PUNCT) separate
 *     words; letters, Hangul, digits and combining marks make words.
 *   - An invalid UTF-8 byte is a word character of its own (distinct from every code
 *     point): such text is shingled like any other, never rejected, never read past.
 * Shingles:
 *   - MINHASH_WORDS: n consecutive words.
 *   - MINHASH_CHARS: n consecutive characters of the words joined by one space (so
 *     "a, b" and "a   b" give the same shingles).
 *   - A document with fewer than n units (but at least one) has one shingle: all its
 *     units. It can only match a document with the same normalised text.
 *   - A document with no units (empty, only spaces or punctuation) has no shingles:
 *     it is never clustered (its representative is itself). Dropping such documents
 *     is the job of a length filter, not of near-duplicate removal.
 *
 * Memory: the index holds H 8-bit values (a hash of each value and its position:
 * b-bit MinHash; a candidate's agreement is counted on them) and one byte per document;
 * clustering adds, while a band is sorted, 32 bytes per document per thread, and keeps
 * of each band only its buckets of two documents or more (12 bytes per member but a
 * bucket's first, 8 per bucket): proportional to the number of documents (at most
 * 12 x bands more per document when every document has a bucket mate in every band),
 * never to the text.
 *
 * Determinism: signatures depend only on the text and the parameters; signing runs
 * in parallel over a pool but each document's signature is computed by one task from
 * its text alone, and clustering is sequential in document order: the results are
 * identical for any thread count, and for any of the kernels' ISA paths (integer
 * arithmetic, no floating point, no SIMD path). */
#ifndef DK_DATA_MINHASH_H
#define DK_DATA_MINHASH_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/pool.h"

typedef enum { MINHASH_WORDS = 0, MINHASH_CHARS = 1 } minhash_shingle;
typedef enum { MINHASH_STARS = 0, MINHASH_COMPONENTS = 1 } minhash_cluster;

#define MINHASH_MAX_N 32       /* longest shingle */
#define MINHASH_MAX_HASHES 1024 /* bands * rows */

typedef struct {
    minhash_shingle kind;
    int n;            /* shingle size in words or characters, 1..MINHASH_MAX_N */
    int bands, rows;  /* H = bands * rows hash functions, 1..MINHASH_MAX_HASHES */
    uint64_t seed;    /* draws the hash functions' (a, b) */
    double threshold; /* a candidate pair matches when its signatures' estimated
                         Jaccard is >= this; 0: every LSH candidate matches */
    minhash_cluster cluster;
} minhash_params;

/* The defaults (docs/dedupe.md says why): character 5-grams, 14 bands x 8 rows (112
 * hashes), threshold 0.8, stars, seed 0x646f6b6a61 ("dokja"). */
void minhash_params_default(minhash_params *p);

/* Checks a parameter set: 0, or -1 with the reason in err. */
int minhash_params_check(const minhash_params *p, dk_err *err);

/* ---- signatures ------------------------------------------------------------------- */

/* The hash functions drawn from the parameters. Read-only after minhash_new: share one
 * between threads. */
typedef struct minhash minhash;

/* NULL with the reason in err on bad parameters or out of memory. */
minhash *minhash_new(const minhash_params *p, dk_err *err);
void minhash_free(minhash *m);
const minhash_params *minhash_get_params(const minhash *m);
int minhash_hashes(const minhash *m); /* H = bands * rows */

/* Signs text[0..len): fills sig[0..H) and returns the number of shingles (counted with
 * repetition). 0 means the document has no shingles; sig is then all 0xFFFFFFFF and
 * must not be clustered (minhash_index_add's has_shingles = 0). No allocation. */
size_t minhash_signature(const minhash *m, const char *text, size_t len, uint32_t *sig);

/* Where a shingle hash goes: its bin (< H) and its value in the bin (the signature keeps
 * the least value per bin). Exposed for tests. */
void minhash_place(const minhash *m, uint64_t shingle_hash, uint32_t *bin, uint32_t *value);

/* The densification probe sequence: the bin that empty bin `bin` (< H) looks at on its
 * attempt'th try. The same for every document: exposed for tests. */
uint32_t minhash_probe(const minhash *m, int bin, uint32_t attempt);

/* The document's shingle hashes in text order (with repetition): writes at most cap of
 * them to out and returns how many there are. For measuring (true Jaccard) and tests. */
size_t minhash_shingles(const minhash *m, const char *text, size_t len, uint64_t *out,
                        size_t cap);

/* Exact Jaccard of two shingle-hash lists (sorted and deduplicated in place): |A∩B| /
 * |A∪B|; 1 when both are empty. */
double minhash_jaccard(uint64_t *a, size_t na, uint64_t *b, size_t nb);

/* The share of the H positions where two signatures agree: the Jaccard estimate. */
double minhash_agreement(const uint32_t *a, const uint32_t *b, int hashes);

/* ---- the index: signatures in document order, then clusters ------------------------- */

typedef struct minhash_index minhash_index;

/* An empty index for m's parameters (m must outlive it). NULL on out of memory. */
minhash_index *minhash_index_new(const minhash *m);
void minhash_index_free(minhash_index *x);
size_t minhash_index_size(const minhash_index *x);

/* Appends one document (its id is the number added before it). sig has H values;
 * has_shingles = 0 for a document that has none (minhash_signature returned 0).
 * 0, or -1 on out of memory (the index is unchanged). */
int minhash_index_add(minhash_index *x, const uint32_t *sig, int has_shingles, dk_err *err);

/* The 8 bits the index keeps of value v at position k (exposed for the fuzz harness's
 * check). */
uint8_t minhash_kept_bits(uint32_t v, int k);

/* Signs docs[0..n) in parallel over pl (NULL: on this thread) and appends them in that
 * order. The texts are not kept. 0, or -1 on out of memory (the index is unchanged). */
int minhash_index_add_docs(minhash_index *x, const char *const *docs, const size_t *lens,
                           size_t n, pool *pl, dk_err *err);

/* What minhash_index_add_docs stores, computed apart (for signing on other machines or
 * processes, then adding there): kept[d * H + k] the 8 bits kept of document d's
 * value k, has[d] whether it has shingles, for docs[0..n), in parallel over pl (NULL: on
 * this thread). And the adding of one such document. */
void minhash_sign_kept(const minhash *m, const char *const *docs, const size_t *lens, size_t n,
                       pool *pl, uint8_t *kept, uint8_t *has);
int minhash_index_add_kept(minhash_index *x, const uint8_t *kept, int has_shingles, dk_err *err);

/* Clusters every document added so far (the bands are sorted in parallel over pl, NULL:
 * on this thread; the clusters are the same for any pool): keep_of[i] (room for minhash_index_size) is
 * the representative of document i, the kept document of its cluster, whose id is the
 * lowest of the cluster (keep_of[i] == i: i is kept). *n_dropped (may be NULL) is the number of documents with keep_of[i] != i.
 * The index stays usable (more documents may be added and clustering run again).
 * 0, or -1 on out of memory. */
int minhash_index_cluster(minhash_index *x, pool *pl, uint32_t *keep_of, size_t *n_dropped,
                          dk_err *err);

/* ---- the whole step, for `dokja data build` ------------------------------------------ */

/* Near-duplicate removal over docs[0..n) in the given order (the caller orders them:
 * source order, then position): signs them over pl (NULL: one thread), clusters, and
 * writes keep_of[i] (document i is dropped when keep_of[i] != i) and *n_dropped (may be
 * NULL). n must be < 2^32. 0, or -1 with err on bad parameters or out of memory. */
int minhash_dedupe(const minhash_params *p, const char *const *docs, const size_t *lens,
                   size_t n, pool *pl, uint32_t *keep_of, size_t *n_dropped, dk_err *err);

#endif
