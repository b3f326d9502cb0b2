/* lineage_weights.c: the statistics read from the weights alone (lineage.h, 1-3):
 * statistic 1 per layer, the layer map over every (layer of A, layer of B) pair, and B
 * against itself (duplicated layers).
 *
 * Cost, and why the map is screened on big models. One map entry matches B's `sample`
 * neurons (R) into all F of A's, by gate and by up rows: 4 R F D flops. All pairs of two
 * 32-layer Llama-7B models (1024 pairs, plus 496 of B against itself) are 7e13 flops,
 * about 8 minutes on two Zen 3 cores, growing with the square of the depth. The screen
 * runs the same statistic with far less: screen_neurons (32) other neurons of B over
 * the first screen_dims (256) hidden coordinates, 1/128 of the work, whose p-value floor
 * (1/32! = 1e-35) still singles out a derived layer by 30 orders of magnitude. Then only
 * each B layer's best screen_keep candidates (the best, and any other with screen
 * p < 1e-2) and B's candidate duplicates are tested in full, so the full tests grow
 * with the depth, not its square. The screen's neurons are disjoint from the full test's
 * sample, so a full-test p-value is not biased by having been selected; the Bonferroni
 * correction over all of A's layers is kept (conservative). Entries not refined keep
 * the screen's statistic (map_refined says which), and only refined entries can be a
 * B layer's source. Small models (full map under ~1e12 flops) get the full map.
 *
 * B's part depends on B (and a few option values) only: its sampled neurons, its screen
 * sample and its test against itself (self_full / self_screened, a third of an
 * equal-depth full map) are taken from lineage_opts.cache when there and offered to it
 * otherwise; A against B is always computed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lineage/lineage_cache_internal.h"
#include "lineage/lineage_internal.h"
#include "lineage/lineage_match.h"
#include "lineage/stats.h"
#include "util/progress.h"

/* A screen p-value that earns a full test besides each B layer's best. */
#define REFINE_LOG10P (-2.0)
/* Flops of the full map above which AUTO screens. */
#define SCREEN_ABOVE_FLOPS 1e12

typedef struct {
    lineage_report *r;
    const wsrc *A, *B;
    const lineage_opts *o;
    matcher m;
    int D, R;       /* hidden width; B's sampled neurons per layer for the full test */
    size_t per;     /* R x D */
    size_t *rows;   /* the sample's rows of B */
    size_t *all_rows; /* 0, 1, ..., max(Fa, Fb) - 1 */
    const float *bs; /* B's sampled gate and up rows of every layer: Lb x 2 x per */
    float *fg, *fu; /* one layer's gate and up rows (any of A's or B's, all columns) */
    float *xg, *xu; /* a batch of B's neuron sets, gathered: BATCH_ROWS x D */
    float *cg, *cu; /* their similarities to one layer, transposed: F x BATCH_ROWS */
    const float **set_g, **set_u; /* per layer of B: where its neuron set is */
    double load_s, product_s; /* seconds reading weights, and in similarity products */
} wctx;

/* Rows of B's neurons matched in one product: the products of many small neuron sets
 * against the same layer are one efficient GEMM rather than many thin ones. The results
 * are the same bits either way (every output is one fixed chain over the depth). */
#define BATCH_ROWS 2048

/* n evenly spaced indices of F. */
static void sample_rows(size_t *rows, int n, int F)
{
    for (int k = 0; k < n; k++)
        rows[k] = (size_t)((double)k * F / n);
}

typedef struct {
    const wsrc *w;
    const char *name;
    const size_t *rows;
    size_t c0, nc, D;
    float *out;
} load_job;

static void load_range(void *ctx, size_t b, size_t e)
{
    const load_job *J = ctx;
    dk_err err; /* cannot fail: the tensor, its shape and the rows were checked */
    wsrc_block(J->w, J->name, J->rows + b, e - b, J->c0, J->nc, J->D, J->out + b * J->nc, &err);
    unit_rows(J->out + b * J->nc, e - b, (int)J->nc);
}

/* Columns [c0, c0 + nc) of rows (n of them) of one matrix, each row scaled to unit length
 * over those columns; converted over the pool (a 7B layer's gate and up are 90 M
 * elements: single-threaded, reading them took a quarter of the test). */
