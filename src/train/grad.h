/* grad.h: global gradient-norm clipping over the flat gradient buffer.
 *
 * The norm is summed in double over fixed 64 Ki-element blocks whose partial sums are
 * added in block order: the same bits for any thread count and any split of the buffer
 * over ranks, since blocks are aligned to the buffer, not to a rank (a rank's shard
 * begins at a block boundary, mpi/mpi.h, and computes its blocks' partials). */
#ifndef DK_TRAIN_GRAD_H
#define DK_TRAIN_GRAD_H

#include <stddef.h>

#include "util/pool.h"

/* Sum of squares of g[0..n), block by block. */
#define GRAD_BLOCK 65536
double grad_sumsq(pool *p, const float *g, size_t n);

/* The sum of squares of each block of g[0..n) into partial[0 .. ceil(n / GRAD_BLOCK)),
 * g starting at a block boundary of the whole buffer: grad_sumsq is these partials
 * added in block order from 0. */
void grad_block_sumsq(pool *p, const float *g, size_t n, double *partial);

/* Scales g so its norm is at most max_norm (if max_norm > 0); returns the norm
 * before clipping. */
double grad_clip(pool *p, float *g, size_t n, double max_norm);

/* grad_clip's scaling for a part g[0..n) of a buffer whose whole norm is `norm`. */
void grad_clip_part(pool *p, float *g, size_t n, double norm, double max_norm);

#endif
