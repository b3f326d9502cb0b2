/* test_select.c: `dokja select` end to end on tiny models trained here: the gate cuts a
 * copy of a known model with its evidence (and both teams of a copied pair, and a team
 * whose ledger was forged), the others are ranked by score, the stages and overrides
 * apply, a re-run gives the same bytes, and every bad round fails with one line and
 * writes nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "test.h"

static const char CFG[] = "{\"hidden_size\": 32, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
                          " \"num_key_value_heads\": 2, \"intermediate_size\": 64, \"vocab_size\": 300,"
                          " \"max_position_embeddings\": 64}";
static char dir[512]; /* the round's directory: models, tasks, CSV files, round files */

static int train(const char *data, const char *cfg, const char *name, int seed, int steps)
{
    return test_run(NULL, 0, "%s train -q --data %s --model %s -o %s/%s --steps %d --batch-size 4 --micro-batch 2 "
                             "--seq-len 16 --lr 3e-3 --eval-every 0 --checkpoint-every 6 --seed %d --threads 1 "
                             ">/dev/null 2>&1",
                    test_bin(), data, cfg, dir, name, steps, seed);
}

/* Teams alpha, beta, delta (independent runs, alpha with its ledger), gamma (a noisy copy of
 * the known model "foreign"); references ref_new (counts) and ref_old (too old); a
 * multiple-choice task, a text task, an expert CSV. */
static int prepare(void)
{
    if (dir[0])
        return 0;
    const char *data = test_dataset("select");
    if (!data)
        return -1;
    snprintf(dir, sizeof dir, "%s/select_round", test_tmpdir());
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s", test_write_file("select_cfg.json", CFG, strlen(CFG)));
    if (test_run(NULL, 0, "mkdir -p %s", dir) != 0 || train(data, cfg, "alpha", 1, 12) != 0 ||
        train(data, cfg, "beta", 2, 12) != 0 || train(data, cfg, "delta", 3, 12) != 0 ||
        train(data, cfg, "ref_new", 4, 60) != 0 || train(data, cfg, "ref_old", 5, 30) != 0 ||
        train(data, cfg, "foreign", 6, 60) != 0 ||
        test_run(NULL, 0, "%s model edit %s/foreign %s/gamma --noise 0.01 >/dev/null 2>&1", test_bin(), dir, dir) != 0 ||
        test_run(NULL, 0, "%s train -q --data %s --model %s --init-from %s/foreign -o %s/tuned --steps 6 --batch-size 4 "
                          "--micro-batch 2 --seq-len 16 --lr 1e-3 --eval-every 0 --seed 7 --threads 1 >/dev/null 2>&1",
                 test_bin(), data, cfg, dir, dir) != 0 ||
        test_run(NULL, 0, "%s model edit %s/beta %s/beta_deep --depth 0-1,0-1 >/dev/null 2>&1", test_bin(), dir, dir) != 0)
        return -1;
    /* a forged ledger: alpha's run with one step's learning rate changed */
    if (test_run(NULL, 0, "cp -r %s/alpha %s/forged && sed -i '5s/\"lr\":[0-9.e-]*/\"lr\":0.5/' %s/forged/ledger.jsonl",
                 dir, dir, dir) != 0)
        return -1;
    char path[700];
    snprintf(path, sizeof path, "%s/mc.jsonl", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (int i = 0; i < 20; i++) {
        fprintf(f, "{\"context\": \"select 문장 %d 은\", \"choices\": [\" 짧다.\", \" 길다.\"], \"gold\": 0}\n", i);
        fprintf(f, "{\"context\": \"sentence %d is\", \"choices\": [\" long.\", \" short.\"], \"gold\": 1}\n", i * 7);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/text.txt", dir);
    f = fopen(path, "w");
    for (int i = 500; f && i < 520; i++)
        fprintf(f, "select 문장 %d 은 짧다. sentence %d is short.\n", i, i * 7);
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s/expert.csv", dir);
    f = fopen(path, "w");
    if (f) {
        fputs("\xEF\xBB\xBFTeam, Score\r\nalpha,0.5\r\nbeta, 0.7\r\n\r\ndelta,0.2\r\ngamma,0.9\r\n", f); /* as a spreadsheet writes it */
        fclose(f);
    }
    return f ? 0 : -1;
}

static const char TEAMS[] = "[{\"name\": \"alpha\", \"model\": \"alpha\", \"ledger\": \"alpha\"},"
                            " {\"name\": \"beta\", \"model\": \"beta\"}, {\"name\": \"delta\", \"model\": \"delta\"},"
                            " {\"name\": \"gamma\", \"model\": \"gamma\"}]";
static const char TEAMS_GGUF[] = "[{\"name\": \"alpha\", \"model\": \"alpha\", \"ledger\": \"alpha\"},"
                                 " {\"name\": \"beta\", \"model\": \"beta.gguf\"}, {\"name\": \"delta\", \"model\": \"delta\"},"
                                 " {\"name\": \"gamma\", \"model\": \"gamma\"}]";
static const char STAGES[] = "[{\"keep\": 3}, {\"keep\": 2, \"overrides\": {\"delta\": \"advance\"}}]";

/* Writes DIR/NAME: the round with these parts (NULL: the default). */
static void write_round(const char *name, const char *date, const char *teams, const char *refs, const char *groups,
                        const char *csv, const char *stages)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f,
            "{\n \"evaluation_date\": \"%s\",\n \"teams\": %s,\n"
            " \"references\": %s,\n"
            " \"known_models\": [{\"name\": \"foreign\", \"model\": \"foreign\"}],\n"
            " \"scheme\": {\"groups\": %s,\n"
            "   \"external\": [{\"name\": \"expert\", \"points\": 10, \"csv\": \"%s\"}]},\n"
            " \"stages\": %s,\n \"thresholds\": {\"lineage_alpha\": 1e-6}\n}\n",
            date ? date : "2026-12-01", teams ? teams : TEAMS,
            refs ? refs
                 : "[{\"name\": \"ref_new\", \"model\": \"ref_new\", \"released\": \"2026-09-15\"},"
                   " {\"name\": \"ref_old\", \"model\": \"ref_old\", \"released\": \"2025-01-01\"}]",
            groups ? groups
                   : "[{\"name\": \"national\", \"points\": 20, \"tasks\": [\"mc.jsonl\"]},"
                     " {\"name\": \"common\", \"points\": 10, \"tasks\": [\"text:text.txt\"]}]",
            csv ? csv : "expert.csv", stages ? stages : STAGES);
    fclose(f);
}

