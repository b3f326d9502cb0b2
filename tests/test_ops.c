/* test_ops.c: every layer's forward against a double-precision reference, and its
 * backward against central finite differences of that reference (in double).
 *
 * Pattern: L(x) = sum_i c_i * f(x)_i with fixed random c; the op's backward with
 * dout = c must give dL/dx; finite differences of the double reference give the
 * truth. Tolerance: 1e-4 relative to the gradient's scale (the op is float32). */
#include <math.h>
#include <stdlib.h>

#include "model/ops.h"
#include "test.h"

static double urand(void) { return (double)rand() / RAND_MAX * 2.0 - 1.0; }

static void fill(float *f, double *d, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++) {
        double v = urand() * scale;
        if (f)
            f[i] = (float)v;
        if (d)
            d[i] = (float)v; /* the same values in both precisions */
    }
}

/* Max |a - b| / (max |b| + tiny). */
static double rel_err(const float *a, const double *b, size_t n)
{
    double m = 0, s = 1e-12;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        m = e > m ? e : m;
        s = fabs(b[i]) > s ? fabs(b[i]) : s;
    }
    return m / s;
}

typedef double (*loss_fn)(void *ctx, const double *x);

/* Central differences of loss with respect to x[0..n), step h, into g. */
static void fd_grad(loss_fn f, void *ctx, double *x, size_t n, double h, double *g)
{
    for (size_t i = 0; i < n; i++) {
        double keep = x[i];
        x[i] = keep + h;
        double lp = f(ctx, x);
        x[i] = keep - h;
        double lm = f(ctx, x);
        x[i] = keep;
        g[i] = (lp - lm) / (2 * h);
    }
}

static pool *P(void)
{
    static pool *p;
    if (!p)
        p = pool_new(2);
    return p;
}

/* ---- RMSNorm ---------------------------------------------------------------------- */

enum { NT = 5, ND = 12 };

typedef struct {
    const double *w, *c, *x;
    int which; /* 0: d/dx, 1: d/dw */
} norm_ref;

static void rmsnorm_ref(const double *x, const double *w, double *out)
{
    for (int t = 0; t < NT; t++) {
        double ss = 0;
        for (int i = 0; i < ND; i++)
            ss += x[t * ND + i] * x[t * ND + i];
        double r = 1.0 / sqrt(ss / ND + 1e-5);
        for (int i = 0; i < ND; i++)
            out[t * ND + i] = x[t * ND + i] * r * w[i];
    }
}

static double norm_loss(void *vc, const double *v)
{
    norm_ref *c = vc;
    double out[NT * ND], L = 0;
    rmsnorm_ref(c->which ? c->x : v, c->which ? v : c->w, out);
    for (int i = 0; i < NT * ND; i++)
        L += c->c[i] * out[i];
    return L;
}

TEST(ops_rmsnorm_matches_reference_and_finite_differences)
{
    srand(1);
    float x[NT * ND], w[ND], out[NT * ND], rstd[NT], cf[NT * ND], dx[NT * ND] = {0}, dw[ND] = {0};
    double xd[NT * ND], wd[ND], cd[NT * ND], outd[NT * ND], gx[NT * ND], gw[ND];
    fill(x, xd, NT * ND, 2.0);
    fill(w, wd, ND, 1.5);
    fill(cf, cd, NT * ND, 1.0);
    rmsnorm_forward(P(), out, rstd, x, w, NT, ND, 1e-5f, 0);
    rmsnorm_ref(xd, wd, outd);
    CHECK(rel_err(out, outd, NT * ND) < 1e-6);
    rmsnorm_backward(P(), dx, dw, cf, x, w, rstd, NT, ND);
    norm_ref c = {wd, cd, xd, 0};
    fd_grad(norm_loss, &c, xd, NT * ND, 1e-5, gx);
    c.which = 1;
    fd_grad(norm_loss, &c, wd, ND, 1e-5, gw);
    CHECK_MSG(rel_err(dx, gx, NT * ND) < 1e-4, "dx err %g", rel_err(dx, gx, NT * ND));
    CHECK_MSG(rel_err(dw, gw, ND) < 1e-4, "dw err %g", rel_err(dw, gw, ND));
}

