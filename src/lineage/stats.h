/* stats.h: the statistics of the lineage test, exact far into the tails.
 *
 * Derived models give p-values like 1e-2000: below the smallest double. So every
 * p-value here is computed and returned as log10 p, never as p. */
#ifndef DK_LINEAGE_STATS_H
#define DK_LINEAGE_STATS_H

#include <stddef.h>

/* Spearman rank correlation of two permutations of 0..n-1 (rank = value):
 * 1 - 6 sum d^2 / (n (n^2 - 1)). */
double spearman_perm(const int *a, const int *b, int n);
/* Spearman of general data (average ranks for ties): Pearson of the ranks. */
double spearman(const double *x, const double *y, size_t n);
/* One-sided (rho > 0) p-value of Spearman's rho for n pairs under independence, as
 * log10 p: the t approximation t = rho sqrt((n-2) / (1-rho^2)) with n-2 degrees of
 * freedom, whose upper tail is I_x(df/2, 1/2) / 2 with x = 1 - rho^2 (regularised
 * incomplete beta by its continued fraction, in log space). Never below the exact
 * probability of the single most extreme ranking, log10(1/n!), which is also the
 * value for rho = 1. */
double spearman_log10_p(double rho, int n);
/* Fisher's method: the combined log10 p of k independent tests given their log10 p.
 * X = -2 sum ln p_i follows chi-square with 2k degrees of freedom; its survival
 * function for even degrees is exp(-X/2) sum_{j<k} (X/2)^j / j!, summed in log space. */
double fisher_log10_p(const double *log10_p, int k);
/* Pearson correlation in double; 0 when either side is constant. */
double pearson(const double *x, const double *y, size_t n);
double pearson_f32(const float *x, const float *y, size_t n);

#endif
