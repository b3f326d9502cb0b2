/* minhash.c: MinHash signatures, LSH bands, and clusters as stars around kept
 * documents or as union-find components (minhash.h; docs/dedupe.md).
 *
 * Shingle hashing uses hash_u64 (util/hash.h, the splitmix64 finaliser) to combine
 * units, not a cryptographic hash: nothing here is security-sensitive (an adversary
 * who forges collisions can at worst get their own documents merged or kept, which
 * they could do by editing the text), and a shingle costs a few multiplies instead of
 * a SHA-256 block. It is stable across runs and machines, which keeps results
 * reproducible. The H permutations are the universal family of datatrove,
 * (a x + b) mod (2^61 - 1), with a in [1, p) and b in [0, p) drawn from rng_u64(seed, 2k)
 * and rng_u64(seed, 2k + 1). */
#include "data/minhash.h"

#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa.h"
#include "util/hash.h"
#include "util/rng.h"
#include "util/utf8.h"

#define MERSENNE_61 ((1ULL << 61) - 1)

/* The permutations are evaluated PERM_BLOCK at a time (a loop of constant length the
 * compiler vectorises); the arrays are padded to a multiple of it. */
#define PERM_BLOCK 8
#define H_PAD(h) (((h) + PERM_BLOCK - 1) / PERM_BLOCK * PERM_BLOCK)

struct minhash {
    minhash_params p;
    int h;                                /* bands * rows */
    uint64_t a[MINHASH_MAX_HASHES];       /* (H) in [1, 2^61 - 1) */
    uint64_t b[MINHASH_MAX_HASHES];       /* (H) in [0, 2^61 - 1) */
    uint64_t a_lo[MINHASH_MAX_HASHES];    /* (H) a mod 2^32 */
    uint64_t a_hi[MINHASH_MAX_HASHES];    /* (H) a >> 32, < 2^29 */
    void (*perm_min)(const struct minhash *m, const uint64_t *xlo, const uint64_t *xhi, int nx,
                     uint64_t *mins);
};

#define PERM_ARGS const minhash *m, const uint64_t *xlo, const uint64_t *xhi, int nx, uint64_t *mins
static void perm_min_generic(PERM_ARGS);
#if defined(__x86_64__)
static void perm_min_avx512(PERM_ARGS);
static void perm_min_avx2(PERM_ARGS);
#endif

void minhash_params_default(minhash_params *p)
{
    *p = (minhash_params){.kind = MINHASH_CHARS, .n = 5, .bands = 14, .rows = 8,
                          .seed = 0x646f6b6a61ULL, .threshold = 0.8, .cluster = MINHASH_STARS};
}

int minhash_params_check(const minhash_params *p, dk_err *err)
{
    if (p->kind != MINHASH_WORDS && p->kind != MINHASH_CHARS)
        return dk_errf(err, "minhash: unknown shingle kind %d", (int)p->kind);
    if (p->cluster != MINHASH_STARS && p->cluster != MINHASH_COMPONENTS)
        return dk_errf(err, "minhash: unknown clustering %d", (int)p->cluster);
    if (p->n < 1 || p->n > MINHASH_MAX_N)
        return dk_errf(err, "minhash: shingle size %d is not in [1, %d]", p->n, MINHASH_MAX_N);
    if (p->bands < 1 || p->rows < 1 || p->bands > MINHASH_MAX_HASHES ||
        p->rows > MINHASH_MAX_HASHES || p->bands * p->rows > MINHASH_MAX_HASHES)
        return dk_errf(err, "minhash: %d bands x %d rows is not 1..%d hashes", p->bands, p->rows,
                       MINHASH_MAX_HASHES);
    if (!(p->threshold >= 0 && p->threshold <= 1))
        return dk_errf(err, "minhash: threshold %g is not in [0, 1]", p->threshold);
    return 0;
}