static int load_matrix(wctx *c, const wsrc *w, const char *name, const size_t *rows, size_t n, size_t c0,
                       size_t nc, float *out, dk_err *err)
{
    uint64_t nrows, ncols;
    size_t D = (size_t)w->cfg.dim;
    if (wsrc_shape(w, name, &nrows, &ncols, err) != 0 ||
        wsrc_block(w, name, rows, 0, c0, nc, D, out, err) != 0) /* checks the shape and columns */
        return -1;
    for (size_t i = 0; i < n; i++)
        if (rows[i] >= nrows)
            return dk_errf(err, "%s: tensor \"%s\" has no row %zu", w->dir, name, rows[i]);
    load_job J = {w, name, rows, c0, nc, D, out};
    pool_for_range(matcher_pool(&c->m), n, 256, load_range, &J);
    return 0;
}

/* Columns [c0, c0 + nc) of the listed rows (NULL: rows 0..n-1) of a layer's gate and up
 * matrices, each row scaled to unit length over those columns. */
static int load_gate_up(wctx *c, const wsrc *w, int layer, const size_t *rows, int n, int c0, int nc, float *g,
                        float *u, dk_err *err)
{
    double t0 = now_seconds();
    char ng[128], nu[128];
    layer_name(ng, sizeof ng, layer, "mlp.gate_proj.weight");
    layer_name(nu, sizeof nu, layer, "mlp.up_proj.weight");
    const size_t *list = rows ? rows : c->all_rows;
    if (load_matrix(c, w, ng, list, (size_t)n, (size_t)c0, (size_t)nc, g, err) != 0 ||
        load_matrix(c, w, nu, list, (size_t)n, (size_t)c0, (size_t)nc, u, err) != 0)
        return -1;
    c->load_s += now_seconds() - t0;
    return 0;
}

/* Starts reading a layer's gate and up from disk while the current one is worked on
 * (cold files: a 7B model is read at disk speed otherwise, then computed on). */
static void prefetch(const wsrc *w, int layer)
{
    if (layer >= w->cfg.n_layers)
        return;
    char ng[128], nu[128];
    layer_name(ng, sizeof ng, layer, "mlp.gate_proj.weight");
    layer_name(nu, sizeof nu, layer, "mlp.up_proj.weight");
    wsrc_prefetch(w, ng);
    wsrc_prefetch(w, nu);
}

/* Statistic 1 on layer i: n evenly spaced up_proj rows of B matched among the same rows
 * of A (all rows when the MLP is at most identity_rows wide). */
static int identity_test(wctx *c, int i, dk_err *err)
{
    lineage_report *r = c->r;
    int F = r->Fa, n = c->o->identity_rows > 0 && c->o->identity_rows < F ? c->o->identity_rows : F;
    size_t *rows = malloc((size_t)n * sizeof *rows);
    if (!rows)
        return dk_errf(err, "out of memory");
    sample_rows(rows, n, F);
    char nu[128];
    layer_name(nu, sizeof nu, i, "mlp.up_proj.weight");
    size_t D = (size_t)c->D;
    int rc = wsrc_rows_list(c->A, nu, rows, (size_t)n, D, c->fu, err) != 0 ||
                     wsrc_rows_list(c->B, nu, rows, (size_t)n, D, c->fg, err) != 0
                 ? -1
                 : 0;
    free(rows);
    if (rc != 0)
        return -1;
    unit_rows(c->fu, (size_t)n, c->D);
    unit_rows(c->fg, (size_t)n, c->D);
    r->w_rows = n;
    return match_identity(&c->m, c->fg, n, c->fu, n, c->D, &r->w_rho[i], &r->w_log10p[i], err);
}

/* Matches nq neuron sets of B (gate rows xg[q], up rows xu[q]: n x d each) into one
 * layer's ag, au (F x d): rho[q], lp[q]. */
