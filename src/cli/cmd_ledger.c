/* cmd_ledger.c: `dokja ledger verify|...`: the auditor's side of the training ledger. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "audit/order.h"
#include "audit/replay.h"
#include "audit/verify.h"
#include "ledger/records.h"
#include "cli/cli.h"

/* One JSON object on stdout (and dropped). */
static void put_json(json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(j);
}

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
        put_json(verify_json(&r));
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

static const char REPLAY_HELP[] =
    "usage: dokja ledger replay RUN --data DIR --challenge HEX [--segments K] [--json]\n"
    "\n"
    "Re-executes K segments of the run recorded in RUN/ledger.jsonl, each from its start\n"
    "(the weights the config and seed generate, or a checkpoint file checked against its\n"
    "record) to the next checkpoint, on the data DIR, and requires every step's batch,\n"
    "loss and gradient norm and the weights and optimizer state at the segment's end to be\n"
    "identical to the record, bit for bit. The first segment (a from-scratch start) and the\n"
    "last are always replayed; the others are drawn from SHA-256(challenge || ledger head),\n"
    "randomness the auditor reveals after the ledger is handed over. Prints the compute\n"
    "spent as a fraction of the run's. Needs the same kernel arithmetic class as the run\n"
    "(avx512 and avx2 are one class) and the checkpoint files at the chosen segments'\n"
    "starts. Any number of MPI ranks may have trained the run: replay runs in one process.\n"
    "Exit 0 only if every segment reproduced.\n"
    "\n"
    "  --data DIR       the dataset of the run (its manifest must be the genesis's)\n"
    "  --challenge HEX  the auditor's randomness (2 to 512 hex digits)\n"
    "  --segments K     segments to replay (2)\n"
    "  --json           one JSON object on stdout\n"
    "  --threads N      threads (all CPUs); -q, --quiet: no progress lines\n";

static int cmd_replay(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(REPLAY_HELP, stdout);
        return 0;
    }
    enum { O_DATA = 256, O_CH, O_SEG, O_JSON, O_THREADS };
    static const struct option opts[] = {
        {"data", required_argument, 0, O_DATA}, {"challenge", required_argument, 0, O_CH},
        {"segments", required_argument, 0, O_SEG}, {"json", no_argument, 0, O_JSON},
        {"threads", required_argument, 0, O_THREADS}, {"quiet", no_argument, 0, 'q'}, {0, 0, 0, 0}};
    static uint8_t ch[LEDGER_BEACON_MAX];
    replay_opts o = {.segments = 2, .challenge = ch};
    const char *name = argv[0];
    int json = 0, c, bad;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
        bad = 0;
        switch (c) {
        case O_DATA: o.data = optarg; break;
        case O_CH: bad = ledger_parse_beacon(optarg, ch, &o.challenge_len); break;
        case O_SEG: bad = cli_parse_int(optarg, 1, 1 << 20, &o.segments); break;
        case O_JSON: json = 1; break;
        case O_THREADS: bad = cli_parse_int(optarg, 1, 1024, &o.threads); break;
        case 'q': o.quiet = 1; break;
        default: return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if (bad)
            return cli_bad_value(name, opts, c, optarg);
    }
    if (optind + 1 != argc)
        return cli_usage(name, "one run directory is required");
    if (!o.data || !o.challenge_len)
        return cli_usage(name, "--data DIR and --challenge HEX are required");
    o.run = argv[optind];
    replay_report r;
    dk_err err;
    if (ledger_replay(&o, &r, &err) != 0) {
        replay_report_free(&r);
        return cli_fail(&err);
    }
    if (json) {
        put_json(replay_json(&r));
    } else {
        replay_print(&r, stdout);
    }
    int rc = r.failed ? 1 : 0;
    replay_report_free(&r);
    return rc;
}

