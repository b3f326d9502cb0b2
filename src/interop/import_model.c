/* import_model.c: models of other tools as dokja models (interop.h: model_open_any).
 *
 * A GGUF of llama.cpp's `llama` architecture becomes the Hugging Face Llama layout
 * dokja computes with: the config from the llama.* keys, every tensor dequantized
 * (F32, F16, BF16, Q8_0) straight into the parameter buffer, and the Q and K rows
 * (and biases) permuted back from llama.cpp's interleaved rotary pairing to
 * rotate-half: HF row s*hd/2 + j of a head is GGUF row 2j + s. A model directory
 * (config.json and safetensors) loads as before, its tokenizer being dokja's own file
 * or a tokenizer.json. What dokja cannot compute the same way (another architecture,
 * RoPE scaling, partial rotary dimensions) is refused, naming it. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interop/interop.h"
#include "io/gguf.h"
#include "model/model_io.h"
#include "util/fs.h"
#include "util/hash.h"

static int get_int(const gguf_file *f, const char *key, int dflt, int *out, dk_err *err)
{
    uint32_t v;
    if ((dflt < 0 ? gguf_get_u32(f, key, &v, err) : gguf_get_u32_or(f, key, (uint32_t)dflt, &v, err)) != 0)
        return -1;
    if (v > (1u << 30))
        return dk_errf(err, "%s: %s = %u is out of range", gguf_name(f), key, v);
    *out = (int)v;
    return 0;
}

int model_config_of_gguf(const gguf_file *f, model_config *c, dk_err *err)
{
    const char *name = gguf_name(f);
    const uint8_t *arch;
    size_t alen;
    if (gguf_get_str(f, "general.architecture", &arch, &alen, err) != 0)
        return -1;
    if (!(alen == 5 && memcmp(arch, "llama", 5) == 0))
        return dk_errf(err, "%s: architecture \"%.*s\" is not supported (llama is)", name,
                       (int)(alen > 30 ? 30 : alen), (const char *)arch);
    memset(c, 0, sizeof *c);
    double theta, eps;
    if (get_int(f, "llama.embedding_length", -1, &c->dim, err) != 0 ||
        get_int(f, "llama.block_count", -1, &c->n_layers, err) != 0 ||
        get_int(f, "llama.attention.head_count", -1, &c->n_heads, err) != 0 ||
        get_int(f, "llama.attention.head_count_kv", c->n_heads, &c->n_kv_heads, err) != 0 ||
        get_int(f, "llama.feed_forward_length", -1, &c->ffn_dim, err) != 0 ||
        get_int(f, "llama.context_length", 2048, &c->max_seq, err) != 0 ||
        gguf_get_f64_or(f, "llama.rope.freq_base", 10000.0, &theta, err) != 0 ||
        gguf_get_f64(f, "llama.attention.layer_norm_rms_epsilon", &eps, err) != 0)
        return -1;
    c->rope_theta = theta;
    c->norm_eps = eps;
    const gguf_tensor *emb = gguf_find_tensor(f, "token_embd.weight");
    if (!emb || emb->n_dims != 2)
        return dk_errf(err, "%s: no 2-D tensor token_embd.weight", name);
    if (emb->ne[1] > (1u << 30))
        return dk_errf(err, "%s: token_embd.weight has %llu rows", name, (unsigned long long)emb->ne[1]);
    c->vocab_size = (int)emb->ne[1];
    c->tie_embeddings = gguf_find_tensor(f, "output.weight") == NULL;
    c->qkv_bias = gguf_find_tensor(f, "blk.0.attn_q.bias") != NULL;
    if (model_config_validate(c, name, err) != 0)
        return -1;
    int rot, kl;
    if (get_int(f, "llama.rope.dimension_count", c->head_dim, &rot, err) != 0 ||
        get_int(f, "llama.attention.key_length", c->head_dim, &kl, err) != 0)
        return -1;
    if (rot != c->head_dim || kl != c->head_dim)
        return dk_errf(err, "%s: rotary dimensions %d and key length %d differ from the head size %d "
                            "(not supported)", name, rot, kl, c->head_dim);
    const uint8_t *st;
    size_t sl;
    if (gguf_find_tensor(f, "rope_freqs.weight") ||
        (gguf_find(f, "llama.rope.scaling.type") >= 0 &&
         (gguf_get_str(f, "llama.rope.scaling.type", &st, &sl, err) != 0 || !(sl == 4 && memcmp(st, "none", 4) == 0))))
        return dk_errf(err, "%s: RoPE scaling (rope_freqs, llama.rope.scaling.*) is not supported", name);
    return 0;
}

/* Reads GGUF tensor `name` of `rows` x `cols` into dst, rows permuted by perm (HF row r
 * comes from GGUF row perm[r]) when perm is not NULL. */
