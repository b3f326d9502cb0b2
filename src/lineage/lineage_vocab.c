/* lineage_vocab.c: vocabulary overlap and embedding similarity.
 *
 * Tokens are compared as byte strings: dokja tokenizers store bytes; Hugging Face
 * tokenizer.json vocabularies of byte-level BPE write each byte as a printable
 * character (GPT-2's bytes_to_unicode), which is undone here; other vocabularies
 * (SentencePiece's U+2581 for a space) are compared as their UTF-8 text with U+2581
 * read as a space. A derived model usually keeps its parent's vocabulary; a shared
 * vocabulary alone proves nothing (teams may adopt a public tokenizer), so these
 * numbers inform but do not decide.
 *
 * Embeddings: for shared tokens, the hidden dimensions of B are aligned to A's by
 * an exact assignment on the correlation of embedding columns over those tokens;
 * the mean matched correlation is reported beside the same computation on a random
 * pairing of tokens (the baseline the assignment reaches on unrelated data). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/matmul.h"
#include "interop/byte_unicode.h"
#include "interop/interop.h"
#include "lineage/lap.h"
#include "lineage/lineage_internal.h"
#include "lineage/lineage_match.h"
#include "tokenizer/tokenizer.h"
#include "util/fs.h"
#include "util/utf8.h"

typedef struct {
    uint8_t *bytes;
    size_t len;
    uint32_t id;
} vtok;

typedef struct {
    vtok *t;
    size_t n;
} vocab;

static void vocab_free(vocab *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->t[i].bytes);
    free(v->t);
    v->t = NULL;
    v->n = 0;
}

static int vocab_from_hf(vocab *v, const char *path)
{
    dk_err oe;
    FILE *f = fs_open_regular(path, &oe);
    json_t *j = f ? json_loadf(f, 0, NULL) : NULL;
    if (f)
        fclose(f);
    json_t *m = j ? json_object_get(json_object_get(j, "model"), "vocab") : NULL;
    if (!json_is_object(m)) {
        json_decref(j);
        return -1;
    }
    v->t = calloc(json_object_size(m), sizeof *v->t);
    const char *key;
    json_t *val;
    json_object_foreach(m, key, val) {
        if (!v->t || !json_is_integer(val))
            continue;
        size_t kl = strlen(key);
        uint8_t *b = malloc(kl + 1);
        long bl = b ? byte_unicode_decode((const uint8_t *)key, kl, b) : -1;
        int bytelevel = bl >= 0;
        size_t o = bytelevel ? (size_t)bl : 0;
        if (b && !bytelevel) { /* not byte-level BPE: the text itself, U+2581 as a space */
            o = 0;
            for (size_t i = 0; i < kl; i++) {
                if (i + 2 < kl && (uint8_t)key[i] == 0xE2 && (uint8_t)key[i + 1] == 0x96 &&
                    (uint8_t)key[i + 2] == 0x81) {
                    b[o++] = ' ';
                    i += 2;
                } else {
                    b[o++] = (uint8_t)key[i];
                }
            }
        }
        if (b)
            v->t[v->n++] = (vtok){b, o, (uint32_t)json_integer_value(val)};
    }
    json_decref(j);
    return v->t ? 0 : -1;
}

static int vocab_load(vocab *v, const char *dir)
{
    char path[4200];
    tok *t;
    dk_err err;
    /* any tokenizer dokja reads (its own, a tokenizer.json, a GGUF's); else, leniently,
     * the vocabulary of a tokenizer.json dokja cannot encode with */
    if (tok_open_any(&t, dir, &err) == 0) {
        uint32_t n = tok_vocab_size(t);
        v->t = calloc(n, sizeof *v->t);
        for (uint32_t id = 0; v->t && id < n; id++) {
            size_t len;
            const uint8_t *b = tok_token_bytes(t, id, &len);
            uint8_t *c = malloc(len ? len : 1);
            if (!b || !c) {
                free(c);
                continue;
            }
            memcpy(c, b, len);
            v->t[v->n++] = (vtok){c, len, id};
        }
        tok_free(t);
        return v->t ? 0 : -1;
    }
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    return access(path, R_OK) == 0 ? vocab_from_hf(v, path) : -1;
}

static int vtok_cmp(const void *a, const void *b)
{
    const vtok *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->bytes, y->bytes, n);
    if (c)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Mean matched column correlation of Xa, Xb (n x D, centred unit columns stored
 * as D x n rows). */
