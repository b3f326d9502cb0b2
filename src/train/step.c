/* step.c: see step.h. */
#include "train/step.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/grad.h"
#include "train/schedule.h"
#include "util/hugemem.h"
#include "util/progress.h"

/* each block of the norm lies whole in one rank's shard */
_Static_assert(DIST_SHARD_ALIGN % GRAD_BLOCK == 0, "shards must begin at gradient-norm blocks");

/* Elements per task of the fold: a piece of each term stays in cache across the terms. */
#define FOLD_GRAIN ((size_t)1 << 14)

int train_step_init(train_step_ctx *c, dk_err *err)
{
    int M = c->micro_batch > 0 ? c->batch_size / c->micro_batch : 0;
    if (M <= 0 || c->batch_size % c->micro_batch != 0 || c->ranks <= 0 || M % c->ranks != 0)
        return dk_errf(err, "a batch of %d sequences in micro-batches of %d does not split evenly over %d rank(s)",
                       c->batch_size, c->micro_batch, c->ranks);
    size_t n = model_numel(c->m), nb = (n + GRAD_BLOCK - 1) / GRAD_BLOCK;
    dist_shard(n, c->rank, c->ranks, &c->shard_b, &c->shard_e); /* ZeRO-1 */
    size_t shard_len = c->shard_e - c->shard_b, alloc_len = shard_len ? shard_len : 1;
    /* written every step: pages that hold zeros (moments of unused embedding rows) were
     * being handed back and re-faulted by this machine's memory manager, 7 % of a step
     * in `perf`; a touched huge-page buffer keeps them */
    c->adam_m = hugemem_alloc(alloc_len * sizeof *c->adam_m);
    c->adam_v = hugemem_alloc(alloc_len * sizeof *c->adam_v);
    c->acc = M > 1 ? hugemem_alloc(alloc_len * sizeof *c->acc) : NULL; /* M = 1: the one term is the sum */
    c->block_sq = malloc((nb ? nb : 1) * sizeof *c->block_sq);
    c->losses = malloc((size_t)M * sizeof *c->losses);
    c->slices = malloc((size_t)c->ranks * sizeof *c->slices);
    c->in = malloc((size_t)(c->micro_batch + 1) * c->seq_len * sizeof *c->in);
    c->tg = malloc((size_t)(c->micro_batch + 1) * c->seq_len * sizeof *c->tg);
    if (!c->adam_m || !c->adam_v || (M > 1 && !c->acc) || !c->block_sq || !c->losses || !c->slices || !c->in ||
        !c->tg) {
        train_step_free(c);
        return dk_errf(err, "out of memory for optimizer state of %zu parameters", n);
    }
    if (dist_scatter_new(&c->xchg, n, err) != 0) {
        train_step_free(c);
        return -1;
    }
    return 0;
}

void train_step_free(train_step_ctx *c)
{
    free(c->adam_m);
    free(c->adam_v);
    free(c->acc);
    free(c->block_sq);
    free(c->losses);
    free(c->slices);
    dist_scatter_free(c->xchg);
    free(c->in);
    free(c->tg);
    c->adam_m = c->adam_v = c->acc = NULL;
    c->block_sq = c->losses = NULL;
    c->slices = NULL;
    c->xchg = NULL;
    c->in = c->tg = NULL;
}

/* Gradient hook: each range of the gradient buffer leaves for its owners as soon as
 * the backward pass has finished it, while the pass goes on. */
static void send_ready(void *ctx, size_t offset, size_t numel)
{
    dist_scatter_ready(ctx, offset, numel);
}

/* A round's R micro-batches in global order: every rank draws them all (the source's
 * state stays the same everywhere) and keeps its own. */
static void draw_round(train_step_ctx *c, batch_fn next, void *ctx)
{
    const size_t S = (size_t)c->seq_len, mb = (size_t)c->micro_batch;
    dk_token *skip_in = c->in + mb * S, *skip_tg = c->tg + mb * S;
    for (int r = 0; r < c->ranks; r++)
        for (size_t q = 0; q < mb; q++) {
            int mine = r == c->rank;
            next(ctx, mine ? c->in + q * S : skip_in, mine ? c->tg + q * S : skip_tg);
        }
}

/* One round of the fold over this rank's shard: s + t[0] + t[1] + ... left to right,
 * each sum rounded to float (the same operations whatever the split into pieces). */
