/* generic.h: the portable C path's kernels (generic/), gathered into kern_ops_generic.
 * Internal to kernels/.
 *
 * DK_FMA(a, b, c) is a b + c with one rounding where the compiler has a fused
 * multiply-add instruction for the target (__FP_FAST_FMAF: aarch64, or x86-64 built
 * with -mfma); there the path gives the AVX2/AVX-512 bits. On baseline x86-64 it is a
 * multiply then an add (a software fmaf per element would make the unknown-CPU path
 * unusably slow), so products carry a second rounding. */
#ifndef DK_KERNELS_GENERIC_H
#define DK_KERNELS_GENERIC_H

#include "kernels/kern_ops.h"

#ifdef __FP_FAST_FMAF
#define DK_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define DK_FMA(a, b, c) ((a) * (b) + (c))
#endif

void generic_tile(int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr, int first);

/* MinHash's shingle hashing (kern_ops.h), one element at a time; the x86 paths' tails. */
void generic_mh_mix(uint64_t *u, size_t n);
void generic_mh_shingles(const uint64_t *hu, size_t m, int w, uint64_t key, uint32_t h, uint64_t *out);
void generic_mh_keep_bits(const uint32_t *v, size_t n, uint8_t *out);
uint32_t generic_mh_pick(const uint64_t *bins, const uint32_t *best, const uint8_t *full, size_t h, uint32_t *sig);
void generic_mh_keep_bits_from(const uint32_t *v, size_t first, size_t n, uint8_t *out); /* k in [first, n) */
/* The vector kernels' powers: pw[j] = MH_ROLL_B^(w-1-j) for window offset j < w, so
 * that a window's sum is w independent products (Horner's rule chains w multiplies;
 * the sum mod 2^64 is the same). 0 for w in [1, MH_MAX_W], else -1 (the caller
 * falls back to generic_mh_shingles). */
#define MH_MAX_W 64
static inline int mh_roll_powers(uint64_t pw[MH_MAX_W], int w)
{
    if (w < 1 || w > MH_MAX_W)
        return -1;
    pw[w - 1] = 1;
    for (int j = w - 2; j >= 0; j--)
        pw[j] = pw[j + 1] * MH_ROLL_B;
    return 0;
}

/* UTF-8 validation (kern_ops.h: utf8_valid), one character at a time; and the exact
 * offset of the first error in s[0..n) when the vector blocks before offset i were
 * clean and the block at i (or the end, i = n) flagged one. */
size_t generic_utf8_valid(const uint8_t *s, size_t n);
size_t utf8_error_from(const uint8_t *s, size_t n, size_t i);

/* exp as the vector paths compute it (vexp.h), one element. */
float generic_exp(float x);

#endif
