/* test_ledger.c: the training ledger (docs/ledger.md): the Merkle tree, the chain, and
 * `dokja ledger verify` against every attack of issue 14 that needs no replay: a
 * fine-tuned model with a ledger that claims a random start; a record edited, dropped,
 * duplicated or moved; the ledger cut short; a checkpoint file replaced; a dataset shard
 * replaced or the manifest reordered; the schedule changed; batches reordered; a published
 * model that is not the final one; a ledger copied onto another run. Each must fail with a
 * message naming what is wrong. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/isa.h"
#include "ledger/ledger.h"
#include "util/hash.h"
#include "util/merkle.h"
#include "test.h"

static const char CFG[] = "{\"hidden_size\": 32, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
                          " \"num_key_value_heads\": 2, \"intermediate_size\": 64, \"vocab_size\": 300,"
                          " \"max_position_embeddings\": 64}";
static char data_dir[512], cfg_path[512];

static int prepare(void)
{
    if (data_dir[0])
        return 0;
    const char *d = test_dataset("ledger");
    if (!d)
        return -1;
    snprintf(data_dir, sizeof data_dir, "%s", d);
    snprintf(cfg_path, sizeof cfg_path, "%s", test_write_file("ledger_cfg.json", CFG, strlen(CFG)));
    return 0;
}

/* A 12-step run with checkpoints every 3 steps, all kept; extra options before -o. */
static int train(const char *run, const char *extra)
{
    return test_run(NULL, 0, "%s train -q --data %s --model %s %s -o %s --steps 12 --batch-size 4 --micro-batch 2 "
                             "--seq-len 16 --lr 3e-3 --eval-every 0 --checkpoint-every 3 --keep-checkpoints 100 "
                             "--threads 1 2>&1",
                    test_bin(), data_dir, cfg_path, extra, run);
}

static const char *tmp(const char *name)
{
    static char b[8][600];
    static int i;
    i = (i + 1) % 8;
    snprintf(b[i], sizeof b[i], "%s/%s", test_tmpdir(), name);
    return b[i];
}

/* `dokja ledger verify RUN extra`: exit code, output in out. */
static int verify(const char *run, const char *extra, char *out, size_t cap)
{
    return test_run(out, cap, "%s ledger verify %s %s 2>&1", test_bin(), run, extra);
}

/* A copy of run `from` as `to`. */
static void copy_run(const char *from, const char *to)
{
    CHECK_EQ(test_run(NULL, 0, "rm -rf %s && cp -r %s %s", to, from, to), 0);
}

/* Rewrites RUN's ledger through edit(record index, record) and chains it again, as a
 * forger who knows the format would: the chain then holds, and only the checks of what
 * the records say can catch the forgery. edit returns 0 to keep, 1 to drop the record. */
typedef int (*edit_fn)(long i, json_t *rec, void *ctx);
static void forge(const char *run, edit_fn edit, void *ctx)
{
    char path[700];
    snprintf(path, sizeof path, "%s/ledger.jsonl", run);
    ledger l;
    dk_err e;
    CHECK_EQ(ledger_read(&l, path, &e), 0);
    CHECK_EQ(unlink(path), 0);
    ledger_writer w;
    CHECK_EQ(ledger_create(&w, path, &e), 0);
    for (size_t i = 0; i < l.n; i++) {
        json_t *r = json_deep_copy(l.r[i].j);
        json_object_del(r, "n");
        json_object_del(r, "prev");
        if (edit(i, r, ctx) == 0)
            CHECK_EQ(ledger_append(&w, r, &e), 0);
        json_decref(r);
    }
    ledger_close(&w);
    ledger_free(&l);
}

static const char *base_run(void)
{
    static int done;
    const char *run = tmp("lg_base");
    if (!done && (prepare() != 0 || train(run, "") != 0))
        return NULL;
    done = 1;
    return run;
}

