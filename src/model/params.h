/* params.h: the model's parameters in one contiguous float32 buffer, with named
 * views under Hugging Face Llama tensor names, and their initialisation.
 *
 * One buffer (and one for gradients, same layout) makes the optimizer a loop over
 * a flat array, the exchange of gradient shards between ranks a few messages, and
 * checkpoints one write. The layout order is
 * the order of params_layout's table: embed_tokens, then per layer input_layernorm,
 * q/k/v (with biases if attention_bias), o, post_attention_layernorm, gate, up,
 * down, then norm and lm_head (absent when tied). */
#ifndef DK_MODEL_PARAMS_H
#define DK_MODEL_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "model/config.h"

#define PARAM_NAME_MAX 64

typedef enum { PK_EMBED, PK_NORM, PK_MATRIX, PK_OUT_MATRIX, PK_BIAS } param_kind;

typedef struct {
    char name[PARAM_NAME_MAX];
    int ndim;
    int64_t shape[2];
    size_t offset, numel; /* in floats, into the buffer */
    param_kind kind;      /* what initialisation and weight decay apply */
} param_info;

/* Views of one layer into a buffer (parameters or gradients). */
typedef struct {
    float *attn_norm;           /* (D) */
    float *wq, *wk, *wv, *wo;   /* (H*hd, D) (KV*hd, D) (KV*hd, D) (D, H*hd) */
    float *bq, *bk, *bv;        /* (H*hd) (KV*hd) (KV*hd), NULL without attention_bias */
    float *mlp_norm;            /* (D) */
    float *wgate, *wup, *wdown; /* (F, D) (F, D) (D, F) */
} layer_view;

typedef struct {
    float *embed;      /* (V, D) */
    layer_view *layers;
    float *norm;       /* (D) */
    float *lm_head;    /* (V, D): == embed when tied */
} model_view;

typedef struct {
    model_config cfg;
    param_info *info;
    size_t n_info;
    size_t numel; /* total floats */
} param_layout;

/* Builds the layout of cfg (which must be validated). Returns 0 or -1 (OOM). */
int params_layout(param_layout *l, const model_config *cfg, dk_err *err);
void params_layout_free(param_layout *l);
const param_info *params_find(const param_layout *l, const char *name);

/* Fills v with pointers into buf (laid out as l). v->layers must point to an array
 * of cfg.n_layers views. */
void params_view(const param_layout *l, float *buf, model_view *v);

/* Initialisation: a pure function of (config, seed). Element k of a tensor is
 * rng_normal(key, k) (util/rng.h: the counter-based generator, Box-Muller on two
 * splitmix64 uniforms) with key = rng_mix(seed) ^ hash_bytes(tensor name). So the same
 * seed gives the same bytes on any machine, thread count or layout order. Scheme
 * (GPT-2/Llama): embeddings and matrices N(0, 0.02); output projections (o_proj,
 * down_proj) N(0, 0.02 / sqrt(2 * n_layers)); norms 1; biases 0. */
void params_init(const param_layout *l, float *buf, uint64_t seed);

/* The weights' digest, independent of file format and of dokja's layout order: SHA-256
 * over every tensor in ascending byte order of its Hugging Face name, each as the name, a
 * 0 byte, and its values as float32 little-endian (row-major). Any program holding the
 * tensors can compute it (docs/ledger.md). -1 only when out of memory. */
int params_sha256(const param_layout *l, const float *buf, uint8_t out[32]);

#endif
