/* test_tokenizer_file.c: the tokenizer file format (save/load, every rejection) and
 * the `dokja tokenizer` command line. */
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "tokenizer/tokenizer.h"

#define HEAD "{\"format\": \"dokja-bpe\", \"version\": 1, \"normalizer\": \"hangul-compose\", " \
             "\"pretokenizer\": \"dokja-v1\", "

static const char VALID[] = HEAD "\"vocab_size\": 260, \"special_tokens\": [\"<|bos|>\", "
                                 "\"<|eos|>\"], \"merges\": [[104, 105], [258, 33]]}";

/* Loads text as a tokenizer file; returns 0 on success, else fills msg. */
static int load_text(const char *text, char *msg, size_t cap)
{
    const char *path = test_write_file("tok.json", text, strlen(text));
    tok *t;
    dk_err err;
    int rc = tok_load(&t, path, &err);
    if (rc == 0)
        tok_free(t);
    else
        snprintf(msg, cap, "%s", err.msg);
    return rc;
}

TEST(tokenizer_file_loads_a_valid_file)
{
    char msg[1024];
    CHECK_MSG(load_text(VALID, msg, sizeof msg) == 0, "%s", msg);
}

TEST(tokenizer_file_save_then_load_is_byte_identical)
{
    const uint32_t merges[][2] = {{'h', 'i'}, {259, '!'}};
    const char *sp[] = {"<|bos|>", "<|e\"os|>", "<|한|>"};
    tok *t, *u;
    dk_err err;
    CHECK(tok_build(&t, TOK_NORM_HANGUL_COMPOSE, TOK_PRETOK_DOKJA_V1, sp, 3, merges, 2, "test", &err) == 0);
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/a.json", test_tmpdir());
    snprintf(b, sizeof b, "%s/b.json", test_tmpdir());
    CHECK(tok_save(t, a, &err) == 0);
    CHECK_MSG(tok_load(&u, a, &err) == 0, "%s", err.msg);
    CHECK(tok_save(u, b, &err) == 0);
    CHECK_EQ(test_run(NULL, 0, "cmp -s %s %s", a, b), 0);
    CHECK_EQ(tok_vocab_size(u), 261);
    CHECK_STR(tok_special_text(u, 1), "<|e\"os|>");
    size_t len;
    const uint8_t *bytes = tok_token_bytes(u, 260, &len);
    CHECK_EQ(len, 3);
    CHECK(memcmp(bytes, "hi!", 3) == 0);
    tok_free(t);
    tok_free(u);
}

