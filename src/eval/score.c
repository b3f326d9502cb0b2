/* score.c: see score.h. */
#include "eval/score.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops.h"
#include "util/fs.h"
#include "util/progress.h"
#include "util/utf8.h"

static double logprob_of(const float *z, int V, dk_token y)
{
    return -(logsumexp_row(z, V) - (double)z[y]); /* exactly -row_loss of the training pass */
}

/* A logits buffer of `rows` rows, grown on demand (one per thread: an lm is used by
 * one thread at a time). */
typedef struct {
    float *p;
    size_t rows;
} logit_buf;

static _Thread_local logit_buf g_rows;

static float *logits_rows(size_t rows, int V)
{
    if (rows * (size_t)V > g_rows.rows) {
        float *n = realloc(g_rows.p, rows * (size_t)V * sizeof(float));
        if (!n)
            return NULL;
        g_rows.p = n;
        g_rows.rows = rows * (size_t)V;
    }
    return g_rows.p;
}

int score_continuation(lm *l, const dk_token *ctx, int n_ctx, int ctx_cached,
                       const float *last_logits, const dk_token *cont, int n_cont, double *logprob,
                       dk_err *err)
{
    int V = l->vocab;
    if (n_ctx < 1 || n_cont < 1 || n_ctx + n_cont > l->ctx)
        return dk_errf(err, "%d context + %d continuation tokens do not fit the window of %d",
                       n_ctx, n_cont, l->ctx);
    float *rows = logits_rows((size_t)n_cont, V);
    if (!rows)
        return dk_errf(err, "out of memory");
    /* row 0: the logits after the context; rows 1..: after each continuation token */
    if (ctx_cached)
        memcpy(rows, last_logits, (size_t)V * sizeof(float));
    else if (infer_forward(l->inf, ctx, n_ctx, 0, rows, 1, err) != 0)
        return -1;
    if (n_cont > 1 && infer_forward(l->inf, cont, n_cont - 1, n_ctx,
                                    rows + (size_t)V, n_cont - 1, err) != 0)
        return -1;
    double s = 0;
    for (int i = 0; i < n_cont; i++)
        s += logprob_of(rows + (size_t)i * V, V, cont[i]);
    *logprob = s;
    return 0;
}

static double stderr_of(double acc, size_t n)
{
    return n > 1 ? sqrt(acc * (1 - acc) / (double)(n - 1)) : 0;
}

/* Trailing white space of the context moves to the front of each choice: the
 * pre-tokenizer attaches a word's leading space to the word, as choices have it. */
static size_t context_len_without_trailing_space(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n;
}

typedef struct {
    tok_ids ctx, cont;
    size_t *off; /* choice c's tokens: cont.ids[off[c] .. off[c+1]) */
    size_t off_cap;
    char *tmp;
    size_t tmp_cap;
} item_ids;

static void item_ids_free(item_ids *b)
{
    tok_ids_free(&b->ctx);
    tok_ids_free(&b->cont);
    free(b->off);
    free(b->tmp);
}

