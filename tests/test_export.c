/* test_export.c: dokja's exports run the same in the tools they are for, checked by the
 * tools themselves (tests/node: llama.cpp through node-llama-cpp, Hugging Face's
 * tokenizers through transformers.js and the Rust library's bindings):
 *   - llama.cpp's greedy generation from the GGUF equals `dokja generate --temperature 0`
 *     for 64 tokens on the prompts of scripts/run-default.sh, F32 and F16;
 *   - llama.cpp and both Hugging Face implementations give dokja's ids on a sample of
 *     every line of the dev corpora (../shared/data ko_* and en_*; valid UTF-8 lines);
 *   - what cannot be exported is refused with one line and nothing written.
 * The model: a tokenizer (the default pre-tokenizer) and a small grouped-query model
 * trained briefly (400 steps: it ends some answers with <|eos|> and stops looping on
 * others) on Korean statutes and Shakespeare. Tests that need node skip
 * themselves, saying why, where it is missing (CI installs it). */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/gguf.h"
#include "test.h"

/* The binary by absolute path: these tests cd into the scratch directory. */
static const char *bin(void)
{
    static char path[4096];
    if (!path[0] && !realpath(test_bin(), path))
        snprintf(path, sizeof path, "%s", test_bin());
    return path;
}

static const char *const PROMPTS[] = {"대한민국의", "파일을 저장하려면", "To insert a table"};

/* Trains (once) the model; returns its run directory or NULL. */
static const char *export_model(void)
{
    static char dir[600];
    static int tried;
    if (tried)
        return dir[0] ? dir : NULL;
    tried = 1;
    const char *t = test_tmpdir(), *b = bin();
    const char *cfg = "{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
                      " \"num_key_value_heads\": 2, \"intermediate_size\": 160, \"vocab_size\": 1100,"
                      " \"max_position_embeddings\": 256, \"tie_word_embeddings\": true}";
    char cfgp[600], cwd[4096];
    snprintf(cfgp, sizeof cfgp, "%s", test_write_file("export_cfg.json", cfg, strlen(cfg)));
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    if (test_run(NULL, 0,
                 "cd %s && head -1983 %s/../shared/data/ko_laws/laws_dev_00.txt > ex_ko.txt && "
                 "head -3000 %s/../shared/data/en_tinyshakespeare/input.txt > ex_en.txt && "
                 "%s tokenizer train -q --vocab-size 1024 -o ex_tok.json ex_ko.txt ex_en.txt >/dev/null && "
                 "%s data build -q -t ex_tok.json -o ex_data ex_ko.txt ex_en.txt >/dev/null && "
                 "%s train -q --data ex_data --model %s -o ex_run --steps 400 --batch-size 8 "
                 "--seq-len 64 --lr 3e-3 --threads 2 >/dev/null 2>&1",
                 t, cwd, cwd, b, b, b, cfgp) != 0)
        return NULL;
    snprintf(dir, sizeof dir, "%s/ex_run", t);
    return dir;
}

/* Every 97th line of every dev corpus file that is valid UTF-8 (llama.cpp and the
 * JavaScript tokenizers replace invalid bytes before tokenizing; dokja keeps them). */
static const char *sample_lines(void)
{
    static char path[600];
    if (path[0])
        return path;
    snprintf(path, sizeof path, "%s/ex_lines.txt", test_tmpdir());
    if (test_run(NULL, 0,
                 "for f in ../shared/data/ko_*/* ../shared/data/en_*/*; do awk 'NR %% 97 == 0' \"$f\"; "
                 "done | LC_ALL=C.UTF-8 grep -ax '.*' > %s", path) != 0) {
        path[0] = 0;
        return NULL;
    }
    return path;
}

/* Reads a file whole (static buffer per call site is the caller's). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = 0;
    fclose(f);
    return s;
}

/* The ids in a JSON array text "[1,2,3]" starting at s: count into *n, parsed into ids
 * (capacity cap). Returns the position after ']' or NULL. */
