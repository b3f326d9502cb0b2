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
#include "util/hash.h"
#include "util/utf8.h"

/* One model's run on the probe text: where each of its tokens ends (bytes), its
 * tokenizer's identity, and every layer's gate and up outputs at every position. One
 * block, so that lineage_cache can keep it: a function of the model, the probe text,
 * probe_tokens and threads only. */
typedef struct {
    size_t n;          /* tokens (the document start included) */
    int L, F;
    char tok_sha256[65];
    size_t *end;       /* n: byte offset where token k ends */
    float *gate, *up;  /* (L, n, F) each */
} probe_rec;

static void tap(void *ctx, int layer, const float *gate, const float *up, int n, int pos0)
{
    probe_rec *a = ctx;
    size_t o = ((size_t)layer * a->n + (size_t)pos0) * a->F, k = (size_t)n * a->F;
    memcpy(a->gate + o, gate, k * sizeof(float));
    memcpy(a->up + o, up, k * sizeof(float));
}

/* Neurons gathered at a time: 16 floats, one cache line of each position's row. */
#define NEURON_BLOCK 16

/* Per layer: the positions pos[0..T) of raw (L, n, F) -> (F, T) centred rows in out,
 * each scaled to unit length. Every neuron's mean is summed over t in order, in
 * double, so blocking the neurons changes no bit. */
static void to_neurons(const float *raw, size_t n, const int *pos, int T, int L, int F, float *out)
{
    for (int l = 0; l < L; l++) {
        const float *m = raw + (size_t)l * n * F;
        float *o = out + (size_t)l * F * T;
        for (int f0 = 0; f0 < F; f0 += NEURON_BLOCK) {
            int nb = F - f0 < NEURON_BLOCK ? F - f0 : NEURON_BLOCK;
            double mean[NEURON_BLOCK] = {0};
            for (int t = 0; t < T; t++) {
                const float *x = m + (size_t)pos[t] * F + f0;
                for (int b = 0; b < nb; b++)
                    mean[b] += x[b];
            }
            for (int b = 0; b < nb; b++)
                mean[b] /= T;
            for (int t = 0; t < T; t++) {
                const float *x = m + (size_t)pos[t] * F + f0;
                for (int b = 0; b < nb; b++)
                    o[(size_t)(f0 + b) * T + t] = (float)(x[b] - mean[b]);
            }
        }
        unit_rows(o, (size_t)F, T);
    }
}

/* Opens the model in dir, reads the probe text (at most probe_tokens tokens and its
 * context) recording every layer's gate and up outputs, and closes it: *out (one
 * malloc'd block of *bytes). */
static int probe_record(const char *dir, const uint8_t *text, size_t len, const lineage_opts *o, probe_rec **out,
                        size_t *bytes, dk_err *err)
{
    lm l;
    tok_ids ids = {0};
    *out = NULL;
    if (lm_open(&l, dir, o->threads, 0, err) != 0)
        return -1;
    int rc = 0;
    if (tok_ids_push(&ids, l.doc) != 0 || tok_encode(l.enc, text, len, 0, &ids, err) != 0)
        rc = dk_errf(err, "out of memory");
    size_t n = ids.n;
    if (n > (size_t)o->probe_tokens)
        n = (size_t)o->probe_tokens;
    if (n > (size_t)l.ctx)
        n = (size_t)l.ctx;
    ids.n = n;
    const model_config *c = model_cfg(l.m);
    size_t act = (size_t)c->n_layers * n * c->ffn_dim;
    *bytes = sizeof(probe_rec) + 2 * act * sizeof(float) + n * sizeof(size_t);
    probe_rec *a = rc == 0 ? malloc(*bytes) : NULL;
    if (rc == 0 && !a)
        rc = dk_errf(err, "out of memory for activations (%zu MiB)", *bytes >> 20);
    if (rc == 0) {
        a->n = n, a->L = c->n_layers, a->F = c->ffn_dim;
        snprintf(a->tok_sha256, sizeof a->tok_sha256, "%s", l.tok_sha256);
        a->end = (size_t *)(a + 1); /* the size_t first: aligned whatever act is */
        a->gate = (float *)(a->end + n);
        a->up = a->gate + act;
        size_t off = 0;
        for (size_t k = 0; k < n; k++) {
            size_t tl = 0;
            if (k > 0 && ids.ids[k] != l.doc)
                tok_token_bytes(l.tok, ids.ids[k], &tl);
            off += tl;
            a->end[k] = off;
        }
        infer_set_tap(l.inf, tap, a);
        rc = infer_forward(l.inf, ids.ids, (int)n, 0, NULL, 0, err);
        infer_set_tap(l.inf, NULL, NULL);
    }
    tok_ids_free(&ids);
    lm_close(&l);
    if (rc != 0) {
        free(a);
        return -1;
    }
    *out = a;
    return 0;
}

