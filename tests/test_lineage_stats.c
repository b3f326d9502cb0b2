/* test_lineage_stats.c: the lineage statistics library (src/lineage/lap.c, stats.c)
 * against independent references: the exact assignment against brute force over all
 * injections (small), SciPy's linear_sum_assignment (fixtures), and an independent
 * O(n^2 m) Hungarian method written here (random, tie-heavy, offset, low-rank and
 * rectangular matrices); Spearman, its t-tail p-value and Fisher's method against
 * SciPy/mpmath values (tests/fixtures/lap/, made by tests/gen_lap_fixtures.py) and a
 * numeric integration; the cosine matrix against a plain double loop, and bit-identical
 * across thread counts and between its AVX-512 and plain C kernels. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage/lap.h"
#include "lineage/stats.h"
#include "test.h"
#include "util/pool.h"

#define FIXTURES "tests/fixtures/lap"

/* splitmix64, the generator tests/gen_lap_fixtures.py also implements */
static uint64_t sm_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double sm_uniform(uint64_t *s) { return (double)(sm_next(s) >> 11) * 0x1.0p-53; }

/* ---- references -------------------------------------------------------------------- */

/* The best total over every injection of n rows into m columns (n <= 7). */
static double brute(const double *c, int n, int m, int maximise)
{
    int used[16] = {0}, pick[16];
    double best = maximise ? -INFINITY : INFINITY;
    int i = 0;
    pick[0] = -1;
    while (i >= 0) {
        if (pick[i] >= 0)
            used[pick[i]] = 0;
        int j = pick[i] + 1;
        while (j < m && used[j])
            j++;
        if (j == m) {
            pick[i] = -1;
            i--;
            continue;
        }
        pick[i] = j;
        used[j] = 1;
        if (i == n - 1) {
            double s = 0;
            for (int k = 0; k < n; k++)
                s += c[k * m + pick[k]];
            if (maximise ? s > best : s < best)
                best = s;
        } else {
            pick[++i] = -1;
        }
    }
    return best;
}

/* The Hungarian method with potentials (one Dijkstra-like pass per row over all
 * columns, O(n^2 m)), written independently of lap.c: the minimum total, n <= m. */
