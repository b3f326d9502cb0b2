/* ops.c: forward/backward pairs of the decoder's layers (plain C; the matmuls of
 * the linear layers live in kernels/). Parallel over rows where rows are
 * independent; parameter-gradient reductions are split over columns so that each
 * column is summed over rows in the same order whatever the thread count. */
#include "model/ops.h"

#include "kernels/vexp.h"

#include <math.h>
#include <string.h>

#define ROW_GRAIN 16
#define COL_GRAIN 64
#define ATT_BLOCK 64 /* query/key block of causal attention: blocks above the diagonal are skipped */

/* ---- embedding ------------------------------------------------------------------ */

typedef struct {
    float *out;
    const dk_token *ids;
    const float *wte;
    int D;
} emb_ctx;

static void emb_rows(void *vc, size_t b, size_t e)
{
    emb_ctx *c = vc;
    for (size_t t = b; t < e; t++)
        memcpy(c->out + t * (size_t)c->D, c->wte + (size_t)c->ids[t] * (size_t)c->D,
               (size_t)c->D * sizeof(float));
}

void embedding_forward(pool *p, float *out, const dk_token *ids, const float *wte, int T, int D)
{
    emb_ctx c = {out, ids, wte, D};
    pool_for_range(p, (size_t)T, 64, emb_rows, &c);
}

void embedding_backward(float *dwte, const float *dout, const dk_token *ids, int T, int D)
{
    for (int t = 0; t < T; t++) {
        float *row = dwte + (size_t)ids[t] * (size_t)D;
        const float *g = dout + (size_t)t * (size_t)D;
        for (int i = 0; i < D; i++)
            row[i] += g[i];
    }
}

/* ---- RMSNorm -------------------------------------------------------------------- */

typedef struct {
    float *out, *rstd, *dinp, *dw;
    const float *inp, *w, *dout, *rstd_c;
    int T, D;
    float eps;
    int round;
} norm_ctx;

static void norm_fwd_rows(void *vc, size_t b, size_t e)
{
    norm_ctx *c = vc;
    for (size_t t = b; t < e; t++) {
        const float *x = c->inp + t * (size_t)c->D;
        float *o = c->out + t * (size_t)c->D;
        double ss = 0;
        for (int i = 0; i < c->D; i++)
            ss += (double)x[i] * x[i];
        float r = (float)(1.0 / sqrt(ss / c->D + c->eps));
        c->rstd[t] = r;
        for (int i = 0; i < c->D; i++)
            o[i] = x[i] * r * c->w[i];
        if (c->round)
            mm_round_bf16(NULL, o, (size_t)c->D);
    }
}

void rmsnorm_forward(pool *p, float *out, float *rstd, const float *inp, const float *w, int T,
                     int D, float eps, int round)
{
    norm_ctx c = {.out = out, .rstd = rstd, .inp = inp, .w = w, .T = T, .D = D, .eps = eps, .round = round};
    pool_for_range(p, (size_t)T, ROW_GRAIN, norm_fwd_rows, &c);
}

/* y = x r w with r = (mean(x^2) + eps)^-1/2:
 * dx_i = r (w_i dy_i) - r^3 x_i / D * sum_j (w_j dy_j x_j) */
static void norm_bwd_rows(void *vc, size_t b, size_t e)
{
    norm_ctx *c = vc;
    for (size_t t = b; t < e; t++) {
        const float *x = c->inp + t * (size_t)c->D, *dy = c->dout + t * (size_t)c->D;
        float *dx = c->dinp + t * (size_t)c->D;
        float r = c->rstd_c[t];
        double dot = 0;
        for (int i = 0; i < c->D; i++)
            dot += (double)c->w[i] * dy[i] * x[i];
        float k = (float)(dot * r * r * r / c->D);
        for (int i = 0; i < c->D; i++)
            dx[i] += r * c->w[i] * dy[i] - k * x[i];
    }
}

