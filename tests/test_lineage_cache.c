/* test_lineage_cache.c: lineage_run with a shared per-model cache (lineage_opts.cache)
 * gives the same reports as without one, field for field except the timings, on many
 * pairs that share models (a depth-upscaled B with duplicated layers, full and screened
 * maps, the activation test with the same and with different tokenizers); the cache
 * hits; a model rewritten in place is not served from it. */
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "lineage/lineage.h"
#include "model/model_io.h"
#include "model/surgery.h"
#include "test.h"

/* A tokenizer of `vocab` ids (at most 320) trained once per run, its path. */
static const char *tokenizer(int vocab)
{
    static char paths[2][700];
    int k = vocab == 300 ? 0 : 1;
    snprintf(paths[k], sizeof paths[k], "%s/lc_tok%d.json", test_tmpdir(), vocab);
    struct stat st;
    if (stat(paths[k], &st) == 0)
        return paths[k];
    static char text[1 << 16];
    text[0] = 0;
    for (int i = 0; i < 400; i++)
        sprintf(text + strlen(text), "줄 %d: 바다는 오늘도 조용하다. Line %d: the sea is quiet today.\n", i, i * 3);
    const char *corpus = test_write_file("lc_corpus.txt", text, strlen(text));
    if (test_run(NULL, 0, "%s tokenizer train -q --vocab-size %d -o %s %s >/dev/null", test_bin(), vocab, paths[k],
                 corpus) != 0)
        return NULL;
    return paths[k];
}

/* A random 6-layer model (seed), optionally depth up-scaled to `layers` then permuted
 * and noised, saved as NAME with a tokenizer of `vocab` ids. */
static int save_model(const char *name, unsigned seed, const int *layers, int n_layers, int vocab, char *dir)
{
    model_config c;
    dk_err err;
    model *m = NULL, *t;
    pool *p = pool_new(1);
    if (model_config_from_json(&c,
                               "{\"hidden_size\": 64, \"num_hidden_layers\": 6, \"num_attention_heads\": 4,"
                               " \"intermediate_size\": 256, \"vocab_size\": 320, \"max_position_embeddings\": 256}",
                               "cfg", &err) != 0 ||
        model_new(&m, &c, p, &err) != 0)
        return -1;
    params_init(model_layout(m), model_params(m), seed);
    if (layers) {
        if (surgery_depth(&t, m, layers, n_layers, &err) != 0)
            return -1;
        model_free(m);
        if (surgery_permute(&m, t, seed + 7, &err) != 0)
            return -1;
        model_free(t);
        if (surgery_noise(&t, m, 0.05, seed + 8, &err) != 0)
            return -1;
        model_free(m);
        m = t;
    }
    const char *tok = tokenizer(vocab);
    if (!tok)
        return -1;
    sprintf(dir, "%s/%s", test_tmpdir(), name);
    int rc = model_save_dir(m, dir, tok, NULL, NULL, 0, &err);
    model_free(m);
    pool_free(p);
    return rc;
}

/* The report as JSON without its timings (malloc'd). */
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

/* lineage_run(a, b) without a cache and with `cache`: identical reports but for the
 * timings; 0 if so. */
static int same_with_cache(const char *a, const char *b, lineage_opts *o, lineage_cache *cache, lineage_report *rc)
{
    lineage_report r0;
    dk_err err;
    o->cache = NULL;
    if (lineage_run(&r0, a, b, o, &err) != 0) {
        test_fail(__FILE__, __LINE__, "%s", err.msg);
        return -1;
    }
    o->cache = cache;
    if (lineage_run(rc, a, b, o, &err) != 0) {
        lineage_report_free(&r0);
        test_fail(__FILE__, __LINE__, "%s", err.msg);
        return -1;
    }
    o->cache = NULL;
    char *j0 = json_without_seconds(&r0), *j1 = json_without_seconds(rc);
    int same = j0 && j1 && strcmp(j0, j1) == 0;
    /* the fields the JSON leaves out or rounds */
    same = same && r0.n_refined == rc->n_refined && r0.n_dup == rc->n_dup && r0.a_tokens == rc->a_tokens &&
           r0.log10_p == rc->log10_p && r0.map_combined == rc->map_combined && r0.a_combined == rc->a_combined;
    for (int k = 0; same && k < r0.n_dup; k++)
        same = r0.dup_log10p[k] == rc->dup_log10p[k];
    size_t LL = (size_t)r0.La * r0.Lb;
    same = same && (!r0.map_rho || memcmp(r0.map_rho, rc->map_rho, LL * sizeof(double)) == 0) &&
           (!r0.map_log10p || memcmp(r0.map_log10p, rc->map_log10p, LL * sizeof(double)) == 0) &&
           (!r0.a_rho || memcmp(r0.a_rho, rc->a_rho, (size_t)r0.Lb * sizeof(double)) == 0);
    if (!same)
        test_fail(__FILE__, __LINE__, "%s -> %s: with the cache\n%s\nwithout\n%s", a, b, j1 ? j1 : "?",
                  j0 ? j0 : "?");
    free(j0);
    free(j1);
    lineage_report_free(&r0);
    return same ? 0 : -1;
}

