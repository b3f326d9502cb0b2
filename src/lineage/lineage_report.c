/* lineage_report.c: the lineage report as JSON, HTML (a heat map of the layer map)
 * and text. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage/lineage.h"
#include "util/fs.h"
#include "util/xml.h"
#include "util/version.h"

static json_t *num(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static json_t *darray(const double *x, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, num(x[i]));
    return a;
}

char *lineage_json(const lineage_report *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "dokja_version", json_string(DOKJA_VERSION));
    json_object_set_new(o, "a", json_string(r->a));
    json_object_set_new(o, "b", json_string(r->b));
    json_object_set_new(o, "verdict", json_string(r->derived ? "derived" : "independent"));
    json_object_set_new(o, "kind", json_string(r->kind));
    json_object_set_new(o, "log10_p", num(r->log10_p));
    json_object_set_new(o, "tests_combined", json_integer(r->n_tests));
    json_object_set_new(o, "shapes", json_pack("{s:[i,i,i], s:[i,i,i]}", "a", r->La, r->Da, r->Fa, "b",
                                               r->Lb, r->Db, r->Fb));
    json_t *w = json_object();
    json_object_set_new(w, "available", json_boolean(r->w_ok));
    if (r->w_ok) {
        json_object_set_new(w, "rho", darray(r->w_rho, r->La));
        json_object_set_new(w, "log10_p", darray(r->w_log10p, r->La));
        json_object_set_new(w, "combined_log10_p", num(r->w_combined));
        json_object_set_new(w, "rows_per_layer", json_integer(r->w_rows));
    } else {
        json_object_set_new(w, "note", json_string(r->w_note));
    }
    json_object_set_new(o, "weight_test", w);
    json_t *map = json_object(), *rows = json_array(), *rrows = json_array();
    json_object_set_new(map, "source", json_string(r->map_source));
    for (int i = 0; r->map_source[0] && i < r->La; i++) {
        json_array_append_new(rows, darray(r->map_log10p + (size_t)i * r->Lb, r->Lb));
        json_array_append_new(rrows, darray(r->map_rho + (size_t)i * r->Lb, r->Lb));
    }
    json_object_set_new(map, "log10_p", rows);
    json_object_set_new(map, "rho", rrows);
    json_object_set_new(map, "screened", json_boolean(r->map_screened));
    if (r->map_screened) { /* which entries the full test ran on; the rest are the screen's */
        json_t *ref = json_array();
        for (int i = 0; i < r->La; i++) {
            json_t *row = json_array();
            for (int j = 0; j < r->Lb; j++)
                json_array_append_new(row, json_integer(r->map_refined[(size_t)i * r->Lb + j]));
            json_array_append_new(ref, row);
        }
        json_object_set_new(map, "refined", ref);
        json_object_set_new(map, "pairs_tested_in_full", json_integer(r->n_refined));
    }
    json_t *src = json_array();
    for (int j = 0; r->map_source[0] && j < r->Lb; j++)
        json_array_append_new(src, json_integer(r->src[j]));
    json_object_set_new(map, "b_layer_source", src);
    json_object_set_new(map, "b_layer_log10_p", r->map_source[0] ? darray(r->layer_log10p, r->Lb) : json_array());
    json_object_set_new(map, "combined_log10_p", num(r->map_combined));
    json_t *dups = json_array();
    for (int k = 0; k < r->n_dup; k++)
        json_array_append_new(dups, json_pack("{s:i, s:i, s:o}", "layer", r->dup[k][0], "copy", r->dup[k][1],
                                              "log10_p", num(r->dup_log10p[k])));
    json_object_set_new(map, "b_duplicated_layers", dups);
    json_object_set_new(o, "layer_map", map);
    json_t *a = json_object();
    json_object_set_new(a, "available", json_boolean(r->a_ok));
    json_object_set_new(a, "method", json_string(r->a_note));
    json_object_set_new(a, "tokens", json_integer(r->a_tokens));
    if (r->a_ok) {
        json_object_set_new(a, "rho", darray(r->a_rho, r->Lb));
        json_object_set_new(a, "log10_p", darray(r->a_log10p, r->Lb));
        json_object_set_new(a, "combined_log10_p", num(r->a_combined));
    }
    json_object_set_new(o, "activation_test", a);
    json_t *v = json_object();
    json_object_set_new(v, "available", json_boolean(r->v_ok));
    json_object_set_new(v, "note", json_string(r->v_note));
    if (r->v_ok) {
        json_object_set_new(v, "vocab_a", json_integer((json_int_t)r->va));
        json_object_set_new(v, "vocab_b", json_integer((json_int_t)r->vb));
        json_object_set_new(v, "shared", json_integer((json_int_t)r->v_shared));
        json_object_set_new(v, "embedding_corr", num(r->emb_corr));
        json_object_set_new(v, "embedding_baseline", num(r->emb_baseline));
    }
    json_object_set_new(o, "vocabulary", v);
    json_t *nm = json_object();
    json_object_set_new(nm, "pearson", darray(r->norm_pearson, r->n_norm));
    json_object_set_new(nm, "shuffled_mean", darray(r->norm_base_mean, r->n_norm));
    json_object_set_new(nm, "shuffled_sd", darray(r->norm_base_sd, r->n_norm));
    json_object_set_new(nm, "raw_cosine", darray(r->norm_cosine, r->n_norm));
    json_object_set_new(o, "norms", nm);
    json_object_set_new(o, "seconds", json_pack("{s:f, s:f, s:f, s:f, s:f}", "total", r->seconds, "layer_map",
                                                r->map_seconds, "lap", r->lap_seconds, "weight_reads",
                                                r->load_seconds, "products", r->product_seconds));
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(8));
    json_decref(o);
    return s;
}

