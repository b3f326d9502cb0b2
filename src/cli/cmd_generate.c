/* cmd_generate.c: `dokja generate`: continue a prompt with a trained model, streaming
 * the text as it is produced. The loop is the library's lm_generate (infer/generate.h);
 * this file parses arguments, reads prompts and prints on UTF-8 boundaries. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "cli/cli.h"
#include "infer/generate.h"
#include "util/fs.h"
#include "util/progress.h"
#include "util/utf8.h"

static const char HELP[] =
    "usage: dokja generate -m MODEL [-p PROMPT | -f FILE] [-n N] [--temperature T] [--top-k K]\n"
    "                      [--top-p P] [--seed S] [--threads N] [--ctx C] [--interactive] [--json]\n"
    "\n"
    "Continues PROMPT (or the UTF-8 text of FILE; default: a new document) with up to N\n"
    "tokens (128), streaming them to stdout on UTF-8 boundaries and stopping at <|eos|>.\n"
    "The context starts with <|eos|>, the document separator the model saw in training.\n"
    "Sampling: temperature T (0.8; 0 is greedy), then the K most likely tokens (0: all),\n"
    "then the smallest most-likely set with probability mass >= P (1: all). The draw for\n"
    "each step is a function of (seed, step): the same seed gives the same text.\n"
    "When the context (C positions; default max_position_embeddings, at most 4096) fills\n"
    "up, its last half is kept and processed again. Speeds go to stderr at the end.\n"
    "--interactive: read prompts line by line from stdin (each a new document; on a\n"
    "terminal with line editing and history) and\n"
    "answer each; an empty line or end of input ends the session.\n"
    "--json: instead of streaming, print one JSON object per prompt: {\"prompt\", \"ids\"\n"
    "(the new tokens' ids), \"text\", \"eos\" (true if <|eos|> ended it)}; bytes that\n"
    "are not UTF-8 become U+FFFD in the strings, the ids are exact.\n";

/* The streamed text so far: tokens' bytes, printed up to character boundaries. */
typedef struct {
    uint8_t *buf;
    size_t len, cap, shown;
    int oom;
    int unwritable; /* stdout failed (a full disk, a closed pipe): generation stops */
    json_t *ids; /* --json: the ids, printed at the end instead of streamed text */
} stream;

static int on_token(void *ctx, dk_token id, const uint8_t *bytes, size_t n)
{
    stream *s = ctx;
    if (s->ids && json_array_append_new(s->ids, json_integer(id)) != 0)
        return s->oom = 1;
    if (s->len + n > s->cap) {
        size_t cap = (s->len + n) * 2 + 64;
        uint8_t *p = realloc(s->buf, cap);
        if (!p)
            return s->oom = 1;
        s->buf = p, s->cap = cap;
    }
    memcpy(s->buf + s->len, bytes, n);
    s->len += n;
    if (!s->ids) {
        cli_stream_utf8(stdout, s->buf, s->len, &s->shown, 0);
        if (ferror(stdout))
            return s->unwritable = 1;
    }
    return 0;
}

/* rc, or the failure of standard output: one error line, and no speeds after it. */
static int stdout_status(int rc, dk_err *err)
{
    if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout)))
        rc = dk_errf(err, "cannot write standard output: %s", errno ? strerror(errno) : "write error");
    return rc;
}

/* Text as a JSON string: a generated text may end inside a character or hold invalid
 * bytes (an undertrained model), which become U+FFFD; the ids are exact. */
static json_t *lossy_string(const uint8_t *b, size_t n)
{
    uint8_t *o = malloc(3 * n + 1);
    size_t k = 0;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = utf8_decode(b + i, n - i, &cp);
        if (l == 0) {
            memcpy(o + k, "\xef\xbf\xbd", 3);
            k += 3;
            i++;
        } else {
            memcpy(o + k, b + i, l);
            k += l;
            i += l;
        }
    }
    json_t *j = json_stringn(o ? (const char *)o : "", k);
    free(o);
    return j;
}

/* One prompt: echoed, then its continuation streamed to stdout. */
static int generate_one(lm_gen *g, const lm_gen_opts *o, lm_gen_stats *st, const char *text, size_t len,
                        int json, dk_err *err)
{
    stream s = {0};
    if (json && !(s.ids = json_array()))
        return dk_errf(err, "out of memory");
    errno = 0;
    if (!json) {
        fwrite(text, 1, len, stdout);
        fflush(stdout);
    }
    int rc = stdout_status(0, err);
    if (rc == 0)
        rc = lm_generate(g, (const uint8_t *)text, len, o, on_token, &s, st, err);
    if (rc == 0 && s.oom)
        rc = dk_errf(err, "out of memory");
    if (rc == 0 && s.unwritable)
        rc = stdout_status(0, err);
    if (rc == 0 && json) {
        /* fewer tokens than asked: only <|eos|> ends generation early */
        int eos = json_array_size(s.ids) < (size_t)o->n_new;
        json_t *out = json_pack("{s:o, s:O, s:o, s:b}", "prompt", lossy_string((const uint8_t *)text, len),
                                "ids", s.ids, "text", lossy_string(s.buf, s.len), "eos", eos);
        char *d = out ? json_dumps(out, JSON_COMPACT) : NULL;
        if (d) {
            puts(d);
            rc = stdout_status(0, err);
        } else {
            rc = dk_errf(err, "out of memory");
        }
        free(d);
        json_decref(out);
        json_decref(s.ids);
        free(s.buf);
        return rc;
    }
    json_decref(s.ids);
    if (st->last_prompt_kept < st->last_prompt_tokens)
        fprintf(stderr, "dokja: the prompt has %zu tokens; kept its last %zu (the context is %zu)\n",
                st->last_prompt_tokens, st->last_prompt_kept, st->last_prompt_kept + 1);
    if (rc == 0) {
        cli_stream_utf8(stdout, s.buf, s.len, &s.shown, 1);
        putchar('\n');
        rc = stdout_status(0, err);
    }
    free(s.buf);
    return rc;
}

