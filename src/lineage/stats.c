/* stats.c: see stats.h. */
#include "lineage/stats.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <math.h>
#include <stdlib.h>

#include "kernels/isa.h"

static const double ln10 = 2.30258509299404568401799145468436421;

/* ---- correlations ---------------------------------------------------------------------- */

double spearman_perm(const int *a, const int *b, int n)
{
    if (n < 2)
        return 0;
    /* integer sum of squares: exact for n up to ~2e6 (n^3 / 3 < 2^63) */
    long long s = 0;
    for (int i = 0; i < n; i++) {
        long long d = (long long)a[i] - b[i];
        s += d * d;
    }
    return 1 - 6 * (double)s / ((double)n * ((double)n * n - 1));
}

typedef struct {
    double v;
    size_t i;
} ranked;

static int ranked_cmp(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i); /* a total order: qsort's result is fixed */
}

/* Average ranks (1-based) of x into r; -1 when out of memory. */
static int ranks(const double *x, size_t n, double *r)
{
    ranked *t = malloc(n * sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < n; i++)
        t[i] = (ranked){x[i], i};
    qsort(t, n, sizeof *t, ranked_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && t[j + 1].v == t[i].v)
            j++;
        double avg = (double)(i + j) / 2 + 1;
        for (size_t k = i; k <= j; k++)
            r[t[k].i] = avg;
        i = j + 1;
    }
    free(t);
    return 0;
}

double spearman(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i]) || isnan(y[i]))
            return NAN; /* NaN has no rank (and would break the sort's order) */
    double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry), rho = NAN;
    if (rx && ry && ranks(x, n, rx) == 0 && ranks(y, n, ry) == 0)
        rho = pearson(rx, ry, n);
    free(rx);
    free(ry);
    return rho;
}

/* One body for both element types: means, then centred sums (two passes: the
 * one-pass formula loses everything when the mean is large against the spread). */
#define PEARSON_BODY(x, y, n)                                                              \
    do {                                                                                   \
        if ((n) < 2)                                                                       \
            return 0;                                                                      \
        double mx = 0, my = 0;                                                             \
        for (size_t i = 0; i < (n); i++)                                                   \
            mx += (x)[i], my += (y)[i];                                                    \
        mx /= (double)(n), my /= (double)(n);                                              \
        double sxy = 0, sxx = 0, syy = 0;                                                  \
        for (size_t i = 0; i < (n); i++) {                                                 \
            double a = (x)[i] - mx, b = (y)[i] - my;                                       \
            sxy += a * b, sxx += a * a, syy += b * b;                                      \
        }                                                                                  \
        if (isnan(sxy) || isnan(sxx) || isnan(syy))                                        \
            return NAN;                                                                    \
        if (!(sxx > 0 && syy > 0))                                                         \
            return 0;                                                                      \
        double r = sxy / (sqrt(sxx) * sqrt(syy));                                          \
        return r > 1 ? 1 : r < -1 ? -1 : r;                                                \
    } while (0)

double pearson(const double *x, const double *y, size_t n) { PEARSON_BODY(x, y, n); }

double pearson_f32(const float *x, const float *y, size_t n) { PEARSON_BODY(x, y, n); }

/* ---- p-values -------------------------------------------------------------------------- */

/* lgamma without the global signgam write (callers may run on several threads). */
static double lgam(double x)
{
    int sign;
    return lgamma_r(x, &sign);
}

/* The continued fraction of the regularised incomplete beta (the form of Numerical
 * Recipes' betacf, modified Lentz), for x < (a + 1) / (a + b + 2) where it converges
 * fast. Its value is moderate (about 1 to a few): the magnitude of I is in the front
 * factor, so the fraction itself is safe in linear space. */
static double betacf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-16;
    double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 100000; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        c = 1 + aa / c;
        d = 1 / (fabs(d) < tiny ? tiny : d);
        c = fabs(c) < tiny ? tiny : c;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        c = 1 + aa / c;
        d = 1 / (fabs(d) < tiny ? tiny : d);
        c = fabs(c) < tiny ? tiny : c;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < eps)
            break;
    }
    return h;
}

