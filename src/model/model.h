/* model.h: a Llama-family decoder: parameters, gradients, activations, and the
 * training pass (forward, loss, backward) and evaluation pass over a batch.
 *
 * build/free pairs: model_new allocates the parameter and gradient buffers (one
 * contiguous float32 buffer each, laid out by params.h); model_reserve allocates the
 * activations for a batch shape once, and every later pass of that shape or smaller
 * reuses them: the training loop never allocates. */
#ifndef DK_MODEL_MODEL_H
#define DK_MODEL_MODEL_H

#include <stdint.h>

#include "model/config.h"
#include "model/params.h"
#include "util/pool.h"
#include "util/token.h"

#define MODEL_IGNORE_INDEX (-100)

typedef struct model model;

/* Parameters are zero until initialised (params_init on model_params) or loaded. */
int model_new(model **out, const model_config *cfg, pool *p, dk_err *err);
/* The same, with gradients (training) or without (inference, surgery, inspection: half
 * the memory); a model without gradients must not run a backward pass. */
int model_new_ex(model **out, const model_config *cfg, pool *p, int with_grads, dk_err *err);
void model_free(model *m);

const model_config *model_cfg(const model *m);
const param_layout *model_layout(const model *m);
float *model_params(model *m);   /* numel floats */
float *model_grads(model *m);    /* numel floats, same layout */
size_t model_numel(const model *m);
pool *model_pool(model *m);
/* Mixed precision for the training passes: every matmul takes bf16 operands with fp32
 * accumulation (parameters, gradients, activations and optimizer state stay fp32):
 * AMX or vdpbf16ps where the CPU has them, else the fp32 kernels on operands rounded to
 * bf16 (the same semantics; bits differ between these three). Returns -1 when the
 * operand buffers cannot be allocated. on == MM_BF16_EMULATED (kernels/matmul.h) asks
 * for the emulation also where the CPU has the instructions. */
int model_set_bf16(model *m, int on);
/* With emulated bf16, the activations and gradients that feed products only are rounded
 * once where they are made, and their products read them in place (MM_A_BF16) instead
 * of rounding them in every pack. Same bits either way; on by default. Off is for the
 * test that checks those bits and for measuring what it saves. */
void model_set_bf16_at_source(model *m, int on);
/* Nonzero when the bf16 products asked for run emulated (mm_ctx_bf16_emulated). */
int model_bf16_emulated(const model *m);

/* Allocates activations for B sequences of S tokens (S <= max_position_embeddings);
 * keeps the current ones when they already cover B x S. Fails only on a bad shape or
 * when memory runs out. */
int model_reserve(model *m, int B, int S, dk_err *err);
/* Bytes of activation memory model_reserve(B, S) allocates on `threads` threads (the
 * documented formula, docs/model.md). */
size_t model_activation_bytes(const model_config *c, int B, int S, int threads);

/* The passes below run in reserved activations and cannot fail: the caller has
 * reserved (model_reserve) at least B sequences of at least S tokens; a shape outside
 * the reservation is a bug that stops the program (DK_ASSERT). Inputs and targets are
 * ids < vocab_size (targets also MODEL_IGNORE_INDEX).
 *
 * Training pass on inputs/targets (B, S): returns the mean cross-entropy over
 * targets != MODEL_IGNORE_INDEX and ADDS the gradient of that mean to the
 * gradients (call model_zero_grads first; accumulation over micro-batches is the
 * caller's choice of scale: grads are of the mean of this batch times grad_scale). */
double model_forward_backward(model *m, const dk_token *inputs, const dk_token *targets, int B,
                              int S, float grad_scale);
/* Forward only: the mean loss (and per-position losses into row_loss, (B*S), if
 * not NULL). */
double model_forward_loss(model *m, const dk_token *inputs, const dk_token *targets, int B, int S,
                          double *row_loss);
/* Forward only: logits (B*S, V) of every position. */
void model_forward_logits(model *m, const dk_token *inputs, int B, int S, float *logits);

void model_zero_grads(model *m);

/* Called during model_forward_backward as soon as a contiguous range of the gradient
 * buffer is final for this pass: [offset, offset + numel) in floats. Ranges come in
 * the order the backward pass finishes them (head, last layer ... first layer,
 * embedding) and cover the buffer exactly once. NULL disables. Data-parallel training
 * starts sending each range to the ranks that own it here, while the backward pass goes
 * on. */
typedef void (*model_grad_hook)(void *ctx, size_t offset, size_t numel);
void model_set_grad_hook(model *m, model_grad_hook fn, void *ctx);

/* Floating-point operations of one training pass on B x S tokens: 6 x matmul
 * parameters per token plus attention 12 x layers x width x S per token (both
 * directions: forward 2, backward 4), the figure MFU divides. */
double model_train_flops(const model_config *c, int B, int S);

#endif
