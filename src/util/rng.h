/* rng.h: dokja's random numbers, one implementation of each generator the code draws
 * from. Every sequence here is fixed: model initialisation, surgery, the lineage
 * baselines and the benchmarks' inputs are defined by them, so a change is a change
 * of every such result (tests/test_rng.c pins their values).
 *
 * The main generator is counter-based: rng_u64(key, counter) is a pure function, so a
 * draw does not depend on the order in which threads or loops ran (params_init draws
 * element k of a tensor as rng_normal(key, k)). It is built from splitmix64
 * (Steele, Lea and Flood 2014): rng_mix(x) is the first output of a splitmix64 stream
 * whose state is x, and rng_u64(key, c) = rng_mix(key ^ rng_mix(c)).
 *
 * Two sequential generators remain for the callers that draw in a fixed order:
 * rng_splitmix64 (the stream itself: permutations in model surgery, the assignment
 * benchmark) and rng_lcg31 (Knuth's MMIX linear congruential generator, 31 high bits:
 * the lineage norm baseline's shuffles and the benchmarks' random token ids). */
#ifndef DK_UTIL_RNG_H
#define DK_UTIL_RNG_H

#include <stdint.h>

#include "util/hash.h"

#define RNG_GOLDEN 0x9E3779B97F4A7C15ULL /* splitmix64's increment: 2^64 / the golden ratio */

/* The next output of the splitmix64 stream with state *s (advances it). */
static inline uint64_t rng_splitmix64(uint64_t *s)
{
    *s += RNG_GOLDEN;
    return hash_u64(*s);
}

/* The first splitmix64 output from state x: a bijection with full avalanche. */
static inline uint64_t rng_mix(uint64_t x) { return hash_u64(x + RNG_GOLDEN); }

/* Draw `counter` of the stream `key`. */
static inline uint64_t rng_u64(uint64_t key, uint64_t counter) { return rng_mix(key ^ rng_mix(counter)); }

/* The top 53 bits of x as a double in [0, 1). */
static inline double rng_unit(uint64_t x) { return (double)(x >> 11) * 0x1.0p-53; }

/* A standard normal, the pure function of (key, index): Box-Muller on the uniforms of
 * draws 2 index (in (0, 1], so log never sees 0) and 2 index + 1 of stream key. */
double rng_normal(uint64_t key, uint64_t index);

/* Knuth's MMIX LCG: *s = *s * 6364136223846793005 + 1442695040888963407; returns the
 * high 31 bits of the new state. */
static inline uint32_t rng_lcg31(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*s >> 33);
}

#endif
