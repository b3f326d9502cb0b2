/* cmd_data.c: `dokja data build|info`. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "data/data_build.h"
#include "data/data_sources.h"
#include "data/dataset.h"

static const char BUILD_HELP[] =
    "usage: dokja data build -t TOKENIZER -o DIR [options] SOURCE[:WEIGHT]...\n"
    "       dokja data build -t TOKENIZER -o DIR [options] --sources FILE.json [SOURCE...]\n"
    "\n"
    "Tokenizes text sources into a dataset directory: token shards, a copy of the\n"
    "tokenizer and manifest.json (tokenizer SHA-256, per-source weights, document and\n"
    "token counts kept and dropped, per-shard SHA-256). A SOURCE is a text file (one\n"
    "document per line), a .jsonl file (documents in the \"text\" field) or a directory\n"
    "of them. WEIGHT is the source's mixture weight (default: its share of the training\n"
    "tokens); weights are normalised to sum to 1. Exact duplicate documents are\n"
    "dropped, <|eos|> ends every document, and a deterministic validation split is\n"
    "held out per source.\n"
    "\n"
    "Personal data is replaced by typed placeholders unless --no-scrub: Korean resident\n"
    "registration numbers <|rrn|>, Korean phone numbers <|phone|>, e-mail addresses\n"
    "<|email|>, Luhn-valid card numbers <|card|>, IPv4/IPv6 addresses <|ip|>; the counts\n"
    "per source and type are printed and kept in the manifest (docs/data.md).\n"
    "\n"
    "A sources file names each source's partner and licence:\n"
    "  {\"sources\": [{\"path\": \"a.jsonl\", \"partner\": \"telecom\", \"licence\": \"CC-BY-4.0\",\n"
    "                \"weight\": 2}, ...]}\n"
    "path, partner and licence are required, weight is optional; relative paths are\n"
    "relative to the file; unknown keys are refused. The manifest then records per\n"
    "source and per partner the documents and tokens kept and dropped by each filter.\n"
    "\n"
    "  -t, --tokenizer FILE   tokenizer to use (must have <|eos|>)\n"
    "  -o, --output DIR       dataset directory to create (must not exist)\n"
    "  --val-fraction F       share of documents held out for validation (0.01)\n"
    "  --shard-tokens N       ids per shard file (67108864)\n"
    "  --threads N            tokenizer threads (default: all CPUs)\n"
    "  --sources FILE.json    sources with partner, licence and weight (above)\n"
    "  --no-scrub             keep personal data as it is (alias --no-pii-scrub)\n"
    "  --json                 print the report as one JSON object\n"
    "  -q, --quiet            no progress lines\n";

static int data_build_cmd(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(BUILD_HELP, stdout);
        return 0;
    }
    enum { O_VAL = 256, O_SHARD, O_THREADS, O_JSON, O_SOURCES, O_NO_SCRUB };
    static const struct option opts[] = {
        {"tokenizer", required_argument, 0, 't'}, {"output", required_argument, 0, 'o'},
        {"val-fraction", required_argument, 0, O_VAL}, {"shard-tokens", required_argument, 0, O_SHARD},
        {"threads", required_argument, 0, O_THREADS}, {"json", no_argument, 0, O_JSON},
        {"quiet", no_argument, 0, 'q'}, {"sources", required_argument, 0, O_SOURCES},
        {"no-scrub", no_argument, 0, O_NO_SCRUB}, {"no-pii-scrub", no_argument, 0, O_NO_SCRUB},
        {0, 0, 0, 0}};
    data_build_opts o = {.val_fraction = 0.01, .shard_tokens = 1ull << 26};
    int json = 0, c;
    const char *name = argv[0], *sources_file = NULL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "t:o:q", opts, NULL)) != -1) {
        switch (c) {
        case 't': o.tokenizer_path = optarg; break;
        case 'o': o.out_dir = optarg; break;
        case O_VAL:
            if (cli_parse_double(optarg, 0, 1, &o.val_fraction) != 0 || !(o.val_fraction < 1))
                return cli_usage(name, "--val-fraction must be a number in [0, 1), got '%s'", optarg);
            break;
        case O_SHARD:
            if (cli_parse_u64(optarg, 1, 1ull << 40, &o.shard_tokens) != 0)
                return cli_usage(name, "--shard-tokens must be a positive integer, got '%s'", optarg);
            break;
        case O_THREADS:
            if (cli_parse_int(optarg, 1, 1024, &o.threads) != 0)
                return cli_usage(name, "--threads must be an integer in [1, 1024], got '%s'", optarg);
            break;
        case O_JSON: json = 1; break;
        case O_SOURCES: sources_file = optarg; break;
        case O_NO_SCRUB: o.no_scrub = 1; break;
        case 'q': o.quiet = 1; break;
        default: return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!o.tokenizer_path)
        return cli_usage(name, "-t TOKENIZER is required");
    if (!o.out_dir)
        return cli_usage(name, "-o DIR is required");
    if (optind >= argc && !sources_file)
        return cli_usage(name, "no SOURCE given");
    dk_err err;
    data_source_spec *from_file = NULL;
    size_t nf = 0;
    if (sources_file && data_sources_load(sources_file, &from_file, &nf, &err) != 0)
        return cli_fail(&err);
    /* the sources file's sources first, then those on the command line */
    size_t n = nf + (size_t)(argc - optind);
    data_source_spec *src = calloc(n, sizeof *src);
    char (*paths)[4096] = calloc(n, sizeof *paths);
    if (!src || !paths) {
        free(src);
        free(paths);
        data_sources_free(from_file, nf);
        return DK_EXIT_FAIL;
    }
    if (nf)
        memcpy(src, from_file, nf * sizeof *src);
    for (size_t i = nf; i < n; i++) {
        const char *arg = argv[optind + (int)(i - nf)];
        if (data_parse_source(arg, paths[i], sizeof paths[i], &src[i].weight) != 0) {
            free(src);
            free(paths);
            data_sources_free(from_file, nf);
            return cli_usage(name, "bad SOURCE '%s' (PATH or PATH:WEIGHT with WEIGHT > 0)", arg);
        }
        src[i].path = paths[i];
    }
    o.sources = src;
    o.n_sources = n;
    data_build_report rep;
    int rc = data_build(&o, &rep, &err);
    if (rc != 0) {
        free(src);
        free(paths);
        data_sources_free(from_file, nf);
        return cli_fail(&err);
    }
    if (json) {
        json_t *j = json_object();
        json_object_set_new(j, "output", json_string(o.out_dir));
        json_object_set_new(j, "documents", json_integer((json_int_t)rep.documents));
        json_object_set_new(j, "duplicates", json_integer((json_int_t)rep.duplicates));
        json_object_set_new(j, "empty", json_integer((json_int_t)rep.empty));
        json_object_set_new(j, "train_tokens", json_integer((json_int_t)rep.train_tokens));
        json_object_set_new(j, "val_tokens", json_integer((json_int_t)rep.val_tokens));
        json_object_set_new(j, "bytes", json_integer((json_int_t)rep.bytes));
        json_object_set_new(j, "seconds", json_real(rep.seconds));
        json_object_set_new(j, "pii_scrub", json_boolean(!o.no_scrub));
        json_t *pj = json_object();
        for (int t = 0; t < PII_N_TYPES; t++)
            json_object_set_new(pj, pii_type_name[t], json_integer((json_int_t)rep.pii[t]));
        json_object_set_new(j, "pii", pj);
        char *txt = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        json_decref(j);
        if (txt)
            puts(txt);
        free(txt);
    }
    else
        printf("dataset: %s\n  %llu documents (%llu duplicates and %llu empty dropped), %.1f MB\n"
               "  %llu training tokens, %llu validation tokens, %.2f s\n",
               o.out_dir, (unsigned long long)rep.documents, (unsigned long long)rep.duplicates,
               (unsigned long long)rep.empty, (double)rep.bytes / 1e6,
               (unsigned long long)rep.train_tokens, (unsigned long long)rep.val_tokens,
               rep.seconds);
    if (!json) {
        printf("  personal data %s\n", o.no_scrub ? "kept (--no-scrub)" : "replaced:");
        for (size_t i = 0; i < rep.n_sources && !o.no_scrub; i++) {
            const data_source_report *r = &rep.sources[i];
            printf("    %-24s", r->name);
            for (int t = 0; t < PII_N_TYPES; t++)
                printf(" %s %llu%s", pii_type_name[t], (unsigned long long)r->pii[t],
                       t + 1 < PII_N_TYPES ? "," : "");
            if (r->partner)
                printf("  (%s)", r->partner);
            printf("\n");
        }
    }
    data_build_report_free(&rep);
    free(src);
    free(paths);
    data_sources_free(from_file, nf);
    return 0;
}

