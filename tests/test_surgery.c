/* test_surgery.c: model surgery does what it says: a permutation keeps the function,
 * depth copies layers, pruning keeps the most important neurons in order, re-init
 * reproduces params_init, noise has the requested size and is seeded. */
#include <math.h>
#include <stdlib.h>

#include "model/surgery.h"
#include "test.h"

static model *make(pool *p, int bias)
{
    model_config c = {.dim = 32, .n_layers = 4, .n_heads = 4, .n_kv_heads = 2, .ffn_dim = 48,
                      .vocab_size = 50, .max_seq = 32, .rope_theta = 10000.0, .norm_eps = 1e-5,
                      .qkv_bias = bias};
    dk_err err;
    model *m;
    if (model_config_validate(&c, "t", &err) != 0 || model_new(&m, &c, p, &err) != 0)
        return NULL;
    params_init(model_layout(m), model_params(m), 3);
    float *w = model_params(m);
    srand(4);
    for (size_t i = 0; i < model_numel(m); i++) /* sharper attention, non-zero biases */
        w[i] = w[i] * 5 + (float)rand() / RAND_MAX * 0.01f;
    return m;
}

static const float *t(model *m, const char *fmt, int layer)
{
    char name[PARAM_NAME_MAX];
    snprintf(name, sizeof name, fmt, layer);
    const param_info *p = params_find(model_layout(m), name);
    return p ? model_params(m) + p->offset : NULL;
}

TEST(surgery_permute_keeps_the_function_and_moves_the_weights)
{
    pool *p = pool_new(2);
    for (int bias = 0; bias <= 1; bias++) {
        model *a = make(p, bias), *b;
        dk_err err;
        CHECK(surgery_permute(&b, a, 7, &err) == 0);
        dk_token tok[20];
        for (int i = 0; i < 20; i++)
            tok[i] = (i * 7) % 50;
        float *la = malloc(20 * 50 * 4), *lb = malloc(20 * 50 * 4);
        CHECK(model_reserve(a, 1, 20, &err) == 0 && model_reserve(b, 1, 20, &err) == 0);
        model_forward_logits(a, tok, 1, 20, la);
        model_forward_logits(b, tok, 1, 20, lb);
        /* float maxima (exact: the values are floats): GCC 12.2 for aarch64 crashes
         * vectorising a double fmax reduction over widened floats */
        float maxd = 0, maxa = 0;
        for (int i = 0; i < 20 * 50; i++) {
            maxd = fmaxf(maxd, fabsf(la[i] - lb[i]));
            maxa = fmaxf(maxa, fabsf(la[i]));
        }
        CHECK_MSG(maxd < 1e-4 * (1 + (double)maxa), "logits moved by %g (bias %d)", (double)maxd, bias);
        CHECK(memcmp(t(a, "model.layers.%d.mlp.gate_proj.weight", 1), t(b, "model.layers.%d.mlp.gate_proj.weight", 1),
                     48 * 32 * 4) != 0);
        CHECK(memcmp(t(a, "model.layers.%d.self_attn.q_proj.weight", 2), t(b, "model.layers.%d.self_attn.q_proj.weight", 2),
                     32 * 32 * 4) != 0);
        free(la), free(lb);
        model_free(a), model_free(b);
    }
    pool_free(p);
}