static const char *json_ids(const char *s, int *ids, int cap, int *n)
{
    *n = 0;
    s = strchr(s, '[');
    if (!s)
        return NULL;
    s++;
    while (*s && *s != ']') {
        char *e;
        long v = strtol(s, &e, 10);
        if (e == s)
            return NULL;
        if (*n < cap)
            ids[*n] = (int)v;
        (*n)++;
        s = e;
        while (*s == ',' || *s == ' ')
            s++;
    }
    return *s == ']' ? s + 1 : NULL;
}

/* Compares llama.cpp's greedy continuation from GGUF with dokja's for every prompt. */
static void check_greedy(const char *run, const char *gguf)
{
    static char a[16384], b[16384];
    for (size_t p = 0; p < sizeof PROMPTS / sizeof PROMPTS[0]; p++) {
        CHECK_EQ(test_run(a, sizeof a, "%s generate -m %s -p '%s' -n 64 --temperature 0 --json 2>/dev/null",
                          bin(), run, PROMPTS[p]), 0);
        CHECK_EQ(test_run(b, sizeof b, "node tests/node/llama_greedy.mjs %s --prompt '%s' -n 64 "
                          "--threads 1 2>&1", gguf, PROMPTS[p]), 0);
        int da[80], lb[80], na, nb;
        CHECK(json_ids(strstr(a, "\"ids\""), da, 80, &na) != NULL);
        CHECK(json_ids(strstr(b, "\"ids\""), lb, 80, &nb) != NULL);
        /* dokja stops at <|eos|>; llama.cpp runs on and says where its first EOS was */
        const char *eos = strstr(b, "\"eos_at\":");
        int eos_at = eos && eos[9] != 'n' ? atoi(eos + 9) : -1;
        int want = eos_at >= 0 ? eos_at : nb;
        CHECK_MSG(nb == 64, "llama.cpp gave %d ids: %s", nb, b);
        CHECK_MSG(na == want, "prompt %zu: dokja gave %d ids, llama.cpp %d before EOS\n%s\n%s", p, na,
                  want, a, b);
        for (int i = 0; i < na; i++)
            CHECK_MSG(da[i] == lb[i], "prompt %zu: token %d differs (%d vs %d)\n%s\n%s", p, i, da[i],
                      lb[i], a, b);
    }
}

TEST_SLOW(export_gguf_greedy_generation_in_llama_cpp_equals_dokja_f32_and_f16)
{
    if (!test_have_node())
        return;
    const char *run = export_model();
    CHECK(run != NULL);
    char gguf[700];
    for (int k = 0; k < 2; k++) {
        const char *type = k ? "f16" : "f32";
        snprintf(gguf, sizeof gguf, "%s/ex_%s.gguf", test_tmpdir(), type);
        CHECK_EQ(test_run(NULL, 0, "%s export gguf %s -o %s --type %s 2>/dev/null", bin(), run, gguf, type), 0);
        check_greedy(run, gguf);
        if (test_failed_now())
            return;
    }
}

TEST_SLOW(export_gguf_bf16_and_q8_0_load_and_run_in_llama_cpp)
{
    if (!test_have_node())
        return;
    const char *run = export_model();
    CHECK(run != NULL);
    static char out[16384];
    const char *types[] = {"bf16", "q8_0"};
    for (int k = 0; k < 2; k++) {
        char gguf[700];
        snprintf(gguf, sizeof gguf, "%s/ex_%s.gguf", test_tmpdir(), types[k]);
        CHECK_EQ(test_run(NULL, 0, "%s export gguf %s -o %s --type %s 2>/dev/null", bin(), run, gguf,
                          types[k]), 0);
        CHECK_EQ(test_run(out, sizeof out, "node tests/node/llama_greedy.mjs %s --prompt '%s' -n 16 "
                          "--threads 1 2>&1", gguf, PROMPTS[0]), 0);
        int ids[32], n;
        CHECK(json_ids(strstr(out, "\"ids\""), ids, 32, &n) != NULL);
        CHECK_EQ(n, 16);
    }
}

