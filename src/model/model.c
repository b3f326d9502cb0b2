/* model.c: the decoder's forward and backward passes over a batch.
 *
 * Activations (T = B*S tokens), saved per layer for backward:
 *   x      (L+1, T, D)  residual stream entering each layer (x[L] leaves the last)
 *   ln1    (L, T, D), rstd1 (L, T)      input RMSNorm
 *   q      (L, T, H*hd), k, v (L, T, KV*hd)   after RoPE (q, k)
 *   att    (L, B, H, S, S)              softmax probabilities
 *   atty   (L, T, H*hd)                 attention output before o_proj
 *   xmid   (L, T, D)                    residual after attention
 *   ln2    (L, T, D), rstd2 (L, T)      post-attention RMSNorm
 *   gate, up, h (L, T, F)               MLP, h = silu(gate) * up
 *   lnf    (T, D), rstdf (T)            final RMSNorm
 * The LM head and cross-entropy run over chunks of XENT_CHUNK tokens, so the
 * (T, V) logits are never materialised: a (XENT_CHUNK, V) buffer holds the logits,
 * then their gradient in place. Backward scratch: dres, dln (T, D), dq, datty
 * (T, H*hd), dk, dv (T, KV*hd), dgate, dup, dh (T, F). */
#include "model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/matmul.h"
#include "model/layer.h"
#include "model/ops.h"
#include "util/hugemem.h"

#define XENT_CHUNK 512 /* LM head: B packed once per 512 rows (256: 15 % slower head forward) */

typedef struct {
    float *x, *ln1, *rstd1, *q, *k, *v, *att, *atty, *xmid, *ln2, *rstd2, *gate, *up, *h;
    float *lnf, *rstdf, *logits;
    float *dres, *dln, *dq, *dk, *dv, *datty, *dgate, *dup, *dh;
    int32_t *pos;
    double *row_loss;
    float *attn_scratch; /* (threads, S, S) */
} acts;

struct model {
    model_config cfg;
    param_layout layout;
    float *params, *grads;
    model_view pv, gv;
    pool *pl;
    mm_ctx *mm;
    float *rope_cos, *rope_sin;
    acts a;
    float *act_mem;
    model_grad_hook hook;
    void *hook_ctx;
    int B, S; /* reserved shape */
    /* The last forward pass rounded its products' operands to bf16 where they were made
     * (mm_ctx_bf16_emulated): its products, and backward's, read them with MM_A_BF16. */
    int bf16_src;
    int bf16_src_off; /* model_set_bf16_at_source(m, 0) */
};

const model_config *model_cfg(const model *m) { return &m->cfg; }
const param_layout *model_layout(const model *m) { return &m->layout; }
float *model_params(model *m) { return m->params; }
float *model_grads(model *m) { return m->grads; }
size_t model_numel(const model *m) { return m->layout.numel; }
pool *model_pool(model *m) { return m->pl; }
int model_set_bf16(model *m, int on) { return mm_ctx_set_bf16(m->mm, on); }
void model_set_bf16_at_source(model *m, int on) { m->bf16_src_off = !on; }

/* The product flag of an operand the last forward pass rounded where it made it:
 * MM_A_BF16 (the same bit as MM_B_BF16, for either side), or 0. */
static int src_flag(const model *m) { return m->bf16_src ? MM_A_BF16 : 0; }
int model_bf16_emulated(const model *m) { return mm_ctx_bf16_emulated(m->mm); }

int model_new(model **out, const model_config *cfg, pool *p, dk_err *err)
{
    return model_new_ex(out, cfg, p, 1, err);
}

int model_new_ex(model **out, const model_config *cfg, pool *p, int with_grads, dk_err *err)
{
    *out = NULL;
    model *m = calloc(1, sizeof *m);
    if (!m)
        return dk_errf(err, "out of memory");
    m->cfg = *cfg;
    if (model_config_validate(&m->cfg, "config", err) != 0 ||
        params_layout(&m->layout, &m->cfg, err) != 0) {
        free(m);
        return -1;
    }
    m->pl = p;
    size_t n = m->layout.numel, half = (size_t)m->cfg.head_dim / 2;
    m->params = hugemem_alloc(n * sizeof *m->params); /* zeroed, touched, 2 MiB pages */
    m->grads = with_grads ? hugemem_alloc(n * sizeof *m->grads) : NULL; /* inference needs none */
    m->pv.layers = calloc((size_t)cfg->n_layers, sizeof *m->pv.layers);
    m->gv.layers = calloc((size_t)cfg->n_layers, sizeof *m->gv.layers);
    m->rope_cos = malloc((size_t)m->cfg.max_seq * half * sizeof(float));
    m->rope_sin = malloc((size_t)m->cfg.max_seq * half * sizeof(float));
    m->mm = mm_ctx_new(p);
    if (!m->params || (with_grads && !m->grads) || !m->pv.layers || !m->gv.layers || !m->rope_cos ||
        !m->rope_sin || !m->mm) {
        model_free(m);
        return dk_errf(err, "out of memory for a model of %zu parameters", n);
    }
    params_view(&m->layout, m->params, &m->pv);
    if (m->grads)
        params_view(&m->layout, m->grads, &m->gv);
    rope_tables(m->rope_cos, m->rope_sin, m->cfg.max_seq, m->cfg.head_dim, m->cfg.rope_theta);
    *out = m;
    return 0;
}