static const char ORDER_HELP[] =
    "usage: dokja ledger audit-order -m MODEL --data DIR --ledger RUN [--sequences N] [--json]\n"
    "\n"
    "The training-order test (Kuditipudi et al. 2025), forward passes only: a model's loss\n"
    "on its training sequences falls with the step at which it last saw them. The ledger\n"
    "RUN says which sequence was seen when; MODEL's loss on N of them, spread over the run,\n"
    "is rank-correlated (Spearman) with that step. A small p-value says MODEL was trained\n"
    "in this run's order; a model trained on the same data in another order, or on other\n"
    "data, gives a p-value that is uniform. Exit 0 if p < --alpha.\n"
    "\n"
    "  -m, --model MODEL  the model to test (any model dokja loads)\n"
    "  --data DIR         the run's dataset (its manifest must be the genesis's)\n"
    "  --ledger RUN       the run directory holding ledger.jsonl\n"
    "  --sequences N      sequences to score (8000; the power grows as sqrt(N), the time as N)\n"
    "  --alpha P          the threshold for exit 0 (1e-6)\n"
    "  --json             one JSON object on stdout\n"
    "  --threads N        threads (all CPUs); -q, --quiet: no progress line\n";

static int cmd_order(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(ORDER_HELP, stdout);
        return 0;
    }
    enum { O_DATA = 256, O_LEDGER, O_SEQ, O_ALPHA, O_JSON, O_THREADS };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"data", required_argument, 0, O_DATA},
        {"ledger", required_argument, 0, O_LEDGER}, {"sequences", required_argument, 0, O_SEQ},
        {"alpha", required_argument, 0, O_ALPHA}, {"json", no_argument, 0, O_JSON},
        {"threads", required_argument, 0, O_THREADS}, {"quiet", no_argument, 0, 'q'}, {0, 0, 0, 0}};
    order_opts o = {.sequences = 8000};
    double alpha = 1e-6;
    const char *name = argv[0];
    int json = 0, c, bad;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "m:q", opts, NULL)) != -1) {
        bad = 0;
        switch (c) {
        case 'm': o.model = optarg; break;
        case O_DATA: o.data = optarg; break;
        case O_LEDGER: o.run = optarg; break;
        case O_SEQ: bad = cli_parse_int(optarg, 3, 1 << 24, &o.sequences); break;
        case O_ALPHA: bad = cli_parse_double(optarg, 0, 1, &alpha); break;
        case O_JSON: json = 1; break;
        case O_THREADS: bad = cli_parse_int(optarg, 1, 1024, &o.threads); break;
        case 'q': o.quiet = 1; break;
        default: return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if (bad)
            return cli_bad_value(name, opts, c, optarg);
    }
    if (optind < argc)
        return cli_usage(name, "unexpected argument '%s'", argv[optind]);
    if (!o.model || !o.data || !o.run)
        return cli_usage(name, "-m MODEL, --data DIR and --ledger RUN are required");
    order_result r;
    dk_err err;
    if (ledger_audit_order(&o, &r, &err) != 0)
        return cli_fail(&err);
    int trained = r.log10_p < log10(alpha);
    if (json) {
        json_t *j = order_json(&r);
        json_object_set_new(j, "alpha", json_real(alpha));
        json_object_set_new(j, "trained_in_this_order", json_boolean(trained));
        put_json(j);
    } else {
        printf("%d training sequences over %ld steps: Spearman rho %.4f (loss against the step last seen), "
               "z %.2f, p = 10^%.2f\n", r.n, r.steps, r.rho, r.z, r.log10_p);
        printf("mean loss: earliest tenth %.4f, latest tenth %.4f\n", r.mean_loss_first, r.mean_loss_last);
        printf("%s (alpha %g)\n", trained ? "TRAINED IN THIS ORDER" : "NOT SHOWN to be trained in this order", alpha);
    }
    return trained ? 0 : 1;
}

int cmd_ledger(int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"verify", cmd_verify, "check a training ledger, its files and its final model"},
        {"audit-order", cmd_order, "does a model's loss show it was trained in this run's data order?"},
        {"replay", cmd_replay, "re-execute challenged segments of a run and require identical bits"},
        {NULL, NULL, NULL}};
    return cli_dispatch(argv[0], subs, argc, argv);
}