/* dokja's ids of every line of lines, one JSON-ish array per line as the node scripts
 * print them, with `prefix` (an id, or -1) in front. */
static int dokja_ids(const char *tokenizer, const char *lines, int prefix, const char *out)
{
    char pre[32] = "";
    if (prefix >= 0)
        snprintf(pre, sizeof pre, "%d,", prefix);
    return test_run(NULL, 0, "%s tokenizer encode -t %s %s | awk '{gsub(/ /, \",\"); print \"[%s\" $0 \"]\"}' "
                    "| sed 's/,]$/]/' > %s", bin(), tokenizer, lines, pre, out);
}

static void check_same_lines(const char *want_path, const char *got_path, const char *what)
{
    char *w = slurp(want_path), *g = slurp(got_path);
    CHECK(w && g);
    size_t line = 1;
    const char *x = w, *y = g;
    while (*x && *y) {
        const char *ex = strchr(x, '\n'), *ey = strchr(y, '\n');
        if (!ex || !ey)
            break;
        if ((ex - x) != (ey - y) || memcmp(x, y, (size_t)(ex - x)) != 0) {
            test_fail(__FILE__, __LINE__, "%s: line %zu differs:\n  dokja %.*s\n  other %.*s", what, line,
                      (int)(ex - x > 300 ? 300 : ex - x), x, (int)(ey - y > 300 ? 300 : ey - y), y);
            free(w);
            free(g);
            return;
        }
        x = ex + 1;
        y = ey + 1;
        line++;
    }
    int same_end = !*x && !*y;
    free(w);
    free(g);
    CHECK_MSG(same_end, "%s: line counts differ (after %zu lines)", what, line);
    CHECK(line > 1000);
}

TEST_SLOW(export_gguf_tokenizer_gives_dokja_ids_in_llama_cpp_on_the_dev_corpora)
{
    if (!test_have_node())
        return;
    const char *run = export_model(), *lines = sample_lines();
    CHECK(run && lines);
    char gguf[700], want[700], got[700], tokp[700];
    snprintf(gguf, sizeof gguf, "%s/ex_tok.gguf", test_tmpdir());
    snprintf(want, sizeof want, "%s/ex_want_ll.txt", test_tmpdir());
    snprintf(got, sizeof got, "%s/ex_got_ll.txt", test_tmpdir());
    snprintf(tokp, sizeof tokp, "%s/dokja_tokenizer.json", run);
    CHECK_EQ(test_run(NULL, 0, "%s export gguf %s -o %s 2>/dev/null", bin(), run, gguf), 0);
    CHECK_EQ(dokja_ids(tokp, lines, -1, want), 0);
    CHECK_EQ(test_run(NULL, 0, "node tests/node/llama_tokenize.mjs %s %s --lines --no-bos > %s", gguf, lines, got), 0);
    check_same_lines(want, got, "llama.cpp");
}

TEST_SLOW(export_hf_tokenizer_json_gives_dokja_ids_in_transformers_js_and_hf_tokenizers)
{
    if (!test_have_node())
        return;
    const char *run = export_model(), *lines = sample_lines();
    CHECK(run && lines);
    char hf[700], want[700], got[700], tokp[700];
    snprintf(hf, sizeof hf, "%s/ex_hf", test_tmpdir());
    snprintf(want, sizeof want, "%s/ex_want_hf.txt", test_tmpdir());
    snprintf(got, sizeof got, "%s/ex_got_hf.txt", test_tmpdir());
    snprintf(tokp, sizeof tokp, "%s/dokja_tokenizer.json", run);
    CHECK_EQ(test_run(NULL, 0, "rm -rf %s && %s export hf %s -o %s 2>/dev/null", hf, bin(), run, hf), 0);
    static char eos[64];
    CHECK_EQ(test_run(eos, sizeof eos, "echo '<|eos|>' | %s tokenizer encode --special -t %s", bin(), tokp), 0);
    /* the post-processor puts <|eos|> in front, as dokja's documents start */
    CHECK_EQ(dokja_ids(tokp, lines, atoi(eos), want), 0);
    const char *impl[] = {"transformers", "rust"};
    for (int k = 0; k < 2; k++) {
        CHECK_EQ(test_run(NULL, 0, "node tests/node/hf_tokenize.mjs %s %s --lines --impl %s > %s", hf, lines,
                          impl[k], got), 0);
        check_same_lines(want, got, impl[k]);
        if (test_failed_now())
            return;
    }
    /* dokja reads the export as a model too */
    static char out[4096];
    CHECK_EQ(test_run(out, sizeof out, "%s model info %s", bin(), hf), 0);
    CHECK_CONTAINS(out, "vocabulary 1100");
}