minhash *minhash_new(const minhash_params *p, dk_err *err)
{
    if (minhash_params_check(p, err) != 0)
        return NULL;
    minhash *m = malloc(sizeof *m);
    if (!m) {
        dk_errf(err, "minhash: out of memory");
        return NULL;
    }
    m->p = *p;
    m->h = p->bands * p->rows;
    for (int k = 0; k < m->h; k++) {
        m->a[k] = 1 + rng_u64(p->seed, 2 * (uint64_t)k) % (MERSENNE_61 - 1);
        m->b[k] = rng_u64(p->seed, 2 * (uint64_t)k + 1) % MERSENNE_61;
    }
    for (int k = m->h; k < MINHASH_MAX_HASHES; k++)
        m->a[k] = m->b[k] = 0; /* padding: computed, never read */
    for (int k = 0; k < MINHASH_MAX_HASHES; k++) {
        m->a_lo[k] = (uint32_t)m->a[k];
        m->a_hi[k] = m->a[k] >> 32;
    }
    m->perm_min = perm_min_generic;
#if defined(__x86_64__)
    /* the kernels' path (kernels/isa.h: the best this CPU runs, or the one forced) */
    if (isa_current() == DK_ISA_AVX512)
        m->perm_min = perm_min_avx512;
    else if (isa_current() == DK_ISA_AVX2)
        m->perm_min = perm_min_avx2;
#endif
    return m;
}

void minhash_free(minhash *m) { free(m); }
const minhash_params *minhash_get_params(const minhash *m) { return &m->p; }
int minhash_hashes(const minhash *m) { return m->h; }

/* ---- shingles ---------------------------------------------------------------------- */

/* x mod (2^61 - 1) for x < 2^122 + 2^61 (a product plus b). */
static inline uint64_t mod_m61(unsigned __int128 x)
{
    uint64_t r = (uint64_t)(x & MERSENNE_61) + (uint64_t)(x >> 61); /* < 2^62 + 1 */
    r = (r & MERSENNE_61) + (r >> 61);
    return r >= MERSENNE_61 ? r - MERSENNE_61 : r;
}

/* The reference: permutation k of a shingle hash, with a 128-bit product. */
uint64_t minhash_permute(const minhash *m, int k, uint64_t shingle)
{
    uint64_t x = mod_m61(shingle);
    return mod_m61((unsigned __int128)m->a[k] * x + m->b[k]);
}

/* mins[k] = min(mins[k], min over i of (a_k x_i + b_k) mod p) for k in [0, H_PAD(h))
 * and a batch of shingles x_i < p given as halves x_i = xhi[i] 2^32 + xlo[i], in
 * 32-bit halves so that it vectorises (no 64x64->128 multiply in SIMD): with
 * a = a1 2^32 + a0 (a1, x1 < 2^29), a x = a1 x1 2^64 + (a1 x0 + a0 x1) 2^32 + a0 x0, and
 * since 2^61 = 1 mod p: 2^64 = 8, mid 2^32 = (mid >> 29) + (mid mod 2^29) 2^32, and
 * lo = (lo >> 61) + (lo mod 2^61). The sum is < 2^63; one fold and one conditional
 * subtraction reduce it. Equal to minhash_permute (tested). The loop over shingles is
 * inside the loop over blocks of hashes, so a block's a, b and minima stay in
 * registers for the whole batch. */
static void perm_min_generic(const minhash *m, const uint64_t *xlo, const uint64_t *xhi,
                             int nx, uint64_t *mins)
{
    int hp = H_PAD(m->h);
    for (int k0 = 0; k0 < hp; k0 += PERM_BLOCK) {
        for (int i = 0; i < nx; i++) {
            uint64_t x0 = xlo[i], x1 = xhi[i];
            for (int k = k0; k < k0 + PERM_BLOCK; k++) {
                uint64_t a0 = m->a_lo[k], a1 = m->a_hi[k];
                uint64_t lo = a0 * x0, mid = a1 * x0 + a0 * x1, hi = a1 * x1;
                uint64_t r = (hi << 3) + (mid >> 29) + ((mid & 0x1FFFFFFFu) << 32) +
                             (lo & MERSENNE_61) + (lo >> 61) + m->b[k];
                r = (r & MERSENNE_61) + (r >> 61);
                r = r >= MERSENNE_61 ? r - MERSENNE_61 : r;
                mins[k] = r < mins[k] ? r : mins[k];
            }
        }
    }
}

