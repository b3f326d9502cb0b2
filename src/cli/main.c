/* main.c: the dokja binary. Each subcommand lives in its own cmd_*.c file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "cli/cli.h"
#include "kernels/isa.h"
#include "kernels/matmul.h"
#include "util/version.h"


static int cmd_version(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: dokja version\nPrints dokja's version and the kernel path in use (DOKJA_ISA).\n");
        return 0;
    }
    if (argc > 1) /* nothing to take: an argument is a mistake, not ignored */
        return cli_usage(argv[0], "unexpected argument '%s'", argv[1]);
    printf("dokja %s\nkernel path: %s (CPU: %s)\n", DOKJA_VERSION, isa_name(isa_current()), isa_cpu_features());
    return 0;
}

static const cli_sub COMMANDS[] = {
    {"bench", cmd_bench, "benchmarks: training-step throughput and MFU"},
    {"corpus", cmd_corpus, "build text corpora (the built-in default from Debian packages)"},
    {"data", cmd_data, "tokenize text sources into a verified training dataset"},
    {"eval", cmd_eval, "score a model on perplexity and multiple-choice tasks, against references"},
    {"export", cmd_export, "write a model as GGUF (llama.cpp) or a Hugging Face directory"},
    {"generate", cmd_generate, "continue a prompt with a trained model (KV cache, streaming)"},
    {"import", cmd_import, "convert a GGUF file or a Hugging Face directory into a dokja model"},
    {"ledger", cmd_ledger, "audit a training ledger: verify it, replay segments of the run"},
    {"lineage", cmd_lineage, "test from the weights whether model B was derived from model A"},
    {"model", cmd_model, "derive models by surgery (for lineage tests) and show a model's identity"},
    {"select", cmd_select, "run a selection round: scores, the independence gate, cuts, a report"},
    {"tokenizer", cmd_tokenizer, "train, apply and measure byte-level BPE tokenizers"},
    {"train", cmd_train, "pretrain a model from scratch on a dataset, with checkpoints"},
    {"version", cmd_version, "print the version"},
    {NULL, NULL, NULL},
};

/* Output that could not be written is a failure, not a silent success: a full disk or a
 * closed pipe behind stdout turns exit 0 into exit 1 with one line. (The commands print
 * with stdio; the error sticks to the stream until here.) A command that failed has
 * already printed its line, often about this same stream: no second line then. */
static int finish_stdout(int rc)
{
    errno = 0;
    int bad = fflush(stdout) != 0 || ferror(stdout);
    int e = errno;
    if (fclose(stdout) != 0 && !bad)
        bad = 1, e = errno;
    if (bad && rc == 0) {
        fprintf(stderr, "dokja: cannot write standard output: %s\n", e ? strerror(e) : "write error");
        return 1;
    }
    return rc; /* a failed command has printed its one line (often this same failure) */
}

int main(int argc, char **argv)
{
    /* The kernel choices, made once for the whole run from the environment; the
     * library reads none of it. The kernel path: the best this CPU has, or the lower one
     * DOKJA_ISA names (avx512, avx2, generic); a path the CPU lacks is an error here,
     * never an illegal instruction later. Bench commands may override it with --isa.
     * DOKJA_MATMUL=generic|ref|blas routes matmuls through another path (an unknown
     * value is ignored); DOKJA_NO_AMX (set, non-empty, not starting with 0) keeps bf16
     * products off AMX. */
    char err[200];
    if (isa_select(getenv("DOKJA_ISA"), err, sizeof err) != 0) {
        fprintf(stderr, "dokja: DOKJA_ISA: %s\n", err);
        return 1;
    }
    mm_set_path(mm_path_from_name(getenv("DOKJA_MATMUL")));
    const char *no_amx = getenv("DOKJA_NO_AMX");
    mm_set_amx(!no_amx || !*no_amx || *no_amx == '0');
    int rc = argc >= 2 && strcmp(argv[1], "--version") == 0 ? cmd_version(1, argv)
                                                             : cli_dispatch("dokja", COMMANDS, argc, argv);
    return finish_stdout(rc);
}