void model_free(model *m)
{
    if (!m)
        return;
    free(m->act_mem);
    free(m->a.pos);
    free(m->a.row_loss);
    mm_ctx_free(m->mm);
    free(m->rope_cos);
    free(m->rope_sin);
    free(m->pv.layers);
    free(m->gv.layers);
    free(m->params);
    free(m->grads);
    params_layout_free(&m->layout);
    free(m);
}

/* Sizes (in floats) of each activation buffer, in one place for the allocator and
 * the documented formula. */
typedef struct {
    size_t x, ln, rstd, q, kv, att, ffn, lnf, logits, scratch, attn_scratch;
} act_sizes;

static act_sizes sizes_for(const model_config *c, int B, int S, int threads)
{
    size_t T = (size_t)B * S, L = (size_t)c->n_layers, D = (size_t)c->dim;
    size_t Q = (size_t)c->n_heads * c->head_dim, KV = (size_t)c->n_kv_heads * c->head_dim;
    size_t chunk = T < XENT_CHUNK ? T : XENT_CHUNK;
    act_sizes s;
    s.x = (L + 1) * T * D;
    s.ln = L * T * D;           /* ln1, ln2, xmid each */
    s.rstd = L * T;             /* rstd1, rstd2 each */
    s.q = L * T * Q;            /* q, atty each */
    s.kv = L * T * KV;          /* k, v each */
    s.att = L * (size_t)B * c->n_heads * (size_t)S * S;
    s.ffn = L * T * (size_t)c->ffn_dim; /* gate, up, h each */
    s.lnf = T * D + T;
    s.logits = chunk * (size_t)c->vocab_size;
    s.scratch = 2 * T * D + 2 * T * Q + 2 * T * KV + 3 * T * (size_t)c->ffn_dim;
    s.attn_scratch = (size_t)threads * S * S;
    return s;
}

static size_t total_floats(act_sizes s)
{
    return s.x + 3 * s.ln + 2 * s.rstd + 2 * s.q + 2 * s.kv + s.att + 3 * s.ffn + s.lnf +
           s.logits + s.scratch + s.attn_scratch;
}

size_t model_activation_bytes(const model_config *c, int B, int S, int threads)
{
    return total_floats(sizes_for(c, B, S, threads)) * sizeof(float);
}

int model_reserve(model *m, int B, int S, dk_err *err)
{
    if (B <= 0 || S <= 0 || S > m->cfg.max_seq)
        return dk_errf(err, "batch shape %d x %d is invalid (max_position_embeddings %d)", B, S,
                       m->cfg.max_seq);
    if (m->act_mem && B * S <= m->B * m->S && S <= m->S && B <= m->B)
        return 0;
    free(m->act_mem);
    free(m->a.pos);
    free(m->a.row_loss);
    m->act_mem = NULL;
    act_sizes s = sizes_for(&m->cfg, B, S, pool_threads(m->pl));
    size_t T = (size_t)B * S, D = (size_t)m->cfg.dim, F = (size_t)m->cfg.ffn_dim;
    size_t Q = (size_t)m->cfg.n_heads * m->cfg.head_dim, KV = (size_t)m->cfg.n_kv_heads * m->cfg.head_dim;
    float *p = hugemem_alloc(total_floats(s) * sizeof(float)); /* 2 MiB pages: fewer TLB misses and faults on a multi-GiB buffer */
    m->a.pos = malloc(T * sizeof *m->a.pos);
    m->a.row_loss = malloc(T * sizeof *m->a.row_loss);
    if (!p || !m->a.pos || !m->a.row_loss) {
        free(p);
        return dk_errf(err, "out of memory for activations of a %d x %d batch (%zu MiB)", B, S,
                       total_floats(s) * sizeof(float) >> 20);
    }
    m->act_mem = p;
    acts *a = &m->a;
    a->x = p; p += s.x;
    a->ln1 = p; p += s.ln;
    a->xmid = p; p += s.ln;
    a->ln2 = p; p += s.ln;
    a->rstd1 = p; p += s.rstd;
    a->rstd2 = p; p += s.rstd;
    a->q = p; p += s.q;
    a->atty = p; p += s.q;
    a->k = p; p += s.kv;
    a->v = p; p += s.kv;
    a->att = p; p += s.att;
    a->gate = p; p += s.ffn;
    a->up = p; p += s.ffn;
    a->h = p; p += s.ffn;
    a->lnf = p; p += T * D;
    a->rstdf = p; p += T;
    a->logits = p; p += s.logits;
    a->dres = p; p += T * D;
    a->dln = p; p += T * D;
    a->dq = p; p += T * Q;
    a->datty = p; p += T * Q;
    a->dk = p; p += T * KV;
    a->dv = p; p += T * KV;
    a->dgate = p; p += T * F;
    a->dup = p; p += T * F;
    a->dh = p; p += T * F;
    a->attn_scratch = p; p += s.attn_scratch;
    m->B = B;
    m->S = S;
    return 0;
}

