/* tok_core.c: building a tokenizer from merges, accessors, and decoding. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"
#include "util/grow.h"
#include "util/utf8.h"

int tok_merge_tables_new(tok *t, size_t n_merges)
{
    size_t cap = 16, bits = 1u << 12;
    int log_cap = 4, log_bits = 12;
    while (cap < n_merges * 2 + 16) { /* at most half full */
        cap <<= 1;
        log_cap++;
    }
    while (bits < n_merges * 32) {
        bits <<= 1;
        log_bits++;
    }
    t->mmask = cap - 1;
    t->mshift = 64 - log_cap;
    t->pshift = 64 - log_bits;
    t->mslots = malloc(cap * sizeof *t->mslots);
    t->byte_pairs = malloc(65536 * sizeof *t->byte_pairs);
    t->pair_bits = calloc(bits / 64, sizeof *t->pair_bits);
    if (!t->mslots || !t->byte_pairs || !t->pair_bits)
        return -1;
    memset(t->mslots, 0xFF, cap * sizeof *t->mslots);
    memset(t->byte_pairs, 0xFF, 65536 * sizeof *t->byte_pairs);
    return 0;
}

void tok_free(tok *t)
{
    if (!t)
        return;
    for (uint32_t i = 0; i < t->n_special; i++)
        free(t->special[i]);
    free(t->special);
    free(t->merges);
    free(t->tok_off);
    free(t->blob);
    free(t->partial);
    free(t->byte_pairs);
    free(t->mslots);
    free(t->pair_bits);
    free(t->special_id);
    free(t->byte_id);
    free(t->merge_result);
    free(t->scores);
    free(t->vslots);
    free(t);
}

static int oom(dk_err *err, const char *origin) { return dk_errf(err, "%s: out of memory", origin); }

int tok_build(tok **out, enum tok_norm norm, enum tok_pretok pretok, const char *const *specials,
              uint32_t n_special, const uint32_t (*merges)[2], uint32_t n_merges, const char *origin,
              dk_err *err)
{
    *out = NULL;
    if (norm != TOK_NORM_NONE && norm != TOK_NORM_HANGUL_COMPOSE)
        return dk_errf(err, "%s: unknown normaliser %d", origin, (int)norm);
    if ((unsigned)pretok >= TOK_PRETOK_COUNT)
        return dk_errf(err, "%s: unknown pre-tokenizer %d", origin, (int)pretok);
    if ((uint64_t)256 + n_special + n_merges > TOK_MAX_VOCAB)
        return dk_errf(err, "%s: vocabulary of %llu ids exceeds the limit of %u", origin,
                       (unsigned long long)256 + n_special + n_merges, TOK_MAX_VOCAB);
    for (uint32_t i = 0; i < n_special; i++) {
        size_t len = strlen(specials[i]);
        if (len == 0 || len > TOK_MAX_SPECIAL_LEN)
            return dk_errf(err, "%s: special token %u has length %zu (must be 1..%d bytes)",
                           origin, i, len, TOK_MAX_SPECIAL_LEN);
        if (utf8_validate((const uint8_t *)specials[i], len) != len)
            return dk_errf(err, "%s: special token %u is not valid UTF-8", origin, i);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(specials[i], specials[j]) == 0)
                return dk_errf(err, "%s: special token \"%s\" appears twice", origin, specials[i]);
    }
    tok *t = calloc(1, sizeof *t);
    if (!t)
        return oom(err, origin);
    t->norm = norm;
    t->pretok = pretok;
    t->n_special = n_special;
    t->n_merges = n_merges;
    t->first_merge = 256 + n_special;
    t->n_vocab = t->first_merge + n_merges;
    t->special = calloc(n_special ? n_special : 1, sizeof *t->special);
    t->merges = malloc((n_merges ? n_merges : 1) * sizeof *t->merges);
    t->tok_off = malloc(((size_t)t->n_vocab + 1) * sizeof *t->tok_off);
    if (!t->special || !t->merges || !t->tok_off || tok_merge_tables_new(t, n_merges) != 0) {
        tok_free(t);
        return oom(err, origin);
    }
    for (uint32_t i = 0; i < n_special; i++) {
        t->special[i] = strdup(specials[i]);
        if (!t->special[i]) {
            t->n_special = i;
            tok_free(t);
            return oom(err, origin);
        }
    }
    /* Token byte lengths first, to size the blob. */
    uint64_t total = 256;
    for (uint32_t i = 0; i < n_special; i++)
        total += strlen(specials[i]);
    uint32_t *len = malloc((size_t)t->n_vocab * sizeof *len);
    if (!len) {
        tok_free(t);
        return oom(err, origin);
    }
    for (uint32_t i = 0; i < 256; i++)
        len[i] = 1;
    for (uint32_t i = 0; i < n_special; i++)
        len[256 + i] = (uint32_t)strlen(specials[i]);
    for (uint32_t k = 0; k < n_merges; k++) {
        uint32_t id = t->first_merge + k, a = merges[k][0], b = merges[k][1];
        const char *why = NULL;
        if (a >= id || b >= id)
            why = "refers to a later id";
        else if ((a >= 256 && a < t->first_merge) || (b >= 256 && b < t->first_merge))
            why = "uses a special token";
        else if ((uint64_t)len[a] + len[b] > 1u << 20)
            why = "makes a token longer than 1 MiB";
        else if (total + len[a] + len[b] > 1u << 30)
            why = "makes the tokens' bytes exceed 1 GiB in total";
        if (why) {
            free(len);
            tok_free(t);
            return dk_errf(err, "%s: merge %u [%u, %u] %s", origin, k, a, b, why);
        }
        len[id] = len[a] + len[b];
        total += len[id];
        uint32_t prev = tok_merge_lookup(t, a, b);
        if (prev != TOK_NO_MERGE) {
            uint32_t earlier = prev - t->first_merge;
            free(len);
            tok_free(t);
            return dk_errf(err, "%s: merge %u [%u, %u] duplicates merge %u", origin, k, a, b,
                           earlier);
        }
        tok_merge_insert(t, a, b, id);
        t->merges[k][0] = a;
        t->merges[k][1] = b;
    }
    t->blob = malloc(total ? total : 1);
    if (!t->blob) {
        free(len);
        tok_free(t);
        return oom(err, origin);
    }
    uint32_t off = 0;
    for (uint32_t id = 0; id < t->n_vocab; id++) {
        t->tok_off[id] = off;
        if (id < 256)
            t->blob[off] = (uint8_t)id;
        else if (id < t->first_merge)
            memcpy(t->blob + off, t->special[id - 256], len[id]);
        else {
            const uint32_t *m = t->merges[id - t->first_merge];
            memcpy(t->blob + off, t->blob + t->tok_off[m[0]], len[m[0]]);
            memcpy(t->blob + off + len[m[0]], t->blob + t->tok_off[m[1]], len[m[1]]);
        }
        off += len[id];
    }
    t->tok_off[t->n_vocab] = off;
    free(len);
    t->partial = malloc(t->n_vocab);
    if (!t->partial) {
        tok_free(t);
        return oom(err, origin);
    }
    for (uint32_t id = 0; id < t->n_vocab; id++) {
        size_t l = t->tok_off[id + 1] - t->tok_off[id];
        t->partial[id] = utf8_validate(t->blob + t->tok_off[id], l) != l;
    }
    /* dokja's documents start (and end) with <|eos|> */
    t->bos = t->eos = tok_special_id(t, "<|eos|>");
    t->add_bos = t->bos >= 0;
    *out = t;
    return 0;
}