TEST(merkle_root_and_inclusion_proofs_follow_rfc6962)
{
    uint8_t d[9][32], h[9][32], root[32], path[64][32];
    for (int i = 0; i < 9; i++) {
        memset(d[i], i + 1, 32);
        uint8_t b[33] = {0};
        memcpy(b + 1, d[i], 32);
        sha256_buf(b, 33, h[i]);
    }
    /* three leaves: H(1 || H(1 || h0 || h1) || h2) */
    uint8_t n01[65], i01[32], top[65], want[32];
    n01[0] = 1;
    memcpy(n01 + 1, h[0], 32);
    memcpy(n01 + 33, h[1], 32);
    sha256_buf(n01, 65, i01);
    top[0] = 1;
    memcpy(top + 1, i01, 32);
    memcpy(top + 33, h[2], 32);
    sha256_buf(top, 65, want);
    merkle_root((const uint8_t (*)[32])d, 3, root);
    CHECK(memcmp(root, want, 32) == 0);
    merkle_root((const uint8_t (*)[32])d, 1, root);
    CHECK(memcmp(root, h[0], 32) == 0);
    /* every leaf of every tree size proves, and nothing else does */
    for (size_t n = 1; n <= 9; n++) {
        merkle_root((const uint8_t (*)[32])d, n, root);
        for (size_t m = 0; m < n; m++) {
            int len = merkle_proof((const uint8_t (*)[32])d, n, m, path);
            CHECK(merkle_verify(d[m], m, n, (const uint8_t (*)[32])path, len, root));
            CHECK(!merkle_verify(d[(m + 1) % 9], m, n, (const uint8_t (*)[32])path, len, root) || n == 1);
            if (n > 1)
                CHECK(!merkle_verify(d[m], (m + 1) % n, n, (const uint8_t (*)[32])path, len, root));
        }
    }
}

TEST(ledger_chain_refuses_edits_drops_duplicates_moves_and_cuts)
{
    const char *run = base_run(), *bad = tmp("lg_chain");
    char out[8192];
    CHECK(run != NULL);
    CHECK_EQ(verify(run, "", out, sizeof out), 0);
    CHECK_CONTAINS(out, "VERIFIED FROM SCRATCH");
    struct { const char *what, *cmd, *expect; } cases[] = {
        /* step 2's loss edited (record 3, line 4): line 5's prev no longer matches record 3 */
        {"edited", "sed -i '4s/\"loss\":[0-9]/\"loss\":9/' %s/ledger.jsonl", "ledger.jsonl:5: \"prev\" is not the hash of record 3"},
        {"dropped", "sed -i '6d' %s/ledger.jsonl", "ledger.jsonl:6: record number is not 5"},
        {"duplicated", "sed -i '6p' %s/ledger.jsonl", "ledger.jsonl:7: record number is not 6"},
        {"moved", "sed -i '6{h;d};7G' %s/ledger.jsonl", "ledger.jsonl:6: record number is not 5"},
        {"cut mid-record", "truncate -s -10 %s/ledger.jsonl", "cut short"},
        {"cut by whole records", "sed -i '$d' %s/ledger.jsonl", "no final record"},
        {"empty", "truncate -s 0 %s/ledger.jsonl", "empty ledger"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        copy_run(run, bad);
        CHECK_EQ(test_run(NULL, 0, cases[i].cmd, bad), 0);
        CHECK_EQ(verify(bad, "", out, sizeof out), 1);
        CHECK_MSG(strstr(out, cases[i].expect) != NULL, "%s: %s", cases[i].what, out);
        CHECK_CONTAINS(out, "NOT VERIFIED");
    }
}

/* ---- forgeries that keep the chain intact ---------------------------------------------- */

static int set_lr(long i, json_t *r, void *ctx)
{
    (void)ctx;
    if (strcmp(json_string_value(json_object_get(r, "type")), "step") == 0 && json_integer_value(json_object_get(r, "step")) == 7)
        json_object_set_new(r, "lr", json_real(json_real_value(json_object_get(r, "lr")) * 1.5));
    return 0;
}

static int genesis_lr(long i, json_t *r, void *ctx)
{
    (void)ctx;
    if (i == 0)
        json_object_set_new(json_object_get(r, "train"), "lr", json_real(1e-3));
    return 0;
}

static int swap_batches(long i, json_t *r, void *ctx)
{
    static json_t *kept;
    (void)ctx;
    if (strcmp(json_string_value(json_object_get(r, "type")), "step") != 0)
        return 0;
    long s = (long)json_integer_value(json_object_get(r, "step"));
    if (s == 4)
        kept = json_incref(json_object_get(r, "batch_sha256"));
    if (s == 5) {
        json_t *b5 = json_incref(json_object_get(r, "batch_sha256"));
        json_object_set_new(r, "batch_sha256", kept);
        kept = b5; /* step 4's record has been written: the swap shows at step 5 */
        json_decref(kept);
    }
    return 0;
}

/* A hostile genesis: a 70 B-parameter config (verify must refuse before allocating it). */
static int huge_config(long i, json_t *r, void *ctx)
{
    (void)ctx;
    if (i == 0)
        json_object_set_new(r, "config", json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "hidden_size", 8192,
                                                   "num_hidden_layers", 80, "num_attention_heads", 64,
                                                   "num_key_value_heads", 8, "intermediate_size", 28672,
                                                   "vocab_size", 128256, "max_position_embeddings", 4096));
    return 0;
}

