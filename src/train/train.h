/* train.h: `dokja train`: pretraining from scratch (or from --init-from) on a dataset
 * built by `dokja data build`, with checkpoints that make a killed run resumable to
 * the same bytes.
 *
 * RUN/ holds: config.json, model.safetensors, dokja_tokenizer.json (the final model,
 * a model directory), metrics.jsonl, loss.svg, run.json (options, data manifest and
 * tokenizer hashes, init source), checkpoints/step_NNNNNNNN.safetensors, and ledger.jsonl,
 * the hash-chained record of the run (train/train_ledger.h, docs/ledger.md). */
#ifndef DK_TRAIN_TRAIN_H
#define DK_TRAIN_TRAIN_H

#include <stdint.h>

#include "util/err.h"

/* What a run reports, on rank 0, through train_opts.on_event: TRAIN_BEGIN once (the
 * shape of the run), then TRAIN_STEP after every optimizer step. */
enum { TRAIN_BEGIN, TRAIN_STEP };
typedef struct {
    int kind;
    long step, steps, start; /* step just done (from 1); last step; the step the run started from */
    /* TRAIN_BEGIN */
    size_t params;
    int batch_size, seq_len, ranks, threads;
    double peak_gflops; /* measured FMA peak of all ranks (0 if not measured) */
    /* TRAIN_STEP */
    double loss, lr, grad_norm, tokens_per_s, mfu, eta_s;
    int evaluated; /* validation losses were computed at this step */
} train_event;
typedef void (*train_event_fn)(void *ctx, const train_event *e);

typedef struct {
    const char *data_dir, *config_path, *out_dir, *init_from;
    long steps;
    int batch_size;   /* sequences per optimizer step */
    int micro_batch;  /* sequences per forward/backward (divides batch_size) */
    int seq_len;
    double lr, min_lr, weight_decay, grad_clip;
    long warmup;
    uint64_t seed;
    uint64_t data_seed; /* the sampler's order; 0: the same as seed */
    int threads;
    long checkpoint_every, eval_every;
    int keep_checkpoints, eval_batches;
    int resume, quiet;
    int bf16; /* matmuls with bf16 operands, fp32 accumulation (model_set_bf16) */
    train_event_fn on_event; /* progress (NULL: none); the peak is measured only when set */
    void *event_ctx;
    /* the ledger (train/train_ledger.h): public randomness mixed into the seeds, and where
     * it comes from (e.g. "drand quicknet round 1234"); prepare: write RUN with the genesis
     * and stop, so its hash can be filed before the beacon is drawn (go on with --resume
     * and the beacon) */
    const uint8_t *beacon;
    size_t beacon_len;
    const char *beacon_source;
    int prepare;
    char ledger_head[65]; /* out: the ledger's head hash when the run ends ("" if none) */
} train_opts;

void train_defaults(train_opts *o);
/* o is in/out only for o->ledger_head. */
int train_run(train_opts *o, dk_err *err);

#endif
