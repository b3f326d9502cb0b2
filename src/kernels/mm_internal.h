/* mm_internal.h: what the matrix-multiply files share: the blocking, the store at
 * the end of every register kernel, and the packing and bf16 routines. Not an API. */
#ifndef DK_KERNELS_MM_INTERNAL_H
#define DK_KERNELS_MM_INTERNAL_H

#include <stdint.h>

#define MR 8
#define NR 32
#define KC 512 /* K block: A micro-panel 8 x 512 x 4 = 16 KiB (L1), B micro-panel 64 KiB (L2) */
#define MC 64  /* rows of C per A block: 64 x 512 x 4 = 128 KiB in L2 */
#define NC 512 /* AMX path: columns of C per task */
#define MT 512 /* AMX path: rows of C per task */
#define NC_MAX 2048 /* widest task: a B block of KC x NC_MAX x 4 = 4 MiB per thread (L3) */
/* Measured on forward shapes (2048 x 2048 x 768 etc., 2 threads): KC 512 / MC 64 gives
 * 300-310 GFLOP/s against 263-267 for KC 256 / MC 128 (fewer passes over C, longer
 * uninterrupted FMA chains); KC 768 and NC 256 were slower. */

#if defined(__x86_64__) /* the x86 paths' shared pieces; elsewhere only generic/ exists */
#include <immintrin.h>

#include "kernels/mask.h"

/* Decoding's two panel streams (the tile2 kernels): each k step reads 128 bytes of
 * each panel; prefetching MMK_PF_AHEAD steps (2 KiB) ahead in both, two lines each,
 * raised decoding on config (b), 2 threads, from 76 to 89 tokens/s on the AVX2 path
 * and from 76 to 85 on AVX-512 (Zen 5, means of 4-6 alternating runs; 8 and 64 steps
 * ahead did less). Past the panel's end it reaches into the next panel's start, which
 * the next call reads (past the last panel, nothing: a prefetch never faults). The
 * bits are unchanged: only when data arrives moves. */
#define MMK_PF_AHEAD 16
__attribute__((always_inline)) static inline void mmk_prefetch_panels(const float *b, const float *b2, int k)
{
    /* as integers: the address may lie past the array, where pointer arithmetic may not go */
    size_t ahead = (size_t)(k + MMK_PF_AHEAD) * NR * sizeof(float);
    const char *p = (const char *)((uintptr_t)b + ahead), *q = (const char *)((uintptr_t)b2 + ahead);
    _mm_prefetch(p, _MM_HINT_T0);
    _mm_prefetch(p + 64, _MM_HINT_T0);
    _mm_prefetch(q, _MM_HINT_T0);
    _mm_prefetch(q + 64, _MM_HINT_T0);
}

/* The mr rows of a C tile (NR floats each), asked for when a register kernel starts:
 * its loads and stores at the end had been exposed cache misses (+9 % on training
 * shapes, measured). Plain SSE prefetches: every x86 path's kernels inline it. */
__attribute__((always_inline)) static inline void mmk_prefetch_c(const float *C, int ldc, int mr)
{
    for (int r = 0; r < mr; r++) {
        _mm_prefetch((const char *)(C + (size_t)r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(C + (size_t)r * ldc + 16), _MM_HINT_T0);
    }
}

/* Writes (first) or adds the accumulators of mr rows x nr columns into C: the end of
 * every register micro-kernel. */
__attribute__((target("avx512f"), always_inline)) static inline void
mmk_store_rows(__m512 c[MR][2], float *C, int ldc, int mr, int nr, int first)
{
    __mmask16 m0 = mask16(nr), m1 = mask16(nr - 16);
    for (int r = 0; r < mr; r++) {
        float *cr = C + (size_t)r * ldc;
        if (!first) {
            c[r][0] = _mm512_add_ps(c[r][0], _mm512_maskz_loadu_ps(m0, cr));
            c[r][1] = _mm512_add_ps(c[r][1], _mm512_maskz_loadu_ps(m1, cr + 16));
        }
        _mm512_mask_storeu_ps(cr, m0, c[r][0]);
        _mm512_mask_storeu_ps(cr + 16, m1, c[r][1]);
    }
}

/* 16 x 16 transpose of 32-bit lanes: t[k] lane i = r[i] lane k (r is clobbered). */
__attribute__((target("avx512f"), always_inline)) static inline void mmk_transpose16(__m512 r[16],
                                                                                    __m512 t[16])
{
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) { /* r[4i + j] lane l: rows 4i..4i+3 at k = 4l + j */
        const __m512d *s = (const __m512d *)(t + 4 * i);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(s[0], s[2]));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(s[0], s[2]));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(s[1], s[3]));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(s[1], s[3]));
    }
    for (int j = 0; j < 4; j++) { /* lane l of r[j], r[4+j], r[8+j], r[12+j] is k = 4l + j */
        __m512 a = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x44), b = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xEE);
        __m512 c = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x44), d = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xEE);
        t[j] = _mm512_shuffle_f32x4(a, c, 0x88);
        t[4 + j] = _mm512_shuffle_f32x4(a, c, 0xDD);
        t[8 + j] = _mm512_shuffle_f32x4(b, d, 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(b, d, 0xDD);
    }
}

