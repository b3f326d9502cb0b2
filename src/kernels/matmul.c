/* matmul.c: fp32 GEMM, C = beta C + op(A) op(B), row-major, packed and cache-blocked
 * around an 8 x 32 register tile whose kernels come from the path in use (kern_ops.h:
 * AVX-512, AVX2 or portable C), and a plain reference. Work is split over blocks of C
 * only, never over K, so results are bit-identical for any thread count; every path
 * keeps each element's chain of FMAs, so they are bit-identical across paths too. */
#include "kernels/isa.h"
#include "kernels/kern_ops.h"
#include "kernels/matmul.h"
#include "kernels/mm_internal.h"

#include <stdint.h>
#include <stdlib.h>

#ifdef DK_BLAS
#include <cblas.h>
#endif
#include <string.h>

struct mm_ctx {
    pool *p;
    int nt;
    float **apack, **bpack; /* per thread */
    float *skinny;          /* the A panel of a small-M packed product (MR x K) */
    size_t skinny_cap;
    int bf16;               /* bf16 operands, fp32 accumulation: 0 off, 1 on, MM_BF16_EMULATED */
    uint32_t **abf, **bbf;  /* per thread: the packed panels as bf16 pairs */
};

_Static_assert(MM_NR == NR, "the packed weight layout is the micro-kernel's panel");

static int g_path = MM_PATH_AUTO;

void mm_set_path(int path) { g_path = path; }

const char *mm_path_name(void)
{
    if (g_path == MM_PATH_REF)
        return "ref";
    if (g_path == MM_PATH_BLAS)
        return "blas (cblas_sgemm)";
    if (g_path == MM_PATH_GENERIC)
        return "generic";
    return isa_name(isa_current());
}

int mm_path_from_name(const char *name)
{
    if (!name)
        return MM_PATH_AUTO;
    if (strcmp(name, "generic") == 0)
        return MM_PATH_GENERIC;
    if (strcmp(name, "ref") == 0)
        return MM_PATH_REF;
#ifdef DK_BLAS
    if (strcmp(name, "blas") == 0)
        return MM_PATH_BLAS;
#endif
    return MM_PATH_AUTO;
}

/* The kernel table of a product: the path in use, or the portable one that
 * mm_set_path(MM_PATH_GENERIC) asks for. */
static const kern_ops *path_kernels(void) { return g_path == MM_PATH_GENERIC ? &kern_ops_generic : kern(); }

