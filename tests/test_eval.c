/* test_eval.c: the scorer's log-likelihood is exactly the training pass's; a model
 * overfitted on a few facts answers a hand-built task perfectly; perplexity windows;
 * the --ref table and the 95 % verdict. */
#include <math.h>
#include <stdlib.h>

#include "eval/score.h"
#include "eval/verdict.h"
#include "model/model.h"
#include "test.h"

/* A model with random weights, run through an lm without a tokenizer (scoring
 * token ids needs none). */
static int random_lm(lm *l, pool *p, int V, int ctx, unsigned seed)
{
    model_config c = {.dim = 32, .n_layers = 2, .n_heads = 4, .n_kv_heads = 2, .ffn_dim = 48,
                      .vocab_size = V, .max_seq = ctx, .rope_theta = 10000.0, .norm_eps = 1e-5};
    dk_err err;
    memset(l, 0, sizeof *l);
    if (model_config_validate(&c, "t", &err) != 0 || model_new(&l->m, &c, p, &err) != 0)
        return -1;
    params_init(model_layout(l->m), model_params(l->m), seed);
    float *w = model_params(l->m);
    for (size_t i = 0; i < model_numel(l->m); i++)
        w[i] *= 5;
    l->vocab = V;
    l->ctx = ctx;
    return infer_new(&l->inf, l->m, ctx, &err);
}

TEST(eval_continuation_loglik_equals_the_training_forward_sum_exactly)
{
    pool *p = pool_new(2);
    lm l;
    CHECK(random_lm(&l, p, 60, 64, 3) == 0);
    srand(5);
    for (int trial = 0; trial < 5; trial++) {
        int nc = 1 + rand() % 30, nk = 1 + rand() % 12, n = nc + nk;
        dk_token ids[64], in[64], tg[64];
        for (int i = 0; i < n; i++)
            ids[i] = rand() % 60;
        double lp_fresh, lp_cached;
        dk_err err;
        CHECK(score_continuation(&l, ids, nc, 0, NULL, ids + nc, nk, &lp_fresh, &err) == 0);
        float last[60];
        CHECK(infer_forward(l.inf, ids, nc, 0, last, 1, &err) == 0);
        CHECK(score_continuation(&l, ids, nc, 1, last, ids + nc, nk, &lp_cached, &err) == 0);
        /* the plain training forward pass over context + continuation */
        for (int i = 0; i < n; i++) {
            in[i] = ids[i];
            tg[i] = i >= nc - 1 && i + 1 < n ? ids[i + 1] : MODEL_IGNORE_INDEX;
        }
        double row[64], sum = 0;
        CHECK(model_reserve(l.m, 1, n, &err) == 0);
        model_forward_loss(l.m, in, tg, 1, n, row);
        for (int i = nc - 1; i + 1 < n; i++)
            sum += -row[i];
        CHECK_MSG(lp_fresh == sum && lp_cached == sum, "trial %d: %.17g %.17g vs %.17g", trial,
                  lp_fresh, lp_cached, sum);
        CHECK(sum < 0);
    }
    infer_free(l.inf);
    model_free(l.m);
    pool_free(p);
}

/* Trains (once) a small model on a few facts: six documents, each all six facts in
 * a rotated order, so that every fact follows <|eos|> once and every window is seen. */
static const char *facts_model(void)
{
    static char dir[600];
    if (dir[0])
        return dir;
    static const char *facts[] = {"고양이는 야옹 하고 운다.", "강아지는 멍멍 하고 짖는다.",
                                  "오리는 꽥꽥 하고 운다.", "병아리는 삐약삐약 하고 운다.",
                                  "The cow says moo.", "A sheep bleats baa."};
    char text[4096] = "";
    for (int r = 0; r < 6; r++)
        for (int f = 0; f < 6; f++)
            sprintf(text + strlen(text), "%s%s", facts[(r + f) % 6], f == 5 ? "\n" : " ");
    const char *corpus = test_write_file("facts.txt", text, strlen(text));
    const char *cfg = "{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
                      " \"intermediate_size\": 128, \"vocab_size\": 320, \"max_position_embeddings\": 64}";
    char cfgp[600];
    snprintf(cfgp, sizeof cfgp, "%s", test_write_file("facts_cfg.json", cfg, strlen(cfg)));
    char run[600];
    snprintf(run, sizeof run, "%s/facts_run", test_tmpdir());
    if (test_run(NULL, 0,
                 "%s tokenizer train -q --vocab-size 300 -o %s/facts_tok.json %s >/dev/null 2>&1 && "
                 "%s data build -q --no-near-dup --val-fraction 0 -t %s/facts_tok.json -o %s/facts_data %s >/dev/null 2>&1 && "
                 "%s train -q --data %s/facts_data --model %s -o %s --steps 300 --batch-size 8 "
                 "--micro-batch 8 --seq-len 16 --lr 3e-3 --warmup 10 --threads 2 >/dev/null 2>&1",
                 test_bin(), test_tmpdir(), corpus, test_bin(), test_tmpdir(), test_tmpdir(), corpus,
                 test_bin(), test_tmpdir(), cfgp, run) != 0)
        return NULL;
    snprintf(dir, sizeof dir, "%s", run);
    return dir;
}

