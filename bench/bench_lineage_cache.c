/* bench/bench_lineage_cache.c: many lineage pairs that share models, as dokja select runs
 * them (every team against every known model, and every pair of teams), timed without
 * and with a shared lineage_cache (lineage.h), in that order; checks that every report
 * is the same with the cache but for its timings, and prints the seconds, the ratio and
 * the cache's counters. bench/lineage_cache.sh makes the models and runs it.
 *
 * usage: build/bench_lineage_cache [--threads N] [--cache-mb MB] [--no-activations]
 *          --known DIR... --teams DIR...   (N teams, M known: N*M + N(N-1)/2 pairs) */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage/lineage.h"
#include "util/progress.h"

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
    int nk = 0, nt = 0, list = 0;
    size_t cache_mb = 8192;
    lineage_opts o;
    lineage_default_opts(&o);
    o.threads = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            o.threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cache-mb") && i + 1 < argc)
            cache_mb = (size_t)atol(argv[++i]);
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
    double secs[2] = {0, 0};
    lineage_cache *cache = NULL;
    int bad = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            cache = lineage_cache_new(cache_mb << 20);
        o.cache = cache;
        double t0 = now_seconds();
        for (int q = 0; q < np; q++) {
            lineage_report r;
            dk_err err;
            double t1 = now_seconds();
            if (lineage_run(&r, pairs[q][0], pairs[q][1], &o, &err) != 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            char *j = json_without_seconds(&r);
            printf("%-8s %-60s %-12s %-15s %9.1f %6.2f s\n", pass ? "cache" : "no cache", r.b, r.derived ? "derived" : "independent",
                   r.kind, r.log10_p, now_seconds() - t1);
            fflush(stdout);
            if (pass == 0)
                ref[q] = j;
            else {
                if (!j || strcmp(j, ref[q]) != 0) {
                    fprintf(stderr, "pair %d (%s -> %s): the report differs with the cache\n", q, pairs[q][0],
                            pairs[q][1]);
                    bad = 1;
                }
                free(j);
            }
            lineage_report_free(&r);
        }
        secs[pass] = now_seconds() - t0;
    }
    size_t hits, misses, bytes;
    lineage_cache_stats(cache, &hits, &misses, &bytes);
    printf("%d pairs (%d teams, %d known models), %d threads, activations %s: without cache %.1f s, with cache "
           "%.1f s, ratio %.2f; cache: %zu hits, %zu misses, %.0f MB kept; reports %s\n",
           np, nt, nk, o.threads, o.activations ? "on" : "off", secs[0], secs[1], secs[0] / secs[1], hits, misses,
           (double)bytes / 1048576.0, bad ? "DIFFER" : "identical");
    lineage_cache_free(cache);
    for (int q = 0; q < np; q++)
        free(ref[q]);
    free(ref);
    free(pairs);
    return bad;
}
