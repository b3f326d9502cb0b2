/* select_run.c: running a round (select.h): scores, the independence gate, ranking and
 * the stages, gathered into the report's JSON object (keys documented in docs/select.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/replay.h"
#include "audit/verify.h"
#include "eval/score.h"
#include "eval/verdict.h"
#include "eval/task.h"
#include "infer/lm.h"
#include "lineage/lineage.h"
#include "select/select.h"
#include "select/select_cache.h"
#include "util/hash.h"
#include "util/version.h"

static json_t *num(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

typedef struct {
    char sha256[65], tok_sha256[65];
    double *score; /* per flat task: accuracy or bits per byte */
    size_t *n;     /* items (documents) scored */
    unsigned char *imported; /* per flat task: read from the model's lm-evaluation-harness results */
} model_scores;

typedef struct {
    size_t a, b;  /* indices: teams first (0..n_teams), then known models */
    double log10_p;
    int derived;
    size_t cleared; /* the team of a derived pair whose proven run clears it; (size_t)-1: none */
    json_t *evidence;
} pair_test;

typedef struct {
    const sel_round *r;
    const sel_opts *o;
    size_t nt;          /* tasks in all groups */
    sel_task **tasks;   /* flat */
    size_t *task_group; /* flat -> group */
    model_scores *ms;   /* teams, then every known model (scored only if it counts) */
    size_t units, done; /* progress: models x tasks, lineage tests and ledgers, and those done */
    double t0;
    sel_cache cache;
    lineage_cache *lc; /* per-model lineage work shared by the pairs (lineage.h) */
    char (*digest)[65]; /* per model (teams, then known models): its files' content digest */
} ctx;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* "select: [k/N] what (ETA s)" on stderr: the ETA assumes the rest goes at the mean pace so far. */
static void progress(ctx *c, const char *what, const char *a, const char *sep, const char *b)
{
    if (!c->o->progress)
        return;
    double el = now() - c->t0;
    /* a and b are names from the round file: escaped */
    fprintf(stderr, "select: [%zu/%zu] %s ", c->done + 1, c->units, what);
    dk_put_safe(stderr, a, 200);
    if (b) {
        fputs(sep, stderr);
        dk_put_safe(stderr, b, 200);
    }
    if (c->done > 0)
        fprintf(stderr, " (ETA %.0f s)", el / (double)c->done * (double)(c->units - c->done));
    fputc('\n', stderr);
}

static const char *model_name(const ctx *c, size_t i)
{
    return i < c->r->n_teams ? c->r->teams[i].name : c->r->known[i - c->r->n_teams].name;
}

static const char *model_path(const ctx *c, size_t i)
{
    return i < c->r->n_teams ? c->r->teams[i].model_path : c->r->known[i - c->r->n_teams].model_path;
}

/* Scores of model i on every task, each from the cache when this model's files, the
 * task's bytes, the limit and the build are those it was computed with. The model is
 * loaded only when some task misses. */
static double chance_of(const sel_task *t, size_t limit);

/* Model i's lm-evaluation-harness results (NULL: none). */
static const json_t *lm_eval_of(const ctx *c, size_t i)
{
    return i < c->r->n_teams ? c->r->teams[i].lm_eval_json : c->r->known[i - c->r->n_teams].lm_eval_json;
}

/* Model i on tasks[0..nt): score[t], n[t], imported[t]; into hs (when not NULL) the
 * parameters' and tokenizer's digests. */
static int score_tasks(ctx *c, size_t i, sel_task *const *tasks, size_t nt, double *score, size_t *n,
                       unsigned char *imported, model_scores *hs, dk_err *err)
{
    const json_t *imp = lm_eval_of(c, i);
    char lim[32], mkey[65];
    snprintf(lim, sizeof lim, "%zu", c->o->limit);
    sel_cache_key(mkey, "model-hashes", c->digest[i], (const char *)NULL);
    char (*keys)[65] = calloc(nt + 1, sizeof *keys);
    json_t **hit = calloc(nt + 1, sizeof *hit), *mh = sel_cache_get(&c->cache, mkey);
    int rc = keys && hit ? 0 : dk_errf(err, "out of memory"), missing = 0;
    for (size_t t = 0; t < nt && rc == 0; t++) {
        sel_task *tk = tasks[t];
        if (imp && tk->lm_eval && sel_lm_eval_score(imp, tk->lm_eval, tk->metric, &score[t], &n[t]) == 0) {
            imported[t] = 1; /* scored elsewhere (e.g. on GPUs): taken as given */
            continue;
        }
        sel_cache_key(keys[t], "score", c->digest[i], tk->is_text ? "text" : "mc", tk->sha256, lim,
                      EVAL_TEMPLATE_VERSION, (const char *)NULL);
        hit[t] = sel_cache_get(&c->cache, keys[t]);
        missing += !hit[t];
    }
    lm l;
    int opened = 0;
    /* the parameters' digest needs the model loaded: done when a task is scored here, or
     * when it is not in the cache yet; a model whose every score is imported (a 70B
     * model scored on GPUs) is not loaded, and is named by its files' digest only */
    int all_imported = 1;
    for (size_t t = 0; t < nt; t++)
        all_imported &= imported[t];
    if (rc == 0 && (missing || (hs && !mh && !all_imported))) {
        rc = lm_open(&l, model_path(c, i), c->o->threads, 0, err);
        opened = rc == 0;
    }
    model_scores dummy;
    model_scores *s = hs ? hs : &dummy;
    if (rc == 0 && opened) {
        snprintf(s->sha256, sizeof s->sha256, "%s", l.sha256);
        snprintf(s->tok_sha256, sizeof s->tok_sha256, "%s", l.tok_sha256);
        json_t *v = json_pack("{s:s, s:s}", "sha256", l.sha256, "tokenizer_sha256", l.tok_sha256);
        sel_cache_put(&c->cache, mkey, v);
        json_decref(v);
    } else if (rc == 0 && mh) {
        snprintf(s->sha256, sizeof s->sha256, "%s", json_string_value(json_object_get(mh, "sha256")) ?: "");
        snprintf(s->tok_sha256, sizeof s->tok_sha256, "%s",
                 json_string_value(json_object_get(mh, "tokenizer_sha256")) ?: "");
    }
    for (size_t t = 0; t < nt && rc == 0; t++) {
        sel_task *tk = tasks[t];
        progress(c, i < c->r->n_teams ? "team" : "reference", model_name(c, i), ": ", tk->name);
        c->done++;
        if (imported[t])
            continue;
        if (hit[t] && json_is_number(json_object_get(hit[t], "n"))) {
            json_t *sc = json_object_get(hit[t], "score");
            score[t] = json_is_number(sc) ? json_number_value(sc) : NAN;
            n[t] = (size_t)json_integer_value(json_object_get(hit[t], "n"));
            continue;
        }
        if (tk->is_text) {
            text_result tr;
            rc = score_text_file(&l, tk->spec_path, c->o->limit, 0, 0, &tr, err);
            score[t] = tr.bits_per_byte;
            n[t] = tr.docs;
        } else {
            mc_result mr;
            rc = score_mc_task(&l, tk->mc, c->o->limit, 0, &mr, err);
            score[t] = mr.acc;
            n[t] = mr.n;
        }
        if (rc == 0) {
            json_t *v = json_pack("{s:o, s:I}", "score", num(score[t]), "n", (json_int_t)n[t]);
            sel_cache_put(&c->cache, keys[t], v);
            json_decref(v);
        }
    }
    if (opened)
        lm_close(&l);
    for (size_t t = 0; hit && t < nt; t++)
        json_decref(hit[t]);
    json_decref(mh);
    free(hit), free(keys);
    return rc;
}

