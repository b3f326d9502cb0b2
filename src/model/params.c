/* params.c: parameter layout, views and initialisation. */
#include "model/params.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/grow.h"
#include "util/hash.h"
#include "util/rng.h"

typedef struct {
    param_info *v;
    size_t n, cap, off;
    int oom;
} builder;

static void add(builder *b, param_kind kind, int64_t rows, int64_t cols, const char *fmt, int layer)
{
    if (b->oom)
        return;
    param_info *nv = dk_grow(b->v, &b->cap, b->n + 1, sizeof *nv, 64);
    if (!nv) {
        b->oom = 1;
        return;
    }
    b->v = nv;
    param_info *p = &b->v[b->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, fmt, layer);
    p->kind = kind;
    p->ndim = cols ? 2 : 1;
    p->shape[0] = rows;
    p->shape[1] = cols;
    p->numel = (size_t)rows * (size_t)(cols ? cols : 1);
    p->offset = b->off;
    b->off += p->numel;
}

int params_layout(param_layout *l, const model_config *c, dk_err *err)
{
    memset(l, 0, sizeof *l);
    builder b = {0};
    int64_t D = c->dim, F = c->ffn_dim, V = c->vocab_size, Q = (int64_t)c->n_heads * c->head_dim,
            KV = (int64_t)c->n_kv_heads * c->head_dim;
    add(&b, PK_EMBED, V, D, "model.embed_tokens.weight", 0);
    for (int i = 0; i < c->n_layers; i++) {
        add(&b, PK_NORM, D, 0, "model.layers.%d.input_layernorm.weight", i);
        add(&b, PK_MATRIX, Q, D, "model.layers.%d.self_attn.q_proj.weight", i);
        if (c->qkv_bias)
            add(&b, PK_BIAS, Q, 0, "model.layers.%d.self_attn.q_proj.bias", i);
        add(&b, PK_MATRIX, KV, D, "model.layers.%d.self_attn.k_proj.weight", i);
        if (c->qkv_bias)
            add(&b, PK_BIAS, KV, 0, "model.layers.%d.self_attn.k_proj.bias", i);
        add(&b, PK_MATRIX, KV, D, "model.layers.%d.self_attn.v_proj.weight", i);
        if (c->qkv_bias)
            add(&b, PK_BIAS, KV, 0, "model.layers.%d.self_attn.v_proj.bias", i);
        add(&b, PK_OUT_MATRIX, D, Q, "model.layers.%d.self_attn.o_proj.weight", i);
        add(&b, PK_NORM, D, 0, "model.layers.%d.post_attention_layernorm.weight", i);
        add(&b, PK_MATRIX, F, D, "model.layers.%d.mlp.gate_proj.weight", i);
        add(&b, PK_MATRIX, F, D, "model.layers.%d.mlp.up_proj.weight", i);
        add(&b, PK_OUT_MATRIX, D, F, "model.layers.%d.mlp.down_proj.weight", i);
    }
    add(&b, PK_NORM, D, 0, "model.norm.weight", 0);
    if (!c->tie_embeddings)
        add(&b, PK_MATRIX, V, D, "lm_head.weight", 0);
    if (b.oom) {
        free(b.v);
        return dk_errf(err, "out of memory building the parameter layout");
    }
    l->cfg = *c;
    l->info = b.v;
    l->n_info = b.n;
    l->numel = b.off;
    return 0;
}

void params_layout_free(param_layout *l)
{
    free(l->info);
    memset(l, 0, sizeof *l);
}

const param_info *params_find(const param_layout *l, const char *name)
{
    for (size_t i = 0; i < l->n_info; i++)
        if (strcmp(l->info[i].name, name) == 0)
            return &l->info[i];
    return NULL;
}

void params_view(const param_layout *l, float *buf, model_view *v)
{
    /* Walk the table in layout order: the same order params_layout built it in. */
    size_t i = 0;
    const param_info *p = l->info;
    const model_config *c = &l->cfg;
    v->embed = buf + p[i++].offset;
    for (int k = 0; k < c->n_layers; k++) {
        layer_view *lv = &v->layers[k];
        lv->attn_norm = buf + p[i++].offset;
        lv->wq = buf + p[i++].offset;
        lv->bq = c->qkv_bias ? buf + p[i++].offset : NULL;
        lv->wk = buf + p[i++].offset;
        lv->bk = c->qkv_bias ? buf + p[i++].offset : NULL;
        lv->wv = buf + p[i++].offset;
        lv->bv = c->qkv_bias ? buf + p[i++].offset : NULL;
        lv->wo = buf + p[i++].offset;
        lv->mlp_norm = buf + p[i++].offset;
        lv->wgate = buf + p[i++].offset;
        lv->wup = buf + p[i++].offset;
        lv->wdown = buf + p[i++].offset;
    }
    v->norm = buf + p[i++].offset;
    v->lm_head = c->tie_embeddings ? v->embed : buf + p[i++].offset;
}

void params_init(const param_layout *l, float *buf, uint64_t seed)
{
    double out_std = 0.02 / sqrt(2.0 * l->cfg.n_layers);
    for (size_t i = 0; i < l->n_info; i++) {
        const param_info *p = &l->info[i];
        float *w = buf + p->offset;
        uint64_t key = rng_mix(seed) ^ hash_bytes(p->name, strlen(p->name));
        switch (p->kind) {
        case PK_NORM:
            for (size_t k = 0; k < p->numel; k++)
                w[k] = 1.0f;
            break;
        case PK_BIAS:
            memset(w, 0, p->numel * sizeof *w);
            break;
        default: {
            double std = p->kind == PK_OUT_MATRIX ? out_std : 0.02;
            for (size_t k = 0; k < p->numel; k++)
                w[k] = (float)(std * rng_normal(key, k));
        }
        }
    }
}

int params_sha256(const param_layout *l, const float *buf, uint8_t out[32])
{
    size_t *order = malloc((l->n_info ? l->n_info : 1) * sizeof *order);
    sha256_stream *h = order ? sha256_begin() : NULL;
    if (!h) {
        free(order);
        return -1;
    }
    for (size_t i = 0; i < l->n_info; i++)
        order[i] = i;
    /* names are few (hundreds): a plain insertion sort keeps this reentrant */
    for (size_t i = 1; i < l->n_info; i++)
        for (size_t j = i; j > 0 && strcmp(l->info[order[j - 1]].name, l->info[order[j]].name) > 0; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t i = 0; i < l->n_info; i++) {
        const param_info *p = &l->info[order[i]];
        sha256_add(h, p->name, strlen(p->name) + 1);
        sha256_add(h, buf + p->offset, p->numel * sizeof *buf); /* little-endian hosts only (x86-64, aarch64) */
    }
    sha256_end(h, out);
    free(order);
    return 0;
}
