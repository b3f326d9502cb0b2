/* surgery.c: see surgery.h. Tensors are addressed by their Hugging Face names, so
 * each operation reads like the transformation it performs. */
#include "model/surgery.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/rng.h"

static float *tensor(model *m, const char *fmt, int layer, const param_info **info)
{
    char name[PARAM_NAME_MAX];
    snprintf(name, sizeof name, fmt, layer);
    const param_info *p = params_find(model_layout(m), name);
    if (info)
        *info = p;
    return p ? model_params(m) + p->offset : NULL;
}

/* A new model of config c (validated) on in's pool. */
static int fresh(model **out, model *in, model_config c, dk_err *err)
{
    if (model_config_validate(&c, "surgery", err) != 0)
        return -1;
    return model_new(out, &c, model_pool(in), err);
}

/* Copies every tensor not inside a layer (embeddings, final norm, head). */
static void copy_outer(model *dst, model *src)
{
    const param_layout *l = model_layout(dst);
    for (size_t i = 0; i < l->n_info; i++) {
        const param_info *p = &l->info[i];
        if (strncmp(p->name, "model.layers.", 13) == 0)
            continue;
        const param_info *q = params_find(model_layout(src), p->name);
        if (q && q->numel == p->numel)
            memcpy(model_params(dst) + p->offset, model_params(src) + q->offset, p->numel * sizeof(float));
    }
}

/* Copies layer `from` of src into layer `to` of dst (same shapes). */
static void copy_layer(model *dst, int to, model *src, int from)
{
    const param_layout *l = model_layout(dst);
    char prefix[32];
    int pl = snprintf(prefix, sizeof prefix, "model.layers.%d.", to);
    for (size_t i = 0; i < l->n_info; i++) {
        const param_info *p = &l->info[i];
        if (strncmp(p->name, prefix, (size_t)pl) != 0)
            continue;
        char name[PARAM_NAME_MAX];
        snprintf(name, sizeof name, "model.layers.%d.%s", from, p->name + pl);
        const param_info *q = params_find(model_layout(src), name);
        if (q && q->numel == p->numel)
            memcpy(model_params(dst) + p->offset, model_params(src) + q->offset, p->numel * sizeof(float));
    }
}

int surgery_depth(model **out, model *in, const int *layers, int n_layers, dk_err *err)
{
    model_config c = *model_cfg(in);
    for (int k = 0; k < n_layers; k++)
        if (layers[k] < 0 || layers[k] >= c.n_layers)
            return dk_errf(err, "layer %d does not exist (the model has %d)", layers[k], c.n_layers);
    c.n_layers = n_layers;
    if (fresh(out, in, c, err) != 0)
        return -1;
    copy_outer(*out, in);
    for (int k = 0; k < n_layers; k++)
        copy_layer(*out, k, in, layers[k]);
    return 0;
}

static void shuffle(int *p, int n, uint64_t *s)
{
    for (int i = 0; i < n; i++)
        p[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rng_splitmix64(s) % (uint64_t)(i + 1)), t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
}

/* rows r of dst = rows perm[r] of src, each `width` floats, in blocks of `block` rows. */
static void permute_rows(float *w, const int *perm, int n, size_t row, float *tmp)
{
    memcpy(tmp, w, (size_t)n * row * sizeof(float));
    for (int r = 0; r < n; r++)
        memcpy(w + (size_t)r * row, tmp + (size_t)perm[r] * row, row * sizeof(float));
}

/* columns c (in blocks of `block`) of a (rows x n*block) matrix = columns perm[c]. */
static void permute_cols(float *w, const int *perm, int n, int rows, int block, float *tmp)
{
    size_t cols = (size_t)n * block;
    memcpy(tmp, w, (size_t)rows * cols * sizeof(float));
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < n; c++)
            memcpy(w + r * cols + (size_t)c * block, tmp + r * cols + (size_t)perm[c] * block,
                   (size_t)block * sizeof(float));
}

