/* cmd_bench.c: `dokja bench step`: training-step throughput of a config on random
 * tokens, as tokens/s, GFLOP/s and MFU against this machine's measured FMA peak. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "kernels/isa.h"
#include "kernels/matmul.h"
#include "kernels/peak.h"
#include "model/model.h"
#include "train/step.h"
#include "train/train.h"
#include "util/rng.h"
#include "util/progress.h"

static const char STEP_HELP[] =
    "usage: dokja bench step --model CONFIG --batch B --seq T --steps N [--threads N]\n"
    "                        [--bf16 | --bf16-emulated [--vs-fp32]] [--isa avx512|avx2|generic]\n"
    "                        [--json]\n"
    "\n"
    "Runs N training steps of CONFIG on random tokens after one warm-up step, exactly the\n"
    "step `dokja train` runs (forward, backward, gradient clipping, the learning-rate\n"
    "schedule, AdamW: train/step.h, training defaults), and prints tokens/s, GFLOP/s and\n"
    "MFU (the median step). FLOPs per token are\n"
    "6 x matmul parameters + 12 x layers x width x T (forward and backward matmuls,\n"
    "attention included); MFU divides GFLOP/s by the fp32 FMA peak that the benchmark\n"
    "measures on the same threads. Peak RSS is printed beside the documented formula\n"
    "(parameters, gradients, AdamW moments, activations). --json: last line one object.\n"
    "--bf16: matmuls with bf16 operands and fp32 accumulation (MFU still against the\n"
    "fp32 peak; vdpbf16ps doubles it; without AVX512_BF16 the operands are rounded to\n"
    "bf16 and multiplied by the fp32 kernels, within 1-2 % of fp32's speed).\n"
    "--bf16-emulated: --bf16 by that emulation even where the CPU has AVX512_BF16: what\n"
    "AVX2 CPUs and AVX-512 ones without it (Skylake-SP to Ice Lake Xeons) run.\n"
    "--vs-fp32 (with either): fp32 steps too, interleaved with the bf16 ones on the same\n"
    "model (the order swapped every pair), and the ratio of the two medians: a drift of\n"
    "the machine's speed during the run moves both alike, which separate runs do not.\n"
    "--isa: the kernel path (default: the best this CPU has, or DOKJA_ISA); the MFU of\n"
    "the generic path is against the best vector path's peak.\n";

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Batches of uniformly random tokens (the speed of a step does not depend on them). */
typedef struct {
    uint64_t r;
    int vocab, seq_len;
} random_tokens;

static void next_random(void *ctx, dk_token *in, dk_token *tg)
{
    random_tokens *t = ctx;
    for (int i = 0; i < t->seq_len; i++) {
        in[i] = (dk_token)(rng_lcg31(&t->r) % (uint32_t)t->vocab);
        tg[i] = (dk_token)(rng_lcg31(&t->r) % (uint32_t)t->vocab);
    }
}

