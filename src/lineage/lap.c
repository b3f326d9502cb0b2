/* lap.c: see lap.h.
 *
 * Notation follows Jonker and Volgenant: x[i] is the column of row i, y[j] the row of
 * column j (-1 when free), v[j] the column price (dual). The row duals are implicit:
 * the invariant is that every matched row sits on a column of least reduced cost
 * c_ij - v_j, so u_i = c_{i,x[i]} - v_{x[i]}. Costs are read as sign * c (sign -1
 * maximises), an exact operation, so nothing is copied.
 *
 * The search (step 4) keeps its state in dense arrays over all m columns, not in JV's
 * permuted column list, so every pass is a straight vectorisable loop over a row:
 * d[j] the tentative distance of column j, pred[j] the row it was reached from. A
 * column whose distance is final ("marked") gets d[j] = +inf and v[j] = -inf while
 * the search runs (its price is saved in the mark list), so the update
 * c_ij - v_j - u < d_j can never touch it and the minimum over d skips it, with no
 * mask array to read. */
#include "lineage/lap.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels/isa.h"

static _Thread_local lap_stats g_stats;
static int g_force_generic;

lap_stats lap_last_stats(void) { return g_stats; }
void lap_force_generic(int on) { g_force_generic = on; }

/* The row loops' path: 0 plain C, 1 AVX2, 2 AVX-512 (all give the same results). */
static int row_path(void)
{
    if (g_force_generic)
        return 0;
    return isa_current() == DK_ISA_AVX512 ? 2 : isa_current() == DK_ISA_AVX2 ? 1 : 0;
}

typedef struct {
    const double *c;
    double sign;
    int n, m;
    int avx; /* row_path() */
    int *x, *y;       /* row -> column, column -> row */
    double *v;        /* column prices */
    double *d;        /* search: distances (+inf once marked) */
    int *pred;        /* search: row each column was reached from */
    int *mk;          /* search: marked columns in order */
    double *mkd, *mkv; /* search: their distance and saved price */
    int *freel;       /* free rows */
    int hi;           /* number of marked columns */
} lap;

static inline const double *row_of(const lap *L, int i) { return L->c + (size_t)i * (size_t)L->m; }

/* ---- the row loops, plain C ---------------------------------------------------------- */

/* Column minima: v[j] = min(v[j], sign c_ij), arg[j] = i where it improves. */
static void colmin_generic(const double *row, double sign, int m, int i, double *v, int *arg)
{
    for (int j = 0; j < m; j++) {
        double h = sign * row[j];
        if (h < v[j]) {
            v[j] = h;
            arg[j] = i;
        }
    }
}

/* Least and second least reduced cost of a row: *j1 is the lowest column with the
 * least value *u1, *u2 the least value over the other columns. */
static void twomin_generic(const double *row, double sign, const double *v, int m, double *u1,
                           int *j1, double *u2)
{
    double m1 = INFINITY, m2 = INFINITY;
    int i1 = 0;
    for (int j = 0; j < m; j++) {
        double h = sign * row[j] - v[j];
        if (h < m1) {
            m2 = m1;
            m1 = h;
            i1 = j;
        } else if (h < m2) {
            m2 = h;
        }
    }
    *u1 = m1, *j1 = i1, *u2 = m2;
}

/* The least distance of the unmarked columns after an update, the lowest column at
 * it, and the least distance of the other columns: when m2 > m1 the next column of
 * the search is known without another pass over d. */
typedef struct {
    double m1, m2;
    int idx;
} mins;

/* Relaxes every column through row i: d_j = min(d_j, c_ij - v_j - u), where u is the
 * offset that puts i's own column at the current distance (u = 0 and d = +inf start
 * a search from free row i). Returns the least distances of the unmarked columns. */
static mins update_generic(const double *row, double sign, const double *v, int m, double u,
                           double *d, int *pred, int i)
{
    mins r = {INFINITY, INFINITY, -1};
    for (int j = 0; j < m; j++) {
        double h = (sign * row[j] - v[j]) - u, dj = d[j];
        if (h < dj) {
            dj = h;
            d[j] = h;
            pred[j] = i;
        }
        if (dj < r.m1) {
            r.m2 = r.m1;
            r.m1 = dj;
            r.idx = j;
        } else if (dj < r.m2) {
            r.m2 = dj;
        }
    }
    return r;
}