TEST(export_refuses_what_other_tools_cannot_read_and_writes_nothing)
{
    const char *t = test_tmpdir(), *b = bin();
    static char out[4096];
    /* a dokja-v1 tokenizer: llama.cpp cannot split like it */
    const char *cfg = "{\"hidden_size\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
                      " \"intermediate_size\": 64, \"vocab_size\": 300, \"max_position_embeddings\": 32}";
    char cfgp[600];
    snprintf(cfgp, sizeof cfgp, "%s", test_write_file("v1_cfg.json", cfg, strlen(cfg)));
    const char *text = "가나다라 마바사 hello world 123\n";
    const char *corpus = test_write_file("v1.txt", text, strlen(text));
    CHECK_EQ(test_run(NULL, 0, "cd %s && %s tokenizer train -q --pretokenizer dokja-v1 --vocab-size 270 -o v1_tok.json %s "
                      ">/dev/null && %s data build -q --val-fraction 0 -t v1_tok.json -o v1_data %s >/dev/null && "
                      "%s train -q --data v1_data --model %s -o v1_run --steps 2 --batch-size 1 --seq-len 8 "
                      ">/dev/null 2>&1", t, b, corpus, b, corpus, b, cfgp), 0);
    CHECK_EQ(test_run(out, sizeof out, "cd %s && %s export gguf v1_run -o v1.gguf 2>&1", t, b), 1);
    CHECK_CONTAINS(out, "dokja-v1");
    CHECK_CONTAINS(out, "retrain");
    CHECK(strchr(out, '\n') == out + strlen(out) - 1);
    CHECK_EQ(test_run(out, sizeof out, "cd %s && %s export hf v1_run -o v1_hf 2>&1", t, b), 1);
    CHECK_CONTAINS(out, "retrain");
    CHECK_EQ(test_run(NULL, 0, "cd %s && ls v1.gguf* v1_hf* 2>/dev/null | grep -q .", t), 1);
    /* usage errors */
    CHECK_EQ(test_run(out, sizeof out, "%s export gguf %s/v1_run 2>&1", b, t), 2);
    CHECK_EQ(test_run(out, sizeof out, "%s export gguf %s/v1_run -o x.gguf --type q4_k 2>&1", b, t), 2);
    CHECK_CONTAINS(out, "q4_k");
    /* an existing directory is never overwritten */
    CHECK_EQ(test_run(out, sizeof out, "%s export hf %s/v1_run -o %s 2>&1", b, t, t), 1);
    CHECK_CONTAINS(out, "already exists");
    /* a model directory that is not one */
    CHECK_EQ(test_run(out, sizeof out, "%s export gguf %s/nothing -o %s/n.gguf 2>&1", b, t, t), 1);
    CHECK_EQ(test_run(NULL, 0, "ls %s/n.gguf* 2>/dev/null | grep -q .", t), 1);
}

