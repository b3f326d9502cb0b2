/* pool.h: the one thread pool. Workers sleep on a condition variable between jobs
 * (no busy-waiting: two cores are shared with everything else), and a job is a
 * parallel-for over task indices that the workers and the caller take from an
 * atomic counter.
 *
 * Determinism is the caller's job and is easy: make what task i computes depend
 * only on i, never on which thread ran it or in what order. */
#ifndef DK_UTIL_POOL_H
#define DK_UTIL_POOL_H

#include <stddef.h>

typedef struct pool pool;

/* fn(ctx, task, thread): thread is in [0, pool_threads) and may index
 * per-thread scratch; task is in [0, n_tasks). */
typedef void (*pool_fn)(void *ctx, size_t task, int thread);

/* Creates a pool of n_threads (the caller counts as one: n_threads - 1 workers).
 * n_threads <= 0 means the number of online CPUs. Returns NULL on failure. */
pool *pool_new(int n_threads);
void pool_free(pool *p);
int pool_threads(const pool *p);

/* Runs fn for every task in [0, n_tasks) and returns when all are done. */
void pool_for(pool *p, size_t n_tasks, pool_fn fn, void *ctx);

/* Runs fn(ctx, begin, end) over [0, n) cut into pieces of `grain` items (the last
 * may be shorter). The pieces depend only on n and grain, not on the thread count. */
typedef void (*pool_range_fn)(void *ctx, size_t begin, size_t end);
void pool_for_range(pool *p, size_t n, size_t grain, pool_range_fn fn, void *ctx);

/* The number of CPUs this process may use. */
int pool_cpu_count(void);

#endif
