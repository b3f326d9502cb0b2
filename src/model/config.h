/* config.h: the model's shape: a Llama-family decoder, read from and written as a
 * Hugging Face Llama config.json so that models move between dokja and the
 * ecosystem without translation.
 *
 * Keys: hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
 * intermediate_size, vocab_size, max_position_embeddings, rope_theta, rms_norm_eps,
 * tie_word_embeddings, attention_bias (q/k/v bias, Qwen2 style). head_dim is
 * hidden_size / num_attention_heads. */
#ifndef DK_MODEL_CONFIG_H
#define DK_MODEL_CONFIG_H

#include <stdint.h>

#include "util/err.h"

typedef struct {
    int dim;          /* hidden_size */
    int n_layers;     /* num_hidden_layers */
    int n_heads;      /* num_attention_heads */
    int n_kv_heads;   /* num_key_value_heads: divides n_heads (grouped-query attention) */
    int ffn_dim;      /* intermediate_size */
    int vocab_size;
    int max_seq;      /* max_position_embeddings */
    int head_dim;     /* derived: dim / n_heads */
    double rope_theta;
    double norm_eps;  /* rms_norm_eps */
    int tie_embeddings; /* tie_word_embeddings: the LM head reuses embed_tokens */
    int qkv_bias;       /* attention_bias */
} model_config;

/* Checks ranges and divisibility and fills head_dim. `origin` names the source in
 * messages (a file path, or "config"). */
int model_config_validate(model_config *c, const char *origin, dk_err *err);

/* Reads config.json (validated). Unknown keys are ignored, as Hugging Face does;
 * missing optional keys take Llama's defaults (num_key_value_heads = heads,
 * rope_theta 10000, rms_norm_eps 1e-6, tie_word_embeddings false,
 * attention_bias false, max_position_embeddings 2048). */
int model_config_load(model_config *c, const char *path, dk_err *err);
int model_config_from_json(model_config *c, const char *text, const char *origin, dk_err *err);

/* The config as Hugging Face config.json text (malloc'd, NUL-terminated), with
 * architectures ["LlamaForCausalLM"] and model_type "llama". Deterministic. */
char *model_config_to_json(const model_config *c);
int model_config_save(const model_config *c, const char *path, dk_err *err);

/* Parameter counts: all, and those in matmuls (what MFU counts). */
uint64_t model_config_n_params(const model_config *c);
uint64_t model_config_n_matmul_params(const model_config *c);

#endif
