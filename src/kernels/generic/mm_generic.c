/* mm_generic.c: the fp32 matmul's register tile in portable C. GCC's vector
 * extensions give 4-lane registers on any target (SSE2 on x86-64, NEON on aarch64).
 * The 8 x 32 tile runs one row at a time: 8 vector accumulators, 8 loads of B and one
 * broadcast of A per k. Baseline x86-64 has no broadcast from memory, so each is a
 * shuffle competing with the multiplies and adds for the FP pipes: 4 x 8 sub-tiles
 * (4 broadcasts per 16 products) ran at 33-34 GFLOP/s on one Zen 5 core, 2 x 16 at
 * 35-36, one row at 38 (2048 x 1024 x 384); loads, of which cores issue 2-3 a cycle,
 * are the cheap part. A short tile (decoding: 1-4 rows) computes only its rows. Each
 * element is the same chain over k as on the vector paths; contraction is allowed in
 * this one function so that a target with a fused multiply-add fuses every step, as
 * the vector paths do (see generic.h). */
#include "kernels/generic/generic.h"
#include "kernels/mm_internal.h"

#include <string.h>

typedef float v4sf __attribute__((vector_size(16)));

static inline v4sf ld4(const float *p)
{
    v4sf v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void st4(float *p, v4sf v) { memcpy(p, &v, sizeof v); }

__attribute__((optimize("fp-contract=fast"))) void generic_tile(int kc, const float *a, const float *b,
                                                                  float *C, int ldc, int mr, int nr,
                                                                  int first)
{
    float acc[MR][NR] __attribute__((aligned(16)));
    for (int g = 0; g < mr; g++) {
        v4sf c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, c4 = {0}, c5 = {0}, c6 = {0}, c7 = {0};
        const float *bk = b, *ak = a + g;
        for (int k = 0; k < kc; k++, bk += NR, ak += MR) {
            v4sf a0 = {ak[0], ak[0], ak[0], ak[0]};
            c0 += a0 * ld4(bk);
            c1 += a0 * ld4(bk + 4);
            c2 += a0 * ld4(bk + 8);
            c3 += a0 * ld4(bk + 12);
            c4 += a0 * ld4(bk + 16);
            c5 += a0 * ld4(bk + 20);
            c6 += a0 * ld4(bk + 24);
            c7 += a0 * ld4(bk + 28);
        }
        st4(&acc[g][0], c0), st4(&acc[g][4], c1), st4(&acc[g][8], c2), st4(&acc[g][12], c3);
        st4(&acc[g][16], c4), st4(&acc[g][20], c5), st4(&acc[g][24], c6), st4(&acc[g][28], c7);
    }
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) {
            float *x = C + (size_t)r * ldc + j;
            *x = first ? acc[r][j] : acc[r][j] + *x;
        }
}
