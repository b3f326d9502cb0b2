/* dataset.h: opening a dataset directory built by data_build, verifying what it
 * reads: the manifest's format and counts, every shard's SHA-256, header, size and
 * ids, and the tokenizer's hash. */
#ifndef DK_DATA_DATASET_H
#define DK_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "data/shard.h"

typedef struct {
    char name[96];
    double weight;
    uint64_t documents, tokens[2]; /* [0] train, [1] val */
    shard *shards[2];
    uint8_t (*shard_sha256[2])[32]; /* each shard file's SHA-256 (verified on open) */
    size_t n_shards[2];
} dataset_source;

typedef struct {
    char dir[4096];
    char tokenizer_sha256[65];
    char manifest_sha256[65];
    uint32_t vocab_size; /* at most 2^31 */
    int id_bytes;        /* 2 or 4: the width of every shard's ids */
    dk_token eos_id;
    dataset_source *sources;
    size_t n_sources;
} dataset;

int dataset_open(dataset *d, const char *dir, dk_err *err);
void dataset_close(dataset *d);

/* The RFC 6962 Merkle root (util/merkle.h) over the shard files' SHA-256 digests, in the
 * manifest's order: sources in order, each with its train shards then its val shards; so
 * one shard can be proven part of a committed dataset with its audit path alone. Sets the
 * number of leaves; -1 when out of memory. */
int dataset_merkle_root(const dataset *d, uint8_t out[32], size_t *n_leaves);

/* Entropy in nats per token of the unigram distribution of the split (0 train, 1
 * val) over all sources: the loss of a model that knows only token frequencies, the
 * bar a trained model's validation loss must clear. -1 on OOM or empty split. */
double dataset_unigram_entropy(const dataset *d, int split);

#endif
