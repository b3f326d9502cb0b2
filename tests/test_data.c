/* test_data.c: dataset building (dokja data build) and verified loading. */
#include <stdlib.h>
#include <unistd.h>

#include "data/data_build.h"
#include "data/dataset.h"
#include "test.h"
#include "tokenizer/tokenizer.h"

static const char *const SP[] = {"<|bos|>", "<|eos|>", "<|pad|>"};

/* A byte-level tokenizer with a few merges, saved under the scratch dir. */
static const char *small_tokenizer(uint32_t n_merges)
{
    static char path[512];
    uint32_t(*m)[2] = malloc((n_merges ? n_merges : 1) * sizeof *m);
    for (uint32_t k = 0; k < n_merges; k++) {
        m[k][0] = k / 256;
        m[k][1] = k % 256;
    }
    tok *t;
    dk_err err;
    snprintf(path, sizeof path, "%s/tok_%u.json", test_tmpdir(), n_merges);
    if (tok_build(&t, TOK_NORM_HANGUL_COMPOSE, TOK_PRETOK_DOKJA_V1, SP, 3, (const uint32_t(*)[2])m,
                  n_merges, "t", &err) != 0 ||
        tok_save(t, path, &err) != 0)
        path[0] = 0;
    tok_free(t);
    free(m);
    return path;
}

static uint64_t shard_tokens = 100;

static int build(const char *tokpath, const char *out, data_source_spec *src, size_t n,
                 int threads, dk_err *err)
{
    data_build_opts o = {.tokenizer_path = tokpath, .out_dir = out, .sources = src,
                         .n_sources = n, .val_fraction = 0.25, .shard_tokens = shard_tokens,
                         .threads = threads, .quiet = 1};
    data_build_report rep;
    int rc = data_build(&o, &rep, err);
    if (rc == 0)
        data_build_report_free(&rep);
    return rc;
}

static char *path_in(const char *name)
{
    static char p[8][512];
    static int k;
    char *r = p[k++ & 7];
    snprintf(r, 512, "%s/%s", test_tmpdir(), name);
    return r;
}

TEST(data_build_writes_documents_with_eos_dedupes_and_splits)
{
    const char *tp = small_tokenizer(10);
    char text[4096] = "";
    for (int i = 0; i < 40; i++)
        sprintf(text + strlen(text), "문서 %d 입니다.\n", i);
    strcat(text, "문서 3 입니다.\n\n"); /* a duplicate and an empty line */
    test_write_file("a.txt", text, strlen(text));
    const char *jl = "{\"text\": \"hello\\nworld\"}\n{\"text\": \"문서 5 입니다.\", \"id\": 7}\n";
    test_write_file("b.jsonl", jl, strlen(jl));
    data_source_spec src[2] = {{path_in("a.txt"), -1, NULL, NULL}, {path_in("b.jsonl"), 3.0, NULL, NULL}};
    dk_err err;
    char *out = path_in("ds1");
    CHECK_MSG(build(tp, out, src, 2, 2, &err) == 0, "%s", err.msg);
    dataset d;
    CHECK_MSG(dataset_open(&d, out, &err) == 0, "%s", err.msg);
    CHECK_EQ(d.n_sources, 2);
    CHECK_STR(d.sources[0].name, "a");
    CHECK_STR(d.sources[1].name, "b");
    CHECK_EQ(d.sources[0].documents, 42); /* 40 + duplicate + empty, counted as read */
    CHECK_EQ(d.eos_id, 257);
    /* concatenating train and val of source a and splitting at <|eos|> gives 40 docs */
    int docs = 0, val_docs = 0;
    for (int sp = 0; sp < 2; sp++)
        for (size_t k = 0; k < d.sources[0].n_shards[sp]; k++)
            for (uint64_t i = 0; i < d.sources[0].shards[sp][k].count; i++)
                if (shard_get(&d.sources[0].shards[sp][k], i) == 257) {
                    docs++;
                    val_docs += sp;
                }
    CHECK_EQ(docs, 40);
    CHECK_MSG(val_docs > 2 && val_docs < 20, "val docs %d of 40 at fraction 0.25", val_docs);
    CHECK(d.sources[0].n_shards[0] > 1); /* shard_tokens 100 forces several shards */
    /* source b: only "hello\nworld" is new (the other is a duplicate of a's doc 5) */
    CHECK_EQ(d.sources[1].tokens[0] + d.sources[1].tokens[1], strlen("hello\nworld") + 1);
    CHECK(d.sources[1].weight > 0.7); /* 3 against a's share of 1 */
    dataset_close(&d);
}