static int read_tensor(const gguf_file *f, const char *name, uint64_t rows, uint64_t cols, float *dst,
                       const uint32_t *perm, dk_err *err)
{
    const gguf_tensor *t = gguf_find_tensor(f, name);
    if (!t)
        return dk_errf(err, "%s: missing tensor %s", gguf_name(f), name);
    uint64_t want[2] = {cols, rows};
    int nd = rows == 1 ? 1 : 2;
    if (t->n_dims != nd || t->ne[0] != want[0] || (nd == 2 && t->ne[1] != want[1]))
        return dk_errf(err, "%s: tensor %s has shape [%llu, %llu], expected [%llu, %llu] (ne order)",
                       gguf_name(f), name, (unsigned long long)t->ne[0],
                       (unsigned long long)(t->n_dims > 1 ? t->ne[1] : 1), (unsigned long long)cols,
                       (unsigned long long)rows);
    if (!perm)
        return gguf_read_rows_f32(f, t, 0, rows, dst, err);
    for (uint64_t r = 0; r < rows; r++)
        if (gguf_read_rows_f32(f, t, perm[r], 1, dst + r * cols, err) != 0)
            return -1;
    return 0;
}

/* HF row -> GGUF row within each head (the inverse of the exporter's permutation). */
static uint32_t *unperm(int n_heads, int hd)
{
    uint32_t *p = malloc((size_t)n_heads * hd * sizeof *p);
    if (!p)
        return NULL;
    for (int h = 0; h < n_heads; h++)
        for (int s = 0; s < 2; s++)
            for (int j = 0; j < hd / 2; j++)
                p[h * hd + s * (hd / 2) + j] = (uint32_t)(h * hd + 2 * j + s);
    return p;
}

static int gguf_weights(const gguf_file *f, model *m, dk_err *err)
{
    const model_config *c = model_cfg(m);
    model_view v;
    layer_view *lv = calloc((size_t)c->n_layers, sizeof *lv);
    uint32_t *qp = unperm(c->n_heads, c->head_dim), *kp = unperm(c->n_kv_heads, c->head_dim);
    float *bias = c->qkv_bias ? malloc((size_t)(c->n_heads + c->n_kv_heads) * c->head_dim * sizeof *bias) : NULL;
    int rc = -1;
    if (!lv || !qp || !kp || (c->qkv_bias && !bias)) {
        dk_errf(err, "%s: out of memory", gguf_name(f));
        goto done;
    }
    v.layers = lv;
    params_view(model_layout(m), model_params(m), &v);
    uint64_t D = (uint64_t)c->dim, F = (uint64_t)c->ffn_dim, V = (uint64_t)c->vocab_size;
    uint64_t QD = (uint64_t)c->n_heads * c->head_dim, KD = (uint64_t)c->n_kv_heads * c->head_dim;
    if (read_tensor(f, "token_embd.weight", V, D, v.embed, NULL, err) != 0 ||
        read_tensor(f, "output_norm.weight", 1, D, v.norm, NULL, err) != 0 ||
        (!c->tie_embeddings && read_tensor(f, "output.weight", V, D, v.lm_head, NULL, err) != 0))
        goto done;
    for (int l = 0; l < c->n_layers; l++) {
        const layer_view *L = &lv[l];
        char nm[GGUF_MAX_NAME + 1];
#define R(suffix, dst, rows, cols, perm)                                                 \
    (snprintf(nm, sizeof nm, "blk.%d." suffix, l), read_tensor(f, nm, rows, cols, dst, perm, err) != 0)
        if (R("attn_norm.weight", L->attn_norm, 1, D, NULL) || R("attn_q.weight", L->wq, QD, D, qp) ||
            R("attn_k.weight", L->wk, KD, D, kp) || R("attn_v.weight", L->wv, KD, D, NULL) ||
            R("attn_output.weight", L->wo, D, QD, NULL) || R("ffn_norm.weight", L->mlp_norm, 1, D, NULL) ||
            R("ffn_gate.weight", L->wgate, F, D, NULL) || R("ffn_up.weight", L->wup, F, D, NULL) ||
            R("ffn_down.weight", L->wdown, D, F, NULL))
            goto done;
        if (c->qkv_bias) {
            if (R("attn_q.bias", bias, 1, QD, NULL) || R("attn_k.bias", bias + QD, 1, KD, NULL) ||
                R("attn_v.bias", L->bv, 1, KD, NULL))
                goto done;
            for (uint64_t i = 0; i < QD; i++)
                L->bq[i] = bias[qp[i]];
            for (uint64_t i = 0; i < KD; i++)
                L->bk[i] = bias[QD + kp[i]];
        }
#undef R
    }
    /* every value must be finite, as for safetensors (hardening: NaN weights refused) */
    const float *x = model_params(m);
    for (size_t i = 0; i < model_numel(m); i++)
        if (!(x[i] - x[i] == 0.0f)) {
            dk_errf(err, "%s: a weight is NaN or infinite (element %zu of the parameters)", gguf_name(f), i);
            goto done;
        }
    rc = 0;
done:
    free(lv);
    free(qp);
    free(kp);
    free(bias);
    return rc;
}

