/* lineage.c: see lineage.h. The order of work: open both models' weights (mapped; or
 * take them, and B's per-model results, from lineage_opts.cache: lineage_cache.c),
 * B's sampled neurons per layer into memory, then A one layer at a time against all
 * of B's layers (the layer map and statistic 1), B against itself (duplicates), the
 * activation test (both models run on the probe text), vocabulary, norms, verdict. */
#include "lineage/lineage.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage/lineage_cache_internal.h"
#include "lineage/lineage_internal.h"
#include "lineage/lineage_match.h"
#include "lineage/stats.h"
#include "lineage/wsrc.h"
#include "util/progress.h"
#include "util/rng.h"

void lineage_default_opts(lineage_opts *o)
{
    *o = (lineage_opts){.probe_path = NULL, .probe_tokens = 512, .sample = 256, .identity_rows = 1024,
                        .map_mode = LINEAGE_MAP_AUTO, .screen_neurons = 32, .screen_dims = 256,
                        .screen_keep = 4, .threads = 0, .alpha = 1e-6, .activations = 1, .progress = 0,
                        .cache = NULL};
}

void lineage_report_free(lineage_report *r)
{
    free(r->w_rho);
    free(r->w_log10p);
    free(r->map_rho);
    free(r->map_log10p);
    free(r->map_refined);
    free(r->src);
    free(r->layer_log10p);
    free(r->a_rho);
    free(r->a_log10p);
    free(r->dup);
    free(r->dup_log10p);
    free(r->norm_pearson);
    free(r->norm_cosine);
    free(r->norm_base_mean);
    free(r->norm_base_sd);
    memset(r, 0, sizeof *r);
}

/* Norm weights: centred correlation against shuffled baselines, and raw cosine for
 * contrast (all-ones initialisation makes any two models' norms look alike). */
static int norm_tests(lineage_report *r, const wsrc *A, const wsrc *B, dk_err *err)
{
    int D = r->Da;
    float *a = malloc((size_t)D * sizeof *a), *b = malloc((size_t)D * sizeof *b),
          *s = malloc((size_t)D * sizeof *s);
    r->n_norm = r->Lb;
    r->norm_pearson = calloc((size_t)r->Lb, sizeof(double));
    r->norm_cosine = calloc((size_t)r->Lb, sizeof(double));
    r->norm_base_mean = calloc((size_t)r->Lb, sizeof(double));
    r->norm_base_sd = calloc((size_t)r->Lb, sizeof(double));
    int rc = a && b && s && r->norm_pearson && r->norm_cosine && r->norm_base_mean && r->norm_base_sd
                 ? 0
                 : dk_errf(err, "out of memory");
    uint64_t rng = 0x243F6A8885A308D3ULL;
    for (int j = 0; j < r->Lb && rc == 0; j++) {
        char na[128], nb[128];
        layer_name(na, sizeof na, r->src[j], "input_layernorm.weight");
        layer_name(nb, sizeof nb, j, "input_layernorm.weight");
        if (wsrc_vector(A, na, (size_t)D, a, err) != 0 || wsrc_vector(B, nb, (size_t)D, b, err) != 0) {
            rc = -1;
            break;
        }
        double dot = 0, na2 = 0, nb2 = 0;
        for (int k = 0; k < D; k++)
            dot += (double)a[k] * b[k], na2 += (double)a[k] * a[k], nb2 += (double)b[k] * b[k];
        r->norm_cosine[j] = na2 > 0 && nb2 > 0 ? dot / sqrt(na2 * nb2) : 0;
        r->norm_pearson[j] = pearson_f32(a, b, (size_t)D);
        double sum = 0, sum2 = 0;
        const int shuffles = 200;
        for (int t = 0; t < shuffles; t++) {
            memcpy(s, b, (size_t)D * sizeof *s);
            for (int k = D - 1; k > 0; k--) { /* Fisher-Yates with a fixed generator */
                int q = (int)(rng_lcg31(&rng) % (uint32_t)(k + 1));
                float x = s[k];
                s[k] = s[q];
                s[q] = x;
            }
            double c = pearson_f32(a, s, (size_t)D);
            sum += c, sum2 += c * c;
        }
        r->norm_base_mean[j] = sum / shuffles;
        double var = sum2 / shuffles - r->norm_base_mean[j] * r->norm_base_mean[j];
        r->norm_base_sd[j] = var > 0 ? sqrt(var) : 0;
    }
    free(a);
    free(b);
    free(s);
    return rc;
}

