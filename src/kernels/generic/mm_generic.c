/* mm_generic.c: the fp32 matmul's register tile in portable C. GCC's vector
 * extensions give 4-lane registers on any target (SSE2 on x86-64, NEON on aarch64);
 * the 8 x 32 tile runs as 4 x 8 sub-tiles (8 vector accumulators) so the accumulators
 * stay in the 16 registers of either. Each element is the same chain over k as on the
 * vector paths; contraction is allowed in this one function so that a target with a
 * fused multiply-add fuses every step, as the vector paths do (see generic.h). */
#include "kernels/generic/generic.h"
#include "kernels/mm_internal.h"

#include <string.h>

typedef float v4sf __attribute__((vector_size(16)));

__attribute__((optimize("fp-contract=fast"))) void generic_tile(int kc, const float *a, const float *b,
                                                                  float *C, int ldc, int mr, int nr,
                                                                  int first)
{
    float acc[MR][NR] __attribute__((aligned(16)));
    for (int g = 0; g < MR; g += 4) {
        if (g >= mr)
            break;
        for (int h = 0; h < NR; h += 8) {
            if (h >= nr)
                break;
            v4sf c[4][2];
            memset(c, 0, sizeof c);
            for (int k = 0; k < kc; k++) {
                v4sf b0, b1;
                memcpy(&b0, b + (size_t)k * NR + h, sizeof b0);
                memcpy(&b1, b + (size_t)k * NR + h + 4, sizeof b1);
                const float *ak = a + (size_t)k * MR + g;
#pragma GCC unroll 4
                for (int r = 0; r < 4; r++) {
                    c[r][0] += ak[r] * b0;
                    c[r][1] += ak[r] * b1;
                }
            }
            for (int r = 0; r < 4; r++) {
                memcpy(&acc[g + r][h], &c[r][0], sizeof c[r][0]);
                memcpy(&acc[g + r][h + 4], &c[r][1], sizeof c[r][1]);
            }
        }
    }
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++) {
            float *x = C + (size_t)r * ldc + j;
            *x = first ? acc[r][j] : acc[r][j] + *x;
        }
}
