/* select_report.c: the round's report as report.json and a self-contained report.html
 * (no scripts, no network: tables and an inline SVG bar chart), both written from the
 * same JSON object so they cannot disagree. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select/select.h"
#include "util/fs.h"
#include "util/xml.h"

char *sel_report_json(const json_t *report)
{
    char *s = json_dumps(report, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    t[n] = '\n', t[n + 1] = 0;
    return t;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static double jnum(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void esc(FILE *f, const char *s) { xml_escape(f, s ? s : ""); }

static void fnum(FILE *f, double x, const char *fmt)
{
    if (isnan(x))
        fputs("&ndash;", f);
    else
        fprintf(f, fmt, x);
}

static const char CSS[] =
    "body{font-family:sans-serif;margin:2em;max-width:72em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}"
    "th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "tr.cutline td{background:#fde8e8;color:#a00;font-weight:bold;border-top:3px solid #a00}"
    "tr.gate td{background:#f4f4f4;color:#666}.fails{color:#a00}.meets{color:#070}"
    "code{font-size:.9em;word-break:break-all}div.wide{overflow-x:auto}";

/* The ranking with a red line under the last team each stage keeps. */
static void ranking_table(FILE *f, const json_t *rep)
{
    const json_t *teams = json_object_get(rep, "teams"), *groups = json_object_get(rep, "groups"),
                 *stages = json_object_get(rep, "stages"), *ext = json_object_get(rep, "external");
    size_t ng = json_array_size(groups), ne = json_array_size(ext), ns = json_array_size(stages);
    int cols = 5 + (int)ng + (int)ne;
    fputs("<h2>Ranking</h2>\n<table id=\"ranking\"><tr><th>rank</th><th>team</th><th>total</th>", f);
    for (size_t g = 0; g < ng; g++) {
        const json_t *gr = json_array_get(groups, g);
        fputs("<th>", f);
        esc(f, jstr(gr, "name"));
        fprintf(f, " (%g pts): relative, verdict</th>", jnum(gr, "points"));
    }
    for (size_t e = 0; e < ne; e++) {
        const json_t *x = json_array_get(ext, e);
        fputs("<th>", f);
        esc(f, jstr(x, "name"));
        fprintf(f, " (%g pts)</th>", jnum(x, "points"));
    }
    fputs("<th>gate</th><th>outcome</th></tr>\n", f);
    size_t i;
    const json_t *t;
    json_array_foreach(teams, i, t) {
        int gate = !json_is_true(json_object_get(json_object_get(t, "gate"), "passed"));
        fprintf(f, "<tr%s><td class=\"n\">", gate ? " class=\"gate\"" : "");
        if (json_is_integer(json_object_get(t, "rank")))
            fprintf(f, "%lld", (long long)json_integer_value(json_object_get(t, "rank")));
        else
            fputs("&ndash;", f);
        fputs("</td><td>", f);
        esc(f, jstr(t, "name"));
        fputs("</td><td class=\"n\">", f);
        fnum(f, jnum(t, "total"), "%.3f");
        fputs("</td>", f);
        const json_t *gj = json_object_get(t, "groups"), *ej = json_object_get(t, "external");
        for (size_t g = 0; g < ng; g++) {
            const json_t *x = json_array_get(gj, g);
            fputs("<td class=\"n\">", f);
            fnum(f, jnum(x, "relative"), "%.3f");
            fprintf(f, " <span class=\"%s\">%s</span></td>", jstr(x, "verdict"), jstr(x, "verdict"));
        }
        for (size_t e = 0; e < ne; e++) {
            fputs("<td class=\"n\">", f);
            fnum(f, jnum(json_array_get(ej, e), "score"), "%.3f");
            fputs("</td>", f);
        }
        fprintf(f, "<td>%s</td><td>", gate ? "<span class=\"fails\">failed</span>" : "passed");
        const char *st = jstr(t, "status");
        const json_t *cs = json_object_get(t, "cut_at_stage");
        if (strcmp(st, "cut_at_gate") == 0)
            fputs(json_is_true(json_object_get(t, "would_have_advanced_on_score"))
                      ? "cut at the gate (would have advanced on score)"
                      : "cut at the gate",
                  f);
        else if (strcmp(st, "advanced") == 0)
            fputs("advanced through every stage", f);
        else
            fprintf(f, "%s at stage %lld", strcmp(st, "cut_by_override") == 0 ? "cut by override" : "cut by score",
                    (long long)json_integer_value(cs));
        const json_t *ov = json_object_get(t, "overrides"), *o;
        size_t k;
        json_array_foreach(ov, k, o) {
            fprintf(f, "; stage %lld override: ", (long long)json_integer_value(json_object_get(o, "stage")));
            esc(f, jstr(o, "effect"));
        }
        fputs("</td></tr>\n", f);
        /* the cut lines: after the keep-th ranked team (or the last ranked one when the
         * gate left fewer); overrides move single teams across it, shown in the outcome */
        long long rk = json_integer_value(json_object_get(t, "rank"));
        const json_t *nx = json_array_get(teams, i + 1);
        int last_ranked = !(nx && json_is_integer(json_object_get(nx, "rank")));
        for (size_t s = 0; !gate && s < ns; s++) {
            const json_t *sj = json_array_get(stages, s);
            long long keep = json_integer_value(json_object_get(sj, "keep"));
            if (keep == rk || (last_ranked && keep > rk))
                fprintf(f, "<tr class=\"cutline\"><td colspan=\"%d\">stage %zu cut line: keeps %lld%s</td></tr>\n",
                        cols, s + 1, keep, keep > rk ? " (fewer passed the gate)" : "");
        }
    }
    fputs("</table>\n", f);
}