/* ln I_x(a, b) for x in [0, 1], given x and y = 1 - x separately (each precise) and
 * their logs. The front factor x^a y^b / (a B(a, b)) is taken in logs. */
static double log_ibeta(double a, double b, double x, double y, double lx, double ly)
{
    if (x <= 0)
        return -INFINITY;
    if (y <= 0)
        return 0;
    double lbeta = lgam(a) + lgam(b) - lgam(a + b);
    double front = a * lx + b * ly - lbeta;
    if (x < (a + 1) / (a + b + 2))
        return front - log(a) + log(betacf(a, b, x));
    /* complement: I_x(a, b) = 1 - I_y(b, a); I is not small here */
    double lc = front - log(b) + log(betacf(b, a, y));
    return log1p(-exp(lc));
}

double spearman_log10_p(double rho, int n)
{
    if (n < 3 || !isfinite(rho))
        return 0;
    double floor10 = -lgam((double)n + 1) / ln10; /* one ranking in n! */
    if (rho >= 1)
        return floor10;
    if (rho <= -1)
        return 0;
    if (rho == 0)
        return -log10(2.0);
    double df = n - 2, r = fabs(rho);
    /* z = df / (df + t^2) = 1 - rho^2 and 1 - z = rho^2, each without cancellation */
    double z = (1 - r) * (1 + r), y = r * r;
    double lz = log1p(-r) + log1p(r), ly = 2 * log(r);
    double ltail = log_ibeta(df / 2, 0.5, z, y, lz, ly) - log(2.0); /* ln P(T > |t|) */
    double l10 = rho > 0 ? ltail / ln10 : log1p(-exp(ltail)) / ln10;
    if (l10 > 0)
        l10 = 0;
    return l10 < floor10 ? floor10 : l10;
}

double fisher_log10_p(const double *log10_p, int k)
{
    if (k <= 0)
        return 0;
    double s10 = 0; /* -sum log10 p_i >= 0 */
    for (int i = 0; i < k; i++) {
        if (isnan(log10_p[i]))
            return NAN;
        s10 -= log10_p[i] > 0 ? 0 : log10_p[i];
    }
    if (k == 1 || s10 == 0 || isinf(s10))
        return -s10;
    double h = s10 * ln10, lh = log(h); /* h = X / 2 */
    /* log sum_{j<k} h^j / j! by log-sum-exp: the terms peak near j = h */
    double mx = -INFINITY;
    for (int j = 0; j < k; j++) {
        double t = j * lh - lgam(j + 1.0);
        mx = t > mx ? t : mx;
    }
    double s = 0;
    for (int j = 0; j < k; j++)
        s += exp(j * lh - lgam(j + 1.0) - mx);
    /* -h / ln 10 = -s10: kept as the leading term, not recomputed through ln */
    double l = -s10 + (mx + log(s)) / ln10;
    return l > 0 ? 0 : l;
}

/* ---- cosine matrix ----------------------------------------------------------------------- */

/* Register tile MR x NR (12 rows of a x 16 rows of b: 24 AVX-512 accumulators of 8
 * doubles), depth block KC. A task is MT rows of a x NT rows of b (fewer rows of b
 * when rows are so wide that the packed block would pass 32 MiB). b's rows are packed
 * (converted to double and interleaved by depth, 16 rows per panel) once per column
 * block and thread, and reused by the thread's next tasks of that block (tasks are
 * numbered column block first); a's rows are only converted, per task and depth block,
 * into rows of stride KA, which the kernel broadcasts from. The task's output block
 * (MT x NT doubles, 768 KiB) stays in L2 across depth blocks. */
#define MR 12
#define NR 16
#define KC 256
#define MT 192
#define NT 512
#define KA (KC + 8) /* row stride of converted a: not a multiple of 4 KiB apart (L1 aliasing) */

static int g_cos_generic;
void cosine_force_generic(int on) { g_cos_generic = on; }

/* The kernel: 0 plain C, 1 AVX2, 2 AVX-512 (all give the same bits). */
static int cos_path(void)
{
    if (g_cos_generic)
        return 0;
    return isa_current() == DK_ISA_AVX512 ? 2 : isa_current() == DK_ISA_AVX2 ? 1 : 0;
}

