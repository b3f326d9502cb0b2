/* cmd_lineage.c: `dokja lineage A B`: was B derived from A? (src/lineage/lineage.h) */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lineage/lineage.h"

static const char HELP[] =
    "usage: dokja lineage A B [--probe TEXT] [--json] [--html REPORT] [--threads N]\n"
    "                         [--sample N] [--probe-tokens N] [--alpha P] [--no-activations]\n"
    "                         [--map auto|full|screen] [--identity-rows N] [--screen-neurons N]\n"
    "                         [--screen-dims N] [-q]\n"
    "\n"
    "Tests from the weights whether model B was derived from model A (fine-tuned, depth\n"
    "up-scaled, pruned, permuted, partly reused) or trained independently. A and B are\n"
    "dokja model directories or Hugging Face Llama-family directories (config.json and\n"
    "model.safetensors, or shards with model.safetensors.index.json; F32, BF16, F16),\n"
    "memory-mapped and read a layer at a time.\n"
    "\n"
    "Statistics (docs/lineage.md): per layer, exact assignment of MLP neurons by cosine\n"
    "(up_proj rows against the identity; and gate vs up matchings of a sample of B's\n"
    "neurons, which permutations cannot hide) with Spearman p-values; a map over every\n"
    "(layer of A, layer of B) pair; Fisher's method over layers. When both models have\n"
    "dokja tokenizers they also read a probe text (--probe TEXT; default: built in) and\n"
    "their gate/up activations are matched the same way (robust to rotations, works\n"
    "across hidden widths). Vocabulary overlap, embeddings and norm weights (centred,\n"
    "against shuffled baselines) are reported but do not decide.\n"
    "\n"
    "Verdict: derived when the combined p (Bonferroni over the tests) is below --alpha\n"
    "(1e-6), with its kind: descendant, depth-upscaled, pruned or partial.\n"
    "\n"
    "Scale: --sample N (256) neurons of B per layer for the map; --identity-rows N (1024)\n"
    "rows per layer for the identity test on wider MLPs. --map screen tests every layer\n"
    "pair first on --screen-neurons (32) other neurons over the first --screen-dims (256)\n"
    "hidden coordinates and only each B layer's best candidates in full, so the cost grows\n"
    "with the depth rather than its square; auto (default) screens when the full map would\n"
    "cost over 1e12 flops (e.g. two 32-layer 7B models), full never does.\n"
    "--json: one object on stdout (verdict, kind, log10_p, layer_map, ...). --html:\n"
    "a report with the layer map as a heat map. Exit 0 whatever the verdict.\n";

int cmd_lineage(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(HELP, stdout);
        return 0;
    }
    enum { O_PROBE = 256, O_JSON, O_HTML, O_THREADS, O_SAMPLE, O_PTOK, O_ALPHA, O_NOACT, O_MAP, O_IDROWS, O_SNEUR,
           O_SDIMS };
    static const struct option opts[] = {
        {"probe", required_argument, 0, O_PROBE}, {"json", no_argument, 0, O_JSON},
        {"html", required_argument, 0, O_HTML}, {"threads", required_argument, 0, O_THREADS},
        {"sample", required_argument, 0, O_SAMPLE}, {"probe-tokens", required_argument, 0, O_PTOK},
        {"alpha", required_argument, 0, O_ALPHA}, {"no-activations", no_argument, 0, O_NOACT},
        {"map", required_argument, 0, O_MAP}, {"identity-rows", required_argument, 0, O_IDROWS},
        {"screen-neurons", required_argument, 0, O_SNEUR}, {"screen-dims", required_argument, 0, O_SDIMS},
        {"quiet", no_argument, 0, 'q'}, {0, 0, 0, 0}};
    lineage_opts o;
    lineage_default_opts(&o);
    o.progress = 1;
    const char *name = argv[0], *html = NULL;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_PROBE: o.probe_path = optarg; break;
        case O_JSON: json = 1; break;
        case O_HTML: html = optarg; break;
        case O_THREADS: bad = cli_parse_int(optarg, 1, 1024, &o.threads); break;
        case O_SAMPLE: bad = cli_parse_int(optarg, 16, 1 << 20, &o.sample); break;
        case O_PTOK: bad = cli_parse_int(optarg, 32, 1 << 20, &o.probe_tokens); break;
        case O_ALPHA: bad = cli_parse_double(optarg, 1e-300, 0.5, &o.alpha); break;
        case O_NOACT: o.activations = 0; break;
        case O_MAP:
            o.map_mode = !strcmp(optarg, "auto")     ? LINEAGE_MAP_AUTO
                         : !strcmp(optarg, "full")   ? LINEAGE_MAP_FULL
                         : !strcmp(optarg, "screen") ? LINEAGE_MAP_SCREEN
                                                     : -1;
            bad = o.map_mode < 0;
            break;
        case O_IDROWS: bad = cli_parse_int(optarg, 3, 1 << 24, &o.identity_rows); break;
        case O_SNEUR: bad = cli_parse_int(optarg, 3, 1 << 20, &o.screen_neurons); break;
        case O_SDIMS: bad = cli_parse_int(optarg, 1, 1 << 24, &o.screen_dims); break;
        case 'q': o.progress = 0; break;
        default: return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if (bad)
            return cli_bad_value(name, opts, c, optarg);
    }
    if (argc - optind != 2)
        return cli_usage(name, "expected two model directories A and B");
    dk_err err;
    lineage_report r;
    if (lineage_run(&r, argv[optind], argv[optind + 1], &o, &err) != 0)
        return cli_fail(&err);
    int rc = 0;
    if (html && lineage_write_html(&r, html, &err) != 0)
        rc = cli_fail(&err);
    if (json) {
        char *s = lineage_json(&r);
        if (s)
            puts(s);
        free(s);
    } else {
        lineage_print(&r, stdout);
    }
    lineage_report_free(&r);
    return rc;
}
