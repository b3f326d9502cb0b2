/* cmd_eval.c: `dokja eval`: perplexity and multiple-choice scores of a model, and
 * with --ref the same tasks on reference models, each task's score relative to the
 * best reference, their mean, and the 95 % verdict. `dokja eval convert` turns the
 * public benchmark formats into the JSONL task format (cmd_eval_convert.c). */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "data/contam.h"
#include "eval/score.h"
#include "eval/verdict.h"
#include "util/hash.h"
#include "util/version.h"

int cmd_eval_convert(int argc, char **argv);

static const char HELP[] =
    "usage: dokja eval -m MODEL --task SPEC [--task SPEC ...] [--ref MODEL ...] [--json]\n"
    "                  [--limit N] [--metric acc|acc_norm] [--window W] [--threads N] [-q]\n"
    "       dokja eval convert FORMAT INPUT -o OUT.jsonl\n"
    "\n"
    "Task SPEC:\n"
    "  text:PATH or PATH.txt   perplexity: each non-empty line a document; bits per byte\n"
    "                          and token perplexity, rolling windows of W tokens (default\n"
    "                          the model's context) advancing by W/2\n"
    "  PATH.jsonl              multiple choice: {\"context\", \"choices\": [...], \"gold\"}\n"
    "  FORMAT:PATH             a public format converted on the fly (see `dokja eval\n"
    "                          convert --help`), e.g. kobest_copa:COPA_dev.tsv\n"
    "Multiple choice reports acc (highest log-likelihood of the choice given the\n"
    "context) and acc_norm (log-likelihood divided by the choice's UTF-8 bytes), each\n"
    "with its standard error; the context's cache is shared by the choices.\n"
    "\n"
    "--ref MODEL (repeatable): the same tasks on reference models. Per task the model's\n"
    "score is divided by the best reference's (higher is better for --metric, default\n"
    "acc; for text, reference bits per byte / model bits per byte), the mean over tasks\n"
    "is the aggregate, and the verdict is \"meets 95 % of REF\" when it is >= 0.95.\n"
    "--limit N: the first N items (documents) of each task. --json: one JSON object on\n"
    "stdout with every number, the SHA-256 of models and tasks, the template version\n"
    "and dokja's version. Scores do not depend on the thread count.\n"
    "--exclude-contaminated DATA: find each multiple-choice item in the training text of\n"
    "the dataset DATA as `dokja data contamination` does (on --threads threads), and\n"
    "report the scores on the clean items too (\"clean\" in --json, with the contaminated\n"
    "items' indices); the relative scores and the verdict stay those of all items. Text\n"
    "tasks are scored whole.\n";

typedef struct {
    const char *spec;
    int is_text;
    const char *path; /* text tasks */
    mc_task mc;
    char name[64];
    char sha256[65];
    uint8_t *contaminated; /* with --exclude-contaminated: per item */
} task_spec;

typedef struct {
    const char *dir;
    char sha256[65], tok_sha256[65];
    mc_result *mc;
    text_result *text;
    uint8_t **correct; /* with --exclude-contaminated: per task, per item scored */
} model_scores;

static int open_task(task_spec *t, const char *spec, dk_err *err)
{
    memset(t, 0, sizeof *t);
    t->spec = spec;
    if (task_spec_is_text(spec, &t->path)) {
        t->is_text = 1;
        uint8_t d[32];
        if (sha256_file(t->path, d, err) != 0)
            return -1;
        sha256_hex(d, t->sha256);
        const char *base = strrchr(t->path, '/');
        snprintf(t->name, sizeof t->name, "%s", base ? base + 1 : t->path);
        return 0;
    }
    if (mc_task_open(&t->mc, spec, err) != 0)
        return -1;
    if (t->mc.n == 0)
        return dk_errf(err, "%s: the task has no items", spec);
    snprintf(t->name, sizeof t->name, "%s", t->mc.name);
    snprintf(t->sha256, sizeof t->sha256, "%s", t->mc.sha256);
    return 0;
}