TEST_SLOW(import_of_the_exports_tokenizes_exactly_as_the_original)
{
    const char *run = export_model(), *lines = sample_lines();
    CHECK(run && lines);
    const char *t = test_tmpdir();
    char tokp[700];
    snprintf(tokp, sizeof tokp, "%s/dokja_tokenizer.json", run);
    CHECK_EQ(test_run(NULL, 0, "cd %s && rm -rf rt_hf && %s export gguf %s -o rt.gguf 2>/dev/null && "
                      "%s export hf %s -o rt_hf 2>/dev/null", t, bin(), run, bin(), run), 0);
    CHECK_EQ(test_run(NULL, 0, "cd %s && %s tokenizer encode -t %s %s > rt_want.txt && "
                      "%s tokenizer encode -t rt.gguf %s > rt_gguf.txt && "
                      "%s tokenizer encode -t rt_hf/tokenizer.json %s > rt_json.txt && "
                      "cmp rt_want.txt rt_gguf.txt && cmp rt_want.txt rt_json.txt",
                      t, bin(), tokp, lines, bin(), lines, bin(), lines), 0);
    static char info[4096];
    CHECK_EQ(test_run(info, sizeof info, "%s tokenizer info -t %s/rt_hf/tokenizer.json", bin(), t), 0);
    CHECK_CONTAINS(info, "pretokenizer gpt-2");
    CHECK_CONTAINS(info, "bos          257 (added to every text)");
}

/* "sha256 <hex>" of `dokja model info` */
static int model_sha(const char *model, char hex[65])
{
    static char out[4096];
    if (test_run(out, sizeof out, "%s model info %s 2>&1", bin(), model) != 0)
        return -1;
    const char *s = strstr(out, "sha256 ");
    if (!s)
        return -1;
    snprintf(hex, 65, "%.64s", s + 7);
    return 0;
}

TEST_SLOW(import_gguf_and_hf_models_keep_their_identity_generate_and_score_the_same)
{
    const char *run = export_model();
    CHECK(run != NULL);
    const char *t = test_tmpdir();
    CHECK_EQ(test_run(NULL, 0, "cd %s && rm -rf im_hf im_g im_h && %s export gguf %s -o im.gguf 2>/dev/null && "
                      "%s export gguf %s -o im8.gguf --type q8_0 2>/dev/null && %s export hf %s -o im_hf 2>/dev/null && "
                      "%s import gguf im.gguf -o im_g 2>/dev/null && %s import hf im_hf -o im_h 2>/dev/null",
                      t, bin(), run, bin(), run, bin(), run, bin(), bin()), 0);
    /* F32 there and back: the permutation and its inverse are exact */
    char want[65], got[65], path[700];
    CHECK(model_sha(run, want) == 0);
    const char *same[] = {"im.gguf", "im_g", "im_hf", "im_h"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", t, same[i]);
        CHECK(model_sha(path, got) == 0);
        CHECK_MSG(strcmp(want, got) == 0, "%s: sha256 %s, the original %s", same[i], got, want);
    }
    /* the same generation from the directory, the GGUF and the import */
    static char a[8192], b[8192];
    CHECK_EQ(test_run(a, sizeof a, "%s generate -m %s -p '%s' -n 32 --temperature 0 --json 2>/dev/null", bin(), run,
                      PROMPTS[1]), 0);
    for (size_t i = 0; i < 2; i++) {
        CHECK_EQ(test_run(b, sizeof b, "%s generate -m %s/%s -p '%s' -n 32 --temperature 0 --json 2>/dev/null", bin(),
                          t, same[i], PROMPTS[1]), 0);
        CHECK_STR(a, b);
    }
    /* a Q8_0 GGUF is dequantized: it runs, and scores close to the original */
    CHECK_EQ(test_run(b, sizeof b, "cd %s && head -40 ex_en.txt > im_ppl.txt && %s eval -m %s --task text:im_ppl.txt "
                      "--ref im.gguf -q 2>&1", t, bin(), run), 0);
    CHECK_CONTAINS(b, "relative to the best reference (im.gguf): 1.0000"); /* F32: the same bits */
    /* Q8_0: close, either way (rounding may even score a hair better on a short text) */
    CHECK_EQ(test_run(b, sizeof b, "cd %s && %s eval -m %s --task text:im_ppl.txt --ref im8.gguf -q 2>&1", t, bin(), run),
             0);
    const char *q = strstr(b, "relative to the best reference (im8.gguf): ");
    CHECK(q != NULL);
    double rel = strtod(q + strlen("relative to the best reference (im8.gguf): "), NULL);
    CHECK_MSG(fabs(rel - 1) < 0.01, "Q8_0 relative score %g", rel);
}

