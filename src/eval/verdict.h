/* verdict.h: a model's scores against reference models, and the programme's verdict:
 * does it reach 95 % of the best reference?
 *
 * Per task the best reference is the one with the best primary score (highest accuracy;
 * lowest bits per byte), and the relative score is model / reference for accuracies and
 * reference / model for bits per byte (so above 1 is better than the reference either
 * way). The verdict is on the mean of the per-task relative scores: "meets" at or above
 * EVAL_THRESHOLD.
 *
 * No single task may decide the mean: each relative score is capped at EVAL_REL_CAP (a
 * model twice as good as the reference on one task cannot hide a task where it is far
 * worse), a reference without a positive score (an accuracy of 0: the task does not
 * discriminate), or one at or below chance on a multiple-choice task, gives 1, and a NaN
 * anywhere makes the verdict undefined, never "meets". */
#ifndef DK_EVAL_VERDICT_H
#define DK_EVAL_VERDICT_H

#include <stddef.h>

#define EVAL_THRESHOLD 0.95
#define EVAL_REL_CAP 2.0

/* The relative score of `mine` against `ref` (lower_is_better: bits per byte), in
 * [0, EVAL_REL_CAP]; NaN if either score is NaN. chance: the accuracy of guessing (the
 * mean of 1 / choices over the items scored; 0 for text): a reference at or below it
 * shows no skill, and the task counts as 1. */
double eval_relative(int lower_is_better, double mine, double ref, double chance);

/* The chance accuracy of items with these numbers of choices. */
double eval_chance(const int *n_choices, size_t n);

/* The index of the best of n reference scores (the first among equals). */
size_t eval_best_ref(const double *ref_scores, size_t n, int lower_is_better);

typedef struct {
    double mean; /* of the per-task relative scores, summed in task order; NaN if one is */
    int meets;   /* mean >= EVAL_THRESHOLD (0 when the mean is NaN) */
    int defined; /* 0 when some relative score is NaN */
} eval_verdict;

eval_verdict eval_verdict_of(const double *relative, size_t n_tasks);

#endif