TEST(data_build_is_identical_for_1_and_2_threads)
{
    const char *tp = small_tokenizer(300);
    data_source_spec src[1] = {{"../shared/data/ko_chatbot", -1, NULL, NULL}};
    dk_err err;
    char *o1 = path_in("ds_t1"), *o2 = path_in("ds_t2");
    shard_tokens = 1 << 20; /* several shards, each fsynced */
    int rc1 = build(tp, o1, src, 1, 1, &err), rc2 = build(tp, o2, src, 1, 2, &err);
    shard_tokens = 100;
    CHECK_MSG(rc1 == 0 && rc2 == 0, "%s", err.msg);
    CHECK_EQ(test_run(NULL, 0, "diff -r %s %s >/dev/null", o1, o2), 0);
}

TEST(data_build_uses_uint32_ids_for_large_vocabularies)
{
    const char *tp = small_tokenizer(65400);
    test_write_file("c.txt", "abc\nabd\nabe\nabf\nabg\nabh\nabi\nabj\n", 32);
    data_source_spec src[1] = {{path_in("c.txt"), -1, NULL, NULL}};
    dk_err err;
    char *out = path_in("ds_wide");
    CHECK_MSG(build(tp, out, src, 1, 1, &err) == 0, "%s", err.msg);
    dataset d;
    CHECK_MSG(dataset_open(&d, out, &err) == 0, "%s", err.msg);
    shard *s = d.sources[0].n_shards[0] ? &d.sources[0].shards[0][0] : &d.sources[0].shards[1][0];
    CHECK_EQ(s->width, 4);
    CHECK_EQ(shard_get(s, s->count - 1), 257);
    /* the ids decode back to the documents */
    tok *t;
    CHECK(tok_load(&t, tp, &err) == 0);
    dk_token ids[64];
    for (uint64_t i = 0; i < s->count && i < 64; i++)
        ids[i] = shard_get(s, i);
    uint8_t *txt = NULL;
    size_t len = 0, cap = 0;
    CHECK(tok_decode(t, ids, s->count < 64 ? s->count : 64, &txt, &len, &cap, &err) == 0);
    CHECK(len >= 3 && memcmp(txt, "ab", 2) == 0 && memcmp(txt + len - 7, "<|eos|>", 7) == 0);
    free(txt);
    tok_free(t);
    dataset_close(&d);
}

TEST(data_build_failures_name_the_line_and_leave_nothing)
{
    const char *tp = small_tokenizer(10);
    dk_err err;
    test_write_file("bad.jsonl", "{\"text\": \"ok\"}\n{\"txt\": 1}\n", 26);
    data_source_spec s1[1] = {{path_in("bad.jsonl"), -1, NULL, NULL}};
    char *out = path_in("ds_bad");
    CHECK(build(tp, out, s1, 1, 2, &err) != 0);
    CHECK_CONTAINS(err.msg, "bad.jsonl:2:");
    CHECK(access(out, F_OK) != 0);
    CHECK_EQ(test_run(NULL, 0, "ls -d %s.partial.* 2>/dev/null", out), 2);
    test_write_file("bad.txt", "fine\nbad \xff byte\n", 16);
    data_source_spec s2[1] = {{path_in("bad.txt"), -1, NULL, NULL}};
    CHECK(build(tp, out, s2, 1, 2, &err) != 0);
    CHECK_CONTAINS(err.msg, "bad.txt:2: invalid UTF-8");
    CHECK(access(out, F_OK) != 0);
    /* an existing output is never overwritten */
    data_source_spec s3[1] = {{"../shared/data/ko_chatbot", -1, NULL, NULL}};
    CHECK(build(tp, test_tmpdir(), s3, 1, 1, &err) != 0);
    CHECK_CONTAINS(err.msg, "already exists");
}

/* Files are read in chunks cut after newlines, in parallel (data_build.c: READ_CHUNK,
 * 1 MiB, or down to 64 KiB to give each thread about four: 256 KiB for 3 threads here):
 * an error names its line counted over the whole file, and the first error in file
 * order is the one reported. */
