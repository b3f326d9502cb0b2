/* export_gguf.c: a dokja model directory as a GGUF file llama.cpp runs
 * (docs/interop.md).
 *
 * What llama.cpp needs and dokja's model differs in:
 *   - tensor names (token_embd, blk.N.attn_q, ...) and shapes written ne[0]-fastest,
 *     which for a row-major (out, in) matrix is just {in, out} over the same bytes;
 *   - rotary pairing: dokja (like Hugging Face) rotates element i with i + hd/2 in
 *     each head, llama.cpp's llama architecture rotates 2j with 2j+1, so the rows of
 *     the Q and K projections (and their biases) are permuted within each head, as
 *     llama.cpp's own convert_hf_to_gguf.py does;
 *   - the tokenizer: byte-level BPE ("gpt2") with token texts in GPT-2's
 *     byte-to-unicode alphabet and merges as "left right" text pairs, and the
 *     pre-tokenizer only by name, so only tokenizers whose pre-tokenizer llama.cpp
 *     knows can go (dokja-v1 is refused);
 *   - the document start: dokja's models see <|eos|> before every document, so that
 *     token is the GGUF's BOS, added to every prompt (add_bos_token).
 * Tied embeddings are written once (no output.weight), as llama.cpp expects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interop/byte_unicode.h"
#include "interop/interop.h"
#include "io/gguf.h"
#include "model/model_io.h"
#include "tokenizer/tokenizer.h"
#include "util/version.h"

int export_type_from_name(const char *s, uint32_t *type)
{
    static const struct { const char *name; uint32_t type; } T[] = {
        {"f32", GGML_F32}, {"f16", GGML_F16}, {"bf16", GGML_BF16}, {"q8_0", GGML_Q8_0}};
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
        if (strcmp(s, T[i].name) == 0) {
            *type = T[i].type;
            return 0;
        }
    return -1;
}

/* general.file_type (llama_ftype) of a model whose matrices are of type t. */
static uint32_t file_type(uint32_t t)
{
    switch (t) {
    case GGML_F16: return 1;
    case GGML_Q8_0: return 7;
    case GGML_BF16: return 32;
    default: return 0;
    }
}

/* Rows of a (n_heads * hd)-row projection in llama.cpp's order: within each head,
 * output row 2j + s takes source row s * hd/2 + j. */
static uint32_t *rope_perm(int n_heads, int hd)
{
    uint32_t *p = malloc((size_t)n_heads * hd * sizeof *p);
    if (!p)
        return NULL;
    for (int h = 0; h < n_heads; h++)
        for (int j = 0; j < hd / 2; j++)
            for (int s = 0; s < 2; s++)
                p[h * hd + 2 * j + s] = (uint32_t)(h * hd + s * (hd / 2) + j);
    return p;
}

typedef struct {
    char **text;  /* token texts */
    size_t *len;
    int32_t *type;
    char **merge;
    size_t *merge_len;
    size_t n, n_merges;
} vocab_out;

static void vocab_free(vocab_out *v)
{
    for (size_t i = 0; v->text && i < v->n; i++)
        free(v->text[i]);
    for (size_t i = 0; v->merge && i < v->n_merges; i++)
        free(v->merge[i]);
    free(v->text);
    free(v->len);
    free(v->type);
    free(v->merge);
    free(v->merge_len);
}

/* The tokenizer as GGUF's gpt2 vocabulary, padded with unused tokens up to the
 * model's vocab_size. Two ids with the same bytes would collapse into one in llama.cpp's
 * text-to-id map, so they are refused. */
static int build_vocab(const tok *t, int vocab_size, vocab_out *v, const char *origin, dk_err *err)
{
    uint32_t tv = tok_vocab_size(t), ns = tok_n_special(t), nm = tok_n_merges(t);
    v->n = (size_t)vocab_size;
    v->n_merges = nm;
    v->text = calloc(v->n, sizeof *v->text);
    v->len = calloc(v->n, sizeof *v->len);
    v->type = calloc(v->n, sizeof *v->type);
    v->merge = calloc(nm ? nm : 1, sizeof *v->merge);
    v->merge_len = calloc(nm ? nm : 1, sizeof *v->merge_len);
    if (!v->text || !v->len || !v->type || !v->merge || !v->merge_len)
        return dk_errf(err, "%s: out of memory", origin);
    for (size_t id = 0; id < v->n; id++) {
        if (id < tv) {
            size_t n;
            const uint8_t *b = tok_token_bytes(t, (dk_token)id, &n);
            int special = id >= 256 && id < 256u + ns;
            v->text[id] = special ? strndup((const char *)b, n) : byte_unicode_encode(b, n, &n);
            v->len[id] = n;
            v->type[id] = special ? 3 : 1; /* CONTROL, NORMAL */
        } else {
            char buf[64];
            int n = snprintf(buf, sizeof buf, "<|dokja_unused_%zu|>", id);
            v->text[id] = strdup(buf);
            v->len[id] = (size_t)n;
            v->type[id] = 5; /* UNUSED */
        }
        if (!v->text[id])
            return dk_errf(err, "%s: out of memory", origin);
    }
    size_t a = 0, b = 0;
    int dup = byte_unicode_find_duplicate(v->text, v->len, v->n, &a, &b);
    if (dup < 0)
        return dk_errf(err, "%s: out of memory", origin);
    if (dup)
        return dk_errf(err, "%s: tokens %zu and %zu have the same bytes; llama.cpp would merge them "
                            "(retrain the tokenizer with this dokja)", origin, a, b);
    const uint32_t (*m)[2] = tok_merges(t);
    for (uint32_t k = 0; k < nm; k++) {
        size_t la = v->len[m[k][0]], lb = v->len[m[k][1]];
        char *s = malloc(la + lb + 2);
        if (!s)
            return dk_errf(err, "%s: out of memory", origin);
        memcpy(s, v->text[m[k][0]], la);
        s[la] = ' ';
        memcpy(s + la + 1, v->text[m[k][1]], lb);
        s[la + lb + 1] = 0;
        v->merge[k] = s;
        v->merge_len[k] = la + lb + 1;
    }
    return 0;
}

