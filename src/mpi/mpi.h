/* mpi.h: data parallelism over Open MPI, behind a small interface. The functions are
 * named dist_ for what they do (distributed training); the folder is named for how.
 *
 * A process started by mpirun is one rank of R; a process started alone is rank 0
 * of 1 and never touches MPI beyond initialisation. Only `dokja train` initialises
 * it (dist_init), so other commands do not pay for MPI. */
#ifndef DK_MPI_MPI_H
#define DK_MPI_MPI_H

#include <stddef.h>

#include "util/err.h"

int dist_init(int *argc, char ***argv, dk_err *err);
void dist_finalize(void);
int dist_rank(void);
int dist_size(void);

/* In-place sum over ranks (every rank gets the result). */
void dist_allreduce_sum_f64(double *x, size_t n);
/* Non-blocking sum of x[0..n) over ranks, started now and finished by dist_wait_all;
 * x must not be touched in between. dist_progress lets MPI move started reductions
 * along (Open MPI progresses them only inside MPI calls). For overlapping the
 * gradient reduction with the rest of the backward pass. */
void dist_iallreduce_sum_f32(float *x, size_t n);
void dist_progress(void);
void dist_wait_all(void);
/* Rank r holds x[begin_r, end_r) of a length-n buffer split by dist_shard; afterwards
 * every rank holds all of x. */
void dist_allgather_shards(float *x, size_t n);
/* Rank 0 receives every rank's shard (`mine`, dist_shard's part of a length-n
 * buffer) into full (n floats, only used on rank 0). */
void dist_gather_shards(const float *mine, float *full, size_t n);
/* The same OR of a flag over ranks (e.g. "my step failed"). */
int dist_any(int flag);

/* The shard of [0, n) owned by `rank` of `size`: contiguous, sizes differing by <= 1. */
void dist_shard(size_t n, int rank, int size, size_t *begin, size_t *end);

#endif