static json_t *load_report(const char *out)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/report.json", out);
    return json_load_file(path, 0, NULL);
}

static json_t *team(json_t *rep, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(rep, "teams"), i, t) if (strcmp(json_string_value(json_object_get(t, "name")),
                                                                       name) == 0) return t;
    return NULL;
}

static const char *tstr(json_t *rep, const char *name, const char *key)
{
    json_t *t = team(rep, name);
    const char *s = t ? json_string_value(json_object_get(t, key)) : NULL;
    return s ? s : "(none)";
}

TEST(select_round_gate_ranking_stages_and_byte_identical_rerun)
{
    CHECK(prepare() == 0);
    write_round("round.json", NULL, NULL, NULL, NULL, NULL, NULL);
    char out[8192], o1[700], o2[700];
    snprintf(o1, sizeof o1, "%s/sel_out1", test_tmpdir());
    snprintf(o2, sizeof o2, "%s/sel_out2", test_tmpdir());
    CHECK_EQ(test_run(out, sizeof out, "%s select %s/round.json -o %s 2>&1", test_bin(), dir, o1), 0);
    CHECK_CONTAINS(out, "cut at the gate: gamma (would have advanced on score)");
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/round.json -o %s --threads 1 2>&1", test_bin(), dir, o2), 0);
    CHECK_EQ(test_run(out, sizeof out, "cmp %s/report.json %s/report.json && cmp %s/report.html %s/report.html", o1,
                      o2, o1, o2), 0);
    json_t *rep = load_report(o1);
    CHECK(rep);
    /* gamma, a noisy copy of the known model "foreign", fails the gate with its evidence,
     * although its score is the best */
    json_t *g = team(rep, "gamma"), *gate = json_object_get(g, "gate");
    CHECK_STR(tstr(rep, "gamma", "status"), "cut_at_gate");
    CHECK(json_is_true(json_object_get(g, "would_have_advanced_on_score")));
    CHECK_EQ(json_integer_value(json_object_get(g, "score_rank")), 1);
    CHECK(json_is_null(json_object_get(g, "rank")));
    CHECK(json_is_false(json_object_get(gate, "passed")));
    json_t *ev = json_array_get(json_object_get(gate, "derived_from"), 0);
    CHECK(ev && json_array_size(json_object_get(gate, "derived_from")) == 1);
    CHECK_STR(json_string_value(json_object_get(ev, "other")), "foreign");
    CHECK_STR(json_string_value(json_object_get(ev, "other_is")), "known");
    CHECK_STR(json_string_value(json_object_get(ev, "kind")), "descendant");
    CHECK(json_real_value(json_object_get(ev, "log10_p")) < -6);
    CHECK_EQ(json_array_size(json_object_get(ev, "b_layer_source")), 2);
    /* the others pass and are ranked by total, highest first */
    json_t *rk = json_object_get(rep, "ranking");
    CHECK_EQ(json_array_size(rk), 3);
    double prev = 1e300;
    for (size_t i = 0; i < 3; i++) {
        json_t *t = team(rep, json_string_value(json_array_get(rk, i)));
        CHECK(json_is_true(json_object_get(json_object_get(t, "gate"), "passed")));
        CHECK_EQ(json_integer_value(json_object_get(t, "rank")), (long long)i + 1);
        double tot = json_real_value(json_object_get(t, "total"));
        CHECK(tot <= prev && tot > 0 && tot <= 40);
        prev = tot;
    }
    /* the expert CSV (a byte-order mark, a header in other case, CRLF, a blank line) */
    CHECK(json_real_value(json_object_get(json_array_get(json_object_get(team(rep, "beta"), "external"), 0), "score")) ==
          0.7);
    CHECK(json_real_value(json_object_get(json_array_get(json_object_get(g, "external"), 0), "points")) == 9);
    /* alpha's ledger was verified and holds */
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(team(rep, "alpha"), "gate"), "ledger"),
                                                "verdict")),
              "holds");
    /* stage 2 keeps 2: delta by override whatever its rank, so the better of alpha and
     * beta advances and the other is cut by score */
    CHECK_STR(tstr(rep, "delta", "status"), "advanced");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(team(rep, "delta"), "overrides"), 0),
                                                "effect")),
              "advanced by override");
    const char *first = json_string_value(json_array_get(rk, 0)), *second = json_string_value(json_array_get(rk, 1));
    const char *top = strcmp(first, "delta") == 0 ? second : first;
    const char *other = strcmp(top, "alpha") == 0 ? "beta" : "alpha";
    CHECK_STR(tstr(rep, top, "status"), "advanced");
    CHECK_STR(tstr(rep, other, "status"), "cut_by_score");
    CHECK_EQ(json_integer_value(json_object_get(team(rep, other), "cut_at_stage")), 2);
    /* only ref_new counts (ref_old is from 2025); both are known models */
    json_t *refs = json_object_get(rep, "references");
    CHECK(json_is_true(json_object_get(json_array_get(refs, 0), "counts")));
    CHECK(json_is_false(json_object_get(json_array_get(refs, 1), "counts")));
    CHECK_EQ(json_array_size(json_object_get(rep, "lineage")), 4 * 3 + 6); /* 4 teams x 3 known + 6 pairs */
    /* a team given as a GGUF file (the float32 export of beta) scores the same */
    CHECK_EQ(test_run(NULL, 0, "%s export gguf %s/beta -o %s/beta.gguf --type f32 >/dev/null 2>&1", test_bin(), dir, dir),
             0);
    write_round("gguf.json", NULL, TEAMS_GGUF, NULL, NULL, NULL, NULL);
    char o3[700];
    snprintf(o3, sizeof o3, "%s/sel_out_gguf", test_tmpdir());
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/gguf.json -o %s 2>&1", test_bin(), dir, o3), 0);
    json_t *rg = load_report(o3);
    CHECK(rg);
    CHECK_STR(tstr(rg, "beta", "sha256"), tstr(rep, "beta", "sha256"));
    CHECK(json_real_value(json_object_get(team(rg, "beta"), "total")) ==
          json_real_value(json_object_get(team(rep, "beta"), "total")));
    CHECK_STR(tstr(rg, "gamma", "status"), "cut_at_gate");
    json_decref(rg);
    json_decref(rep);
    /* the page: the ranking, the cut lines, the chart with its 95 % line, the evidence */
    CHECK_EQ(test_run(out, sizeof out, "grep -c 'class=\"cutline\"' %s/report.html", o1), 0);
    CHECK_EQ(atoi(out), 2);
    CHECK_EQ(test_run(out, sizeof out, "grep -c '<svg\\|95 %%\\|would have advanced on score\\|from known model foreign'"
                                       " %s/report.html", o1), 0);
    CHECK(atoi(out) >= 4);
    CHECK_EQ(test_run(out, sizeof out, "grep -c 'id=\"lineage\"\\|id=\"tasks\"\\|id=\"inputs\"\\|id=\"gate\"' %s/report.html", o1), 0);
    CHECK_EQ(atoi(out), 4);
}