static int score_model(ctx *c, size_t i, dk_err *err)
{
    model_scores *s = &c->ms[i];
    return score_tasks(c, i, c->tasks, c->nt, s->score, s->n, s->imported, s, err);
}

/* Team i's chosen tasks, and its target on them: relative scores into rel (n_chosen). */
typedef struct {
    double *score, *target_score, *rel;
    size_t *n, *tn;
    unsigned char *imported, *timported;
    sel_task **tasks;
} chosen_scores;

static void chosen_free(chosen_scores *x)
{
    free(x->score), free(x->target_score), free(x->rel), free(x->n), free(x->tn), free(x->imported);
    free(x->timported), free(x->tasks);
}

static int score_chosen(ctx *c, size_t i, chosen_scores *x, dk_err *err)
{
    const sel_team *t = &c->r->teams[i];
    size_t m = t->n_chosen + 1;
    x->score = calloc(m, sizeof *x->score), x->target_score = calloc(m, sizeof *x->target_score);
    x->rel = calloc(m, sizeof *x->rel), x->n = calloc(m, sizeof *x->n), x->tn = calloc(m, sizeof *x->tn);
    x->imported = calloc(m, 1), x->timported = calloc(m, 1), x->tasks = calloc(m, sizeof *x->tasks);
    if (!x->score || !x->target_score || !x->rel || !x->n || !x->tn || !x->imported || !x->timported || !x->tasks)
        return dk_errf(err, "out of memory");
    for (size_t k = 0; k < t->n_chosen; k++)
        x->tasks[k] = &t->chosen[k];
    size_t tg = c->r->n_teams + t->target_known;
    if (score_tasks(c, i, x->tasks, t->n_chosen, x->score, x->n, x->imported, NULL, err) != 0 ||
        score_tasks(c, tg, x->tasks, t->n_chosen, x->target_score, x->tn, x->timported, NULL, err) != 0)
        return -1;
    for (size_t k = 0; k < t->n_chosen; k++)
        x->rel[k] = eval_relative(x->tasks[k]->is_text, x->score[k], x->target_score[k],
                                  chance_of(x->tasks[k], c->o->limit));
    return 0;
}

static double chance_of(const sel_task *t, size_t limit)
{
    if (t->is_text)
        return 0;
    if (t->import_only)
        return t->chance;
    const mc_task *mc = t->mc;
    size_t n = limit && limit < mc->n ? limit : mc->n;
    int *k = malloc((n ? n : 1) * sizeof *k);
    if (!k)
        return 0;
    for (size_t i = 0; i < n; i++)
        k[i] = mc->items[i].n_choices;
    double ch = eval_chance(k, n);
    free(k);
    return ch;
}

static json_t *darray(const double *x, int n)
{
    json_t *a = json_array();
    for (int i = 0; x && i < n; i++)
        json_array_append_new(a, num(x[i]));
    return a;
}

/* One lineage test, A = model a, B = model b: the evidence (without the names: a cached
 * test serves any round that names the models otherwise), computed or from the cache. */
static json_t *lineage_evidence(ctx *c, size_t a, size_t b, dk_err *err)
{
    char key[65], alpha[40];
    snprintf(alpha, sizeof alpha, "%.17g", c->r->alpha);
    sel_cache_key(key, "lineage", c->digest[a], c->digest[b], alpha, (const char *)NULL);
    json_t *ev = sel_cache_get(&c->cache, key);
    if (ev && json_is_object(ev) && json_object_get(ev, "derived"))
        return ev;
    json_decref(ev);
    lineage_opts lo;
    lineage_default_opts(&lo);
    lo.threads = c->o->threads;
    lo.alpha = c->r->alpha;
    lo.progress = 0;
    lo.cache = c->lc;
    lineage_report lr;
    if (lineage_run(&lr, model_path(c, a), model_path(c, b), &lo, err) != 0) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err->msg);
        dk_errf(err, "lineage of %s against %s: %s", model_name(c, b), model_name(c, a), m);
        return NULL;
    }
    int derived = isfinite(lr.log10_p) && lr.log10_p < log10(c->r->alpha);
    json_t *src = json_array(), *dups = json_array();
    for (int j = 0; lr.src && lr.map_source[0] && j < lr.Lb; j++)
        json_array_append_new(src, json_integer(lr.src[j]));
    for (int k = 0; k < lr.n_dup; k++)
        json_array_append_new(dups, json_pack("{s:i, s:i, s:o}", "layer", lr.dup[k][0], "copy", lr.dup[k][1],
                                              "log10_p", num(lr.dup_log10p[k])));
    ev = json_object();
    json_object_set_new(ev, "derived", json_boolean(derived));
    json_object_set_new(ev, "log10_p", num(lr.log10_p));
    json_object_set_new(ev, "kind", json_string(derived ? lr.kind : ""));
    json_object_set_new(ev, "layers_a", json_integer(lr.La));
    json_object_set_new(ev, "layers_b", json_integer(lr.Lb));
    json_object_set_new(ev, "map_source", json_string(lr.map_source));
    json_object_set_new(ev, "weight_log10_p", lr.w_ok ? num(lr.w_combined) : json_null());
    json_object_set_new(ev, "map_log10_p", num(lr.map_combined));
    json_object_set_new(ev, "activation_log10_p", lr.a_ok ? num(lr.a_combined) : json_null());
    json_object_set_new(ev, "b_layer_source", src);
    json_object_set_new(ev, "b_layer_log10_p", darray(lr.map_source[0] ? lr.layer_log10p : NULL, lr.Lb));
    json_object_set_new(ev, "b_duplicated_layers", dups);
    lineage_report_free(&lr);
    sel_cache_put(&c->cache, key, ev);
    return ev;
}

