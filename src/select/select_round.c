/* select_round.c: reading and validating a round file (select.h; docs/select.md). Every
 * check that needs no model runs here, so a bad round fails before any work and before
 * anything is written. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/task.h"
#include "select/select.h"
#include "util/hash.h"

/* A path of the round file, resolved against its directory. */
static char *resolve(const sel_round *r, const char *p)
{
    char *s = NULL;
    if (p[0] == '/')
        return strdup(p);
    if (asprintf(&s, "%s/%s", r->dir, p) < 0)
        return NULL;
    return s;
}

static int days_in(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

/* Strict YYYY-MM-DD with a real day; 0 or -1. */
static int parse_date(const char *s, int *y, int *m, int *d)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    *y = atoi(s), *m = atoi(s + 5), *d = atoi(s + 8);
    if (*y < 1900 || *m < 1 || *m > 12 || *d < 1 || *d > days_in(*y, *m))
        return -1;
    return 0;
}

/* Rejects keys of o not in allowed (NULL-terminated): a typo must not pass silently. */
static int check_keys(const sel_round *r, json_t *o, const char *where, const char *const *allowed, dk_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        int ok = 0;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(k, allowed[i]) == 0;
        if (!ok)
            return dk_errf(err, "%s: %s%s%s: unknown key", r->path, where, where[0] ? "." : "", k);
    }
    return 0;
}

/* A string member: required, or NULL when absent and optional. */
static int get_str(const sel_round *r, json_t *o, const char *where, const char *key, int required,
                   const char **out, dk_err *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v) {
        if (required)
            return dk_errf(err, "%s: %s%s%s: missing", r->path, where, where[0] ? "." : "", key);
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0)
        return dk_errf(err, "%s: %s%s%s: expected a non-empty string", r->path, where, where[0] ? "." : "", key);
    *out = json_string_value(v);
    return 0;
}

static int get_num(const sel_round *r, json_t *o, const char *where, const char *key, double lo, double hi,
                   double *out, dk_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return dk_errf(err, "%s: %s%s%s: missing", r->path, where, where[0] ? "." : "", key);
    if (!json_is_number(v))
        return dk_errf(err, "%s: %s.%s: expected a number", r->path, where, key);
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi))
        return dk_errf(err, "%s: %s.%s: %g is outside [%g, %g]", r->path, where, key, x, lo, hi);
    *out = x;
    return 0;
}

static int get_array(const sel_round *r, json_t *o, const char *key, int required, json_t **out, dk_err *err)
{
    json_t *v = json_object_get(o, key);
    *out = v;
    if (!v && !required)
        return 0;
    if (!v)
        return dk_errf(err, "%s: %s: missing", r->path, key);
    if (!json_is_array(v))
        return dk_errf(err, "%s: %s: expected an array", r->path, key);
    return 0;
}

static int model_exists(const sel_round *r, const char *where, const char *given, const char *path, dk_err *err)
{
    if (access(path, F_OK) != 0)
        return dk_errf(err, "%s: %s: %s: %s", r->path, where, given, strerror(errno));
    return 0;
}

/* Every name in the round (teams, references, known models) is unique: the report
 * names models by them. */
static int name_taken(const sel_round *r, const char *name)
{
    for (size_t i = 0; i < r->n_teams; i++)
        if (strcmp(r->teams[i].name, name) == 0)
            return 1;
    for (size_t i = 0; i < r->n_known; i++)
        if (strcmp(r->known[i].name, name) == 0)
            return 1;
    return 0;
}

/* Prefixes err's message with "ROUND: WHERE: ". */
static int wrap(const sel_round *r, const char *where, dk_err *err)
{
    char m[sizeof err->msg];
    snprintf(m, sizeof m, "%s", err->msg);
    return dk_errf(err, "%s: %s: %s", r->path, where, m);
}

int sel_lm_eval_score(const json_t *results, const char *task, const char *metric, double *score, size_t *n)
{
    const json_t *t = json_object_get(json_object_get(results, "results"), task);
    char k[64];
    snprintf(k, sizeof k, "%s,none", metric);
    const json_t *v = json_object_get(t, k);
    if (!v)
        v = json_object_get(t, metric);
    if (!v || !json_is_number(v) || !isfinite(json_number_value(v)))
        return -1;
    *score = json_number_value(v);
    const json_t *e = json_object_get(json_object_get(json_object_get(results, "n-samples"), task), "effective");
    *n = json_is_integer(e) && json_integer_value(e) > 0 ? (size_t)json_integer_value(e) : 0;
    return 0;
}

/* The optional "lm_eval_results" of a team or a reference: a results JSON of
 * lm-evaluation-harness (an object with a "results" object), read and hashed now. */