/* Horizontal bars of the totals, the 95 % line at threshold_total. */
static void bar_chart(FILE *f, const json_t *rep)
{
    const json_t *teams = json_object_get(rep, "teams");
    double maxt = jnum(rep, "max_total"), thr = jnum(rep, "threshold_total");
    size_t n = json_array_size(teams);
    int W = 760, L = 160, bh = 22, H = (int)n * bh + 40;
    double scale = maxt > 0 ? (W - L - 130) / maxt : 0; /* room right of the bars for "87.75 (gate)" */
    fprintf(f, "<h2>Totals</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H, W, H);
    size_t i;
    const json_t *t;
    json_array_foreach(teams, i, t) {
        int gate = !json_is_true(json_object_get(json_object_get(t, "gate"), "passed"));
        double v = jnum(t, "total");
        int y = 10 + (int)i * bh;
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", L - 6, y + 15);
        esc(f, jstr(t, "name"));
        fprintf(f, "</text><rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>", L, y + 3,
                isnan(v) ? 0 : v * scale, bh - 6, gate ? "#bbb" : "#4a7bd0");
        fprintf(f, "<text x=\"%.1f\" y=\"%d\">", L + (isnan(v) ? 0 : v * scale) + 4, y + 15);
        fnum(f, v, "%.2f");
        fputs(gate ? " (gate)" : "", f);
        fputs("</text>\n", f);
    }
    double x = L + thr * scale;
    fprintf(f, "<line x1=\"%.1f\" y1=\"5\" x2=\"%.1f\" y2=\"%d\" stroke=\"#a00\" stroke-dasharray=\"4 3\"/>"
               "<text x=\"%.1f\" y=\"%d\" fill=\"#a00\" text-anchor=\"middle\">95 %% (%.2f of %.2f)</text>\n",
            x, x, H - 20, x, H - 6, thr, maxt);
    fputs("</svg>\n", f);
}

/* One row of the gate table: team, gate, evidence, then the cells given (raw HTML). */
static void gate_row(FILE *f, const json_t *t, const char *evidence_html)
{
    int passed = json_is_true(json_object_get(json_object_get(t, "gate"), "passed"));
    fputs("<tr><td>", f);
    esc(f, jstr(t, "name"));
    fprintf(f, "</td><td class=\"%s\">%s</td>%s</tr>\n", passed ? "meets" : "fails", passed ? "passed" : "failed",
            evidence_html);
}

/* The cells of a derived pair's row: the other model, log10 p, kind, layer sources. */
static void derived_cells(FILE *m, const json_t *e)
{
    fputs("<td>derived ", m);
    fputs(strcmp(jstr(e, "other_is"), "team") == 0 ? "(with team " : "(from known model ", m);
    esc(m, jstr(e, "other"));
    fputs(json_is_true(json_object_get(e, "declared")) ? ", its declared base)" : ")", m);
    if (json_is_true(json_object_get(e, "cleared")))
        fputs(": cleared, this team's run is proven from scratch", m);
    fputs("</td><td class=\"n\">", m);
    fnum(m, jnum(e, "log10_p"), "%.1f");
    fputs("</td><td>", m);
    esc(m, jstr(e, "kind"));
    fputs("</td><td>", m);
    const json_t *src = json_object_get(e, "b_layer_source"), *x;
    size_t j;
    json_array_foreach(src, j, x) fprintf(m, "%s%zu&rarr;%lld", j ? ", " : "", j, (long long)json_integer_value(x));
    fputs("</td>", m);
}

/* The cells of a failed ledger check's row. */
static void failed_check_cells(FILE *m, const json_t *e)
{
    fputs("<td>ledger check ", m);
    esc(m, jstr(e, "check"));
    fputs(" failed</td><td colspan=\"3\">", m);
    esc(m, jstr(e, "detail"));
    fputs("</td>", m);
}

/* A gate row whose evidence cells `cells` writes from e. */
static void gate_row_of(FILE *f, const json_t *t, void (*cells)(FILE *, const json_t *), const json_t *e)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return;
    cells(m, e);
    fclose(m);
    gate_row(f, t, buf);
    free(buf);
}