TEST(data_build_error_lines_count_across_read_chunks)
{
    const char *tp = small_tokenizer(10);
    size_t cap = 4u << 20, len = 0;
    char *buf = malloc(cap);
    long line = 1, bad_line = 0;
    memset(buf, 'x', 1200000); /* line 1 is longer than any chunk */
    len = 1200000;
    buf[len++] = '\n';
    while (len < (3u << 20)) { /* short lines, blank ones, CRLF ones */
        line++;
        if (!bad_line && len > (2600u << 10)) { /* chunks after the first */
            bad_line = line;
            len += (size_t)sprintf(buf + len, "bad \xff line\n");
        } else if (line % 17 == 0)
            buf[len++] = '\n';
        else
            len += (size_t)sprintf(buf + len, "line %ld of a file of chunks%s\n", line,
                                   line % 5 ? "" : "\r");
    }
    /* a second invalid line later: the first one is reported */
    len += (size_t)sprintf(buf + len, "also \xfe bad\n");
    test_write_file("big.txt", buf, len);
    data_source_spec s1[1] = {{path_in("big.txt"), -1, NULL, NULL}};
    dk_err err;
    char want[256], *out = path_in("ds_big_bad");
    CHECK(build(tp, out, s1, 1, 3, &err) != 0);
    snprintf(want, sizeof want, "big.txt:%ld: invalid UTF-8 at byte 5 of the line", bad_line);
    CHECK_CONTAINS(err.msg, want);
    CHECK(access(out, F_OK) != 0);
    /* the same for JSONL, whose blank lines are no documents but count as lines */
    len = 0;
    line = 0;
    bad_line = 0;
    while (len < (3u << 20)) {
        line++;
        if (!bad_line && len > (2600u << 10)) {
            bad_line = line;
            len += (size_t)sprintf(buf + len, "{\"txt\": \"no text\"}\n");
        } else if (line % 17 == 0)
            buf[len++] = '\n';
        else
            len += (size_t)sprintf(buf + len, "{\"text\": \"document %ld \\uc548\\ub155\"}%s\n", line,
                                   line % 5 ? "" : "\r");
    }
    len += (size_t)sprintf(buf + len, "[1]\n");
    test_write_file("big.jsonl", buf, len);
    data_source_spec s2[1] = {{path_in("big.jsonl"), -1, NULL, NULL}};
    CHECK(build(tp, out, s2, 1, 2, &err) != 0);
    snprintf(want, sizeof want, "big.jsonl:%ld: not a JSON object with a string \"text\"", bad_line);
    CHECK_CONTAINS(err.msg, want);
    CHECK(access(out, F_OK) != 0);
    free(buf);
}

TEST(dataset_open_detects_corrupted_and_truncated_shards)
{
    const char *tp = small_tokenizer(10);
    data_source_spec src[1] = {{"../shared/data/ko_chatbot", -1, NULL, NULL}};
    dk_err err;
    char *out = path_in("ds_corrupt");
    shard_tokens = 1 << 20;
    int rc = build(tp, out, src, 1, 2, &err);
    shard_tokens = 100;
    CHECK(rc == 0);
    char shard_path[600];
    snprintf(shard_path, sizeof shard_path, "%s/ko_chatbot.train.0000.tok", out);
    /* swap two different ids: same size, same id range, different bytes */
    CHECK_EQ(test_run(NULL, 0, "printf 'AB' | dd of=%s bs=1 seek=40 conv=notrunc 2>/dev/null", shard_path), 0);
    dataset d;
    CHECK(dataset_open(&d, out, &err) != 0);
    CHECK_CONTAINS(err.msg, "does not match the manifest");
    /* shard_open on its own: truncation and ids outside the vocabulary */
    shard s;
    uint8_t bad[40] = "DOKJATOK\x01\0\0\0\x02\0\0\0\x05";
    const char *p = test_write_file("trunc.tok", bad, sizeof bad);
    CHECK(shard_open(&s, p, 300, &err) != 0);
    CHECK_CONTAINS(err.msg, "header says 5 ids");
    bad[16] = 4;
    bad[32] = 0xFF;
    bad[33] = 0xFF;
    p = test_write_file("range.tok", bad, sizeof bad);
    CHECK(shard_open(&s, p, 300, &err) != 0);
    CHECK_CONTAINS(err.msg, "outside the vocabulary");
    p = test_write_file("short.tok", bad, 10);
    CHECK(shard_open(&s, p, 300, &err) != 0);
    CHECK_CONTAINS(err.msg, "truncated");
}

TEST(data_parse_source_reads_optional_weights)
{
    char p[256];
    double w;
    CHECK(data_parse_source("a/b.txt", p, sizeof p, &w) == 0 && w < 0);
    CHECK_STR(p, "a/b.txt");
    CHECK(data_parse_source("a/b.txt:2.5", p, sizeof p, &w) == 0 && w == 2.5);
    CHECK_STR(p, "a/b.txt");
    CHECK(data_parse_source("a/b.txt:0", p, sizeof p, &w) != 0);
    CHECK(data_parse_source("c:/dir:x", p, sizeof p, &w) == 0 && w < 0); /* not a number: part of the path */
    CHECK_STR(p, "c:/dir:x");
}