int surgery_permute(model **out, model *in, uint64_t seed, dk_err *err)
{
    const model_config *c = model_cfg(in);
    if (fresh(out, in, *c, err) != 0)
        return -1;
    memcpy(model_params(*out), model_params(in), model_numel(in) * sizeof(float));
    int D = c->dim, F = c->ffn_dim, H = c->n_heads, KV = c->n_kv_heads, hd = c->head_dim, G = H / KV;
    size_t big = (size_t)(F > H * hd ? F : H * hd) * (size_t)D;
    int *pf = malloc((size_t)F * sizeof *pf), *pkv = malloc((size_t)KV * sizeof *pkv),
        *pq = malloc((size_t)H * sizeof *pq), *pg = malloc((size_t)G * sizeof *pg);
    float *tmp = malloc(big * sizeof *tmp);
    if (!pf || !pkv || !pq || !pg || !tmp) {
        free(pf), free(pkv), free(pq), free(pg), free(tmp);
        model_free(*out);
        *out = NULL;
        return dk_errf(err, "out of memory");
    }
    uint64_t s = hash_u64(seed ^ 0x5045524DULL);
    model *m = *out;
    for (int l = 0; l < c->n_layers; l++) {
        shuffle(pf, F, &s);
        permute_rows(tensor(m, "model.layers.%d.mlp.gate_proj.weight", l, NULL), pf, F, (size_t)D, tmp);
        permute_rows(tensor(m, "model.layers.%d.mlp.up_proj.weight", l, NULL), pf, F, (size_t)D, tmp);
        permute_cols(tensor(m, "model.layers.%d.mlp.down_proj.weight", l, NULL), pf, F, D, 1, tmp);
        /* heads: new kv head g takes old kv head pkv[g]; new query head g*G + r takes
         * old query head pkv[g]*G + pg[r] (pg drawn per group) */
        shuffle(pkv, KV, &s);
        for (int g = 0; g < KV; g++) {
            shuffle(pg, G, &s);
            for (int r = 0; r < G; r++)
                pq[g * G + r] = pkv[g] * G + pg[r];
        }
        permute_rows(tensor(m, "model.layers.%d.self_attn.q_proj.weight", l, NULL), pq, H, (size_t)hd * D, tmp);
        permute_rows(tensor(m, "model.layers.%d.self_attn.k_proj.weight", l, NULL), pkv, KV, (size_t)hd * D, tmp);
        permute_rows(tensor(m, "model.layers.%d.self_attn.v_proj.weight", l, NULL), pkv, KV, (size_t)hd * D, tmp);
        if (c->qkv_bias) {
            permute_rows(tensor(m, "model.layers.%d.self_attn.q_proj.bias", l, NULL), pq, H, (size_t)hd, tmp);
            permute_rows(tensor(m, "model.layers.%d.self_attn.k_proj.bias", l, NULL), pkv, KV, (size_t)hd, tmp);
            permute_rows(tensor(m, "model.layers.%d.self_attn.v_proj.bias", l, NULL), pkv, KV, (size_t)hd, tmp);
        }
        permute_cols(tensor(m, "model.layers.%d.self_attn.o_proj.weight", l, NULL), pq, H, D, hd, tmp);
    }
    free(pf), free(pkv), free(pq), free(pg), free(tmp);
    return 0;
}

static double row_norm(const float *x, size_t n, size_t stride)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i * stride] * x[i * stride];
    return sqrt(s);
}

int surgery_prune_ffn(model **out, model *in, int new_ffn, dk_err *err)
{
    model_config c = *model_cfg(in);
    int F = c.ffn_dim, D = c.dim;
    if (new_ffn < 1 || new_ffn > F)
        return dk_errf(err, "--prune-ffn %d: must be in 1..%d (the MLP width)", new_ffn, F);
    c.ffn_dim = new_ffn;
    if (fresh(out, in, c, err) != 0)
        return -1;
    copy_outer(*out, in);
    double *imp = malloc((size_t)F * sizeof *imp);
    char *keep = malloc((size_t)F);
    if (!imp || !keep) {
        free(imp), free(keep);
        model_free(*out);
        *out = NULL;
        return dk_errf(err, "out of memory");
    }
    for (int l = 0; l < c.n_layers; l++) {
        copy_layer(*out, l, in, l); /* attention and norms; the MLP shapes differ and are skipped */
        const float *g = tensor(in, "model.layers.%d.mlp.gate_proj.weight", l, NULL),
                    *u = tensor(in, "model.layers.%d.mlp.up_proj.weight", l, NULL),
                    *d = tensor(in, "model.layers.%d.mlp.down_proj.weight", l, NULL);
        for (int i = 0; i < F; i++)
            imp[i] = row_norm(g + (size_t)i * D, (size_t)D, 1) * row_norm(u + (size_t)i * D, (size_t)D, 1) *
                     row_norm(d + i, (size_t)D, (size_t)F);
        /* the new_ffn largest, ties to the lower index: count how many beat each */
        for (int i = 0; i < F; i++) {
            int better = 0;
            for (int j = 0; j < F && better < new_ffn; j++)
                better += imp[j] > imp[i] || (imp[j] == imp[i] && j < i);
            keep[i] = better < new_ffn;
        }
        float *ng = tensor(*out, "model.layers.%d.mlp.gate_proj.weight", l, NULL),
              *nu = tensor(*out, "model.layers.%d.mlp.up_proj.weight", l, NULL),
              *nd = tensor(*out, "model.layers.%d.mlp.down_proj.weight", l, NULL);
        int k = 0;
        for (int i = 0; i < F; i++) {
            if (!keep[i])
                continue;
            memcpy(ng + (size_t)k * D, g + (size_t)i * D, (size_t)D * sizeof(float));
            memcpy(nu + (size_t)k * D, u + (size_t)i * D, (size_t)D * sizeof(float));
            for (int r = 0; r < D; r++)
                nd[(size_t)r * new_ffn + k] = d[(size_t)r * F + i];
            k++;
        }
    }
    free(imp), free(keep);
    return 0;
}

