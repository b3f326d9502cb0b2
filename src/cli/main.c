/* main.c: the dokja binary. Each subcommand lives in its own cmd_*.c file. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/version.h"


static int cmd_version(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: dokja version\nPrints dokja's version.\n");
        return 0;
    }
    printf("dokja %s\n", DOKJA_VERSION);
    return 0;
}

static const cli_sub COMMANDS[] = {
    {"bench", cmd_bench, "benchmarks: training-step throughput and MFU"},
    {"corpus", cmd_corpus, "build text corpora (the built-in default from Debian packages)"},
    {"data", cmd_data, "tokenize text sources into a verified training dataset"},
    {"eval", cmd_eval, "score a model on perplexity and multiple-choice tasks, against references"},
    {"generate", cmd_generate, "continue a prompt with a trained model (KV cache, streaming)"},
    {"lineage", cmd_lineage, "test from the weights whether model B was derived from model A"},
    {"model", cmd_model, "derive models by surgery (for lineage tests) and show a model's identity"},
    {"tokenizer", cmd_tokenizer, "train, apply and measure byte-level BPE tokenizers"},
    {"train", cmd_train, "pretrain a model from scratch on a dataset, with checkpoints"},
    {"version", cmd_version, "print the version"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--version") == 0)
        return cmd_version(1, argv);
    return cli_dispatch("dokja", COMMANDS, argc, argv);
}