static int load_lm_eval(sel_round *r, json_t *o, const char *where, char **file, char **path, char sha[65],
                        json_t **json, dk_err *err)
{
    const char *given;
    if (get_str(r, o, where, "lm_eval_results", 0, &given, err) != 0)
        return -1;
    if (!given)
        return 0;
    *file = strdup(given);
    *path = resolve(r, given);
    if (!*file || !*path)
        return dk_errf(err, "out of memory");
    uint8_t d[32];
    if (sha256_file(*path, d, err) != 0)
        return wrap(r, where, err);
    sha256_hex(d, sha);
    json_error_t je;
    *json = json_load_file(*path, JSON_REJECT_DUPLICATES, &je);
    if (!*json)
        return dk_errf(err, "%s:%d: %s", *path, je.line, je.text);
    if (!json_is_object(json_object_get(*json, "results")))
        return dk_errf(err, "%s: not lm-evaluation-harness results (no \"results\" object)", *path);
    return 0;
}

static int load_task(sel_round *r, sel_task *t, const char *spec, const char *where, dk_err *err);
static int load_task_object(sel_round *r, sel_task *t, json_t *o, const char *where, dk_err *err);

/* A task of a list: a spec string or an object (load_task_object). */
static int load_task_any(sel_round *r, sel_task *t, json_t *v, const char *where, dk_err *err)
{
    if (json_is_string(v))
        return load_task(r, t, json_string_value(v), where, err);
    if (!json_is_object(v))
        return dk_errf(err, "%s: %s: expected a task spec (a string) or an object", r->path, where);
    return load_task_object(r, t, v, where, err);
}

/* A team's "chosen": {"target": MODEL NAME, "tasks": [...]}: the target is resolved
 * when the known models are read (check_chosen). */
static int load_chosen(sel_round *r, sel_team *tm, json_t *ch, const char *where, dk_err *err)
{
    static const char *const keys[] = {"target", "tasks", NULL};
    if (!ch)
        return 0;
    char w[96];
    snprintf(w, sizeof w, "%s.chosen", where);
    const char *target;
    if (!json_is_object(ch))
        return dk_errf(err, "%s: %s: expected an object", r->path, w);
    if (check_keys(r, ch, w, keys, err) != 0 || get_str(r, ch, w, "target", 1, &target, err) != 0)
        return -1;
    json_t *tasks = json_object_get(ch, "tasks"), *v;
    if (!json_is_array(tasks) || json_array_size(tasks) == 0)
        return dk_errf(err, "%s: %s.tasks: expected a non-empty array of task specs", r->path, w);
    tm->target = strdup(target);
    tm->chosen = calloc(json_array_size(tasks), sizeof *tm->chosen);
    if (!tm->target || !tm->chosen)
        return dk_errf(err, "out of memory");
    size_t j;
    json_array_foreach(tasks, j, v) {
        char w2[128];
        snprintf(w2, sizeof w2, "%s.tasks[%zu]", w, j);
        if (load_task_any(r, &tm->chosen[tm->n_chosen++], v, w2, err) != 0)
            return -1;
        if (tm->chosen[tm->n_chosen - 1].import_only)
            return dk_errf(err, "%s: %s: a chosen task is scored here (give \"spec\")", r->path, w2);
    }
    return 0;
}

