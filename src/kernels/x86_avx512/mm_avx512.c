/* mm_avx512.c: the fp32 matmul's AVX-512 register kernels (8 x 32 tile, 16 zmm
 * accumulators) and the transposing packs. */
#if defined(__x86_64__) /* x86-64 only: elsewhere this file compiles to nothing (isa.c) */
#include "kernels/mm_internal.h"
#include "kernels/x86_avx2/avx2.h"
#include "kernels/x86_avx512/avx512.h"

#include <immintrin.h>
#include <string.h>

/* The register kernel, one body for every variant (each instance inlined with constant
 * R and P): C[mr x nr] (+)= A (kc x R, element (r, k) at a[r rs + k ks]) * B (kc x NR
 * panels). first: overwrite (beta 0 and first K block) instead of accumulate.
 *  - packed A panels: rs = 1, ks = MR; R < MR gives the small-M kernels of decoding.
 *  - A read where it lies, unpacked (A stored M x K): rs = lda, ks = 1. The broadcasts
 *    come from eight row streams, so A is never copied (at d 384, packing A had cost
 *    about as much as all of B's packing and the model's norms together).
 *  - P = 2: a second panel b2 (its columns at C + NR, nr2 wide; the first is then
 *    full): decoding's few rows read two streams of B at once. On the Zen 5, 2 threads
 *    streaming 450 MB: one panel at a time 35-36 GB/s, two 50 GB/s, a plain read loop
 *    47-49. R <= 4 there (4 R accumulators).
 * Every instance computes each element with the same chain of FMAs over k, so the bits
 * never depend on the variant: decoding gives the training forward's bits. */
__attribute__((target("avx512f"), always_inline)) static inline void
kernel_avx512_body(const int R, const int P, int kc, const float *a, const size_t rs, const size_t ks,
                   const float *b, const float *b2, float *C, int ldc, int mr, int nr, int nr2, int first)
{
    __m512 c[MR][2], d[MR][2];
    const float *ar[MR];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        c[r][0] = c[r][1] = d[r][0] = d[r][1] = _mm512_setzero_ps();
        ar[r] = a + r * rs;
    }
    mmk_prefetch_c(C, ldc, mr);
    if (P == 2)
        mmk_prefetch_c(C + NR, ldc, mr);
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(b + (size_t)k * NR), b1 = _mm512_load_ps(b + (size_t)k * NR + 16), e0, e1;
        if (P == 2) {
            e0 = _mm512_load_ps(b2 + (size_t)k * NR);
            e1 = _mm512_load_ps(b2 + (size_t)k * NR + 16);
            mmk_prefetch_panels(b, b2, k);
        }
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            __m512 av = _mm512_set1_ps(ar[r][k * ks]);
            c[r][0] = _mm512_fmadd_ps(av, b0, c[r][0]);
            c[r][1] = _mm512_fmadd_ps(av, b1, c[r][1]);
            if (P == 2) {
                d[r][0] = _mm512_fmadd_ps(av, e0, d[r][0]);
                d[r][1] = _mm512_fmadd_ps(av, e1, d[r][1]);
            }
        }
    }
    mmk_store_rows(c, C, ldc, mr, nr, first);
    if (P == 2)
        mmk_store_rows(d, C + NR, ldc, mr, nr2, first);
}

/* Packed A panels, R rows; and the same against two panels. */
#define KERNEL_ROWS(NAME, R)                                                                      \
    __attribute__((target("avx512f"))) void NAME(int kc, const float *a, const float *b, float *C, \
                                                 int ldc, int mr, int nr, int first)               \
    {                                                                                             \
        kernel_avx512_body(R, 1, kc, a, 1, MR, b, NULL, C, ldc, mr, nr, 0, first);                \
    }
#define KERNEL_ROWS_2P(NAME, R)                                                                     \
    __attribute__((target("avx512f"))) void NAME(int kc, const float *a, const float *b,            \
                                                 const float *b2, float *C, int ldc, int mr, int nr2, \
                                                 int first)                                         \
    {                                                                                               \
        kernel_avx512_body(R, 2, kc, a, 1, MR, b, b2, C, ldc, mr, NR, nr2, first);                  \
    }
KERNEL_ROWS(avx512_tile, MR)
KERNEL_ROWS(avx512_tile_r1, 1)
KERNEL_ROWS(avx512_tile_r2, 2)
KERNEL_ROWS(avx512_tile_r4, 4)
KERNEL_ROWS_2P(avx512_tile2_r1, 1)
KERNEL_ROWS_2P(avx512_tile2_r2, 2)
KERNEL_ROWS_2P(avx512_tile2_r4, 4)

/* Eight rows of A stored M x K, read in place (row stride lda). */
__attribute__((target("avx512f"))) void avx512_direct(int kc, const float *a, int lda, const float *b,
                                                      float *C, int ldc, int nr, int first)
{
    kernel_avx512_body(MR, 1, kc, a, (size_t)lda, 1, b, NULL, C, ldc, MR, nr, 0, first);
}

/* The transposing packs transpose in registers: 8 (A) or 16 (B) rows of 16 k values
 * are loaded whole and rearranged with unpack/permute shuffles, one k per output
 * row. Measured against one AVX-512 gather per k (the previous way): 0.27 vs 0.91
 * ns per element for A and 0.28 vs 0.55 for B on a 2048 x 768 operand. */