mm_ctx *mm_ctx_new(pool *p)
{
    mm_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->p = p;
    c->nt = pool_threads(p);
    c->apack = calloc((size_t)c->nt, sizeof *c->apack);
    c->bpack = calloc((size_t)c->nt, sizeof *c->bpack);
    c->abf = calloc((size_t)c->nt, sizeof *c->abf);
    c->bbf = calloc((size_t)c->nt, sizeof *c->bbf);
    if (!c->apack || !c->bpack || !c->abf || !c->bbf) {
        mm_ctx_free(c);
        return NULL;
    }
    for (int i = 0; i < c->nt; i++) {
        c->apack[i] = aligned_alloc(64, (size_t)MC * KC * sizeof(float));
        c->bpack[i] = aligned_alloc(64, (size_t)NC_MAX * KC * sizeof(float));
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
        if (c->abf)
            free(c->abf[i]);
        if (c->bbf)
            free(c->bbf[i]);
    }
    free(c->apack);
    free(c->bpack);
    free(c->abf);
    free(c->bbf);
    free(c->skinny);
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

int mm_bf16_supported(void) { return mmk_have_bf16(); }

int mm_ctx_set_bf16(mm_ctx *c, int on)
{
    c->bf16 = on == MM_BF16_EMULATED ? on : on != 0;
    if (!on || on == MM_BF16_EMULATED || !mmk_have_bf16()) /* emulated (bf16_kind): no pair buffers */
        return 0;
    for (int i = 0; i < c->nt; i++) {
        if (!c->abf[i])
            c->abf[i] = aligned_alloc(64, (size_t)MC * (KC / 2 + 16) * sizeof(uint32_t));
        if (!c->bbf[i])
            c->bbf[i] = aligned_alloc(64, (size_t)NC_MAX * (KC / 2 + 16) * sizeof(uint32_t));
        if (!c->abf[i] || !c->bbf[i])
            return -1;
    }
    return 0;
}

/* How a product of c runs, decided per product so that a path change (isa_set) between
 * products is obeyed: 0 fp32; 1 vdpbf16ps, 2 AMX (the CPU has them, the AVX-512 path
 * is in use, the pair buffers exist); 3 emulated: the fp32 kernels on operands rounded
 * to bf16 as they are packed. */
static int bf16_kind(const mm_ctx *c)
{
    if (!c->bf16)
        return 0;
    return c->bf16 == 1 && c->abf[0] && mmk_have_bf16() ? 1 + mmk_have_amx() : 3;
}

typedef struct {
    mm_ctx *c;
    int ta, tb, M, N, K, lda, ldb, ldc;
    const float *A, *B;
    float *C;
    float beta;
    int mt, nc;  /* rows and columns of C per task */
    int tiles_n; /* tasks along N */
    const kern_ops *k;
    int bf16; /* 0 fp32, 1 vdpbf16ps, 2 AMX, 3 emulated: operands rounded to bf16, fp32 kernels */
    int a_bf16, b_bf16; /* MM_A_BF16, MM_B_BF16: bf16 values already (emulated: not rounded again) */
    int a_in_place;     /* full 8-row panels of A stored M x K read by the direct kernel, unpacked */
} job;

/* One K block of a task on AMX: B's panels as pairs (padded to 16 pair rows), then per
 * MC rows A as bf16 rows, then 32 x 32 blocks of C. */
static void amx_step(const job *j, int th, int i0, int j0, int mt, int nc, int k0, int kc,
                     const float *bp, int first)
{
    int kp = (kc + 1) / 2, kpp = (kp + 15) / 16 * 16, kpad = 2 * kpp;
    uint32_t *bb = j->c->bbf[th];
    uint16_t *ab = (uint16_t *)j->c->abf[th];
    for (int jp = 0; jp < nc; jp += NR) {
        uint32_t *dst = bb + (size_t)jp * kpp;
        mmk_panel_to_bf16(dst, bp + (size_t)jp * kc, kc, NR);
        memset(dst + (size_t)kp * NR, 0, (size_t)(kpp - kp) * NR * 4);
    }
    for (int i1 = 0; i1 < mt; i1 += MC) {
        int mc = mt - i1 < MC ? mt - i1 : MC;
        mmk_pack_a_rows_bf16(ab, j->ta, j->A, j->lda, i0 + i1, mc, k0, kc, kpad);
        for (int jp = 0; jp < nc; jp += NR)
            for (int ip = 0; ip < mc; ip += 32) {
                int mr = mc - ip < 32 ? mc - ip : 32, nr = nc - jp < NR ? nc - jp : NR;
                float *cp = j->C + (size_t)(i0 + i1 + ip) * j->ldc + j0 + jp;
                mmk_amx_block(ab + (size_t)ip * kpad, kpad, bb + (size_t)jp * kpp, cp, j->ldc, mr, nr, first);
            }
    }
}

/* One K block of a task in fp32: B's block is packed (bp); full 8-row panels of A
 * stored M x K are read in place, eight sequential row streams. A stored K x M is
 * still packed: read in place, each k is a line at a stride of lda, and power-of-two
 * strides then share a few cache sets (measured 10 % slower on the weight-gradient
 * shapes). */
static void f32_step(const job *j, int th, int i0, int j0, int mt, int nc, int k0, int kc,
                     const float *bp, int first)
{
    float *ap = j->c->apack[th];
    int direct = j->a_in_place;
    for (int i1 = 0; i1 < mt; i1 += MC) {
        int mc = mt - i1 < MC ? mt - i1 : MC, full = direct ? mc / MR * MR : 0;
        if (full < mc) { /* the rest, zero-padded to a panel */
            mmk_pack_a(ap + (size_t)full * kc, j->ta, j->A, j->lda, i0 + i1 + full, mc - full, k0, kc,
                       j->bf16 == 3 && !j->a_bf16);
        }
        for (int jp = 0; jp < nc; jp += NR)
            for (int ip = 0; ip < mc; ip += MR) {
                int mr = mc - ip < MR ? mc - ip : MR, nr = nc - jp < NR ? nc - jp : NR;
                float *cp = j->C + (size_t)(i0 + i1 + ip) * j->ldc + j0 + jp;
                const float *a = ap + (size_t)ip * kc, *b = bp + (size_t)jp * kc;
                if (ip < full)
                    j->k->direct(kc, j->A + (size_t)(i0 + i1 + ip) * j->lda + k0, j->lda, b, cp, j->ldc, nr, first);
                else
                    j->k->tile(kc, a, b, cp, j->ldc, mr, nr, first);
            }
    }
}

/* One K block of a task in bf16 (vdpbf16ps): B's block converted straight into pair
 * panels; A stored M x K converted row by row (the pair layout needs no transpose:
 * the row kernel broadcasts from eight rows), A stored K x M into pair panels. */
static void bf16_step(const job *j, int th, int i0, int j0, int mt, int nc, int k0, int kc, int first)
{
    uint32_t *bb = j->c->bbf[th], *ab = j->c->abf[th];
    int kp = (kc + 1) / 2;
    mmk_pack_b_bf16(bb, j->tb, j->B, j->ldb, j0, nc, k0, kc);
    for (int i1 = 0; i1 < mt; i1 += MC) {
        int mc = mt - i1 < MC ? mt - i1 : MC;
        if (j->ta)
            mmk_pack_a_bf16_km(ab, j->A, j->lda, i0 + i1, mc, k0, kc);
        else
            mmk_rows_bf16(ab, j->A, j->lda, i0 + i1, mc, k0, kc);
        for (int jp = 0; jp < nc; jp += NR)
            for (int ip = 0; ip < mc; ip += MR) { /* a panel and a row group start at ip kp */
                int mr = mc - ip < MR ? mc - ip : MR, nr = nc - jp < NR ? nc - jp : NR;
                float *cp = j->C + (size_t)(i0 + i1 + ip) * j->ldc + j0 + jp;
                const uint32_t *a = ab + (size_t)ip * kp, *b = bb + (size_t)jp * kp;
                if (j->ta)
                    mmk_kernel_bf16(kp, a, b, cp, j->ldc, mr, nr, first);
                else
                    mmk_kernel_bf16_rows(kp, a, kp, b, cp, j->ldc, mr, nr, first);
            }
    }
}

/* One task = one j->mt x j->nc block of C, over all of K in KC steps (a fixed order).
 * For each K step the task packs its B block once and reuses it for every MC-row
 * block of A inside the task, and packs each A block once for all its columns. */
static void block_task(void *vj, size_t task, int th)
{
    job *j = vj;
    int ti = (int)(task / (size_t)j->tiles_n), tj = (int)(task % (size_t)j->tiles_n);
    int i0 = ti * j->mt, j0 = tj * j->nc;
    int mt = j->M - i0 < j->mt ? j->M - i0 : j->mt, nc = j->N - j0 < j->nc ? j->N - j0 : j->nc;
    float *bp = j->c->bpack[th];
    if (j->bf16 == 2)
        mmk_amx_configure(); /* tile configuration is per thread */
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
        if (j->bf16 == 2) {
            mmk_pack_b(bp, j->tb, j->B, j->ldb, j0, nc, k0, kc, 0);
            amx_step(j, th, i0, j0, mt, nc, k0, kc, bp, first);
        } else if (j->bf16 == 1) {
            bf16_step(j, th, i0, j0, mt, nc, k0, kc, first);
        } else {
            mmk_pack_b(bp, j->tb, j->B, j->ldb, j0, nc, k0, kc, j->bf16 == 3 && !j->b_bf16);
            f32_step(j, th, i0, j0, mt, nc, k0, kc, bp, first);
        }
    }
}

