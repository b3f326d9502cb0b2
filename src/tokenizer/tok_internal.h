/* tok_internal.h: the tokenizer's representation, shared by its own files only. */
#ifndef DK_TOKENIZER_TOK_INTERNAL_H
#define DK_TOKENIZER_TOK_INTERNAL_H

#include "tokenizer/tokenizer.h"
#include "util/hash.h"

struct tok {
    enum tok_norm norm;
    enum tok_pretok pretok;
    uint32_t n_special, n_merges, n_vocab, first_merge; /* first_merge = 256 + n_special */
    char **special;          /* [n_special] NUL-terminated texts */
    /* A foreign vocabulary (tok_vocab.c: a GGUF's or a tokenizer.json's) has ids in any
     * order: special_id[i] is special i's id, byte_id[b] the id a byte starts as, and the
     * merge lookup gives a merge's rank, whose result merge_result[rank] is. dokja's own
     * tokenizers have none of these arrays: specials are 256 + i, byte b is id b, and a
     * merge's rank is its result id. */
    int foreign;
    dk_token *special_id;    /* [n_special] or NULL */
    uint32_t *byte_id;       /* [256] or NULL */
    uint32_t *merge_result;  /* [n_merges] or NULL */
    dk_token bos, eos;       /* document start and end (-1: none) */
    int add_bos, ignore_merges;
    float *scores;           /* SentencePiece: [n_vocab] scores, else NULL */
    int spm, spm_prefix;     /* SentencePiece BPE; add a leading U+2581 */
    /* bytes -> id of every token (foreign vocabularies: ignore_merges and SentencePiece) */
    struct tok_vslot { uint64_t hash; uint32_t id; } *vslots;
    size_t vmask;
    uint32_t (*merges)[2];   /* [n_merges] */
    uint32_t *tok_off;       /* [n_vocab + 1] offsets of each token's bytes in blob */
    uint8_t *blob;
    uint8_t *partial;        /* [n_vocab] 1 if the token's bytes are not whole UTF-8 characters */
    /* Merge lookup. Pairs of two bytes, where every chunk's BPE starts, index a
     * direct table; other pairs use open addressing on key (left << 32 | right),
     * key and result side by side so a probe touches one cache line. */
    uint32_t *byte_pairs;    /* [65536] result id or TOK_NO_MERGE */
    struct tok_mslot { uint64_t key; uint32_t val; } *mslots;
    size_t mmask;
    int mshift; /* 64 - log2(mslots' size) */
    /* A filter in front of both: one bit per hash of a pair, set for every merge's
     * pair (32 bits per merge: a pair that does not merge finds its bit clear 97 % of
     * the time). Most lookups are of pairs that do not merge (every pair left at the
     * end of a chunk's BPE, and the ones formed on the way); the filter answers them
     * from a few KB that stay in L1, where a probe of the tables is an L2 access and
     * a miss probes past every key of its run. */
    uint64_t *pair_bits;
    int pshift; /* 64 - log2(bits) */
};

/* Allocates the merge tables for n merges, empty (tok_core.c). 0, or -1 when out of
 * memory (tok_free releases what was allocated). */
int tok_merge_tables_new(tok *t, size_t n_merges);

#define TOK_NO_MERGE UINT32_MAX

/* A pair's home slot: Fibonacci hashing, the top bits of one multiply (a full
 * finaliser cost a third of a lookup, and BPE on a chunk is mostly lookups). The
 * keys are dense small pairs, whose products spread well; probing is linear. */
static inline uint64_t tok_pair_hash(uint64_t key) { return key * 0x9E3779B97F4A7C15ULL; }

static inline size_t tok_merge_home(const tok *t, uint64_t key)
{
    return (size_t)(tok_pair_hash(key) >> t->mshift);
}

static inline uint32_t tok_merge_lookup(const tok *t, uint32_t a, uint32_t b)
{
    uint64_t key = ((uint64_t)a << 32) | b, bit = tok_pair_hash(key) >> t->pshift;
    if (!(t->pair_bits[bit >> 6] >> (bit & 63) & 1))
        return TOK_NO_MERGE;
    if ((a | b) < 256)
        return t->byte_pairs[a << 8 | b];
    size_t i = tok_merge_home(t, key);
    for (;;) {
        uint64_t k = t->mslots[i].key;
        if (k == key)
            return t->mslots[i].val;
        if (k == UINT64_MAX)
            return TOK_NO_MERGE;
        i = (i + 1) & t->mmask;
    }
}

/* Records that pair (a, b) merges with rank r (the pair must be new). */
static inline void tok_merge_insert(tok *t, uint32_t a, uint32_t b, uint32_t r)
{
    uint64_t key = ((uint64_t)a << 32) | b, bit = tok_pair_hash(key) >> t->pshift;
    t->pair_bits[bit >> 6] |= (uint64_t)1 << (bit & 63);
    if ((a | b) < 256) {
        t->byte_pairs[a << 8 | b] = r;
        return;
    }
    size_t h = tok_merge_home(t, key);
    while (t->mslots[h].key != UINT64_MAX)
        h = (h + 1) & t->mmask;
    t->mslots[h].key = key;
    t->mslots[h].val = r;
}

/* The id a merge of rank r produces. */
static inline uint32_t tok_merge_result(const tok *t, uint32_t r)
{
    return t->merge_result ? t->merge_result[r] : r;
}

/* The id whose bytes are s[0..n), or TOK_NO_MERGE (foreign vocabularies only). */
uint32_t tok_vocab_find(const tok *t, const uint8_t *s, size_t n);

/* SentencePiece BPE of text (tok_spm.c). */
int tok_spm_encode(const tok *t, const uint8_t *s, size_t n, tok_ids *out, dk_err *err);

/* BPE on one chunk, sym[0..n) its byte ids on entry and its tokens on return: merges
 * applied lowest id first, leftmost first. The scan (quadratic, on the stack) takes
 * n <= TOK_BPE_SCAN_MAX and returns the new length; the heap version takes any n,
 * stores the new length in *out_n and fails (-1) only when memory runs out. Both give
 * the same tokens (tests/test_tokenizer.c checks). */
#define TOK_BPE_SCAN_MAX 256
size_t tok_bpe_scan(const tok *t, uint32_t *sym, size_t n);
int tok_bpe_heap(const tok *t, uint32_t *sym, size_t n, size_t *out_n);

#endif