static int data_info_cmd(int argc, char **argv)
{
    if (cli_wants_help(argc, argv) || argc != 2) {
        printf("usage: dokja data info DIR\n\nVerifies a dataset (manifest, every shard's "
               "SHA-256, header and ids, the tokenizer's hash) and summarises it.\n");
        return argc == 2 || cli_wants_help(argc, argv) ? 0 : DK_EXIT_USAGE;
    }
    dataset d;
    dk_err err;
    if (dataset_open(&d, argv[1], &err) != 0)
        return cli_fail(&err);
    printf("dataset %s: verified\n  tokenizer sha256 %s, vocabulary %u, <|eos|> = %d\n", d.dir,
           d.tokenizer_sha256, d.vocab_size, d.eos_id);
    printf("  unigram entropy: %.4f nats/token (train), %.4f (val): the loss of a model that\n"
           "  knows only token frequencies\n",
           dataset_unigram_entropy(&d, 0), dataset_unigram_entropy(&d, 1));
    printf("  %-24s %8s %12s %12s %12s\n", "source", "weight", "documents", "train", "val");
    for (size_t i = 0; i < d.n_sources; i++) {
        fputs("  ", stdout); /* names come from the manifest: escaped, at most 24 wide */
        cli_put_safe(stdout, d.sources[i].name, 24);
        int w = (int)strlen(d.sources[i].name);
        printf("%*s %8.4f %12llu %12llu %12llu\n", w < 24 ? 24 - w : 0, "", d.sources[i].weight,
               (unsigned long long)d.sources[i].documents,
               (unsigned long long)d.sources[i].tokens[0], (unsigned long long)d.sources[i].tokens[1]);
    }
    dataset_close(&d);
    return 0;
}

int cmd_data(int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"build", data_build_cmd, "tokenize text sources into verified token shards"},
        {"info", data_info_cmd, "verify a dataset directory and summarise it"},
        {NULL, NULL, NULL}};
    return cli_dispatch(argv[0], subs, argc, argv);
}
