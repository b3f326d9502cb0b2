/* tok_encode.c: encoding text to ids.
 *
 * Text -> (optional Hangul composition) -> chunks (the tok's pre-tokenizer, pretok.h)
 * -> ids per chunk. Natural text repeats its chunks constantly, so each encoder keeps a
 * cache from chunk bytes to ids; a miss runs BPE on the chunk: merges applied lowest id
 * first, leftmost first, which reproduces the segmentation training produced. Chunks of
 * up to TOK_BPE_SCAN_MAX bytes (all of "dokja-v1"'s, and nearly all of any other kind's
 * on natural text) take a quadratic scan over a stack array; longer ones (llama.cpp's
 * pre-tokenizers have no length cap: a line of 400 '=', a page of Hangul without
 * spaces) take a heap of candidate merges, O(n log n), with the same result. The cache
 * never changes results, only speed. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/hangul.h"
#include "tokenizer/nfc.h"
#include "tokenizer/pretok.h"
#include "tokenizer/tok_internal.h"
#include "util/err.h"
#include "util/hugemem.h"

/* The chunk cache: 2^18 slots of 16 bytes (4 MiB), half of them used at most, keys
 * and ids beside them. Measured on the dev corpora (8k vocabulary): a hit costs ~40 ns,
 * a miss (BPE on the chunk) ~370 ns, so a cache 4x the 2^16 slots it had encodes
 * Korean ~8 % faster, now that hits are prefetched (encode_plain); it is cleared
 * whole when full. Its 12 MiB sit on huge pages: a hit touches three random places
 * of it, and on 4 KiB pages encoding the dev corpora took 3 % longer. */
#define CACHE_SLOTS (1u << 18) /* power of two */
#define CACHE_MAX_ENTRIES (CACHE_SLOTS / 2)
#define CACHE_KEY_BYTES (CACHE_MAX_ENTRIES * 32u) /* chunks average under 8 bytes */
#define CACHE_IDS (CACHE_MAX_ENTRIES * 8u)

typedef struct {
    uint32_t hash; /* the high 32 bits of the chunk's hash_bytes (the slot index is the low bits) */
    uint32_t key_off, ids_off;
    uint16_t key_len, n_ids; /* key_len 0 = empty slot (chunks are never empty) */
} cache_slot;

struct tok_encoder {
    const tok *t;
    cache_slot *slots;
    uint8_t *keys;
    uint32_t *ids;
    uint32_t n_entries, keys_used, ids_used;
    uint8_t *norm;      /* composed text scratch */
    size_t norm_cap;
};

tok_encoder *tok_encoder_new(const tok *t)
{
    tok_encoder *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->t = t;
    e->slots = hugemem_alloc(CACHE_SLOTS * sizeof *e->slots);
    e->keys = hugemem_alloc_raw(CACHE_KEY_BYTES); /* written before read */
    e->ids = hugemem_alloc_raw(CACHE_IDS * sizeof *e->ids);
    if (!e->slots || !e->keys || !e->ids) {
        tok_encoder_free(e);
        return NULL;
    }
    return e;
}

const tok *tok_encoder_tok(const tok_encoder *e) { return e->t; }

void tok_encoder_free(tok_encoder *e)
{
    if (!e)
        return;
    free(e->slots);
    free(e->keys);
    free(e->ids);
    free(e->norm);
    free(e);
}

static void cache_clear(tok_encoder *e)
{
    memset(e->slots, 0, CACHE_SLOTS * sizeof *e->slots);
    e->n_entries = e->keys_used = e->ids_used = 0;
}

/* Moves a[at + 1 .. n) one place down (nothing when at + 1 >= n). The tails are short
 * (a chunk that misses the cache averages 13 bytes), so a constant 16-element copy
 * through a temporary, a few vector moves, does it where it can (a has room for 16
 * elements past at + 1; what it copies past n is never read); two memmove calls of
 * variable size per merge took a fifth of BPE's time. */
