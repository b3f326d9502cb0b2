/* layer.c: see layer.h. */
#include "model/layer.h"

#include <string.h>

#include "kernels/matmul.h"
#include "model/ops.h"

static void linear(const layer_backend *be, int l, int which, float *y, const float *x, const float *bias,
                   pool *p, int n, int N, int K, float beta)
{
    be->linear(be->ctx, l, which, y, x, n, N, K, beta);
    if (bias)
        bias_forward(p, y, bias, n, N);
}

/* dst = src, unless they are the same buffer (an in-place residual). */
static void carry(float *dst, const float *src, size_t n)
{
    if (dst != src)
        memcpy(dst, src, n * sizeof *dst);
}

void decoder_layer_forward(pool *p, const model_config *c, const layer_view *w, int l, const layer_bufs *b,
                           int n, const layer_backend *be)
{
    const int D = c->dim, F = c->ffn_dim, H = c->n_heads, KVH = c->n_kv_heads, hd = c->head_dim;
    const int Q = H * hd, KV = KVH * hd;
    const float eps = (float)c->norm_eps;
    const int r = be->round_bf16;
    rmsnorm_forward(p, b->ln1, b->rstd1, b->x_in, w->attn_norm, n, D, eps, r);
    linear(be, l, LAYER_WQ, b->q, b->ln1, w->bq, p, n, Q, D, 0.0f);
    linear(be, l, LAYER_WK, b->k, b->ln1, w->bk, p, n, KV, D, 0.0f);
    linear(be, l, LAYER_WV, b->v, b->ln1, w->bv, p, n, KV, D, 0.0f);
    rope_forward(p, b->q, b->pos, b->rope_cos, b->rope_sin, n, H, hd, r);
    rope_forward(p, b->k, b->pos, b->rope_cos, b->rope_sin, n, KVH, hd, r);
    if (r) /* products' outputs: one pass each */
        mm_round_bf16(p, b->v, (size_t)n * KV);
    be->attend(be->ctx, l, b->atty, b->q, b->k, b->v, n);
    if (r)
        mm_round_bf16(p, b->atty, (size_t)n * Q);
    carry(b->x_mid, b->x_in, (size_t)n * D);
    linear(be, l, LAYER_WO, b->x_mid, b->atty, NULL, p, n, D, Q, 1.0f);
    rmsnorm_forward(p, b->ln2, b->rstd2, b->x_mid, w->mlp_norm, n, D, eps, r);
    linear(be, l, LAYER_WGATE, b->gate, b->ln2, NULL, p, n, F, D, 0.0f);
    linear(be, l, LAYER_WUP, b->up, b->ln2, NULL, p, n, F, D, 0.0f);
    if (be->tap)
        be->tap(be->ctx, l, b->gate, b->up, n);
    swiglu_forward(p, b->h, b->gate, b->up, (size_t)n * F, r);
    carry(b->x_out, b->x_mid, (size_t)n * D);
    linear(be, l, LAYER_WDOWN, b->x_out, b->h, NULL, p, n, D, F, 1.0f);
}
