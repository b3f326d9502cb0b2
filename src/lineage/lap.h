/* lap.h: exact linear assignment (the lineage test's neuron matching).
 *
 * Shortest augmenting paths with dual variables (the Jonker-Volgenant family, in the
 * form of Crouse, "On implementing 2D rectangular assignment algorithms", IEEE TAES
 * 2016, which SciPy's linear_sum_assignment uses): one Dijkstra-like search per row,
 * O(n^2 m) at worst, exact, double precision. A greedy matching is not exact and
 * would bias the statistics. Ties resolve deterministically (lowest column first,
 * preferring unassigned columns). */
#ifndef DK_LINEAGE_LAP_H
#define DK_LINEAGE_LAP_H

#include "util/err.h"

/* rows n <= cols m; cost row-major n x m. Minimises the total; row_to_col[i] gets the
 * column of row i (all distinct). Returns 0, or -1 (n > m, a non-finite cost, out of
 * memory) with err filled. */
int lap_solve(const double *cost, int n, int m, int *row_to_col, double *total, dk_err *err);
/* The same, maximising the total weight. */
int lap_solve_max(const double *weight, int n, int m, int *row_to_col, double *total, dk_err *err);

#endif
