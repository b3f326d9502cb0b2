/* cmd_train.c: `dokja train`. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "ledger/records.h"
#include "mpi/mpi.h"
#include "train/train.h"
#include "util/fs.h"

static const char HELP[] =
    "usage: dokja train --data DIR --model CONFIG -o RUN [options]\n"
    "       dokja train --resume RUN --data DIR --model CONFIG [same options]\n"
    "\n"
    "Pretrains a Llama-family model from random initialisation (a pure function of the\n"
    "config and --seed) on a dataset built by `dokja data build`. RUN ends as a model\n"
    "directory (config.json, model.safetensors, dokja_tokenizer.json) with metrics.jsonl,\n"
    "loss.svg, run.json and checkpoints/. Same data, config, seed, build, --batch-size and\n"
    "--micro-batch give byte-identical models for any thread count and mpirun rank count;\n"
    "a killed run resumed with --resume, on any rank count, ends identical too.\n"
    "\n"
    "  --data DIR              dataset directory (verified on load)\n"
    "  --model CONFIG          Hugging Face Llama config.json\n"
    "  -o, --output RUN        run directory to create\n"
    "  --resume RUN            continue RUN from its newest valid checkpoint\n"
    "  --init-from MODEL       start from MODEL's weights instead of random (recorded)\n"
    "  --steps N               optimizer steps (1000)\n"
    "  --batch-size B          sequences per optimizer step (8)\n"
    "  --micro-batch M         sequences per forward/backward (B / ranks; on --resume the\n"
    "                          run's); the B/M micro-batches are shared round-robin by the\n"
    "                          ranks and their gradients summed in order, so M sets the bits\n"
    "  --seq-len T             tokens per sequence (256)\n"
    "  --lr LR                 peak learning rate (3e-4); --min-lr (LR/10) is the cosine floor\n"
    "  --warmup N              linear warmup steps (min(100, steps/10))\n"
    "  --weight-decay W        AdamW decay on matrices (0.1)\n"
    "  --grad-clip C           global gradient-norm limit (1.0; 0 = off)\n"
    "  --seed S                initialisation and data order (1)\n"
    "  --data-seed S           data order only (default: --seed): two models that differ\n"
    "                          only in initialisation\n"
    "  --threads N             threads (all CPUs)\n"
    "  --bf16                  mixed precision: matmuls with bf16 operands and fp32\n"
    "                          accumulation; weights, gradients, AdamW state stay fp32\n"
    "                          (AMX or AVX512_BF16 where the CPU has them; elsewhere the\n"
    "                          operands are rounded to bf16 and the fp32 kernels run them,\n"
    "                          within 1-2 % of fp32's speed: docs/model.md)\n"
    "  --checkpoint-every N    steps between checkpoints (100); --keep-checkpoints K (3)\n"
    "  --eval-every N          steps between validation losses per source (100);\n"
    "                          --eval-batches N micro-batches per source (4)\n"
    "  -q, --quiet             no progress lines\n"
    "\n"
    "The ledger (RUN/ledger.jsonl, docs/ledger.md): a hash-chained record of everything that\n"
    "decides the bits and of every step and checkpoint, checked by `dokja ledger verify`.\n"
    "  --beacon HEX            public randomness (e.g. a drand round's value) mixed into the\n"
    "                          initialisation and data-order seeds, so they were not chosen\n"
    "  --beacon-source TEXT    where the beacon comes from (\"drand quicknet round 123\"):\n"
    "                          required with --beacon and --prepare\n"
    "  --prepare               write RUN with the ledger's genesis and stop: file its hash,\n"
    "                          then go on with --resume RUN --beacon HEX once it is drawn\n"
    "\n"
    "The kernel path (DOKJA_ISA=avx512|avx2|generic, default the best) is recorded in\n"
    "run.json; avx512 and avx2 give the same bits, so a run resumes or replays on either.\n"
    "\n"
    "Data parallel: `mpirun -n R dokja train ...` deals each step's B/M micro-batches\n"
    "round-robin to R ranks (B/M divisible by R), sums their gradients in one fixed order\n"
    "(the same bits as one process), shards AdamW's moments over ranks (ZeRO-1) and lets\n"
    "rank 0 write logs and checkpoints; checkpoints move between rank counts. Give each\n"
    "rank --threads cores / R.\n";

/* The progress lines: the run's shape, then one line per step (stderr). */
static void print_event(void *ctx, const train_event *e)
{
    (void)ctx;
    if (e->kind == TRAIN_BEGIN)
        fprintf(stderr, "dokja train: %zu parameters, %d x %d tokens per step, %d rank(s) x %d threads, peak %.0f "
                        "GFLOP/s, from step %ld\n",
                e->params, e->batch_size, e->seq_len, e->ranks, e->threads, e->peak_gflops, e->start);
    else
        fprintf(stderr, "step %ld/%ld  loss %.4f  lr %.2e  %.0f tok/s  MFU %.1f%%  ETA %.0fs%s\n", e->step,
                e->steps, e->loss, e->lr, e->tokens_per_s, 100.0 * e->mfu, e->eta_s,
                e->evaluated ? "  (evaluated)" : "");
}