int mm_ctx_bf16_emulated(const mm_ctx *c) { return g_path == MM_PATH_AUTO && bf16_kind(c) == 3; }

static void round_range(void *x, size_t b, size_t e) { kern()->round_bf16((float *)x + b, e - b); }

void mm_round_bf16(pool *p, float *x, size_t n)
{
    if (p)
        pool_for_range(p, n, 16384, round_range, x);
    else
        round_range(x, 0, n);
}

static int round_up(int x, int m) { return (x + m - 1) / m * m; }

/* The task grid of one product. A task packs its A rows once per column block and
 * its B block once per row block, so a grid of tm x tn tasks packs M K tn + N K tm
 * elements; fewer tasks pack less but balance worse. The estimate in cycles: the
 * slowest thread's FMAs (whole waves of equal tasks, at flops_per_cycle: 64 fp32, 128
 * bf16) plus the packing over the threads, at a_cost cycles per element of A (0 where
 * A is read in place) and 2 per element of B (fitted to measured grids; half a task of
 * slack for a descheduled thread, tried too, chose grids up to 13 % slower). The grid
 * never changes a result: every element is summed over k in the same order whatever
 * the task that holds it. */
static void choose_tasks(int M, int N, int K, int nt, double a_cost, double flops_per_cycle,
                         int *mt_out, int *nc_out)
{
    double best = -1;
    int best_mt = round_up(M, MR), best_nc = N < NC_MAX ? round_up(N, NR) : NC_MAX;
    int max_tm = (M + MC - 1) / MC, max_tn = (N + NR - 1) / NR;
    for (int tm = 1; tm <= max_tm && tm <= 32; tm++)
        for (int tn = 1; tn <= max_tn && tn <= 64; tn++) {
            int mt = round_up((M + tm - 1) / tm, MR), nc = round_up((N + tn - 1) / tn, NR);
            if (nc > NC_MAX)
                continue;
            int tm1 = (M + mt - 1) / mt, tn1 = (N + nc - 1) / nc;
            if (tm1 != tm || tn1 != tn)
                continue; /* the same grid as a smaller (tm, tn) */
            double task = 2.0 * mt * nc * K / flops_per_cycle, waves = (double)((tm * tn + nt - 1) / nt);
            double pack = (a_cost * M * K * tn + 2.0 * N * K * tm) / nt;
            double cost = waves * task + pack;
            if (best < 0 || cost < best) {
                best = cost;
                best_mt = mt;
                best_nc = nc;
            }
        }
    *mt_out = best_mt;
    *nc_out = best_nc;
}

