/* layer.h: the decoder layer, written once. Training (model.c) and inference
 * (infer/infer.c) both run this function; they differ only in where the activations
 * live (kept per layer for the backward pass, or scratch reused by every layer and a
 * key/value cache), in how a weight is multiplied (plain row-major weights, or weights
 * packed once into the kernel's panels for decoding) and in attention (whole causal
 * sequences, or new positions against the cache). Those three are the backend; the
 * order of operations, which fixes every bit of the result, is here.
 *
 * Pre-norm Llama block: ln1 = RMSNorm(x); q, k, v = ln1 W^T (+ bias); RoPE on q and k;
 * atty = attention; x_mid = x + atty Wo^T; ln2 = RMSNorm(x_mid); gate, up = ln2 W^T;
 * h = SwiGLU(gate, up); x_out = x_mid + h Wdown^T. */
#ifndef DK_MODEL_LAYER_H
#define DK_MODEL_LAYER_H

#include <stdint.h>

#include "model/config.h"
#include "model/params.h"
#include "util/pool.h"

enum { LAYER_WQ, LAYER_WK, LAYER_WV, LAYER_WO, LAYER_WGATE, LAYER_WUP, LAYER_WDOWN };

typedef struct {
    void *ctx;
    /* y (n, N) = x (n, K) W^T + beta y, W = weight `which` (LAYER_*) of layer l */
    void (*linear)(void *ctx, int l, int which, float *y, const float *x, int n, int N, int K, float beta);
    /* atty (n, H hd) from q (n, H hd) and the layer's keys and values (k, v: n, KV hd) */
    void (*attend)(void *ctx, int l, float *atty, const float *q, const float *k, const float *v, int n);
    /* optional: sees gate and up (n, F) before SwiGLU */
    void (*tap)(void *ctx, int l, const float *gate, const float *up, int n);
    /* nonzero: the backend's products round their operands to bf16 as they pack them
     * (mm_ctx_bf16_emulated). The layer then rounds ln1, q and k after RoPE, v, atty,
     * ln2 and h (read by nothing but linear and attend, and in training by their
     * backward products) once where it makes them, and the backend's products may
     * read them as bf16 (MM_A_BF16). */
    int round_bf16;
} layer_backend;

/* One layer's buffers. x_in, x_mid and x_out may be one buffer (updated in place), and
 * so may ln1 and ln2, rstd1 and rstd2. */
typedef struct {
    const float *x_in;
    float *x_mid, *x_out;
    float *ln1, *rstd1, *q, *k, *v, *atty, *ln2, *rstd2, *gate, *up, *h;
    const int32_t *pos;                 /* n positions, for RoPE */
    const float *rope_cos, *rope_sin;
} layer_bufs;

void decoder_layer_forward(pool *p, const model_config *c, const layer_view *w, int l, const layer_bufs *b,
                           int n, const layer_backend *be);

#endif