static void small_opts(lineage_opts *o)
{
    lineage_default_opts(o);
    o->threads = 2;
    o->sample = 32;
    o->screen_neurons = 8;
    o->screen_dims = 32;
    o->probe_tokens = 160;
}

TEST(lineage_cache_gives_identical_reports_on_pairs_sharing_models_and_hits)
{
    static const int depth[8] = {0, 1, 2, 3, 2, 3, 4, 5};
    char a[600], b[600], c[600], up[600];
    CHECK(save_model("lc_a", 31, NULL, 0, 300, a) == 0);
    CHECK(save_model("lc_b", 32, NULL, 0, 300, b) == 0);
    CHECK(save_model("lc_c", 33, NULL, 0, 280, c) == 0); /* another tokenizer */
    CHECK(save_model("lc_up", 31, depth, 8, 300, up) == 0);
    lineage_cache *cache = lineage_cache_new((size_t)256 << 20);
    CHECK(cache);
    const char *pairs[][2] = {{a, up}, {b, up}, {c, up}, {a, b}, {c, b}, {up, a}, {up, up}};
    const int n_pairs = (int)(sizeof pairs / sizeof pairs[0]);
    lineage_opts o;
    small_opts(&o);
    size_t hits = 0, misses = 0, bytes = 0;
    int modes[2] = {LINEAGE_MAP_FULL, LINEAGE_MAP_SCREEN};
    for (int mi = 0; mi < 2; mi++) {
        o.map_mode = modes[mi];
        size_t h0 = hits;
        for (int q = 0; q < n_pairs; q++) {
            lineage_report r;
            if (same_with_cache(pairs[q][0], pairs[q][1], &o, cache, &r) != 0)
                return;
            CHECK_EQ(r.map_screened, mi == 1);
            CHECK(r.a_ok); /* the activation test ran (tokenizers in every model) */
            if (q == 0) { /* A -> its up-scaled copy: B repeats layers 2 and 3 */
                CHECK(r.derived);
                CHECK_STR(r.kind, "depth-upscaled");
                CHECK(r.n_dup >= 2);
            }
            if (q == 2) {
                CHECK_CONTAINS(r.a_note, "different tokenizers");
            }
            lineage_report_free(&r);
        }
        lineage_cache_stats(cache, &hits, &misses, &bytes);
        /* per model and mode: B's sample, (screen sample,) self test and probe run once,
         * so with 7 pairs on 4 models most lookups hit */
        CHECK_MSG(hits - h0 >= 12, "hits %zu (this mode %zu), misses %zu", hits, hits - h0, misses);
    }
    CHECK(bytes > 0 && bytes <= (size_t)256 << 20);
    /* a second round: everything is served, nothing recomputed */
    size_t m0 = misses;
    lineage_report r;
    o.map_mode = LINEAGE_MAP_SCREEN;
    if (same_with_cache(b, up, &o, cache, &r) != 0)
        return;
    lineage_report_free(&r);
    lineage_cache_stats(cache, &hits, &misses, NULL);
    CHECK_EQ(misses, m0);
    /* options that change a result are part of the key: a different sample misses and
     * still agrees */
    o.sample = 24;
    if (same_with_cache(b, up, &o, cache, &r) != 0)
        return;
    lineage_report_free(&r);
    lineage_cache_stats(cache, &hits, &misses, NULL);
    CHECK(misses > m0);
    /* so is the probe text: another text misses and agrees */
    static char probe[4096];
    probe[0] = 0;
    for (int i = 0; i < 40; i++)
        sprintf(probe + strlen(probe), "바람이 %d번 불었다. The wind blew %d times. ", i, i + 1);
    o.probe_path = test_write_file("lc_probe.txt", probe, strlen(probe));
    lineage_cache_stats(cache, NULL, &m0, NULL);
    if (same_with_cache(b, up, &o, cache, &r) != 0)
        return;
    CHECK(r.a_ok);
    lineage_report_free(&r);
    lineage_cache_stats(cache, NULL, &misses, NULL);
    CHECK(misses >= m0 + 2); /* both models' probe runs */
    o.probe_path = NULL;
    /* a model that cannot be opened fails as without a cache */
    dk_err err;
    o.cache = cache;
    CHECK(lineage_run(&r, a, "/nonexistent/model", &o, &err) == -1);
    CHECK_CONTAINS(err.msg, "/nonexistent/model");
    o.cache = NULL;
    lineage_cache_free(cache);
    /* a budget of 0 keeps nothing, hits nothing, and changes nothing */
    cache = lineage_cache_new(0);
    small_opts(&o);
    for (int q = 0; q < 3; q++) {
        if (same_with_cache(pairs[q][0], pairs[q][1], &o, cache, &r) != 0)
            return;
        lineage_report_free(&r);
    }
    lineage_cache_stats(cache, &hits, &misses, &bytes);
    CHECK_EQ(hits, 0);
    CHECK(misses > 0);
    CHECK_EQ(bytes, 0);
    lineage_cache_free(cache);
}