/* ---- personal data and provenance ----------------------------------------------------- */

#include <jansson.h>

/* The text of source i of DIR (train then val shards, decoded), malloc'd. */
static char *source_text(const char *dir, const char *tokpath, size_t i)
{
    dataset d;
    dk_err err;
    tok *t;
    if (dataset_open(&d, dir, &err) != 0)
        return NULL;
    if (tok_load(&t, tokpath, &err) != 0) {
        dataset_close(&d);
        return NULL;
    }
    uint8_t *txt = NULL;
    size_t len = 0, cap = 0;
    for (int sp = 0; sp < 2; sp++)
        for (size_t k = 0; k < d.sources[i].n_shards[sp]; k++) {
            shard *s = &d.sources[i].shards[sp][k];
            dk_token *ids = malloc((s->count + 1) * sizeof *ids);
            for (uint64_t j = 0; j < s->count; j++)
                ids[j] = shard_get(s, j);
            tok_decode(t, ids, s->count, &txt, &len, &cap, &err);
            free(ids);
        }
    txt = realloc(txt, len + 1);
    txt[len] = 0;
    tok_free(t);
    dataset_close(&d);
    return (char *)txt;
}

static json_t *manifest_of(const char *dir)
{
    char p[600];
    snprintf(p, sizeof p, "%s/manifest.json", dir);
    return json_load_file(p, 0, NULL);
}