static int run_pair(ctx *c, size_t a, size_t b, pair_test *p, dk_err *err)
{
    progress(c, "lineage", model_name(c, a), " -> ", model_name(c, b));
    c->done++;
    json_t *core = lineage_evidence(c, a, b, err);
    if (!core)
        return -1;
    p->a = a, p->b = b;
    p->cleared = (size_t)-1;
    json_t *lp = json_object_get(core, "log10_p");
    p->log10_p = json_is_number(lp) ? json_number_value(lp) : NAN;
    p->derived = json_is_true(json_object_get(core, "derived"));
    p->evidence = json_object();
    json_object_set_new(p->evidence, "a", json_string(model_name(c, a)));
    json_object_set_new(p->evidence, "a_is", json_string(a < c->r->n_teams ? "team" : "known"));
    json_object_set_new(p->evidence, "b", json_string(model_name(c, b)));
    const char *k;
    json_t *v;
    json_object_foreach(core, k, v) json_object_set(p->evidence, k, v); /* in the order computed */
    json_decref(core);
    return 0;
}

typedef struct {
    size_t team;
    double total;
} rank_item;

/* Higher total first (NaN last), then by name (qsort_r's context: the round). */
static int by_total(const void *x, const void *y, void *round)
{
    const rank_item *a = x, *b = y;
    const sel_round *rd = round;
    int an = isnan(a->total), bn = isnan(b->total);
    if (an != bn)
        return an - bn;
    if (!an && a->total != b->total)
        return a->total > b->total ? -1 : 1;
    return strcmp(rd->teams[a->team].name, rd->teams[b->team].name);
}

/* s with every occurrence of from replaced by to (malloc'd; NULL when out of memory): the
 * report names files as the round file does, not as they were resolved. */
static char *replace_all(const char *s, const char *from, const char *to)
{
    size_t nf = strlen(from), nt = strlen(to), n = 0;
    for (const char *p = s; nf && (p = strstr(p, from)); p += nf)
        n++;
    char *out = malloc(strlen(s) + n * (nt > nf ? nt - nf : 0) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = s, *q; *p; p = q + nf) {
        q = nf ? strstr(p, from) : NULL;
        if (!q) {
            strcpy(o, p);
            return out;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, nt);
        o += nt;
    }
    *o = 0;
    return out;
}

/* The replay of K challenged segments of team i's run (audit/replay.h); NULL when no
 * replay was asked for. *failed: a segment did not match or the replay could not run
 * (a missing checkpoint or dataset: a ledger that cannot be replayed proves nothing). */
static json_t *ledger_replay_check(ctx *c, size_t i, int *failed, int *passed)
{
    const sel_team *t = &c->r->teams[i];
    int k = c->o->replay_segments > 0 ? c->o->replay_segments : c->r->replay_segments;
    const char *ch = c->o->challenge ? c->o->challenge : c->r->challenge;
    *failed = *passed = 0;
    if (k <= 0)
        return NULL;
    json_t *j = json_object();
    json_object_set_new(j, "segments_asked", json_integer(k));
    if (!t->data_path) {
        json_object_set_new(j, "status", json_string("fail"));
        json_object_set_new(j, "detail", json_string("no dataset given (teams[].data): the run cannot be replayed"));
        *failed = 1;
        return j;
    }
    uint8_t chb[512];
    size_t chn = 0;
    hex_decode(ch, chb, sizeof chb, &chn); /* checked when the round and the options were read */
    replay_opts ro = {.run = t->ledger_path, .data = t->data_path, .challenge = chb, .challenge_len = chn,
                      .segments = k, .threads = c->o->threads, .quiet = 1};
    replay_report rr;
    dk_err e;
    if (ledger_replay(&ro, &rr, &e) != 0) {
        char *d1 = replace_all(e.msg, t->ledger_path, t->ledger);
        char *d2 = d1 ? replace_all(d1, t->data_path, t->data) : NULL;
        json_object_set_new(j, "status", json_string("fail"));
        json_object_set_new(j, "detail", json_string(d2 ? d2 : e.msg));
        free(d1), free(d2);
        replay_report_free(&rr);
        *failed = 1;
        return j;
    }
    json_t *segs = json_array();
    for (int s = 0; s < rr.n; s++) {
        char *d1 = replace_all(rr.seg[s].detail, t->ledger_path, t->ledger);
        json_array_append_new(segs, json_pack("{s:I, s:I, s:b, s:s}", "from", (json_int_t)rr.seg[s].from, "to",
                                              (json_int_t)rr.seg[s].to, "ok", rr.seg[s].ok, "detail",
                                              d1 ? d1 : rr.seg[s].detail));
        free(d1);
    }
    json_object_set_new(j, "status", json_string(rr.failed ? "fail" : "pass"));
    json_object_set_new(j, "detail", json_string(rr.failed ? "a replayed segment differs from the record"
                                                           : "every replayed segment matched the record bit for bit"));
    json_object_set_new(j, "segments_in_run", json_integer(rr.n_segments));
    json_object_set_new(j, "steps_replayed", json_integer(rr.steps_replayed));
    json_object_set_new(j, "steps_total", json_integer(rr.steps_total));
    json_object_set_new(j, "replayed", segs);
    *failed = rr.failed != 0;
    *passed = rr.failed == 0 && rr.n > 0;
    replay_report_free(&rr);
    return j;
}

/* Team i's ledger: verify (with the team's dataset when given) and the replay. *failed:
 * the ledger does not hold; *proven: it holds, starts from random weights (no declared
 * base) and its replay passed: the run that made this model is proven, which attributes
 * a copied pair of teams (docs/select.md). */
static json_t *ledger_check_run(ctx *c, size_t i, int *failed, int *proven, dk_err *err);

/* ledger_check_run, from the cache when the run directory (ledger, checkpoints, model),
 * the team's model, its dataset, the replay's segments and challenge and the declared
 * base are what it ran on. */
