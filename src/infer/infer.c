/* infer.c: see infer.h. Per layer, for a chunk of n tokens at pos0:
 *   ln = rmsnorm(x); q = ln Wq^T; k, v = ln Wk^T, ln Wv^T written straight into the
 *   cache rows pos0..pos0+n-1; rope(q), rope(cache k rows); per head (one task each):
 *   scores (n, pos0+n) = q k^T, causal softmax, out = P v; x += out Wo^T;
 *   ln = rmsnorm(x); h = silu(ln Wgate^T) * (ln Wup^T); x += h Wdown^T. */
#include "infer/infer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/matmul.h"
#include "model/layer.h"
#include "model/ops.h"
#include "util/hugemem.h"

typedef struct {
    const float *wq, *wk, *wv, *wo, *wgate, *wup, *wdown; /* packed */
} packed_layer;

struct infer {
    model *m;
    model_config cfg;
    model_view pv;
    pool *pl;
    mm_ctx *mm;
    int max_ctx;
    float *packed; /* every packed matrix, one huge-page buffer */
    size_t packed_floats;
    packed_layer *layers;
    const float *lm_head;
    float *kcache, *vcache; /* (L, max_ctx, KV*hd) each */
    float *rope_cos, *rope_sin;
    /* chunk scratch */
    float *x, *ln, *q, *atty, *gate, *up, *h, *rstd, *att; /* att: (threads, CHUNK, max_ctx) */
    int32_t *pos;
    infer_tap_fn tap;
    void *tap_ctx;
};

void infer_set_tap(infer *st, infer_tap_fn fn, void *ctx)
{
    st->tap = fn;
    st->tap_ctx = ctx;
}

size_t infer_weight_bytes(const infer *st) { return st->packed_floats * sizeof(float); }

size_t infer_kv_bytes_per_pos(const infer *st)
{
    return 2 * (size_t)st->cfg.n_layers * st->cfg.n_kv_heads * st->cfg.head_dim * sizeof(float);
}

double infer_flops(const model_config *c, int n, int pos0)
{
    double keys = pos0 + (n + 1) / 2.0; /* mean keys per query under the causal mask */
    return (double)n * (2.0 * (double)model_config_n_matmul_params(c) +
                        4.0 * c->n_layers * (double)c->n_heads * c->head_dim * keys);
}

void infer_free(infer *st)
{
    if (!st)
        return;
    free(st->packed);
    free(st->layers);
    free(st->pv.layers);
    free(st->kcache);
    free(st->vcache);
    free(st->rope_cos);
    free(st->rope_sin);
    free(st->x);
    free(st->ln);
    free(st->q);
    free(st->atty);
    free(st->gate);
    free(st->up);
    free(st->h);
    free(st->rstd);
    free(st->att);
    free(st->pos);
    mm_ctx_free(st->mm);
    free(st);
}

