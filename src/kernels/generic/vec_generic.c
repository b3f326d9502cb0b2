/* vec_generic.c: the portable path's vector math, element by element in the vector
 * paths' order (sixteen double lanes for a sum), and its kern_ops table. */
#include "kernels/generic/generic.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* 2^k for k in [-126, 127], built from its bits */
static inline float pow2i(int k)
{
    uint32_t bits = (uint32_t)(k + 127) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

float generic_exp(float x)
{
    x = x > -87.3f ? x : -87.3f; /* a NaN becomes -87.3, as max_ps(x, c) gives c */
    x = x < 88.7f ? x : 88.7f;
    float n = nearbyintf(x * 1.44269504088896341f); /* ties to even, as roundscale */
    float r = DK_FMA(-n, 0.693359375f, x);
    r = DK_FMA(-n, -2.12194440e-4f, r);
    float p = 1.0f / 5040;
    p = DK_FMA(p, r, 1.0f / 720);
    p = DK_FMA(p, r, 1.0f / 120);
    p = DK_FMA(p, r, 1.0f / 24);
    p = DK_FMA(p, r, 1.0f / 6);
    p = DK_FMA(p, r, 0.5f);
    p = DK_FMA(p, r, 1.0f);
    p = DK_FMA(p, r, 1.0f);
    /* p 2^n in one rounding, as scalef: two exact power-of-two factors, 2^(n - n/2)
     * and 2^(n/2), each a normal number for n in [-126, 128] (the clamp gives that
     * range), so only the second multiply can round (the AVX2 path's way). ldexpf, a
     * library call per element, was 4 % of a training step on this path. */
    int e = (int)n, h = e / 2;
    return p * pow2i(e - h) * pow2i(h);
}

static double exp_sum_generic(float *out, const float *z, int n, float shift)
{
    double lane[16] = {0}, t = 0;
    for (int i = 0; i < n; i++) {
        float e = generic_exp(z[i] - shift);
        if (out)
            out[i] = e;
        lane[i % 16] += e;
    }
    for (int k = 0; k < 8; k++)
        t += lane[k] + lane[8 + k];
    return t;
}

static void scale_generic(float *z, int n, double shift, float scale)
{
    for (int i = 0; i < n; i++)
        z[i] = generic_exp((float)((double)z[i] - shift)) * scale;
}

static float max_generic(const float *z, int n)
{
    float mx = -INFINITY;
    for (int i = 0; i < n; i++)
        mx = z[i] > mx ? z[i] : mx;
    return mx;
}

static void swiglu_generic(float *out, const float *g, const float *u, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = g[i] / (1.0f + generic_exp(0.0f - g[i])) * u[i];
}

static void swiglu_bwd_generic(float *dg, float *du, const float *dy, const float *g, const float *u,
                               size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + generic_exp(0.0f - g[i]));
        du[i] = dy[i] * g[i] * s;
        dg[i] = dy[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
    }
}

/* The reference order of operations (each one rounded: no contraction). */
static void adamw_generic(const kern_adamw *c, size_t b, size_t e)
{
    for (size_t i = b; i < e; i++) {
        float g = c->g[i];
        float m = c->m[i] = c->b1 * c->m[i] + (1.0f - c->b1) * g;
        float v = c->v[i] = c->b2 * c->v[i] + (1.0f - c->b2) * g * g;
        float upd = (m / c->c1) / (sqrtf(v / c->c2) + c->eps);
        c->p[i] -= c->lr * (upd + c->wd * c->p[i]);
    }
}

static float read_generic(const float *p, size_t n)
{
    float s[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            s[k] += p[i + k];
    for (; i < n; i++)
        s[0] += p[i];
    return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

static void round_bf16_generic(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: stays a (quiet) NaN */
            u = (u | 0x00400000u) & 0xffff0000u;
        else /* nearest, ties to even; a carry into the exponent is the right rounding */
            u = (u + 0x7fffu + (u >> 16 & 1)) & 0xffff0000u;
        memcpy(&x[i], &u, 4);
    }
}

/* 12 independent 4-lane chains of a b + c (the compiler's vectors). */
typedef float v4sf __attribute__((vector_size(16)));

static double fma_loop_generic(long iters)
{
    v4sf acc[12];
    for (int i = 0; i < 12; i++)
        acc[i] = (v4sf){1, 1, 1, 1} * ((float)i * 1e-3f);
    v4sf a = {0.999999f, 0.999999f, 0.999999f, 0.999999f}, b = {1e-7f, 1e-7f, 1e-7f, 1e-7f};
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++)
            acc[i] = acc[i] * a + b;
    }
    float s = 0;
    for (int i = 0; i < 12; i++)
        s += acc[i][0] + acc[i][1] + acc[i][2] + acc[i][3];
    return s;
}

static void min_tagged_rows_generic(uint32_t *best, const uint16_t *table, size_t stride,
                                    const uint8_t *rows, size_t nrows, size_t n)
{
    for (size_t r = 0; r < nrows; r++) {
        const uint16_t *row = table + rows[r] * stride;
        for (size_t i = 0; i < n; i++) {
            uint32_t c = (uint32_t)row[i] << 8 | rows[r];
            best[i] = c < best[i] ? c : best[i];
        }
    }
}

const kern_ops kern_ops_generic = {
    .isa = DK_ISA_GENERIC,
    .tile = generic_tile,
    .tile_r = {generic_tile, generic_tile, generic_tile},
    .tile2_r = {NULL, NULL, NULL},
    .direct = NULL,
    .pack_a_t = NULL,
    .pack_b_t = NULL,
    .exp_sum = exp_sum_generic,
    .exp_scale = scale_generic,
    .max = max_generic,
    .swiglu = swiglu_generic,
    .swiglu_bwd = swiglu_bwd_generic,
    .adamw = adamw_generic,
    .round_bf16 = round_bf16_generic,
    .read_sum = read_generic,
    .fma_loop = fma_loop_generic,
    .fma_flops = 12 * 4 * 2,
    .min_tagged_rows_u16 = min_tagged_rows_generic,
    .mh_mix = generic_mh_mix,
    .mh_shingles = generic_mh_shingles,
    .mh_keep_bits = generic_mh_keep_bits,
    .mh_pick = generic_mh_pick,
    .utf8_valid = generic_utf8_valid,
};