static int load_teams(sel_round *r, json_t *root, dk_err *err)
{
    static const char *const keys[] = {"name", "model", "ledger", "declared_base", "data",
                                       "lm_eval_results", "chosen", NULL};
    json_t *a;
    if (get_array(r, root, "teams", 1, &a, err) != 0)
        return -1;
    if (json_array_size(a) == 0)
        return dk_errf(err, "%s: teams: no teams", r->path);
    r->teams = calloc(json_array_size(a), sizeof *r->teams);
    if (!r->teams)
        return dk_errf(err, "out of memory");
    size_t i;
    json_t *t;
    json_array_foreach(a, i, t) {
        char where[64], w2[96];
        snprintf(where, sizeof where, "teams[%zu]", i);
        const char *name, *model, *ledger, *base, *data;
        if (!json_is_object(t))
            return dk_errf(err, "%s: %s: expected an object", r->path, where);
        if (check_keys(r, t, where, keys, err) != 0 || get_str(r, t, where, "name", 1, &name, err) != 0 ||
            get_str(r, t, where, "model", 1, &model, err) != 0 || get_str(r, t, where, "ledger", 0, &ledger, err) != 0 ||
            get_str(r, t, where, "declared_base", 0, &base, err) != 0 ||
            get_str(r, t, where, "data", 0, &data, err) != 0)
            return -1;
        if (name_taken(r, name))
            return dk_errf(err, "%s: %s.name: duplicate team name '%s'", r->path, where, name);
        sel_team *tm = &r->teams[r->n_teams++];
        tm->name = strdup(name);
        tm->model = strdup(model);
        tm->model_path = resolve(r, model);
        tm->ledger = ledger ? strdup(ledger) : NULL;
        tm->ledger_path = ledger ? resolve(r, ledger) : NULL;
        tm->declared_base = base ? strdup(base) : NULL;
        tm->data = data ? strdup(data) : NULL;
        tm->data_path = data ? resolve(r, data) : NULL;
        if (!tm->name || !tm->model || !tm->model_path || (ledger && (!tm->ledger || !tm->ledger_path)) ||
            (base && !tm->declared_base) || (data && (!tm->data || !tm->data_path)))
            return dk_errf(err, "out of memory");
        if (load_lm_eval(r, t, where, &tm->lm_eval, &tm->lm_eval_path, tm->lm_eval_sha256, &tm->lm_eval_json,
                         err) != 0 ||
            load_chosen(r, tm, json_object_get(t, "chosen"), where, err) != 0)
            return -1;
        if (data && !ledger)
            return dk_errf(err, "%s: %s.data: a dataset is only used to check a ledger; give \"ledger\" too", r->path,
                           where);
        if (data) {
            snprintf(w2, sizeof w2, "%s.data", where);
            if (model_exists(r, w2, data, tm->data_path, err) != 0)
                return -1;
        }
        snprintf(w2, sizeof w2, "%s.model", where);
        if (model_exists(r, w2, model, tm->model_path, err) != 0)
            return -1;
        if (ledger) {
            char lj[4200];
            snprintf(w2, sizeof w2, "%s.ledger", where);
            snprintf(lj, sizeof lj, "%s/ledger.jsonl", tm->ledger_path);
            if (model_exists(r, w2, ledger, tm->ledger_path, err) != 0)
                return -1;
            if (access(lj, F_OK) != 0)
                return dk_errf(err, "%s: %s: %s: no ledger.jsonl in this run directory", r->path, w2, ledger);
        }
    }
    return 0;
}

static int load_known(sel_round *r, json_t *root, dk_err *err)
{
    static const char *const rkeys[] = {"name", "model", "released", "lm_eval_results", NULL},
                             *const kkeys[] = {"name", "model", NULL};
    json_t *refs, *known;
    if (get_array(r, root, "references", 1, &refs, err) != 0 || get_array(r, root, "known_models", 0, &known, err) != 0)
        return -1;
    if (json_array_size(refs) == 0)
        return dk_errf(err, "%s: references: no reference models", r->path);
    r->known = calloc(json_array_size(refs) + json_array_size(known), sizeof *r->known);
    if (!r->known)
        return dk_errf(err, "out of memory");
    for (int pass = 0; pass < 2; pass++) {
        json_t *a = pass == 0 ? refs : known, *t;
        size_t i;
        json_array_foreach(a, i, t) {
            char where[64], w2[96];
            snprintf(where, sizeof where, "%s[%zu]", pass == 0 ? "references" : "known_models", i);
            const char *name, *model, *rel = NULL;
            if (!json_is_object(t))
                return dk_errf(err, "%s: %s: expected an object", r->path, where);
            if (check_keys(r, t, where, pass == 0 ? rkeys : kkeys, err) != 0 ||
                get_str(r, t, where, "name", 1, &name, err) != 0 || get_str(r, t, where, "model", 1, &model, err) != 0 ||
                (pass == 0 && get_str(r, t, where, "released", 1, &rel, err) != 0))
                return -1;
            if (name_taken(r, name))
                return dk_errf(err, "%s: %s.name: duplicate name '%s' (teams, references and known models share "
                                    "one namespace)", r->path, where, name);
            sel_known *k = &r->known[r->n_known++];
            k->name = strdup(name);
            k->model = strdup(model);
            k->model_path = resolve(r, model);
            if (!k->name || !k->model || !k->model_path)
                return dk_errf(err, "out of memory");
            snprintf(w2, sizeof w2, "%s.model", where);
            if (model_exists(r, w2, model, k->model_path, err) != 0)
                return -1;
            if (pass == 0 && load_lm_eval(r, t, where, &k->lm_eval, &k->lm_eval_path, k->lm_eval_sha256,
                                          &k->lm_eval_json, err) != 0)
                return -1;
            if (pass == 0) {
                int y, m, d;
                if (parse_date(rel, &y, &m, &d) != 0)
                    return dk_errf(err, "%s: %s.released: '%s' is not a date YYYY-MM-DD", r->path, where, rel);
                snprintf(k->released, sizeof k->released, "%s", rel);
                k->is_ref = 1;
                k->counts = strcmp(rel, r->window_start) >= 0 && strcmp(rel, r->date) <= 0;
                r->n_refs++;
            }
        }
    }
    size_t counting = 0;
    for (size_t i = 0; i < r->n_refs; i++)
        counting += (size_t)r->known[i].counts;
    if (counting == 0)
        return dk_errf(err, "%s: references: none was released in the %d months before %s (from %s)", r->path,
                       r->window_months, r->date, r->window_start);
    return 0;
}

