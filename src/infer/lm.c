/* lm.c: see lm.h. */
#include "infer/lm.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "interop/interop.h"
#include "model/model_io.h"
#include "util/fs.h"
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
    l->pool = pool_new(threads);
    if (!l->pool) {
        dk_errf(err, "cannot start %d threads", threads);
        goto fail;
    }
    /* a model directory (dokja's or Hugging Face's) or a GGUF file */
    if (model_open_any(&l->m, &l->tok, dir, l->pool, 0, err) != 0)
        goto fail;
    /* the tokenizer's identity: the file it came from */
    char tpath[4200];
    static const char *const TOKFILES[] = {TOK_DEFAULT_FILE, "tokenizer.json", "tokenizer.gguf"};
    snprintf(tpath, sizeof tpath, "%s", dir);
    for (size_t i = 0; fs_is_dir(dir) && i < 3; i++) {
        snprintf(tpath, sizeof tpath, "%s/%s", dir, TOKFILES[i]);
        if (access(tpath, R_OK) == 0)
            break;
    }
    uint8_t d[32];
    if (sha256_file(tpath, d, err) != 0)
        goto fail;
    sha256_hex(d, l->tok_sha256);
    const model_config *c = model_cfg(l->m);
    /* documents start with the model's BOS when it adds one, else with its end-of-text
     * token (lm-evaluation-harness's prefix token); dokja's models: <|eos|> */
    l->eos = tok_eos(l->tok);
    l->doc = tok_bos(l->tok) >= 0 ? tok_bos(l->tok) : l->eos;
    if (l->doc < 0 || (uint32_t)c->vocab_size < tok_vocab_size(l->tok)) {
        dk_errf(err, "%s: tokenizer and model do not fit (no BOS or end-of-text token to start a "
                     "document, or vocab_size %d < the tokenizer's %u)",
                dir, c->vocab_size, tok_vocab_size(l->tok));
        goto fail;
    }
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
