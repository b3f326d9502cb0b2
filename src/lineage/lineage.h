/* lineage.h: was model B derived from model A? A statistical answer from the
 * weights (and, when both models have dokja tokenizers, their activations),
 * following Zhu, Ahmed, Kuditipudi and Liang, "Independence Tests for Language
 * Models" (ICML 2025, arXiv 2502.12292).
 *
 * The idea: MLP neurons of independently trained models are exchangeable, so the
 * best matching of B's neurons to A's (an exact linear assignment on similarity)
 * looks like a random permutation; a model derived from A keeps its neurons where
 * they were (or moves all of a neuron's weights together), so the matching is
 * structured. Statistics (docs/lineage.md has the details and the validation table):
 *   1. weight test: per layer, match the rows of up_proj of A and B (same widths) by
 *      cosine; Spearman of the matching against the identity; one-sided p. On wide
 *      MLPs, an evenly spaced subset of identity_rows rows of B is matched among the
 *      same rows of A (a copy keeps row k at row k inside any subset).
 *   2. gate/up consistency (layer map): match a fixed sample of B's neurons to all of
 *      A's twice, once by gate_proj rows and once by up_proj rows (weights), or by
 *      gate and up activations on probe text (works across hidden widths and
 *      rotations); Spearman between the two matchings: about 0 for independent
 *      layers, about 1 for derived ones, whatever permutation hid the neurons.
 *      Every (layer of A, layer of B) pair gets one: the layer map. On deep, wide
 *      models the all-pairs map (La x Lb products of sample x MLP width x hidden) is
 *      screened: every pair is first tested on screen_neurons other neurons over the
 *      first screen_dims hidden coordinates, and only each B layer's best candidates
 *      (and B's candidate duplicates) are tested in full; docs/lineage.md.
 *   3. per layer of B: its best layer of A and the Bonferroni-corrected p (times the
 *      number of A's layers); Fisher's method combines layers (log10 p, so values far
 *      below 1e-308 are exact).
 * Vocabulary overlap, embedding correlation after aligning hidden dimensions, and
 * centred norm-weight correlations against shuffled baselines are reported too,
 * but only 1-3 decide the verdict. */
#ifndef DK_LINEAGE_LINEAGE_H
#define DK_LINEAGE_LINEAGE_H

#include <stddef.h>

#include <stdio.h>

#include "util/err.h"

/* A cache of per-model work shared by many lineage_run calls. dokja select tests every
 * (known model, team) pair and every pair of teams, so each model is in many pairs;
 * with a cache in lineage_opts.cache, what depends on one model only is done once per
 * model instead of once per pair:
 *   - its weights opened (memory-mapped, index and headers parsed);
 *   - as B: its sampled neuron rows, the screened map's sample, and its test against
 *     itself (duplicated layers: every pair of its layers, the largest per-model cost);
 *   - the activation test's forward pass on the probe text (tokens and every layer's
 *     gate and up outputs at every probe position).
 * Each result is kept under the model's path, its files' identity (device, inode,
 * size, modification and change times of every regular file of the model directory,
 * or of the GGUF file: a model rewritten in place is looked up afresh, never served
 * stale) and every option and shape value it depends on (sample size after the
 * clamps, map mode after AUTO's choice, screen sizes, alpha, threads, probe text hash,
 * probe_tokens). Reports are bit-identical to runs without a cache; only the timing
 * fields differ (work served from the cache is not timed again).
 * max_bytes bounds the results kept (sampled rows and activations; the activations of
 * a config-(b) model on 512 probe tokens are about 100 MB, a 7B model's 1.4 GB); a
 * result that does not fit is computed and not kept. The opened weights are not
 * counted (mappings, not heap).
 * Not thread-safe: one thread at a time may use a cache (any number of sequential
 * lineage_run calls, with any options). A cache must outlive the runs that use it;
 * lineage_cache_free releases everything (NULL is fine). lineage_cache_new returns
 * NULL when out of memory. */
