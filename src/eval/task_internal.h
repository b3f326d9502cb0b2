/* task_internal.h: what task_convert.c uses from task.c (never the other way). */
#ifndef DK_EVAL_TASK_INTERNAL_H
#define DK_EVAL_TASK_INTERNAL_H

#include "eval/task.h"

/* Appends an item (copies the strings). */
int mc_task_add(mc_task *t, const char *context, const char *const *choices, int n, int gold,
                dk_err *err);

#endif
