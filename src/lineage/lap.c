/* lap.c: see lap.h. */
#include "lineage/lap.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    const double *c;
    double sign; /* +1 minimise, -1 maximise: costs are read as sign * c */
    int n, m;
    double *u, *v, *dist;
    int *path, *row4col, *col4row, *remaining, *rows_seen;
    char *col_seen;
} lap;

/* One shortest augmenting path from row `start`; returns the free column it ends at
 * (or -1), the path in path[], and the visited rows/columns for the dual update. */
static int augment_from(lap *L, int start, double *min_out, int *n_rows_seen)
{
    int m = L->m, nrem = m, sink = -1, i = start, nseen = 0;
    double minv = 0;
    for (int j = 0; j < m; j++) {
        L->remaining[j] = m - 1 - j;
        L->dist[j] = INFINITY;
        L->col_seen[j] = 0;
    }
    while (sink < 0) {
        L->rows_seen[nseen++] = i;
        const double *row = L->c + (size_t)i * m;
        double ui = L->u[i], lowest = INFINITY;
        int index = -1;
        for (int it = 0; it < nrem; it++) {
            int j = L->remaining[it];
            double r = minv + L->sign * row[j] - ui - L->v[j];
            if (r < L->dist[j]) {
                L->path[j] = i;
                L->dist[j] = r;
            }
            if (L->dist[j] < lowest || (L->dist[j] == lowest && L->row4col[j] < 0)) {
                lowest = L->dist[j];
                index = it;
            }
        }
        minv = lowest;
        if (index < 0 || !isfinite(minv))
            return -1;
        int j = L->remaining[index];
        if (L->row4col[j] < 0)
            sink = j;
        else
            i = L->row4col[j];
        L->col_seen[j] = 1;
        L->remaining[index] = L->remaining[--nrem];
    }
    *min_out = minv;
    *n_rows_seen = nseen;
    return sink;
}

static int solve(const double *c, double sign, int n, int m, int *row_to_col, double *total,
                 dk_err *err)
{
    if (n < 0 || m < 0 || n > m)
        return dk_errf(err, "assignment of %d rows to %d columns: need rows <= columns", n, m);
    for (size_t k = 0; k < (size_t)n * m; k++)
        if (!isfinite(c[k]))
            return dk_errf(err, "assignment: cost at row %zu, column %zu is not finite", k / (size_t)m,
                           k % (size_t)m);
    lap L = {.c = c, .sign = sign, .n = n, .m = m};
    L.u = calloc((size_t)n + 1, sizeof *L.u);
    L.v = calloc((size_t)m + 1, sizeof *L.v);
    L.dist = malloc(((size_t)m + 1) * sizeof *L.dist);
    L.path = malloc(((size_t)m + 1) * sizeof *L.path);
    L.row4col = malloc(((size_t)m + 1) * sizeof *L.row4col);
    L.col4row = malloc(((size_t)n + 1) * sizeof *L.col4row);
    L.remaining = malloc(((size_t)m + 1) * sizeof *L.remaining);
    L.rows_seen = malloc(((size_t)n + 1) * sizeof *L.rows_seen);
    L.col_seen = malloc((size_t)m + 1);
    int rc = 0;
    if (!L.u || !L.v || !L.dist || !L.path || !L.row4col || !L.col4row || !L.remaining ||
        !L.rows_seen || !L.col_seen)
        rc = dk_errf(err, "out of memory for an assignment of %d x %d", n, m);
    for (int j = 0; rc == 0 && j < m; j++)
        L.row4col[j] = -1;
    for (int i = 0; rc == 0 && i < n; i++)
        L.col4row[i] = -1;
    for (int cur = 0; rc == 0 && cur < n; cur++) {
        double minv;
        int nseen, sink = augment_from(&L, cur, &minv, &nseen);
        if (sink < 0) {
            rc = dk_errf(err, "assignment: no feasible completion (row %d)", cur);
            break;
        }
        /* dual update over the visited rows and columns */
        L.u[cur] += minv;
        for (int k = 1; k < nseen; k++) {
            int i = L.rows_seen[k];
            L.u[i] += minv - L.dist[L.col4row[i]];
        }
        for (int j = 0; j < m; j++)
            if (L.col_seen[j])
                L.v[j] -= minv - L.dist[j];
        /* flip the path */
        for (int j = sink;;) {
            int i = L.path[j];
            L.row4col[j] = i;
            int prev = L.col4row[i];
            L.col4row[i] = j;
            j = prev;
            if (i == cur)
                break;
        }
    }
    if (rc == 0) {
        double t = 0;
        for (int i = 0; i < n; i++) {
            row_to_col[i] = L.col4row[i];
            t += c[(size_t)i * m + L.col4row[i]];
        }
        if (total)
            *total = t;
    }
    free(L.u), free(L.v), free(L.dist), free(L.path), free(L.row4col), free(L.col4row);
    free(L.remaining), free(L.rows_seen), free(L.col_seen);
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
