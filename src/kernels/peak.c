/* peak.c: the FMA peak loop. */
#include "kernels/cpu.h"
#include "kernels/peak.h"

#include <immintrin.h>
#include <stdlib.h>

#include "util/progress.h"

#define ACC 12

__attribute__((target("avx512f"))) static double loop512(long iters)
{
    __m512 acc[ACC];
#pragma GCC unroll 16
    for (int i = 0; i < ACC; i++)
        acc[i] = _mm512_set1_ps((float)i * 1e-3f);
    __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 16 /* the accumulators must live in registers (12 measured best) */
        for (int i = 0; i < ACC; i++)
            acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    float s = 0;
    for (int i = 0; i < ACC; i++)
        s += _mm512_reduce_add_ps(acc[i]);
    return s; /* used, so the loop is not optimised away */
}

__attribute__((target("avx2,fma"))) static double loop256(long iters)
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

typedef struct {
    long iters;
    int avx512;
    double sink;
} peak_ctx;

static void peak_task(void *vc, size_t task, int thread)
{
    (void)task;
    (void)thread;
    peak_ctx *c = vc;
    double s = c->avx512 ? loop512(c->iters) : loop256(c->iters);
    if (s == 12345.678) /* never true; keeps the result alive without a data race */
        c->sink = s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double peak_fma_gflops(pool *p, double seconds, const char **isa)
{
    peak_ctx c = {1000, cpu_has_avx512f(), 0};
    if (isa)
        *isa = c.avx512 ? "avx512" : "avx2";
    int nt = pool_threads(p), lanes = c.avx512 ? 16 : 8;
    /* calibrate iterations to ~seconds/5 per round */
    for (;;) {
        double t0 = now_seconds();
        pool_for(p, (size_t)nt, peak_task, &c);
        double dt = now_seconds() - t0;
        if (dt > seconds / 20 || c.iters > (1L << 34))
            break;
        c.iters *= 4;
    }
    double t0 = now_seconds();
    pool_for(p, (size_t)nt, peak_task, &c);
    double dt = now_seconds() - t0;
    c.iters = (long)((double)c.iters * (seconds / 5) / (dt > 0 ? dt : 1e-3)) + 1;
    double r[5];
    for (int k = 0; k < 5; k++) {
        t0 = now_seconds();
        pool_for(p, (size_t)nt, peak_task, &c);
        dt = now_seconds() - t0;
        r[k] = 2.0 * lanes * ACC * (double)c.iters * nt / dt / 1e9;
    }
    qsort(r, 5, sizeof r[0], cmp_double);
    return r[4]; /* a register-only loop: the machine's noise can only slow it down */
}
