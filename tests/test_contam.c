/* test_contam.c: near-duplicate removal wired into `dokja data build`, benchmark
 * contamination (`dokja data contamination`, `--decontaminate`) and the n-gram matcher. */
#include <jansson.h>
#include <stdlib.h>

#include "data/contam.h"
#include "eval/task.h"
#include "test.h"

#define SHARED "../shared/data/"
#define COPA "kobest_copa:" SHARED "eval_kobest/COPA_dev.tsv"

static json_t *load_json(const char *path)
{
    json_error_t je;
    return json_load_file(path, 0, &je);
}

static long long jget(json_t *o, const char *a, const char *b)
{
    json_t *x = json_object_get(o, a);
    if (b)
        x = json_object_get(x, b);
    return json_is_integer(x) ? json_integer_value(x) : -1;
}

static json_t *source_of(json_t *man, size_t i) { return json_array_get(json_object_get(man, "sources"), i); }

/* A small tokenizer trained once on the Korean and English text the tests use. */
static const char *tokenizer(void)
{
    static char path[600];
    if (path[0])
        return path;
    snprintf(path, sizeof path, "%s/ct_tok.json", test_tmpdir());
    if (test_run(NULL, 0, "%s tokenizer train -q --vocab-size 400 -o %s " SHARED "ko_nsmc/nsmc_dev_00.txt >/dev/null 2>&1",
                 test_bin(), path) != 0)
        path[0] = 0;
    return path;
}

TEST(contam_matcher_finds_long_ngrams_and_ignores_spacing_and_case)
{
    contam *c = contam_new(13, 50);
    CHECK(c);
    const char *ko = "전쟁이 시작되었다 그래서 병사들이 전투에 파견되었다.";
    const char *en = "The quick brown fox jumps over the lazy dog while the farmer sleeps under a tree "
                     "in the afternoon sun.";
    CHECK_EQ(contam_add_item(c, 0, 0, ko, strlen(ko)), 0);
    CHECK_EQ(contam_add_item(c, 0, 1, en, strlen(en)), 0);
    CHECK_EQ(contam_task_char_items(c, 0), 1); /* Korean by characters, English by words */
    dk_err err;
    CHECK_EQ(contam_finish(c, &err), 0);
    contam_scratch s = {0};
    /* a short Korean item must occur whole; spacing, punctuation and case do not matter */
    const char *t1 = "어제 뉴스: 전쟁이 시작되었다, 그래서 병사들이전투에 파견되었다! 끝.";
    CHECK(contam_scan(c, t1, strlen(t1), &s, NULL, NULL) > 0);
    const char *t2 = "전쟁이 시작되었다 그래서 병사들이 집으로 돌아왔다.";
    CHECK_EQ(contam_scan(c, t2, strlen(t2), &s, NULL, NULL), 0);
    /* 13 consecutive words of the English item, in other text and in capitals */
    const char *t3 = "Yesterday THE QUICK brown fox jumps over the lazy dog, while the farmer sleeps under "
                     "a bridge.";
    CHECK(contam_scan(c, t3, strlen(t3), &s, NULL, NULL) > 0);
    const char *t4 = "the quick brown fox jumps over the lazy dog while the farmer"; /* 12 words */
    CHECK_EQ(contam_scan(c, t4, strlen(t4), &s, NULL, NULL), 0);
    contam_scratch_free(&s);
    contam_free(c);
}

/* Writes a training source: the first 3,000 NSMC reviews of a dev file with the text
 * (context + gold choice) of COPA dev items 0..49 placed among them, one per 60 lines. */
static const char *planted_source(void)
{
    static char path[600];
    if (path[0])
        return path;
    mc_task t;
    dk_err err;
    if (mc_task_open(&t, COPA, &err) != 0)
        return NULL;
    FILE *in = fopen(SHARED "ko_nsmc/nsmc_dev_01.txt", "r");
    snprintf(path, sizeof path, "%s/ct_planted.txt", test_tmpdir());
    FILE *out = fopen(path, "w");
    char line[8192];
    int k = 0, planted = 0;
    while (in && out && k < 3000 && fgets(line, sizeof line, in)) {
        fputs(line, out);
        if (k++ % 60 == 0 && planted < 50) {
            const mc_item *it = &t.items[planted++];
            fprintf(out, "%s%s\n", it->context, it->choices[it->gold]);
        }
    }
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    mc_task_free(&t);
    if (planted != 50)
        path[0] = 0;
    return path[0] ? path : NULL;
}