/* Tokenizes one item; returns the longest choice's length in tokens, or -1. */
static long tokenize_item(lm *l, const mc_task *t, size_t i, item_ids *b, size_t *trail_out,
                          dk_err *err)
{
    const mc_item *it = &t->items[i];
    size_t clen = context_len_without_trailing_space(it->context), trail = strlen(it->context) - clen;
    *trail_out = trail;
    b->ctx.n = b->cont.n = 0;
    if ((size_t)it->n_choices + 1 > b->off_cap) {
        size_t *n = realloc(b->off, ((size_t)it->n_choices + 1) * sizeof *n);
        if (!n)
            return dk_errf(err, "out of memory");
        b->off = n;
        b->off_cap = (size_t)it->n_choices + 1;
    }
    if (tok_ids_push(&b->ctx, l->doc) != 0 ||
        tok_encode(l->enc, (const uint8_t *)it->context, clen, 0, &b->ctx, err) != 0)
        return dk_errf(err, "out of memory");
    size_t longest = 0;
    for (int c = 0; c < it->n_choices; c++) {
        b->off[c] = b->cont.n;
        size_t cl = strlen(it->choices[c]);
        if (trail + cl + 1 > b->tmp_cap) {
            char *n = realloc(b->tmp, trail + cl + 1);
            if (!n)
                return dk_errf(err, "out of memory");
            b->tmp = n;
            b->tmp_cap = trail + cl + 1;
        }
        memcpy(b->tmp, it->context + clen, trail);
        memcpy(b->tmp + trail, it->choices[c], cl);
        if (tok_encode(l->enc, (const uint8_t *)b->tmp, trail + cl, 0, &b->cont, err) != 0)
            return -1;
        size_t m = b->cont.n - b->off[c];
        if (m == 0)
            return dk_errf(err, "%s: item %zu: choice %d is empty", t->name, i + 1, c);
        longest = m > longest ? m : longest;
    }
    b->off[it->n_choices] = b->cont.n;
    return (long)longest;
}

int score_mc_task(lm *l, const mc_task *t, size_t limit, int show, mc_result *r, dk_err *err)
{
    return score_mc_task_items(l, t, limit, show, r, NULL, err);
}

void mc_result_of(const uint8_t *correct, const uint8_t *skip, size_t n, mc_result *r)
{
    memset(r, 0, sizeof *r);
    size_t m = 0, hits = 0, hits_norm = 0;
    for (size_t i = 0; i < n; i++) {
        if (skip && skip[i])
            continue;
        m++;
        hits += correct[i] & 1;
        hits_norm += correct[i] >> 1 & 1;
    }
    r->n = m;
    r->acc = m ? (double)hits / (double)m : 0;
    r->acc_norm = m ? (double)hits_norm / (double)m : 0;
    r->acc_stderr = stderr_of(r->acc, m);
    r->acc_norm_stderr = stderr_of(r->acc_norm, m);
}

int score_mc_task_items(lm *l, const mc_task *t, size_t limit, int show, mc_result *r,
                        uint8_t *correct, dk_err *err)
{
    memset(r, 0, sizeof *r);
    size_t n = limit && limit < t->n ? limit : t->n, hits = 0, hits_norm = 0;
    float *last = malloc((size_t)l->vocab * sizeof(float));
    if (!last)
        return dk_errf(err, "out of memory");
    item_ids b = {0};
    int rc = 0;
    progress pr;
    progress_start(&pr, t->name, "items", (double)n, !show);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const mc_item *it = &t->items[i];
        size_t trail;
        long longest = tokenize_item(l, t, i, &b, &trail, err);
        if (longest < 0) {
            rc = -1;
            break;
        }
        if (longest + 1 > l->ctx) {
            rc = dk_errf(err, "%s: item %zu: a choice of %ld tokens does not fit the window of %d",
                         t->name, i + 1, longest, l->ctx);
            break;
        }
        /* keep the context's end, so that the longest choice fits after it */
        size_t keep = b.ctx.n, room = (size_t)(l->ctx - longest);
        const dk_token *cp = b.ctx.ids;
        if (keep > room) {
            cp += keep - room;
            keep = room;
            r->truncated++;
        }
        if (infer_forward(l->inf, cp, (int)keep, 0, last, 1, err) != 0) {
            rc = -1;
            break;
        }
        double best = -INFINITY, best_norm = -INFINITY;
        int pick = 0, pick_norm = 0;
        for (int c = 0; c < it->n_choices && rc == 0; c++) {
            double lp;
            int m = (int)(b.off[c + 1] - b.off[c]);
            rc = score_continuation(l, cp, (int)keep, 1, last, b.cont.ids + b.off[c], m, &lp, err);
            double norm = lp / (double)(trail + strlen(it->choices[c]));
            if (lp > best)
                best = lp, pick = c;
            if (norm > best_norm)
                best_norm = norm, pick_norm = c;
        }
        hits += pick == it->gold;
        hits_norm += pick_norm == it->gold;
        if (correct)
            correct[i] = (uint8_t)((pick == it->gold) | (pick_norm == it->gold) << 1);
        progress_update(&pr, (double)(i + 1));
    }
    progress_finish(&pr, (double)n);
    item_ids_free(&b);
    free(last);
    if (rc != 0)
        return rc;
    r->n = n;
    r->acc = n ? (double)hits / (double)n : 0;
    r->acc_norm = n ? (double)hits_norm / (double)n : 0;
    r->acc_stderr = stderr_of(r->acc, n);
    r->acc_norm_stderr = stderr_of(r->acc_norm, n);
    return 0;
}

