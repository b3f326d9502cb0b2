/* mm_bf16.c: bf16 operands with fp32 accumulation: conversion into pair panels, the
 * vdpbf16ps register kernel and the AMX tile kernel (x86-64; see the end for the rest). */
#include <stdlib.h>

#include "kernels/mm_internal.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernels/isa.h"
#include "kernels/mask.h"
#include "kernels/matmul.h"

/* ---- bf16 operands, fp32 accumulation ----------------------------------------------
 * The fp32 panels are converted (round to nearest even) into pairs: one 32-bit word
 * holds the bf16 values of k and k+1 for one row (A) or column (B), the operand layout
 * of vdpbf16ps, which adds a[k] b[k] + a[k+1] b[k+1] into each fp32 lane: twice the
 * FMA's multiply-adds per instruction. Sums still run in a fixed order. */

/* The CPU's answer is cached; the path is asked on every call: a lower kernel path
 * (isa_set) must not run these instructions, it emulates bf16 instead. */
int mmk_have_bf16(void)
{
    static int cached = -1;
    if (cached < 0) {
        unsigned a = 0, b, c, d; /* CPUID.(7,1):EAX bit 5 AVX512_BF16 */
        cached = __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 5 & 1);
    }
    return cached && isa_current() == DK_ISA_AVX512;
}


/* AMX (TDPBF16PS on 16 x 16 fp32 tiles) where the CPU has it and the kernel grants the
 * tile state to this process (arch_prctl ARCH_REQ_XCOMP_PERM). On this machine's
 * Xeon, vdpbf16ps runs at half the FMA rate (115 vs 235 GFLOP/s per core, measured),
 * so the AVX-512 bf16 kernel only pays off elsewhere (Zen 5); AMX reaches about 3.6
 * TFLOP/s per core. mm_set_amx(0) (the CLI: DOKJA_NO_AMX=1) forces the AVX-512 bf16
 * kernel, and the tile state is then never requested. */
static int g_amx_allowed = 1;

void mm_set_amx(int allowed) { g_amx_allowed = allowed != 0; }

int mmk_have_amx(void)
{
    static int cached = -1;
    if (!g_amx_allowed)
        return 0;
    if (cached < 0) {
        cached = 0;
        unsigned a, b, c, d; /* CPUID.(7,0):EDX bit 22 AMX-BF16, bit 24 AMX-TILE (by cpuid:
                                not every compiler's __builtin_cpu_supports knows AMX) */
        if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (d >> 22 & 1) && (d >> 24 & 1))
            cached = syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0;
    }
    return cached && isa_current() == DK_ISA_AVX512;
}

static inline uint32_t bf16_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return (u + 0x7FFF + ((u >> 16) & 1)) >> 16;
}

/* width W (MR or NR) panel of kc rows -> (kc+1)/2 rows of W words. */
__attribute__((target("avx512f"))) void mmk_panel_to_bf16(uint32_t *dst, const float *src, int kc,
                                                              int W)
{
    const __m512i round = _mm512_set1_epi32(0x7FFF), one = _mm512_set1_epi32(1);
    for (int k = 0; k < kc; k += 2, dst += W) {
        const float *lo = src + (size_t)k * W, *hi = lo + W;
        for (int j = 0; j < W; j += 16) {
            __mmask16 m = mask16(W - j);
            __m512i a = _mm512_castps_si512(_mm512_maskz_loadu_ps(m, lo + j));
            __m512i b = k + 1 < kc ? _mm512_castps_si512(_mm512_maskz_loadu_ps(m, hi + j)) : _mm512_setzero_si512();
            a = _mm512_srli_epi32(_mm512_add_epi32(a, _mm512_add_epi32(round, _mm512_and_si512(_mm512_srli_epi32(a, 16), one))), 16);
            b = _mm512_srli_epi32(_mm512_add_epi32(b, _mm512_add_epi32(round, _mm512_and_si512(_mm512_srli_epi32(b, 16), one))), 16);
            _mm512_mask_storeu_epi32(dst + j, m, _mm512_or_si512(a, _mm512_slli_epi32(b, 16)));
        }
    }
}

/* C[mr x nr] (+)= A (pair k of row r at a[r rs + k ks]) * B pairs (kp x NR words). */
__attribute__((target("avx512f,avx512bf16"), always_inline)) static inline void
kernel_bf16_body(int kp, const uint32_t *a, const size_t rs, const size_t ks, const uint32_t *b,
                 float *C, int ldc, int mr, int nr, int first)
{
    __m512 c[MR][2];
    const uint32_t *ar[MR];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        c[r][0] = c[r][1] = _mm512_setzero_ps();
        ar[r] = a + r * rs;
    }
    mmk_prefetch_c(C, ldc, mr);
    for (int k = 0; k < kp; k++) {
        __m512bh b0 = (__m512bh)_mm512_load_si512(b), b1 = (__m512bh)_mm512_load_si512(b + 16);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)ar[r][k * ks]);
            c[r][0] = _mm512_dpbf16_ps(c[r][0], av, b0);
            c[r][1] = _mm512_dpbf16_ps(c[r][1], av, b1);
        }
        b += NR;
    }
    mmk_store_rows(c, C, ldc, mr, nr, first);
}