TEST(contam_planted_kobest_items_are_all_found_without_false_hits)
{
    const char *tp = tokenizer(), *src = planted_source();
    CHECK(tp[0] && src);
    char ds[600], out[1 << 16];
    snprintf(ds, sizeof ds, "%s/ct_planted_ds", test_tmpdir());
    CHECK_EQ(test_run(NULL, 0, "%s data build -q -t %s -o %s %s " SHARED "ko_nsmc/nsmc_dev_02.txt >/dev/null",
                      test_bin(), tp, ds, src), 0);
    CHECK_EQ(test_run(out, sizeof out, "%s data contamination %s --task " COPA " --json", test_bin(), ds), 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    CHECK(j);
    json_t *t0 = json_array_get(json_object_get(j, "tasks"), 0);
    CHECK_EQ(jget(t0, "n", NULL), 500);
    json_t *ci = json_object_get(t0, "contaminated");
    CHECK_EQ(json_array_size(ci), 50);
    for (size_t i = 0; i < json_array_size(ci); i++)
        CHECK_EQ(json_integer_value(json_array_get(ci, i)), (long long)i); /* items 0..49, no other */
    json_t *w0 = json_array_get(json_object_get(t0, "where"), 0);
    CHECK_STR(json_string_value(json_object_get(w0, "source")), "ct_planted");
    CHECK(strncmp(json_string_value(json_object_get(w0, "excerpt")), "전쟁이 시작되었다", 10) == 0);
    json_decref(j);
    /* the human-readable report names the source and document */
    CHECK_EQ(test_run(out, sizeof out, "%s data contamination %s --task " COPA, test_bin(), ds), 0);
    CHECK_CONTAINS(out, "50 of 500 items contaminated");
    CHECK_CONTAINS(out, "item 49: ct_planted");
}

TEST(contam_decontaminate_drops_exactly_the_planted_documents)
{
    const char *tp = tokenizer(), *src = planted_source();
    CHECK(tp[0] && src);
    char ds[600], mp[700], out[1 << 16];
    snprintf(ds, sizeof ds, "%s/ct_decont_ds", test_tmpdir());
    CHECK_EQ(test_run(NULL, 0, "%s data build -q -t %s -o %s --decontaminate " COPA " %s "
                      SHARED "ko_nsmc/nsmc_dev_02.txt >/dev/null", test_bin(), tp, ds, src), 0);
    snprintf(mp, sizeof mp, "%s/manifest.json", ds);
    json_t *m = load_json(mp);
    CHECK(m);
    CHECK_EQ(jget(source_of(m, 0), "dropped", "contaminated"), 50);
    CHECK_EQ(jget(source_of(m, 1), "dropped", "contaminated"), 0);
    CHECK(jget(source_of(m, 0), "dropped_tokens", "contaminated") > 50);
    json_t *dc = json_object_get(m, "decontaminate");
    CHECK_EQ(jget(dc, "word_ngram", NULL), 13);
    CHECK_EQ(jget(dc, "char_ngram", NULL), 50);
    CHECK_EQ(jget(json_array_get(json_object_get(dc, "tasks"), 0), "items", NULL), 500);
    /* kept + every reason = documents read */
    json_t *s0 = source_of(m, 0);
    long long sum = jget(s0, "kept", "documents");
    const char *reasons[] = {"exact_duplicate", "empty", "near_duplicate", "contaminated"};
    for (int r = 0; r < 4; r++)
        sum += jget(s0, "dropped", reasons[r]);
    CHECK_EQ(sum, jget(s0, "documents", NULL));
    json_decref(m);
    /* what is left holds no item */
    CHECK_EQ(test_run(out, sizeof out, "%s data contamination %s --task " COPA " --json", test_bin(), ds), 0);
    CHECK_CONTAINS(out, "\"contaminated\":[]");
    /* without near-duplicate removal (one pass) the same 50 go, on 1 and 2 threads alike */
    for (int th = 1; th <= 2; th++) {
        CHECK_EQ(test_run(NULL, 0, "%s data build -q -t %s -o %s_1p%d --no-near-dup --threads %d --decontaminate "
                          COPA " %s " SHARED "ko_nsmc/nsmc_dev_02.txt >/dev/null", test_bin(), tp, ds, th, th, src), 0);
        snprintf(mp, sizeof mp, "%s_1p%d/manifest.json", ds, th);
        m = load_json(mp);
        CHECK(m);
        CHECK_EQ(jget(source_of(m, 0), "dropped", "contaminated"), 50);
        CHECK_EQ(jget(source_of(m, 1), "dropped", "contaminated"), 0);
        json_decref(m);
    }
    CHECK_EQ(test_run(NULL, 0, "diff -r %s_1p1 %s_1p2 >/dev/null", ds, ds), 0);
}

/* Near-copies of documents of source a in source b: dropped from b, counted per source
 * and partner; --no-near-dup keeps them; 1 and 2 threads give the same bytes. */
TEST(contam_near_dup_drops_copies_across_sources_and_counts_them)
{
    const char *tp = tokenizer();
    CHECK(tp[0]);
    static const char *docs[] = {
        "대한민국의 수도는 서울이며 인구는 약 천만 명으로 나라에서 가장 큰 도시이고 한강이 도시를 가로질러 흐른다.",
        "The committee met on Tuesday to discuss the budget for the coming year and agreed to raise funding for schools.",
        "부산은 대한민국 제2의 도시로 해운대 해수욕장과 자갈치 시장이 유명하며 매년 가을 국제 영화제가 열린다.",
        "In the spring the river floods the valley and the farmers move their animals to the higher pastures for weeks."};
    static const char *copies[] = {
        "대한민국의 수도는 서울이며 인구는 약 천만 명으로 나라에서 가장 큰 도시이고, 한강이 도시를 가로질러 흐른다!",
        "The committee met on Tuesday to discuss the budget for the coming year, and agreed to raise funding for schools",
        "부산은 대한민국 제2의 도시로 해운대 해수욕장과 자갈치 시장이 유명하며 매년 가을 국제 영화제가 열린다",
        "Completely different text about a cat that sat on a warm mat near the kitchen window all afternoon."};
    char a[4096] = "", b[4096] = "";
    for (int i = 0; i < 4; i++) {
        strcat(a, docs[i]);
        strcat(a, "\n");
        strcat(b, copies[i]);
        strcat(b, "\n");
    }
    test_write_file("nd_a.txt", a, strlen(a));
    test_write_file("nd_b.txt", b, strlen(b));
    const char *js = "{\"sources\": [{\"path\": \"nd_a.txt\", \"partner\": \"p1\", \"licence\": \"CC0-1.0\"},"
                     " {\"path\": \"nd_b.txt\", \"partner\": \"p2\", \"licence\": \"CC0-1.0\"}]}\n";
    const char *sf = test_write_file("nd_sources.json", js, strlen(js));
    char sfp[600];
    snprintf(sfp, sizeof sfp, "%s", sf);
    const char *dirs[3] = {"nd_t1", "nd_t2", "nd_off"};
    const char *extra[3] = {"--threads 1", "--threads 2", "--threads 2 --no-near-dup"};
    const char *T = test_tmpdir();
    for (int k = 0; k < 3; k++)
        CHECK_EQ(test_run(NULL, 0, "%s data build -q -t %s -o %s/%s --sources %s %s --val-fraction 0 >/dev/null",
                          test_bin(), tp, T, dirs[k], sfp, extra[k]), 0);
    CHECK_EQ(test_run(NULL, 0, "diff -r %s/nd_t1 %s/nd_t2 >/dev/null", T, T), 0);
    char mp[700];
    snprintf(mp, sizeof mp, "%s/nd_t2/manifest.json", test_tmpdir());
    json_t *m = load_json(mp);
    CHECK(m);
    CHECK_EQ(jget(source_of(m, 0), "dropped", "near_duplicate"), 0);
    CHECK_EQ(jget(source_of(m, 1), "dropped", "near_duplicate"), 3);
    CHECK_EQ(jget(source_of(m, 1), "kept", "documents"), 1);
    CHECK(jget(source_of(m, 1), "dropped_tokens", "near_duplicate") > 30);
    CHECK_EQ(jget(json_object_get(json_object_get(m, "partners"), "p2"), "dropped", "near_duplicate"), 3);
    json_t *nd = json_object_get(m, "near_dup");
    CHECK_EQ(jget(nd, "n", NULL), 5);
    CHECK_EQ(jget(nd, "hashes", NULL), 112);
    CHECK_EQ(jget(nd, "bands", NULL), 14);
    CHECK_EQ(jget(nd, "rows", NULL), 8);
    CHECK_STR(json_string_value(json_object_get(nd, "shingles")), "characters");
    CHECK(json_real_value(json_object_get(nd, "threshold")) == 0.8);
    json_decref(m);
    snprintf(mp, sizeof mp, "%s/nd_off/manifest.json", test_tmpdir());
    m = load_json(mp);
    CHECK(m);
    CHECK(json_is_null(json_object_get(m, "near_dup")));
    CHECK_EQ(jget(source_of(m, 1), "dropped", "near_duplicate"), 0);
    CHECK_EQ(jget(source_of(m, 1), "kept", "documents"), 4);
    json_decref(m);
    /* --near-dup J sets the threshold; 0 turns it off; out of range is refused */
    char out[4096];
    CHECK_EQ(test_run(NULL, 0, "%s data build -q -t %s -o %s/nd_j --near-dup 0.95 %s/nd_a.txt %s/nd_b.txt >/dev/null",
                      test_bin(), tp, T, T, T), 0);
    snprintf(mp, sizeof mp, "%s/nd_j/manifest.json", test_tmpdir());
    m = load_json(mp);
    CHECK(m);
    CHECK(json_real_value(json_object_get(json_object_get(m, "near_dup"), "threshold")) == 0.95);
    json_decref(m);
    CHECK_EQ(test_run(out, sizeof out, "%s data build -q -t %s -o %s/nd_bad --near-dup 1.5 %s/nd_a.txt 2>&1",
                      test_bin(), tp, T, T), 2);
    CHECK_CONTAINS(out, "--near-dup");
}

TEST(contam_eval_exclude_contaminated_scores_the_clean_items_too)
{
    const char *tp = tokenizer(), *src = planted_source();
    CHECK(tp[0] && src);
    const char *T = test_tmpdir();
    const char *cfg = "{\"hidden_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
                      " \"intermediate_size\": 64, \"vocab_size\": 400, \"max_position_embeddings\": 256}";
    char cfgp[600], out[1 << 16];
    snprintf(cfgp, sizeof cfgp, "%s", test_write_file("ct_cfg.json", cfg, strlen(cfg)));
    /* a model of two steps: what is tested is which items are scored, not how well */
    CHECK_EQ(test_run(NULL, 0, "%s data build -q -t %s -o %s/ct_eval_ds %s >/dev/null && "
                      "%s train -q --data %s/ct_eval_ds --model %s -o %s/ct_run --steps 2 --batch-size 2 "
                      "--micro-batch 2 --seq-len 32 --threads 2 >/dev/null 2>&1",
                      test_bin(), tp, T, src, test_bin(), T, cfgp, T), 0);
    CHECK_EQ(test_run(out, sizeof out, "%s eval -q -m %s/ct_run --task " COPA " --limit 100 "
                      "--exclude-contaminated %s/ct_eval_ds --json", test_bin(), T, T), 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    CHECK_MSG(j, "%s", out);
    json_t *t0 = json_array_get(json_object_get(j, "tasks"), 0);
    CHECK_EQ(jget(t0, "n", NULL), 100);
    json_t *clean = json_object_get(t0, "clean");
    CHECK_EQ(jget(clean, "n", NULL), 50); /* items 0..49 were planted */
    json_t *ci = json_object_get(clean, "contaminated");
    CHECK_EQ(json_array_size(ci), 50);
    CHECK_EQ(json_integer_value(json_array_get(ci, 49)), 49);
    double acc = json_real_value(json_object_get(clean, "acc"));
    CHECK(acc >= 0 && acc <= 1);
    json_decref(j);
    CHECK_EQ(test_run(out, sizeof out, "%s eval -q -m %s/ct_run --task " COPA " --limit 100 "
                      "--exclude-contaminated %s/ct_eval_ds", test_bin(), T, T), 0);
    CHECK_CONTAINS(out, "n 50 clean: 50 contaminated left out");
}

/* A long document is scanned in overlapping pieces: an item across a piece's end, or
 * at the very end, is found; memory stays bounded. */
TEST(contam_long_documents_are_scanned_in_overlapping_pieces)
{
    contam *c = contam_new(0, 0);
    CHECK(c);
    const char *item = "척후병들이 촉각을 날카롭게 해 가지고 밤을 지키는 접적 지구를 나그네는 홀로 가고 있었다.";
    CHECK_EQ(contam_add_item(c, 0, 0, item, strlen(item)), 0);
    dk_err err;
    CHECK_EQ(contam_finish(c, &err), 0);
    char padded[256]; /* a short item must occur whole: from a word's start to a word's end */
    snprintf(padded, sizeof padded, " %s ", item);
    size_t n = 3u << 20, il = strlen(padded);
    char *t = malloc(n);
    CHECK(t);
    for (size_t i = 0; i < n; i++)
        t[i] = "abc de "[i % 7];
    contam_scratch s = {0};
    CHECK_EQ(contam_scan(c, t, n, &s, NULL, NULL), 0);
    size_t at[3] = {(1u << 20) - il / 2, (2u << 20) - 40, n - il};
    for (int k = 0; k < 3; k++) {
        memcpy(t + at[k], padded, il);
        CHECK_MSG(contam_scan(c, t, n, &s, NULL, NULL) > 0, "item at %zu", at[k]);
        for (size_t i = at[k]; i < at[k] + il; i++)
            t[i] = "abc de "[i % 7];
    }
    CHECK(s.cap_c <= (1u << 20) + 1); /* the scratch holds one piece, not the text */
    contam_scratch_free(&s);
    free(t);
    contam_free(c);
}
