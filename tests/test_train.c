/* test_train.c: model directories and the training loop end to end: save/load,
 * shape checks against config.json, byte-identical training runs, and resuming a
 * run killed with SIGKILL at a random moment to the same final bytes. */
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "model/model_io.h"
#include "infer/generate.h"
#include "test.h"

static const char CFG[] = "{\"hidden_size\": 32, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
                          " \"num_key_value_heads\": 2, \"intermediate_size\": 64, \"vocab_size\": 300,"
                          " \"max_position_embeddings\": 64, \"attention_bias\": true}";

TEST(model_dir_save_then_load_round_trips_and_checks_shapes)
{
    model_config c;
    dk_err err;
    CHECK(model_config_from_json(&c, CFG, "cfg", &err) == 0);
    pool *p = pool_new(2);
    model *m, *n;
    CHECK(model_new(&m, &c, p, &err) == 0);
    params_init(model_layout(m), model_params(m), 5);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/mdl", test_tmpdir());
    const char *k[1] = {"note"}, *v[1] = {"test"};
    CHECK_MSG(model_save_dir(m, dir, NULL, k, v, 1, &err) == 0, "%s", err.msg);
    CHECK_MSG(model_load_dir(&n, dir, p, &err) == 0, "%s", err.msg);
    CHECK(memcmp(model_params(m), model_params(n), model_numel(m) * 4) == 0);
    model_free(n);
    /* a config that disagrees with the weights is refused, naming the tensor */
    char cfgpath[600];
    snprintf(cfgpath, sizeof cfgpath, "%s/config.json", dir);
    c.ffn_dim = 48;
    CHECK(model_config_save(&c, cfgpath, &err) == 0);
    CHECK(model_load_dir(&n, dir, p, &err) != 0);
    CHECK_CONTAINS(err.msg, "gate_proj.weight\" has shape [64, 32], config.json says [48, 32]");
    /* a missing tensor too */
    c.ffn_dim = 64;
    c.qkv_bias = 0;
    CHECK(model_config_save(&c, cfgpath, &err) == 0);
    CHECK(model_load_dir(&n, dir, p, &err) != 0);
    CHECK_CONTAINS(err.msg, "unexpected tensor");
    model_free(m);
    pool_free(p);
}

static char data_dir[512], cfg_path[512];

static int prepare(void)
{
    if (data_dir[0])
        return 0;
    const char *d = test_dataset("train");
    if (!d)
        return -1;
    snprintf(data_dir, sizeof data_dir, "%s", d);
    snprintf(cfg_path, sizeof cfg_path, "%s", test_write_file("train_cfg.json", CFG, strlen(CFG)));
    return 0;
}

/* The training command of these tests; `how` is "-o", "--resume" or more options. */
static void train_cmd(char *buf, size_t cap, const char *run, const char *how)
{
    if ((size_t)snprintf(buf, cap, "%s train -q --data %s --model %s %s %s --steps 30 --batch-size 4 "
                       "--micro-batch 2 --seq-len 16 --lr 3e-3 --eval-every 10 "
                       "--checkpoint-every 3 --threads 2",
             test_bin(), data_dir, cfg_path, how, run) >= cap)
        buf[0] = 0; /* too long: the command fails visibly instead of running cut short */
}

static int train(const char *run, const char *how)
{
    char cmd[4096];
    train_cmd(cmd, sizeof cmd, run, how);
    return test_run(NULL, 0, "%s 2>&1", cmd);
}