/* acc[r][c] = sum_k ap[r * KA + k] * bp[k * NR + c], k in order from 0; then
 * o[r * ldo + c] = acc (first depth block) or o + acc, for r < rr, c < cc. Products of
 * floats are exact in double, so a fused multiply-add and a multiply then an add give
 * the same bits: the two kernels agree exactly. */
static void kern_generic(int kc, const double *ap, const double *bp, double *o, size_t ldo, int rr,
                         int cc, int first)
{
    double acc[MR][NR] = {{0}};
    for (int k = 0; k < kc; k++, bp += NR)
        for (int r = 0; r < MR; r++)
            for (int c = 0; c < NR; c++)
                acc[r][c] += ap[r * KA + k] * bp[c];
    for (int r = 0; r < rr; r++)
        for (int c = 0; c < cc; c++)
            o[r * ldo + c] = first ? acc[r][c] : o[r * ldo + c] + acc[r][c];
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static void kern_avx512(int kc, const double *ap, const double *bp,
                                                           double *o, size_t ldo, int rr, int cc,
                                                           int first)
{
    __m512d c0[MR], c1[MR];
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++)
        c0[r] = c1[r] = _mm512_setzero_pd();
    for (int k = 0; k < kc; k++, ap++, bp += NR) {
        __m512d b0 = _mm512_loadu_pd(bp), b1 = _mm512_loadu_pd(bp + 8);
#pragma GCC unroll 12
        for (int r = 0; r < MR; r++) {
            __m512d ar = _mm512_set1_pd(ap[r * KA]);
            c0[r] = _mm512_fmadd_pd(ar, b0, c0[r]);
            c1[r] = _mm512_fmadd_pd(ar, b1, c1[r]);
        }
    }
    __mmask8 m0 = cc >= 8 ? 0xFF : (__mmask8)((1u << cc) - 1);
    __mmask8 m1 = cc >= 16 ? 0xFF : cc <= 8 ? 0 : (__mmask8)((1u << (cc - 8)) - 1);
#pragma GCC unroll 12
    for (int r = 0; r < MR; r++) {
        if (r >= rr)
            break;
        double *orow = o + (size_t)r * ldo;
        if (!first) {
            c0[r] = _mm512_add_pd(_mm512_maskz_loadu_pd(m0, orow), c0[r]);
            c1[r] = _mm512_add_pd(_mm512_maskz_loadu_pd(m1, orow + 8), c1[r]);
        }
        _mm512_mask_storeu_pd(orow, m0, c0[r]);
        _mm512_mask_storeu_pd(orow + 8, m1, c1[r]);
    }
}
#else /* no AVX-512 here: cos_avx512() is 0 */
#define kern_avx512 kern_generic
#endif

#if defined(__x86_64__)
/* AVX2 has 16 vector registers: the 12 x 16 tile runs as four 3 x 16 strips (12
 * accumulators and 4 of b), each over the whole depth block from L1. */
__attribute__((target("avx2,fma"))) static void kern_avx2(int kc, const double *ap, const double *bp,
                                                         double *o, size_t ldo, int rr, int cc,
                                                         int first)
{
    for (int r0 = 0; r0 < rr; r0 += 3) {
        __m256d acc[3][4];
        for (int r = 0; r < 3; r++)
            for (int q = 0; q < 4; q++)
                acc[r][q] = _mm256_setzero_pd();
        const double *a = ap + (size_t)r0 * KA, *b = bp;
        for (int k = 0; k < kc; k++, a++, b += NR) {
            __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4), b2 = _mm256_loadu_pd(b + 8),
                    b3 = _mm256_loadu_pd(b + 12);
            for (int r = 0; r < 3; r++) {
                __m256d ar = _mm256_broadcast_sd(a + r * KA);
                acc[r][0] = _mm256_fmadd_pd(ar, b0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_pd(ar, b1, acc[r][1]);
                acc[r][2] = _mm256_fmadd_pd(ar, b2, acc[r][2]);
                acc[r][3] = _mm256_fmadd_pd(ar, b3, acc[r][3]);
            }
        }
        for (int r = 0; r < 3 && r0 + r < rr; r++) {
            double t[NR], *orow = o + (size_t)(r0 + r) * ldo;
            for (int q = 0; q < 4; q++)
                _mm256_storeu_pd(t + 4 * q, acc[r][q]);
            for (int c = 0; c < cc; c++)
                orow[c] = first ? t[c] : orow[c] + t[c];
        }
    }
}
#else /* no AVX2 here: cos_path() is 0 */
#define kern_avx2 kern_generic
#endif

