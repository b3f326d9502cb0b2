/* test_train_parts.c: the pieces of the training loop that stand alone: learning-rate
 * schedule, gradient clipping, the loss-curve picture. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "model/params.h"
#include "mpi/mpi.h"
#include "train/adamw.h"
#include "train/grad.h"
#include "train/plot.h"
#include "train/schedule.h"

TEST(schedule_warms_up_linearly_then_decays_by_cosine_to_the_floor)
{
    CHECK(fabs(lr_at(0, 100, 10, 1.0, 0.1) - 0.1) < 1e-12);
    CHECK(fabs(lr_at(9, 100, 10, 1.0, 0.1) - 1.0) < 1e-12);
    CHECK(fabs(lr_at(10, 100, 10, 1.0, 0.1) - 1.0) < 1e-12);
    CHECK(fabs(lr_at(99, 100, 10, 1.0, 0.1) - 0.1) < 1e-12);
    double mid = lr_at(10 + 89 / 2.0, 100, 10, 1.0, 0.1);
    CHECK(mid > 0.5 && mid < 0.6);
    for (long s = 11; s < 100; s++)
        CHECK(lr_at(s, 100, 10, 1.0, 0.1) <= lr_at(s - 1, 100, 10, 1.0, 0.1));
}

TEST(grad_clip_scales_to_the_max_norm_and_is_thread_count_independent)
{
    size_t n = 3 * GRAD_BLOCK + 123;
    float *g = malloc(n * sizeof *g), *h = malloc(n * sizeof *h);
    srand(1);
    for (size_t i = 0; i < n; i++)
        g[i] = h[i] = (float)rand() / RAND_MAX - 0.5f;
    pool *p1 = pool_new(1), *p3 = pool_new(3);
    double a = grad_sumsq(p1, g, n), b = grad_sumsq(p3, g, n);
    CHECK(a == b);
    double norm = grad_clip(p3, g, n, 1.0);
    CHECK(fabs(norm - sqrt(a)) < 1e-9 * norm);
    CHECK(fabs(sqrt(grad_sumsq(p1, g, n)) - 1.0) < 1e-4);
    CHECK(grad_clip(p1, h, n, 1e9) == norm); /* no clipping below the limit */
    CHECK(h[5] == (float)h[5] && g[5] != h[5]);
    pool_free(p1);
    pool_free(p3);
    free(g);
    free(h);
}

TEST(grad_sumsq_over_many_blocks_is_the_block_order_sum_without_allocating)
{
    /* more than one round of 256 blocks: the same sum as block sums added in order */
    size_t n = 300 * (size_t)GRAD_BLOCK + 7;
    float *g = malloc(n * sizeof *g);
    for (size_t i = 0; i < n; i++)
        g[i] = (float)((i * 2654435761u) % 1000) / 999.0f - 0.5f;
    double ref = 0;
    for (size_t b = 0; b < n; b += GRAD_BLOCK) {
        double s = 0;
        for (size_t i = b; i < n && i < b + GRAD_BLOCK; i++)
            s += (double)g[i] * g[i];
        ref += s;
    }
    pool *p = pool_new(3);
    CHECK(grad_sumsq(p, g, n) == ref);
    pool_free(p);
    free(g);
}

/* What a rank computes on its shard of dist_shard: the partials of its blocks, which,
 * gathered and added in block order, are grad_sumsq's sum for any number of ranks. */
TEST(grad_block_partials_of_shards_add_up_to_grad_sumsq_for_any_rank_count)
{
    size_t n = 7 * (size_t)GRAD_BLOCK + 1001, nb = (n + GRAD_BLOCK - 1) / GRAD_BLOCK;
    float *g = malloc(n * sizeof *g);
    double *partial = malloc(nb * sizeof *partial);
    for (size_t i = 0; i < n; i++)
        g[i] = (float)((i * 2654435761u) % 1000) / 999.0f - 0.5f;
    pool *p = pool_new(2);
    double ref = grad_sumsq(p, g, n);
    for (int size = 1; size <= 9; size++) {
        for (size_t k = 0; k < nb; k++)
            partial[k] = NAN;
        for (int r = 0; r < size; r++) {
            size_t b, e;
            dist_shard(n, r, size, &b, &e);
            grad_block_sumsq(p, g + b, e - b, partial + b / GRAD_BLOCK);
        }
        double s = 0;
        for (size_t k = 0; k < nb; k++)
            s += partial[k];
        CHECK_MSG(s == ref, "%d ranks: %.17g, not %.17g", size, s, ref);
    }
    pool_free(p);
    free(partial);
    free(g);
}

