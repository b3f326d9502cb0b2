/* test_interop.c: the interop harness (tests/node, docs/interop-harness.md) that checks
 * dokja's exported and imported models against llama.cpp and Hugging Face's tokenizers:
 * its reference implementations load, and its scripts report failures the way the tests
 * that call them expect (exit 1 with the reason on stderr, exit 2 on a usage error).
 * Skipped, with the reason, where node or the installed packages are missing
 * (scripts/node-deps.sh installs them). */
#include "test.h"

TEST(interop_harness_loads_prebuilt_llama_cpp_and_hf_tokenizers)
{
    if (!test_have_node())
        return;
    static char out[4096];
    CHECK_EQ(test_run(out, sizeof out, "node tests/node/check.mjs 2>&1"), 0);
    CHECK_CONTAINS(out, "\"llama_build\":\"prebuilt\"");
    CHECK_CONTAINS(out, "\"repo\":\"ggml-org/llama.cpp\"");
    CHECK_CONTAINS(out, "\"transformers_js\":\"");
    CHECK_CONTAINS(out, "\"hf_tokenizers_rust_bindings\":\"");
}

TEST(interop_scripts_exit_1_with_the_reason_on_a_file_that_is_not_gguf_and_2_on_usage)
{
    if (!test_have_node())
        return;
    static char out[4096];
    const char *text = test_write_file("interop.txt", "hello\n", 6);
    const char *model = test_write_file("not-a-model.gguf", "GGUF but no header", 18);
    CHECK_EQ(test_run(out, sizeof out, "node tests/node/llama_tokenize.mjs %s %s 2>&1", model, text), 1);
    CHECK_CONTAINS(out, "error: ");
    CHECK_CONTAINS(out, "not-a-model.gguf");
    CHECK_EQ(test_run(out, sizeof out, "node tests/node/llama_tokenize.mjs %s 2>&1", model), 2);
    CHECK_CONTAINS(out, "usage: node llama_tokenize.mjs");
    CHECK_EQ(test_run(out, sizeof out, "node tests/node/hf_tokenize.mjs %s --decode --lines 2>&1", test_tmpdir()), 2);
}