#if defined(__x86_64__)
/* The same on 8 lanes (AVX-512) or 4 (AVX2); _mm*_mul_epu32 is the 32x32->64 product of
 * each 64-bit lane's low halves. Values stay below 2^63, so AVX2's signed compares
 * order them correctly (the minima start at p, not at UINT64_MAX, for that reason). */
__attribute__((target("avx512f"))) static void perm_min_avx512(const minhash *m,
                                                               const uint64_t *xlo,
                                                               const uint64_t *xhi, int nx,
                                                               uint64_t *mins)
{
    const __m512i p = _mm512_set1_epi64((long long)MERSENNE_61),
                  m29 = _mm512_set1_epi64(0x1FFFFFFF);
    int hp = H_PAD(m->h);
    for (int k = 0; k < hp; k += 8) {
        const __m512i a0 = _mm512_loadu_si512(m->a_lo + k), a1 = _mm512_loadu_si512(m->a_hi + k),
                      b = _mm512_loadu_si512(m->b + k);
        __m512i cur = _mm512_loadu_si512(mins + k);
        for (int i = 0; i < nx; i++) {
            __m512i x0 = _mm512_set1_epi64((long long)xlo[i]),
                    x1 = _mm512_set1_epi64((long long)xhi[i]);
            __m512i lo = _mm512_mul_epu32(a0, x0), hi = _mm512_mul_epu32(a1, x1);
            __m512i mid = _mm512_add_epi64(_mm512_mul_epu32(a1, x0), _mm512_mul_epu32(a0, x1));
            __m512i r = _mm512_add_epi64(_mm512_slli_epi64(hi, 3), _mm512_srli_epi64(mid, 29));
            r = _mm512_add_epi64(r, _mm512_slli_epi64(_mm512_and_si512(mid, m29), 32));
            r = _mm512_add_epi64(r, _mm512_and_si512(lo, p));
            r = _mm512_add_epi64(r, _mm512_srli_epi64(lo, 61));
            r = _mm512_add_epi64(r, b);
            r = _mm512_add_epi64(_mm512_and_si512(r, p), _mm512_srli_epi64(r, 61));
            r = _mm512_min_epu64(r, _mm512_sub_epi64(r, p)); /* r - p wraps when r < p */
            cur = _mm512_min_epu64(cur, r);
        }
        _mm512_storeu_si512(mins + k, cur);
    }
}

__attribute__((target("avx2"))) static void perm_min_avx2(const minhash *m, const uint64_t *xlo,
                                                          const uint64_t *xhi, int nx,
                                                          uint64_t *mins)
{
    const __m256i p = _mm256_set1_epi64x((long long)MERSENNE_61),
                  m29 = _mm256_set1_epi64x(0x1FFFFFFF), zero = _mm256_setzero_si256();
    int hp = H_PAD(m->h);
    for (int k = 0; k < hp; k += 4) {
        const __m256i a0 = _mm256_loadu_si256((const __m256i *)(m->a_lo + k)),
                      a1 = _mm256_loadu_si256((const __m256i *)(m->a_hi + k)),
                      b = _mm256_loadu_si256((const __m256i *)(m->b + k));
        __m256i cur = _mm256_loadu_si256((const __m256i *)(mins + k));
        for (int i = 0; i < nx; i++) {
            __m256i x0 = _mm256_set1_epi64x((long long)xlo[i]),
                    x1 = _mm256_set1_epi64x((long long)xhi[i]);
            __m256i lo = _mm256_mul_epu32(a0, x0), hi = _mm256_mul_epu32(a1, x1);
            __m256i mid = _mm256_add_epi64(_mm256_mul_epu32(a1, x0), _mm256_mul_epu32(a0, x1));
            __m256i r = _mm256_add_epi64(_mm256_slli_epi64(hi, 3), _mm256_srli_epi64(mid, 29));
            r = _mm256_add_epi64(r, _mm256_slli_epi64(_mm256_and_si256(mid, m29), 32));
            r = _mm256_add_epi64(r, _mm256_and_si256(lo, p));
            r = _mm256_add_epi64(r, _mm256_srli_epi64(lo, 61));
            r = _mm256_add_epi64(r, b);
            r = _mm256_add_epi64(_mm256_and_si256(r, p), _mm256_srli_epi64(r, 61));
            __m256i t = _mm256_sub_epi64(r, p); /* negative when r < p: keep r */
            r = _mm256_blendv_epi8(t, r, _mm256_cmpgt_epi64(zero, t));
            cur = _mm256_blendv_epi8(cur, r, _mm256_cmpgt_epi64(cur, r));
        }
        _mm256_storeu_si256((__m256i *)(mins + k), cur);
    }
}
#endif