TEST(select_gate_reports_both_teams_of_a_copied_pair_and_a_forged_ledger)
{
    CHECK(prepare() == 0);
    /* beta_deep is beta depth-upscaled; forged is alpha's run with a changed ledger; tuned
     * is fine-tuned from the known model "foreign", declared, with a ledger that holds */
    write_round("pair.json", NULL,
                "[{\"name\": \"beta\", \"model\": \"beta\"}, {\"name\": \"deep\", \"model\": \"beta_deep\"},"
                " {\"name\": \"alpha\", \"model\": \"forged\", \"ledger\": \"forged\"},"
                " {\"name\": \"delta\", \"model\": \"delta\"},"
                " {\"name\": \"tuned\", \"model\": \"tuned\", \"ledger\": \"tuned\", \"declared_base\": \"foreign\"}]",
                NULL, NULL, "pair.csv", "[{\"keep\": 2, \"overrides\": {\"beta\": \"advance\", \"delta\": \"cut\"}}]");
    char path[700], out[8192], o[700];
    snprintf(path, sizeof path, "%s/pair.csv", dir);
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs("beta,0.1\ndeep,0.2\nalpha,0.3\ndelta,0.4\ntuned,1\n", f);
    fclose(f);
    snprintf(o, sizeof o, "%s/sel_pair", test_tmpdir());
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/pair.json -o %s 2>&1", test_bin(), dir, o), 0);
    /* the same round run from its own directory: the report names files as the round does */
    CHECK_EQ(test_run(out, sizeof out, "b=$(realpath %s) && cd %s && $b select -q pair.json -o %s_rel 2>&1 && "
                                       "cmp %s/report.json %s_rel/report.json",
                      test_bin(), dir, o, o, o), 0);
    json_t *rep = load_report(o);
    CHECK(rep);
    CHECK_STR(tstr(rep, "beta", "status"), "cut_at_gate");
    CHECK_STR(tstr(rep, "deep", "status"), "cut_at_gate");
    CHECK_STR(tstr(rep, "alpha", "status"), "cut_at_gate");
    CHECK_STR(tstr(rep, "tuned", "status"), "cut_at_gate");
    /* overrides: delta is cut by one; the one for beta, already cut at the gate, does nothing */
    CHECK_STR(tstr(rep, "delta", "status"), "cut_by_override");
    CHECK_EQ(json_integer_value(json_object_get(team(rep, "delta"), "cut_at_stage")), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(team(rep, "beta"), "overrides"), 0),
                                                "effect")),
              "none: the team was already cut");
    CHECK_EQ(json_array_size(json_object_get(rep, "ranking")), 1);
    json_t *tg = json_object_get(team(rep, "tuned"), "gate"), *et = json_array_get(json_object_get(tg, "derived_from"), 0);
    CHECK(et);
    CHECK_STR(json_string_value(json_object_get(et, "other")), "foreign");
    CHECK(json_is_true(json_object_get(et, "declared")));
    CHECK_STR(json_string_value(json_object_get(json_object_get(tg, "ledger"), "verdict")), "holds");
    json_t *eb = json_array_get(json_object_get(json_object_get(team(rep, "beta"), "gate"), "derived_from"), 0);
    json_t *ed = json_array_get(json_object_get(json_object_get(team(rep, "deep"), "gate"), "derived_from"), 0);
    CHECK(eb && ed);
    CHECK_STR(json_string_value(json_object_get(eb, "other")), "deep");
    CHECK_STR(json_string_value(json_object_get(ed, "other")), "beta");
    CHECK_STR(json_string_value(json_object_get(ed, "other_is")), "team");
    CHECK_STR(json_string_value(json_object_get(ed, "kind")), "depth-upscaled");
    json_t *led = json_object_get(json_object_get(team(rep, "alpha"), "gate"), "ledger");
    CHECK_STR(json_string_value(json_object_get(led, "verdict")), "fails");
    CHECK(json_array_size(json_object_get(led, "failed_checks")) >= 1);
    CHECK_EQ(json_array_size(json_object_get(json_object_get(team(rep, "alpha"), "gate"), "derived_from")), 0);
    json_decref(rep);
}

