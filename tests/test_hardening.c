/* test_hardening.c: what a careless or hostile user could do to the CLI (issue 17):
 * malformed numbers, usage errors that must name the option, output that cannot be
 * written, invalid UTF-8 prompts, an edit that would overwrite its input, weights holding
 * NaN. Each of these passed silently before. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "model/model_io.h"
#include "model/params.h"
#include "io/safetensors.h"
#include "util/err.h"
#include "util/fs.h"
#include "test.h"

TEST(hardening_number_options_have_one_strict_syntax_and_errors_name_the_option)
{
    char out[4096];
    static const char *bad[] = {"''", "0x10", "' 1'", "inf", "nan", "1e", ".", "--"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(test_run(out, sizeof out, "%s generate -m /nonexistent --temperature %s 2>&1", test_bin(), bad[i]), 2);
        CHECK_CONTAINS(out, "for --temperature");
    }
    /* the value of a short option is named by its long name, not by the value */
    CHECK_EQ(test_run(out, sizeof out, "%s generate -m /nonexistent -n -1 2>&1", test_bin()), 2);
    CHECK_CONTAINS(out, "bad value '-1' for --tokens");
    CHECK_EQ(test_run(out, sizeof out, "%s train --data x --model y -o z --lr '' 2>&1", test_bin()), 2);
    CHECK_CONTAINS(out, "--lr");
    CHECK_EQ(test_run(out, sizeof out, "%s data build -t x -o y --val-fraction 0x0.1 z 2>&1", test_bin()), 2);
    /* well-formed values still pass the parser (then fail on the missing model: exit 1) */
    CHECK_EQ(test_run(out, sizeof out, "%s generate -m /nonexistent --temperature 1e-3 --top-p .5 2>&1", test_bin()), 1);
}

TEST(hardening_unwritable_stdout_is_a_failure)
{
    char out[4096];
    CHECK_EQ(test_run(out, sizeof out, "%s version > /dev/full 2>&1", test_bin()), 1);
    CHECK_EQ(test_run(out, sizeof out, "%s version 2>&1 > /dev/full", test_bin()), 1);
    CHECK_CONTAINS(out, "cannot write standard output");
    CHECK_EQ(test_run(out, sizeof out, "%s version > /dev/null", test_bin()), 0);
}

TEST(hardening_generate_prompt_must_be_utf8)
{
    char out[4096];
    CHECK_EQ(test_run(out, sizeof out, "%s generate -m /nonexistent -p \"$(printf 'ab\\377')\" 2>&1", test_bin()), 1);
    CHECK_CONTAINS(out, "-p: the prompt is not valid UTF-8 (at byte 2)");
}

TEST(hardening_model_edit_does_not_overwrite_its_input_or_an_existing_directory)
{
    char out[4096];
    const char *d = test_tmpdir();
    CHECK_EQ(test_run(out, sizeof out, "%s model edit %s %s --noise 0.1 2>&1", test_bin(), d, d), 1);
    CHECK_CONTAINS(out, "is the input model (--force replaces it)");
    CHECK_EQ(test_run(out, sizeof out, "%s model edit /nonexistent %s --noise 0.1 2>&1", test_bin(), d), 1);
    CHECK_CONTAINS(out, "already exists");
}

TEST(hardening_weights_holding_nan_or_infinity_are_refused_at_load)
{
    const char *cfg = "{\"hidden_size\": 16, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
                      " \"intermediate_size\": 32, \"vocab_size\": 50}";
    model_config c;
    dk_err err;
    CHECK(model_config_from_json(&c, cfg, "cfg", &err) == 0);
    pool *p = pool_new(1);
    for (int k = 0; k < 2; k++) {
        model *m, *back = NULL;
        CHECK(model_new(&m, &c, p, &err) == 0);
        params_init(model_layout(m), model_params(m), 3);
        model_params(m)[model_numel(m) / 2] = k ? INFINITY : NAN;
        char dir[600];
        snprintf(dir, sizeof dir, "%s/nan_model_%d", test_tmpdir(), k);
        CHECK(model_save_dir(m, dir, NULL, NULL, NULL, 0, &err) == 0);
        CHECK(model_load_dir(&back, dir, p, &err) != 0);
        CHECK_CONTAINS(err.msg, k ? "holds an infinity at element" : "holds NaN at element");
        CHECK(back == NULL);
        model_free(m);
    }
    pool_free(p);
}

