/* matmul.c: fp32 GEMM, C = beta C + op(A) op(B), row-major, packed and cache-blocked
 * with an AVX-512 8x32 micro-kernel (16 accumulators), an AVX2 8x16 fallback and a
 * plain reference. Work is split over blocks of C only, never over K, so results
 * are bit-identical for any thread count. */
#include "kernels/matmul.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define MR 8
#define NR 32
#define KC 256   /* K block: an A micro-panel (8 x 256 x 4 = 8 KiB) + B micro-panel (32 KiB) fit L1/L2 */
#define MC 128   /* rows of C per task: A block 128 x 256 x 4 = 128 KiB in L2 */
#define NC 512   /* columns of C per task: B block 256 x 512 x 4 = 512 KiB in L2 */
#define MT 512   /* rows of C per task: each packed B block serves MT / MC A blocks */

struct mm_ctx {
    pool *p;
    int nt;
    float **apack, **bpack; /* per thread */
};

static int g_path = MM_PATH_AUTO;

void mm_set_path(int path) { g_path = path; }

static int have_avx512(void)
{
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") != 0;
    }
    return cached;
}

const char *mm_path_name(void)
{
    if (g_path == MM_PATH_REF)
        return "ref";
    return have_avx512() ? "avx512" : "generic";
}

mm_ctx *mm_ctx_new(pool *p)
{
    mm_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->p = p;
    c->nt = pool_threads(p);
    c->apack = calloc((size_t)c->nt, sizeof *c->apack);
    c->bpack = calloc((size_t)c->nt, sizeof *c->bpack);
    if (!c->apack || !c->bpack) {
        mm_ctx_free(c);
        return NULL;
    }
    for (int i = 0; i < c->nt; i++) {
        c->apack[i] = aligned_alloc(64, (size_t)MC * KC * sizeof(float));
        c->bpack[i] = aligned_alloc(64, (size_t)NC * KC * sizeof(float));
        if (!c->apack[i] || !c->bpack[i]) {
            mm_ctx_free(c);
            return NULL;
        }
    }
    return c;
}

void mm_ctx_free(mm_ctx *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nt; i++) {
        if (c->apack)
            free(c->apack[i]);
        if (c->bpack)
            free(c->bpack[i]);
    }
    free(c->apack);
    free(c->bpack);
    free(c);
}

void mm_f32_ref(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B,
                int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = 0;
            for (int k = 0; k < K; k++)
                s += (ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]) *
                     (tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
            C[(size_t)i * ldc + j] = beta == 0 ? s : C[(size_t)i * ldc + j] + s;
        }
}

/* The transposing packs with AVX-512 gathers: one instruction collects a column of
 * 8 (A) or 16 (B) rows for one k, instead of 8 or 16 scalar moves. Offsets are int32:
 * row strides up to 2^31 / 32 floats. */
__attribute__((target("avx512f"))) static void pack_a_gather(float *dst, const float *src,
                                                              int lda, int kc)
{
    __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(lda));
    for (int k = 0; k < kc; k++)
        _mm256_storeu_ps(dst + (size_t)k * MR, _mm256_i32gather_ps(src + k, idx, 4));
}

__attribute__((target("avx512f"))) static void pack_b_gather(float *dst, const float *src,
                                                              int ldb, int kc)
{
    __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                     _mm512_set1_epi32(ldb));
    const float *hi = src + (size_t)16 * ldb;
    for (int k = 0; k < kc; k++) {
        _mm512_storeu_ps(dst + (size_t)k * NR, _mm512_i32gather_ps(idx, src + k, 4));
        _mm512_storeu_ps(dst + (size_t)k * NR + 16, _mm512_i32gather_ps(idx, hi + k, 4));
    }
}

/* Packs rows [i0, i0+mc) x k [k0, k0+kc) of op(A) into MR-row micro-panels:
 * panel p holds, for each k, MR consecutive values (zero-padded past M). */
