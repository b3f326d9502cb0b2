/* export_hf.c: a dokja model as a Hugging Face model directory (docs/interop.md).
 *
 * The weights need no conversion: dokja already stores Hugging Face Llama tensor names
 * and rotate-half pairing in model.safetensors, so they are written as they are. What
 * the ecosystem needs beside them is the tokenizer in tokenizers' own format:
 *   tokenizer.json         BPE over GPT-2's byte alphabet; pre-tokenizer = Split on the
 *                          pre-tokenizer's regex (the one llama.cpp names) then ByteLevel
 *                          without its own regex; a post-processor that puts <|eos|> in
 *                          front of every text (dokja's document start); specials as
 *                          added tokens; ignore_merges where llama.cpp sets it (llama-bpe)
 *   tokenizer_config.json  PreTrainedTokenizerFast, the special tokens, add_bos_token
 *   generation_config.json the bos/eos/pad ids
 * The directory is built under DIR.partial.PID and renamed into place, so a failure
 * leaves nothing behind; dokja_tokenizer.json is kept too, so dokja reads the export. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interop/byte_unicode.h"
#include "interop/interop.h"
#include "model/model_io.h"
#include "tokenizer/tokenizer.h"
#include "util/fs.h"

static json_t *added_token(dk_token id, const char *text)
{
    return json_pack("{s:I, s:s, s:b, s:b, s:b, s:b, s:b}", "id", (json_int_t)id, "content", text,
                     "single_word", 0, "lstrip", 0, "rstrip", 0, "normalized", 0, "special", 1);
}

/* tokenizer.json of t (NULL when memory runs out). */
static json_t *tokenizer_json(const tok *t, const char *const *regex, int n_regex, int ignore_merges,
                              dk_token doc_start)
{
    uint32_t tv = tok_vocab_size(t), ns = tok_n_special(t), nm = tok_n_merges(t);
    json_t *root = json_object(), *vocab = json_object(), *merges = json_array(), *added = json_array();
    char **text = calloc(tv, sizeof *text);
    size_t *len = calloc(tv, sizeof *len);
    int ok = root && vocab && merges && added && text && len;
    for (uint32_t id = 0; ok && id < tv; id++) {
        size_t n;
        const uint8_t *b = tok_token_bytes(t, (dk_token)id, &n);
        int special = id >= 256 && id < 256 + ns;
        text[id] = special ? strndup((const char *)b, n) : byte_unicode_encode(b, n, &n);
        len[id] = n;
        ok = text[id] && json_object_set_new(vocab, text[id], json_integer(id)) == 0;
        if (ok && special)
            ok = json_array_append_new(added, added_token((dk_token)id, text[id])) == 0;
    }
    const uint32_t (*m)[2] = tok_merges(t);
    for (uint32_t k = 0; ok && k < nm; k++) {
        size_t la = len[m[k][0]], lb = len[m[k][1]];
        char *s = malloc(la + lb + 2);
        if (!s) {
            ok = 0;
            break;
        }
        memcpy(s, text[m[k][0]], la);
        s[la] = ' ';
        memcpy(s + la + 1, text[m[k][1]], lb + 1);
        ok = json_array_append_new(merges, json_string(s)) == 0;
        free(s);
    }
    for (uint32_t id = 0; text && id < tv; id++)
        free(text[id]);
    free(text);
    free(len);
    if (!ok) {
        json_decref(root);
        json_decref(vocab);
        json_decref(merges);
        json_decref(added);
        return NULL;
    }
    json_object_set_new(root, "version", json_string("1.0"));
    json_object_set_new(root, "truncation", json_null());
    json_object_set_new(root, "padding", json_null());
    json_object_set_new(root, "added_tokens", added);
    json_object_set_new(root, "normalizer", json_null());
    json_t *pre = json_array();
    for (int k = 0; k < n_regex; k++)
        json_array_append_new(pre, json_pack("{s:s, s:{s:s}, s:s, s:b}", "type", "Split", "pattern", "Regex",
                                             regex[k], "behavior", "Isolated", "invert", 0));
    json_array_append_new(pre, json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", 0,
                                         "trim_offsets", 1, "use_regex", 0));
    json_object_set_new(root, "pre_tokenizer", json_pack("{s:s, s:o}", "type", "Sequence", "pretokenizers", pre));
    if (doc_start >= 0) {
        const char *s = tok_special_text(t, (uint32_t)doc_start - 256);
        json_object_set_new(root, "post_processor",
            json_pack("{s:s, s:[{s:{s:s, s:i}}, {s:{s:s, s:i}}], s:[{s:{s:s, s:i}}, {s:{s:s, s:i}}, "
                      "{s:{s:s, s:i}}], s:{s:{s:s, s:[I], s:[s]}}}",
                      "type", "TemplateProcessing",
                      "single", "SpecialToken", "id", s, "type_id", 0, "Sequence", "id", "A", "type_id", 0,
                      "pair", "SpecialToken", "id", s, "type_id", 0, "Sequence", "id", "A", "type_id", 0,
                      "Sequence", "id", "B", "type_id", 1,
                      "special_tokens", s, "id", s, "ids", (json_int_t)doc_start, "tokens", s));
    } else {
        json_object_set_new(root, "post_processor", json_null());
    }
    json_object_set_new(root, "decoder", json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel",
                                                   "add_prefix_space", 0, "trim_offsets", 1, "use_regex", 0));
    json_object_set_new(root, "model",
        json_pack("{s:s, s:n, s:n, s:n, s:n, s:b, s:b, s:b, s:o, s:o}", "type", "BPE", "dropout",
                  "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk", 0,
                  "byte_fallback", 0, "ignore_merges", ignore_merges, "vocab", vocab, "merges", merges));
    return root;
}

