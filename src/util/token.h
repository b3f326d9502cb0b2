/* token.h: dk_token, the one type of a token id, from the tokenizer's output through
 * datasets, training batches and the model to the engine and the sampler (as
 * llama.cpp has llama_token).
 *
 * Signed, because a training target may be MODEL_IGNORE_INDEX (-100); every id a
 * tokenizer produces or a model reads is in [0, vocabulary size), and vocabularies
 * are at most TOK_MAX_VOCAB (2^22) ids, far inside the range. On disk (token shards,
 * `dokja tokenizer encode --binary`) ids stay uint32 little-endian: the files do not
 * depend on this type. */
#ifndef DK_UTIL_TOKEN_H
#define DK_UTIL_TOKEN_H

#include <stdint.h>

typedef int32_t dk_token;

#endif
