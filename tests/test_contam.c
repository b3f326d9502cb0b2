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
    const char *reasons[] = {"exact_duplicate", "empty", "near_duplicate", "contaminated", "too_short",
                             "quality", "repetition"};
    for (int r = 0; r < 7; r++)
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

/* Three sources whose documents hold the same items more than once, shards of 16 ids
 * (most documents continue across a shard boundary), scanned on 1, 2 and 3 threads in
 * blocks of 1 id (one document each), 7 ids and the default: the first occurrence is
 * the lowest (source, split, document) and the counts are those of the text. */
static const char *const CS_KO = "척후병들이 촉각을 날카롭게 해 가지고 밤을 지키는 접적 지구를 나그네는 홀로 가고 있었다";
static const char *const CS_EN = "the old lighthouse keeper walked down the narrow stone stairs every night to light the "
                                 "lamp for passing ships";
static const char *const CS_NONE = "이 문장은 어느 문서에도 나오지 않는 시험 항목이다";

static int cs_scan(const char *ds, int threads, uint64_t block, contam_where *w[2], contam_stats *st)
{
    contam *c = contam_new(0, 0);
    dk_err err;
    if (!c)
        return -1;
    int rc = contam_add_item(c, 0, 0, CS_KO, strlen(CS_KO)) || contam_add_item(c, 0, 1, CS_EN, strlen(CS_EN)) ||
             contam_add_item(c, 1, 0, CS_NONE, strlen(CS_NONE));
    if (rc == 0)
        rc = contam_finish(c, &err);
    memset(w[0], 0, 2 * sizeof *w[0]);
    memset(w[1], 0, sizeof *w[1]);
    contam_set_block_tokens(block);
    if (rc == 0)
        rc = contam_scan_dataset(c, ds, w, threads, NULL, NULL, st, &err);
    contam_set_block_tokens(0);
    contam_free(c);
    return rc;
}

TEST(contam_dataset_scan_same_first_occurrences_on_any_thread_count)
{
    const char *tp = tokenizer();
    CHECK(tp[0]);
    char ko[512], en[512], ko2[512], en2[512], ko3[512], en3[512];
    snprintf(ko, sizeof ko, "어제 읽은 소설의 한 구절: %s. 오래 기억에 남았다.", CS_KO);
    snprintf(en, sizeof en, "From a story: %s, and he never missed one.", CS_EN);
    snprintf(ko2, sizeof ko2, "%s", CS_KO);
    snprintf(en2, sizeof en2, "Again, %s.", CS_EN);
    snprintf(ko3, sizeof ko3, "세 번째 출처에서 또: %s", CS_KO);
    snprintf(en3, sizeof en3, "Third time: %s!", CS_EN);
    /* source 0: the English item first in document 2; source 1: the Korean item in
     * documents 0 and 3, the English one in 2; source 2: both again (every document
     * different: exact duplicates would be dropped) */
    const char *docs[3][4] = {{"첫 번째 문서는 날씨 이야기다. 오늘은 맑고 바람이 분다.",
                               "The second document is about cooking rice with a little salt.", en,
                               "마지막 문서는 짧다."},
                              {ko, "Nothing to see here, only a few ordinary words.", en2, ko2},
                              {"세 번째 출처의 첫 문서.", ko3, en3}};
    const char *names[3] = {"cs_a.txt", "cs_b.txt", "cs_c.txt"};
    char paths[3][600], text[4096];
    uint64_t bytes = 0;
    for (int s = 0; s < 3; s++) {
        text[0] = 0;
        for (int d = 0; d < 4 && docs[s][d]; d++) {
            strcat(text, docs[s][d]);
            strcat(text, "\n");
            bytes += strlen(docs[s][d]);
        }
        snprintf(paths[s], sizeof paths[s], "%s", test_write_file(names[s], text, strlen(text)));
    }
    char ds[600], ds_val[600];
    snprintf(ds, sizeof ds, "%s/cs_ds", test_tmpdir());
    snprintf(ds_val, sizeof ds_val, "%s/cs_ds_val", test_tmpdir());
    CHECK_EQ(test_run(NULL, 0, "%s data build -q -t %s -o %s --shard-tokens 16 --val-fraction 0 --no-near-dup "
                      "--no-scrub %s %s %s >/dev/null", test_bin(), tp, ds, paths[0], paths[1], paths[2]), 0);
    CHECK_EQ(test_run(NULL, 0, "%s data build -q -t %s -o %s --shard-tokens 16 --val-fraction 0.5 --no-near-dup "
                      "--no-scrub %s %s %s >/dev/null", test_bin(), tp, ds_val, paths[0], paths[1], paths[2]), 0);
    char sp[700];
    snprintf(sp, sizeof sp, "%s/manifest.json", ds);
    json_t *m = load_json(sp);
    CHECK(m);
    CHECK_EQ(jget(source_of(m, 1), "documents", NULL), 4);
    json_decref(m);
    contam_where a[2], b[1], *w[2] = {a, b};
    contam_stats st;
    /* the expected positions, by hand */
    CHECK_EQ(cs_scan(ds, 1, 0, w, &st), 0);
    CHECK_EQ(st.documents, 11);
    CHECK_EQ(st.bytes, bytes);
    CHECK(a[0].found && a[0].source == 1 && a[0].split == 0 && a[0].document == 0);
    CHECK(strncmp(a[0].excerpt, "어제 읽은 소설의", strlen("어제 읽은 소설의")) == 0);
    CHECK(strlen(a[0].excerpt) <= 96 && strlen(a[0].excerpt) > 90);
    CHECK(a[1].found && a[1].source == 0 && a[1].split == 0 && a[1].document == 2);
    CHECK(strncmp(a[1].excerpt, "From a story: the old", 21) == 0);
    CHECK(!b[0].found);
    contam_where ref[2][2];
    contam_stats ref_st[2];
    const char *sets[2] = {ds, ds_val};
    for (int k = 0; k < 2; k++) {
        CHECK_EQ(cs_scan(sets[k], 1, 0, w, &ref_st[k]), 0);
        memcpy(ref[k], a, sizeof a);
        CHECK(!b[0].found);
        CHECK_EQ(ref_st[k].documents, 11);
        CHECK_EQ(ref_st[k].bytes, bytes);
        const uint64_t blocks[3] = {0, 1, 7};
        for (int th = 1; th <= 3; th++)
            for (int bl = 0; bl < 3; bl++)
                for (int rep = 0; rep < (th > 1 ? 3 : 1); rep++) {
                    CHECK_EQ(cs_scan(sets[k], th, blocks[bl], w, &st), 0);
                    CHECK_MSG(memcmp(a, ref[k], sizeof a) == 0, "dataset %d, %d threads, blocks of %llu ids", k, th,
                              (unsigned long long)blocks[bl]);
                    CHECK(!b[0].found);
                    CHECK_EQ(st.documents, ref_st[k].documents);
                    CHECK_EQ(st.bytes, ref_st[k].bytes);
                }
    }
    /* with half held out: the items are found again, each no later than by hand */
    CHECK(ref[1][0].found && ref[1][0].source == 1 && ref[1][1].found && ref[1][1].source == 0);
    /* the command: --threads, the same JSON for any N */
    char out[3][1 << 14];
    for (int th = 1; th <= 3; th++) {
        CHECK_EQ(test_run(out[th - 1], sizeof out[0], "%s data contamination %s --task " COPA " --threads %d --json",
                          test_bin(), ds, th), 0);
        CHECK_STR(out[th - 1], out[0]);
    }
    CHECK_CONTAINS(out[0], "\"documents\":11");
    CHECK_EQ(test_run(out[0], sizeof out[0], "%s data contamination %s --task " COPA " --threads 0 2>&1", test_bin(),
                      ds), 2);
    CHECK_CONTAINS(out[0], "--threads");
}