TEST(plot_writes_an_svg_with_escaped_series_names)
{
    double x[3] = {0, 1, 2}, y[3] = {3, 2, NAN}, vx[1] = {1}, vy[1] = {2.5};
    plot_series s[2] = {{"train", x, y, 3}, {"val <a&b>", vx, vy, 1}};
    char path[512], out[8192];
    snprintf(path, sizeof path, "%s/loss.svg", test_tmpdir());
    dk_err err;
    CHECK(plot_svg(path, "loss", "step", "nats", s, 2, &err) == 0);
    CHECK_EQ(test_run(out, sizeof out, "cat %s", path), 0);
    CHECK_CONTAINS(out, "<svg");
    CHECK_CONTAINS(out, "val &lt;a&amp;b&gt;");
    CHECK_CONTAINS(out, "</svg>");
    CHECK(strstr(out, "nan") == NULL);
}

/* The reference update, one element at a time in the documented order. */
static void adamw_reference(const param_layout *l, float *p, const float *g, float *m, float *v,
                            size_t begin, size_t end, const adamw_cfg *c, long t)
{
    float c1 = 1.0f - (float)pow(c->beta1, (double)t), c2 = 1.0f - (float)pow(c->beta2, (double)t);
    for (size_t k = 0; k < l->n_info; k++) {
        const param_info *pi = &l->info[k];
        float wd = pi->ndim == 2 ? c->weight_decay : 0.0f;
        for (size_t i = pi->offset; i < pi->offset + pi->numel; i++) {
            if (i < begin || i >= end)
                continue;
            float *mi = &m[i - begin], *vi = &v[i - begin];
            *mi = c->beta1 * *mi + (1.0f - c->beta1) * g[i];
            *vi = c->beta2 * *vi + (1.0f - c->beta2) * g[i] * g[i];
            float upd = (*mi / c1) / (sqrtf(*vi / c2) + c->eps);
            p[i] -= c->lr * (upd + wd * p[i]);
        }
    }
}

TEST(adamw_vector_update_equals_the_scalar_reference_bit_for_bit)
{
    /* odd sizes: every tensor ends in a partial vector; a shard boundary mid-tensor */
    model_config cfg = {.dim = 24, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .ffn_dim = 37,
                        .vocab_size = 53, .max_seq = 16, .rope_theta = 10000, .norm_eps = 1e-5,
                        .tie_embeddings = 0, .qkv_bias = 1};
    dk_err err;
    CHECK(model_config_validate(&cfg, "cfg", &err) == 0);
    param_layout l;
    CHECK(params_layout(&l, &cfg, &err) == 0);
    size_t n = l.numel, begin = 777, end = n - 301;
    float *p = malloc(n * 4), *q = malloc(n * 4), *g = malloc(n * 4);
    float *m1 = calloc(n, 4), *v1 = calloc(n, 4), *m2 = calloc(n, 4), *v2 = calloc(n, 4);
    srand(3);
    for (size_t i = 0; i < n; i++) {
        p[i] = q[i] = (float)rand() / RAND_MAX - 0.5f;
        g[i] = ((float)rand() / RAND_MAX - 0.5f) * (i % 7 == 0 ? 1e-6f : 1.0f);
    }
    pool *pl = pool_new(2);
    adamw_cfg c = adamw_defaults(3e-3f);
    for (long t = 1; t <= 3; t++) {
        adamw_step(pl, &l, p, g, m1, v1, begin, end, &c, t);
        adamw_reference(&l, q, g, m2, v2, begin, end, &c, t);
    }
    CHECK(memcmp(p, q, n * 4) == 0);
    CHECK(memcmp(m1, m2, (end - begin) * 4) == 0 && memcmp(v1, v2, (end - begin) * 4) == 0);
    size_t moved = 0; /* the update did something: the shard's parameters left their start */
    srand(3);
    for (size_t i = 0; i < n; i++) {
        float p0 = (float)rand() / RAND_MAX - 0.5f;
        (void)rand();
        moved += i >= begin && i < end && p[i] != p0;
    }
    CHECK(moved > (end - begin) / 2);
    pool_free(pl);
    params_layout_free(&l);
    free(p), free(q), free(g), free(m1), free(v1), free(m2), free(v2);
}