void lineage_print(const lineage_report *r, FILE *f)
{
    fprintf(f, "A  %s: %d layers, width %d, MLP %d\n", r->a, r->La, r->Da, r->Fa);
    fprintf(f, "B  %s: %d layers, width %d, MLP %d\n", r->b, r->Lb, r->Db, r->Fb);
    if (r->w_ok)
        fprintf(f, "weight test (up_proj matching vs identity, per layer): combined log10 p = %.1f\n",
                r->w_combined);
    else
        fprintf(f, "weight test: not applicable (%s)\n", r->w_note);
    if (r->map_source[0]) {
        fprintf(f, "layer map (%s, gate/up matching consistency%s): combined log10 p = %.1f\n",
                r->map_source, r->map_screened ? ", screened" : "", r->map_combined);
        fprintf(f, "  B layer <- A layer (Bonferroni log10 p):");
        for (int j = 0; j < r->Lb; j++)
            fprintf(f, " %d<-%d(%.0f)", j, r->src[j], r->layer_log10p[j]);
        fputc('\n', f);
    }
    if (r->a_ok)
        fprintf(f, "activation test (%s): combined log10 p = %.1f\n", r->a_note, r->a_combined);
    else
        fprintf(f, "activation test: %s\n", r->a_note[0] ? r->a_note : "not run");
    for (int k = 0; k < r->n_dup; k++)
        fprintf(f, "B repeats its own layer %d at layer %d (log10 p %.0f)\n", r->dup[k][0], r->dup[k][1],
                r->dup_log10p[k]);
    if (r->v_ok)
        fprintf(f, "vocabulary: %zu and %zu tokens, %zu shared; embedding correlation %.3f (random "
                   "pairing %.3f); %s\n",
                r->va, r->vb, r->v_shared, r->emb_corr, r->emb_baseline, r->v_note);
    if (r->n_norm > 0) {
        double mp = 0, mc = 0, mb = 0;
        for (int j = 0; j < r->n_norm; j++)
            mp += r->norm_pearson[j] / r->n_norm, mc += r->norm_cosine[j] / r->n_norm,
                mb += r->norm_base_mean[j] / r->n_norm;
        fprintf(f, "norm weights: mean centred correlation %.3f (shuffled %.3f); raw cosine %.3f "
                   "(uninformative: every norm starts at 1)\n",
                mp, mb, mc);
    }
    fprintf(f, "verdict: %s%s%s (log10 p = %.1f over %d test%s; %.1f s, LAP %.1f s)\n",
            r->derived ? "DERIVED" : "independent", r->derived ? ", " : "", r->derived ? r->kind : "",
            r->log10_p, r->n_tests, r->n_tests == 1 ? "" : "s", r->seconds, r->lap_seconds);
}