/* --resume RUN, checked before the run is claimed (which creates RUN/checkpoints and
 * RUN/.lock): a path that is no run must not become one, nor get debris; and a run.json
 * that is there but cannot be read is refused, not skipped (the trainer takes a missing
 * one for a run from before run.json and would skip the options' checks). */
static int resumable(const char *run, dk_err *err)
{
    char rj[4400], ck[4400];
    snprintf(rj, sizeof rj, "%s/run.json", run);
    snprintf(ck, sizeof ck, "%s/checkpoints", run);
    struct stat st;
    if (access(run, F_OK) != 0)
        return dk_errno(err, "%s: cannot resume", run);
    if (!fs_is_dir(run))
        return dk_errf(err, "%s: cannot resume: not a directory", run);
    if (lstat(rj, &st) != 0)
        return fs_is_dir(ck) ? 0 : dk_errf(err, "%s: nothing to resume (no checkpoints and no run.json)", run);
    FILE *f = fs_open_regular(rj, err);
    if (!f)
        return -1;
    json_error_t je;
    json_t *j = json_loadf(f, 0, &je);
    fclose(f);
    int loaded = j != NULL, ok = json_is_object(j);
    json_decref(j);
    if (!ok)
        return loaded ? dk_errf(err, "%s: not a JSON object", rj)
                      : dk_errf(err, "%s: invalid JSON at line %d: %s", rj, je.line, je.text);
    return 0;
}

