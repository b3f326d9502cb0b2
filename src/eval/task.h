/* task.h: multiple-choice evaluation tasks: the JSONL format dokja scores, and the
 * converters from the public benchmark files (KoBEST, HellaSwag pairs) into it.
 *
 * An item is a context and its choices, each choice a continuation of the context
 * (usually starting with a space); the model's score for a choice is its
 * log-likelihood after the context. The prompt templates that turn a benchmark row
 * into an item are fixed and versioned (EVAL_TEMPLATE_VERSION; docs/eval.md shows an
 * example of each): a change of template changes every score, so results record it. */
#ifndef DK_EVAL_TASK_H
#define DK_EVAL_TASK_H

#include <stddef.h>

#include "util/err.h"

#define EVAL_TEMPLATE_VERSION "dokja-mc-v1" /* bump when any template changes */

typedef struct {
    char *context;  /* UTF-8 */
    char **choices; /* n_choices continuations */
    int n_choices;  /* >= 2 */
    int gold;       /* index into choices */
} mc_item;

typedef struct {
    mc_item *items;
    size_t n, cap;
    char name[64];   /* "kobest_copa", or the JSONL file's base name */
    char sha256[65]; /* of the source bytes (two files: of their concatenation) */
} mc_task;

/* {"context": ..., "choices": [...], "gold": i} one object per line; blank lines
 * skipped. Errors name the file and line. */
int mc_task_load_jsonl(mc_task *t, const char *path, dk_err *err);
/* Formats: kobest_boolq, kobest_copa, kobest_hellaswag, kobest_sentineg, kobest_wic
 * (path: one TSV file with its header), hellaswag_pairs (path: the *correct* file;
 * the wrong one is the same name with "correct" replaced by "wrong", or give
 * "CORRECT,WRONG"). */
int mc_task_convert(mc_task *t, const char *format, const char *path, dk_err *err);
/* "FORMAT:PATH" or a .jsonl path. */
int mc_task_open(mc_task *t, const char *spec, dk_err *err);

/* Whether a task spec names a text task (`text:PATH`, or `PATH.txt` without a known
 * `FORMAT:` prefix: `hellaswag_pairs:X_correct.txt` is multiple choice); *path: the
 * text file's path (may be NULL). */
int task_spec_is_text(const char *spec, const char **path);
int mc_task_write_jsonl(const mc_task *t, const char *path, dk_err *err); /* atomic */
void mc_task_free(mc_task *t);
/* The formats, one line each, for --help. */
const char *mc_task_formats_help(void);

#endif
