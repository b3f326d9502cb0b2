/* lineage_act.c: the activation test. Both models read the same probe text; at
 * positions where both have just read the same bytes, the gate and up projection
 * outputs of every layer are recorded. A neuron is then the vector of its outputs
 * over those positions (centred, unit length): comparing such vectors is immune to
 * any permutation or rotation of the weights and works across hidden widths.
 *
 * Alignment: with the same tokenizer (equal SHA-256) the token positions are the
 * same. Otherwise a position is kept when a token of A and a token of B end at the
 * same byte of the text (the <|eos|> that starts the document included), so both
 * models have read exactly the same prefix there. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infer/lm.h"
#include "interop/interop.h"
#include "lineage/lineage_internal.h"
#include "lineage/lineage_match.h"
#include "lineage/stats.h"
#include "util/fs.h"
#include "util/utf8.h"

typedef struct {
    int L, F, T;      /* layers, neurons, aligned positions */
    const int *slot;  /* per token position: its aligned index or -1 */
    float *gate, *up; /* (L, T, F) each, then (L, F, T) unit neuron vectors */
} acts;

static void tap(void *ctx, int layer, const float *gate, const float *up, int n, int pos0)
{
    acts *a = ctx;
    for (int i = 0; i < n; i++) {
        int s = a->slot[pos0 + i];
        if (s < 0)
            continue;
        size_t o = ((size_t)layer * a->T + (size_t)s) * a->F;
        memcpy(a->gate + o, gate + (size_t)i * a->F, (size_t)a->F * sizeof(float));
        memcpy(a->up + o, up + (size_t)i * a->F, (size_t)a->F * sizeof(float));
    }
}

/* (T, F) rows -> (F, T) centred unit rows, per layer. */
static int to_neurons(float *x, int L, int T, int F)
{
    float *tmp = malloc((size_t)T * F * sizeof *tmp);
    if (!tmp)
        return -1;
    for (int l = 0; l < L; l++) {
        float *m = x + (size_t)l * T * F;
        memcpy(tmp, m, (size_t)T * F * sizeof *tmp);
        for (int f = 0; f < F; f++) {
            double mean = 0;
            for (int t = 0; t < T; t++)
                mean += tmp[(size_t)t * F + f];
            mean /= T;
            for (int t = 0; t < T; t++)
                m[(size_t)f * T + t] = (float)(tmp[(size_t)t * F + f] - mean);
        }
        unit_rows(m, (size_t)F, T);
    }
    free(tmp);
    return 0;
}

typedef struct {
    lm l;
    tok_ids ids;
    size_t *end; /* byte offset where token k ends */
} probe_run;

static int tokenize_probe(probe_run *pr, const char *dir, const uint8_t *text, size_t len,
                          const lineage_opts *o, dk_err *err)
{
    if (lm_open(&pr->l, dir, o->threads, 0, err) != 0)
        return -1;
    if (tok_ids_push(&pr->ids, pr->l.doc) != 0 ||
        tok_encode(pr->l.enc, text, len, 0, &pr->ids, err) != 0)
        return dk_errf(err, "out of memory");
    size_t n = pr->ids.n;
    if (n > (size_t)o->probe_tokens)
        n = (size_t)o->probe_tokens;
    if (n > (size_t)pr->l.ctx)
        n = (size_t)pr->l.ctx;
    pr->ids.n = n;
    pr->end = malloc(n * sizeof *pr->end);
    if (!pr->end)
        return dk_errf(err, "out of memory");
    size_t off = 0;
    for (size_t k = 0; k < n; k++) {
        size_t tl = 0;
        if (k > 0 && pr->ids.ids[k] != pr->l.doc)
            tok_token_bytes(pr->l.tok, pr->ids.ids[k], &tl);
        off += tl;
        pr->end[k] = off;
    }
    return 0;
}

static void probe_free(probe_run *pr)
{
    free(pr->end);
    tok_ids_free(&pr->ids);
    lm_close(&pr->l);
    memset(pr, 0, sizeof *pr); /* safe to call again */
}

/* Runs the model on its probe tokens, recording the aligned positions. */
static int record(probe_run *pr, acts *a, const int *slot, dk_err *err)
{
    const model_config *c = model_cfg(pr->l.m);
    a->L = c->n_layers;
    a->F = c->ffn_dim;
    a->slot = slot;
    size_t n = (size_t)a->L * a->T * a->F;
    a->gate = malloc(n * sizeof(float));
    a->up = malloc(n * sizeof(float));
    if (!a->gate || !a->up)
        return dk_errf(err, "out of memory for activations (%zu MiB)", n * 8 >> 20);
    infer_set_tap(pr->l.inf, tap, a);
    int rc = infer_forward(pr->l.inf, pr->ids.ids, (int)pr->ids.n, 0, NULL, 0, err);
    infer_set_tap(pr->l.inf, NULL, NULL);
    if (rc == 0 && (to_neurons(a->gate, a->L, a->T, a->F) != 0 || to_neurons(a->up, a->L, a->T, a->F) != 0))
        rc = dk_errf(err, "out of memory");
    return rc;
}

static int read_probe(const lineage_opts *o, uint8_t **text, size_t *len, dk_err *err)
{
    if (!o->probe_path) {
        *len = strlen(LINEAGE_PROBE_TEXT);
        *text = malloc(*len);
        if (!*text)
            return dk_errf(err, "out of memory");
        memcpy(*text, LINEAGE_PROBE_TEXT, *len);
        return 0;
    }
    FILE *f = fs_open_regular(o->probe_path, err);
    if (!f)
        return -1;
    int rc = fs_read_stream(f, o->probe_path, (size_t)64 << 20, text, len, err);
    fclose(f);
    if (rc != 0)
        return -1;
    size_t bad = utf8_validate(*text, *len);
    if (bad != *len) {
        free(*text);
        return dk_errf(err, "%s: invalid UTF-8 at byte %zu", o->probe_path, bad);
    }
    return 0;
}