/* dw over a range of columns: rows outer, columns inner, so the reads are contiguous;
 * each column still sums its rows in order 0..T-1 (the same bits as column by column). */
static void norm_bwd_cols(void *vc, size_t b, size_t e)
{
    norm_ctx *c = vc;
    double s[COL_GRAIN];
    size_t n = e - b;
    for (size_t i = 0; i < n; i++)
        s[i] = 0;
    for (int t = 0; t < c->T; t++) {
        const float *dy = c->dout + (size_t)t * c->D + b, *x = c->inp + (size_t)t * c->D + b;
        double r = c->rstd_c[t];
        for (size_t i = 0; i < n; i++)
            s[i] += (double)dy[i] * x[i] * r;
    }
    for (size_t i = 0; i < n; i++)
        c->dw[b + i] += (float)s[i];
}

void rmsnorm_backward(pool *p, float *dinp, float *dw, const float *dout, const float *inp,
                      const float *w, const float *rstd, int T, int D)
{
    norm_ctx c = {.dinp = dinp, .dw = dw, .dout = dout, .inp = inp, .w = w, .rstd_c = rstd,
                  .T = T, .D = D};
    pool_for_range(p, (size_t)T, ROW_GRAIN, norm_bwd_rows, &c);
    pool_for_range(p, (size_t)D, COL_GRAIN, norm_bwd_cols, &c);
}

/* ---- rotary position embedding -------------------------------------------------- */

void rope_tables(float *cos_t, float *sin_t, int max_seq, int hd, double theta)
{
    int half = hd / 2;
    for (int pos = 0; pos < max_seq; pos++)
        for (int i = 0; i < half; i++) {
            double inv = pow(theta, -2.0 * i / hd);
            double a = pos * inv;
            cos_t[(size_t)pos * half + i] = (float)cos(a);
            sin_t[(size_t)pos * half + i] = (float)sin(a);
        }
}

typedef struct {
    float *x;
    const int32_t *pos;
    const float *cos_t, *sin_t;
    int n_heads, hd;
    float sign; /* +1 forward, -1 backward (rotation by -angle) */
    int round;
} rope_ctx;

static void rope_rows(void *vc, size_t b, size_t e)
{
    rope_ctx *c = vc;
    int half = c->hd / 2;
    for (size_t t = b; t < e; t++) {
        const float *co = c->cos_t + (size_t)c->pos[t] * half;
        const float *si = c->sin_t + (size_t)c->pos[t] * half;
        for (int h = 0; h < c->n_heads; h++) {
            float *x = c->x + (t * (size_t)c->n_heads + (size_t)h) * (size_t)c->hd;
            for (int i = 0; i < half; i++) {
                float x1 = x[i], x2 = x[i + half], s = c->sign * si[i];
                x[i] = x1 * co[i] - x2 * s;
                x[i + half] = x2 * co[i] + x1 * s;
            }
        }
        if (c->round)
            mm_round_bf16(NULL, c->x + t * (size_t)c->n_heads * (size_t)c->hd, (size_t)c->n_heads * (size_t)c->hd);
    }
}

void rope_forward(pool *p, float *x, const int32_t *pos, const float *cos_t, const float *sin_t,
                  int T, int n_heads, int hd, int round)
{
    rope_ctx c = {x, pos, cos_t, sin_t, n_heads, hd, 1.0f, round};
    pool_for_range(p, (size_t)T, ROW_GRAIN, rope_rows, &c);
}

void rope_backward(pool *p, float *dx, const int32_t *pos, const float *cos_t,
                   const float *sin_t, int T, int n_heads, int hd, int round)
{
    rope_ctx c = {dx, pos, cos_t, sin_t, n_heads, hd, -1.0f, round};
    pool_for_range(p, (size_t)T, ROW_GRAIN, rope_rows, &c);
}

/* ---- attention ------------------------------------------------------------------ */

typedef struct {
    mm_ctx *mm;
    float *out, *att, *dq, *dk, *dv, *scratch;
    const float *q, *k, *v, *dout, *att_c;
    int B, S, H, KV, hd;
    int r; /* MM_A_BF16 (== MM_B_BF16) when the caller rounded q, k, v and dout */
} attn_ctx;