int surgery_reinit(model **out, model *in, const int *layers, int n, uint64_t seed, dk_err *err)
{
    const model_config *c = model_cfg(in);
    for (int k = 0; k < n; k++)
        if (layers[k] < 0 || layers[k] >= c->n_layers)
            return dk_errf(err, "layer %d does not exist (the model has %d)", layers[k], c->n_layers);
    model *init;
    if (fresh(out, in, *c, err) != 0)
        return -1;
    if (fresh(&init, in, *c, err) != 0) {
        model_free(*out);
        *out = NULL;
        return -1;
    }
    memcpy(model_params(*out), model_params(in), model_numel(in) * sizeof(float));
    params_init(model_layout(init), model_params(init), seed);
    for (int k = 0; k < n; k++)
        copy_layer(*out, layers[k], init, layers[k]);
    model_free(init);
    return 0;
}

int surgery_noise(model **out, model *in, double rel_std, uint64_t seed, dk_err *err)
{
    if (!(rel_std >= 0) || rel_std > 100)
        return dk_errf(err, "--noise %g: must be in [0, 100] (a multiple of each tensor's RMS)", rel_std);
    if (fresh(out, in, *model_cfg(in), err) != 0)
        return -1;
    memcpy(model_params(*out), model_params(in), model_numel(in) * sizeof(float));
    const param_layout *l = model_layout(*out);
    for (size_t i = 0; i < l->n_info; i++) {
        const param_info *p = &l->info[i];
        float *w = model_params(*out) + p->offset;
        double ss = 0;
        for (size_t k = 0; k < p->numel; k++)
            ss += (double)w[k] * w[k];
        double std = rel_std * sqrt(ss / (double)(p->numel ? p->numel : 1));
        uint64_t key = hash_u64(seed ^ 0x4E4F495345ULL) ^ hash_bytes(p->name, strlen(p->name));
        for (size_t k = 0; k < p->numel; k++)
            w[k] += (float)(std * rng_normal(key, k));
    }
    return 0;
}

int surgery_parse_layers(const char *s, int max_layer, int **out, int *n, dk_err *err)
{
    *out = NULL;
    *n = 0;
    int cap = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p)
            break;
        if (*end == '-') {
            const char *q = end + 1;
            b = strtol(q, &end, 10);
            if (end == q)
                break;
        }
        if (a < 0 || b < a || b >= max_layer) {
            free(*out);
            *out = NULL;
            if (a == b)
                return dk_errf(err, "layer list \"%s\": layer %ld is outside 0..%d", s, a, max_layer - 1);
            return dk_errf(err, "layer list \"%s\": %ld-%ld is not a rising range within 0..%d", s, a, b,
                           max_layer - 1);
        }
        for (long k = a; k <= b; k++) {
            if (*n == cap) {
                cap = cap ? 2 * cap : 16;
                int *v = realloc(*out, (size_t)cap * sizeof *v);
                if (!v) {
                    free(*out);
                    *out = NULL;
                    return dk_errf(err, "out of memory");
                }
                *out = v;
            }
            (*out)[(*n)++] = (int)k;
        }
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            break;
    }
    if (*p || *n == 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return dk_errf(err, "layer list \"%s\": expected numbers and ranges like 0-23,8-31", s);
    }
    return 0;
}