/* Where shingle hashes go: into the running minima of a signature (through a batch of
 * SINK_BATCH shingles), or a list. */
#define SINK_BATCH 64

typedef struct {
    const minhash *m;
    uint64_t *mins; /* (H_PAD) or NULL */
    uint64_t xlo[SINK_BATCH], xhi[SINK_BATCH];
    int nx;
    uint64_t *out;  /* list mode */
    size_t cap, count;
} sink;

static void sink_flush(sink *s)
{
    if (s->mins && s->nx)
        s->m->perm_min(s->m, s->xlo, s->xhi, s->nx, s->mins);
    s->nx = 0;
}

static inline void sink_put(sink *s, uint64_t h)
{
    if (s->mins) {
        uint64_t x = mod_m61(h);
        s->xlo[s->nx] = (uint32_t)x;
        s->xhi[s->nx] = x >> 32;
        if (++s->nx == SINK_BATCH)
            sink_flush(s);
    } else if (s->count < s->cap) {
        s->out[s->count] = h;
    }
    s->count++;
}

/* The unit stream (words or characters) as a sliding window of n. A shingle's hash is
 * a polynomial over its mixed units, sum u_i B^(k-1-i) mod 2^64 (B odd), updated in
 * O(1) per unit as the window slides, then mixed with its length k: hash_u64(h + k).
 * k = n for every full shingle; k < n only for the one shingle of a short document. */
#define ROLL_B 0x9E3779B97F4A7C15ULL

typedef struct {
    uint64_t ring[MINHASH_MAX_N]; /* the mixed units in the window */
    uint64_t h, bn;               /* the polynomial; B^n */
    int n, filled, pos;           /* pos: where the next unit goes (the oldest, when full) */
    size_t units;
} window;

static void window_init(window *w, int n)
{
    memset(w, 0, sizeof *w);
    w->n = n;
    w->bn = 1;
    for (int i = 0; i < n; i++)
        w->bn *= ROLL_B;
}

static inline void window_push(window *w, sink *s, uint64_t unit)
{
    uint64_t u = hash_u64(unit);
    w->h = w->h * ROLL_B + u;
    if (w->filled == w->n)
        w->h -= w->ring[w->pos] * w->bn;
    else
        w->filled++;
    w->ring[w->pos] = u;
    w->pos = w->pos + 1 == w->n ? 0 : w->pos + 1;
    w->units++;
    if (w->filled == w->n)
        sink_put(s, hash_u64(w->h + (uint64_t)w->n));
}

static inline uint32_t fold_case(uint32_t cp)
{
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7))
        return cp + 0x20;
    return cp;
}

#define FNV_PRIME 0x100000001b3ULL
#define FNV_BASIS 0xcbf29ce484222325ULL

static void shingle_text(const minhash *m, const char *text, size_t len, sink *s)
{
    const uint8_t *t = (const uint8_t *)text;
    window w;
    window_init(&w, m->p.n);
    int chars = m->p.kind == MINHASH_CHARS;
    uint64_t word = FNV_BASIS; /* words: FNV-1a over the code points of the word */
    int in_word = 0, pending_space = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t l = utf8_decode(t + i, len - i, &cp);
        int sep;
        if (l == 0) { /* an invalid byte: a character of its own, above U+10FFFF */
            cp = 0x110000u + t[i];
            l = 1;
            sep = 0;
        } else {
            uclass c = utf8_class(cp);
            sep = c == UC_SPACE || c == UC_PUNCT;
            cp = fold_case(cp);
        }
        i += l;
        if (sep) {
            if (in_word && !chars)
                window_push(&w, s, word);
            pending_space |= in_word;
            in_word = 0;
            word = FNV_BASIS;
            continue;
        }
        if (chars) {
            if (pending_space)
                window_push(&w, s, ' ');
            pending_space = 0;
            window_push(&w, s, cp);
        } else {
            word = (word ^ cp) * FNV_PRIME;
        }
        in_word = 1;
    }
    if (in_word && !chars)
        window_push(&w, s, word);
    if (w.units > 0 && w.filled < w.n) /* a short document: one shingle of all its units */
        sink_put(s, hash_u64(w.h + (uint64_t)w.filled));
}

