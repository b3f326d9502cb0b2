/* vec_avx2.c: the AVX2 path's vector math and its kern_ops table. Each function is
 * the AVX-512 one lane for lane: a 16-lane vector becomes two 8-lane halves, its
 * double lane sums four 4-lane accumulators, reduced in the same tree, so the bits
 * are the same. */
#if defined(__x86_64__) /* x86-64 only: elsewhere this file compiles to nothing (isa.c) */
#include "kernels/generic/generic.h"
#include "kernels/x86_avx2/avx2.h"

#include <math.h>

/* vexp.h's exp; scalef (p 2^n in one rounding) is two exact power-of-two multiplies,
 * 2^(n - n/2) and 2^(n/2), each a normal number for n in [-126, 128] (the clamp gives
 * that range), and only the second can round. */
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 exp8(__m256 x)
{
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f)); /* NaN -> -87.3, as on AVX-512 */
    x = _mm256_min_ps(x, _mm256_set1_ps(88.7f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i ni = _mm256_cvtps_epi32(n), n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

/* Sixteen lanes of exp_sum as two halves h, the AVX-512 vector's lanes 8 h .. 8 h + 7. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
exp_sum16(float *out, const float *z, int i, int n, __m256 s, __m256d acc[4], int tail)
{
    for (int h = 0; h < 2; h++) {
        __m256i m = tail ? mask8(n - i - 8 * h) : _mm256_set1_epi32(-1);
        __m256 e = exp8(_mm256_sub_ps(ld8(z + i + 8 * h, m, tail), s));
        if (tail)
            e = _mm256_and_ps(e, _mm256_castsi256_ps(m));
        if (out)
            st8(out + i + 8 * h, m, tail, e);
        acc[2 * h] = _mm256_add_pd(acc[2 * h], _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        acc[2 * h + 1] = _mm256_add_pd(acc[2 * h + 1], _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
}

__attribute__((target("avx2,fma"))) static double exp_sum_avx2(float *out, const float *z, int n, float shift)
{
    __m256d acc[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()};
    __m256 s = _mm256_set1_ps(shift);
    int i = 0;
    for (; i + 16 <= n; i += 16)
        exp_sum16(out, z, i, n, s, acc, 0);
    if (i < n)
        exp_sum16(out, z, i, n, s, acc, 1);
    double a[16], t = 0;
    for (int q = 0; q < 4; q++)
        _mm256_storeu_pd(a + 4 * q, acc[q]);
    for (int k = 0; k < 8; k++) /* the AVX-512 tree: lane k + lane 8 + k */
        t += a[k] + a[8 + k];
    return t;
}

__attribute__((target("avx2,fma"), always_inline)) static inline void scale8(float *z, __m256d sh, __m256 sc,
                                                                               __m256i m, int tail)
{
    __m256 x = ld8(z, m, tail);
    __m128 a = _mm256_cvtpd_ps(_mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x)), sh));
    __m128 b = _mm256_cvtpd_ps(_mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)), sh));
    __m256 d = _mm256_insertf128_ps(_mm256_castps128_ps256(a), b, 1);
    st8(z, m, tail, _mm256_mul_ps(exp8(d), sc));
}

__attribute__((target("avx2,fma"))) static void scale_avx2(float *z, int n, double shift, float scale)
{
    __m256d sh = _mm256_set1_pd(shift);
    __m256 sc = _mm256_set1_ps(scale);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        scale8(z + i, sh, sc, _mm256_set1_epi32(-1), 0);
    if (i < n)
        scale8(z + i, sh, sc, mask8(n - i), 1);
}

__attribute__((target("avx2,fma"))) static float max_avx2(const float *z, int n)
{
    __m256 mx = _mm256_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 8 <= n; i += 8) /* NaN in z: mx comes back (NaNs are skipped) */
        mx = _mm256_max_ps(_mm256_loadu_ps(z + i), mx);
    if (i < n) {
        __m256i m = mask8(n - i);
        __m256 v = _mm256_blendv_ps(mx, _mm256_maskload_ps(z + i, m), _mm256_castsi256_ps(m));
        mx = _mm256_max_ps(v, mx);
    }
    float l[8], r = -INFINITY;
    _mm256_storeu_ps(l, mx);
    for (int k = 0; k < 8; k++)
        r = l[k] > r ? l[k] : r;
    return r;
}

