/* test_import.c: other models' tokenizers in dokja, checked against real
 * implementations:
 *   - SentencePiece BPE with byte fallback (the Llama 2 / Mistral kind): a model
 *     trained by Debian's spm_train, its vocabulary written as a GGUF "llama" vocabulary,
 *     must encode every line as spm_encode does (and as llama.cpp does, where node is
 *     installed);
 *   - byte-level BPE from a GGUF and from a tokenizer.json (dokja's own exports, read
 *     back) encodes as the original;
 *   - malformed tokenizer files are refused with one line.
 * The SentencePiece model uses the identity normaliser and keeps extra white space:
 * llama.cpp normalises nothing, so that is the behaviour both must share. */
#include <stdlib.h>
#include <unistd.h>

#include "interop/interop.h"
#include "io/gguf.h"
#include "test.h"

static const char *abs_bin(void)
{
    static char path[4096];
    if (!path[0] && !realpath(test_bin(), path))
        snprintf(path, sizeof path, "%s", test_bin());
    return path;
}

/* Trains (once) a SentencePiece BPE model on Korean and English and writes its
 * vocabulary as spm.gguf; returns the scratch directory, or NULL (with a message) when
 * spm_train is missing. */
static const char *spm_model(void)
{
    static char dir[600];
    static int tried;
    if (tried)
        return dir[0] ? dir : NULL;
    tried = 1;
    if (test_run(NULL, 0, "command -v spm_train >/dev/null && command -v spm_encode >/dev/null") != 0) {
        printf("    skipped: spm_train/spm_encode not installed (Debian package sentencepiece)\n");
        return NULL;
    }
    const char *t = test_tmpdir();
    if (test_run(NULL, 0,
                 "cd %s && head -3000 \"$OLDPWD\"/../shared/data/ko_nsmc/$(ls \"$OLDPWD\"/../shared/data/ko_nsmc | head -1)"
                 " | LC_ALL=C.UTF-8 grep -ax '.*' > spm_ko.txt && head -3000 \"$OLDPWD\"/../shared/data/en_tinyshakespeare/input.txt"
                 " > spm_en.txt && cat spm_ko.txt spm_en.txt > spm_all.txt && "
                 "spm_train --input=spm_all.txt --model_prefix=spm --model_type=bpe --vocab_size=2000 "
                 "--byte_fallback=true --character_coverage=0.9995 --normalization_rule_name=identity "
                 "--remove_extra_whitespaces=false --num_threads=2 --minloglevel=2 >/dev/null 2>&1", t) != 0)
        return NULL;
    /* spm.vocab: "piece<TAB>score" per id */
    char path[700];
    snprintf(path, sizeof path, "%s/spm.vocab", t);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char *tokens[4096];
    static size_t lens[4096];
    static int32_t types[4096];
    static float scores[4096];
    size_t n = 0;
    char line[1024];
    while (n < 4096 && fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (!tab)
            break;
        *tab = 0;
        tokens[n] = strdup(line);
        lens[n] = strlen(line);
        scores[n] = strtof(tab + 1, NULL);
        types[n] = n == 0 ? 2 : (strcmp(line, "<s>") == 0 || strcmp(line, "</s>") == 0) ? 3
                 : (lens[n] == 6 && strncmp(line, "<0x", 3) == 0) ? 6 : 1;
        n++;
    }
    fclose(f);
    gguf_writer *w = gguf_writer_new();
    gguf_w_str(w, "general.architecture", "llama");
    gguf_w_u32(w, "llama.context_length", 64);
    gguf_w_u32(w, "llama.embedding_length", 8);
    gguf_w_u32(w, "llama.block_count", 1);
    gguf_w_u32(w, "llama.feed_forward_length", 8);
    gguf_w_u32(w, "llama.attention.head_count", 1);
    gguf_w_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    gguf_w_str(w, "tokenizer.ggml.model", "llama");
    gguf_w_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tokens, lens, n);
    gguf_w_arr_i32(w, "tokenizer.ggml.token_type", types, n);
    gguf_w_arr_f32(w, "tokenizer.ggml.scores", scores, n);
    gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1);
    gguf_w_u32(w, "tokenizer.ggml.eos_token_id", 2);
    gguf_w_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    snprintf(path, sizeof path, "%s/spm.gguf", t);
    dk_err err;
    int rc = gguf_writer_save(w, path, &err);
    gguf_writer_free(w);
    for (size_t i = 0; i < n; i++)
        free(tokens[i]);
    if (rc != 0) {
        printf("    %s\n", err.msg);
        return NULL;
    }
    snprintf(dir, sizeof dir, "%s", t);
    return dir;
}

