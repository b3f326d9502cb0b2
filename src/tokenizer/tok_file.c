/* tok_file.c: the tokenizer file, "dokja-bpe" version 1 (docs/tokenizer-format.md).
 *
 * A JSON object, written with one merge per line so that diffs and greps work.
 * Loading trusts nothing: size, JSON syntax, duplicate keys, every field's type and
 * range, and then tok_build's consistency checks (merges refer only to earlier ids,
 * no duplicates, specials unique and valid UTF-8). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/pretok.h"
#include "tokenizer/tok_internal.h"
#include "util/fs.h"

#define TOK_FILE_MAX (256u << 20)

static const char *norm_name(enum tok_norm n)
{
    return n == TOK_NORM_HANGUL_COMPOSE ? "hangul-compose" : "none";
}

int tok_save(const tok *t, const char *path, dk_err *err)
{
    fs_atomic a;
    if (fs_atomic_open(&a, path, err) != 0)
        return -1;
    fprintf(a.f,
            "{\n  \"format\": \"%s\",\n  \"version\": %d,\n  \"normalizer\": \"%s\",\n"
            "  \"pretokenizer\": \"%s\",\n  \"vocab_size\": %u,\n  \"special_tokens\": [",
            TOK_FORMAT, TOK_FORMAT_VERSION, norm_name(t->norm), pretok_name(t->pretok), t->n_vocab);
    for (uint32_t i = 0; i < t->n_special; i++) {
        json_t *s = json_string(t->special[i]);
        char *txt = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
        json_decref(s);
        if (!txt) {
            fs_atomic_abort(&a);
            return dk_errf(err, "%s: cannot encode special token %u", path, i);
        }
        fprintf(a.f, "%s%s", i ? ", " : "", txt);
        free(txt);
    }
    fprintf(a.f, "],\n  \"merges\": [");
    for (uint32_t k = 0; k < t->n_merges; k++)
        fprintf(a.f, "%s\n    [%u, %u]", k ? "," : "", t->merges[k][0], t->merges[k][1]);
    fprintf(a.f, "%s]\n}\n", t->n_merges ? "\n  " : "");
    return fs_atomic_commit(&a, err);
}

static int get_string(json_t *root, const char *key, const char **out, const char *path,
                      dk_err *err)
{
    json_t *v = json_object_get(root, key);
    if (!v)
        return dk_errf(err, "%s: missing \"%s\"", path, key);
    if (!json_is_string(v))
        return dk_errf(err, "%s: \"%s\" must be a string", path, key);
    *out = json_string_value(v);
    return 0;
}

static int load_json(tok **out, json_t *root, const char *path, dk_err *err)
{
    static const char *const KNOWN[] = {"format", "version", "normalizer", "pretokenizer",
                                        "vocab_size", "special_tokens", "merges"};
    if (!json_is_object(root))
        return dk_errf(err, "%s: not a JSON object", path);
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        int known = 0;
        for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++)
            known |= strcmp(key, KNOWN[i]) == 0;
        if (!known)
            return dk_errf(err, "%s: unknown key \"%s\"", path, key);
    }
    const char *format, *norm, *pretok;
    if (get_string(root, "format", &format, path, err) != 0)
        return -1;
    if (strcmp(format, TOK_FORMAT) != 0)
        return dk_errf(err, "%s: format is \"%s\", expected \"%s\"", path, format, TOK_FORMAT);
    json_t *ver = json_object_get(root, "version");
    if (!json_is_integer(ver))
        return dk_errf(err, "%s: missing or non-integer \"version\"", path);
    if (json_integer_value(ver) != TOK_FORMAT_VERSION)
        return dk_errf(err, "%s: unsupported version %lld (this dokja reads version %d)", path,
                       (long long)json_integer_value(ver), TOK_FORMAT_VERSION);
    if (get_string(root, "normalizer", &norm, path, err) != 0 ||
        get_string(root, "pretokenizer", &pretok, path, err) != 0)
        return -1;
    enum tok_norm n;
    if (strcmp(norm, "none") == 0)
        n = TOK_NORM_NONE;
    else if (strcmp(norm, "hangul-compose") == 0)
        n = TOK_NORM_HANGUL_COMPOSE;
    else
        return dk_errf(err, "%s: unknown normalizer \"%s\"", path, norm);
    enum tok_pretok pk;
    if (pretok_from_name(pretok, &pk) != 0)
        return dk_errf(err, "%s: unknown pretokenizer \"%s\" (this dokja has \"%s\", \"%s\", ...)",
                       path, pretok, pretok_name(TOK_PRETOK_DOKJA_V1), pretok_name(TOK_PRETOK_GPT2));
    json_t *vs = json_object_get(root, "vocab_size");
    if (!json_is_integer(vs) || json_integer_value(vs) < 256 ||
        json_integer_value(vs) > TOK_MAX_VOCAB)
        return dk_errf(err, "%s: \"vocab_size\" must be an integer in [256, %u]", path,
                       TOK_MAX_VOCAB);
    json_t *sp = json_object_get(root, "special_tokens");
    json_t *mg = json_object_get(root, "merges");
    if (!json_is_array(sp))
        return dk_errf(err, "%s: \"special_tokens\" must be an array of strings", path);
    if (!json_is_array(mg))
        return dk_errf(err, "%s: \"merges\" must be an array of [left, right] pairs", path);
    size_t n_sp = json_array_size(sp), n_mg = json_array_size(mg);
    if ((uint64_t)256 + n_sp + n_mg != (uint64_t)json_integer_value(vs))
        return dk_errf(err, "%s: vocab_size %lld != 256 bytes + %zu special + %zu merges", path,
                       (long long)json_integer_value(vs), n_sp, n_mg);
    const char **specials = calloc(n_sp ? n_sp : 1, sizeof *specials);
    uint32_t(*merges)[2] = malloc((n_mg ? n_mg : 1) * sizeof *merges);
    int rc = 0;
    if (!specials || !merges)
        rc = dk_errf(err, "%s: out of memory", path);
    for (size_t i = 0; rc == 0 && i < n_sp; i++) {
        json_t *s = json_array_get(sp, i);
        if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
            rc = dk_errf(err, "%s: special token %zu must be a string without NUL", path, i);
        else
            specials[i] = json_string_value(s);
    }
    for (size_t k = 0; rc == 0 && k < n_mg; k++) {
        json_t *m = json_array_get(mg, k);
        json_t *a = json_array_get(m, 0), *b = json_array_get(m, 1);
        if (!json_is_array(m) || json_array_size(m) != 2 || !json_is_integer(a) ||
            !json_is_integer(b) || json_integer_value(a) < 0 || json_integer_value(b) < 0 ||
            json_integer_value(a) > UINT32_MAX || json_integer_value(b) > UINT32_MAX)
            rc = dk_errf(err, "%s: merge %zu must be a pair of non-negative integers", path, k);
        else {
            merges[k][0] = (uint32_t)json_integer_value(a);
            merges[k][1] = (uint32_t)json_integer_value(b);
        }
    }
    if (rc == 0)
        rc = tok_build(out, n, pk, specials, (uint32_t)n_sp, (const uint32_t(*)[2])merges,
                       (uint32_t)n_mg, path, err);
    free(specials);
    free(merges);
    return rc;
}

int tok_load(tok **out, const char *path, dk_err *err)
{
    *out = NULL;
    fs_map m;
    if (fs_map_open(&m, path, TOK_FILE_MAX, err) != 0)
        return -1;
    if (m.size == 0) {
        fs_map_close(&m);
        return dk_errf(err, "%s: empty file, not a tokenizer", path);
    }
    json_error_t je;
    json_t *root = json_loadb((const char *)m.data, m.size, JSON_REJECT_DUPLICATES, &je);
    fs_map_close(&m);
    if (!root)
        return dk_errf(err, "%s: not a valid tokenizer file: line %d column %d: %s", path,
                       je.line, je.column, je.text);
    int rc = load_json(out, root, path, err);
    json_decref(root);
    return rc;
}