TEST(tokenizer_file_rejects_every_malformed_variant_with_the_file_name)
{
    static const struct { const char *text, *expect; } bad[] = {
        {"", "empty file"},
        {"{\"format\": \"dokja-bpe\", \"vers", "not a valid tokenizer file"},
        {"[1, 2]", "not a JSON object"},
        {"{\"format\": \"dokja-bpe\", \"format\": \"x\"}", "duplicate"},
        {"{\"format\": \"gpt2\"}", "format is \"gpt2\""},
        {"{\"format\": \"dokja-bpe\", \"version\": 2}", "unsupported version 2"},
        {"{\"format\": \"dokja-bpe\", \"version\": \"1\"}", "non-integer \"version\""},
        {HEAD "\"vocab_size\": 256, \"special_tokens\": [], \"merges\": [], \"extra\": 1}",
         "unknown key \"extra\""},
        {"{\"format\": \"dokja-bpe\", \"version\": 1, \"normalizer\": \"nfkc\", \"pretokenizer\": "
         "\"dokja-v1\", \"vocab_size\": 256, \"special_tokens\": [], \"merges\": []}",
         "unknown normalizer"},
        {"{\"format\": \"dokja-bpe\", \"version\": 1, \"normalizer\": \"none\", \"pretokenizer\": "
         "\"gpt2\", \"vocab_size\": 256, \"special_tokens\": [], \"merges\": []}",
         "unknown pretokenizer"},
        {HEAD "\"special_tokens\": [], \"merges\": []}", "\"vocab_size\" must be"},
        {HEAD "\"vocab_size\": 99999999999, \"special_tokens\": [], \"merges\": []}",
         "\"vocab_size\" must be"},
        {HEAD "\"vocab_size\": 258, \"special_tokens\": [], \"merges\": [[1, 2]]}", "vocab_size 258 !="},
        {HEAD "\"vocab_size\": 256, \"special_tokens\": {}, \"merges\": []}", "\"special_tokens\" must be"},
        {HEAD "\"vocab_size\": 256, \"special_tokens\": [], \"merges\": 7}", "\"merges\" must be"},
        {HEAD "\"vocab_size\": 257, \"special_tokens\": [], \"merges\": [[1]]}", "merge 0 must be a pair"},
        {HEAD "\"vocab_size\": 257, \"special_tokens\": [], \"merges\": [[1, -2]]}", "merge 0 must be a pair"},
        {HEAD "\"vocab_size\": 257, \"special_tokens\": [], \"merges\": [[1, \"2\"]]}", "merge 0 must be a pair"},
        {HEAD "\"vocab_size\": 257, \"special_tokens\": [], \"merges\": [[1, 256]]}", "refers to a later id"},
        {HEAD "\"vocab_size\": 258, \"special_tokens\": [], \"merges\": [[1, 2], [1, 2]]}",
         "duplicates merge 0"},
        {HEAD "\"vocab_size\": 258, \"special_tokens\": [\"<s>\"], \"merges\": [[256, 2]]}",
         "uses a special token"},
        {HEAD "\"vocab_size\": 258, \"special_tokens\": [\"<s>\", \"<s>\"], \"merges\": []}",
         "appears twice"},
        {HEAD "\"vocab_size\": 257, \"special_tokens\": [\"\"], \"merges\": []}", "has length 0"},
        {HEAD "\"vocab_size\": 257, \"special_tokens\": [5], \"merges\": []}", "must be a string"},
        {HEAD "\"vocab_size\": 257, \"special_tokens\": [\"a\\u0000b\"], \"merges\": []}",
         "\\u0000"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[1024] = "";
        CHECK_MSG(load_text(bad[i].text, msg, sizeof msg) != 0, "case %zu loaded", i);
        CHECK_MSG(strstr(msg, bad[i].expect) != NULL, "case %zu: expected \"%s\" in \"%s\"", i,
                  bad[i].expect, msg);
        CHECK_MSG(strstr(msg, "tok.json") != NULL, "case %zu: message lacks file name: %s", i, msg);
    }
}

TEST(tokenizer_file_rejects_truncations_of_a_valid_file)
{
    size_t n = strlen(VALID);
    for (size_t cut = 0; cut < n - 1; cut++) {
        char buf[sizeof VALID];
        memcpy(buf, VALID, cut);
        buf[cut] = 0;
        char msg[1024];
        CHECK_MSG(load_text(buf, msg, sizeof msg) != 0, "truncated at %zu loaded", cut);
    }
}

TEST(tokenizer_file_rejects_missing_and_directory_paths)
{
    tok *t;
    dk_err err;
    CHECK(tok_load(&t, "/nonexistent/tok.json", &err) != 0);
    CHECK_CONTAINS(err.msg, "/nonexistent/tok.json");
    CHECK(tok_load(&t, test_tmpdir(), &err) != 0);
    CHECK_CONTAINS(err.msg, "not a regular file");
}

/* ---- command line ---------------------------------------------------------------- */

static const char TEXT[] =
    "대한민국은 민주공화국이다.\n대한민국의 주권은 국민에게 있고, 모든 권력은 국민으로부터 나온다.\n"
    "The quick brown fox jumps over the lazy dog.\n";

static char tokfile[512];

static int train_cli(void)
{
    const char *in = test_write_file("cli_in.txt", TEXT, strlen(TEXT));
    snprintf(tokfile, sizeof tokfile, "%s/cli_tok.json", test_tmpdir());
    return test_run(NULL, 0, "%s tokenizer train -q --vocab-size 300 --min-frequency 1 -o %s %s",
                    test_bin(), tokfile, in);
}

TEST(cli_train_encode_decode_round_trip)
{
    CHECK_EQ(train_cli(), 0);
    const char *in = test_write_file("cli_in.txt", TEXT, strlen(TEXT));
    char cmd_out[256];
    CHECK_EQ(test_run(cmd_out, sizeof cmd_out,
                      "%s tokenizer encode -t %s %s | %s tokenizer decode -t %s | cmp - %s && echo same",
                      test_bin(), tokfile, in, test_bin(), tokfile, in), 0);
    CHECK_STR(cmd_out, "same\n");
    CHECK_EQ(test_run(cmd_out, sizeof cmd_out,
                      "%s tokenizer encode --binary -t %s %s | %s tokenizer decode --binary -t %s | cmp - %s && echo same",
                      test_bin(), tokfile, in, test_bin(), tokfile, in), 0);
    CHECK_STR(cmd_out, "same\n");
}

TEST(cli_encode_prints_special_ids_only_with_flag)
{
    CHECK_EQ(train_cli(), 0);
    char out[256];
    CHECK_EQ(test_run(out, sizeof out, "printf 'a<|eos|>' | %s tokenizer encode --special -t %s",
                      test_bin(), tokfile), 0);
    CHECK_STR(out, "97 257\n");
    CHECK_EQ(test_run(out, sizeof out, "printf '<|eos|>' | %s tokenizer encode -t %s", test_bin(),
                      tokfile), 0);
    CHECK(strstr(out, "257") == NULL);
}

TEST(cli_usage_errors_exit_2)
{
    char out[1024];
    CHECK_EQ(test_run(out, sizeof out, "%s 2>&1", test_bin()), 2);
    CHECK_EQ(test_run(out, sizeof out, "%s nosuch 2>&1", test_bin()), 2);
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer train -o x 2>&1", test_bin()), 2);
    CHECK_CONTAINS(out, "--vocab-size is required");
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer train --vocab-size 12 -o x y 2>&1", test_bin()), 2);
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer train --vocab-size 300 --bogus -o x y 2>&1",
                      test_bin()), 2);
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer encode 2>&1", test_bin()), 2);
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer decode -t x --special 2>&1", test_bin()), 2);
}

