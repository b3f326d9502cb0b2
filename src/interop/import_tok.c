/* import_tok.c: other models' tokenizers as dokja tokenizers (interop.h: tok_open_any).
 *
 * Each model's conventions are taken from its own files: the vocabulary and merges (or
 * SentencePiece scores), the pre-tokenizer (a GGUF names it; a tokenizer.json is
 * recognised by its Split regexes), special tokens (control and user-defined tokens,
 * tokenizer.json's added_tokens), BOS and whether it is added (GGUF
 * tokenizer.ggml.add_bos_token; tokenizer.json's post-processor template, else
 * tokenizer_config.json's add_bos_token), EOS. Byte-level tokens are decoded from GPT-2's
 * alphabet, SentencePiece's U+2581 becomes a space and <0xXX> its byte, so that a token's
 * bytes are what it means in text. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "interop/byte_unicode.h"
#include "interop/interop.h"
#include "io/gguf.h"
#include "tokenizer/pretok.h"
#include "util/fs.h"
#include "util/hash.h"

#define TOKJSON_MAX (512u << 20)

/* The token texts being imported: owned bytes per id, and a text -> id map of the
 * original spellings (merges name tokens by those). */
typedef struct {
    uint32_t n;
    uint8_t **bytes;
    size_t *len;
    int32_t *type;
    float *scores;
    uint32_t (*merges)[2];
    uint32_t n_merges;
    /* original text -> id */
    char **text;
    size_t *text_len;
    uint32_t *slot;
    size_t mask;
} vocab_in;

static void vin_free(vocab_in *v)
{
    for (uint32_t i = 0; i < v->n; i++) {
        if (v->bytes)
            free(v->bytes[i]);
        if (v->text)
            free(v->text[i]);
    }
    free(v->bytes);
    free(v->len);
    free(v->type);
    free(v->scores);
    free(v->merges);
    free(v->text);
    free(v->text_len);
    free(v->slot);
}

static int vin_alloc(vocab_in *v, uint32_t n, const char *origin, dk_err *err)
{
    v->n = n;
    v->bytes = calloc(n, sizeof *v->bytes);
    v->len = calloc(n, sizeof *v->len);
    v->type = calloc(n, sizeof *v->type);
    v->scores = calloc(n, sizeof *v->scores);
    v->text = calloc(n, sizeof *v->text);
    v->text_len = calloc(n, sizeof *v->text_len);
    size_t cap = 16;
    while (cap < (size_t)n * 2)
        cap <<= 1;
    v->slot = malloc(cap * sizeof *v->slot);
    v->mask = cap - 1;
    if (!v->bytes || !v->len || !v->type || !v->scores || !v->text || !v->text_len || !v->slot)
        return dk_errf(err, "%s: out of memory", origin);
    memset(v->slot, 0xFF, cap * sizeof *v->slot);
    return 0;
}

static uint32_t vin_find(const vocab_in *v, const char *s, size_t n)
{
    for (size_t i = (size_t)(hash_bytes(s, n) & v->mask);; i = (i + 1) & v->mask) {
        uint32_t id = v->slot[i];
        if (id == UINT32_MAX)
            return UINT32_MAX;
        if (v->text_len[id] == n && memcmp(v->text[id], s, n) == 0)
            return id;
    }
}

/* Sets token id's original text (its spelling in the file) and its type. Where a text
 * repeats, the first id keeps the map entry. */
static int vin_set(vocab_in *v, uint32_t id, const char *s, size_t n, int32_t type, const char *origin,
                   dk_err *err)
{
    v->text[id] = malloc(n + 1);
    if (!v->text[id])
        return dk_errf(err, "%s: out of memory", origin);
    memcpy(v->text[id], s, n);
    v->text[id][n] = 0;
    v->text_len[id] = n;
    v->type[id] = type;
    if (vin_find(v, s, n) == UINT32_MAX) {
        size_t i = (size_t)(hash_bytes(s, n) & v->mask);
        while (v->slot[i] != UINT32_MAX)
            i = (i + 1) & v->mask;
        v->slot[i] = id;
    }
    return 0;
}