/* A copied pair of teams: both fail, unless one replays its ledger from random weights. */
TEST(select_replayed_ledger_attributes_a_copied_pair_to_the_copy)
{
    CHECK(prepare() == 0);
    const char *data = test_dataset("select");
    CHECK(data);
    char out[8192], o[700], teams[2048];
    CHECK_EQ(test_run(out, sizeof out, "test -d %s/alpha_deep || %s model edit %s/alpha %s/alpha_deep --depth 0-1,0-1 "
                                       ">/dev/null 2>&1",
                      dir, test_bin(), dir, dir), 0);
    snprintf(teams, sizeof teams,
             "[{\"name\": \"alpha\", \"model\": \"alpha\", \"ledger\": \"alpha\", \"data\": \"%s\"},"
             " {\"name\": \"beta\", \"model\": \"beta\"}, {\"name\": \"delta\", \"model\": \"alpha_deep\"},"
             " {\"name\": \"gamma\", \"model\": \"forged\", \"ledger\": \"forged\", \"data\": \"%s\"}]",
             data, data);
    write_round("replay.json", NULL, teams, NULL, NULL, NULL, "[{\"keep\": 2}]");
    /* without a replay the pair is not attributed: both teams fail */
    snprintf(o, sizeof o, "%s/sel_noreplay", test_tmpdir());
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/replay.json -o %s 2>&1", test_bin(), dir, o), 0);
    json_t *rep = load_report(o);
    CHECK(rep);
    CHECK_STR(tstr(rep, "alpha", "status"), "cut_at_gate");
    CHECK_STR(tstr(rep, "delta", "status"), "cut_at_gate");
    json_t *led = json_object_get(json_object_get(team(rep, "alpha"), "gate"), "ledger");
    CHECK_STR(json_string_value(json_object_get(led, "verdict")), "holds");
    CHECK(json_is_false(json_object_get(led, "proven_from_scratch")));
    json_decref(rep);
    /* --replay needs a challenge */
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/replay.json -o %s_x --replay 2 2>&1", test_bin(), dir, o), 2);
    CHECK(strstr(out, "--challenge"));
    /* with the replay: alpha's run is proven from scratch, so delta is the copy */
    snprintf(o, sizeof o, "%s/sel_replay", test_tmpdir());
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/replay.json -o %s --replay 2 --challenge c0ffee 2>&1",
                      test_bin(), dir, o), 0);
    rep = load_report(o);
    CHECK(rep);
    CHECK_STR(tstr(rep, "alpha", "status"), "advanced");
    CHECK_STR(tstr(rep, "delta", "status"), "cut_at_gate");
    led = json_object_get(json_object_get(team(rep, "alpha"), "gate"), "ledger");
    CHECK(json_is_true(json_object_get(led, "proven_from_scratch")));
    json_t *rp = json_object_get(led, "replay");
    CHECK_STR(json_string_value(json_object_get(rp, "status")), "pass");
    CHECK_EQ(json_integer_value(json_object_get(rp, "steps_replayed")), 12);
    json_t *ea = json_array_get(json_object_get(json_object_get(team(rep, "alpha"), "gate"), "derived_from"), 0);
    CHECK(ea);
    CHECK_STR(json_string_value(json_object_get(ea, "other")), "delta");
    CHECK(json_is_true(json_object_get(ea, "cleared")));
    size_t i;
    json_t *p;
    int attributed = 0;
    json_array_foreach(json_object_get(rep, "lineage"), i, p) if (json_is_true(json_object_get(p, "derived")) &&
                                                                  strcmp(json_string_value(json_object_get(p, "b")),
                                                                         "delta") == 0) attributed +=
        strcmp(json_string_value(json_object_get(p, "attributed_to")), "delta") == 0;
    CHECK_EQ(attributed, 1);
    /* the forged ledger fails verify and its replay */
    CHECK_STR(tstr(rep, "gamma", "status"), "cut_at_gate");
    led = json_object_get(json_object_get(team(rep, "gamma"), "gate"), "ledger");
    CHECK_STR(json_string_value(json_object_get(led, "verdict")), "fails");
    json_decref(rep);
    /* a dataset without a ledger is refused */
    write_round("replay_bad.json", NULL, "[{\"name\": \"alpha\", \"model\": \"alpha\", \"data\": \"alpha\"}]",
                NULL, NULL, "expert1.csv", "[{\"keep\": 1}]");
    char path[700];
    snprintf(path, sizeof path, "%s/expert1.csv", dir);
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs("alpha,0.5\n", f);
    fclose(f);
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/replay_bad.json -o %s_bad 2>&1", test_bin(), dir, o), 1);
    CHECK(strstr(out, "teams[0].data: a dataset is only used to check a ledger"));
}

static size_t count_of(const char *out, const char *what)
{
    const char *p = strstr(out, what);
    while (p && p > out && p[-1] != ' ')
        p--;
    return p ? (size_t)strtoul(p, NULL, 10) : (size_t)-1;
}

/* The cache: a re-run computes nothing, a round with one more team computes only that
 * team's work, and the report is the same bytes as one computed without the cache. */
