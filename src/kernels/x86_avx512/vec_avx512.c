/* vec_avx512.c: the AVX-512 path's vector math (exp and what uses it, AdamW, the
 * bandwidth and peak probes) and its kern_ops table. */
#if defined(__x86_64__) /* x86-64 only: elsewhere this file compiles to nothing (isa.c) */
#include "kernels/mask.h"
#include "kernels/x86_avx2/avx2.h"
#include "kernels/x86_avx512/avx512.h"

#include <immintrin.h>
#include <math.h>

/* exp as vexp.h states it: clamp, n = round(x log2 e), r = x - n ln 2 (two parts), a
 * degree-7 polynomial by Horner's rule in FMAs, scaled by 2^n. */
__attribute__((target("avx512f"), always_inline)) static inline __m512 exp16(__m512 x)
{
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f)); /* exp underflows to about 1e-38 there */
    x = _mm512_min_ps(x, _mm512_set1_ps(88.7f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x); /* ln 2, hi + lo */
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

/* sum_i exp(z_i - shift) in double, lane by lane (lane l of 16 holds elements l, 16 + l,
 * ...), reduced as t += lane k + lane 8 + k for k = 0..7; with out, the exponentials
 * are stored there too. */
__attribute__((target("avx512f"))) static double exp_sum_avx512(float *out, const float *z, int n,
                                                                 float shift)
{
    __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
    __m512 s = _mm512_set1_ps(shift);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = mask16(n - i);
        __m512 e = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, z + i), s)));
        if (out)
            _mm512_mask_storeu_ps(out + i, m, e);
        lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        hi = _mm512_add_pd(hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    double a[8], b[8], t = 0;
    _mm512_storeu_pd(a, lo);
    _mm512_storeu_pd(b, hi);
    for (int k = 0; k < 8; k++) /* fixed order */
        t += a[k] + b[k];
    return t;
}

__attribute__((target("avx512f"))) static void scale_avx512(float *z, int n, double shift, float scale)
{
    __m512d sh = _mm512_set1_pd(shift);
    __m512 sc = _mm512_set1_ps(scale);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = mask16(n - i);
        __m512 x = _mm512_maskz_loadu_ps(m, z + i);
        __m256 a = _mm512_cvtpd_ps(_mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(x)), sh));
        __m256 b = _mm512_cvtpd_ps(_mm512_sub_pd(
            _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1))), sh));
        __m512 d = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(a)),
                                                       _mm256_castps_pd(b), 1));
        _mm512_mask_storeu_ps(z + i, m, _mm512_mul_ps(exp16(d), sc));
    }
}

__attribute__((target("avx512f"))) static float max_avx512(const float *z, int n)
{
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = mask16(n - i);
        /* the second operand comes back when either is NaN: NaNs are skipped */
        mx = _mm512_max_ps(_mm512_mask_loadu_ps(mx, m, z + i), mx);
    }
    return _mm512_reduce_max_ps(mx);
}

__attribute__((target("avx512f"))) static void swiglu_avx512(float *out, const float *g, const float *u,
                                                              size_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = mask16((int)(n - i < 16 ? n - i : 16));
        __m512 gv = _mm512_maskz_loadu_ps(m, g + i);
        __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), gv));
        __m512 y = _mm512_mul_ps(_mm512_div_ps(gv, _mm512_add_ps(one, e)), _mm512_maskz_loadu_ps(m, u + i));
        _mm512_mask_storeu_ps(out + i, m, y);
    }
}

__attribute__((target("avx512f"))) static void swiglu_bwd_avx512(float *dg, float *du, const float *dy,
                                                                  const float *g, const float *u, size_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = mask16((int)(n - i < 16 ? n - i : 16));
        __m512 gv = _mm512_maskz_loadu_ps(m, g + i), d = _mm512_maskz_loadu_ps(m, dy + i);
        __m512 s = _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), gv))));
        _mm512_mask_storeu_ps(du + i, m, _mm512_mul_ps(_mm512_mul_ps(d, gv), s));
        __m512 t = _mm512_add_ps(one, _mm512_mul_ps(gv, _mm512_sub_ps(one, s)));
        __m512 dgv = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, u + i)), s), t);
        _mm512_mask_storeu_ps(dg + i, m, dgv);
    }
}

/* AdamW sixteen lanes at a time with the scalar's operations: multiplies, adds,
 * divisions and square roots are each correctly rounded, so the bits equal the scalar
 * reference (train/adamw.c). The scalar loop ran at a quarter of the memory bandwidth:
 * 4-7 % of a training step. */