static long long jint(json_t *o, const char *path1, const char *path2)
{
    json_t *v = json_object_get(o, path1);
    if (path2)
        v = json_object_get(v, path2);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

static const char PII_DOCS[] =
    "전화 010-1234-5678 로 주세요\n"
    "메일 hong.gildong@example.co.kr 입니다\n"
    "주민번호 900101-1234568\n"
    "카드 4111 1111 1111 1111 결제\n"
    "서버 192.168.0.1 접속\n"
    "법률 제12345호 2023-01-05 개정, 1,234,567원\n"
    "전화 010-1234-5678 로 주세요\n"; /* a duplicate: dropped, not counted */

TEST(data_build_scrubs_personal_data_into_placeholders_and_counts_them)
{
    const char *tp = small_tokenizer(10);
    test_write_file("pii.txt", PII_DOCS, strlen(PII_DOCS));
    data_source_spec src[1] = {{path_in("pii.txt"), -1, NULL, NULL}};
    dk_err err;
    char *out = path_in("ds_pii");
    CHECK_MSG(build(tp, out, src, 1, 2, &err) == 0, "%s", err.msg);
    char *txt = source_text(out, tp, 0);
    CHECK(txt);
    for (int t = 0; t < PII_N_TYPES; t++)
        CHECK_CONTAINS(txt, pii_placeholder[t]);
    CHECK(!strstr(txt, "5678") && !strstr(txt, "hong") && !strstr(txt, "1234568") &&
          !strstr(txt, "4111") && !strstr(txt, "192.168"));
    CHECK_CONTAINS(txt, "법률 제12345호 2023-01-05 개정, 1,234,567원");
    free(txt);
    json_t *m = manifest_of(out);
    CHECK(m);
    json_t *s0 = json_array_get(json_object_get(m, "sources"), 0);
    CHECK(json_is_true(json_object_get(m, "pii_scrub")));
    CHECK_EQ(jint(s0, "pii", "phone"), 1);
    CHECK_EQ(jint(s0, "pii", "email"), 1);
    CHECK_EQ(jint(s0, "pii", "rrn"), 1);
    CHECK_EQ(jint(s0, "pii", "card"), 1);
    CHECK_EQ(jint(s0, "pii", "ip"), 1);
    CHECK_EQ(jint(s0, "pii_documents", NULL), 5);
    /* the old keys stay; kept + dropped add up to the documents read */
    CHECK_EQ(jint(s0, "documents", NULL), 7);
    CHECK_EQ(jint(s0, "duplicates", NULL), 1);
    CHECK_EQ(jint(s0, "empty", NULL), 0);
    CHECK_EQ(jint(s0, "kept", "documents"), 6);
    CHECK_EQ(jint(s0, "dropped", "exact_duplicate"), 1);
    CHECK(jint(s0, "dropped_tokens", "exact_duplicate") > 10);
    CHECK_EQ(jint(s0, "kept", "tokens"),
             jint(json_object_get(s0, "train"), "tokens", NULL) +
                 jint(json_object_get(s0, "val"), "tokens", NULL));
    json_decref(m);
}

TEST(data_build_no_scrub_keeps_personal_data)
{
    const char *tp = small_tokenizer(10);
    test_write_file("pii2.txt", PII_DOCS, strlen(PII_DOCS));
    data_source_spec src[1] = {{path_in("pii2.txt"), -1, NULL, NULL}};
    data_build_opts o = {.tokenizer_path = tp, .out_dir = path_in("ds_nopii"), .sources = src,
                         .n_sources = 1, .val_fraction = 0, .shard_tokens = 1000,
                         .threads = 1, .quiet = 1, .no_scrub = 1};
    data_build_report rep;
    dk_err err;
    CHECK_MSG(data_build(&o, &rep, &err) == 0, "%s", err.msg);
    CHECK_EQ(rep.pii[PII_PHONE], 0);
    data_build_report_free(&rep);
    char *txt = source_text(o.out_dir, tp, 0);
    CHECK(txt);
    CHECK_CONTAINS(txt, "010-1234-5678");
    CHECK_CONTAINS(txt, "4111 1111 1111 1111");
    for (int t = 0; t < PII_N_TYPES; t++)
        CHECK(!strstr(txt, pii_placeholder[t]));
    free(txt);
    json_t *m = manifest_of(o.out_dir);
    CHECK(json_is_false(json_object_get(m, "pii_scrub")));
    CHECK(json_is_null(json_object_get(json_array_get(json_object_get(m, "sources"), 0), "pii")));
    json_decref(m);
}

TEST(data_build_scrubbed_output_is_identical_for_1_and_2_threads)
{
    const char *tp = small_tokenizer(300);
    /* dev text with phone numbers and e-mail addresses (docs/data.md), plus planted ones */
    data_source_spec src[2] = {{"../shared/data/ko_nsmc/nsmc_dev_00.txt", -1, NULL, NULL},
                               {path_in("pii3.txt"), -1, NULL, NULL}};
    test_write_file("pii3.txt", PII_DOCS, strlen(PII_DOCS));
    dk_err err;
    char *o1 = path_in("ds_pii_t1"), *o2 = path_in("ds_pii_t2");
    shard_tokens = 1 << 20;
    int rc1 = build(tp, o1, src, 2, 1, &err), rc2 = build(tp, o2, src, 2, 2, &err);
    shard_tokens = 100;
    CHECK_MSG(rc1 == 0 && rc2 == 0, "%s", err.msg);
    CHECK_EQ(test_run(NULL, 0, "diff -r %s %s >/dev/null", o1, o2), 0);
    json_t *m = manifest_of(o1);
    json_t *s0 = json_array_get(json_object_get(m, "sources"), 0);
    CHECK(jint(s0, "pii", "phone") >= 4 && jint(s0, "pii", "email") >= 3);
    json_decref(m);
}

/* Duplicates across read chunks and across sources are found in file order, whatever
 * the thread count (which also changes where the chunks are cut: about 800 KiB for 1
 * thread, 270 KiB for 3). */
TEST(data_build_multi_chunk_input_is_identical_for_1_and_3_threads)
{
    const char *tp = small_tokenizer(300);
    enum { K = 48000 };
    size_t cap = 6u << 20, len = 0;
    char *buf = malloc(cap);
    for (int i = 0; i < K; i++) /* about 2.2 MB of distinct lines */
        len += (size_t)sprintf(buf + len, "문서 %d: 여러 조각 %d 에 걸친 줄\n", i, i * 7919 % 10007);
    for (int i = 0; i < K; i += 2) /* then every other one again, chunks later */
        len += (size_t)sprintf(buf + len, "문서 %d: 여러 조각 %d 에 걸친 줄\n", i, i * 7919 % 10007);
    CHECK(len > (5u << 19)); /* over 2.5 MiB: three chunks or more */
    test_write_file("multi.txt", buf, len);
    len = 0;
    for (int i = 0; i < K; i++) /* a third of them repeat multi.txt's lines */
        if (i % 3 == 0)
            len += (size_t)sprintf(buf + len, "{\"text\": \"문서 %d: 여러 조각 %d 에 걸친 줄\"}\n", i, i * 7919 % 10007);
        else
            len += (size_t)sprintf(buf + len, "{\"id\": %d, \"text\": \"JSON document %d\\n두 줄\"}\n", i, i);
    test_write_file("multi.jsonl", buf, len);
    free(buf);
    data_source_spec src[2] = {{path_in("multi.txt"), -1, NULL, NULL},
                               {path_in("multi.jsonl"), -1, NULL, NULL}};
    dk_err err;
    char *o1 = path_in("ds_multi_t1"), *o3 = path_in("ds_multi_t3");
    shard_tokens = 1 << 18;
    int rc1 = build(tp, o1, src, 2, 1, &err), rc3 = build(tp, o3, src, 2, 3, &err);
    shard_tokens = 100;
    CHECK_MSG(rc1 == 0 && rc3 == 0, "%s", err.msg);
    CHECK_EQ(test_run(NULL, 0, "diff -r %s %s >/dev/null", o1, o3), 0);
    json_t *m = manifest_of(o1);
    json_t *s0 = json_array_get(json_object_get(m, "sources"), 0);
    json_t *s1 = json_array_get(json_object_get(m, "sources"), 1);
    CHECK_EQ(jint(s0, "documents", NULL), K + K / 2);
    CHECK_EQ(jint(s0, "dropped", "exact_duplicate"), K / 2);
    CHECK_EQ(jint(s1, "documents", NULL), K);
    CHECK_EQ(jint(s1, "dropped", "exact_duplicate"), (K + 2) / 3);
    json_decref(m);
}

TEST(data_build_sources_file_records_partner_licence_and_per_partner_counts)
{
    const char *tp = small_tokenizer(10);
    const char *pa = "가나다라마 전화 010-1234-5678 입니다\n라마바\n라마바\n\n", *pb = "사아자\nx@y.com\n";
    test_write_file("pa.txt", pa, strlen(pa));
    test_write_file("pb.txt", pb, strlen(pb));
    test_write_file("pc.txt", "차카타\n", strlen("차카타\n"));
    const char *js = "{\"sources\": [\n"
                     " {\"path\": \"pa.txt\", \"partner\": \"telecom\", \"licence\": \"proprietary\",\n"
                     "  \"weight\": 2},\n"
                     " {\"path\": \"pb.txt\", \"partner\": \"hospital\", \"licence\": \"CC-BY-4.0\"},\n"
                     " {\"path\": \"pc.txt\", \"partner\": \"telecom\", \"licence\": \"CC0-1.0\"}]}\n";
    const char *sf = test_write_file("srcs.json", js, strlen(js));
    char out[4096];
    char *dir = path_in("ds_partners");
    CHECK_EQ(test_run(out, sizeof out, "%s data build -q -t %s -o %s --sources %s --threads 2", test_bin(),
                      tp, dir, sf), 0);
    CHECK_CONTAINS(out, "phone 1");
    json_t *m = manifest_of(dir);
    CHECK(m);
    json_t *ss = json_object_get(m, "sources");
    CHECK_EQ(json_array_size(ss), 3);
    json_t *s0 = json_array_get(ss, 0);
    CHECK_STR(json_string_value(json_object_get(s0, "partner")), "telecom");
    CHECK_STR(json_string_value(json_object_get(s0, "licence")), "proprietary");
    CHECK(json_is_true(json_object_get(s0, "weight_given")));
    CHECK_EQ(jint(s0, "dropped", "exact_duplicate"), 1);
    CHECK_EQ(jint(s0, "dropped", "empty"), 1);
    json_t *tel = json_object_get(json_object_get(m, "partners"), "telecom");
    CHECK(tel);
    CHECK_EQ(json_array_size(json_object_get(tel, "sources")), 2);
    CHECK_EQ(json_array_size(json_object_get(tel, "licences")), 2);
    CHECK_EQ(jint(tel, "documents", NULL), 5);
    CHECK_EQ(jint(tel, "kept", "documents"), 3);
    CHECK_EQ(jint(tel, "dropped", "exact_duplicate"), 1);
    CHECK_EQ(jint(tel, "pii", "phone"), 1);
    json_t *hos = json_object_get(json_object_get(m, "partners"), "hospital");
    CHECK_EQ(jint(hos, "pii", "email"), 1);
    CHECK_EQ(jint(hos, "kept", "tokens"),
             jint(json_array_get(ss, 1), "kept", "tokens"));
    json_decref(m);
    /* the dataset still loads as before */
    dataset d;
    dk_err err;
    CHECK_MSG(dataset_open(&d, dir, &err) == 0, "%s", err.msg);
    CHECK_EQ(d.n_sources, 3);
    dataset_close(&d);
}

TEST(data_build_sources_file_errors_name_the_field_and_write_nothing)
{
    const char *tp = small_tokenizer(10);
    test_write_file("pd.txt", "하나\n", 7);
    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"{\"sources\": [{\"path\": \"pd.txt\", \"partner\": \"a\", \"licence\": \"x\"},"
         " {\"path\": \"pd.txt\", \"partner\": \"b\", \"licence\": \"x\"},"
         " {\"path\": \"pd.txt\", \"partner\": \"c\", \"licence\": 7}]}",
         "bad.json: sources[2].licence: must be a non-empty string"},
        {"{\"sources\": [{\"path\": \"pd.txt\", \"partner\": \"a\", \"license\": \"x\"}]}",
         "bad.json: sources[0]: unknown key \"license\""},
        {"{\"sources\": [{\"path\": \"pd.txt\", \"partner\": \"a\"}]}",
         "bad.json: sources[0].licence: missing"},
        {"{\"sources\": [{\"path\": \"nope.txt\", \"partner\": \"a\", \"licence\": \"x\"}]}",
         "bad.json: sources[0].path:"},
        {"{\"sources\": [{\"path\": \"pd.txt\", \"partner\": \"a\", \"licence\": \"x\", \"weight\": -1}]}",
         "bad.json: sources[0].weight: must be a number"},
        {"{\"sources\": []}", "bad.json: sources: empty"},
        {"{\"sources\": [], \"extra\": 1}", "bad.json: unknown top-level key"},
        {"[1, 2", "bad.json:1: invalid JSON"},
    };
    char *dir = path_in("ds_badsrc");
    char out[4096];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *sf = test_write_file("bad.json", cases[i].json, strlen(cases[i].json));
        int rc = test_run(out, sizeof out, "%s data build -q -t %s -o %s --sources %s 2>&1", test_bin(),
                          tp, dir, sf);
        CHECK_MSG(rc == 1, "case %zu: exit %d", i, rc);
        CHECK_CONTAINS(out, cases[i].msg);
        CHECK_MSG(strchr(out, '\n') == out + strlen(out) - 1, "case %zu: not one line: %s", i, out);
        CHECK(access(dir, F_OK) != 0);
    }
    int rc = test_run(out, sizeof out, "%s data build -q -t %s -o %s --sources %s/none.json 2>&1",
                      test_bin(), tp, dir, test_tmpdir());
    CHECK_EQ(rc, 1);
    CHECK_CONTAINS(out, "none.json: cannot open");
    CHECK(access(dir, F_OK) != 0);
}