/* A GGUF with the llama keys of a 1-layer, width-32 model and tensors of zeros, plus
 * what `extra` adds; written to NAME under the scratch dir. */
static const char *small_gguf(const char *name, const char *arch, int rope_freqs)
{
    static char path[700];
    static float zeros[64 * 64];
    gguf_writer *w = gguf_writer_new();
    gguf_w_str(w, "general.architecture", arch);
    gguf_w_u32(w, "llama.embedding_length", 32);
    gguf_w_u32(w, "llama.block_count", 1);
    gguf_w_u32(w, "llama.attention.head_count", 2);
    gguf_w_u32(w, "llama.feed_forward_length", 64);
    gguf_w_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    uint64_t e[2] = {32, 64}, v[1] = {32}, q[2] = {32, 32}, up[2] = {32, 64}, dn[2] = {64, 32}, rf[1] = {8};
    gguf_w_tensor(w, "token_embd.weight", GGML_F32, 2, e, zeros, NULL);
    gguf_w_tensor(w, "output_norm.weight", GGML_F32, 1, v, zeros, NULL);
    const char *sq[] = {"attn_q", "attn_k", "attn_v", "attn_output"};
    char nm[64];
    for (int k = 0; k < 4; k++) {
        snprintf(nm, sizeof nm, "blk.0.%s.weight", sq[k]);
        gguf_w_tensor(w, nm, GGML_F32, 2, q, zeros, NULL);
    }
    gguf_w_tensor(w, "blk.0.attn_norm.weight", GGML_F32, 1, v, zeros, NULL);
    gguf_w_tensor(w, "blk.0.ffn_norm.weight", GGML_F32, 1, v, zeros, NULL);
    gguf_w_tensor(w, "blk.0.ffn_gate.weight", GGML_F32, 2, up, zeros, NULL);
    gguf_w_tensor(w, "blk.0.ffn_up.weight", GGML_F32, 2, up, zeros, NULL);
    gguf_w_tensor(w, "blk.0.ffn_down.weight", GGML_F32, 2, dn, zeros, NULL);
    if (rope_freqs)
        gguf_w_tensor(w, "rope_freqs.weight", GGML_F32, 1, rf, zeros, NULL);
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    dk_err err;
    int rc = gguf_writer_save(w, path, &err);
    gguf_writer_free(w);
    return rc == 0 ? path : NULL;
}

TEST(import_refuses_what_dokja_cannot_compute_the_same_way)
{
    static char out[4096];
    const char *t = test_tmpdir(), *p = small_gguf("ok.gguf", "llama", 0);
    CHECK(p != NULL);
    CHECK_EQ(test_run(out, sizeof out, "%s model info %s 2>&1", bin(), p), 0);
    CHECK_CONTAINS(out, "1 layers, width 32, 2 heads (2 key/value), MLP 64, vocabulary 64");
    p = small_gguf("qwen.gguf", "qwen2", 0);
    CHECK_EQ(test_run(out, sizeof out, "%s model info %s 2>&1", bin(), p), 1);
    CHECK_CONTAINS(out, "architecture \"qwen2\" is not supported");
    p = small_gguf("scaled.gguf", "llama", 1);
    CHECK_EQ(test_run(out, sizeof out, "%s import gguf %s -o %s/never 2>&1", bin(), p, t), 1);
    CHECK_CONTAINS(out, "RoPE scaling");
    CHECK_EQ(test_run(NULL, 0, "ls -d %s/never* 2>/dev/null | grep -q .", t), 1);
    /* a truncated GGUF, and the wrong import kind */
    CHECK_EQ(test_run(out, sizeof out, "head -c 300 %s > %s/cut.gguf && %s generate -m %s/cut.gguf 2>&1", p, t, bin(), t), 1);
    CHECK_CONTAINS(out, "cut.gguf: ");
    CHECK(strchr(out, '\n') == out + strlen(out) - 1);
    CHECK_EQ(test_run(out, sizeof out, "%s import hf %s -o %s/never 2>&1", bin(), p, t), 2);
    CHECK_CONTAINS(out, "use dokja import gguf");
}