TEST(select_cache_recomputes_only_what_is_new)
{
    CHECK(prepare() == 0);
    char out[16384], o[700], cache[700];
    snprintf(cache, sizeof cache, "%s/sel_cache", test_tmpdir());
    snprintf(o, sizeof o, "%s/sel_c", test_tmpdir());
    static const char T3[] = "[{\"name\": \"alpha\", \"model\": \"alpha\", \"ledger\": \"alpha\"},"
                             " {\"name\": \"beta\", \"model\": \"beta\"}, {\"name\": \"delta\", \"model\": \"delta\"}]";
    write_round("cache3.json", NULL, T3, NULL, NULL, "cache3.csv", "[{\"keep\": 2}]");
    write_round("cache4.json", NULL, TEAMS, NULL, NULL, "expert.csv", "[{\"keep\": 2}]");
    char path[700];
    snprintf(path, sizeof path, "%s/cache3.csv", dir);
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs("alpha,0.5\nbeta,0.7\ndelta,0.2\n", f);
    fclose(f);
    CHECK_EQ(test_run(out, sizeof out, "%s select %s/cache3.json -o %s1 --cache %s 2>&1", test_bin(), dir, o, cache), 0);
    size_t first = count_of(out, " misses");
    CHECK(first > 20);
    CHECK(count_of(out, " hits,") <= 5); /* only files hashed twice (a run directory holding the model) */
    CHECK_EQ(test_run(out, sizeof out, "%s select %s/cache3.json -o %s2 --cache %s 2>&1", test_bin(), dir, o, cache), 0);
    CHECK_EQ(count_of(out, " misses"), 0);
    CHECK(count_of(out, " hits,") >= first);
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/cache3.json -o %s3 --no-cache 2>&1 && cmp %s1/report.json "
                                       "%s2/report.json && cmp %s1/report.json %s3/report.json",
                      test_bin(), dir, o, o, o, o, o), 0);
    /* one more team (gamma): its 2 tasks, its model's record, its files and its 3 + 3
     * lineage tests (against the 3 known models, against each team) are new */
    CHECK_EQ(test_run(out, sizeof out, "%s select %s/cache4.json -o %s4 --cache %s 2>&1", test_bin(), dir, o, cache), 0);
    size_t m = count_of(out, " misses");
    CHECK(m >= 9 && m <= 14);
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/cache4.json -o %s5 --no-cache 2>&1 && cmp %s4/report.json "
                                       "%s5/report.json", test_bin(), dir, o, o, o), 0);
    /* a model changed in place is not served from the cache */
    CHECK_EQ(test_run(out, sizeof out, "cp -r %s/delta %s/delta_saved && %s model edit %s/delta_saved %s/delta_new "
                                       "--noise 0.05 >/dev/null && rm -rf %s/delta && mv %s/delta_new %s/delta && "
                                       "%s select %s/cache3.json -o %s6 --cache %s 2>&1",
                      dir, dir, test_bin(), dir, dir, dir, dir, dir, test_bin(), dir, o, cache), 0);
    CHECK(count_of(out, " misses") >= 5);
    json_t *a = load_report(o), *b;
    char o6[800];
    snprintf(o6, sizeof o6, "%s6", o);
    b = load_report(o6);
    snprintf(o6, sizeof o6, "%s1", o);
    json_decref(a);
    a = load_report(o6);
    CHECK(a && b);
    CHECK(strcmp(json_string_value(json_object_get(team(a, "delta"), "sha256")),
                 json_string_value(json_object_get(team(b, "delta"), "sha256"))) != 0);
    json_decref(a);
    json_decref(b);
    CHECK_EQ(test_run(out, sizeof out, "rm -rf %s/delta && mv %s/delta_saved %s/delta", dir, dir, dir), 0);
}

/* report.html in a real browser: headless Chromium loads it from disk (no network),
 * its DOM holds the title, the tables and the chart, and its screenshot shows the bars
 * and the red cut lines (an empty page, the control, shows nothing). CI installs
 * chromium; elsewhere the test says it is skipped. */
TEST_SLOW(select_report_renders_in_headless_chromium)
{
    char out[1 << 16];
    if (test_run(out, sizeof out, "command -v chromium && command -v node") != 0) {
        printf("    skipped: chromium or node is not installed (CI installs both)\n");
        return;
    }
    CHECK(prepare() == 0);
    char o[700], shot[800], blank[800];
    snprintf(o, sizeof o, "%s/sel_html", test_tmpdir());
    write_round("html.json", NULL, NULL, NULL, NULL, NULL, NULL);
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/html.json -o %s 2>&1", test_bin(), dir, o), 0);
    /* one browser profile per run, in the scratch directory; --no-sandbox: CI runs as root */
#define CHROME "timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars " \
               "--user-data-dir=%s/chrome --window-size=1280,1800 "
    CHECK_EQ(test_run(out, sizeof out, CHROME "--dump-dom file://%s/report.html 2>/dev/null", test_tmpdir(), o), 0);
    CHECK_CONTAINS(out, "<title>dokja select: round of 2026-12-01</title>");
    CHECK_CONTAINS(out, "id=\"ranking\"");
    CHECK_CONTAINS(out, "id=\"gate\"");
    CHECK_CONTAINS(out, "id=\"lineage\"");
    CHECK_CONTAINS(out, "<svg");
    CHECK_CONTAINS(out, "stage 1 cut line");
    CHECK_CONTAINS(out, "gamma");
    snprintf(shot, sizeof shot, "%s/report.png", o);
    snprintf(blank, sizeof blank, "%s/blank.png", o);
    CHECK_EQ(test_run(out, sizeof out, CHROME "--screenshot=%s file://%s/report.html 2>&1", test_tmpdir(), shot, o), 0);
    CHECK_EQ(test_run(out, sizeof out, CHROME "--screenshot=%s about:blank 2>&1", test_tmpdir(), blank), 0);
#undef CHROME
    CHECK_EQ(test_run(out, sizeof out, "node tests/node/png_stats.mjs %s 4a7bd0 aa0000", shot), 0);
    json_t *st = json_loads(out, 0, NULL);
    CHECK(st);
    CHECK_EQ(json_integer_value(json_object_get(st, "width")), 1280);
    CHECK(json_number_value(json_object_get(st, "nonwhite")) > 0.05);
    CHECK(json_integer_value(json_object_get(json_object_get(st, "counts"), "4a7bd0")) > 2000); /* the bars */
    CHECK(json_integer_value(json_object_get(json_object_get(st, "counts"), "aa0000")) > 200);  /* cut lines */
    json_decref(st);
    CHECK_EQ(test_run(out, sizeof out, "node tests/node/png_stats.mjs %s 4a7bd0", blank), 0);
    st = json_loads(out, 0, NULL);
    CHECK(st);
    CHECK(json_number_value(json_object_get(st, "nonwhite")) < 0.001);
    json_decref(st);
}