static void pack_a(float *dst, int ta, const float *A, int lda, int i0, int mc, int k0, int kc)
{
    for (int ip = 0; ip < mc; ip += MR, dst += (size_t)MR * kc) {
        int mr = mc - ip < MR ? mc - ip : MR;
        if (ta) { /* A stored K x M: row k of the panel is contiguous in A */
            for (int k = 0; k < kc; k++) {
                const float *src = A + (size_t)(k0 + k) * lda + i0 + ip;
                for (int r = 0; r < mr; r++)
                    dst[(size_t)k * MR + r] = src[r];
                for (int r = mr; r < MR; r++)
                    dst[(size_t)k * MR + r] = 0;
            }
        } else if (mr == MR && have_avx512()) { /* A stored M x K: gather a column */
            pack_a_gather(dst, A + (size_t)(i0 + ip) * lda + k0, lda, kc);
        } else { /* A stored M x K: read each row along k */
            for (int r = 0; r < MR; r++) {
                const float *src = A + (size_t)(i0 + ip + r) * lda + k0;
                for (int k = 0; k < kc; k++)
                    dst[(size_t)k * MR + r] = r < mr ? src[k] : 0;
            }
        }
    }
}

/* Packs columns [j0, j0+nc) x k [k0, k0+kc) of op(B) into NR-column micro-panels:
 * panel q holds, for each k, NR consecutive values (zero-padded past N). Each case
 * reads B along its rows. */
static void pack_b(float *dst, int tb, const float *B, int ldb, int j0, int nc, int k0, int kc)
{
    for (int jp = 0; jp < nc; jp += NR, dst += (size_t)NR * kc) {
        int nr = nc - jp < NR ? nc - jp : NR;
        if (!tb) {
            for (int k = 0; k < kc; k++) {
                const float *src = B + (size_t)(k0 + k) * ldb + j0 + jp;
                if (nr == NR)
                    memcpy(dst + (size_t)k * NR, src, NR * sizeof(float));
                else
                    for (int c = 0; c < NR; c++)
                        dst[(size_t)k * NR + c] = c < nr ? src[c] : 0;
            }
        } else if (nr == NR && have_avx512()) { /* B stored N x K: gather a column */
            pack_b_gather(dst, B + (size_t)(j0 + jp) * ldb + k0, ldb, kc);
        } else { /* B stored N x K */
            for (int c = 0; c < NR; c++) {
                const float *src = B + (size_t)(j0 + jp + c) * ldb + k0;
                for (int k = 0; k < kc; k++)
                    dst[(size_t)k * NR + c] = c < nr ? src[k] : 0;
            }
        }
    }
}

/* C[mr x nr] (+)= Apanel (kc x MR) * Bpanel (kc x NR). first: overwrite (beta 0 and
 * first K block) instead of accumulate. */
__attribute__((target("avx512f"))) static void kernel_avx512(int kc, const float *a,
                                                              const float *b, float *C, int ldc,
                                                              int mr, int nr, int first)
{
    __m512 c[MR][2];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
        c[r][0] = c[r][1] = _mm512_setzero_ps();
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_set1_ps(a[r]);
            c[r][0] = _mm512_fmadd_ps(av, b0, c[r][0]);
            c[r][1] = _mm512_fmadd_ps(av, b1, c[r][1]);
        }
        a += MR;
        b += NR;
    }
    __mmask16 m0 = nr >= 16 ? 0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
    for (int r = 0; r < mr; r++) {
        float *cr = C + (size_t)r * ldc;
        if (!first) {
            c[r][0] = _mm512_add_ps(c[r][0], _mm512_maskz_loadu_ps(m0, cr));
            c[r][1] = _mm512_add_ps(c[r][1], _mm512_maskz_loadu_ps(m1, cr + 16));
        }
        _mm512_mask_storeu_ps(cr, m0, c[r][0]);
        _mm512_mask_storeu_ps(cr + 16, m1, c[r][1]);
    }
}