int infer_new(infer **out, model *m, int max_ctx, dk_err *err)
{
    *out = NULL;
    const model_config *c = model_cfg(m);
    if (max_ctx <= 0 || max_ctx > c->max_seq)
        return dk_errf(err, "context of %d positions is invalid (max_position_embeddings %d)",
                       max_ctx, c->max_seq);
    infer *st = calloc(1, sizeof *st);
    if (!st)
        return dk_errf(err, "out of memory");
    st->m = m;
    st->cfg = *c;
    st->max_ctx = max_ctx;
    int L = c->n_layers, D = c->dim, F = c->ffn_dim, V = c->vocab_size;
    int Q = c->n_heads * c->head_dim, KV = c->n_kv_heads * c->head_dim;
    size_t per_layer = mm_packed_floats(Q, D) + 2 * mm_packed_floats(KV, D) +
                       mm_packed_floats(D, Q) + 2 * mm_packed_floats(F, D) + mm_packed_floats(D, F);
    st->packed_floats = (size_t)L * per_layer + mm_packed_floats(V, D);
    size_t CH = max_ctx < INFER_CHUNK ? (size_t)max_ctx : INFER_CHUNK;
    size_t kv = (size_t)L * max_ctx * KV;
    st->pv.layers = calloc((size_t)L, sizeof *st->pv.layers);
    st->layers = calloc((size_t)L, sizeof *st->layers);
    st->packed = hugemem_alloc(st->packed_floats * sizeof(float));
    st->kcache = hugemem_alloc(kv * sizeof(float));
    st->vcache = hugemem_alloc(kv * sizeof(float));
    st->rope_cos = malloc((size_t)max_ctx * (c->head_dim / 2) * sizeof(float));
    st->rope_sin = malloc((size_t)max_ctx * (c->head_dim / 2) * sizeof(float));
    st->x = malloc(CH * D * sizeof(float));
    st->ln = malloc(CH * D * sizeof(float));
    st->q = malloc(CH * Q * sizeof(float));
    st->atty = malloc(CH * Q * sizeof(float));
    st->gate = malloc(CH * F * sizeof(float));
    st->up = malloc(CH * F * sizeof(float));
    st->h = malloc(CH * F * sizeof(float));
    st->rstd = malloc(CH * sizeof(float));
    st->pos = malloc(CH * sizeof(int32_t));
    st->pl = model_pool(m);
    st->mm = mm_ctx_new(st->pl);
    st->att = malloc((size_t)pool_threads(st->pl) * CH * max_ctx * sizeof(float));
    if (!st->pv.layers || !st->layers || !st->packed || !st->kcache || !st->vcache ||
        !st->rope_cos || !st->rope_sin || !st->x || !st->ln || !st->q || !st->atty || !st->gate ||
        !st->up || !st->h || !st->rstd || !st->pos || !st->mm || !st->att) {
        infer_free(st);
        return dk_errf(err, "out of memory for the inference engine (%zu MiB of packed weights, "
                            "%zu MiB of cache)",
                       st->packed_floats * 4 >> 20, kv * 8 >> 20);
    }
    params_view(model_layout(m), model_params(m), &st->pv);
    rope_tables(st->rope_cos, st->rope_sin, max_ctx, c->head_dim, c->rope_theta);
    float *dst = st->packed;
#define PACK(field, N, K)                                                                  \
    do {                                                                                   \
        mm_pack_weight(st->pl, dst, w->field, N, K);                                       \
        pl->field = dst;                                                                   \
        dst += mm_packed_floats(N, K);                                                     \
    } while (0)
    for (int l = 0; l < L; l++) {
        const layer_view *w = &st->pv.layers[l];
        packed_layer *pl = &st->layers[l];
        PACK(wq, Q, D);
        PACK(wk, KV, D);
        PACK(wv, KV, D);
        PACK(wo, D, Q);
        PACK(wgate, F, D);
        PACK(wup, F, D);
        PACK(wdown, D, F);
    }
#undef PACK
    mm_pack_weight(st->pl, dst, st->pv.lm_head, V, D);
    st->lm_head = dst;
    *out = st;
    return 0;
}

typedef struct {
    infer *st;
    int layer, n, pos0;
} attn_job;

/* One head: scores against every cached key up to the chunk's last position, the
 * training pass's causal softmax, then the weighted sum of values. */
static void attn_head(void *vj, size_t h, int th)
{
    attn_job *j = vj;
    infer *st = j->st;
    const model_config *c = &st->cfg;
    int hd = c->head_dim, Q = c->n_heads * hd, KV = c->n_kv_heads * hd;
    int g = (int)h / (c->n_heads / c->n_kv_heads), keys = j->pos0 + j->n;
    size_t CH = st->max_ctx < INFER_CHUNK ? (size_t)st->max_ctx : INFER_CHUNK;
    float *att = st->att + (size_t)th * CH * st->max_ctx;
    const float *kc = st->kcache + (size_t)j->layer * st->max_ctx * KV + (size_t)g * hd;
    const float *vc = st->vcache + (size_t)j->layer * st->max_ctx * KV + (size_t)g * hd;
    mm_f32_on_thread(st->mm, th, 0, 1, j->n, keys, hd, st->q + h * hd, Q, kc, KV, 0.0f, att, keys);
    attn_softmax_causal(att, j->n, keys, keys, j->pos0, 1.0f / sqrtf((float)hd));
    mm_f32_on_thread(st->mm, th, 0, 0, j->n, hd, keys, att, keys, vc, KV, 0.0f, st->atty + h * hd, Q);
}

/* The inference backend for the shared decoder layer (model/layer.h): weights packed
 * once for the kernels, keys and values written into the cache, attention of the new
 * positions against every cached one. */
typedef struct {
    infer *st;
    int pos0;
} infer_backend;