__attribute__((target("avx512f"))) static void adamw_avx512(const kern_adamw *c, size_t b, size_t e)
{
    const __m512 b1 = _mm512_set1_ps(c->b1), nb1 = _mm512_set1_ps(1.0f - c->b1);
    const __m512 b2 = _mm512_set1_ps(c->b2), nb2 = _mm512_set1_ps(1.0f - c->b2);
    const __m512 c1 = _mm512_set1_ps(c->c1), c2 = _mm512_set1_ps(c->c2), eps = _mm512_set1_ps(c->eps);
    const __m512 lr = _mm512_set1_ps(c->lr), wd = _mm512_set1_ps(c->wd);
    for (size_t i = b; i < e; i += 16) {
        __mmask16 k = mask16((int)(e - i < 16 ? e - i : 16));
        __m512 g = _mm512_maskz_loadu_ps(k, c->g + i), p = _mm512_maskz_loadu_ps(k, c->p + i);
        __m512 m = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_maskz_loadu_ps(k, c->m + i)), _mm512_mul_ps(nb1, g));
        __m512 v = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_maskz_loadu_ps(k, c->v + i)),
                                 _mm512_mul_ps(_mm512_mul_ps(nb2, g), g));
        _mm512_mask_storeu_ps(c->m + i, k, m);
        _mm512_mask_storeu_ps(c->v + i, k, v);
        __m512 upd = _mm512_div_ps(_mm512_div_ps(m, c1), _mm512_add_ps(_mm512_sqrt_ps(_mm512_div_ps(v, c2)), eps));
        p = _mm512_sub_ps(p, _mm512_mul_ps(lr, _mm512_add_ps(upd, _mm512_mul_ps(wd, p))));
        _mm512_mask_storeu_ps(c->p + i, k, p);
    }
}

__attribute__((target("avx512f"))) static float read_avx512(const float *p, size_t n)
{
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) { /* four independent chains: loads, not adds, bound it */
        a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
        a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
        a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
        a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    for (; i < n; i++)
        s += p[i];
    return s;
}

#define ACC 12 /* the accumulators must live in registers (12 measured best) */

__attribute__((target("avx512f"))) static double fma_loop_avx512(long iters)
{
    __m512 acc[ACC];
#pragma GCC unroll 16
    for (int i = 0; i < ACC; i++)
        acc[i] = _mm512_set1_ps((float)i * 1e-3f);
    __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 16
        for (int i = 0; i < ACC; i++)
            acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    float s = 0;
    for (int i = 0; i < ACC; i++)
        s += _mm512_reduce_add_ps(acc[i]);
    return s; /* used, so the loop is not optimised away */
}

__attribute__((target("avx512f"))) static void min_tagged_rows_avx512(uint32_t *best, const uint16_t *table,
                                                                     size_t stride, const uint8_t *rows,
                                                                     size_t nrows, size_t n)
{
    for (size_t i = 0; i < n; i += 16) { /* one register of best, every row */
        __m512i b = _mm512_loadu_si512(best + i);
        for (size_t r = 0; r < nrows; r++) {
            const uint16_t *row = table + rows[r] * stride + i;
            __m512i c = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)row));
            b = _mm512_min_epu32(b, _mm512_or_si512(_mm512_slli_epi32(c, 8), _mm512_set1_epi32(rows[r])));
        }
        _mm512_storeu_si512(best + i, b);
    }
}

const kern_ops kern_ops_avx512 = {
    .isa = DK_ISA_AVX512,
    .tile = avx512_tile,
    .tile_r = {avx512_tile_r1, avx512_tile_r2, avx512_tile_r4},
    .tile2_r = {avx512_tile2_r1, avx512_tile2_r2, avx512_tile2_r4},
    .direct = avx512_direct,
    .pack_a_t = avx512_pack_a_t,
    .pack_b_t = avx512_pack_b_t,
    .exp_sum = exp_sum_avx512,
    .exp_scale = scale_avx512,
    .max = max_avx512,
    .swiglu = swiglu_avx512,
    .swiglu_bwd = swiglu_bwd_avx512,
    .adamw = adamw_avx512,
    .round_bf16 = avx512_round_bf16,
    .read_sum = read_avx512,
    .fma_loop = fma_loop_avx512,
    .fma_flops = ACC * 16 * 2,
    .min_tagged_rows_u16 = min_tagged_rows_avx512,
    .mh_mix = avx512_mh_mix,
    .mh_shingles = avx512_mh_shingles,
    .mh_keep_bits = avx512_mh_keep_bits,
    .mh_pick = avx512_mh_pick,
    .utf8_valid = avx512_utf8_valid,
};

#endif /* __x86_64__ */
