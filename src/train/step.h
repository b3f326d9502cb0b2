/* step.h: one optimizer step, the unit training is made of, as a library call: what
 * `dokja train` runs steps of and `dokja bench step` times (in the spirit of llm.c's
 * loop, where loading a batch, forward, backward and update are each one call).
 *
 * A step: zero the gradients; draw the whole global batch from the batch source (every
 * rank draws every sequence, so the source's state stays the same everywhere, and keeps
 * its own slice); forward and backward over micro-batches, gradients averaged (the last
 * micro-batch's backward pass overlaps the all-reduce over MPI ranks); the loss summed
 * over ranks; the gradient clipped to a global norm; the learning rate of the schedule;
 * AdamW on this rank's shard of the moments (ZeRO-1); the parameters gathered. */
#ifndef DK_TRAIN_STEP_H
#define DK_TRAIN_STEP_H

#include <stdint.h>

#include "model/model.h"
#include "train/adamw.h"
#include "util/token.h"

/* Fills the next sequence's inputs and targets (seq_len each). */
typedef void (*batch_fn)(void *ctx, dk_token *inputs, dk_token *targets);

typedef struct {
    model *m;
    pool *pool;
    int rank, ranks;
    int batch_size, micro_batch, seq_len; /* global batch; sequences per forward/backward */
    long steps, warmup;                   /* the schedule: warmup, cosine decay to min_lr at steps */
    double lr, min_lr, grad_clip;
    adamw_cfg opt;                        /* lr is set every step from the schedule */
    float *adam_m, *adam_v;               /* this rank's shard [shard_b, shard_e) of the moments */
    size_t shard_b, shard_e;
    dk_token *in, *tg;                    /* (micro_batch + 1) x seq_len each: the last row takes
                                             the sequences other ranks keep */
} train_step_ctx;

typedef struct {
    long step;         /* the step just done, from 1 */
    double loss;       /* mean over the global batch */
    double lr, grad_norm; /* the norm before clipping */
    double seconds;    /* the whole step */
    double comm_s;     /* waiting for the all-reduce after backward, and in the gather */
} train_step_record;

/* Allocates the moments of this rank's shard (zero) and the batch buffers; the model
 * must be reserved for micro_batch x seq_len. */
int train_step_init(train_step_ctx *c, dk_err *err);
void train_step_free(train_step_ctx *c);

/* Step `step` (from 0) drawing sequences from next(ctx). */
void train_step(train_step_ctx *c, long step, batch_fn next, void *ctx, train_step_record *rec);

#endif