static void gate_table(FILE *f, const json_t *rep)
{
    const json_t *teams = json_object_get(rep, "teams");
    fprintf(f, "<h2>Independence gate</h2>\n<p>A team fails when a lineage test against a known model or another "
               "team gives p below %g, or when its ledger does not hold (verified, and replayed when asked). Of a "
               "copied pair of teams both fail, unless one of them proved its run from random weights (ledger "
               "verified and replayed): that one is cleared.</p>\n"
               "<table id=\"gate\"><tr><th>team</th><th>gate</th><th>evidence</th><th>log10 p</th><th>kind</th>"
               "<th>layer sources (B's layer &rarr; A's)</th></tr>\n",
            jnum(rep, "lineage_alpha"));
    size_t i, k;
    const json_t *t, *e;
    json_array_foreach(teams, i, t) {
        const json_t *g = json_object_get(t, "gate"), *ev = json_object_get(g, "derived_from"),
                     *led = json_object_get(g, "ledger");
        json_array_foreach(ev, k, e) gate_row_of(f, t, derived_cells, e);
        if (!json_is_object(led))
            continue;
        const json_t *fc = json_object_get(led, "failed_checks"), *rp = json_object_get(led, "replay");
        json_array_foreach(fc, k, e) gate_row_of(f, t, failed_check_cells, e);
        if (json_array_size(fc) == 0) {
            char row[600];
            if (json_is_object(rp))
                snprintf(row, sizeof row,
                         "<td>ledger holds%s</td><td colspan=\"3\">every check passed; %lld of %lld steps "
                         "replayed bit for bit (%zu segments)</td>",
                         json_is_true(json_object_get(led, "proven_from_scratch")) ? ": run proven from scratch" : "",
                         (long long)json_integer_value(json_object_get(rp, "steps_replayed")),
                         (long long)json_integer_value(json_object_get(rp, "steps_total")),
                         json_array_size(json_object_get(rp, "replayed")));
            else
                snprintf(row, sizeof row, "<td>ledger holds</td><td colspan=\"3\">every check passed (not "
                                          "replayed: the steps between checkpoints are unproven)</td>");
            gate_row(f, t, row);
        }
    }
    fputs("</table>\n", f);
}