/* C[mr x nr] (+)= A pairs (kp x MR words) * B pairs (kp x NR words). */
__attribute__((target("avx512f,avx512bf16"))) void mmk_kernel_bf16(int kp, const uint32_t *a,
                                                                      const uint32_t *b, float *C,
                                                                      int ldc, int mr, int nr,
                                                                      int first)
{
    kernel_bf16_body(kp, a, 1, MR, b, C, ldc, mr, nr, first);
}

__attribute__((target("avx512f,avx512bf16"))) void mmk_kernel_bf16_rows(int kp, const uint32_t *a, int as, const uint32_t *b, float *C, int ldc,
                          int mr, int nr, int first)
{
    kernel_bf16_body(kp, a, (size_t)as, 1, b, C, ldc, mr, nr, first);
}

/* ---- conversion straight from fp32 ---------------------------------------------
 * vcvtne2ps2bf16 rounds 32 floats to nearest even in one instruction (denormals
 * flushed to zero, as the instruction always does); in row-major order its output
 * already is the pair layout, so rows of A need no transpose at all. */

#define BF16_TARGET "avx512f,avx512bf16,avx512bw,avx512vl"

/* 16 words (lo[c], hi[c]) for c < valid, zero past valid; hi may be NULL (zeros). */
__attribute__((target(BF16_TARGET), always_inline)) static inline __m512i pair16(const float *lo, const float *hi,
                                                                                int valid)
{
    static const uint16_t order[32] __attribute__((aligned(64))) = {
        0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    __mmask16 m = mask16(valid);
    __m512 a = _mm512_maskz_loadu_ps(m, lo);
    __m512 b = hi ? _mm512_maskz_loadu_ps(m, hi) : _mm512_setzero_ps();
    /* [lo 0..15 | hi 0..15] as bf16, then word c = lo c | hi c << 16 */
    return _mm512_permutexvar_epi16(_mm512_load_si512(order), (__m512i)_mm512_cvtne2ps_pbh(b, a));
}

/* Pair rows from k rows: dst[p * W + c] = (src[2p][c], src[2p + 1][c]) for c < valid
 * (zero past valid and past kc), W = NR. */
__attribute__((target(BF16_TARGET))) static void pairs_from_k_rows(uint32_t *dst, const float *src, int ld,
                                                                   int kc, int W, int valid)
{
    int kp = (kc + 1) / 2;
    for (int p = 0; p < kp; p++, dst += W) {
        const float *lo = src + (size_t)2 * p * ld, *hi = 2 * p + 1 < kc ? lo + ld : NULL;
        for (int c0 = 0; c0 < W; c0 += 16)
            _mm512_mask_storeu_epi32(dst + c0, mask16(W - c0), pair16(lo + c0, hi ? hi + c0 : NULL, valid - c0));
    }
}

/* kc floats from src -> (kc + 1) / 2 words (a zero bf16 pads an odd kc). */
__attribute__((target(BF16_TARGET))) static void row_to_words(uint32_t *dst, const float *src, int kc)
{
    for (int k = 0; k < kc; k += 32) {
        int n = kc - k;
        __m512 a = _mm512_maskz_loadu_ps(mask16(n), src + k);
        __m512 b = _mm512_maskz_loadu_ps(mask16(n - 16), src + k + 16);
        _mm512_mask_storeu_epi32(dst + k / 2, mask16((n + 1) / 2), (__m512i)_mm512_cvtne2ps_pbh(b, a));
    }
}

void mmk_rows_bf16(uint32_t *dst, const float *A, int lda, int i0, int mc, int k0, int kc)
{
    int kp = (kc + 1) / 2, rows = (mc + MR - 1) / MR * MR;
    for (int r = 0; r < rows; r++, dst += kp) {
        if (r < mc)
            row_to_words(dst, A + (size_t)(i0 + r) * lda + k0, kc);
        else
            memset(dst, 0, (size_t)kp * sizeof *dst);
    }
}

/* A stored K x M: 16 columns (two panels) per pair of k rows, each half stored to its
 * panel (8-wide conversions ran at half the speed per element, measured). */
__attribute__((target(BF16_TARGET))) void mmk_pack_a_bf16_km(uint32_t *dst, const float *A, int lda, int i0,
                                                             int mc, int k0, int kc)
{
    int kp = (kc + 1) / 2;
    for (int ip = 0; ip < mc; ip += 2 * MR) {
        uint32_t *d0 = dst + (size_t)ip * kp, *d1 = d0 + (size_t)MR * kp;
        int two = mc - ip > MR; /* a second panel exists */
        for (int p = 0; p < kp; p++) {
            const float *lo = A + (size_t)(k0 + 2 * p) * lda + i0 + ip, *hi = 2 * p + 1 < kc ? lo + lda : NULL;
            __m512i w = pair16(lo, hi, mc - ip);
            _mm256_storeu_si256((__m256i *)(d0 + (size_t)p * MR), _mm512_castsi512_si256(w));
            if (two)
                _mm256_storeu_si256((__m256i *)(d1 + (size_t)p * MR), _mm512_extracti64x4_epi64(w, 1));
        }
    }
}

/* B stored N x K: 16 columns of B are 16 k-contiguous rows; converted to words they
 * are transposed 16 x 16 (words, not floats) into 16 pair rows of the panel. */
__attribute__((target(BF16_TARGET))) static void pack_b_bf16_nk(uint32_t *dst, const float *B, int ldb,
                                                                int nr, int kc)
{
    int kp = (kc + 1) / 2;
    for (int p0 = 0; p0 < kp; p0 += 16) {
        int k = 2 * p0, n = kc - k, np = kp - p0 < 16 ? kp - p0 : 16;
        for (int h = 0; h < NR; h += 16) {
            __m512 r[16], t[16];
            for (int i = 0; i < 16; i++) {
                if (h + i >= nr) {
                    r[i] = _mm512_setzero_ps();
                    continue;
                }
                const float *src = B + (size_t)(h + i) * ldb + k;
                __m512 a = _mm512_maskz_loadu_ps(mask16(n), src);
                __m512 b = _mm512_maskz_loadu_ps(mask16(n - 16), src + 16);
                r[i] = (__m512)_mm512_cvtne2ps_pbh(b, a);
            }
            mmk_transpose16(r, t);
            for (int q = 0; q < np; q++)
                _mm512_storeu_ps((float *)(dst + (size_t)(p0 + q) * NR + h), t[q]);
        }
    }
}

void mmk_pack_b_bf16(uint32_t *dst, int tb, const float *B, int ldb, int j0, int nc, int k0, int kc)
{
    int kp = (kc + 1) / 2;
    for (int jp = 0; jp < nc; jp += NR, dst += (size_t)NR * kp) {
        int nr = nc - jp < NR ? nc - jp : NR;
        if (tb)
            pack_b_bf16_nk(dst, B + (size_t)(j0 + jp) * ldb + k0, ldb, nr, kc);
        else
            pairs_from_k_rows(dst, B + (size_t)k0 * ldb + j0 + jp, ldb, kc, NR, nr);
    }
}

/* ---- AMX ----------------------------------------------------------------------------
 * Tiles 0-3 hold a 32 x 32 block of C (2 x 2 tiles of 16 x 16 fp32), 4-5 two A tiles
 * (16 rows x 32 bf16, rows of A in bf16), 6-7 two B tiles (16 k-pairs x 16 columns,
 * the pair layout of mmk_panel_to_bf16). A block's K is padded with zeros to a multiple of
 * 32, its rows to a multiple of 16; edge tiles of C go through a scratch tile. */
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} amx_cfg;