typedef struct {
    const float *a, *b;
    size_t lda, ldb;
    int na, nb, d, nat, ntb, avx; /* ntb: rows of b per task (NT, fewer for very wide rows) */
    const double *norm_a, *norm_b;
    double *out;
    double **pa, **pb; /* per thread: a's converted rows (MT x KA), b's packed block */
    int *pb_block;     /* per thread: the column block held in pb (-1: none) */
} cos_job;

/* b's rows [j0, j0 + ntb) (zero past nb), all depths, as [depth block][panel][k][NR]. */
static void pack_b(double *dst, const cos_job *J, int j0)
{
    int ntp = J->nb - j0 < J->ntb ? (J->nb - j0 + NR - 1) / NR * NR : J->ntb;
    for (int k0 = 0; k0 < J->d; k0 += KC) {
        int kc = J->d - k0 < KC ? J->d - k0 : KC;
        for (int p = 0; p < ntp; p += NR, dst += (size_t)kc * NR)
            for (int c = 0; c < NR; c++) {
                int row = j0 + p + c;
                const float *src = J->b + (size_t)row * J->ldb + k0;
                if (row >= J->nb)
                    for (int k = 0; k < kc; k++)
                        dst[(size_t)k * NR + c] = 0;
                else
                    for (int k = 0; k < kc; k++)
                        dst[(size_t)k * NR + c] = src[k];
            }
    }
}

static void cos_task(void *ctx, size_t task, int thread)
{
    cos_job *J = ctx;
    int bj = (int)(task / (size_t)J->nat), i0 = (int)(task % (size_t)J->nat) * MT, j0 = bj * J->ntb;
    int mt = J->na - i0 < MT ? J->na - i0 : MT, nt = J->nb - j0 < J->ntb ? J->nb - j0 : J->ntb;
    int ntp = (nt + NR - 1) / NR * NR;
    double *pa = J->pa[thread], *pb = J->pb[thread];
    if (J->pb_block[thread] != bj) {
        pack_b(pb, J, j0);
        J->pb_block[thread] = bj;
    }
    for (int k0 = 0; k0 < J->d; k0 += KC) {
        int kc = J->d - k0 < KC ? J->d - k0 : KC;
        /* a's rows, converted; rows of the last partial micro-panel past na are zero */
        int mtp = (mt + MR - 1) / MR * MR;
        for (int r = 0; r < mtp; r++) {
            double *dst = pa + (size_t)r * KA;
            if (r >= mt) {
                for (int k = 0; k < kc; k++)
                    dst[k] = 0;
                continue;
            }
            const float *src = J->a + (size_t)(i0 + r) * J->lda + k0;
            for (int k = 0; k < kc; k++)
                dst[k] = src[k];
        }
        const double *bblk = pb + (size_t)k0 * ntp;
        for (int ib = 0; ib < mt; ib += MR)
            for (int jb = 0; jb < nt; jb += NR) {
                const double *ap = pa + (size_t)ib * KA, *bp = bblk + (size_t)(jb / NR) * kc * NR;
                double *o = J->out + (size_t)(i0 + ib) * (size_t)J->nb + (size_t)(j0 + jb);
                int rr = mt - ib < MR ? mt - ib : MR, cc = nt - jb < NR ? nt - jb : NR;
                if (J->avx == 2)
                    kern_avx512(kc, ap, bp, o, (size_t)J->nb, rr, cc, k0 == 0);
                else if (J->avx == 1)
                    kern_avx2(kc, ap, bp, o, (size_t)J->nb, rr, cc, k0 == 0);
                else
                    kern_generic(kc, ap, bp, o, (size_t)J->nb, rr, cc, k0 == 0);
            }
    }
    for (int i = i0; i < i0 + mt; i++) {
        double *o = J->out + (size_t)i * (size_t)J->nb;
        for (int j = j0; j < j0 + nt; j++) {
            double den = J->norm_a[i] * J->norm_b[j];
            if (den > 0) {
                double r = o[j] / den;
                o[j] = r > 1 ? 1 : r < -1 ? -1 : r;
            } else {
                o[j] = 0;
            }
        }
    }
}