int cmd_train(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(HELP, stdout);
        return 0;
    }
    enum { O_DATA = 256, O_MODEL, O_RESUME, O_INIT, O_STEPS, O_BATCH, O_MICRO, O_SEQ, O_LR,
           O_MINLR, O_WARM, O_WD, O_CLIP, O_SEED, O_THREADS, O_CKPT, O_KEEP, O_EVAL, O_EVALB, O_DSEED, O_BF16, O_BEACON, O_BSRC, O_PREP };
    static const struct option opts[] = {
        {"data", required_argument, 0, O_DATA}, {"model", required_argument, 0, O_MODEL},
        {"output", required_argument, 0, 'o'}, {"resume", required_argument, 0, O_RESUME},
        {"init-from", required_argument, 0, O_INIT}, {"steps", required_argument, 0, O_STEPS},
        {"batch-size", required_argument, 0, O_BATCH}, {"micro-batch", required_argument, 0, O_MICRO},
        {"seq-len", required_argument, 0, O_SEQ}, {"lr", required_argument, 0, O_LR},
        {"min-lr", required_argument, 0, O_MINLR}, {"warmup", required_argument, 0, O_WARM},
        {"weight-decay", required_argument, 0, O_WD}, {"grad-clip", required_argument, 0, O_CLIP},
        {"seed", required_argument, 0, O_SEED}, {"threads", required_argument, 0, O_THREADS},
        {"data-seed", required_argument, 0, O_DSEED}, {"bf16", no_argument, 0, O_BF16},
        {"checkpoint-every", required_argument, 0, O_CKPT}, {"keep-checkpoints", required_argument, 0, O_KEEP},
        {"eval-every", required_argument, 0, O_EVAL}, {"eval-batches", required_argument, 0, O_EVALB},
        {"beacon", required_argument, 0, O_BEACON}, {"beacon-source", required_argument, 0, O_BSRC},
        {"prepare", no_argument, 0, O_PREP}, {"quiet", no_argument, 0, 'q'}, {0, 0, 0, 0}};
    static uint8_t beacon[LEDGER_BEACON_MAX];
    train_opts o;
    train_defaults(&o);
    const char *name = argv[0];
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "o:q", opts, NULL)) != -1) {
        uint64_t u;
        int bad = 0;
        switch (c) {
        case O_DATA: o.data_dir = optarg; break;
        case O_MODEL: o.config_path = optarg; break;
        case 'o': o.out_dir = optarg; break;
        case O_RESUME: o.out_dir = optarg; o.resume = 1; break;
        case O_INIT: o.init_from = optarg; break;
        case O_STEPS: bad = cli_parse_u64(optarg, 1, 1ull << 40, &u); o.steps = (long)u; break;
        case O_BATCH: bad = cli_parse_int(optarg, 1, 1 << 20, &o.batch_size); break;
        case O_MICRO: bad = cli_parse_int(optarg, 1, 1 << 20, &o.micro_batch); break;
        case O_SEQ: bad = cli_parse_int(optarg, 1, 1 << 20, &o.seq_len); break;
        case O_LR: bad = cli_parse_double(optarg, 0, 1e6, &o.lr); break;
        case O_MINLR: bad = cli_parse_double(optarg, 0, 1e6, &o.min_lr); break;
        case O_WARM: bad = cli_parse_u64(optarg, 0, 1ull << 40, &u); o.warmup = (long)u; break;
        case O_WD: bad = cli_parse_double(optarg, 0, 1e6, &o.weight_decay); break;
        case O_CLIP: bad = cli_parse_double(optarg, 0, 1e6, &o.grad_clip); break;
        case O_SEED: bad = cli_parse_u64(optarg, 0, UINT64_MAX, &o.seed); break;
        case O_DSEED: bad = cli_parse_u64(optarg, 1, UINT64_MAX, &o.data_seed); break;
        case O_BF16: o.bf16 = 1; break;
        case O_THREADS: bad = cli_parse_int(optarg, 1, 1024, &o.threads); break;
        case O_CKPT: bad = cli_parse_u64(optarg, 0, 1ull << 40, &u); o.checkpoint_every = (long)u; break;
        case O_KEEP: bad = cli_parse_int(optarg, 1, 1 << 20, &o.keep_checkpoints); break;
        case O_EVAL: bad = cli_parse_u64(optarg, 0, 1ull << 40, &u); o.eval_every = (long)u; break;
        case O_EVALB: bad = cli_parse_int(optarg, 1, 1 << 20, &o.eval_batches); break;
        case O_BEACON: bad = ledger_parse_beacon(optarg, beacon, &o.beacon_len); o.beacon = beacon; break;
        case O_BSRC: o.beacon_source = optarg; break;
        case O_PREP: o.prepare = 1; break;
        case 'q': o.quiet = 1; break;
        default: return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if (bad)
            return cli_bad_value(name, opts, c, optarg);
    }
    if (optind < argc)
        return cli_usage(name, "unexpected argument '%s'", argv[optind]);
    if (!o.data_dir || !o.config_path || !o.out_dir)
        return cli_usage(name, "--data, --model and -o RUN (or --resume RUN) are required");
    if (o.micro_batch && o.batch_size % o.micro_batch)
        return cli_usage(name, "--batch-size %d is not a multiple of --micro-batch %d", o.batch_size,
                         o.micro_batch);
    if (o.beacon_len && !o.beacon_source && !o.resume)
        return cli_usage(name, "--beacon needs --beacon-source (where the randomness was published)");
    if (o.prepare && (o.resume || o.beacon_len || !o.beacon_source))
        return cli_usage(name, "--prepare starts a new run (-o) with --beacon-source and no --beacon yet");
    if (o.beacon_source && !*o.beacon_source)
        return cli_usage(name, "--beacon-source is empty");
    dk_err err;
    if (o.resume && resumable(o.out_dir, &err) != 0)
        return cli_fail(&err);
    if (dist_init(&argc, &argv, &err) != 0)
        return cli_fail(&err);
    if (!o.quiet)
        o.on_event = print_event;
    int rc = train_run(&o, &err);
    if (rc == 0 && dist_rank() == 0 && o.ledger_head[0])
        printf("%s: %s %s\n", o.prepare ? "genesis (file this hash, then draw the beacon)" : "ledger head",
               o.ledger_head, o.out_dir);
    if (rc != 0 && dist_rank() == 0)
        cli_fail(&err);
    else if (rc != 0) /* other ranks: one line each, marked */
        fprintf(stderr, "dokja: %s\n", err.msg);
    dist_finalize();
    return rc == 0 ? 0 : DK_EXIT_FAIL;
}
