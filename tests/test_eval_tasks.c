/* test_eval_tasks.c: the benchmark converters on the real KoBEST and HellaSwag files
 * (counts and templates), the JSONL round trip, and malformed input: every error
 * names the file and the line. */
#include <stdlib.h>

#include "eval/task.h"
#include "test.h"

#define KOBEST "../shared/data/eval_kobest/"

TEST(eval_tasks_kobest_dev_files_convert_with_their_templates)
{
    static const struct {
        const char *fmt, *file;
        size_t n;
    } cases[] = {{"kobest_boolq", "BoolQ_dev.tsv", 700}, {"kobest_copa", "COPA_dev.tsv", 500},
                 {"kobest_hellaswag", "HellaSwag_dev.tsv", 500}, {"kobest_sentineg", "SentiNeg_dev.tsv", 400},
                 {"kobest_wic", "WiC_dev.tsv", 610}, {"kobest_sentineg", "SentiNeg_train.tsv", 3649}};
    dk_err err;
    mc_task t;
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char path[256];
        snprintf(path, sizeof path, KOBEST "%s", cases[k].file);
        CHECK_MSG(mc_task_convert(&t, cases[k].fmt, path, &err) == 0, "%s", err.msg);
        CHECK_MSG(t.n == cases[k].n, "%s: %zu items", path, t.n);
        CHECK_EQ(strlen(t.sha256), 64);
        mc_task_free(&t);
    }
    CHECK(mc_task_convert(&t, "kobest_copa", KOBEST "COPA_dev.tsv", &err) == 0);
    CHECK_STR(t.items[0].context, "전쟁이 시작되었다 그래서");
    CHECK_STR(t.items[0].choices[0], " 병사들이 집으로 돌아왔다.");
    CHECK_EQ(t.items[0].gold, 1);
    mc_task_free(&t);
    CHECK(mc_task_convert(&t, "kobest_sentineg", KOBEST "SentiNeg_dev.tsv", &err) == 0);
    CHECK_STR(t.items[0].context, "문장: 만족입니다 긍부정:"); /* CRLF stripped */
    CHECK_STR(t.items[0].choices[1], " 긍정");
    CHECK_EQ(t.items[0].gold, 1);
    mc_task_free(&t);
    CHECK(mc_task_convert(&t, "kobest_boolq", KOBEST "BoolQ_dev.tsv", &err) == 0);
    CHECK(strstr(t.items[0].context, " 질문: 봉룡은 숙정을 죽였는가? 답변:") != NULL);
    CHECK_EQ(t.items[0].gold, 0);
    CHECK_EQ(t.items[0].n_choices, 2);
    mc_task_free(&t);
    CHECK(mc_task_convert(&t, "kobest_hellaswag", KOBEST "HellaSwag_dev.tsv", &err) == 0);
    CHECK_EQ(t.items[0].n_choices, 4);
    CHECK_EQ(t.items[0].gold, 3);
    CHECK_STR(t.items[0].choices[0], " 외야수가 떨어지는 공을 글러브로 잡는다.");
    mc_task_free(&t);
    CHECK(mc_task_convert(&t, "kobest_wic", KOBEST "WiC_dev.tsv", &err) == 0);
    CHECK(strstr(t.items[0].context, "두 문장에서 실정가 같은 뜻으로 쓰였나?") != NULL);
    CHECK_EQ(t.items[0].gold, 0);
    mc_task_free(&t);
}

TEST(eval_tasks_hellaswag_pairs_split_context_and_alternate_gold)
{
    dk_err err;
    mc_task t;
    CHECK_MSG(mc_task_open(&t, "hellaswag_pairs:../shared/data/eval_hellaswag_en_200/hellaswag_val_correct_200.txt",
                           &err) == 0, "%s", err.msg);
    CHECK_EQ(t.n, 200);
    CHECK_STR(t.items[0].context, "A man is sitting on a roof. he");
    CHECK_STR(t.items[0].choices[0], " starts pulling up roofing on a roof.");
    CHECK_EQ(t.items[0].gold, 0);
    CHECK_STR(t.items[1].choices[1], " stands and lifts the weight over her head.");
    for (size_t i = 0; i < t.n; i++)
        CHECK_EQ(t.items[i].gold, (int)(i % 2));
    CHECK_STR(t.name, "hellaswag_pairs");
    mc_task_free(&t);
}

TEST(eval_tasks_jsonl_round_trips_byte_for_byte)
{
    dk_err err;
    mc_task t, u;
    CHECK(mc_task_convert(&t, "kobest_copa", KOBEST "COPA_dev.tsv", &err) == 0);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/copa_a.jsonl", test_tmpdir());
    snprintf(b, sizeof b, "%s/copa_b.jsonl", test_tmpdir());
    CHECK(mc_task_write_jsonl(&t, a, &err) == 0);
    CHECK(mc_task_load_jsonl(&u, a, &err) == 0);
    CHECK_EQ(u.n, t.n);
    for (size_t i = 0; i < t.n; i++) {
        CHECK_STR(u.items[i].context, t.items[i].context);
        CHECK_EQ(u.items[i].gold, t.items[i].gold);
        for (int c = 0; c < t.items[i].n_choices; c++)
            CHECK_STR(u.items[i].choices[c], t.items[i].choices[c]);
    }
    CHECK(mc_task_write_jsonl(&u, b, &err) == 0);
    CHECK_EQ(test_run(NULL, 0, "cmp -s %s %s", a, b), 0);
    CHECK_STR(u.name, "copa_a");
    mc_task_free(&t);
    mc_task_free(&u);
    /* the CLI writes the same file */
    CHECK_EQ(test_run(NULL, 0, "%s eval convert kobest_copa " KOBEST "COPA_dev.tsv -o %s/copa_c.jsonl 2>/dev/null",
                      test_bin(), test_tmpdir()), 0);
    CHECK_EQ(test_run(NULL, 0, "cmp -s %s %s/copa_c.jsonl", a, test_tmpdir()), 0);
    /* a failed write leaves nothing behind */
    CHECK(mc_task_convert(&t, "kobest_copa", KOBEST "COPA_dev.tsv", &err) == 0);
    snprintf(a, sizeof a, "%s/no/such/dir/x.jsonl", test_tmpdir());
    CHECK(mc_task_write_jsonl(&t, a, &err) != 0);
    mc_task_free(&t);
}