typedef struct {
    const float *x;
    size_t ld;
    int d;
    double *norm;
} norm_job;

static void norm_range(void *ctx, size_t begin, size_t end)
{
    norm_job *J = ctx;
    for (size_t i = begin; i < end; i++) {
        const float *r = J->x + i * J->ld;
        double s = 0;
        for (int k = 0; k < J->d; k++)
            s += (double)r[k] * r[k];
        J->norm[i] = sqrt(s);
    }
}

int cosine_matrix(pool *p, const float *a, size_t lda, int na, const float *b, size_t ldb, int nb,
                  int d, double *out, dk_err *err)
{
    if (na < 0 || nb < 0 || d < 0)
        return dk_errf(err, "cosine matrix: negative size (%d x %d rows, %d wide)", na, nb, d);
    if ((na > 0 && (!a || lda < (size_t)d)) || (nb > 0 && (!b || ldb < (size_t)d)))
        return dk_errf(err, "cosine matrix: row stride below the width %d (or no data)", d);
    if (na == 0 || nb == 0)
        return 0;
    if (!out)
        return dk_errf(err, "cosine matrix: no output");
    int nt = pool_threads(p);
    size_t dpad = ((size_t)d + KC - 1) / KC * KC;
    /* rows of b per task: NT, fewer when the packed block (ntb x d doubles per thread)
     * would pass 32 MiB, and no more than b has; the result does not depend on it */
    size_t cap = ((size_t)32 << 20) / sizeof(double) / (dpad > 0 ? dpad : 1);
    int ntb = cap < NT ? (int)(cap / NR * NR) : NT;
    if (ntb < NR)
        ntb = NR;
    if (nb < ntb)
        ntb = (nb + NR - 1) / NR * NR;
    double *norm_a = malloc((size_t)na * sizeof *norm_a), *norm_b = malloc((size_t)nb * sizeof *norm_b);
    double **pa = calloc((size_t)nt, sizeof *pa), **pb = calloc((size_t)nt, sizeof *pb);
    int *pb_block = malloc((size_t)nt * sizeof *pb_block);
    int rc = 0;
    if (!norm_a || !norm_b || !pa || !pb || !pb_block)
        rc = -1;
    for (int t = 0; rc == 0 && t < nt; t++) {
        pa[t] = malloc((size_t)(MT + MR) * KA * sizeof **pa);
        pb[t] = malloc((size_t)ntb * (dpad > 0 ? dpad : 1) * sizeof **pb);
        pb_block[t] = -1;
        if (!pa[t] || !pb[t])
            rc = -1;
    }
    if (rc == 0) {
        norm_job ja = {a, lda, d, norm_a}, jb = {b, ldb, d, norm_b};
        pool_for_range(p, (size_t)na, 256, norm_range, &ja);
        pool_for_range(p, (size_t)nb, 256, norm_range, &jb);
        int nat = (na + MT - 1) / MT, nbt = (nb + ntb - 1) / ntb;
        cos_job J = {a, b, lda, ldb, na, nb, d, nat, ntb, cos_path(), norm_a, norm_b, out, pa, pb, pb_block};
        pool_for(p, (size_t)nat * (size_t)nbt, cos_task, &J);
    } else {
        dk_errf(err, "out of memory for a %d x %d cosine matrix", na, nb);
    }
    for (int t = 0; pa && pb && t < nt; t++)
        free(pa[t]), free(pb[t]);
    free(pa), free(pb), free(pb_block), free(norm_a), free(norm_b);
    return rc;
}