static const char TASK[] =
    "{\"context\": \"고양이는\", \"choices\": [\" 멍멍 하고 짖는다.\", \" 야옹 하고 운다.\"], \"gold\": 1}\n"
    "{\"context\": \"강아지는\", \"choices\": [\" 멍멍 하고 짖는다.\", \" 꽥꽥 하고 운다.\"], \"gold\": 0}\n"
    "{\"context\": \"오리는\", \"choices\": [\" 야옹 하고 운다.\", \" 삐약삐약 하고 운다.\", \" 꽥꽥 하고 운다.\"], \"gold\": 2}\n"
    "{\"context\": \"병아리는 \", \"choices\": [\"삐약삐약 하고 운다.\", \"멍멍 하고 짖는다.\"], \"gold\": 0}\n"
    "{\"context\": \"The cow says\", \"choices\": [\" baa.\", \" moo.\"], \"gold\": 1}\n"
    "{\"context\": \"A sheep bleats\", \"choices\": [\" baa.\", \" moo.\"], \"gold\": 0}\n";

TEST(eval_an_overfitted_model_answers_its_facts_and_the_verdict_follows_the_reference)
{
    const char *m = facts_model();
    CHECK(m != NULL);
    const char *task = test_write_file("facts_task.jsonl", TASK, strlen(TASK));
    char task_path[600], out[16384];
    snprintf(task_path, sizeof task_path, "%s", task);
    const char *text = "고양이는 야옹 하고 운다.\nThe cow says moo.\n";
    char text_path[600];
    snprintf(text_path, sizeof text_path, "%s", test_write_file("facts_text.txt", text, strlen(text)));
    CHECK_EQ(test_run(out, sizeof out, "%s eval -q -m %s --task %s --task text:%s --json", test_bin(), m,
                      task_path, text_path), 0);
    CHECK_CONTAINS(out, "\"acc\":1.0,");
    CHECK_CONTAINS(out, "\"n\":6");
    CHECK_CONTAINS(out, "\"template_version\":\"dokja-mc-v1\"");
    CHECK_CONTAINS(out, "\"bits_per_byte\"");
    CHECK(strstr(out, "\"verdict\"") == NULL); /* no --ref, no verdict */
    /* the same numbers twice, and on one thread */
    char again[16384];
    CHECK_EQ(test_run(again, sizeof again, "%s eval -q -m %s --task %s --task text:%s --json --threads 1",
                      test_bin(), m, task_path, text_path), 0);
    CHECK_STR(out, again);
    /* a weak model: the same config after 2 steps */
    char weak[600];
    snprintf(weak, sizeof weak, "%s/facts_weak", test_tmpdir());
    CHECK_EQ(test_run(NULL, 0, "%s train -q --data %s/facts_data --model %s/facts_cfg.json -o %s --steps 2 "
                               "--batch-size 8 --micro-batch 8 --seq-len 32 --threads 2 >/dev/null 2>&1",
                      test_bin(), test_tmpdir(), test_tmpdir(), weak), 0);
    CHECK_EQ(test_run(out, sizeof out, "%s eval -q -m %s --task %s --ref %s --json", test_bin(), m, task_path,
                      m), 0);
    CHECK_CONTAINS(out, "\"relative\":1.0,");
    CHECK_CONTAINS(out, "\"verdict\":\"meets\"");
    CHECK_EQ(test_run(out, sizeof out, "%s eval -q -m %s --task %s --task text:%s --ref %s --json", test_bin(),
                      weak, task_path, text_path, m), 0);
    CHECK_CONTAINS(out, "\"verdict\":\"fails\"");
    CHECK_EQ(test_run(out, sizeof out, "%s eval -q -m %s --task %s --ref %s --ref %s", test_bin(), m,
                      task_path, weak, m), 0);
    CHECK_CONTAINS(out, "meets 95 % of REF");
    /* bad input: a task line that is not JSON names file and line */
    const char *bad = test_write_file("bad_task.jsonl", "{\"context\": \"a\", \"choices\": [\" b\", \" c\"], \"gold\": 0}\n{oops\n", 57);
    CHECK_EQ(test_run(out, sizeof out, "%s eval -q -m %s --task %s 2>&1", test_bin(), m, bad), 1);
    CHECK_CONTAINS(out, "bad_task.jsonl:2");
    CHECK_EQ(test_run(out, sizeof out, "%s eval -m %s 2>&1", test_bin(), m), 2);
}