/* ---- RoPE ------------------------------------------------------------------------- */

enum { RT = 4, RH = 3, RHD = 8 };

static void rope_ref(const double *x, double *out, const int32_t *pos, double theta)
{
    int half = RHD / 2;
    for (int t = 0; t < RT; t++)
        for (int h = 0; h < RH; h++)
            for (int i = 0; i < half; i++) {
                double a = pos[t] * pow(theta, -2.0 * i / RHD);
                const double *v = x + (t * RH + h) * RHD;
                double *o = out + (t * RH + h) * RHD;
                o[i] = v[i] * cos(a) - v[i + half] * sin(a);
                o[i + half] = v[i + half] * cos(a) + v[i] * sin(a);
            }
}

typedef struct {
    const double *c;
    const int32_t *pos;
} rope_refc;

static double rope_loss(void *vc, const double *x)
{
    rope_refc *c = vc;
    double out[RT * RH * RHD], L = 0;
    rope_ref(x, out, c->pos, 10000.0);
    for (int i = 0; i < RT * RH * RHD; i++)
        L += c->c[i] * out[i];
    return L;
}

TEST(ops_rope_rotates_half_pairs_and_backward_is_its_transpose)
{
    srand(2);
    enum { N = RT * RH * RHD };
    float x[N], cf[N], cos_t[16 * RHD / 2], sin_t[16 * RHD / 2];
    double xd[N], cd[N], outd[N], g[N];
    int32_t pos[RT] = {0, 1, 7, 15};
    fill(x, xd, N, 1.0);
    fill(cf, cd, N, 1.0);
    rope_tables(cos_t, sin_t, 16, RHD, 10000.0);
    rope_forward(P(), x, pos, cos_t, sin_t, RT, RH, RHD, 0);
    rope_ref(xd, outd, pos, 10000.0);
    CHECK(rel_err(x, outd, N) < 1e-6);
    fill(x, xd, N, 1.0);
    rope_backward(P(), cf, pos, cos_t, sin_t, RT, RH, RHD, 0);
    rope_refc c = {cd, pos};
    fd_grad(rope_loss, &c, xd, N, 1e-5, g);
    CHECK_MSG(rel_err(cf, g, N) < 1e-4, "err %g", rel_err(cf, g, N));
}

/* ---- attention -------------------------------------------------------------------- */

enum { AB = 2, AS = 5, AH = 4, AKV = 2, AHD = 4 };
enum { AQ = AB * AS * AH * AHD, AK = AB * AS * AKV * AHD };

static void attn_ref(const double *q, const double *k, const double *v, double *out)
{
    int rep = AH / AKV;
    for (int b = 0; b < AB; b++)
        for (int h = 0; h < AH; h++) {
            int g = h / rep;
            for (int i = 0; i < AS; i++) {
                double s[AS], mx = -1e300, sum = 0;
                const double *qi = q + ((b * AS + i) * AH + h) * AHD;
                for (int j = 0; j <= i; j++) {
                    const double *kj = k + ((b * AS + j) * AKV + g) * AHD;
                    s[j] = 0;
                    for (int d = 0; d < AHD; d++)
                        s[j] += qi[d] * kj[d];
                    s[j] /= sqrt((double)AHD);
                    mx = s[j] > mx ? s[j] : mx;
                }
                for (int j = 0; j <= i; j++)
                    sum += (s[j] = exp(s[j] - mx));
                double *o = out + ((b * AS + i) * AH + h) * AHD;
                for (int d = 0; d < AHD; d++) {
                    o[d] = 0;
                    for (int j = 0; j <= i; j++)
                        o[d] += s[j] / sum * v[((b * AS + j) * AKV + g) * AHD + d];
                }
            }
        }
}

typedef struct {
    double *q, *k, *v;
    const double *c;
} attn_refc;