static void decide(lineage_report *r, const lineage_opts *o)
{
    double tests[3];
    int n = 0;
    tests[n++] = r->map_combined;
    if (r->w_ok)
        tests[n++] = r->w_combined;
    if (r->a_ok && strcmp(r->map_source, "activations") != 0)
        tests[n++] = r->a_combined;
    double best = tests[0];
    for (int i = 1; i < n; i++)
        best = tests[i] < best ? tests[i] : best;
    r->n_tests = n;
    r->log10_p = best + log10((double)n) < 0 ? best + log10((double)n) : 0;
    r->derived = r->log10_p < log10(o->alpha);
    if (!r->derived) {
        snprintf(r->kind, sizeof r->kind, "none");
        return;
    }
    int sig = 0, repeated = 0;
    for (int j = 0; j < r->Lb; j++) {
        if (r->layer_log10p[j] >= log10(o->alpha))
            continue;
        sig++;
        for (int k = 0; k < j; k++)
            if (r->layer_log10p[k] < log10(o->alpha) && r->src[k] == r->src[j])
                repeated = 1;
    }
    if (sig > 0 && sig < r->Lb)
        snprintf(r->kind, sizeof r->kind, "partial");
    else if (sig == r->Lb && (r->Lb > r->La || repeated))
        snprintf(r->kind, sizeof r->kind, "depth-upscaled");
    else if (sig == r->Lb && (r->Lb < r->La || r->Fb < r->Fa || r->Db < r->Da))
        snprintf(r->kind, sizeof r->kind, "pruned");
    else
        snprintf(r->kind, sizeof r->kind, "descendant");
}

int lineage_run(lineage_report *r, const char *a, const char *b, const lineage_opts *o,
                dk_err *err)
{
    memset(r, 0, sizeof *r);
    double t0 = now_seconds();
    snprintf(r->a, sizeof r->a, "%s", a);
    snprintf(r->b, sizeof r->b, "%s", b);
    /* the weights: the cache's open handles (identity checked now), or opened here */
    wsrc own_a = {0}, own_b = {0};
    const wsrc *A = &own_a, *B = &own_b;
    lc_model *ma = NULL, *mb = NULL;
    if (o->cache) {
        if (!(ma = lineage_cache_model(o->cache, a, err)))
            return -1;
        if (!(mb = strcmp(a, b) == 0 ? ma : lineage_cache_model(o->cache, b, err)))
            return -1;
        A = lineage_cache_wsrc(ma), B = lineage_cache_wsrc(mb);
    } else {
        if (wsrc_open(&own_a, a, err) != 0)
            return -1;
        if (wsrc_open(&own_b, b, err) != 0) {
            wsrc_close(&own_a);
            return -1;
        }
    }
    r->La = A->cfg.n_layers, r->Lb = B->cfg.n_layers;
    r->Da = A->cfg.dim, r->Db = B->cfg.dim;
    r->Fa = A->cfg.ffn_dim, r->Fb = B->cfg.ffn_dim;
    size_t LL = (size_t)r->La * r->Lb;
    r->map_rho = calloc(LL, sizeof(double));
    r->map_log10p = calloc(LL, sizeof(double));
    r->src = calloc((size_t)r->Lb, sizeof(int));
    r->layer_log10p = calloc((size_t)r->Lb, sizeof(double));
    r->w_rho = calloc((size_t)r->La, sizeof(double));
    r->w_log10p = calloc((size_t)r->La, sizeof(double));
    r->a_rho = calloc((size_t)r->Lb, sizeof(double));
    r->a_log10p = calloc((size_t)r->Lb, sizeof(double));
    pool *p = pool_new(o->threads);
    int rc = r->map_rho && r->map_log10p && r->src && r->layer_log10p && r->w_rho && r->w_log10p &&
                     r->a_rho && r->a_log10p && p
                 ? 0
                 : dk_errf(err, "out of memory");
    if (rc == 0 && r->Da == r->Db) {
        rc = weight_tests(r, A, B, mb, p, o, err);
        if (rc == 0)
            lineage_summarise_map(r);
    } else if (rc == 0) {
        snprintf(r->w_note, sizeof r->w_note, "hidden widths differ (%d vs %d): weights are not comparable",
                 r->Da, r->Db);
    }
    if (rc == 0 && o->activations)
        rc = activation_tests(r, ma, mb, p, o, err);
    if (rc == 0 && r->Da != r->Db && !r->a_ok)
        rc = dk_errf(err, "%s and %s: hidden widths differ (%d vs %d) and the activation test is not "
                          "possible (%s)", a, b, r->Da, r->Db, r->a_note);
    if (rc == 0 && r->Da == r->Db)
        rc = norm_tests(r, A, B, err);
    if (rc == 0)
        vocab_tests(r, A, B, p);
    if (rc == 0)
        decide(r, o);
    r->seconds = now_seconds() - t0;
    pool_free(p);
    if (!o->cache) {
        wsrc_close(&own_a);
        wsrc_close(&own_b);
    }
    if (rc != 0)
        lineage_report_free(r);
    return rc;
}