static void mark(lap *L, int j)
{
    int k = L->hi++;
    L->mk[k] = j;
    L->mkd[k] = L->d[j];
    L->mkv[k] = L->v[j];
    L->v[j] = -INFINITY;
    L->d[j] = INFINITY;
}

/* Marks every unmarked column from j0 on at distance <= mn, in index order, stopping at
 * the first free one (returned: the end of the augmenting path); else returns -1 and the
 * least distance left in *next (nm: the least already seen before j0). */
static int collect_from(lap *L, int j0, double mn, double nm, double *next)
{
    for (int j = j0; j < L->m; j++) {
        double dj = L->d[j];
        if (dj <= mn) {
            mark(L, j);
            if (L->y[j] < 0)
                return j;
        } else if (dj < nm) {
            nm = dj;
        }
    }
    *next = nm;
    return -1;
}

static int collect_generic(lap *L, double mn, double *next) { return collect_from(L, 0, mn, INFINITY, next); }

/* ---- the same loops, AVX-512 (same operations, same results) ------------------------ */

#if defined(__x86_64__)
#define AVX512 __attribute__((target("avx512f")))

/* Lane results (least, its column, second least of the lane) merged: the least is the
 * least lane minimum (lowest column among equal ones), the second that lane's second or
 * another lane's least; the same answer as one pass over the columns whatever the lanes. */
static mins merge_lanes(const double *a1, const double *a2, const long long *ai, int n)
{
    int best = 0;
    for (int l = 1; l < n; l++)
        if (a1[l] < a1[best] || (a1[l] == a1[best] && ai[l] < ai[best]))
            best = l;
    mins r = {a1[best], a2[best], a1[best] < INFINITY ? (int)ai[best] : -1};
    for (int l = 0; l < n; l++)
        if (l != best && a1[l] < r.m2)
            r.m2 = a1[l];
    return r;
}


AVX512 static inline __mmask8 tail_mask(int left) { return left >= 8 ? 0xFF : (__mmask8)((1u << left) - 1); }

AVX512 static void colmin_avx(const double *row, double sign, int m, int i, double *v, int *arg)
{
    __m512d s = _mm512_set1_pd(sign);
    __m512i vi = _mm512_set1_epi64(i);
    for (int j = 0; j < m; j += 8) {
        __mmask8 t = tail_mask(m - j);
        __m512d h = _mm512_mul_pd(s, _mm512_maskz_loadu_pd(t, row + j));
        __m512d vj = _mm512_maskz_loadu_pd(t, v + j);
        __mmask8 lt = _mm512_mask_cmp_pd_mask(t, h, vj, _CMP_LT_OQ);
        _mm512_mask_storeu_pd(v + j, lt, h);
        _mm512_mask_cvtepi64_storeu_epi32(arg + j, lt, vi);
    }
}

AVX512 static void twomin_avx(const double *row, double sign, const double *v, int m, double *u1,
                              int *j1, double *u2)
{
    __m512d s = _mm512_set1_pd(sign), inf = _mm512_set1_pd(INFINITY), m1 = inf, m2 = inf;
    __m512i i1 = _mm512_setzero_si512(), jv = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0),
            eight = _mm512_set1_epi64(8);
    for (int j = 0; j < m; j += 8) {
        __mmask8 t = tail_mask(m - j);
        __m512d h = _mm512_sub_pd(_mm512_mul_pd(s, _mm512_maskz_loadu_pd(t, row + j)),
                                  _mm512_maskz_loadu_pd(t, v + j));
        h = _mm512_mask_blend_pd(t, inf, h);
        __mmask8 lt = _mm512_cmp_pd_mask(h, m1, _CMP_LT_OQ);
        m2 = _mm512_mask_blend_pd(lt, _mm512_min_pd(m2, h), m1);
        i1 = _mm512_mask_blend_epi64(lt, i1, jv);
        m1 = _mm512_mask_blend_pd(lt, m1, h);
        jv = _mm512_add_epi64(jv, eight);
    }
    double a1[8], a2[8];
    long long ai[8];
    _mm512_storeu_pd(a1, m1);
    _mm512_storeu_pd(a2, m2);
    _mm512_storeu_si512(ai, i1);
    mins r = merge_lanes(a1, a2, ai, 8);
    *u1 = r.m1, *j1 = r.idx >= 0 ? r.idx : (int)ai[0], *u2 = r.m2;
}

