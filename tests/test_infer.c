/* test_infer.c: the cached inference engine computes exactly (bit for bit) the
 * logits of the training forward pass, whether the sequence runs in one pass, in
 * several chunks, or token by token after a cached prefix, on every attention
 * shape (GQA, MQA, biases, tied head), for 1 and 2 threads. */
#include <stdlib.h>

#include "infer/infer.h"
#include "model/model.h"
#include "test.h"

static model_config cfg_of(int heads, int kv, int bias, int tie, int max_seq)
{
    model_config c = {.dim = 32, .n_layers = 2, .n_heads = heads, .n_kv_heads = kv, .ffn_dim = 40,
                      .vocab_size = 50, .max_seq = max_seq, .rope_theta = 10000.0, .norm_eps = 1e-5,
                      .tie_embeddings = tie, .qkv_bias = bias};
    dk_err err;
    model_config_validate(&c, "test", &err);
    return c;
}

/* Builds a model with random weights (biases too) and a random sequence. */
static model *random_model(const model_config *c, pool *p, dk_token *tokens, int n, unsigned seed)
{
    model *m;
    dk_err err;
    if (model_new(&m, c, p, &err) != 0)
        return NULL;
    params_init(model_layout(m), model_params(m), seed);
    float *w = model_params(m);
    srand(seed);
    for (size_t i = 0; i < model_numel(m); i++) /* larger weights: sharper attention */
        w[i] *= 4.0f + (float)(rand() % 3);
    for (int i = 0; i < n; i++)
        tokens[i] = rand() % c->vocab_size;
    return m;
}

TEST(infer_logits_are_bit_identical_to_the_training_forward_pass)
{
    const int n = 300; /* more than INFER_CHUNK: the chunked prefill is exercised */
    static const int shapes[][4] = {{4, 2, 0, 0}, {4, 4, 1, 0}, {4, 1, 0, 1}};
    for (int threads = 1; threads <= 2; threads++)
        for (int s = 0; s < 3; s++) {
            model_config c = cfg_of(shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], 320);
            pool *p = pool_new(threads);
            dk_token tok[300];
            model *m = random_model(&c, p, tok, n, 11 + s);
            CHECK(m);
            size_t V = (size_t)c.vocab_size;
            float *ref = malloc(n * V * 4), *got = malloc(n * V * 4);
            infer *st;
            dk_err err;
            CHECK(model_reserve(m, 1, n, &err) == 0);
            model_forward_logits(m, tok, 1, n, ref);
            CHECK(infer_new(&st, m, 320, &err) == 0);
            /* one pass */
            CHECK(infer_forward(st, tok, n, 0, got, n, &err) == 0);
            CHECK_MSG(memcmp(ref, got, n * V * 4) == 0, "one pass differs (shape %d, %d threads)", s, threads);
            /* a cached prefix of 37 tokens, then 5 tokens in one pass, then one at a time */
            memset(got, 0, n * V * 4);
            CHECK(infer_forward(st, tok, 37, 0, got, 37, &err) == 0);
            CHECK(infer_forward(st, tok + 37, 5, 37, got + 37 * V, 5, &err) == 0);
            for (int i = 42; i < n; i++)
                CHECK(infer_forward(st, tok + i, 1, i, got + i * V, 1, &err) == 0);
            CHECK_MSG(memcmp(ref, got, n * V * 4) == 0, "incremental decode differs (shape %d, %d threads)", s, threads);
            /* rewinding: a different token at 100 then the original again restores the row */
            dk_token other = (tok[100] + 1) % c.vocab_size;
            CHECK(infer_forward(st, &other, 1, 100, got, 1, &err) == 0);
            CHECK(infer_forward(st, tok + 100, 1, 100, got, 1, &err) == 0);
            CHECK(memcmp(ref + 100 * V, got, V * 4) == 0);
            /* only the last row's logits */
            CHECK(infer_forward(st, tok, n, 0, got, 1, &err) == 0);
            CHECK(memcmp(ref + (n - 1) * V, got, V * 4) == 0);
            infer_free(st);
            model_free(m);
            pool_free(p);
            free(ref);
            free(got);
        }
}

TEST(infer_rejects_positions_past_the_cache_and_bad_token_ids)
{
    model_config c = cfg_of(4, 2, 0, 0, 64);
    pool *p = pool_new(1);
    dk_token tok[8];
    model *m = random_model(&c, p, tok, 8, 3);
    infer *st;
    dk_err err;
    CHECK(infer_new(&st, m, 100, &err) != 0); /* larger than max_position_embeddings */
    CHECK_CONTAINS(err.msg, "max_position_embeddings 64");
    CHECK(infer_new(&st, m, 16, &err) == 0);
    CHECK(infer_forward(st, tok, 8, 10, NULL, 0, &err) != 0);
    CHECK_CONTAINS(err.msg, "do not fit the context of 16");
    tok[3] = 50;
    CHECK(infer_forward(st, tok, 8, 0, NULL, 0, &err) != 0);
    CHECK_CONTAINS(err.msg, "token id 50 at position 3");
    infer_free(st);
    model_free(m);
    pool_free(p);
}
