/* config.c: model_config <-> Hugging Face config.json. */
#include "model/config.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"

#define MAX_DIM (1 << 16)
#define MAX_LAYERS 1024
#define MAX_VOCAB (1 << 22)
#define MAX_SEQ (1 << 20)

int model_config_validate(model_config *c, const char *origin, dk_err *err)
{
    struct { const char *name; int v, lo, hi; } r[] = {
        {"hidden_size", c->dim, 1, MAX_DIM},
        {"num_hidden_layers", c->n_layers, 1, MAX_LAYERS},
        {"num_attention_heads", c->n_heads, 1, MAX_DIM},
        {"num_key_value_heads", c->n_kv_heads, 1, MAX_DIM},
        {"intermediate_size", c->ffn_dim, 1, 4 * MAX_DIM},
        {"vocab_size", c->vocab_size, 1, MAX_VOCAB},
        {"max_position_embeddings", c->max_seq, 1, MAX_SEQ},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (r[i].v < r[i].lo || r[i].v > r[i].hi)
            return dk_errf(err, "%s: %s = %d is out of range [%d, %d]", origin, r[i].name, r[i].v,
                           r[i].lo, r[i].hi);
    if (c->dim % c->n_heads != 0)
        return dk_errf(err, "%s: hidden_size %d is not a multiple of num_attention_heads %d",
                       origin, c->dim, c->n_heads);
    if (c->n_heads % c->n_kv_heads != 0)
        return dk_errf(err, "%s: num_key_value_heads %d does not divide num_attention_heads %d",
                       origin, c->n_kv_heads, c->n_heads);
    c->head_dim = c->dim / c->n_heads;
    if (c->head_dim % 2 != 0)
        return dk_errf(err, "%s: head dimension %d must be even for rotary embeddings", origin,
                       c->head_dim);
    if (!(c->rope_theta > 1.0) || !isfinite(c->rope_theta))
        return dk_errf(err, "%s: rope_theta must be a finite number > 1", origin);
    if (!(c->norm_eps > 0.0 && c->norm_eps < 1.0))
        return dk_errf(err, "%s: rms_norm_eps must be in (0, 1)", origin);
    return 0;
}

static int get_int(json_t *o, const char *key, int *out, int required, const char *origin,
                   dk_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        if (required)
            return dk_errf(err, "%s: missing \"%s\"", origin, key);
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
        return dk_errf(err, "%s: \"%s\" must be a non-negative integer", origin, key);
    *out = (int)json_integer_value(v);
    return 0;
}

static int get_num(json_t *o, const char *key, double *out, const char *origin, dk_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_number(v))
        return dk_errf(err, "%s: \"%s\" must be a number", origin, key);
    *out = json_number_value(v);
    return 0;
}

static int get_bool(json_t *o, const char *key, int *out, const char *origin, dk_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return dk_errf(err, "%s: \"%s\" must be true or false", origin, key);
    *out = json_is_true(v);
    return 0;
}

static int from_json(model_config *c, json_t *o, const char *origin, dk_err *err)
{
    if (!json_is_object(o))
        return dk_errf(err, "%s: not a JSON object", origin);
    memset(c, 0, sizeof *c);
    c->max_seq = 2048;
    c->rope_theta = 10000.0;
    c->norm_eps = 1e-6;
    c->n_kv_heads = -1;
    if (get_int(o, "hidden_size", &c->dim, 1, origin, err) ||
        get_int(o, "num_hidden_layers", &c->n_layers, 1, origin, err) ||
        get_int(o, "num_attention_heads", &c->n_heads, 1, origin, err) ||
        get_int(o, "num_key_value_heads", &c->n_kv_heads, 0, origin, err) ||
        get_int(o, "intermediate_size", &c->ffn_dim, 1, origin, err) ||
        get_int(o, "vocab_size", &c->vocab_size, 1, origin, err) ||
        get_int(o, "max_position_embeddings", &c->max_seq, 0, origin, err) ||
        get_num(o, "rope_theta", &c->rope_theta, origin, err) ||
        get_num(o, "rms_norm_eps", &c->norm_eps, origin, err) ||
        get_bool(o, "tie_word_embeddings", &c->tie_embeddings, origin, err) ||
        get_bool(o, "attention_bias", &c->qkv_bias, origin, err))
        return -1;
    if (c->n_kv_heads < 0)
        c->n_kv_heads = c->n_heads;
    json_t *hd = json_object_get(o, "head_dim");
    if (hd && !json_is_null(hd) && c->n_heads > 0 &&
        (!json_is_integer(hd) || json_integer_value(hd) != c->dim / c->n_heads))
        return dk_errf(err, "%s: head_dim must equal hidden_size / num_attention_heads", origin);
    json_t *act = json_object_get(o, "hidden_act");
    if (act && (!json_is_string(act) || strcmp(json_string_value(act), "silu") != 0))
        return dk_errf(err, "%s: hidden_act must be \"silu\" (SwiGLU)", origin);
    json_t *rs = json_object_get(o, "rope_scaling");
    if (rs && !json_is_null(rs))
        return dk_errf(err, "%s: rope_scaling is not supported", origin);
    return model_config_validate(c, origin, err);
}

