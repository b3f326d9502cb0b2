/* cmd_export.c: `dokja export gguf|hf` and `dokja import gguf|hf` (src/interop/interop.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "interop/interop.h"
#include "io/gguf.h"

static const char GGUF_HELP[] =
    "usage: dokja export gguf MODEL -o FILE.gguf [--type f32|f16|bf16|q8_0]\n"
    "\n"
    "Writes MODEL (a dokja model directory with its tokenizer) as a GGUF v3 file that\n"
    "llama.cpp loads and runs (docs/interop.md): llama architecture, Q and K rows permuted\n"
    "to llama.cpp's rotary pairing, tied embeddings written once, the tokenizer as a gpt2\n"
    "byte-level BPE vocabulary with its pre-tokenizer by name (a dokja-v1 tokenizer is\n"
    "refused: llama.cpp does not know that splitter). <|eos|> is the BOS token added to\n"
    "every prompt, as dokja's models saw it before every document.\n"
    "  --type T   matrices as f32 (default), f16, bf16 or q8_0 (rows not a multiple of 32\n"
    "             fall back to f16); norms stay f32\n"
    "Hangul composition (the tokenizer's normalizer) has no counterpart in llama.cpp:\n"
    "text given to llama.cpp must already be composed (NFC), as nearly all text is.\n";

static int export_gguf_cmd(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(GGUF_HELP, stdout);
        return 0;
    }
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"type", required_argument, 0, 't'},
                                         {0, 0, 0, 0}};
    const char *out = NULL, *mdir = NULL;
    uint32_t type = GGML_F32;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:t:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 't':
            if (export_type_from_name(optarg, &type) != 0)
                return cli_bad_value(argv[0], opts, c, optarg);
            break;
        default:
            return cli_usage(argv[0], "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        mdir = argv[optind++];
    if (!mdir)
        return cli_usage(argv[0], "expected a model directory");
    if (optind < argc)
        return cli_usage(argv[0], "unexpected argument '%s'", argv[optind]);
    if (!out)
        return cli_usage(argv[0], "-o FILE.gguf is required");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dk_err err;
    if (export_gguf(mdir, out, type, &err) != 0)
        return cli_fail(&err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct stat st;
    double mb = stat(out, &st) == 0 ? st.st_size / 1e6 : 0;
    fprintf(stderr, "wrote %s (%.1f MB, %s) in %.2f s\n", out, mb, ggml_type_name(type),
            (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);
    return 0;
}

/* IN -o OUT (or --output OUT), nothing else: the shape of export hf and import. */
static int in_out_args(int argc, char **argv, const char *what, const char **in, const char **out)
{
    *in = *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
            if (++i >= argc)
                return cli_usage(argv[0], "-o needs a directory");
            *out = argv[i];
        } else if (argv[i][0] == '-') {
            return cli_usage(argv[0], "unknown option '%s'", argv[i]);
        } else if (!*in) {
            *in = argv[i];
        } else {
            return cli_usage(argv[0], "unexpected argument '%s'", argv[i]);
        }
    }
    if (!*in)
        return cli_usage(argv[0], "expected %s", what);
    if (!*out)
        return cli_usage(argv[0], "-o DIR is required");
    return 0;
}

static const char HF_HELP[] =
    "usage: dokja export hf MODEL -o DIR\n"
    "\n"
    "Writes MODEL as a Hugging Face Llama model directory DIR (which must not exist):\n"
    "config.json, model.safetensors (F32, the same tensors), and the tokenizer as\n"
    "tokenizer.json (byte-level BPE, the pre-tokenizer's regex), tokenizer_config.json and\n"
    "generation_config.json, so transformers and tokenizers load it; <|eos|> starts every\n"
    "text, as in dokja. dokja_tokenizer.json is kept, so dokja reads DIR as well.\n";

static int export_hf_cmd(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(HF_HELP, stdout);
        return 0;
    }
    const char *out, *mdir;
    int rc = in_out_args(argc, argv, "a model directory", &mdir, &out);
    if (rc)
        return rc;
    dk_err err;
    if (export_hf(mdir, out, &err) != 0)
        return cli_fail(&err);
    fprintf(stderr, "wrote %s\n", out);
    return 0;
}

int cmd_export(int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"gguf", export_gguf_cmd, "a GGUF file that llama.cpp runs"},
        {"hf", export_hf_cmd, "a Hugging Face model directory with tokenizer.json"},
        {NULL, NULL, NULL}};
    return cli_dispatch(argv[0], subs, argc, argv);
}

static const char IMPORT_HELP[] =
    "usage: dokja import gguf|hf IN -o DIR\n"
    "\n"
    "Converts IN into a dokja model directory DIR (which must not exist): a GGUF file of\n"
    "llama.cpp's llama architecture (F32, F16, BF16 or Q8_0 tensors, dequantized; Q and K\n"
    "rows permuted back to rotate-half pairing), or a Hugging Face Llama directory\n"
    "(config.json, safetensors, tokenizer.json). DIR gets config.json, model.safetensors\n"
    "(F32) and the tokenizer as it came (tokenizer.json and its config, or the GGUF's\n"
    "vocabulary as a vocabulary-only tokenizer.gguf). Every command that takes -m MODEL\n"
    "also takes IN directly; importing saves the conversion when a model is used often.\n";

static int import_cmd(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(IMPORT_HELP, stdout);
        return 0;
    }
    const char *out, *in;
    int rc = in_out_args(argc, argv, "a GGUF file or a model directory", &in, &out);
    if (rc)
        return rc;
    struct stat st;
    int is_dir = stat(in, &st) == 0 && S_ISDIR(st.st_mode), want_dir = strstr(argv[0], " hf") != NULL;
    if (stat(in, &st) == 0 && is_dir != want_dir)
        return cli_usage(argv[0], "%s is %s", in, is_dir ? "a directory (use dokja import hf)" : "a file (use dokja import gguf)");
    dk_err err;
    if (import_model(in, out, &err) != 0)
        return cli_fail(&err);
    fprintf(stderr, "wrote %s\n", out);
    return 0;
}

int cmd_import(int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"gguf", import_cmd, "a GGUF file (llama architecture) as a dokja model directory"},
        {"hf", import_cmd, "a Hugging Face Llama directory with tokenizer.json as a dokja model directory"},
        {NULL, NULL, NULL}};
    return cli_dispatch(argv[0], subs, argc, argv);
}
