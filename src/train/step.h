/* step.h: one optimizer step, the unit training is made of, as a library call: what
 * `dokja train` runs steps of and `dokja bench step` times (in the spirit of llm.c's
 * loop, where loading a batch, forward, backward and update are each one call).
 *
 * A step gives the same bits on any number of ranks R (and threads), because every sum
 * over micro-batches has one order that does not depend on R. The global batch is M =
 * batch_size / micro_batch micro-batches j = 0..M-1 of consecutive sequences; every rank
 * draws every sequence (so the source's state stays the same everywhere) and trains
 * micro-batch j if j mod R is its rank: round i is micro-batches iR .. iR + R-1, one per
 * rank. Each micro-batch's gradient g_j (of its mean loss, scaled by 1/M) is computed
 * from zero, and the step's gradient is the left fold ((g_0 + g_1) + g_2) + ... in
 * float32, element by element: after each round the owner of each shard of the buffer
 * (ZeRO-1, mpi/mpi.h's dist_shard) receives the round's R copies of its shard and adds
 * them in rank order (with R = 1 the one shard is everything and a round one
 * micro-batch). The loss is the sum of the M micro-batch losses / M in j order; the
 * gradient norm the sum of per-block partials in block order (train/grad.h), each
 * owner computing its blocks'. Then clipping and AdamW on the owner's shard of the
 * moments and parameters (both elementwise), and the parameters gathered. */
#ifndef DK_TRAIN_STEP_H
#define DK_TRAIN_STEP_H

#include <stdint.h>

#include "model/model.h"
#include "mpi/mpi.h"
#include "train/adamw.h"
#include "util/token.h"

/* Fills the next sequence's inputs and targets (seq_len each). */
typedef void (*batch_fn)(void *ctx, dk_token *inputs, dk_token *targets);

typedef struct {
    /* set by the caller */
    model *m;
    pool *pool;
    int rank, ranks;
    int batch_size, micro_batch, seq_len; /* global batch; sequences per forward/backward */
    long steps, warmup;                   /* the schedule: warmup, cosine decay to min_lr at steps */
    double lr, min_lr, grad_clip;
    adamw_cfg opt;                        /* lr is set every step from the schedule */
    /* set by train_step_init */
    size_t shard_b, shard_e;              /* this rank's shard of the flat buffers (dist_shard) */
    float *adam_m, *adam_v;               /* (shard) the moments */
    float *acc;                           /* (shard) the fold so far, between rounds; NULL if M = 1 */
    double *block_sq;                     /* (ceil(numel / GRAD_BLOCK)) the norm's block partials */
    double *losses;                       /* (R, M / R) each rank's micro-batch losses, by round */
    const float **slices;                 /* (R) a round's copies of this rank's shard, by rank */
    dist_scatter *xchg;                   /* the exchange of the gradient shards */
    dk_token *in, *tg;                    /* (micro_batch + 1) x seq_len each: the last row takes
                                             the sequences other ranks train */
} train_step_ctx;

typedef struct {
    long step;         /* the step just done, from 1 */
    double loss;       /* mean over the global batch */
    double lr, grad_norm; /* the norm before clipping */
    double seconds;    /* the whole step */
    double comm_s;     /* waiting for the gradient exchange after backward, and in the gathers */
} train_step_record;

/* Finds this rank's shard and allocates its moments (zero), the exchange and the batch
 * buffers; the model must be reserved for micro_batch x seq_len. Fails when memory runs
 * out or when the M micro-batches do not split evenly over the ranks. */
int train_step_init(train_step_ctx *c, dk_err *err);
void train_step_free(train_step_ctx *c);

/* Step `step` (from 0) drawing sequences from next(ctx). Afterwards the model's
 * gradient buffer holds the step's clipped gradient in this rank's shard only (the rest
 * is this rank's last micro-batch's). */
void train_step(train_step_ctx *c, long step, batch_fn next, void *ctx, train_step_record *rec);

#endif