/* The first occurrence at the end of a 3 MB document (source 0) is found after the
 * same item's later occurrences (source 1), which other threads scan meanwhile: the
 * lower position must replace the one recorded first. */
TEST(contam_dataset_scan_lower_position_found_late_replaces_the_first_found)
{
    const char *tp = tokenizer();
    CHECK(tp[0]);
    size_t n = 3u << 20;
    char *big = malloc(n + 512);
    CHECK(big);
    for (size_t i = 0; i < n; i++)
        big[i] = "abc de "[i % 7];
    size_t len = n + (size_t)snprintf(big + n, 512, " %s.\n", CS_KO);
    const char *a = test_write_file("cs_slow_a.txt", big, len);
    char pa[600], small[4096] = "";
    snprintf(pa, sizeof pa, "%s", a);
    free(big);
    for (int d = 0; d < 8; d++) {
        char line[512];
        snprintf(line, sizeof line, "작은 문서 %d번: %s\n", d, CS_KO);
        strcat(small, line);
    }
    const char *b = test_write_file("cs_slow_b.txt", small, strlen(small));
    char ds[600];
    snprintf(ds, sizeof ds, "%s/cs_slow_ds", test_tmpdir());
    CHECK_EQ(test_run(NULL, 0, "%s data build -q -t %s -o %s --val-fraction 0 --no-near-dup --no-scrub %s %s "
                      ">/dev/null", test_bin(), tp, ds, pa, b), 0);
    contam_where w0[2], w1[1], *w[2] = {w0, w1};
    contam_stats st;
    for (int th = 1; th <= 3; th++)
        for (int rep = 0; rep < 3; rep++) {
            CHECK_EQ(cs_scan(ds, th, 1, w, &st), 0);
            CHECK_MSG(w0[0].found && w0[0].source == 0 && w0[0].document == 0, "%d threads: source %u document %llu",
                      th, w0[0].source, (unsigned long long)w0[0].document);
            CHECK(strncmp(w0[0].excerpt, "abc de abc", 10) == 0);
            CHECK_EQ(st.documents, 9);
            CHECK_EQ(st.bytes, len - 1 + strlen(small) - 8);
        }
}
