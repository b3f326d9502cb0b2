/* kern_ops.h: one instruction-set path's kernels behind one table, the way ggml's CPU
 * backend keeps one file per architecture behind one set of function pointers. The
 * driver code of kernels/ (matmul.c, mm_pack.c, vexp.c, ...) calls kern()->...; the
 * tables live in x86_avx512/, x86_avx2/ and generic/. Not an API outside kernels/, the
 * AdamW step and MinHash densification (data/minhash.c).
 *
 * Every entry of every table computes the same bits as the AVX-512 one (see isa.h for
 * the generic path without FMA). */
#ifndef DK_KERNELS_KERN_OPS_H
#define DK_KERNELS_KERN_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/isa.h"
#include "util/hash.h"

/* Register tile of the fp32 matmul: C[mr x nr] (+)= A (kc x MR, packed panel: for each
 * k, MR values) * B (kc x NR panel). first: overwrite instead of accumulate. Each
 * element is one chain of fused multiply-adds over k from 0, then added to C. */
typedef void (*mmk_tile_fn)(int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr,
                            int first);
/* The same against two consecutive panels (the first full, the second nr2 wide at C + NR). */
typedef void (*mmk_tile2_fn)(int kc, const float *a, const float *b, const float *b2, float *C, int ldc,
                             int mr, int nr2, int first);
/* MR full rows of A stored M x K read in place (row stride lda), B a packed panel. */
typedef void (*mmk_direct_fn)(int kc, const float *a, int lda, const float *b, float *C, int ldc, int nr,
                              int first);

/* One AdamW segment (the scalar order of operations, each rounded; train/adamw.c). */
typedef struct {
    float *p, *m, *v;
    const float *g;
    float lr, b1, b2, eps, wd, c1, c2;
} kern_adamw;

typedef struct kern_ops {
    dk_isa isa;
    mmk_tile_fn tile;        /* up to MR rows of packed A */
    mmk_tile_fn tile_r[3];   /* decoding: at most 1, 2, 4 rows of packed A */
    mmk_tile2_fn tile2_r[3]; /* the same against two panels, or NULL */
    mmk_direct_fn direct;    /* or NULL: A is packed */
    /* packing transposes (data movement only), or NULL for the plain loops:
     * MR rows of A stored M x K, k [0, kc) -> dst[k MR + r];
     * NR rows of B stored N x K, k [0, kc) -> dst[k NR + c];
     * round: each value rounded to bf16 as round_bf16 does (emulated bf16). */
    void (*pack_a_t)(float *dst, const float *src, int lda, int kc, int round);
    void (*pack_b_t)(float *dst, const float *src, int ldb, int kc, int round);
    /* vexp.h, lane for lane: sum_i exp(z_i - shift) in double (and the exps into out,
     * if not NULL); z = exp(z - shift) scale; max; SwiGLU and its backward. */
    double (*exp_sum)(float *out, const float *z, int n, float shift);
    void (*exp_scale)(float *z, int n, double shift, float scale);
    float (*max)(const float *z, int n);
    void (*swiglu)(float *out, const float *g, const float *u, size_t n);
    void (*swiglu_bwd)(float *dg, float *du, const float *dy, const float *g, const float *u, size_t n);
    /* AdamW over elements [b, e) of the segment. */
    void (*adamw)(const kern_adamw *c, size_t b, size_t e);
    /* Rounds n floats to bf16 precision in place (nearest even; NaNs stay NaN): the
     * emulated bf16 products' operands. */
    void (*round_bf16)(float *x, size_t n);
    /* Bandwidth probe: a sum over n floats (p 64-byte aligned), loads-bound. */
    float (*read_sum)(const float *p, size_t n);
    /* FMA peak probe: iters rounds of 12 independent vector FMAs (fma_flops flops per
     * round); returns a sum that keeps the loop alive. */
    double (*fma_loop)(long iters);
    int fma_flops;
    /* MinHash densification (data/minhash.c): for i in [0, n), n a multiple of 16,
     * best[i] = min(best[i], min over r < nrows of (uint32_t)table[rows[r] stride + i] << 8
     * | rows[r]): all of a document's non-empty bins in one call, best kept in registers
     * (integers: every path gives the same result). */
    void (*min_tagged_rows_u16)(uint32_t *best, const uint16_t *table, size_t stride,
                                const uint8_t *rows, size_t nrows, size_t n);
    /* MinHash shingles (data/minhash.c), integers like the above. mh_mix: u[i] =
     * hash_u64(u[i]) for i in [0, n) (util/hash.h). mh_shingles: for the windows of w
     * mixed units starting at i in [0, m), s = hash_u64(sum_j hu[i + j] MH_ROLL_B^(w-1-j)
     * + w) (mod 2^64), the shingle; out[i] = s, or with h > 0 its place among h bins:
     * x = hash_u64(s ^ key), out[i] = scale(x, h) << 32 | (uint32_t)x (scale: the high
     * half of x's high half times h). mh_keep_bits: out[k] = hash_u64((uint64_t)k << 32
     * | v[k]) >> 56 for k in [0, n), the index's 8 bits of position k. */
    void (*mh_mix)(uint64_t *u, size_t n);
    void (*mh_shingles)(const uint64_t *hu, size_t m, int w, uint64_t key, uint32_t h, uint64_t *out);
    void (*mh_keep_bits)(const uint32_t *v, size_t n, uint8_t *out);
    /* MinHash densification's last step: sig[i] = (uint32_t)bins[full[i] ? i : best[i]
     * & 0xFF] for i in [0, h), h <= 256; returns nonzero if some empty bin's best[i] >> 8
     * is 0xFFFF (no probe reached a full bin). best and full are read up to h rounded
     * up to 16 (the lanes past h are ignored). */
    uint32_t (*mh_pick)(const uint64_t *bins, const uint32_t *best, const uint8_t *full, size_t h,
                        uint32_t *sig);
    /* UTF-8 validation (util/utf8.h: utf8_validate): the offset of the first invalid
     * sequence in s[0..n), or n. Strict: no overlong forms, surrogates or code points
     * past U+10FFFF. Every path returns the same offset. */
    size_t (*utf8_valid)(const uint8_t *s, size_t n);
} kern_ops;

#define MH_ROLL_B 0x9E3779B97F4A7C15ULL /* the shingle polynomial's base (odd) */

/* The 8 bits the MinHash index keeps of value v at position k (mh_keep_bits' element;
 * why a hash of both: data/minhash.c, above mh_val). */
static inline uint8_t mh_kept_bits(uint32_t v, size_t k) { return (uint8_t)(hash_u64((uint64_t)k << 32 | v) >> 56); }

/* The tables; the x86 ones exist only in an x86-64 build (reach them through kern_of). */
extern const kern_ops kern_ops_avx512, kern_ops_avx2, kern_ops_generic;

/* The table of path isa (one isa_supported() accepts), and of the path in use
 * (isa_current()). */
const kern_ops *kern_of(dk_isa isa);
const kern_ops *kern(void);

#endif