/* One vector of the update: relaxes d[j..j+7] (lanes in t) and folds the new
 * distances into the lane-wise least (m1, at column ix) and second least (m2). */
#define UPDATE_STEP(J, T)                                                                       \
    do {                                                                                        \
        __m512d h_ = _mm512_sub_pd(_mm512_sub_pd(_mm512_mul_pd(s, _mm512_maskz_loadu_pd(T, row + (J))), \
                                                 _mm512_maskz_loadu_pd(T, v + (J))), vu);       \
        __m512d d_ = _mm512_mask_loadu_pd(inf, T, d + (J));                                     \
        __mmask8 l_ = _mm512_mask_cmp_pd_mask(T, h_, d_, _CMP_LT_OQ);                           \
        if (l_) {                                                                               \
            _mm512_mask_storeu_pd(d + (J), l_, h_);                                             \
            _mm512_mask_cvtepi64_storeu_epi32(pred + (J), l_, vi);                              \
            d_ = _mm512_mask_blend_pd(l_, d_, h_);                                              \
        }                                                                                       \
        __mmask8 b_ = _mm512_cmp_pd_mask(d_, m1, _CMP_LT_OQ);                                   \
        m2 = _mm512_mask_blend_pd(b_, _mm512_min_pd(m2, d_), m1);                               \
        ix = _mm512_mask_blend_epi64(b_, ix, _mm512_add_epi64(lane, _mm512_set1_epi64(J)));     \
        m1 = _mm512_mask_blend_pd(b_, m1, d_);                                                  \
    } while (0)

AVX512 static mins update_avx(const double *row, double sign, const double *v, int m, double u,
                              double *d, int *pred, int i)
{
    const __m512d s = _mm512_set1_pd(sign), vu = _mm512_set1_pd(u), inf = _mm512_set1_pd(INFINITY);
    const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i vi = _mm512_set1_epi64(i); /* stored narrowed to int32 */
    /* two independent chains (even and odd vectors), merged at the end */
    __m512d m1a = inf, m2a = inf, m1b = inf, m2b = inf;
    __m512i ixa = _mm512_setzero_si512(), ixb = _mm512_setzero_si512();
    int j = 0;
    for (; j + 16 <= m; j += 16) {
        {
            __m512d m1 = m1a, m2 = m2a;
            __m512i ix = ixa;
            UPDATE_STEP(j, 0xFF);
            m1a = m1, m2a = m2, ixa = ix;
        }
        {
            __m512d m1 = m1b, m2 = m2b;
            __m512i ix = ixb;
            UPDATE_STEP(j + 8, 0xFF);
            m1b = m1, m2b = m2, ixb = ix;
        }
    }
    for (; j < m; j += 8) {
        __m512d m1 = m1a, m2 = m2a;
        __m512i ix = ixa;
        UPDATE_STEP(j, tail_mask(m - j));
        m1a = m1, m2a = m2, ixa = ix;
    }
    double a1[16], a2[16];
    long long ai[16];
    _mm512_storeu_pd(a1, m1a), _mm512_storeu_pd(a1 + 8, m1b);
    _mm512_storeu_pd(a2, m2a), _mm512_storeu_pd(a2 + 8, m2b);
    _mm512_storeu_si512(ai, ixa), _mm512_storeu_si512(ai + 8, ixb);
    return merge_lanes(a1, a2, ai, 16);
}

AVX512 static int collect_avx(lap *L, double mn, double *next)
{
    __m512d inf = _mm512_set1_pd(INFINITY), vm = _mm512_set1_pd(mn), nm = inf;
    double *d = L->d;
    for (int j = 0; j < L->m; j += 8) {
        __mmask8 t = tail_mask(L->m - j);
        __m512d dj = _mm512_mask_loadu_pd(inf, t, d + j);
        __mmask8 le = _mm512_mask_cmp_pd_mask(t, dj, vm, _CMP_LE_OQ);
        if (le) {
            for (unsigned b = le; b; b &= b - 1) {
                int jj = j + __builtin_ctz(b);
                mark(L, jj);
                if (L->y[jj] < 0)
                    return jj;
            }
            dj = _mm512_mask_blend_pd(le, dj, inf);
        }
        nm = _mm512_min_pd(nm, dj);
    }
    *next = _mm512_reduce_min_pd(nm);
    return -1;
}
#else /* no AVX-512 here: row_path() is 0, the plain loops run */
#define colmin_avx colmin_generic
#define twomin_avx twomin_generic
#define update_avx update_generic
#define collect_avx collect_generic
#endif