TEST_SLOW(lineage_runs_on_gguf_files_and_finds_the_export_and_its_q8_0_derived)
{
    const char *run = export_model();
    CHECK(run != NULL);
    const char *t = test_tmpdir();
    static char out[16384];
    CHECK_EQ(test_run(NULL, 0, "cd %s && %s export gguf %s -o ln.gguf 2>/dev/null && "
                      "%s export gguf %s -o ln8.gguf --type q8_0 2>/dev/null", t, bin(), run, bin(), run), 0);
    const char *b[] = {"ln.gguf", "ln8.gguf"};
    for (int k = 0; k < 2; k++) {
        CHECK_EQ(test_run(out, sizeof out, "cd %s && %s lineage %s %s 2>&1", t, bin(), run, b[k]), 0);
        CHECK_CONTAINS(out, "verdict: DERIVED");
        CHECK_CONTAINS(out, "0<-0");
        CHECK_CONTAINS(out, "activation test");
        CHECK(strstr(out, "not run") == NULL);
    }
}

/* The pre-tokenizers other than the default, through llama.cpp and Hugging Face: a
 * tokenizer of each kind, a one-step model, the export, and the ids of the dev-corpora
 * sample compared. llama-bpe also checks ignore_merges (llama.cpp looks a Llama 3 chunk
 * up whole before merging, and dokja must do the same). */
TEST_SLOW(export_every_pretokenizer_family_tokenizes_as_llama_cpp_and_hf)
{
    if (!test_have_node())
        return;
    const char *lines = sample_lines();
    CHECK(lines != NULL && export_model() != NULL); /* the model's texts and config */
    const char *t = test_tmpdir();
    static const char *const KINDS[] = {"llama-bpe", "qwen2", "exaone", "kanana2"};
    for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
        const char *K = KINDS[k];
        int hf = strcmp(K, "kanana2") != 0; /* llama.cpp's kanana2 splits unlike its tokenizer.json */
        CHECK_EQ(test_run(NULL, 0,
                          "cd %s && rm -rf pk_%s pk_%s_data pk_%s_hf && "
                          "%s tokenizer train -q --pretokenizer %s --vocab-size 1024 -o pk_%s.json ex_ko.txt ex_en.txt >/dev/null && "
                          "%s data build -q --val-fraction 0 -t pk_%s.json -o pk_%s_data ex_en.txt >/dev/null && "
                          "%s train -q --data pk_%s_data --model export_cfg.json -o pk_%s --steps 1 --batch-size 1 "
                          "--seq-len 16 >/dev/null 2>&1 && %s export gguf pk_%s -o pk_%s.gguf 2>/dev/null && "
                          "%s tokenizer encode -t pk_%s.json %s | awk '{gsub(/ /, \",\"); print \"[\" $0 \"]\"}' > pk_want.txt",
                          t, K, K, K, bin(), K, K, bin(), K, K, bin(), K, K, bin(), K, K, bin(), K, lines), 0);
        char want[700], got[700], gguf[700];
        snprintf(want, sizeof want, "%s/pk_want.txt", t);
        snprintf(got, sizeof got, "%s/pk_got.txt", t);
        snprintf(gguf, sizeof gguf, "%s/pk_%s.gguf", t, K);
        CHECK_EQ(test_run(NULL, 0, "node tests/node/llama_tokenize.mjs %s %s --lines --no-bos > %s", gguf, lines, got), 0);
        check_same_lines(want, got, K);
        if (test_failed_now() || !hf)
            continue;
        CHECK_EQ(test_run(NULL, 0, "cd %s && %s export hf pk_%s -o pk_%s_hf 2>/dev/null && "
                          "node \"$OLDPWD\"/tests/node/hf_tokenize.mjs pk_%s_hf %s --lines --no-special --impl rust > %s",
                          t, bin(), K, K, K, lines, got), 0);
        check_same_lines(want, got, K);
    }
}
