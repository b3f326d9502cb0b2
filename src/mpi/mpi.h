/* mpi.h: data parallelism over Open MPI, behind a small interface. The functions are
 * named dist_ for what they do (distributed training); the folder is named for how.
 *
 * A process started by mpirun is one rank of R; a process started alone is rank 0
 * of 1 and never touches MPI beyond initialisation. Only `dokja train` initialises
 * it (dist_init), so other commands do not pay for MPI.
 *
 * Nothing here adds floats: every sum over ranks is the caller's, in the caller's order
 * (train/step.c), so results do not depend on the library's reduction algorithms. */
#ifndef DK_MPI_MPI_H
#define DK_MPI_MPI_H

#include <stddef.h>

#include "util/err.h"

int dist_init(int *argc, char ***argv, dk_err *err);
void dist_finalize(void);
int dist_rank(void);
int dist_size(void);

/* Shards begin at multiples of DIST_SHARD_ALIGN elements, so a computation over fixed
 * blocks whose size divides it (the gradient norm's GRAD_BLOCK, train/grad.h) finds each
 * block whole on one rank. */
#define DIST_SHARD_ALIGN ((size_t)65536)

/* The shard of [0, n) owned by `rank` of `size`: contiguous, in rank order, beginning at
 * a multiple of DIST_SHARD_ALIGN, sizes differing by at most DIST_SHARD_ALIGN. When n is
 * below size x DIST_SHARD_ALIGN the first ranks own nothing (begin == end). */
void dist_shard(size_t n, int rank, int size, size_t *begin, size_t *end);

/* Rank r holds x[begin_r, end_r) of a length-n buffer split by dist_shard; afterwards
 * every rank holds all of x. */
void dist_allgather_shards(float *x, size_t n);
/* Rank 0 receives every rank's shard (`mine`, dist_shard's part of a length-n
 * buffer) into full (n floats, only used on rank 0). */
void dist_gather_shards(const float *mine, float *full, size_t n);
/* Rank r has filled all[r x count, (r + 1) x count); afterwards every rank holds all
 * size x count values. */
void dist_allgather_f64(double *all, size_t count);
/* x holds one value per block of `block` elements of a length-n buffer (ceil(n / block)
 * values; block divides DIST_SHARD_ALIGN); rank r has filled those of the blocks of its
 * shard. Afterwards every rank holds all of them. */
void dist_allgather_blocks_f64(double *x, size_t n, size_t block);
/* The same OR of a flag over ranks (e.g. "my step failed"). */
int dist_any(int flag);

/* A reduce-scatter without the reduction, in rounds: in each round every rank has a
 * length-n buffer x, and the owner of each shard (dist_shard) receives every rank's copy
 * of its shard, to add them up itself in an order it chooses (MPI_Reduce_scatter's
 * order is the library's). Sends start as soon as the caller marks parts of x final, so
 * they overlap the computation of the rest. Each part goes in messages over a fixed
 * grid of the owner's shard, so the owner can post its receives before anything is
 * final. One object per buffer length; on one rank it only hands back x. */
typedef struct dist_scatter dist_scatter;
int dist_scatter_new(dist_scatter **out, size_t n, dk_err *err);
void dist_scatter_free(dist_scatter *s);
/* Starts a round on x (n floats): posts the receives. x must not change from the
 * moment a part of it is marked final until dist_scatter_end. */
void dist_scatter_begin(dist_scatter *s, const float *x);
/* x[offset, offset + numel) is final: sends the messages it completes (the shape of a
 * model_grad_hook, model/model.h). */
void dist_scatter_ready(dist_scatter *s, size_t offset, size_t numel);
/* Ends the round (all of x is final now: what was not sent goes now) and waits for it:
 * slices[r], for every rank r, is rank r's copy of this rank's shard (its own in x),
 * valid until the next dist_scatter_begin. */
void dist_scatter_end(dist_scatter *s, const float **slices);

#endif