/* ---- the same loops, AVX2 (same operations, same results) ---------------------------- */

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2")))

AVX2 static void colmin_avx2(const double *row, double sign, int m, int i, double *v, int *arg)
{
    __m256d s = _mm256_set1_pd(sign);
    int j = 0;
    for (; j + 4 <= m; j += 4) {
        __m256d h = _mm256_mul_pd(s, _mm256_loadu_pd(row + j)), vj = _mm256_loadu_pd(v + j);
        __m256d lt = _mm256_cmp_pd(h, vj, _CMP_LT_OQ);
        int bits = _mm256_movemask_pd(lt);
        if (bits) {
            _mm256_storeu_pd(v + j, _mm256_blendv_pd(vj, h, lt));
            for (; bits; bits &= bits - 1)
                arg[j + __builtin_ctz((unsigned)bits)] = i;
        }
    }
    colmin_generic(row + j, sign, m - j, i, v + j, arg + j);
}

AVX2 static void twomin_avx2(const double *row, double sign, const double *v, int m, double *u1,
                             int *j1, double *u2)
{
    __m256d s = _mm256_set1_pd(sign), inf = _mm256_set1_pd(INFINITY), m1 = inf, m2 = inf;
    __m256i i1 = _mm256_setzero_si256(), jv = _mm256_set_epi64x(3, 2, 1, 0), four = _mm256_set1_epi64x(4);
    int j = 0;
    for (; j + 4 <= m; j += 4) {
        __m256d h = _mm256_sub_pd(_mm256_mul_pd(s, _mm256_loadu_pd(row + j)), _mm256_loadu_pd(v + j));
        __m256d lt = _mm256_cmp_pd(h, m1, _CMP_LT_OQ);
        m2 = _mm256_blendv_pd(_mm256_min_pd(m2, h), m1, lt);
        i1 = _mm256_castpd_si256(_mm256_blendv_pd(_mm256_castsi256_pd(i1), _mm256_castsi256_pd(jv), lt));
        m1 = _mm256_blendv_pd(m1, h, lt);
        jv = _mm256_add_epi64(jv, four);
    }
    double a1[5], a2[5];
    long long ai[5];
    _mm256_storeu_pd(a1, m1);
    _mm256_storeu_pd(a2, m2);
    _mm256_storeu_si256((__m256i *)ai, i1);
    int t1 = 0; /* the tail is a fifth lane */
    twomin_generic(row + j, sign, v + j, m - j, &a1[4], &t1, &a2[4]);
    ai[4] = j + t1;
    mins r = merge_lanes(a1, a2, ai, 5);
    *u1 = r.m1, *j1 = r.idx >= 0 ? r.idx : (int)ai[0], *u2 = r.m2;
}

/* Relaxes d[j..j+3] through the row and folds the distances into the lane-wise least
 * (m1, at column ix) and second least (m2). */
#define UPDATE_STEP2(J, M1, M2, IX)                                                                 \
    do {                                                                                            \
        __m256d h_ = _mm256_sub_pd(_mm256_sub_pd(_mm256_mul_pd(s, _mm256_loadu_pd(row + (J))),     \
                                                 _mm256_loadu_pd(v + (J))), vu);                    \
        __m256d d_ = _mm256_loadu_pd(d + (J));                                                      \
        __m256d l_ = _mm256_cmp_pd(h_, d_, _CMP_LT_OQ);                                             \
        int b_ = _mm256_movemask_pd(l_);                                                            \
        if (b_) {                                                                                   \
            d_ = _mm256_blendv_pd(d_, h_, l_);                                                      \
            _mm256_storeu_pd(d + (J), d_);                                                          \
            for (; b_; b_ &= b_ - 1)                                                                \
                pred[(J) + __builtin_ctz((unsigned)b_)] = i;                                        \
        }                                                                                           \
        __m256d c_ = _mm256_cmp_pd(d_, M1, _CMP_LT_OQ);                                             \
        M2 = _mm256_blendv_pd(_mm256_min_pd(M2, d_), M1, c_);                                       \
        IX = _mm256_castpd_si256(_mm256_blendv_pd(                                                  \
            _mm256_castsi256_pd(IX), _mm256_castsi256_pd(_mm256_add_epi64(lane, _mm256_set1_epi64x(J))), c_)); \
        M1 = _mm256_blendv_pd(M1, d_, c_);                                                          \
    } while (0)