static int bench_step(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(STEP_HELP, stdout);
        return 0;
    }
    enum { O_MODEL = 256, O_BATCH, O_SEQ, O_STEPS, O_THREADS, O_JSON, O_BF16, O_ISA, O_VS, O_EMU };
    static const struct option opts[] = {
        {"model", required_argument, 0, O_MODEL}, {"batch", required_argument, 0, O_BATCH},
        {"seq", required_argument, 0, O_SEQ}, {"steps", required_argument, 0, O_STEPS},
        {"threads", required_argument, 0, O_THREADS}, {"json", no_argument, 0, O_JSON},
        {"bf16", no_argument, 0, O_BF16}, {"isa", required_argument, 0, O_ISA},
        {"vs-fp32", no_argument, 0, O_VS}, {"bf16-emulated", no_argument, 0, O_EMU}, {0, 0, 0, 0}};
    const char *name = argv[0], *cfg_path = NULL;
    int B = 8, S = 256, steps = 5, threads = 0, json = 0, bf16 = 0, vs = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_MODEL: cfg_path = optarg; break;
        case O_BATCH: bad = cli_parse_int(optarg, 1, 1 << 16, &B); break;
        case O_SEQ: bad = cli_parse_int(optarg, 1, 1 << 20, &S); break;
        case O_STEPS: bad = cli_parse_int(optarg, 1, 1 << 20, &steps); break;
        case O_THREADS: bad = cli_parse_int(optarg, 1, 1024, &threads); break;
        case O_JSON: json = 1; break;
        case O_BF16: bf16 = bf16 ? bf16 : 1; break;
        case O_EMU: bf16 = MM_BF16_EMULATED; break;
        case O_VS: vs = 1; break;
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
    if (vs && !bf16)
        return cli_usage(name, "--vs-fp32 compares --bf16 steps with fp32 ones: give --bf16 too");
    dk_err err;
    model_config cfg;
    if (model_config_load(&cfg, cfg_path, &err) != 0)
        return cli_fail(&err);
    if (S > cfg.max_seq)
        cfg.max_seq = S;
    pool *p = pool_new(threads);
    model *m;
    if (!p || model_new(&m, &cfg, p, &err) != 0 || model_reserve(m, B, S, &err) != 0) {
        pool_free(p);
        return cli_fail(&err);
    }
    if (bf16 && model_set_bf16(m, bf16) != 0) {
        dk_errf(&err, "--bf16: out of memory for the bf16 operand buffers");
        model_free(m);
        pool_free(p);
        return cli_fail(&err);
    }
    int emulated = bf16 && model_bf16_emulated(m); /* before --vs-fp32 switches it off and on */
    size_t n = model_numel(m);
    params_init(model_layout(m), model_params(m), 1);
    /* exactly the step `dokja train` runs (train/step.h): clipping, schedule, AdamW, with
     * the training defaults; batches of random tokens */
    train_opts to;
    train_defaults(&to);
    int runs = vs ? 2 : 1; /* the precision asked for, and fp32 beside it */
    train_step_ctx sc = {.m = m, .pool = p, .rank = 0, .ranks = 1, .batch_size = B, .micro_batch = B, .seq_len = S,
                         .steps = (steps + 1) * runs, .warmup = 0, .lr = to.lr, .min_lr = to.lr / 10,
                         .grad_clip = to.grad_clip, .opt = adamw_defaults((float)to.lr)};
    sc.opt.weight_decay = (float)to.weight_decay;
    random_tokens rt = {0x1234567, cfg.vocab_size, S};
    double *times = malloc((size_t)steps * (size_t)runs * sizeof *times);
    if (train_step_init(&sc, &err) != 0 || !times) {
        free(times);
        model_free(m);
        pool_free(p);
        return cli_fail(&err);
    }
    const char *isa;
    double peak = peak_fma_gflops(p, 0.5, &isa);
    for (int s = 0, k = 0; s <= steps; s++) /* step 0 is the warm-up (of each precision) */
        for (int r = 0; r < runs; r++) {
            int v = runs == 1 ? 0 : r ^ (s & 1); /* 0 the precision asked for, 1 fp32 */
            if (runs == 2)
                model_set_bf16(m, v == 0 ? bf16 : 0); /* the buffers exist already: cannot fail */
            train_step_record rec;
            train_step(&sc, k++, next_random, &rt, &rec);
            if (s > 0)
                times[(size_t)v * steps + s - 1] = rec.seconds;
        }
    for (int v = 0; v < runs; v++)
        qsort(times + (size_t)v * steps, (size_t)steps, sizeof *times, cmp_d);
    double dt = times[steps / 2], dt32 = times[(size_t)(runs - 1) * steps + steps / 2];
    double peak_after = peak_fma_gflops(p, 0.5, NULL); /* before and after: the higher one */
    peak = peak_after > peak ? peak_after : peak;
    double flops = model_train_flops(&cfg, B, S);
    double tps = (double)B * S / dt, tps32 = (double)B * S / dt32, gflops = flops / dt / 1e9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss = (double)ru.ru_maxrss * 1024.0;
    double formula = (double)n * 4 * 4 /* params, grads, m, v */ +
                     (double)model_activation_bytes(&cfg, B, S, pool_threads(p));
    printf("config        %s: %zu parameters (%llu in matmuls), batch %d x %d, %d threads, %s matmuls\n",
           cfg_path, n, (unsigned long long)model_config_n_matmul_params(&cfg), B, S, pool_threads(p),
           bf16 ? "bf16" : "fp32");
    printf("kernel path   %s\n", isa_name(isa_current()));
    printf("matmul        %s\n", !bf16     ? mm_path_name()
                                 : emulated ? "bf16 emulated (rounded operands, fp32 FMA)"
                                            : "bf16 (AVX512_BF16 or AMX)");
    printf("step          %.3f s (median of %d)\n", dt, steps);
    printf("throughput    %.0f tokens/s\n", tps);
    printf("compute       %.1f GFLOP/s = (6 x %llu + 12 x %d x %d x %d) x %.0f tokens/s\n", gflops,
           (unsigned long long)model_config_n_matmul_params(&cfg), cfg.n_layers, cfg.dim, S, tps);
    printf("MFU           %.1f %% of the measured %s FMA peak %.0f GFLOP/s\n", 100 * gflops / peak,
           isa, peak);
    if (vs)
        printf("vs fp32       %.0f tokens/s in fp32 steps interleaved with these: bf16 / fp32 = %.3f\n",
               tps32, dt32 / dt);
    printf("memory        peak RSS %.0f MiB; formula %.0f MiB (16 bytes per parameter + activations)\n",
           rss / 1048576, formula / 1048576);
    if (json) {
        printf("{\"tokens_per_s\": %.2f, \"gflops\": %.2f, \"mfu\": %.4f, \"peak_gflops\": %.1f, "
               "\"step_s\": %.5f, \"params\": %zu, \"threads\": %d, \"peak_rss_bytes\": %.0f, "
               "\"formula_bytes\": %.0f, \"bf16\": %s, \"bf16_emulated\": %s, \"isa\": \"%s\", \"peak_isa\": \"%s\"",
               tps, gflops, gflops / peak, peak, dt, n, pool_threads(p), rss, formula, bf16 ? "true" : "false",
               emulated ? "true" : "false", isa_name(isa_current()), isa);
        if (vs)
            printf(", \"fp32_tokens_per_s\": %.2f, \"bf16_vs_fp32\": %.4f", tps32, dt32 / dt);
        printf("}\n");
    }
    free(times);
    train_step_free(&sc);
    model_free(m);
    pool_free(p);
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    static const cli_sub subs[] = {
        {"step", bench_step, "training-step throughput, GFLOP/s and MFU of a config"},
        {"generate", cmd_bench_generate, "prompt-processing and decoding speed, bandwidth of a config"},
        {NULL, NULL, NULL}};
    return cli_dispatch(argv[0], subs, argc, argv);
}
