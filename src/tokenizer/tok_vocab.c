/* tok_vocab.c: tokenizers of other models (a GGUF's vocabulary, a tokenizer.json),
 * built from their tokens' bytes, types, merges or scores (tokenizer.h: tok_vocab_spec).
 *
 * Byte-level BPE runs the same code as dokja's own tokenizer: the pre-tokenizer cuts
 * the text, each byte starts as its token (byte_id), and merges apply lowest rank
 * first, leftmost first, a merge's result being the token whose bytes are the two
 * parts'. SentencePiece BPE (Llama 2, Mistral) is llama.cpp's algorithm: spaces as
 * U+2581 (here: tokens are kept as bytes, with U+2581 turned back into a space, so the
 * text needs no rewriting), characters as symbols, the adjacent pair whose joined text
 * is the highest-scoring token merged first, and characters outside the vocabulary as
 * byte tokens <0xXX>. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"
#include "util/utf8.h"

uint32_t tok_vocab_find(const tok *t, const uint8_t *s, size_t n)
{
    if (!t->vslots)
        return TOK_NO_MERGE;
    uint64_t h = hash_bytes(s, n);
    for (size_t i = (size_t)(h & t->vmask);; i = (i + 1) & t->vmask) {
        const struct tok_vslot *v = &t->vslots[i];
        if (v->id == TOK_NO_MERGE)
            return TOK_NO_MERGE;
        if (v->hash == h) {
            size_t l = t->tok_off[v->id + 1] - t->tok_off[v->id];
            if (l == n && memcmp(t->blob + t->tok_off[v->id], s, n) == 0)
                return v->id;
        }
    }
}

static int oom(dk_err *err, const char *origin) { return dk_errf(err, "%s: out of memory", origin); }

/* Tokens that text can be made of: not control, unused or byte-fallback tokens (a
 * <0x20> must never stand for the space the vocabulary writes as U+2581). */
static int textual(int32_t type) { return type != TOK_TYPE_CONTROL && type != TOK_TYPE_UNUSED && type != TOK_TYPE_BYTE; }