static int drop_step(long i, json_t *r, void *ctx)
{
    (void)ctx;
    return strcmp(json_string_value(json_object_get(r, "type")), "step") == 0 &&
           json_integer_value(json_object_get(r, "step")) == 8;
}

TEST(ledger_verify_catches_forgeries_that_keep_the_chain)
{
    const char *run = base_run(), *bad = tmp("lg_forged");
    char out[8192];
    CHECK(run != NULL);
    struct { const char *what; edit_fn fn; const char *expect; } cases[] = {
        {"a step's learning rate", set_lr, "step 7 has learning rate"},
        {"the genesis's schedule", genesis_lr, "step 1 has learning rate"},
        {"batches reordered", swap_batches, "step 5's batch is not the sampler's draw"},
        {"a step dropped", drop_step, "step 9 where step 8 was due"},
        {"a 70 B model claimed", huge_config, "GiB of memory is available"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        copy_run(run, bad);
        forge(bad, cases[i].fn, NULL);
        CHECK_EQ(verify(bad, "", out, sizeof out), 1);
        CHECK_MSG(strstr(out, cases[i].expect) != NULL, "%s: %s", cases[i].what, out);
    }
}

TEST(ledger_verify_catches_replaced_files_data_and_models)
{
    const char *run = base_run(), *bad = tmp("lg_files"), *other = tmp("lg_other"), *dbad = tmp("lg_data");
    char out[8192];
    CHECK(run != NULL);
    CHECK_EQ(train(other, "--seed 2"), 0);
    /* a checkpoint replaced by another run's of the same step */
    copy_run(run, bad);
    CHECK_EQ(test_run(NULL, 0, "cp %s/checkpoints/step_00000006.safetensors %s/checkpoints/", other, bad), 0);
    CHECK_EQ(verify(bad, "", out, sizeof out), 1);
    CHECK_CONTAINS(out, "step_00000006.safetensors: its weights are not the ledger's for step 6");
    /* rotated-away checkpoints are listed, not failed */
    copy_run(run, bad);
    CHECK_EQ(test_run(NULL, 0, "rm %s/checkpoints/step_00000003.safetensors", bad), 0);
    CHECK_EQ(verify(bad, "", out, sizeof out), 0);
    CHECK_CONTAINS(out, "1 rotated away");
    /* the published model with one weight changed (a byte at the end of the tensor data) */
    copy_run(run, bad);
    CHECK_EQ(test_run(NULL, 0, "printf '\\001' | dd of=%s/model.safetensors bs=1 seek=$(($(stat -c%%s "
                               "%s/model.safetensors) - 3)) conv=notrunc 2>/dev/null", bad, bad), 0);
    CHECK_EQ(verify(bad, "", out, sizeof out), 1);
    CHECK_CONTAINS(out, "is not the ledger's final model");
    /* another model given as the published one */
    char extra[700];
    snprintf(extra, sizeof extra, "--model %s", other);
    CHECK_EQ(verify(run, extra, out, sizeof out), 1);
    CHECK_CONTAINS(out, "its weights are not the ledger's final weights");
    snprintf(extra, sizeof extra, "--model %s", run);
    CHECK_EQ(verify(run, extra, out, sizeof out), 0);
    /* the published model in another format: a float32 GGUF (Q and K permuted for
     * llama.cpp, and back on reading) carries the same weights */
    CHECK_EQ(test_run(NULL, 0, "%s export gguf %s -o %s.gguf --type f32 >/dev/null 2>&1", test_bin(), run, bad), 0);
    snprintf(extra, sizeof extra, "--model %s.gguf", bad);
    CHECK_EQ(verify(run, extra, out, sizeof out), 0);
    /* a ledger copied onto another run */
    copy_run(other, bad);
    CHECK_EQ(test_run(NULL, 0, "cp %s/ledger.jsonl %s/", run, bad), 0);
    CHECK_EQ(verify(bad, "", out, sizeof out), 1);
    CHECK_CONTAINS(out, "its weights are not the ledger's");
    /* the dataset: a shard replaced; the manifest rewritten (shards reordered) */
    CHECK_EQ(test_run(NULL, 0, "rm -rf %s && cp -r %s %s && f=$(ls %s/*.tok | head -1) && "
                               "printf 'x' | dd of=$f bs=1 seek=40 conv=notrunc 2>/dev/null", dbad, data_dir, dbad, dbad), 0);
    snprintf(extra, sizeof extra, "--data %s", dbad);
    CHECK_EQ(verify(run, extra, out, sizeof out), 1);
    CHECK_CONTAINS(out, "does not match the manifest");
    CHECK_EQ(test_run(NULL, 0, "rm -rf %s && cp -r %s %s && sed -i 's/\"tokens\"/\"tokens\" /' %s/manifest.json",
                      dbad, data_dir, dbad, dbad), 0);
    CHECK_EQ(verify(run, extra, out, sizeof out), 1);
    CHECK_CONTAINS(out, "manifest SHA-256");
    snprintf(extra, sizeof extra, "--data %s", data_dir);
    CHECK_EQ(verify(run, extra, out, sizeof out), 0);
}

/* The forger's ledger for a fine-tuned model: genesis and init claim a random start. */
static int claim_random(long i, json_t *r, void *ctx)
{
    (void)ctx;
    const char *t = json_string_value(json_object_get(r, "type"));
    if (i == 0)
        json_object_set_new(r, "init", json_string("random"));
    if (strcmp(t, "init") == 0) {
        json_object_set_new(r, "from", json_string("random"));
        json_object_del(r, "source_sha256");
        json_object_set_new(r, "init_seed", json_integer(1));
    }
    return 0;
}

TEST(ledger_of_a_fine_tuned_model_never_verifies_as_from_scratch)
{
    const char *foreign = base_run(), *ft = tmp("lg_finetuned"), *forged = tmp("lg_ft_forged");
    char out[8192], extra[700];
    CHECK(foreign != NULL);
    snprintf(extra, sizeof extra, "--init-from %s --seed 3", foreign);
    CHECK_EQ(train(ft, extra), 0);
    /* honest: derived, and it says so */
    CHECK_EQ(verify(ft, "", out, sizeof out), 1);
    CHECK_CONTAINS(out, "derived: the run starts from a model");
    CHECK_EQ(verify(ft, "--derived-ok", out, sizeof out), 0);
    CHECK_CONTAINS(out, "VERIFIED, DERIVED (not from scratch)");
    /* forged to claim a random start: the initial weights are not what config and seed make */
    copy_run(ft, forged);
    forge(forged, claim_random, NULL);
    CHECK_EQ(verify(forged, "--json", out, sizeof out), 1);
    CHECK_CONTAINS(out, "are not what the config and init seed 1 generate: not a random start");
    CHECK_CONTAINS(out, "\"ok\": false");
}

TEST(ledger_beacon_seeds_and_the_prepare_then_draw_protocol)
{
    CHECK(prepare() == 0);
    const char *once = tmp("lg_beacon"), *prep = tmp("lg_prep"), *plain = base_run();
    const char *beacon = "--beacon 5f1c0ffee0ddf00d5f1c0ffee0ddf00d --beacon-source 'test draw 42'";
    char out[8192], cmd[2048];
    CHECK(plain != NULL);
    CHECK_EQ(train(once, beacon), 0);
    CHECK_EQ(verify(once, "", out, sizeof out), 0);
    CHECK_CONTAINS(out, "derived from the public beacon \"test draw 42\" (value 5f1c0ffee0ddf00d5f1c0ffee0ddf00d)");
    /* the beacon decides the start: not the weights of the same seed without it */
    CHECK_EQ(test_run(NULL, 0, "cmp -s %s/model.safetensors %s/model.safetensors", once, plain), 1);
    /* prepare: genesis only, its hash printed; the same run goes on once the beacon is drawn */
    CHECK_EQ(test_run(out, sizeof out, "%s train -q --data %s --model %s --prepare --beacon-source 'test draw 42' -o %s "
                                       "--steps 12 --batch-size 4 --micro-batch 2 --seq-len 16 --lr 3e-3 --eval-every 0 "
                                       "--checkpoint-every 3 --keep-checkpoints 100 --threads 1 2>&1",
                      test_bin(), data_dir, cfg_path, prep), 0);
    CHECK_CONTAINS(out, "genesis (file this hash");
    CHECK_EQ(test_run(out, sizeof out, "wc -l < %s/ledger.jsonl", prep), 0);
    CHECK_EQ(atoi(out), 1);
    snprintf(cmd, sizeof cmd, "%s train -q --data %s --model %s --resume %s --steps 12 --batch-size 4 --micro-batch 2 "
                              "--seq-len 16 --lr 3e-3 --eval-every 0 --checkpoint-every 3 --keep-checkpoints 100 "
                              "--threads 1", test_bin(), data_dir, cfg_path, prep);
    CHECK_EQ(test_run(out, sizeof out, "%s 2>&1", cmd), 1);
    CHECK_CONTAINS(out, "give it with --beacon HEX");
    CHECK_EQ(test_run(out, sizeof out, "%s --beacon 5f1c0ffee0ddf00d5f1c0ffee0ddf00d 2>&1", cmd), 0);
    CHECK_EQ(test_run(NULL, 0, "cmp %s/ledger.jsonl %s/ledger.jsonl", once, prep), 0);
    CHECK_EQ(test_run(NULL, 0, "cmp %s/model.safetensors %s/model.safetensors", once, prep), 0);
    /* usage */
    CHECK_EQ(test_run(out, sizeof out, "%s train --data x --model y -o z --beacon zz 2>&1", test_bin()), 2);
    CHECK_EQ(test_run(out, sizeof out, "%s train --data x --model y -o z --beacon abcd 2>&1", test_bin()), 2);
    CHECK_CONTAINS(out, "--beacon-source");
}

TEST(ledger_verify_writes_json_and_an_html_certificate)
{
    const char *run = base_run(), *html = tmp("lg_cert.html");
    char out[16384], extra[800];
    CHECK(run != NULL);
    snprintf(extra, sizeof extra, "--json --data %s --html %s", data_dir, html);
    CHECK_EQ(verify(run, extra, out, sizeof out), 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    CHECK(j != NULL);
    CHECK(json_is_true(json_object_get(j, "ok")));
    CHECK(json_is_true(json_object_get(j, "from_scratch")));
    CHECK_EQ(json_integer_value(json_object_get(j, "steps")), 12);
    CHECK_EQ(json_array_size(json_object_get(j, "checks")), 8);
    json_decref(j);
    CHECK_EQ(test_run(out, sizeof out, "grep -c 'class=\"PASS\">PASS' %s; grep -c '<polyline' %s", html, html), 0);
    CHECK_CONTAINS(out, "8\n1");
    /* usage and a missing run */
    CHECK_EQ(test_run(out, sizeof out, "%s ledger verify 2>&1", test_bin()), 2);
    CHECK_EQ(test_run(out, sizeof out, "%s ledger verify %s/nonexistent 2>&1", test_bin(), test_tmpdir()), 1);
    CHECK_CONTAINS(out, "nonexistent/ledger.jsonl");
}

/* ---- replay ------------------------------------------------------------------------------ */

static int replay(const char *run, const char *extra, char *out, size_t cap)
{
    return test_run(out, cap, "%s ledger replay -q %s --data %s %s 2>&1", test_bin(), run, data_dir, extra);
}

static char g_init_sha[65];

/* The forger who knows the format: the fine-tuned run's ledger claims a random start, with
 * the initial weights' hash that config and seed really generate (so verify's check of
 * the start passes), but the checkpoints are those of the fine-tuning. */
static int claim_random_start(long i, json_t *r, void *ctx)
{
    claim_random(i, r, ctx);
    if (strcmp(json_string_value(json_object_get(r, "type")), "init") == 0)
        json_object_set_new(r, "weights_sha256", json_string(g_init_sha));
    return 0;
}

static int edit_loss(long i, json_t *r, void *ctx)
{
    (void)ctx;
    if (strcmp(json_string_value(json_object_get(r, "type")), "step") == 0 && json_integer_value(json_object_get(r, "step")) == 11)
        json_object_set_new(r, "loss", json_real(json_real_value(json_object_get(r, "loss")) - 0.25));
    return 0;
}

TEST(ledger_replay_reproduces_segments_bit_for_bit_and_catches_what_verify_cannot)
{
    const char *run = base_run(), *ft = tmp("lg_replay_ft"), *bad = tmp("lg_replay_bad");
    char out[8192], extra[700];
    CHECK(run != NULL);
    /* 4 segments (checkpoints at 3, 6, 9, 12): all of them */
    CHECK_EQ(replay(run, "--challenge 00 --segments 4 --json", out, sizeof out), 0);
    CHECK_CONTAINS(out, "\"ok\": true");
    CHECK_CONTAINS(out, "\"steps_replayed\": 12");
    /* two: the first and the last, whatever the challenge */
    CHECK_EQ(replay(run, "--challenge abcdef", out, sizeof out), 0);
    CHECK_CONTAINS(out, "PASS  steps 1..3");
    CHECK_CONTAINS(out, "PASS  steps 10..12");
    CHECK_CONTAINS(out, "6 of 12 steps replayed (50.0% of the run's compute)");
    /* the challenge decides the middle segment */
    int seen[4] = {0};
    for (int c = 0; c < 12; c++) {
        char ch[64];
        snprintf(ch, sizeof ch, "--challenge %02x --segments 3", c);
        CHECK_EQ(replay(run, ch, out, sizeof out), 0);
        seen[1] |= strstr(out, "steps 4..6") != NULL;
        seen[2] |= strstr(out, "steps 7..9") != NULL;
    }
    CHECK(seen[1] && seen[2]);
    /* attack 1 with a consistent start: a fine-tuned model's ledger claiming the generated
     * weights; verify cannot tell, the first segment's replay can */
    snprintf(extra, sizeof extra, "--init-from %s --seed 1 --lr 1e-3", run);
    CHECK_EQ(train(ft, extra), 0);
    CHECK_EQ(test_run(out, sizeof out, "sed -n 2p %s/ledger.jsonl | sed 's/.*\"weights_sha256\":\"\\([0-9a-f]*\\)\".*/\\1/'",
                      run), 0);
    snprintf(g_init_sha, sizeof g_init_sha, "%.64s", out);
    copy_run(ft, bad);
    forge(bad, claim_random_start, NULL);
    CHECK_EQ(verify(bad, "", out, sizeof out), 0); /* every check verify can make holds */
    CHECK_EQ(replay(bad, "--challenge 01", out, sizeof out), 1);
    CHECK_CONTAINS(out, "FAIL  steps 1..3");
    /* a loss edited (the chain re-made): verify holds, replay of its segment does not */
    copy_run(run, bad);
    forge(bad, edit_loss, NULL);
    CHECK_EQ(verify(bad, "", out, sizeof out), 0);
    CHECK_EQ(replay(bad, "--challenge 01", out, sizeof out), 1);
    CHECK_CONTAINS(out, "step 11: loss");
    /* a missing checkpoint at a chosen start, other data, usage */
    copy_run(run, bad);
    CHECK_EQ(test_run(NULL, 0, "rm %s/checkpoints/step_00000009.safetensors", bad), 0);
    CHECK_EQ(replay(bad, "--challenge 01", out, sizeof out), 1);
    CHECK_CONTAINS(out, "step_00000009.safetensors: missing");
    /* the kernel paths: avx2 computes avx512's bits (one arithmetic class), so a run replays
     * on either; the generic path is refused with the path it needs */
    if (isa_supported(DK_ISA_AVX2) && !getenv("DOKJA_ISA")) { /* x86-64: the run used the best path */
        CHECK_EQ(test_run(out, sizeof out, "DOKJA_ISA=avx2 %s ledger replay -q %s --data %s --challenge 01 --segments 4 "
                                           "2>&1", test_bin(), run, data_dir), 0);
        CHECK_CONTAINS(out, "4 of 4 segment(s) reproduced bit for bit");
        CHECK_EQ(test_run(out, sizeof out, "DOKJA_ISA=generic %s ledger replay -q %s --data %s --challenge 01 2>&1",
                          test_bin(), run, data_dir), 1);
        CHECK_CONTAINS(out, "trained with fma kernel arithmetic, this path (generic)");
    }
    CHECK_EQ(test_run(out, sizeof out, "%s ledger replay %s --challenge 01 2>&1", test_bin(), run), 2);
    CHECK_EQ(test_run(out, sizeof out, "%s ledger replay %s --data %s --challenge xyz 2>&1", test_bin(), run, data_dir), 2);
}

/* ---- the training-order test --------------------------------------------------------------- */

TEST_SLOW(ledger_audit_order_tells_the_run_order_from_another_order)
{
    /* text that only memorisation predicts: random syllables, so a model's loss on a
     * sequence depends on how recently it trained on it */
    static char text[1 << 18];
    size_t len = 0;
    uint64_t x = 5;
    for (int line = 0; line < 1500 && len < sizeof text - 512; line++) {
        for (int w = 0; w < 12; w++) {
            int n = 1 + (int)((x >> 33) % 3);
            for (int c = 0; c < n; c++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                unsigned cp = 0xAC00 + (unsigned)((x >> 33) % 302) * 37;
                text[len++] = (char)(0xE0 | cp >> 12);
                text[len++] = (char)(0x80 | (cp >> 6 & 0x3F));
                text[len++] = (char)(0x80 | (cp & 0x3F));
            }
            text[len++] = w == 11 ? '\n' : ' ';
        }
    }
    const char *corpus = test_write_file("order_corpus.txt", text, len), *tok = tmp("order_tok.json"),
               *data = tmp("order_data");
    static const char cfg[] = "{\"hidden_size\": 128, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
                              "\"num_key_value_heads\": 2, \"intermediate_size\": 256, \"vocab_size\": 300, "
                              "\"max_position_embeddings\": 64}";
    const char *cfgp = test_write_file("order_cfg.json", cfg, strlen(cfg));
    CHECK_EQ(test_run(NULL, 0, "%s tokenizer train -q --vocab-size 300 -o %s %s >/dev/null && %s data build -q -t %s -o %s %s "
                               ">/dev/null", test_bin(), tok, corpus, test_bin(), tok, data, corpus), 0);
    for (int s = 1; s <= 2; s++)
        CHECK_EQ(test_run(NULL, 0, "%s train -q --data %s --model %s -o %s/order_run%d --steps 300 --batch-size 4 --seq-len 32 "
                                   "--lr 3e-3 --data-seed %d --checkpoint-every 0 --eval-every 0 --threads 2 2>&1",
                          test_bin(), data, cfgp, test_tmpdir(), s, s), 0);
    char out[4096];
    double p[3];
    for (int s = 1; s <= 2; s++) {
        CHECK_EQ(test_run(out, sizeof out, "%s ledger audit-order -q -m %s/order_run%d --data %s --ledger %s/order_run1 "
                                           "--sequences 1200 --alpha 1e-3 --json", test_bin(), test_tmpdir(), s, data,
                          test_tmpdir()), s == 1 ? 0 : 1);
        json_t *j = json_loads(out, 0, NULL);
        CHECK(j != NULL);
        CHECK_EQ(json_integer_value(json_object_get(j, "sequences")), 1200);
        p[s] = json_real_value(json_object_get(j, "log10_p"));
        json_decref(j);
    }
    /* measured: 10^-3.8 for the run's own model, 10^-0.7 for the other order */
    CHECK_MSG(p[1] < -3, "own order: p = 10^%.2f", p[1]);
    CHECK_MSG(p[2] > -2, "other order: p = 10^%.2f", p[2]);
    /* another dataset than the genesis's is refused */
    CHECK_EQ(test_run(out, sizeof out, "%s ledger audit-order -m %s/order_run1 --data %s --ledger %s/order_run1 2>&1",
                      test_bin(), test_tmpdir(), data_dir[0] ? data_dir : "/nonexistent", test_tmpdir()), 1);
}
