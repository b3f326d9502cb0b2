/* test_lineage.c: the lineage test's parts: exact assignment against brute force,
 * Spearman and Fisher p-values against independent computations, and lineage_run on
 * small random models: independent pairs, a noisy copy, a neuron-permuted copy. (The
 * validation suite on trained model families is test_lineage_suite.c.) */
#include <math.h>
#include <stdlib.h>

#include "lineage/lap.h"
#include "lineage/lineage.h"
#include "io/safetensors.h"
#include "lineage/stats.h"
#include "model/model_io.h"
#include "model/surgery.h"
#include "test.h"

static double brute(const double *c, int n, int m, int maximise)
{
    /* every injection of n rows into m columns, by recursion over rows */
    int used[16] = {0}, pick[16];
    double best = maximise ? -INFINITY : INFINITY;
    int i = 0;
    pick[0] = -1;
    while (i >= 0) {
        if (pick[i] >= 0)
            used[pick[i]] = 0;
        int j = pick[i] + 1;
        while (j < m && used[j])
            j++;
        if (j == m) {
            pick[i] = -1;
            i--;
            continue;
        }
        pick[i] = j;
        used[j] = 1;
        if (i == n - 1) {
            double s = 0;
            for (int k = 0; k < n; k++)
                s += c[k * m + pick[k]];
            if (maximise ? s > best : s < best)
                best = s;
        } else {
            pick[++i] = -1;
        }
    }
    return best;
}

TEST(lineage_lap_matches_brute_force_square_rectangular_and_ties)
{
    srand(11);
    for (int it = 0; it < 300; it++) {
        int n = 1 + rand() % 6, m = n + rand() % 3, ties = it % 3 == 0;
        double c[64];
        for (int k = 0; k < n * m; k++)
            c[k] = ties ? rand() % 3 : (double)rand() / RAND_MAX * 10 - 5;
        int p[8];
        double total;
        dk_err err;
        int maximise = it & 1;
        CHECK(maximise ? lap_solve_max(c, n, m, p, &total, &err) == 0 : lap_solve(c, n, m, p, &total, &err) == 0);
        int seen[16] = {0};
        double s = 0;
        for (int i = 0; i < n; i++) {
            CHECK(p[i] >= 0 && p[i] < m && !seen[p[i]]);
            seen[p[i]] = 1;
            s += c[i * m + p[i]];
        }
        CHECK(fabs(s - total) < 1e-9);
        CHECK_MSG(fabs(total - brute(c, n, m, maximise)) < 1e-9, "it %d n %d m %d: %g vs %g", it, n, m,
                  total, brute(c, n, m, maximise));
    }
}

