/* order.c: the training-order test (see order.h). */
#include "audit/order.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audit/view.h"
#include "interop/interop.h"
#include "model/model.h"
#include "train/sampler.h"
#include "util/pool.h"
#include "util/progress.h"

typedef struct {
    int src;
    uint64_t win;
    long last;   /* the last step that drew it (from 1) */
    double loss; /* mean over its tokens */
    double rank_t, rank_l;
} probe;

/* The probes: N sequences spread evenly over the run's draws, then their last sighting
 * over the whole run (a window may come again in a later epoch). Open addressing on
 * (source, window). */
static int choose_probes(ledger_view *v, const dataset *d, probe **out, int *n_out, dk_err *err)
{
    uint64_t total = (uint64_t)v->n_steps * (uint64_t)v->batch_size; /* sequences drawn */
    int n = *n_out;
    if ((uint64_t)n > total)
        n = (int)total;
    probe *p = calloc((size_t)(n ? n : 1), sizeof *p);
    size_t cap = 4;
    while (cap < (size_t)n * 4)
        cap *= 2;
    int *slot = malloc(cap * sizeof *slot);
    sampler s;
    if (!p || !slot) {
        free(p);
        free(slot);
        return dk_errf(err, "out of memory");
    }
    memset(slot, -1, cap * sizeof *slot);
    if (sampler_init(&s, d, 0, v->seq_len, v->data_order_seed, err) != 0) {
        free(p);
        free(slot);
        return -1;
    }
    /* probe k is the first new window at or after sequence (k + 0.5) total / n */
    int k = 0;
    uint64_t g = 0, want = n ? (uint64_t)(0.5 * (double)total / n) : UINT64_MAX;
    for (long st = 1; st <= v->n_steps; st++)
        for (int q = 0; q < v->batch_size; q++, g++) {
            uint64_t w;
            int src = sampler_pick(&s, &w);
            size_t h = (size_t)((((uint64_t)src << 40) ^ w) * 0x9e3779b97f4a7c15ULL >> 7) & (cap - 1);
            while (slot[h] >= 0 && (p[slot[h]].src != src || p[slot[h]].win != w))
                h = (h + 1) & (cap - 1);
            if (slot[h] >= 0) {
                p[slot[h]].last = st; /* seen again */
            } else if (k < n && g >= want) {
                p[k] = (probe){src, w, st, 0, 0, 0};
                slot[h] = k++;
                want = k < n ? (uint64_t)(((double)k + 0.5) * (double)total / n) : UINT64_MAX;
            }
        }
    sampler_free(&s);
    free(slot);
    *out = p;
    *n_out = k;
    return 0;
}

static int by_key(const void *a, const void *b, int loss)
{
    const probe *x = a, *y = b;
    double u = loss ? x->loss : (double)x->last, w = loss ? y->loss : (double)y->last;
    return (u > w) - (u < w);
}
static int by_step(const void *a, const void *b) { return by_key(a, b, 0); }
static int by_loss(const void *a, const void *b) { return by_key(a, b, 1); }

/* Average ranks (ties share the mean rank) of the sorted key, into rank_t or rank_l. */
static void rank(probe *p, int n, int loss)
{
    qsort(p, (size_t)n, sizeof *p, loss ? by_loss : by_step);
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && (loss ? p[j + 1].loss == p[i].loss : p[j + 1].last == p[i].last))
            j++;
        double r = (i + j) / 2.0 + 1;
        for (int k = i; k <= j; k++)
            *(loss ? &p[k].rank_l : &p[k].rank_t) = r;
        i = j + 1;
    }
}

static double spearman(probe *p, int n)
{
    rank(p, n, 1);
    rank(p, n, 0); /* leaves p sorted by step */
    double mt = 0, ml = 0, st = 0, sl = 0, c = 0;
    for (int i = 0; i < n; i++)
        mt += p[i].rank_t, ml += p[i].rank_l;
    mt /= n, ml /= n;
    for (int i = 0; i < n; i++) {
        c += (p[i].rank_t - mt) * (p[i].rank_l - ml);
        st += (p[i].rank_t - mt) * (p[i].rank_t - mt);
        sl += (p[i].rank_l - ml) * (p[i].rank_l - ml);
    }
    return st > 0 && sl > 0 ? c / sqrt(st * sl) : 0;
}

