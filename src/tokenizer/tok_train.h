/* tok_train.h: learning BPE merges from raw text files.
 *
 * Two phases. Counting: the files are cut into blocks at pretok_safe_split points,
 * the blocks are normalised and chunked in parallel, and each thread counts its
 * chunks; the counts are summed and the unique chunks ("words") sorted by their
 * bytes, so nothing depends on the thread count. Merging: the incremental
 * algorithm: pair counts weighted by word frequency, a max-heap with lazy
 * deletion, and for each pair the list of words it occurs in, so a merge touches
 * only the words that contain it. Ties go to the smaller (left, right) id pair.
 * Chunks longer than 64 KiB (possible only with llama.cpp's uncapped pre-tokenizers)
 * are not counted. Same inputs and options give the same file, byte for byte. */
#ifndef DK_TOKENIZER_TOK_TRAIN_H
#define DK_TOKENIZER_TOK_TRAIN_H

#include "tokenizer/tokenizer.h"

typedef struct {
    uint32_t vocab_size;      /* total ids: 256 bytes + specials + merges */
    int threads;              /* <= 0: all CPUs */
    enum tok_norm norm;
    enum tok_pretok pretok;   /* pretok.h; 0 is "dokja-v1" */
    uint64_t min_frequency;   /* stop early when the best pair occurs fewer times */
    const char *const *specials;
    uint32_t n_special;
    int quiet;                /* no progress lines */
} tok_train_opts;

typedef struct {
    uint64_t bytes, chunks, unique_chunks, pairs_created;
    uint32_t merges;          /* merges learned (fewer than asked if pairs ran out) */
    double count_seconds, merge_seconds;
} tok_train_report;

int tok_train(tok **out, const char *const *paths, size_t n_paths, const tok_train_opts *o,
              tok_train_report *rep, dk_err *err);

#endif