#endif /* __x86_64__ */

/* Packing of fp32 operands (mm_pack.c): rows [i0, i0+mc) x k [k0, k0+kc) of op(A)
 * into MR-row panels (for each k, MR values), columns [j0, j0+nc) x k of op(B) into
 * NR-column panels (for each k, NR values); both zero-padded past the edge, and
 * rounded to bf16 if round (emulated bf16). */
void mmk_pack_a(float *dst, int ta, const float *A, int lda, int i0, int mc, int k0, int kc, int round);
void mmk_pack_b(float *dst, int tb, const float *B, int ldb, int j0, int nc, int k0, int kc, int round);

/* bf16 operands (mm_bf16.c): one 32-bit word holds the bf16 values of k and k+1 of one
 * row (A) or column (B), the operand of vdpbf16ps. Off x86-64 mmk_have_bf16() and
 * mmk_have_amx() are 0 (--bf16 is then always emulated) and the rest is never called. */
int mmk_have_bf16(void);
int mmk_have_amx(void);
/* An MR- or NR-wide fp32 panel (kc rows of W) -> (kc+1)/2 rows of W words. */
void mmk_panel_to_bf16(uint32_t *dst, const float *src, int kc, int W);
/* A stored M x K: rows [i0, i0+mc) x k [k0, k0+kc) as rows of kp = (kc+1)/2 words
 * (row r at dst + r kp), zero rows up to a multiple of MR: the layout the row kernel
 * reads. A conversion, no transpose. */
void mmk_rows_bf16(uint32_t *dst, const float *A, int lda, int i0, int mc, int k0, int kc);
/* A stored K x M: MR-row pair panels (panel p at dst + p MR kp). */
void mmk_pack_a_bf16_km(uint32_t *dst, const float *A, int lda, int i0, int mc, int k0, int kc);
/* op(B) columns [j0, j0+nc) x k [k0, k0+kc) as NR-column pair panels (panel q at
 * dst + q NR kp), straight from fp32. */
void mmk_pack_b_bf16(uint32_t *dst, int tb, const float *B, int ldb, int j0, int nc, int k0, int kc);
/* C[mr x nr] (+)= A pairs (kp x MR words) * B pairs (kp x NR words). */
void mmk_kernel_bf16(int kp, const uint32_t *a, const uint32_t *b, float *C, int ldc, int mr,
                     int nr, int first);
/* The same with A as MR rows of words at a stride of as words (mmk_rows_bf16). */
void mmk_kernel_bf16_rows(int kp, const uint32_t *a, int as, const uint32_t *b, float *C, int ldc,
                          int mr, int nr, int first);
/* AMX: per-thread tile configuration, A rows as bf16, one 32 x 32 block of C. */
void mmk_amx_configure(void);
void mmk_pack_a_rows_bf16(uint16_t *dst, int ta, const float *A, int lda, int i0, int mc, int k0,
                          int kc, int kpad);
void mmk_amx_block(const uint16_t *a, int kpad, const uint32_t *b, float *C, int ldc, int mr, int nr,
                   int first);

#endif