static double attn_loss(void *vc, const double *unused)
{
    (void)unused; /* the perturbed array is one of q, k, v, in place */
    attn_refc *c = vc;
    double out[AQ], L = 0;
    attn_ref(c->q, c->k, c->v, out);
    for (int i = 0; i < AQ; i++)
        L += c->c[i] * out[i];
    return L;
}

TEST(ops_attention_is_causal_grouped_and_differentiates_correctly)
{
    srand(3);
    float q[AQ], k[AK], v[AK], out[AQ], att[AB * AH * AS * AS], cf[AQ];
    float dq[AQ], dk[AK], dv[AK];
    double qd[AQ], kd[AK], vd[AK], cd[AQ], outd[AQ], gq[AQ], gk[AK], gv[AK];
    fill(q, qd, AQ, 1.0);
    fill(k, kd, AK, 1.0);
    fill(v, vd, AK, 1.0);
    fill(cf, cd, AQ, 1.0);
    mm_ctx *mm = mm_ctx_new(P());
    float scratch[2 * AS * AS];
    attention_forward(P(), mm, out, att, q, k, v, AB, AS, AH, AKV, AHD, 0);
    attn_ref(qd, kd, vd, outd);
    CHECK(rel_err(out, outd, AQ) < 1e-5);
    for (int r = 0; r < AB * AH * AS; r++) /* rows sum to one, zero above the diagonal */ {
        double s = 0;
        for (int j = 0; j < AS; j++) {
            s += att[r * AS + j];
            if (j > r % AS)
                CHECK(att[r * AS + j] == 0);
        }
        CHECK(fabs(s - 1) < 1e-5);
    }
    attention_backward(P(), mm, scratch, dq, dk, dv, cf, att, q, k, v, AB, AS, AH, AKV, AHD, 0);
    mm_ctx_free(mm);
    attn_refc c = {qd, kd, vd, cd};
    fd_grad(attn_loss, &c, qd, AQ, 1e-5, gq);
    fd_grad(attn_loss, &c, kd, AK, 1e-5, gk);
    fd_grad(attn_loss, &c, vd, AK, 1e-5, gv);
    CHECK_MSG(rel_err(dq, gq, AQ) < 1e-4, "dq err %g", rel_err(dq, gq, AQ));
    CHECK_MSG(rel_err(dk, gk, AK) < 1e-4, "dk err %g", rel_err(dk, gk, AK));
    CHECK_MSG(rel_err(dv, gv, AK) < 1e-4, "dv err %g", rel_err(dv, gv, AK));
}

/* ---- SwiGLU ----------------------------------------------------------------------- */

enum { GN = 40 };

typedef struct {
    double *g, *u;
    const double *c;
} glu_refc;

static double glu_loss(void *vc, const double *unused)
{
    (void)unused;
    glu_refc *c = vc;
    double L = 0;
    for (int i = 0; i < GN; i++)
        L += c->c[i] * c->g[i] / (1 + exp(-c->g[i])) * c->u[i];
    return L;
}

TEST(ops_swiglu_matches_finite_differences)
{
    srand(4);
    float g[GN], u[GN], out[GN], cf[GN], dg[GN], du[GN];
    double gd[GN], ud[GN], cd[GN], fg[GN], fu[GN];
    fill(g, gd, GN, 4.0);
    fill(u, ud, GN, 2.0);
    fill(cf, cd, GN, 1.0);
    swiglu_forward(P(), out, g, u, GN, 0);
    for (int i = 0; i < GN; i++)
        CHECK(fabs(out[i] - gd[i] / (1 + exp(-gd[i])) * ud[i]) < 1e-5);
    swiglu_backward(P(), dg, du, cf, g, u, GN, 0);
    glu_refc c = {gd, ud, cd};
    fd_grad(glu_loss, &c, gd, GN, 1e-5, fg);
    fd_grad(glu_loss, &c, ud, GN, 1e-5, fu);
    CHECK(rel_err(dg, fg, GN) < 1e-4);
    CHECK(rel_err(du, fu, GN) < 1e-4);
}

