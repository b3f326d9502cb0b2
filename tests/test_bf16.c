/* test_bf16.c: mixed precision (bf16 matmul operands, fp32 accumulation) against fp32:
 * the stated parity tolerance on a whole model, and the loss curve on real text
 * within 1 % after a few hundred steps. On CPUs without AVX512_BF16 (or on a lower
 * kernel path) this tests the emulation: operands rounded to bf16, fp32 kernels. */
#include <math.h>
#include <stdlib.h>

#include "kernels/matmul.h"
#include "model/model.h"
#include "test.h"

/* Tolerance, stated: with bf16 operands the loss of a random small model moves by
 * less than 1 % relative and every gradient keeps a cosine above 0.99 with fp32's. */
TEST(bf16_model_loss_and_gradients_within_the_stated_tolerance)
{
    if (!mm_bf16_supported())
        printf("  (no AVX512_BF16: the emulation)\n");
    model_config c = {.dim = 64, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .ffn_dim = 128,
                      .vocab_size = 100, .max_seq = 32, .rope_theta = 10000.0, .norm_eps = 1e-5};
    dk_err err;
    CHECK(model_config_validate(&c, "t", &err) == 0);
    pool *p = pool_new(2);
    model *a, *b;
    CHECK(model_new(&a, &c, p, &err) == 0 && model_new(&b, &c, p, &err) == 0);
    CHECK(model_reserve(a, 2, 32, &err) == 0 && model_reserve(b, 2, 32, &err) == 0);
    params_init(model_layout(a), model_params(a), 3);
    memcpy(model_params(b), model_params(a), model_numel(a) * 4);
    CHECK(model_set_bf16(b, 1) == 0);
    dk_token in[64], tg[64];
    srand(2);
    for (int i = 0; i < 64; i++)
        in[i] = rand() % 100, tg[i] = rand() % 100;
    model_zero_grads(a);
    model_zero_grads(b);
    double la = model_forward_backward(a, in, tg, 2, 32, 1.0f);
    double lb = model_forward_backward(b, in, tg, 2, 32, 1.0f);
    CHECK_MSG(fabs(la - lb) < 0.01 * la, "loss %g vs %g", la, lb);
    CHECK(la != lb); /* the bf16 path ran */
    const param_layout *l = model_layout(a);
    for (size_t i = 0; i < l->n_info; i++) {
        const float *ga = model_grads(a) + l->info[i].offset, *gb = model_grads(b) + l->info[i].offset;
        double dot = 0, na = 0, nb = 0;
        for (size_t k = 0; k < l->info[i].numel; k++)
            dot += (double)ga[k] * gb[k], na += (double)ga[k] * ga[k], nb += (double)gb[k] * gb[k];
        if (na == 0 && nb == 0)
            continue;
        CHECK_MSG(dot / sqrt(na * nb) > 0.99, "%s: gradient cosine %g", l->info[i].name, dot / sqrt(na * nb));
    }
    model_free(a);
    model_free(b);
    pool_free(p);
}

#if !defined(__SANITIZE_ADDRESS__)
/* The mean training loss of the last 20 of 300 steps on Korean and English text. */
static double tail_loss(const char *run)
{
    char out[1 << 16];
    if (test_run(out, sizeof out, "tail -20 %s/metrics.jsonl | sed -E 's/.*\"loss\":([0-9.]+).*/\\1/'", run) != 0)
        return NAN;
    double s = 0;
    int n = 0;
    for (char *t = strtok(out, "\n"); t; t = strtok(NULL, "\n"))
        s += atof(t), n++;
    return n ? s / n : NAN;
}

TEST_SLOW(bf16_loss_curve_on_real_text_within_one_percent_of_fp32)
{
    if (!mm_bf16_supported())
        printf("  (no AVX512_BF16: the emulation)\n");
    const char *cfg = "{\"hidden_size\": 64, \"num_hidden_layers\": 4, \"num_attention_heads\": 4,"
                      " \"intermediate_size\": 256, \"vocab_size\": 1000, \"max_position_embeddings\": 64}";
    const char *cp = test_write_file("bf16_cfg.json", cfg, strlen(cfg));
    char c[600];
    snprintf(c, sizeof c, "%s", cp);
    const char *t = test_tmpdir();
    CHECK_EQ(test_run(NULL, 0, "%s tokenizer train -q --vocab-size 1000 -o %s/bf_tok.json ../shared/data/ko_libreoffice_help "
                               "../shared/data/en_tinyshakespeare >/dev/null 2>&1 && %s data build -q -t %s/bf_tok.json "
                               "-o %s/bf_data ../shared/data/ko_libreoffice_help ../shared/data/en_tinyshakespeare >/dev/null 2>&1",
                      test_bin(), t, test_bin(), t, t), 0);
    for (int bf = 0; bf <= 1; bf++)
        CHECK_EQ(test_run(NULL, 0, "%s train -q --data %s/bf_data --model %s -o %s/bf_run%d --steps 300 --batch-size 8 "
                                   "--seq-len 64 --lr 3e-3 --threads 2 --eval-every 1000 --checkpoint-every 1000 %s",
                          test_bin(), t, c, t, bf, bf ? "--bf16" : ""), 0);
    char r0[700], r1[700];
    snprintf(r0, sizeof r0, "%s/bf_run0", t);
    snprintf(r1, sizeof r1, "%s/bf_run1", t);
    double l0 = tail_loss(r0), l1 = tail_loss(r1);
    printf("  fp32 %.4f, bf16 %.4f (mean of the last 20 of 300 steps): %+.2f %%\n", l0, l1, 100 * (l1 - l0) / l0);
    CHECK(isfinite(l0) && isfinite(l1));
    CHECK_MSG(fabs(l1 - l0) < 0.01 * l0, "fp32 %g vs bf16 %g", l0, l1);
}
#endif