static json_t *ledger_check(ctx *c, size_t i, int *failed, int *proven, dk_err *err)
{
    const sel_team *t = &c->r->teams[i];
    *failed = *proven = 0;
    if (!t->ledger)
        return json_null();
    char run[65], data[65] = "-", key[65], k[32];
    int segs = c->o->replay_segments > 0 ? c->o->replay_segments : c->r->replay_segments;
    const char *ch = segs > 0 ? (c->o->challenge ? c->o->challenge : c->r->challenge) : "";
    snprintf(k, sizeof k, "%d", segs);
    /* the names the report uses for the run, model and dataset are in the details */
    if (sel_tree_digest(&c->cache, t->ledger_path, 2, run, err) != 0 ||
        (t->data_path && sel_tree_digest(&c->cache, t->data_path, 2, data, err) != 0))
        return NULL;
    sel_cache_key(key, "ledger", run, c->digest[i], data, k, ch, t->declared_base ? "derived-ok" : "from-scratch",
                  t->ledger, t->model, t->data ? t->data : "", (const char *)NULL);
    json_t *v = sel_cache_get(&c->cache, key);
    json_t *j = v ? json_object_get(v, "ledger") : NULL;
    if (j && json_is_object(j)) {
        progress(c, "ledger verify", t->name, "", NULL);
        c->done += 1 + (segs > 0);
        *failed = json_is_true(json_object_get(v, "failed"));
        *proven = json_is_true(json_object_get(v, "proven"));
        json_incref(j);
        json_decref(v);
        return j;
    }
    json_decref(v);
    j = ledger_check_run(c, i, failed, proven, err);
    if (j) {
        v = json_pack("{s:O, s:b, s:b}", "ledger", j, "failed", *failed, "proven", *proven);
        sel_cache_put(&c->cache, key, v);
        json_decref(v);
    }
    return j;
}

static json_t *ledger_check_run(ctx *c, size_t i, int *failed, int *proven, dk_err *err)
{
    const sel_team *t = &c->r->teams[i];
    *failed = *proven = 0;
    progress(c, "ledger verify", t->name, "", NULL);
    c->done++;
    verify_opts vo = {.run = t->ledger_path, .model = t->model_path, .data = t->data_path,
                      .derived_ok = t->declared_base != NULL, .threads = c->o->threads};
    verify_report vr;
    int nf = ledger_verify(&vo, &vr);
    json_t *j = json_object(), *fails = json_array(), *all = json_array();
    for (int k = 0; k < vr.n; k++) {
        static const char *const st[] = {"pass", "fail", "skip"};
        char *d1 = replace_all(vr.c[k].detail, t->ledger_path, t->ledger);
        char *d2 = d1 ? replace_all(d1, t->model_path, t->model) : NULL;
        char *d3 = d2 && t->data_path ? replace_all(d2, t->data_path, t->data) : NULL;
        json_t *x = json_pack("{s:s, s:s, s:s}", "check", vr.c[k].name, "status", st[vr.c[k].st], "detail",
                              d3 ? d3 : d2 ? d2 : vr.c[k].detail);
        if (vr.c[k].st == CK_FAIL)
            json_array_append(fails, x);
        json_array_append_new(all, x);
        free(d1), free(d2), free(d3);
    }
    verify_report_free(&vr);
    int rfail = 0, rpass = 0;
    json_t *rj = NULL;
    if (t->ledger && (c->o->replay_segments > 0 || c->r->replay_segments > 0)) {
        progress(c, "ledger replay", t->name, "", NULL);
        c->done++;
        rj = ledger_replay_check(c, i, &rfail, &rpass);
        if (rfail)
            json_array_append_new(fails, json_pack("{s:s, s:s, s:O}", "check", "replay", "status", "fail", "detail",
                                                   json_object_get(rj, "detail")));
    }
    char lj[4200];
    snprintf(lj, sizeof lj, "%s/ledger.jsonl", t->ledger_path);
    uint8_t d[32];
    char hex[65] = "";
    if (sha256_file(lj, d, err) == 0)
        sha256_hex(d, hex);
    json_object_set_new(j, "run", json_string(t->ledger));
    json_object_set_new(j, "ledger_sha256", json_string(hex));
    json_object_set_new(j, "data", str_or_null(t->data));
    json_object_set_new(j, "verdict", json_string(nf == 0 && !rfail ? "holds" : "fails"));
    json_object_set_new(j, "derived_ok", json_boolean(t->declared_base != NULL));
    json_object_set_new(j, "proven_from_scratch", json_boolean(nf == 0 && !rfail && rpass && !t->declared_base));
    json_object_set_new(j, "failed_checks", fails);
    json_object_set_new(j, "checks", all);
    json_object_set_new(j, "replay", rj ? rj : json_null());
    *failed = nf != 0 || rfail;
    *proven = nf == 0 && !rfail && rpass && !t->declared_base;
    return j;
}

/* Part `part` of `parts` of the round's work into the cache, no report: the units (a
 * model's scores, a lineage test, a team's ledger checks), in a fixed order, are dealt
 * round-robin; a whole run afterwards, with every part's cache entries in
 * its cache, computes nothing (docs/select.md, "Splitting a round"). */
static int run_part(ctx *c, dk_err *err)
{
    const sel_round *r = c->r;
    size_t nm = r->n_teams + r->n_known, u = 0, parts = (size_t)c->o->parts, part = (size_t)c->o->part;
    int rc = 0;
    /* the progress counts this part's units only */
    for (size_t pass = 0; pass < 2 && rc == 0; pass++) {
        u = 0;
        c->units = 0;
        for (size_t i = 0; i < nm && rc == 0; i++)
            if (i < r->n_teams || r->known[i - r->n_teams].counts) {
                if (u++ % parts == part)
                    c->units += c->nt, rc = pass ? score_model(c, i, err) : 0;
            }
        for (size_t i = 0; i < r->n_teams && rc == 0; i++)
            for (size_t a = 0; a < r->n_known + r->n_teams && rc == 0; a++) {
                size_t A = a < r->n_known ? r->n_teams + a : a - r->n_known;
                if (a >= r->n_known && A >= i)
                    continue; /* team pairs once, the earlier team as A */
                if (u++ % parts != part)
                    continue;
                c->units++;
                if (pass) {
                    progress(c, "lineage", model_name(c, A), " -> ", model_name(c, i));
                    c->done++;
                    json_t *ev = lineage_evidence(c, A, i, err);
                    rc = ev ? 0 : -1;
                    json_decref(ev);
                }
            }
        for (size_t i = 0; i < r->n_teams && rc == 0; i++) {
            if (!r->teams[i].chosen || u++ % parts != part)
                continue;
            c->units += 2 * r->teams[i].n_chosen;
            if (pass) {
                chosen_scores x = {0};
                rc = score_chosen(c, i, &x, err);
                chosen_free(&x);
            }
        }
        for (size_t i = 0; i < r->n_teams && rc == 0; i++) {
            if (!r->teams[i].ledger || u++ % parts != part)
                continue;
            c->units += 1 + (c->o->replay_segments > 0 || r->replay_segments > 0);
            if (pass) {
                int f, pr;
                json_t *j = ledger_check(c, i, &f, &pr, err);
                rc = j ? 0 : -1;
                json_decref(j);
            }
        }
    }
    return rc;
}

