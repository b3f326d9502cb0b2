/* lineage_weights.c: the statistics read from the weights alone (lineage.h, 1-3):
 * statistic 1 per layer, the layer map over every (layer of A, layer of B) pair, and B
 * against itself (duplicated layers).
 *
 * Cost, and why the map is screened on big models. One map entry matches B's `sample`
 * neurons (R) into all F of A's, by gate and by up rows: 4 R F D flops. All pairs of two
 * 32-layer Llama-7B models (1024 pairs, plus 496 of B against itself) are 7e13 flops,
 * about 8 minutes on two Zen 3 cores, growing with the square of the depth. The screen
 * runs the same statistic with far less: screen_neurons (32) other neurons of B over
 * the first screen_dims (512) hidden coordinates, 1/128 of the work, whose p-value floor
 * (1/32! = 1e-35) still singles out a derived layer by 30 orders of magnitude. Then only
 * each B layer's best screen_keep candidates (the best, and any other with screen
 * p < 1e-2) and B's candidate duplicates are tested in full, so the full tests grow
 * with the depth, not its square. The screen's neurons are disjoint from the full test's
 * sample, so a full-test p-value is not biased by having been selected; the Bonferroni
 * correction over all of A's layers is kept (conservative). Entries not refined keep
 * the screen's statistic (map_refined says which), and only refined entries can be a
 * B layer's source. Small models (full map under ~1e12 flops) get the full map. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    float *bs;      /* B's sampled gate and up rows of every layer: Lb x 2 x per */
    float *fg, *fu; /* one layer's gate and up rows (any of A's or B's, all columns) */
} wctx;

/* n evenly spaced indices of F. */
static void sample_rows(size_t *rows, int n, int F)
{
    for (int k = 0; k < n; k++)
        rows[k] = (size_t)((double)k * F / n);
}

/* Columns [c0, c0 + nc) of the listed rows (NULL: rows 0..n-1) of a layer's gate and up
 * matrices, each row scaled to unit length over those columns. */
