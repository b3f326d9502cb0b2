/* task_internal.h: what task.c and task_convert.c share. */
#ifndef DK_EVAL_TASK_INTERNAL_H
#define DK_EVAL_TASK_INTERNAL_H

#include "eval/task.h"

/* Appends an item (copies the strings). */
int mc_task_add(mc_task *t, const char *context, const char *const *choices, int n, int gold,
                dk_err *err);
void mc_task_name_from_path(mc_task *t, const char *path);
int mc_task_format_known(const char *format);

#endif