/* Turns the original texts into bytes: GPT-2's alphabet (spm 0) or SentencePiece's
 * spelling (spm 1); special and user tokens stay as written. */
static int vin_decode(vocab_in *v, int spm, const char *origin, dk_err *err)
{
    for (uint32_t i = 0; i < v->n; i++) {
        const char *s = v->text[i];
        size_t n = v->text_len[i];
        uint8_t *b = malloc(n + 1);
        if (!b)
            return dk_errf(err, "%s: out of memory", origin);
        v->bytes[i] = b;
        long k = -1;
        unsigned x;
        if (v->type[i] == TOK_TYPE_CONTROL || v->type[i] == TOK_TYPE_USER || v->type[i] == TOK_TYPE_UNUSED) {
            memcpy(b, s, n);
            k = (long)n;
        } else if (spm && v->type[i] == TOK_TYPE_BYTE) {
            char tail;
            if (n == 6 && sscanf(s, "<0x%2X>%c", &x, &tail) == 1) {
                b[0] = (uint8_t)x;
                k = 1;
            }
        } else if (spm) { /* U+2581 (e2 96 81) is a space */
            k = 0;
            for (size_t j = 0; j < n;) {
                if (j + 3 <= n && memcmp(s + j, "\xe2\x96\x81", 3) == 0) {
                    b[k++] = ' ';
                    j += 3;
                } else {
                    b[k++] = (uint8_t)s[j++];
                }
            }
        } else {
            k = byte_unicode_decode((const uint8_t *)s, n, b);
            if (k < 0) { /* not in the alphabet: a token written as plain text */
                memcpy(b, s, n);
                k = (long)n;
            }
        }
        if (k < 0)
            return dk_errf(err, "%s: token %u (\"%.40s\") is not a byte token <0xXX>", origin, i, s);
        v->len[i] = (size_t)k;
    }
    return 0;
}

/* Merge k given as "left right" texts. */
static int vin_merge(vocab_in *v, uint32_t k, const char *s, size_t n, const char *origin, dk_err *err)
{
    const char *sp = memchr(s, ' ', n);
    if (!sp)
        return dk_errf(err, "%s: merge %u is not \"left right\"", origin, k);
    uint32_t a = vin_find(v, s, (size_t)(sp - s)), b = vin_find(v, sp + 1, n - (size_t)(sp - s) - 1);
    /* a merge naming an unknown token can never apply (llama.cpp skips it too) */
    v->merges[v->n_merges][0] = a;
    v->merges[v->n_merges][1] = b;
    if (a != UINT32_MAX && b != UINT32_MAX)
        v->n_merges++;
    return 0;
}

static int vin_build(tok **out, vocab_in *v, tok_vocab_spec *spec, const char *origin, dk_err *err)
{
    spec->n_vocab = v->n;
    spec->bytes = (const uint8_t *const *)v->bytes;
    spec->len = v->len;
    spec->type = v->type;
    spec->merges = (const uint32_t(*)[2])v->merges;
    spec->n_merges = v->n_merges;
    spec->scores = v->scores;
    return tok_build_vocab(out, spec, origin, err);
}

static int pretok_of(const char *name, size_t n, enum tok_pretok *k, int *ignore_merges, const char *origin,
                     dk_err *err)
{
    char buf[64];
    if (n >= sizeof buf || (memcpy(buf, name, n), buf[n] = 0, pretok_from_name(buf, k) != 0) ||
        *k == TOK_PRETOK_DOKJA_V1)
        return dk_errf(err, "%s: pre-tokenizer \"%.*s\" is not supported (dokja has llama.cpp's gpt-2, "
                            "llama-bpe, qwen2, exaone, exaone4, exaone-moe, kanana2, solar-open, midm-2.0, "
                            "a.x-4.0, kormo, trillion)", origin, (int)(n > 40 ? 40 : n), name);
    /* llama.cpp's Llama 3 family looks a chunk up whole before merging */
    *ignore_merges = strcmp(buf, "llama-bpe") == 0 || strcmp(buf, "midm-2.0") == 0;
    return 0;
}

