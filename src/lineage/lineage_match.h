/* lineage_match.h: the building block of the lineage statistics: how well do two
 * matchings of the same neurons of B onto the neurons of A agree?
 *
 * Neurons are unit vectors (rows of a weight matrix over the hidden dimension, or
 * centred activation columns over probe tokens). For B's sampled neurons, an exact
 * rectangular linear assignment on cosine similarity to all of A's neurons is run
 * once with gate vectors and once with up vectors; the Spearman correlation between
 * the two assignments, with its one-sided p-value, is the statistic. */
#ifndef DK_LINEAGE_MATCH_H
#define DK_LINEAGE_MATCH_H

#include "kernels/matmul.h"
#include "util/err.h"

/* Scales each of the n rows of x (n x d) to unit length (zero rows stay zero). */
void unit_rows(float *x, size_t n, int d);

typedef struct {
    mm_ctx *mm;
    pool *pool;
    float *c;   /* scratch: rows x cols floats */
    double *cd; /* scratch: rows x cols doubles */
    int *pa, *pb;
    size_t cap; /* elements of c and cd */
    int pcap;
    double lap_seconds;
} matcher;

int matcher_init(matcher *m, pool *p);
void matcher_free(matcher *m);
/* The pool the matcher's products run on. */
pool *matcher_pool(matcher *m);

/* bg, bu: R x d unit rows of B's gate and up neurons; ag, au: F x d of A's. */
int match_gate_up(matcher *m, const float *bg, const float *bu, int R, const float *ag,
                  const float *au, int F, int d, double *rho, double *log10p, dk_err *err);

/* The same from similarities already computed, transposed: ctg, ctu (F rows of stride
 * ldt, R columns) = cosines of A's gate / up rows to B's. Callers batch the products of
 * many neuron sets, with A's big matrix as the product's unpacked left operand. */
int match_gate_up_sims_t(matcher *m, const float *ctg, const float *ctu, size_t ldt, int R, int F,
                         double *rho, double *log10p, dk_err *err);

/* Statistic 1: B's n rows (unit) matched to A's F rows (unit) by cosine; Spearman of
 * the matching against the identity (row k of B at row k of A). */
int match_identity(matcher *m, const float *b, int n, const float *a, int F, int d, double *rho,
                   double *log10p, dk_err *err);

#endif