AVX2 static mins update_avx2(const double *row, double sign, const double *v, int m, double u,
                             double *d, int *pred, int i)
{
    const __m256d s = _mm256_set1_pd(sign), vu = _mm256_set1_pd(u), inf = _mm256_set1_pd(INFINITY);
    const __m256i lane = _mm256_set_epi64x(3, 2, 1, 0);
    /* two independent chains (even and odd vectors), merged at the end */
    __m256d m1a = inf, m2a = inf, m1b = inf, m2b = inf;
    __m256i ixa = _mm256_setzero_si256(), ixb = _mm256_setzero_si256();
    int j = 0;
    for (; j + 8 <= m; j += 8) {
        UPDATE_STEP2(j, m1a, m2a, ixa);
        UPDATE_STEP2(j + 4, m1b, m2b, ixb);
    }
    for (; j + 4 <= m; j += 4)
        UPDATE_STEP2(j, m1a, m2a, ixa);
    double a1[9], a2[9];
    long long ai[9];
    _mm256_storeu_pd(a1, m1a), _mm256_storeu_pd(a1 + 4, m1b);
    _mm256_storeu_pd(a2, m2a), _mm256_storeu_pd(a2 + 4, m2b);
    _mm256_storeu_si256((__m256i *)ai, ixa), _mm256_storeu_si256((__m256i *)(ai + 4), ixb);
    mins t = update_generic(row + j, sign, v + j, m - j, u, d + j, pred + j, i); /* the tail: a ninth lane */
    a1[8] = t.m1, a2[8] = t.m2, ai[8] = j + t.idx;
    return merge_lanes(a1, a2, ai, 9);
}

AVX2 static int collect_avx2(lap *L, double mn, double *next)
{
    __m256d inf = _mm256_set1_pd(INFINITY), vm = _mm256_set1_pd(mn), nm = inf;
    double *d = L->d;
    int j = 0;
    for (; j + 4 <= L->m; j += 4) {
        __m256d dj = _mm256_loadu_pd(d + j), le = _mm256_cmp_pd(dj, vm, _CMP_LE_OQ);
        int bits = _mm256_movemask_pd(le);
        if (bits) {
            for (; bits; bits &= bits - 1) {
                int jj = j + __builtin_ctz((unsigned)bits);
                mark(L, jj);
                if (L->y[jj] < 0)
                    return jj;
            }
            dj = _mm256_blendv_pd(dj, inf, le);
        }
        nm = _mm256_min_pd(nm, dj);
    }
    double a[4], best = INFINITY;
    _mm256_storeu_pd(a, nm);
    for (int l = 0; l < 4; l++)
        best = a[l] < best ? a[l] : best;
    return collect_from(L, j, mn, best, next); /* the tail */
}
#else /* no AVX2 here: row_path() is 0, the plain loops run */
#define colmin_avx2 colmin_generic
#define twomin_avx2 twomin_generic
#define update_avx2 update_generic
#define collect_avx2 collect_generic
#endif

/* ---- dispatch -------------------------------------------------------------------------- */

static void colmin(lap *L, int i, int *arg)
{
    if (L->avx == 2)
        colmin_avx(row_of(L, i), L->sign, L->m, i, L->v, arg);
    else if (L->avx == 1)
        colmin_avx2(row_of(L, i), L->sign, L->m, i, L->v, arg);
    else
        colmin_generic(row_of(L, i), L->sign, L->m, i, L->v, arg);
}

static void twomin(lap *L, int i, double *u1, int *j1, double *u2)
{
    if (L->avx == 2)
        twomin_avx(row_of(L, i), L->sign, L->v, L->m, u1, j1, u2);
    else if (L->avx == 1)
        twomin_avx2(row_of(L, i), L->sign, L->v, L->m, u1, j1, u2);
    else
        twomin_generic(row_of(L, i), L->sign, L->v, L->m, u1, j1, u2);
}

