/* verdict.h: a model's scores against reference models, and the programme's verdict:
 * does it reach 95 % of the best reference?
 *
 * Per task the best reference is the one with the best primary score (highest accuracy;
 * lowest bits per byte), and the relative score is model / reference for accuracies and
 * reference / model for bits per byte (so above 1 is better than the reference either
 * way). The verdict is on the mean of the per-task relative scores: "meets" at or above
 * EVAL_THRESHOLD. */
#ifndef DK_EVAL_VERDICT_H
#define DK_EVAL_VERDICT_H

#include <stddef.h>

#define EVAL_THRESHOLD 0.95

/* The relative score of `mine` against `ref` (lower_is_better: bits per byte). A
 * reference scoring 0 on an accuracy gives +inf when mine > 0, else 1. */
double eval_relative(int lower_is_better, double mine, double ref);

/* The index of the best of n reference scores (the first among equals). */
size_t eval_best_ref(const double *ref_scores, size_t n, int lower_is_better);

typedef struct {
    double mean; /* of the per-task relative scores, summed in task order */
    int meets;   /* mean >= EVAL_THRESHOLD */
} eval_verdict;

eval_verdict eval_verdict_of(const double *relative, size_t n_tasks);

#endif
