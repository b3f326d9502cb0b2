/* matmul.h: the fp32 matrix multiply every linear layer runs on.
 *
 *   C[M,N] = beta * C + op(A) * op(B), row-major with leading dimensions;
 *   op(A) = A (stored M x K) or A^T (A stored K x M); op(B) = B (K x N) or B^T (N x K).
 * trans_a and trans_b may carry MM_A_BF16 and MM_B_BF16 (below, with mixed precision).
 * beta is 0 (C is not read: it may hold garbage) or 1. Work is split over blocks of C
 * only, never over K: every element is summed in the same order for any number of
 * threads, so results are bit-identical. */
#ifndef DK_KERNELS_MATMUL_H
#define DK_KERNELS_MATMUL_H

#include "util/pool.h"

typedef struct mm_ctx mm_ctx;

enum { MM_PATH_AUTO = 0, MM_PATH_GENERIC = 1, MM_PATH_REF = 2, MM_PATH_BLAS = 3 };

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

/* Pre-packed weights for inference. A weight W stored (N, K) row-major (a linear
 * layer's y = x W^T) is packed once into the layout the micro-kernel reads: panels
 * of MM_NR output columns, each holding all K rows k-major (panel q, row k at
 * q*K*MM_NR + k*MM_NR). Then a product never packs B again, and a one-token decode
 * streams each panel once from memory front to back. The results are bit-identical
 * to mm_f32(c, 0, 1, M, N, K, A, lda, W, K, beta, C, ldc): the same kernel sums
 * every element in the same order. */
#define MM_NR 32
size_t mm_packed_floats(int N, int K);
void mm_pack_weight(pool *p, float *dst, const float *W, int N, int K);
/* C (M, N) = beta C + A (M, K) W^T with W pre-packed. Small M (decode, short
 * continuations) runs a kernel sized to M rows, threaded over column panels. */
void mm_f32_packed(mm_ctx *c, int M, int N, int K, const float *A, int lda, const float *Wp,
                   float beta, float *C, int ldc);

/* Mixed precision: with bf16 on, mm_f32 and mm_f32_on_thread round both operands to
 * bf16 (nearest even) and accumulate in fp32 with vdpbf16ps (AVX512_BF16), twice the
 * multiply-adds per instruction of fp32 FMA. Each product then carries a relative
 * error of about 2^-8 per operand (tests/test_kernels.c states the bound it checks);
 * results stay bit-identical across thread counts. Pre-packed (inference) products
 * stay fp32. Without AVX512_BF16 (or on a lower kernel path) the operands are rounded
 * to bf16 as they are packed (or were rounded by the caller: MM_A_BF16 below) and
 * the fp32 kernels multiply them: the same semantics, bit-identical to the fp32 chain
 * on rounded operands, a training step within 1-2 % of fp32's speed (docs/model.md).
 * on == MM_BF16_EMULATED asks for that emulation on every path, also where the CPU
 * has AVX512_BF16 (to test it, or to compare it with the instructions).
 * mm_ctx_set_bf16 returns -1 only when its buffers cannot be allocated. */
#define MM_BF16_EMULATED 2
int mm_bf16_supported(void);
int mm_ctx_set_bf16(mm_ctx *c, int on);
/* Nonzero when c's bf16 products run emulated, rounding their operands as they pack
 * them. A caller can then round an operand once where it is made (mm_round_bf16), if
 * nothing but products reads it, and pass trans_a | MM_A_BF16 or trans_b | MM_B_BF16:
 * the product does not round it again, and reads A stored M x K in place as fp32 does
 * instead of packing it for every block of columns. The bits are the same (rounding is
 * idempotent). The flags change nothing in fp32 or vdpbf16ps products. */
#define MM_A_BF16 2
#define MM_B_BF16 2
int mm_ctx_bf16_emulated(const mm_ctx *c);
/* Rounds n floats to bf16 in place (nearest even), over p's threads, or on the calling
 * thread when p is NULL: the rounding of emulated products. */
void mm_round_bf16(pool *p, float *x, size_t n);

/* The plain triple loop, kept for tests. */
void mm_f32_ref(int trans_a, int trans_b, int M, int N, int K, const float *A, int lda,
                const float *B, int ldb, float beta, float *C, int ldc);

/* The matmul path is the caller's choice, made once before the first product (the
 * CLI maps DOKJA_MATMUL=blas|generic|ref through mm_path_from_name at start-up; tests
 * and benchmarks call mm_set_path). The default, MM_PATH_AUTO, runs the kernel path of
 * kernels/isa.h. MM_PATH_BLAS is cblas_sgemm, for comparison only (its results depend
 * on the thread count): it exists in builds made with `make BLAS=openblas`.
 * mm_path_from_name: "generic", "ref" or (in such builds) "blas"; any other name, or
 * NULL, is MM_PATH_AUTO. mm_path_name: the name of the path in use. */
void mm_set_path(int path);
int mm_path_from_name(const char *name);
const char *mm_path_name(void);
/* bf16 products run on AMX where the CPU has it and the kernel grants the tile state
 * (default); mm_set_amx(0), before the first bf16 product, keeps them on the
 * AVX512_BF16 kernel (the CLI: DOKJA_NO_AMX=1). */
void mm_set_amx(int allowed);

#endif
