/* cmd_model.c: `dokja model edit` (src/model/surgery.h) and `dokja model info`. */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "io/safetensors.h"
#include "interop/interop.h"
#include "model/model_io.h"
#include "model/surgery.h"
#include "tokenizer/tokenizer.h"

static const char EDIT_HELP[] =
    "usage: dokja model edit IN OUT (--depth LIST | --permute | --prune-ffn N | --reinit LIST |\n"
    "                                --noise REL) [--seed S] [--force]\n"
    "\n"
    "Derives OUT from model IN the ways a copy might be disguised (docs/lineage.md):\n"
    "  --depth LIST     layers of OUT, e.g. 0-23,8-31 (depth up-scaling)\n"
    "  --permute        permute MLP neurons and attention heads of every layer (the\n"
    "                   function is unchanged)\n"
    "  --prune-ffn N    keep the N most important MLP neurons of each layer\n"
    "  --reinit LIST    re-initialise these layers as a fresh model of seed S would be\n"
    "  --noise REL      add Gaussian noise of REL x each tensor's RMS\n"
    "OUT must not exist (nor be IN) unless --force.\n"
    "OUT records the operation and IN's parameter SHA-256 in its metadata and gets a copy\n"
    "of IN's tokenizer. --seed S (1) drives --permute, --reinit and --noise.\n";

static const char INFO_HELP[] =
    "usage: dokja model info MODEL [--json]\n"
    "\n"
    "MODEL is a dokja or Hugging Face model directory or a GGUF file (llama architecture).\n"
    "Shape, parameter count, the SHA-256 of the float32 parameters (the identity eval and\n"
    "lineage reports use) and any surgery recorded in the weights' metadata.\n";

static int model_edit(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(EDIT_HELP, stdout);
        return 0;
    }
    enum { O_DEPTH = 256, O_PERM, O_PRUNE, O_REINIT, O_NOISE, O_SEED, O_FORCE };
    static const struct option opts[] = {
        {"depth", required_argument, 0, O_DEPTH}, {"permute", no_argument, 0, O_PERM},
        {"prune-ffn", required_argument, 0, O_PRUNE}, {"reinit", required_argument, 0, O_REINIT},
        {"noise", required_argument, 0, O_NOISE}, {"seed", required_argument, 0, O_SEED},
        {"force", no_argument, 0, O_FORCE},
        {0, 0, 0, 0}};
    const char *name = argv[0], *list = NULL;
    int op = 0, n_ops = 0, prune = 0, force = 0, c;
    double noise = 0;
    uint64_t seed = 1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_DEPTH: case O_REINIT: list = optarg; op = c; n_ops++; break;
        case O_PERM: op = c; n_ops++; break;
        case O_PRUNE: op = c; n_ops++; bad = cli_parse_int(optarg, 1, 1 << 30, &prune); break;
        case O_NOISE: op = c; n_ops++; bad = cli_parse_double(optarg, 0, 100, &noise); break;
        case O_SEED: bad = cli_parse_u64(optarg, 0, UINT64_MAX, &seed); break;
        case O_FORCE: force = 1; break;
        default: return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if (bad)
            return cli_bad_value(name, opts, c, optarg);
    }
    if (argc - optind != 2)
        return cli_usage(name, "expected IN and OUT");
    if (n_ops != 1)
        return cli_usage(name, "give exactly one of --depth, --permute, --prune-ffn, --reinit, --noise");
    const char *in_dir = argv[optind], *out_dir = argv[optind + 1];
    dk_err err;
    /* an existing OUT (the input itself, or any directory) is replaced only on request */
    if (!force && access(out_dir, F_OK) == 0) {
        char a[PATH_MAX], b[PATH_MAX];
        int same = realpath(in_dir, a) && realpath(out_dir, b) && strcmp(a, b) == 0;
        dk_errf(&err, "%s: %s (--force replaces it)", out_dir,
                same ? "is the input model" : "already exists");
        return cli_fail(&err);
    }
    pool *p = pool_new(0);
    model *in = NULL, *out = NULL;
    int *layers = NULL, n = 0, rc = p ? model_load_dir_ex(&in, in_dir, p, 0, &err) : dk_errf(&err, "no threads");
    char what[512] = "";
    if (rc == 0 && list)
        rc = surgery_parse_layers(list, model_cfg(in)->n_layers, &layers, &n, &err);
    if (rc == 0) {
        switch (op) {
        case O_DEPTH:
            rc = surgery_depth(&out, in, layers, n, &err);
            snprintf(what, sizeof what, "depth %s", list);
            break;
        case O_PERM:
            rc = surgery_permute(&out, in, seed, &err);
            snprintf(what, sizeof what, "permute seed %llu", (unsigned long long)seed);
            break;
        case O_PRUNE:
            rc = surgery_prune_ffn(&out, in, prune, &err);
            snprintf(what, sizeof what, "prune-ffn %d", prune);
            break;
        case O_REINIT:
            rc = surgery_reinit(&out, in, layers, n, seed, &err);
            snprintf(what, sizeof what, "reinit %s seed %llu", list, (unsigned long long)seed);
            break;
        default:
            rc = surgery_noise(&out, in, noise, seed, &err);
            snprintf(what, sizeof what, "noise %g seed %llu", noise, (unsigned long long)seed);
        }
    }
    if (rc == 0) {
        char sha[65], tpath[4200];
        model_params_sha256(in, sha);
        snprintf(tpath, sizeof tpath, "%s/%s", in_dir, TOK_DEFAULT_FILE);
        const char *keys[2] = {"dokja_surgery", "dokja_surgery_source_sha256"}, *vals[2] = {what, sha};
        rc = model_save_dir(out, out_dir, access(tpath, R_OK) == 0 ? tpath : NULL, keys, vals, 2, &err);
    }
    if (rc == 0)
        fprintf(stderr, "%s: %s of %s\n", out_dir, what, in_dir);
    free(layers);
    model_free(out);
    model_free(in);
    pool_free(p);
    return rc == 0 ? 0 : cli_fail(&err);
}

