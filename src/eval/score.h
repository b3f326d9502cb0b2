/* score.h: scoring a language model on evaluation tasks.
 *
 * Multiple choice: each choice is scored by the log-likelihood of its tokens given
 * the context, log P(choice | context) = sum over its tokens of log p(token | all
 * before it); the context runs once through the key/value cache and every choice
 * continues from it. acc picks the highest log-likelihood; acc_norm divides it by
 * the choice's length in UTF-8 bytes first (so longer answers are not penalised
 * for having more tokens; bytes, not tokens, so models with different tokenizers
 * are normalised alike). Ties go to the lower index. Standard errors are those of a
 * mean of 0/1 outcomes with the sample variance: sqrt(acc (1 - acc) / (n - 1)).
 *
 * Text: each non-empty line is a document, scored as [<|eos|>] + its tokens, every
 * token predicted from at most `window` tokens before it (rolling windows that
 * advance by half a window, each scoring only tokens not scored before). Reported
 * as bits per byte (total negative log-likelihood / ln 2 / UTF-8 bytes of the
 * lines, newlines excluded: comparable across tokenizers) and token perplexity.
 *
 * Log-probabilities are those of the training pass: log p(y) = z_y - logsumexp(z)
 * over the model's logits (ids the tokenizer cannot produce included), so a
 * continuation's score equals the sum of -loss over the same positions of
 * model_forward_loss exactly (tests/test_eval.c). */
#ifndef DK_EVAL_SCORE_H
#define DK_EVAL_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "eval/task.h"
#include "infer/lm.h"

/* Log-likelihood of cont[0..n_cont) after ctx[0..n_ctx). With ctx_cached, ctx is
 * already in the cache at positions 0..n_ctx-1 and last_logits holds the logits of
 * position n_ctx - 1; otherwise the context runs first. Context + continuation must
 * fit the cache. */
int score_continuation(lm *l, const dk_token *ctx, int n_ctx, int ctx_cached,
                       const float *last_logits, const dk_token *cont, int n_cont, double *logprob,
                       dk_err *err);

typedef struct {
    size_t n;
    double acc, acc_stderr, acc_norm, acc_norm_stderr;
    size_t truncated; /* items whose context lost its start to fit the window */
} mc_result;

/* Scores the first `limit` items (0: all). progress: print progress lines. */
int score_mc_task(lm *l, const mc_task *t, size_t limit, int progress, mc_result *r, dk_err *err);
/* The same, and per item scored whether acc (bit 0) and acc_norm (bit 1) picked the gold
 * choice: correct[i] for the first min(limit, n) items (correct may be NULL). */
int score_mc_task_items(lm *l, const mc_task *t, size_t limit, int progress, mc_result *r,
                        uint8_t *correct, dk_err *err);
/* The scores of correct[0..n) leaving out the items with skip[i] set (skip may be NULL). */
void mc_result_of(const uint8_t *correct, const uint8_t *skip, size_t n, mc_result *r);

typedef struct {
    size_t docs, tokens, bytes;
    double nll; /* nats */
    double bits_per_byte, token_perplexity;
} text_result;

/* path: a UTF-8 text file (first `limit` documents, 0: all); window: tokens of
 * context at most (0: the model's). */
int score_text_file(lm *l, const char *path, size_t limit, int window, int progress,
                    text_result *r, dk_err *err);

#endif
