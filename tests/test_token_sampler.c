/* test_token_sampler.c: greedy, temperature, top-k and top-p choose from the right sets
 * with the right frequencies, and the same seed gives the same draws. */
#include <math.h>
#include <stdlib.h>

#include "infer/token_sampler.h"
#include "test.h"

TEST(token_sampler_greedy_and_top_k_1_take_the_argmax_lowest_id_on_ties)
{
    float z[6] = {0.5f, 2.0f, -1.0f, 2.0f, 0.0f, 1.0f};
    tsampler *s = tsampler_new(6);
    sample_cfg g = {.temperature = 0, .top_p = 1, .seed = 1};
    CHECK_EQ(tsampler_next(s, z, &g, 0), 1);
    sample_cfg k1 = {.temperature = 1, .top_k = 1, .top_p = 1, .seed = 1};
    for (int i = 0; i < 50; i++)
        CHECK_EQ(tsampler_next(s, z, &k1, (uint64_t)i), 1);
    tsampler_free(s);
}

TEST(token_sampler_frequencies_follow_softmax_over_the_allowed_set)
{
    enum { V = 5, N = 40000 };
    float z[V] = {1.0f, 0.0f, 2.0f, -0.5f, 1.5f};
    tsampler *s = tsampler_new(V);
    double p[V], tot = 0;
    for (int v = 0; v < V; v++)
        tot += p[v] = exp(z[v] / 0.7);
    /* temperature 0.7, no truncation */
    sample_cfg c = {.temperature = 0.7, .top_p = 1, .seed = 42};
    int cnt[V] = {0};
    for (int i = 0; i < N; i++)
        cnt[tsampler_next(s, z, &c, (uint64_t)i)]++;
    for (int v = 0; v < V; v++) /* 4 standard deviations */
        CHECK_MSG(fabs(cnt[v] - N * p[v] / tot) < 4 * sqrt(N * p[v] / tot) + 1, "token %d: %d vs %.0f",
                  v, cnt[v], N * p[v] / tot);
    /* top-k 2: only tokens 2 and 4, in proportion */
    sample_cfg k2 = {.temperature = 0.7, .top_k = 2, .top_p = 1, .seed = 42};
    int c2 = 0, c4 = 0;
    for (int i = 0; i < N; i++) {
        dk_token t = tsampler_next(s, z, &k2, (uint64_t)i);
        CHECK(t == 2 || t == 4);
        c2 += t == 2, c4 += t == 4;
    }
    double f2 = p[2] / (p[2] + p[4]);
    CHECK(fabs(c2 - N * f2) < 4 * sqrt(N * f2 * (1 - f2)) + 1);
    /* top-p: the smallest set reaching the mass: p(2) + p(4) vs the threshold */
    double mass24 = (p[2] + p[4]) / tot;
    sample_cfg tp = {.temperature = 0.7, .top_p = mass24 - 1e-9, .seed = 3};
    for (int i = 0; i < 2000; i++) {
        dk_token t = tsampler_next(s, z, &tp, (uint64_t)i);
        CHECK(t == 2 || t == 4);
    }
    sample_cfg tp3 = {.temperature = 0.7, .top_p = mass24 + 1e-9, .seed = 3};
    int saw0 = 0;
    for (int i = 0; i < 4000; i++) {
        dk_token t = tsampler_next(s, z, &tp3, (uint64_t)i);
        CHECK(t == 0 || t == 2 || t == 4);
        saw0 |= t == 0;
    }
    CHECK(saw0);
    tsampler_free(s);
}

TEST(token_sampler_same_seed_same_draws_other_seed_other_draws)
{
    enum { V = 1000 };
    float z[V];
    for (int v = 0; v < V; v++)
        z[v] = (float)sin(v * 0.37) * 2;
    tsampler *s = tsampler_new(V);
    sample_cfg a = {.temperature = 1, .top_k = 50, .top_p = 0.9, .seed = 9};
    sample_cfg b = a;
    b.seed = 10;
    int same = 0, diff = 0;
    for (int i = 0; i < 200; i++) {
        dk_token x = tsampler_next(s, z, &a, (uint64_t)i), y = tsampler_next(s, z, &a, (uint64_t)i);
        same += x == y;
        diff += x != tsampler_next(s, z, &b, (uint64_t)i);
    }
    CHECK_EQ(same, 200);
    CHECK(diff > 100);
    tsampler_free(s);
}
