/* vexp.c: see vexp.h. */
#include "kernels/vexp.h"

#include "kernels/cpu.h"
#include "kernels/mask.h"

#include <immintrin.h>
#include <math.h>

static int have_avx512(void) { return cpu_has_avx512f(); }

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

/* sum_i exp(z_i - shift) in double, lane by lane, reduced in a fixed order; with out,
 * the exponentials are stored there too. */
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

double vexp_sum(const float *z, int n, float shift)
{
    if (have_avx512())
        return exp_sum_avx512(NULL, z, n, shift);
    double s = 0;
    for (int i = 0; i < n; i++)
        s += exp((double)z[i] - shift);
    return s;
}

void vexp_scale(float *z, int n, double shift, float scale)
{
    if (have_avx512()) {
        scale_avx512(z, n, shift, scale);
        return;
    }
    for (int i = 0; i < n; i++)
        z[i] = (float)exp((double)z[i] - shift) * scale;
}

double vexp_inplace(float *z, int n, float shift)
{
    if (have_avx512())
        return exp_sum_avx512(z, z, n, shift);
    double s = 0;
    for (int i = 0; i < n; i++) {
        z[i] = expf(z[i] - shift);
        s += z[i];
    }
    return s;
}

__attribute__((target("avx512f"))) static float max_avx512(const float *z, int n)
{
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = mask16(n - i);
        /* the second operand comes back when either is NaN: NaNs are skipped, as below */
        mx = _mm512_max_ps(_mm512_mask_loadu_ps(mx, m, z + i), mx);
    }
    return _mm512_reduce_max_ps(mx);
}

float vmax(const float *z, int n)
{
    if (have_avx512())
        return max_avx512(z, n);
    float mx = -INFINITY;
    for (int i = 0; i < n; i++)
        mx = z[i] > mx ? z[i] : mx;
    return mx;
}

__attribute__((target("avx512f"))) static void swiglu_avx512(float *out, const float *g, const float *u,
                                                              size_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = mask16(n - i);
        __m512 gv = _mm512_maskz_loadu_ps(m, g + i);
        __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), gv));
        __m512 y = _mm512_mul_ps(_mm512_div_ps(gv, _mm512_add_ps(one, e)), _mm512_maskz_loadu_ps(m, u + i));
        _mm512_mask_storeu_ps(out + i, m, y);
    }
}

void vswiglu(float *out, const float *g, const float *u, size_t n)
{
    if (have_avx512()) {
        swiglu_avx512(out, g, u, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

__attribute__((target("avx512f"))) static void swiglu_bwd_avx512(float *dg, float *du, const float *dy,
                                                                  const float *g, const float *u, size_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = mask16(n - i);
        __m512 gv = _mm512_maskz_loadu_ps(m, g + i), d = _mm512_maskz_loadu_ps(m, dy + i);
        __m512 s = _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), gv))));
        _mm512_mask_storeu_ps(du + i, m, _mm512_mul_ps(_mm512_mul_ps(d, gv), s));
        __m512 t = _mm512_add_ps(one, _mm512_mul_ps(gv, _mm512_sub_ps(one, s)));
        __m512 dgv = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, u + i)), s), t);
        _mm512_mask_storeu_ps(dg + i, m, dgv);
    }
}

void vswiglu_backward(float *dg, float *du, const float *dy, const float *g, const float *u, size_t n)
{
    if (have_avx512()) {
        swiglu_bwd_avx512(dg, du, dy, g, u, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + expf(-g[i]));
        du[i] = dy[i] * g[i] * s;
        dg[i] = dy[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
    }
}