#define GAP_COPY 16
static inline void close_gap(uint32_t *a, size_t at, size_t n, size_t room)
{
    if (at + 1 >= n)
        return;
    if (n - at - 1 <= GAP_COPY && at + 1 + GAP_COPY <= room) {
        uint32_t tmp[GAP_COPY];
        memcpy(tmp, a + at + 1, sizeof tmp);
        memcpy(a + at, tmp, sizeof tmp);
    } else {
        memmove(a + at, a + at + 1, (n - at - 1) * sizeof *a);
    }
}

size_t tok_bpe_scan(const tok *t, uint32_t *sym_io, size_t n)
{
    DK_ASSERT(n <= TOK_BPE_SCAN_MAX);
    enum { ROOM = TOK_BPE_SCAN_MAX + GAP_COPY };
    uint32_t sym[ROOM], rank[ROOM]; /* the tails close_gap reads past n: never used */
    memcpy(sym, sym_io, n * sizeof *sym);
    for (size_t i = 0; i + 1 < n; i++)
        rank[i] = tok_merge_lookup(t, sym[i], sym[i + 1]);
    while (n > 1) {
        /* the lowest rank, leftmost among equals, as one minimum of (rank, position):
         * branch-free, where a compare-and-branch per pair mispredicted */
        uint64_t low = UINT64_MAX;
        for (size_t i = 0; i + 1 < n; i++) {
            uint64_t key = (uint64_t)rank[i] << 32 | i;
            low = key < low ? key : low;
        }
        uint32_t best_id = (uint32_t)(low >> 32);
        size_t best = (size_t)(uint32_t)low;
        if (best_id == TOK_NO_MERGE)
            break;
        sym[best] = tok_merge_result(t, best_id);
        close_gap(sym, best + 1, n, ROOM);
        close_gap(rank, best + 1, n - 1, ROOM);
        n--;
        if (best > 0)
            rank[best - 1] = tok_merge_lookup(t, sym[best - 1], sym[best]);
        if (best + 1 < n)
            rank[best] = tok_merge_lookup(t, sym[best], sym[best + 1]);
    }
    memcpy(sym_io, sym, n * sizeof *sym);
    return n;
}

/* A candidate merge: the pair whose left symbol started at byte pos merges into id.
 * The heap's minimum is the lowest id, then the leftmost pair, as the scan picks. */
typedef struct {
    uint32_t id;
    size_t pos;
} cand;

static inline int cand_less(cand a, cand b) { return a.id != b.id ? a.id < b.id : a.pos < b.pos; }

static void heap_push(cand *h, size_t *n, cand c)
{
    size_t i = (*n)++;
    while (i > 0 && cand_less(c, h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = c;
}

static cand heap_pop(cand *h, size_t *n)
{
    cand top = h[0], last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && cand_less(h[c + 1], h[c]))
            c++;
        if (!cand_less(h[c], last))
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n)
        h[i] = last;
    return top;
}

#define DEAD UINT32_MAX
#define NONE SIZE_MAX

int tok_bpe_heap(const tok *t, uint32_t *sym, size_t n, size_t *out_n)
{
    *out_n = 0;
    if (n == 0)
        return 0;
    /* Symbols form a linked list over their starting positions; a candidate is stale
     * when its left symbol died, or the pair now there merges into another id (a merged
     * symbol never merges into an id as small as its own, so a recomputed match is
     * the current pair itself). */
    size_t *next = malloc(n * sizeof *next), *prev = malloc(n * sizeof *prev);
    cand *h = malloc((3 * n + 1) * sizeof *h);
    if (!next || !prev || !h) {
        free(next);
        free(prev);
        free(h);
        return -1;
    }
    size_t nh = 0;
    for (size_t i = 0; i < n; i++) {
        next[i] = i + 1 < n ? i + 1 : NONE;
        prev[i] = i ? i - 1 : NONE;
        if (i + 1 < n) {
            uint32_t id = tok_merge_lookup(t, sym[i], sym[i + 1]);
            if (id != TOK_NO_MERGE)
                heap_push(h, &nh, (cand){id, i});
        }
    }
    while (nh) {
        cand c = heap_pop(h, &nh);
        size_t i = c.pos, j = next[i];
        if (sym[i] == DEAD || j == NONE || tok_merge_lookup(t, sym[i], sym[j]) != c.id)
            continue;
        sym[i] = tok_merge_result(t, c.id);
        sym[j] = DEAD;
        next[i] = next[j];
        if (next[j] != NONE)
            prev[next[j]] = i;
        if (prev[i] != NONE) {
            uint32_t id = tok_merge_lookup(t, sym[prev[i]], sym[i]);
            if (id != TOK_NO_MERGE)
                heap_push(h, &nh, (cand){id, prev[i]});
        }
        if (next[i] != NONE) {
            uint32_t id = tok_merge_lookup(t, sym[i], sym[next[i]]);
            if (id != TOK_NO_MERGE)
                heap_push(h, &nh, (cand){id, i});
        }
    }
    size_t m = 0;
    for (size_t i = 0; i != NONE; i = next[i])
        sym[m++] = sym[i];
    *out_n = m;
    free(next);
    free(prev);
    free(h);
    return 0;
}

