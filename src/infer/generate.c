/* generate.c: see generate.h. */
#include "infer/generate.h"

#include <stdlib.h>
#include <string.h>

#include "util/progress.h"

struct lm_gen {
    lm *l;
    tsampler *smp;
    float *logits;
    dk_token *hist; /* the context's tokens */
    uint8_t *bytes; /* one token's bytes */
    size_t bcap;
};

int lm_gen_new(lm_gen **out, lm *l, dk_err *err)
{
    lm_gen *g = calloc(1, sizeof *g);
    if (g) {
        g->l = l;
        g->smp = tsampler_new(l->vocab);
        g->logits = malloc((size_t)l->vocab * sizeof *g->logits);
        g->hist = malloc((size_t)l->ctx * sizeof *g->hist);
    }
    if (!g || !g->smp || !g->logits || !g->hist) {
        lm_gen_free(g);
        return dk_errf(err, "out of memory");
    }
    *out = g;
    return 0;
}

void lm_gen_free(lm_gen *g)
{
    if (!g)
        return;
    tsampler_free(g->smp);
    free(g->logits);
    free(g->hist);
    free(g->bytes);
    free(g);
}

/* Runs hist[0..n) from position 0 and leaves the last row's logits. */
static int prefill(lm_gen *g, int n, lm_gen_stats *st, dk_err *err)
{
    double t0 = now_seconds();
    if (infer_forward(g->l->inf, g->hist, n, 0, g->logits, 1, err) != 0)
        return -1;
    st->prompt_s += now_seconds() - t0;
    st->prompt_tokens += n;
    return 0;
}

int lm_generate(lm_gen *g, const uint8_t *prompt, size_t len, const lm_gen_opts *o, lm_token_fn on_token,
                void *ctx, lm_gen_stats *st, dk_err *err)
{
    lm *l = g->l;
    tok_ids ids = {0};
    if (tok_ids_push(&ids, l->doc) != 0 || tok_encode(l->enc, prompt, len, 0, &ids, err) != 0) {
        tok_ids_free(&ids);
        return dk_errf(err, "out of memory");
    }
    size_t keep = ids.n < (size_t)l->ctx ? ids.n : (size_t)l->ctx - 1; /* room for one more */
    st->last_prompt_tokens = ids.n;
    st->last_prompt_kept = keep;
    memcpy(g->hist, ids.ids + (ids.n - keep), keep * sizeof *g->hist);
    tok_ids_free(&ids);
    int pos = (int)keep, rc = prefill(g, pos, st, err);
    double t0 = now_seconds();
    for (int step = 0; rc == 0 && step < o->n_new; step++) {
        lm_mask_logits(l, g->logits, 1);
        dk_token next = tsampler_next(g->smp, g->logits, &o->sample, (uint64_t)step);
        if (next == l->eos)
            break;
        size_t n = 0;
        if (tok_decode(l->tok, &next, 1, &g->bytes, &n, &g->bcap, err) != 0) {
            rc = -1;
            break;
        }
        st->gen_tokens++;
        if (on_token && on_token(ctx, next, g->bytes, n) != 0)
            break;
        if (step + 1 == o->n_new)
            break;
        if (pos == l->ctx) { /* full: keep the last half and process it again */
            int half = l->ctx / 2;
            memmove(g->hist, g->hist + pos - half, (size_t)half * sizeof *g->hist);
            pos = half;
            double tp = now_seconds();
            rc = prefill(g, pos, st, err);
            t0 += now_seconds() - tp; /* counted as prompt time */
            if (rc != 0)
                break;
        }
        g->hist[pos] = next;
        rc = infer_forward(l->inf, &g->hist[pos], 1, pos, g->logits, 1, err);
        pos++;
    }
    st->gen_s += now_seconds() - t0;
    return rc;
}