TEST(train_runs_are_byte_identical_and_write_a_model_directory)
{
    CHECK(prepare() == 0);
    char a[512], b[512], out[4096];
    snprintf(a, sizeof a, "%s/run_a", test_tmpdir());
    snprintf(b, sizeof b, "%s/run_b", test_tmpdir());
    CHECK_EQ(train(a, "-o"), 0);
    CHECK_EQ(train(b, "-o"), 0);
    CHECK_EQ(test_run(NULL, 0, "cmp -s %s/model.safetensors %s/model.safetensors", a, b), 0);
    /* the ledger holds no time or thread count: the same run, the same ledger */
    CHECK_EQ(test_run(NULL, 0, "cmp -s %s/ledger.jsonl %s/ledger.jsonl", a, b), 0);
    CHECK_EQ(test_run(out, sizeof out, "%s ledger verify %s --data %s", test_bin(), a, data_dir), 0);
    CHECK_CONTAINS(out, "VERIFIED FROM SCRATCH");
    /* and on another thread count (two micro-batches per step: their sum too) */
    char c[512], cmd[4096];
    snprintf(c, sizeof c, "%s/run_c", test_tmpdir());
    train_cmd(cmd, sizeof cmd, c, "-o");
    char *th = strstr(cmd, "--threads 2");
    CHECK(th != NULL);
    if (th)
        th[strlen("--threads ")] = '1';
    CHECK_EQ(test_run(NULL, 0, "%s 2>&1", cmd), 0);
    CHECK_EQ(test_run(NULL, 0, "cmp -s %s/model.safetensors %s/model.safetensors", a, c), 0);
    CHECK_EQ(test_run(NULL, 0, "cmp -s %s/ledger.jsonl %s/ledger.jsonl", a, c), 0);
    CHECK_EQ(test_run(out, sizeof out, "ls %s", a), 0);
    CHECK_CONTAINS(out, "config.json");
    CHECK_CONTAINS(out, "dokja_tokenizer.json");
    CHECK_CONTAINS(out, "loss.svg");
    CHECK_EQ(test_run(out, sizeof out, "tail -1 %s/metrics.jsonl", a), 0);
    CHECK_CONTAINS(out, "\"step\":30");
    CHECK_CONTAINS(out, "\"val_loss\"");
    /* the loss went down */
    CHECK_EQ(test_run(out, sizeof out, "head -1 %s/metrics.jsonl | sed 's/.*\"loss\":\\([0-9.]*\\).*/\\1/'; "
                                       "tail -1 %s/metrics.jsonl | sed 's/.*\"loss\":\\([0-9.]*\\).*/\\1/'", a, a), 0);
    double l0 = 0, l1 = 0;
    CHECK(sscanf(out, "%lf %lf", &l0, &l1) == 2);
    CHECK_MSG(l1 < l0 - 0.5, "loss %g -> %g", l0, l1);
    /* an existing run is not overwritten without --resume */
    CHECK_EQ(train(a, "-o"), 1);
}

TEST(train_killed_at_a_random_moment_resumes_to_identical_bytes)
{
    CHECK(prepare() == 0);
    char ref[512], run[512], ck[600];
    snprintf(ref, sizeof ref, "%s/run_ref", test_tmpdir());
    snprintf(run, sizeof run, "%s/run_kill", test_tmpdir());
    CHECK_EQ(train(ref, "-o"), 0);
    snprintf(ck, sizeof ck, "%s/checkpoints/step_00000003.safetensors", run);
    pid_t pid = fork();
    if (pid == 0) {
        char cmd[4096], line[4200];
        train_cmd(cmd, sizeof cmd, run, "-o");
        snprintf(line, sizeof line, "exec %s >/dev/null 2>&1", cmd);
        execl("/bin/sh", "sh", "-c", line, (char *)NULL);
        _exit(127);
    }
    /* wait for the first checkpoint, then kill after a random extra delay */
    struct stat st;
    for (int i = 0; i < 2000 && stat(ck, &st) != 0; i++)
        usleep(1000);
    srand((unsigned)time(NULL));
    usleep((useconds_t)(rand() % 150000));
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK_EQ(train(run, "--resume"), 0);
    CHECK_EQ(test_run(NULL, 0, "cmp -s %s/model.safetensors %s/model.safetensors", ref, run), 0);
    /* the records the killed run wrote after its checkpoint are written again: the same bytes */
    CHECK_EQ(test_run(NULL, 0, "cmp -s %s/ledger.jsonl %s/ledger.jsonl", ref, run), 0);
    /* the same steps and losses (the logged throughput differs) */
    CHECK_EQ(test_run(NULL, 0, "cut -d, -f1-2 %s/metrics.jsonl > %s/m1; cut -d, -f1-2 %s/metrics.jsonl > %s/m2; "
                               "cmp -s %s/m1 %s/m2", ref, ref, run, run, ref, run), 0);
}

