/* vexp.c: see vexp.h. The kernels are the path's (kern_ops.h); this file is the
 * interface the model code calls. */
#include "kernels/vexp.h"

#include "kernels/kern_ops.h"

double vexp_sum(const float *z, int n, float shift) { return kern()->exp_sum(NULL, z, n, shift); }

void vexp_scale(float *z, int n, double shift, float scale) { kern()->exp_scale(z, n, shift, scale); }

double vexp_inplace(float *z, int n, float shift) { return kern()->exp_sum(z, z, n, shift); }

float vmax(const float *z, int n) { return kern()->max(z, n); }

void vswiglu(float *out, const float *g, const float *u, size_t n) { kern()->swiglu(out, g, u, n); }

void vswiglu_backward(float *dg, float *du, const float *dy, const float *g, const float *u, size_t n)
{
    kern()->swiglu_bwd(dg, du, dy, g, u, n);
}
