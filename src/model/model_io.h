/* model_io.h: a model on disk is a directory laid out as on the Hugging Face hub:
 *   config.json                      Hugging Face Llama config
 *   model.safetensors                weights, F32, Hugging Face tensor names
 *     (or model-00001-of-0000N.safetensors ... with model.safetensors.index.json)
 *   dokja_tokenizer.json             the tokenizer (when the model has one)
 * so the weights load in other tools, and Hugging Face checkpoints of the Llama
 * family (F32, BF16 or F16) load here. */
#ifndef DK_MODEL_IO_H
#define DK_MODEL_IO_H

#include "model/model.h"

/* Reads DIR/config.json and the weights (single file or shards), checking every
 * tensor against the config: missing, unexpected or misshapen tensors are errors
 * naming the file and the tensor. */
int model_load_dir(model **out, const char *dir, pool *p, dk_err *err);
/* The same; with_grads 0 allocates no gradients (inference, surgery, inspection: the
 * parameters' memory once, not twice). */
int model_load_dir_ex(model **out, const char *dir, pool *p, int with_grads, dk_err *err);

/* The weight files of DIR (paths, malloc'd; free each and the list): model.safetensors,
 * or the shards that model.safetensors.index.json names, in first-mention order. */
int model_weight_files(const char *dir, char ***files, size_t *n, dk_err *err);

/* Loads only the weights of DIR into m, whose config must match DIR's. */
int model_load_weights(model *m, const char *dir, dk_err *err);

/* Refuses, with both numbers, a need of params x bytes_per_param bytes (`what` says for
 * what) larger than the memory the kernel says is available: before allocating for a
 * size a file claims. */
int model_memory_check(const char *origin, uint64_t params, double bytes_per_param, const char *what, dk_err *err);

/* Writes DIR (created if needed): config.json, model.safetensors (with the config
 * and the given extra metadata in __metadata__) and, if tokenizer_path is not NULL,
 * a copy of the tokenizer. Every file is written atomically. */
int model_save_dir(model *m, const char *dir, const char *tokenizer_path,
                   const char *const *meta_keys, const char *const *meta_vals, size_t n_meta,
                   dk_err *err);

/* The model's identity: the SHA-256 of its float32 parameters in layout order, as
 * lowercase hex (65 bytes with the NUL). `dokja model info`, eval and lineage reports
 * and surgery metadata name a model by it. */
void model_params_sha256(model *m, char hex[65]);

#endif