TEST(import_sentencepiece_gguf_vocabulary_encodes_as_spm_encode)
{
    const char *d = spm_model();
    if (!d)
        return;
    /* held-out lines: later lines of the same sources, and other Korean text */
    CHECK_EQ(test_run(NULL, 0,
                      "cd %s && (sed -n 3001,4000p \"$OLDPWD\"/../shared/data/ko_nsmc/$(ls \"$OLDPWD\"/../shared/data/ko_nsmc | head -1);"
                      " sed -n 3001,4000p \"$OLDPWD\"/../shared/data/en_tinyshakespeare/input.txt;"
                      " head -500 \"$OLDPWD\"/../shared/data/ko_laws/laws_dev_00.txt; printf '  two  spaces\\t\\ttab\\n\\n🙂 emoji 乡\\n')"
                      " | LC_ALL=C.UTF-8 grep -ax '.*' > spm_test.txt && spm_encode --model spm.model --output_format=id"
                      " < spm_test.txt > spm_want.txt && %s tokenizer encode -t spm.gguf spm_test.txt > spm_got.txt",
                      d, abs_bin()), 0);
    static char diff[4096];
    CHECK_EQ(test_run(diff, sizeof diff, "cd %s && wc -l < spm_want.txt && diff spm_want.txt spm_got.txt | head -5", d), 0);
    CHECK_MSG(atoi(diff) > 2000, "only %d lines compared", atoi(diff));
    CHECK_MSG(strchr(diff, '<') == NULL, "dokja and spm_encode differ:\n%s", diff);
    static char info[4096];
    CHECK_EQ(test_run(info, sizeof info, "%s tokenizer info -t %s/spm.gguf", test_bin(), d), 0);
    CHECK_CONTAINS(info, "SentencePiece BPE");
    CHECK_CONTAINS(info, "bos          1 (added to every text)");
}

TEST_SLOW(import_sentencepiece_gguf_vocabulary_encodes_as_llama_cpp)
{
    if (!test_have_node())
        return;
    const char *d = spm_model();
    if (!d)
        return;
    CHECK_EQ(test_run(NULL, 0,
                      "cd %s && test -s spm_test.txt || sed -n 3001,4000p \"$OLDPWD\"/../shared/data/en_tinyshakespeare/input.txt"
                      " > spm_test.txt", d), 0);
    char gguf[700], lines[700];
    snprintf(gguf, sizeof gguf, "%s/spm.gguf", d);
    snprintf(lines, sizeof lines, "%s/spm_test.txt", d);
    CHECK_EQ(test_run(NULL, 0, "%s tokenizer encode -t %s %s | awk '{gsub(/ /, \",\"); print \"[\" $0 \"]\"}' > %s/spm_dk.txt",
                      test_bin(), gguf, lines, d), 0);
    CHECK_EQ(test_run(NULL, 0, "node tests/node/llama_tokenize.mjs %s %s --lines --no-bos > %s/spm_ll.txt", gguf, lines, d), 0);
    static char diff[4096];
    CHECK_EQ(test_run(diff, sizeof diff, "diff %s/spm_dk.txt %s/spm_ll.txt | head -5", d, d), 0);
    CHECK_MSG(diff[0] == 0, "dokja and llama.cpp differ:\n%s", diff);
}