static void infer_linear(void *ctx, int l, int which, float *y, const float *x, int n, int N, int K, float beta)
{
    infer *st = ((infer_backend *)ctx)->st;
    const packed_layer *pw = &st->layers[l];
    const float *W = which == LAYER_WQ     ? pw->wq
                     : which == LAYER_WK   ? pw->wk
                     : which == LAYER_WV   ? pw->wv
                     : which == LAYER_WO   ? pw->wo
                     : which == LAYER_WGATE ? pw->wgate
                     : which == LAYER_WUP  ? pw->wup
                                           : pw->wdown;
    mm_f32_packed(st->mm, n, N, K, x, K, W, beta, y, N);
}

static void infer_attend(void *ctx, int l, float *atty, const float *q, const float *k, const float *v, int n)
{
    infer_backend *ib = ctx;
    (void)atty, (void)q, (void)k, (void)v; /* the heads read st->q and the cache: the same buffers */
    attn_job aj = {ib->st, l, n, ib->pos0};
    pool_for(ib->st->pl, (size_t)ib->st->cfg.n_heads, attn_head, &aj);
}

static void infer_tap(void *ctx, int l, const float *gate, const float *up, int n)
{
    infer_backend *ib = ctx;
    ib->st->tap(ib->st->tap_ctx, l, gate, up, n, ib->pos0);
}

/* One chunk of n <= INFER_CHUNK tokens; leaves the final norm's output in st->ln. */
static void forward_chunk(infer *st, const dk_token *tokens, int n, int pos0)
{
    const model_config *c = &st->cfg;
    int D = c->dim, KV = c->n_kv_heads * c->head_dim;
    for (int i = 0; i < n; i++)
        st->pos[i] = pos0 + i;
    embedding_forward(st->pl, st->x, tokens, st->pv.embed, n, D);
    infer_backend ib = {st, pos0};
    layer_backend be = {&ib, infer_linear, infer_attend, st->tap ? infer_tap : NULL, 0};
    for (int l = 0; l < c->n_layers; l++) {
        float *kc = st->kcache + ((size_t)l * st->max_ctx + pos0) * KV;
        float *vc = st->vcache + ((size_t)l * st->max_ctx + pos0) * KV;
        /* scratch reused by every layer: the residual updated in place, one norm buffer */
        layer_bufs lb = {.x_in = st->x, .x_mid = st->x, .x_out = st->x, .ln1 = st->ln, .rstd1 = st->rstd,
                         .q = st->q, .k = kc, .v = vc, .atty = st->atty, .ln2 = st->ln, .rstd2 = st->rstd,
                         .gate = st->gate, .up = st->up, .h = st->h, .pos = st->pos, .rope_cos = st->rope_cos,
                         .rope_sin = st->rope_sin};
        decoder_layer_forward(st->pl, c, &st->pv.layers[l], l, &lb, n, &be);
    }
    rmsnorm_forward(st->pl, st->ln, st->rstd, st->x, st->pv.norm, n, D, (float)c->norm_eps, 0);
}

int infer_forward(infer *st, const dk_token *tokens, int n, int pos0, float *logits, int n_logits,
                  dk_err *err)
{
    const model_config *c = &st->cfg;
    if (n < 0 || pos0 < 0 || pos0 + n > st->max_ctx)
        return dk_errf(err, "%d tokens at position %d do not fit the context of %d", n, pos0,
                       st->max_ctx);
    if (n_logits < 0 || n_logits > n)
        return dk_errf(err, "asked for %d rows of logits from %d tokens", n_logits, n);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c->vocab_size)
            return dk_errf(err, "token id %d at position %d is outside the vocabulary (%d)",
                           (int)tokens[i], pos0 + i, c->vocab_size);
    int CH = st->max_ctx < INFER_CHUNK ? st->max_ctx : INFER_CHUNK, first_logit = n - n_logits;
    for (int i0 = 0; i0 < n; i0 += CH) {
        int cn = n - i0 < CH ? n - i0 : CH;
        forward_chunk(st, tokens + i0, cn, pos0 + i0);
        int from = first_logit > i0 ? first_logit : i0; /* logits wanted in this chunk */
        if (logits && from < i0 + cn)
            mm_f32_packed(st->mm, i0 + cn - from, c->vocab_size, c->dim,
                          st->ln + (size_t)(from - i0) * c->dim, c->dim, st->lm_head, 0.0f,
                          logits + (size_t)(from - first_logit) * c->vocab_size, c->vocab_size);
    }
    return 0;
}
