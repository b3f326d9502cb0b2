/* pool.c: a worker pool with a shared task counter. Between jobs a worker spins
 * briefly (about 50 us of pause instructions), then sleeps on a condition variable:
 * decoding a token runs some 150 small jobs, and a futex wake-up per job cost a third
 * of its time on 2 threads; a longer idle still costs no CPU. */
#include "util/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

#define SPIN_ROUNDS 2000

/* The two hand-offs are Dekker patterns: each side stores its flag, then loads the
 * other's (publisher: generation, then sleepers; sleeper: sleepers, then generation;
 * and busy against caller_waiting). Sequentially consistent atomics order them in C11,
 * but under qemu-user emulating aarch64 on x86-64 the store could pass the load and
 * both sides miss each other: a caller waiting on `done` forever while its worker
 * slept on `wake` (seen as a hang of the emulated tests). An explicit full fence
 * between the store and the load is translated into a host fence; natively it costs
 * a few nanoseconds per job. */

struct pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    atomic_ulong generation;  /* bumped per job; workers wait for a change */
    atomic_int stopping;
    atomic_int busy;          /* workers still inside the current job */
    atomic_int sleepers;      /* workers blocked on `wake` */
    atomic_int caller_waiting; /* the caller is blocked on `done` */
    pool_fn fn;
    void *ctx;
    size_t n_tasks;
    atomic_size_t next;
};

typedef struct {
    pool *p;
    int index;
} worker_arg;

static void run_tasks(pool *p, int thread)
{
    for (;;) {
        size_t t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (t >= p->n_tasks)
            break;
        p->fn(p->ctx, t, thread);
    }
}

static void *worker_main(void *arg)
{
    worker_arg *wa = arg;
    pool *p = wa->p;
    int index = wa->index;
    free(wa);
    unsigned long seen = 0;
    for (;;) {
        for (int i = 0; i < SPIN_ROUNDS && atomic_load(&p->generation) == seen &&
                        !atomic_load(&p->stopping);
             i++)
            cpu_relax();
        if (atomic_load(&p->generation) == seen && !atomic_load(&p->stopping)) {
            /* sleep: `sleepers` is raised before the last look at generation, under the
             * mutex the publisher takes before broadcasting, so no wake-up is lost */
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            atomic_thread_fence(memory_order_seq_cst); /* the Dekker fence (top of the file) */
            while (!atomic_load(&p->stopping) && atomic_load(&p->generation) == seen)
                pthread_cond_wait(&p->wake, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stopping))
            break;
        seen = atomic_load(&p->generation);
        run_tasks(p, index);
        int last = atomic_fetch_sub(&p->busy, 1) == 1;
        atomic_thread_fence(memory_order_seq_cst);
        if (last && atomic_load(&p->caller_waiting)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

int pool_cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

pool *pool_new(int n_threads)
{
    if (n_threads <= 0)
        n_threads = pool_cpu_count();
    pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->n_threads = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    atomic_init(&p->generation, 0);
    atomic_init(&p->stopping, 0);
    atomic_init(&p->busy, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_waiting, 0);
    p->threads = calloc((size_t)n_threads, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return NULL;
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa || (wa->p = p, wa->index = i,
                    pthread_create(&p->threads[i], NULL, worker_main, wa) != 0)) {
            free(wa);
            p->n_threads = i; /* free only the workers that started */
            pool_free(p);
            return NULL;
        }
    }
    return p;
}

void pool_free(pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stopping, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}

int pool_threads(const pool *p) { return p ? p->n_threads : 1; }

void pool_for(pool *p, size_t n_tasks, pool_fn fn, void *ctx)
{
    if (!p || p->n_threads == 1 || n_tasks <= 1) {
        for (size_t t = 0; t < n_tasks; t++)
            fn(ctx, t, 0);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0);
    atomic_store(&p->busy, p->n_threads - 1);
    atomic_fetch_add(&p->generation, 1); /* publishes the job (seq_cst) */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    run_tasks(p, 0);
    for (int i = 0; i < SPIN_ROUNDS && atomic_load(&p->busy) > 0; i++)
        cpu_relax();
    if (atomic_load(&p->busy) > 0) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->caller_waiting, 1);
        atomic_thread_fence(memory_order_seq_cst);
        while (atomic_load(&p->busy) > 0)
            pthread_cond_wait(&p->done, &p->mu);
        atomic_store(&p->caller_waiting, 0);
        pthread_mutex_unlock(&p->mu);
    }
}

typedef struct {
    size_t n, grain;
    pool_range_fn fn;
    void *ctx;
} range_job;

static void range_task(void *vctx, size_t task, int thread)
{
    (void)thread;
    range_job *j = vctx;
    size_t b = task * j->grain, e = b + j->grain < j->n ? b + j->grain : j->n;
    j->fn(j->ctx, b, e);
}

void pool_for_range(pool *p, size_t n, size_t grain, pool_range_fn fn, void *ctx)
{
    if (n == 0)
        return;
    if (grain == 0)
        grain = 1;
    range_job j = {n, grain, fn, ctx};
    pool_for(p, (n + grain - 1) / grain, range_task, &j);
}
