/* build.h: the parts of `dokja data build` (data_build.h) and what they share; not a
 * public interface. The build is one `builder`; its files, each one job:
 *   data_build.c      setting up, the two passes in order, data_sign
 *   build_read.c      reading a file: chunks in parallel, then each document's fate in
 *                     file order (exact dedupe, filters, contamination)
 *   build_tokenize.c  scrubbing and tokenising documents in parallel, into shards
 *   build_sigs.c      the first pass kept in signature files (data/sigfile.h)
 *   build_manifest.c  manifest.json and the report: counts per source and partner */
#ifndef DK_DATA_BUILD_PARTS_H
#define DK_DATA_BUILD_PARTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "data/contam.h"
#include "data/data_build.h"
#include "data/minhash.h"
#include "data/quality.h"
#include "data/shard.h"
#include "data/sigfile.h"
#include "tokenizer/tokenizer.h"
#include "util/fs.h"
#include "util/pool.h"
#include "util/progress.h"

#define READ_BATCH 64 /* chunks read in parallel before their fates are decided */

/* Why a document is dropped (0: kept). A dropped document is tokenised only to count
 * the tokens dropped. */
enum { KEEP = 0, DROP_EXACT, DROP_NEAR, DROP_CONTAM, DROP_SHORT, DROP_LETTERS, DROP_REPEAT, N_DROP };

/* A first-pass fate byte: the DROP_* reason, and FATE_VAL when the document belongs to
 * the validation split, so that the second pass need not hash each document again. */
#define FATE_VAL 0x80u

/* The validation split: a document whose second hash falls in [0, val_fraction) of
 * the space. */
static inline int val_split(uint64_t h2, double val_fraction)
{
    return (double)(h2 >> 11) * 0x1.0p-53 < val_fraction;
}

/* The manifest's name of each reason (DROP_SHORT + k - 1 is QUALITY_* k). */
extern const char *const DROP_NAME[N_DROP];

typedef struct {
    const uint8_t *p;
    uint64_t h1, h2; /* exact dedupe's hashes (a signature file keeps them) */
    uint32_t len;
    uint8_t val;
    uint8_t drop; /* KEEP or DROP_* */
} doc;

/* ---- the set of document hashes seen (128-bit, open addressing) -------------------- */

typedef struct {
    uint64_t (*slots)[2];
    size_t mask, used;
    int shift; /* 64 - log2(slots) */
} hash_set;

/* A hash's home slot: the bits below the top three (which pick the part, SEEN_PARTS),
 * high bits first, so that when the table doubles its entries move to nearly the same
 * order: the rehash writes the new table front to back instead of at random. */
static inline size_t hs_home_at(uint64_t a, int shift) { return (size_t)((a << 3) >> shift); }
static inline size_t hs_home(const hash_set *s, uint64_t a) { return hs_home_at(a, s->shift); }

/* 1: (a, b) was not in the set and is now; 0: it was; -1: out of memory. */
int hs_init(hash_set *s);
int hs_insert(hash_set *s, uint64_t a, uint64_t b);

/* Exact dedupe's set of every document hash seen, cut into SEEN_PARTS sets by the top
 * bits of the first hash (a set's slot comes from the low bits), so that the parts
 * take a batch's documents in parallel, each its own in document order: a document is
 * a duplicate iff an identical one came before it, in its part as in the whole, so the
 * verdicts do not depend on the cut or on the thread count. */
#define SEEN_PARTS 8
static inline hash_set *seen_part(hash_set *seen, uint64_t a) { return &seen[a >> 61]; }

/* ---- per-source output ------------------------------------------------------------ */

typedef struct {
    char file[160];
    uint64_t tokens;
    char sha256[65];
} shard_rec;

typedef struct {
    shard_writer w;
    int open;
    uint64_t docs, tokens;
    shard_rec *shards;
    size_t n_shards;
} split_out;

typedef struct {
    char name[96];
    const char *path, *partner, *licence;
    double weight_given;
    uint64_t documents, empty, bytes;
    uint64_t dropped[N_DROP], dropped_tokens[N_DROP]; /* by reason (KEEP unused) */
    uint64_t pii[PII_N_TYPES], pii_documents;
    split_out split[2]; /* train, val */
    json_t *inputs;
} source_state;