static void put(const char *name, const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Scores computed elsewhere (lm-evaluation-harness's results JSON) stand in for a task:
 * a task scored here takes a model's imported score when its results hold the task, and
 * a task only imported needs every team's and every counting reference's. */
TEST(select_imports_lm_evaluation_harness_results)
{
    CHECK(prepare() == 0);
    /* lm-eval 0.4 writes "acc,none" and n-samples; older versions "acc" */
    put("lm_alpha.json", "{\"results\": {\"kmmlu\": {\"acc,none\": 0.5, \"acc_stderr,none\": 0.01},"
                         " \"mc_task\": {\"acc,none\": 0.9}}, \"n-samples\": {\"kmmlu\": {\"original\": 300,"
                         " \"effective\": 300}}}");
    put("lm_beta.json", "{\"results\": {\"kmmlu\": {\"acc\": 0.3}}}");
    put("lm_delta.json", "{\"results\": {\"kmmlu\": {\"acc,none\": 0.55}}}");
    put("lm_gamma.json", "{\"results\": {\"kmmlu\": {\"acc,none\": 0.7}}}");
    put("lm_ref.json", "{\"results\": {\"kmmlu\": {\"acc,none\": 0.6}}}");
    put("lm_bad.json", "{\"config\": {}}");
    static const char T[] = "[{\"name\": \"alpha\", \"model\": \"alpha\", \"lm_eval_results\": \"lm_alpha.json\"},"
                            " {\"name\": \"beta\", \"model\": \"beta\", \"lm_eval_results\": \"lm_beta.json\"},"
                            " {\"name\": \"delta\", \"model\": \"delta\", \"lm_eval_results\": \"lm_delta.json\"},"
                            " {\"name\": \"gamma\", \"model\": \"gamma\", \"lm_eval_results\": \"%s\"}]";
    static const char REFS[] = "[{\"name\": \"ref_new\", \"model\": \"ref_new\", \"released\": \"2026-09-15\","
                               " \"lm_eval_results\": \"lm_ref.json\"},"
                               " {\"name\": \"ref_old\", \"model\": \"ref_old\", \"released\": \"2025-01-01\"}]";
    static const char GROUPS[] = "[{\"name\": \"national\", \"points\": 20, \"tasks\": [{\"spec\": \"mc.jsonl\","
                                 " \"lm_eval\": \"mc_task\"}, {\"lm_eval\": \"kmmlu\", \"metric\": \"acc\","
                                 " \"chance\": 0.25}]}, {\"name\": \"common\", \"points\": 10, \"tasks\":"
                                 " [\"text:text.txt\"]}]";
    char teams[1024], out[8192], o[700];
    snprintf(teams, sizeof teams, T, "lm_gamma.json");
    write_round("lm.json", NULL, teams, REFS, GROUPS, NULL, NULL);
    snprintf(o, sizeof o, "%s/sel_lm", test_tmpdir());
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/lm.json -o %s 2>&1", test_bin(), dir, o), 0);
    json_t *rep = load_report(o);
    CHECK(rep);
    json_t *ta = json_object_get(team(rep, "alpha"), "tasks"), *tb = json_object_get(team(rep, "beta"), "tasks");
    CHECK_EQ(json_array_size(ta), 3);
    /* alpha's multiple-choice score is its imported 0.9; beta's was computed here */
    CHECK(fabs(json_number_value(json_object_get(json_array_get(ta, 0), "score")) - 0.9) < 1e-12);
    CHECK_STR(json_string_value(json_object_get(json_array_get(ta, 0), "source")), "lm-evaluation-harness");
    CHECK_STR(json_string_value(json_object_get(json_array_get(tb, 0), "source")), "dokja");
    /* kmmlu: relative to the reference's 0.6 */
    CHECK(fabs(json_number_value(json_object_get(json_array_get(ta, 1), "relative")) - 0.5 / 0.6) < 1e-12);
    CHECK(fabs(json_number_value(json_object_get(json_array_get(tb, 1), "score")) - 0.3) < 1e-12);
    json_t *tk = json_array_get(json_object_get(rep, "tasks"), 1);
    CHECK_STR(json_string_value(json_object_get(tk, "lm_eval")), "kmmlu");
    CHECK(json_is_null(json_object_get(tk, "spec")));
    CHECK(fabs(json_number_value(json_object_get(tk, "chance")) - 0.25) < 1e-12);
    CHECK_EQ(json_array_size(json_object_get(tk, "imported")), 5);
    CHECK_EQ(json_integer_value(json_object_get(tk, "n")), 300); /* alpha's n-samples (the first team) */
    json_decref(rep);
    /* a team without the imported task, and a file that is not lm-eval's */
    snprintf(teams, sizeof teams, T, "lm_ref.json\"}, {\"name\": \"eps\", \"model\": \"beta");
    write_round("lm_missing.json", NULL, teams, REFS, GROUPS, "lm_csv5.csv", NULL);
    put("lm_csv5.csv", "alpha,0.1\nbeta,0.2\ndelta,0.3\ngamma,0.4\neps,0.5\n");
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/lm_missing.json -o %s_m 2>&1", test_bin(), dir, o), 1);
    CHECK_CONTAINS(out, "team 'eps' has no lm_eval_results, and task \"kmmlu\" is only imported");
    snprintf(teams, sizeof teams, T, "lm_bad.json");
    write_round("lm_bad.json.round", NULL, teams, REFS, GROUPS, NULL, NULL);
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/lm_bad.json.round -o %s_b 2>&1", test_bin(), dir, o), 1);
    CHECK_CONTAINS(out, "lm_bad.json: not lm-evaluation-harness results (no \"results\" object)");
    CHECK_EQ(test_run(out, sizeof out, "test ! -e %s_m && test ! -e %s_b", o, o), 0);
}

/* A round split in parts (separate machines, each with its own cache, merged after), and
 * over MPI ranks: the last run computes nothing and writes the bytes of a single run. */
TEST(select_parts_and_mpi_ranks_give_the_single_run_report)
{
    CHECK(prepare() == 0);
    char out[16384], o[700];
    snprintf(o, sizeof o, "%s/sel_parts", test_tmpdir());
    write_round("parts.json", NULL, NULL, NULL, NULL, NULL, NULL);
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/parts.json -o %s_single --no-cache 2>&1", test_bin(), dir, o), 0);
    for (int k = 0; k < 3; k++)
        CHECK_EQ(test_run(out, sizeof out, "%s select %s/parts.json --part %d/3 --cache %s_c%d 2>&1", test_bin(), dir, k,
                          o, k), 0);
    CHECK_CONTAINS(out, "part 2/3: done");
    CHECK(count_of(out, " misses") > 5);
    /* merged caches: nothing left to compute */
    CHECK_EQ(test_run(out, sizeof out, "mkdir -p %s_all && cp -r %s_c0/. %s_c1/. %s_c2/. %s_all/ && "
                                       "%s select %s/parts.json -o %s_merged --cache %s_all 2>&1",
                      o, o, o, o, o, test_bin(), dir, o, o), 0);
    CHECK_EQ(count_of(out, " misses"), 0);
    CHECK_EQ(test_run(out, sizeof out, "cmp %s_single/report.json %s_merged/report.json", o, o), 0);
    CHECK_EQ(test_run(out, sizeof out, "%s select %s/parts.json --part 3/3 2>&1", test_bin(), dir), 2);
    /* two MPI ranks sharing one cache */
    CHECK_EQ(test_run(out, sizeof out, "ASAN_OPTIONS=detect_leaks=0 mpirun -x ASAN_OPTIONS -n 2 --oversubscribe "
                                       "--allow-run-as-root --mca btl self,vader %s select -q %s/parts.json -o %s_mpi "
                                       "--cache %s_mpicache 2>&1 && cmp %s_single/report.json %s_mpi/report.json",
                      test_bin(), dir, o, o, o, o), 0);
}

/* The scheme's team-chosen group: each team's own benchmarks against the model it states
 * as its target (a reference or any known model, counting or not). */
TEST(select_team_chosen_benchmarks_score_against_the_stated_target)
{
    CHECK(prepare() == 0);
    static const char T[] =
        "[{\"name\": \"alpha\", \"model\": \"alpha\", \"chosen\": {\"target\": \"ref_new\", \"tasks\": [\"mc.jsonl\"]}},"
        " {\"name\": \"beta\", \"model\": \"beta\", \"chosen\": {\"target\": \"foreign\","
        " \"tasks\": [\"text:text.txt\", \"mc.jsonl\"]}},"
        " {\"name\": \"delta\", \"model\": \"delta\", \"chosen\": {\"target\": \"%s\", \"tasks\": [\"mc.jsonl\"]}},"
        " {\"name\": \"gamma\", \"model\": \"gamma\"%s}]";
    static const char G[] = "[{\"name\": \"national\", \"points\": 20, \"tasks\": [\"mc.jsonl\"]},"
                            " {\"name\": \"common\", \"points\": 10, \"tasks\": [\"text:text.txt\"]},"
                            " {\"name\": \"own\", \"points\": 10, \"team_chosen\": true}]";
    char teams[2048], out[8192], o[700];
    snprintf(teams, sizeof teams, T, "ref_old",
             ", \"chosen\": {\"target\": \"ref_new\", \"tasks\": [\"text:text.txt\"]}");
    write_round("chosen.json", NULL, teams, NULL, G, NULL, NULL);
    snprintf(o, sizeof o, "%s/sel_chosen", test_tmpdir());
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/chosen.json -o %s 2>&1", test_bin(), dir, o), 0);
    json_t *rep = load_report(o);
    CHECK(rep);
    /* alpha's own task is mc.jsonl against ref_new: the same scores as the national group's */
    json_t *ta = json_object_get(team(rep, "alpha"), "tasks"), *own = json_array_get(ta, 2);
    CHECK_STR(json_string_value(json_object_get(own, "group")), "own");
    CHECK_STR(json_string_value(json_object_get(own, "target")), "ref_new");
    json_t *mc = json_array_get(json_object_get(rep, "tasks"), 0);
    CHECK(json_number_value(json_object_get(own, "target_score")) ==
          json_number_value(json_object_get(json_object_get(mc, "reference_scores"), "ref_new")));
    CHECK(json_number_value(json_object_get(own, "score")) ==
          json_number_value(json_object_get(json_array_get(ta, 0), "score")));
    json_t *gown = json_array_get(json_object_get(team(rep, "alpha"), "groups"), 2);
    CHECK_STR(json_string_value(json_object_get(gown, "group")), "own");
    CHECK(json_number_value(json_object_get(gown, "relative")) == json_number_value(json_object_get(own, "relative")));
    /* beta: two tasks against a known model that is not a reference; the group is their mean */
    json_t *tb = json_object_get(team(rep, "beta"), "tasks");
    CHECK_EQ(json_array_size(tb), 4);
    CHECK_STR(json_string_value(json_object_get(json_array_get(tb, 3), "target")), "foreign");
    double r2 = json_number_value(json_object_get(json_array_get(tb, 2), "relative")),
           r3 = json_number_value(json_object_get(json_array_get(tb, 3), "relative"));
    json_t *gb = json_array_get(json_object_get(team(rep, "beta"), "groups"), 2);
    CHECK(fabs(json_number_value(json_object_get(gb, "relative")) - (r2 + r3) / 2) < 1e-12);
    /* delta's target, ref_old, is too old to count as a reference but can be a team's target */
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(team(rep, "delta"), "tasks"), 2),
                                                "target")), "ref_old");
    json_decref(rep);
    /* an unknown target, and a team without chosen tasks */
    snprintf(teams, sizeof teams, T, "nobody", ", \"chosen\": {\"target\": \"ref_new\", \"tasks\": [\"mc.jsonl\"]}");
    write_round("chosen_bad1.json", NULL, teams, NULL, G, NULL, NULL);
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/chosen_bad1.json -o %s_b 2>&1", test_bin(), dir, o), 1);
    CHECK_CONTAINS(out, "teams[2].chosen.target: 'nobody' is not a reference or known model");
    snprintf(teams, sizeof teams, T, "ref_new", "");
    write_round("chosen_bad2.json", NULL, teams, NULL, G, NULL, NULL);
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s/chosen_bad2.json -o %s_b 2>&1", test_bin(), dir, o), 1);
    CHECK_CONTAINS(out, "teams[3]: no \"chosen\" tasks, and scheme has a team_chosen group");
}