void attn_softmax_causal(float *att, int n, int ld, int n_keys, int pos0, float scale)
{
    for (int i = 0; i < n; i++) {
        float *row = att + (size_t)i * ld;
        int last = pos0 + i; /* the row's own position: keys 0..last */
        for (int j = 0; j <= last; j++)
            row[j] *= scale;
        float mx = vmax(row, last + 1);
        double sum = vexp_inplace(row, last + 1, mx);
        float inv = (float)(1.0 / sum);
        for (int j = 0; j <= last; j++)
            row[j] *= inv;
        for (int j = last + 1; j < n_keys; j++)
            row[j] = 0;
    }
}

/* Task = one (sequence, head): scores = q k^T (S x S, matmul), causal softmax in
 * place, out = P v (matmul; the zeros above the diagonal contribute nothing). */
static void attn_fwd_task(void *vc, size_t task, int th)
{
    attn_ctx *c = vc;
    int b = (int)(task / (size_t)c->H), h = (int)(task % (size_t)c->H);
    int g = h / (c->H / c->KV), S = c->S, hd = c->hd;
    int qs = c->H * hd, ks = c->KV * hd;
    float scale = 1.0f / sqrtf((float)hd);
    float *att = c->att + ((size_t)b * c->H + h) * (size_t)S * S;
    const float *qb = c->q + (size_t)b * S * qs + (size_t)h * hd;
    const float *kb = c->k + (size_t)b * S * ks + (size_t)g * hd;
    const float *vb = c->v + (size_t)b * S * ks + (size_t)g * hd;
    float *ob = c->out + (size_t)b * S * qs + (size_t)h * hd;
    /* causal blocks: rows r0..r1 see keys 0..r1 only, half of the S x S work */
    for (int r0 = 0; r0 < S; r0 += ATT_BLOCK) {
        int r1 = r0 + ATT_BLOCK < S ? r0 + ATT_BLOCK : S, n = r1 - r0;
        float *a = att + (size_t)r0 * S;
        mm_f32_on_thread(c->mm, th, c->r, 1 | c->r, n, r1, hd, qb + (size_t)r0 * qs, qs, kb, ks, 0.0f, a, S);
        attn_softmax_causal(a, n, S, S, r0, scale);
        mm_f32_on_thread(c->mm, th, 0, c->r, n, hd, r1, a, S, vb, ks, 0.0f, ob + (size_t)r0 * qs, qs);
    }
}

void attention_forward(pool *p, mm_ctx *mm, float *out, float *att, const float *q,
                       const float *k, const float *v, int B, int S, int H, int KV, int hd, int in_bf16)
{
    attn_ctx c = {.mm = mm, .out = out, .att = att, .q = q, .k = k, .v = v, .B = B, .S = S,
                  .H = H, .KV = KV, .hd = hd, .r = in_bf16 ? MM_A_BF16 : 0};
    pool_for(p, (size_t)B * H, attn_fwd_task, &c);
}

/* Task = one (sequence, key/value head); its query heads run in order, so dk and
 * dv of the group are summed in a fixed order:
 *   dP = dout v^T ; dS = P * (dP - rowsum(P * dP)) / sqrt(hd)
 *   dq = dS k ; dk += dS^T q ; dv += P^T dout */