int tok_from_gguf(tok **out, const gguf_file *f, dk_err *err)
{
    *out = NULL;
    const char *origin = gguf_name(f);
    const uint8_t *tmodel;
    size_t mlen;
    if (gguf_get_str(f, "tokenizer.ggml.model", &tmodel, &mlen, err) != 0)
        return -1;
    int spm = mlen == 5 && memcmp(tmodel, "llama", 5) == 0;
    if (!spm && !(mlen == 4 && memcmp(tmodel, "gpt2", 4) == 0))
        return dk_errf(err, "%s: tokenizer model \"%.*s\" is not supported (gpt2: byte-level BPE; llama: "
                            "SentencePiece BPE)", origin, (int)(mlen > 20 ? 20 : mlen), (const char *)tmodel);
    gguf_vtype et;
    uint64_t n;
    if (gguf_get_arr(f, "tokenizer.ggml.tokens", &et, &n, err) != 0)
        return -1;
    if (et != GGUF_STRING || n == 0 || n > TOK_MAX_VOCAB)
        return dk_errf(err, "%s: tokenizer.ggml.tokens must be 1..%u strings", origin, TOK_MAX_VOCAB);
    size_t kt = (size_t)gguf_find(f, "tokenizer.ggml.tokens");
    int ktype = gguf_find(f, "tokenizer.ggml.token_type"), kscore = gguf_find(f, "tokenizer.ggml.scores");
    uint64_t nn;
    if (ktype >= 0 && (gguf_get_arr(f, "tokenizer.ggml.token_type", &et, &nn, err) != 0 || nn != n ||
                       et == GGUF_STRING))
        return dk_errf(err, "%s: tokenizer.ggml.token_type must be %llu integers", origin, (unsigned long long)n);
    if (spm && (kscore < 0 || gguf_get_arr(f, "tokenizer.ggml.scores", &et, &nn, err) != 0 || nn != n ||
                et == GGUF_STRING))
        return dk_errf(err, "%s: tokenizer.ggml.scores must be %llu numbers", origin, (unsigned long long)n);
    vocab_in v = {0};
    tok_vocab_spec spec = {.spm = spm, .bos = -1, .eos = -1};
    int rc = -1;
    if (vin_alloc(&v, (uint32_t)n, origin, err) != 0)
        goto done;
    for (uint64_t i = 0; i < n; i++) {
        size_t len;
        const uint8_t *s = gguf_arr_str(f, kt, i, &len);
        int64_t type = ktype >= 0 ? gguf_arr_int(f, (size_t)ktype, i) : TOK_TYPE_NORMAL;
        if (type < 1 || type > 6)
            type = TOK_TYPE_NORMAL;
        if (vin_set(&v, (uint32_t)i, (const char *)s, len, (int32_t)type, origin, err) != 0)
            goto done;
        if (spm)
            v.scores[i] = (float)gguf_arr_float(f, (size_t)kscore, i);
    }
    if (vin_decode(&v, spm, origin, err) != 0)
        goto done;
    if (!spm) {
        int km = gguf_find(f, "tokenizer.ggml.merges");
        if (km < 0 || gguf_get_arr(f, "tokenizer.ggml.merges", &et, &nn, err) != 0 || et != GGUF_STRING ||
            nn > UINT32_MAX) {
            dk_errf(err, "%s: tokenizer.ggml.merges must be an array of strings", origin);
            goto done;
        }
        v.merges = malloc((nn ? nn : 1) * sizeof *v.merges);
        if (!v.merges) {
            dk_errf(err, "%s: out of memory", origin);
            goto done;
        }
        for (uint64_t k = 0; k < nn; k++) {
            size_t len;
            const uint8_t *s = gguf_arr_str(f, (size_t)km, k, &len);
            if (vin_merge(&v, (uint32_t)k, (const char *)s, len, origin, err) != 0)
                goto done;
        }
        const uint8_t *pre;
        size_t plen;
        if (gguf_get_str(f, "tokenizer.ggml.pre", &pre, &plen, err) != 0 ||
            pretok_of((const char *)pre, plen, &spec.pretok, &spec.ignore_merges, origin, err) != 0)
            goto done;
    }
    uint32_t id;
    if (gguf_find(f, "tokenizer.ggml.bos_token_id") >= 0) {
        if (gguf_get_u32(f, "tokenizer.ggml.bos_token_id", &id, err) != 0)
            goto done;
        spec.bos = id < n ? (dk_token)id : -1;
    }
    if (gguf_find(f, "tokenizer.ggml.eos_token_id") >= 0) {
        if (gguf_get_u32(f, "tokenizer.ggml.eos_token_id", &id, err) != 0)
            goto done;
        spec.eos = id < n ? (dk_token)id : -1;
    }
    /* llama.cpp's defaults: SentencePiece adds BOS and a leading space, BPE neither
     * (its Llama 3 family adds BOS) */
    if (gguf_get_bool_or(f, "tokenizer.ggml.add_bos_token", spm || spec.ignore_merges, &spec.add_bos, err) != 0 ||
        gguf_get_bool_or(f, "tokenizer.ggml.add_space_prefix", spm, &spec.spm_prefix, err) != 0)
        goto done;
    rc = vin_build(out, &v, &spec, origin, err);
done:
    vin_free(&v);
    return rc;
}