/* Sets up the block job of one product; returns the number of blocks, or 0 when the
 * reference path ran it already (or there is nothing to do). */
static size_t job_init(job *j, mm_ctx *c, int nt, int ta, int tb, int M, int N, int K,
                       const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    int a_bf16 = (ta & MM_A_BF16) != 0, b_bf16 = (tb & MM_B_BF16) != 0;
    ta &= 1;
    tb &= 1;
    if (M <= 0 || N <= 0)
        return 0;
    if (g_path == MM_PATH_REF) {
        mm_f32_ref(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
        return 0;
    }
#ifdef DK_BLAS
    if (g_path == MM_PATH_BLAS) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K,
                    1.0f, A, lda, B, ldb, beta, C, ldc);
        return 0;
    }
#endif
    *j = (job){c, ta, tb, M, N, K, lda, ldb, ldc, A, B, C, beta, MT, NC, 0,
               path_kernels(), g_path == MM_PATH_AUTO ? bf16_kind(c) : 0, a_bf16, b_bf16, 0};
    /* emulated bf16 packs A to round it, unless the caller rounded it already */
    int in_place = j->a_in_place = !ta && j->k->direct && (j->bf16 != 3 || a_bf16);
    /* flops per cycle per core: 64 fp32 on AVX-512, 128 bf16; 32 on AVX2; 16 for the
     * generic path's 4-lane multiply and add (two pipes each) */
    double fpc = j->bf16 == 1 || j->bf16 == 2 ? 128 : j->k->isa == DK_ISA_AVX512 ? 64
                                                  : j->k->isa == DK_ISA_AVX2   ? 32
                                                                               : 16;
    if (j->bf16 != 2) /* the AMX path keeps its fixed 512 x 512 tasks */
        choose_tasks(M, N, K, nt, !in_place ? 2.0 : j->bf16 == 1 ? 1.0 : 0.0, fpc, &j->mt, &j->nc);
    j->tiles_n = (N + j->nc - 1) / j->nc;
    return (size_t)((M + j->mt - 1) / j->mt) * (size_t)j->tiles_n;
}

