/* matmul.h: the fp32 matrix multiply every linear layer runs on.
 *
 *   C[M,N] = beta * C + op(A) * op(B), row-major with leading dimensions;
 *   op(A) = A (stored M x K) or A^T (A stored K x M); op(B) = B (K x N) or B^T (N x K).
 * beta is 0 (C is not read: it may hold garbage) or 1. Work is split over blocks of C
 * only, never over K: every element is summed in the same order for any number of
 * threads, so results are bit-identical. */
#ifndef DK_KERNELS_MATMUL_H
#define DK_KERNELS_MATMUL_H

#include "util/pool.h"

typedef struct mm_ctx mm_ctx;

enum { MM_PATH_AUTO = 0, MM_PATH_GENERIC = 1, MM_PATH_REF = 2 };

/* Per-thread packing buffers, allocated once (training calls mm_f32 thousands of
 * times a second). */
mm_ctx *mm_ctx_new(pool *p);
void mm_ctx_free(mm_ctx *c);

void mm_f32(mm_ctx *c, int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
            const float *B, int ldb, float beta, float *C, int ldc);
/* The same product computed entirely on the calling thread, with the packing
 * buffers of pool thread `thread`: for callers that are themselves inside a
 * pool_for task (e.g. attention, one task per head). */
void mm_f32_on_thread(mm_ctx *c, int thread, int trans_a, int trans_b, int M, int N, int K,
                      const float *A, int lda, const float *B, int ldb, float beta, float *C,
                      int ldc);

/* The plain triple loop, kept for tests. */
void mm_f32_ref(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc);

/* Force a path (tests, benchmarks); the name of the path in use. */
void mm_set_path(int path);
const char *mm_path_name(void);

#endif
