/* lap.h: exact linear assignment (the lineage test's neuron matching).
 *
 * Why exact: the lineage statistics compare the *optimal* matching of B's neurons to
 * A's against chance; a greedy matching is a different (biased) statistic.
 *
 * Method: Jonker and Volgenant, "A shortest augmenting path algorithm for dense and
 * sparse linear assignment problems" (Computing 38, 1987), in double precision:
 *   1. column reduction (v_j = min_i c_ij; each column offered to its cheapest row),
 *   2. reduction transfer (rows matched once make their column tie with their
 *      second-best one, so free rows can take it over cheaply),
 *   3. three passes of augmenting row reduction (a free row takes its best column and
 *      lowers that column's price to the row's second best, evicting the owner),
 *   4. for each row still free, a Dijkstra shortest augmenting path on reduced costs
 *      c_ij - v_j, which keeps the duals feasible and so the final matching optimal.
 * Steps 1-2 need a square matrix (column prices of unused columns must stay equal);
 * for n < m they are skipped and all v_j start at 0, which is the dual condition of
 * the rectangular problem (unmatched columns keep the highest price).
 *
 * Cost: O(n m) extra work for 1-3, then O(m) per row visited by a search, worst case
 * O(n^2 m). Memory: O(n + m) besides the caller's matrix, which is never copied
 * (the maximising variant reads it negated). The inner loops run over whole rows
 * (AVX-512 when the CPU has it, plain C otherwise); both paths do the same exact
 * double operations (subtractions and comparisons only), so the result is the same
 * on every machine. Ties resolve deterministically: lowest index first, and a free
 * column is preferred among columns at the same distance. */
#ifndef DK_LINEAGE_LAP_H
#define DK_LINEAGE_LAP_H

#include "util/err.h"

/* rows n <= cols m; cost row-major n x m. Minimises the total; row_to_col[i] gets the
 * column of row i (all distinct); *total (if total is non-NULL) the sum of the chosen
 * costs in row order. Returns 0, or -1 (n > m, a non-finite cost, out of memory, or
 * costs so large that their differences overflow) with err filled. */
int lap_solve(const double *cost, int n, int m, int *row_to_col, double *total, dk_err *err);
/* The same, maximising the total weight (*total is the sum of the chosen weights). */
int lap_solve_max(const double *weight, int n, int m, int *row_to_col, double *total, dk_err *err);

/* Counters of the last solve on this thread, for benchmarks and tests. */
typedef struct {
    int free_after_init;   /* rows free after steps 1-3, each needing a search */
    long long rows_scanned; /* rows read by the searches in step 4 */
} lap_stats;
lap_stats lap_last_stats(void);

/* Tests: 1 forces the plain C loops even on AVX-512 machines (0 restores the default). */
void lap_force_generic(int on);

#endif