static int collect(lap *L, double mn, double *next)
{
    return L->avx == 2 ? collect_avx(L, mn, next) : L->avx == 1 ? collect_avx2(L, mn, next)
                                                                : collect_generic(L, mn, next);
}

static mins update(lap *L, int i, double u)
{
    const double *row = row_of(L, i);
    return L->avx == 2   ? update_avx(row, L->sign, L->v, L->m, u, L->d, L->pred, i)
           : L->avx == 1 ? update_avx2(row, L->sign, L->v, L->m, u, L->d, L->pred, i)
                         : update_generic(row, L->sign, L->v, L->m, u, L->d, L->pred, i);
}

/* The search's next columns: those at distance mn, given the least distances nx of
 * the unmarked columns from the last pass. A unique least (nx.m2 > mn) is marked
 * directly; ties take a pass over d (all columns at mn, in index order). Returns the
 * free column ending the path, or -1, and updates nx to what remains. */
static int advance(lap *L, double mn, mins *nx)
{
    if (nx->idx >= 0 && nx->m1 <= mn && nx->m2 > mn) {
        int j = nx->idx;
        mark(L, j);
        *nx = (mins){nx->m2, INFINITY, -1};
        return L->y[j] < 0 ? j : -1;
    }
    double next = INFINITY; /* set unless a free column ends the path */
    int sink = collect(L, mn, &next);
    *nx = (mins){next, INFINITY, -1};
    return sink;
}

/* The lowest column other than j1 whose reduced cost in row i equals u2 (ties only). */
static int second_col(const lap *L, int i, int j1, double u2)
{
    const double *row = row_of(L, i);
    for (int j = 0; j < L->m; j++)
        if (j != j1 && L->sign * row[j] - L->v[j] == u2)
            return j;
    return j1; /* not reached: u2 is attained */
}

/* ---- the algorithm ------------------------------------------------------------------ */

/* Steps 1-2 (square only): column reduction and reduction transfer. Returns the
 * number of free rows, listed in freel. */
static int column_reduction(lap *L)
{
    int n = L->n, m = L->m, *arg = L->pred, *matches = L->mk;
    for (int j = 0; j < m; j++) {
        L->v[j] = L->sign * L->c[j];
        arg[j] = 0;
    }
    for (int i = 1; i < n; i++)
        colmin(L, i, arg);
    for (int i = 0; i < n; i++)
        matches[i] = 0;
    /* JV's order: the highest column first; a row offered several columns keeps the
     * cheapest (ties: the lowest column, offered last) */
    for (int j = m - 1; j >= 0; j--) {
        int i = arg[j];
        if (++matches[i] == 1) {
            L->x[i] = j;
            L->y[j] = i;
        } else if (L->v[j] <= L->v[L->x[i]]) {
            L->y[L->x[i]] = -1;
            L->x[i] = j;
            L->y[j] = i;
        } else {
            L->y[j] = -1;
        }
    }
    int nfree = 0;
    for (int i = 0; i < n; i++) {
        if (matches[i] == 0) {
            L->freel[nfree++] = i;
        } else if (matches[i] == 1 && m > 1) {
            /* make the row's column tie with its second best: free rows then see the
             * column's true opportunity cost */
            double u1, u2;
            int j1, own = L->x[i];
            twomin(L, i, &u1, &j1, &u2);
            double second = j1 == own ? u2 : u1;
            L->v[own] -= second - (L->sign * row_of(L, i)[own] - L->v[own]);
        }
    }
    return nfree;
}

/* Step 3: augmenting row reduction. A free row takes its best column j1 and lowers
 * v[j1] until j1 ties with its second best, so the evicted owner (if any) is
 * re-processed at once and looks elsewhere. On a tie the row takes the second column
 * instead, and an evicted owner waits for the next pass. The immediate re-processings
 * are bounded per pass (each costs a row read, and unbounded chains are long: 3.6
 * million row reads for a random 11008 x 11008 matrix, 19 s); evicted rows beyond the
 * bound wait for the next pass or for step 4. Three passes of at most 8n (JV use two
 * unbounded): on random 11008 x 11008 matrices this left 96 free rows and took 5.4 s
 * in all, against 266 and 6.1 s for two passes of 4n, 50 and 5.5 s for three of 16n
 * (at 4096 the same time as two of 4n, at 2048 about 10 % slower: 0.065 s). */