/* ---- cross-entropy ---------------------------------------------------------------- */

enum { XN = 6, XV = 9 };

typedef struct {
    const dk_token *y;
} xent_refc;

static double xent_loss(void *vc, const double *z)
{
    xent_refc *c = vc;
    double L = 0;
    int n = 0;
    for (int r = 0; r < XN; r++) {
        if (c->y[r] < 0)
            continue;
        double mx = -1e300, s = 0;
        for (int i = 0; i < XV; i++)
            mx = z[r * XV + i] > mx ? z[r * XV + i] : mx;
        for (int i = 0; i < XV; i++)
            s += exp(z[r * XV + i] - mx);
        L += mx + log(s) - z[r * XV + c->y[r]];
        n++;
    }
    return L / n;
}

TEST(ops_cross_entropy_ignores_index_and_gives_mean_gradient)
{
    srand(5);
    float z[XN * XV];
    double zd[XN * XV], g[XN * XV], rl[XN];
    dk_token y[XN] = {3, -100, 0, 8, -100, 5};
    fill(z, zd, XN * XV, 3.0);
    size_t n = xent_forward_backward(P(), z, rl, y, XN, XV, -100, 1.0f / 4, 0);
    CHECK_EQ(n, 4);
    double L = 0;
    for (int r = 0; r < XN; r++)
        L += rl[r];
    xent_refc c = {y};
    CHECK(fabs(L / 4 - xent_loss(&c, zd)) < 1e-6);
    fd_grad(xent_loss, &c, zd, XN * XV, 1e-5, g);
    CHECK_MSG(rel_err(z, g, XN * XV) < 1e-4, "err %g", rel_err(z, g, XN * XV));
    for (int i = 0; i < XV; i++)
        CHECK(z[1 * XV + i] == 0); /* ignored rows carry no gradient */
}

TEST(ops_embedding_and_bias_gradients_accumulate)
{
    float wte[4 * 3] = {0}, out[5 * 3], dwte[4 * 3] = {0}, dout[5 * 3];
    dk_token ids[5] = {1, 3, 1, 0, 1};
    for (int i = 0; i < 12; i++)
        wte[i] = (float)i;
    for (int i = 0; i < 15; i++)
        dout[i] = 1.0f;
    embedding_forward(P(), out, ids, wte, 5, 3);
    CHECK(out[0] == 3 && out[3] == 9 && out[14] == 5);
    embedding_backward(dwte, dout, ids, 5, 3);
    CHECK(dwte[3] == 3 && dwte[0] == 1 && dwte[9] == 1 && dwte[6] == 0);
    float db[3] = {1, 1, 1};
    bias_backward(P(), db, dout, 5, 3);
    CHECK(db[0] == 6 && db[2] == 6);
}

TEST(ops_are_bit_identical_across_thread_counts)
{
    srand(6);
    enum { T = 70, D = 96 };
    static float x[T * D], w[D], dy[T * D], out1[T * D], out2[T * D], r1[T], r2[T];
    static float dx1[T * D], dx2[T * D], dw1[D], dw2[D];
    fill(x, NULL, T * D, 2.0);
    fill(w, NULL, D, 1.0);
    fill(dy, NULL, T * D, 1.0);
    pool *p1 = pool_new(1), *p3 = pool_new(3);
    rmsnorm_forward(p1, out1, r1, x, w, T, D, 1e-6f, 0);
    rmsnorm_forward(p3, out2, r2, x, w, T, D, 1e-6f, 0);
    memset(dx1, 0, sizeof dx1);
    memset(dx2, 0, sizeof dx2);
    memset(dw1, 0, sizeof dw1);
    memset(dw2, 0, sizeof dw2);
    rmsnorm_backward(p1, dx1, dw1, dy, x, w, r1, T, D);
    rmsnorm_backward(p3, dx2, dw2, dy, x, w, r2, T, D);
    pool_free(p1);
    pool_free(p3);
    CHECK(memcmp(out1, out2, sizeof out1) == 0);
    CHECK(memcmp(dx1, dx2, sizeof dx1) == 0);
    CHECK(memcmp(dw1, dw2, sizeof dw1) == 0);
}