static void put_metadata(gguf_writer *w, const model_config *c, uint32_t type, const char *name)
{
    gguf_w_str(w, "general.architecture", "llama");
    gguf_w_str(w, "general.name", name);
    gguf_w_u32(w, "general.file_type", file_type(type));
    gguf_w_u32(w, "general.quantization_version", 2);
    gguf_w_u32(w, "llama.vocab_size", (uint32_t)c->vocab_size);
    gguf_w_u32(w, "llama.context_length", (uint32_t)c->max_seq);
    gguf_w_u32(w, "llama.embedding_length", (uint32_t)c->dim);
    gguf_w_u32(w, "llama.block_count", (uint32_t)c->n_layers);
    gguf_w_u32(w, "llama.feed_forward_length", (uint32_t)c->ffn_dim);
    gguf_w_u32(w, "llama.attention.head_count", (uint32_t)c->n_heads);
    gguf_w_u32(w, "llama.attention.head_count_kv", (uint32_t)c->n_kv_heads);
    gguf_w_u32(w, "llama.attention.key_length", (uint32_t)c->head_dim);
    gguf_w_u32(w, "llama.attention.value_length", (uint32_t)c->head_dim);
    gguf_w_u32(w, "llama.rope.dimension_count", (uint32_t)c->head_dim);
    gguf_w_f32(w, "llama.rope.freq_base", (float)c->rope_theta);
    gguf_w_f32(w, "llama.attention.layer_norm_rms_epsilon", (float)c->norm_eps);
}

/* The type a tensor is stored in: vectors stay F32 (llama.cpp's converter does the
 * same), and Q8_0 needs rows in whole blocks of 32, else F16. */
static uint32_t tensor_type(uint32_t want, int n_dims, uint64_t ne0)
{
    if (n_dims == 1)
        return GGML_F32;
    if (want == GGML_Q8_0 && ne0 % 32 != 0)
        return GGML_F16;
    return want;
}

static void put_tensor(gguf_writer *w, const char *name, uint32_t want, const float *data,
                       uint64_t rows, uint64_t cols, const uint32_t *perm)
{
    uint64_t ne[2] = {cols, rows};
    int nd = rows == 1 ? 1 : 2;
    gguf_w_tensor(w, name, tensor_type(want, nd, cols), nd, ne, data, perm);
}

