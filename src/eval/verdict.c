/* verdict.c: see verdict.h. */
#include "eval/verdict.h"

#include <math.h>

double eval_relative(int lower_is_better, double mine, double ref)
{
    if (lower_is_better)
        return mine > 0 ? ref / mine : 0;
    return ref > 0 ? mine / ref : (mine > 0 ? INFINITY : 1.0);
}

size_t eval_best_ref(const double *ref_scores, size_t n, int lower_is_better)
{
    size_t best = 0;
    for (size_t k = 1; k < n; k++)
        if (lower_is_better ? ref_scores[k] < ref_scores[best] : ref_scores[k] > ref_scores[best])
            best = k;
    return best;
}

eval_verdict eval_verdict_of(const double *relative, size_t n_tasks)
{
    eval_verdict v = {0, 0};
    for (size_t i = 0; i < n_tasks; i++)
        v.mean += relative[i] / (double)n_tasks;
    v.meets = v.mean >= EVAL_THRESHOLD;
    return v;
}
