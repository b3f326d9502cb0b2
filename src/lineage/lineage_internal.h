/* lineage_internal.h: the parts of lineage_run that live in their own files. */
#ifndef DK_LINEAGE_INTERNAL_H
#define DK_LINEAGE_INTERNAL_H

#include <stdio.h>

#include "lineage/lineage.h"
#include "lineage/lineage_cache_internal.h"
#include "lineage/wsrc.h"
#include "util/pool.h"

/* "model.layers.LAYER.WHAT", the Hugging Face Llama tensor names. */
static inline void layer_name(char *buf, size_t cap, int layer, const char *what)
{
    snprintf(buf, cap, "model.layers.%d.%s", layer, what);
}

/* Statistic 1, the layer map and B's duplicated layers from the weights
 * (lineage_weights.c); needs equal hidden widths. mb: B's entry in o->cache (NULL
 * without a cache): B's samples and its test against itself are taken from it or
 * offered to it. */
int weight_tests(lineage_report *r, const wsrc *A, const wsrc *B, lc_model *mb, pool *p, const lineage_opts *o,
                 dk_err *err);

/* The activation test (lineage_act.c): fills a_*; when the hidden widths differ it
 * also fills the layer map from activations. Not possible (a_ok 0, a_note says why)
 * is not an error. */
int activation_tests(lineage_report *r, lc_model *ma, lc_model *mb, pool *p, const lineage_opts *o,
                     dk_err *err);

/* Per B layer: the best A layer of the map (among the refined pairs of a screened
 * map) and the Bonferroni-corrected log10 p; Fisher over B's layers into map_combined
 * (lineage_weights.c; the activation test's map uses it too). */
void lineage_summarise_map(lineage_report *r);

/* Vocabulary overlap and embedding correlation (lineage_vocab.c); never fails (a
 * model without a readable vocabulary leaves v_ok 0 with a note). */
void vocab_tests(lineage_report *r, const wsrc *A, const wsrc *B, pool *p);

/* The built-in probe text (lineage_probe.c): original Korean and English prose. */
extern const char LINEAGE_PROBE_TEXT[];

#endif
