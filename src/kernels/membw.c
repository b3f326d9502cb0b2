/* membw.c: see membw.h. */
#include "kernels/cpu.h"
#include "kernels/membw.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/hugemem.h"
#include "util/progress.h"

typedef struct {
    const float *buf;
    size_t n; /* floats */
    int parts;
    float sink[256];
} rd_job;

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

static float read_plain(const float *p, size_t n)
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

static void read_part(void *vj, size_t part, int th)
{
    rd_job *j = vj;
    size_t per = (j->n / (size_t)j->parts) & ~(size_t)63; /* 256-byte aligned slices */
    size_t b = part * per, e = part + 1 == (size_t)j->parts ? j->n : b + per;
    float s = cpu_has_avx512f() ? read_avx512(j->buf + b, e - b)
                                                : read_plain(j->buf + b, e - b);
    j->sink[part % 256] += s; /* keeps the reads alive */
}

double membw_read_gbs(pool *p, size_t bytes, int huge, int rounds)
{
    float *buf;
    if (huge) {
        buf = hugemem_alloc(bytes);
    } else {
        buf = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
        if (buf) {
            (void)madvise(buf, (bytes + 4095) / 4096 * 4096, MADV_NOHUGEPAGE);
            memset(buf, 0, bytes);
        }
    }
    if (!buf)
        return 0;
    rd_job j = {.buf = buf, .n = bytes / sizeof(float), .parts = pool_threads(p)};
    double best = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_seconds();
        pool_for(p, (size_t)j.parts, read_part, &j);
        double gbs = (double)bytes / (now_seconds() - t0) / 1e9;
        best = gbs > best ? gbs : best;
    }
    free(buf);
    return best;
}