/* Encodes chunk c[0..len), whose hash_bytes is h, through the cache. */
static int encode_chunk(tok_encoder *e, const uint8_t *c, size_t len, uint64_t h, tok_ids *out)
{
    size_t i = (size_t)(h & (CACHE_SLOTS - 1));
    for (;;) {
        cache_slot *s = &e->slots[i];
        if (s->key_len == 0)
            break;
        if (s->hash == (uint32_t)(h >> 32) && s->key_len == len && memcmp(e->keys + s->key_off, c, len) == 0) {
            for (uint32_t k = 0; k < s->n_ids; k++)
                if (tok_ids_push(out, e->ids[s->ids_off + k]) != 0)
                    return -1;
            return 0;
        }
        i = (i + 1) & (CACHE_SLOTS - 1);
    }
    uint32_t small[TOK_BPE_SCAN_MAX], *sym = small;
    size_t n;
    const tok *t = e->t;
    uint32_t whole = t->ignore_merges ? tok_vocab_find(t, c, len) : TOK_NO_MERGE;
    if (whole != TOK_NO_MERGE) {
        /* llama.cpp's and tokenizers' ignore_merges (Llama 3): a chunk that is a token
         * is that token, whatever the merges would make of it */
        sym[0] = whole;
        n = 1;
    } else if (len <= TOK_BPE_SCAN_MAX) {
        for (size_t k = 0; k < len; k++)
            sym[k] = t->byte_id ? t->byte_id[c[k]] : c[k];
        n = tok_bpe_scan(t, sym, len);
    } else {
        if (!(sym = malloc(len * sizeof *sym)))
            return -1;
        for (size_t k = 0; k < len; k++)
            sym[k] = t->byte_id ? t->byte_id[c[k]] : c[k];
        if (tok_bpe_heap(t, sym, len, &n) != 0) {
            free(sym);
            return -1;
        }
    }
    for (size_t k = 0; k < n; k++)
        if (tok_ids_push(out, sym[k]) != 0) {
            if (sym != small)
                free(sym);
            return -1;
        }
    if (sym != small) { /* long chunks are rare: not worth a cache slot */
        free(sym);
        return 0;
    }
    if (e->n_entries >= CACHE_MAX_ENTRIES || e->keys_used + len > CACHE_KEY_BYTES ||
        e->ids_used + n > CACHE_IDS) {
        cache_clear(e);
        i = (size_t)(h & (CACHE_SLOTS - 1));
    }
    cache_slot *s = &e->slots[i];
    s->hash = (uint32_t)(h >> 32);
    s->key_off = e->keys_used;
    s->key_len = (uint16_t)len;
    s->ids_off = e->ids_used;
    s->n_ids = (uint16_t)n;
    memcpy(e->keys + e->keys_used, c, len);
    memcpy(e->ids + e->ids_used, sym, n * sizeof *sym);
    e->keys_used += (uint32_t)len;
    e->ids_used += (uint32_t)n;
    e->n_entries++;
    return 0;
}

