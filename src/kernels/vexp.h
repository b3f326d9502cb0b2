/* vexp.h: exponentials over a row of logits, 16 at a time: the softmax of the
 * cross-entropy and of the evaluators runs exp over the whole vocabulary for every
 * token (32000 x 2048 twice per step for config (b)), and libm's double exp made that
 * 4 % of a training step.
 *
 * exp is a degree-7 polynomial on r = x - n ln 2, |r| <= ln2 / 2, scaled by 2^n
 * (error below 3 ulp of float, plus |x| 2^-24 from rounding the argument to float:
 * about 2e-6 relative at x = -30, immaterial for a softmax); sums are kept in double, lane by lane, and reduced in
 * a fixed order, so results do not depend on anything but the row. Every kernel path
 * (isa.h) computes the same polynomial and the same sixteen-lane sums, so the bits
 * do not depend on the CPU either (the generic path: where it has FMA). The attention
 * softmax and SwiGLU use the same exp (libm's expf had been 4 % of a d 384 training
 * step). */
#ifndef DK_KERNELS_VEXP_H
#define DK_KERNELS_VEXP_H

#include <stddef.h>

/* sum_i exp(z_i - shift), in double. */
double vexp_sum(const float *z, int n, float shift);
/* z_i = exp(z_i - shift) * scale, in place (the difference taken in double). */
void vexp_scale(float *z, int n, double shift, float scale);
/* z_i = exp(z_i - shift) in place; returns their sum in double (lane sums reduced in
 * a fixed order). The attention softmax. */
double vexp_inplace(float *z, int n, float shift);
/* max_i z_i (-inf for n = 0; NaNs are skipped). */
float vmax(const float *z, int n);

/* SwiGLU, out_i = silu(g_i) u_i = g_i / (1 + exp(-g_i)) u_i, and its backward:
 * with s = 1 / (1 + exp(-g)), du = dy g s and dg = dy u s (1 + g (1 - s)). The same
 * exp. */
void vswiglu(float *out, const float *g, const float *u, size_t n);
void vswiglu_backward(float *dg, float *du, const float *dy, const float *g, const float *u, size_t n);

#endif
