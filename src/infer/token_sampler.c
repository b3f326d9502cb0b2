/* token_sampler.c: see token_sampler.h.
 *
 * Top-p without sorting the whole vocabulary: tokens with probability below
 * eps = (1 - top_p) / V hold at most 1 - top_p of the mass together, so the tokens
 * above eps already reach top_p, and the nucleus (a prefix of the sorted order) lies
 * among them; only those are sorted. */
#include "infer/token_sampler.h"

#include <math.h>
#include <stdlib.h>

#include "util/hash.h"

typedef struct {
    double p;
    dk_token id;
} cand;

struct tsampler {
    int V;
    cand *c;
};

tsampler *tsampler_new(int vocab)
{
    tsampler *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->V = vocab;
    s->c = malloc((size_t)vocab * sizeof *s->c);
    if (!s->c) {
        free(s);
        return NULL;
    }
    return s;
}

void tsampler_free(tsampler *s)
{
    if (s) {
        free(s->c);
        free(s);
    }
}

double tsampler_uniform(uint64_t seed, uint64_t step)
{
    return (double)(hash_u64(seed * 0x9E3779B97F4A7C15ULL + step) >> 11) * 0x1.0p-53;
}

/* Descending probability, then ascending id: a total order, so qsort is deterministic. */
static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Min-heap on (p, then higher id is "smaller") holding the k best so far. */
static int worse(const cand *a, const cand *b) { return a->p < b->p || (a->p == b->p && a->id > b->id); }

static void sift_down(cand *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(&h[l], &h[m]))
            m = l;
        if (r < n && worse(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        cand t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

dk_token tsampler_next(tsampler *s, const float *z, const sample_cfg *c, uint64_t step)
{
    int V = s->V;
    dk_token best = 0;
    for (int v = 1; v < V; v++)
        best = z[v] > z[best] ? v : best;
    if (c->temperature <= 0 || c->top_k == 1)
        return best;
    double mx = z[best], T = c->temperature;
    int n = 0;
    if (c->top_k > 0 && c->top_k < V) {
        int k = c->top_k;
        for (int v = 0; v < V; v++) {
            cand x = {exp(((double)z[v] - mx) / T), v};
            if (n < k) {
                s->c[n++] = x;
                if (n == k)
                    for (int i = k / 2 - 1; i >= 0; i--)
                        sift_down(s->c, k, i);
            } else if (worse(&s->c[0], &x)) {
                s->c[0] = x;
                sift_down(s->c, k, 0);
            }
        }
        qsort(s->c, (size_t)n, sizeof *s->c, cand_cmp);
    } else {
        for (int v = 0; v < V; v++)
            s->c[n++] = (cand){exp(((double)z[v] - mx) / T), v};
    }
    double total = 0;
    for (int i = 0; i < n; i++)
        total += s->c[i].p;
    if (c->top_p > 0 && c->top_p < 1) {
        if (!(c->top_k > 0 && c->top_k < V)) { /* not sorted yet: keep those above eps, sort */
            double eps = (1 - c->top_p) * total / V;
            int m = 0;
            for (int i = 0; i < n; i++)
                if (s->c[i].p >= eps)
                    s->c[m++] = s->c[i];
            n = m;
            qsort(s->c, (size_t)n, sizeof *s->c, cand_cmp);
        }
        double want = c->top_p * total, acc = 0;
        int m = 0;
        while (m < n && acc < want)
            acc += s->c[m++].p;
        n = m;
        total = acc;
    }
    double u = tsampler_uniform(c->seed, step) * total;
    for (int i = 0; i < n; i++) {
        u -= s->c[i].p;
        if (u < 0)
            return s->c[i].id;
    }
    return s->c[n - 1].id; /* rounding left u a hair above 0 */
}