TEST(lineage_lap_recovers_a_hidden_permutation_and_rejects_bad_input)
{
    enum { N = 300 };
    double *w = malloc(N * N * sizeof *w);
    int perm[N], got[N];
    for (int i = 0; i < N; i++)
        perm[i] = i;
    srand(3);
    for (int i = N - 1; i > 0; i--) {
        int j = rand() % (i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            w[i * N + j] = (j == perm[i] ? 0.5 : 0) + (double)rand() / RAND_MAX * 0.4;
    dk_err err;
    double total;
    CHECK(lap_solve_max(w, N, N, got, &total, &err) == 0);
    for (int i = 0; i < N; i++)
        CHECK_EQ(got[i], perm[i]);
    CHECK(lap_solve(w, 3, 2, got, &total, &err) != 0);
    CHECK_CONTAINS(err.msg, "rows <= columns");
    w[5] = NAN;
    CHECK(lap_solve(w, N, N, got, &total, &err) != 0);
    CHECK_CONTAINS(err.msg, "row 0, column 5 is not finite");
    free(w);
}

/* The t distribution's upper tail by Simpson integration of its density. */
static double t_tail(double t, double df)
{
    double c = exp(lgamma((df + 1) / 2) - lgamma(df / 2)) / sqrt(df * M_PI), s = 0, hi = t + 400, h = (hi - t) / 200000;
    for (int k = 0; k <= 200000; k++) {
        double x = t + k * h, f = c * pow(1 + x * x / df, -(df + 1) / 2);
        s += f * (k == 0 || k == 200000 ? 1 : k % 2 ? 4 : 2);
    }
    return s * h / 3;
}

TEST(lineage_spearman_and_fisher_p_values_match_independent_computations)
{
    int id[5] = {0, 1, 2, 3, 4}, rev[5] = {4, 3, 2, 1, 0}, sw[5] = {1, 0, 2, 3, 4};
    CHECK(spearman_perm(id, id, 5) == 1.0);
    CHECK(spearman_perm(id, rev, 5) == -1.0);
    CHECK(fabs(spearman_perm(id, sw, 5) - 0.9) < 1e-12); /* 1 - 6*2/120 */
    double x[6] = {1, 2, 2, 3, 10, 4}, y[6] = {2, 4, 4, 6, 20, 8};
    CHECK(fabs(spearman(x, y, 6) - 1.0) < 1e-12); /* ties, monotone */
    /* the tail against numeric integration */
    static const double cases[][2] = {{0.5, 10}, {0.3, 40}, {0.1, 200}, {0.8, 12}};
    for (int k = 0; k < 4; k++) {
        double rho = cases[k][0];
        int n = (int)cases[k][1];
        double t = rho * sqrt((n - 2) / (1 - rho * rho)), want = log10(t_tail(t, n - 2));
        CHECK_MSG(fabs(spearman_log10_p(rho, n) - want) < 1e-4, "rho %g n %d: %g vs %g", rho, n,
                  spearman_log10_p(rho, n), want);
    }
    CHECK(fabs(spearman_log10_p(0, 100) - log10(0.5)) < 1e-9);
    CHECK(spearman_log10_p(-0.5, 50) > log10(0.99));
    double lp = spearman_log10_p(0.99, 2048);
    CHECK(isfinite(lp) && lp < -300);
    CHECK(spearman_log10_p(0.9, 2048) > lp && spearman_log10_p(0.5, 2048) > spearman_log10_p(0.9, 2048));
    CHECK(fabs(spearman_log10_p(1.0, 10) + lgamma(11) / log(10)) < 1e-9);
    /* Fisher: one test is itself; two of 0.1 -> chi2(4) survival at -4 ln 0.1 = 0.01 * (1 + ln 100) */
    double one = -3.25, two[2] = {-1, -1};
    CHECK(fabs(fisher_log10_p(&one, 1) + 3.25) < 1e-9);
    CHECK(fabs(fisher_log10_p(two, 2) - log10(0.01 * (1 + log(100.0)))) < 1e-12);
    double deep[10];
    for (int i = 0; i < 10; i++)
        deep[i] = -500;
    double f = fisher_log10_p(deep, 10);
    /* -5000 + log10(sum_{j<10} h^j / j!) with h = 5000 ln 10: about -4969.2 */
    double h = 5000 * log(10.0), sum = 0;
    for (int j = 0; j < 10; j++)
        sum += exp(j * log(h) - lgamma(j + 1.0) - 9 * log(h));
    CHECK(fabs(f - (-5000 + (9 * log(h) + log(sum)) / log(10.0))) < 1e-6);
    double xs[4] = {1, 2, 3, 4}, ys[4] = {5, 7, 9, 11}, cs[4] = {2, 2, 2, 2};
    CHECK(fabs(pearson(xs, ys, 4) - 1) < 1e-12);
    CHECK(pearson(xs, cs, 4) == 0);
}

/* A model of config JSON cfg initialised from seed. */
static model *random_model(const char *cfg, unsigned seed, pool *p)
{
    model_config c;
    dk_err err;
    model *m = NULL;
    model_config_from_json(&c, cfg, "cfg", &err);
    model_new(&m, &c, p, &err);
    params_init(model_layout(m), model_params(m), seed);
    return m;
}

/* Saves m as the model directory NAME under the scratch dir (its path into dir) and frees it. */
static void save_and_free(model *m, const char *name, char *dir)
{
    dk_err err;
    sprintf(dir, "%s/%s", test_tmpdir(), name);
    model_save_dir(m, dir, NULL, NULL, NULL, 0, &err);
    model_free(m);
}

/* A random model directory; `edit` changes the parameters before saving. */
static void save_model(const char *name, unsigned seed, void (*edit)(model *, unsigned), char *dir)
{
    pool *p = pool_new(1);
    model *m = random_model("{\"hidden_size\": 48, \"num_hidden_layers\": 3, \"num_attention_heads\": 4,"
                            " \"intermediate_size\": 128, \"vocab_size\": 100, \"max_position_embeddings\": 64}",
                            seed, p);
    if (edit)
        edit(m, seed);
    save_and_free(m, name, dir);
    pool_free(p);
}

static void add_noise(model *m, unsigned seed)
{
    float *w = model_params(m);
    srand(seed);
    for (size_t i = 0; i < model_numel(m); i++)
        w[i] += 0.01f * ((float)rand() / RAND_MAX - 0.5f);
}

/* Permutes the MLP neurons of every layer (gate/up rows, down columns). */
static void permute_mlp(model *m, unsigned seed)
{
    const model_config *c = model_cfg(m);
    model_view v;
    layer_view lv[8];
    v.layers = lv;
    params_view(model_layout(m), model_params(m), &v);
    int F = c->ffn_dim, D = c->dim;
    int *perm = malloc(F * sizeof *perm);
    float *tmp = malloc((size_t)F * D * sizeof *tmp);
    srand(seed + 99);
    for (int l = 0; l < c->n_layers; l++) {
        for (int i = 0; i < F; i++)
            perm[i] = i;
        for (int i = F - 1; i > 0; i--) {
            int j = rand() % (i + 1), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        float *mats[2] = {lv[l].wgate, lv[l].wup};
        for (int k = 0; k < 2; k++) {
            memcpy(tmp, mats[k], (size_t)F * D * 4);
            for (int i = 0; i < F; i++)
                memcpy(mats[k] + (size_t)i * D, tmp + (size_t)perm[i] * D, (size_t)D * 4);
        }
        memcpy(tmp, lv[l].wdown, (size_t)F * D * 4);
        for (int r = 0; r < D; r++)
            for (int i = 0; i < F; i++)
                lv[l].wdown[(size_t)r * F + i] = tmp[(size_t)r * F + perm[i]];
    }
    free(perm);
    free(tmp);
}

TEST(lineage_random_models_independent_noisy_and_permuted_copies)
{
    char a[600], b[600], noisy[600], perm[600];
    save_model("lin_a", 1, NULL, a);
    save_model("lin_b", 2, NULL, b);
    save_model("lin_noisy", 1, add_noise, noisy);
    save_model("lin_perm", 1, permute_mlp, perm);
    lineage_opts o;
    lineage_default_opts(&o);
    o.threads = 2;
    o.sample = 64;
    lineage_report r;
    dk_err err;
    CHECK_MSG(lineage_run(&r, a, b, &o, &err) == 0, "%s", err.msg);
    CHECK(!r.derived);
    CHECK(r.log10_p > -2);
    CHECK(!r.a_ok); /* no tokenizers: no activation test */
    lineage_report_free(&r);
    CHECK(lineage_run(&r, a, noisy, &o, &err) == 0);
    CHECK(r.derived);
    CHECK_STR(r.kind, "descendant");
    CHECK(r.log10_p < -50);
    for (int j = 0; j < 3; j++)
        CHECK_EQ(r.src[j], j);
    char *js = lineage_json(&r);
    CHECK(js && strstr(js, "\"verdict\":\"derived\"") && strstr(js, "\"kind\":\"descendant\""));
    free(js);
    lineage_report_free(&r);
    /* permuted neurons: the identity test sees nothing, gate/up consistency does */
    CHECK(lineage_run(&r, a, perm, &o, &err) == 0);
    CHECK(r.w_ok && r.w_combined > -3);
    CHECK(r.map_combined < -50);
    CHECK(r.derived);
    CHECK_STR(r.kind, "descendant");
    char html[700];
    snprintf(html, sizeof html, "%s/lin.html", test_tmpdir());
    CHECK(lineage_write_html(&r, html, &err) == 0);
    lineage_report_free(&r);
    char out[4096];
    CHECK_EQ(test_run(out, sizeof out, "grep -c '<td style' %s", html), 0);
    CHECK_EQ(atoi(out), 3); /* the heat map: one table row per layer of A */
    CHECK_EQ(test_run(out, sizeof out, "%s lineage %s /nonexistent 2>&1", test_bin(), a), 1);
    CHECK_CONTAINS(out, "/nonexistent");
    CHECK_EQ(test_run(out, sizeof out, "%s lineage %s 2>&1", test_bin(), a), 2);
}

/* A Hugging Face style copy of a model: BF16 tensors in two shards with
 * model.safetensors.index.json. */
static int save_hf_bf16(const char *src, const char *dst)
{
    pool *p = pool_new(1);
    model *m;
    dk_err err;
    if (model_load_dir(&m, src, p, &err) != 0)
        return -1;
    const param_layout *l = model_layout(m);
    st_entry *e = calloc(l->n_info, sizeof *e);
    uint64_t (*shapes)[2] = calloc(l->n_info, sizeof *shapes);
    for (size_t i = 0; i < l->n_info; i++) {
        shapes[i][0] = (uint64_t)l->info[i].shape[0];
        shapes[i][1] = (uint64_t)l->info[i].shape[1];
        e[i] = (st_entry){l->info[i].name, ST_BF16, l->info[i].ndim, shapes[i], model_params(m) + l->info[i].offset};
    }
    char path[1200], idx[1 << 14];
    test_run(NULL, 0, "mkdir -p %s && cp %s/config.json %s/", dst, src, dst);
    size_t half = l->n_info / 2;
    snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", dst);
    int rc = st_write(path, e, half, NULL, NULL, 0, &err);
    snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", dst);
    rc |= st_write(path, e + half, l->n_info - half, NULL, NULL, 0, &err);
    size_t o = (size_t)snprintf(idx, sizeof idx, "{\"metadata\": {}, \"weight_map\": {");
    for (size_t i = 0; i < l->n_info; i++)
        o += (size_t)snprintf(idx + o, sizeof idx - o, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"", i ? ", " : "",
                              l->info[i].name, i < half ? 1 : 2);
    snprintf(idx + o, sizeof idx - o, "}}");
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dst);
    FILE *f = fopen(path, "w");
    fputs(idx, f);
    fclose(f);
    free(e);
    free(shapes);
    model_free(m);
    pool_free(p);
    return rc;
}

TEST(lineage_reads_sharded_bf16_hugging_face_directories)
{
    char a[600], b[600], hf[600];
    save_model("lin_hf_a", 1, NULL, a);
    save_model("lin_hf_b", 2, NULL, b);
    snprintf(hf, sizeof hf, "%s/lin_hf_bf16", test_tmpdir());
    CHECK(save_hf_bf16(a, hf) == 0);
    lineage_opts o;
    lineage_default_opts(&o);
    o.sample = 64;
    lineage_report r;
    dk_err err;
    CHECK_MSG(lineage_run(&r, hf, a, &o, &err) == 0, "%s", err.msg);
    CHECK(r.derived && r.log10_p < -50);
    lineage_report_free(&r);
    CHECK(lineage_run(&r, hf, b, &o, &err) == 0);
    CHECK(!r.derived);
    lineage_report_free(&r);
}

/* A 6-layer random model (seed), optionally depth up-scaled to `layers` and permuted
 * and noised, saved as NAME. */
static void save_deep(const char *name, unsigned seed, const int *layers, int n_layers, char *dir)
{
    pool *p = pool_new(1);
    dk_err err;
    model *t, *m = random_model("{\"hidden_size\": 64, \"num_hidden_layers\": 6, \"num_attention_heads\": 4,"
                                " \"intermediate_size\": 256, \"vocab_size\": 100, \"max_position_embeddings\": 64}",
                                seed, p);
    if (layers) {
        surgery_depth(&t, m, layers, n_layers, &err);
        model_free(m);
        surgery_permute(&m, t, seed + 7, &err);
        model_free(t);
        surgery_noise(&t, m, 0.05, seed + 8, &err);
        model_free(m);
        m = t;
    }
    save_and_free(m, name, dir);
    pool_free(p);
}

/* The screened layer map decides as the full one does, and every pair it tests in full
 * has exactly the full map's value. */
TEST(lineage_screened_map_agrees_with_the_full_map)
{
    char a[600], b[600], up[600];
    static const int depth[8] = {0, 1, 2, 3, 2, 3, 4, 5};
    save_deep("scr_a", 11, NULL, 0, a);
    save_deep("scr_b", 12, NULL, 0, b);
    save_deep("scr_up", 11, depth, 8, up);
    lineage_opts o;
    lineage_default_opts(&o);
    o.threads = 2;
    o.sample = 32;
    o.screen_neurons = 8;
    o.screen_dims = 32;
    const char *pairs[2][2] = {{a, b}, {a, up}};
    for (int q = 0; q < 2; q++) {
        lineage_report f, s;
        dk_err err;
        o.map_mode = LINEAGE_MAP_FULL;
        CHECK_MSG(lineage_run(&f, pairs[q][0], pairs[q][1], &o, &err) == 0, "%s", err.msg);
        o.map_mode = LINEAGE_MAP_SCREEN;
        CHECK_MSG(lineage_run(&s, pairs[q][0], pairs[q][1], &o, &err) == 0, "%s", err.msg);
        CHECK(!f.map_screened && s.map_screened && s.map_refined);
        CHECK_EQ(f.derived, s.derived);
        CHECK_EQ(f.derived, q == 1);
        CHECK_STR(f.kind, s.kind);
        int refined = 0;
        for (int i = 0; i < s.La; i++)
            for (int j = 0; j < s.Lb; j++)
                if (s.map_refined[i * s.Lb + j]) {
                    refined++;
                    CHECK(s.map_log10p[i * s.Lb + j] == f.map_log10p[i * f.Lb + j]);
                    CHECK(s.map_rho[i * s.Lb + j] == f.map_rho[i * f.Lb + j]);
                }
        CHECK(refined >= s.Lb && refined <= s.Lb * o.screen_keep);
        CHECK(refined < s.La * s.Lb);
        if (q == 1) {
            CHECK_STR(s.kind, "depth-upscaled");
            for (int j = 0; j < s.Lb; j++) {
                CHECK_EQ(s.src[j], depth[j]);
                CHECK_EQ(f.src[j], depth[j]);
                CHECK(s.layer_log10p[j] == f.layer_log10p[j]);
            }
            CHECK_EQ(s.n_dup, f.n_dup);
            CHECK(s.n_dup >= 2); /* layers 2 and 3 appear twice */
            for (int k = 0; k < s.n_dup && k < f.n_dup; k++) {
                CHECK_EQ(s.dup[k][0], f.dup[k][0]);
                CHECK_EQ(s.dup[k][1], f.dup[k][1]);
            }
        }
        char *js = lineage_json(&s);
        CHECK(js && strstr(js, "\"screened\":true") && strstr(js, "\"refined\":[["));
        free(js);
        lineage_report_free(&f);
        lineage_report_free(&s);
    }
    /* statistic 1 on a subset of rows: a copy keeps row k at row k inside the subset */
    char noisy[600];
    save_model("scr_noisy", 1, add_noise, noisy);
    char a1[600];
    save_model("scr_a1", 1, NULL, a1);
    o.map_mode = LINEAGE_MAP_AUTO;
    o.identity_rows = 40;
    lineage_report r;
    dk_err err;
    CHECK(lineage_run(&r, a1, noisy, &o, &err) == 0);
    CHECK_EQ(r.w_rows, 40);
    CHECK(r.w_ok && r.w_combined < -30);
    lineage_report_free(&r);
    /* a forced screen on an MLP too narrow for both samples is an error, not a guess */
    o.sample = 128;
    o.map_mode = LINEAGE_MAP_SCREEN;
    CHECK(lineage_run(&r, a1, noisy, &o, &err) == -1);
    CHECK_CONTAINS(err.msg, "screened layer map needs");
}
