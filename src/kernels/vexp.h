/* vexp.h: exponentials over a row of logits, 16 at a time: the softmax of the
 * cross-entropy and of the evaluators runs exp over the whole vocabulary for every
 * token (32000 x 2048 twice per step for config (b)), and libm's double exp made that
 * 4 % of a training step.
 *
 * exp is a degree-7 polynomial on r = x - n ln 2, |r| <= ln2 / 2, scaled by 2^n
 * (error below 3 ulp of float, plus |x| 2^-24 from rounding the argument to float:
 * about 2e-6 relative at x = -30, immaterial for a softmax); sums are kept in double, lane by lane, and reduced in
 * a fixed order, so results do not depend on anything but the row. Without AVX-512
 * the same functions run libm in double. */
#ifndef DK_KERNELS_VEXP_H
#define DK_KERNELS_VEXP_H

/* sum_i exp(z_i - shift), in double. */
double vexp_sum(const float *z, int n, float shift);
/* z_i = exp(z_i - shift) * scale, in place (the difference taken in double). */
void vexp_scale(float *z, int n, double shift, float scale);
/* max_i z_i (-inf for n = 0). */
float vmax(const float *z, int n);

#endif
