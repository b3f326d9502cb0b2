/* cmd_tokenizer.c: `dokja tokenizer train|encode|decode|stats|info`. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "tokenizer/tok_stats.h"
#include "tokenizer/tok_train.h"
#include "tokenizer/tokenizer.h"
#include "interop/interop.h"
#include "util/fs.h"
#include "util/hash.h"

#define MAX_STREAM_INPUT ((size_t)4 << 30)

static const char *const DEFAULT_SPECIALS[] = {"<|bos|>", "<|eos|>", "<|pad|>"};

/* ---- train ---------------------------------------------------------------------- */

static const char TRAIN_HELP[] =
    "usage: dokja tokenizer train --vocab-size N -o FILE [options] INPUT...\n"
    "\n"
    "Learns a byte-level BPE tokenizer from raw UTF-8 text. INPUT is a file or a\n"
    "directory (every file below it, in sorted order). Same inputs and options give a\n"
    "byte-identical FILE, whatever the thread count.\n"
    "\n"
    "  --vocab-size N       total ids: 256 bytes + special tokens + merges (required)\n"
    "  -o, --output FILE    tokenizer file to write (atomically)\n"
    "  --special TEXT       add a special token (repeatable; after <|bos|> <|eos|> <|pad|>)\n"
    "  --min-frequency N    stop when the most frequent pair occurs fewer than N times (2)\n"
    "  --no-compose-hangul  keep decomposed Hangul Jamo as they are (default: compose)\n"
    "  --pretokenizer NAME  how text is cut into chunks before BPE (default: " TOK_PRETOK_DEFAULT_NAME "):\n"
    "                       dokja-v1 (dokja's own), or one of llama.cpp's, which a GGUF\n"
    "                       export keeps: gpt-2 llama-bpe qwen2 exaone exaone4\n"
    "                       exaone-moe kanana2 solar-open midm-2.0 a.x-4.0 kormo trillion\n"
    "  --threads N          threads for counting (default: all CPUs)\n"
    "  --json               print the training report as one JSON object\n"
    "  -q, --quiet          no progress lines\n";