static int is_gguf(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    FILE *f = fopen(path, "rb");
    char magic[4] = {0};
    int yes = f && fread(magic, 1, 4, f) == 4 && memcmp(magic, "GGUF", 4) == 0;
    if (f)
        fclose(f);
    return yes;
}

int model_open_any(model **m, tok **t, const char *path, pool *p, int with_grads, dk_err *err)
{
    *m = NULL;
    if (t)
        *t = NULL;
    if (!is_gguf(path)) {
        if (model_load_dir_ex(m, path, p, with_grads, err) != 0)
            return -1;
        if (t && tok_open_any(t, path, err) != 0) {
            model_free(*m);
            *m = NULL;
            return -1;
        }
        return 0;
    }
    gguf_file *f;
    if (gguf_open(&f, path, err) != 0)
        return -1;
    model_config c;
    int rc = model_config_of_gguf(f, &c, err);
    if (rc == 0)
        rc = model_new_ex(m, &c, p, with_grads, err);
    if (rc == 0)
        rc = gguf_weights(f, *m, err);
    if (rc == 0 && t)
        rc = tok_from_gguf(t, f, err);
    gguf_close(f);
    if (rc != 0) {
        model_free(*m);
        *m = NULL;
    }
    return rc;
}

/* The tokenizer.* keys of a GGUF as a vocabulary-only GGUF beside an imported model. */
static int save_gguf_tokenizer(const char *gguf, const char *out, dk_err *err)
{
    gguf_file *f;
    if (gguf_open(&f, gguf, err) != 0)
        return -1;
    gguf_writer *w = gguf_writer_new();
    if (!w) {
        gguf_close(f);
        return dk_errf(err, "%s: out of memory", out);
    }
    for (size_t i = 0; i < gguf_n_kv(f); i++) {
        const char *k = gguf_kv_key(f, i);
        if (strncmp(k, "tokenizer.", 10) != 0 && strcmp(k, "general.architecture") != 0)
            continue;
        size_t n;
        const uint8_t *raw = gguf_kv_raw(f, i, &n);
        gguf_w_raw(w, k, gguf_kv_type(f, i), raw, n);
    }
    int rc = gguf_writer_save(w, out, err);
    gguf_writer_free(w);
    gguf_close(f);
    return rc;
}

static int copy_file(const char *from, const char *to, dk_err *err)
{
    fs_map m;
    if (fs_map_open(&m, from, (size_t)1 << 30, err) != 0)
        return -1;
    int rc = fs_write_file_atomic(to, m.data, m.size, err);
    fs_map_close(&m);
    return rc;
}

int import_model(const char *in, const char *out, dk_err *err)
{
    struct stat st;
    if (lstat(out, &st) == 0)
        return dk_errf(err, "%s: already exists (choose a new directory)", out);
    pool *p = pool_new(1);
    model *m = NULL;
    tok *t = NULL;
    char tmp[4200], path[4400], src[4400];
    snprintf(tmp, sizeof tmp, "%s.partial.%ld", out, (long)getpid());
    fs_remove_dead_debris(out);
    int rc = -1;
    if (!p) {
        dk_errf(err, "%s: out of memory", out);
        goto done;
    }
    if (model_open_any(&m, &t, in, p, 0, err) != 0)
        goto done;
    if ((uint32_t)model_cfg(m)->vocab_size < tok_vocab_size(t)) {
        dk_errf(err, "%s: the model's %d logits do not cover the tokenizer's %u ids", in,
                model_cfg(m)->vocab_size, tok_vocab_size(t));
        goto done;
    }
    static const char *const keys[] = {"dokja_imported_from"};
    const char *vals[] = {is_gguf(in) ? "gguf" : "hf"};
    if (model_save_dir(m, tmp, NULL, keys, vals, 1, err) != 0)
        goto fail;
    if (is_gguf(in)) {
        snprintf(path, sizeof path, "%s/tokenizer.gguf", tmp);
        if (save_gguf_tokenizer(in, path, err) != 0)
            goto fail;
    } else {
        static const char *const FILES[] = {TOK_DEFAULT_FILE, "tokenizer.json", "tokenizer_config.json",
                                            "special_tokens_map.json", "generation_config.json"};
        for (size_t i = 0; i < sizeof FILES / sizeof FILES[0]; i++) {
            snprintf(src, sizeof src, "%s/%s", in, FILES[i]);
            snprintf(path, sizeof path, "%s/%s", tmp, FILES[i]);
            if (access(src, F_OK) == 0 && copy_file(src, path, err) != 0)
                goto fail;
        }
    }
    if (rename(tmp, out) != 0) {
        dk_errno(err, "%s: cannot rename %s into place", out, tmp);
        goto fail;
    }
    rc = 0;
    goto done;
fail:
    fs_remove_flat_dir(tmp);
done:
    tok_free(t);
    model_free(m);
    pool_free(p);
    return rc;
}
