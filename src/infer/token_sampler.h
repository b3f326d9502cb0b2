/* token_sampler.h: choosing the next token from logits: greedy, temperature, top-k and
 * top-p (nucleus), reproducibly.
 *
 * The random draw for step s is a pure function of (seed, s) (a counter-based
 * generator, as params_init uses), so the same seed gives the same text whatever
 * else ran before, and a generation can be replayed from any step. Ties in the
 * ordering break toward the lower token id. */
#ifndef DK_INFER_TOKEN_SAMPLER_H
#define DK_INFER_TOKEN_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "util/token.h"

typedef struct {
    double temperature; /* 0: greedy (argmax) */
    int top_k;          /* 0: off */
    double top_p;       /* 1: off; else keep the smallest most-likely set with mass >= top_p */
    uint64_t seed;
} sample_cfg;

typedef struct tsampler tsampler;

tsampler *tsampler_new(int vocab);
void tsampler_free(tsampler *s);
/* The token for step `step` given logits (vocab). */
dk_token tsampler_next(tsampler *s, const float *logits, const sample_cfg *c, uint64_t step);
/* The uniform in [0, 1) that step `step` draws (exposed for tests). */
double tsampler_uniform(uint64_t seed, uint64_t step);

#endif