void model_zero_grads(model *m)
{
    DK_ASSERT(m->grads); /* a model made without gradients (model_new_ex) cannot train */
    memset(m->grads, 0, m->layout.numel * sizeof(float));
}

void model_set_grad_hook(model *m, model_grad_hook fn, void *ctx)
{
    m->hook = fn;
    m->hook_ctx = ctx;
}

/* Reports [from, to) of the gradient buffer as final (see model_set_grad_hook). */
static void grads_ready(model *m, const float *from, const float *to)
{
    if (m->hook && to > from)
        m->hook(m->hook_ctx, (size_t)(from - m->grads), (size_t)(to - from));
}

/* dx (T, K) (+)= dy W ; dW (N, K) += dy^T x ; db += colsum(dy). dy_bf16: MM_A_BF16
 * when dy was rounded to bf16 where it was made; x was, if the forward pass rounded. */
static void linear_bwd(model *m, float *dx, float *dW, float *db, const float *dy, int dy_bf16,
                       const float *x, const float *W, int T, int N, int K, float beta)
{
    if (dx)
        mm_f32(m->mm, dy_bf16, 0, T, K, N, dy, N, W, K, beta, dx, K);
    mm_f32(m->mm, 1 | dy_bf16, src_flag(m), N, K, T, dy, N, x, K, 1.0f, dW, K);
    if (db)
        bias_backward(m->pl, db, dy, T, N);
}

/* The training pass's backend for the shared decoder layer (model/layer.h): plain
 * weights, whole causal sequences, attention probabilities kept per layer for backward. */
typedef struct {
    model *m;
    int B, S;
} train_backend;

static const float *weight_of(const layer_view *w, int which)
{
    switch (which) {
    case LAYER_WQ: return w->wq;
    case LAYER_WK: return w->wk;
    case LAYER_WV: return w->wv;
    case LAYER_WO: return w->wo;
    case LAYER_WGATE: return w->wgate;
    case LAYER_WUP: return w->wup;
    default: return w->wdown;
    }
}

static void train_linear(void *ctx, int l, int which, float *y, const float *x, int n, int N, int K, float beta)
{
    model *m = ((train_backend *)ctx)->m;
    mm_f32(m->mm, src_flag(m), 1, n, N, K, x, K, weight_of(&m->pv.layers[l], which), K, beta, y, N);
}

static void train_attend(void *ctx, int l, float *atty, const float *q, const float *k, const float *v, int n)
{
    train_backend *tb = ctx;
    model *m = tb->m;
    const model_config *c = &m->cfg;
    (void)n;
    float *att = m->a.att + (size_t)l * tb->B * c->n_heads * tb->S * tb->S;
    attention_forward(m->pl, m->mm, atty, att, q, k, v, tb->B, tb->S, c->n_heads, c->n_kv_heads, c->head_dim,
                      m->bf16_src);
}

