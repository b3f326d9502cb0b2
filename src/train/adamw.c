/* adamw.c */
#include "train/adamw.h"

#include <math.h>

adamw_cfg adamw_defaults(float lr)
{
    adamw_cfg c = {lr, 0.9f, 0.95f, 1e-8f, 0.1f};
    return c;
}

typedef struct {
    float *p, *m, *v;
    const float *g;
    float lr, b1, b2, eps, wd, c1, c2;
} seg_ctx;

static void seg_update(void *vc, size_t b, size_t e)
{
    seg_ctx *c = vc;
    for (size_t i = b; i < e; i++) {
        float g = c->g[i];
        float m = c->m[i] = c->b1 * c->m[i] + (1.0f - c->b1) * g;
        float v = c->v[i] = c->b2 * c->v[i] + (1.0f - c->b2) * g * g;
        float upd = (m / c->c1) / (sqrtf(v / c->c2) + c->eps);
        c->p[i] -= c->lr * (upd + c->wd * c->p[i]);
    }
}

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
        seg_ctx c = {params + b, m + (b - begin), v + (b - begin), grads + b, cfg->lr, cfg->beta1, cfg->beta2,
                     cfg->eps, pi->ndim == 2 ? cfg->weight_decay : 0.0f, c1, c2};
        pool_for_range(p, e - b, 1 << 15, seg_update, &c);
    }
}