TEST(surgery_depth_prune_reinit_and_noise)
{
    pool *p = pool_new(2);
    model *a = make(p, 0), *b;
    dk_err err;
    int layers[5] = {0, 1, 1, 2, 3};
    CHECK(surgery_depth(&b, a, layers, 5, &err) == 0);
    CHECK_EQ(model_cfg(b)->n_layers, 5);
    for (int k = 0; k < 5; k++)
        CHECK(memcmp(t(a, "model.layers.%d.mlp.up_proj.weight", layers[k]), t(b, "model.layers.%d.mlp.up_proj.weight", k),
                     48 * 32 * 4) == 0);
    model_free(b);
    int bad[1] = {4};
    CHECK(surgery_depth(&b, a, bad, 1, &err) != 0);
    CHECK_CONTAINS(err.msg, "layer 4 does not exist");
    /* pruning: the kept neurons are the most important, in order */
    CHECK(surgery_prune_ffn(&b, a, 30, &err) == 0);
    CHECK_EQ(model_cfg(b)->ffn_dim, 30);
    const float *g = t(a, "model.layers.%d.mlp.gate_proj.weight", 2), *u = t(a, "model.layers.%d.mlp.up_proj.weight", 2),
                *d = t(a, "model.layers.%d.mlp.down_proj.weight", 2), *ng = t(b, "model.layers.%d.mlp.gate_proj.weight", 2);
    double imp[48];
    for (int i = 0; i < 48; i++) {
        double sg = 0, su = 0, sd = 0;
        for (int k = 0; k < 32; k++)
            sg += g[i * 32 + k] * g[i * 32 + k], su += u[i * 32 + k] * u[i * 32 + k], sd += d[k * 48 + i] * d[k * 48 + i];
        imp[i] = sqrt(sg) * sqrt(su) * sqrt(sd);
    }
    int k = 0;
    for (int i = 0; i < 48; i++) {
        int better = 0;
        for (int j = 0; j < 48; j++)
            better += imp[j] > imp[i];
        if (better < 30) {
            CHECK(memcmp(ng + k * 32, g + i * 32, 32 * 4) == 0);
            k++;
        }
    }
    CHECK_EQ(k, 30);
    model_free(b);
    CHECK(surgery_prune_ffn(&b, a, 49, &err) != 0);
    /* re-init: listed layers equal a fresh init, the others are untouched */
    int re[2] = {1, 3};
    CHECK(surgery_reinit(&b, a, re, 2, 11, &err) == 0);
    model *f = make(p, 0);
    params_init(model_layout(f), model_params(f), 11);
    CHECK(memcmp(t(b, "model.layers.%d.self_attn.k_proj.weight", 1), t(f, "model.layers.%d.self_attn.k_proj.weight", 1), 16 * 32 * 4) == 0);
    CHECK(memcmp(t(b, "model.layers.%d.mlp.down_proj.weight", 3), t(f, "model.layers.%d.mlp.down_proj.weight", 3), 48 * 32 * 4) == 0);
    CHECK(memcmp(t(b, "model.layers.%d.mlp.down_proj.weight", 2), t(a, "model.layers.%d.mlp.down_proj.weight", 2), 48 * 32 * 4) == 0);
    model_free(b), model_free(f);
    /* noise: about 10 % of the RMS, the same for the same seed */
    model *n1, *n2, *n3;
    CHECK(surgery_noise(&n1, a, 0.1, 5, &err) == 0);
    CHECK(surgery_noise(&n2, a, 0.1, 5, &err) == 0);
    CHECK(surgery_noise(&n3, a, 0.1, 6, &err) == 0);
    CHECK(memcmp(model_params(n1), model_params(n2), model_numel(a) * 4) == 0);
    CHECK(memcmp(model_params(n1), model_params(n3), model_numel(a) * 4) != 0);
    const float *w0 = t(a, "model.layers.%d.mlp.up_proj.weight", 0), *w1 = t(n1, "model.layers.%d.mlp.up_proj.weight", 0);
    double ss = 0, dd = 0;
    for (int i = 0; i < 48 * 32; i++)
        ss += (double)w0[i] * w0[i], dd += (double)(w1[i] - w0[i]) * (w1[i] - w0[i]);
    double rel = sqrt(dd / ss);
    CHECK_MSG(rel > 0.09 && rel < 0.11, "relative noise %g", rel);
    model_free(n1), model_free(n2), model_free(n3);
    model_free(a);
    pool_free(p);
}

TEST(surgery_layer_lists_parse_and_reject)
{
    int *v, n;
    dk_err err;
    CHECK(surgery_parse_layers("0-2,1-3", 4, &v, &n, &err) == 0);
    CHECK_EQ(n, 6);
    CHECK(v[3] == 1 && v[5] == 3);
    free(v);
    CHECK(surgery_parse_layers("2,5", 6, &v, &n, &err) == 0);
    CHECK(n == 2 && v[1] == 5);
    free(v);
    CHECK(surgery_parse_layers("3-1", 6, &v, &n, &err) != 0);
    CHECK_CONTAINS(err.msg, "3-1 is not a rising range");
    CHECK(surgery_parse_layers("x", 6, &v, &n, &err) != 0);
    CHECK_CONTAINS(err.msg, "expected numbers and ranges");
    CHECK(surgery_parse_layers("0-6", 6, &v, &n, &err) != 0);
    CHECK(surgery_parse_layers("9", 6, &v, &n, &err) != 0);
    CHECK_CONTAINS(err.msg, "layer 9 is outside 0..5");
    CHECK(surgery_parse_layers("1,", 6, &v, &n, &err) == 0 && n == 1);
    free(v);
}
