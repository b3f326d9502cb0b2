/* bench/bench_lap.c: the lineage test's exact assignment (lap_solve_max) on cosine-
 * similarity matrices of MLP widths, and cosine_matrix itself, with the projection for
 * two Llama-7B models (32 layers, MLP width 11008, hidden 4096).
 *
 * Two cases per size n, both n x n cosines of rows d wide (default d = 4096, Llama-7B's
 * hidden size, so the matrices have the rank and spread of the real ones):
 *   independent: A and B are independent Gaussian matrices (unrelated models);
 *   derived:     B's rows are A's rows in a hidden random order plus Gaussian noise of
 *                `--noise` (default 0.1) times their scale (a fine-tuned copy).
 * The assignment matches B's rows to A's. For the derived case the bench checks that
 * the hidden order is recovered; for the independent case it prints the Spearman
 * correlation of the assignment with the identity and its log10 p (should be ~0).
 *
 * usage: make build/bench_lap && build/bench_lap [--d D] [--threads T] [--noise S] [N ...]
 *        (default sizes 1024 2048 4096 11008; e.g. `build/bench_lap 1024 2048` is quick) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage/lap.h"
#include "lineage/stats.h"
#include "util/pool.h"
#include "util/progress.h"
#include "util/rng.h"

static double uniform(uint64_t *s) { return ((double)(rng_splitmix64(s) >> 11) + 0.5) * 0x1.0p-53; }

static void gaussian(float *x, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i += 2) { /* Box-Muller */
        double r = sqrt(-2 * log(uniform(&s))), t = 2 * M_PI * uniform(&s);
        x[i] = (float)(r * cos(t));
        if (i + 1 < n)
            x[i + 1] = (float)(r * sin(t));
    }
}

typedef struct {
    double cos_s, lap_s, rho, log10p;
    int free_rows, recovered;
    long long scanned;
} result;

static int run(pool *p, int n, int d, int derived, double noise, result *res)
{
    size_t nd = (size_t)n * d;
    float *a = malloc(nd * sizeof *a), *b = malloc(nd * sizeof *b);
    double *w = malloc((size_t)n * n * sizeof *w);
    int *perm = malloc((size_t)n * sizeof *perm), *got = malloc((size_t)n * sizeof *got);
    int rc = -1;
    dk_err err = {{0}};
    if (!a || !b || !w || !perm || !got) {
        fprintf(stderr, "bench_lap: out of memory for n = %d\n", n);
        goto out;
    }
    gaussian(a, nd, 1000 + (uint64_t)n);
    uint64_t s = 77 + (uint64_t)n;
    for (int i = 0; i < n; i++)
        perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rng_splitmix64(&s) % (uint64_t)(i + 1)), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    if (derived) {
        gaussian(b, nd, 5000 + (uint64_t)n);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < d; k++)
                b[(size_t)i * d + k] = a[(size_t)perm[i] * d + k] + (float)noise * b[(size_t)i * d + k];
    } else {
        gaussian(b, nd, 9000 + (uint64_t)n);
    }
    double t0 = now_seconds();
    if (cosine_matrix(p, b, (size_t)d, n, a, (size_t)d, n, d, w, &err) != 0) {
        fprintf(stderr, "bench_lap: %s\n", err.msg);
        goto out;
    }
    double t1 = now_seconds(), total;
    if (lap_solve_max(w, n, n, got, &total, &err) != 0) {
        fprintf(stderr, "bench_lap: %s\n", err.msg);
        goto out;
    }
    res->lap_s = now_seconds() - t1;
    res->cos_s = t1 - t0;
    lap_stats st = lap_last_stats();
    res->free_rows = st.free_after_init;
    res->scanned = st.rows_scanned;
    res->recovered = 0;
    for (int i = 0; i < n; i++)
        res->recovered += got[i] == perm[i];
    int *id = perm; /* reuse: the identity, against which an unrelated match is random */
    for (int i = 0; i < n; i++)
        id[i] = i;
    res->rho = spearman_perm(id, got, n);
    res->log10p = spearman_log10_p(res->rho, n);
    rc = 0;
out:
    free(a), free(b), free(w), free(perm), free(got);
    return rc;
}

int main(int argc, char **argv)
{
    static const int defaults[] = {1024, 2048, 4096, 11008};
    int sizes[64], n_sizes = 0, d = 4096, threads = 0;
    double noise = 0.1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--d") == 0 && i + 1 < argc)
            d = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--noise") == 0 && i + 1 < argc)
            noise = atof(argv[++i]);
        else if (argv[i][0] != '-' && n_sizes < 64 && atoi(argv[i]) > 0)
            sizes[n_sizes++] = atoi(argv[i]);
        else {
            fprintf(stderr, "usage: %s [--d D] [--threads T] [--noise S] [N ...]\n", argv[0]);
            return 2;
        }
    }
    if (n_sizes == 0)
        for (int k = 0; k < 4; k++)
            sizes[n_sizes++] = defaults[k];
    if (d < 1) {
        fprintf(stderr, "bench_lap: --d must be >= 1\n");
        return 2;
    }
    pool *p = pool_new(threads);
    if (!p) {
        fprintf(stderr, "bench_lap: cannot start threads\n");
        return 1;
    }
    printf("cosine rows d = %d, cosine on %d threads, assignment on 1 thread, derived noise %.2f\n", d,
           pool_threads(p), noise);
    printf("%6s %-11s %9s %9s %10s %12s %9s %9s\n", "n", "case", "cosine s", "LAP s", "free rows",
           "rows scanned", "recovered", "rho");
    double lap7b[2] = {0, 0}, cos7b = 0;
    for (int k = 0; k < n_sizes; k++) {
        for (int derived = 0; derived < 2; derived++) {
            result r;
            if (run(p, sizes[k], d, derived, noise, &r) != 0) {
                pool_free(p);
                return 1;
            }
            printf("%6d %-11s %9.2f %9.3f %10d %12lld %9d %9.4f", sizes[k], derived ? "derived" : "independent",
                   r.cos_s, r.lap_s, r.free_rows, r.scanned, r.recovered, r.rho);
            if (!derived)
                printf("  (log10 p %.2f)", r.log10p);
            printf("\n");
            fflush(stdout);
            if (sizes[k] == 11008) {
                lap7b[derived] = r.lap_s;
                if (d == 4096)
                    cos7b = r.cos_s;
            }
        }
    }
    if (lap7b[0] > 0) {
        printf("\nprojection, two Llama-7B models (32 layers, one 11008 x 11008 assignment per layer):\n");
        printf("  assignments, one matrix per layer (up):        %6.0f s independent, %6.0f s derived\n",
               32 * lap7b[0], 32 * lap7b[1]);
        printf("  assignments, gate and up both matched:         %6.0f s independent, %6.0f s derived\n",
               64 * lap7b[0], 64 * lap7b[1]);
        if (cos7b > 0)
            printf("  cosine matrices 11008 x 11008 x 4096 (x32 / x64): %6.0f s / %6.0f s\n", 32 * cos7b,
                   64 * cos7b);
    }
    pool_free(p);
    return 0;
}