/* The positions of a where slot >= 0, as centred unit neuron vectors (L, F, T) into
 * *g and *u (malloc'd). */
static int neurons_of(const probe_rec *a, const int *slot, int T, float **g, float **u, dk_err *err)
{
    size_t n = (size_t)a->L * T * a->F;
    int *pos = malloc((size_t)T * sizeof *pos);
    *g = malloc(n * sizeof(float));
    *u = malloc(n * sizeof(float));
    if (!pos || !*g || !*u) {
        free(pos);
        return dk_errf(err, "out of memory for activations (%zu MiB)", n * 8 >> 20);
    }
    for (size_t k = 0; k < a->n; k++)
        if (slot[k] >= 0)
            pos[slot[k]] = (int)k;
    to_neurons(a->gate, a->n, pos, T, a->L, a->F, *g);
    to_neurons(a->up, a->n, pos, T, a->L, a->F, *u);
    free(pos);
    return 0;
}

/* One model's neuron vectors over the aligned positions: (L, F, T) each. */
typedef struct {
    int L, F, T;
    float *gate, *up;
} acts;

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

/* The probe record of model dir (entry m of o->cache, or NULL): from the cache, or run
 * (and offered to it). *own is what the caller frees. */
static int probe_of(lc_model *m, const char *dir, const uint8_t *text, size_t len, const lineage_opts *o,
                    const probe_rec **rec, probe_rec **own, dk_err *err)
{
    struct {
        uint8_t text_sha256[32];
        int probe_tokens, threads;
    } key;
    memset(&key, 0, sizeof key);
    if (o->cache && m) {
        sha256_buf(text, len, key.text_sha256);
        key.probe_tokens = o->probe_tokens;
        key.threads = o->threads;
    }
    *own = NULL;
    if ((*rec = lineage_cache_get(o->cache, m, LC_PROBE, &key, sizeof key, NULL)))
        return 0;
    size_t bytes;
    if (probe_record(dir, text, len, o, own, &bytes, err) != 0)
        return -1;
    *rec = *own;
    if (lineage_cache_put(o->cache, m, LC_PROBE, &key, sizeof key, *own, bytes))
        *own = NULL;
    return 0;
}

int activation_tests(lineage_report *r, lc_model *ma, lc_model *mb, pool *p, const lineage_opts *o,
                     dk_err *err)
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
    /* the models run one at a time: only one is in memory */
    const probe_rec *A = NULL, *B = NULL;
    probe_rec *own_a = NULL, *own_b = NULL;
    acts aa = {0}, ab = {0};
    int *slot_a = NULL, *slot_b = NULL, rc = 0;
    if (probe_of(ma, r->a, text, len, o, &A, &own_a, err) != 0 || probe_of(mb, r->b, text, len, o, &B, &own_b, err) != 0)
        rc = -1;
    int same = rc == 0 && strcmp(A->tok_sha256, B->tok_sha256) == 0;
    if (rc == 0) {
        slot_a = malloc((A->n ? A->n : 1) * sizeof *slot_a);
        slot_b = malloc((B->n ? B->n : 1) * sizeof *slot_b);
        if (!slot_a || !slot_b)
            rc = dk_errf(err, "out of memory");
    }
    int T = 0;
    if (rc == 0) { /* merge walk over token end offsets */
        for (size_t k = 0; k < A->n; k++)
            slot_a[k] = -1;
        for (size_t k = 0; k < B->n; k++)
            slot_b[k] = -1;
        size_t i = 0, j = 0;
        while (i < A->n && j < B->n) {
            if (A->end[i] == B->end[j]) {
                slot_a[i++] = T;
                slot_b[j++] = T++;
            } else if (A->end[i] < B->end[j]) {
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
    aa.L = A->L, aa.F = A->F, ab.L = B->L, ab.F = B->F;
    if (rc == 0)
        rc = neurons_of(A, slot_a, T, &aa.gate, &aa.up, err);
    if (rc == 0)
        rc = neurons_of(B, slot_b, T, &ab.gate, &ab.up, err);
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
    free(own_a);
    free(own_b);
    free(text);
    return rc;
}