static double aligned_corr(mm_ctx *mm, const float *ca, const float *cb, int D, int n, dk_err *err)
{
    float *c = malloc((size_t)D * D * sizeof *c);
    double *cd = malloc((size_t)D * D * sizeof *cd);
    int *perm = malloc((size_t)D * sizeof *perm);
    double res = NAN, total;
    if (c && cd && perm) {
        mm_f32(mm, 0, 1, D, D, n, ca, n, cb, n, 0.0f, c, D);
        for (size_t i = 0; i < (size_t)D * D; i++)
            cd[i] = c[i];
        if (lap_solve_max(cd, D, D, perm, &total, err) == 0)
            res = total / D;
    }
    free(c);
    free(cd);
    free(perm);
    return res;
}

/* rows (n x D) -> centred unit columns as D rows of n. */
static void columns(const float *rows, int n, int D, float *out)
{
    for (int d = 0; d < D; d++) {
        double mean = 0;
        for (int k = 0; k < n; k++)
            mean += rows[(size_t)k * D + d];
        mean /= n;
        for (int k = 0; k < n; k++)
            out[(size_t)d * n + k] = (float)(rows[(size_t)k * D + d] - mean);
    }
    unit_rows(out, (size_t)D, n);
}

void vocab_tests(lineage_report *r, const wsrc *A, const wsrc *B, pool *p)
{
    vocab va = {0}, vb = {0};
    if (vocab_load(&va, r->a) != 0 || vocab_load(&vb, r->b) != 0) {
        snprintf(r->v_note, sizeof r->v_note, "needs a tokenizer in both models (%s, tokenizer.json or a GGUF)",
                 TOK_DEFAULT_FILE);
        vocab_free(&va);
        vocab_free(&vb);
        return;
    }
    qsort(va.t, va.n, sizeof *va.t, vtok_cmp);
    qsort(vb.t, vb.n, sizeof *vb.t, vtok_cmp);
    r->va = va.n, r->vb = vb.n;
    /* shared tokens: a merge walk over the sorted byte strings */
    size_t cap = va.n < vb.n ? va.n : vb.n, ns = 0;
    size_t *ia = malloc((cap + 1) * sizeof *ia), *ib = malloc((cap + 1) * sizeof *ib);
    for (size_t i = 0, j = 0; ia && ib && i < va.n && j < vb.n;) {
        vtok x = va.t[i], y = vb.t[j];
        x.id = y.id = 0;
        int c = vtok_cmp(&x, &y);
        if (c == 0) {
            ia[ns] = va.t[i++].id;
            ib[ns++] = vb.t[j++].id;
        } else if (c < 0) {
            i++;
        } else {
            j++;
        }
    }
    r->v_shared = ns;
    r->v_ok = 1;
    r->emb_corr = r->emb_baseline = NAN;
    if (r->Da != r->Db) {
        snprintf(r->v_note, sizeof r->v_note, "embeddings not compared: hidden widths differ");
    } else if (ns < 64) {
        snprintf(r->v_note, sizeof r->v_note, "embeddings not compared: fewer than 64 shared tokens");
    } else {
        int n = ns > 4096 ? 4096 : (int)ns, D = r->Da;
        size_t *sa = malloc((size_t)n * sizeof *sa), *sb = malloc((size_t)n * sizeof *sb);
        float *ea = malloc((size_t)n * D * sizeof *ea), *eb = malloc((size_t)n * D * sizeof *eb);
        float *ca = malloc((size_t)n * D * sizeof *ca), *cb = malloc((size_t)n * D * sizeof *cb);
        mm_ctx *mm = mm_ctx_new(p);
        dk_err err;
        if (sa && sb && ea && eb && ca && cb && mm) {
            for (int k = 0; k < n; k++) {
                size_t s = (size_t)((double)k * ns / n);
                sa[k] = ia[s];
                sb[k] = ib[s];
            }
            if (wsrc_rows_list(A, "model.embed_tokens.weight", sa, (size_t)n, (size_t)D, ea, &err) == 0 &&
                wsrc_rows_list(B, "model.embed_tokens.weight", sb, (size_t)n, (size_t)D, eb, &err) == 0) {
                columns(ea, n, D, ca);
                columns(eb, n, D, cb);
                r->emb_corr = aligned_corr(mm, ca, cb, D, n, &err);
                /* baseline: B's rows paired with other tokens (a fixed rotation of the list) */
                for (int k = 0; k < n; k++)
                    memcpy(ea + (size_t)k * D, eb + (size_t)((k + n / 2 + 1) % n) * D, (size_t)D * sizeof(float));
                columns(ea, n, D, cb);
                r->emb_baseline = aligned_corr(mm, ca, cb, D, n, &err);
                snprintf(r->v_note, sizeof r->v_note, "embeddings of %d shared tokens", n);
            } else {
                snprintf(r->v_note, sizeof r->v_note, "embeddings not compared: %s", err.msg);
            }
        }
        mm_ctx_free(mm);
        free(sa), free(sb), free(ea), free(eb), free(ca), free(cb);
    }
    free(ia);
    free(ib);
    vocab_free(&va);
    vocab_free(&vb);
}
