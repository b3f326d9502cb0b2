/* cmd_data.c: `dokja data build|sign|info|contamination`. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "data/contam.h"
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
    "Near duplicates are removed across all sources (MinHash with LSH, docs/dedupe.md:\n"
    "character 5-grams, 112 hashes in 14 bands of 8, Jaccard threshold 0.8): the first\n"
    "document of a cluster stays, by source order, then position. The sources are read\n"
    "twice (signatures in memory, not text). --decontaminate SPEC drops documents that\n"
    "contain a long n-gram of a test item (as `dokja data contamination`).\n"
    "\n"
    "Quality filters drop, in this order and each counted in the manifest: documents\n"
    "with fewer than N characters that are not white space (too_short), documents whose\n"
    "letters (Hangul, Latin, other scripts) are less than a share F of those characters\n"
    "(quality: tables of numbers, rows of symbols, junk), and, with --repetition-filter,\n"
    "repetitive documents by Gopher's rules on duplicate lines and repeated word n-grams\n"
    "(repetition; off by default: its English-tuned thresholds drop real Korean statutes\n"
    "and manuals). docs/data.md measures each filter on the dev corpora.\n"
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
    "  --near-dup J           near-duplicate Jaccard threshold in (0, 1] (0.8); 0: off\n"
    "  --no-near-dup          keep near duplicates (same as --near-dup 0)\n"
    "  --decontaminate SPEC   drop documents containing a test item of task SPEC (as\n"
    "                         `dokja eval --task` takes it); repeatable\n"
    "  --min-chars N          too short below N non-space characters (3); 0: off\n"
    "  --min-letter-share F   letters' share of non-space characters below F (0.25); 0: off\n"
    "  --repetition-filter    drop repetitive documents (Gopher's rules)\n"
    "  --no-quality           no quality filter at all\n"
    "  --signatures FILE.sig  the first pass (filters, hashes, MinHash signatures) of the\n"
    "                         input files FILE holds, made by `dokja data sign` on other\n"
    "                         machines: those files are read once, not twice; repeatable.\n"
    "                         Same shards and counts as without (docs/data.md)\n"
    "  --json                 print the report as one JSON object\n"
    "  -q, --quiet            no progress lines\n";

static const char SIGN_HELP[] =
    "usage: dokja data sign -o FILE.sig [options] SOURCE[:WEIGHT]...\n"
    "       dokja data sign -o FILE.sig [options] --sources FILE.json [SOURCE...]\n"
    "\n"
    "The first pass of `dokja data build` for near-duplicate removal, on this machine:\n"
    "reads every file of the sources, applies the quality filters and --decontaminate,\n"
    "and writes each file's document hashes, fates and MinHash signatures (130 bytes per\n"
    "kept document) to FILE.sig, keyed by the file's SHA-256. Partners sign their own\n"
    "files in parallel, on their own machines; `dokja data build --signatures FILE.sig...`\n"
    "then reads those files once instead of twice and merges the signatures in the\n"
    "build's source order (exact and near duplicates across partners are decided there),\n"
    "with the same shards and counts as a build that signed everything itself. The\n"
    "quality and --decontaminate options must be the build's: the file records them and\n"
    "a build with other settings refuses it. No tokenizer is needed. WEIGHT is accepted\n"
    "and ignored, so the build's SOURCE arguments can be passed as they are.\n"
    "\n"
    "  -o, --output FILE.sig  signature file to write (atomically)\n"
    "  --sources FILE.json    sources file, as `dokja data build` takes it\n"
    "  --threads N            threads (default: all CPUs)\n"
    "  --decontaminate SPEC   as `dokja data build`; repeatable\n"
    "  --min-chars N, --min-letter-share F, --repetition-filter, --no-quality\n"
    "                         the quality filters, as `dokja data build`\n"
    "  --json                 print the report as one JSON object\n"
    "  -q, --quiet            no progress lines\n";

static int sign_report(const data_build_opts *o, const char *out, int json, dk_err *err)
{
    data_sign_report r;
    if (data_sign(o, out, &r, err) != 0)
        return cli_fail(err);
    if (json) {
        json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}", "output", out, "files",
                              (json_int_t)r.files, "documents", (json_int_t)r.documents, "signed",
                              (json_int_t)r.signed_documents, "contaminated", (json_int_t)r.contaminated,
                              quality_reason_name[1], (json_int_t)r.filtered[0], quality_reason_name[2],
                              (json_int_t)r.filtered[1], quality_reason_name[3], (json_int_t)r.filtered[2],
                              "bytes", (json_int_t)r.bytes, "seconds", r.seconds);
        json_object_set_new(j, "signature_bytes", json_integer((json_int_t)r.sig_bytes));
        char *txt = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        json_decref(j);
        if (txt)
            puts(txt);
        free(txt);
    } else {
        printf("signatures: %s\n  %llu files, %.1f MB, %llu non-empty documents: %llu signed, %llu contaminated,\n"
               "  %llu/%llu/%llu dropped by the quality filters (too short, too few letters, repetitive)\n"
               "  %.1f MB written, %.2f s\n",
               out, (unsigned long long)r.files, (double)r.bytes / 1e6, (unsigned long long)r.documents,
               (unsigned long long)r.signed_documents, (unsigned long long)r.contaminated,
               (unsigned long long)r.filtered[0], (unsigned long long)r.filtered[1], (unsigned long long)r.filtered[2],
               (double)r.sig_bytes / 1e6, r.seconds);
    }
    return 0;
}

/* `data build` and `data sign` (sign: 1) share their options and sources. */
static int data_build_or_sign(int argc, char **argv, int sign)
{
    if (cli_wants_help(argc, argv)) {
        fputs(sign ? SIGN_HELP : BUILD_HELP, stdout);
        return 0;
    }
    enum { O_VAL = 256, O_SHARD, O_THREADS, O_JSON, O_SOURCES, O_NO_SCRUB, O_NEAR, O_NO_NEAR, O_DECONT,
           O_MIN_CHARS, O_MIN_LETTERS, O_REPEAT, O_NO_QUALITY, O_SIGS };
    static const struct option opts[] = {
        {"tokenizer", required_argument, 0, 't'}, {"output", required_argument, 0, 'o'},
        {"val-fraction", required_argument, 0, O_VAL}, {"shard-tokens", required_argument, 0, O_SHARD},
        {"threads", required_argument, 0, O_THREADS}, {"json", no_argument, 0, O_JSON},
        {"quiet", no_argument, 0, 'q'}, {"sources", required_argument, 0, O_SOURCES},
        {"no-scrub", no_argument, 0, O_NO_SCRUB}, {"no-pii-scrub", no_argument, 0, O_NO_SCRUB},
        {"near-dup", required_argument, 0, O_NEAR}, {"no-near-dup", no_argument, 0, O_NO_NEAR},
        {"decontaminate", required_argument, 0, O_DECONT}, {"min-chars", required_argument, 0, O_MIN_CHARS},
        {"min-letter-share", required_argument, 0, O_MIN_LETTERS},
        {"repetition-filter", no_argument, 0, O_REPEAT}, {"no-quality", no_argument, 0, O_NO_QUALITY},
        {"signatures", required_argument, 0, O_SIGS}, {0, 0, 0, 0}};
    /* what does not apply to signing: the second pass's options */
    static const int BUILD_ONLY[] = {'t', O_VAL, O_SHARD, O_NO_SCRUB, O_NEAR, O_NO_NEAR, O_SIGS};
    data_build_opts o = {.val_fraction = 0.01, .shard_tokens = 1ull << 26};
    quality_params qp;
    quality_params_default(&qp);
    int no_quality = 0;
    int json = 0, c;
    const char *name = argv[0], *sources_file = NULL;
    /* one block: the --decontaminate specs, then the --signatures files */
    const char **decont = calloc(2 * (size_t)argc, sizeof *decont);
    if (!decont)
        return DK_EXIT_FAIL;
    const char **sigs = decont + argc;
    o.decontaminate = decont;
    o.signatures = sigs;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "t:o:q", opts, NULL)) != -1) {
        for (size_t k = 0; sign && k < sizeof BUILD_ONLY / sizeof *BUILD_ONLY; k++)
            if (c == BUILD_ONLY[k]) {
                free(decont);
                return cli_usage(name, "'%s' is an option of `dokja data build`, not of signing", argv[optind - 1]);
            }
        switch (c) {
        case 't': o.tokenizer_path = optarg; break;
        case 'o': o.out_dir = optarg; break;
        case O_VAL:
            if (cli_parse_double(optarg, 0, 1, &o.val_fraction) != 0 || !(o.val_fraction < 1)) {
                free(decont);
                return cli_usage(name, "--val-fraction must be a number in [0, 1), got '%s'", optarg);
            }
            break;
        case O_SHARD:
            if (cli_parse_u64(optarg, 1, 1ull << 40, &o.shard_tokens) != 0) {
                free(decont);
                return cli_usage(name, "--shard-tokens must be a positive integer, got '%s'", optarg);
            }
            break;
        case O_THREADS:
            if (cli_parse_int(optarg, 1, 1024, &o.threads) != 0) {
                free(decont);
                return cli_usage(name, "--threads must be an integer in [1, 1024], got '%s'", optarg);
            }
            break;
        case O_JSON: json = 1; break;
        case O_SOURCES: sources_file = optarg; break;
        case O_NO_SCRUB: o.no_scrub = 1; break;
        case O_NEAR:
            if (cli_parse_double(optarg, 0, 1, &o.near_dup) != 0) {
                free(decont);
                return cli_usage(name, "--near-dup must be a Jaccard threshold in [0, 1] (0: off), got '%s'", optarg);
            }
            o.no_near_dup = o.near_dup == 0;
            break;
        case O_NO_NEAR: o.no_near_dup = 1; break;
        case O_DECONT: decont[o.n_decontaminate++] = optarg; break;
        case O_SIGS: sigs[o.n_signatures++] = optarg; break;
        case O_MIN_CHARS:
            if (cli_parse_int(optarg, 0, 1 << 30, &qp.min_chars) != 0) {
                free(decont);
                return cli_usage(name, "--min-chars must be an integer >= 0, got '%s'", optarg);
            }
            break;
        case O_MIN_LETTERS:
            if (cli_parse_double(optarg, 0, 1, &qp.min_letter_share) != 0) {
                free(decont);
                return cli_usage(name, "--min-letter-share must be a number in [0, 1], got '%s'", optarg);
            }
            break;
        case O_REPEAT: qp.repetition = 1; break;
        case O_NO_QUALITY: no_quality = 1; break;
        case 'q': o.quiet = 1; break;
        default: free(decont); return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if ((!o.tokenizer_path && !sign) || !o.out_dir || (optind >= argc && !sources_file))
        free(decont);
    if (!o.tokenizer_path && !sign)
        return cli_usage(name, "-t TOKENIZER is required");
    if (!o.out_dir)
        return cli_usage(name, sign ? "-o FILE.sig is required" : "-o DIR is required");
    if (optind >= argc && !sources_file)
        return cli_usage(name, "no SOURCE given");
    if (o.n_signatures && o.no_near_dup) {
        free(decont);
        return cli_usage(name, "--signatures hold the first pass of near-duplicate removal, which is off");
    }
    dk_err err;
    data_source_spec *from_file = NULL;
    size_t nf = 0;
    if (sources_file && data_sources_load(sources_file, &from_file, &nf, &err) != 0) {
        free(decont);
        return cli_fail(&err);
    }
    /* the sources file's sources first, then those on the command line */
    size_t n = nf + (size_t)(argc - optind);
    data_source_spec *src = calloc(n, sizeof *src);
    char (*paths)[4096] = calloc(n, sizeof *paths);
    if (!src || !paths) {
        free(decont);
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
            free(decont);
            free(src);
            free(paths);
            data_sources_free(from_file, nf);
            return cli_usage(name, "bad SOURCE '%s' (PATH or PATH:WEIGHT with WEIGHT > 0)", arg);
        }
        src[i].path = paths[i];
    }
    o.sources = src;
    o.n_sources = n;
    o.quality = no_quality ? NULL : &qp;
    if (sign) {
        int rs = sign_report(&o, o.out_dir, json, &err);
        free(decont);
        free(src);
        free(paths);
        data_sources_free(from_file, nf);
        return rs;
    }
    data_build_report rep;
    int rc = data_build(&o, &rep, &err);
    free(decont);
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
        json_object_set_new(j, "near_duplicates", json_integer((json_int_t)rep.near_duplicates));
        json_object_set_new(j, "contaminated", json_integer((json_int_t)rep.contaminated));
        for (int q = 0; q < 3; q++)
            json_object_set_new(j, quality_reason_name[q + 1], json_integer((json_int_t)rep.filtered[q]));
        json_object_set_new(j, "train_tokens", json_integer((json_int_t)rep.train_tokens));
        json_object_set_new(j, "val_tokens", json_integer((json_int_t)rep.val_tokens));
        json_object_set_new(j, "bytes", json_integer((json_int_t)rep.bytes));
        json_object_set_new(j, "seconds", json_real(rep.seconds));
        json_object_set_new(j, "pii_scrub", json_boolean(!o.no_scrub));
        json_object_set_new(j, "files", json_integer((json_int_t)rep.files));
        json_object_set_new(j, "files_from_signatures", json_integer((json_int_t)rep.files_from_signatures));
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
        printf("dataset: %s\n  %llu documents (%llu duplicates, %llu empty, %llu near duplicates and "
               "%llu contaminated dropped), %.1f MB\n"
               "  %llu training tokens, %llu validation tokens, %.2f s\n",
               o.out_dir, (unsigned long long)rep.documents, (unsigned long long)rep.duplicates,
               (unsigned long long)rep.empty, (unsigned long long)rep.near_duplicates,
               (unsigned long long)rep.contaminated, (double)rep.bytes / 1e6,
               (unsigned long long)rep.train_tokens, (unsigned long long)rep.val_tokens,
               rep.seconds);
    if (!json) {
        printf("  quality filters %s\n", o.quality ? "dropped (too short, too few letters, repetitive):" : "off (--no-quality)");
        for (size_t i = 0; i < rep.n_sources && o.quality; i++)
            printf("    %-24s %llu, %llu, %llu documents\n", rep.sources[i].name,
                   (unsigned long long)rep.sources[i].filtered[0], (unsigned long long)rep.sources[i].filtered[1],
                   (unsigned long long)rep.sources[i].filtered[2]);
        if (o.n_signatures)
            printf("  first pass of %llu of the %llu input files from the signature files\n",
                   (unsigned long long)rep.files_from_signatures, (unsigned long long)rep.files);
        printf("  near duplicates %s\n", o.no_near_dup ? "kept (--no-near-dup)" : "dropped:");
        for (size_t i = 0; i < rep.n_sources && !o.no_near_dup; i++)
            printf("    %-24s %llu documents, %llu tokens\n", rep.sources[i].name,
                   (unsigned long long)rep.sources[i].near_duplicates,
                   (unsigned long long)rep.sources[i].near_duplicate_tokens);
        if (o.n_decontaminate) {
            printf("  contaminated documents dropped:\n");
            for (size_t i = 0; i < rep.n_sources; i++)
                printf("    %-24s %llu documents, %llu tokens\n", rep.sources[i].name,
                       (unsigned long long)rep.sources[i].contaminated,
                       (unsigned long long)rep.sources[i].contaminated_tokens);
        }
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

static int data_build_cmd(int argc, char **argv) { return data_build_or_sign(argc, argv, 0); }
static int data_sign_cmd(int argc, char **argv) { return data_build_or_sign(argc, argv, 1); }

static int data_info_cmd(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: dokja data info DIR\n\nVerifies a dataset (manifest, every shard's "
               "SHA-256, header and ids, the tokenizer's hash) and summarises it.\n");
        return 0;
    }
    if (argc != 2)
        return cli_usage(argv[0], argc < 2 ? "DIR is required" : "one DIR, got %d arguments", argc - 1);
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

static const char CONTAM_HELP[] =
    "usage: dokja data contamination DATA --task SPEC [--task SPEC ...] [--json]\n"
    "                                [--word-ngram N] [--char-ngram N] [--threads N]\n"
    "\n"
    "Reports, for each item of each task, whether a long n-gram of its text occurs in\n"
    "the training data: DATA is a dataset built by `dokja data build`; its shards are\n"
    "decoded with the dataset's own tokenizer, so what is checked is what a model\n"
    "trained on it saw (both splits). An item's text is its context followed by its\n"
    "gold choice (a text task: each non-empty line). Texts are lowercased and cut at\n"
    "white space and punctuation; an item mostly in Hangul is matched by character\n"
    "n-grams (50 characters, spaces and punctuation left out), any other by word\n"
    "n-grams (13 words, as GPT-3 and lm-evaluation-harness); an item shorter than n\n"
    "must occur whole. Each hit names the source, split and document (0-based, in\n"
    "shard order) of its first occurrence. SPEC as `dokja eval --task` takes it.\n"
    "--json: {\"tasks\":[{\"task\":NAME,\"n\":N,\"contaminated\":[ITEM,...],\n"
    "\"where\":[{\"item\",\"source\",\"split\",\"document\",\"excerpt\"},...]}], ...}\n"
    "(0-based items; excerpt: the document's first characters).\n"
    "--threads N: decode and scan on N threads (default: all CPUs); the report is the\n"
    "same for any N.\n";

static int data_contam_cmd(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(CONTAM_HELP, stdout);
        return 0;
    }
    enum { O_TASK = 256, O_JSON, O_WN, O_CN, O_THREADS };
    static const struct option opts[] = {{"task", required_argument, 0, O_TASK},
                                         {"json", no_argument, 0, O_JSON},
                                         {"word-ngram", required_argument, 0, O_WN},
                                         {"char-ngram", required_argument, 0, O_CN},
                                         {"threads", required_argument, 0, O_THREADS},
                                         {0, 0, 0, 0}};
    const char *name = argv[0];
    const char **specs = calloc((size_t)argc, sizeof *specs);
    size_t nt = 0;
    int json = 0, wn = 0, cn = 0, threads = 0, c;
    if (!specs)
        return DK_EXIT_FAIL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_TASK: specs[nt++] = optarg; break;
        case O_JSON: json = 1; break;
        case O_WN: bad = cli_parse_int(optarg, 1, 256, &wn); break;
        case O_CN: bad = cli_parse_int(optarg, 1, 256, &cn); break;
        case O_THREADS: bad = cli_parse_int(optarg, 1, 1024, &threads); break;
        default: free(specs); return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if (bad) {
            free(specs);
            return cli_bad_value(name, opts, c, optarg);
        }
    }
    if (optind + 1 != argc || nt == 0) {
        free(specs);
        return cli_usage(name, optind + 1 != argc ? "one DATA directory is required" : "at least one --task SPEC is required");
    }
    const char *dir = argv[optind];
    dk_err err;
    int rc = 0;
    contam *ct = contam_new(wn, cn);
    contam_where **where = calloc(nt, sizeof *where);
    char(*names)[96] = NULL;
    size_t ns = 0;
    contam_stats st;
    if (!ct || !where)
        rc = dk_errf(&err, "out of memory");
    for (size_t i = 0; rc == 0 && i < nt; i++)
        if (contam_add_task(ct, specs[i], &err) < 0)
            rc = -1;
        else if (!(where[i] = calloc(contam_task_items(ct, i) + 1, sizeof **where)))
            rc = dk_errf(&err, "out of memory");
    if (rc == 0)
        rc = contam_finish(ct, &err);
    if (rc == 0)
        rc = contam_scan_dataset(ct, dir, where, threads, &names, &ns, &st, &err);
    if (rc == 0) {
        json_t *out = json_object(), *ta = json_array();
        if (!json)
            printf("%s: %llu documents, %.1f MB of text scanned in %.2f s (%.1f MB/s); n-grams: %d "
                   "words, %d characters (Korean items)\n",
                   dir, (unsigned long long)st.documents, (double)st.bytes / 1e6, st.seconds,
                   st.seconds > 0 ? (double)st.bytes / 1e6 / st.seconds : 0.0, contam_word_n(ct),
                   contam_char_n(ct));
        for (size_t t = 0; t < nt; t++) {
            size_t n = contam_task_items(ct, t), hits = 0;
            json_t *ci = json_array(), *wa = json_array();
            for (size_t i = 0; i < n; i++) {
                const contam_where *w = &where[t][i];
                if (!w->found)
                    continue;
                hits++;
                json_array_append_new(ci, json_integer((json_int_t)i));
                json_array_append_new(wa, json_pack("{s:I, s:s, s:s, s:I, s:s}", "item", (json_int_t)i, "source",
                                                    names[w->source], "split", w->split ? "val" : "train",
                                                    "document", (json_int_t)w->document, "excerpt", w->excerpt));
            }
            if (!json) {
                printf("\n%s (sha256 %.16s...): %zu of %zu items contaminated (%zu matched by characters)\n",
                       contam_task_name(ct, t), contam_task_sha256(ct, t), hits, n,
                       contam_task_char_items(ct, t));
                for (size_t i = 0; i < n; i++)
                    if (where[t][i].found)
                        printf("  item %zu: %s %s document %llu: %s\n", i, names[where[t][i].source],
                               where[t][i].split ? "val" : "train",
                               (unsigned long long)where[t][i].document, where[t][i].excerpt);
            }
            json_array_append_new(ta, json_pack("{s:s, s:s, s:I, s:I, s:o, s:o}", "task", contam_task_name(ct, t),
                                                "sha256", contam_task_sha256(ct, t), "n", (json_int_t)n,
                                                "char_ngram_items", (json_int_t)contam_task_char_items(ct, t),
                                                "contaminated", ci, "where", wa));
        }
        json_object_set_new(out, "tasks", ta);
        json_object_set_new(out, "data", json_string(dir));
        json_object_set_new(out, "word_ngram", json_integer(contam_word_n(ct)));
        json_object_set_new(out, "char_ngram", json_integer(contam_char_n(ct)));
        json_object_set_new(out, "documents", json_integer((json_int_t)st.documents));
        json_object_set_new(out, "bytes", json_integer((json_int_t)st.bytes));
        if (json) {
            char *txt = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (txt)
                puts(txt);
            free(txt);
        }
        json_decref(out);
    }
    for (size_t i = 0; where && i < nt; i++)
        free(where[i]);
    free(where);
    free(names);
    contam_free(ct);
    free(specs);
    return rc == 0 ? 0 : cli_fail(&err);
}

int cmd_data(int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"build", data_build_cmd, "tokenize text sources into verified token shards"},
        {"sign", data_sign_cmd, "the first pass of a build, elsewhere: MinHash signatures of sources"},
        {"info", data_info_cmd, "verify a dataset directory and summarise it"},
        {"contamination", data_contam_cmd, "find test items of eval tasks in a dataset's text"},
        {NULL, NULL, NULL}};
    return cli_dispatch(argv[0], subs, argc, argv);
}