/* ---- the training sampler ----------------------------------------------------------- */

#include "train/sampler.h"
#include "util/hash.h"

TEST(sampler_permutation_is_a_bijection_for_any_size)
{
    for (uint64_t n = 1; n < 300; n += 7) {
        uint8_t seen[300] = {0};
        for (uint64_t i = 0; i < n; i++) {
            uint64_t p = sampler_permute(i, n, n * 31 + 5);
            CHECK(p < n);
            CHECK(!seen[p]);
            seen[p] = 1;
        }
    }
    CHECK(sampler_permute(3, 1000, 1) != sampler_permute(3, 1000, 2) ||
          sampler_permute(4, 1000, 1) != sampler_permute(4, 1000, 2));
}

TEST(sampler_draws_by_weight_covers_every_window_and_replays_from_its_state)
{
    const char *tp = small_tokenizer(10);
    char a[8192] = "", b[8192] = "";
    for (int i = 0; i < 200; i++) {
        sprintf(a + strlen(a), "aaa %d\n", i);
        sprintf(b + strlen(b), "bbb %d\n", i);
    }
    test_write_file("sa.txt", a, strlen(a));
    test_write_file("sb.txt", b, strlen(b));
    data_source_spec src[2] = {{path_in("sa.txt"), 3.0, NULL, NULL}, {path_in("sb.txt"), 1.0, NULL, NULL}};
    dk_err err;
    char *out = path_in("ds_sampler");
    shard_tokens = 1000; /* windows straddle shard boundaries */
    int rc = build(tp, out, src, 2, 2, &err);
    shard_tokens = 100;
    CHECK_MSG(rc == 0, "%s", err.msg);
    dataset d;
    CHECK(dataset_open(&d, out, &err) == 0);
    enum { S = 16 };
    sampler s, r;
    CHECK(sampler_init(&s, &d, 0, S, 42, &err) == 0);
    int count[2] = {0};
    dk_token in[S], tg[S];
    for (int i = 0; i < 400; i++) {
        int which = sampler_next(&s, in, tg);
        count[which]++;
        for (int t = 0; t + 1 < S; t++)
            CHECK(tg[t] == in[t + 1]); /* targets are the inputs shifted by one */
    }
    CHECK_MSG(count[0] > 250 && count[0] < 350, "source a drawn %d of 400 (weight 0.75)", count[0]);
    /* a fresh sampler with the same state replays the same sequences */
    CHECK(sampler_init(&r, &d, 0, S, 42, &err) == 0);
    r.next_seq = s.next_seq;
    memcpy(r.cursor, s.cursor, d.n_sources * sizeof *r.cursor);
    dk_token in2[S], tg2[S];
    for (int i = 0; i < 20; i++) {
        CHECK_EQ(sampler_next(&s, in, tg), sampler_next(&r, in2, tg2));
        CHECK(memcmp(in, in2, sizeof in) == 0 && memcmp(tg, tg2, sizeof tg) == 0);
    }
    /* one epoch of a single-source dataset visits every window exactly once */
    sampler_free(&r);
    data_source_spec one[1] = {{path_in("sa.txt"), -1, NULL, NULL}};
    char *out1 = path_in("ds_sampler1");
    CHECK(build(tp, out1, one, 1, 1, &err) == 0);
    dataset d1;
    CHECK(dataset_open(&d1, out1, &err) == 0);
    CHECK(sampler_init(&r, &d1, 0, S, 7, &err) == 0);
    uint64_t nw = r.n_windows[0];
    uint64_t *firsts = calloc(nw, sizeof *firsts);
    for (uint64_t c = 0; c < nw; c++) {
        sampler_next(&r, in, tg);
        firsts[c] = hash_bytes(in, sizeof in);
        for (uint64_t k = 0; k < c; k++)
            CHECK_MSG(firsts[k] != firsts[c], "window drawn twice within an epoch");
    }
    free(firsts);
    dataset_close(&d1);
    sampler_free(&s);
    sampler_free(&r);
    dataset_close(&d);
}

