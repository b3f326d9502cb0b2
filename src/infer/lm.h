/* lm.h: a language model ready to run on text: a model directory's weights, its
 * tokenizer (dokja_tokenizer.json) and an inference engine, as generation and
 * evaluation open it.
 *
 * Documents start with <|eos|>: the training data separates documents with it, so it
 * is the context a model saw before every document's first token. */
#ifndef DK_INFER_LM_H
#define DK_INFER_LM_H

#include <stddef.h>

#include "infer/infer.h"
#include "tokenizer/tokenizer.h"

typedef struct {
    char dir[4096];
    tok *tok;
    tok_encoder *enc;
    pool *pool;
    model *m;
    infer *inf;
    dk_token eos;         /* ends a generation (-1: the model has none) */
    dk_token doc;         /* starts every document: BOS, else the end-of-text token */
    int ctx;              /* positions in the cache */
    int vocab;            /* the model's logits */
    char sha256[65];      /* SHA-256 of the float32 parameters in layout order */
    char tok_sha256[65];  /* SHA-256 of the tokenizer file */
} lm;

#define LM_DEFAULT_CTX 4096

/* Opens DIR (a dokja or Hugging Face model directory, or a GGUF file) with a cache of ctx positions (0: max_position_embeddings, at most
 * LM_DEFAULT_CTX) on `threads`
 * threads (0: all). Fails with one line naming DIR when the model or tokenizer is
 * missing, malformed or they do not fit each other. */
int lm_open(lm *l, const char *dir, int threads, int ctx, dk_err *err);
void lm_close(lm *l);

/* Logits rows of ids the tokenizer cannot decode (a model's vocabulary may be padded
 * past the tokenizer's) are set to -inf, so no sampler picks them. */
void lm_mask_logits(const lm *l, float *logits, size_t rows);

#endif