TEST(train_refuses_a_corrupted_checkpoint_and_falls_back)
{
    CHECK(prepare() == 0);
    char run[512], out[4096];
    snprintf(run, sizeof run, "%s/run_corrupt", test_tmpdir());
    CHECK_EQ(train(run, "-o"), 0);
    /* corrupt the newest checkpoint's data, then resume: it is skipped for the previous one */
    CHECK_EQ(test_run(NULL, 0, "f=$(ls %s/checkpoints/*.safetensors | tail -1); "
                               "sz=$(stat -c %%s $f); printf 'XX' | dd of=$f bs=1 seek=$((sz-8)) conv=notrunc 2>/dev/null", run), 0);
    char cmd[4096];
    train_cmd(cmd, sizeof cmd, run, "--resume");
    char *q = strstr(cmd, " -q "); /* this one wants the warnings on stderr */
    if (q)
        memmove(q, q + 3, strlen(q + 3) + 1);
    CHECK_EQ(test_run(out, sizeof out, "%s 2>&1", cmd), 0);
    CHECK_CONTAINS(out, "does not match its SHA-256");
}

TEST(train_init_from_is_recorded_and_vocab_must_cover_the_tokenizer)
{
    CHECK(prepare() == 0);
    char a[512], b[512], out[8192];
    snprintf(a, sizeof a, "%s/run_base", test_tmpdir());
    snprintf(b, sizeof b, "%s/run_ft", test_tmpdir());
    CHECK_EQ(train(a, "-o"), 0);
    char extra[700];
    snprintf(extra, sizeof extra, "--init-from %s -o", a);
    CHECK_EQ(train(b, extra), 0);
    CHECK_EQ(test_run(out, sizeof out, "cat %s/run.json; sha256sum %s/model.safetensors; "
                                       "head -c 3000 %s/model.safetensors | tail -c +9", b, a, b), 0);
    CHECK_CONTAINS(out, "\"init\": \"from-model\"");
    char sha[65];
    const char *line = strstr(out, "}\n");
    CHECK(line && sscanf(line + 2, "%64s", sha) == 1);
    CHECK_CONTAINS(out, "\"init_from_sha256\": \"");
    CHECK(strstr(strstr(out, "init_from_sha256"), sha) != NULL);
    CHECK_CONTAINS(out, "dokja_init_from_sha256");
    /* a config whose vocabulary is smaller than the tokenizer's is refused */
    const char *small = "{\"hidden_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 4,"
                        " \"intermediate_size\": 64, \"vocab_size\": 100}";
    const char *cp = test_write_file("small_vocab.json", small, strlen(small));
    CHECK_EQ(test_run(out, sizeof out, "%s train --data %s --model %s -o %s/never --steps 2 2>&1",
                      test_bin(), data_dir, cp, test_tmpdir()), 1);
    CHECK_CONTAINS(out, "vocab_size 100 does not cover the tokenizer's 300 ids");
}

TEST(train_rejects_bad_numbers_as_usage_errors)
{
    /* every number the whole string, within bounds (cli_parse_*): exit 2 naming it */
    static const char *bad[] = {"--lr abc",
                                "--lr -1",
                                "--lr ''",
                                "--min-lr 3e-4x",
                                "--weight-decay nan",
                                "--grad-clip 2e6",
                                "--grad-clip 1e-400",
                                "--steps 0",
                                "--seq-len x"};
    char out[1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = test_run(out, sizeof out, "%s train --data d --model m -o r %s 2>&1", test_bin(), bad[i]);
        CHECK_MSG(rc == 2, "%s: exit %d", bad[i], rc);
        CHECK_MSG(strstr(out, "bad value") != NULL, "%s: %s", bad[i], out);
    }
}

TEST(generate_continues_a_prompt_reproducibly_from_a_trained_model)
{
    CHECK(prepare() == 0);
    char run[512], a[4096], b[4096], c[4096];
    snprintf(run, sizeof run, "%s/run_sample", test_tmpdir());
    CHECK_EQ(train(run, "-o"), 0);
    CHECK_EQ(test_run(a, sizeof a, "%s generate -m %s -p '문장' -n 12 --seed 7", test_bin(), run), 0);
    CHECK_EQ(test_run(b, sizeof b, "%s generate -m %s -p '문장' -n 12 --seed 7", test_bin(), run), 0);
    CHECK_EQ(test_run(c, sizeof c, "%s generate -m %s -p '문장' -n 12 --temperature 0", test_bin(), run), 0);
    CHECK_STR(a, b);
    CHECK(strncmp(a, "문장", strlen("문장")) == 0);
    CHECK(strlen(a) > strlen("문장\n"));
    CHECK_EQ(test_run(a, sizeof a, "%s generate -m /nonexistent 2>&1", test_bin()), 1);
    CHECK_CONTAINS(a, "/nonexistent");
}

typedef struct {
    char text[8192];
    size_t len;
    int tokens, stop_after;
} collected;