/* The accuracy of guessing on the items scored (the first `limit`, 0: all); 0 for text. */
static double chance_of(const task_spec *t, size_t limit)
{
    if (t->is_text)
        return 0;
    size_t n = limit && limit < t->mc.n ? limit : t->mc.n;
    int *k = malloc((n ? n : 1) * sizeof *k);
    if (!k)
        return 0;
    for (size_t i = 0; i < n; i++)
        k[i] = t->mc.items[i].n_choices;
    double c = eval_chance(k, n);
    free(k);
    return c;
}

static json_t *real_or_null(double x) { return isfinite(x) ? json_real(x) : json_null(); }

/* The score a comparison uses: higher is better. */
static double primary(const task_spec *t, const model_scores *s, size_t i, int use_norm)
{
    if (t->is_text)
        return s->text[i].bits_per_byte;
    return use_norm ? s->mc[i].acc_norm : s->mc[i].acc;
}

static int score_model(model_scores *s, const char *dir, task_spec *tasks, size_t nt, size_t limit,
                       int window, int threads, int quiet, dk_err *err)
{
    lm l;
    s->dir = dir;
    if (lm_open(&l, dir, threads, 0, err) != 0)
        return -1;
    snprintf(s->sha256, sizeof s->sha256, "%s", l.sha256);
    snprintf(s->tok_sha256, sizeof s->tok_sha256, "%s", l.tok_sha256);
    int rc = 0;
    for (size_t i = 0; i < nt && rc == 0; i++) {
        if (tasks[i].is_text)
            rc = score_text_file(&l, tasks[i].path, limit, window, !quiet, &s->text[i], err);
        else if (tasks[i].contaminated) {
            size_t n = limit && limit < tasks[i].mc.n ? limit : tasks[i].mc.n;
            if (!(s->correct[i] = calloc(n + 1, 1)))
                rc = dk_errf(err, "out of memory");
            else
                rc = score_mc_task_items(&l, &tasks[i].mc, limit, !quiet, &s->mc[i], s->correct[i], err);
        } else
            rc = score_mc_task(&l, &tasks[i].mc, limit, !quiet, &s->mc[i], err);
    }
    lm_close(&l);
    return rc;
}

/* The scores on the clean items (first `limit`), or NULL without --exclude-contaminated. */
static json_t *clean_json(const task_spec *t, const model_scores *s, size_t i, size_t limit, mc_result *r)
{
    if (t->is_text || !t->contaminated || !s->correct || !s->correct[i])
        return NULL;
    size_t n = limit && limit < t->mc.n ? limit : t->mc.n;
    mc_result_of(s->correct[i], t->contaminated, n, r);
    json_t *ci = json_array();
    for (size_t k = 0; k < n; k++)
        if (t->contaminated[k])
            json_array_append_new(ci, json_integer((json_int_t)k));
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:o}", "n", (json_int_t)r->n, "acc", r->acc, "acc_stderr",
                     r->acc_stderr, "acc_norm", r->acc_norm, "acc_norm_stderr", r->acc_norm_stderr,
                     "contaminated", ci);
}

static json_t *task_json(const task_spec *t, const model_scores *s, size_t i, size_t limit)
{
    if (t->is_text) {
        const text_result *r = &s->text[i];
        return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:f, s:f, s:f}", "task", t->name, "kind",
                         "text", "sha256", t->sha256, "n", (json_int_t)r->docs, "tokens",
                         (json_int_t)r->tokens, "bytes", (json_int_t)r->bytes, "bits_per_byte",
                         r->bits_per_byte, "token_perplexity", r->token_perplexity, "nll_nats", r->nll);
    }
    const mc_result *r = &s->mc[i];
    json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:f, s:f, s:f, s:f, s:I}", "task", t->name, "kind",
                          "multiple_choice", "sha256", t->sha256, "n", (json_int_t)r->n, "acc", r->acc,
                          "acc_stderr", r->acc_stderr, "acc_norm", r->acc_norm, "acc_norm_stderr",
                          r->acc_norm_stderr, "truncated", (json_int_t)r->truncated);
    mc_result cr;
    json_t *c = clean_json(t, s, i, limit, &cr);
    if (c)
        json_object_set_new(j, "clean", c);
    return j;
}