static int match_sets(wctx *c, const float *const *xg, const float *const *xu, int nq, int n,
                      const float *ag, const float *au, int F, int d, double *rho, double *lp,
                      dk_err *err)
{
    int per_batch = BATCH_ROWS / n > 0 ? BATCH_ROWS / n : 1, rc = 0;
    size_t set = (size_t)n * d;
    for (int q0 = 0; q0 < nq && rc == 0; q0 += per_batch) {
        int k = nq - q0 < per_batch ? nq - q0 : per_batch;
        for (int q = 0; q < k; q++) {
            memcpy(c->xg + q * set, xg[q0 + q], set * sizeof(float));
            memcpy(c->xu + q * set, xu[q0 + q], set * sizeof(float));
        }
        double t0 = now_seconds();
        /* A's layer (F rows, the big operand) on the left, read in place; B's few
         * rows packed: the product is F x (k n), and each set's columns are
         * transposed as they are converted for the assignment */
        size_t ld = (size_t)k * n;
        mm_f32(c->m.mm, 0, 1, F, k * n, d, ag, d, c->xg, d, 0.0f, c->cg, ld);
        mm_f32(c->m.mm, 0, 1, F, k * n, d, au, d, c->xu, d, 0.0f, c->cu, ld);
        c->product_s += now_seconds() - t0;
        for (int q = 0; q < k && rc == 0; q++)
            rc = match_gate_up_sims_t(&c->m, c->cg + (size_t)q * n, c->cu + (size_t)q * n, ld, n, F, &rho[q0 + q],
                                      &lp[q0 + q], err);
    }
    return rc;
}

/* B against itself: its duplicated layers (pairs j < k whose p is significant) and how
 * many of its pairs were tested in full after a screen. One block, so that lineage_cache
 * can keep it: a function of B and of the values in self_key only. */
typedef struct {
    int n_dup, n_full;
    double *dup_log10p; /* cap entries each */
    int (*dup)[2];
} self_result;

static self_result *self_new(int Lb, size_t *bytes)
{
    size_t cap = (size_t)Lb * (Lb > 0 ? Lb - 1 : 0) / 2 + 1;
    *bytes = sizeof(self_result) + cap * sizeof(double) + cap * sizeof(int[2]);
    self_result *s = calloc(1, *bytes);
    if (s) {
        s->dup_log10p = (double *)(s + 1);
        s->dup = (int(*)[2])(s->dup_log10p + cap);
    }
    return s;
}

/* A significant match of B's layer k onto its layer j (j < k): a duplicated layer. */
static void note_dup(wctx *c, self_result *s, int j, int k, double lp)
{
    lineage_report *r = c->r;
    if (lp + log10((double)r->Lb * (r->Lb - 1) / 2) < log10(c->o->alpha)) {
        s->dup[s->n_dup][0] = j;
        s->dup[s->n_dup][1] = k;
        s->dup_log10p[s->n_dup++] = lp;
    }
}

/* Pointers to the neuron sets of B's layers list[0..n) in a sample laid out as
 * [layer][gate rows][up rows] with `per` floats per matrix. */
static void sets_of(const float *base, size_t per, const int *list, int n, const float **xg, const float **xu)
{
    for (int q = 0; q < n; q++) {
        xg[q] = base + (size_t)list[q] * 2 * per;
        xu[q] = xg[q] + per;
    }
}

/* The neuron sets of B's layers list[0..n) (rows of `rows` each, in `base`, laid out as
 * sets_of says) matched into layer `layer` of w over its first `cols` columns. */
static int test_layer(wctx *c, const wsrc *w, int layer, const float *base, size_t per, int rows, int cols,
                      const int *list, int n, double *rho, double *lp, dk_err *err)
{
    int F = w->cfg.ffn_dim;
    prefetch(w, layer + 1);
    if (load_gate_up(c, w, layer, NULL, F, 0, cols, c->fg, c->fu, err) != 0)
        return -1;
    sets_of(base, per, list, n, c->set_g, c->set_u);
    return match_sets(c, c->set_g, c->set_u, n, rows, c->fg, c->fu, F, cols, rho, lp, err);
}

/* Every pair of A's and B's layers tested in full. */
static int map_full(wctx *c, dk_err *err)
{
    lineage_report *r = c->r;
    int D = c->D, Lb = r->Lb, rc = 0;
    int *list = malloc((size_t)Lb * sizeof *list);
    if (!list)
        rc = dk_errf(err, "out of memory");
    progress pr;
    double done = 0;
    progress_start(&pr, "layer pairs", "pairs", (double)r->La * Lb, !c->o->progress);
    for (int j = 0; j < Lb && rc == 0; j++)
        list[j] = j;
    for (int i = 0; i < r->La && rc == 0; i++) {
        rc = test_layer(c, c->A, i, c->bs, c->per, c->R, D, list, Lb, &r->map_rho[i * Lb], &r->map_log10p[i * Lb],
                        err);
        progress_update(&pr, done += Lb);
    }
    progress_finish(&pr, done);
    free(list);
    return rc;
}

