/* peak.c: the FMA peak loop. */
#include "kernels/kern_ops.h"
#include "kernels/peak.h"

#include <stdlib.h>

#include "util/progress.h"

typedef struct {
    long iters;
    const kern_ops *k;
    double sink;
} peak_ctx;

static void peak_task(void *vc, size_t task, int thread)
{
    (void)task;
    (void)thread;
    peak_ctx *c = vc;
    double s = c->k->fma_loop(c->iters);
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
    /* The peak of the vector path in use; for the generic path the best vector path's,
     * the machine's peak that portable code is measured against. */
    dk_isa path = isa_current() == DK_ISA_GENERIC ? isa_best() : isa_current();
    peak_ctx c = {1000, kern_of(path), 0};
    if (isa)
        *isa = isa_name(path);
    int nt = pool_threads(p);
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
        r[k] = (double)c.k->fma_flops * (double)c.iters * nt / dt / 1e9;
    }
    qsort(r, 5, sizeof r[0], cmp_double);
    return r[4]; /* a register-only loop: the machine's noise can only slow it down */
}