__attribute__((target("avx2,fma"), always_inline)) static inline void swiglu8(float *out, const float *g,
                                                                                const float *u, __m256i m,
                                                                                int tail)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 gv = ld8(g, m, tail);
    __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), gv));
    st8(out, m, tail, _mm256_mul_ps(_mm256_div_ps(gv, _mm256_add_ps(one, e)), ld8(u, m, tail)));
}

__attribute__((target("avx2,fma"))) static void swiglu_avx2(float *out, const float *g, const float *u, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        swiglu8(out + i, g + i, u + i, _mm256_set1_epi32(-1), 0);
    if (i < n)
        swiglu8(out + i, g + i, u + i, mask8((int)(n - i)), 1);
}

__attribute__((target("avx2,fma"), always_inline)) static inline void
swiglu_bwd8(float *dg, float *du, const float *dy, const float *g, const float *u, __m256i m, int tail)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 gv = ld8(g, m, tail), d = ld8(dy, m, tail);
    __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), gv))));
    st8(du, m, tail, _mm256_mul_ps(_mm256_mul_ps(d, gv), s));
    __m256 t = _mm256_add_ps(one, _mm256_mul_ps(gv, _mm256_sub_ps(one, s)));
    st8(dg, m, tail, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(d, ld8(u, m, tail)), s), t));
}

__attribute__((target("avx2,fma"))) static void swiglu_bwd_avx2(float *dg, float *du, const float *dy,
                                                                const float *g, const float *u, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        swiglu_bwd8(dg + i, du + i, dy + i, g + i, u + i, _mm256_set1_epi32(-1), 0);
    if (i < n)
        swiglu_bwd8(dg + i, du + i, dy + i, g + i, u + i, mask8((int)(n - i)), 1);
}

__attribute__((target("avx2,fma"), always_inline)) static inline void adamw8(const kern_adamw *c, size_t i,
                                                                               __m256i k, int tail)
{
    const __m256 b1 = _mm256_set1_ps(c->b1), nb1 = _mm256_set1_ps(1.0f - c->b1);
    const __m256 b2 = _mm256_set1_ps(c->b2), nb2 = _mm256_set1_ps(1.0f - c->b2);
    const __m256 c1 = _mm256_set1_ps(c->c1), c2 = _mm256_set1_ps(c->c2), eps = _mm256_set1_ps(c->eps);
    const __m256 lr = _mm256_set1_ps(c->lr), wd = _mm256_set1_ps(c->wd);
    __m256 g = ld8(c->g + i, k, tail), p = ld8(c->p + i, k, tail);
    __m256 m = _mm256_add_ps(_mm256_mul_ps(b1, ld8(c->m + i, k, tail)), _mm256_mul_ps(nb1, g));
    __m256 v = _mm256_add_ps(_mm256_mul_ps(b2, ld8(c->v + i, k, tail)), _mm256_mul_ps(_mm256_mul_ps(nb2, g), g));
    st8(c->m + i, k, tail, m);
    st8(c->v + i, k, tail, v);
    __m256 upd = _mm256_div_ps(_mm256_div_ps(m, c1), _mm256_add_ps(_mm256_sqrt_ps(_mm256_div_ps(v, c2)), eps));
    st8(c->p + i, k, tail, _mm256_sub_ps(p, _mm256_mul_ps(lr, _mm256_add_ps(upd, _mm256_mul_ps(wd, p)))));
}

__attribute__((target("avx2,fma"))) static void adamw_avx2(const kern_adamw *c, size_t b, size_t e)
{
    size_t i = b;
    for (; i + 8 <= e; i += 8)
        adamw8(c, i, _mm256_set1_epi32(-1), 0);
    if (i < e)
        adamw8(c, i, mask8((int)(e - i)), 1);
}

