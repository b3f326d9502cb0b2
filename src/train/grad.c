/* grad.c */
#include "train/grad.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    const float *g;
    float *gw;
    size_t n;
    double *partial;
    float scale;
} grad_ctx;

static void block_sumsq(void *vc, size_t blk, int th)
{
    (void)th;
    grad_ctx *c = vc;
    size_t b = blk * GRAD_BLOCK, e = b + GRAD_BLOCK < c->n ? b + GRAD_BLOCK : c->n;
    double s = 0;
    for (size_t i = b; i < e; i++)
        s += (double)c->g[i] * c->g[i];
    c->partial[blk] = s;
}

double grad_sumsq(pool *p, const float *g, size_t n)
{
    size_t nb = (n + GRAD_BLOCK - 1) / GRAD_BLOCK;
    double stack[256], *partial = nb <= 256 ? stack : malloc(nb * sizeof *partial);
    if (!partial)
        return NAN;
    grad_ctx c = {g, NULL, n, partial, 0};
    pool_for(p, nb, block_sumsq, &c);
    double s = 0;
    for (size_t i = 0; i < nb; i++)
        s += partial[i];
    if (partial != stack)
        free(partial);
    return s;
}

static void scale_range(void *vc, size_t b, size_t e)
{
    grad_ctx *c = vc;
    for (size_t i = b; i < e; i++)
        c->gw[i] *= c->scale;
}

double grad_clip(pool *p, float *g, size_t n, double max_norm)
{
    double norm = sqrt(grad_sumsq(p, g, n));
    if (max_norm > 0 && norm > max_norm) {
        grad_ctx c = {g, g, n, NULL, (float)(max_norm / (norm + 1e-6))};
        pool_for_range(p, n, GRAD_BLOCK, scale_range, &c);
    }
    return norm;
}
