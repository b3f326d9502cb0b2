/* ops.h: the layers of a Llama-family decoder, each as a forward/backward pair.
 *
 * Shapes are in comments as (rows, cols); T is the number of tokens in the batch
 * (batch x sequence, flattened), D the model width, H heads of size hd, KV key/value
 * heads, F the MLP width, V the vocabulary.
 *
 * Gradient convention: backward functions ADD into the gradients of parameters and
 * of inputs that have more than one consumer (the residual stream); "write" in a
 * comment means the output is overwritten instead. Every reduction runs in a fixed
 * order that does not depend on the thread count, so results are bit-identical for
 * any number of threads. */
#ifndef DK_MODEL_OPS_H
#define DK_MODEL_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/matmul.h"
#include "util/pool.h"
#include "util/token.h"

/* out (T, D) = wte[ids[t]] (write). */
void embedding_forward(pool *p, float *out, const dk_token *ids, const float *wte, int T, int D);
/* dwte (V, D) += dout rows scattered by ids (serial: tokens repeat). */
void embedding_backward(float *dwte, const float *dout, const dk_token *ids, int T, int D);

/* The functions below that take `round` write their outputs rounded to bf16 when it
 * is nonzero: in training with emulated bf16 products (kernels/matmul.h), the outputs
 * that feed products only are rounded once, row by row while in cache, instead of in
 * every pack of every product that reads them. */

/* out (T, D) = inp / rms(inp) * w, rstd (T) saved for backward (both write). */
void rmsnorm_forward(pool *p, float *out, float *rstd, const float *inp, const float *w, int T,
                     int D, float eps, int round);
/* dinp (T, D) += ..., dw (D) += ... */
void rmsnorm_backward(pool *p, float *dinp, float *dw, const float *dout, const float *inp,
                      const float *w, const float *rstd, int T, int D);

/* Rotary tables: cos/sin (max_seq, hd/2), angle pos * theta^(-2i/hd), computed in
 * double. Pairing is Hugging Face Llama's "rotate_half": element i rotates with
 * element i + hd/2 (not interleaved pairs). */
void rope_tables(float *cos_t, float *sin_t, int max_seq, int hd, double theta);
/* x (T, n_heads * hd) rotated in place; token t is at position pos[t]. */
void rope_forward(pool *p, float *x, const int32_t *pos, const float *cos_t, const float *sin_t,
                  int T, int n_heads, int hd, int round);
/* dx rotated back in place (the rotation's transpose). */
void rope_backward(pool *p, float *dx, const int32_t *pos, const float *cos_t,
                   const float *sin_t, int T, int n_heads, int hd, int round);

/* Causal grouped-query attention over B sequences of S tokens (T = B*S).
 * q (T, H*hd), k, v (T, KV*hd); out (T, H*hd) write; att (B, H, S, S) softmax
 * probabilities saved for backward (write; entries above the diagonal are 0).
 * One task per (sequence, head); its matmuls run on the task's thread.
 * in_bf16: q, k, v (and in backward dout) hold bf16 values already, rounded by the
 * caller for mm's emulated bf16 products (mm_ctx_bf16_emulated): the products do not
 * round them again (MM_A_BF16, MM_B_BF16), and backward rounds dS once as it makes it.
 * 0 otherwise; the results are the same bits either way. */
void attention_forward(pool *p, mm_ctx *mm, float *out, float *att, const float *q,
                       const float *k, const float *v, int B, int S, int H, int KV, int hd, int in_bf16);
/* dq write; dk, dv write (each key/value head sums its group's heads in order).
 * scratch: pool_threads(p) x S x S floats. */
void attention_backward(pool *p, mm_ctx *mm, float *scratch, float *dq, float *dk, float *dv,
                        const float *dout, const float *att, const float *q, const float *k,
                        const float *v, int B, int S, int H, int KV, int hd, int in_bf16);

/* Scaled causal softmax, in place, of n rows of attention scores (row stride ld):
 * row i is the query at position pos0 + i and sees keys 0 .. pos0 + i; entries from
 * there up to n_keys become 0. Training (pos0 0) and cached inference (pos0 > 0)
 * share it so that both compute the same bits. */
void attn_softmax_causal(float *att, int n, int ld, int n_keys, int pos0, float scale);

/* out (n) = silu(gate) * up (write). */
void swiglu_forward(pool *p, float *out, const float *gate, const float *up, size_t n, int round);
/* dgate, dup (n) write. */
void swiglu_backward(pool *p, float *dgate, float *dup, const float *dout, const float *gate,
                     const float *up, size_t n, int round);

/* log sum_i exp(z_i) of one row of logits, in double after the max (the
 * cross-entropy's and the evaluators' one definition of a token's log-probability:
 * log p(y) = z_y - logsumexp_row). */
double logsumexp_row(const float *z, int V);

/* Cross-entropy over rows of logits (n, V), in place: each row whose target is not
 * `ignore` becomes scale * (softmax - onehot(target)) and its loss -log p(target)
 * goes to row_loss[r]; ignored rows become 0 with row_loss 0. Returns the number
 * of rows counted. */
size_t xent_forward_backward(pool *p, float *logits, double *row_loss, const dk_token *targets,
                             size_t n, int V, dk_token ignore, float scale, int round);

/* y (T, N) (+)= bias: adds bias (N) to every row. db (N) += column sums of dy. */
void bias_forward(pool *p, float *y, const float *bias, int T, int N);
void bias_backward(pool *p, float *db, const float *dy, int T, int N);

#endif
