/* mm_avx2.c: the fp32 matmul's AVX2 + FMA3 register kernels and transposing packs.
 *
 * The panels are the AVX-512 path's (MR = 8 rows of A, NR = 32 columns of B, KC = 512
 * k per block), and every element of C is the same chain of FMAs over k, cut at the
 * same blocks: the bits equal the AVX-512 path's. Only the register tiling differs.
 * AVX2 has 16 ymm registers, so the 8 x 32 tile (32 accumulators) runs as three
 * sub-tiles: rows 0-5 x columns 0-15 and 0-5 x 16-31 (12 accumulators each: 2 loads of
 * B and 6 broadcasts per 12 FMAs) and rows 6-7 x all 32 columns (8 accumulators, the
 * FMA latency of two pipes exactly). The tile's accumulators live in a 1 KiB buffer
 * between sub-tiles, and k is walked in blocks of KS = 128 so that A's and B's slices
 * of a block (4 + 16 KiB) stay in L1 while the three sub-tiles reuse them, even in a
 * 32 KiB L1 (Zen 2/3; at 256 the last sub-tile's 40 KiB would stream B from L2 at that
 * port's limit). Saving an accumulator to memory and loading it back is exact, so this
 * changes no bit. */
#if defined(__x86_64__) /* x86-64 only: elsewhere this file compiles to nothing (isa.c) */
#include "kernels/mm_internal.h"
#include "kernels/x86_avx2/avx2.h"

#include <string.h>

#define KS 128

/* acc[r][v] (+)= over k in [k0, k1): a(row g0 + r, k) * b(k, columns 8 (h0 + v) ..),
 * for G rows and H vectors (G H <= 8); a(r, k) at a[r rs + k ks]. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
sub_tile(const int G, const int H, int g0, int h0, int k0, int k1, const float *a, const size_t rs,
         const size_t ks, const float *b, __m256 acc[MR][4])
{
    __m256 c[6][4];
    const float *ar[6];
#pragma GCC unroll 6
    for (int r = 0; r < G; r++) {
        ar[r] = a + (size_t)(g0 + r) * rs;
#pragma GCC unroll 4
        for (int v = 0; v < H; v++)
            c[r][v] = acc[g0 + r][h0 + v];
    }
    for (int k = k0; k < k1; k++) {
        __m256 bv[4];
#pragma GCC unroll 4
        for (int v = 0; v < H; v++)
            bv[v] = _mm256_load_ps(b + (size_t)k * NR + 8 * (h0 + v));
        /* Pin B's vectors in registers. Left to itself GCC folds them into the FMAs as
         * memory operands and loads each G times: 2 x 32 then does 8 loads of B per 8
         * FMAs instead of 4 and ran at 72 % of the peak instead of 86 % (the whole tile
         * 91 -> 96-98 %, data in L1, Zen 5). */
#pragma GCC unroll 4
        for (int v = 0; v < H; v++)
            __asm__("" : "+x"(bv[v]));
#pragma GCC unroll 6
        for (int r = 0; r < G; r++) {
            __m256 av = _mm256_broadcast_ss(ar[r] + (size_t)k * ks);
#pragma GCC unroll 4
            for (int v = 0; v < H; v++)
                c[r][v] = _mm256_fmadd_ps(av, bv[v], c[r][v]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < G; r++)
#pragma GCC unroll 4
        for (int v = 0; v < H; v++)
            acc[g0 + r][h0 + v] = c[r][v];
}

