/* select.h: `dokja select`: one selection round of the programme, from a round file to
 * the report that decides it (docs/select.md).
 *
 * A round file (JSON) names the evaluation date, the teams' models (and optionally their
 * training ledgers and declared bases), the reference models with their release dates,
 * the known models for the independence check, the scoring scheme (benchmark groups of
 * `dokja eval` task specs with points, external score parts from CSV files) and the
 * stages (how many teams each cut keeps, with manual overrides).
 *
 * sel_round_load validates everything that can be checked without running a model (dates,
 * names, paths, task files, CSV files, stage sizes) and fails with one line naming the file
 * and the problem ("round.json: teams[2].model: ..." or "scores.csv:4: ..."). sel_run then
 * scores every team and every counting reference on every task (eval/score.h), judges each
 * task against the best counting reference (eval/verdict.h), runs the independence gate
 * (lineage/lineage.h between every team and every known model and between every pair of
 * teams; audit/verify.h on a team's ledger), ranks the teams that pass by their total, and
 * applies the stages. The result is one JSON object (no timestamps or timings: two runs give
 * the same bytes); sel_write_outputs writes it as report.json and report.html. */
#ifndef DK_SELECT_SELECT_H
#define DK_SELECT_SELECT_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

typedef struct {
    char *name, *model;         /* model: as written in the round file */
    char *model_path;           /* resolved against the round file's directory */
    char *ledger, *ledger_path; /* NULL: none */
    char *declared_base;        /* NULL: none */
    char *data, *data_path;     /* the team's dataset (for verify's data check and replay); NULL: none */
    char *lm_eval, *lm_eval_path; /* lm-evaluation-harness results JSON; NULL: none */
    char lm_eval_sha256[65];
    json_t *lm_eval_json;
    /* the benchmarks the team chose, scored against the model it states as its target
     * (a reference or known model): the scheme's team-chosen group */
    struct sel_task *chosen;
    size_t n_chosen;
    char *target;
    size_t target_known; /* index into known[] */
} sel_team;

typedef struct {
    char *name, *model, *model_path;
    char released[11]; /* YYYY-MM-DD; "" for a known model that is not a reference */
    int is_ref, counts;  /* counts: a reference released within the window */
    char *lm_eval, *lm_eval_path; /* references: lm-evaluation-harness results JSON; NULL: none */
    char lm_eval_sha256[65];
    json_t *lm_eval_json;
} sel_known;

typedef struct sel_task {
    char *spec;       /* as written; NULL for a task only imported */
    char *spec_path;  /* with its path resolved */
    int is_text;      /* text (bits per byte, lower is better) */
    char name[64], sha256[65];
    void *mc; /* mc_task * for multiple choice */
    /* lm-evaluation-harness: the task's name in a results file ("results": {NAME: {...}}),
     * the metric read there ("acc", "acc_norm", "bits_per_byte"), and for a task only
     * imported (no spec) the chance score the evaluator gives */
    char *lm_eval;
    char metric[24];
    int import_only;
    double chance;
} sel_task;

typedef struct {
    char *name;
    double points;
    sel_task *tasks;
    size_t n_tasks;
    int team_chosen; /* the tasks are each team's chosen ones (sel_team.chosen) */
} sel_group;

typedef struct {
    char *name, *csv, *csv_path;
    double points;
    double *score; /* per team, in [0, 1] */
    char sha256[65];
} sel_external;

enum { SEL_OVERRIDE_NONE = 0, SEL_OVERRIDE_ADVANCE = 1, SEL_OVERRIDE_CUT = 2 };

typedef struct {
    int keep;
    int *override; /* per team: SEL_OVERRIDE_* */
} sel_stage;

typedef struct {
    char path[4096]; /* the round file */
    char dir[4096];  /* its directory: paths in it are relative to this */
    char sha256[65];
    char date[11], window_start[11];
    int window_months;
    sel_team *teams;
    size_t n_teams;
    sel_known *known; /* the references first, then the other known models */
    size_t n_known, n_refs;
    sel_group *groups;
    size_t n_groups;
    sel_external *ext;
    size_t n_ext;
    sel_stage *stages;
    size_t n_stages;
    double alpha; /* thresholds.lineage_alpha */
    int replay_segments;  /* replay.segments: ledger segments to replay per team (0: none) */
    char challenge[1025]; /* replay.challenge: the auditor's randomness, hex ("" : none) */
} sel_round;

/* A score of lm-evaluation-harness's results JSON (results, the file's root): the metric
 * of task NAME ("METRIC,none" as lm-eval 0.4 writes it, or "METRIC" as older versions
 * do), and the items scored (n-samples.NAME.effective; 0 when absent). 0, or -1 when the
 * file has no such number. */
int sel_lm_eval_score(const json_t *results, const char *task, const char *metric, double *score, size_t *n);

/* Reads and validates the round file (task files and CSV files too). */
int sel_round_load(sel_round *r, const char *path, dk_err *err);
void sel_round_free(sel_round *r); /* accepts NULL */

typedef struct {
    size_t limit; /* items (documents) per task; 0: all */
    int threads;  /* 0: all */
    int progress; /* a line per model and per lineage pair on stderr */
    int replay_segments;   /* > 0: overrides the round file's replay.segments */
    const char *challenge; /* non-NULL: overrides the round file's replay.challenge */
    const char *cache_dir; /* results cached by content hash here; NULL: no cache */
    int part, parts;       /* parts > 1: only units u with u % parts == part, into the cache,
                            * and no report (*report NULL) */
} sel_opts;

/* Runs the round; *report: the report (the caller json_decref's it; NULL for a part). */
int sel_run(const sel_round *r, const sel_opts *o, json_t **report, dk_err *err);

/* Creates dir and writes dir/report.json and dir/report.html, each atomically. */
int sel_write_outputs(const json_t *report, const char *dir, dk_err *err);

/* The report as JSON text (the bytes of report.json; malloc'd). */
char *sel_report_json(const json_t *report);
/* The report as one self-contained HTML page (malloc'd). */
char *sel_report_html(const json_t *report);

#endif