/* Resolves the path(s) inside a task spec as `dokja eval --task` takes it. */

static int load_task(sel_round *r, sel_task *t, const char *spec, const char *where, dk_err *err)
{
    t->spec = strdup(spec);
    const char *colon = strchr(spec, ':'), *tpath;
    char *res = NULL;
    if (task_spec_is_text(spec, &tpath)) {
        t->is_text = 1;
        t->spec_path = resolve(r, tpath);
        if (!t->spec || !t->spec_path)
            return dk_errf(err, "out of memory");
        uint8_t d[32];
        if (sha256_file(t->spec_path, d, err) != 0)
            return wrap(r, where, err);
        sha256_hex(d, t->sha256);
        const char *base = strrchr(t->spec_path, '/');
        snprintf(t->name, sizeof t->name, "%s", base ? base + 1 : t->spec_path);
        return 0;
    }
    if (colon && colon != spec && !memchr(spec, '/', (size_t)(colon - spec))) {
        /* FORMAT:PATH or FORMAT:PATH1,PATH2 */
        size_t cap = strlen(spec) * 2 + strlen(r->dir) * 2 + 16;
        res = calloc(cap, 1);
        if (!res)
            return dk_errf(err, "out of memory");
        memcpy(res, spec, (size_t)(colon - spec) + 1);
        char *rest = strdup(colon + 1);
        char *save = NULL;
        int first = 1;
        for (char *p = strtok_r(rest, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
            char *rp = resolve(r, p);
            if (!rp || strlen(res) + strlen(rp) + 2 > cap) {
                free(rp), free(rest);
                return dk_errf(err, "out of memory");
            }
            if (!first)
                strcat(res, ",");
            strcat(res, rp);
            first = 0;
            free(rp);
        }
        free(rest);
    } else {
        res = resolve(r, spec);
    }
    t->spec_path = res;
    if (!t->spec || !t->spec_path)
        return dk_errf(err, "out of memory");
    mc_task *mc = calloc(1, sizeof *mc);
    if (!mc)
        return dk_errf(err, "out of memory");
    t->mc = mc;
    if (mc_task_open(mc, t->spec_path, err) != 0)
        return wrap(r, where, err);
    if (mc->n == 0)
        return dk_errf(err, "%s: %s: %s: the task has no items", r->path, where, spec);
    snprintf(t->name, sizeof t->name, "%s", mc->name);
    snprintf(t->sha256, sizeof t->sha256, "%s", mc->sha256);
    return 0;
}

/* A task as an object: {"spec": SPEC, "lm_eval": NAME} (scored by dokja, or read from a
 * model's lm-evaluation-harness results where they hold NAME), or {"lm_eval": NAME,
 * "metric": M, "chance": C} (only imported: every team and every counting reference must
 * have it). */
static int load_task_object(sel_round *r, sel_task *t, json_t *o, const char *where, dk_err *err)
{
    static const char *const keys[] = {"spec", "lm_eval", "metric", "chance", NULL};
    const char *spec, *lm, *metric;
    if (check_keys(r, o, where, keys, err) != 0 || get_str(r, o, where, "spec", 0, &spec, err) != 0 ||
        get_str(r, o, where, "lm_eval", 0, &lm, err) != 0 || get_str(r, o, where, "metric", 0, &metric, err) != 0)
        return -1;
    if (!lm && !spec)
        return dk_errf(err, "%s: %s: give \"spec\", \"lm_eval\" or both", r->path, where);
    if (spec) {
        if (metric || json_object_get(o, "chance"))
            return dk_errf(err, "%s: %s: \"metric\" and \"chance\" are for a task only imported (without "
                                "\"spec\"): a scored task's metric is dokja's", r->path, where);
        if (load_task(r, t, spec, where, err) != 0)
            return -1;
        snprintf(t->metric, sizeof t->metric, "%s", t->is_text ? "bits_per_byte" : "acc");
    } else {
        if (!metric || (strcmp(metric, "acc") != 0 && strcmp(metric, "acc_norm") != 0 &&
                        strcmp(metric, "bits_per_byte") != 0))
            return dk_errf(err, "%s: %s.metric: expected \"acc\", \"acc_norm\" or \"bits_per_byte\"", r->path,
                           where);
        t->import_only = 1;
        t->is_text = strcmp(metric, "bits_per_byte") == 0;
        snprintf(t->metric, sizeof t->metric, "%s", metric);
        t->chance = 0;
        if (!t->is_text && get_num(r, o, where, "chance", 0, 0.999, &t->chance, err) != 0)
            return -1;
        snprintf(t->name, sizeof t->name, "%s", lm);
    }
    if (lm && !(t->lm_eval = strdup(lm)))
        return dk_errf(err, "out of memory");
    return 0;
}

/* With a team_chosen group every team has "chosen", each naming a known model as its
 * target; without one, no team has. */
static int check_chosen(sel_round *r, dk_err *err)
{
    int group = 0;
    for (size_t g = 0; g < r->n_groups; g++)
        group |= r->groups[g].team_chosen;
    for (size_t i = 0; i < r->n_teams; i++) {
        sel_team *t = &r->teams[i];
        if (!group && t->chosen)
            return dk_errf(err, "%s: teams[%zu].chosen: no scheme group is team_chosen", r->path, i);
        if (group && !t->chosen)
            return dk_errf(err, "%s: teams[%zu]: no \"chosen\" tasks, and scheme has a team_chosen group", r->path, i);
        if (!t->chosen)
            continue;
        size_t k = 0;
        while (k < r->n_known && strcmp(r->known[k].name, t->target) != 0)
            k++;
        if (k == r->n_known)
            return dk_errf(err, "%s: teams[%zu].chosen.target: '%s' is not a reference or known model", r->path, i,
                           t->target);
        t->target_known = k;
    }
    return 0;
}

/* Every team and every counting reference has a score for each task only imported. */
static int check_imports(const sel_round *r, dk_err *err)
{
    for (size_t g = 0; g < r->n_groups; g++)
        for (size_t k = 0; k < r->groups[g].n_tasks; k++) {
            const sel_task *t = &r->groups[g].tasks[k];
            if (!t->import_only)
                continue;
            double x;
            size_t n;
            for (size_t i = 0; i < r->n_teams + r->n_known; i++) {
                int team = i < r->n_teams;
                const sel_known *kn = team ? NULL : &r->known[i - r->n_teams];
                if (kn && !kn->counts)
                    continue;
                const json_t *res = team ? r->teams[i].lm_eval_json : kn->lm_eval_json;
                const char *name = team ? r->teams[i].name : kn->name, *file = team ? r->teams[i].lm_eval : kn->lm_eval;
                if (!res)
                    return dk_errf(err, "%s: scheme.groups[%zu].tasks[%zu]: %s '%s' has no lm_eval_results, and "
                                        "task \"%s\" is only imported", r->path, g, k, team ? "team" : "reference",
                                   name, t->lm_eval);
                if (sel_lm_eval_score(res, t->lm_eval, t->metric, &x, &n) != 0)
                    return dk_errf(err, "%s: %s has no \"%s\" for task \"%s\" (%s '%s')", file, "results",
                                   t->metric, t->lm_eval, team ? "team" : "reference", name);
            }
        }
    return 0;
}

/* "team,score" in any case, with spaces around the comma. */
static int is_header(const char *s)
{
    char h[32];
    size_t n = 0;
    for (; *s && n + 1 < sizeof h; s++)
        if (*s != ' ' && *s != '\t')
            h[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
    h[n] = 0;
    return !*s && strcmp(h, "team,score") == 0;
}

/* CSV of team,score (an optional header line "team,score"); every team exactly once. */
static int load_csv(sel_round *r, sel_external *e, dk_err *err)
{
    uint8_t d[32];
    if (sha256_file(e->csv_path, d, err) != 0)
        return -1;
    sha256_hex(d, e->sha256);
    FILE *f = fopen(e->csv_path, "r");
    if (!f)
        return dk_errno(err, "%s", e->csv_path);
    e->score = malloc(r->n_teams * sizeof *e->score);
    if (!e->score) {
        fclose(f);
        return dk_errf(err, "out of memory");
    }
    for (size_t i = 0; i < r->n_teams; i++)
        e->score[i] = NAN;
    char line[4096];
    int ln = 0, rc = 0, seen_data = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        ln++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = 0;
        char *s = line;
        if (ln == 1 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte-order mark (spreadsheet exports) */
            s += 3;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            continue;
        if (!seen_data && is_header(s)) {
            seen_data = 1;
            continue;
        }
        seen_data = 1;
        char *comma = strrchr(s, ',');
        if (!comma) {
            rc = dk_errf(err, "%s:%d: expected team,score", e->csv_path, ln);
            break;
        }
        *comma = 0;
        char *team = s, *num = comma + 1, *end;
        size_t tn = strlen(team);
        while (tn && (team[tn - 1] == ' ' || team[tn - 1] == '\t'))
            team[--tn] = 0;
        while (*num == ' ' || *num == '\t')
            num++;
        errno = 0;
        double x = strtod(num, &end);
        size_t k = 0;
        while (k < r->n_teams && strcmp(r->teams[k].name, team) != 0)
            k++;
        if (k == r->n_teams)
            rc = dk_errf(err, "%s:%d: unknown team '%.200s'", e->csv_path, ln, team);
        else if (end == num || *end || errno || !(x >= 0 && x <= 1))
            rc = dk_errf(err, "%s:%d: team '%.200s': score '%.100s' is not a number in [0, 1]", e->csv_path, ln, team, num);
        else if (!isnan(e->score[k]))
            rc = dk_errf(err, "%s:%d: team '%.200s' is scored twice", e->csv_path, ln, team);
        else
            e->score[k] = x;
    }
    if (rc == 0 && ferror(f))
        rc = dk_errno(err, "%s", e->csv_path);
    fclose(f);
    for (size_t k = 0; rc == 0 && k < r->n_teams; k++)
        if (isnan(e->score[k]))
            rc = dk_errf(err, "%s: no score for team '%s'", e->csv_path, r->teams[k].name);
    return rc;
}

static int load_scheme(sel_round *r, json_t *root, dk_err *err)
{
    static const char *const skeys[] = {"groups", "external", NULL}, *const gkeys[] = {"name", "points", "tasks", "team_chosen", NULL},
                             *const ekeys[] = {"name", "points", "csv", NULL};
    json_t *s = json_object_get(root, "scheme"), *groups, *ext;
    if (!s)
        return dk_errf(err, "%s: scheme: missing", r->path);
    if (!json_is_object(s))
        return dk_errf(err, "%s: scheme: expected an object", r->path);
    if (check_keys(r, s, "scheme", skeys, err) != 0)
        return -1;
    groups = json_object_get(s, "groups");
    ext = json_object_get(s, "external");
    if (!groups || !json_is_array(groups) || json_array_size(groups) == 0)
        return dk_errf(err, "%s: scheme.groups: expected a non-empty array", r->path);
    if (ext && !json_is_array(ext))
        return dk_errf(err, "%s: scheme.external: expected an array", r->path);
    r->groups = calloc(json_array_size(groups), sizeof *r->groups);
    r->ext = calloc(json_array_size(ext) + 1, sizeof *r->ext);
    if (!r->groups || !r->ext)
        return dk_errf(err, "out of memory");
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g) {
        char where[64];
        snprintf(where, sizeof where, "scheme.groups[%zu]", i);
        const char *name;
        sel_group *gr = &r->groups[r->n_groups];
        if (!json_is_object(g))
            return dk_errf(err, "%s: %s: expected an object", r->path, where);
        if (check_keys(r, g, where, gkeys, err) != 0 || get_str(r, g, where, "name", 1, &name, err) != 0 ||
            get_num(r, g, where, "points", 0, 1e6, &gr->points, err) != 0)
            return -1;
        for (size_t k = 0; k < r->n_groups; k++)
            if (strcmp(r->groups[k].name, name) == 0)
                return dk_errf(err, "%s: %s.name: duplicate group name '%s'", r->path, where, name);
        gr->name = strdup(name);
        r->n_groups++;
        json_t *tc = json_object_get(g, "team_chosen");
        if (tc && !json_is_boolean(tc))
            return dk_errf(err, "%s: %s.team_chosen: expected true or false", r->path, where);
        if (json_is_true(tc)) {
            for (size_t k = 0; k + 1 < r->n_groups; k++)
                if (r->groups[k].team_chosen)
                    return dk_errf(err, "%s: %s: only one group can be team_chosen", r->path, where);
            if (json_object_get(g, "tasks"))
                return dk_errf(err, "%s: %s.tasks: a team_chosen group's tasks are each team's \"chosen\"", r->path,
                               where);
            gr->team_chosen = 1;
            if (!gr->name)
                return dk_errf(err, "out of memory");
            continue;
        }
        json_t *tasks = json_object_get(g, "tasks"), *t;
        if (!tasks || !json_is_array(tasks) || json_array_size(tasks) == 0)
            return dk_errf(err, "%s: %s.tasks: expected a non-empty array of task specs", r->path, where);
        gr->tasks = calloc(json_array_size(tasks), sizeof *gr->tasks);
        if (!gr->name || !gr->tasks)
            return dk_errf(err, "out of memory");
        size_t j;
        json_array_foreach(tasks, j, t) {
            char w2[96];
            snprintf(w2, sizeof w2, "%s.tasks[%zu]", where, j);
            if (load_task_any(r, &gr->tasks[gr->n_tasks++], t, w2, err) != 0)
                return -1;
        }
    }
    json_array_foreach(ext, i, g) {
        char where[64];
        snprintf(where, sizeof where, "scheme.external[%zu]", i);
        const char *name, *csv;
        sel_external *e = &r->ext[r->n_ext];
        if (!json_is_object(g))
            return dk_errf(err, "%s: %s: expected an object", r->path, where);
        if (check_keys(r, g, where, ekeys, err) != 0 || get_str(r, g, where, "name", 1, &name, err) != 0 ||
            get_str(r, g, where, "csv", 1, &csv, err) != 0 ||
            get_num(r, g, where, "points", 0, 1e6, &e->points, err) != 0)
            return -1;
        for (size_t k = 0; k < r->n_groups; k++)
            if (strcmp(r->groups[k].name, name) == 0)
                return dk_errf(err, "%s: %s.name: '%s' is also a group's name", r->path, where, name);
        for (size_t k = 0; k < r->n_ext; k++)
            if (strcmp(r->ext[k].name, name) == 0)
                return dk_errf(err, "%s: %s.name: duplicate name '%s'", r->path, where, name);
        e->name = strdup(name);
        e->csv = strdup(csv);
        e->csv_path = resolve(r, csv);
        r->n_ext++;
        if (!e->name || !e->csv || !e->csv_path)
            return dk_errf(err, "out of memory");
        if (access(e->csv_path, R_OK) != 0)
            return dk_errf(err, "%s: %s.csv: %s: %s", r->path, where, csv, strerror(errno));
        if (load_csv(r, e, err) != 0)
            return -1;
    }
    return 0;
}

static int load_stages(sel_round *r, json_t *root, dk_err *err)
{
    static const char *const keys[] = {"keep", "overrides", NULL};
    json_t *a, *s;
    if (get_array(r, root, "stages", 1, &a, err) != 0)
        return -1;
    if (json_array_size(a) == 0)
        return dk_errf(err, "%s: stages: no stages", r->path);
    r->stages = calloc(json_array_size(a), sizeof *r->stages);
    if (!r->stages)
        return dk_errf(err, "out of memory");
    size_t i, remain = r->n_teams;
    json_array_foreach(a, i, s) {
        char where[64];
        snprintf(where, sizeof where, "stages[%zu]", i);
        sel_stage *st = &r->stages[r->n_stages++];
        st->override = calloc(r->n_teams, sizeof *st->override);
        if (!st->override)
            return dk_errf(err, "out of memory");
        if (!json_is_object(s))
            return dk_errf(err, "%s: %s: expected an object", r->path, where);
        if (check_keys(r, s, where, keys, err) != 0)
            return -1;
        json_t *k = json_object_get(s, "keep");
        if (!k || !json_is_integer(k) || json_integer_value(k) < 1)
            return dk_errf(err, "%s: %s.keep: expected an integer >= 1", r->path, where);
        if ((size_t)json_integer_value(k) > remain)
            return dk_errf(err, "%s: %s.keep: keeps %lld teams but only %zu remain", r->path, where,
                           (long long)json_integer_value(k), remain);
        st->keep = (int)json_integer_value(k);
        remain = (size_t)st->keep;
        json_t *ov = json_object_get(s, "overrides"), *v;
        if (ov && !json_is_object(ov))
            return dk_errf(err, "%s: %s.overrides: expected an object {team: \"advance\" | \"cut\"}", r->path, where);
        const char *team;
        json_object_foreach(ov, team, v) {
            size_t t = 0;
            while (t < r->n_teams && strcmp(r->teams[t].name, team) != 0)
                t++;
            if (t == r->n_teams)
                return dk_errf(err, "%s: %s.overrides.%s: unknown team", r->path, where, team);
            const char *val = json_is_string(v) ? json_string_value(v) : "";
            if (strcmp(val, "advance") == 0)
                st->override[t] = SEL_OVERRIDE_ADVANCE;
            else if (strcmp(val, "cut") == 0)
                st->override[t] = SEL_OVERRIDE_CUT;
            else
                return dk_errf(err, "%s: %s.overrides.%s: expected \"advance\" or \"cut\"", r->path, where, team);
        }
    }
    return 0;
}

static int load(sel_round *r, const char *path, dk_err *err)
{
    static const char *const keys[] = {"evaluation_date", "reference_window_months", "teams", "references",
                                       "known_models", "scheme", "stages", "thresholds", "replay", NULL};
    snprintf(r->path, sizeof r->path, "%s", path);
    snprintf(r->dir, sizeof r->dir, "%s", path);
    char *slash = strrchr(r->dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(r->dir, sizeof r->dir, ".");
    uint8_t d[32];
    if (sha256_file(path, d, err) != 0)
        return -1;
    sha256_hex(d, r->sha256);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return dk_errf(err, "%s:%d: %s", path, je.line, je.text);
    int rc = -1;
    const char *date;
    int y, m, dd;
    if (!json_is_object(root)) {
        dk_errf(err, "%s:1: expected a JSON object", path);
        goto out;
    }
    if (check_keys(r, root, "", keys, err) != 0 || get_str(r, root, "", "evaluation_date", 1, &date, err) != 0)
        goto out;
    if (parse_date(date, &y, &m, &dd) != 0) {
        dk_errf(err, "%s: evaluation_date: '%s' is not a date YYYY-MM-DD", path, date);
        goto out;
    }
    snprintf(r->date, sizeof r->date, "%s", date);
    r->window_months = 6;
    json_t *w = json_object_get(root, "reference_window_months");
    if (w) {
        if (!json_is_integer(w) || json_integer_value(w) < 1 || json_integer_value(w) > 1200) {
            dk_errf(err, "%s: reference_window_months: expected an integer in [1, 1200]", path);
            goto out;
        }
        r->window_months = (int)json_integer_value(w);
    }
    int wy = y, wm = m - r->window_months;
    while (wm < 1)
        wm += 12, wy--;
    char ws[64]; /* wide enough for any int: the values are a real date's */
    snprintf(ws, sizeof ws, "%04d-%02d-%02d", wy, wm, dd < days_in(wy, wm) ? dd : days_in(wy, wm));
    snprintf(r->window_start, sizeof r->window_start, "%.10s", ws);
    r->alpha = 1e-6;
    json_t *th = json_object_get(root, "thresholds");
    if (th) {
        static const char *const tkeys[] = {"lineage_alpha", NULL};
        if (!json_is_object(th)) {
            dk_errf(err, "%s: thresholds: expected an object", path);
            goto out;
        }
        if (check_keys(r, th, "thresholds", tkeys, err) != 0 ||
            (json_object_get(th, "lineage_alpha") &&
             get_num(r, th, "thresholds", "lineage_alpha", 1e-300, 0.5, &r->alpha, err) != 0))
            goto out;
    }
    json_t *rp = json_object_get(root, "replay");
    if (rp) {
        static const char *const rkeys[] = {"segments", "challenge", NULL};
        const char *ch = NULL;
        double k = 0;
        uint8_t buf[512];
        size_t n;
        if (!json_is_object(rp)) {
            dk_errf(err, "%s: replay: expected an object", path);
            goto out;
        }
        if (check_keys(r, rp, "replay", rkeys, err) != 0 ||
            get_num(r, rp, "replay", "segments", 1, 1e6, &k, err) != 0 ||
            get_str(r, rp, "replay", "challenge", 1, &ch, err) != 0)
            goto out;
        if (k != floor(k)) {
            dk_errf(err, "%s: replay.segments: expected a whole number", path);
            goto out;
        }
        if (strlen(ch) < 2 || strlen(ch) > 1024 || hex_decode(ch, buf, sizeof buf, &n) != 0) {
            dk_errf(err, "%s: replay.challenge: expected 2 to 1024 hex digits", path);
            goto out;
        }
        r->replay_segments = (int)k;
        snprintf(r->challenge, sizeof r->challenge, "%s", ch);
    }
    if (load_teams(r, root, err) != 0 || load_known(r, root, err) != 0 || load_scheme(r, root, err) != 0 ||
        check_imports(r, err) != 0 || check_chosen(r, err) != 0 || load_stages(r, root, err) != 0)
        goto out;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int sel_round_load(sel_round *r, const char *path, dk_err *err)
{
    memset(r, 0, sizeof *r);
    if (load(r, path, err) != 0) {
        sel_round_free(r);
        return -1;
    }
    return 0;
}

static void task_free(sel_task *t)
{
    free(t->spec), free(t->spec_path), free(t->lm_eval);
    if (t->mc)
        mc_task_free(t->mc);
    free(t->mc);
}

void sel_round_free(sel_round *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->teams && i < r->n_teams; i++) {
        sel_team *t = &r->teams[i];
        free(t->name), free(t->model), free(t->model_path), free(t->ledger), free(t->ledger_path);
        free(t->declared_base), free(t->data), free(t->data_path);
        free(t->lm_eval), free(t->lm_eval_path);
        json_decref(t->lm_eval_json);
        for (size_t k = 0; t->chosen && k < t->n_chosen; k++)
            task_free(&t->chosen[k]);
        free(t->chosen), free(t->target);
    }
    for (size_t i = 0; r->known && i < r->n_known; i++)
        free(r->known[i].name), free(r->known[i].model), free(r->known[i].model_path), free(r->known[i].lm_eval),
            free(r->known[i].lm_eval_path), json_decref(r->known[i].lm_eval_json);
    for (size_t g = 0; r->groups && g < r->n_groups; g++) {
        for (size_t i = 0; i < r->groups[g].n_tasks; i++) {
            task_free(&r->groups[g].tasks[i]);
        }
        free(r->groups[g].tasks);
        free(r->groups[g].name);
    }
    for (size_t i = 0; r->ext && i < r->n_ext; i++)
        free(r->ext[i].name), free(r->ext[i].csv), free(r->ext[i].csv_path), free(r->ext[i].score);
    for (size_t i = 0; r->stages && i < r->n_stages; i++)
        free(r->stages[i].override);
    free(r->teams), free(r->known), free(r->groups), free(r->ext), free(r->stages);
    memset(r, 0, sizeof *r);
}