static int load_gate_up(const wsrc *w, int layer, const size_t *rows, int n, int c0, int nc, float *g,
                        float *u, dk_err *err)
{
    char ng[128], nu[128];
    layer_name(ng, sizeof ng, layer, "mlp.gate_proj.weight");
    layer_name(nu, sizeof nu, layer, "mlp.up_proj.weight");
    size_t D = (size_t)w->cfg.dim;
    if (wsrc_block(w, ng, rows, (size_t)n, (size_t)c0, (size_t)nc, D, g, err) != 0 ||
        wsrc_block(w, nu, rows, (size_t)n, (size_t)c0, (size_t)nc, D, u, err) != 0)
        return -1;
    unit_rows(g, (size_t)n, nc);
    unit_rows(u, (size_t)n, nc);
    return 0;
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

/* B's sampled neurons of layer j (gate, then up). */
static const float *sample_of(const wctx *c, int j) { return c->bs + (size_t)j * 2 * c->per; }

/* A significant match of B's layer k onto its layer j (j < k): a duplicated layer. */
static void note_dup(wctx *c, int j, int k, double lp)
{
    lineage_report *r = c->r;
    if (lp + log10((double)r->Lb * (r->Lb - 1) / 2) < log10(c->o->alpha)) {
        r->dup[r->n_dup][0] = j;
        r->dup[r->n_dup][1] = k;
        r->dup_log10p[r->n_dup++] = lp;
    }
}

/* Every pair tested in full. */
static int map_full(wctx *c, dk_err *err)
{
    lineage_report *r = c->r;
    int Fa = r->Fa, Fb = r->Fb, D = c->D, rc = 0;
    progress pr;
    double pairs = (double)r->La * r->Lb + (double)r->Lb * (r->Lb - 1) / 2, done = 0;
    progress_start(&pr, "layer pairs", "pairs", pairs, !c->o->progress);
    for (int i = 0; i < r->La && rc == 0; i++) {
        rc = load_gate_up(c->A, i, NULL, Fa, 0, D, c->fg, c->fu, err);
        for (int j = 0; j < r->Lb && rc == 0; j++) {
            const float *bg = sample_of(c, j);
            rc = match_gate_up(&c->m, bg, bg + c->per, c->R, c->fg, c->fu, Fa, D, &r->map_rho[i * r->Lb + j],
                               &r->map_log10p[i * r->Lb + j], err);
            progress_update(&pr, ++done);
        }
    }
    for (int j = 0; j + 1 < r->Lb && rc == 0; j++) {
        rc = load_gate_up(c->B, j, NULL, Fb, 0, D, c->fg, c->fu, err);
        for (int k = j + 1; k < r->Lb && rc == 0; k++) {
            const float *bg = sample_of(c, k);
            double rho, lp;
            rc = match_gate_up(&c->m, bg, bg + c->per, c->R, c->fg, c->fu, Fb, D, &rho, &lp, err);
            if (rc == 0)
                note_dup(c, j, k, lp);
            progress_update(&pr, ++done);
        }
    }
    progress_finish(&pr, done);
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

/* The screened map (top of file). */
static int map_screened(wctx *c, int Rs, int Ds, const size_t *srows, dk_err *err)
{
    lineage_report *r = c->r;
    const int La = r->La, Lb = r->Lb, Fa = r->Fa, Fb = r->Fb, D = c->D;
    size_t sper = (size_t)Rs * Ds, LL = (size_t)La * Lb;
    float *sb = malloc((size_t)Lb * 2 * sper * sizeof *sb);
    double *dup_screen = malloc((size_t)Lb * Lb * sizeof *dup_screen);
    unsigned char *dup_refine = calloc((size_t)Lb * Lb, 1);
    r->map_refined = calloc(LL, 1);
    int rc = sb && dup_screen && dup_refine && r->map_refined ? 0 : dk_errf(err, "out of memory");
    for (int j = 0; j < Lb && rc == 0; j++)
        rc = load_gate_up(c->B, j, srows, Rs, 0, Ds, sb + (size_t)j * 2 * sper, sb + (size_t)j * 2 * sper + sper,
                          err);
    progress pr;
    double pairs = (double)La * Lb + (double)Lb * (Lb - 1) / 2, done = 0;
    progress_start(&pr, "screening layer pairs", "pairs", pairs, !c->o->progress);
    for (int i = 0; i < La && rc == 0; i++) {
        rc = load_gate_up(c->A, i, NULL, Fa, 0, Ds, c->fg, c->fu, err);
        for (int j = 0; j < Lb && rc == 0; j++) {
            const float *g = sb + (size_t)j * 2 * sper;
            rc = match_gate_up(&c->m, g, g + sper, Rs, c->fg, c->fu, Fa, Ds, &r->map_rho[i * Lb + j],
                               &r->map_log10p[i * Lb + j], err);
            progress_update(&pr, ++done);
        }
    }
    for (int j = 0; j + 1 < Lb && rc == 0; j++) {
        rc = load_gate_up(c->B, j, NULL, Fb, 0, Ds, c->fg, c->fu, err);
        for (int k = j + 1; k < Lb && rc == 0; k++) {
            const float *g = sb + (size_t)k * 2 * sper;
            double rho;
            rc = match_gate_up(&c->m, g, g + sper, Rs, c->fg, c->fu, Fb, Ds, &rho, &dup_screen[j * Lb + k], err);
            dup_refine[j * Lb + k] = rc == 0 && dup_screen[j * Lb + k] < REFINE_LOG10P;
            progress_update(&pr, ++done);
        }
    }
    progress_finish(&pr, done);
    /* candidates: each B layer's best screen_keep A layers, the best always */
    int keep = c->o->screen_keep > 0 ? c->o->screen_keep : 1, n_map = 0, n_dup = 0;
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
    for (size_t q = 0; q < (size_t)Lb * Lb; q++)
        n_dup += dup_refine[q];
    progress_start(&pr, "full tests of candidates", "pairs", n_map + n_dup, !c->o->progress);
    done = 0;
    for (int i = 0; i < La && rc == 0; i++) {
        int any = 0;
        for (int j = 0; j < Lb; j++)
            any |= r->map_refined[i * Lb + j];
        if (!any)
            continue;
        rc = load_gate_up(c->A, i, NULL, Fa, 0, D, c->fg, c->fu, err);
        for (int j = 0; j < Lb && rc == 0; j++) {
            if (!r->map_refined[i * Lb + j])
                continue;
            const float *bg = sample_of(c, j);
            rc = match_gate_up(&c->m, bg, bg + c->per, c->R, c->fg, c->fu, Fa, D, &r->map_rho[i * Lb + j],
                               &r->map_log10p[i * Lb + j], err);
            progress_update(&pr, ++done);
        }
    }
    for (int j = 0; j + 1 < Lb && rc == 0; j++) {
        int any = 0;
        for (int k = j + 1; k < Lb; k++)
            any |= dup_refine[j * Lb + k];
        if (!any)
            continue;
        rc = load_gate_up(c->B, j, NULL, Fb, 0, D, c->fg, c->fu, err);
        for (int k = j + 1; k < Lb && rc == 0; k++) {
            if (!dup_refine[j * Lb + k])
                continue;
            const float *bg = sample_of(c, k);
            double rho, lp;
            rc = match_gate_up(&c->m, bg, bg + c->per, c->R, c->fg, c->fu, Fb, D, &rho, &lp, err);
            if (rc == 0)
                note_dup(c, j, k, lp);
            progress_update(&pr, ++done);
        }
    }
    progress_finish(&pr, done);
    r->map_screened = 1;
    r->n_refined = n_map + n_dup;
    free(sb);
    free(dup_screen);
    free(dup_refine);
    return rc;
}

int weight_tests(lineage_report *r, const wsrc *A, const wsrc *B, pool *p, const lineage_opts *o,
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
    size_t *srows = malloc((size_t)(Rs > 0 ? Rs : 1) * sizeof *srows);
    c.bs = malloc((size_t)r->Lb * 2 * c.per * sizeof *c.bs);
    c.fg = malloc(big * sizeof *c.fg);
    c.fu = malloc(big * sizeof *c.fu);
    r->dup = calloc((size_t)r->Lb * r->Lb + 1, sizeof *r->dup);
    r->dup_log10p = calloc((size_t)r->Lb * r->Lb + 1, sizeof *r->dup_log10p);
    int rc = c.rows && srows && c.bs && c.fg && c.fu && r->dup && r->dup_log10p
                 ? 0
                 : dk_errf(err, "out of memory for the weight test");
    if (rc == 0)
        sample_rows(c.rows, R, Fb);
    for (int j = 0; j < r->Lb && rc == 0; j++)
        rc = load_gate_up(B, j, c.rows, R, 0, c.D, c.bs + (size_t)j * 2 * c.per, c.bs + (size_t)j * 2 * c.per + c.per,
                          err);
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
    if (rc == 0)
        rc = screen && screenable ? map_screened(&c, Rs, Ds, srows, err) : map_full(&c, err);
    r->map_seconds = now_seconds() - t0;
    r->lap_seconds += c.m.lap_seconds;
    if (rc == 0 && r->w_ok)
        r->w_combined = fisher_log10_p(r->w_log10p, r->La);
    snprintf(r->map_source, sizeof r->map_source, "weights");
    free(c.rows);
    free(srows);
    free(c.bs);
    free(c.fg);
    free(c.fu);
    matcher_free(&c.m);
    return rc;
}