int tok_build_vocab(tok **out, const tok_vocab_spec *v, const char *origin, dk_err *err)
{
    *out = NULL;
    if (v->n_vocab == 0 || v->n_vocab > TOK_MAX_VOCAB)
        return dk_errf(err, "%s: vocabulary of %u tokens (must be 1..%u)", origin, v->n_vocab, TOK_MAX_VOCAB);
    tok *t = calloc(1, sizeof *t);
    if (!t)
        return oom(err, origin);
    t->foreign = 1;
    if (v->norm != TOK_NORM_NONE && (v->norm != TOK_NORM_NFC || v->spm)) {
        free(t);
        return dk_errf(err, "%s: a normaliser this kind of tokenizer cannot have", origin);
    }
    t->norm = v->norm;
    t->pretok = v->pretok;
    t->n_vocab = v->n_vocab;
    t->bos = v->bos;
    t->eos = v->eos;
    t->add_bos = v->add_bos && v->bos >= 0;
    t->ignore_merges = v->ignore_merges;
    t->spm = v->spm;
    t->spm_prefix = v->spm_prefix;
    uint64_t total = 0;
    for (uint32_t i = 0; i < v->n_vocab; i++) {
        if (v->len[i] > (1u << 20))
            return tok_free(t), dk_errf(err, "%s: token %u is longer than 1 MiB", origin, i);
        total += v->len[i];
    }
    if (total > (1u << 30))
        return tok_free(t), dk_errf(err, "%s: the tokens' bytes exceed 1 GiB", origin);
    size_t cap = 1;
    while (cap < (size_t)v->n_vocab * 2 + 16)
        cap <<= 1;
    t->tok_off = malloc(((size_t)v->n_vocab + 1) * sizeof *t->tok_off);
    t->blob = malloc(total ? total : 1);
    t->partial = malloc(v->n_vocab);
    t->vslots = malloc(cap * sizeof *t->vslots);
    t->vmask = cap - 1;
    t->byte_id = malloc(256 * sizeof *t->byte_id);
    if (!t->tok_off || !t->blob || !t->partial || !t->vslots || !t->byte_id)
        return tok_free(t), oom(err, origin);
    memset(t->vslots, 0xFF, cap * sizeof *t->vslots);
    for (int b = 0; b < 256; b++)
        t->byte_id[b] = TOK_NO_MERGE;
    uint32_t off = 0, n_special = 0;
    for (uint32_t i = 0; i < v->n_vocab; i++) {
        t->tok_off[i] = off;
        memcpy(t->blob + off, v->bytes[i], v->len[i]);
        off += (uint32_t)v->len[i];
        n_special += v->type[i] == TOK_TYPE_CONTROL || v->type[i] == TOK_TYPE_USER;
    }
    t->tok_off[v->n_vocab] = off;
    /* the text -> id map; where two tokens share bytes the first (lowest id) wins, as a
     * reader of a tokenizer.json's vocabulary object would keep one of them */
    for (uint32_t i = 0; i < v->n_vocab; i++) {
        size_t l = v->len[i];
        t->partial[i] = utf8_validate(v->bytes[i], l) != l;
        if (v->type[i] == TOK_TYPE_BYTE && l == 1 && t->byte_id[v->bytes[i][0]] == TOK_NO_MERGE)
            t->byte_id[v->bytes[i][0]] = i;
        if (!textual(v->type[i]) || l == 0 || tok_vocab_find(t, v->bytes[i], l) != TOK_NO_MERGE)
            continue;
        uint64_t h = hash_bytes(v->bytes[i], l);
        size_t k = (size_t)(h & t->vmask);
        while (t->vslots[k].id != TOK_NO_MERGE)
            k = (k + 1) & t->vmask;
        t->vslots[k].hash = h;
        t->vslots[k].id = i;
    }
    /* special tokens: control and user-defined tokens, matched in text on request */
    t->n_special = n_special;
    t->special = calloc(n_special ? n_special : 1, sizeof *t->special);
    t->special_id = calloc(n_special ? n_special : 1, sizeof *t->special_id);
    if (!t->special || !t->special_id)
        return tok_free(t), oom(err, origin);
    for (uint32_t i = 0, k = 0; i < v->n_vocab; i++) {
        if (v->type[i] != TOK_TYPE_CONTROL && v->type[i] != TOK_TYPE_USER)
            continue;
        t->special[k] = strndup((const char *)v->bytes[i], v->len[i]);
        if (!t->special[k]) {
            t->n_special = k;
            return tok_free(t), oom(err, origin);
        }
        t->special_id[k++] = (dk_token)i;
    }
    if (v->spm) {
        t->scores = malloc((size_t)v->n_vocab * sizeof *t->scores);
        if (!t->scores)
            return tok_free(t), oom(err, origin);
        memcpy(t->scores, v->scores, (size_t)v->n_vocab * sizeof *t->scores);
        *out = t;
        return 0;
    }
    /* byte-level BPE: every byte must be a token, and merges join two tokens into a third */
    for (int b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        uint32_t id = tok_vocab_find(t, &c, 1);
        if (id == TOK_NO_MERGE)
            return tok_free(t), dk_errf(err, "%s: byte 0x%02X has no token: not a byte-level vocabulary", origin, b);
        t->byte_id[b] = id;
    }
    int tables = tok_merge_tables_new(t, v->n_merges);
    t->merge_result = malloc((v->n_merges ? v->n_merges : 1) * sizeof *t->merge_result);
    t->merges = malloc((v->n_merges ? v->n_merges : 1) * sizeof *t->merges);
    uint8_t *joined = malloc(2u << 20);
    if (tables != 0 || !t->merge_result || !t->merges || !joined) {
        free(joined);
        return tok_free(t), oom(err, origin);
    }
    uint32_t nm = 0;
    for (uint32_t k = 0; k < v->n_merges; k++) {
        uint32_t a = v->merges[k][0], b = v->merges[k][1];
        if (a >= v->n_vocab || b >= v->n_vocab) {
            free(joined);
            return tok_free(t), dk_errf(err, "%s: merge %u refers to id %u past the vocabulary", origin, k,
                                       a >= v->n_vocab ? a : b);
        }
        size_t la = v->len[a], lb = v->len[b];
        memcpy(joined, v->bytes[a], la);
        memcpy(joined + la, v->bytes[b], lb);
        uint32_t r = tok_vocab_find(t, joined, la + lb);
        /* a merge whose result is not a token can never apply (llama.cpp and tokenizers
         * skip it too); a pair listed twice keeps its first rank */
        if (r == TOK_NO_MERGE || tok_merge_lookup(t, a, b) != TOK_NO_MERGE)
            continue;
        tok_merge_insert(t, a, b, nm);
        t->merges[nm][0] = a;
        t->merges[nm][1] = b;
        t->merge_result[nm++] = r;
    }
    free(joined);
    t->n_merges = nm;
    *out = t;
    return 0;
}

