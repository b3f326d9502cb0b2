/* cmd_sample.c: `dokja sample`: a minimal text sampler for a trained model (no KV
 * cache: each new token reruns the whole context; `dokja generate` is the fast one).
 * Used by the main job to show what a freshly trained model writes. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/model_io.h"
#include "tokenizer/tokenizer.h"
#include "util/hash.h"
#include "util/utf8.h"

static const char HELP[] =
    "usage: dokja sample -m MODEL [-p PROMPT] [-n N] [--temperature T] [--seed S]\n"
    "\n"
    "Continues PROMPT (default: a new document) with up to N tokens (64), stopping at\n"
    "<|eos|>. The context starts with <|eos|>, the document separator the model saw in\n"
    "training. Temperature 0 is greedy; otherwise tokens are drawn from softmax(logits /\n"
    "T) with a counter-based generator: the same seed gives the same text.\n";

/* Prints the longest prefix of buf[*done..n) that ends on a character boundary. */
static void flush_utf8(const uint8_t *buf, size_t n, size_t *done, int final)
{
    size_t end = n;
    if (!final) /* hold back a trailing incomplete sequence */
        for (size_t back = 1; back <= 3 && back <= n - *done; back++) {
            uint8_t c = buf[n - back];
            if ((c & 0xC0) == 0x80)
                continue;
            if (c >= 0xC0) {
                uint32_t cp;
                if (utf8_decode(buf + n - back, back, &cp) == 0)
                    end = n - back;
            }
            break;
        }
    fwrite(buf + *done, 1, end - *done, stdout);
    fflush(stdout);
    *done = end;
}

int cmd_sample(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(HELP, stdout);
        return 0;
    }
    enum { O_TEMP = 256, O_SEED };
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"prompt", required_argument, 0, 'p'},
                                         {"tokens", required_argument, 0, 'n'},
                                         {"temperature", required_argument, 0, O_TEMP},
                                         {"seed", required_argument, 0, O_SEED},
                                         {0, 0, 0, 0}};
    const char *dir = NULL, *prompt = "", *name = argv[0];
    int n_new = 64, c;
    double temp = 0.8;
    uint64_t seed = 1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "m:p:n:", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'm': dir = optarg; break;
        case 'p': prompt = optarg; break;
        case 'n':
            if (cli_parse_int(optarg, 1, 1 << 20, &n_new) != 0)
                return cli_usage(name, "-n must be a positive integer, got '%s'", optarg);
            break;
        case O_TEMP:
            temp = strtod(optarg, &end);
            if (*end || !(temp >= 0) || temp > 100)
                return cli_usage(name, "--temperature must be a number in [0, 100], got '%s'", optarg);
            break;
        case O_SEED:
            if (cli_parse_u64(optarg, 0, UINT64_MAX, &seed) != 0)
                return cli_usage(name, "--seed must be a non-negative integer, got '%s'", optarg);
            break;
        default: return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!dir)
        return cli_usage(name, "-m MODEL is required");
    dk_err err;
    char tpath[4400];
    snprintf(tpath, sizeof tpath, "%s/%s", dir, TOK_DEFAULT_FILE);
    tok *t;
    if (tok_load(&t, tpath, &err) != 0)
        return cli_fail(&err);
    pool *p = pool_new(0);
    model *m;
    if (!p || model_load_dir(&m, dir, p, &err) != 0) {
        tok_free(t);
        pool_free(p);
        return cli_fail(&err);
    }
    const model_config *cfg = model_cfg(m);
    int64_t eos = tok_special_id(t, "<|eos|>");
    tok_ids ids = {0};
    tok_encoder *e = tok_encoder_new(t);
    int rc = 0;
    if (eos < 0 || (uint32_t)cfg->vocab_size < tok_vocab_size(t))
        rc = dk_errf(&err, "%s: tokenizer and model do not fit (no <|eos|>, or vocab_size %d < %u)",
                     dir, cfg->vocab_size, tok_vocab_size(t));
    if (rc == 0 && (tok_ids_push(&ids, (uint32_t)eos) != 0 ||
                    tok_encode(e, (const uint8_t *)prompt, strlen(prompt), 0, &ids, &err) != 0))
        rc = -1;
    size_t V = (size_t)cfg->vocab_size, cap = (size_t)cfg->max_seq;
    float *logits = malloc(cap * V * sizeof *logits);
    int32_t *ctx = malloc(cap * sizeof *ctx);
    double *prob = malloc(V * sizeof *prob);
    if (rc == 0 && (!logits || !ctx || !prob))
        rc = dk_errf(&err, "out of memory");
    if (rc == 0) /* activations for the longest context, once */
        rc = model_reserve(m, 1, (int)(ids.n + (size_t)n_new < cap ? ids.n + (size_t)n_new : cap), &err);
    uint8_t *text = NULL;
    size_t len = 0, tcap = 0, shown = 0;
    fputs(prompt, stdout);
    for (int step = 0; rc == 0 && step < n_new; step++) {
        size_t n = ids.n < cap ? ids.n : cap, off = ids.n - n; /* the last max_seq tokens */
        for (size_t i = 0; i < n; i++)
            ctx[i] = (int32_t)ids.ids[off + i];
        model_forward_logits(m, ctx, 1, (int)n, logits);
        const float *z = logits + (n - 1) * V;
        uint32_t next = 0;
        if (temp == 0) {
            for (size_t v = 1; v < V; v++)
                next = z[v] > z[next] ? (uint32_t)v : next;
        } else {
            double mx = -INFINITY, sum = 0;
            for (size_t v = 0; v < V; v++)
                mx = z[v] > mx ? z[v] : mx;
            for (size_t v = 0; v < V; v++)
                sum += prob[v] = exp((z[v] - mx) / temp);
            double u = (double)(hash_u64(seed * 0x9E3779B97F4A7C15ULL + (uint64_t)step) >> 11) *
                       0x1.0p-53 * sum;
            for (next = 0; next + 1 < V && (u -= prob[next]) > 0; next++)
                ;
        }
        if (next == (uint32_t)eos || next >= tok_vocab_size(t))
            break;
        if (tok_ids_push(&ids, next) != 0 || tok_decode(t, &next, 1, &text, &len, &tcap, &err) != 0)
            rc = -1;
        else
            flush_utf8(text, len, &shown, 0);
    }
    if (rc == 0) {
        flush_utf8(text, len, &shown, 1);
        putchar('\n');
    }
    free(text);
    free(prob);
    free(ctx);
    free(logits);
    tok_ids_free(&ids);
    tok_encoder_free(e);
    model_free(m);
    pool_free(p);
    tok_free(t);
    return rc == 0 ? 0 : cli_fail(&err);
}