int activation_tests(lineage_report *r, pool *p, const lineage_opts *o, dk_err *err)
{
    tok *ta = NULL, *tb = NULL;
    dk_err te;
    int have = tok_open_any(&ta, r->a, &te) == 0 && tok_open_any(&tb, r->b, &te) == 0;
    tok_free(ta);
    tok_free(tb);
    if (!have) {
        snprintf(r->a_note, sizeof r->a_note, "not run: needs a tokenizer dokja encodes with in both models");
        return 0;
    }
    uint8_t *text = NULL;
    size_t len = 0;
    if (read_probe(o, &text, &len, err) != 0)
        return -1;
    probe_run A = {0}, B = {0};
    acts aa = {0}, ab = {0};
    int *slot_a = NULL, *slot_b = NULL, rc = 0;
    if (tokenize_probe(&A, r->a, text, len, o, err) != 0 || tokenize_probe(&B, r->b, text, len, o, err) != 0)
        rc = -1;
    int same = rc == 0 && strcmp(A.l.tok_sha256, B.l.tok_sha256) == 0;
    if (rc == 0) {
        slot_a = malloc(A.ids.n * sizeof *slot_a);
        slot_b = malloc(B.ids.n * sizeof *slot_b);
        if (!slot_a || !slot_b)
            rc = dk_errf(err, "out of memory");
    }
    int T = 0;
    if (rc == 0) { /* merge walk over token end offsets */
        for (size_t k = 0; k < A.ids.n; k++)
            slot_a[k] = -1;
        for (size_t k = 0; k < B.ids.n; k++)
            slot_b[k] = -1;
        size_t i = 0, j = 0;
        while (i < A.ids.n && j < B.ids.n) {
            if (A.end[i] == B.end[j]) {
                slot_a[i++] = T;
                slot_b[j++] = T++;
            } else if (A.end[i] < B.end[j]) {
                i++;
            } else {
                j++;
            }
        }
        snprintf(r->a_note, sizeof r->a_note,
                 same ? "same tokenizer: %d token positions of the probe text"
                      : "different tokenizers: %d positions where both models end a token at the same byte",
                 T);
    }
    r->a_tokens = T;
    if (rc == 0 && T < 32) {
        snprintf(r->a_note + strlen(r->a_note), sizeof r->a_note - strlen(r->a_note),
                 "; too few for the test");
        goto done;
    }
    aa.T = ab.T = T;
    /* the models run one at a time: only one is in memory */
    if (rc == 0)
        rc = record(&A, &aa, slot_a, err);
    probe_free(&A);
    if (rc == 0)
        rc = record(&B, &ab, slot_b, err);
    probe_free(&B);
    if (rc != 0)
        goto done;
    {
        matcher m;
        if (matcher_init(&m, p) != 0) {
            rc = dk_errf(err, "out of memory");
            goto done;
        }
        int R = o->sample < ab.F ? o->sample : ab.F;
        if (R > aa.F)
            R = aa.F;
        size_t per = (size_t)R * T;
        float *bg = malloc(per * sizeof *bg), *bu = malloc(per * sizeof *bu);
        if (!bg || !bu)
            rc = dk_errf(err, "out of memory");
        int have_map = strcmp(r->map_source, "weights") == 0;
        for (int j = 0; j < r->Lb && rc == 0; j++) {
            for (int k = 0; k < R; k++) { /* B's sampled neurons, as in the weight map */
                size_t f = (size_t)((double)k * ab.F / R);
                memcpy(bg + (size_t)k * T, ab.gate + ((size_t)j * ab.F + f) * T, (size_t)T * sizeof(float));
                memcpy(bu + (size_t)k * T, ab.up + ((size_t)j * ab.F + f) * T, (size_t)T * sizeof(float));
            }
            for (int i = 0; i < r->La && rc == 0; i++) {
                if (have_map && i != r->src[j])
                    continue;
                double rho, lp;
                rc = match_gate_up(&m, bg, bu, R, aa.gate + (size_t)i * aa.F * T,
                                   aa.up + (size_t)i * aa.F * T, aa.F, T, &rho, &lp, err);
                if (!have_map) {
                    r->map_rho[i * r->Lb + j] = rho;
                    r->map_log10p[i * r->Lb + j] = lp;
                } else {
                    r->a_rho[j] = rho;
                    double c = lp + log10((double)r->La); /* src was chosen among La layers */
                    r->a_log10p[j] = c < 0 ? c : 0;
                }
            }
        }
        if (rc == 0 && !have_map) {
            snprintf(r->map_source, sizeof r->map_source, "activations");
            lineage_summarise_map(r);
            for (int j = 0; j < r->Lb; j++) {
                r->a_rho[j] = r->map_rho[r->src[j] * r->Lb + j];
                r->a_log10p[j] = r->layer_log10p[j];
            }
        }
        if (rc == 0) {
            r->a_combined = fisher_log10_p(r->a_log10p, r->Lb);
            r->a_ok = 1;
        }
        r->lap_seconds += m.lap_seconds;
        free(bg);
        free(bu);
        matcher_free(&m);
    }
done:
    free(aa.gate), free(aa.up), free(ab.gate), free(ab.up);
    free(slot_a), free(slot_b);
    probe_free(&A);
    probe_free(&B);
    free(text);
    return rc;
}
