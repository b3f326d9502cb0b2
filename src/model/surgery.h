/* surgery.h: deriving a model from another the ways a team might disguise a copy:
 * depth up-scaling (repeating layers, as SOLAR did), a function-preserving
 * permutation of MLP neurons and attention heads, width pruning of the MLP,
 * re-initialising some layers, and adding noise. The lineage test must see through
 * each (docs/lineage.md validates it on these); evaluators can make their own test
 * cases with `dokja model edit`. Each returns a NEW model; the input is unchanged. */
#ifndef DK_MODEL_SURGERY_H
#define DK_MODEL_SURGERY_H

#include <stdint.h>

#include "model/model.h"

/* Layer k of the result is a copy of layer layers[k] of `in`. */
int surgery_depth(model **out, model *in, const int *layers, int n_layers, dk_err *err);
/* Per layer, a random permutation (from seed) of MLP neurons (gate/up rows, down
 * columns) and of attention heads (key/value heads with their query groups, and query
 * heads within a group): the logits do not change. */
int surgery_permute(model **out, model *in, uint64_t seed, dk_err *err);
/* Keeps the new_ffn neurons of largest |gate_i| |up_i| |down_:,i| per layer, in order. */
int surgery_prune_ffn(model **out, model *in, int new_ffn, dk_err *err);
/* The listed layers as params_init(config, seed) would initialise them. */
int surgery_reinit(model **out, model *in, const int *layers, int n, uint64_t seed, dk_err *err);
/* Every tensor plus Gaussian noise of std rel_std x its RMS (counter-based, seeded). */
int surgery_noise(model **out, model *in, double rel_std, uint64_t seed, dk_err *err);
/* "0-23,8-31" or "2,5" -> a malloc'd list of layers, each < max_layer. */
int surgery_parse_layers(const char *s, int max_layer, int **out, int *n, dk_err *err);

#endif