/* B against itself, every pair of its layers tested in full (the full map's share). */
static int self_full(wctx *c, self_result *s, dk_err *err)
{
    int D = c->D, Lb = c->r->Lb, rc = 0;
    int *list = malloc((size_t)Lb * sizeof *list);
    double *rho = malloc((size_t)Lb * sizeof *rho), *lp = malloc((size_t)Lb * sizeof *lp);
    if (!list || !rho || !lp)
        rc = dk_errf(err, "out of memory");
    progress pr;
    double done = 0;
    progress_start(&pr, "B's own layer pairs", "pairs", (double)Lb * (Lb - 1) / 2, !c->o->progress);
    for (int j = 0; j < Lb && rc == 0; j++)
        list[j] = j;
    for (int j = 0; j + 1 < Lb && rc == 0; j++) { /* B's layer k > j against its layer j */
        int n = Lb - 1 - j;
        rc = test_layer(c, c->B, j, c->bs, c->per, c->R, D, list + j + 1, n, rho, lp, err);
        for (int q = 0; q < n && rc == 0; q++)
            note_dup(c, s, j, j + 1 + q, lp[q]);
        progress_update(&pr, done += n);
    }
    progress_finish(&pr, done);
    free(list);
    free(rho);
    free(lp);
    return rc;
}

/* Rs rows of F, evenly spread and disjoint from the full test's sample; -1 if F is too
 * narrow for both. */
static int screen_rows(size_t *srows, int Rs, const size_t *rows, int R, int F)
{
    unsigned char *used = calloc((size_t)F, 1);
    if (!used)
        return -1;
    for (int k = 0; k < R; k++)
        used[rows[k]] = 1;
    int ok = 1;
    for (int k = 0; k < Rs && ok; k++) {
        size_t f = (size_t)(((double)k + 0.5) * F / Rs);
        while (f < (size_t)F && used[f])
            f++;
        ok = f < (size_t)F;
        if (ok)
            used[f] = 1, srows[k] = f;
    }
    free(used);
    return ok ? 0 : -1;
}

/* B against itself on a screened map: every pair on the screen sample sb (sper floats
 * per matrix), then the candidates (screen p below REFINE_LOG10P) in full. */
static int self_screened(wctx *c, self_result *s, const float *sb, size_t sper, int Rs, int Ds, dk_err *err)
{
    const int Lb = c->r->Lb, D = c->D;
    double *dup_screen = malloc((size_t)Lb * Lb * sizeof *dup_screen), *rho = malloc((size_t)Lb * sizeof *rho),
           *lp = malloc((size_t)Lb * sizeof *lp);
    unsigned char *dup_refine = calloc((size_t)Lb * Lb, 1);
    int *list = malloc((size_t)Lb * sizeof *list);
    int rc = dup_screen && rho && lp && dup_refine && list ? 0 : dk_errf(err, "out of memory");
    for (int j = 0; j < Lb && rc == 0; j++)
        list[j] = j;
    progress pr;
    double done = 0;
    progress_start(&pr, "screening B's own layer pairs", "pairs", (double)Lb * (Lb - 1) / 2, !c->o->progress);
    for (int j = 0; j + 1 < Lb && rc == 0; j++) {
        int n = Lb - 1 - j;
        rc = test_layer(c, c->B, j, sb, sper, Rs, Ds, list + j + 1, n, rho, &dup_screen[j * Lb + j + 1], err);
        for (int k = j + 1; k < Lb && rc == 0; k++)
            dup_refine[j * Lb + k] = dup_screen[j * Lb + k] < REFINE_LOG10P;
        progress_update(&pr, done += n);
    }
    progress_finish(&pr, done);
    int n_dup = 0;
    for (size_t q = 0; rc == 0 && q < (size_t)Lb * Lb; q++)
        n_dup += dup_refine[q];
    progress_start(&pr, "full tests of B's own candidates", "pairs", n_dup, !c->o->progress);
    done = 0;
    for (int j = 0; j + 1 < Lb && rc == 0; j++) {
        int n = 0;
        for (int k = j + 1; k < Lb; k++)
            if (dup_refine[j * Lb + k])
                list[n++] = k;
        if (n == 0)
            continue;
        rc = test_layer(c, c->B, j, c->bs, c->per, c->R, D, list, n, rho, lp, err);
        for (int q = 0; q < n && rc == 0; q++)
            note_dup(c, s, j, list[q], lp[q]);
        progress_update(&pr, done += n);
    }
    progress_finish(&pr, done);
    s->n_full = n_dup;
    free(dup_screen);
    free(rho);
    free(lp);
    free(dup_refine);
    free(list);
    return rc;
}