/* Encodes plain text (no special tokens recognised). */
static int encode_plain(tok_encoder *e, const uint8_t *s, size_t n, tok_ids *out, dk_err *err)
{
    if (e->t->spm)
        return tok_spm_encode(e->t, s, n, out, err);
    if (e->t->norm == TOK_NORM_NFC && nfc_may_change(s, n)) {
        long k = nfc_compose(s, n, &e->norm, &e->norm_cap);
        if (k < 0)
            return dk_errf(err, "out of memory normalising %zu bytes", n);
        n = (size_t)k;
        s = e->norm;
    } else if (e->t->norm == TOK_NORM_HANGUL_COMPOSE && hangul_needs_compose(s, n)) {
        if (e->norm_cap < n) {
            uint8_t *p = realloc(e->norm, n);
            if (!p)
                return dk_errf(err, "out of memory normalising %zu bytes", n);
            e->norm = p;
            e->norm_cap = n;
        }
        n = hangul_compose(s, n, e->norm);
        s = e->norm;
    }
    /* Chunks go through the cache CHUNK_BATCH at a time: first each one's bounds and
     * hash, its cache slot prefetched; then, a few chunks ahead of the one encoded,
     * the key and ids of the slot its hash names, prefetched too. Most chunks hit the
     * cache, and a hit was three dependent cache misses (slot, key, ids: the table
     * is larger than L2) that now overlap; 2/3 of the cache's time was the wait for
     * the slot. Only speed changes: the lookup itself is the same. */
    enum { CHUNK_BATCH = 16, AHEAD = 4 };
    size_t pos = 0;
    while (pos < n) {
        size_t start[CHUNK_BATCH + 1];
        uint64_t h[CHUNK_BATCH];
        size_t k = 0;
        start[0] = pos;
        while (k < CHUNK_BATCH && pos < n) {
            size_t end = pretok_next_kind(e->t->pretok, s, n, pos);
            h[k] = hash_bytes(s + pos, end - pos);
            __builtin_prefetch(&e->slots[h[k] & (CACHE_SLOTS - 1)]);
            start[++k] = pos = end;
        }
        for (size_t i = 0; i < k; i++) {
            if (i + AHEAD < k) {
                const cache_slot *sl = &e->slots[h[i + AHEAD] & (CACHE_SLOTS - 1)];
                if (sl->hash == (uint32_t)(h[i + AHEAD] >> 32)) {
                    __builtin_prefetch(e->keys + sl->key_off);
                    __builtin_prefetch(e->ids + sl->ids_off);
                }
            }
            if (encode_chunk(e, s + start[i], start[i + 1] - start[i], h[i], out) != 0)
                return dk_errf(err, "out of memory encoding %zu bytes", n);
        }
    }
    return 0;
}

int tok_encode(tok_encoder *e, const uint8_t *text, size_t n, int flags, tok_ids *out, dk_err *err)
{
    const tok *t = e->t;
    if (!(flags & TOK_ENCODE_SPECIAL) || t->n_special == 0)
        return encode_plain(e, text, n, out, err);
    size_t pos = 0;
    while (pos < n) {
        /* Earliest special token occurrence; the longest wins at the same place. */
        const uint8_t *best = NULL;
        size_t best_len = 0;
        uint32_t best_id = 0;
        for (uint32_t i = 0; i < t->n_special; i++) {
            size_t l = strlen(t->special[i]);
            if (l == 0)
                continue; /* an empty special token (a hostile tokenizer.json) matches everywhere and
                           * would never advance */
            const uint8_t *hit = memmem(text + pos, n - pos, t->special[i], l);
            if (hit && (!best || hit < best || (hit == best && l > best_len))) {
                best = hit;
                best_len = l;
                best_id = t->special_id ? (uint32_t)t->special_id[i] : 256 + i;
            }
        }
        size_t stop = best ? (size_t)(best - text) : n;
        if (encode_plain(e, text + pos, stop - pos, out, err) != 0)
            return -1;
        if (!best)
            break;
        if (tok_ids_push(out, best_id) != 0)
            return dk_errf(err, "out of memory encoding %zu bytes", n);
        pos = stop + best_len;
    }
    return 0;
}