size_t minhash_signature(const minhash *m, const char *text, size_t len, uint32_t *sig)
{
    uint64_t mins[MINHASH_MAX_HASHES];
    for (int k = 0; k < H_PAD(m->h); k++)
        mins[k] = MERSENNE_61; /* above every value (they are < p) */
    sink s = {.m = m, .mins = mins};
    shingle_text(m, text, len, &s);
    sink_flush(&s);
    for (int k = 0; k < m->h; k++)
        sig[k] = s.count ? (uint32_t)mins[k] : UINT32_MAX;
    return s.count;
}

size_t minhash_shingles(const minhash *m, const char *text, size_t len, uint64_t *out,
                        size_t cap)
{
    sink s = {.m = m, .out = out, .cap = cap};
    shingle_text(m, text, len, &s);
    return s.count;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static size_t sort_unique(uint64_t *a, size_t n)
{
    if (n == 0)
        return 0;
    qsort(a, n, sizeof *a, cmp_u64);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (a[i] != a[k - 1])
            a[k++] = a[i];
    return k;
}

double minhash_jaccard(uint64_t *a, size_t na, uint64_t *b, size_t nb)
{
    na = sort_unique(a, na);
    nb = sort_unique(b, nb);
    if (na + nb == 0)
        return 1;
    size_t i = 0, j = 0, both = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j])
            both++, i++, j++;
        else if (a[i] < b[j])
            i++;
        else
            j++;
    }
    return (double)both / (double)(na + nb - both);
}

double minhash_agreement(const uint32_t *a, const uint32_t *b, int hashes)
{
    int same = 0;
    for (int k = 0; k < hashes; k++)
        same += a[k] == b[k];
    return (double)same / hashes;
}

/* ---- the index --------------------------------------------------------------------- */

struct minhash_index {
    const minhash *m;
    uint32_t *sigs;  /* (cap, H) */
    uint8_t *has;    /* (cap) 1: the document has shingles */
    size_t n, cap;
};

minhash_index *minhash_index_new(const minhash *m)
{
    minhash_index *x = calloc(1, sizeof *x);
    if (x)
        x->m = m;
    return x;
}

void minhash_index_free(minhash_index *x)
{
    if (!x)
        return;
    free(x->sigs);
    free(x->has);
    free(x);
}

size_t minhash_index_size(const minhash_index *x) { return x->n; }

/* Room for `more` documents. */
static int index_reserve(minhash_index *x, size_t more, dk_err *err)
{
    if (more > UINT32_MAX || x->n + more > UINT32_MAX)
        return dk_errf(err, "minhash: more than 2^32 - 1 documents");
    if (x->n + more <= x->cap)
        return 0;
    size_t cap = x->cap ? x->cap : 1024;
    while (cap < x->n + more)
        cap *= 2;
    size_t h = (size_t)x->m->h;
    uint32_t *s = realloc(x->sigs, cap * h * sizeof *s);
    if (!s)
        return dk_errf(err, "minhash: out of memory for %zu signatures", cap);
    x->sigs = s;
    uint8_t *has = realloc(x->has, cap);
    if (!has)
        return dk_errf(err, "minhash: out of memory for %zu signatures", cap);
    x->has = has;
    x->cap = cap;
    return 0;
}