static int augmenting_row_reduction(lap *L, int nfree)
{
    for (int pass = 0; pass < 3 && nfree > 0; pass++) {
        int k = 0, prev = nfree;
        long long budget = 8LL * L->n + 64;
        nfree = 0;
        while (k < prev) {
            int i = L->freel[k++];
            double u1, u2;
            int j1;
            twomin(L, i, &u1, &j1, &u2);
            int i0 = L->y[j1];
            int lowered = u1 < u2 && u2 < INFINITY;
            if (lowered) {
                L->v[j1] -= u2 - u1;
            } else if (i0 >= 0 && u2 < INFINITY) {
                j1 = second_col(L, i, j1, u2);
                i0 = L->y[j1];
            }
            L->x[i] = j1;
            L->y[j1] = i;
            if (i0 >= 0) {
                if (lowered && budget-- > 0)
                    L->freel[--k] = i0;
                else
                    L->freel[nfree++] = i0;
            }
        }
    }
    return nfree;
}

/* Step 4: one shortest augmenting path from free row f (Dijkstra on reduced costs). */
static int augment(lap *L, int f)
{
    const double s = L->sign;
    for (int j = 0; j < L->m; j++)
        L->d[j] = INFINITY;
    mins nx = update(L, f, 0); /* d = the reduced costs of row f */
    double mn = 0;
    int lo = 0, sink = -1;
    L->hi = 0;
    for (;;) {
        if (lo == L->hi) { /* the current distance is exhausted: the next one */
            mn = nx.m1;
            if (!(mn < INFINITY))
                return -1;
            if ((sink = advance(L, mn, &nx)) >= 0)
                break;
        }
        int k = lo++, j1 = L->mk[k], i = L->y[j1];
        double u = (s * row_of(L, i)[j1] - L->mkv[k]) - mn;
        nx = update(L, i, u);
        g_stats.rows_scanned++;
        if (nx.m1 <= mn && (sink = advance(L, mn, &nx)) >= 0) /* reached the current distance */
            break;
    }
    /* prices: every marked column moves by (its distance - the final distance) <= 0,
     * which keeps all reduced costs >= 0 and those on the tree at 0 */
    for (int k = 0; k < L->hi; k++)
        L->v[L->mk[k]] = L->mkv[k] + (L->mkd[k] - mn);
    /* flip the path */
    for (int j = sink;;) {
        int i = L->pred[j], prev = L->x[i];
        L->y[j] = i;
        L->x[i] = j;
        if (i == f)
            break;
        j = prev;
    }
    return 0;
}

#define COST_MAX 1e290

#if defined(__x86_64__)
/* Whether any of c[0..n) is NaN, infinite or above COST_MAX in magnitude. */
AVX512 static int any_bad_avx(const double *c, size_t n)
{
    __m512d lim = _mm512_set1_pd(COST_MAX);
    __mmask8 bad = 0;
    for (size_t k = 0; k < n; k += 8) {
        __mmask8 t = n - k >= 8 ? 0xFF : (__mmask8)((1u << (n - k)) - 1);
        __m512d x = _mm512_abs_pd(_mm512_maskz_loadu_pd(t, c + k));
        bad |= _mm512_cmp_pd_mask(x, lim, _CMP_NLE_UQ); /* true for NaN too */
    }
    return bad != 0;
}

AVX2 static int any_bad_avx2(const double *c, size_t n)
{
    const __m256d lim = _mm256_set1_pd(COST_MAX), nosign = _mm256_castsi256_pd(_mm256_set1_epi64x(INT64_MAX));
    __m256d bad = _mm256_setzero_pd();
    size_t k = 0;
    for (; k + 4 <= n; k += 4) /* NLE_UQ: true for NaN too */
        bad = _mm256_or_pd(bad, _mm256_cmp_pd(_mm256_and_pd(_mm256_loadu_pd(c + k), nosign), lim, _CMP_NLE_UQ));
    int any = _mm256_movemask_pd(bad) != 0;
    for (; k < n; k++)
        any |= !(fabs(c[k]) <= COST_MAX);
    return any;
}
#else
#define any_bad_avx(c, n) 0
#define any_bad_avx2(c, n) 0
#endif