int sel_run(const sel_round *r, const sel_opts *o, json_t **report, dk_err *err)
{
    ctx c = {.r = r, .o = o};
    size_t nm = r->n_teams + r->n_known;
    int rc = 0;
    *report = NULL;
    for (size_t g = 0; g < r->n_groups; g++)
        c.nt += r->groups[g].n_tasks;
    c.tasks = calloc(c.nt, sizeof *c.tasks);
    c.task_group = calloc(c.nt, sizeof *c.task_group);
    c.ms = calloc(nm, sizeof *c.ms);
    c.digest = calloc(nm + 1, sizeof *c.digest);
    sel_cache_init(&c.cache, o->cache_dir);
    /* a quarter of the memory for what the lineage tests share per model (a 7B model's:
     * ~1.7 GB of sampled rows and probe activations); beyond it, results are recomputed */
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    c.lc = lineage_cache_new(pages > 0 && psz > 0 ? (size_t)pages * (size_t)psz / 4 : (size_t)1 << 30);
    double *rel = calloc(r->n_teams * c.nt + 1, sizeof *rel), *refsc = calloc(r->n_known + 1, sizeof *refsc);
    size_t *best = calloc(c.nt + 1, sizeof *best), *refidx = calloc(r->n_known + 1, sizeof *refidx);
    double *grel = calloc(r->n_teams * r->n_groups + 1, sizeof *grel), *total = calloc(r->n_teams, sizeof *total);
    int *gmeets = calloc(r->n_teams * r->n_groups + 1, sizeof *gmeets), *gate_fail = calloc(r->n_teams, sizeof *gate_fail);
    size_t np_max = r->n_teams * r->n_known + r->n_teams * r->n_teams / 2 + 1, np = 0;
    pair_test *pairs = calloc(np_max, sizeof *pairs);
    json_t **ledgers = calloc(r->n_teams, sizeof *ledgers);
    int *proven = calloc(r->n_teams, sizeof *proven);
    rank_item *all = calloc(r->n_teams, sizeof *all), *elig = calloc(r->n_teams, sizeof *elig);
    chosen_scores *cs = calloc(r->n_teams + 1, sizeof *cs);
    if (!c.tasks || !c.task_group || !c.ms || !c.digest || !rel || !refsc || !best || !refidx || !grel || !total || !gmeets ||
        !gate_fail || !pairs || !ledgers || !proven || !all || !elig || !cs) {
        rc = dk_errf(err, "out of memory");
        goto out;
    }
    for (size_t g = 0, k = 0; g < r->n_groups; g++)
        for (size_t t = 0; t < r->groups[g].n_tasks; t++, k++)
            c.tasks[k] = &r->groups[g].tasks[t], c.task_group[k] = g;
    for (size_t i = 0; i < nm; i++) {
        c.ms[i].score = calloc(c.nt, sizeof *c.ms[i].score);
        c.ms[i].n = calloc(c.nt, sizeof *c.ms[i].n);
        c.ms[i].imported = calloc(c.nt + 1, 1);
        if (!c.ms[i].score || !c.ms[i].n || !c.ms[i].imported) {
            rc = dk_errf(err, "out of memory");
            goto out;
        }
    }

    /* 0. Every model's content digest: the cache's keys, and the report's record of what was
     * judged (known models that are not scored included). */
    for (size_t i = 0; i < nm && rc == 0; i++)
        rc = sel_model_digest(&c.cache, model_path(&c, i), c.digest[i], err);
    if (rc != 0)
        goto out;
    if (o->parts > 1) {
        rc = run_part(&c, err);
        goto out;
    }

    /* 1. Scores: every team and every counting reference on every task. */
    size_t ncount = 0, nscored = r->n_teams, nledgers = 0;
    for (size_t k = 0; k < r->n_known; k++)
        nscored += (size_t)r->known[k].counts;
    for (size_t i = 0; i < r->n_teams; i++)
        nledgers += (r->teams[i].ledger != NULL) * (1 + (o->replay_segments > 0 || r->replay_segments > 0));
    c.units = nscored * c.nt + r->n_teams * r->n_known + r->n_teams * (r->n_teams - 1) / 2 + nledgers;
    for (size_t i = 0; i < r->n_teams; i++)
        c.units += 2 * r->teams[i].n_chosen;
    c.t0 = now();
    for (size_t i = 0; i < nm && rc == 0; i++) {
        int counts = i < r->n_teams || r->known[i - r->n_teams].counts;
        if (counts)
            rc = score_model(&c, i, err);
        if (i >= r->n_teams && counts)
            refidx[ncount++] = i;
    }
    /* each team's chosen benchmarks against its stated target */
    for (size_t i = 0; i < r->n_teams && rc == 0; i++)
        if (r->teams[i].chosen)
            rc = score_chosen(&c, i, &cs[i], err);
    if (rc != 0)
        goto out;
    for (size_t t = 0; t < c.nt; t++) {
        int lower = c.tasks[t]->is_text;
        for (size_t k = 0; k < ncount; k++)
            refsc[k] = c.ms[refidx[k]].score[t];
        best[t] = refidx[eval_best_ref(refsc, ncount, lower)];
        double ch = chance_of(c.tasks[t], o->limit);
        for (size_t i = 0; i < r->n_teams; i++)
            rel[i * c.nt + t] = eval_relative(lower, c.ms[i].score[t], c.ms[best[t]].score[t], ch);
    }
    double max_total = 0;
    for (size_t g = 0; g < r->n_groups; g++)
        max_total += r->groups[g].points;
    for (size_t e = 0; e < r->n_ext; e++)
        max_total += r->ext[e].points;
    for (size_t i = 0; i < r->n_teams; i++) {
        double tot = 0;
        for (size_t g = 0, k = 0; g < r->n_groups; g++) {
            eval_verdict v = r->groups[g].team_chosen ? eval_verdict_of(cs[i].rel, r->teams[i].n_chosen)
                                                      : eval_verdict_of(rel + i * c.nt + k, r->groups[g].n_tasks);
            k += r->groups[g].n_tasks;
            grel[i * r->n_groups + g] = v.mean;
            gmeets[i * r->n_groups + g] = v.meets;
            tot += r->groups[g].points * (v.mean < 1 ? v.mean : 1); /* NaN stays NaN */
        }
        for (size_t e = 0; e < r->n_ext; e++)
            tot += r->ext[e].points * r->ext[e].score[i];
        total[i] = tot;
    }

    /* 2. The independence gate: every team against every known model, every pair of
     * teams once (the earlier in the round file as A), and each team's ledger. */
    for (size_t i = 0; i < r->n_teams && rc == 0; i++)
        for (size_t k = 0; k < r->n_known && rc == 0; k++)
            if ((rc = run_pair(&c, r->n_teams + k, i, &pairs[np], err)) == 0)
                np++;
    for (size_t i = 0; i < r->n_teams && rc == 0; i++)
        for (size_t j = i + 1; j < r->n_teams && rc == 0; j++)
            if ((rc = run_pair(&c, i, j, &pairs[np], err)) == 0)
                np++;
    for (size_t i = 0; i < r->n_teams && rc == 0; i++) {
        int lf;
        ledgers[i] = ledger_check(&c, i, &lf, &proven[i], err);
        gate_fail[i] = lf;
        if (!ledgers[i])
            rc = -1;
    }
    if (rc != 0)
        goto out;
    /* A derived pair fails both teams, unless exactly one of them proved its run from
     * random weights (ledger verified and replayed): that one is the original, the other
     * the copy. A pair with a known model fails the team whatever its ledger says. */
    for (size_t p = 0; p < np; p++) {
        if (!pairs[p].derived)
            continue;
        size_t a = pairs[p].a, b = pairs[p].b;
        int team_pair = a < r->n_teams;
        int clear_a = team_pair && proven[a] && !proven[b], clear_b = team_pair && proven[b] && !proven[a];
        pairs[p].cleared = clear_a ? a : clear_b ? b : (size_t)-1;
        if (!clear_b)
            gate_fail[b] = 1;
        if (team_pair && !clear_a)
            gate_fail[a] = 1;
        json_object_set_new(pairs[p].evidence, "attributed_to",
                            !team_pair ? json_string(model_name(&c, b))
                            : clear_a  ? json_string(model_name(&c, b))
                            : clear_b  ? json_string(model_name(&c, a))
                                       : json_null());
        json_object_set_new(pairs[p].evidence, "attribution",
                            json_string(!team_pair           ? "a team derived from a known model"
                                        : clear_a || clear_b ? "the other team's run is proven from scratch "
                                                               "(ledger verified and replayed)"
                                        : proven[a] && proven[b]
                                            ? "both runs are proven from scratch: the evaluator must look"
                                            : "not attributed: neither run is proven from scratch (ledger and "
                                              "replay), so both teams fail"));
    }

    /* 3. Ranking and the stages. */
    size_t ne = 0;
    for (size_t i = 0; i < r->n_teams; i++) {
        all[i] = (rank_item){i, total[i]};
        if (!gate_fail[i])
            elig[ne++] = all[i];
    }
    qsort_r(all, r->n_teams, sizeof *all, by_total, (void *)r);
    qsort_r(elig, ne, sizeof *elig, by_total, (void *)r);
    int *score_rank = calloc(r->n_teams, sizeof *score_rank), *rank = calloc(r->n_teams, sizeof *rank);
    int *cut_stage = calloc(r->n_teams, sizeof *cut_stage), *alive = calloc(r->n_teams, sizeof *alive);
    json_t **why = calloc(r->n_teams, sizeof *why), *jstages = json_array();
    if (!score_rank || !rank || !cut_stage || !alive || !why) {
        free(score_rank), free(rank), free(cut_stage), free(alive), free(why);
        json_decref(jstages);
        rc = dk_errf(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < r->n_teams; i++) {
        score_rank[all[i].team] = (int)i + 1;
        rank[i] = 0;
        why[i] = json_array();
    }
    for (size_t i = 0; i < ne; i++)
        rank[elig[i].team] = (int)i + 1, alive[elig[i].team] = 1;
    for (size_t s = 0; s < r->n_stages; s++) {
        const sel_stage *st = &r->stages[s];
        int forced = 0, cand = 0;
        json_t *adv = json_array(), *cut = json_array(), *ovs = json_object();
        for (size_t i = 0; i < r->n_teams; i++) {
            if (st->override[i])
                json_object_set_new(ovs, r->teams[i].name,
                                    json_string(st->override[i] == SEL_OVERRIDE_ADVANCE ? "advance" : "cut"));
            if (alive[i]) {
                cand++;
                forced += st->override[i] == SEL_OVERRIDE_ADVANCE;
            } else if (st->override[i]) {
                json_array_append_new(why[i], json_pack("{s:i, s:s, s:s}", "stage", (int)s + 1, "override",
                                                        st->override[i] == SEL_OVERRIDE_ADVANCE ? "advance" : "cut",
                                                        "effect", "none: the team was already cut"));
            }
        }
        int slots = st->keep - forced > 0 ? st->keep - forced : 0;
        for (size_t k = 0; k < ne; k++) {
            size_t i = elig[k].team;
            if (!alive[i])
                continue;
            int keep_it;
            if (st->override[i] == SEL_OVERRIDE_ADVANCE)
                keep_it = 1;
            else if (st->override[i] == SEL_OVERRIDE_CUT)
                keep_it = 0;
            else if (slots > 0)
                keep_it = 1, slots--;
            else
                keep_it = 0;
            if (st->override[i])
                json_array_append_new(why[i], json_pack("{s:i, s:s, s:s}", "stage", (int)s + 1, "override",
                                                        keep_it ? "advance" : "cut", "effect",
                                                        keep_it ? "advanced by override" : "cut by override"));
            json_array_append_new(keep_it ? adv : cut, json_string(r->teams[i].name));
            if (!keep_it)
                alive[i] = 0, cut_stage[i] = (int)s + 1;
        }
        json_array_append_new(jstages, json_pack("{s:i, s:i, s:i, s:o, s:o, s:o}", "stage", (int)s + 1, "keep",
                                                 st->keep, "candidates", cand, "overrides", ovs, "advanced", adv,
                                                 "cut", cut));
    }

    /* 4. The report. */
    json_t *out = json_object(), *jt = json_array(), *jrefs = json_array(), *jknown = json_array(),
           *jtasks = json_array(), *jgroups = json_array(), *jext = json_array(), *jpairs = json_array(),
           *jrank = json_array(), *jinputs = json_array();
    json_object_set_new(out, "dokja_version", json_string(DOKJA_VERSION));
    json_object_set_new(out, "template_version", json_string(EVAL_TEMPLATE_VERSION));
    json_object_set_new(out, "evaluation_date", json_string(r->date));
    json_object_set_new(out, "reference_window_months", json_integer(r->window_months));
    json_object_set_new(out, "window_start", json_string(r->window_start));
    json_object_set_new(out, "limit", json_integer((json_int_t)o->limit));
    json_object_set_new(out, "formula", json_string("total = sum over groups of points x min(group relative, 1) "
                                                    "+ sum over external parts of points x score"));
    json_object_set_new(out, "max_total", json_real(max_total));
    json_object_set_new(out, "threshold", json_real(EVAL_THRESHOLD));
    json_object_set_new(out, "threshold_total", json_real(EVAL_THRESHOLD * max_total));
    json_object_set_new(out, "relative_cap", json_real(EVAL_REL_CAP));
    json_object_set_new(out, "lineage_alpha", json_real(r->alpha));
    json_object_set_new(out, "tie_break", json_string("equal totals: team name, byte order"));
    json_array_append_new(jinputs, json_pack("{s:s, s:s, s:s}", "what", "round", "name", "round file", "sha256",
                                             r->sha256));
    for (size_t k = 0; k < r->n_known; k++) {
        const sel_known *kn = &r->known[k];
        const model_scores *s = &c.ms[r->n_teams + k];
        if (kn->is_ref)
            json_array_append_new(jrefs, json_pack("{s:s, s:s, s:s, s:b, s:o, s:o}", "name", kn->name, "model",
                                                   kn->model, "released", kn->released, "counts", kn->counts,
                                                   "sha256", kn->counts && s->sha256[0] ? json_string(s->sha256) : json_null(),
                                                   "tokenizer_sha256",
                                                   kn->counts && s->tok_sha256[0] ? json_string(s->tok_sha256)
                                                                                  : json_null()));
        json_array_append_new(jknown, json_pack("{s:s, s:s, s:b, s:s}", "name", kn->name, "model", kn->model,
                                                "reference", kn->is_ref, "files_sha256", c.digest[r->n_teams + k]));
        json_array_append_new(jinputs, json_pack("{s:s, s:s, s:s}", "what", "known model files", "name", kn->name,
                                                 "sha256", c.digest[r->n_teams + k]));
        if (kn->counts && s->sha256[0])
            json_array_append_new(jinputs, json_pack("{s:s, s:s, s:s}", "what", "reference model", "name", kn->name,
                                                     "sha256", s->sha256));
        if (kn->counts && kn->lm_eval)
            json_array_append_new(jinputs, json_pack("{s:s, s:s, s:s}", "what", "lm-evaluation-harness results",
                                                     "name", kn->lm_eval, "sha256", kn->lm_eval_sha256));
    }
    for (size_t t = 0; t < c.nt; t++) {
        const sel_task *tk = c.tasks[t];
        json_t *rs = json_object();
        for (size_t k = 0; k < ncount; k++)
            json_object_set_new(rs, model_name(&c, refidx[k]), num(c.ms[refidx[k]].score[t]));
        json_t *imported = json_array();
        for (size_t m = 0; m < nm; m++)
            if (c.ms[m].imported[t])
                json_array_append_new(imported, json_string(model_name(&c, m)));
        json_array_append_new(jtasks, json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:I, s:o, s:s, s:o, s:o}",
                                                "group", r->groups[c.task_group[t]].name, "task", tk->name, "spec",
                                                str_or_null(tk->spec), "kind",
                                                tk->is_text ? "text" : "multiple_choice", "metric", tk->metric,
                                                "sha256", str_or_null(tk->sha256[0] ? tk->sha256 : NULL), "lm_eval",
                                                str_or_null(tk->lm_eval), "imported", imported, "n",
                                                (json_int_t)c.ms[0].n[t], "chance", num(chance_of(tk, o->limit)),
                                                "best_reference", model_name(&c, best[t]), "best_reference_score",
                                                num(c.ms[best[t]].score[t]), "reference_scores", rs));
        if (tk->spec)
            json_array_append_new(jinputs, json_pack("{s:s, s:s, s:s}", "what", "task", "name", tk->spec, "sha256",
                                                     tk->sha256));
    }
    for (size_t g = 0; g < r->n_groups; g++) {
        json_t *names = json_array();
        for (size_t t = 0; t < r->groups[g].n_tasks; t++)
            json_array_append_new(names, json_string(r->groups[g].tasks[t].spec ? r->groups[g].tasks[t].spec
                                                                                 : r->groups[g].tasks[t].lm_eval));
        json_array_append_new(jgroups, json_pack("{s:s, s:f, s:o}", "name", r->groups[g].name, "points",
                                                 r->groups[g].points, "tasks", names));
    }
    for (size_t e = 0; e < r->n_ext; e++) {
        json_array_append_new(jext, json_pack("{s:s, s:f, s:s, s:s}", "name", r->ext[e].name, "points",
                                              r->ext[e].points, "csv", r->ext[e].csv, "sha256", r->ext[e].sha256));
        json_array_append_new(jinputs, json_pack("{s:s, s:s, s:s}", "what", "external scores", "name", r->ext[e].csv,
                                                 "sha256", r->ext[e].sha256));
    }
    for (size_t p = 0; p < np; p++) {
        json_array_append(jpairs, pairs[p].evidence);
    }
    /* teams: the ranking first (those that passed the gate, by rank), then the gate's
     * failures by their score rank */
    rank_item *order = calloc(r->n_teams, sizeof *order);
    size_t no = 0;
    for (size_t k = 0; order && k < ne; k++)
        order[no++] = elig[k];
    for (size_t k = 0; order && k < r->n_teams; k++)
        if (gate_fail[all[k].team])
            order[no++] = all[k];
    for (size_t k = 0; k < no; k++) {
        size_t i = order[k].team;
        const sel_team *tm = &r->teams[i];
        json_t *tj = json_object(), *gj = json_array(), *ej = json_array(), *tt = json_array(), *ev = json_array();
        json_object_set_new(tj, "name", json_string(tm->name));
        json_object_set_new(tj, "model", json_string(tm->model));
        json_object_set_new(tj, "sha256", str_or_null(c.ms[i].sha256[0] ? c.ms[i].sha256 : NULL));
        json_object_set_new(tj, "tokenizer_sha256", str_or_null(c.ms[i].tok_sha256[0] ? c.ms[i].tok_sha256 : NULL));
        json_object_set_new(tj, "files_sha256", json_string(c.digest[i]));
        json_object_set_new(tj, "declared_base", str_or_null(tm->declared_base));
        json_object_set_new(tj, "total", num(total[i]));
        json_object_set_new(tj, "score_rank", json_integer(score_rank[i]));
        json_object_set_new(tj, "rank", rank[i] ? json_integer(rank[i]) : json_null());
        const char *status = gate_fail[i] ? "cut_at_gate" : cut_stage[i] ? "cut_by_score" : "advanced";
        for (size_t w = 0; !gate_fail[i] && cut_stage[i] && w < json_array_size(why[i]); w++) {
            json_t *x = json_array_get(why[i], w);
            if (json_integer_value(json_object_get(x, "stage")) == cut_stage[i] &&
                strcmp(json_string_value(json_object_get(x, "override")), "cut") == 0)
                status = "cut_by_override";
        }
        json_object_set_new(tj, "status", json_string(status));
        json_object_set_new(tj, "cut_at_stage", cut_stage[i] ? json_integer(cut_stage[i]) : json_null());
        json_object_set_new(tj, "stages_passed",
                            json_integer(gate_fail[i] ? 0 : cut_stage[i] ? cut_stage[i] - 1 : (int)r->n_stages));
        json_object_set_new(tj, "would_have_advanced_on_score",
                            json_boolean(gate_fail[i] && score_rank[i] <= r->stages[0].keep));
        json_object_set_new(tj, "overrides", why[i]);
        why[i] = NULL;
        for (size_t g = 0; g < r->n_groups; g++) {
            double gr = grel[i * r->n_groups + g];
            json_array_append_new(gj, json_pack("{s:s, s:o, s:s, s:o}", "group", r->groups[g].name, "relative",
                                                num(gr), "verdict",
                                                isnan(gr) ? "undefined" : gmeets[i * r->n_groups + g] ? "meets" : "fails",
                                                "points", num(r->groups[g].points * (gr < 1 ? gr : 1))));
        }
        for (size_t e = 0; e < r->n_ext; e++)
            json_array_append_new(ej, json_pack("{s:s, s:f, s:f}", "name", r->ext[e].name, "score",
                                                r->ext[e].score[i], "points", r->ext[e].points * r->ext[e].score[i]));
        for (size_t t = 0; t < c.nt; t++)
            json_array_append_new(tt, json_pack("{s:s, s:s, s:o, s:o, s:s}", "group", r->groups[c.task_group[t]].name,
                                                "task", c.tasks[t]->name, "score", num(c.ms[i].score[t]),
                                                "relative", num(rel[i * c.nt + t]), "source",
                                                c.ms[i].imported[t] ? "lm-evaluation-harness" : "dokja"));
        for (size_t g = 0; g < r->n_groups; g++)
            for (size_t q = 0; r->groups[g].team_chosen && q < tm->n_chosen; q++) {
                const sel_task *ck = &tm->chosen[q];
                json_array_append_new(tt, json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:s, s:o, s:o, s:I}", "group",
                                                    r->groups[g].name, "task", ck->name, "score", num(cs[i].score[q]),
                                                    "relative", num(cs[i].rel[q]), "source",
                                                    cs[i].imported[q] ? "lm-evaluation-harness" : "dokja", "spec",
                                                    str_or_null(ck->spec), "target", tm->target, "target_score",
                                                    num(cs[i].target_score[q]), "sha256",
                                                    str_or_null(ck->sha256[0] ? ck->sha256 : NULL), "n",
                                                    (json_int_t)cs[i].n[q]));
            }
        json_object_set_new(tj, "groups", gj);
        json_object_set_new(tj, "external", ej);
        json_object_set_new(tj, "tasks", tt);
        for (size_t p = 0; p < np; p++) {
            if (!pairs[p].derived || (pairs[p].a != i && pairs[p].b != i))
                continue;
            size_t other = pairs[p].a == i ? pairs[p].b : pairs[p].a;
            json_t *x = json_object();
            json_object_set_new(x, "other", json_string(model_name(&c, other)));
            json_object_set_new(x, "other_is", json_string(other < r->n_teams ? "team" : "known"));
            json_object_set_new(x, "declared", json_boolean(tm->declared_base &&
                                                            strcmp(tm->declared_base, model_name(&c, other)) == 0));
            json_object_set_new(x, "log10_p", num(pairs[p].log10_p));
            json_object_set_new(x, "kind", json_incref(json_object_get(pairs[p].evidence, "kind")));
            json_object_set_new(x, "direction", json_string(pairs[p].b == i ? "this team is B" : "this team is A"));
            json_object_set_new(x, "cleared", json_boolean(pairs[p].cleared == i));
            json_object_set_new(x, "b_layer_source", json_incref(json_object_get(pairs[p].evidence, "b_layer_source")));
            json_array_append_new(ev, x);
        }
        json_object_set_new(tj, "gate", json_pack("{s:b, s:o, s:O}", "passed", !gate_fail[i], "derived_from", ev,
                                                  "ledger", ledgers[i] ? ledgers[i] : json_null()));
        json_array_append_new(jt, tj);
        if (!gate_fail[i])
            json_array_append_new(jrank, json_string(tm->name));
        if (c.ms[i].sha256[0])
            json_array_append_new(jinputs, json_pack("{s:s, s:s, s:s}", "what", "team model", "name", tm->name,
                                                     "sha256", c.ms[i].sha256));
        if (tm->lm_eval)
            json_array_append_new(jinputs, json_pack("{s:s, s:s, s:s}", "what", "lm-evaluation-harness results",
                                                     "name", tm->lm_eval, "sha256", tm->lm_eval_sha256));
        json_array_append_new(jinputs, json_pack("{s:s, s:s, s:s}", "what", "team model files", "name", tm->name,
                                                 "sha256", c.digest[i]));
        if (ledgers[i] && json_is_object(ledgers[i]))
            json_array_append_new(jinputs, json_pack("{s:s, s:s, s:O}", "what", "team ledger", "name", tm->name,
                                                     "sha256", json_object_get(ledgers[i], "ledger_sha256")));
    }
    free(order);
    json_object_set_new(out, "references", jrefs);
    json_object_set_new(out, "known_models", jknown);
    json_object_set_new(out, "groups", jgroups);
    json_object_set_new(out, "external", jext);
    json_object_set_new(out, "tasks", jtasks);
    json_object_set_new(out, "ranking", jrank);
    json_object_set_new(out, "stages", jstages);
    json_object_set_new(out, "teams", jt);
    json_object_set_new(out, "lineage", jpairs);
    json_object_set_new(out, "inputs", jinputs);
    *report = out;
    for (size_t i = 0; i < r->n_teams; i++)
        json_decref(why[i]);
    free(score_rank), free(rank), free(cut_stage), free(alive), free(why);
out:
    for (size_t i = 0; c.ms && i < nm; i++)
        free(c.ms[i].score), free(c.ms[i].n), free(c.ms[i].imported);
    for (size_t p = 0; pairs && p < np; p++)
        json_decref(pairs[p].evidence);
    for (size_t i = 0; ledgers && i < r->n_teams; i++)
        json_decref(ledgers[i]);
    if (o->progress && c.cache.dir[0]) {
        fputs("select: cache ", stderr);
        dk_put_safe(stderr, c.cache.dir, 500);
        fprintf(stderr, ": %zu hits, %zu misses\n", c.cache.hits, c.cache.misses);
    }
    free(c.digest);
    lineage_cache_free(c.lc);
    free(c.tasks), free(c.task_group), free(c.ms), free(rel), free(refsc), free(best), free(refidx), free(grel);
    for (size_t i = 0; cs && i < r->n_teams; i++)
        chosen_free(&cs[i]);
    free(cs);
    free(total), free(gmeets), free(gate_fail), free(pairs), free(ledgers), free(proven), free(all), free(elig);
    return rc;
}
