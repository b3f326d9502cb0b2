/* interop.h: dokja models in other tools' formats (docs/interop.md).
 *
 * export_gguf writes a GGUF v3 file that llama.cpp loads and runs: llama
 * architecture, the Q/K rows permuted to llama.cpp's rotary pairing, the tokenizer as
 * a "gpt2" vocabulary with the pre-tokenizer by name. type is the matrices' ggml type
 * (GGML_F32, F16, BF16 or Q8_0); vectors stay F32. The model and tokenizer are checked
 * before anything is written; the file is written atomically. */
#ifndef DK_INTEROP_INTEROP_H
#define DK_INTEROP_INTEROP_H

#include <stdint.h>

#include "model/model.h"
#include "tokenizer/tokenizer.h"
#include "util/err.h"

int export_gguf(const char *model_dir, const char *out_path, uint32_t type, dk_err *err);
/* export_hf writes DIR (which must not exist) as a Hugging Face Llama model:
 * config.json, model.safetensors (F32), tokenizer.json, tokenizer_config.json,
 * generation_config.json, and dokja's own tokenizer file. Built under DIR.partial.PID and
 * renamed into place. */
int export_hf(const char *model_dir, const char *out_dir, dk_err *err);

/* The Hugging Face splitting regexes of a named pre-tokenizer (applied in turn): their
 * count (1 or 2), or 0 when it has none (dokja-v1; kanana2, whose llama.cpp splitting
 * differs from its tokenizer.json's). And back: the name of the family whose regexes
 * are exactly these, or NULL. */
int pretok_hf_regexes(const char *name, const char *regex[2]);
const char *pretok_from_hf_regexes(const char *const *regex, int n);

/* Another model's tokenizer, or dokja's own, from whatever holds it: a dokja tokenizer
 * file, a GGUF file (its tokenizer.ggml.* vocabulary), a Hugging Face tokenizer.json
 * (with tokenizer_config.json beside it when present), or a model directory holding
 * one of these (dokja_tokenizer.json first). Supported: byte-level BPE with a named
 * pre-tokenizer (GPT-2, Llama 3, Qwen 2 and the Korean models' splitters) and
 * SentencePiece BPE with byte fallback (GGUF "llama"; tokenizer.json with Metaspace). */
int tok_open_any(tok **out, const char *path, dk_err *err);

struct gguf_file;
int tok_from_gguf(tok **out, const struct gguf_file *f, dk_err *err);

/* A model from a dokja or Hugging Face model directory (config.json, safetensors) or a
 * GGUF file of llama.cpp's llama architecture (F32, F16, BF16 or Q8_0 tensors,
 * dequantized; the Q/K rows permuted back to rotate-half), and its tokenizer when t is
 * not NULL (tok_open_any on the directory, or the GGUF's own vocabulary). */
int model_open_any(model **m, tok **t, const char *path, pool *p, int with_grads, dk_err *err);
/* The model config a GGUF's llama.* keys and tensors describe (refusing what dokja cannot
 * compute the same way: other architectures, RoPE scaling, partial rotary). */
int model_config_of_gguf(const struct gguf_file *f, model_config *c, dk_err *err);

/* `dokja import`: IN (a GGUF file or a Hugging Face directory) as a dokja model
 * directory OUT (which must not exist): config.json, model.safetensors (F32), and the
 * tokenizer as it came (tokenizer.json and its config, or the GGUF's vocabulary as a
 * vocabulary-only tokenizer.gguf). Built under OUT.partial.PID, renamed into place. */
int import_model(const char *in, const char *out, dk_err *err);

/* "f32", "f16", "bf16", "q8_0" -> ggml type; -1 if unknown. */
int export_type_from_name(const char *name, uint32_t *type);

#endif