/* log10 of the standard normal's lower tail at z, accurate far into the tail. */
static double log10_norm_cdf(double z)
{
    if (z > -30)
        return log10(0.5 * erfc(-z / sqrt(2)));
    /* Mills ratio: phi(z) / |z| */
    return (-0.5 * z * z - log(-z * sqrt(2 * M_PI))) / log(10);
}

/* Each probe's mean loss under the model, in batches. */
static int score(model *m, const sampler *s, probe *p, int n, int S, int quiet, dk_err *err)
{
    enum { B = 8 };
    dk_token *in = malloc((size_t)B * S * sizeof *in), *tg = malloc((size_t)B * S * sizeof *tg);
    double *row = malloc((size_t)B * S * sizeof *row);
    if (!in || !tg || !row || model_reserve(m, B, S, err) != 0) {
        free(in);
        free(tg);
        free(row);
        return err->msg[0] ? -1 : dk_errf(err, "out of memory");
    }
    progress pr;
    progress_start(&pr, "scoring training sequences", "sequences", n, quiet);
    for (int i = 0; i < n; i += B) {
        progress_update(&pr, i);
        int b = n - i < B ? n - i : B;
        for (int k = 0; k < b; k++)
            sampler_window(s, p[i + k].src, p[i + k].win, in + (size_t)k * S, tg + (size_t)k * S);
        model_forward_loss(m, in, tg, b, S, row);
        for (int k = 0; k < b; k++) {
            double sum = 0;
            for (int t = 0; t < S; t++)
                sum += row[(size_t)k * S + t];
            p[i + k].loss = sum / S;
        }
    }
    progress_finish(&pr, n);
    free(in);
    free(tg);
    free(row);
    return 0;
}

int ledger_audit_order(const order_opts *o, order_result *r, dk_err *err)
{
    memset(r, 0, sizeof *r);
    err->msg[0] = 0;
    ledger_view v;
    dataset d;
    pool *pl = NULL;
    model *m = NULL;
    probe *p = NULL;
    int n = o->sequences > 0 ? o->sequences : 8000, rc;
    if (view_open(&v, o->run, err) != 0)
        return -1;
    memset(&d, 0, sizeof d);
    rc = dataset_open(&d, o->data, err);
    if (rc == 0 && strcmp(d.manifest_sha256, v.manifest_sha256) != 0)
        rc = dk_errf(err, "%s: manifest SHA-256 %s, the ledger's genesis says %s", o->data, d.manifest_sha256,
                     v.manifest_sha256);
    if (rc == 0 && !(pl = pool_new(o->threads)))
        rc = dk_errf(err, "cannot start threads");
    if (rc == 0)
        rc = model_open_any(&m, NULL, o->model, pl, 0, err);
    if (rc == 0 && model_cfg(m)->vocab_size < (int)d.vocab_size)
        rc = dk_errf(err, "%s: vocabulary %d does not cover the data's %u ids", o->model, model_cfg(m)->vocab_size,
                     d.vocab_size);
    if (rc == 0)
        rc = choose_probes(&v, &d, &p, &n, err);
    sampler s;
    if (rc == 0 && n < 3)
        rc = dk_errf(err, "%s: too few steps to test (%d sequences)", o->run, n);
    if (rc == 0 && (rc = sampler_init(&s, &d, 0, v.seq_len, v.data_order_seed, err)) == 0) {
        rc = score(m, &s, p, n, v.seq_len, o->quiet, err);
        sampler_free(&s);
    }
    if (rc == 0) {
        r->n = n;
        r->steps = v.n_steps;
        r->rho = spearman(p, n);
        r->z = r->rho * sqrt((double)n - 1);
        r->log10_p = log10_norm_cdf(r->z);
        int tenth = n / 10 > 0 ? n / 10 : 1;
        for (int i = 0; i < tenth; i++)
            r->mean_loss_first += p[i].loss / tenth, r->mean_loss_last += p[n - 1 - i].loss / tenth;
    }
    free(p);
    model_free(m);
    pool_free(pl);
    dataset_close(&d);
    view_close(&v);
    return rc;
}

json_t *order_json(const order_result *r)
{
    return json_pack("{s:i,s:I,s:f,s:f,s:f,s:f,s:f,s:f}", "sequences", r->n, "steps", (json_int_t)r->steps,
                     "spearman_rho", r->rho, "z", r->z, "log10_p", r->log10_p, "p", pow(10, r->log10_p),
                     "mean_loss_earliest_tenth", r->mean_loss_first, "mean_loss_latest_tenth", r->mean_loss_last);
}
