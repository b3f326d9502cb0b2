/* wsrc.c: see wsrc.h. */
#include "lineage/wsrc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interop/interop.h"
#include "io/gguf.h"
#include "model/model_io.h"
#include "util/fs.h"

/* ---- GGUF: Hugging Face names mapped to llama.cpp's, Q/K rows to its pairing ---- */

/* The GGUF name of HF tensor `name` into out; which rows permutation applies (1 q, 2 k). */
static int gguf_name_of(const char *name, char *out, size_t cap, int *perm)
{
    static const struct { const char *hf, *gg; int perm; } L[] = {
        {"input_layernorm.weight", "attn_norm.weight", 0}, {"self_attn.q_proj.weight", "attn_q.weight", 1},
        {"self_attn.k_proj.weight", "attn_k.weight", 2}, {"self_attn.v_proj.weight", "attn_v.weight", 0},
        {"self_attn.o_proj.weight", "attn_output.weight", 0},
        {"post_attention_layernorm.weight", "ffn_norm.weight", 0}, {"mlp.gate_proj.weight", "ffn_gate.weight", 0},
        {"mlp.up_proj.weight", "ffn_up.weight", 0}, {"mlp.down_proj.weight", "ffn_down.weight", 0},
        {"self_attn.q_proj.bias", "attn_q.bias", 1}, {"self_attn.k_proj.bias", "attn_k.bias", 2},
        {"self_attn.v_proj.bias", "attn_v.bias", 0}};
    *perm = 0;
    if (strcmp(name, "model.embed_tokens.weight") == 0)
        return snprintf(out, cap, "token_embd.weight"), 0;
    if (strcmp(name, "model.norm.weight") == 0)
        return snprintf(out, cap, "output_norm.weight"), 0;
    if (strcmp(name, "lm_head.weight") == 0)
        return snprintf(out, cap, "output.weight"), 0;
    int layer, n = 0;
    if (sscanf(name, "model.layers.%d.%n", &layer, &n) == 1 && n > 0)
        for (size_t i = 0; i < sizeof L / sizeof L[0]; i++)
            if (strcmp(name + n, L[i].hf) == 0) {
                snprintf(out, cap, "blk.%d.%s", layer, L[i].gg);
                *perm = L[i].perm;
                return 0;
            }
    return -1;
}

static const gguf_tensor *gguf_of(const wsrc *w, const char *name, int *perm, dk_err *err)
{
    char gn[128];
    const gguf_tensor *t = gguf_name_of(name, gn, sizeof gn, perm) == 0 ? gguf_find_tensor(w->g, gn) : NULL;
    if (!t)
        dk_errf(err, "%s: missing tensor \"%s\"", w->dir, name);
    return t;
}

/* HF row r of t (permuted for q/k) as float32 columns [c0, c0 + nc) into out; row is
 * scratch of ne[0] floats. */
static int gguf_row(const wsrc *w, const gguf_tensor *t, int perm, size_t r, size_t c0, size_t nc, float *row,
                    float *out, dk_err *err)
{
    size_t gr = perm == 1 ? w->qrow[r] : perm == 2 ? w->krow[r] : r;
    if (gguf_read_rows_f32(w->g, t, gr, 1, row, err) != 0)
        return -1;
    memcpy(out, row + c0, nc * sizeof *out);
    return 0;
}

static uint32_t *gguf_unperm(int heads, int hd)
{
    uint32_t *p = malloc((size_t)heads * hd * sizeof *p);
    for (int h = 0; p && h < heads; h++)
        for (int s = 0; s < 2; s++)
            for (int j = 0; j < hd / 2; j++)
                p[h * hd + s * (hd / 2) + j] = (uint32_t)(h * hd + 2 * j + s);
    return p;
}

static int wsrc_open_gguf(wsrc *w, const char *path, dk_err *err)
{
    /* the config as the importer derives it: load a model's config without its weights */
    if (gguf_open(&w->g, path, err) != 0 || model_config_of_gguf(w->g, &w->cfg, err) != 0)
        return -1;
    w->qrow = gguf_unperm(w->cfg.n_heads, w->cfg.head_dim);
    w->krow = gguf_unperm(w->cfg.n_kv_heads, w->cfg.head_dim);
    if (!w->qrow || !w->krow)
        return dk_errf(err, "out of memory");
    for (size_t i = 0; i < gguf_n_tensors(w->g); i++)
        w->bytes += gguf_tensor_at(w->g, i)->nbytes;
    return 0;
}