/* ---- tokenizer.json ---------------------------------------------------------------- */

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A special token named in tokenizer_config.json: a string, or {"content": ...}. */
static dk_token config_token(json_t *cfg, const char *key, const vocab_in *v)
{
    json_t *x = json_object_get(cfg, key);
    const char *s = json_is_string(x) ? json_string_value(x) : json_is_object(x) ? jstr(x, "content") : NULL;
    if (!s)
        return -1;
    uint32_t id = vin_find(v, s, strlen(s));
    return id == UINT32_MAX ? -1 : (dk_token)id;
}

/* The pre-tokenizer: ByteLevel with its own (GPT-2) regex, or Splits then ByteLevel. */
static int hf_pretok(json_t *pre, enum tok_pretok *k, int *spm, const char *origin, dk_err *err)
{
    const char *type = jstr(pre, "type");
    *spm = 0;
    if (type && strcmp(type, "Metaspace") == 0) {
        *spm = 1;
        return 0;
    }
    if (type && strcmp(type, "ByteLevel") == 0) {
        if (!json_is_false(json_object_get(pre, "use_regex")) && !json_is_true(json_object_get(pre, "add_prefix_space"))) {
            *k = TOK_PRETOK_GPT2;
            return 0;
        }
    } else if (type && strcmp(type, "Sequence") == 0) {
        json_t *list = json_object_get(pre, "pretokenizers"), *x;
        const char *re[3];
        int n_re = 0, bytelevel = 0, ok = json_is_array(list);
        size_t i;
        json_array_foreach(list, i, x) {
            const char *t = jstr(x, "type");
            if (t && strcmp(t, "Split") == 0 && n_re < 3 && !bytelevel) {
                re[n_re++] = jstr(json_object_get(x, "pattern"), "Regex");
                ok &= re[n_re - 1] != NULL;
            } else if (t && strcmp(t, "ByteLevel") == 0 && !bytelevel &&
                       json_is_false(json_object_get(x, "use_regex")) &&
                       !json_is_true(json_object_get(x, "add_prefix_space"))) {
                bytelevel = 1;
            } else if (t && strcmp(t, "Metaspace") == 0 && n_re == 0) {
                *spm = 1;
                return 0;
            } else {
                ok = 0;
            }
        }
        const char *name = ok && bytelevel && n_re > 0 && n_re < 3 ? pretok_from_hf_regexes(re, n_re) : NULL;
        if (name && pretok_from_name(name, k) == 0)
            return 0;
    }
    return dk_errf(err, "%s: its pre_tokenizer is not one dokja knows (ByteLevel, or Split with the regex of "
                        "GPT-2, Llama 3, Qwen 2, EXAONE or EXAONE-MoE then ByteLevel, or Metaspace)", origin);
}

