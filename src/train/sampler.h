/* sampler.h: which tokens each training sequence sees, deterministically.
 *
 * Each source's training stream (its shards, concatenated) is cut into windows of
 * S+1 tokens (stride S: input tokens 0..S-1, targets 1..S). Sequence n of the run
 * picks its source with a counter-based uniform draw u(seed, n) against the
 * normalised mixture weights, then takes that source's next window in an order that
 * is a pseudo-random permutation of all its windows, new every epoch (a Feistel
 * network over the window index, keyed by seed, source and epoch). So every window is
 * seen once per epoch, no two runs with different seeds see the same order, and
 * the whole state is the sequence counter plus one cursor per source: a checkpoint
 * stores them and a resumed run draws exactly the same batches. */
#ifndef DK_TRAIN_SAMPLER_H
#define DK_TRAIN_SAMPLER_H

#include <stdint.h>

#include "data/dataset.h"
#include "util/token.h"

typedef struct {
    const dataset *d;
    int S;
    uint64_t seed;
    int split;               /* 0 train, 1 val */
    uint64_t next_seq;       /* sequences drawn so far */
    uint64_t *cursor;        /* per source: windows taken so far */
    uint64_t *n_windows;     /* per source */
    double *cum_weight;      /* per source, cumulative, last = 1 */
    int last_src;            /* what sampler_next drew last: source and window index */
    uint64_t last_window;
} sampler;

/* Fails if no source has a full window of S+1 tokens in the split. */
int sampler_init(sampler *s, const dataset *d, int split, int S, uint64_t seed, dk_err *err);
void sampler_free(sampler *s);

/* The next sequence's source (returned) and window index, without reading tokens: the
 * draw alone, which the ledger's verifier replays from the recorded window counts. It
 * needs only the sources' weights and token counts, not their shards. */
int sampler_pick(sampler *s, uint64_t *window);

/* Fills inputs and targets (S each) with the next sequence; returns its source. */
int sampler_next(sampler *s, dk_token *inputs, dk_token *targets);

/* Sequence `w` of source `src` in the split (no cursor change; validation uses it to
 * walk a source in order). */
void sampler_window(const sampler *s, int src, uint64_t w, dk_token *inputs, dk_token *targets);

/* A stateless permutation of [0, n): index i of key's order. */
uint64_t sampler_permute(uint64_t i, uint64_t n, uint64_t key);

#endif