static void attn_bwd_task(void *vc, size_t task, int th)
{
    attn_ctx *c = vc;
    int b = (int)(task / (size_t)c->KV), g = (int)(task % (size_t)c->KV);
    int S = c->S, hd = c->hd, rep = c->H / c->KV;
    int qs = c->H * hd, ks = c->KV * hd;
    float scale = 1.0f / sqrtf((float)hd);
    float *ds = c->scratch + (size_t)th * S * S;
    const float *kb = c->k + (size_t)b * S * ks + (size_t)g * hd;
    const float *vb = c->v + (size_t)b * S * ks + (size_t)g * hd;
    float *dkb = c->dk + (size_t)b * S * ks + (size_t)g * hd;
    float *dvb = c->dv + (size_t)b * S * ks + (size_t)g * hd;
    for (int h = g * rep; h < (g + 1) * rep; h++) {
        const float *P = c->att_c + ((size_t)b * c->H + h) * (size_t)S * S;
        const float *doutb = c->dout + (size_t)b * S * qs + (size_t)h * hd;
        const float *qb = c->q + (size_t)b * S * qs + (size_t)h * hd;
        float beta = h == g * rep ? 0.0f : 1.0f;
        /* rows in causal blocks: row i needs keys 0..i, computed up to its block's end */
        for (int r0 = 0; r0 < S; r0 += ATT_BLOCK) {
            int r1 = r0 + ATT_BLOCK < S ? r0 + ATT_BLOCK : S, n = r1 - r0;
            float *dsr = ds + (size_t)r0 * S;
            mm_f32_on_thread(c->mm, th, c->r, 1 | c->r, n, r1, hd, doutb + (size_t)r0 * qs, qs, vb, ks, 0.0f,
                             dsr, S);
            for (int i = r0; i < r1; i++) {
                const float *prow = P + (size_t)i * S;
                float *row = ds + (size_t)i * S;
                double dot = 0;
                for (int j = 0; j <= i; j++)
                    dot += (double)prow[j] * row[j];
                for (int j = 0; j <= i; j++)
                    row[j] = prow[j] * (row[j] - (float)dot) * scale;
                for (int j = i + 1; j < r1; j++)
                    row[j] = 0;
                if (c->r) /* dS feeds products only: rounded once, here */
                    mm_round_bf16(NULL, row, (size_t)(i + 1));
            }
            mm_f32_on_thread(c->mm, th, c->r, c->r, n, hd, r1, dsr, S, kb, ks, 0.0f,
                             c->dq + (size_t)b * S * qs + (size_t)h * hd + (size_t)r0 * qs, qs);
        }
        /* keys in the same blocks: key j gets contributions from rows i >= j only, so
         * block c0..c1 reads rows c0..S (whose entries there are all written above) */
        for (int c0 = 0; c0 < S; c0 += ATT_BLOCK) {
            int c1 = c0 + ATT_BLOCK < S ? c0 + ATT_BLOCK : S, n = c1 - c0, rows = S - c0;
            mm_f32_on_thread(c->mm, th, 1 | c->r, c->r, n, hd, rows, ds + (size_t)c0 * S + c0, S,
                             qb + (size_t)c0 * qs, qs, beta, dkb + (size_t)c0 * ks, ks);
            mm_f32_on_thread(c->mm, th, 1, c->r, n, hd, rows, P + (size_t)c0 * S + c0, S,
                             doutb + (size_t)c0 * qs, qs, beta, dvb + (size_t)c0 * ks, ks);
        }
    }
}

void attention_backward(pool *p, mm_ctx *mm, float *scratch, float *dq, float *dk, float *dv,
                        const float *dout, const float *att, const float *q, const float *k,
                        const float *v, int B, int S, int H, int KV, int hd, int in_bf16)
{
    attn_ctx c = {.mm = mm, .dq = dq, .dk = dk, .dv = dv, .scratch = scratch, .dout = dout,
                  .att_c = att, .q = q, .k = k, .v = v, .B = B, .S = S, .H = H, .KV = KV, .hd = hd,
                  .r = in_bf16 ? MM_A_BF16 : 0};
    pool_for(p, (size_t)B * KV, attn_bwd_task, &c);
}

/* ---- SwiGLU --------------------------------------------------------------------- */

typedef struct {
    float *out, *dgate, *dup;
    const float *gate, *up, *dout;
    int round;
} glu_ctx;

static void glu_fwd(void *vc, size_t b, size_t e)
{
    glu_ctx *c = vc;
    vswiglu(c->out + b, c->gate + b, c->up + b, e - b);
    if (c->round)
        mm_round_bf16(NULL, c->out + b, e - b);
}

