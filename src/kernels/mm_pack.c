/* mm_pack.c: copying fp32 operands into the micro-kernel's panels. */
#include <string.h>

#include "kernels/kern_ops.h"
#include "kernels/mm_internal.h"

/* The transposing cases (A stored M x K, B stored N x K, whole panels) use the path's
 * in-register transposes when it has them (kern_ops.h). round (emulated bf16): the
 * values rounded to bf16, inside the path's transposes, else each panel as soon as it
 * is copied, while it is in L1 (A's, at most 16 KiB) or L2 (B's, 64 KiB). */

/* Packs rows [i0, i0+mc) x k [k0, k0+kc) of op(A) into MR-row micro-panels:
 * panel p holds, for each k, MR consecutive values (zero-padded past M). */
void mmk_pack_a(float *dst, int ta, const float *A, int lda, int i0, int mc, int k0, int kc, int round)
{
    for (int ip = 0; ip < mc; ip += MR, dst += (size_t)MR * kc) {
        int mr = mc - ip < MR ? mc - ip : MR;
        if (ta && mr == MR) { /* A stored K x M: row k of the panel is contiguous in A */
            for (int k = 0; k < kc; k++)
                memcpy(dst + (size_t)k * MR, A + (size_t)(k0 + k) * lda + i0 + ip, MR * sizeof(float));
        } else if (ta) {
            for (int k = 0; k < kc; k++) {
                const float *src = A + (size_t)(k0 + k) * lda + i0 + ip;
                for (int r = 0; r < mr; r++)
                    dst[(size_t)k * MR + r] = src[r];
                for (int r = mr; r < MR; r++)
                    dst[(size_t)k * MR + r] = 0;
            }
        } else if (mr == MR && kern()->pack_a_t) { /* A stored M x K: transpose blocks */
            kern()->pack_a_t(dst, A + (size_t)(i0 + ip) * lda + k0, lda, kc, round);
            continue;
        } else { /* A stored M x K: read each row along k */
            for (int r = 0; r < MR; r++) {
                const float *src = A + (size_t)(i0 + ip + r) * lda + k0;
                for (int k = 0; k < kc; k++)
                    dst[(size_t)k * MR + r] = r < mr ? src[k] : 0;
            }
        }
        if (round)
            kern()->round_bf16(dst, (size_t)MR * kc);
    }
}

/* Packs columns [j0, j0+nc) x k [k0, k0+kc) of op(B) into NR-column micro-panels:
 * panel q holds, for each k, NR consecutive values (zero-padded past N). Each case
 * reads B along its rows. */
void mmk_pack_b(float *dst, int tb, const float *B, int ldb, int j0, int nc, int k0, int kc, int round)
{
    for (int jp = 0; jp < nc; jp += NR, dst += (size_t)NR * kc) {
        int nr = nc - jp < NR ? nc - jp : NR;
        if (!tb) {
            for (int k = 0; k < kc; k++) {
                const float *src = B + (size_t)(k0 + k) * ldb + j0 + jp;
                if (nr == NR)
                    memcpy(dst + (size_t)k * NR, src, NR * sizeof(float));
                else
                    for (int c = 0; c < NR; c++)
                        dst[(size_t)k * NR + c] = c < nr ? src[c] : 0;
            }
        } else if (nr == NR && kern()->pack_b_t) { /* B stored N x K: transpose blocks */
            kern()->pack_b_t(dst, B + (size_t)(j0 + jp) * ldb + k0, ldb, kc, round);
            continue;
        } else { /* B stored N x K */
            for (int c = 0; c < NR; c++) {
                const float *src = B + (size_t)(j0 + jp + c) * ldb + k0;
                for (int k = 0; k < kc; k++)
                    dst[(size_t)k * NR + c] = c < nr ? src[k] : 0;
            }
        }
        if (round)
            kern()->round_bf16(dst, (size_t)NR * kc);
    }
}
