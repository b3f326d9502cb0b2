/* adamw.c: decoupled-weight-decay Adam over the flat parameter buffer (decay on matrices only). */
#include "train/adamw.h"

#include <math.h>

#include "kernels/kern_ops.h"

adamw_cfg adamw_defaults(float lr)
{
    adamw_cfg c = {lr, 0.9f, 0.95f, 1e-8f, 0.1f};
    return c;
}

/* The update of one element, in this order, each operation rounded (no contraction):
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g g;
 *   p -= lr ((m / c1) / (sqrt(v / c2) + eps) + wd p)
 * Every kernel path runs exactly these operations, vector lanes at a time (kern_ops.h),
 * so the bits are the same on every CPU (the scalar loop had run at a quarter of the
 * memory bandwidth: 4-7 % of a training step). */
static void seg_update(void *vc, size_t b, size_t e) { kern()->adamw(vc, b, e); }

void adamw_step(pool *p, const param_layout *l, float *params, const float *grads, float *m,
                float *v, size_t begin, size_t end, const adamw_cfg *cfg, long t)
{
    float c1 = 1.0f - (float)pow(cfg->beta1, (double)t);
    float c2 = 1.0f - (float)pow(cfg->beta2, (double)t);
    for (size_t i = 0; i < l->n_info; i++) {
        const param_info *pi = &l->info[i];
        size_t b = pi->offset > begin ? pi->offset : begin;
        size_t e = pi->offset + pi->numel < end ? pi->offset + pi->numel : end;
        if (b >= e)
            continue;
        kern_adamw c = {params + b, m + (b - begin), v + (b - begin), grads + b, cfg->lr, cfg->beta1, cfg->beta2,
                     cfg->eps, pi->ndim == 2 ? cfg->weight_decay : 0.0f, c1, c2};
        pool_for_range(p, e - b, 1 << 15, seg_update, &c);
    }
}