/* The screened map of A against B (top of file), on B's screen sample sb (sper floats
 * per matrix). */
static int map_screened(wctx *c, const float *sb, size_t sper, int Rs, int Ds, dk_err *err)
{
    lineage_report *r = c->r;
    const int La = r->La, Lb = r->Lb, D = c->D;
    size_t LL = (size_t)La * Lb;
    double *rho = malloc((size_t)Lb * sizeof *rho), *lp = malloc((size_t)Lb * sizeof *lp);
    int *list = malloc((size_t)Lb * sizeof *list);
    r->map_refined = calloc(LL, 1);
    int rc = rho && lp && list && r->map_refined ? 0 : dk_errf(err, "out of memory");
    for (int j = 0; j < Lb && rc == 0; j++)
        list[j] = j;
    progress pr;
    double done = 0;
    progress_start(&pr, "screening layer pairs", "pairs", (double)La * Lb, !c->o->progress);
    for (int i = 0; i < La && rc == 0; i++) {
        rc = test_layer(c, c->A, i, sb, sper, Rs, Ds, list, Lb, &r->map_rho[i * Lb], &r->map_log10p[i * Lb], err);
        progress_update(&pr, done += Lb);
    }
    progress_finish(&pr, done);
    /* candidates: each B layer's best screen_keep A layers, the best always */
    int keep = c->o->screen_keep > 0 ? c->o->screen_keep : 1, n_map = 0;
    for (int j = 0; j < Lb && rc == 0; j++) {
        for (int t = 0; t < keep && t < La; t++) {
            int best = -1;
            for (int i = 0; i < La; i++)
                if (!r->map_refined[i * Lb + j] &&
                    (best < 0 || r->map_log10p[i * Lb + j] < r->map_log10p[best * Lb + j]))
                    best = i;
            if (t > 0 && r->map_log10p[best * Lb + j] >= REFINE_LOG10P)
                break;
            r->map_refined[best * Lb + j] = 1;
            n_map++;
        }
    }
    progress_start(&pr, "full tests of candidates", "pairs", n_map, !c->o->progress);
    done = 0;
    for (int i = 0; i < La && rc == 0; i++) {
        int n = 0;
        for (int j = 0; j < Lb; j++)
            if (r->map_refined[i * Lb + j])
                list[n++] = j;
        if (n == 0)
            continue;
        rc = test_layer(c, c->A, i, c->bs, c->per, c->R, D, list, n, rho, lp, err);
        for (int q = 0; q < n && rc == 0; q++) {
            r->map_rho[i * Lb + list[q]] = rho[q];
            r->map_log10p[i * Lb + list[q]] = lp[q];
        }
        progress_update(&pr, done += n);
    }
    progress_finish(&pr, done);
    r->map_screened = 1;
    r->n_refined = n_map;
    free(rho);
    free(lp);
    free(list);
    return rc;
}

/* Per B layer: the best A layer and its Bonferroni-corrected log10 p; Fisher over
 * B's layers. */
void lineage_summarise_map(lineage_report *r)
{
    double corr = log10((double)r->La);
    for (int j = 0; j < r->Lb; j++) {
        int best = -1;
        for (int i = 0; i < r->La; i++) {
            if (r->map_refined && !r->map_refined[i * r->Lb + j])
                continue; /* a screened map: only the pairs tested in full compete */
            if (best < 0 || r->map_log10p[i * r->Lb + j] < r->map_log10p[best * r->Lb + j])
                best = i;
        }
        best = best < 0 ? 0 : best;
        r->src[j] = best;
        double lp = r->map_log10p[best * r->Lb + j] + corr;
        r->layer_log10p[j] = lp < 0 ? lp : 0;
    }
    r->map_combined = r->Lb > 0 ? fisher_log10_p(r->layer_log10p, r->Lb) : 0;
}