__attribute__((target("avx2,fma"))) static float read_avx2(const float *p, size_t n)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) { /* four independent chains: loads, not adds, bound it */
        a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
        a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
    }
    float l[8], s = 0;
    _mm256_storeu_ps(l, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (int k = 0; k < 8; k++)
        s += l[k];
    for (; i < n; i++)
        s += p[i];
    return s;
}

/* Eight floats of round_bf16 in place. */
__attribute__((target("avx2"), always_inline)) static inline void round8_bf16(float *x, __m256i m, int tail)
{
    st8(x, m, tail, round_bf16_ps(ld8(x, m, tail)));
}

/* kern_ops.round_bf16 eight lanes at a time (the scalar loop made emulated bf16 steps
 * 26 % slower than fp32 on config (a); now 9 %). Masked moves only at the tail (ld8):
 * with one per vector this pass took 2 % of an emulated bf16 step on the Zen 5. */
__attribute__((target("avx2"))) void avx2_round_bf16(float *x, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        round8_bf16(x + i, _mm256_set1_epi32(-1), 0);
    if (i < n)
        round8_bf16(x + i, mask8((int)(n - i)), 1);
}

#define ACC 12

__attribute__((target("avx2,fma"))) static double fma_loop_avx2(long iters)
{
    __m256 acc[ACC];
#pragma GCC unroll 16
    for (int i = 0; i < ACC; i++)
        acc[i] = _mm256_set1_ps((float)i * 1e-3f);
    __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 16
        for (int i = 0; i < ACC; i++)
            acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    float out[8], s = 0;
    for (int i = 0; i < ACC; i++) {
        _mm256_storeu_ps(out, acc[i]);
        for (int k = 0; k < 8; k++)
            s += out[k];
    }
    return s;
}

__attribute__((target("avx2"))) static void min_tagged_rows_avx2(uint32_t *best, const uint16_t *table,
                                                                 size_t stride, const uint8_t *rows,
                                                                 size_t nrows, size_t n)
{
    for (size_t i = 0; i < n; i += 16) { /* two registers of best, every row */
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(best + i));
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(best + i + 8));
        for (size_t r = 0; r < nrows; r++) {
            const uint16_t *row = table + rows[r] * stride + i;
            const __m256i t = _mm256_set1_epi32(rows[r]);
            __m256i c0 = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)row));
            __m256i c1 = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(row + 8)));
            b0 = _mm256_min_epu32(b0, _mm256_or_si256(_mm256_slli_epi32(c0, 8), t));
            b1 = _mm256_min_epu32(b1, _mm256_or_si256(_mm256_slli_epi32(c1, 8), t));
        }
        _mm256_storeu_si256((__m256i *)(best + i), b0);
        _mm256_storeu_si256((__m256i *)(best + i + 8), b1);
    }
}

const kern_ops kern_ops_avx2 = {
    .isa = DK_ISA_AVX2,
    .tile = avx2_tile,
    .tile_r = {avx2_tile_r1, avx2_tile_r2, avx2_tile_r4},
    .tile2_r = {avx2_tile2_r1, NULL, NULL},
    .direct = avx2_direct,
    .pack_a_t = avx2_pack_a_t,
    .pack_b_t = avx2_pack_b_t,
    .exp_sum = exp_sum_avx2,
    .exp_scale = scale_avx2,
    .max = max_avx2,
    .swiglu = swiglu_avx2,
    .swiglu_bwd = swiglu_bwd_avx2,
    .adamw = adamw_avx2,
    .round_bf16 = avx2_round_bf16,
    .read_sum = read_avx2,
    .fma_loop = fma_loop_avx2,
    .fma_flops = ACC * 8 * 2,
    .min_tagged_rows_u16 = min_tagged_rows_avx2,
    .mh_mix = avx2_mh_mix,
    .mh_shingles = avx2_mh_shingles,
    .mh_keep_bits = avx2_mh_keep_bits,
    .mh_pick = generic_mh_pick,
    .utf8_valid = avx2_utf8_valid,
};

#endif /* __x86_64__ */