TEST(cli_help_exits_0_everywhere)
{
    const char *cmds[] = {"--help", "tokenizer --help", "tokenizer train --help",
                          "tokenizer encode --help", "tokenizer decode --help",
                          "tokenizer stats --help", "tokenizer info --help", "corpus --help"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char out[4096];
        CHECK_MSG(test_run(out, sizeof out, "%s %s", test_bin(), cmds[i]) == 0, "%s", cmds[i]);
        CHECK_MSG(strstr(out, "usage") != NULL, "%s printed no usage", cmds[i]);
    }
}

TEST(cli_bad_inputs_fail_with_one_line_naming_the_file)
{
    CHECK_EQ(train_cli(), 0);
    char out[1024];
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer encode -t /no/such.json 2>&1 </dev/null",
                      test_bin()), 1);
    CHECK_CONTAINS(out, "/no/such.json");
    CHECK_EQ(test_run(out, sizeof out, "echo '1 2 x' | %s tokenizer decode -t %s 2>&1", test_bin(),
                      tokfile), 1);
    CHECK_CONTAINS(out, "<stdin>:1: not a token id");
    CHECK_EQ(test_run(out, sizeof out, "printf '1\\n99999\\n' | %s tokenizer decode -t %s 2>&1",
                      test_bin(), tokfile), 1);
    CHECK_CONTAINS(out, "<stdin>:2: token id 99999");
    /* ids up to UINT32_MAX parse (no dk_token holds them) and are named as read; an id
     * out of range before them is reported first */
    CHECK_EQ(test_run(out, sizeof out, "echo '1 4294967295 2' | %s tokenizer decode -t %s 2>&1", test_bin(),
                      tokfile),
             1);
    CHECK_CONTAINS(out, "<stdin>:1: token id 4294967295 at position 1 is out of range");
    CHECK_EQ(test_run(out, sizeof out, "echo '99999 4294967295' | %s tokenizer decode -t %s 2>&1", test_bin(),
                      tokfile),
             1);
    CHECK_CONTAINS(out, "<stdin>:1: token id 99999 at position 0 is out of range");
    CHECK_EQ(test_run(out, sizeof out,
                      "printf 'a\\0\\0\\0\\0\\0\\0\\200' | %s tokenizer decode --binary -t %s 2>&1",
                      test_bin(), tokfile),
             1);
    CHECK_CONTAINS(out, "token id 2147483648 at position 1 is out of range");
    CHECK_EQ(test_run(out, sizeof out, "printf 'abcde' | %s tokenizer decode --binary -t %s 2>&1",
                      test_bin(), tokfile), 1);
    CHECK_CONTAINS(out, "not a whole number");
}

TEST(cli_failed_training_leaves_no_output_file)
{
    char outpath[512], out[1024];
    snprintf(outpath, sizeof outpath, "%s/never.json", test_tmpdir());
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer train -q --vocab-size 300 -o %s /no/such/file 2>&1",
                      test_bin(), outpath), 1);
    CHECK_CONTAINS(out, "/no/such/file");
    CHECK(access(outpath, F_OK) != 0);
    char empty[512];
    snprintf(empty, sizeof empty, "%s", test_write_file("empty.txt", "", 0));
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer train -q --vocab-size 300 -o %s %s 2>&1",
                      test_bin(), outpath, empty), 1);
    CHECK_CONTAINS(out, "no text");
    CHECK(access(outpath, F_OK) != 0);
    CHECK_EQ(test_run(out, sizeof out, "ls %s | grep -c tmp", test_tmpdir()), 1); /* no temp files */
}

TEST(cli_stats_counts_words_syllables_and_tokens)
{
    CHECK_EQ(train_cli(), 0);
    const char *in = test_write_file("stats.txt", "한국어 문장 two words\n", strlen("한국어 문장 two words\n"));
    char out[4096];
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer stats --json -t %s %s", test_bin(), tokfile, in), 0);
    CHECK_CONTAINS(out, "\"words\": 4");
    CHECK_CONTAINS(out, "\"hangul_syllables\": 5");
    CHECK_CONTAINS(out, "\"characters\": 17");
    CHECK_CONTAINS(out, "\"bytes\": 27");
}