/* A byte-level BPE's normalizer: none, or NFC (alone or as the one step of a Sequence:
 * Qwen 2, 2.5, 3). Any other would change the text in a way dokja does not: refused, not
 * ignored (ids that differ from the model's own on some text would go unnoticed). */
static int hf_normalizer(json_t *norm, enum tok_norm *out, const char *origin, dk_err *err)
{
    *out = TOK_NORM_NONE;
    if (!norm || json_is_null(norm))
        return 0;
    const char *type = jstr(norm, "type");
    json_t *steps = json_object_get(norm, "normalizers");
    if (type && strcmp(type, "Sequence") == 0 && json_is_array(steps) && json_array_size(steps) <= 1) {
        if (json_array_size(steps) == 0)
            return 0;
        norm = json_array_get(steps, 0);
        type = jstr(norm, "type");
    }
    if (type && strcmp(type, "NFC") == 0) {
        *out = TOK_NORM_NFC;
        return 0;
    }
    return dk_errf(err, "%s: its normalizer (%s) is not one dokja applies (none, or NFC)", origin,
                   type ? type : "of no type");
}

static int tok_from_hf_json(tok **out, const char *path, dk_err *err)
{
    *out = NULL;
    json_error_t je;
    fs_map m;
    if (fs_map_open(&m, path, TOKJSON_MAX, err) != 0)
        return -1;
    json_t *root = json_loadb((const char *)m.data, m.size, JSON_REJECT_DUPLICATES, &je);
    fs_map_close(&m);
    if (!root)
        return dk_errf(err, "%s:%d: %s", path, je.line, je.text);
    /* tokenizer_config.json beside it, when there is one */
    char cpath[4200];
    const char *slash = strrchr(path, '/');
    snprintf(cpath, sizeof cpath, "%.*stokenizer_config.json", slash ? (int)(slash - path + 1) : 0, path);
    json_t *cfg = NULL;
    struct stat st;
    if (stat(cpath, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (16 << 20)) {
        /* DECODE_INT_AS_REAL: Hugging Face writes model_max_length as 10^30 (its "no limit"),
         * beyond a JSON integer here; only strings and booleans are read from this file */
        cfg = json_load_file(cpath, JSON_DECODE_INT_AS_REAL, &je);
        if (!cfg) {
            json_decref(root);
            return dk_errf(err, "%s:%d: %s", cpath, je.line, je.text);
        }
    }
    vocab_in v = {0};
    tok_vocab_spec spec = {.bos = -1, .eos = -1};
    int rc = -1;
    json_t *tmodel = json_object_get(root, "model"), *vocab = json_object_get(tmodel, "vocab"),
           *merges = json_object_get(tmodel, "merges"), *added = json_object_get(root, "added_tokens");
    const char *mtype = jstr(tmodel, "type");
    if (!json_is_object(tmodel) || (mtype && strcmp(mtype, "BPE") != 0) || !json_is_object(vocab) ||
        !json_is_array(merges)) {
        dk_errf(err, "%s: not a BPE tokenizer.json (model.type BPE with vocab and merges)", path);
        goto done;
    }
    /* ids: the vocabulary's and the added tokens'; the largest + 1 is the size */
    uint64_t n = 0;
    const char *key;
    json_t *val;
    json_object_foreach(vocab, key, val) {
        if (!json_is_integer(val) || json_integer_value(val) < 0 || json_integer_value(val) >= TOK_MAX_VOCAB) {
            dk_errf(err, "%s: vocab entry \"%.40s\" has no valid id", path, key);
            goto done;
        }
        if ((uint64_t)json_integer_value(val) + 1 > n)
            n = (uint64_t)json_integer_value(val) + 1;
    }
    size_t i;
    json_array_foreach(added, i, val) {
        json_t *id = json_object_get(val, "id");
        if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) >= TOK_MAX_VOCAB ||
            !jstr(val, "content")) {
            dk_errf(err, "%s: added_tokens[%zu] needs an id and a content", path, i);
            goto done;
        }
        if ((uint64_t)json_integer_value(id) + 1 > n)
            n = (uint64_t)json_integer_value(id) + 1;
    }
    if (n == 0 || vin_alloc(&v, (uint32_t)n, path, err) != 0) {
        if (n == 0)
            dk_errf(err, "%s: empty vocabulary", path);
        goto done;
    }
    json_object_foreach(vocab, key, val) {
        uint32_t id = (uint32_t)json_integer_value(val);
        if (v.text[id]) {
            dk_errf(err, "%s: id %u appears twice in the vocabulary", path, id);
            goto done;
        }
        if (vin_set(&v, id, key, strlen(key), TOK_TYPE_NORMAL, path, err) != 0)
            goto done;
    }
    json_array_foreach(added, i, val) {
        uint32_t id = (uint32_t)json_integer_value(json_object_get(val, "id"));
        const char *s = jstr(val, "content");
        int32_t type = json_is_true(json_object_get(val, "special")) ? TOK_TYPE_CONTROL : TOK_TYPE_USER;
        if (v.text[id]) { /* an added token may repeat a vocabulary entry: it becomes special */
            v.type[id] = type;
            continue;
        }
        if (vin_set(&v, id, s, strlen(s), type, path, err) != 0)
            goto done;
    }
    for (uint32_t id = 0; id < n; id++) /* holes in the ids: never produced */
        if (!v.text[id]) {
            char name[40];
            int l = snprintf(name, sizeof name, "<|dokja_hole_%u|>", id);
            if (vin_set(&v, id, name, (size_t)l, TOK_TYPE_UNUSED, path, err) != 0)
                goto done;
        }
    int spm = 0;
    json_t *pre = json_object_get(root, "pre_tokenizer");
    if (json_is_null(pre) || !pre) {
        /* Llama 2 style: the normalizer writes spaces as U+2581 and prepends one */
        json_t *norm = json_object_get(root, "normalizer");
        const char *nt = jstr(norm, "type");
        spm = nt != NULL;
        if (!spm) {
            dk_errf(err, "%s: no pre_tokenizer and no normalizer: not a tokenizer dokja knows", path);
            goto done;
        }
        char *d = json_dumps(norm, JSON_COMPACT);
        spec.spm_prefix = d && strstr(d, "\"Prepend\"") != NULL;
        free(d);
    } else {
        if (hf_pretok(pre, &spec.pretok, &spm, path, err) != 0)
            goto done;
        if (!spm && hf_normalizer(json_object_get(root, "normalizer"), &spec.norm, path, err) != 0)
            goto done;
        if (spm)
            spec.spm_prefix = !json_is_string(json_object_get(pre, "prepend_scheme")) ||
                              strcmp(jstr(pre, "prepend_scheme"), "never") != 0;
    }
    spec.spm = spm;
    if (spm) {
        /* the byte_fallback tokens <0xXX> */
        for (uint32_t id = 0; id < n; id++) {
            unsigned x;
            char tail;
            if (v.type[id] == TOK_TYPE_NORMAL && v.text_len[id] == 6 && sscanf(v.text[id], "<0x%2X>%c", &x, &tail) == 1)
                v.type[id] = TOK_TYPE_BYTE;
        }
    }
    if (vin_decode(&v, spm, path, err) != 0)
        goto done;
    size_t nm = json_array_size(merges);
    v.merges = malloc((nm ? nm : 1) * sizeof *v.merges);
    if (!v.merges || nm > UINT32_MAX) {
        dk_errf(err, "%s: out of memory", path);
        goto done;
    }
    json_array_foreach(merges, i, val) {
        char buf[2048];
        const char *s = NULL;
        size_t len = 0;
        if (json_is_string(val)) {
            s = json_string_value(val);
            len = strlen(s);
        } else if (json_is_array(val) && json_array_size(val) == 2 && json_is_string(json_array_get(val, 0)) &&
                   json_is_string(json_array_get(val, 1))) {
            int l = snprintf(buf, sizeof buf, "%s %s", json_string_value(json_array_get(val, 0)),
                             json_string_value(json_array_get(val, 1)));
            s = buf;
            len = l < 0 ? 0 : (size_t)l >= sizeof buf ? sizeof buf - 1 : (size_t)l;
        }
        if (!s) {
            dk_errf(err, "%s: merges[%zu] is neither \"a b\" nor [\"a\", \"b\"]", path, i);
            goto done;
        }
        if (vin_merge(&v, (uint32_t)i, s, len, path, err) != 0)
            goto done;
    }
    if (spm) {
        /* merge ranks as SentencePiece scores: an earlier merge's result scores higher */
        for (uint32_t id = 0; id < n; id++)
            v.scores[id] = -1e30f;
        for (uint32_t k = v.n_merges; k-- > 0;) {
            char joined[4096];
            size_t la = v.text_len[v.merges[k][0]], lb = v.text_len[v.merges[k][1]];
            if (la + lb >= sizeof joined)
                continue;
            memcpy(joined, v.text[v.merges[k][0]], la);
            memcpy(joined + la, v.text[v.merges[k][1]], lb);
            uint32_t r = vin_find(&v, joined, la + lb);
            if (r != UINT32_MAX)
                v.scores[r] = -(float)k;
        }
        v.n_merges = 0;
    }
    spec.ignore_merges = json_is_true(json_object_get(tmodel, "ignore_merges"));
    /* BOS: the post-processor's template when it starts with a special token, else the
     * config's add_bos_token; EOS from the config */
    json_t *post = json_object_get(root, "post_processor");
    json_t *single = json_object_get(post, "single");
    if (json_is_array(single) && json_array_size(single) > 0) {
        json_t *first = json_object_get(json_array_get(single, 0), "SpecialToken");
        const char *name = jstr(first, "id");
        uint32_t id = name ? vin_find(&v, name, strlen(name)) : UINT32_MAX;
        if (id != UINT32_MAX) {
            spec.bos = (dk_token)id;
            spec.add_bos = 1;
        }
    }
    if (cfg) {
        if (spec.bos < 0) {
            spec.bos = config_token(cfg, "bos_token", &v);
            spec.add_bos = json_is_true(json_object_get(cfg, "add_bos_token")) ||
                           (spm && !json_is_false(json_object_get(cfg, "add_bos_token")));
        }
        spec.eos = config_token(cfg, "eos_token", &v);
    }
    rc = vin_build(out, &v, &spec, path, err);
