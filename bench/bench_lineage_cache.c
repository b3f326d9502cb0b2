/* bench/bench_lineage_cache.c: many lineage pairs that share models, as dokja select runs
 * them (every team against every known model, and every pair of teams), timed without
 * and with a shared lineage_cache (lineage.h), in that order; checks that every report
 * is the same with the cache but for its timings, and prints the seconds (wall and CPU),
 * the ratios and the cache's counters. A third pass runs the pairs again on the filled
 * cache: the cost of a pair whose models' work is all cached (a big round's steady state). bench/lineage_cache.sh makes the models and runs it.
 *
 * usage: build/bench_lineage_cache [--threads N] [--cache-mb MB] [--no-activations]
 *          [--cache-only] --known DIR... --teams DIR...   (N teams, M known: N*M + N(N-1)/2 pairs) */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lineage/lineage.h"
#include "util/progress.h"

/* CPU seconds of this process, all threads (the machine may be shared: wall time alone
 * says little then). */
static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static char *json_without_seconds(const lineage_report *r)
{
    char *s = lineage_json(r);
    json_t *o = s ? json_loads(s, 0, NULL) : NULL;
    free(s);
    if (!o)
        return NULL;
    json_object_del(o, "seconds");
    s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(o);
    return s;
}

int main(int argc, char **argv)
{
    const char *known[64], *teams[64];
    int nk = 0, nt = 0, list = 0, first = 0;
    size_t cache_mb = 8192;
    lineage_opts o;
    lineage_default_opts(&o);
    o.threads = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            o.threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cache-mb") && i + 1 < argc)
            cache_mb = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--cache-only")) /* for profiling the cached pass */
            first = 1;
        else if (!strcmp(argv[i], "--no-activations"))
            o.activations = 0;
        else if (!strcmp(argv[i], "--known"))
            list = 1;
        else if (!strcmp(argv[i], "--teams"))
            list = 2;
        else if (list == 1 && nk < 64)
            known[nk++] = argv[i];
        else if (list == 2 && nt < 64)
            teams[nt++] = argv[i];
        else {
            fprintf(stderr, "usage: bench_lineage_cache [--threads N] [--cache-mb MB] [--no-activations] "
                            "--known DIR... --teams DIR...\n");
            return 2;
        }
    }
    /* the pairs as select runs them: A = known model or earlier team, B = team */
    int np = 0;
    const char *(*pairs)[2] = malloc(((size_t)nt * nk + (size_t)nt * nt / 2 + 1) * sizeof *pairs);
    for (int t = 0; t < nt; t++)
        for (int k = 0; k < nk; k++)
            pairs[np][0] = known[k], pairs[np++][1] = teams[t];
    for (int t = 0; t < nt; t++)
        for (int u = t + 1; u < nt; u++)
            pairs[np][0] = teams[t], pairs[np++][1] = teams[u];
    char **ref = calloc((size_t)np, sizeof *ref);
    double secs[3] = {0, 0, 0}, cpu[3] = {0, 0, 0};
    static const char *const label[3] = {"no cache", "cache", "warm"};
    lineage_cache *cache = NULL;
    int bad = 0;
    for (int pass = first; pass < 3; pass++) { /* without, with an empty cache, with the filled cache */
        if (pass == 1)
            cache = lineage_cache_new(cache_mb << 20);
        o.cache = cache;
        double t0 = now_seconds(), c0 = cpu_seconds();
        for (int q = 0; q < np; q++) {
            lineage_report r;
            dk_err err;
            double t1 = now_seconds();
            if (lineage_run(&r, pairs[q][0], pairs[q][1], &o, &err) != 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            char *j = json_without_seconds(&r);
            printf("%-8s %s -> %s: %s %s, log10 p %.1f; %.2f s (map %.2f, weight reads %.2f, products %.2f, "
                   "assignments %.2f)\n",
                   label[pass], pairs[q][0], pairs[q][1], r.derived ? "derived" : "independent", r.kind, r.log10_p,
                   now_seconds() - t1, r.map_seconds, r.load_seconds, r.product_seconds, r.lap_seconds);
            fflush(stdout);
            if (pass == 0)
                ref[q] = j;
            else {
                if (!first && (!j || strcmp(j, ref[q]) != 0)) {
                    fprintf(stderr, "pair %d (%s -> %s): the report differs with the cache\n", q, pairs[q][0],
                            pairs[q][1]);
                    bad = 1;
                }
                free(j);
            }
            lineage_report_free(&r);
        }
        secs[pass] = now_seconds() - t0;
        cpu[pass] = cpu_seconds() - c0;
    }
    size_t hits, misses, bytes;
    lineage_cache_stats(cache, &hits, &misses, &bytes);
    printf("%d pairs (%d teams, %d known models), %d threads, activations %s\n", np, nt, nk, o.threads,
           o.activations ? "on" : "off");
    printf("  without cache:   %7.1f s (CPU %7.1f s)\n", secs[0], cpu[0]);
    printf("  with cache:      %7.1f s (CPU %7.1f s), ratio %.2f (CPU %.2f)\n", secs[1], cpu[1], secs[0] / secs[1],
           cpu[0] / cpu[1]);
    printf("  again, filled:   %7.1f s (CPU %7.1f s): %.2f s a pair, ratio %.2f (CPU %.2f)\n", secs[2], cpu[2],
           secs[2] / np, secs[0] / secs[2], cpu[0] / cpu[2]);
    printf("  cache: %zu hits, %zu misses, %.0f MB kept; reports %s\n", hits, misses, (double)bytes / 1048576.0,
           bad ? "DIFFER" : "identical");
    lineage_cache_free(cache);
    for (int q = 0; q < np; q++)
        free(ref[q]);
    free(ref);
    free(pairs);
    return bad;
}