int lineage_write_html(const lineage_report *r, const char *path, dk_err *err)
{
    fs_atomic a;
    if (fs_atomic_open(&a, path, err) != 0)
        return -1;
    FILE *f = a.f;
    fputs("<!doctype html><html><head><meta charset=\"utf-8\"><title>dokja lineage</title><style>"
          "body{font-family:sans-serif;margin:2em}table.map td{width:1.6em;height:1.6em;text-align:center;"
          "font-size:10px;color:#000}table.map th{font-size:10px;font-weight:normal}"
          "td,th{padding:2px 6px}.v{font-size:1.4em}</style></head><body>\n", f);
    fputs("<h1>Lineage: was B derived from A?</h1>\n<p>A: <code>", f);
    xml_escape(f, r->a);
    fprintf(f, "</code> (%d layers, width %d, MLP %d)<br>B: <code>", r->La, r->Da, r->Fa);
    xml_escape(f, r->b);
    fprintf(f, "</code> (%d layers, width %d, MLP %d)</p>\n", r->Lb, r->Db, r->Fb);
    fprintf(f, "<p class=\"v\">Verdict: <b>%s</b>%s%s &mdash; log<sub>10</sub> p = %.1f</p>\n",
            r->derived ? "derived" : "independent", r->derived ? ", " : "", r->derived ? r->kind : "",
            r->log10_p);
    if (r->map_source[0]) {
        fprintf(f, "<h2>Layer map (%s)</h2><p>Cell (row i, column j): &minus;log<sub>10</sub> p of the "
                   "gate/up matching consistency between layer i of A and layer j of B; dark = "
                   "derived. A diagonal is a descendant; two diagonal bands are depth up-scaling.%s</p>\n"
                   "<table class=\"map\"><tr><th>A \\ B</th>",
                r->map_source,
                r->map_screened ? " Screened map: outlined cells were tested in full; the others hold the "
                                  "screen's value (fewer neurons and coordinates, docs/lineage.md)."
                                : "");
        for (int j = 0; j < r->Lb; j++)
            fprintf(f, "<th>%d</th>", j);
        fputs("</tr>\n", f);
        for (int i = 0; i < r->La; i++) {
            fprintf(f, "<tr><th>%d</th>", i);
            for (int j = 0; j < r->Lb; j++) {
                double s = -r->map_log10p[(size_t)i * r->Lb + j];
                double t = s / 30 > 1 ? 1 : s / 30 < 0 ? 0 : s / 30;
                int c = (int)(255 - 200 * t);
                int screen_only = r->map_screened && !r->map_refined[(size_t)i * r->Lb + j];
                fprintf(f, "<td style=\"background:rgb(%d,%d,255)%s\" title=\"A %d, B %d: log10 p %.1f, rho %.3f%s\">%s</td>",
                        c, c, r->map_screened && !screen_only ? ";outline:1px solid #333" : "", i, j, -s,
                        r->map_rho[(size_t)i * r->Lb + j], screen_only ? " (screen)" : "", s > 6 ? "&#9679;" : "");
            }
            fputs("</tr>\n", f);
        }
        fputs("</table>\n<h3>Per layer of B</h3><table><tr><th>B layer</th><th>best A layer</th>"
              "<th>log<sub>10</sub> p (Bonferroni)</th><th>weight test &rho;</th><th>activation &rho;</th>"
              "<th>norm corr (shuffled)</th></tr>\n", f);
        for (int j = 0; j < r->Lb; j++) {
            fprintf(f, "<tr><td>%d</td><td>%d</td><td>%.1f</td>", j, r->src[j], r->layer_log10p[j]);
            if (r->w_ok)
                fprintf(f, "<td>%.3f</td>", r->w_rho[j]);
            else
                fputs("<td>&ndash;</td>", f);
            if (r->a_ok)
                fprintf(f, "<td>%.3f</td>", r->a_rho[j]);
            else
                fputs("<td>&ndash;</td>", f);
            if (j < r->n_norm)
                fprintf(f, "<td>%.3f (%.3f &plusmn; %.3f)</td>", r->norm_pearson[j], r->norm_base_mean[j],
                        r->norm_base_sd[j]);
            else
                fputs("<td>&ndash;</td>", f);
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    fputs("<h2>Tests</h2><ul>", f);
    if (r->w_ok)
        fprintf(f, "<li>Weight test (up_proj rows matched by exact assignment; Spearman against the "
                   "identity; Fisher over layers): log<sub>10</sub> p = %.1f</li>", r->w_combined);
    else {
        fputs("<li>Weight test: not applicable (", f);
        xml_escape(f, r->w_note);
        fputs(")</li>", f);
    }
    fputs("<li>Activation test: ", f);
    xml_escape(f, r->a_note[0] ? r->a_note : "not run");
    if (r->a_ok)
        fprintf(f, "; combined log<sub>10</sub> p = %.1f", r->a_combined);
    fputs("</li>", f);
    for (int k = 0; k < r->n_dup; k++)
        fprintf(f, "<li>B repeats its layer %d at layer %d (log<sub>10</sub> p %.0f)</li>", r->dup[k][0],
                r->dup[k][1], r->dup_log10p[k]);
    if (r->v_ok) {
        fprintf(f, "<li>Vocabulary: %zu and %zu tokens, %zu shared; embedding correlation after aligning "
                   "hidden dimensions %.3f (random token pairing %.3f). ",
                r->va, r->vb, r->v_shared, r->emb_corr, r->emb_baseline);
        xml_escape(f, r->v_note);
        fputs("</li>", f);
    }
    fputs("</ul><p>Norm weights are compared by centred (Pearson) correlation against shuffled "
          "baselines, never by raw cosine: every norm starts at 1, so any two models' norms have "
          "cosine near 1.</p>\n", f);
    fprintf(f, "<p><small>dokja %s; %.1f s (layer map %.1f s, assignment %.1f s). Method: Zhu, Ahmed, "
               "Kuditipudi and Liang, Independence Tests for Language Models (arXiv 2502.12292); "
               "docs/lineage.md.</small></p></body></html>\n",
            DOKJA_VERSION, r->seconds, r->map_seconds, r->lap_seconds);
    return fs_atomic_commit(&a, err);
}
