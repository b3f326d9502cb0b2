/* verdict.c: see verdict.h. */
#include "eval/verdict.h"

#include <math.h>

double eval_relative(int lower_is_better, double mine, double ref, double chance)
{
    if (isnan(mine) || isnan(ref))
        return NAN;
    double r;
    if (lower_is_better) /* bits per byte are positive; none (0) is no measurement */
        r = mine > 0 && ref > 0 ? ref / mine : 0;
    else
        r = ref > 0 && ref > chance ? mine / ref : 1.0; /* a reference with no skill: the task does not discriminate */
    return r < 0 ? 0 : r > EVAL_REL_CAP ? EVAL_REL_CAP : r;
}

double eval_chance(const int *n_choices, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += n_choices[i] > 0 ? 1.0 / n_choices[i] : 0;
    return n ? s / (double)n : 0;
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
    eval_verdict v = {0, 0, 1};
    for (size_t i = 0; i < n_tasks; i++) {
        v.defined &= !isnan(relative[i]);
        v.mean += relative[i] / (double)n_tasks;
    }
    v.meets = v.defined && v.mean >= EVAL_THRESHOLD;
    return v;
}