static int collect(void *ctx, dk_token id, const uint8_t *bytes, size_t n)
{
    collected *c = ctx;
    (void)id;
    if (c->len + n < sizeof c->text) {
        memcpy(c->text + c->len, bytes, n);
        c->len += n;
    }
    return ++c->tokens == c->stop_after;
}

/* The library's lm_generate is what the CLI prints, byte for byte: sampled, greedy, and
 * through context shifts (a 16-position cache); the callback can stop it. */
TEST(generate_library_call_equals_the_cli_byte_for_byte)
{
    CHECK(prepare() == 0);
    char run[512], out[8192];
    snprintf(run, sizeof run, "%s/run_genapi", test_tmpdir());
    CHECK_EQ(train(run, "-o"), 0);
    static const struct {
        const char *prompt, *flags;
        int ctx, n;
        sample_cfg sc;
    } cases[] = {
        {"문장", "--seed 7", 0, 24, {0.8, 0, 1.0, 7}},
        {"문장", "--temperature 0", 0, 24, {0, 0, 1.0, 1}},
        {"the ", "--ctx 16 --seed 3 --top-k 5 --top-p 0.9", 16, 60, {0.8, 5, 0.9, 3}},
        {"", "--ctx 16 --temperature 0", 16, 60, {0, 0, 1.0, 1}},
    };
    int shifted = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        lm l;
        dk_err err;
        CHECK_MSG(lm_open(&l, run, 2, cases[k].ctx, &err) == 0, "%s", err.msg);
        lm_gen *g;
        CHECK(lm_gen_new(&g, &l, &err) == 0);
        lm_gen_opts o = {.n_new = cases[k].n, .sample = cases[k].sc};
        lm_gen_stats st = {0};
        collected c = {.stop_after = -1};
        size_t plen = strlen(cases[k].prompt);
        CHECK(lm_generate(g, (const uint8_t *)cases[k].prompt, plen, &o, collect, &c, &st, &err) == 0);
        CHECK_EQ(st.gen_tokens, c.tokens);
        CHECK(c.tokens > 0 && c.tokens <= cases[k].n);
        /* bytes, not C strings: an undertrained byte-level model can emit a NUL */
        char expect[8192 + 64], path[600];
        size_t elen = (size_t)snprintf(expect, sizeof expect, "%s", cases[k].prompt);
        memcpy(expect + elen, c.text, c.len);
        elen += c.len;
        expect[elen++] = '\n';
        snprintf(path, sizeof path, "%s/genapi_%zu.out", test_tmpdir(), k);
        CHECK_EQ(test_run(NULL, 0, "%s generate -m %s -p '%s' -n %d %s > %s 2>/dev/null", test_bin(), run,
                          cases[k].prompt, cases[k].n, cases[k].flags, path), 0);
        FILE *f = fopen(path, "rb");
        size_t olen = f ? fread(out, 1, sizeof out, f) : 0;
        if (f)
            fclose(f);
        CHECK_EQ(olen, elen);
        CHECK(olen == elen && memcmp(out, expect, elen) == 0);
        shifted += st.prompt_tokens > (long)st.last_prompt_kept; /* the cache was shifted and re-run */
        /* the callback stops it after three tokens; the same three */
        collected d = {.stop_after = 3};
        lm_gen_stats st2 = {0};
        CHECK(lm_generate(g, (const uint8_t *)cases[k].prompt, plen, &o, collect, &d, &st2, &err) == 0);
        CHECK(d.tokens == 3 || (c.tokens < 3 && d.tokens == c.tokens));
        CHECK(d.len <= c.len && memcmp(d.text, c.text, d.len) == 0);
        lm_gen_free(g);
        lm_close(&l);
    }
    CHECK(shifted >= 1);
}

TEST(train_resume_refuses_another_data_seed)
{
    CHECK(prepare() == 0);
    char run[512], cmd[4096], out[4096];
    snprintf(run, sizeof run, "%s/run_dseed", test_tmpdir());
    CHECK_EQ(train(run, "--data-seed 5 -o"), 0);
    CHECK_EQ(test_run(out, sizeof out, "grep -c '\"data_seed\": 5' %s/run.json", run), 0);
    train_cmd(cmd, sizeof cmd, run, "--data-seed 6 --resume");
    CHECK_EQ(test_run(out, sizeof out, "%s 2>&1", cmd), 1);
    CHECK_CONTAINS(out, "trained with data seed 5, not 6");
}