TEST(import_refuses_malformed_tokenizer_files_with_one_line)
{
    static char out[4096];
    struct {
        const char *name, *text, *needle;
    } cases[] = {
        {"t1.json", "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", "not a BPE tokenizer.json"},
        {"t2.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}, \"merges\": []}}", "no valid id"},
        {"t3.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []}, "
                    "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}}", "appears twice"},
        {"t4.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, "
                    "\"pre_tokenizer\": {\"type\": \"Whitespace\"}}", "pre_tokenizer is not one dokja knows"},
        {"t5.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, "
                    "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}}", "byte 0x00 has no token"},
        {"t6.json", "{\"model\": ", "t6.json:1"},
        {"t7.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1, \"a\": 2}, \"merges\": []}}", "duplicate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = test_write_file(cases[i].name, cases[i].text, strlen(cases[i].text));
        CHECK_EQ(test_run(out, sizeof out, "%s tokenizer info -t %s 2>&1", test_bin(), p), 1);
        CHECK_MSG(strstr(out, cases[i].needle) != NULL, "%s: expected \"%s\" in: %s", cases[i].name,
                  cases[i].needle, out);
        CHECK(strchr(out, '\n') == out + strlen(out) - 1);
    }
    /* a GGUF without a tokenizer, and one with an unknown pre-tokenizer */
    gguf_writer *w = gguf_writer_new();
    gguf_w_str(w, "general.architecture", "llama");
    char path[700];
    snprintf(path, sizeof path, "%s/notok.gguf", test_tmpdir());
    dk_err err;
    CHECK(gguf_writer_save(w, path, &err) == 0);
    gguf_writer_free(w);
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer info -t %s 2>&1", test_bin(), path), 1);
    CHECK_CONTAINS(out, "missing key \"tokenizer.ggml.model\"");
    const char *toks[2] = {"a", "b"};
    size_t lens[2] = {1, 1};
    w = gguf_writer_new();
    gguf_w_str(w, "tokenizer.ggml.model", "gpt2");
    gguf_w_str(w, "tokenizer.ggml.pre", "my-own");
    gguf_w_arr_str(w, "tokenizer.ggml.tokens", toks, lens, 2);
    gguf_w_arr_str(w, "tokenizer.ggml.merges", toks, lens, 0);
    snprintf(path, sizeof path, "%s/pre.gguf", test_tmpdir());
    CHECK(gguf_writer_save(w, path, &err) == 0);
    gguf_writer_free(w);
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer info -t %s 2>&1", test_bin(), path), 1);
    CHECK_CONTAINS(out, "pre-tokenizer \"my-own\" is not supported");
}

/* Found by 30 minutes of fuzz_tokenizer_json: a tokenizer.json whose special tokens
 * include an empty string made encoding with special-token matching loop forever (the
 * empty token matched at every position without advancing) until memory ran out. */
TEST(import_empty_special_token_does_not_hang_encoding)
{
    char path[512], cmd[1200];
    snprintf(path, sizeof path, "%s/empty_special/tokenizer.json", test_tmpdir());
    snprintf(cmd, sizeof cmd, "mkdir -p %s/empty_special && cp fuzz/corpus/tokenizer_json/regress-empty-special-token.json %s",
             test_tmpdir(), path);
    CHECK_EQ(system(cmd), 0);
    tok *t;
    dk_err err;
    if (tok_open_any(&t, path, &err) != 0) { /* refusing it is a correct answer too */
        CHECK_CONTAINS(err.msg, "tokenizer.json");
        return;
    }
    tok_encoder *e = tok_encoder_new(t);
    CHECK(e);
    static const char text[] = "Hello, world! 안녕하세요 <|eos|> end";
    tok_ids ids = {0};
    /* it returns (this tokenizer cannot encode every byte: an error is fine), and
     * whatever it produced is bounded by the text */
    if (tok_encode(e, (const uint8_t *)text, sizeof text - 1, TOK_ENCODE_SPECIAL, &ids, &err) != 0)
        CHECK(err.msg[0] != 0);
    CHECK(ids.n <= 4 * sizeof text);
    tok_ids_free(&ids);
    tok_encoder_free(e);
    tok_free(t);
}