TEST(lineage_cache_does_not_serve_a_model_rewritten_in_place)
{
    char a[600], b[600], x[600], path[700], from[700];
    CHECK(save_model("lcr_a", 41, NULL, 0, 300, a) == 0);
    CHECK(save_model("lcr_b", 42, NULL, 0, 300, b) == 0);
    snprintf(x, sizeof x, "%s/lcr_x", test_tmpdir());
    CHECK_EQ(test_run(NULL, 0, "cp -r %s %s", b, x), 0); /* X: a copy of B */
    lineage_cache *cache = lineage_cache_new((size_t)64 << 20);
    lineage_opts o;
    small_opts(&o);
    lineage_report r;
    if (same_with_cache(a, x, &o, cache, &r) != 0)
        return;
    CHECK(!r.derived);
    lineage_report_free(&r);
    if (same_with_cache(a, x, &o, cache, &r) != 0) /* served from the cache */
        return;
    lineage_report_free(&r);
    size_t h0, m0, h1, m1;
    lineage_cache_stats(cache, &h0, &m0, NULL);
    CHECK(h0 > 0);
    /* X's weights rewritten in place (same path, same inode and size) with A's */
    struct stat s0, s1;
    snprintf(path, sizeof path, "%s/model.safetensors", x);
    snprintf(from, sizeof from, "%s/model.safetensors", a);
    CHECK(stat(path, &s0) == 0);
    CHECK_EQ(test_run(NULL, 0, "cp %s %s", from, path), 0);
    CHECK(stat(path, &s1) == 0);
    CHECK_EQ(s0.st_ino, s1.st_ino);
    CHECK_EQ(s0.st_size, s1.st_size);
    if (same_with_cache(a, x, &o, cache, &r) != 0)
        return;
    CHECK(r.derived); /* X is now A */
    lineage_report_free(&r);
    lineage_cache_stats(cache, &h1, &m1, NULL);
    CHECK(m1 > m0); /* X's results were computed again */
    /* and once more atomically (a new file under the same name): B's weights back */
    pool *p = pool_new(1);
    model *m;
    dk_err err;
    CHECK(model_load_dir(&m, b, p, &err) == 0);
    CHECK(model_save_dir(m, x, NULL, NULL, NULL, 0, &err) == 0);
    model_free(m);
    pool_free(p);
    if (same_with_cache(a, x, &o, cache, &r) != 0)
        return;
    CHECK(!r.derived);
    lineage_report_free(&r);
    lineage_cache_free(cache);
}