/* Rolling windows over one document's ids (ids[0] is <|eos|>, never predicted). */
static int score_ids(lm *l, const dk_token *ids, size_t n, int window, double *nll, dk_err *err)
{
    int V = l->vocab;
    size_t scored = 1, W = (size_t)window, stride = W / 2 ? W / 2 : 1;
    while (scored < n) {
        size_t end = scored == 1 ? (n < W ? n : W) : (scored + stride < n ? scored + stride : n);
        size_t begin = end > W ? end - W : 0;
        size_t rows = end - scored; /* logits of positions scored-1 .. end-2 */
        float *z = logits_rows(rows, V);
        if (!z)
            return dk_errf(err, "out of memory");
        if (infer_forward(l->inf, ids + begin, (int)(end - 1 - begin), 0, z,
                          (int)rows, err) != 0)
            return -1;
        for (size_t r = 0; r < rows; r++)
            *nll -= logprob_of(z + r * (size_t)V, V, ids[scored + r]);
        scored = end;
    }
    return 0;
}

int score_text_file(lm *l, const char *path, size_t limit, int window, int show, text_result *r,
                    dk_err *err)
{
    memset(r, 0, sizeof *r);
    if (window <= 1 || window > l->ctx)
        window = l->ctx;
    fs_map map;
    if (fs_map_open(&map, path, SIZE_MAX, err) != 0)
        return -1;
    const uint8_t *s = map.data;
    size_t len = map.size, bad = utf8_validate(s, len);
    if (bad != len) {
        fs_map_close(&map);
        return dk_errf(err, "%s: invalid UTF-8 at byte %zu", path, bad);
    }
    tok_ids ids = {0};
    int rc = 0;
    progress pr;
    progress_start(&pr, path, "MB", (double)len / 1e6, !show);
    for (size_t off = 0; off < len && rc == 0;) {
        const uint8_t *nl = memchr(s + off, '\n', len - off);
        size_t b = off, e = nl ? (size_t)(nl - s) : len;
        off = e + 1;
        if (e > b && s[e - 1] == '\r')
            e--;
        if (e == b)
            continue;
        if (limit && r->docs == limit)
            break;
        ids.n = 0;
        if (tok_ids_push(&ids, l->doc) != 0 || tok_encode(l->enc, s + b, e - b, 0, &ids, err) != 0) {
            rc = dk_errf(err, "out of memory");
            break;
        }
        rc = score_ids(l, ids.ids, ids.n, window, &r->nll, err);
        r->docs++;
        r->tokens += ids.n - 1;
        r->bytes += e - b;
        progress_update(&pr, (double)(off < len ? off : len) / 1e6);
    }
    progress_finish(&pr, (double)len / 1e6);
    tok_ids_free(&ids);
    fs_map_close(&map);
    if (rc != 0)
        return rc;
    if (r->bytes == 0)
        return dk_errf(err, "%s: no text to score", path);
    r->bits_per_byte = r->nll / log(2.0) / (double)r->bytes;
    r->token_perplexity = exp(r->nll / (double)r->tokens);
    return 0;
}