TEST(data_build_quality_filters_count_each_reason_and_can_be_turned_off)
{
    const char *tp = small_tokenizer(10);
    const char *docs = "굿\n이 영화 정말 재미있어요\n* * * * * * * *\n1. 삭제 <2016.2.3>\n최고!!\n"
                       "menu\nx\n배우들의 연기가 좋았다\n";
    test_write_file("q.txt", docs, strlen(docs));
    const char *out = path_in("ds_quality"), *off = path_in("ds_quality_off"), *two = path_in("ds_quality_2");
    /* through the CLI: its defaults (too short < 3, letters < 25 %, no repetition) */
    CHECK_EQ(test_run(NULL, 0, "%s data build -q -t %s -o %s --no-near-dup --threads 1 %s", test_bin(), tp,
                      out, path_in("q.txt")), 0);
    json_t *m = manifest_of(out);
    CHECK(m);
    json_t *s0 = json_array_get(json_object_get(m, "sources"), 0);
    CHECK_EQ(jint(s0, "documents", NULL), 8);
    CHECK_EQ(jint(s0, "dropped", "too_short"), 2);  /* 굿, x */
    CHECK_EQ(jint(s0, "dropped", "quality"), 2);    /* the stars, the deletion marker */
    CHECK_EQ(jint(s0, "dropped", "repetition"), 0);
    CHECK_EQ(jint(s0, "kept", "documents"), 4);
    CHECK(jint(s0, "dropped_tokens", "quality") > 4);
    CHECK_EQ(jint(json_object_get(m, "quality"), "min_chars", NULL), 3);
    json_decref(m);
    /* all threads alike */
    CHECK_EQ(test_run(NULL, 0, "%s data build -q -t %s -o %s --no-near-dup --threads 3 %s", test_bin(), tp,
                      two, path_in("q.txt")), 0);
    CHECK_EQ(test_run(NULL, 0, "diff -r %s %s >/dev/null", out, two), 0);
    /* off: everything kept, the manifest says so */
    CHECK_EQ(test_run(NULL, 0, "%s data build -q -t %s -o %s --no-near-dup --no-quality %s", test_bin(), tp,
                      off, path_in("q.txt")), 0);
    m = manifest_of(off);
    s0 = json_array_get(json_object_get(m, "sources"), 0);
    CHECK_EQ(jint(s0, "kept", "documents"), 8);
    CHECK(json_is_null(json_object_get(m, "quality")));
    json_decref(m);
    /* a bad value is a usage error naming the option */
    char msg[512];
    CHECK_EQ(test_run(msg, sizeof msg, "%s data build -q -t %s -o %s --min-letter-share 2 %s 2>&1", test_bin(),
                      tp, path_in("ds_quality_bad"), path_in("q.txt")), 2);
    CHECK_CONTAINS(msg, "--min-letter-share");
}