/* Each malformed file fails with "NAME:LINE: problem". */
static int fails_with(const char *fmt, const char *name, const char *text, const char *want)
{
    const char *p = test_write_file(name, text, strlen(text));
    char spec[700];
    snprintf(spec, sizeof spec, "%s%s%s", fmt ? fmt : "", fmt ? ":" : "", p);
    mc_task t;
    dk_err err;
    if (mc_task_open(&t, spec, &err) == 0) {
        mc_task_free(&t);
        test_fail(__FILE__, __LINE__, "%s: accepted", name);
        return 0;
    }
    if (!strstr(err.msg, want)) {
        test_fail(__FILE__, __LINE__, "%s: \"%s\" lacks \"%s\"", name, err.msg, want);
        return 0;
    }
    return 1;
}

TEST(eval_tasks_malformed_rows_name_file_and_line)
{
    const char *copa_h = "ID\tsentence\tquestion\t1\t2\tAnswer\n";
    char buf[512];
    snprintf(buf, sizeof buf, "%s1\t비가 왔다.\t결과\t땅이 젖었다.\t해가 떴다.\t1\n2\t짧은 줄\t결과\t3\n", copa_h);
    CHECK(fails_with("kobest_copa", "c1.tsv", buf, "c1.tsv:3: expected 6 tab-separated fields, got 4"));
    snprintf(buf, sizeof buf, "%s1\t비가 왔다.\t결과\t땅이 젖었다.\t해가 떴다.\t3\n", copa_h);
    CHECK(fails_with("kobest_copa", "c2.tsv", buf, "c2.tsv:2: unknown label \"3\""));
    snprintf(buf, sizeof buf, "%s1\t비가 왔다.\t이유\t땅이 젖었다.\t해가 떴다.\t1\n", copa_h);
    CHECK(fails_with("kobest_copa", "c3.tsv", buf, "c3.tsv:2: question must be 원인 or 결과"));
    CHECK(fails_with("kobest_boolq", "b1.tsv", "ID\tText\tAnswer\n1\tx\tTrue\n", "b1.tsv:1: the header has no column \"Question\""));
    CHECK(fails_with("kobest_boolq", "b2.tsv", "ID\tText\tQuestion\tAnswer\n1\tx\ty\tMaybe\n", "b2.tsv:2: unknown label"));
    CHECK(fails_with("kobest_sentineg", "s1.tsv", "ID\tText\tLabel\n1\t\xff\xfe\t1\n", "s1.tsv:2: invalid UTF-8"));
    CHECK(fails_with(NULL, "j1.jsonl", "{\"context\": \"a\", \"choices\": [\" b\", \" c\"], \"gold\": 0}\n{oops\n", "j1.jsonl:2: not JSON"));
    CHECK(fails_with(NULL, "j2.jsonl", "\n{\"context\": \"a\", \"choices\": [\" b\", \" c\"], \"gold\": 2}\n", "j2.jsonl:2: \"gold\" must be an index"));
    CHECK(fails_with(NULL, "j3.jsonl", "{\"context\": \"a\", \"choices\": [\" b\", 5], \"gold\": 0}\n", "j3.jsonl:1: choice 1 must be a non-empty string"));
    CHECK(fails_with(NULL, "j4.jsonl", "{\"context\": \"a\", \"choices\": [\" b\"], \"gold\": 0}\n", "j4.jsonl:1: \"choices\" must be an array of at least 2"));
    CHECK(fails_with(NULL, "j5.jsonl", "{\"choices\": [\" b\", \" c\"], \"gold\": 0}\n", "j5.jsonl:1: \"context\" must be a string"));
    CHECK(fails_with(NULL, "j6.jsonl", "\n\n", "j6.jsonl: no items"));
    test_write_file("p_wrong.txt", "A b c.\nA b d.\n", 14);
    CHECK(fails_with("hellaswag_pairs", "p_correct.txt", "A b x.\n", "1 lines, but"));
    CHECK(fails_with("nonsense", "x.tsv", "a\n", "not a task"));
}

TEST(task_spec_is_text_only_without_a_known_format)
{
    const char *p = NULL;
    CHECK(task_spec_is_text("text:a/b.jsonl", &p));
    CHECK_STR(p, "a/b.jsonl");
    CHECK(task_spec_is_text("dir/book.txt", &p));
    CHECK_STR(p, "dir/book.txt");
    CHECK(task_spec_is_text("c:/x.txt", NULL)); /* "c" is no task format: a path with a colon */
    /* the HellaSwag pair files are .txt but multiple choice */
    CHECK(!task_spec_is_text("hellaswag_pairs:d/hellaswag_val_correct_200.txt", NULL));
    CHECK(!task_spec_is_text("kobest_copa:COPA_dev.tsv", NULL));
    CHECK(!task_spec_is_text("items.jsonl", NULL));
}