int export_gguf(const char *dir, const char *out, uint32_t type, dk_err *err)
{
    char tpath[4096];
    snprintf(tpath, sizeof tpath, "%s/%s", dir, TOK_DEFAULT_FILE);
    tok *t = NULL;
    if (tok_load(&t, tpath, err) != 0)
        return -1;
    if (strcmp(tok_pretok_name(t), "dokja-v1") == 0) {
        tok_free(t);
        return dk_errf(err, "%s: pre-tokenizer dokja-v1 is unknown to llama.cpp; retrain the "
                            "tokenizer (dokja tokenizer train uses a llama.cpp pre-tokenizer by "
                            "default) and the model", tpath);
    }
    pool *p = pool_new(1);
    model *m = NULL;
    vocab_out v = {0};
    gguf_writer *w = gguf_writer_new();
    uint32_t *qperm = NULL, *kperm = NULL;
    int rc = -1;
    if (!p || !w) {
        dk_errf(err, "%s: out of memory", out);
        goto done;
    }
    if (model_load_dir_ex(&m, dir, p, 0, err) != 0)
        goto done;
    const model_config *c = model_cfg(m);
    if ((uint32_t)c->vocab_size < tok_vocab_size(t)) {
        dk_errf(err, "%s: vocab_size %d is smaller than the tokenizer's %u ids", dir, c->vocab_size,
                tok_vocab_size(t));
        goto done;
    }
    if (build_vocab(t, c->vocab_size, &v, tpath, err) != 0)
        goto done;
    qperm = rope_perm(c->n_heads, c->head_dim);
    kperm = rope_perm(c->n_kv_heads, c->head_dim);
    if (!qperm || !kperm) {
        dk_errf(err, "%s: out of memory", out);
        goto done;
    }
    char sha[65], name[96];
    model_params_sha256(m, sha);
    snprintf(name, sizeof name, "dokja-%.12s", sha);
    put_metadata(w, c, type, name);
    dk_token eos = tok_special_id(t, "<|eos|>"), pad = tok_special_id(t, "<|pad|>");
    gguf_w_str(w, "tokenizer.ggml.model", "gpt2");
    gguf_w_str(w, "tokenizer.ggml.pre", tok_pretok_name(t));
    gguf_w_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)v.text, v.len, v.n);
    gguf_w_arr_i32(w, "tokenizer.ggml.token_type", v.type, v.n);
    gguf_w_arr_str(w, "tokenizer.ggml.merges", (const char *const *)v.merge, v.merge_len, v.n_merges);
    if (eos >= 0) {
        gguf_w_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)eos);
        gguf_w_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos);
    }
    if (pad >= 0)
        gguf_w_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)pad);
    gguf_w_bool(w, "tokenizer.ggml.add_bos_token", eos >= 0);
    gguf_w_bool(w, "tokenizer.ggml.add_eos_token", 0);
    gguf_w_str(w, "dokja.version", DOKJA_VERSION);
    gguf_w_str(w, "dokja.params_sha256", sha);
    gguf_w_str(w, "dokja.tokenizer.normalizer",
               tok_norm(t) == TOK_NORM_HANGUL_COMPOSE ? "hangul-compose" : "none");

    model_view mv;
    layer_view *lv = calloc((size_t)c->n_layers, sizeof *lv);
    float *bias = c->qkv_bias ? malloc((size_t)c->n_layers * (size_t)(c->n_heads + c->n_kv_heads) *
                                       (size_t)c->head_dim * sizeof *bias) : NULL;
    if (!lv || (c->qkv_bias && !bias)) {
        free(lv);
        free(bias);
        dk_errf(err, "%s: out of memory", out);
        goto done;
    }
    mv.layers = lv;
    params_view(model_layout(m), model_params(m), &mv);
    uint64_t D = (uint64_t)c->dim, F = (uint64_t)c->ffn_dim, V = (uint64_t)c->vocab_size;
    uint64_t QD = (uint64_t)c->n_heads * c->head_dim, KD = (uint64_t)c->n_kv_heads * c->head_dim;
    put_tensor(w, "token_embd.weight", type, mv.embed, V, D, NULL);
    for (int l = 0; l < c->n_layers; l++) {
        const layer_view *L = &lv[l];
        char nm[GGUF_MAX_NAME + 1];
#define T(suffix, data, rows, cols, perm) \
    (snprintf(nm, sizeof nm, "blk.%d." suffix, l), put_tensor(w, nm, type, data, rows, cols, perm))
        T("attn_norm.weight", L->attn_norm, 1, D, NULL);
        T("attn_q.weight", L->wq, QD, D, qperm);
        T("attn_k.weight", L->wk, KD, D, kperm);
        T("attn_v.weight", L->wv, KD, D, NULL);
        if (c->qkv_bias) {
            /* a bias holds one value per row of its projection: permuted alike */
            float *bq = bias + (size_t)l * (QD + KD), *bk = bq + QD;
            for (uint64_t i = 0; i < QD; i++)
                bq[i] = L->bq[qperm[i]];
            for (uint64_t i = 0; i < KD; i++)
                bk[i] = L->bk[kperm[i]];
            T("attn_q.bias", bq, 1, QD, NULL);
            T("attn_k.bias", bk, 1, KD, NULL);
            T("attn_v.bias", L->bv, 1, KD, NULL);
        }
        T("attn_output.weight", L->wo, D, QD, NULL);
        T("ffn_norm.weight", L->mlp_norm, 1, D, NULL);
        T("ffn_gate.weight", L->wgate, F, D, NULL);
        T("ffn_up.weight", L->wup, F, D, NULL);
        T("ffn_down.weight", L->wdown, D, F, NULL);
#undef T
    }
    put_tensor(w, "output_norm.weight", type, mv.norm, 1, D, NULL);
    if (!c->tie_embeddings)
        put_tensor(w, "output.weight", type, mv.lm_head, V, D, NULL);
    rc = gguf_writer_save(w, out, err);
    free(lv);
    free(bias);
done:
    free(qperm);
    free(kperm);
    vocab_free(&v);
    gguf_writer_free(w);
    model_free(m);
    pool_free(p);
    tok_free(t);
    return rc;
}
