/* test_model_config.c: config.json reading/writing, parameter layout and init. */
#include <math.h>
#include <stdlib.h>

#include "model/config.h"
#include "model/params.h"
#include "test.h"

static const char LLAMA[] =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, \"num_hidden_layers\": 2,"
    " \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"intermediate_size\": 160,"
    " \"vocab_size\": 300, \"max_position_embeddings\": 128, \"rope_theta\": 500000.0,"
    " \"rms_norm_eps\": 1e-05, \"tie_word_embeddings\": false, \"hidden_act\": \"silu\","
    " \"torch_dtype\": \"bfloat16\", \"some_future_key\": [1, 2]}";

TEST(config_reads_hugging_face_llama_json)
{
    model_config c;
    dk_err err;
    CHECK_MSG(model_config_from_json(&c, LLAMA, "cfg", &err) == 0, "%s", err.msg);
    CHECK_EQ(c.dim, 64);
    CHECK_EQ(c.n_layers, 2);
    CHECK_EQ(c.n_heads, 4);
    CHECK_EQ(c.n_kv_heads, 2);
    CHECK_EQ(c.head_dim, 16);
    CHECK_EQ(c.ffn_dim, 160);
    CHECK_EQ(c.vocab_size, 300);
    CHECK(c.rope_theta == 500000.0);
    CHECK(fabs(c.norm_eps - 1e-5) < 1e-12);
    CHECK_EQ(c.tie_embeddings, 0);
    CHECK_EQ(c.qkv_bias, 0);
}

TEST(config_defaults_missing_optional_keys_like_llama)
{
    model_config c;
    dk_err err;
    CHECK(model_config_from_json(&c, "{\"hidden_size\": 32, \"num_hidden_layers\": 1, "
                                     "\"num_attention_heads\": 2, \"intermediate_size\": 64, "
                                     "\"vocab_size\": 260}", "cfg", &err) == 0);
    CHECK_EQ(c.n_kv_heads, 2);
    CHECK(c.rope_theta == 10000.0);
    CHECK_EQ(c.max_seq, 2048);
}

TEST(config_save_then_load_round_trips)
{
    model_config c, d;
    dk_err err;
    CHECK(model_config_from_json(&c, LLAMA, "cfg", &err) == 0);
    c.qkv_bias = 1;
    c.tie_embeddings = 1;
    char path[512];
    snprintf(path, sizeof path, "%s/config.json", test_tmpdir());
    CHECK(model_config_save(&c, path, &err) == 0);
    CHECK_MSG(model_config_load(&d, path, &err) == 0, "%s", err.msg);
    CHECK(memcmp(&c, &d, sizeof c) == 0);
}