int model_config_from_json(model_config *c, const char *text, const char *origin, dk_err *err)
{
    json_error_t je;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return dk_errf(err, "%s: invalid JSON at line %d column %d: %s", origin, je.line,
                       je.column, je.text);
    int rc = from_json(c, o, origin, err);
    json_decref(o);
    return rc;
}

int model_config_load(model_config *c, const char *path, dk_err *err)
{
    fs_map m;
    if (fs_map_open(&m, path, 1u << 20, err) != 0)
        return -1;
    json_error_t je;
    json_t *o = json_loadb((const char *)m.data, m.size, JSON_REJECT_DUPLICATES, &je);
    fs_map_close(&m);
    if (!o)
        return dk_errf(err, "%s: invalid JSON at line %d column %d: %s", path, je.line,
                       je.column, je.text);
    int rc = from_json(c, o, path, err);
    json_decref(o);
    return rc;
}

char *model_config_to_json(const model_config *c)
{
    json_t *o = json_object();
    json_t *arch = json_array();
    json_array_append_new(arch, json_string("LlamaForCausalLM"));
    json_object_set_new(o, "architectures", arch);
    json_object_set_new(o, "model_type", json_string("llama"));
    json_object_set_new(o, "hidden_size", json_integer(c->dim));
    json_object_set_new(o, "num_hidden_layers", json_integer(c->n_layers));
    json_object_set_new(o, "num_attention_heads", json_integer(c->n_heads));
    json_object_set_new(o, "num_key_value_heads", json_integer(c->n_kv_heads));
    json_object_set_new(o, "head_dim", json_integer(c->dim / c->n_heads));
    json_object_set_new(o, "intermediate_size", json_integer(c->ffn_dim));
    json_object_set_new(o, "vocab_size", json_integer(c->vocab_size));
    json_object_set_new(o, "max_position_embeddings", json_integer(c->max_seq));
    json_object_set_new(o, "rope_theta", json_real(c->rope_theta));
    json_object_set_new(o, "rms_norm_eps", json_real(c->norm_eps));
    json_object_set_new(o, "tie_word_embeddings", json_boolean(c->tie_embeddings));
    json_object_set_new(o, "attention_bias", json_boolean(c->qkv_bias));
    json_object_set_new(o, "hidden_act", json_string("silu"));
    json_object_set_new(o, "torch_dtype", json_string("float32"));
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(o);
    return s;
}

int model_config_save(const model_config *c, const char *path, dk_err *err)
{
    char *s = model_config_to_json(c);
    if (!s)
        return dk_errf(err, "%s: out of memory", path);
    size_t n = strlen(s);
    s[n] = '\n'; /* replace the NUL: the file ends with a newline */
    int rc = fs_write_file_atomic(path, s, n + 1, err);
    free(s);
    return rc;
}

uint64_t model_config_n_matmul_params(const model_config *c)
{
    uint64_t d = (uint64_t)c->dim, kv = (uint64_t)c->n_kv_heads * (uint64_t)(c->dim / c->n_heads);
    uint64_t per_layer = d * d /* q */ + 2 * kv * d /* k, v */ + d * d /* o */ +
                         3 * (uint64_t)c->ffn_dim * d;
    return (uint64_t)c->n_layers * per_layer + (uint64_t)c->vocab_size * d; /* + LM head */
}

uint64_t model_config_n_params(const model_config *c)
{
    uint64_t d = (uint64_t)c->dim, kv = (uint64_t)c->n_kv_heads * (uint64_t)(c->dim / c->n_heads);
    uint64_t n = model_config_n_matmul_params(c) + (uint64_t)c->n_layers * 2 * d + d;
    if (!c->tie_embeddings)
        n += (uint64_t)c->vocab_size * d; /* the embedding is separate from the head */
    if (c->qkv_bias)
        n += (uint64_t)c->n_layers * (d + 2 * kv);
    return n;
}
