/* test_real_gguf.c: a GGUF that llama.cpp's own converter wrote (ollama's tiny random
 * Llama 2, tests/fixtures/ollama/README.md) run through dokja's commands: generation,
 * tokenizer, eval, import and lineage, against what llama.cpp does with the same file
 * (recorded in llama_cpp_expected.json, and live where node is installed). */
#include <jansson.h>
#include <stdlib.h>

#include "test.h"

#define GGUF "tests/fixtures/ollama/llama-2-tiny-random.gguf"
#define EXPECTED "tests/fixtures/ollama/llama_cpp_expected.json"

static json_t *expected(void)
{
    json_error_t je;
    return json_load_file(EXPECTED, 0, &je);
}

/* The integers of the JSON array `key` in out (at most cap): how many, or -1. */
static int ids_of(const char *json_text, const char *key, long *out, int cap)
{
    json_error_t je;
    json_t *j = json_loads(json_text, 0, &je);
    json_t *a = j ? json_object_get(j, key) : NULL;
    int n = -1;
    if (json_is_array(a) && (int)json_array_size(a) <= cap) {
        n = (int)json_array_size(a);
        for (int i = 0; i < n; i++)
            out[i] = (long)json_integer_value(json_array_get(a, (size_t)i));
    }
    json_decref(j);
    return n;
}

