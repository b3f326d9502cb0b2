/* avx512.h: the AVX-512 path's kernels (x86_avx512/), gathered into kern_ops_avx512.
 * Internal to kernels/. */
#ifndef DK_KERNELS_AVX512_H
#define DK_KERNELS_AVX512_H

#include <stddef.h>

#include "kernels/generic/generic.h"
#include "kernels/kern_ops.h"

void avx512_tile(int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr, int first);
void avx512_tile_r1(int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr, int first);
void avx512_tile_r2(int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr, int first);
void avx512_tile_r4(int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr, int first);
void avx512_tile2_r1(int kc, const float *a, const float *b, const float *b2, float *C, int ldc, int mr,
                     int nr2, int first);
void avx512_tile2_r2(int kc, const float *a, const float *b, const float *b2, float *C, int ldc, int mr,
                     int nr2, int first);
void avx512_tile2_r4(int kc, const float *a, const float *b, const float *b2, float *C, int ldc, int mr,
                     int nr2, int first);
void avx512_direct(int kc, const float *a, int lda, const float *b, float *C, int ldc, int nr, int first);
void avx512_pack_a_t(float *dst, const float *src, int lda, int kc, int round);
void avx512_pack_b_t(float *dst, const float *src, int ldb, int kc, int round);
void avx512_round_bf16(float *x, size_t n);

#if defined(__x86_64__)
#include <immintrin.h>
/* round_bf16_ps (x86_avx2/avx2.h) on sixteen lanes: nearest even, NaNs kept quiet. */
__attribute__((target("avx512f"), always_inline)) static inline __m512 round_bf16_ps512(__m512 x)
{
    __m512i u = _mm512_castps_si512(x);
    __m512i r = _mm512_add_epi32(
        u, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1))));
    __mmask16 nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)),
                                            _mm512_set1_epi32(0x7f800000));
    r = _mm512_mask_or_epi32(r, nan, u, _mm512_set1_epi32(0x00400000));
    return _mm512_castsi512_ps(_mm512_and_si512(r, _mm512_set1_epi32((int)0xffff0000u)));
}
#endif
void avx512_mh_mix(uint64_t *u, size_t n);
void avx512_mh_shingles(const uint64_t *hu, size_t m, int w, uint64_t key, uint32_t h, uint64_t *out);
void avx512_mh_keep_bits(const uint32_t *v, size_t n, uint8_t *out);
uint32_t avx512_mh_pick(const uint64_t *bins, const uint32_t *best, const uint8_t *full, size_t h, uint32_t *sig);

size_t avx512_utf8_valid(const uint8_t *s, size_t n);

#endif