int minhash_index_add(minhash_index *x, const uint32_t *sig, int has_shingles, dk_err *err)
{
    if (index_reserve(x, 1, err) != 0)
        return -1;
    size_t h = (size_t)x->m->h;
    memcpy(x->sigs + x->n * h, sig, h * sizeof *sig);
    x->has[x->n++] = has_shingles != 0;
    return 0;
}

typedef struct {
    const minhash *m;
    const char *const *docs;
    const size_t *lens;
    uint32_t *sigs; /* (n, H) */
    uint8_t *has;   /* (n) */
} sign_job;

static void sign_range(void *vc, size_t begin, size_t end)
{
    sign_job *j = vc;
    size_t h = (size_t)j->m->h;
    for (size_t d = begin; d < end; d++)
        j->has[d] = minhash_signature(j->m, j->docs[d], j->lens[d], j->sigs + d * h) > 0;
}

int minhash_index_add_docs(minhash_index *x, const char *const *docs, const size_t *lens,
                           size_t n, pool *pl, dk_err *err)
{
    if (index_reserve(x, n, err) != 0)
        return -1;
    size_t h = (size_t)x->m->h;
    sign_job j = {x->m, docs, lens, x->sigs + x->n * h, x->has + x->n};
    if (pl)
        pool_for_range(pl, n, 64, sign_range, &j);
    else
        sign_range(&j, 0, n);
    x->n += n;
    return 0;
}

/* Union-find whose root is always the lowest id of its set. */
static uint32_t uf_find(uint32_t *parent, uint32_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]]; /* path halving */
        i = parent[i];
    }
    return i;
}

static void uf_union(uint32_t *parent, uint32_t a, uint32_t b)
{
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a < b)
        parent[b] = a;
    else if (b < a)
        parent[a] = b;
}

typedef struct {
    uint64_t key;
    uint32_t id;
} band_entry;

static int cmp_band(const void *pa, const void *pb)
{
    const band_entry *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Sorts band `band`'s (key, id) pairs of the documents with shingles into e; returns
 * their number. Equal keys end up adjacent, in increasing id. */
static size_t band_sort(const minhash_index *x, int band, band_entry *e)
{
    size_t n = x->n, h = (size_t)x->m->h, rows = (size_t)x->m->p.rows, m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!x->has[i])
            continue;
        const uint32_t *row = x->sigs + i * h + (size_t)band * rows;
        e[m].key = hash_bytes(row, rows * sizeof *row);
        e[m].id = (uint32_t)i;
        m++;
    }
    qsort(e, m, sizeof *e, cmp_band);
    return m;
}

/* Whether documents a and b agree at >= need of the H signature positions. */
static int verified(const minhash_index *x, uint32_t a, uint32_t b, int need)
{
    size_t h = (size_t)x->m->h;
    const uint32_t *sa = x->sigs + (size_t)a * h, *sb = x->sigs + (size_t)b * h;
    int same = 0;
    for (size_t k = 0; k < h; k++)
        same += sa[k] == sb[k];
    return same >= need;
}

/* How many earlier members of a bucket a document is compared with, at most: it bounds
 * the work on a huge bucket (a boilerplate text in 10^5 copies) to a constant per
 * document and band. In such a bucket the first members are the kept copies, found at
 * once; a document missed here can still be caught through another band. */
#define VERIFY_TRIES 8
#define SCAN_LIMIT 256

/* Connected components (union-find) of the verified candidate pairs. A document is
 * compared with its bucket's first member, then with its nearest predecessors. */
static void cluster_components(const minhash_index *x, band_entry *e, int need, uint32_t *parent)
{
    for (int band = 0; band < x->m->p.bands; band++) {
        size_t m = band_sort(x, band, e);
        for (size_t g = 0; g < m;) {
            size_t end = g + 1;
            while (end < m && e[end].key == e[g].key)
                end++;
            for (size_t j = g + 1; j < end; j++) {
                uint32_t d = e[j].id;
                for (size_t t = 0; t < VERIFY_TRIES && t < j - g; t++) {
                    uint32_t c = t == 0 ? e[g].id : e[j - t].id;
                    if (t > 0 && j - t == g)
                        break;
                    if (uf_find(parent, c) == uf_find(parent, d))
                        break;
                    if (need == 0 || verified(x, c, d, need)) {
                        uf_union(parent, c, d);
                        break;
                    }
                }
            }
            g = end;
        }
    }
    for (size_t i = 0; i < x->n; i++)
        parent[i] = uf_find(parent, (uint32_t)i);
}