/* Per task: the best counting reference's score, then each team's score and relative score. */
static void task_table(FILE *f, const json_t *rep)
{
    const json_t *tasks = json_object_get(rep, "tasks"), *teams = json_object_get(rep, "teams");
    fputs("<h2>Tasks</h2>\n<div class=\"wide\"><table id=\"tasks\"><tr><th>group</th><th>task</th><th>metric</th><th>n</th>"
          "<th>best reference</th>", f);
    size_t i, k;
    const json_t *t, *tm;
    json_array_foreach(teams, k, tm) {
        fputs("<th>", f);
        esc(f, jstr(tm, "name"));
        fputs(": score (relative)</th>", f);
    }
    fputs("</tr>\n", f);
    json_array_foreach(tasks, i, t) {
        fputs("<tr><td>", f);
        esc(f, jstr(t, "group"));
        fputs("</td><td>", f);
        esc(f, jstr(t, "task"));
        fputs("</td><td>", f);
        esc(f, jstr(t, "metric"));
        fprintf(f, "</td><td class=\"n\">%lld</td><td>", (long long)json_integer_value(json_object_get(t, "n")));
        esc(f, jstr(t, "best_reference"));
        fputs(" ", f);
        fnum(f, jnum(t, "best_reference_score"), "%.4f");
        const json_t *im = json_object_get(t, "imported"), *y;
        size_t q;
        json_array_foreach(im, q, y) if (strcmp(json_string_value(y), jstr(t, "best_reference")) == 0) fputs("&dagger;", f);
        fputs("</td>", f);
        json_array_foreach(teams, k, tm) {
            const json_t *x = json_array_get(json_object_get(tm, "tasks"), i);
            fputs("<td class=\"n\">", f);
            fnum(f, jnum(x, "score"), "%.4f");
            fputs(" (", f);
            fnum(f, jnum(x, "relative"), "%.3f");
            fputs(strcmp(jstr(x, "source"), "lm-evaluation-harness") == 0 ? ")&dagger;</td>" : ")</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table></div>\n<p>&dagger; imported from the model's lm-evaluation-harness results (scored elsewhere); "
          "the other scores were computed by this run.</p>\n", f);
}

/* The gate's tests as a heat map: a row per team, a column per known model and per team;
 * the cell is log10 p, redder the smaller, derived cells outlined. */
static void lineage_matrix(FILE *f, const json_t *rep)
{
    const json_t *teams = json_object_get(rep, "teams"), *known = json_object_get(rep, "known_models"),
                 *tests = json_object_get(rep, "lineage");
    double la = log10(jnum(rep, "lineage_alpha"));
    size_t nt = json_array_size(teams), nk = json_array_size(known);
    fputs("<h2>Lineage matrix (log10 p)</h2>\n<table id=\"lineage\"><tr><th>team</th>", f);
    for (size_t c = 0; c < nk + nt; c++) {
        const json_t *col = c < nk ? json_array_get(known, c) : json_array_get(teams, c - nk);
        fputs(c < nk ? "<th>known: " : "<th>team: ", f);
        esc(f, jstr(col, "name"));
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    for (size_t r = 0; r < nt; r++) {
        const char *me = jstr(json_array_get(teams, r), "name");
        fputs("<tr><th>", f);
        esc(f, me);
        fputs("</th>", f);
        for (size_t c = 0; c < nk + nt; c++) {
            const char *other = jstr(c < nk ? json_array_get(known, c) : json_array_get(teams, c - nk), "name");
            const json_t *hit = NULL, *x;
            size_t i;
            json_array_foreach(tests, i, x) {
                const char *a = jstr(x, "a"), *b = jstr(x, "b");
                if ((!strcmp(a, other) && !strcmp(b, me)) || (!strcmp(a, me) && !strcmp(b, other)))
                    hit = x;
            }
            if (!hit) {
                fputs("<td></td>", f);
                continue;
            }
            double lp = jnum(hit, "log10_p"), sh = isnan(lp) || !(la < 0) ? 0 : fmin(-lp / -la, 1);
            int derived = json_is_true(json_object_get(hit, "derived"));
            fprintf(f, "<td class=\"n\" style=\"background:rgb(255,%d,%d)%s\">", 255 - (int)(155 * sh),
                    255 - (int)(155 * sh), derived ? ";outline:2px solid #a00" : "");
            fnum(f, lp, "%.1f");
            if (derived) {
                fputs(" ", f);
                esc(f, jstr(hit, "kind"));
            }
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

static void inputs_table(FILE *f, const json_t *rep)
{
    fputs("<h2>Inputs</h2>\n<table id=\"inputs\"><tr><th>what</th><th>name</th><th>SHA-256</th></tr>\n", f);
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(rep, "inputs"), i, x) {
        fputs("<tr><td>", f);
        esc(f, jstr(x, "what"));
        fputs("</td><td>", f);
        esc(f, jstr(x, "name"));
        fputs("</td><td><code>", f);
        esc(f, jstr(x, "sha256"));
        fputs("</code></td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

char *sel_report_html(const json_t *rep)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<title>dokja select: round of %s</title><style>%s</style></head><body>\n",
            jstr(rep, "evaluation_date"), CSS);
    fprintf(f, "<h1>Selection round of %s</h1>\n<p>References count when released from %s to %s (%lld months). "
               "Scores are relative to the best counting reference per task; ",
            jstr(rep, "evaluation_date"), jstr(rep, "window_start"), jstr(rep, "evaluation_date"),
            (long long)json_integer_value(json_object_get(rep, "reference_window_months")));
    esc(f, jstr(rep, "formula"));
    fprintf(f, " (at most %.2f). dokja %s.</p>\n", jnum(rep, "max_total"), jstr(rep, "dokja_version"));
    ranking_table(f, rep);
    bar_chart(f, rep);
    gate_table(f, rep);
    lineage_matrix(f, rep);
    task_table(f, rep);
    inputs_table(f, rep);
    fputs("</body></html>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int sel_write_outputs(const json_t *report, const char *dir, dk_err *err)
{
    char *js = sel_report_json(report), *html = sel_report_html(report);
    int rc = 0;
    if (!js || !html)
        rc = dk_errf(err, "out of memory");
    char path[4200];
    if (rc == 0)
        rc = fs_mkdirs(dir, err);
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/report.json", dir);
        rc = fs_write_file_atomic(path, js, strlen(js), err);
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/report.html", dir);
        rc = fs_write_file_atomic(path, html, strlen(html), err);
    }
    free(js);
    free(html);
    return rc;
}
