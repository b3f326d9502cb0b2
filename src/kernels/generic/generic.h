/* generic.h: the portable C path's kernels (generic/), gathered into kern_ops_generic.
 * Internal to kernels/.
 *
 * DK_FMA(a, b, c) is a b + c with one rounding where the compiler has a fused
 * multiply-add instruction for the target (__FP_FAST_FMAF: aarch64, or x86-64 built
 * with -mfma); there the path gives the AVX2/AVX-512 bits. On baseline x86-64 it is a
 * multiply then an add (a software fmaf per element would make the unknown-CPU path
 * unusably slow), so products carry a second rounding. */
#ifndef DK_KERNELS_GENERIC_H
#define DK_KERNELS_GENERIC_H

#include "kernels/kern_ops.h"

#ifdef __FP_FAST_FMAF
#define DK_FMA(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define DK_FMA(a, b, c) ((a) * (b) + (c))
#endif

void generic_tile(int kc, const float *a, const float *b, float *C, int ldc, int mr, int nr, int first);

/* exp as the vector paths compute it (vexp.h), one element. */
float generic_exp(float x);

#endif
