/* lineage_match.c: see lineage_match.h. */
#include "lineage/lineage_match.h"

#include <math.h>
#include <stdlib.h>

#include "lineage/lap.h"
#include "lineage/stats.h"
#include "util/progress.h"

void unit_rows(float *x, size_t n, int d)
{
    for (size_t r = 0; r < n; r++) {
        float *v = x + r * (size_t)d;
        double s = 0;
        for (int k = 0; k < d; k++)
            s += (double)v[k] * v[k];
        float inv = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
        for (int k = 0; k < d; k++)
            v[k] *= inv;
    }
}

int matcher_init(matcher *m, pool *p)
{
    *m = (matcher){0};
    m->mm = mm_ctx_new(p);
    m->pool = p;
    return m->mm ? 0 : -1;
}

pool *matcher_pool(matcher *m) { return m->pool; }

void matcher_free(matcher *m)
{
    mm_ctx_free(m->mm);
    free(m->c);
    free(m->cd);
    free(m->pa);
    free(m->pb);
    *m = (matcher){0};
}

static int reserve(matcher *m, size_t elems, int rows, dk_err *err)
{
    if (elems > m->cap) {
        free(m->c);
        free(m->cd);
        m->c = malloc(elems * sizeof *m->c);
        m->cd = malloc(elems * sizeof *m->cd);
        m->cap = elems;
        if (!m->c || !m->cd) {
            m->cap = 0;
            return dk_errf(err, "out of memory for a %zu-element similarity matrix", elems);
        }
    }
    if (rows > m->pcap) {
        free(m->pa);
        free(m->pb);
        m->pa = malloc((size_t)rows * sizeof *m->pa);
        m->pb = malloc((size_t)rows * sizeof *m->pb);
        m->pcap = rows;
        if (!m->pa || !m->pb) {
            m->pcap = 0;
            return dk_errf(err, "out of memory");
        }
    }
    return 0;
}

/* perm (n) = the assignment of rows to columns maximising the similarities c (n x F). */
static int assign_sim(matcher *m, const float *c, int n, int F, int *perm, dk_err *err)
{
    size_t e = (size_t)n * F;
    for (size_t i = 0; i < e; i++)
        m->cd[i] = c[i];
    double t0 = now_seconds(), total;
    int rc = lap_solve_max(m->cd, n, F, perm, &total, err);
    m->lap_seconds += now_seconds() - t0;
    return rc;
}

/* perm (n) = the assignment of B's rows b (n x d) to A's rows a (F x d) by cosine. */
static int assign(matcher *m, const float *b, int n, const float *a, int F, int d, int *perm,
                  dk_err *err)
{
    mm_f32(m->mm, 0, 1, n, F, d, b, d, a, d, 0.0f, m->c, F);
    return assign_sim(m, m->c, n, F, perm, err);
}

/* Spearman of two assignments, with its p. */
static int agreement(int R, const int *pa, const int *pb, double *rho, double *log10p, dk_err *err)
{
    double *x = malloc((size_t)R * 2 * sizeof *x);
    if (!x)
        return dk_errf(err, "out of memory");
    for (int k = 0; k < R; k++) {
        x[k] = pa[k];
        x[R + k] = pb[k];
    }
    *rho = spearman(x, x + R, (size_t)R);
    *log10p = spearman_log10_p(*rho, R);
    free(x);
    return 0;
}

int match_gate_up(matcher *m, const float *bg, const float *bu, int R, const float *ag,
                  const float *au, int F, int d, double *rho, double *log10p, dk_err *err)
{
    if (R < 3 || F < R)
        return dk_errf(err, "cannot match %d neurons into %d", R, F);
    if (reserve(m, (size_t)R * F, R, err) != 0 || assign(m, bg, R, ag, F, d, m->pa, err) != 0 ||
        assign(m, bu, R, au, F, d, m->pb, err) != 0)
        return -1;
    return agreement(R, m->pa, m->pb, rho, log10p, err);
}

/* As assign_sim from the transposed similarities ct (F rows of stride ldt, the n
 * columns from 0), transposed while converted, 16 columns of A at a time. */
static int assign_sim_t(matcher *m, const float *ct, size_t ldt, int n, int F, int *perm, dk_err *err)
{
    for (int f0 = 0; f0 < F; f0 += 16) {
        int fe = F - f0 < 16 ? F : f0 + 16;
        for (int i = 0; i < n; i++)
            for (int f = f0; f < fe; f++)
                m->cd[(size_t)i * F + f] = ct[(size_t)f * ldt + i];
    }
    double t0 = now_seconds(), total;
    int rc = lap_solve_max(m->cd, n, F, perm, &total, err);
    m->lap_seconds += now_seconds() - t0;
    return rc;
}

int match_gate_up_sims_t(matcher *m, const float *ctg, const float *ctu, size_t ldt, int R, int F,
                         double *rho, double *log10p, dk_err *err)
{
    if (R < 3 || F < R)
        return dk_errf(err, "cannot match %d neurons into %d", R, F);
    if (reserve(m, (size_t)R * F, R, err) != 0 || assign_sim_t(m, ctg, ldt, R, F, m->pa, err) != 0 ||
        assign_sim_t(m, ctu, ldt, R, F, m->pb, err) != 0)
        return -1;
    return agreement(R, m->pa, m->pb, rho, log10p, err);
}

int match_identity(matcher *m, const float *b, int n, const float *a, int F, int d, double *rho,
                   double *log10p, dk_err *err)
{
    if (n < 3 || F < n)
        return dk_errf(err, "cannot match %d neurons into %d", n, F);
    if (reserve(m, (size_t)n * F, n, err) != 0 || assign(m, b, n, a, F, d, m->pa, err) != 0)
        return -1;
    double *x = malloc((size_t)n * 2 * sizeof *x);
    if (!x)
        return dk_errf(err, "out of memory");
    for (int k = 0; k < n; k++) {
        x[k] = k;
        x[n + k] = m->pa[k];
    }
    *rho = spearman(x, x + n, (size_t)n);
    *log10p = spearman_log10_p(*rho, n);
    free(x);
    return 0;
}