/* A FIFO with no writer, or a link to /dev/zero, where a file is expected: refused at
 * once (timeout 20 turns a hang into exit 124). */
TEST(hardening_fifos_and_devices_are_refused_not_read_forever)
{
    char out[4096], d[700];
    snprintf(d, sizeof d, "%s/fifo_case", test_tmpdir());
    CHECK_EQ(test_run(out, sizeof out,
                      "mkdir -p %s/m %s/z && mkfifo %s/in.txt %s/m/config.json && ln -sf /dev/zero %s/z/model.safetensors &&"
                      " printf '{\"hidden_size\": 16, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
                      " \"intermediate_size\": 32, \"vocab_size\": 50}' > %s/z/config.json",
                      d, d, d, d, d, d), 0);
    CHECK_EQ(test_run(out, sizeof out, "timeout 20 %s tokenizer train --vocab-size 300 -o %s/t.json %s/in.txt 2>&1",
                      test_bin(), d, d), 1);
    CHECK_CONTAINS(out, "not a regular file");
    CHECK_EQ(test_run(out, sizeof out, "timeout 20 %s model info %s/m 2>&1", test_bin(), d), 1);
    CHECK_CONTAINS(out, "not a regular file");
    CHECK_EQ(test_run(out, sizeof out, "timeout 20 %s model info %s/z 2>&1", test_bin(), d), 1);
    CHECK_CONTAINS(out, "not a regular file");
    CHECK_EQ(test_run(out, sizeof out, "timeout 20 %s generate -m %s/z -f %s/in.txt 2>&1", test_bin(), d, d), 1);
    CHECK_CONTAINS(out, "not a regular file");
}

/* DIR (under the scratch dir, its path into dir and its weights' path into path) with
 * config.json = cfg and a model.safetensors of one F32 tensor NAME of n values. */
static int model_dir_with(char *dir, char *path, const char *sub, const char *cfg, const char *name, size_t n)
{
    char out[256];
    sprintf(dir, "%s/%s", test_tmpdir(), sub);
    sprintf(path, "%s/model.safetensors", dir);
    if (test_run(out, sizeof out, "mkdir -p %s && printf '%%s' '%s' > %s/config.json", dir, cfg, dir) != 0)
        return -1;
    float *x = calloc(n, sizeof *x);
    uint64_t shape[1] = {n};
    st_entry e = {name, ST_F32, 1, shape, x};
    dk_err err;
    int rc = x ? st_write(path, &e, 1, NULL, NULL, 0, &err) : -1;
    free(x);
    return rc;
}

/* A tensor name with a newline, an escape sequence and a bell reaches the error line
 * escaped: one line, no terminal control (it used to print as two lines in colour). */
TEST(hardening_strings_from_files_are_escaped_in_messages)
{
    char dir[700], path[800], out[4096];
    /* as many values as the config's parameters, so the names are read */
    CHECK(model_dir_with(dir, path, "evil_model",
                         "{\"hidden_size\": 16, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
                         " \"intermediate_size\": 32, \"vocab_size\": 50}",
                         "evil\ndokja: FORGED\x1b[31m\a", 5000) == 0);
    CHECK_EQ(test_run(out, sizeof out, "%s model info %s 2>&1", test_bin(), dir), 1);
    CHECK(strchr(out, '\n') == out + strlen(out) - 1); /* one line */
    CHECK(!strchr(out, '\x1b') && !strchr(out, '\a'));
    CHECK_CONTAINS(out, "evil\\ndokja: FORGED\\x1b[31m\\x07");
}

TEST(hardening_library_warnings_are_escaped_too)
{
    /* the library's own warnings (a skipped checkpoint, an unwritable cache, select's
     * progress names) quote paths and names from files: dk_warnf and dk_put_safe give
     * one line, with no terminal control and no bytes that are not UTF-8 */
    char path[700];
    snprintf(path, sizeof path, "%s/warn.txt", test_tmpdir());
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL && saved >= 0);
    dup2(fileno(f), 2);
    dk_warnf("skipping checkpoint: %s", "run/evil\ndokja: FORGED\x1b[31m\a\xc2\x9b\xff");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(f);
    char out[512] = {0};
    f = fopen(path, "r");
    size_t n = fread(out, 1, sizeof out - 1, f);
    fclose(f);
    CHECK(n > 0 && strchr(out, '\n') == out + n - 1); /* one line */
    CHECK(!strchr(out, '\x1b') && !strchr(out, '\a') && !strchr(out, '\xff') && !strstr(out, "\xc2\x9b"));
    CHECK_CONTAINS(out, "dokja: warning: skipping checkpoint: run/evil\\ndokja: FORGED\\x1b[31m\\x07\\x9b\\xff");
}