TEST(select_refuses_bad_rounds_with_one_line_and_writes_nothing)
{
    CHECK(prepare() == 0);
    char path[700];
    snprintf(path, sizeof path, "%s/bad_unknown.csv", dir);
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs("team,score\nalpha,0.5\nbeta,0.7\nzeta,0.2\ngamma,0.9\ndelta,0.1\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/bad_range.csv", dir);
    f = fopen(path, "w");
    CHECK(f);
    fputs("alpha,0.5\nbeta,1.5\ndelta,0.2\ngamma,0.9\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/bad_row.jsonl", dir);
    f = fopen(path, "w");
    CHECK(f);
    fputs("{\"context\": \"a\", \"choices\": [\" b\", \" c\"], \"gold\": 0}\n{\"context\": \"a\", \"choices\": [\" b\"], "
          "\"gold\": 3}\n",
          f);
    fclose(f);
    static const struct {
        const char *file, *date, *teams, *refs, *groups, *csv, *stages, *expect;
    } cases[] = {
        {"dup.json", NULL,
         "[{\"name\": \"alpha\", \"model\": \"alpha\"}, {\"name\": \"alpha\", \"model\": \"beta\"}]", NULL, NULL,
         NULL, "[{\"keep\": 1}]", "dup.json: teams[1].name: duplicate team name 'alpha'"},
        {"missing.json", NULL,
         "[{\"name\": \"alpha\", \"model\": \"alpha\"}, {\"name\": \"beta\", \"model\": \"no_such_model\"}]", NULL,
         NULL, NULL, "[{\"keep\": 1}]", "missing.json: teams[1].model: no_such_model: No such file or directory"},
        {"unknown.json", NULL, NULL, NULL, NULL, "bad_unknown.csv", NULL, "bad_unknown.csv:4: unknown team 'zeta'"},
        {"range.json", NULL, NULL, NULL, NULL, "bad_range.csv", NULL,
         "bad_range.csv:2: team 'beta': score '1.5' is not a number in [0, 1]"},
        {"keep.json", NULL, NULL, NULL, NULL, NULL, "[{\"keep\": 3}, {\"keep\": 4}]",
         "keep.json: stages[1].keep: keeps 4 teams but only 3 remain"},
        {"keep0.json", NULL, NULL, NULL, NULL, NULL, "[{\"keep\": 5}]",
         "keep0.json: stages[0].keep: keeps 5 teams but only 4 remain"},
        {"date.json", "2026-13-01", NULL, NULL, NULL, NULL, NULL,
         "date.json: evaluation_date: '2026-13-01' is not a date YYYY-MM-DD"},
        {"rdate.json", NULL, NULL, "[{\"name\": \"ref_new\", \"model\": \"ref_new\", \"released\": \"2026-02-30\"}]",
         NULL, NULL, NULL, "rdate.json: references[0].released: '2026-02-30' is not a date YYYY-MM-DD"},
        {"row.json", NULL, NULL, NULL, "[{\"name\": \"g\", \"points\": 10, \"tasks\": [\"bad_row.jsonl\"]}]", NULL,
         NULL, "row.json: scheme.groups[0].tasks[0]: "},
        {"ovr.json", NULL, NULL, NULL, NULL, NULL, "[{\"keep\": 2, \"overrides\": {\"zeta\": \"advance\"}}]",
         "ovr.json: stages[0].overrides.zeta: unknown team"},
        {"key.json", NULL, "[{\"name\": \"alpha\", \"model\": \"alpha\", \"colour\": \"red\"}]", NULL, NULL, NULL,
         "[{\"keep\": 1}]", "key.json: teams[0].colour: unknown key"},
        {"noref.json", NULL, NULL, "[{\"name\": \"ref_old\", \"model\": \"ref_old\", \"released\": \"2025-01-01\"}]",
         NULL, NULL, NULL, "noref.json: references: none was released in the 6 months before 2026-12-01"},
    };
    char out[4096], o[700];
    snprintf(o, sizeof o, "%s/sel_bad_out", test_tmpdir());
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_round(cases[i].file, cases[i].date, cases[i].teams, cases[i].refs, cases[i].groups, cases[i].csv,
                    cases[i].stages);
        CHECK_MSG(test_run(out, sizeof out, "%s select -q %s/%s -o %s 2>&1", test_bin(), dir, cases[i].file, o) == 1,
                  "%s: %s", cases[i].file, out);
        CHECK_CONTAINS(out, cases[i].expect);
        CHECK_MSG(strchr(out, '\n') == out + strlen(out) - 1, "%s: not one line: %s", cases[i].file, out);
        CHECK_EQ(test_run(NULL, 0, "test -e %s", o), 1);
    }
    /* a JSON syntax error names the line */
    snprintf(path, sizeof path, "%s/syntax.json", dir);
    f = fopen(path, "w");
    CHECK(f);
    fputs("{\n \"evaluation_date\": \"2026-12-01\",\n \"teams\": [,]\n}\n", f);
    fclose(f);
    CHECK_EQ(test_run(out, sizeof out, "%s select -q %s -o %s 2>&1", test_bin(), path, o), 1);
    CHECK_CONTAINS(out, "syntax.json:3: ");
    CHECK_EQ(test_run(NULL, 0, "test -e %s", o), 1);
    CHECK_EQ(test_run(out, sizeof out, "%s select %s 2>&1", test_bin(), path), 2); /* no -o */
    CHECK_EQ(test_run(out, sizeof out, "%s select %s -o %s --limit 0 2>&1", test_bin(), path, o), 2);
    CHECK_EQ(test_run(out, sizeof out, "%s select --help", test_bin()), 0);
    CHECK_CONTAINS(out, "usage: dokja select ROUND.json -o DIR");
    CHECK_EQ(test_run(out, sizeof out, "%s --help", test_bin()), 0);
    CHECK_CONTAINS(out, "select");
}