typedef struct {
    const data_build_opts *o;
    const tok *t;
    dk_token eos;
    int width;
    char tmp_dir[4096];
    hash_set seen[SEEN_PARTS];
    pool *pl;
    tok_encoder **enc;
    uint8_t **scratch; /* per thread: the scrubbed document */
    size_t *scratch_cap;
    tok_ids *dup_ids; /* per thread: ids of a duplicate, counted and dropped */
    struct {           /* read_file: the document lists of a batch's chunks, kept from */
        void *d;       /* batch to batch and file to file (their pages faulted once) */
        size_t cap;
    } chunk_docs[READ_BATCH];
    doc *docs; /* the documents of the file being read (read_file), and its room */
    size_t docs_cap;
    struct block_out *blocks; /* the tokenising tasks' outputs, kept from batch to batch
                               * (build_tokenize.c) */
    progress prog;
    double done_bytes;
    /* Near duplicates: with two passes, phase 0 reads every source, drops exact
     * duplicates and contaminated documents (fate[], one byte per non-empty document)
     * and signs the rest into mx; after clustering (keep_of), phase 1 reads them again
     * and tokenizes. One pass (phase 1 only) without near-duplicate removal. */
    int two_pass, phase;
    minhash *mh;
    minhash_index *mx;
    uint32_t *keep_of;
    size_t n_index, index_no;
    uint8_t *fate;
    size_t n_fate, cap_fate, fate_no;
    contam *ct; /* decontamination, or NULL */
    quality_params qp;      /* all off without o->quality */
    quality_scratch *qs;    /* per thread */
    contam_scratch *cs; /* per thread */
    int nt;             /* threads */
    minhash_params mp;
    /* data_sign: the first pass goes to a signature file (no exact dedupe, no index) */
    sig_writer *sw;
    /* data build --signatures: first passes made elsewhere, by file content */
    sig_set *sigs;
    uint64_t files_from_signatures;
    /* per input file in build order: where the first pass's fates of its documents end
     * (n_fate after it), and the signature file it came from (NULL: read); phase 1
     * checks each file against them */
    size_t *file_end;
    const char **file_from;
    size_t n_file_first, file_no;
    uint8_t file_sha[32]; /* the second pass (or the one): SHA-256 of the file just read */
    /* the sources and their files */
    source_state *src;
    char ***files;
    size_t *n_files;
    double total; /* bytes of all files */
} builder;

extern const char *const SPLIT_NAME[2]; /* "train", "val" */

static inline int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Bytes per piece of work for `size` bytes on `threads` threads (build_tokenize.c). */
size_t piece_bytes(size_t size, int threads, size_t least, size_t most);

/* build_read.c: one file's pass (b->phase; b->sw: signing), and the first pass's fate
 * of the next document. */
int read_file(builder *b, source_state *s, const char *path, dk_err *err);
int fate_push(builder *b, int drop);

/* build_tokenize.c: scrubs and tokenizes docs[0..n) of source s in parallel and
 * appends the kept ones to its shards in order; closes a split's last shard. */
int process_docs(builder *b, source_state *s, const doc *docs, size_t n, dk_err *err);
int split_finish(source_state *s, int sp, dk_err *err);
void blocks_free(builder *b);

/* build_sigs.c: the section of a file whose first pass is done (signing); the first
 * pass of one input file, from a signature file that holds it or by reading it; the
 * settings line a signature file must match. */
int sign_section(builder *b, source_state *s, const fs_map *m, const doc *docs, size_t n, dk_err *err);
int first_pass_file(builder *b, source_state *s, const char *path, dk_err *err);
int first_pass_settings(const builder *b, char *out, size_t cap);

/* build_manifest.c: manifest.json's object for the finished build (weights w[i] / wsum
 * per source) and the report's counts; 0, or -1 with err (*man may still need freeing). */
int build_manifest(builder *b, const double *w, double wsum, data_build_report *rep, json_t **man, dk_err *err);

#endif