typedef struct lineage_cache lineage_cache;
lineage_cache *lineage_cache_new(size_t max_bytes);
void lineage_cache_free(lineage_cache *c);
/* Results served from the cache (hits), results computed because they were not there
 * (misses), and the bytes now kept. Any pointer may be NULL; c may be NULL (all 0). */
void lineage_cache_stats(const lineage_cache *c, size_t *hits, size_t *misses, size_t *bytes);

typedef struct {
    const char *probe_path; /* text for the activation test; NULL: the built-in text */
    int probe_tokens;       /* at most this many tokens of probe (512) */
    int sample;             /* neurons of B sampled per layer for the map (256) */
    int identity_rows;      /* rows per layer for statistic 1 (1024; all if the MLP is narrower) */
    int map_mode;           /* LINEAGE_MAP_AUTO / _FULL / _SCREEN */
    int screen_neurons;     /* screened map: neurons of B per layer (32) */
    int screen_dims;        /* screened map: hidden coordinates (256) */
    int screen_keep;        /* screened map: at most this many A layers refined per B layer (4) */
    int threads;            /* 0: all */
    double alpha;           /* significance for "derived" and per-layer matches (1e-6) */
    int activations;        /* run the activation test when possible (1) */
    int progress;
    lineage_cache *cache;   /* per-model work shared across runs (above); NULL: none */
} lineage_opts;

/* AUTO screens when the full map would cost more than about 1e12 flops (a 32-layer 7B
 * pair: 7e13; the 2-layer 7B pair 2e11). */
enum { LINEAGE_MAP_AUTO, LINEAGE_MAP_FULL, LINEAGE_MAP_SCREEN };

void lineage_default_opts(lineage_opts *o);

typedef struct {
    char a[4096], b[4096];
    int La, Lb, Da, Db, Fa, Fb;
    /* statistic 1 (when widths and depths agree): per layer rho, log10 p */
    int w_ok;
    char w_note[160];
    double *w_rho, *w_log10p, w_combined;
    int w_rows; /* rows of each layer statistic 1 matched */
    /* statistic 2: the map; source "weights" or "activations" */
    char map_source[16];
    double *map_rho, *map_log10p; /* La x Lb, [i * Lb + j] */
    int map_screened;             /* 1: entries not refined hold the screen's statistic */
    unsigned char *map_refined;   /* La x Lb when screened: 1 where the full test ran */
    int n_refined;                /* pairs tested in full after the screen (map and B's own) */
    int *src;                     /* per B layer: best A layer */
    double *layer_log10p;         /* per B layer, Bonferroni-corrected */
    double map_combined;
    /* activation test per B layer against src (or same index) */
    int a_ok;
    char a_note[256];
    int a_tokens;
    double *a_rho, *a_log10p, a_combined;
    /* B's own duplicated layers (pairs j < k whose map p is significant) */
    int n_dup;
    int (*dup)[2];
    double *dup_log10p;
    /* vocabulary and embeddings */
    int v_ok;
    char v_note[900];
    size_t va, vb, v_shared;
    double emb_corr, emb_baseline;
    /* norms: per B layer j against A layer src[j], input_layernorm */
    int n_norm;
    double *norm_pearson, *norm_cosine, *norm_base_mean, *norm_base_sd;
    /* verdict */
    int derived;
    char kind[24];
    double log10_p;
    int n_tests;
    double seconds, lap_seconds, map_seconds;
    double load_seconds, product_seconds; /* of the weight tests: reading weights; similarity products */
} lineage_report;

int lineage_run(lineage_report *r, const char *a, const char *b, const lineage_opts *o,
                dk_err *err);
void lineage_report_free(lineage_report *r);

/* Output: one JSON object (compact); a self-contained HTML page (atomic write); a
 * text summary. */
char *lineage_json(const lineage_report *r);
int lineage_write_html(const lineage_report *r, const char *path, dk_err *err);
void lineage_print(const lineage_report *r, FILE *f);

#endif
