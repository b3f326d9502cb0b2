/* tok_shared_cache.c: the chunk cache that encoders on several threads share, behind
 * each one's own (tok_encode.c). Why: every encoder learns the text's chunks for
 * itself, so on T threads each chunk's BPE runs up to T times (on 2 threads the data
 * build's BPE time grew by a quarter); with this cache a chunk one thread has encoded
 * costs the others one lookup.
 *
 * Insert-only and lock-free: a slot's tag is claimed by compare-and-swap (0 -> BUSY),
 * its key and ids are written into the arena, and the tag is then published with a
 * release store; a reader acts on a slot only after an acquire load shows its final
 * tag, so it never sees half-written data. When the slots or the arena are full, the
 * cache stops taking entries (it is never cleared while encoders may read it). What
 * it returns is the BPE of the same bytes (the whole key is compared), so sharing
 * changes speed only, never ids: the output is the same for any thread count. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"

#define SHARED_SLOTS (1u << 20)        /* power of two; at most half are filled */
#define SHARED_ARENA ((size_t)48 << 20) /* keys and ids */
#define SHARED_PROBES 32                /* a lookup or insert gives up after this many */
#define BUSY 1u                         /* a tag being filled; real tags have bit 1 set */

typedef struct {
    uint32_t off;             /* key at arena + off, ids (4-aligned) after it */
    uint16_t key_len, n_ids;
} shared_meta;

struct tok_shared_cache {
    _Atomic uint64_t *tag; /* 0 empty, BUSY, or the chunk's hash | 2 */
    shared_meta *meta;
    uint8_t *arena;
    _Atomic size_t used;    /* arena bytes handed out */
    _Atomic uint32_t count; /* slots claimed */
};

tok_shared_cache *tok_shared_cache_new(void)
{
    tok_shared_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    /* calloc: untouched pages cost nothing until a slot there is used */
    c->tag = calloc(SHARED_SLOTS, sizeof *c->tag);
    c->meta = calloc(SHARED_SLOTS, sizeof *c->meta);
    c->arena = malloc(SHARED_ARENA);
    if (!c->tag || !c->meta || !c->arena) {
        tok_shared_cache_free(c);
        return NULL;
    }
    atomic_init(&c->used, 0);
    atomic_init(&c->count, 0);
    return c;
}

void tok_shared_cache_free(tok_shared_cache *c)
{
    if (!c)
        return;
    free((void *)c->tag);
    free(c->meta);
    free(c->arena);
    free(c);
}

size_t tok_shared_cache_entries(const tok_shared_cache *c)
{
    return atomic_load_explicit(&((tok_shared_cache *)c)->count, memory_order_relaxed);
}

static inline uint64_t tag_of(uint64_t h) { return h | 2u; }

static inline size_t ids_at(size_t off, size_t key_len) { return (off + key_len + 3) & ~(size_t)3; }

const uint32_t *tok_shared_cache_get(const tok_shared_cache *c, uint64_t h, const uint8_t *key, size_t len,
                                     size_t *n_ids)
{
    uint64_t want = tag_of(h);
    size_t i = (size_t)(h & (SHARED_SLOTS - 1));
    for (int p = 0; p < SHARED_PROBES; p++, i = (i + 1) & (SHARED_SLOTS - 1)) {
        uint64_t t = atomic_load_explicit(&c->tag[i], memory_order_acquire);
        if (t == 0)
            return NULL;
        if (t != want)
            continue;
        shared_meta m = c->meta[i];
        if (m.key_len == len && memcmp(c->arena + m.off, key, len) == 0) {
            *n_ids = m.n_ids;
            return (const uint32_t *)(c->arena + ids_at(m.off, len));
        }
    }
    return NULL;
}

void tok_shared_cache_put(tok_shared_cache *c, uint64_t h, const uint8_t *key, size_t len, const uint32_t *ids,
                          size_t n)
{
    if (len > UINT16_MAX || n > UINT16_MAX ||
        atomic_load_explicit(&c->count, memory_order_relaxed) >= SHARED_SLOTS / 2)
        return;
    size_t need = ((len + 3) & ~(size_t)3) + n * sizeof *ids + 4;
    size_t off = atomic_fetch_add_explicit(&c->used, need, memory_order_relaxed);
    if (off + need > SHARED_ARENA || off > UINT32_MAX)
        return; /* full: the arena's tail stays unused */
    memcpy(c->arena + off, key, len);
    memcpy(c->arena + ids_at(off, len), ids, n * sizeof *ids);
    uint64_t want = tag_of(h);
    size_t i = (size_t)(h & (SHARED_SLOTS - 1));
    for (int p = 0; p < SHARED_PROBES; p++, i = (i + 1) & (SHARED_SLOTS - 1)) {
        uint64_t t = atomic_load_explicit(&c->tag[i], memory_order_acquire);
        if (t == want) {
            shared_meta m = c->meta[i];
            if (m.key_len == len && memcmp(c->arena + m.off, key, len) == 0)
                return; /* another thread put it first */
            continue;
        }
        if (t != 0)
            continue;
        uint64_t empty = 0;
        if (!atomic_compare_exchange_strong_explicit(&c->tag[i], &empty, BUSY, memory_order_acquire,
                                                     memory_order_relaxed))
            continue; /* taken meanwhile: look at the next slot */
        c->meta[i] = (shared_meta){(uint32_t)off, (uint16_t)len, (uint16_t)n};
        atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);
        atomic_store_explicit(&c->tag[i], want, memory_order_release);
        return;
    }
}
