/* bench/bench_lineage_write.c: writes Llama-shaped models in Hugging Face form (config.json,
 * model.safetensors.index.json, one BF16 shard per layer) for the lineage benchmark
 * (bench/lineage.sh), at real scale without training anything: every tensor a real
 * checkpoint has (embeddings, attention, MLP, norms, head), so the files, the page cache
 * and the reads are those of a real pair.
 *
 *   random:  element i of tensor t is a function of (seed, t, i) only: uniform, scale 0.02
 *            (norms 1 +- 0.1), so two seeds are two unrelated models.
 *   derived: the model of --from-seed with every layer's MLP neurons moved by a hidden
 *            random permutation (gate and up rows, down columns together, as a copier
 *            would hide them) and noise of --noise (0.1) times the scale added to every
 *            element (a fine-tuned, disguised copy).
 * Because elements are computed, not read, a derived model is written without reading its
 * parent. Deterministic: the same arguments give the same bytes.
 *
 * usage: build/bench_lineage_write OUT_DIR [--layers 32] [--dim 4096] [--ffn 11008]
 *          [--heads 32] [--vocab 32000] [--seed 1] [--from-seed S [--noise 0.1]] */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/safetensors.h"
#include "model/config.h"
#include "util/hash.h"
#include "util/progress.h"

typedef struct {
    uint64_t seed;   /* the model whose elements are written (random) or copied (derived) */
    int derived;
    uint64_t noise_seed;
    double noise;
} recipe;

/* Uniform on [-1, 1) from a 64-bit key; two values per hash. */
static inline float unit_at(uint64_t key, uint64_t i)
{
    uint64_t h = hash_u64(key ^ hash_u64(i >> 1));
    uint32_t b = (i & 1) ? (uint32_t)(h >> 32) : (uint32_t)h;
    return (float)((double)b * 0x1.0p-31 - 1.0);
}

static uint64_t tensor_key(uint64_t seed, int layer, int kind)
{
    return hash_u64(seed * 0x9E3779B97F4A7C15ULL + (uint64_t)(layer + 1) * 64 + (uint64_t)kind);
}

enum { K_EMBED, K_HEAD, K_FNORM, K_Q, K_K, K_V, K_O, K_GATE, K_UP, K_DOWN, K_N1, K_N2 };

/* perm[k] = the parent neuron at position k of a derived model's layer (Fisher-Yates). */
static void layer_perm(int *perm, int F, uint64_t seed, int layer)
{
    for (int k = 0; k < F; k++)
        perm[k] = k;
    uint64_t key = tensor_key(seed, layer, 99);
    for (int k = F - 1; k > 0; k--) {
        int q = (int)(hash_u64(key + (uint64_t)k) % (uint64_t)(k + 1));
        int t = perm[k];
        perm[k] = perm[q];
        perm[q] = t;
    }
}

/* Fills a rows x cols tensor. perm_rows / perm_cols (NULL: none) move the parent's
 * neurons: element (r, c) of the output is the parent's (perm_rows[r], c) or (r, perm_cols[c]). */
static void fill(float *x, size_t rows, size_t cols, const recipe *R, int layer, int kind,
                 const int *perm_rows, const int *perm_cols)
{
    const int norm = kind == K_FNORM || kind == K_N1 || kind == K_N2;
    const float scale = norm ? 0.1f : 0.02f, base = norm ? 1.0f : 0.0f;
    uint64_t key = tensor_key(R->seed, layer, kind), nkey = tensor_key(R->noise_seed, layer, kind);
    for (size_t r = 0; r < rows; r++) {
        size_t pr = perm_rows ? (size_t)perm_rows[r] : r;
        for (size_t c = 0; c < cols; c++) {
            size_t pc = perm_cols ? (size_t)perm_cols[c] : c;
            float v = base + scale * unit_at(key, pr * cols + pc);
            if (R->derived)
                v += (float)R->noise * scale * unit_at(nkey, r * cols + c);
            x[r * cols + c] = v;
        }
    }
}

typedef struct {
    char name[96];
    uint64_t shape[2];
    int ndim;
    float *data;
} tensor;