static void print_scores(const task_spec *t, const model_scores *s, size_t i, const char *who,
                         size_t limit)
{
    if (t->is_text)
        printf("  %-8s %-40s bits/byte %.4f  token ppl %.3f  (%zu docs, %zu tokens, %zu bytes)\n",
               who, s->dir, s->text[i].bits_per_byte, s->text[i].token_perplexity, s->text[i].docs,
               s->text[i].tokens, s->text[i].bytes);
    else
        printf("  %-8s %-40s acc %.4f ± %.4f  acc_norm %.4f ± %.4f  (n %zu)\n", who, s->dir,
               s->mc[i].acc, s->mc[i].acc_stderr, s->mc[i].acc_norm, s->mc[i].acc_norm_stderr,
               s->mc[i].n);
    mc_result cr;
    json_t *c = clean_json(t, s, i, limit, &cr);
    if (c)
        printf("  %-8s %-40s acc %.4f ± %.4f  acc_norm %.4f ± %.4f  (n %zu clean: %zu contaminated left out)\n",
               "", "clean items", cr.acc, cr.acc_stderr, cr.acc_norm, cr.acc_norm_stderr, cr.n,
               s->mc[i].n - cr.n);
    json_decref(c);
}

int cmd_eval(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "convert") == 0) {
        char name[256];
        snprintf(name, sizeof name, "%s convert", argv[0]);
        argv[1] = name;
        return cmd_eval_convert(argc - 1, argv + 1);
    }
    if (cli_wants_help(argc, argv)) {
        fputs(HELP, stdout);
        return 0;
    }
    enum { O_TASK = 256, O_REF, O_JSON, O_LIMIT, O_METRIC, O_WINDOW, O_THREADS, O_EXCL };
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"task", required_argument, 0, O_TASK},
        {"ref", required_argument, 0, O_REF}, {"json", no_argument, 0, O_JSON},
        {"limit", required_argument, 0, O_LIMIT}, {"metric", required_argument, 0, O_METRIC},
        {"window", required_argument, 0, O_WINDOW}, {"threads", required_argument, 0, O_THREADS},
        {"quiet", no_argument, 0, 'q'}, {"exclude-contaminated", required_argument, 0, O_EXCL},
        {0, 0, 0, 0}};
    const char *name = argv[0], *dir = NULL, *excl = NULL;
    const char **specs = calloc((size_t)argc, sizeof *specs), **refs = calloc((size_t)argc, sizeof *refs);
    size_t nt = 0, nr = 0;
    int json = 0, use_norm = 0, window = 0, threads = 0, quiet = 0, c, limit_i = 0;
    if (!specs || !refs) {
        fprintf(stderr, "dokja: out of memory\n");
        return DK_EXIT_FAIL;
    }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "m:q", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'm': dir = optarg; break;
        case 'q': quiet = 1; break;
        case O_TASK: specs[nt++] = optarg; break;
        case O_REF: refs[nr++] = optarg; break;
        case O_JSON: json = 1; break;
        case O_EXCL: excl = optarg; break;
        case O_LIMIT: bad = cli_parse_int(optarg, 1, 1 << 30, &limit_i); break;
        case O_WINDOW: bad = cli_parse_int(optarg, 2, 1 << 24, &window); break;
        case O_THREADS: bad = cli_parse_int(optarg, 1, 1024, &threads); break;
        case O_METRIC:
            if (strcmp(optarg, "acc") == 0)
                use_norm = 0;
            else if (strcmp(optarg, "acc_norm") == 0)
                use_norm = 1;
            else
                bad = 1;
            break;
        default:
            free(specs), free(refs);
            return cli_usage(name, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if (bad) {
            int rc = cli_bad_value(name, opts, c, optarg);
            free(specs), free(refs);
            return rc;
        }
    }
    int rc = 0;
    if (!dir)
        rc = cli_usage(name, "-m MODEL is required");
    else if (nt == 0)
        rc = cli_usage(name, "at least one --task SPEC is required");
    else if (optind < argc)
        rc = cli_usage(name, "unexpected argument '%s'", argv[optind]);
    if (rc) {
        free(specs), free(refs);
        return rc;
    }
    dk_err err;
    task_spec *tasks = calloc(nt, sizeof *tasks);
    model_scores *ms = calloc(nr + 1, sizeof *ms);
    double *rels = calloc(nt, sizeof *rels), *ref_scores = calloc(nr + 1, sizeof *ref_scores);
    if (!tasks || !ms || !rels || !ref_scores)
        rc = dk_errf(&err, "out of memory");
    for (size_t i = 0; i < nt && rc == 0; i++) /* every task is checked before any model runs */
        rc = open_task(&tasks[i], specs[i], &err);
    if (rc == 0 && excl) { /* which items occur in the training text */
        contam *ct = contam_new(0, 0);
        contam_where **where = calloc(nt, sizeof *where);
        size_t *ci = calloc(nt, sizeof *ci), nc = 0;
        if (!ct || !where || !ci)
            rc = dk_errf(&err, "out of memory");
        for (size_t i = 0; i < nt && rc == 0; i++) {
            if (tasks[i].is_text)
                continue;
            if (contam_add_task(ct, specs[i], &err) < 0)
                rc = -1;
            else if (contam_task_items(ct, nc) != tasks[i].mc.n)
                rc = dk_errf(&err, "%s: the task changed while it was read", specs[i]);
            else if (!(where[nc] = calloc(tasks[i].mc.n + 1, sizeof **where)) ||
                     !(tasks[i].contaminated = calloc(tasks[i].mc.n + 1, 1)))
                rc = dk_errf(&err, "out of memory");
            ci[nc++] = i;
        }
        contam_stats st;
        if (rc == 0)
            rc = contam_finish(ct, &err);
        if (rc == 0)
            rc = contam_scan_dataset(ct, excl, where, threads, NULL, NULL, &st, &err);
        for (size_t k = 0; k < nc && rc == 0; k++)
            for (size_t m = 0; m < tasks[ci[k]].mc.n; m++)
                tasks[ci[k]].contaminated[m] = (uint8_t)where[k][m].found;
        for (size_t k = 0; where && k < nt; k++)
            free(where[k]);
        free(where);
        free(ci);
        contam_free(ct);
    }
    for (size_t k = 0; k <= nr && rc == 0; k++) {
        ms[k].mc = calloc(nt, sizeof *ms[k].mc);
        ms[k].text = calloc(nt, sizeof *ms[k].text);
        ms[k].correct = calloc(nt, sizeof *ms[k].correct);
        if (!ms[k].mc || !ms[k].text || !ms[k].correct)
            rc = dk_errf(&err, "out of memory");
        else
            rc = score_model(&ms[k], k == 0 ? dir : refs[k - 1], tasks, nt, (size_t)limit_i, window,
                             threads, quiet, &err);
    }
    double mean_rel = 0;
    if (rc == 0) {
        json_t *out = json_object(), *jt = json_array(), *jrefs = json_array(), *jrel = json_array();
        const char *metric = use_norm ? "acc_norm" : "acc";
        if (!json) {
            printf("dokja %s, prompt templates %s; model %s (sha256 %.16s...)\n", DOKJA_VERSION,
                   EVAL_TEMPLATE_VERSION, dir, ms[0].sha256);
        }
        for (size_t i = 0; i < nt; i++) {
            json_array_append_new(jt, task_json(&tasks[i], &ms[0], i, (size_t)limit_i));
            if (!json) {
                printf("\n%s (sha256 %.16s...)\n", tasks[i].name, tasks[i].sha256);
                print_scores(&tasks[i], &ms[0], i, "model", (size_t)limit_i);
                for (size_t k = 1; k <= nr; k++)
                    print_scores(&tasks[i], &ms[k], i, "ref", (size_t)limit_i);
            }
            if (nr == 0)
                continue;
            for (size_t k = 1; k <= nr; k++)
                ref_scores[k - 1] = primary(&tasks[i], &ms[k], i, use_norm);
            size_t best = 1 + eval_best_ref(ref_scores, nr, tasks[i].is_text);
            double mv = primary(&tasks[i], &ms[0], i, use_norm), rv = ref_scores[best - 1];
            double rel = eval_relative(tasks[i].is_text, mv, rv, chance_of(&tasks[i], (size_t)limit_i));
            rels[i] = rel;
            /* json_real refuses NaN: a missing number is null, never a dropped task */
            json_array_append_new(jrel, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "task", tasks[i].name,
                                                  "metric", tasks[i].is_text ? "bits_per_byte" : metric,
                                                  "ref", ms[best].dir, "model_score", real_or_null(mv),
                                                  "ref_score", real_or_null(rv), "relative", real_or_null(rel)));
            if (!json)
                printf("  relative to the best reference (%s): %.4f\n", ms[best].dir, rel);
        }
        for (size_t k = 1; k <= nr; k++) {
            json_t *rt = json_array();
            for (size_t i = 0; i < nt; i++)
                json_array_append_new(rt, task_json(&tasks[i], &ms[k], i, (size_t)limit_i));
            json_array_append_new(jrefs, json_pack("{s:s, s:s, s:s, s:o}", "path", ms[k].dir, "sha256",
                                                   ms[k].sha256, "tokenizer_sha256", ms[k].tok_sha256,
                                                   "tasks", rt));
        }
        json_object_set_new(out, "dokja_version", json_string(DOKJA_VERSION));
        json_object_set_new(out, "template_version", json_string(EVAL_TEMPLATE_VERSION));
        json_object_set_new(out, "model", json_pack("{s:s, s:s, s:s}", "path", dir, "sha256", ms[0].sha256,
                                                    "tokenizer_sha256", ms[0].tok_sha256));
        json_object_set_new(out, "metric", json_string(metric));
        json_object_set_new(out, "limit", json_integer(limit_i));
        json_object_set_new(out, "exclude_contaminated", excl ? json_string(excl) : json_null());
        json_object_set_new(out, "window", json_integer(window));
        json_object_set_new(out, "tasks", jt);
        if (nr > 0) {
            eval_verdict v = eval_verdict_of(rels, nt);
            int meets = v.meets;
            mean_rel = v.mean;
            json_object_set_new(out, "refs", jrefs);
            json_object_set_new(out, "per_task_relative", jrel);
            json_object_set_new(out, "relative", real_or_null(mean_rel));
            json_object_set_new(out, "threshold", json_real(EVAL_THRESHOLD));
            json_object_set_new(out, "relative_cap", json_real(EVAL_REL_CAP));
            json_object_set_new(out, "verdict", json_string(!v.defined ? "undefined" : meets ? "meets" : "fails"));
            if (!json)
                printf("\nmean relative score over %zu task%s: %.4f -> %s 95 %% of REF (the best "
                       "reference per task; each task's score capped at %.1f)\n",
                       nt, nt == 1 ? "" : "s", mean_rel,
                       !v.defined ? "undefined (a score is NaN): cannot say whether it meets"
                       : meets    ? "meets"
                                  : "does not meet",
                       EVAL_REL_CAP);
            if (!v.defined)
                rc = dk_errf(&err, "the verdict is undefined: a task's score is NaN");
        } else {
            json_decref(jrefs);
            json_decref(jrel);
        }
        if (json) {
            char *s = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(10));
            if (s)
                puts(s);
            free(s);
        }
        json_decref(out);
    }
    for (size_t k = 0; ms && k <= nr; k++) {
        for (size_t i = 0; ms[k].correct && i < nt; i++)
            free(ms[k].correct[i]);
        free(ms[k].correct);
        free(ms[k].mc);
        free(ms[k].text);
    }
    for (size_t i = 0; tasks && i < nt; i++) {
        if (!tasks[i].is_text)
            mc_task_free(&tasks[i].mc);
        free(tasks[i].contaminated);
    }
    free(tasks);
    free(ms);
    free(rels);
    free(ref_scores);
    free(specs);
    free(refs);
    return rc == 0 ? 0 : cli_fail(&err);
}
