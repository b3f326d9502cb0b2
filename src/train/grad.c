/* grad.c */
#include "train/grad.h"

#include <math.h>

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

void grad_block_sumsq(pool *p, const float *g, size_t n, double *partial)
{
    grad_ctx c = {g, NULL, n, partial, 0};
    pool_for(p, (n + GRAD_BLOCK - 1) / GRAD_BLOCK, block_sumsq, &c);
}

double grad_sumsq(pool *p, const float *g, size_t n)
{
    /* The blocks go in rounds of up to 256 (their partial sums on the stack) and the
     * partials are added in block order: the sum of a single pass over all blocks, with
     * no allocation (a failed one had returned NaN, a norm that clipped nothing). */
    enum { ROUND = 256 };
    size_t nb = (n + GRAD_BLOCK - 1) / GRAD_BLOCK;
    double partial[ROUND], s = 0;
    for (size_t b0 = 0; b0 < nb; b0 += ROUND) {
        size_t m = nb - b0 < ROUND ? nb - b0 : ROUND;
        size_t b = b0 * GRAD_BLOCK, e = b + m * GRAD_BLOCK < n ? b + m * GRAD_BLOCK : n;
        grad_block_sumsq(p, g + b, e - b, partial);
        for (size_t i = 0; i < m; i++)
            s += partial[i];
    }
    return s;
}

static void scale_range(void *vc, size_t b, size_t e)
{
    grad_ctx *c = vc;
    for (size_t i = b; i < e; i++)
        c->gw[i] *= c->scale;
}

void grad_clip_part(pool *p, float *g, size_t n, double norm, double max_norm)
{
    if (max_norm > 0 && norm > max_norm) {
        grad_ctx c = {g, g, n, NULL, (float)(max_norm / (norm + 1e-6))};
        pool_for_range(p, n, GRAD_BLOCK, scale_range, &c);
    }
}

double grad_clip(pool *p, float *g, size_t n, double max_norm)
{
    double norm = sqrt(grad_sumsq(p, g, n));
    grad_clip_part(p, g, n, norm, max_norm);
    return norm;
}