/* Address space for the 27 GB mapping below, while an allocation of 50 GB would fail
 * rather than thrash if the check were missing; AddressSanitizer reserves terabytes of
 * address space for its shadow, so its build runs without the limit. */
#ifdef __SANITIZE_ADDRESS__
#define AS_LIMIT ""
#else
#define AS_LIMIT "ulimit -v 40000000; "
#endif

/* config.json is checked against the weight files, and the model against the memory,
 * before the model is allocated (it used to allocate what config.json claimed first). */
TEST(hardening_model_size_is_checked_before_allocation)
{
    char dir[700], path[800], out[4096];
    /* Llama-7B's shape beside a file of 2 floats */
    CHECK(model_dir_with(dir, path, "claims",
                         "{\"hidden_size\": 4096, \"num_hidden_layers\": 32, \"num_attention_heads\": 32,"
                         " \"intermediate_size\": 11008, \"vocab_size\": 32000}", "x", 2) == 0);
    CHECK_EQ(test_run(out, sizeof out, "%s%s model info %s 2>&1", AS_LIMIT, test_bin(), dir), 1);
    CHECK_CONTAINS(out, "config.json describes 6738415616 parameters, the weight files hold 2");
    /* a file that does hold them (sparse: 27 GB of zeros on no disk) but more than this
     * machine's memory can take with gradients: both numbers, before any allocation */
    const uint64_t n = 6738415616ull;
    char header[256];
    int hl = snprintf(header, sizeof header, "{\"x\":{\"dtype\":\"F32\",\"shape\":[%llu],\"data_offsets\":[0,%llu]}}",
                      (unsigned long long)n, (unsigned long long)(4 * n));
    while (hl % 8)
        header[hl++] = ' ';
    FILE *f = fopen(path, "wb");
    uint64_t len = (uint64_t)hl;
    CHECK(f && fwrite(&len, 8, 1, f) == 1 && fwrite(header, 1, (size_t)hl, f) == (size_t)hl);
    CHECK(f && ftruncate(fileno(f), (off_t)(8 + hl + 4 * n)) == 0);
    if (f)
        fclose(f);
    CHECK_EQ(test_run(out, sizeof out, "%s%s model info %s 2>&1", AS_LIMIT, test_bin(), dir), 1);
    CHECK_CONTAINS(out, "needs 50.2 GiB (6738415616 parameters, 8 bytes each: the weights and their gradients");
    CHECK_CONTAINS(out, "GiB of memory is available");
    CHECK_EQ(test_run(NULL, 0, "rm -f %s", path), 0);
}

/* Debris of killed writers (PATH.tmp.PID, DIR.partial.PID) is removed by the next write
 * of the same path when its process is gone, and a live writer's is left alone. */
TEST(hardening_debris_of_dead_writers_is_cleaned_up)
{
    char d[700], out[4096];
    snprintf(d, sizeof d, "%s/debris", test_tmpdir());
    /* a PID that is not running: a child that has exited and been reaped */
    CHECK_EQ(test_run(out, sizeof out, "sh -c 'echo $$'"), 0);
    long dead = atol(out), alive = 1; /* init: always running */
    CHECK_EQ(test_run(out, sizeof out,
                      "mkdir -p %s/out.json.partial.%ld && touch %s/out.json.partial.%ld/a %s/out.json.tmp.%ld"
                      " %s/out.json.tmp.%ld %s/other.tmp.%ld",
                      d, dead, d, dead, d, dead, d, alive, d, dead), 0);
    char path[800];
    snprintf(path, sizeof path, "%s/out.json", d);
    dk_err err;
    CHECK(fs_write_file_atomic(path, "{}\n", 3, &err) == 0);
    CHECK_EQ(test_run(out, sizeof out, "ls -a %s | tr '\\n' ' '", d), 0);
    char gone1[64], gone2[64], kept[64], other[64];
    snprintf(gone1, sizeof gone1, "out.json.tmp.%ld ", dead);
    snprintf(gone2, sizeof gone2, "out.json.partial.%ld ", dead);
    snprintf(kept, sizeof kept, "out.json.tmp.%ld ", alive);
    snprintf(other, sizeof other, "other.tmp.%ld ", dead);
    CHECK(strstr(out, gone1) == NULL);
    CHECK(strstr(out, gone2) == NULL);
    CHECK_CONTAINS(out, kept);  /* alive: untouched */
    CHECK_CONTAINS(out, other); /* another path's: not ours to judge */
    CHECK_CONTAINS(out, "out.json ");
}

