/* order.h: `dokja ledger audit-order`: the training-order test (Kuditipudi et al. 2025),
 * which needs only forward passes of the published model. A model remembers recent data
 * best, so its loss on the training sequences falls with the step at which it last saw
 * them. The ledger says which sequence was seen when (the sampler's draws from the
 * committed data and seed); the test measures the rank correlation (Spearman) between
 * that step and the model's loss on N sequences spread over the run.
 *
 * Under the null hypothesis (the model is independent of this run's order: trained on
 * the same data in another order, or not on it), the order is a uniformly random
 * permutation of the sequences, since the sampler's seed is independent of their content;
 * the rank correlation is then distributed as for independent samples, and its one-sided
 * p-value (later seen, lower loss) comes from z = -rho sqrt(n - 1). */
#ifndef DK_AUDIT_ORDER_H
#define DK_AUDIT_ORDER_H

#include <jansson.h>

#include "util/err.h"

typedef struct {
    const char *run, *model, *data;
    int sequences; /* N: sequences to score (8000: the power grows as its square root) */
    int threads;
    int quiet;
} order_opts;

typedef struct {
    int n;            /* sequences scored */
    double rho;       /* Spearman rank correlation of (last step seen, loss) */
    double z, log10_p; /* one-sided: loss falls with the step */
    double mean_loss_first, mean_loss_last; /* the earliest and latest tenth */
    long steps;
} order_result;

int ledger_audit_order(const order_opts *o, order_result *r, dk_err *err);
json_t *order_json(const order_result *r);

#endif