/* The first bad cost (n if none), checked a block at a time so the common case is a
 * branch-free pass: a fraction of one read of the matrix. */
static size_t find_bad_cost(const double *c, size_t nm, int avx)
{
    for (size_t b = 0; b < nm; b += 4096) {
        size_t e = nm - b < 4096 ? nm : b + 4096;
        int bad = 0;
        if (avx == 2)
            bad = any_bad_avx(c + b, e - b);
        else if (avx == 1)
            bad = any_bad_avx2(c + b, e - b);
        else
            for (size_t k = b; k < e; k++)
                bad |= !(fabs(c[k]) <= COST_MAX);
        if (bad)
            for (size_t k = b; k < e; k++)
                if (!(fabs(c[k]) <= COST_MAX))
                    return k;
    }
    return nm;
}

static int solve(const double *c, double sign, int n, int m, int *row_to_col, double *total,
                 dk_err *err)
{
    g_stats = (lap_stats){0};
    if (n < 0 || m < 0 || n > m)
        return dk_errf(err, "assignment of %d rows to %d columns: need rows <= columns", n, m);
    /* Differences of costs must not overflow: prices and distances stay within a few
     * times n times the largest cost. */
    size_t nm = (size_t)n * (size_t)m, bad = find_bad_cost(c, nm, row_path());
    if (bad < nm)
        return dk_errf(err, "assignment: cost at row %zu, column %zu is %s", bad / (size_t)m,
                       bad % (size_t)m, isfinite(c[bad]) ? "too large (above 1e290)" : "not finite");
    if (n == 0) {
        if (total)
            *total = 0;
        return 0;
    }
    lap L = {.c = c, .sign = sign, .n = n, .m = m, .avx = row_path()};
    size_t M = (size_t)m, N = (size_t)n;
    L.x = malloc(N * sizeof *L.x);
    L.freel = malloc(N * sizeof *L.freel);
    L.y = malloc(M * sizeof *L.y);
    L.v = malloc(M * sizeof *L.v);
    L.d = malloc(M * sizeof *L.d);
    L.pred = malloc(M * sizeof *L.pred);
    L.mk = malloc(M * sizeof *L.mk);
    L.mkd = malloc(M * sizeof *L.mkd);
    L.mkv = malloc(M * sizeof *L.mkv);
    int rc = 0;
    if (!L.x || !L.freel || !L.y || !L.v || !L.d || !L.pred || !L.mk || !L.mkd || !L.mkv) {
        rc = dk_errf(err, "out of memory for an assignment of %d x %d", n, m);
        goto out;
    }
    for (int i = 0; i < n; i++)
        L.x[i] = -1;
    for (int j = 0; j < m; j++)
        L.y[j] = -1;
    int nfree;
    if (n == m) {
        nfree = column_reduction(&L);
    } else {
        /* rectangular: no column reduction (unused columns must keep equal prices) */
        for (int j = 0; j < m; j++)
            L.v[j] = 0;
        for (int i = 0; i < n; i++)
            L.freel[i] = i;
        nfree = n;
    }
    nfree = augmenting_row_reduction(&L, nfree);
    g_stats.free_after_init = nfree;
    for (int k = 0; k < nfree; k++)
        if (augment(&L, L.freel[k]) != 0) {
            rc = dk_errf(err, "assignment of %d x %d: no finite augmenting path (costs overflow?)", n, m);
            goto out;
        }
    double t = 0;
    for (int i = 0; i < n; i++) {
        row_to_col[i] = L.x[i];
        t += c[(size_t)i * M + (size_t)L.x[i]];
    }
    if (total)
        *total = t;
out:
    free(L.x), free(L.freel), free(L.y), free(L.v), free(L.d), free(L.pred);
    free(L.mk), free(L.mkd), free(L.mkv);
    return rc;
}

int lap_solve(const double *cost, int n, int m, int *row_to_col, double *total, dk_err *err)
{
    return solve(cost, 1.0, n, m, row_to_col, total, err);
}

int lap_solve_max(const double *weight, int n, int m, int *row_to_col, double *total, dk_err *err)
{
    return solve(weight, -1.0, n, m, row_to_col, total, err);
}