void wsrc_close(wsrc *w)
{
    for (size_t i = 0; i < w->n_files; i++) {
        if (w->files)
            st_close(w->files[i]);
        if (w->paths)
            free(w->paths[i]);
    }
    free(w->files);
    free(w->paths);
    gguf_close(w->g);
    free(w->qrow);
    free(w->krow);
    memset(w, 0, sizeof *w);
}

int wsrc_open(wsrc *w, const char *dir, dk_err *err)
{
    memset(w, 0, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    if (!fs_is_dir(dir)) {
        if (wsrc_open_gguf(w, dir, err) != 0) {
            wsrc_close(w);
            return -1;
        }
        return 0;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (model_config_load(&w->cfg, path, err) != 0)
        return -1;
    if (model_weight_files(dir, &w->paths, &w->n_files, err) != 0)
        return -1;
    w->files = calloc(w->n_files, sizeof *w->files);
    if (!w->files) {
        wsrc_close(w);
        return dk_errf(err, "out of memory");
    }
    for (size_t i = 0; i < w->n_files; i++) {
        if (st_open(&w->files[i], w->paths[i], err) != 0) {
            wsrc_close(w);
            return -1;
        }
        for (size_t t = 0; t < st_count(w->files[i]); t++) {
            const st_tensor *x = st_tensor_at(w->files[i], t);
            w->bytes += x->end - x->begin;
        }
    }
    return 0;
}

const st_tensor *wsrc_find(const wsrc *w, const char *name, const st_file **file, dk_err *err)
{
    for (size_t i = 0; i < w->n_files; i++) {
        const st_tensor *t = st_find(w->files[i], name);
        if (t) {
            *file = w->files[i];
            return t;
        }
    }
    dk_errf(err, "%s: missing tensor \"%s\"", w->dir, name);
    return NULL;
}

/* n elements of src (dtype d, little-endian, possibly misaligned) as float32. The BF16
 * case is the hot one (a 7B layer's MLP is 90 M elements): a shift, in a loop the
 * compiler vectorises. */
static void convert(const uint8_t *src, st_dtype d, size_t n, float *out)
{
    if (d == ST_F32) {
        memcpy(out, src, n * sizeof(float));
    } else if (d == ST_BF16) {
        for (size_t i = 0; i < n; i++) {
            uint32_t u = (uint32_t)(src[2 * i] | src[2 * i + 1] << 8) << 16;
            memcpy(out + i, &u, sizeof u);
        }
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = st_f16_to_f32((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
    }
}

static const st_tensor *matrix(const wsrc *w, const char *name, size_t want_cols,
                               const st_file **f, dk_err *err)
{
    const st_tensor *t = wsrc_find(w, name, f, err);
    if (!t)
        return NULL;
    if (t->ndim != 2 || (want_cols && t->shape[1] != want_cols)) {
        dk_errf(err, "%s: tensor \"%s\" is not a matrix of %zu columns", w->dir, name, want_cols);
        return NULL;
    }
    return t;
}

int wsrc_shape(const wsrc *w, const char *name, uint64_t *rows, uint64_t *cols, dk_err *err)
{
    if (w->g) {
        int perm;
        const gguf_tensor *t = gguf_of(w, name, &perm, err);
        if (!t)
            return -1;
        if (t->n_dims != 2)
            return dk_errf(err, "%s: tensor \"%s\" is not a matrix", w->dir, name);
        *rows = t->ne[1];
        *cols = t->ne[0];
        return 0;
    }
    const st_file *f;
    const st_tensor *t = matrix(w, name, 0, &f, err);
    if (!t)
        return -1;
    *rows = t->shape[0];
    *cols = t->shape[1];
    return 0;
}

int wsrc_rows(const wsrc *w, const char *name, size_t r0, size_t n, size_t want_cols, float *out,
              dk_err *err)
{
    if (w->g) {
        uint64_t rows, cols;
        if (wsrc_shape(w, name, &rows, &cols, err) != 0)
            return -1;
        if (r0 + n > rows)
            return dk_errf(err, "%s: tensor \"%s\" has %llu rows, asked for %zu..%zu", w->dir, name,
                           (unsigned long long)rows, r0, r0 + n);
        size_t *list = malloc((n ? n : 1) * sizeof *list);
        if (!list)
            return dk_errf(err, "out of memory");
        for (size_t i = 0; i < n; i++)
            list[i] = r0 + i;
        int rc = wsrc_block(w, name, list, n, 0, (size_t)cols, want_cols, out, err);
        free(list);
        return rc;
    }
    const st_file *f;
    const st_tensor *t = matrix(w, name, want_cols, &f, err);
    if (!t)
        return -1;
    if (r0 + n > t->shape[0])
        return dk_errf(err, "%s: tensor \"%s\" has %llu rows, asked for %zu..%zu", w->dir, name,
                       (unsigned long long)t->shape[0], r0, r0 + n);
    size_t cols = (size_t)t->shape[1], es = st_dtype_size(t->dtype);
    convert(st_raw(f, t) + r0 * cols * es, t->dtype, n * cols, out);
    return 0;
}

int wsrc_block(const wsrc *w, const char *name, const size_t *rows, size_t n, size_t c0, size_t nc,
               size_t want_cols, float *out, dk_err *err)
{
    if (w->g) {
        int perm;
        const gguf_tensor *t = gguf_of(w, name, &perm, err);
        if (!t)
            return -1;
        size_t cols = (size_t)t->ne[0];
        if (t->n_dims != 2 || (want_cols && cols != want_cols))
            return dk_errf(err, "%s: tensor \"%s\" is not a matrix of %zu columns", w->dir, name, want_cols);
        if (c0 > cols || nc > cols - c0)
            return dk_errf(err, "%s: tensor \"%s\" has %zu columns, asked for %zu..%zu", w->dir, name, cols,
                           c0, c0 + nc);
        float *row = malloc(cols * sizeof *row);
        if (!row)
            return dk_errf(err, "out of memory");
        int rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
            size_t r = rows ? rows[i] : i;
            if (r >= t->ne[1])
                rc = dk_errf(err, "%s: tensor \"%s\" has no row %zu", w->dir, name, r);
            else
                rc = gguf_row(w, t, perm, r, c0, nc, row, out + i * nc, err);
        }
        free(row);
        return rc;
    }
    const st_file *f;
    const st_tensor *t = matrix(w, name, want_cols, &f, err);
    if (!t)
        return -1;
    size_t cols = (size_t)t->shape[1], es = st_dtype_size(t->dtype);
    if (c0 > cols || nc > cols - c0)
        return dk_errf(err, "%s: tensor \"%s\" has %zu columns, asked for %zu..%zu", w->dir, name, cols,
                       c0, c0 + nc);
    const uint8_t *raw = st_raw(f, t);
    for (size_t i = 0; i < n; i++) {
        size_t r = rows ? rows[i] : i;
        if (r >= t->shape[0])
            return dk_errf(err, "%s: tensor \"%s\" has no row %zu", w->dir, name, r);
        convert(raw + (r * cols + c0) * es, t->dtype, nc, out + i * nc);
    }
    return 0;
}

int wsrc_rows_list(const wsrc *w, const char *name, const size_t *rows, size_t n,
                   size_t want_cols, float *out, dk_err *err)
{
    if (w->g) {
        uint64_t nr, nc;
        return wsrc_shape(w, name, &nr, &nc, err) != 0 ? -1
               : wsrc_block(w, name, rows, n, 0, (size_t)nc, want_cols, out, err);
    }
    const st_file *f;
    const st_tensor *t = matrix(w, name, want_cols, &f, err);
    return t ? wsrc_block(w, name, rows, n, 0, (size_t)t->shape[1], want_cols, out, err) : -1;
}

int wsrc_vector(const wsrc *w, const char *name, size_t want_n, float *out, dk_err *err)
{
    if (w->g) {
        int perm;
        const gguf_tensor *t = gguf_of(w, name, &perm, err);
        if (!t)
            return -1;
        if (t->n_dims != 1 || t->ne[0] != want_n)
            return dk_errf(err, "%s: tensor \"%s\" is not a vector of %zu", w->dir, name, want_n);
        return gguf_read_rows_f32(w->g, t, 0, 1, out, err);
    }
    const st_file *f;
    const st_tensor *t = wsrc_find(w, name, &f, err);
    if (!t)
        return -1;
    if (t->ndim != 1 || t->shape[0] != want_n)
        return dk_errf(err, "%s: tensor \"%s\" is not a vector of %zu", w->dir, name, want_n);
    convert(st_raw(f, t), t->dtype, want_n, out);
    return 0;
}

void wsrc_prefetch(const wsrc *w, const char *name)
{
    if (w->g) {
        int perm;
        dk_err e;
        const gguf_tensor *t = gguf_of(w, name, &perm, &e);
        if (t)
            fs_willneed(gguf_tensor_data(w->g, t), (size_t)t->nbytes);
        return;
    }
    const st_file *f;
    dk_err err;
    const st_tensor *t = wsrc_find(w, name, &f, &err);
    if (t)
        fs_willneed(st_raw(f, t), (size_t)(t->end - t->begin));
}