static int save_json(json_t *j, const char *dir, const char *name, dk_err *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    json_decref(j);
    if (!s)
        return dk_errf(err, "%s: out of memory", path);
    size_t n = strlen(s);
    s[n] = '\n'; /* overwrites the NUL; written with its length */
    int rc = fs_write_file_atomic(path, s, n + 1, err);
    free(s);
    return rc;
}

static json_t *special_or_null(const tok *t, dk_token id)
{
    return id >= 0 ? json_string(tok_special_text(t, (uint32_t)id - 256)) : json_null();
}

int export_hf(const char *dir, const char *out, dk_err *err)
{
    struct stat st;
    if (lstat(out, &st) == 0)
        return dk_errf(err, "%s: already exists (choose a new directory)", out);
    char tpath[4096];
    snprintf(tpath, sizeof tpath, "%s/%s", dir, TOK_DEFAULT_FILE);
    tok *t = NULL;
    if (tok_load(&t, tpath, err) != 0)
        return -1;
    const char *regex[2];
    int n_regex = pretok_hf_regexes(tok_pretok_name(t), regex);
    if (n_regex == 0) {
        dk_errf(err, "%s: pre-tokenizer %s has no Hugging Face counterpart; retrain the "
                     "tokenizer (dokja tokenizer train uses a llama.cpp pre-tokenizer by "
                     "default) and the model", tpath, tok_pretok_name(t));
        tok_free(t);
        return -1;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.partial.%ld", out, (long)getpid());
    fs_remove_dead_debris(out);
    pool *p = pool_new(1);
    model *m = NULL;
    int rc = -1;
    if (!p) {
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
    dk_token eos = tok_special_id(t, "<|eos|>"), pad = tok_special_id(t, "<|pad|>");
    static const char *const keys[] = {"dokja_exported_from"};
    const char *vals[] = {"dokja"};
    if (model_save_dir(m, tmp, tpath, keys, vals, 1, err) != 0)
        goto fail;
    /* config.json: dokja's Llama config plus the special ids Hugging Face reads from it */
    char cpath[4400];
    snprintf(cpath, sizeof cpath, "%s/config.json", tmp);
    json_error_t je;
    json_t *cfg = json_load_file(cpath, 0, &je);
    if (!cfg) {
        dk_errf(err, "%s: cannot re-read: %s", cpath, je.text);
        goto fail;
    }
    json_object_set_new(cfg, "bos_token_id", eos >= 0 ? json_integer(eos) : json_null());
    json_object_set_new(cfg, "eos_token_id", eos >= 0 ? json_integer(eos) : json_null());
    json_object_set_new(cfg, "torch_dtype", json_string("float32"));
    if (save_json(cfg, tmp, "config.json", err) != 0)
        goto fail;
    int ignore_merges = strcmp(tok_pretok_name(t), "llama-bpe") == 0;
    if (save_json(tokenizer_json(t, regex, n_regex, ignore_merges, eos), tmp, "tokenizer.json", err) != 0)
        goto fail;
    json_t *tc = json_pack("{s:b, s:b, s:o, s:o, s:o, s:o, s:b, s:I, s:s}", "add_bos_token", eos >= 0,
                           "add_eos_token", 0, "bos_token", special_or_null(t, eos), "eos_token",
                           special_or_null(t, eos), "pad_token", special_or_null(t, pad), "unk_token",
                           json_null(), "clean_up_tokenization_spaces", 0, "model_max_length",
                           (json_int_t)c->max_seq, "tokenizer_class", "PreTrainedTokenizerFast");
    if (save_json(tc, tmp, "tokenizer_config.json", err) != 0)
        goto fail;
    json_t *gc = json_pack("{s:o, s:o, s:o}", "bos_token_id", eos >= 0 ? json_integer(eos) : json_null(),
                           "eos_token_id", eos >= 0 ? json_integer(eos) : json_null(), "pad_token_id",
                           pad >= 0 ? json_integer(pad) : json_null());
    if (save_json(gc, tmp, "generation_config.json", err) != 0)
        goto fail;
    if (rename(tmp, out) != 0) {
        dk_errno(err, "%s: cannot rename %s into place", out, tmp);
        goto fail;
    }
    rc = 0;
    goto done;
fail:
    fs_remove_flat_dir(tmp);
done:
    model_free(m);
    pool_free(p);
    tok_free(t);
    return rc;
}