TEST(eval_text_windows_score_every_token_once)
{
    const char *m = facts_model();
    CHECK(m != NULL);
    /* one long line: 40 facts in a row, more tokens than the 64-token context */
    char line[8192] = "";
    for (int i = 0; i < 20; i++)
        strcat(line, "고양이는 야옹 하고 운다. The cow says moo. ");
    strcat(line, "\n");
    const char *p = test_write_file("long.txt", line, strlen(line));
    char out[8192], out2[8192];
    CHECK_EQ(test_run(out, sizeof out, "%s eval -q -m %s --task text:%s --json", test_bin(), m, p), 0);
    CHECK_EQ(test_run(out2, sizeof out2, "%s eval -q -m %s --task text:%s --json --window 8", test_bin(), m, p), 0);
    /* the same tokens and bytes are scored whatever the window */
    const char *t1 = strstr(out, "\"tokens\":"), *t2 = strstr(out2, "\"tokens\":");
    CHECK(t1 && t2);
    CHECK(atol(t1 + 9) > 64);
    CHECK_EQ(atol(t1 + 9), atol(t2 + 9));
    const char *b1 = strstr(out, "\"bits_per_byte\":"), *b2 = strstr(out2, "\"bits_per_byte\":");
    CHECK(b1 && b2);
    double x = atof(b1 + 16), y = atof(b2 + 16);
    CHECK(x > 0 && y > 0 && isfinite(x) && isfinite(y));
    CHECK(x != y); /* the window changes what each token is predicted from */
}

/* The verdict's arithmetic, as a library call (src/eval/verdict.h). */
TEST(eval_verdict_relative_scores_best_reference_and_threshold)
{
    CHECK(eval_relative(0, 0.57, 0.60, 0.25) == 0.57 / 0.60);            /* accuracy: mine / ref */
    CHECK(eval_relative(1, 1.25, 1.00, 0) == 1.00 / 1.25);            /* bits per byte: ref / mine */
    CHECK(eval_relative(0, 0.3, 0, 0.5) == 1.0 && eval_relative(0, 0, 0, 0) == 1.0); /* no skill in the ref */
    CHECK(eval_relative(1, 0, 1.0, 0) == 0);
    CHECK(eval_relative(0, 0.9, 0.1, 0) == EVAL_REL_CAP); /* capped: one task cannot decide */
    CHECK(isnan(eval_relative(0, NAN, 0.5, 0.5)));
    double acc[3] = {0.5, 0.7, 0.7}, bpb[3] = {1.3, 1.1, 1.2};
    CHECK_EQ(eval_best_ref(acc, 3, 0), 1); /* the first among equals */
    CHECK_EQ(eval_best_ref(bpb, 3, 1), 1);
    double rel[2] = {0.96, 0.94};
    eval_verdict v = eval_verdict_of(rel, 2);
    CHECK(v.mean == 0.96 / 2 + 0.94 / 2);
    CHECK(v.meets == (v.mean >= 0.95));
    double low[2] = {0.96, 0.93};
    CHECK(!eval_verdict_of(low, 2).meets);
    double exact[1] = {EVAL_THRESHOLD};
    CHECK(eval_verdict_of(exact, 1).meets);
    /* the case: a reference scoring 0 on one task, the model 29 % worse on the other */
    double two[2] = {eval_relative(0, 0.4, 0, 0.5), eval_relative(0, 0.5, 0.7, 0.5)};
    /* a reference at or below chance (0.45 on two-choice items) shows no skill: 1 */
    CHECK(eval_relative(0, 0.9, 0.45, 0.5) == 1.0 && eval_relative(0, 0.9, 0.5, 0.5) == 1.0);
    CHECK(eval_relative(0, 0.5, 0.55, 0.5) == 0.5 / 0.55);
    int k[4] = {2, 2, 4, 4};
    CHECK(eval_chance(k, 4) == 0.375);
    CHECK(!eval_verdict_of(two, 2).meets);
    double one_nan[2] = {1.0, NAN};
    eval_verdict vn = eval_verdict_of(one_nan, 2);
    CHECK(!vn.defined && !vn.meets);
}
