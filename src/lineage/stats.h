/* stats.h: the statistics of the lineage test (Zhu et al., "Independence Tests for
 * Language Models", arXiv 2502.12292), exact far into the tails.
 *
 * Derived models give p-values like 1e-2000, far below the smallest double
 * (~1e-308, or 5e-324 denormal). So every p-value here is computed and returned as
 * log10 p, never as p: computing p and then taking its log would give -inf, and
 * Fisher's combination of several such values would be meaningless. */
#ifndef DK_LINEAGE_STATS_H
#define DK_LINEAGE_STATS_H

#include <stddef.h>

#include "util/err.h"
#include "util/pool.h"

/* Spearman rank correlation of two permutations of 0..n-1 (rank = value, all values
 * distinct): 1 - 6 sum d^2 / (n (n^2 - 1)). 0 for n < 2. */
double spearman_perm(const int *a, const int *b, int n);
/* Spearman of general data: Pearson correlation of the average ranks (ties share
 * the mean of their ranks). 0 for n < 2 or a constant side, NaN if any value is NaN
 * or out of memory. */
double spearman(const double *x, const double *y, size_t n);

/* One-sided (rho > 0) p-value of Spearman's rho for n pairs under independence, as
 * log10 p. Method: the t approximation t = rho sqrt((n-2) / (1-rho^2)) with n-2
 * degrees of freedom; its upper tail is P(T > t) = I_z(df/2, 1/2) / 2 with
 * z = df / (df + t^2) = 1 - rho^2, the regularised incomplete beta evaluated as
 *   ln I_z(a, b) = a ln z + b ln(1-z) - ln B(a, b) - ln a + ln CF
 * (CF: its continued fraction, modified Lentz; ln B from lgamma), entirely in log
 * space, so values like 1e-5000 come out exactly (no underflow). When z is above the
 * fraction's convergence point (rho small) the complementary fraction is used and
 * ln(1 - ...) taken with log1p. rho <= 0 gives log10(1 - tail(|t|)).
 * The result is never below log10(1/n!) (lgamma), the exact permutation probability of
 * the single most extreme ranking: the t approximation overstates the tail there, and
 * rho = 1 returns exactly that floor (a finite value, about -5894 for n = 2048).
 * Non-increasing in rho; 0 for n < 3 or non-finite rho. */
double spearman_log10_p(double rho, int n);

/* Fisher's method: the combined log10 p of k independent tests given their log10 p
 * (values above 0 count as 0). X = -2 sum ln p_i follows chi-square with 2k degrees
 * of freedom; for even degrees its survival function has the closed form
 *   P(X' > X) = exp(-X/2) sum_{j<k} (X/2)^j / j!,
 * evaluated as -X/2 + log-sum-exp_j (j ln(X/2) - lgamma(j+1)), so inputs of 1e-500
 * each combine without underflow. k = 1 returns its input. 0 for k <= 0; NaN if an
 * input is NaN. */
double fisher_log10_p(const double *log10_p, int k);

/* Pearson correlation, centred (two passes), in double; 0 when n < 2 or either side
 * is constant; clamped to [-1, 1]. */
double pearson(const double *x, const double *y, size_t n);
double pearson_f32(const float *x, const float *y, size_t n);

/* Cosine-similarity matrix: out[i * nb + j] = cos(a_i, b_j) for rows a_i of a (na x d,
 * row stride lda floats) and b_j of b (nb x d, stride ldb); 0 when either row is zero.
 * Products of floats are exact in double, and every sum is accumulated in double, so
 * out is within a few ulp of the exact cosine (the exact assignment downstream then
 * sees the true similarities). Blocked and packed (AVX-512 micro-kernel when the CPU
 * has it, plain C otherwise, in the same summation order: identical bits), threaded
 * over output blocks with p (may be NULL: the calling thread does all); each output
 * depends only on its inputs, never on the thread count. Returns 0, or -1 (bad
 * arguments, out of memory) with err filled. */
int cosine_matrix(pool *p, const float *a, size_t lda, int na, const float *b, size_t ldb, int nb,
                  int d, double *out, dk_err *err);

/* Tests: 1 forces the plain C cosine kernel even on AVX-512 machines (0: default). */
void cosine_force_generic(int on);

#endif
