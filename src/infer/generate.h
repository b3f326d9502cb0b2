/* generate.h: text generation as a library call, the loop `dokja generate` runs (as
 * llama2.c's generate() is a function and its main only parses arguments).
 *
 * A document starts with <|eos|> (lm.h), then the prompt's tokens; the prompt runs in
 * one batched pass through the key/value cache, and each new token is one cached step.
 * Logits of ids the tokenizer cannot decode are masked (lm_mask_logits), the sampler
 * draws step s as a function of (seed, s) (token_sampler.h), and generation stops at
 * <|eos|>, after n_new tokens, or when the callback asks. When the cache is full, its
 * last half is kept and processed again (counted as prompt time). */
#ifndef DK_INFER_GENERATE_H
#define DK_INFER_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "infer/lm.h"
#include "infer/token_sampler.h"

typedef struct {
    int n_new;         /* at most this many new tokens */
    sample_cfg sample; /* temperature, top-k, top-p, seed */
} lm_gen_opts;

/* Accumulated over the calls that share an lm_gen_stats. */
typedef struct {
    long prompt_tokens, gen_tokens; /* tokens run as prompt (and re-run after shifts); new */
    double prompt_s, gen_s;
    size_t last_prompt_tokens, last_prompt_kept; /* the last call's prompt (with <|eos|>), kept */
} lm_gen_stats;

/* Called with each new token and its bytes (a token may end inside a UTF-8 character:
 * a printer keeps the bytes and prints up to character boundaries). Nonzero stops the
 * generation (not an error). */
typedef int (*lm_token_fn)(void *ctx, dk_token id, const uint8_t *bytes, size_t n);

/* Scratch for generating with one model: the context's tokens, the logits, the sampler. */
typedef struct lm_gen lm_gen;

int lm_gen_new(lm_gen **out, lm *l, dk_err *err);
void lm_gen_free(lm_gen *g);

/* Continues the UTF-8 text prompt (len bytes) as a new document. A prompt longer than
 * the cache keeps its last (cache - 1) tokens (stats say how many). */
int lm_generate(lm_gen *g, const uint8_t *prompt, size_t len, const lm_gen_opts *o, lm_token_fn on_token,
                void *ctx, lm_gen_stats *stats, dk_err *err);

#endif