dk_token tok_bos(const tok *t) { return t->add_bos ? t->bos : -1; }
dk_token tok_eos(const tok *t) { return t->eos; }
int tok_is_foreign(const tok *t) { return t->foreign; }

uint32_t tok_vocab_size(const tok *t) { return t->n_vocab; }
uint32_t tok_n_special(const tok *t) { return t->n_special; }
uint32_t tok_n_merges(const tok *t) { return t->n_merges; }
enum tok_norm tok_norm(const tok *t) { return t->norm; }
enum tok_pretok tok_pretok(const tok *t) { return t->pretok; }
const char *tok_pretok_name(const tok *t) { return pretok_name(t->pretok); }
const uint32_t (*tok_merges(const tok *t))[2] { return (const uint32_t(*)[2])t->merges; }

const uint8_t *tok_token_bytes(const tok *t, dk_token id, size_t *len)
{
    if (id < 0 || (uint32_t)id >= t->n_vocab)
        return NULL;
    *len = t->tok_off[id + 1] - t->tok_off[id];
    return t->blob + t->tok_off[id];
}

int tok_token_is_partial(const tok *t, dk_token id)
{
    return id >= 0 && (uint32_t)id < t->n_vocab && t->partial[id];
}

dk_token tok_special_id(const tok *t, const char *text)
{
    for (uint32_t i = 0; i < t->n_special; i++)
        if (strcmp(t->special[i], text) == 0)
            return t->special_id ? t->special_id[i] : (dk_token)(256 + i);
    return -1;
}

const char *tok_special_text(const tok *t, uint32_t index)
{
    return index < t->n_special ? t->special[index] : NULL;
}

int tok_ids_grow(tok_ids *v)
{
    dk_token *p = dk_grow(v->ids, &v->cap, v->cap + 1, sizeof *p, 256);
    if (!p)
        return -1;
    v->ids = p;
    return 0;
}

void tok_ids_free(tok_ids *v)
{
    free(v->ids);
    memset(v, 0, sizeof *v);
}

int tok_decode(const tok *t, const dk_token *ids, size_t n, uint8_t **buf, size_t *len,
               size_t *cap, dk_err *err)
{
    for (size_t i = 0; i < n; i++) {
        size_t l;
        const uint8_t *b = tok_token_bytes(t, ids[i], &l);
        if (!b)
            return dk_errf(err, "token id %d at position %zu is out of range (vocabulary %u)",
                           ids[i], i, t->n_vocab);
        if (*len + l > *cap) {
            size_t nc = *cap ? *cap : 4096;
            while (nc < *len + l)
                nc *= 2;
            uint8_t *p = realloc(*buf, nc);
            if (!p)
                return dk_errf(err, "out of memory decoding %zu tokens", n);
            *buf = p;
            *cap = nc;
        }
        memcpy(*buf + *len, b, l);
        *len += l;
    }
    return 0;
}