void mm_f32(mm_ctx *c, int ta, int tb, int M, int N, int K, const float *A, int lda,
            const float *B, int ldb, float beta, float *C, int ldc)
{
    job j;
    size_t tasks = job_init(&j, c, c->nt, ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    if (tasks)
        pool_for(c->p, tasks, block_task, &j);
}

void mm_f32_on_thread(mm_ctx *c, int thread, int ta, int tb, int M, int N, int K, const float *A,
                      int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    job j;
    size_t tasks = job_init(&j, c, 1, ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    for (size_t t = 0; t < tasks; t++) /* the same blocks, in order: same bits as mm_f32 */
        block_task(&j, t, thread);
}

/* ---- pre-packed weights ---------------------------------------------------------- */

size_t mm_packed_floats(int N, int K) { return (size_t)((N + NR - 1) / NR) * NR * (size_t)K; }

typedef struct {
    float *dst;
    const float *W;
    int N, K;
} pack_job;

static void pack_weight_panel(void *vj, size_t q, int th)
{
    pack_job *j = vj;
    int j0 = (int)q * NR;
    /* pack_b's transposed case in KC steps: the panel's rows k are contiguous. */
    for (int k0 = 0; k0 < j->K; k0 += KC) {
        int kc = j->K - k0 < KC ? j->K - k0 : KC;
        mmk_pack_b(j->dst + q * (size_t)j->K * NR + (size_t)k0 * NR, 1, j->W, j->K, j0,
               j->N - j0 < NR ? j->N - j0 : NR, k0, kc, 0);
    }
}

void mm_pack_weight(pool *p, float *dst, const float *W, int N, int K)
{
    pack_job j = {dst, W, N, K};
    pool_for(p, (size_t)(N + NR - 1) / NR, pack_weight_panel, &j);
}

typedef struct {
    mm_ctx *c;
    int M, N, K, lda, ldc;
    const float *A, *Wp, *askinny;
    float *C;
    float beta;
    int tiles_n, panels_per_task;
    const kern_ops *k;
} packed_job;

/* Small M (<= MR): one A panel packed by the caller over all of K; a task is a run of
 * column panels, each streamed once from front to back. */
static void skinny_task(void *vj, size_t task, int th)
{
    packed_job *j = vj;
    int ri = j->M <= 1 ? 0 : j->M <= 2 ? 1 : 2;
    mmk_tile_fn kern1 = j->M > 4 ? j->k->tile : j->k->tile_r[ri];
    mmk_tile2_fn kern2 = j->M > 4 ? NULL : j->k->tile2_r[ri];
    int q0 = (int)task * j->panels_per_task, nq = (j->N + NR - 1) / NR;
    int q1 = q0 + j->panels_per_task < nq ? q0 + j->panels_per_task : nq;
    for (int q = q0; q < q1;) {
        int j0 = q * NR, two = kern2 && q + 1 < q1; /* panel q is then full */
        int nr = j->N - j0 < NR ? j->N - j0 : NR, nr2 = two ? (j->N - j0 - NR < NR ? j->N - j0 - NR : NR) : 0;
        const float *panel = j->Wp + (size_t)q * j->K * NR;
        for (int k0 = 0; k0 < j->K; k0 += KC) {
            int kc = j->K - k0 < KC ? j->K - k0 : KC, first = k0 == 0 && j->beta == 0;
            const float *a = j->askinny + (size_t)k0 * MR, *b = panel + (size_t)k0 * NR;
            if (two)
                kern2(kc, a, b, b + (size_t)j->K * NR, j->C + j0, j->ldc, j->M, nr2, first);
            else
                kern1(kc, a, b, j->C + j0, j->ldc, j->M, nr, first);
        }
        q += two ? 2 : 1;
    }
}

/* Larger M: block_task's tiling and order, with B read from the packed panels. */
static void packed_block_task(void *vj, size_t task, int th)
{
    packed_job *j = vj;
    int ti = (int)(task / (size_t)j->tiles_n), tj = (int)(task % (size_t)j->tiles_n);
    int i0 = ti * MT, j0 = tj * NC;
    int mt = j->M - i0 < MT ? j->M - i0 : MT, nc = j->N - j0 < NC ? j->N - j0 : NC;
    float *ap = j->c->apack[th];
    for (int k0 = 0; k0 < j->K; k0 += KC) {
        int kc = j->K - k0 < KC ? j->K - k0 : KC;
        int first = k0 == 0 && j->beta == 0;
        for (int i1 = 0; i1 < mt; i1 += MC) {
            int mc = mt - i1 < MC ? mt - i1 : MC;
            mmk_pack_a(ap, 0, j->A, j->lda, i0 + i1, mc, k0, kc, 0);
            for (int jp = 0; jp < nc; jp += NR) {
                const float *b = j->Wp + (size_t)((j0 + jp) / NR) * j->K * NR + (size_t)k0 * NR;
                for (int ip = 0; ip < mc; ip += MR) {
                    int mr = mc - ip < MR ? mc - ip : MR, nr = nc - jp < NR ? nc - jp : NR;
                    float *cp = j->C + (size_t)(i0 + i1 + ip) * j->ldc + j0 + jp;
                    j->k->tile(kc, ap + (size_t)ip * kc, b, cp, j->ldc, mr, nr, first);
                }
            }
        }
    }
}

void mm_f32_packed(mm_ctx *c, int M, int N, int K, const float *A, int lda, const float *Wp,
                   float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    if (K == 0) {
        for (int i = 0; i < M; i++)
            for (int q = 0; q < N; q++)
                C[(size_t)i * ldc + q] = beta == 0 ? 0 : C[(size_t)i * ldc + q];
        return;
    }
    packed_job j = {c, M, N, K, lda, ldc, A, Wp, NULL, C, beta, (N + NC - 1) / NC, 0,
                    path_kernels()};
    if (M <= MR) {
        size_t need = (size_t)MR * K;
        if (need > c->skinny_cap) {
            float *nb = aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64);
            if (!nb) { /* the tiled path needs no extra memory */
                pool_for(c->p, (size_t)((M + MT - 1) / MT) * (size_t)j.tiles_n, packed_block_task, &j);
                return;
            }
            free(c->skinny);
            c->skinny = nb;
            c->skinny_cap = need;
        }
        mmk_pack_a(c->skinny, 0, A, lda, 0, M, 0, K, 0);
        j.askinny = c->skinny;
        int nq = (N + NR - 1) / NR;
        /* about 8 tasks per thread, at least 2 panels each (tasks must outweigh a wake-up) */
        int per = nq / (8 * c->nt);
        j.panels_per_task = per < 2 ? 2 : (per + 1) / 2 * 2; /* even: the two-panel kernel pairs them */
        pool_for(c->p, (size_t)((nq + j.panels_per_task - 1) / j.panels_per_task), skinny_task, &j);
        return;
    }
    pool_for(c->p, (size_t)((M + MT - 1) / MT) * (size_t)j.tiles_n, packed_block_task, &j);
}