int weight_tests(lineage_report *r, const wsrc *A, const wsrc *B, lc_model *mb, pool *p, const lineage_opts *o,
                 dk_err *err)
{
    wctx c = {.r = r, .A = A, .B = B, .o = o, .D = r->Da};
    int Fa = r->Fa, Fb = r->Fb, R = o->sample < Fb ? o->sample : Fb;
    c.R = R = R > Fa ? Fa : R;
    c.per = (size_t)R * c.D;
    if (matcher_init(&c.m, p) != 0)
        return dk_errf(err, "out of memory");
    size_t big = (size_t)(Fa > Fb ? Fa : Fb) * c.D;
    int Rs = o->screen_neurons < R ? o->screen_neurons : R, Ds = o->screen_dims < c.D ? o->screen_dims : c.D;
    c.rows = malloc((size_t)R * sizeof *c.rows);
    c.all_rows = malloc((size_t)(Fa > Fb ? Fa : Fb) * sizeof *c.all_rows);
    for (int k = 0; c.all_rows && k < (Fa > Fb ? Fa : Fb); k++)
        c.all_rows[k] = (size_t)k;
    size_t *srows = malloc((size_t)(Rs > 0 ? Rs : 1) * sizeof *srows);
    c.fg = malloc(big * sizeof *c.fg);
    c.fu = malloc(big * sizeof *c.fu);
    c.xg = malloc((size_t)BATCH_ROWS * c.D * sizeof *c.xg);
    c.xu = malloc((size_t)BATCH_ROWS * c.D * sizeof *c.xu);
    c.cg = malloc((size_t)BATCH_ROWS * (Fa > Fb ? Fa : Fb) * sizeof *c.cg);
    c.cu = malloc((size_t)BATCH_ROWS * (Fa > Fb ? Fa : Fb) * sizeof *c.cu);
    c.set_g = malloc((size_t)r->Lb * sizeof *c.set_g);
    c.set_u = malloc((size_t)r->Lb * sizeof *c.set_u);
    r->dup = calloc((size_t)r->Lb * r->Lb + 1, sizeof *r->dup);
    r->dup_log10p = calloc((size_t)r->Lb * r->Lb + 1, sizeof *r->dup_log10p);
    int rc = c.rows && c.all_rows && srows && c.fg && c.fu && c.xg && c.xu && c.cg && c.cu && c.set_g && c.set_u &&
                     r->dup && r->dup_log10p
                 ? 0
                 : dk_errf(err, "out of memory for the weight test");
    if (rc == 0)
        sample_rows(c.rows, R, Fb);
    /* B's sampled neurons: from the cache, or read (and offered to it) */
    float *bs_own = NULL, *sb_own = NULL;
    self_result *self_own = NULL;
    const int bkey[1] = {R};
    size_t bs_bytes = (size_t)r->Lb * 2 * c.per * sizeof(float);
    if (rc == 0 && !(c.bs = lineage_cache_get(o->cache, mb, LC_B_SAMPLE, bkey, sizeof bkey, NULL))) {
        bs_own = malloc(bs_bytes ? bs_bytes : 1);
        rc = bs_own ? 0 : dk_errf(err, "out of memory for the weight test");
        for (int j = 0; j < r->Lb && rc == 0; j++)
            rc = load_gate_up(&c, B, j, c.rows, R, 0, c.D, bs_own + (size_t)j * 2 * c.per,
                              bs_own + (size_t)j * 2 * c.per + c.per, err);
        c.bs = bs_own;
        if (rc == 0 && lineage_cache_put(o->cache, mb, LC_B_SAMPLE, bkey, sizeof bkey, bs_own, bs_bytes))
            bs_own = NULL;
    }
    r->w_ok = r->La == r->Lb && Fa == Fb;
    if (!r->w_ok)
        snprintf(r->w_note, sizeof r->w_note, "needs equal depth and MLP width (A %d x %d, B %d x %d)",
                 r->La, Fa, r->Lb, Fb);
    double t0 = now_seconds();
    for (int i = 0; i < r->La && rc == 0 && r->w_ok; i++)
        rc = identity_test(&c, i, err);
    double full_flops = ((double)r->La * r->Lb + (double)r->Lb * (r->Lb - 1) / 2) * 4.0 * R *
                        (Fa > Fb ? Fa : Fb) * c.D;
    int screenable = Rs >= 3 && rc == 0 && screen_rows(srows, Rs, c.rows, R, Fb) == 0;
    int screen = o->map_mode == LINEAGE_MAP_SCREEN ||
                 (o->map_mode == LINEAGE_MAP_AUTO && full_flops > SCREEN_ABOVE_FLOPS);
    if (rc == 0 && screen && !screenable && o->map_mode == LINEAGE_MAP_SCREEN)
        rc = dk_errf(err, "%s: a screened layer map needs an MLP at least %d + %d neurons wide (it is %d)",
                     r->b, R, Rs, Fb);
    screen = screen && screenable;
    /* the screened map's sample of B: Rs neurons over the first Ds coordinates */
    const float *sb = NULL;
    size_t sper = (size_t)Rs * Ds, sb_bytes = (size_t)r->Lb * 2 * sper * sizeof(float);
    const int skey[3] = {R, Rs, Ds};
    if (rc == 0 && screen && !(sb = lineage_cache_get(o->cache, mb, LC_B_SCREEN, skey, sizeof skey, NULL))) {
        sb_own = malloc(sb_bytes ? sb_bytes : 1);
        rc = sb_own ? 0 : dk_errf(err, "out of memory");
        for (int j = 0; j < r->Lb && rc == 0; j++)
            rc = load_gate_up(&c, B, j, srows, Rs, 0, Ds, sb_own + (size_t)j * 2 * sper,
                              sb_own + (size_t)j * 2 * sper + sper, err);
        sb = sb_own;
        if (rc == 0 && lineage_cache_put(o->cache, mb, LC_B_SCREEN, skey, sizeof skey, sb_own, sb_bytes))
            sb_own = NULL;
    }
    if (rc == 0)
        rc = screen ? map_screened(&c, sb, sper, Rs, Ds, err) : map_full(&c, err);
    /* B against itself: a function of B and these values only */
    const double self_key[6] = {R, screen, screen ? Rs : 0, screen ? Ds : 0, o->threads, o->alpha};
    const self_result *self = NULL;
    if (rc == 0 && !(self = lineage_cache_get(o->cache, mb, LC_B_SELF, self_key, sizeof self_key, NULL))) {
        size_t bytes;
        self_own = self_new(r->Lb, &bytes);
        rc = self_own ? 0 : dk_errf(err, "out of memory");
        if (rc == 0)
            rc = screen ? self_screened(&c, self_own, sb, sper, Rs, Ds, err) : self_full(&c, self_own, err);
        self = self_own;
        if (rc == 0 && lineage_cache_put(o->cache, mb, LC_B_SELF, self_key, sizeof self_key, self_own, bytes))
            self_own = NULL;
    }
    if (rc == 0) {
        r->n_dup = self->n_dup;
        memcpy(r->dup, self->dup, (size_t)self->n_dup * sizeof *r->dup);
        memcpy(r->dup_log10p, self->dup_log10p, (size_t)self->n_dup * sizeof *r->dup_log10p);
        if (screen)
            r->n_refined += self->n_full;
    }
    r->map_seconds = now_seconds() - t0;
    r->lap_seconds += c.m.lap_seconds;
    r->load_seconds += c.load_s;
    r->product_seconds += c.product_s;
    if (rc == 0 && r->w_ok)
        r->w_combined = fisher_log10_p(r->w_log10p, r->La);
    snprintf(r->map_source, sizeof r->map_source, "weights");
    free(c.rows);
    free(c.all_rows);
    free(srows);
    free(bs_own);
    free(sb_own);
    free(self_own);
    free(c.fg);
    free(c.fu);
    free(c.xg);
    free(c.xu);
    free(c.cg);
    free(c.cu);
    free(c.set_g);
    free(c.set_u);
    matcher_free(&c.m);
    return rc;
}