static void forward_body(model *m, const dk_token *inputs, int B, int S)
{
    const model_config *c = &m->cfg;
    acts *a = &m->a;
    int T = B * S, D = c->dim, F = c->ffn_dim, Q = c->n_heads * c->head_dim, KV = c->n_kv_heads * c->head_dim;
    for (int t = 0; t < T; t++)
        a->pos[t] = t % S;
    embedding_forward(m->pl, a->x, inputs, m->pv.embed, T, D);
    train_backend tb = {m, B, S};
    m->bf16_src = !m->bf16_src_off && model_bf16_emulated(m);
    layer_backend be = {&tb, train_linear, train_attend, NULL, m->bf16_src};
    for (int l = 0; l < c->n_layers; l++) {
        size_t o = (size_t)l * T;
        layer_bufs lb = {.x_in = a->x + o * D, .x_mid = a->xmid + o * D, .x_out = a->x + (o + T) * D,
                         .ln1 = a->ln1 + o * D, .rstd1 = a->rstd1 + o, .q = a->q + o * Q, .k = a->k + o * KV,
                         .v = a->v + o * KV, .atty = a->atty + o * Q, .ln2 = a->ln2 + o * D,
                         .rstd2 = a->rstd2 + o, .gate = a->gate + o * F, .up = a->up + o * F, .h = a->h + o * F,
                         .pos = a->pos, .rope_cos = m->rope_cos, .rope_sin = m->rope_sin};
        decoder_layer_forward(m->pl, c, &m->pv.layers[l], l, &lb, T, &be);
    }
    rmsnorm_forward(m->pl, a->lnf, a->rstdf, a->x + (size_t)c->n_layers * T * D, m->pv.norm, T, D,
                    (float)c->norm_eps, m->bf16_src); /* read by the head's products only */
}

/* LM head + cross-entropy over chunks; with backward, fills dres (T, D) with the
 * gradient at the final norm's output and accumulates the head's gradient. */
static double head_loss(model *m, const dk_token *targets, int T, double *row_loss, int backward,
                        float grad_scale, size_t *n_valid)
{
    const model_config *c = &m->cfg;
    acts *a = &m->a;
    int D = c->dim, V = c->vocab_size;
    size_t valid = 0;
    for (int t = 0; t < T; t++)
        valid += targets[t] != MODEL_IGNORE_INDEX;
    *n_valid = valid;
    float scale = valid ? grad_scale / (float)valid : 0.0f;
    for (int t0 = 0; t0 < T; t0 += XENT_CHUNK) {
        int n = T - t0 < XENT_CHUNK ? T - t0 : XENT_CHUNK;
        const float *x = a->lnf + (size_t)t0 * D;
        mm_f32(m->mm, src_flag(m), 1, n, V, D, x, D, m->pv.lm_head, D, 0.0f, a->logits, V);
        xent_forward_backward(m->pl, a->logits, a->row_loss + t0, targets + t0, (size_t)n, V,
                              MODEL_IGNORE_INDEX, scale, backward && m->bf16_src);
        if (backward)
            linear_bwd(m, a->dln + (size_t)t0 * D, m->gv.lm_head, NULL, a->logits, src_flag(m), x,
                       m->pv.lm_head, n, V, D, 0.0f);
    }
    double sum = 0;
    for (int t = 0; t < T; t++) /* fixed order: deterministic */
        sum += a->row_loss[t];
    if (row_loss)
        memcpy(row_loss, a->row_loss, (size_t)T * sizeof *row_loss);
    return valid ? sum / (double)valid : 0.0;
}