/* A small trained run (2 steps on a test dataset) for the command-line cases below; its
 * directory into run, the dataset into data, the config into cfg. */
static int small_run(char *run, char *data, char *cfg)
{
    static const char CFG[] = "{\"hidden_size\": 16, \"num_hidden_layers\": 1, \"num_attention_heads\": 2,"
                              " \"intermediate_size\": 32, \"vocab_size\": 300, \"max_position_embeddings\": 32}";
    const char *d = test_dataset("hardening");
    if (!d)
        return -1;
    strcpy(data, d);
    strcpy(cfg, test_write_file("hardening_cfg.json", CFG, strlen(CFG)));
    sprintf(run, "%s/hardening_run", test_tmpdir());
    if (access(run, F_OK) == 0)
        return 0;
    return test_run(NULL, 0, "%s train -q --data %s --model %s -o %s --steps 2 --batch-size 2 --seq-len 8 --threads 1"
                             " >/dev/null 2>&1", test_bin(), data, cfg, run);
}

/* A command that fails on its own stdout says so once (it used to add main's line:
 * two lines), and generate stops at the first failed write: one line, no speeds after it
 * (it used to generate every token into the full disk and print its speeds). */
TEST(hardening_unwritable_stdout_gives_one_line)
{
    char run[700], data[600], cfg[600], out[4096];
    CHECK(small_run(run, data, cfg) == 0);
    CHECK_EQ(test_run(out, sizeof out, "%s tokenizer encode -t %s/dokja_tokenizer.json %s/config.json 2>&1 >/dev/full",
                      test_bin(), run, run), 1);
    CHECK(strchr(out, '\n') == out + strlen(out) - 1);
    CHECK_CONTAINS(out, "stdout");
    for (int json = 0; json < 2; json++) {
        CHECK_EQ(test_run(out, sizeof out, "%s generate -m %s -p hello -n 4 %s 2>&1 >/dev/full", test_bin(), run,
                          json ? "--json" : ""), 1);
        CHECK(strchr(out, '\n') == out + strlen(out) - 1);
        CHECK_CONTAINS(out, "dokja: cannot write standard output: No space left on device");
        CHECK(strstr(out, "tokens/s") == NULL);
    }
    /* and a writable stdout still works */
    CHECK_EQ(test_run(out, sizeof out, "%s generate -m %s -p hello -n 4 2>/dev/null", test_bin(), run), 0);
    CHECK_CONTAINS(out, "hello");
}

/* --resume of a path that is no run fails without making it one (it used to create
 * RUN/checkpoints and RUN/.lock first), and a run.json that is there but unreadable is
 * refused (it used to be taken for a run from before run.json: the options unchecked). */