/* Issue 17: a RUN that failed before its first checkpoint can go on; two trainings on
 * one RUN cannot; --resume refuses options that change the result and records --steps. */
TEST(train_run_directory_is_created_late_locked_and_resumable_from_step_0)
{
    CHECK(prepare() == 0);
    char run[512], ref[512], cmd[4096], out[4096];
    snprintf(run, sizeof run, "%s/run_hard", test_tmpdir());
    snprintf(ref, sizeof ref, "%s/run_hard_ref", test_tmpdir());
    /* a bad --init-from fails before RUN exists, so the same -o works afterwards */
    char extra[700];
    snprintf(extra, sizeof extra, "--init-from %s/nonexistent_model -o", test_tmpdir());
    CHECK_EQ(train(run, extra), 1);
    CHECK(access(run, F_OK) != 0);
    CHECK_EQ(train(ref, "-o"), 0);
    /* killed before its first checkpoint: only run.json is there; --resume starts from 0 */
    CHECK_EQ(test_run(out, sizeof out, "mkdir -p %s && cp %s/run.json %s/", run, ref, run), 0);
    CHECK_EQ(train(run, "--resume"), 0);
    CHECK_EQ(test_run(out, sizeof out, "cmp %s/model.safetensors %s/model.safetensors", run, ref), 0);
    CHECK_EQ(test_run(out, sizeof out, "cmp %s/ledger.jsonl %s/ledger.jsonl", run, ref), 0);
    /* a second training on a RUN that is in use gets one line */
    train_cmd(cmd, sizeof cmd, run, "--resume");
    CHECK_EQ(test_run(out, sizeof out, "flock %s/.lock -c '%s' 2>&1", run, cmd), 1);
    CHECK_CONTAINS(out, "in use by another dokja train");
    /* options that decide the bytes may not change on --resume; --steps may, recorded */
    char *bs = strstr(cmd, "--batch-size 4");
    CHECK(bs != NULL);
    if (bs)
        memcpy(bs, "--batch-size 2", 14);
    CHECK_EQ(test_run(out, sizeof out, "%s 2>&1", cmd), 1);
    CHECK_CONTAINS(out, "trained with --batch-size 4, not 2");
    train_cmd(cmd, sizeof cmd, run, "--resume");
    char *st = strstr(cmd, "--steps 30");
    CHECK(st != NULL);
    if (st)
        memcpy(st, "--steps 33", 10);
    CHECK_EQ(test_run(out, sizeof out, "%s 2>&1", cmd), 0);
    CHECK_EQ(test_run(out, sizeof out, "grep -A2 steps_before %s/run.json", run), 0);
    CHECK_CONTAINS(out, "30");
    /* the ledger records the new length after the checkpoint of step 30, and verifies */
    CHECK_EQ(test_run(out, sizeof out, "grep -c '\"type\":\"steps\",\"steps\":33' %s/ledger.jsonl", run), 0);
    CHECK_EQ(test_run(out, sizeof out, "%s ledger verify %s", test_bin(), run), 0);
}

/* --micro-batch sets the bits (the order of the gradient sum, train/step.h): --resume
 * refuses another one, and without one takes the run's from run.json, not the default
 * (B / ranks, here 4). */
TEST(train_resume_keeps_the_runs_micro_batch)
{
    CHECK(prepare() == 0);
    char run[512], cmd[4096], out[4096];
    snprintf(run, sizeof run, "%s/run_micro", test_tmpdir());
    CHECK_EQ(train(run, "-o"), 0);
    CHECK_EQ(test_run(NULL, 0, "cp %s/model.safetensors %s/first.safetensors && "
                               "rm %s/checkpoints/step_00000030.safetensors", run, run, run), 0);
    train_cmd(cmd, sizeof cmd, run, "--resume");
    char *mb = strstr(cmd, "--micro-batch 2");
    CHECK(mb != NULL);
    if (mb)
        mb[strlen("--micro-batch ")] = '1';
    CHECK_EQ(test_run(out, sizeof out, "%s 2>&1", cmd), 1);
    CHECK_CONTAINS(out, "trained with --micro-batch 2, not 1");
    if (mb)
        memset(mb, ' ', strlen("--micro-batch 1"));
    CHECK_EQ(test_run(out, sizeof out, "%s 2>&1", cmd), 0);
    CHECK_EQ(test_run(NULL, 0, "cmp -s %s/model.safetensors %s/first.safetensors", run, run), 0);
}