static void glu_bwd(void *vc, size_t b, size_t e)
{
    glu_ctx *c = vc;
    vswiglu_backward(c->dgate + b, c->dup + b, c->dout + b, c->gate + b, c->up + b, e - b);
    if (c->round) {
        mm_round_bf16(NULL, c->dgate + b, e - b);
        mm_round_bf16(NULL, c->dup + b, e - b);
    }
}

void swiglu_forward(pool *p, float *out, const float *gate, const float *up, size_t n, int round)
{
    glu_ctx c = {.out = out, .gate = gate, .up = up, .round = round};
    pool_for_range(p, n, 1 << 14, glu_fwd, &c);
}

void swiglu_backward(pool *p, float *dgate, float *dup, const float *dout, const float *gate,
                     const float *up, size_t n, int round)
{
    glu_ctx c = {.dgate = dgate, .dup = dup, .gate = gate, .up = up, .dout = dout, .round = round};
    pool_for_range(p, n, 1 << 14, glu_bwd, &c);
}

/* ---- cross-entropy -------------------------------------------------------------- */

typedef struct {
    float *logits;
    double *row_loss;
    const dk_token *targets;
    int V;
    dk_token ignore;
    float scale;
    int round;
} xent_ctx;

double logsumexp_row(const float *z, int V)
{
    float mx = vmax(z, V);
    return mx + log(vexp_sum(z, V, mx));
}

static void xent_rows(void *vc, size_t b, size_t e)
{
    xent_ctx *c = vc;
    for (size_t r = b; r < e; r++) {
        float *z = c->logits + r * (size_t)c->V;
        dk_token y = c->targets[r];
        if (y == c->ignore) {
            memset(z, 0, (size_t)c->V * sizeof *z);
            c->row_loss[r] = 0;
            continue;
        }
        double lse = logsumexp_row(z, c->V);
        c->row_loss[r] = lse - z[y];
        vexp_scale(z, c->V, lse, c->scale);
        z[y] -= c->scale;
        if (c->round)
            mm_round_bf16(NULL, z, (size_t)c->V);
    }
}

size_t xent_forward_backward(pool *p, float *logits, double *row_loss, const dk_token *targets,
                             size_t n, int V, dk_token ignore, float scale, int round)
{
    xent_ctx c = {logits, row_loss, targets, V, ignore, scale, round};
    pool_for_range(p, n, 4, xent_rows, &c);
    size_t valid = 0;
    for (size_t r = 0; r < n; r++)
        valid += targets[r] != ignore;
    return valid;
}

/* ---- bias ----------------------------------------------------------------------- */

typedef struct {
    float *y, *db;
    const float *bias, *dy;
    int T, N;
} bias_ctx;

static void bias_fwd_rows(void *vc, size_t b, size_t e)
{
    bias_ctx *c = vc;
    for (size_t t = b; t < e; t++)
        for (int i = 0; i < c->N; i++)
            c->y[t * (size_t)c->N + i] += c->bias[i];
}

static void bias_bwd_cols(void *vc, size_t b, size_t e)
{
    bias_ctx *c = vc;
    for (size_t i = b; i < e; i++) {
        double s = 0;
        for (int t = 0; t < c->T; t++)
            s += c->dy[(size_t)t * c->N + i];
        c->db[i] += (float)s;
    }
}

void bias_forward(pool *p, float *y, const float *bias, int T, int N)
{
    bias_ctx c = {.y = y, .bias = bias, .T = T, .N = N};
    pool_for_range(p, (size_t)T, ROW_GRAIN, bias_fwd_rows, &c);
}

void bias_backward(pool *p, float *db, const float *dy, int T, int N)
{
    bias_ctx c = {.db = db, .dy = dy, .T = T, .N = N};
    pool_for_range(p, (size_t)N, COL_GRAIN, bias_bwd_cols, &c);
}
