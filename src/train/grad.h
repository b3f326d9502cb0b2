/* grad.h: global gradient-norm clipping over the flat gradient buffer.
 *
 * The norm is summed in double over fixed 64 Ki-element blocks whose partial sums are
 * added in block order: the same bits for any thread count (and, later, any split of
 * the buffer over ranks, since blocks are aligned to the buffer, not to a rank). */
#ifndef DK_TRAIN_GRAD_H
#define DK_TRAIN_GRAD_H

#include <stddef.h>

#include "util/pool.h"

/* Sum of squares of g[0..n), block by block. */
#define GRAD_BLOCK 65536
double grad_sumsq(pool *p, const float *g, size_t n);

/* Scales g so its norm is at most max_norm (if max_norm > 0); returns the norm
 * before clipping. */
double grad_clip(pool *p, float *g, size_t n, double max_norm);

#endif