TEST(hardening_resume_refuses_what_is_no_run_and_leaves_nothing)
{
    char run[700], data[600], cfg[600], out[4096], d[800];
    CHECK(small_run(run, data, cfg) == 0);
    snprintf(d, sizeof d, "%s/resume_cases", test_tmpdir());
    CHECK_EQ(test_run(out, sizeof out, "mkdir -p %s/empty && touch %s/file", d, d), 0);
    static const struct { const char *path, *msg; } cases[] = {
        {"missing", "missing: cannot resume: No such file or directory"},
        {"file", "file: cannot resume: not a directory"},
        {"empty", "empty: nothing to resume (no checkpoints and no run.json)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_EQ(test_run(out, sizeof out, "%s train -q --resume %s/%s --data %s --model %s --steps 4 --batch-size 2"
                                           " --seq-len 8 --threads 1 2>&1", test_bin(), d, cases[i].path, data, cfg), 1);
        CHECK_CONTAINS(out, cases[i].msg);
    }
    CHECK_EQ(test_run(out, sizeof out, "(ls -A %s; ls -A %s/empty) | tr '\\n' ' '", d, d), 0);
    CHECK_STR(out, "empty file "); /* nothing created: no missing/, nothing in empty/ */
    static const char *bad[] = {"mkfifo %s/r/run.json", "printf '' > %s/r/run.json", "printf '[1]' > %s/r/run.json"};
    static const char *msg[] = {"run.json: not a regular file", "run.json: invalid JSON at line 1", "run.json: not a JSON object"};
    for (int i = 0; i < 3; i++) {
        char make[900];
        snprintf(make, sizeof make, bad[i], d);
        CHECK_EQ(test_run(out, sizeof out, "rm -rf %s/r && cp -r %s %s/r && rm %s/r/run.json && %s", d, run, d, d, make), 0);
        CHECK_EQ(test_run(out, sizeof out, "timeout 20 %s train -q --resume %s/r --data %s --model %s --steps 4"
                                           " --batch-size 2 --seq-len 8 --threads 1 2>&1", test_bin(), d, data, cfg), 1);
        CHECK_CONTAINS(out, msg[i]);
    }
    /* a run without run.json (from before it) still resumes */
    CHECK_EQ(test_run(out, sizeof out, "rm -rf %s/r && cp -r %s %s/r && rm %s/r/run.json", d, run, d, d), 0);
    CHECK_EQ(test_run(out, sizeof out, "%s train -q --resume %s/r --data %s --model %s --steps 4 --batch-size 2"
                                       " --seq-len 8 --threads 1 2>&1", test_bin(), d, data, cfg), 0);
}

/* A copy of a small dataset whose manifest is changed by `edit` (a jq-free edit through
 * jansson); returns the copy's directory. */
static const char *dataset_with(const char *name, void (*edit)(json_t *))
{
    static char dir[800];
    const char *ds = test_dataset("hard_ds");
    if (!ds)
        return NULL;
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    if (test_run(NULL, 0, "rm -rf %s && cp -r %s %s", dir, ds, dir) != 0)
        return NULL;
    char mp[900];
    snprintf(mp, sizeof mp, "%s/manifest.json", dir);
    json_error_t je;
    json_t *m = json_load_file(mp, 0, &je);
    if (!m)
        return NULL;
    edit(m);
    int rc = json_dump_file(m, mp, JSON_INDENT(2));
    json_decref(m);
    return rc == 0 ? dir : NULL;
}

static void wide_ids(json_t *m) { json_object_set_new(m, "id_bytes", json_integer(4)); }
static void zero_weights(json_t *m)
{
    json_t *s = json_object_get(m, "sources");
    for (size_t i = 0; i < json_array_size(s); i++)
        json_object_set_new(json_array_get(s, i), "weight", json_real(0));
}
static void same_names(json_t *m)
{
    json_t *s = json_object_get(m, "sources");
    json_array_append(s, json_array_get(s, 0)); /* the first source twice */
}

TEST(hardening_manifests_that_contradict_their_shards_are_not_verified)
{
    char out[2048];
    const char *d = dataset_with("ds_wide", wide_ids);
    CHECK(d);
    CHECK_EQ(test_run(out, sizeof out, "%s data info %s 2>&1", test_bin(), d), 1);
    CHECK_CONTAINS(out, "2-byte ids, the manifest says 4");
    CHECK(strchr(out, '\n') == out + strlen(out) - 1);
    d = dataset_with("ds_zero", zero_weights);
    CHECK(d);
    CHECK_EQ(test_run(out, sizeof out, "%s data info %s 2>&1", test_bin(), d), 1);
    CHECK_CONTAINS(out, "every source's weight is 0");
    d = dataset_with("ds_twice", same_names);
    CHECK(d);
    CHECK_EQ(test_run(out, sizeof out, "%s data info %s 2>&1", test_bin(), d), 1);
    CHECK_CONTAINS(out, "two sources are named");
}

TEST(hardening_stray_arguments_are_usage_errors_on_stderr)
{
    char out[2048];
    CHECK_EQ(test_run(out, sizeof out, "%s version --bogus 2>&1", test_bin()), 2);
    CHECK_CONTAINS(out, "unexpected argument '--bogus'");
    /* usage errors go to stderr: stdout stays empty */
    CHECK_EQ(test_run(out, sizeof out, "%s data info 2>/dev/null", test_bin()), 2);
    CHECK_STR(out, "");
    CHECK_EQ(test_run(out, sizeof out, "%s data info 2>&1 >/dev/null", test_bin()), 2);
    CHECK_CONTAINS(out, "DIR is required");
}
