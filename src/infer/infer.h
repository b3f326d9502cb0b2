/* infer.h: the inference engine: a model's forward pass over one sequence with a
 * key/value cache, for generation and evaluation.
 *
 * The weights are packed once into the matmul kernel's panel layout (huge-page
 * backed), so a decoding step streams each weight once and a prompt is processed
 * in batched passes of up to INFER_CHUNK tokens without repacking. Every operation
 * is the training forward pass's own (same kernels, same summation order), so the
 * log-probabilities computed here are bit-identical to model_forward_loss on the
 * same tokens, whether a sequence is processed at once, in chunks, or token by
 * token after a cached prefix (tests/test_infer.c checks all three). */
#ifndef DK_INFER_INFER_H
#define DK_INFER_INFER_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

#define INFER_CHUNK 256

typedef struct infer infer;

/* An engine for m (which must outlive it) with a cache of max_ctx positions
 * (<= max_position_embeddings). Uses m's thread pool. */
int infer_new(infer **out, model *m, int max_ctx, dk_err *err);
void infer_free(infer *st);

/* Runs tokens[0..n) at positions pos0 .. pos0+n-1 of the sequence: their keys and
 * values enter the cache at those positions (positions after them are forgotten;
 * positions before them must hold this sequence's prefix). If logits is not NULL it
 * receives (n_logits, vocab) rows: the logits of the last n_logits of the n tokens.
 * Returns 0, or -1 if pos0 + n exceeds the cache or a token id is out of range. */
int infer_forward(infer *st, const dk_token *tokens, int n, int pos0, float *logits, int n_logits,
                  dk_err *err);

/* Called in every layer of every forward pass with the MLP's gate and up projection
 * outputs (n x ffn_dim each, before the activation) of the tokens at positions
 * pos0 .. pos0+n-1: the lineage test's activation statistics read them. NULL: off. */
typedef void (*infer_tap_fn)(void *ctx, int layer, const float *gate, const float *up, int n,
                             int pos0);
void infer_set_tap(infer *st, infer_tap_fn fn, void *ctx);

/* Bytes of weights a decoding step reads (every packed matrix incl. the LM head),
 * and bytes of key/value cache per cached position (all layers, K and V). */
size_t infer_weight_bytes(const infer *st);
size_t infer_kv_bytes_per_pos(const infer *st);
/* Floating-point operations of a forward pass over n tokens after pos0 cached ones:
 * 2 x matmul parameters per token + attention's 4 x layers x q-width x keys. */
double infer_flops(const model_config *c, int n, int pos0);

#endif
