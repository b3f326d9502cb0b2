/* step.c: see step.h. */
#include "train/step.h"

#include <stdlib.h>

#include "mpi/mpi.h"
#include "train/grad.h"
#include "train/schedule.h"
#include "util/hugemem.h"
#include "util/progress.h"

int train_step_init(train_step_ctx *c, dk_err *err)
{
    size_t shard_len = c->shard_e - c->shard_b;
    /* written every step: pages that hold zeros (moments of unused embedding rows) were
     * being handed back and re-faulted by this machine's memory manager, 7 % of a step
     * in `perf`; a touched huge-page buffer keeps them */
    c->adam_m = hugemem_alloc((shard_len ? shard_len : 1) * sizeof *c->adam_m);
    c->adam_v = hugemem_alloc((shard_len ? shard_len : 1) * sizeof *c->adam_v);
    c->in = malloc((size_t)(c->micro_batch + 1) * c->seq_len * sizeof *c->in);
    c->tg = malloc((size_t)(c->micro_batch + 1) * c->seq_len * sizeof *c->tg);
    if (!c->adam_m || !c->adam_v || !c->in || !c->tg) {
        train_step_free(c);
        return dk_errf(err, "out of memory for optimizer state of %zu parameters", model_numel(c->m));
    }
    return 0;
}

void train_step_free(train_step_ctx *c)
{
    free(c->adam_m);
    free(c->adam_v);
    free(c->in);
    free(c->tg);
    c->adam_m = c->adam_v = NULL;
    c->in = c->tg = NULL;
}

/* Gradient hook for the last micro-batch of a step: start the all-reduce of each
 * finished range while the backward pass goes on. */
static void reduce_ready(void *ctx, size_t offset, size_t numel)
{
    model *m = ctx;
    dist_progress();
    dist_iallreduce_sum_f32(model_grads(m) + offset, numel);
}

void train_step(train_step_ctx *c, long step, batch_fn next, void *ctx, train_step_record *rec)
{
    const int S = c->seq_len, mb = c->micro_batch, bl = c->batch_size / c->ranks; /* sequences on this rank */
    const int micro_total = c->batch_size / mb; /* micro-batches per step, all ranks */
    dk_token *skip_in = c->in + (size_t)mb * S, *skip_tg = c->tg + (size_t)mb * S;
    double ts = now_seconds();
    model_zero_grads(c->m);
    double loss = 0;
    /* every rank draws the whole global batch and keeps sequences [rank bl, (rank + 1) bl) */
    int k = 0, left = bl / mb; /* micro-batches left on this rank */
    for (int q = 0; q < c->batch_size; q++) {
        int mine = q / bl == c->rank;
        next(ctx, mine ? c->in + (size_t)k * S : skip_in, mine ? c->tg + (size_t)k * S : skip_tg);
        if (mine && ++k == mb) {
            /* the last micro-batch's backward pass overlaps the gradient all-reduce */
            if (--left == 0 && c->ranks > 1)
                model_set_grad_hook(c->m, reduce_ready, c->m);
            loss += model_forward_backward(c->m, c->in, c->tg, mb, S, 1.0f / (float)micro_total) / micro_total;
            model_set_grad_hook(c->m, NULL, NULL);
            k = 0;
        }
    }
    double tc = now_seconds();
    dist_wait_all(); /* what the backward pass did not hide */
    dist_allreduce_sum_f64(&loss, 1);
    double comm = now_seconds() - tc;
    size_t numel = model_numel(c->m);
    double norm = grad_clip(c->pool, model_grads(c->m), numel, c->grad_clip);
    double lr = lr_at(step, c->steps, c->warmup, c->lr, c->min_lr);
    c->opt.lr = (float)lr;
    adamw_step(c->pool, model_layout(c->m), model_params(c->m), model_grads(c->m), c->adam_m, c->adam_v,
               c->shard_b, c->shard_e, &c->opt, step + 1);
    tc = now_seconds();
    dist_allgather_shards(model_params(c->m), numel);
    comm += now_seconds() - tc;
    *rec = (train_step_record){step + 1, loss, lr, norm, now_seconds() - ts, comm};
}