/* cmp of an expected JSON id array with ids[0..n). */
static int same_ids(json_t *want, const long *ids, int n)
{
    if (!json_is_array(want) || (int)json_array_size(want) != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (json_integer_value(json_array_get(want, (size_t)i)) != ids[i])
            return 0;
    return 1;
}

TEST(real_gguf_is_read_with_its_converter_defaults)
{
    char out[4096];
    CHECK_EQ(test_run(out, sizeof out, "sha256sum " GGUF), 0);
    CHECK_CONTAINS(out, "81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb");
    CHECK_EQ(test_run(out, sizeof out, "%s model info " GGUF " 2>&1", test_bin()), 0);
    CHECK_CONTAINS(out, "1 layers, width 8, 2 heads (2 key/value), MLP 32, vocabulary 32000");
}

/* Greedy generation gives llama.cpp's 32 tokens after each prompt, from the same
 * prompt ids (BOS first: the file does not say, and llama.cpp's default for a
 * SentencePiece vocabulary is to add it). */
TEST(real_gguf_generates_the_tokens_llama_cpp_generated)
{
    json_t *e = expected();
    CHECK(e);
    json_t *g = json_object_get(e, "greedy");
    CHECK_EQ(json_array_size(g), 3);
    static char out[1 << 15];
    for (size_t i = 0; i < json_array_size(g); i++) {
        json_t *x = json_array_get(g, i);
        const char *prompt = json_string_value(json_object_get(x, "prompt"));
        CHECK_EQ(test_run(out, sizeof out, "%s generate -m " GGUF " -p '%s' -n 32 --temperature 0 --json --threads 1 2>/dev/null",
                          test_bin(), prompt), 0);
        long ids[64];
        int n = ids_of(out, "ids", ids, 64);
        CHECK_MSG(same_ids(json_object_get(x, "ids"), ids, n), "prompt %zu (%s): dokja %s", i, prompt, out);
        /* the prompt as llama.cpp tokenized it: BOS, then the text's ids */
        json_t *pi = json_object_get(x, "prompt_ids");
        CHECK_EQ(json_integer_value(json_array_get(pi, 0)), 1);
        char path[600];
        snprintf(path, sizeof path, "%s/rg_prompt.txt", test_tmpdir());
        FILE *f = fopen(path, "w");
        CHECK(f);
        fprintf(f, "%s\n", prompt);
        fclose(f);
        CHECK_EQ(test_run(out, sizeof out, "%s tokenizer encode -t " GGUF " %s", test_bin(), path), 0);
        char want[4096] = "";
        for (size_t k = 1; k < json_array_size(pi); k++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", k > 1 ? " " : "",
                     (long long)json_integer_value(json_array_get(pi, k)));
        strcat(want, "\n");
        CHECK_STR(out, want);
    }
    json_decref(e);
}

/* Korean with byte fallback, mixed scripts, tabs, runs of spaces, emoji: llama.cpp's ids
 * (recorded with BOS first; dokja's `tokenizer encode` gives the text's ids alone). */
TEST(real_gguf_tokenizer_encodes_as_llama_cpp)
{
    json_t *e = expected();
    CHECK(e);
    json_t *t = json_object_get(e, "tokenize");
    CHECK_EQ(json_array_size(t), 5);
    char path[600], out[8192];
    snprintf(path, sizeof path, "%s/rg_lines.txt", test_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f);
    for (size_t i = 0; i < json_array_size(t); i++)
        fprintf(f, "%s\n", json_string_value(json_object_get(json_array_get(t, i), "text")));
    fclose(f);
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer encode -t " GGUF " %s", test_bin(), path), 0);
    char *line = out;
    for (size_t i = 0; i < json_array_size(t); i++) {
        json_t *ids = json_object_get(json_array_get(t, i), "ids");
        CHECK_EQ(json_integer_value(json_array_get(ids, 0)), 1);
        char *nl = strchr(line, '\n');
        CHECK(nl);
        *nl = 0;
        char want[4096] = "";
        for (size_t k = 1; k < json_array_size(ids); k++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", k > 1 ? " " : "",
                     (long long)json_integer_value(json_array_get(ids, k)));
        CHECK_MSG(strcmp(line, want) == 0, "line %zu: dokja %s, llama.cpp %s", i, line, want);
        line = nl + 1;
    }
    json_decref(e);
    /* live, on 600 lines of the Korean and English dev corpora, where node is installed */
    if (!test_have_node())
        return;
    char lines[600], ll[600], dk[600];
    snprintf(lines, sizeof lines, "%s/rg_dev.txt", test_tmpdir());
    snprintf(ll, sizeof ll, "%s/rg_ll.txt", test_tmpdir());
    snprintf(dk, sizeof dk, "%s/rg_dk.txt", test_tmpdir());
    CHECK_EQ(test_run(NULL, 0, "(head -n 300 ../shared/data/ko_nsmc/nsmc_dev_00.txt; head -n 150 ../shared/data/en_tinyshakespeare/*.txt; "
                      "cat ../shared/data/ko_laws/* | head -n 150) | grep -v '^$' > %s", lines), 0);
    CHECK_EQ(test_run(NULL, 0, "node tests/node/llama_tokenize.mjs " GGUF " %s --lines --no-bos | tr -d '[]' | tr ',' ' ' > %s", lines, ll), 0);
    CHECK_EQ(test_run(NULL, 0, "%s tokenizer encode -t " GGUF " %s > %s", test_bin(), lines, dk), 0);
    CHECK_EQ(test_run(out, sizeof out, "wc -l < %s", dk), 0);
    CHECK(atoi(out) >= 500);
    CHECK_EQ(test_run(out, sizeof out, "diff %s %s | head -n 4", ll, dk), 0);
    CHECK_STR(out, "");
}

/* eval scores it (its own tokenizer, BOS first), import converts it to a dokja model
 * that generates the same tokens, and lineage finds the copy derived from it. */
TEST(real_gguf_evaluates_imports_and_is_lineage_tested)
{
    static char out[1 << 15], copy[600];
    CHECK_EQ(test_run(out, sizeof out, "%s eval -q -m " GGUF " --task kobest_copa:../shared/data/eval_kobest/COPA_dev.tsv --json 2>&1",
                      test_bin()), 0);
    CHECK_CONTAINS(out, "\"n\":500");
    const char *acc = strstr(out, "\"acc\":");
    CHECK(acc);
    double a = atof(acc + 6);
    CHECK(a > 0.35 && a < 0.65); /* random weights: a coin toss on two choices */
    snprintf(copy, sizeof copy, "%s/rg_imported", test_tmpdir());
    CHECK_EQ(test_run(out, sizeof out, "%s import gguf " GGUF " -o %s 2>&1", test_bin(), copy), 0);
    static char a1[8192], a2[8192];
    CHECK_EQ(test_run(a1, sizeof a1, "%s generate -m " GGUF " -p 'The quick brown fox' -n 24 --temperature 0 --json --threads 1 2>/dev/null", test_bin()), 0);
    CHECK_EQ(test_run(a2, sizeof a2, "%s generate -m %s -p 'The quick brown fox' -n 24 --temperature 0 --json --threads 1 2>/dev/null", test_bin(), copy), 0);
    long i1[64], i2[64];
    int n1 = ids_of(a1, "ids", i1, 64), n2 = ids_of(a2, "ids", i2, 64);
    CHECK_EQ(n1, 24);
    CHECK_EQ(n2, 24);
    CHECK(memcmp(i1, i2, sizeof(long) * 24) == 0);
    CHECK_EQ(test_run(out, sizeof out, "%s lineage -q " GGUF " %s 2>&1", test_bin(), copy), 0);
    CHECK_CONTAINS(out, "verdict: DERIVED");
}

/* llama.cpp's own test cases for the Llama 2 vocabulary (TinyLlama's, the same as this
 * file's; tests/fixtures/llama.cpp/README.md): special-token text parsed, no BOS, a space
 * prefix after a special token as llama.cpp adds it. */
TEST(real_gguf_passes_llama_cpp_tokenizer_tests_for_its_vocabulary)
{
    FILE *f = fopen("tests/fixtures/llama.cpp/ggml-vocab-tinyllama.gguf.inp", "rb");
    FILE *g = fopen("tests/fixtures/llama.cpp/ggml-vocab-tinyllama.gguf.out", "r");
    CHECK(f && g);
    static char inp[1 << 16];
    size_t n = fread(inp, 1, sizeof inp - 1, f);
    inp[n] = 0;
    fclose(f);
    const char *sep = "\n__ggml_vocab_test__\n";
    char *c = inp, want[4096], path[600], out[8192];
    snprintf(path, sizeof path, "%s/rg_case.txt", test_tmpdir());
    int cases = 0;
    for (char *end; (end = strstr(c, sep)); c = end + strlen(sep)) {
        *end = 0;
        CHECK(fgets(want, sizeof want, g));
        want[strcspn(want, "\n")] = 0;
        FILE *w = fopen(path, "wb");
        CHECK(w);
        fwrite(c, 1, strlen(c), w);
        fclose(w);
        /* --binary: the whole input (newlines included) as little-endian uint32 ids */
        CHECK_EQ(test_run(out, sizeof out, "%s tokenizer encode -t " GGUF " --binary --special %s | od -An -v -tu4 | xargs",
                          test_bin(), path), 0);
        out[strcspn(out, "\n")] = 0;
        CHECK_MSG(strcmp(out, want) == 0, "case %d \"%s\": dokja %s, llama.cpp %s", cases, c, out, want);
        cases++;
    }
    fclose(g);
    CHECK_EQ(cases, 11);
}

/* The GGUF's tokenizer matches its SentencePiece model: Debian's spm_encode on the same
 * vocabulary as a SentencePiece model file (tests/fixtures/ollama/README.md) gives
 * dokja's ids on 600 lines of the Korean and English dev corpora and the hard cases. */
TEST(real_gguf_tokenizer_matches_its_sentencepiece_model)
{
    if (test_run(NULL, 0, "command -v spm_encode >/dev/null") != 0) {
        printf("    skipped: spm_encode not installed (Debian package sentencepiece)\n");
        return;
    }
    char lines[600], spm[600], dk[600], out[4096];
    snprintf(lines, sizeof lines, "%s/rg_spm_lines.txt", test_tmpdir());
    snprintf(spm, sizeof spm, "%s/rg_spm.txt", test_tmpdir());
    snprintf(dk, sizeof dk, "%s/rg_spm_dk.txt", test_tmpdir());
    CHECK_EQ(test_run(NULL, 0, "(head -n 300 ../shared/data/ko_nsmc/nsmc_dev_01.txt; head -n 150 ../shared/data/en_tinyshakespeare/*.txt; "
                      "cat ../shared/data/ko_laws/* | head -n 150; printf '탭\\t과  두 칸 😀 漢字 かな Ünïcödé\\n') | grep -v '^$' > %s", lines), 0);
    CHECK_EQ(test_run(NULL, 0, "spm_encode --model tests/fixtures/ollama/llama-2-tiny-random.model --output_format=id < %s > %s", lines, spm), 0);
    CHECK_EQ(test_run(NULL, 0, "%s tokenizer encode -t " GGUF " %s > %s", test_bin(), lines, dk), 0);
    CHECK_EQ(test_run(out, sizeof out, "wc -l < %s", dk), 0);
    CHECK(atoi(out) >= 550);
    CHECK_EQ(test_run(out, sizeof out, "diff %s %s | head -n 4", spm, dk), 0);
    CHECK_STR(out, "");
}