/* Eight 16-row x 64-byte tiles. A constant in memory: GCC 12 does not treat
 * ldtilecfg as reading its operand and drops the stores of a local configuration. */
static const amx_cfg AMX_CFG __attribute__((aligned(64))) = {
    .palette = 1,
    .colsb = {64, 64, 64, 64, 64, 64, 64, 64},
    .rows = {16, 16, 16, 16, 16, 16, 16, 16},
};

__attribute__((target("amx-tile"))) void mmk_amx_configure(void) { _tile_loadconfig(&AMX_CFG); }

/* The A rows [i0, i0+mc) x k [k0, k0+kc) of op(A) as bf16 rows of kpad values (zero
 * padded in k and to a multiple of 16 rows). */
__attribute__((target("avx512f,avx512bf16,avx512vl,avx512bw"))) void mmk_pack_a_rows_bf16(uint16_t *dst, int ta,
                                                                           const float *A, int lda,
                                                                           int i0, int mc, int k0,
                                                                           int kc, int kpad)
{
    int rows = (mc + 15) / 16 * 16;
    for (int r = 0; r < rows; r++) {
        uint16_t *d = dst + (size_t)r * kpad;
        if (r >= mc) {
            memset(d, 0, (size_t)kpad * 2);
            continue;
        }
        if (!ta) {
            const float *src = A + (size_t)(i0 + r) * lda + k0;
            int k = 0;
            for (; k < kc; k += 16) {
                __mmask16 m = mask16(kc - k);
                __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + k));
                _mm256_mask_storeu_epi16(d + k, m, (__m256i)h);
            }
        } else {
            for (int k = 0; k < kc; k++)
                d[k] = (uint16_t)bf16_bits(A[(size_t)(k0 + k) * lda + i0 + r]);
        }
        if (kpad > kc)
            memset(d + kc, 0, (size_t)(kpad - kc) * 2);
    }
}