static int model_info(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(INFO_HELP, stdout);
        return 0;
    }
    int json = 0;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (!dir && argv[i][0] != '-')
            dir = argv[i];
        else
            return cli_usage(argv[0], "unexpected argument '%s'", argv[i]);
    }
    if (!dir)
        return cli_usage(argv[0], "expected a model directory");
    dk_err err;
    pool *p = pool_new(1);
    model *m;
    if (model_open_any(&m, NULL, dir, p, 0, &err) != 0) {
        pool_free(p);
        return cli_fail(&err);
    }
    const model_config *c = model_cfg(m);
    char sha[65], path[4200];
    model_params_sha256(m, sha);
    const char *surgery = NULL, *source = NULL;
    st_file *f = NULL;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (access(path, R_OK) == 0 && st_open(&f, path, &err) == 0) {
        surgery = st_meta(f, "dokja_surgery");
        source = st_meta(f, "dokja_surgery_source_sha256");
    }
    if (json) {
        json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:s}", "dir", dir, "layers", c->n_layers,
                              "hidden_size", c->dim, "heads", c->n_heads, "kv_heads", c->n_kv_heads,
                              "intermediate_size", c->ffn_dim, "vocab_size", c->vocab_size, "parameters",
                              (json_int_t)model_numel(m), "sha256", sha);
        if (surgery)
            json_object_set_new(o, "surgery", json_string(surgery));
        if (source)
            json_object_set_new(o, "surgery_source_sha256", json_string(source));
        char *s = json_dumps(o, JSON_COMPACT);
        puts(s ? s : "{}");
        free(s);
        json_decref(o);
    } else {
        printf("%s: %d layers, width %d, %d heads (%d key/value), MLP %d, vocabulary %d\n", dir, c->n_layers,
               c->dim, c->n_heads, c->n_kv_heads, c->ffn_dim, c->vocab_size);
        printf("parameters %zu, sha256 %s\n", model_numel(m), sha);
        if (surgery) { /* metadata strings come from the file: escaped */
            fputs("surgery: ", stdout);
            cli_put_safe(stdout, surgery, 200);
            fputs(" of a model with sha256 ", stdout);
            cli_put_safe(stdout, source ? source : "?", 80);
            fputc('\n', stdout);
        }
    }
    st_close(f);
    model_free(m);
    pool_free(p);
    return 0;
}

int cmd_model(int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"edit", model_edit, "derive a model by depth up-scaling, permutation, pruning, re-init or noise"},
        {"info", model_info, "shape, parameter count and SHA-256 of a model directory"},
        {NULL, NULL, NULL}};
    return cli_dispatch(argv[0], subs, argc, argv);
}
