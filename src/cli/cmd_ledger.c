/* cmd_ledger.c: `dokja ledger verify|...`: the auditor's side of the training ledger. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "audit/verify.h"
#include "cli/cli.h"

static const char VERIFY_HELP[] =
    "usage: dokja ledger verify RUN [--model MODEL] [--data DIR] [--json] [--html FILE]\n"
    "\n"
    "Checks the training ledger RUN/ledger.jsonl written by `dokja train` (docs/ledger.md):\n"
    "the hash chain and the order of its records; the seeds (trainer-chosen, or derived\n"
    "from the recorded public beacon); that the initial weights are exactly those the\n"
    "config and seed generate (a random start, not a foreign model); every step's learning\n"
    "rate against the schedule; every step's batch against the sampler's draw from the\n"
    "recorded data and seed; each checkpoint file still present against its record; with\n"
    "--data, the dataset's manifest, tokenizer and the Merkle root of its shards; and that\n"
    "RUN/model.safetensors (and --model, any model dokja loads) is the ledger's final model.\n"
    "Exit 0 only if every check holds. The steps themselves are proven by `ledger replay`.\n"
    "\n"
    "  --model MODEL    also check this published model (directory or GGUF) against the\n"
    "                   final record's weights\n"
    "  --data DIR       the dataset the run trained on\n"
    "  --derived-ok     a run started with --init-from passes (it is reported as derived)\n"
    "  --json           one JSON object on stdout: ok, verdict, head, checks[]\n"
    "  --html FILE      a one-page certificate: the checks, the genesis, the loss curve\n"
    "  --threads N      threads (all CPUs)\n";

static int cmd_verify(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(VERIFY_HELP, stdout);
        return 0;
    }
    enum { O_MODEL = 256, O_DATA, O_JSON, O_HTML, O_DERIVED, O_THREADS };
    static const struct option opts[] = {
        {"model", required_argument, 0, O_MODEL}, {"data", required_argument, 0, O_DATA},
        {"json", no_argument, 0, O_JSON}, {"html", required_argument, 0, O_HTML},
        {"derived-ok", no_argument, 0, O_DERIVED}, {"threads", required_argument, 0, O_THREADS}, {0, 0, 0, 0}};
    verify_opts o = {0};
    const char *name = argv[0], *html = NULL;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: o.model = optarg; break;
        case O_DATA: o.data = optarg; break;
        case O_JSON: json = 1; break;
        case O_HTML: html = optarg; break;
        case O_DERIVED: o.derived_ok = 1; break;
        case O_THREADS:
            if (cli_parse_int(optarg, 1, 1024, &o.threads) != 0)
                return cli_bad_value(name, opts, c, optarg);
            break;
        default: return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage(name, "one run directory is required");
    o.run = argv[optind];
    verify_report r;
    int failed = ledger_verify(&o, &r);
    if (json) {
        json_t *j = verify_json(&r);
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
    } else {
        verify_print(&r, stdout);
    }
    dk_err err;
    int rc = failed ? 1 : 0;
    if (html && verify_write_html(&r, html, &err) != 0)
        rc = cli_fail(&err);
    verify_report_free(&r);
    return rc;
}

int cmd_ledger(int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"verify", cmd_verify, "check a training ledger, its files and its final model"},
        {NULL, NULL, NULL}};
    return cli_dispatch(argv[0], subs, argc, argv);
}