/* 8 rows x n k values (n <= 16) of src (row stride ld) -> dst[k * 8 + r]; round: each
 * value rounded to bf16 as it is loaded (emulated bf16). */
__attribute__((target("avx512f,avx512dq"), always_inline)) static inline void
transpose_8x16(float *dst, const float *src, int ld, int n, int round)
{
    __mmask16 m = mask16(n);
    __m512 r[8], t[8], u[4], w[4];
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_maskz_loadu_ps(m, src + (size_t)i * ld);
        if (round)
            r[i] = round_bf16_ps512(r[i]);
    }
    for (int i = 0; i < 4; i++) { /* lane l: rows 2i, 2i+1 interleaved at k = 4l..4l+3 */
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int h = 0; h < 2; h++) { /* o[j] lane l: rows 4h..4h+3 at k = 4l + j */
        __m512 *o = h ? w : u;
        const __m512d *s = (const __m512d *)(t + 4 * h);
        o[0] = _mm512_castpd_ps(_mm512_unpacklo_pd(s[0], s[2]));
        o[1] = _mm512_castpd_ps(_mm512_unpackhi_pd(s[0], s[2]));
        o[2] = _mm512_castpd_ps(_mm512_unpacklo_pd(s[1], s[3]));
        o[3] = _mm512_castpd_ps(_mm512_unpackhi_pd(s[1], s[3]));
    }
    const __m512i lo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i hi = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    float tmp[16 * 8] __attribute__((aligned(64)));
    float *out = n == 16 ? dst : tmp; /* a short tail goes through tmp: dst ends at k = n */
    for (int j = 0; j < 4; j++) {     /* 8 rows at k = j, 4 + j | 8 + j, 12 + j */
        __m512 a = _mm512_permutex2var_ps(u[j], lo, w[j]), b = _mm512_permutex2var_ps(u[j], hi, w[j]);
        _mm256_storeu_ps(out + (size_t)j * 8, _mm512_castps512_ps256(a));
        _mm256_storeu_ps(out + (size_t)(4 + j) * 8, _mm512_extractf32x8_ps(a, 1));
        _mm256_storeu_ps(out + (size_t)(8 + j) * 8, _mm512_castps512_ps256(b));
        _mm256_storeu_ps(out + (size_t)(12 + j) * 8, _mm512_extractf32x8_ps(b, 1));
    }
    if (n < 16)
        memcpy(dst, tmp, (size_t)n * 8 * sizeof(float));
}

/* 16 rows x n k values (n <= 16) of src -> dst[k * ldd + r]. */
__attribute__((target("avx512f"), always_inline)) static inline void
transpose_16x16(float *dst, int ldd, const float *src, int ld, int n, int round)
{
    __mmask16 m = mask16(n);
    __m512 r[16], t[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) {
        r[i] = _mm512_maskz_loadu_ps(m, src + (size_t)i * ld);
        if (round)
            r[i] = round_bf16_ps512(r[i]);
    }
    mmk_transpose16(r, t);
    for (int k = 0; k < n; k++)
        _mm512_storeu_ps(dst + (size_t)k * ldd, t[k]);
}

/* round (emulated bf16, on CPUs without AVX512_BF16): inside the transposes, on the
 * loaded rows (a pass over the packed panel afterwards made emulated bf16 steps 1-2 %
 * slower on the Zen 5). fp32 packing measured against the previous code on one core
 * (1024 x 384 operand, best of 200): B's pack 6-10 % faster with its loop instantiated
 * without round; A's pack the same with round tested in the loop, 2-4 % slower when
 * instantiated twice (kept as it is). */
__attribute__((target("avx512f,avx512dq"))) void avx512_pack_a_t(float *dst, const float *src, int lda, int kc,
                                                                int round)
{
    for (int k = 0; k < kc; k += 16)
        transpose_8x16(dst + (size_t)k * MR, src + k, lda, kc - k < 16 ? kc - k : 16, round);
}

__attribute__((target("avx512f"), always_inline)) static inline void pack_b_t_body(float *dst, const float *src,
                                                                                   int ldb, int kc, int round)
{
    for (int k = 0; k < kc; k += 16) {
        int n = kc - k < 16 ? kc - k : 16;
        transpose_16x16(dst + (size_t)k * NR, NR, src + k, ldb, n, round);
        transpose_16x16(dst + (size_t)k * NR + 16, NR, src + (size_t)16 * ldb + k, ldb, n, round);
    }
}

__attribute__((target("avx512f"))) void avx512_pack_b_t(float *dst, const float *src, int ldb, int kc, int round)
{
    if (round)
        pack_b_t_body(dst, src, ldb, kc, 1);
    else
        pack_b_t_body(dst, src, ldb, kc, 0);
}

/* kern_ops.round_bf16 sixteen lanes at a time, masked only at the tail. */
__attribute__((target("avx512f"))) void avx512_round_bf16(float *x, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(x + i, round_bf16_ps512(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = mask16((int)(n - i));
        _mm512_mask_storeu_ps(x + i, m, round_bf16_ps512(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

#endif /* __x86_64__ */
