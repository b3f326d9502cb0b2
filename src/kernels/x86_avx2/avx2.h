/* avx2.h: the AVX2 + FMA3 path's kernels (x86_avx2/), gathered into kern_ops_avx2.
 * Internal to kernels/. */
#ifndef DK_KERNELS_AVX2_H
#define DK_KERNELS_AVX2_H

#include <immintrin.h>
#include <stddef.h>

#include "kernels/kern_ops.h"

void avx2_tile(int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr, int first);
void avx2_tile_r1(int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr, int first);
void avx2_tile_r2(int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr, int first);
void avx2_tile_r4(int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr, int first);
void avx2_tile2_r1(int kc, const float *a, const float *b, const float *b2, float *C, int ldc, int mr,
                   int nr2, int first);
void avx2_direct(int kc, const float *a, int lda, const float *b, float *C, int ldc, int nr, int first);
void avx2_pack_a_t(float *dst, const float *src, int lda, int kc, int round);
void avx2_pack_b_t(float *dst, const float *src, int ldb, int kc, int round);
void avx2_round_bf16(float *x, size_t n);
void avx2_mh_mix(uint64_t *u, size_t n);
void avx2_mh_shingles(const uint64_t *hu, size_t m, int w, uint64_t key, uint32_t h, uint64_t *out);
void avx2_mh_keep_bits(const uint32_t *v, size_t n, uint8_t *out);

/* The lane mask of the first n of 8 lanes (n <= 0: none, n >= 8: all), for
 * maskload/maskstore: the tails of every AVX2 loop. */
__attribute__((target("avx2"), always_inline)) static inline __m256i mask8(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Loads and stores of eight lanes for loops that run plain moves over whole vectors
 * and masked ones only at the tail (tail != 0: lanes past m read as 0 and are not
 * written). AMD runs a masked store (vmaskmovps) as a microcoded sequence: one per
 * vector made round_bf16 1.7x slower on the Zen 5 and costs more on Zen 2/3. */
__attribute__((target("avx2"), always_inline)) static inline __m256 ld8(const float *p, __m256i m, int tail)
{
    return tail ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p);
}

__attribute__((target("avx2"), always_inline)) static inline void st8(float *p, __m256i m, int tail, __m256 x)
{
    if (tail)
        _mm256_maskstore_ps(p, m, x);
    else
        _mm256_storeu_ps(p, x);
}

/* Eight floats rounded to bf16 precision (kern_ops.round_bf16's rule): nearest with
 * ties to even on the upper 16 bits, NaNs kept quiet NaNs. */
__attribute__((target("avx2"), always_inline)) static inline __m256 round_bf16_ps(__m256 x)
{
    __m256i u = _mm256_castps_si256(x);
    const __m256i hi = _mm256_set1_epi32((int)0xffff0000u), half = _mm256_set1_epi32(0x7fff);
    const __m256i one = _mm256_set1_epi32(1), absm = _mm256_set1_epi32(0x7fffffff);
    const __m256i inf = _mm256_set1_epi32(0x7f800000), quiet = _mm256_set1_epi32(0x00400000);
    __m256i r = _mm256_add_epi32(u, _mm256_add_epi32(half, _mm256_and_si256(_mm256_srli_epi32(u, 16), one)));
    __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, absm), inf);
    r = _mm256_blendv_epi8(r, _mm256_or_si256(u, quiet), nan);
    return _mm256_castsi256_ps(_mm256_and_si256(r, hi));
}

size_t avx2_utf8_valid(const uint8_t *s, size_t n);

#endif
