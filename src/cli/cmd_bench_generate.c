/* cmd_bench_generate.c: `dokja bench generate`: prompt-processing and decoding speed
 * of a config with random weights, against this machine's measured FMA peak
 * (prompt processing is compute-bound) and measured read bandwidth (decoding reads
 * every weight once per token). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "kernels/isa.h"
#include "infer/infer.h"
#include "kernels/membw.h"
#include "kernels/peak.h"
#include "util/progress.h"
#include "util/rng.h"

static const char HELP[] =
    "usage: dokja bench generate --model CONFIG [--prompt-len P] [--gen N] [--threads N]\n"
    "                            [--isa avx512|avx2|generic] [--json]\n"
    "\n"
    "Random weights of CONFIG (seed 1); a random prompt of P tokens (128) processed in\n"
    "one batched pass (best of 3), then N tokens (64) decoded one at a time (greedy).\n"
    "Prints prompt tokens/s with GFLOP/s against the measured fp32 FMA peak, decoding\n"
    "tokens/s with its achieved bandwidth: (packed weights + the key/value cache read\n"
    "per token, at the mean context) x tokens/s, against the measured read bandwidth of\n"
    "a 1 GiB buffer on the same threads, with and without transparent huge pages.\n"
    "--json: last line one object (prefill_tokens_per_s, decode_tokens_per_s, ...).\n";

int cmd_bench_generate(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(HELP, stdout);
        return 0;
    }
    enum { O_MODEL = 256, O_PROMPT, O_GEN, O_THREADS, O_JSON, O_ISA };
    static const struct option opts[] = {
        {"model", required_argument, 0, O_MODEL}, {"prompt-len", required_argument, 0, O_PROMPT},
        {"gen", required_argument, 0, O_GEN}, {"threads", required_argument, 0, O_THREADS},
        {"json", no_argument, 0, O_JSON}, {"isa", required_argument, 0, O_ISA}, {0, 0, 0, 0}};
    const char *name = argv[0], *cfg_path = NULL;
    int P = 128, N = 64, threads = 0, json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_MODEL: cfg_path = optarg; break;
        case O_PROMPT: bad = cli_parse_int(optarg, 1, 1 << 20, &P); break;
        case O_GEN: bad = cli_parse_int(optarg, 1, 1 << 20, &N); break;
        case O_THREADS: bad = cli_parse_int(optarg, 1, 1024, &threads); break;
        case O_JSON: json = 1; break;
        case O_ISA:
            if (cli_select_isa(optarg) != 0)
                return DK_EXIT_FAIL;
            break;
        default: return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if (bad)
            return cli_bad_value(name, opts, c, optarg);
    }
    if (!cfg_path)
        return cli_usage(name, "--model CONFIG is required");
    dk_err err;
    model_config cfg;
    if (model_config_load(&cfg, cfg_path, &err) != 0)
        return cli_fail(&err);
    if (P + N > cfg.max_seq)
        cfg.max_seq = P + N;
    pool *p = pool_new(threads);
    model *m = NULL;
    infer *st = NULL;
    dk_token *tok = NULL;
    float *logits = NULL;
    size_t V = (size_t)cfg.vocab_size;
    int rc = 0;
    if (!p)
        rc = dk_errf(&err, "cannot start %d threads", threads);
    else if (model_new(&m, &cfg, p, &err) != 0)
        rc = -1;
    if (rc == 0) {
        params_init(model_layout(m), model_params(m), 1);
        rc = infer_new(&st, m, P + N, &err);
    }
    if (rc == 0) {
        tok = malloc((size_t)(P + N) * sizeof *tok);
        logits = malloc(V * sizeof *logits);
        if (!tok || !logits)
            rc = dk_errf(&err, "out of memory");
    }
    if (rc != 0)
        goto done;
    uint64_t r = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < P; i++)
        tok[i] = (dk_token)(rng_lcg31(&r) % V);
    const char *isa;
    double peak = peak_fma_gflops(p, 0.5, &isa);
    double bw_huge = membw_read_gbs(p, (size_t)1 << 30, 1, 5);
    double bw_small = membw_read_gbs(p, (size_t)1 << 30, 0, 5);
    double prefill = 1e30;
    for (int rep = 0; rep < 3 && rc == 0; rep++) {
        double t0 = now_seconds();
        rc = infer_forward(st, tok, P, 0, logits, 1, &err);
        double dt = now_seconds() - t0;
        prefill = dt < prefill ? dt : prefill;
    }
    double t0 = now_seconds();
    for (int i = P; i < P + N && rc == 0; i++) {
        dk_token best = 0;
        for (size_t v = 1; v < V; v++)
            best = logits[v] > logits[best] ? (dk_token)v : best;
        tok[i] = best;
        rc = infer_forward(st, tok + i, 1, i, logits, 1, &err);
    }
    if (rc != 0)
        goto done;
    double decode = now_seconds() - t0;
    double pf_tps = P / prefill, dec_tps = N / decode;
    double pf_gflops = infer_flops(&cfg, P, 0) / prefill / 1e9;
    double bytes_tok = (double)infer_weight_bytes(st) +
                       (double)infer_kv_bytes_per_pos(st) * (P + (N + 1) / 2.0);
    double dec_gbs = bytes_tok * dec_tps / 1e9;
    printf("config        %s: %zu parameters, %d threads, prompt %d, decode %d\n", cfg_path,
           model_numel(m), pool_threads(p), P, N);
    printf("kernel path   %s\n", isa_name(isa_current()));
    printf("prompt        %.0f tokens/s, %.1f GFLOP/s = %.1f %% of the measured %s FMA peak %.0f\n",
           pf_tps, pf_gflops, 100 * pf_gflops / peak, isa, peak);
    printf("decode        %.1f tokens/s, %.1f MB read per token, %.1f GB/s\n", dec_tps,
           bytes_tok / 1e6, dec_gbs);
    printf("bandwidth     read of 1 GiB: %.1f GB/s with huge pages, %.1f without; decode reaches "
           "%.1f %% of the huge-page figure\n",
           bw_huge, bw_small, 100 * dec_gbs / bw_huge);
    if (json)
        printf("{\"prefill_tokens_per_s\": %.2f, \"decode_tokens_per_s\": %.2f, "
               "\"prefill_gflops\": %.2f, \"peak_gflops\": %.1f, \"prefill_peak_fraction\": %.4f, "
               "\"decode_bytes_per_token\": %.0f, \"decode_gb_per_s\": %.2f, "
               "\"read_gb_per_s_huge\": %.2f, \"read_gb_per_s_small\": %.2f, "
               "\"decode_bandwidth_fraction\": %.4f, \"threads\": %d, \"params\": %zu, \"isa\": \"%s\"}\n",
               pf_tps, dec_tps, pf_gflops, peak, pf_gflops / peak, bytes_tok, dec_gbs, bw_huge,
               bw_small, dec_gbs / bw_huge, pool_threads(p), model_numel(m), isa_name(isa_current()));
done:
    free(tok);
    free(logits);
    infer_free(st);
    model_free(m);
    pool_free(p);
    return rc == 0 ? 0 : cli_fail(&err);
}