TEST(config_rejects_inconsistent_shapes_with_the_file_name)
{
    static const struct { const char *json, *expect; } bad[] = {
        {"{\"hidden_size\": 30, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"vocab_size\": 10}", "not a multiple"},
        {"{\"hidden_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, "
         "\"num_key_value_heads\": 3, \"intermediate_size\": 8, \"vocab_size\": 10}", "does not divide"},
        {"{\"hidden_size\": 32, \"num_hidden_layers\": 0, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"vocab_size\": 10}", "out of range"},
        {"{\"hidden_size\": 32, \"num_attention_heads\": 4, \"intermediate_size\": 8, "
         "\"vocab_size\": 10}", "missing \"num_hidden_layers\""},
        {"{\"hidden_size\": \"32\", \"num_hidden_layers\": 1, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"vocab_size\": 10}", "must be a non-negative integer"},
        {"{\"hidden_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"vocab_size\": 10, \"hidden_act\": \"gelu\"}", "silu"},
        {"{\"hidden_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"vocab_size\": 10, \"rope_scaling\": {\"type\": \"yarn\"}}", "rope_scaling"},
        {"[1]", "not a JSON object"},
        {"{\"hidden_size\": 32,", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = test_write_file("bad_config.json", bad[i].json, strlen(bad[i].json));
        model_config c;
        dk_err err;
        CHECK_MSG(model_config_load(&c, path, &err) != 0, "case %zu loaded", i);
        CHECK_MSG(strstr(err.msg, bad[i].expect) && strstr(err.msg, "bad_config.json"),
                  "case %zu: %s", i, err.msg);
    }
}

TEST(params_layout_uses_hf_names_and_counts_every_parameter)
{
    model_config c;
    dk_err err;
    CHECK(model_config_from_json(&c, LLAMA, "cfg", &err) == 0);
    for (int tie = 0; tie < 2; tie++)
        for (int bias = 0; bias < 2; bias++) {
            c.tie_embeddings = tie;
            c.qkv_bias = bias;
            param_layout l;
            CHECK(params_layout(&l, &c, &err) == 0);
            CHECK_EQ(l.numel, model_config_n_params(&c));
            CHECK(params_find(&l, "model.layers.1.self_attn.k_proj.weight"));
            CHECK_EQ(params_find(&l, "model.layers.1.self_attn.k_proj.weight")->shape[0], 32);
            CHECK_EQ(params_find(&l, "model.layers.0.mlp.down_proj.weight")->shape[1], 160);
            CHECK_EQ(!!params_find(&l, "lm_head.weight"), !tie);
            CHECK_EQ(!!params_find(&l, "model.layers.0.self_attn.q_proj.bias"), bias);
            /* views point where the table says */
            float *buf = calloc(l.numel, sizeof *buf);
            layer_view lv[2];
            model_view v = {.layers = lv};
            params_view(&l, buf, &v);
            CHECK(v.layers[1].wup == buf + params_find(&l, "model.layers.1.mlp.up_proj.weight")->offset);
            CHECK(v.norm == buf + params_find(&l, "model.norm.weight")->offset);
            CHECK(tie ? v.lm_head == v.embed : v.lm_head == buf + params_find(&l, "lm_head.weight")->offset);
            free(buf);
            params_layout_free(&l);
        }
}

TEST(params_init_is_a_pure_function_of_config_and_seed)
{
    model_config c;
    dk_err err;
    CHECK(model_config_from_json(&c, LLAMA, "cfg", &err) == 0);
    param_layout l;
    CHECK(params_layout(&l, &c, &err) == 0);
    float *a = malloc(l.numel * 4), *b = malloc(l.numel * 4), *d = malloc(l.numel * 4);
    params_init(&l, a, 42);
    params_init(&l, b, 42);
    params_init(&l, d, 43);
    CHECK(memcmp(a, b, l.numel * 4) == 0);
    CHECK(memcmp(a, d, l.numel * 4) != 0);
    /* a tensor's values depend on its name, not on where it sits in the layout */
    model_config c1 = c;
    c1.n_layers = 1;
    c1.qkv_bias = 1;
    param_layout l1;
    CHECK(params_layout(&l1, &c1, &err) == 0);
    float *e = malloc(l1.numel * 4);
    params_init(&l1, e, 42);
    const param_info *q = params_find(&l, "model.layers.0.mlp.up_proj.weight");
    const param_info *q1 = params_find(&l1, "model.layers.0.mlp.up_proj.weight");
    CHECK(memcmp(a + q->offset, e + q1->offset, q->numel * 4) == 0);
    /* scheme: N(0, 0.02), output projections / sqrt(2 L), norms 1 */
    const param_info *emb = params_find(&l, "model.embed_tokens.weight");
    const param_info *down = params_find(&l, "model.layers.1.mlp.down_proj.weight");
    double s = 0, ss = 0, sd = 0;
    for (size_t i = 0; i < emb->numel; i++) {
        s += a[emb->offset + i];
        ss += (double)a[emb->offset + i] * a[emb->offset + i];
    }
    for (size_t i = 0; i < down->numel; i++)
        sd += (double)a[down->offset + i] * a[down->offset + i];
    double mean = s / emb->numel, std = sqrt(ss / emb->numel);
    CHECK_MSG(fabs(mean) < 0.001 && fabs(std - 0.02) < 0.0005, "mean %g std %g", mean, std);
    CHECK_MSG(fabs(sqrt(sd / down->numel) - 0.01) < 0.0005, "down std %g", sqrt(sd / down->numel));
    CHECK(a[params_find(&l, "model.norm.weight")->offset] == 1.0f);
    free(a); free(b); free(d); free(e);
    params_layout_free(&l);
    params_layout_free(&l1);
}