/* Causal blocks (ATT_BLOCK = 64 rows and keys): a sequence of 150 tokens crosses them.
 * Output against a double reference, and the gradient of a linear loss at sampled
 * coordinates of q, k and v against central differences of that reference. */
typedef struct {
    int S, H, KV, hd;
    double *q, *k, *v;
    const double *c;
} long_attn;

static double long_attn_loss(const long_attn *a)
{
    double L = 0;
    int rep = a->H / a->KV;
    double *s = malloc((size_t)a->S * sizeof *s);
    for (int h = 0; h < a->H; h++)
        for (int i = 0; i < a->S; i++) {
            const double *qi = a->q + ((size_t)i * a->H + h) * a->hd;
            double mx = -1e300, sum = 0;
            for (int j = 0; j <= i; j++) {
                const double *kj = a->k + ((size_t)j * a->KV + h / rep) * a->hd;
                s[j] = 0;
                for (int d = 0; d < a->hd; d++)
                    s[j] += qi[d] * kj[d];
                s[j] /= sqrt((double)a->hd);
                mx = s[j] > mx ? s[j] : mx;
            }
            for (int j = 0; j <= i; j++)
                sum += (s[j] = exp(s[j] - mx));
            for (int d = 0; d < a->hd; d++) {
                double o = 0;
                for (int j = 0; j <= i; j++)
                    o += s[j] / sum * a->v[((size_t)j * a->KV + h / rep) * a->hd + d];
                L += a->c[((size_t)i * a->H + h) * a->hd + d] * o;
            }
        }
    free(s);
    return L;
}

TEST(ops_attention_causal_blocks_on_a_long_sequence)
{
    enum { S = 150, H = 2, KV = 1, HD = 8, NQ = S * H * HD, NK = S * KV * HD };
    static float q[NQ], k[NK], v[NK], cf[NQ], out[NQ], att[H * S * S], dq[NQ], dk[NK], dv[NK], scratch[2 * S * S];
    static double qd[NQ], kd[NK], vd[NK], cd[NQ];
    srand(8);
    fill(q, qd, NQ, 1.0);
    fill(k, kd, NK, 1.0);
    fill(v, vd, NK, 1.0);
    fill(cf, cd, NQ, 1.0);
    mm_ctx *mm = mm_ctx_new(P());
    attention_forward(P(), mm, out, att, q, k, v, 1, S, H, KV, HD, 0);
    attention_backward(P(), mm, scratch, dq, dk, dv, cf, att, q, k, v, 1, S, H, KV, HD, 0);
    mm_ctx_free(mm);
    long_attn a = {S, H, KV, HD, qd, kd, vd, cd};
    double L = 0;
    for (int i = 0; i < NQ; i++)
        L += (double)cf[i] * out[i];
    CHECK_MSG(fabs(L - long_attn_loss(&a)) < 1e-4 * (1 + fabs(L)), "loss %g vs %g", L, long_attn_loss(&a));
    struct {
        double *x;
        const float *g;
        int n;
    } t[3] = {{qd, dq, NQ}, {kd, dk, NK}, {vd, dv, NK}};
    for (int w = 0; w < 3; w++)
        for (int s = 0; s < 12; s++) {
            int idx = (int)(((long)s * 7919 + w * 131) % t[w].n);
            double x0 = t[w].x[idx], e = 1e-5;
            t[w].x[idx] = x0 + e;
            double lp = long_attn_loss(&a);
            t[w].x[idx] = x0 - e;
            double lm = long_attn_loss(&a);
            t[w].x[idx] = x0;
            double fd = (lp - lm) / (2 * e);
            CHECK_MSG(fabs(fd - t[w].g[idx]) < 1e-3 * (1 + fabs(fd)), "tensor %d index %d: %g vs %g", w, idx,
                      t[w].g[idx], fd);
        }
}