static void backward_body(model *m, const dk_token *inputs, int B, int S)
{
    const model_config *c = &m->cfg;
    acts *a = &m->a;
    int T = B * S, D = c->dim, F = c->ffn_dim, H = c->n_heads, KVH = c->n_kv_heads,
        hd = c->head_dim, Q = H * hd, KV = KVH * hd;
    int rf = src_flag(m); /* gradients that feed products only, rounded where made */
    /* dres = d loss / d x[L] through the final norm (dln holds d/d lnf). */
    memset(a->dres, 0, (size_t)T * D * sizeof(float));
    rmsnorm_backward(m->pl, a->dres, m->gv.norm, a->dln, a->x + (size_t)c->n_layers * T * D,
                     m->pv.norm, a->rstdf, T, D);
    /* the final norm and (untied) head sit at the end of the layout */
    grads_ready(m, m->gv.norm, m->grads + m->layout.numel);
    for (int l = c->n_layers - 1; l >= 0; l--) {
        const layer_view *w = &m->pv.layers[l];
        layer_view *g = &m->gv.layers[l];
        size_t o = (size_t)l * T;
        float *x = a->x + o * D, *ln1 = a->ln1 + o * D, *q = a->q + o * Q, *k = a->k + o * KV,
              *v = a->v + o * KV, *atty = a->atty + o * Q, *xmid = a->xmid + o * D,
              *ln2 = a->ln2 + o * D, *gate = a->gate + o * F, *up = a->up + o * F,
              *h = a->h + o * F;
        float *att = a->att + (size_t)l * B * H * S * S;
        /* MLP: x[l+1] = xmid + down(swiglu(gate(ln2), up(ln2))) */
        linear_bwd(m, a->dh, g->wdown, NULL, a->dres, 0, h, w->wdown, T, D, F, 0.0f);
        swiglu_backward(m->pl, a->dgate, a->dup, a->dh, gate, up, (size_t)T * F, m->bf16_src);
        linear_bwd(m, a->dln, g->wgate, NULL, a->dgate, rf, ln2, w->wgate, T, F, D, 0.0f);
        linear_bwd(m, a->dln, g->wup, NULL, a->dup, rf, ln2, w->wup, T, F, D, 1.0f);
        rmsnorm_backward(m->pl, a->dres, g->mlp_norm, a->dln, xmid, w->mlp_norm,
                         a->rstd2 + o, T, D);
        /* attention: xmid = x + o_proj(attention(rope(q), rope(k), v)) */
        linear_bwd(m, a->datty, g->wo, NULL, a->dres, 0, atty, w->wo, T, D, Q, 0.0f);
        if (rf)
            mm_round_bf16(m->pl, a->datty, (size_t)T * Q);
        attention_backward(m->pl, m->mm, a->attn_scratch, a->dq, a->dk, a->dv, a->datty, att, q,
                           k, v, B, S, H, KVH, hd, m->bf16_src);
        /* with biases, dq, dk and dv are also summed into the biases' gradients: unrounded */
        int rb = g->bq || g->bk || g->bv ? 0 : rf;
        rope_backward(m->pl, a->dq, a->pos, m->rope_cos, m->rope_sin, T, H, hd, rb);
        rope_backward(m->pl, a->dk, a->pos, m->rope_cos, m->rope_sin, T, KVH, hd, rb);
        if (rb)
            mm_round_bf16(m->pl, a->dv, (size_t)T * KV);
        linear_bwd(m, a->dln, g->wq, g->bq, a->dq, rb, ln1, w->wq, T, Q, D, 0.0f);
        linear_bwd(m, a->dln, g->wk, g->bk, a->dk, rb, ln1, w->wk, T, KV, D, 1.0f);
        linear_bwd(m, a->dln, g->wv, g->bv, a->dv, rb, ln1, w->wv, T, KV, D, 1.0f);
        rmsnorm_backward(m->pl, a->dres, g->attn_norm, a->dln, x, w->attn_norm, a->rstd1 + o, T, D);
        /* layer l's parameters are contiguous, from its first norm up to the next layer */
        grads_ready(m, g->attn_norm, l + 1 < c->n_layers ? m->gv.layers[l + 1].attn_norm : m->gv.norm);
    }
    embedding_backward(m->gv.embed, a->dres, inputs, T, D);
    grads_ready(m, m->gv.embed, m->gv.layers[0].attn_norm);
}

/* The passes run in the activations model_reserve allocated: a shape it did not cover
 * is the caller's bug (the header's contract), not a failure to report. */
static void check_reserved(const model *m, int B, int S)
{
    DK_ASSERT(m->act_mem && B > 0 && S > 0 && B <= m->B && S <= m->S);
}

double model_forward_backward(model *m, const dk_token *inputs, const dk_token *targets, int B,
                              int S, float grad_scale)
{
    check_reserved(m, B, S);
    DK_ASSERT(m->grads); /* made without gradients (model_new_ex): inference only */
    size_t valid;
    forward_body(m, inputs, B, S);
    double loss = head_loss(m, targets, B * S, NULL, 1, grad_scale, &valid);
    backward_body(m, inputs, B, S);
    return loss;
}

double model_forward_loss(model *m, const dk_token *inputs, const dk_token *targets, int B, int S,
                          double *row_loss)
{
    check_reserved(m, B, S);
    size_t valid;
    forward_body(m, inputs, B, S);
    return head_loss(m, targets, B * S, row_loss, 0, 1.0f, &valid);
}

void model_forward_logits(model *m, const dk_token *inputs, int B, int S, float *logits)
{
    check_reserved(m, B, S);
    forward_body(m, inputs, B, S);
    const model_config *c = &m->cfg;
    mm_f32(m->mm, 0, 1, B * S, c->vocab_size, c->dim, m->a.lnf, c->dim, m->pv.lm_head, c->dim,
           0.0f, logits, c->vocab_size);
}

double model_train_flops(const model_config *c, int B, int S)
{
    double tokens = (double)B * S;
    return tokens * (6.0 * (double)model_config_n_matmul_params(c) +
                     12.0 * c->n_layers * c->dim * (double)S);
}