/* C[mr x nr] (+)= A (16-row groups, kpad bf16 per row) x B (pair panels) for one
 * 32 x 32 block at (ia, jb) of the packed block; b points at the pair rows of the NR
 * panel holding columns jb..jb+31. */
__attribute__((target("amx-tile,amx-bf16"))) void mmk_amx_block(const uint16_t *a, int kpad,
                                                                   const uint32_t *b, float *C,
                                                                   int ldc, int mr, int nr, int first)
{
    float scratch[4][16 * 16] __attribute__((aligned(64)));
    int full = mr == 32 && nr == 32;
    long sa = (long)kpad * 2, sc = (long)ldc * 4;
    if (first) {
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
    } else if (full) {
        _tile_loadd(0, C, sc);
        _tile_loadd(1, C + 16, sc);
        _tile_loadd(2, C + (size_t)16 * ldc, sc);
        _tile_loadd(3, C + (size_t)16 * ldc + 16, sc);
    } else {
        for (int t = 0; t < 4; t++) {
            int r0 = (t >> 1) * 16, c0 = (t & 1) * 16;
            for (int r = 0; r < 16; r++)
                for (int q = 0; q < 16; q++)
                    scratch[t][r * 16 + q] =
                        r0 + r < mr && c0 + q < nr ? C[(size_t)(r0 + r) * ldc + c0 + q] : 0.0f;
        }
        _tile_loadd(0, scratch[0], 64);
        _tile_loadd(1, scratch[1], 64);
        _tile_loadd(2, scratch[2], 64);
        _tile_loadd(3, scratch[3], 64);
    }
    for (int k = 0; k < kpad; k += 32) {
        _tile_loadd(4, a + k, sa);
        _tile_loadd(5, a + (size_t)16 * kpad + k, sa);
        _tile_loadd(6, b + (size_t)(k / 2) * NR, NR * 4);
        _tile_loadd(7, b + (size_t)(k / 2) * NR + 16, NR * 4);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    if (full) {
        _tile_stored(0, C, sc);
        _tile_stored(1, C + 16, sc);
        _tile_stored(2, C + (size_t)16 * ldc, sc);
        _tile_stored(3, C + (size_t)16 * ldc + 16, sc);
        return;
    }
    _tile_stored(0, scratch[0], 64);
    _tile_stored(1, scratch[1], 64);
    _tile_stored(2, scratch[2], 64);
    _tile_stored(3, scratch[3], 64);
    for (int t = 0; t < 4; t++) {
        int r0 = (t >> 1) * 16, c0 = (t & 1) * 16;
        for (int r = r0; r < mr && r < r0 + 16; r++)
            for (int q = c0; q < nr && q < c0 + 16; q++)
                C[(size_t)r * ldc + q] = scratch[t][(r - r0) * 16 + q - c0];
    }
}

#else /* not x86-64 */

/* No bf16 hardware: matmul.c emulates --bf16 (fp32 kernels on rounded operands,
 * bf16_kind 3) and never calls the pair or AMX kernels, defined here only so that it
 * links unchanged. */
int mmk_have_bf16(void) { return 0; }
int mmk_have_amx(void) { return 0; }
void mm_set_amx(int allowed) { (void)allowed; } /* no AMX to allow */
void mmk_panel_to_bf16(uint32_t *dst, const float *src, int kc, int W) { abort(); }
void mmk_rows_bf16(uint32_t *dst, const float *A, int lda, int i0, int mc, int k0, int kc) { abort(); }
void mmk_pack_a_bf16_km(uint32_t *dst, const float *A, int lda, int i0, int mc, int k0, int kc) { abort(); }
void mmk_pack_b_bf16(uint32_t *dst, int tb, const float *B, int ldb, int j0, int nc, int k0, int kc) { abort(); }
void mmk_kernel_bf16(int kp, const uint32_t *a, const uint32_t *b, float *C, int ldc, int mr, int nr,
                     int first) { abort(); }
void mmk_kernel_bf16_rows(int kp, const uint32_t *a, int as, const uint32_t *b, float *C, int ldc,
                          int mr, int nr, int first) { abort(); }
void mmk_amx_configure(void) { abort(); }
void mmk_pack_a_rows_bf16(uint16_t *dst, int ta, const float *A, int lda, int i0, int mc, int k0,
                          int kc, int kpad) { abort(); }
void mmk_amx_block(const uint16_t *a, int kpad, const uint32_t *b, float *C, int ldc, int mr, int nr,
                   int first) { abort(); }

#endif /* __x86_64__ */