static void kernel_generic(int kc, const float *a, const float *b, float *C, int ldc, int mr,
                           int nr, int first)
{
    float c[MR][NR] = {{0}};
    for (int k = 0; k < kc; k++) {
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++)
                c[r][j] += a[r] * b[j];
        a += MR;
        b += NR;
    }
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++)
            C[(size_t)r * ldc + j] = first ? c[r][j] : C[(size_t)r * ldc + j] + c[r][j];
}

typedef struct {
    mm_ctx *c;
    int ta, tb, M, N, K, lda, ldb, ldc;
    const float *A, *B;
    float *C;
    float beta;
    int tiles_n; /* tiles along N */
    int avx512;
} job;

/* One task = one MT x NC block of C, over all of K in KC steps (a fixed order). For
 * each K step the task packs its B block once and reuses it for every MC-row block
 * of A inside the task: packing, not arithmetic, is what limits small reuse. */
static void block_task(void *vj, size_t task, int th)
{
    job *j = vj;
    int ti = (int)(task / (size_t)j->tiles_n), tj = (int)(task % (size_t)j->tiles_n);
    int i0 = ti * MT, j0 = tj * NC;
    int mt = j->M - i0 < MT ? j->M - i0 : MT, nc = j->N - j0 < NC ? j->N - j0 : NC;
    float *ap = j->c->apack[th], *bp = j->c->bpack[th];
    if (j->K == 0) {
        for (int r = 0; r < mt; r++)
            for (int q = 0; q < nc; q++) {
                float *x = &j->C[(size_t)(i0 + r) * j->ldc + j0 + q];
                *x = j->beta == 0 ? 0 : *x;
            }
        return;
    }
    for (int k0 = 0; k0 < j->K; k0 += KC) {
        int kc = j->K - k0 < KC ? j->K - k0 : KC;
        int first = k0 == 0 && j->beta == 0;
        pack_b(bp, j->tb, j->B, j->ldb, j0, nc, k0, kc);
        for (int i1 = 0; i1 < mt; i1 += MC) {
            int mc = mt - i1 < MC ? mt - i1 : MC;
            pack_a(ap, j->ta, j->A, j->lda, i0 + i1, mc, k0, kc);
            for (int jp = 0; jp < nc; jp += NR)
                for (int ip = 0; ip < mc; ip += MR) {
                    int mr = mc - ip < MR ? mc - ip : MR, nr = nc - jp < NR ? nc - jp : NR;
                    float *cp = j->C + (size_t)(i0 + i1 + ip) * j->ldc + j0 + jp;
                    const float *a = ap + (size_t)ip * kc, *b = bp + (size_t)jp * kc;
                    if (j->avx512)
                        kernel_avx512(kc, a, b, cp, j->ldc, mr, nr, first);
                    else
                        kernel_generic(kc, a, b, cp, j->ldc, mr, nr, first);
                }
        }
    }
}

/* Sets up the block job of one product; returns the number of blocks, or 0 when the
 * reference path ran it already (or there is nothing to do). */
static size_t job_init(job *j, mm_ctx *c, int ta, int tb, int M, int N, int K, const float *A,
                       int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return 0;
    if (g_path == MM_PATH_REF) {
        mm_f32_ref(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
        return 0;
    }
    *j = (job){c, ta, tb, M, N, K, lda, ldb, ldc, A, B, C, beta, (N + NC - 1) / NC,
               have_avx512() && g_path != MM_PATH_GENERIC};
    return (size_t)((M + MT - 1) / MT) * (size_t)j->tiles_n;
}

void mm_f32(mm_ctx *c, int ta, int tb, int M, int N, int K, const float *A, int lda,
            const float *B, int ldb, float beta, float *C, int ldc)
{
    job j;
    size_t tasks = job_init(&j, c, ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    if (tasks)
        pool_for(c->p, tasks, block_task, &j);
}

void mm_f32_on_thread(mm_ctx *c, int thread, int ta, int tb, int M, int N, int K, const float *A,
                      int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    job j;
    size_t tasks = job_init(&j, c, ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    for (size_t t = 0; t < tasks; t++) /* the same blocks, in order: same bits as mm_f32 */
        block_task(&j, t, thread);
}
