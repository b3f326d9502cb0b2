/* report.c: the verify report as text, JSON and a one-page HTML certificate. */
#include <stdlib.h>
#include <string.h>

#include "audit/verify.h"
#include "train/plot.h"
#include "util/fs.h"
#include "util/version.h"
#include "util/xml.h"

static const char *status_name(check_status s)
{
    return s == CK_PASS ? "PASS" : s == CK_FAIL ? "FAIL" : "SKIP";
}

/* "from scratch", "derived" or "not verified": the verdict of a report. */
static const char *verdict(const verify_report *r)
{
    if (r->failed)
        return "NOT VERIFIED";
    return r->have_view && r->v.from_model ? "VERIFIED, DERIVED (not from scratch)" : "VERIFIED FROM SCRATCH";
}

void verify_print(const verify_report *r, FILE *f)
{
    fputs("dokja ledger verify: ", f);
    dk_put_safe(f, r->run, 500); /* the user's path, with whatever bytes it has */
    fputc('\n', f);
    for (int i = 0; i < r->n; i++)
        fprintf(f, "  %s  %-16s %s\n", status_name(r->c[i].st), r->c[i].name, r->c[i].detail);
    fprintf(f, "%s: %d check(s) failed%s%s\n", verdict(r), r->failed, r->head[0] ? ", head " : "", r->head);
}

json_t *verify_json(const verify_report *r)
{
    json_t *j = json_object(), *cs = json_array();
    json_object_set_new(j, "dokja_version", json_string(DOKJA_VERSION));
    json_object_set_new(j, "run", json_string(r->run));
    json_object_set_new(j, "ok", json_boolean(r->failed == 0));
    json_object_set_new(j, "verdict", json_string(verdict(r)));
    json_object_set_new(j, "failed", json_integer(r->failed));
    if (r->have_view) {
        json_object_set_new(j, "head", json_string(r->head));
        json_object_set_new(j, "records", json_integer((json_int_t)r->v.l.n));
        json_object_set_new(j, "steps", json_integer(r->v.n_steps));
        json_object_set_new(j, "from_scratch", json_boolean(!r->v.from_model && r->failed == 0));
        json_object_set_new(j, "seeds_chosen_by", json_string(r->v.beacon_source ? "beacon" : "trainer"));
    }
    for (int i = 0; i < r->n; i++)
        json_array_append_new(cs, json_pack("{s:s,s:s,s:s}", "name", r->c[i].name, "status",
                                            status_name(r->c[i].st), "detail", r->c[i].detail));
    json_object_set_new(j, "checks", cs);
    return j;
}

static void html_row(FILE *f, const char *k, const char *v)
{
    fprintf(f, "<tr><th>");
    xml_escape(f, k);
    fprintf(f, "</th><td><code>");
    xml_escape(f, v ? v : "");
    fprintf(f, "</code></td></tr>\n");
}

/* What the genesis commits to, as rows. */
static void html_genesis(FILE *f, const verify_report *r)
{
    const ledger_view *v = &r->v;
    json_t *g = v->genesis->j, *dj = json_object_get(g, "dokja"), *kj = json_object_get(g, "kernel");
    char b[512];
    fprintf(f, "<h2>What the genesis commits to</h2>\n<table>\n");
    snprintf(b, sizeof b, "%s (commit %s)", json_string_value(json_object_get(dj, "version")),
             json_string_value(json_object_get(dj, "commit")));
    html_row(f, "dokja", b);
    html_row(f, "compiler", json_string_value(json_object_get(dj, "compiler")));
    html_row(f, "kernel path", json_string_value(json_object_get(kj, "path")));
    snprintf(b, sizeof b, "d%d, %d layers, %d heads (%d kv), FFN %d, vocabulary %d", v->cfg.dim, v->cfg.n_layers,
             v->cfg.n_heads, v->cfg.n_kv_heads, v->cfg.ffn_dim, v->cfg.vocab_size);
    html_row(f, "model", b);
    html_row(f, "tokenizer SHA-256", v->tokenizer_sha256);
    html_row(f, "data manifest SHA-256", v->manifest_sha256);
    html_row(f, "data Merkle root", v->merkle_root);
    snprintf(b, sizeof b, "%ld steps x %d sequences x %d tokens, lr %g to %g, warmup %ld, %s", v->steps, v->batch_size,
             v->seq_len, v->lr, v->min_lr, v->warmup, v->bf16 ? "bf16 matmuls" : "fp32");
    html_row(f, "training", b);
    if (v->beacon_source)
        snprintf(b, sizeof b, "from the beacon %s", v->beacon_source);
    else
        snprintf(b, sizeof b, "chosen by the trainer (seed %llu)", (unsigned long long)v->seed);
    html_row(f, "seeds", b);
    html_row(f, "start", v->from_model ? "from a model (derived)" : "random initialisation");
    html_row(f, "ledger head", r->head);
    fprintf(f, "</table>\n");
}

static void html_curve(FILE *f, const verify_report *r)
{
    const ledger_view *v = &r->v;
    double *x = malloc((size_t)(v->n_steps ? v->n_steps : 1) * sizeof *x);
    double *y = malloc((size_t)(v->n_steps ? v->n_steps : 1) * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return;
    }
    for (long k = 0; k < v->n_steps; k++) {
        int ok = 1;
        x[k] = (double)v->st[k].step;
        y[k] = ledger_num(&v->l.r[v->st[k].rec], "loss", &ok);
    }
    plot_series s = {"train loss (ledger)", x, y, (size_t)v->n_steps};
    fprintf(f, "<h2>Loss recorded in the ledger</h2>\n");
    plot_svg_write(f, "training loss", "step", "loss (nats per token)", &s, 1);
    free(x);
    free(y);
}

int verify_write_html(const verify_report *r, const char *path, dk_err *err)
{
    fs_atomic a;
    if (fs_atomic_open(&a, path, err) != 0)
        return -1;
    FILE *f = a.f;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>dokja ledger certificate"
               "</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:"
               "collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
               ".PASS{color:#176617}.FAIL{color:#b00}.SKIP{color:#777}code{word-break:break-all}</style></head>\n"
               "<body>\n<h1>Training ledger certificate</h1>\n<p>Run <code>");
    xml_escape(f, r->run);
    fprintf(f, "</code> checked by dokja %s.</p>\n<p id=\"verdict\" class=\"%s\"><strong>", DOKJA_VERSION,
            r->failed ? "FAIL" : "PASS");
    xml_escape(f, verdict(r));
    fprintf(f, "</strong> (%d check(s) failed)</p>\n<h2>Checks</h2>\n<table id=\"checks\">\n", r->failed);
    for (int i = 0; i < r->n; i++) {
        fprintf(f, "<tr><td class=\"%s\">%s</td><th>", status_name(r->c[i].st), status_name(r->c[i].st));
        xml_escape(f, r->c[i].name);
        fprintf(f, "</th><td>");
        xml_escape(f, r->c[i].detail);
        fprintf(f, "</td></tr>\n");
    }
    fprintf(f, "</table>\n");
    if (r->have_view) {
        html_genesis(f, r);
        html_curve(f, r);
    }
    fprintf(f, "<p>What a ledger proves and what it cannot: docs/ledger.md. The steps between checkpoints are "
               "proven by <code>dokja ledger replay</code>.</p>\n</body></html>\n");
    return fs_atomic_commit(&a, err);
}