/* Stars around kept documents: documents in id order; one is dropped for the lowest
 * kept document that shares a band bucket with it and passes the check, else kept.
 * Needs, per band, the ids in bucket order and each document's bucket start. */
static int cluster_stars(const minhash_index *x, band_entry *e, int need, uint32_t *keep_of,
                         dk_err *err)
{
    size_t n = x->n;
    int bands = x->m->p.bands;
    uint32_t *order = malloc((n ? n : 1) * (size_t)bands * sizeof *order); /* (bands, m) */
    uint32_t *start = malloc((n ? n : 1) * (size_t)bands * sizeof *start); /* (bands, n) */
    if (!order || !start) {
        free(order);
        free(start);
        return dk_errf(err, "minhash: out of memory for %zu documents", n);
    }
    for (int band = 0; band < bands; band++) {
        size_t m = band_sort(x, band, e);
        uint32_t *ob = order + (size_t)band * n, *sb = start + (size_t)band * n;
        for (size_t i = 0, g = 0; i < m; i++) {
            if (e[i].key != e[g].key)
                g = i;
            ob[i] = e[i].id;
            sb[e[i].id] = (uint32_t)g;
        }
    }
    for (size_t d = 0; d < n; d++) {
        keep_of[d] = (uint32_t)d;
        if (!x->has[d])
            continue;
        uint32_t best = (uint32_t)d;
        for (int band = 0; band < bands; band++) {
            const uint32_t *ob = order + (size_t)band * n;
            int tries = 0;
            /* members before d in its bucket are exactly the earlier ids */
            for (size_t i = start[(size_t)band * n + d], k = 0;
                 ob[i] != d && ob[i] < best && tries < VERIFY_TRIES && k < SCAN_LIMIT; i++, k++) {
                uint32_t c = ob[i];
                if (keep_of[c] != c)
                    continue; /* dropped: not a representative */
                tries++;
                if (need == 0 || verified(x, c, (uint32_t)d, need)) {
                    best = c;
                    break;
                }
            }
        }
        keep_of[d] = best;
    }
    free(order);
    free(start);
    return 0;
}

int minhash_index_cluster(minhash_index *x, uint32_t *keep_of, size_t *n_dropped, dk_err *err)
{
    size_t n = x->n, h = (size_t)x->m->h;
    const minhash_params *p = &x->m->p;
    band_entry *e = malloc((n ? n : 1) * sizeof *e);
    if (!e)
        return dk_errf(err, "minhash: out of memory for %zu documents", n);
    /* agreement >= threshold, as a count of positions (no rounding surprises) */
    int need = 0;
    while ((double)need < p->threshold * (double)h)
        need++;
    int rc = 0;
    if (p->cluster == MINHASH_COMPONENTS) {
        for (size_t i = 0; i < n; i++)
            keep_of[i] = (uint32_t)i;
        cluster_components(x, e, need, keep_of);
    } else {
        rc = cluster_stars(x, e, need, keep_of, err);
    }
    free(e);
    size_t dropped = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        dropped += keep_of[i] != i;
    if (rc == 0 && n_dropped)
        *n_dropped = dropped;
    return rc;
}

int minhash_dedupe(const minhash_params *p, const char *const *docs, const size_t *lens,
                   size_t n, pool *pl, uint32_t *keep_of, size_t *n_dropped, dk_err *err)
{
    minhash *m = minhash_new(p, err);
    if (!m)
        return -1;
    minhash_index *x = minhash_index_new(m);
    int rc = x ? 0 : dk_errf(err, "minhash: out of memory");
    if (rc == 0)
        rc = minhash_index_add_docs(x, docs, lens, n, pl, err);
    if (rc == 0)
        rc = minhash_index_cluster(x, keep_of, n_dropped, err);
    minhash_index_free(x);
    minhash_free(m);
    return rc;
}