static double hungarian(const double *a, int n, int m)
{
    double *u = calloc((size_t)n + 1, sizeof *u), *v = calloc((size_t)m + 1, sizeof *v);
    double *minv = malloc(((size_t)m + 1) * sizeof *minv);
    int *p = calloc((size_t)m + 1, sizeof *p), *way = calloc((size_t)m + 1, sizeof *way);
    char *used = malloc((size_t)m + 1);
    for (int i = 1; i <= n; i++) {
        p[0] = i;
        int j0 = 0;
        for (int j = 0; j <= m; j++)
            minv[j] = INFINITY, used[j] = 0;
        do {
            used[j0] = 1;
            int i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            for (int j = 1; j <= m; j++)
                if (!used[j]) {
                    double cur = a[(size_t)(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
                    if (cur < minv[j])
                        minv[j] = cur, way[j] = j0;
                    if (minv[j] < delta)
                        delta = minv[j], j1 = j;
                }
            for (int j = 0; j <= m; j++)
                if (used[j])
                    u[p[j]] += delta, v[j] -= delta;
                else
                    minv[j] -= delta;
            j0 = j1;
        } while (p[j0] != 0);
        do {
            int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    double t = 0;
    for (int j = 1; j <= m; j++)
        if (p[j])
            t += a[(size_t)(p[j] - 1) * m + (j - 1)];
    free(u), free(v), free(minv), free(p), free(way), free(used);
    return t;
}

/* Checks that p is an injection of n rows into m columns whose cost sum is total. */
static int valid_assignment(const double *c, int n, int m, const int *p, double total)
{
    char *seen = calloc((size_t)m, 1);
    double s = 0;
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        if (p[i] < 0 || p[i] >= m || seen[p[i]])
            ok = 0;
        else
            seen[p[i]] = 1, s += c[(size_t)i * m + p[i]];
    }
    free(seen);
    return ok && s == total;
}

/* Solves with both loop paths (AVX-512 where available, plain C) and checks they agree
 * exactly; returns the rc of the first. */
static int solve_both(const double *c, int n, int m, int maximise, int *p, double *total)
{
    dk_err err;
    int rc = maximise ? lap_solve_max(c, n, m, p, total, &err) : lap_solve(c, n, m, p, total, &err);
    int *q = malloc(((size_t)n + 1) * sizeof *q);
    double t2 = NAN;
    lap_force_generic(1);
    int rc2 = maximise ? lap_solve_max(c, n, m, q, &t2, &err) : lap_solve(c, n, m, q, &t2, &err);
    lap_force_generic(0);
    int same = rc == rc2 && (rc != 0 || (memcmp(p, q, (size_t)n * sizeof *q) == 0 && t2 == *total));
    free(q);
    return same ? rc : -2;
}

/* ---- assignment ---------------------------------------------------------------------- */

TEST(lineage_stats_lap_matches_brute_force_on_small_matrices)
{
    uint64_t s = 1;
    for (int it = 0; it < 600; it++) {
        int n = 1 + (int)(sm_next(&s) % 7), m = n + (int)(sm_next(&s) % 3);
        if (m > 8)
            m = 8;
        int kind = it % 4, maximise = (it / 4) & 1;
        double c[64];
        for (int k = 0; k < n * m; k++) {
            uint64_t z = sm_next(&s);
            c[k] = kind == 0   ? sm_uniform(&s) * 10 - 5      /* continuous */
                   : kind == 1 ? (double)(z % 3)               /* many ties */
                   : kind == 2 ? (double)((int)(z % 201) - 100) /* integers, signs */
                               : 7.0;                           /* all equal */
        }
        int p[8];
        double total;
        CHECK_MSG(solve_both(c, n, m, maximise, p, &total) == 0, "it %d: failed or paths differ", it);
        CHECK(valid_assignment(c, n, m, p, total));
        double want = brute(c, n, m, maximise);
        CHECK_MSG(fabs(total - want) <= 1e-12 * (1 + fabs(want)), "it %d (kind %d, %dx%d, max %d): %.17g vs %.17g",
                  it, kind, n, m, maximise, total, want);
    }
}

/* Regenerates a fixture matrix (see tests/gen_lap_fixtures.py). */
static double *fixture_matrix(const char *kind, int n, int m, uint64_t seed, int d)
{
    double *c = malloc((size_t)n * m * sizeof *c);
    uint64_t s = seed;
    if (strcmp(kind, "uniform") == 0) {
        for (size_t k = 0; k < (size_t)n * m; k++)
            c[k] = sm_uniform(&s);
    } else if (strcmp(kind, "int") == 0) {
        for (size_t k = 0; k < (size_t)n * m; k++)
            c[k] = (double)((sm_next(&s) >> 11) % 10);
    } else if (strcmp(kind, "cosine") == 0) {
        float *a = malloc((size_t)n * d * sizeof *a), *b = malloc((size_t)m * d * sizeof *b);
        for (size_t k = 0; k < (size_t)n * d; k++)
            a[k] = (float)(2 * sm_uniform(&s) - 1);
        for (size_t k = 0; k < (size_t)m * d; k++)
            b[k] = (float)(2 * sm_uniform(&s) - 1);
        dk_err err;
        if (cosine_matrix(NULL, a, (size_t)d, n, b, (size_t)d, m, d, c, &err) != 0)
            free(c), c = NULL;
        free(a), free(b);
    } else {
        free(c), c = NULL;
    }
    return c;
}

TEST(lineage_stats_lap_matches_scipy_linear_sum_assignment_fixtures)
{
    FILE *f = fopen(FIXTURES "/lap.txt", "r");
    CHECK_MSG(f != NULL, "cannot open " FIXTURES "/lap.txt (run from the repository root)");
    char *line = NULL, *line2 = NULL;
    size_t cap = 0, cap2 = 0;
    int cases = 0;
    while (getline(&line, &cap, f) > 0) {
        if (line[0] == '#')
            continue;
        char name[64], kind[16];
        int n, m, maximise, d;
        unsigned long long seed;
        double want_total, checksum;
        if (sscanf(line, "lap %63s %15s %d %d %d %llu %d %lf %lf", name, kind, &n, &m, &maximise, &seed, &d,
                   &want_total, &checksum) != 9 || getline(&line2, &cap2, f) <= 0) {
            test_fail(__FILE__, __LINE__, "bad fixture line: %s", line);
            break;
        }
        double *c = fixture_matrix(kind, n, m, seed, d);
        int *want = malloc((size_t)n * sizeof *want), *got = malloc((size_t)n * sizeof *got);
        char *q = line2 + strlen("assign");
        for (int i = 0; i < n; i++)
            want[i] = (int)strtol(q, &q, 10);
        double sum = 0, total = NAN;
        for (size_t k = 0; c && k < (size_t)n * m; k++)
            sum += c[k];
        int rc = c ? solve_both(c, n, m, maximise, got, &total) : -1;
        int ok = c && rc == 0 && valid_assignment(c, n, m, got, total);
        int same = ok && memcmp(want, got, (size_t)n * sizeof *got) == 0;
        free(c), free(want), free(got);
        CHECK_MSG(ok, "%s: rc %d", name, rc);
        if (strcmp(kind, "cosine") != 0) /* the generators agree bit for bit */
            CHECK_MSG(fabs(sum - checksum) <= 1e-9 * fabs(checksum), "%s: matrix differs from the script's", name);
        CHECK_MSG(fabs(total - want_total) <= 1e-10 * (1 + fabs(want_total)), "%s: total %.17g, scipy %.17g", name,
                  total, want_total);
        /* continuous costs have a unique optimum: the same assignment; integer costs tie */
        if (strcmp(kind, "int") != 0)
            CHECK_MSG(same, "%s: assignment differs from scipy's", name);
        cases++;
    }
    free(line), free(line2);
    fclose(f);
    CHECK_EQ(cases, 8);
}

TEST(lineage_stats_lap_matches_independent_hungarian_on_random_matrices)
{
    uint64_t s = 99;
    static const int shapes[][2] = {{30, 30}, {64, 64}, {100, 100}, {257, 257}, {40, 90}, {120, 121},
                                    {200, 333}, {1, 50}, {150, 150}, {90, 90}};
    for (int sh = 0; sh < 10; sh++)
        for (int kind = 0; kind < 5; kind++) {
            int n = shapes[sh][0], m = shapes[sh][1], maximise = (sh + kind) & 1;
            double *c = malloc((size_t)n * m * sizeof *c), *neg = malloc((size_t)n * m * sizeof *neg);
            int *p = malloc((size_t)n * sizeof *p);
            /* low rank: c_ij = x_i . y_j over 3 dimensions (lots of near-equal paths) */
            double x[3 * 400], y[3 * 400];
            for (int k = 0; k < 3 * 400; k++)
                x[k] = sm_uniform(&s) - 0.5, y[k] = sm_uniform(&s) - 0.5;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < m; j++) {
                    uint64_t z = sm_next(&s);
                    double v = kind == 0   ? sm_uniform(&s)                       /* uniform */
                               : kind == 1 ? (double)(z % 21)                     /* ties */
                               : kind == 2 ? 1e6 + (double)(z % 1000)             /* offset */
                               : kind == 3 ? x[3 * i] * y[3 * j] + x[3 * i + 1] * y[3 * j + 1] +
                                                 x[3 * i + 2] * y[3 * j + 2]        /* rank 3 */
                                           : (double)(z % 1000) * (z % 7 == 0 ? -1e3 : 1); /* spread */
                    c[(size_t)i * m + j] = v;
                    neg[(size_t)i * m + j] = -v;
                }
            double total;
            CHECK_MSG(solve_both(c, n, m, maximise, p, &total) == 0, "%dx%d kind %d: failed or paths differ", n,
                      m, kind);
            CHECK(valid_assignment(c, n, m, p, total));
            double want = maximise ? -hungarian(neg, n, m) : hungarian(c, n, m);
            CHECK_MSG(fabs(total - want) <= 1e-9 * (1 + fabs(want)), "%dx%d kind %d max %d: %.17g vs %.17g", n, m,
                      kind, maximise, total, want);
            free(c), free(neg), free(p);
        }
}

TEST(lineage_stats_lap_recovers_a_hidden_permutation_square_and_rectangular)
{
    /* B's row i is A's row perm[i] plus noise: the similarity is a permuted identity
     * (1 on the hidden pairs) plus small random values */
    static const int shapes[][2] = {{500, 500}, {300, 700}};
    for (int sh = 0; sh < 2; sh++) {
        int n = shapes[sh][0], m = shapes[sh][1];
        int *perm = malloc((size_t)m * sizeof *perm), *got = malloc((size_t)n * sizeof *got);
        double *w = malloc((size_t)n * m * sizeof *w);
        uint64_t s = 7 + (uint64_t)sh;
        for (int j = 0; j < m; j++)
            perm[j] = j;
        for (int j = m - 1; j > 0; j--) {
            int k = (int)(sm_next(&s) % (uint64_t)(j + 1)), t = perm[j];
            perm[j] = perm[k];
            perm[k] = t;
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                w[(size_t)i * m + j] = (j == perm[i] ? 1.0 : 0.0) + 0.45 * sm_uniform(&s) - 0.2;
        double total;
        CHECK(solve_both(w, n, m, 1, got, &total) == 0);
        for (int i = 0; i < n; i++)
            CHECK_MSG(got[i] == perm[i], "%dx%d row %d: %d, hidden %d", n, m, i, got[i], perm[i]);
        /* minimising the negated matrix is the same problem */
        for (size_t k = 0; k < (size_t)n * m; k++)
            w[k] = -w[k];
        double total2;
        CHECK(solve_both(w, n, m, 0, got, &total2) == 0);
        CHECK(total2 == -total);
        for (int i = 0; i < n; i++)
            CHECK_EQ(got[i], perm[i]);
        free(perm), free(got), free(w);
    }
}

TEST(lineage_stats_lap_rejects_bad_input_and_handles_trivial_sizes)
{
    double c[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, total = -1;
    int p[4];
    dk_err err;
    CHECK(lap_solve(c, 3, 2, p, &total, &err) == -1);
    CHECK_CONTAINS(err.msg, "3 rows to 2 columns: need rows <= columns");
    CHECK(lap_solve(c, -1, 2, p, &total, &err) == -1);
    static const double bad[] = {NAN, INFINITY, -INFINITY, 1e300};
    static const char *what[] = {"not finite", "not finite", "not finite", "too large"};
    for (int b = 0; b < 4; b++) {
        double w[12];
        memcpy(w, c, sizeof w);
        w[7] = bad[b];
        CHECK(lap_solve(w, 3, 4, p, &total, &err) == -1);
        CHECK_CONTAINS(err.msg, "row 1, column 3 is");
        CHECK_CONTAINS(err.msg, what[b]);
        CHECK(lap_solve_max(w, 3, 4, p, &total, &err) == -1);
        CHECK_CONTAINS(err.msg, what[b]);
    }
    /* a bad value far into a big matrix (past the first checked blocks) */
    double *big = calloc(100 * 100, sizeof *big);
    int *bp = malloc(100 * sizeof *bp);
    big[97 * 100 + 3] = NAN;
    CHECK(lap_solve(big, 100, 100, bp, &total, &err) == -1);
    CHECK_CONTAINS(err.msg, "row 97, column 3 is not finite");
    big[97 * 100 + 3] = 0;
    CHECK(lap_solve(big, 100, 100, bp, &total, &err) == 0 && total == 0);
    free(big), free(bp);
    CHECK(lap_solve(c, 0, 5, p, &total, &err) == 0 && total == 0);
    CHECK(lap_solve(c, 1, 1, p, &total, &err) == 0 && p[0] == 0 && total == 1);
    CHECK(lap_solve(c, 1, 4, p, &total, &err) == 0 && p[0] == 0 && total == 1);
    CHECK(lap_solve_max(c, 1, 4, p, &total, &err) == 0 && p[0] == 3 && total == 4);
    CHECK(lap_solve(c, 2, 2, p, NULL, &err) == 0 && p[0] != p[1]); /* total may be NULL (a tie: 1+4 = 2+3) */
    /* n x n with one column dominant everywhere: every row but one must go elsewhere */
    double d[9] = {0, 5, 6, 0, 7, 5, 0, 9, 9};
    CHECK(lap_solve(d, 3, 3, p, &total, &err) == 0 && total == 10 && p[0] == 1 && p[1] == 2 && p[2] == 0);
}

TEST(lineage_stats_lap_is_deterministic_and_counts_its_work)
{
    enum { N = 300 };
    double *c = malloc((size_t)N * N * sizeof *c);
    uint64_t s = 5;
    for (int k = 0; k < N * N; k++)
        c[k] = sm_uniform(&s);
    int p1[N], p2[N];
    double t1, t2;
    dk_err err;
    CHECK(lap_solve(c, N, N, p1, &t1, &err) == 0);
    lap_stats st = lap_last_stats();
    CHECK(st.free_after_init >= 0 && st.free_after_init < N);
    CHECK(st.free_after_init == 0 || st.rows_scanned > 0);
    CHECK(lap_solve(c, N, N, p2, &t2, &err) == 0);
    CHECK(memcmp(p1, p2, sizeof p1) == 0 && t1 == t2);
    CHECK(lap_last_stats().rows_scanned == st.rows_scanned);
    free(c);
}

/* ---- Spearman, p-values, Fisher ------------------------------------------------------ */

static int read_doubles(const char *line, const char *tag, double *out, int n)
{
    size_t tl = strlen(tag);
    if (strncmp(line, tag, tl) != 0)
        return -1;
    char *q = (char *)line + tl;
    for (int i = 0; i < n; i++) {
        char *e;
        out[i] = strtod(q, &e);
        if (e == q)
            return -1;
        q = e;
    }
    return 0;
}

TEST(lineage_stats_spearman_known_values_and_scipy_fixtures)
{
    int id[6] = {0, 1, 2, 3, 4, 5}, rev[6] = {5, 4, 3, 2, 1, 0}, sw[6] = {1, 0, 2, 3, 4, 5};
    CHECK(spearman_perm(id, id, 6) == 1.0);
    CHECK(spearman_perm(id, rev, 6) == -1.0);
    CHECK(fabs(spearman_perm(id, sw, 6) - (1 - 6.0 * 2 / (6 * 35))) < 1e-15);
    CHECK(spearman_perm(id, id, 1) == 0);
    double x[6] = {0.5, -1, 3, 2, 10, 4}, y[6], r[6], c[6] = {2, 2, 2, 2, 2, 2};
    for (int i = 0; i < 6; i++)
        y[i] = exp(x[i]), r[i] = -x[i] * x[i] * x[i];
    CHECK(fabs(spearman(x, y, 6) - 1) < 1e-15);  /* monotone transform */
    CHECK(fabs(spearman(x, r, 6) + 1) < 1e-15);  /* decreasing transform */
    CHECK(spearman(x, c, 6) == 0);                /* constant side */
    y[2] = NAN;
    CHECK(isnan(spearman(x, y, 6)));
    /* spearman equals spearman_perm on permutations */
    int a[50], b[50];
    double ad[50], bd[50];
    uint64_t s = 3;
    for (int i = 0; i < 50; i++)
        a[i] = b[i] = i;
    for (int i = 49; i > 0; i--) {
        int j = (int)(sm_next(&s) % (uint64_t)(i + 1)), t = b[i];
        b[i] = b[j];
        b[j] = t;
    }
    for (int i = 0; i < 50; i++)
        ad[i] = a[i], bd[i] = b[i];
    CHECK(fabs(spearman(ad, bd, 50) - spearman_perm(a, b, 50)) < 1e-14);

    FILE *f = fopen(FIXTURES "/stats.txt", "r");
    CHECK_MSG(f != NULL, "cannot open " FIXTURES "/stats.txt (run from the repository root)");
    char *line = NULL, *lx = NULL, *ly = NULL;
    size_t cap = 0, capx = 0, capy = 0;
    int cases = 0;
    while (getline(&line, &cap, f) > 0) {
        int n;
        double want;
        if (sscanf(line, "spearman %d %lf", &n, &want) != 2)
            continue;
        double *xs = malloc((size_t)n * sizeof *xs), *ys = malloc((size_t)n * sizeof *ys);
        int ok = getline(&lx, &capx, f) > 0 && getline(&ly, &capy, f) > 0 && read_doubles(lx, "x", xs, n) == 0 &&
                 read_doubles(ly, "y", ys, n) == 0;
        double got = ok ? spearman(xs, ys, (size_t)n) : NAN;
        free(xs), free(ys);
        CHECK_MSG(ok && fabs(got - want) < 1e-13, "spearman n %d: %.17g, scipy %.17g", n, got, want);
        cases++;
    }
    free(line), free(lx), free(ly);
    fclose(f);
    CHECK_EQ(cases, 3);
}

/* The t distribution's upper tail by Simpson integration of its density. */
static double t_tail(double t, double df)
{
    double c = exp(lgamma((df + 1) / 2) - lgamma(df / 2)) / sqrt(df * M_PI), s = 0, hi = t + 2000;
    int K = 400000;
    double h = (hi - t) / K;
    for (int k = 0; k <= K; k++) {
        double x = t + k * h, f = c * pow(1 + x * x / df, -(df + 1) / 2);
        s += f * (k == 0 || k == K ? 1 : k % 2 ? 4 : 2);
    }
    return s * h / 3;
}

TEST(lineage_stats_spearman_p_value_matches_mpmath_deep_in_the_tail)
{
    FILE *f = fopen(FIXTURES "/stats.txt", "r");
    CHECK_MSG(f != NULL, "cannot open " FIXTURES "/stats.txt");
    char *line = NULL;
    size_t cap = 0;
    int cases = 0;
    while (getline(&line, &cap, f) > 0) {
        double rho, want;
        int n;
        if (sscanf(line, "tp %lf %d %lf", &rho, &n, &want) != 3)
            continue;
        double got = spearman_log10_p(rho, n);
        /* the floor log10(1/n!) never binds in these cases */
        CHECK_MSG(fabs(got - want) <= 1e-10 * (1 + fabs(want)), "rho %g n %d: %.15g, mpmath %.15g", rho, n, got,
                  want);
        cases++;
    }
    free(line);
    fclose(f);
    CHECK_EQ(cases, 16);
    /* an independent numeric integration of the t density for moderate values */
    static const double mid[][2] = {{0.5, 10}, {0.3, 40}, {0.8, 12}, {0.25, 100}};
    for (int k = 0; k < 4; k++) {
        double rho = mid[k][0];
        int n = (int)mid[k][1];
        double t = rho * sqrt((n - 2) / (1 - rho * rho)), want = log10(t_tail(t, n - 2));
        CHECK_MSG(fabs(spearman_log10_p(rho, n) - want) < 1e-6, "rho %g n %d: %.10g vs %.10g", rho, n,
                  spearman_log10_p(rho, n), want);
    }
    CHECK(fabs(spearman_log10_p(0, 100) - log10(0.5)) < 1e-15);
    CHECK(fabs(spearman_log10_p(1e-12, 100) - log10(0.5)) < 1e-9); /* continuous through 0 */
    CHECK(fabs(spearman_log10_p(-1e-12, 100) - log10(0.5)) < 1e-9);
    double lp = spearman_log10_p(0.99, 2048);
    CHECK(isfinite(lp) && lp < -300);
    /* rho = 1: the exact probability of the one most extreme ranking, 1/n! */
    CHECK(fabs(spearman_log10_p(1.0, 2048) + lgamma(2049.0) / log(10.0)) < 1e-9);
    CHECK(spearman_log10_p(1.0, 2048) < -5000 && isfinite(spearman_log10_p(1.0, 2048)));
    CHECK(fabs(spearman_log10_p(0.999999, 8) + lgamma(9.0) / log(10.0)) < 1e-12); /* floored */
    CHECK(spearman_log10_p(-1.0, 50) == 0 && spearman_log10_p(0.5, 2) == 0 && spearman_log10_p(NAN, 50) == 0);
    /* non-increasing in rho, strictly where the floor does not bind; never -inf */
    static const int ns[] = {5, 20, 100, 2048, 11008};
    for (int k = 0; k < 5; k++) {
        double prev = 1;
        for (int i = -100; i <= 100; i++) {
            double rho = i / 100.0 * (i == 100 ? 1 : 0.9999), v = spearman_log10_p(rho, ns[k]);
            CHECK_MSG(isfinite(v) && v <= 0, "n %d rho %g: %g", ns[k], rho, v);
            CHECK_MSG(v <= prev, "n %d rho %g: %g after %g", ns[k], rho, v, prev);
            prev = v;
        }
    }
}

TEST(lineage_stats_fisher_matches_chi_square_survival_without_underflow)
{
    double one = -3.25;
    CHECK(fisher_log10_p(&one, 1) == -3.25);
    double deep1 = -4000.123;
    CHECK(fisher_log10_p(&deep1, 1) == -4000.123);
    FILE *f = fopen(FIXTURES "/stats.txt", "r");
    CHECK_MSG(f != NULL, "cannot open " FIXTURES "/stats.txt");
    char *line = NULL;
    size_t cap = 0;
    int cases = 0;
    while (getline(&line, &cap, f) > 0) {
        int k, pos;
        double want;
        if (sscanf(line, "fisher %d %lf%n", &k, &want, &pos) != 2)
            continue;
        double v[64];
        CHECK(k <= 64 && read_doubles(line + pos, "", v, k) == 0);
        double got = fisher_log10_p(v, k);
        CHECK_MSG(fabs(got - want) <= 1e-10 * (1 + fabs(want)) && got <= 0, "fisher k %d: %.15g, reference %.15g", k,
                  got, want);
        cases++;
    }
    free(line);
    fclose(f);
    CHECK_EQ(cases, 8);
    /* two tests of 0.1: chi2(4) survival at -4 ln 0.1 = 0.01 (1 + ln 100) */
    double two[2] = {-1, -1};
    CHECK(fabs(fisher_log10_p(two, 2) - log10(0.01 * (1 + log(100.0)))) < 1e-14);
    /* k inputs of 1e-500 each: finite, below each input, monotone in k */
    double deep[100], prev = 0;
    for (int i = 0; i < 100; i++)
        deep[i] = -500;
    for (int k = 1; k <= 100; k++) {
        double v = fisher_log10_p(deep, k);
        CHECK_MSG(isfinite(v) && v < prev && v <= -500, "k %d: %g", k, v);
        prev = v;
    }
    double ones[3] = {0, 0, 0.5}; /* p = 1 (and a stray positive log) combine to 1 */
    CHECK(fisher_log10_p(ones, 3) == 0);
    CHECK(fisher_log10_p(ones, 0) == 0);
    double withnan[2] = {-1, NAN};
    CHECK(isnan(fisher_log10_p(withnan, 2)));
}

TEST(lineage_stats_pearson_linear_constant_and_offset)
{
    double x[100], y[100], z[100], c[100], big[100];
    float xf[100], yf[100];
    for (int i = 0; i < 100; i++) {
        x[i] = sin(i * 0.37) * 5 + i * 0.01;
        y[i] = 2 * x[i] + 3;
        z[i] = -0.5 * x[i] + 1;
        c[i] = 4.25;
        big[i] = x[i] + 1e9; /* a large mean must not swamp the centred sums */
        xf[i] = (float)x[i];
        yf[i] = (float)(2 * xf[i] + 3);
    }
    CHECK(fabs(pearson(x, y, 100) - 1) < 1e-15 && pearson(x, y, 100) <= 1);
    CHECK(fabs(pearson(x, z, 100) + 1) < 1e-15 && pearson(x, z, 100) >= -1);
    CHECK(pearson(x, c, 100) == 0 && pearson(c, x, 100) == 0);
    CHECK(fabs(pearson(big, y, 100) - 1) < 1e-9);
    CHECK(fabs(pearson_f32(xf, yf, 100) - 1) < 1e-7);
    CHECK(pearson(x, y, 1) == 0);
    /* a known value: x = 1..5, y = (2, 1, 4, 3, 5): r = 0.8 */
    double a[5] = {1, 2, 3, 4, 5}, b[5] = {2, 1, 4, 3, 5};
    CHECK(fabs(pearson(a, b, 5) - 0.8) < 1e-15);
}

/* ---- cosine matrix ------------------------------------------------------------------- */

static void naive_cosine(const float *a, size_t lda, int na, const float *b, size_t ldb, int nb, int d,
                         double *out)
{
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++) {
            double s = 0, sa = 0, sb = 0;
            for (int k = 0; k < d; k++) {
                double x = a[(size_t)i * lda + k], y = b[(size_t)j * ldb + k];
                s += x * y, sa += x * x, sb += y * y;
            }
            out[(size_t)i * nb + j] = sa > 0 && sb > 0 ? s / sqrt(sa * sb) : 0;
        }
}

TEST(lineage_stats_cosine_matrix_matches_naive_loop_and_is_thread_independent)
{
    /* shapes across the micro-tile (12 x 16), task (192 x 512) and depth-block (256) edges */
    static const int shapes[][5] = {{37, 53, 301, 310, 301},     {1, 1, 1, 1, 1},
                                    {200, 530, 600, 600, 611},   {12, 16, 256, 256, 256},
                                    {25, 17, 513, 520, 513},     {5, 7, 0, 0, 0},
                                    {20, 450, 10000, 10000, 10001}}; /* wide rows: fewer b rows per task */
    pool *p1 = pool_new(1), *p2 = pool_new(2);
    CHECK(p1 && p2);
    for (int sh = 0; sh < 7; sh++) {
        int na = shapes[sh][0], nb = shapes[sh][1], d = shapes[sh][2];
        size_t lda = (size_t)shapes[sh][3], ldb = (size_t)shapes[sh][4];
        float *a = malloc(((size_t)na * lda + 1) * sizeof *a), *b = malloc(((size_t)nb * ldb + 1) * sizeof *b);
        double *want = malloc((size_t)na * nb * sizeof *want), *o[4];
        uint64_t s = 11 + (uint64_t)sh;
        for (size_t k = 0; k < (size_t)na * lda; k++)
            a[k] = (float)(sm_uniform(&s) * 2 - 1);
        for (size_t k = 0; k < (size_t)nb * ldb; k++)
            b[k] = (float)(sm_uniform(&s) * 2 - 1);
        if (na > 3 && d > 0) {
            memset(a + 2 * lda, 0, (size_t)d * sizeof *a); /* a zero row: cosine 0 */
            memcpy(b + ldb, a + 3 * lda, (size_t)d * sizeof *a); /* an identical row: cosine 1 */
        }
        naive_cosine(a, lda, na, b, ldb, nb, d, want);
        dk_err err;
        pool *pools[4] = {NULL, p1, p2, p2};
        for (int v = 0; v < 4; v++) {
            o[v] = malloc((size_t)na * nb * sizeof *o[v]);
            for (size_t k = 0; k < (size_t)na * nb; k++)
                o[v][k] = NAN;
            cosine_force_generic(v == 3);
            CHECK(cosine_matrix(pools[v], a, lda, na, b, ldb, nb, d, o[v], &err) == 0);
            cosine_force_generic(0);
        }
        double worst = 0;
        for (size_t k = 0; k < (size_t)na * nb; k++)
            worst = fmax(worst, fabs(o[0][k] - want[k]));
        CHECK_MSG(worst < 1e-13, "%dx%dx%d: max error %g", na, nb, d, worst);
        for (int v = 1; v < 4; v++)
            CHECK_MSG(memcmp(o[0], o[v], (size_t)na * nb * sizeof *o[0]) == 0, "%dx%dx%d: variant %d differs", na,
                      nb, d, v);
        if (na > 3 && d > 0) {
            CHECK(o[0][2 * nb + 0] == 0);
            CHECK(fabs(o[0][3 * nb + 1] - 1) < 1e-13 && o[0][3 * nb + 1] <= 1);
        }
        free(a), free(b), free(want);
        for (int v = 0; v < 4; v++)
            free(o[v]);
    }
    dk_err err;
    float z[4] = {0};
    double out[4];
    CHECK(cosine_matrix(NULL, z, 1, 2, z, 2, 2, 2, out, &err) == -1);
    CHECK_CONTAINS(err.msg, "row stride");
    CHECK(cosine_matrix(NULL, z, 2, -1, z, 2, 2, 2, out, &err) == -1);
    CHECK(cosine_matrix(NULL, z, 2, 0, z, 2, 2, 2, out, &err) == 0);
    pool_free(p1);
    pool_free(p2);
}