/* Writes (first) or adds mr rows x nr columns of acc into C, as mmk_store_rows. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
store_rows(__m256 acc[MR][4], float *C, int ldc, int mr, int nr, int first)
{
    for (int r = 0; r < mr; r++) {
        float *cr = C + (size_t)r * ldc;
        for (int v = 0; v < 4 && 8 * v < nr; v++) {
            __m256 x = acc[r][v];
            if (nr - 8 * v >= 8) {
                if (!first)
                    x = _mm256_add_ps(x, _mm256_loadu_ps(cr + 8 * v));
                _mm256_storeu_ps(cr + 8 * v, x);
            } else {
                __m256i m = mask8(nr - 8 * v);
                if (!first)
                    x = _mm256_add_ps(x, _mm256_maskload_ps(cr + 8 * v, m));
                _mm256_maskstore_ps(cr + 8 * v, m, x);
            }
        }
    }
}

/* The full tile: 8 rows (a(r, k) at a[r rs + k ks]) x 32 columns. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
tile8(int kc, const float *a, size_t rs, size_t ks, const float *b, float *C, int ldc, int mr, int nr,
      int first)
{
    __m256 acc[MR][4];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < 4; v++)
            acc[r][v] = _mm256_setzero_ps();
    mmk_prefetch_c(C, ldc, mr);
    for (int k0 = 0; k0 < kc; k0 += KS) {
        int k1 = kc - k0 < KS ? kc : k0 + KS;
        sub_tile(6, 2, 0, 0, k0, k1, a, rs, ks, b, acc);
        sub_tile(6, 2, 0, 2, k0, k1, a, rs, ks, b, acc);
        sub_tile(2, 4, 6, 0, k0, k1, a, rs, ks, b, acc);
    }
    store_rows(acc, C, ldc, mr, nr, first);
}

__attribute__((target("avx2,fma"))) void avx2_tile(int kc, const float *a, const float *b, float *C, int ldc,
                                                   int mr, int nr, int first)
{
    tile8(kc, a, 1, MR, b, C, ldc, mr, nr, first);
}

__attribute__((target("avx2,fma"))) void avx2_direct(int kc, const float *a, int lda, const float *b, float *C,
                                                     int ldc, int nr, int first)
{
    tile8(kc, a, (size_t)lda, 1, b, C, ldc, MR, nr, first);
}

/* Decoding: R = 1, 2 or 4 rows of packed A against one panel, each pair of rows (or
 * the one row) with all 32 columns (4 or 8 accumulators), per block of k: four rows
 * reread the block's slice of the panel from L1 instead of streaming it twice. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
tile_rows(const int R, int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr, int first)
{
    __m256 acc[MR][4];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < 4; v++)
            acc[r][v] = _mm256_setzero_ps();
    for (int k0 = 0; k0 < kc; k0 += KS) {
        int k1 = kc - k0 < KS ? kc : k0 + KS;
        for (int g = 0; g < R; g += 2)
            sub_tile(R == 1 ? 1 : 2, 4, g, 0, k0, k1, a, 1, MR, b, acc);
    }
    store_rows(acc, C, ldc, mr, nr, first);
}

#define TILE_ROWS(NAME, R)                                                                        \
    __attribute__((target("avx2,fma"))) void NAME(int kc, const float *a, const float *b, float *C, \
                                                  int ldc, int mr, int nr, int first)              \
    {                                                                                             \
        tile_rows(R, kc, a, b, C, ldc, mr, nr, first);                                            \
    }
TILE_ROWS(avx2_tile_r1, 1)
TILE_ROWS(avx2_tile_r2, 2)
TILE_ROWS(avx2_tile_r4, 4)

/* One row against two panels at once (8 accumulators): two streams of B in flight. */
__attribute__((target("avx2,fma"))) void avx2_tile2_r1(int kc, const float *a, const float *b,
                                                       const float *b2, float *C, int ldc, int mr,
                                                       int nr2, int first)
{
    __m256 c[MR][4], d[MR][4];
    for (int v = 0; v < 4; v++)
        c[0][v] = d[0][v] = _mm256_setzero_ps();
    for (int k = 0; k < kc; k++) {
        __m256 av = _mm256_broadcast_ss(a + (size_t)k * MR);
        mmk_prefetch_panels(b, b2, k);
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) {
            c[0][v] = _mm256_fmadd_ps(av, _mm256_load_ps(b + (size_t)k * NR + 8 * v), c[0][v]);
            d[0][v] = _mm256_fmadd_ps(av, _mm256_load_ps(b2 + (size_t)k * NR + 8 * v), d[0][v]);
        }
    }
    store_rows(c, C, ldc, mr, NR, first);
    store_rows(d, C + NR, ldc, mr, nr2, first);
}

/* 8 rows (stride ld) x n k values (n <= 8) -> dst[k ldd + r]: the 8 x 8 transpose in
 * unpack / shuffle / permute2f128 steps; round: each value rounded to bf16 on the way
 * (emulated bf16: the integer work overlaps the shuffles, a pass afterwards cost a
 * load and a store more per vector). */
__attribute__((target("avx2"), always_inline)) static inline void transpose8x8(float *dst, size_t ldd,
                                                                               const float *src,
                                                                               size_t ld, int n, int round)
{
    __m256 r[8], t[8], s[8];
    if (n == 8) {
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
            r[i] = _mm256_loadu_ps(src + (size_t)i * ld);
    } else {
        __m256i m = mask8(n);
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
            r[i] = _mm256_maskload_ps(src + (size_t)i * ld, m);
    }
    if (round)
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
            r[i] = round_bf16_ps(r[i]);
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        s[4 * h] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
        s[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
        s[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
        s[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
    }
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) {
        if (k < n)
            _mm256_storeu_ps(dst + (size_t)k * ldd, _mm256_permute2f128_ps(s[k], s[4 + k], 0x20));
        if (k + 4 < n)
            _mm256_storeu_ps(dst + (size_t)(k + 4) * ldd, _mm256_permute2f128_ps(s[k], s[4 + k], 0x31));
    }
}

/* The transposes' loops, once with rounding and once without (round is a constant
 * inside each copy). */
__attribute__((target("avx2"), always_inline)) static inline void pack_a_t(float *dst, const float *src, int lda,
                                                                           int kc, int round)
{
    for (int k = 0; k < kc; k += 8)
        transpose8x8(dst + (size_t)k * MR, MR, src + k, (size_t)lda, kc - k < 8 ? kc - k : 8, round);
}

__attribute__((target("avx2"), always_inline)) static inline void pack_b_t(float *dst, const float *src, int ldb,
                                                                           int kc, int round)
{
    for (int k = 0; k < kc; k += 8) {
        int n = kc - k < 8 ? kc - k : 8;
        for (int q = 0; q < NR / 8; q++)
            transpose8x8(dst + (size_t)k * NR + 8 * q, NR, src + (size_t)8 * q * ldb + k, (size_t)ldb, n, round);
    }
}

__attribute__((target("avx2"))) void avx2_pack_a_t(float *dst, const float *src, int lda, int kc, int round)
{
    if (round)
        pack_a_t(dst, src, lda, kc, 1);
    else
        pack_a_t(dst, src, lda, kc, 0);
}

__attribute__((target("avx2"))) void avx2_pack_b_t(float *dst, const float *src, int ldb, int kc, int round)
{
    if (round)
        pack_b_t(dst, src, ldb, kc, 1);
    else
        pack_b_t(dst, src, ldb, kc, 0);
}

#endif /* __x86_64__ */
