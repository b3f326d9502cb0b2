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

#include "util/err.h"

int export_gguf(const char *model_dir, const char *out_path, uint32_t type, dk_err *err);
/* export_hf writes DIR (which must not exist) as a Hugging Face Llama model:
 * config.json, model.safetensors (F32), tokenizer.json, tokenizer_config.json,
 * generation_config.json, and dokja's own tokenizer file. Built under DIR.partial.PID and
 * renamed into place. */
int export_hf(const char *model_dir, const char *out_dir, dk_err *err);

/* The Hugging Face splitting regex of a named pre-tokenizer, or NULL (dokja-v1). */
const char *pretok_hf_regex(const char *name);

/* "f32", "f16", "bf16", "q8_0" -> ggml type; -1 if unknown. */
int export_type_from_name(const char *name, uint32_t *type);

#endif
