/* adamw.h: the AdamW optimizer (Loshchilov & Hutter) over the flat parameter
 * buffer, with decoupled weight decay on matrices only (2-D parameters: linear
 * weights and embeddings), never on norms or biases.
 *
 * update per element: m = b1 m + (1-b1) g ; v = b2 v + (1-b2) g^2 ;
 *   p -= lr * ( m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps) + wd * p )   [wd on matrices]
 * Elementwise, so any split over threads gives identical bytes. */
#ifndef DK_TRAIN_ADAMW_H
#define DK_TRAIN_ADAMW_H

#include <stddef.h>

#include "model/params.h"
#include "util/pool.h"

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
} adamw_cfg;

/* The usual defaults for LLM pretraining: b1 0.9, b2 0.95, eps 1e-8, wd 0.1. */
adamw_cfg adamw_defaults(float lr);

/* One step (t >= 1) on the elements [begin, end) of the buffers laid out as l
 * (a shard, for ZeRO-1; pass 0 and l->numel for all). params and grads are the full
 * buffers; m and v hold only the shard: m[0] is element `begin`. */
void adamw_step(pool *p, const param_layout *l, float *params, const float *grads, float *m,
                float *v, size_t begin, size_t end, const adamw_cfg *cfg, long t);

#endif