/* ---- SentencePiece BPE ------------------------------------------------------------- */

typedef struct {
    size_t start, len; /* bytes of the symbol in the text */
    long prev, next;   /* -1 at the ends */
} spm_sym;

typedef struct {
    float score;
    long left;
    size_t size;
} spm_pair;

/* max-heap: higher score first, then the leftmost pair (llama.cpp's comparator) */
static int pair_before(const spm_pair *a, const spm_pair *b)
{
    return a->score != b->score ? a->score > b->score : a->left < b->left;
}

static void pair_push(spm_pair *h, size_t *n, spm_pair p)
{
    size_t i = (*n)++;
    while (i > 0 && pair_before(&p, &h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = p;
}

static spm_pair pair_pop(spm_pair *h, size_t *n)
{
    spm_pair top = h[0], last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && pair_before(&h[c + 1], &h[c]))
            c++;
        if (!pair_before(&h[c], &last))
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n)
        h[i] = last;
    return top;
}

static void try_pair(const tok *t, const uint8_t *s, const spm_sym *sym, long l, spm_pair *h, size_t *nh)
{
    if (l < 0)
        return;
    long r = sym[l].next;
    if (r < 0)
        return;
    size_t size = sym[l].len + sym[r].len;
    uint32_t id = tok_vocab_find(t, s + sym[l].start, size);
    if (id != TOK_NO_MERGE)
        pair_push(h, nh, (spm_pair){t->scores[id], l, size});
}

int tok_spm_encode(const tok *t, const uint8_t *text, size_t n, tok_ids *out, dk_err *err)
{
    if (n == 0)
        return 0;
    size_t m = n + (t->spm_prefix ? 1 : 0);
    uint8_t *s = malloc(m);
    spm_sym *sym = malloc(m * sizeof *sym);
    spm_pair *h = malloc(2 * m * sizeof *h);
    int rc = 0;
    if (!s || !sym || !h) {
        rc = dk_errf(err, "out of memory encoding %zu bytes", n);
        goto done;
    }
    if (t->spm_prefix)
        s[0] = ' ';
    memcpy(s + (t->spm_prefix ? 1 : 0), text, n);
    long ns = 0;
    for (size_t i = 0; i < m; ns++) {
        uint32_t cp;
        size_t l = utf8_decode(s + i, m - i, &cp);
        if (l == 0)
            l = 1;
        sym[ns] = (spm_sym){i, l, ns - 1, -1};
        if (ns > 0)
            sym[ns - 1].next = ns;
        i += l;
    }
    size_t nh = 0;
    for (long i = 0; i + 1 < ns; i++)
        try_pair(t, s, sym, i, h, &nh);
    while (nh) {
        spm_pair p = pair_pop(h, &nh);
        long l = p.left, r = sym[l].next;
        if (sym[l].len == 0 || r < 0 || sym[r].len == 0 || sym[l].len + sym[r].len != p.size)
            continue; /* stale: one side merged since */
        sym[l].len += sym[r].len;
        sym[r].len = 0;
        sym[l].next = sym[r].next;
        if (sym[r].next >= 0)
            sym[sym[r].next].prev = l;
        try_pair(t, s, sym, sym[l].prev, h, &nh);
        try_pair(t, s, sym, l, h, &nh);
    }
    for (long i = 0; i >= 0 && i < ns; i = sym[i].next) {
        uint32_t id = tok_vocab_find(t, s + sym[i].start, sym[i].len);
        if (id != TOK_NO_MERGE) {
            if (tok_ids_push(out, (dk_token)id) != 0)
                rc = dk_errf(err, "out of memory encoding %zu bytes", n);
        } else {
            /* not in the vocabulary: its bytes as byte tokens */
            for (size_t k = 0; k < sym[i].len && rc == 0; k++) {
                uint32_t b = t->byte_id[s[sym[i].start + k]];
                if (b == TOK_NO_MERGE) {
                    rc = dk_errf(err, "byte 0x%02X has no token in this vocabulary (no byte fallback)",
                                 s[sym[i].start + k]);
                } else if (tok_ids_push(out, (dk_token)b) != 0) {
                    rc = dk_errf(err, "out of memory encoding %zu bytes", n);
                }
            }
        }
        if (rc)
            break;
    }
done:
    free(s);
    free(sym);
    free(h);
    return rc;
}
