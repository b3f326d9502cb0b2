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
void avx512_mh_mix(uint64_t *u, size_t n);
void avx512_mh_shingles(const uint64_t *hu, size_t m, int w, uint64_t key, uint32_t h, uint64_t *out);
void avx512_mh_keep_bits(const uint32_t *v, size_t n, uint8_t *out);
uint32_t avx512_mh_pick(const uint64_t *bins, const uint32_t *best, const uint8_t *full, size_t h, uint32_t *sig);

size_t avx512_utf8_valid(const uint8_t *s, size_t n);

#endif
