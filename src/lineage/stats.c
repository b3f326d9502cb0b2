/* stats.c: see stats.h. */
#include "lineage/stats.h"

#include <math.h>
#include <stdlib.h>

double spearman_perm(const int *a, const int *b, int n)
{
    if (n < 2)
        return 0;
    double s = 0;
    for (int i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        s += d * d;
    }
    return 1 - 6 * s / ((double)n * ((double)n * n - 1));
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
    return (x->i > y->i) - (x->i < y->i);
}

/* Average ranks (1-based) of x into r. */
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
    double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry), rho = NAN;
    if (rx && ry && ranks(x, n, rx) == 0 && ranks(y, n, ry) == 0)
        rho = pearson(rx, ry, n);
    free(rx);
    free(ry);
    return rho;
}

/* Pearson in double over either element type: one body for both. */
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
        return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;                            \
    } while (0)

double pearson(const double *x, const double *y, size_t n) { PEARSON_BODY(x, y, n); }

double pearson_f32(const float *x, const float *y, size_t n) { PEARSON_BODY(x, y, n); }

/* One modified-Lentz step with coefficient aa: updates c and d, returns the factor
 * the fraction's value is multiplied by. */
static double lentz_step(double aa, double *c, double *d)
{
    const double tiny = 1e-300;
    *d = 1 + aa * *d;
    if (fabs(*d) < tiny)
        *d = tiny;
    *c = 1 + aa / *c;
    if (fabs(*c) < tiny)
        *c = tiny;
    *d = 1 / *d;
    return *d * *c;
}

/* log of the continued fraction of the incomplete beta (Numerical Recipes' betacf,
 * modified Lentz), valid for x < (a + 1) / (a + b + 2). */
static double log_betacf(double a, double b, double x)
{
    double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < 1e-300)
        d = 1e-300;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        double m2 = 2.0 * m;
        h *= lentz_step(m * (b - m) * x / ((qam + m2) * (a + m2)), &c, &d);
        double del = lentz_step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), &c, &d);
        h *= del;
        if (fabs(del - 1) < 1e-15)
            break;
    }
    return log(h);
}

/* ln I_x(a, b), the regularised incomplete beta, for x in (0, 1). */
static double log_ibeta(double a, double b, double x, double log_x, double log_1mx)
{
    double front = a * log_x + b * log_1mx - (lgamma(a) + lgamma(b) - lgamma(a + b));
    if (x < (a + 1) / (a + b + 2))
        return front + log_betacf(a, b, x) - log(a);
    /* the complement: 1 - I_{1-x}(b, a); not small here, so plain arithmetic */
    double comp = exp(front + log_betacf(b, a, 1 - x) - log(b));
    return log1p(-comp);
}

double spearman_log10_p(double rho, int n)
{
    if (n < 3 || !isfinite(rho))
        return 0;
    double floor_l10 = -lgamma((double)n + 1) / log(10.0); /* one ranking in n! */
    if (rho >= 1)
        return floor_l10;
    if (rho <= -1)
        return 0;
    double df = n - 2, r2 = rho * rho;
    /* t tail: P(T > |t|) = I_x(df/2, 1/2) / 2 with x = df / (df + t^2) = 1 - rho^2 */
    double lt = log_ibeta(df / 2, 0.5, 1 - r2, log1p(-r2), 2 * log(fabs(rho))) - log(2.0);
    double l10;
    if (rho > 0)
        l10 = lt / log(10.0);
    else
        l10 = log10(-expm1(lt)); /* 1 - tail */
    return l10 < floor_l10 ? floor_l10 : (l10 > 0 ? 0 : l10);
}

double fisher_log10_p(const double *log10_p, int k)
{
    if (k <= 0)
        return 0;
    double half = 0; /* X / 2 = -sum ln p_i */
    for (int i = 0; i < k; i++)
        half += -log10_p[i] * log(10.0);
    if (half <= 0)
        return 0;
    /* log sum_{j<k} half^j / j! by log-sum-exp */
    double lh = log(half), mx = -INFINITY;
    for (int j = 0; j < k; j++) {
        double t = j * lh - lgamma(j + 1.0);
        mx = t > mx ? t : mx;
    }
    double s = 0;
    for (int j = 0; j < k; j++)
        s += exp(j * lh - lgamma(j + 1.0) - mx);
    double l = (-half + mx + log(s)) / log(10.0);
    return l > 0 ? 0 : l;
}