typedef struct {
    const float *const *t; /* the round's terms, in rank order */
    int k;
    const float *s;        /* the fold so far; NULL when t[0] begins it */
    float *acc, *out;      /* where the partial sums go; where the round's sum goes */
} fold_ctx;

static void fold_range(void *vc, size_t b, size_t e)
{
    const fold_ctx *f = vc;
    const float *s = f->s ? f->s : f->t[0];
    for (int k = f->s ? 0 : 1; k < f->k; k++) {
        float *d = k == f->k - 1 ? f->out : f->acc;
        const float *x = f->t[k];
        for (size_t i = b; i < e; i++)
            d[i] = s[i] + x[i];
        s = d;
    }
    if (s != f->out) /* one term, the first of several (R = 1): keep it past the next zeroing */
        memcpy(f->out + b, s + b, (e - b) * sizeof *s);
}

/* Adds round i's copies of this rank's shard to the fold; the last round's sum goes
 * into the shard of the gradient buffer, where clipping and AdamW read it. */
static void fold_round(train_step_ctx *c, int i, int rounds)
{
    fold_ctx f = {c->slices, c->ranks, i == 0 ? NULL : c->acc, c->acc,
                  i == rounds - 1 ? model_grads(c->m) + c->shard_b : c->acc};
    pool_for_range(c->pool, c->shard_e - c->shard_b, FOLD_GRAIN, fold_range, &f);
}

/* The micro-batch losses (gathered: rank r's of round i at losses[r x rounds + i]) / M,
 * added in global order. */
static double step_loss(const train_step_ctx *c, int rounds)
{
    const int M = rounds * c->ranks;
    double loss = 0;
    for (int j = 0; j < M; j++)
        loss += c->losses[(size_t)(j % c->ranks) * rounds + j / c->ranks] / M;
    return loss;
}

void train_step(train_step_ctx *c, long step, batch_fn next, void *ctx, train_step_record *rec)
{
    const int mb = c->micro_batch, M = c->batch_size / mb, rounds = M / c->ranks;
    const size_t numel = model_numel(c->m), nb = (numel + GRAD_BLOCK - 1) / GRAD_BLOCK;
    double ts = now_seconds(), comm = 0;
    for (int i = 0; i < rounds; i++) {
        draw_round(c, next, ctx);
        /* from zero: g_j's bits depend neither on the rank that computes it nor on what
         * that rank computed before */
        model_zero_grads(c->m);
        dist_scatter_begin(c->xchg, model_grads(c->m));
        model_set_grad_hook(c->m, send_ready, c->xchg);
        c->losses[(size_t)c->rank * rounds + i] =
            model_forward_backward(c->m, c->in, c->tg, mb, c->seq_len, 1.0f / (float)M);
        model_set_grad_hook(c->m, NULL, NULL);
        double tc = now_seconds();
        dist_scatter_end(c->xchg, c->slices); /* what the backward pass did not hide */
        comm += now_seconds() - tc;
        fold_round(c, i, rounds);
    }
    float *g = model_grads(c->m) + c->shard_b;
    size_t shard_len = c->shard_e - c->shard_b;
    grad_block_sumsq(c->pool, g, shard_len, c->block_sq + c->shard_b / GRAD_BLOCK);
    double tc = now_seconds();
    dist_allgather_f64(c->losses, (size_t)rounds);
    dist_allgather_blocks_f64(c->block_sq, numel, GRAD_BLOCK);
    comm += now_seconds() - tc;
    double loss = step_loss(c, rounds), sumsq = 0;
    for (size_t b = 0; b < nb; b++) /* grad_sumsq's order */
        sumsq += c->block_sq[b];
    double norm = sqrt(sumsq);
    grad_clip_part(c->pool, g, shard_len, norm, c->grad_clip);
    double lr = lr_at(step, c->steps, c->warmup, c->lr, c->min_lr);
    c->opt.lr = (float)lr;
    adamw_step(c->pool, model_layout(c->m), model_params(c->m), model_grads(c->m), c->adam_m, c->adam_v,
               c->shard_b, c->shard_e, &c->opt, step + 1);
    tc = now_seconds();
    dist_allgather_shards(model_params(c->m), numel);
    comm += now_seconds() - tc;
    *rec = (train_step_record){step + 1, loss, lr, norm, now_seconds() - ts, comm};
}