static int write_shard(const char *dir, const char *file, tensor *t, int n, json_t *map)
{
    st_entry e[16];
    for (int i = 0; i < n; i++) {
        e[i] = (st_entry){t[i].name, ST_BF16, t[i].ndim, t[i].shape, t[i].data};
        json_object_set_new(map, t[i].name, json_string(file));
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    dk_err err;
    if (st_write(path, e, (size_t)n, NULL, NULL, 0, &err) != 0) {
        fprintf(stderr, "bench_lineage_write: %s\n", err.msg);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        fputs("usage: bench_lineage_write OUT_DIR [--layers L] [--dim D] [--ffn F] [--heads H] [--vocab V]\n"
              "                           [--seed S] [--from-seed S [--noise REL]]\n", stderr);
        return 2;
    }
    const char *dir = argv[1];
    model_config c = {.dim = 4096, .n_layers = 32, .n_heads = 32, .ffn_dim = 11008, .vocab_size = 32000,
                      .max_seq = 4096, .rope_theta = 10000, .norm_eps = 1e-5};
    recipe R = {.seed = 1, .noise = 0.1};
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--layers")) c.n_layers = atoi(v);
        else if (!strcmp(k, "--dim")) c.dim = atoi(v);
        else if (!strcmp(k, "--ffn")) c.ffn_dim = atoi(v);
        else if (!strcmp(k, "--heads")) c.n_heads = atoi(v);
        else if (!strcmp(k, "--vocab")) c.vocab_size = atoi(v);
        else if (!strcmp(k, "--seed")) R.seed = R.noise_seed = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--from-seed")) R.derived = 1, R.seed = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--noise")) R.noise = atof(v);
        else {
            fprintf(stderr, "bench_lineage_write: unknown option %s\n", k);
            return 2;
        }
    }
    if (R.derived && R.noise_seed == R.seed)
        R.noise_seed = R.seed + 1000;
    c.n_kv_heads = c.n_heads;
    dk_err err;
    if (model_config_validate(&c, "arguments", &err) != 0) {
        fprintf(stderr, "bench_lineage_write: %s\n", err.msg);
        return 2;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench_lineage_write: %s: cannot create: %s\n", dir, strerror(errno));
        return 1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (model_config_save(&c, path, &err) != 0) {
        fprintf(stderr, "bench_lineage_write: %s\n", err.msg);
        return 1;
    }
    const size_t D = (size_t)c.dim, F = (size_t)c.ffn_dim, V = (size_t)c.vocab_size;
    size_t most = 3 * F * D + 4 * D * D + 2 * D;
    if (2 * V * D + D > most)
        most = 2 * V * D + D;
    float *buf = malloc(most * sizeof *buf);
    int *perm = malloc(F * sizeof *perm);
    if (!buf || !perm) {
        fprintf(stderr, "bench_lineage_write: out of memory\n");
        return 1;
    }
    json_t *index = json_object(), *map = json_object();
    int rc = 0, shards = c.n_layers + 1;
    progress pr;
    progress_start(&pr, "writing", "shards", shards, 0);
    /* shard 1: embeddings, final norm, head */
    {
        tensor t[3] = {{"model.embed_tokens.weight", {V, D}, 2, buf},
                       {"model.norm.weight", {D, 0}, 1, buf + V * D},
                       {"lm_head.weight", {V, D}, 2, buf + V * D + D}};
        fill(t[0].data, V, D, &R, -1, K_EMBED, NULL, NULL);
        fill(t[1].data, 1, D, &R, -1, K_FNORM, NULL, NULL);
        fill(t[2].data, V, D, &R, -1, K_HEAD, NULL, NULL);
        char file[64];
        snprintf(file, sizeof file, "model-%05d-of-%05d.safetensors", 1, shards);
        rc = write_shard(dir, file, t, 3, map);
        progress_update(&pr, 1);
    }
    for (int l = 0; l < c.n_layers && rc == 0; l++) {
        static const struct { const char *name; int kind; } parts[] = {
            {"self_attn.q_proj.weight", K_Q}, {"self_attn.k_proj.weight", K_K},
            {"self_attn.v_proj.weight", K_V}, {"self_attn.o_proj.weight", K_O},
            {"mlp.gate_proj.weight", K_GATE}, {"mlp.up_proj.weight", K_UP},
            {"mlp.down_proj.weight", K_DOWN}, {"input_layernorm.weight", K_N1},
            {"post_attention_layernorm.weight", K_N2}};
        tensor t[9];
        float *p = buf;
        if (R.derived)
            layer_perm(perm, (int)F, R.noise_seed, l);
        for (int k = 0; k < 9; k++) {
            int kind = parts[k].kind;
            size_t rows = kind == K_GATE || kind == K_UP ? F : kind == K_N1 || kind == K_N2 ? 1 : D;
            size_t cols = kind == K_DOWN ? F : D;
            snprintf(t[k].name, sizeof t[k].name, "model.layers.%d.%s", l, parts[k].name);
            t[k].ndim = rows == 1 ? 1 : 2;
            t[k].shape[0] = rows == 1 ? cols : rows;
            t[k].shape[1] = cols;
            t[k].data = p;
            const int *pr_ = R.derived && (kind == K_GATE || kind == K_UP) ? perm : NULL;
            const int *pc_ = R.derived && kind == K_DOWN ? perm : NULL;
            fill(p, rows, cols, &R, l, kind, pr_, pc_);
            p += rows * cols;
        }
        char file[64];
        snprintf(file, sizeof file, "model-%05d-of-%05d.safetensors", l + 2, shards);
        rc = write_shard(dir, file, t, 9, map);
        progress_update(&pr, l + 2);
    }
    progress_finish(&pr, shards);
    json_object_set_new(index, "metadata", json_object());
    json_object_set_new(index, "weight_map", map);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    if (rc == 0 && json_dump_file(index, path, JSON_INDENT(1) | JSON_SORT_KEYS) != 0) {
        fprintf(stderr, "bench_lineage_write: cannot write %s\n", path);
        rc = -1;
    }
    json_decref(index);
    free(buf);
    free(perm);
    return rc == 0 ? 0 : 1;
}
