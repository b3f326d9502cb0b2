/* data_build.h: raw text sources -> a tokenized dataset directory.
 *
 *   DIR/manifest.json        format "dokja-data" v1: tokenizer SHA-256, sources with
 *                            weights, partner and licence, document and token counts
 *                            kept and dropped per reason, personal-data counts per
 *                            type, the same per partner, shards with SHA-256
 *   DIR/dokja_tokenizer.json a copy of the tokenizer used
 *   DIR/<source>.train.NNNN.tok, DIR/<source>.val.NNNN.tok   token shards (shard.h)
 *
 * A source is a text file (one document per line), a .jsonl file (one JSON object
 * per line, document in its "text" field), or a directory of such files. Documents
 * are read in order; an empty document is skipped; an exact duplicate of an earlier
 * document (of any source: 128-bit hash of its bytes) is dropped; with decontaminate,
 * a document containing a long n-gram of a test item (data/contam.h) is dropped; unless
 * no_near_dup, a near duplicate (MinHash, data/minhash.h, defaults) of an earlier kept
 * document of any source is dropped: the sources are read twice, first to sign the
 * documents (signatures in memory, not text), then, after clustering, to tokenize what
 * is kept; each document is
 * followed by <|eos|>. Personal data in kept documents is replaced by typed
 * placeholders (data/pii.h; plain text, not special tokens) unless no_scrub is set,
 * and counted per source. A document goes to the validation split when its hash falls
 * in the first val_fraction of the hash space: deterministic, and stable when other
 * documents are added or removed. Files are read (lines, UTF-8 validation, JSONL
 * decoding, hashing) in parallel over chunks cut after newlines, and dedupe decided in
 * file order; tokenisation runs in parallel over blocks of documents and the results
 * are written in document order, so the output does not depend on the thread count. The directory is built under a temporary name and
 * renamed into place at the end: a failed build leaves nothing behind. The first pass
 * of an input file may come from a signature file (data_sign on another machine,
 * data/sigfile.h): the same output. */
#ifndef DK_DATA_BUILD_H
#define DK_DATA_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "data/pii.h"
#include "data/quality.h"
#include "util/err.h"

typedef struct {
    const char *path;
    double weight;       /* < 0: proportional to the source's training tokens */
    const char *partner; /* who contributed it, or NULL (from a sources file) */
    const char *licence; /* its licence, or NULL */
} data_source_spec;

typedef struct {
    const char *tokenizer_path;
    const char *out_dir;
    const data_source_spec *sources;
    size_t n_sources;
    double val_fraction;    /* default 0.01 */
    uint64_t shard_tokens;  /* ids per shard, default 1 << 26 */
    int threads;
    int quiet;
    int no_scrub;           /* 1: keep personal data (data/pii.h) as it is */
    int no_near_dup;        /* 1: no near-duplicate removal (data/minhash.h) */
    double near_dup;        /* its Jaccard threshold in (0, 1]; 0: the default 0.8 */
    const char *const *decontaminate; /* task specs (eval/task.h): documents containing */
    size_t n_decontaminate;           /* an n-gram of an item are dropped (data/contam.h) */
    const quality_params *quality;    /* the quality filters (data/quality.h); NULL: none */
    const char *const *signatures;    /* signature files (data/sigfile.h, data_sign): the first */
    size_t n_signatures;              /* pass of the input files they hold, not read again */
} data_build_opts;

/* What happened to one source's documents: read = kept + duplicates + empty +
 * near_duplicates + contaminated. */
typedef struct {
    char name[96];
    const char *partner, *licence; /* the spec's, or NULL */
    uint64_t documents, kept, duplicates, empty, near_duplicates, contaminated;
    uint64_t tokens, duplicate_tokens; /* kept (train + val, with <|eos|>); dropped */
    uint64_t near_duplicate_tokens, contaminated_tokens;
    uint64_t pii[PII_N_TYPES], pii_documents;
    uint64_t filtered[3], filtered_tokens[3]; /* by the quality filters: too short, letters, repetition */
} data_source_report;

typedef struct {
    uint64_t documents, duplicates, empty, train_tokens, val_tokens, bytes;
    uint64_t near_duplicates, contaminated;
    uint64_t filtered[3]; /* too short, too few letters, repetitive */
    uint64_t files, files_from_signatures; /* input files; those whose first pass was signed elsewhere */
    uint64_t pii[PII_N_TYPES];
    double seconds;
    data_source_report *sources; /* n_sources entries, owned: data_build_report_free */
    size_t n_sources;
} data_build_report;

/* Builds the dataset. On failure nothing is left under out_dir, and rep->sources is
 * NULL. On success the caller frees rep with data_build_report_free. */
int data_build(const data_build_opts *o, data_build_report *rep, dk_err *err);
void data_build_report_free(data_build_report *rep);

/* The first pass of a build with near-duplicate removal (quality filters, exact-dedupe
 * hashes, decontamination, MinHash signatures; data/sigfile.h) over o's sources, written
 * to the signature file out_path (atomically) for `data build --signatures` elsewhere.
 * Uses o's sources, threads, quality, decontaminate and quiet; no tokenizer. */
typedef struct {
    uint64_t files, documents, signed_documents, contaminated, bytes, sig_bytes;
    uint64_t filtered[3];
    double seconds;
} data_sign_report;
int data_sign(const data_build_opts *o, const char *out_path, data_sign_report *rep, dk_err *err);

/* Parses "PATH[:WEIGHT]" (WEIGHT a positive number). */
int data_parse_source(const char *arg, char *path, size_t path_cap, double *weight);

#endif
