/* data_build.h: raw text sources -> a tokenized dataset directory.
 *
 *   DIR/manifest.json        format "dokja-data" v1: tokenizer SHA-256, sources with
 *                            weights, document and token counts, shards with SHA-256
 *   DIR/dokja_tokenizer.json a copy of the tokenizer used
 *   DIR/<source>.train.NNNN.tok, DIR/<source>.val.NNNN.tok   token shards (shard.h)
 *
 * A source is a text file (one document per line), a .jsonl file (one JSON object
 * per line, document in its "text" field), or a directory of such files. Documents
 * are read in order; an empty document is skipped; an exact duplicate of an earlier
 * document (of any source: 128-bit hash of its bytes) is dropped; each document is
 * followed by <|eos|>. A document goes to the validation split when its hash falls
 * in the first val_fraction of the hash space: deterministic, and stable when other
 * documents are added or removed. Tokenisation runs in parallel over blocks of
 * documents and the results are written in document order, so the output does not
 * depend on the thread count. The directory is built under a temporary name and
 * renamed into place at the end: a failed build leaves nothing behind. */
#ifndef DK_DATA_BUILD_H
#define DK_DATA_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct {
    const char *path;
    double weight; /* < 0: proportional to the source's training tokens */
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
} data_build_opts;

typedef struct {
    uint64_t documents, duplicates, empty, train_tokens, val_tokens, bytes;
    double seconds;
} data_build_report;

int data_build(const data_build_opts *o, data_build_report *rep, dk_err *err);

/* Parses "PATH[:WEIGHT]" (WEIGHT a positive number). */
int data_parse_source(const char *arg, char *path, size_t path_cap, double *weight);

#endif