done:
    vin_free(&v);
    json_decref(root);
    json_decref(cfg);
    return rc;
}

int tok_open_any(tok **out, const char *path, dk_err *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return dk_errno(err, "%s: cannot open", path);
    char p[4200];
    if (S_ISDIR(st.st_mode)) {
        static const char *const NAMES[] = {TOK_DEFAULT_FILE, "tokenizer.json", "tokenizer.gguf"};
        for (size_t i = 0; i < 3; i++) {
            snprintf(p, sizeof p, "%s/%s", path, NAMES[i]);
            if (stat(p, &st) == 0)
                return tok_open_any(out, p, err);
        }
        return dk_errf(err, "%s: no %s, tokenizer.json or tokenizer.gguf in this directory", path,
                       TOK_DEFAULT_FILE);
    }
    FILE *f = fs_open_regular(path, err);
    if (!f)
        return -1;
    char head[4096];
    size_t n = fread(head, 1, sizeof head - 1, f);
    fclose(f);
    head[n] = 0;
    if (n >= 4 && memcmp(head, "GGUF", 4) == 0) {
        gguf_file *g;
        if (gguf_open(&g, path, err) != 0)
            return -1;
        int rc = tok_from_gguf(out, g, err);
        gguf_close(g);
        return rc;
    }
    if (strstr(head, "\"format\"") && strstr(head, "dokja-bpe"))
        return tok_load(out, path, err);
    return tok_from_hf_json(out, path, err);
}