static int tokenizer_train(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(TRAIN_HELP, stdout);
        return 0;
    }
    enum { O_SPECIAL = 256, O_MINFREQ, O_NOCOMPOSE, O_THREADS, O_JSON, O_VOCAB, O_PRETOK };
    static const struct option opts[] = {
        {"vocab-size", required_argument, 0, O_VOCAB}, {"output", required_argument, 0, 'o'},
        {"special", required_argument, 0, O_SPECIAL},  {"min-frequency", required_argument, 0, O_MINFREQ},
        {"no-compose-hangul", no_argument, 0, O_NOCOMPOSE}, {"threads", required_argument, 0, O_THREADS},
        {"json", no_argument, 0, O_JSON}, {"quiet", no_argument, 0, 'q'},
        {"pretokenizer", required_argument, 0, O_PRETOK}, {0, 0, 0, 0}};
    const char *name = argv[0], *output = NULL;
    uint64_t vocab = 0, minfreq = 2;
    int threads = 0, json = 0, quiet = 0, have_vocab = 0;
    const char *specials[3 + 1024]; /* the three defaults, then up to 1024 more */
    uint32_t n_special = 0;
    for (size_t i = 0; i < 3; i++)
        specials[n_special++] = DEFAULT_SPECIALS[i];
    enum tok_norm norm = TOK_NORM_HANGUL_COMPOSE;
    enum tok_pretok pretok = TOK_PRETOK_DEFAULT;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "o:q", opts, NULL)) != -1) {
        switch (c) {
        case O_VOCAB:
            if (cli_parse_u64(optarg, 256, TOK_MAX_VOCAB, &vocab) != 0)
                return cli_usage(name, "--vocab-size must be an integer in [256, %u], got '%s'",
                                 TOK_MAX_VOCAB, optarg);
            have_vocab = 1;
            break;
        case 'o': output = optarg; break;
        case O_SPECIAL:
            if (n_special >= 3 + 1024)
                return cli_usage(name, "too many --special tokens (at most 1024)");
            specials[n_special++] = optarg;
            break;
        case O_MINFREQ:
            if (cli_parse_u64(optarg, 1, UINT64_MAX, &minfreq) != 0)
                return cli_usage(name, "--min-frequency must be a positive integer, got '%s'", optarg);
            break;
        case O_NOCOMPOSE: norm = TOK_NORM_NONE; break;
        case O_PRETOK:
            if (pretok_from_name(optarg, &pretok) != 0)
                return cli_usage(name, "unknown --pretokenizer '%s' (see --help for the names)", optarg);
            break;
        case O_THREADS:
            if (cli_parse_int(optarg, 1, 1024, &threads) != 0)
                return cli_usage(name, "--threads must be an integer in [1, 1024], got '%s'", optarg);
            break;
        case O_JSON: json = 1; break;
        case 'q': quiet = 1; break;
        default: return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!have_vocab)
        return cli_usage(name, "--vocab-size is required");
    if (!output)
        return cli_usage(name, "-o FILE is required");
    if (optind >= argc)
        return cli_usage(name, "no INPUT given");
    dk_err err;
    char **inputs;
    size_t n_inputs;
    if (fs_expand_inputs(argv + optind, (size_t)(argc - optind), &inputs, &n_inputs, &err) != 0)
        return cli_fail(&err);
    if (n_inputs == 0) {
        fs_free_list(inputs, n_inputs);
        dk_errf(&err, "%s: no files found", argv[optind]);
        return cli_fail(&err);
    }
    tok_train_opts o = {.vocab_size = (uint32_t)vocab, .threads = threads, .norm = norm, .pretok = pretok,
                        .min_frequency = minfreq, .specials = specials,
                        .n_special = n_special, .quiet = quiet};
    tok_train_report rep;
    tok *t;
    int rc = tok_train(&t, (const char *const *)inputs, n_inputs, &o, &rep, &err);
    if (rc == 0) {
        rc = tok_save(t, output, &err);
        tok_free(t);
    }
    if (rc != 0) {
        fs_free_list(inputs, n_inputs);
        return cli_fail(&err);
    }
    uint32_t got = 256 + n_special + rep.merges;
    if (json) {
        json_t *rep_json = json_object();
        json_object_set_new(rep_json, "output", json_string(output));
        json_object_set_new(rep_json, "vocab_size", json_integer(got));
        json_object_set_new(rep_json, "requested_vocab_size", json_integer((json_int_t)vocab));
        json_object_set_new(rep_json, "merges", json_integer(rep.merges));
        json_object_set_new(rep_json, "files", json_integer((json_int_t)n_inputs));
        json_object_set_new(rep_json, "bytes", json_integer((json_int_t)rep.bytes));
        json_object_set_new(rep_json, "chunks", json_integer((json_int_t)rep.chunks));
        json_object_set_new(rep_json, "unique_chunks", json_integer((json_int_t)rep.unique_chunks));
        json_object_set_new(rep_json, "count_seconds", json_real(rep.count_seconds));
        json_object_set_new(rep_json, "merge_seconds", json_real(rep.merge_seconds));
        char *txt = json_dumps(rep_json, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        json_decref(rep_json);
        if (txt)
            puts(txt);
        free(txt);
    } else {
        printf("tokenizer: %s\n", output);
        printf("  vocabulary   %u ids (256 bytes, %u special, %u merges)\n", got, n_special,
               rep.merges);
        printf("  trained on   %zu files, %.1f MB, %llu chunks (%llu unique)\n", n_inputs,
               (double)rep.bytes / 1e6, (unsigned long long)rep.chunks,
               (unsigned long long)rep.unique_chunks);
        printf("  time         %.2f s counting + %.2f s merging\n", rep.count_seconds,
               rep.merge_seconds);
    }
    if (got < vocab)
        fprintf(stderr, "%s: note: stopped at %u ids: no pair occurs %llu times or more\n", name,
                got, (unsigned long long)minfreq);
    fs_free_list(inputs, n_inputs);
    return 0;
}

/* ---- shared by encode / decode / stats / info ------------------------------------ */

/* Reads INPUT (or stdin when NULL or "-") whole. */
static int read_input(const char *path, uint8_t **buf, size_t *n, dk_err *err)
{
    if (!path || strcmp(path, "-") == 0)
        return fs_read_stream(stdin, "<stdin>", MAX_STREAM_INPUT, buf, n, err);
    FILE *f = fs_open_regular(path, err);
    if (!f)
        return -1;
    int rc = fs_read_stream(f, path, MAX_STREAM_INPUT, buf, n, err);
    fclose(f);
    return rc;
}

static int write_out(const void *p, size_t n)
{
    return n == 0 || fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

typedef struct {
    const char *tokenizer;
    int binary, special, json, threads, lines;
    int n_rest;
    char **rest;
} common_opts;

/* Parses -t FILE, --binary, --special, --json, --threads N, --lines (each command
 * names the flags it accepts in `allowed`). */
static int parse_common(int argc, char **argv, const char *allowed, common_opts *co)
{
    enum { O_BINARY = 256, O_SPECIAL, O_JSON, O_THREADS, O_LINES };
    static const struct option opts[] = {{"tokenizer", required_argument, 0, 't'},
                                         {"binary", no_argument, 0, O_BINARY},
                                         {"special", no_argument, 0, O_SPECIAL},
                                         {"json", no_argument, 0, O_JSON},
                                         {"threads", required_argument, 0, O_THREADS},
                                         {"lines", no_argument, 0, O_LINES},
                                         {0, 0, 0, 0}};
    memset(co, 0, sizeof *co);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
        const char *flag = c == O_BINARY ? "binary" : c == O_SPECIAL ? "special"
                         : c == O_JSON ? "json" : c == O_THREADS ? "threads"
                         : c == O_LINES ? "lines" : NULL;
        if (flag && !strstr(allowed, flag))
            return cli_usage(argv[0], "option --%s does not apply here", flag);
        switch (c) {
        case 't': co->tokenizer = optarg; break;
        case O_BINARY: co->binary = 1; break;
        case O_SPECIAL: co->special = 1; break;
        case O_JSON: co->json = 1; break;
        case O_LINES: co->lines = 1; break;
        case O_THREADS:
            if (cli_parse_int(optarg, 1, 1024, &co->threads) != 0)
                return cli_usage(argv[0], "--threads must be an integer in [1, 1024], got '%s'",
                                 optarg);
            break;
        default: return cli_usage(argv[0], "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!co->tokenizer)
        return cli_usage(argv[0], "-t TOKENIZER is required");
    co->rest = argv + optind;
    co->n_rest = argc - optind;
    return 0;
}

/* ---- encode --------------------------------------------------------------------- */

static const char ENCODE_HELP[] =
    "usage: dokja tokenizer encode -t TOKENIZER [--binary] [--special] [INPUT]\n"
    "\n"
    "Encodes INPUT (default: standard input). Text mode prints the ids of each input\n"
    "line (without its newline) as decimal numbers separated by spaces, one output line\n"
    "per input line. --binary encodes the whole input, newlines included, and writes the\n"
    "ids as little-endian uint32. --special recognises special tokens' text (e.g.\n"
    "<|eos|>) in the input; without it they are ordinary text.\n";

static int tokenizer_encode(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(ENCODE_HELP, stdout);
        return 0;
    }
    common_opts co;
    int rc = parse_common(argc, argv, "binary special", &co);
    if (rc)
        return rc;
    if (co.n_rest > 1)
        return cli_usage(argv[0], "at most one INPUT");
    dk_err err;
    tok *t;
    if (tok_open_any(&t, co.tokenizer, &err) != 0)
        return cli_fail(&err);
    uint8_t *in = NULL;
    size_t n = 0;
    tok_encoder *e = NULL;
    tok_ids ids = {0};
    if (read_input(co.n_rest ? co.rest[0] : NULL, &in, &n, &err) != 0)
        rc = -1;
    else if (!(e = tok_encoder_new(t)))
        rc = dk_errf(&err, "out of memory");
    int flags = co.special ? TOK_ENCODE_SPECIAL : 0;
    if (rc == 0 && co.binary) {
        rc = tok_encode(e, in, n, flags, &ids, &err);
        for (size_t i = 0; rc == 0 && i < ids.n; i++) {
            uint32_t id = (uint32_t)ids.ids[i]; /* written as uint32 little-endian */
            uint8_t le[4] = {(uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16), (uint8_t)(id >> 24)};
            if (write_out(le, 4) != 0)
                rc = dk_errf(&err, "<stdout>: write failed");
        }
    } else if (rc == 0) {
        char num[16];
        for (size_t pos = 0; rc == 0 && pos < n;) {
            const uint8_t *nl = memchr(in + pos, '\n', n - pos);
            size_t end = nl ? (size_t)(nl - in) : n;
            ids.n = 0;
            rc = tok_encode(e, in + pos, end - pos, flags, &ids, &err);
            for (size_t i = 0; rc == 0 && i < ids.n; i++) {
                int k = snprintf(num, sizeof num, i ? " %d" : "%d", ids.ids[i]);
                if (write_out(num, (size_t)k) != 0)
                    rc = dk_errf(&err, "<stdout>: write failed");
            }
            if (rc == 0 && write_out("\n", 1) != 0)
                rc = dk_errf(&err, "<stdout>: write failed");
            pos = end + 1;
        }
    }
    if (rc == 0 && fflush(stdout) != 0)
        rc = dk_errf(&err, "<stdout>: write failed");
    tok_ids_free(&ids);
    tok_encoder_free(e);
    free(in);
    tok_free(t);
    return rc == 0 ? 0 : cli_fail(&err);
}

/* ---- decode --------------------------------------------------------------------- */

static const char DECODE_HELP[] =
    "usage: dokja tokenizer decode -t TOKENIZER [--binary] [INPUT]\n"
    "\n"
    "Reverses `encode`: text mode reads lines of decimal ids and writes each line's\n"
    "bytes followed by a newline; --binary reads little-endian uint32 ids and writes\n"
    "their bytes exactly. Special tokens decode to their text.\n";

/* Ids arrive as uint32 (the binary form, or decimal up to UINT32_MAX). One above
 * INT32_MAX is no dk_token and lies outside every vocabulary: the first such id is held
 * back (*held: its position) and reported, as tok_decode reports an id out of range,
 * once the ids before it have decoded. */
static int push_id(tok_ids *ids, uint32_t v, size_t *held, uint32_t *held_v)
{
    if (v <= INT32_MAX)
        return tok_ids_push(ids, (dk_token)v);
    if (*held == SIZE_MAX) {
        *held = ids->n;
        *held_v = v;
    }
    return 0;
}

static int decode_ids(const tok *t, const tok_ids *ids, size_t held, uint32_t held_v, uint8_t **out,
                      size_t *len, size_t *cap, dk_err *err)
{
    if (tok_decode(t, ids->ids, held != SIZE_MAX ? held : ids->n, out, len, cap, err) != 0)
        return -1;
    if (held != SIZE_MAX)
        return dk_errf(err, "token id %u at position %zu is out of range (vocabulary %u)", held_v, held,
                       tok_vocab_size(t));
    return 0;
}

static int tokenizer_decode(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(DECODE_HELP, stdout);
        return 0;
    }
    common_opts co;
    int rc = parse_common(argc, argv, "binary", &co);
    if (rc)
        return rc;
    if (co.n_rest > 1)
        return cli_usage(argv[0], "at most one INPUT");
    const char *in_name = co.n_rest && strcmp(co.rest[0], "-") ? co.rest[0] : "<stdin>";
    dk_err err;
    tok *t;
    if (tok_open_any(&t, co.tokenizer, &err) != 0)
        return cli_fail(&err);
    uint8_t *in = NULL, *out = NULL;
    size_t n = 0, out_len = 0, out_cap = 0;
    tok_ids ids = {0};
    size_t held = SIZE_MAX;
    uint32_t held_v = 0;
    if (read_input(co.n_rest ? co.rest[0] : NULL, &in, &n, &err) != 0)
        rc = -1;
    else if (co.binary) {
        if (n % 4 != 0)
            rc = dk_errf(&err, "%s: %zu bytes is not a whole number of uint32 ids (truncated?)",
                         in_name, n);
        for (size_t i = 0; rc == 0 && i < n; i += 4) {
            uint32_t id = (uint32_t)in[i] | (uint32_t)in[i + 1] << 8 |
                          (uint32_t)in[i + 2] << 16 | (uint32_t)in[i + 3] << 24;
            if (push_id(&ids, id, &held, &held_v) != 0)
                rc = dk_errf(&err, "out of memory");
        }
        if (rc == 0 && decode_ids(t, &ids, held, held_v, &out, &out_len, &out_cap, &err) != 0)
            rc = -1;
        if (rc == 0 && write_out(out, out_len) != 0)
            rc = dk_errf(&err, "<stdout>: write failed");
    } else {
        size_t line = 1;
        for (size_t pos = 0; rc == 0 && pos < n; line++) {
            const uint8_t *nl = memchr(in + pos, '\n', n - pos);
            size_t end = nl ? (size_t)(nl - in) : n;
            ids.n = 0;
            held = SIZE_MAX;
            for (size_t i = pos; rc == 0 && i < end;) {
                if (in[i] == ' ' || in[i] == '\t' || in[i] == '\r') {
                    i++;
                    continue;
                }
                uint64_t v = 0;
                size_t j = i;
                while (j < end && in[j] >= '0' && in[j] <= '9' && v <= UINT32_MAX)
                    v = v * 10 + (in[j++] - '0');
                if (j == i || v > UINT32_MAX ||
                    (j < end && in[j] != ' ' && in[j] != '\t' && in[j] != '\r'))
                    rc = dk_errf(&err, "%s:%zu: not a token id at column %zu", in_name, line,
                                 i - pos + 1);
                else if (push_id(&ids, (uint32_t)v, &held, &held_v) != 0)
                    rc = dk_errf(&err, "out of memory");
                i = j;
            }
            out_len = 0;
            if (rc == 0 && decode_ids(t, &ids, held, held_v, &out, &out_len, &out_cap, &err) != 0) {
                char msg[sizeof err.msg];
                snprintf(msg, sizeof msg, "%s", err.msg);
                rc = dk_errf(&err, "%s:%zu: %s", in_name, line, msg);
            }
            if (rc == 0 && (write_out(out, out_len) != 0 || write_out("\n", 1) != 0))
                rc = dk_errf(&err, "<stdout>: write failed");
            pos = end + 1;
        }
    }
    if (rc == 0 && fflush(stdout) != 0)
        rc = dk_errf(&err, "<stdout>: write failed");
    tok_ids_free(&ids);
    free(in);
    free(out);
    tok_free(t);
    return rc == 0 ? 0 : cli_fail(&err);
}

/* ---- stats ---------------------------------------------------------------------- */

static const char STATS_HELP[] =
    "usage: dokja tokenizer stats -t TOKENIZER [--json] [--threads N] [--lines] INPUT...\n"
    "\n"
    "Encodes each INPUT (a file or directory) and prints, per input and in total:\n"
    "bytes, characters, Hangul syllables, words (whitespace-separated), tokens,\n"
    "tokens that are fragments of a UTF-8 character (part%), bytes per token, tokens per word and tokens per Hangul\n"
    "syllable, and encoding throughput (MB/s per thread: bytes / time inside the\n"
    "encoder). --lines encodes each line alone, without its newline, as spm_encode does.\n";

static void print_stats_row(const char *name, const tok_text_stats *s)
{
    char per_syl[32] = "-";
    if (s->hangul)
        snprintf(per_syl, sizeof per_syl, "%.3f", (double)s->tokens / (double)s->hangul);
    printf("%-40s %11llu %10llu %9llu %10llu %5.1f%% %8.3f %8.3f %9s %8.1f\n", name,
           (unsigned long long)s->bytes, (unsigned long long)s->tokens,
           (unsigned long long)s->words, (unsigned long long)s->hangul,
           s->tokens ? 100.0 * (double)s->partial_tokens / (double)s->tokens : 0.0,
           s->tokens ? (double)s->bytes / (double)s->tokens : 0.0,
           s->words ? (double)s->tokens / (double)s->words : 0.0, per_syl,
           s->encode_seconds > 0 ? (double)s->bytes / 1e6 / s->encode_seconds : 0.0);
}

static json_t *stats_json(const char *name, const tok_text_stats *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "input", json_string(name));
    json_object_set_new(o, "bytes", json_integer((json_int_t)s->bytes));
    json_object_set_new(o, "characters", json_integer((json_int_t)s->chars));
    json_object_set_new(o, "hangul_syllables", json_integer((json_int_t)s->hangul));
    json_object_set_new(o, "words", json_integer((json_int_t)s->words));
    json_object_set_new(o, "tokens", json_integer((json_int_t)s->tokens));
    json_object_set_new(o, "partial_tokens", json_integer((json_int_t)s->partial_tokens));
    json_object_set_new(o, "bytes_per_token",
                        json_real(s->tokens ? (double)s->bytes / (double)s->tokens : 0));
    json_object_set_new(o, "tokens_per_word",
                        json_real(s->words ? (double)s->tokens / (double)s->words : 0));
    json_object_set_new(o, "tokens_per_hangul_syllable",
                        s->hangul ? json_real((double)s->tokens / (double)s->hangul) : json_null());
    json_object_set_new(o, "encode_seconds", json_real(s->encode_seconds));
    json_object_set_new(o, "encode_mb_per_s",
                        json_real(s->encode_seconds > 0 ? (double)s->bytes / 1e6 / s->encode_seconds : 0));
    return o;
}

static int tokenizer_stats(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(STATS_HELP, stdout);
        return 0;
    }
    common_opts co;
    int rc = parse_common(argc, argv, "json threads lines", &co);
    if (rc)
        return rc;
    if (co.n_rest < 1)
        return cli_usage(argv[0], "no INPUT given");
    dk_err err;
    tok *t;
    if (tok_open_any(&t, co.tokenizer, &err) != 0)
        return cli_fail(&err);
    pool *pl = pool_new(co.threads);
    if (!pl) {
        tok_free(t);
        dk_errf(&err, "cannot start threads");
        return cli_fail(&err);
    }
    json_t *rows = json_array();
    tok_text_stats total = {0};
    if (!co.json)
        printf("%-40s %11s %10s %9s %10s %6s %8s %8s %9s %8s\n", "input", "bytes", "tokens",
               "words", "syllables", "part%", "B/tok", "tok/word", "tok/syl", "MB/s");
    for (int i = 0; rc == 0 && i < co.n_rest; i++) {
        char **files;
        size_t n_files;
        if (fs_expand_inputs(co.rest + i, 1, &files, &n_files, &err) != 0) {
            rc = -1;
            break;
        }
        tok_text_stats st = {0};
        for (size_t f = 0; rc == 0 && f < n_files; f++)
            rc = tok_stats_file(t, files[f], pl, co.lines ? TOK_STATS_LINES : 0, &st, &err);
        fs_free_list(files, n_files);
        if (rc != 0)
            break;
        tok_stats_add(&total, &st);
        if (co.json)
            json_array_append_new(rows, stats_json(co.rest[i], &st));
        else
            print_stats_row(co.rest[i], &st);
    }
    if (rc == 0) {
        if (co.json) {
            json_t *o = json_object();
            json_object_set_new(o, "tokenizer", json_string(co.tokenizer));
            json_object_set_new(o, "vocab_size", json_integer(tok_vocab_size(t)));
            json_object_set_new(o, "threads", json_integer(pool_threads(pl)));
            json_object_set_new(o, "inputs", rows);
            json_object_set_new(o, "total", stats_json("total", &total));
            rows = NULL;
            char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
            json_decref(o);
            if (s)
                puts(s);
            free(s);
        } else {
            print_stats_row("total", &total);
        }
    }
    json_decref(rows);
    pool_free(pl);
    tok_free(t);
    return rc == 0 ? 0 : cli_fail(&err);
}

