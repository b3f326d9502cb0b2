/* lm.c: see lm.h. */
#include "infer/lm.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/model_io.h"
#include "util/hash.h"

void lm_close(lm *l)
{
    infer_free(l->inf);
    model_free(l->m);
    pool_free(l->pool);
    tok_encoder_free(l->enc);
    tok_free(l->tok);
    memset(l, 0, sizeof *l);
}

int lm_open(lm *l, const char *dir, int threads, int ctx, dk_err *err)
{
    memset(l, 0, sizeof *l);
    snprintf(l->dir, sizeof l->dir, "%s", dir);
    char tpath[4200];
    snprintf(tpath, sizeof tpath, "%s/%s", dir, TOK_DEFAULT_FILE);
    uint8_t d[32];
    if (tok_load(&l->tok, tpath, err) != 0 || sha256_file(tpath, d, err) != 0)
        goto fail;
    sha256_hex(d, l->tok_sha256);
    l->pool = pool_new(threads);
    if (!l->pool) {
        dk_errf(err, "cannot start %d threads", threads);
        goto fail;
    }
    if (model_load_dir_ex(&l->m, dir, l->pool, 0, err) != 0)
        goto fail;
    const model_config *c = model_cfg(l->m);
    dk_token eos = tok_special_id(l->tok, "<|eos|>");
    if (eos < 0 || (uint32_t)c->vocab_size < tok_vocab_size(l->tok)) {
        dk_errf(err, "%s: tokenizer and model do not fit (no <|eos|> token, or vocab_size %d < "
                     "the tokenizer's %u)",
                dir, c->vocab_size, tok_vocab_size(l->tok));
        goto fail;
    }
    l->eos = eos;
    l->vocab = c->vocab_size;
    /* the cache is sized up front: a default of max_position_embeddings would ask a
     * 128k-position model for hundreds of GiB, so without a request it stops at 4096 */
    l->ctx = ctx > 0 ? (ctx < c->max_seq ? ctx : c->max_seq) : (c->max_seq < LM_DEFAULT_CTX ? c->max_seq : LM_DEFAULT_CTX);
    l->enc = tok_encoder_new(l->tok);
    if (!l->enc) {
        dk_errf(err, "out of memory");
        goto fail;
    }
    if (infer_new(&l->inf, l->m, l->ctx, err) != 0)
        goto fail;
    model_params_sha256(l->m, l->sha256);
    return 0;
fail:
    lm_close(l);
    return -1;
}

void lm_mask_logits(const lm *l, float *logits, size_t rows)
{
    uint32_t tv = tok_vocab_size(l->tok);
    for (size_t r = 0; r < rows; r++)
        for (int v = (int)tv; v < l->vocab; v++)
            logits[r * (size_t)l->vocab + (size_t)v] = -INFINITY;
}
