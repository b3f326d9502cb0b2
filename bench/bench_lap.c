/* bench/bench_lap.c: the lineage test's exact assignment on cosine-like matrices of
 * MLP widths, unrelated (random) and derived (a hidden permutation plus noise), and
 * the projection for two Llama-7B models (32 layers, MLP 11008).
 *
 * usage: make bench && build/bench_lap [N ...]   (default 1024 2048 4096 11008) */
#include <stdio.h>
#include <stdlib.h>

#include "lineage/lap.h"
#include "util/progress.h"

static double run(int n, int derived)
{
    double *w = malloc((size_t)n * n * sizeof *w);
    int *p = malloc((size_t)n * sizeof *p);
    if (!w || !p) {
        free(w), free(p);
        return -1;
    }
    uint64_t r = 0x9E3779B97F4A7C15ULL;
    for (size_t i = 0; i < (size_t)n * n; i++) { /* uniform in [-0.05, 0.05]: cosines of unrelated rows */
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        w[i] = ((double)(r >> 11) * 0x1.0p-53 - 0.5) * 0.1;
    }
    if (derived)
        for (int i = 0; i < n; i++)
            w[(size_t)i * n + (size_t)((long long)i * 7919 % n)] += 0.5;
    double t0 = now_seconds(), total;
    dk_err err;
    int rc = lap_solve_max(w, n, n, p, &total, &err);
    double dt = now_seconds() - t0;
    free(w), free(p);
    return rc == 0 ? dt : -1;
}

int main(int argc, char **argv)
{
    static const int defaults[] = {1024, 2048, 4096, 11008};
    int n_sizes = argc > 1 ? argc - 1 : 4;
    printf("%8s %14s %14s\n", "n", "unrelated s", "derived s");
    double t7b[2] = {0, 0};
    for (int k = 0; k < n_sizes; k++) {
        int n = argc > 1 ? atoi(argv[k + 1]) : defaults[k];
        double u = run(n, 0), d = run(n, 1);
        printf("%8d %14.2f %14.2f\n", n, u, d);
        if (n == 11008)
            t7b[0] = u, t7b[1] = d;
    }
    if (t7b[0] > 0)
        printf("two Llama-7B models, weight test (32 layers x one 11008 x 11008 assignment): %.0f s unrelated, "
               "%.0f s derived (assignments only)\n", 32 * t7b[0], 32 * t7b[1]);
    return 0;
}