/* ---- info ----------------------------------------------------------------------- */

static int tokenizer_info(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: dokja tokenizer info -t TOKENIZER\n\nValidates a tokenizer file and "
               "prints its vocabulary size, normaliser, special tokens and SHA-256.\n");
        return 0;
    }
    common_opts co;
    int rc = parse_common(argc, argv, "", &co);
    if (rc)
        return rc;
    dk_err err;
    tok *t;
    uint8_t digest[32];
    char hex[65];
    if (tok_open_any(&t, co.tokenizer, &err) != 0)
        return cli_fail(&err);
    if (fs_is_dir(co.tokenizer))
        snprintf(hex, sizeof hex, "- (a directory)");
    else if (sha256_file(co.tokenizer, digest, &err) != 0)
        return tok_free(t), cli_fail(&err);
    else
        sha256_hex(digest, hex);
    printf("file         %s\nsha256       %s\nkind         %s\nvocab_size   %u\nmerges       %u\n"
           "normalizer   %s\npretokenizer %s\n", co.tokenizer, hex,
           !tok_is_foreign(t) ? "dokja byte-level BPE" : tok_n_merges(t) ? "byte-level BPE" : "SentencePiece BPE",
           tok_vocab_size(t), tok_n_merges(t), tok_norm(t) == TOK_NORM_HANGUL_COMPOSE ? "hangul-compose" : "none",
           tok_n_merges(t) || !tok_is_foreign(t) ? tok_pretok_name(t) : "-");
    printf("bos          %d (%s)\neos          %d\nspecial      ", (int)tok_bos(t),
           tok_bos(t) >= 0 ? "added to every text" : "none added", (int)tok_eos(t));
    for (uint32_t i = 0; i < tok_n_special(t) && i < 64; i++) { /* from the file: escaped */
        printf("%s%d=", i ? " " : "", (int)tok_special_id(t, tok_special_text(t, i)));
        cli_put_safe(stdout, tok_special_text(t, i), 100);
    }
    if (tok_n_special(t) > 64)
        printf(" ... (%u in all)", tok_n_special(t));
    printf("\n");
    tok_free(t);
    return 0;
}

int cmd_tokenizer(int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"train", tokenizer_train, "learn a byte-level BPE tokenizer from text files"},
        {"encode", tokenizer_encode, "text to token ids"},
        {"decode", tokenizer_decode, "token ids to text"},
        {"stats", tokenizer_stats, "measure tokens per word / syllable / byte on texts"},
        {"info", tokenizer_info, "validate a tokenizer file and summarise it"},
        {NULL, NULL, NULL}};
    return cli_dispatch(argv[0], subs, argc, argv);
}