int cmd_generate(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(HELP, stdout);
        return 0;
    }
    enum { O_TEMP = 256, O_TOPK, O_TOPP, O_SEED, O_THREADS, O_CTX, O_INTER, O_JSON };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"prompt", required_argument, 0, 'p'},
        {"file", required_argument, 0, 'f'}, {"tokens", required_argument, 0, 'n'},
        {"temperature", required_argument, 0, O_TEMP}, {"top-k", required_argument, 0, O_TOPK},
        {"top-p", required_argument, 0, O_TOPP}, {"seed", required_argument, 0, O_SEED},
        {"threads", required_argument, 0, O_THREADS}, {"ctx", required_argument, 0, O_CTX},
        {"interactive", no_argument, 0, O_INTER}, {"json", no_argument, 0, O_JSON}, {0, 0, 0, 0}};
    const char *dir = NULL, *prompt = NULL, *file = NULL, *name = argv[0];
    lm_gen_opts go = {.n_new = 128, .sample = {.temperature = 0.8, .top_k = 0, .top_p = 1.0, .seed = 1}};
    lm_gen_stats st = {0};
    int threads = 0, ctx = 0, interactive = 0, json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "m:p:f:n:", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'm': dir = optarg; break;
        case 'p': prompt = optarg; break;
        case 'f': file = optarg; break;
        case 'n': bad = cli_parse_int(optarg, 1, 1 << 24, &go.n_new); break;
        case O_TEMP: bad = cli_parse_double(optarg, 0, 100, &go.sample.temperature); break;
        case O_TOPK: bad = cli_parse_int(optarg, 0, 1 << 24, &go.sample.top_k); break;
        case O_TOPP: bad = cli_parse_double(optarg, 1e-9, 1, &go.sample.top_p); break;
        case O_SEED: bad = cli_parse_u64(optarg, 0, UINT64_MAX, &go.sample.seed); break;
        case O_THREADS: bad = cli_parse_int(optarg, 1, 1024, &threads); break;
        case O_CTX: bad = cli_parse_int(optarg, 2, 1 << 24, &ctx); break;
        case O_INTER: interactive = 1; break;
        case O_JSON: json = 1; break;
        default: return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if (bad)
            return cli_bad_value(name, opts, c, optarg);
    }
    if (!dir)
        return cli_usage(name, "-m MODEL is required");
    if (optind < argc)
        return cli_usage(name, "unexpected argument '%s'", argv[optind]);
    if ((prompt != NULL) + (file != NULL) + interactive > 1)
        return cli_usage(name, "-p, -f and --interactive exclude each other");
    dk_err err;
    uint8_t *text = NULL;
    size_t tlen = 0;
    if (prompt) { /* the same rule as for -f and --interactive */
        size_t bad = utf8_validate((const uint8_t *)prompt, strlen(prompt));
        if (bad != strlen(prompt)) {
            dk_errf(&err, "-p: the prompt is not valid UTF-8 (at byte %zu)", bad);
            return cli_fail(&err);
        }
    }
    if (file) {
        FILE *f = fs_open_regular(file, &err);
        if (!f)
            return cli_fail(&err);
        int rc = fs_read_stream(f, file, (size_t)1 << 30, &text, &tlen, &err);
        fclose(f);
        if (rc != 0)
            return cli_fail(&err);
        size_t bad = utf8_validate(text, tlen);
        if (bad != tlen) {
            free(text);
            dk_errf(&err, "%s: invalid UTF-8 at byte %zu", file, bad);
            return cli_fail(&err);
        }
    }
    lm l;
    if (lm_open(&l, dir, threads, ctx, &err) != 0) {
        free(text);
        return cli_fail(&err);
    }
    lm_gen *g = NULL;
    int rc = lm_gen_new(&g, &l, &err);
    if (rc == 0 && !interactive) {
        const char *t = file ? (const char *)text : prompt ? prompt : "";
        rc = generate_one(g, &go, &st, t, file ? tlen : strlen(t), json, &err);
    }
    char *line = NULL;
    size_t lcap = 0;
    int tty = isatty(0);
    while (rc == 0 && interactive) {
        ssize_t n;
        if (tty) { /* line editing and history (libedit) on a terminal */
            free(line);
            line = readline("> ");
            n = line ? (ssize_t)strlen(line) : -1;
            if (n > 0)
                add_history(line);
            lcap = 0;
        } else {
            n = getline(&line, &lcap, stdin);
        }
        if (n <= 0)
            break;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0)
            break;
        if (utf8_validate((const uint8_t *)line, (size_t)n) != (size_t)n) {
            fprintf(stderr, "dokja: that line is not valid UTF-8; try again\n");
            continue;
        }
        rc = generate_one(g, &go, &st, line, (size_t)n, json, &err);
    }
    free(line);
    if (rc == 0 && st.prompt_tokens > 0)
        fprintf(stderr, "[prompt %ld tokens, %.1f tokens/s; generated %ld tokens, %.1f tokens/s; %d threads]\n",
                st.prompt_tokens, st.prompt_tokens / (st.prompt_s > 0 ? st.prompt_s : 1e-9), st.gen_tokens,
                st.gen_tokens / (st.gen_s > 0 ? st.gen_s : 1e-9), pool_threads(l.pool));
    free(text);
    lm_gen_free(g);
    lm_close(&l);
    return rc == 0 ? 0 : cli_fail(&err);
}
