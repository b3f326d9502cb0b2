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

#include "kernels/kern_ops.h"
#include "util/hash.h"
#include "util/hugemem.h"
#include "util/rng.h"
#include "util/utf8.h"

/* Densification probes are drawn from a hash of (seed, bin, attempt); the first
 * PROBES_CACHED of each bin are precomputed, later ones (a document with very few
 * shingles) computed on the fly: same targets either way. */
#define PROBES_CACHED 32
#define MAX_ATTEMPTS(h) (64u * (uint32_t)(h))
#define FIRST_MAX_H 256   /* MAX_ATTEMPTS(256) = 16384 fits a uint16_t */
#define NO_PROBE UINT16_MAX
#define FIRST_PAD(h) (((h) + 15u) / 16u * 16u)

struct minhash {
    minhash_params p;
    int h;                /* bands * rows = the number of bins */
    uint64_t key;         /* mixed into every shingle hash: the seed */
    uint64_t probe_seed;
    uint16_t probe[MINHASH_MAX_HASHES][PROBES_CACHED];
    /* first[j * FIRST_PAD(H) + i]: the first attempt at which bin i's probes reach bin j (NO_PROBE:
     * not within MAX_ATTEMPTS), for H <= FIRST_MAX_H; NULL above. Row j serves every
     * empty bin at once: densify's inner loop runs over i and vectorises. */
    uint16_t *first;
};

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

/* x in [0, 2^64) scaled to [0, k): the high half of x_hi * k (Lemire's reduction, no
 * division, unbiased to 2^-32). */
static inline uint32_t scale(uint64_t x, uint32_t k)
{
    return (uint32_t)(((x >> 32) * (uint64_t)k) >> 32);
}

uint32_t minhash_probe(const minhash *m, int bin, uint32_t attempt)
{
    return scale(rng_u64(m->probe_seed, ((uint64_t)bin << 32) | attempt), (uint32_t)m->h);
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
    m->key = rng_u64(p->seed, 0);
    m->probe_seed = rng_u64(p->seed, 1);
    for (int b = 0; b < m->h; b++)
        for (uint32_t t = 0; t < PROBES_CACHED; t++)
            m->probe[b][t] = (uint16_t)minhash_probe(m, b, t);
    m->first = NULL;
    if (m->h <= FIRST_MAX_H) {
        size_t h = (size_t)m->h, hp = FIRST_PAD(h);
        m->first = malloc(h * hp * sizeof *m->first);
        if (!m->first) {
            free(m);
            dk_errf(err, "minhash: out of memory");
            return NULL;
        }
        for (size_t k = 0; k < h * hp; k++)
            m->first[k] = NO_PROBE;
        for (size_t i = 0; i < h; i++) {
            size_t seen = 0;
            for (uint32_t t = 0; t < MAX_ATTEMPTS(h) && seen < h; t++) {
                uint16_t *f = m->first + (size_t)minhash_probe(m, (int)i, t) * hp + i;
                if (*f == NO_PROBE) {
                    *f = (uint16_t)t;
                    seen++;
                }
            }
        }
    }
    return m;
}

void minhash_free(minhash *m)
{
    if (m)
        free(m->first);
    free(m);
}
const minhash_params *minhash_get_params(const minhash *m) { return &m->p; }
int minhash_hashes(const minhash *m) { return m->h; }

/* ---- shingles ---------------------------------------------------------------------- */

/* Where shingle hashes go: into the bins of a signature (one permutation hashing:
 * the shingle's keyed hash picks a bin with its high half and competes for the bin's
 * minimum with its low half), or a list. */
typedef struct {
    const minhash *m;
    uint64_t *bins; /* (H) minima; EMPTY_BIN until a shingle falls in */
    uint64_t *out;  /* list mode */
    size_t cap, count;
} sink;

#define EMPTY_BIN (1ULL << 32) /* above every 32-bit value */

static inline void place(const minhash *m, uint64_t shingle, uint32_t *bin, uint32_t *value)
{
    uint64_t x = hash_u64(shingle ^ m->key);
    *bin = scale(x, (uint32_t)m->h);
    *value = (uint32_t)x;
}

void minhash_place(const minhash *m, uint64_t shingle, uint32_t *bin, uint32_t *value)
{
    place(m, shingle, bin, value);
}

static inline void sink_put(sink *s, uint64_t h)
{
    if (s->bins) {
        uint32_t b, v;
        place(s->m, h, &b, &v);
        s->bins[b] = v < s->bins[b] ? v : s->bins[b];
    } else if (s->count < s->cap) {
        s->out[s->count] = h;
    }
    s->count++;
}

/* The unit stream (words or characters) as a sliding window of n. A shingle's hash is
 * a polynomial over its mixed units, sum u_i B^(k-1-i) mod 2^64 (B = MH_ROLL_B, odd),
 * then mixed with its length k: hash_u64(h + k). k = n for every full shingle; k < n
 * only for the one shingle of a short document. The units are gathered in blocks and
 * hashed, combined and placed by the kernel path's mh_mix and mh_shingles (8 lanes on
 * AVX-512; the same integers on every path), then dropped into the bins here. */
#define UNIT_BLOCK 256 /* shingles per kernel call */

typedef struct {
    uint64_t u[UNIT_BLOCK + MINHASH_MAX_N]; /* units; [0, mixed) are mixed already */
    uint64_t out[UNIT_BLOCK];               /* the block's shingles or places */
    size_t nu, mixed, units;
    int n;
} window;

static void window_init(window *w, int n)
{
    w->nu = w->mixed = w->units = 0;
    w->n = n;
}

/* The shingles of the units so far, the last n - 1 units kept for the next ones. */
static void window_flush(window *w, sink *s)
{
    const kern_ops *k = kern();
    size_t n = (size_t)w->n;
    k->mh_mix(w->u + w->mixed, w->nu - w->mixed);
    w->mixed = w->nu;
    if (w->nu < n)
        return;
    size_t m = w->nu - (n - 1);
    k->mh_shingles(w->u, m, w->n, s->m->key, s->bins ? (uint32_t)s->m->h : 0, w->out);
    if (s->bins) {
        uint64_t *bins = s->bins;
        for (size_t i = 0; i < m; i++) {
            uint64_t b = w->out[i] >> 32, v = (uint32_t)w->out[i];
            bins[b] = v < bins[b] ? v : bins[b];
        }
    } else {
        for (size_t i = 0; i < m && s->count + i < s->cap; i++)
            s->out[s->count + i] = w->out[i];
    }
    s->count += m;
    memmove(w->u, w->u + m, (n - 1) * sizeof *w->u);
    w->nu = w->mixed = n - 1;
}

static inline void window_push(window *w, sink *s, uint64_t unit)
{
    w->u[w->nu++] = unit;
    w->units++;
    if (w->nu == UNIT_BLOCK + (size_t)w->n - 1)
        window_flush(w, s);
}

/* The last shingles; a short document's one shingle of all its units. */
static void window_end(window *w, sink *s)
{
    window_flush(w, s);
    if (w->units > 0 && w->units < (size_t)w->n) { /* one window of all its units */
        uint64_t sh;
        kern()->mh_shingles(w->u, 1, (int)w->units, s->m->key, 0, &sh);
        sink_put(s, sh);
    }
}

/* A-Z and Latin-1's capitals (not U+00D7, the multiplication sign) to lower case;
 * without a branch: capitals come at random in English text */
static inline uint32_t fold_case(uint32_t cp)
{
    uint32_t up = (cp - 'A' < 26u) | ((cp - 0xC0u < 0x1Fu) & (cp != 0xD7));
    return cp + (up << 5);
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
    size_t i = 0;
    while (i < len) {
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
    window_end(&w, s);
}

/* Optimal densification (Shrivastava, ICML 2017): an empty bin i takes the value of
 * the first bin that is not empty in the probe sequence probe(i, 0), probe(i, 1), ...
 * (the same sequence for every document), so that two documents agree at bin i with
 * probability equal to their Jaccard similarity whether or not the bin was empty. A
 * bin reached after MAX_ATTEMPTS probes (a probability below (1 - 1/H)^(64 H), about
 * e^-64) takes the next non-empty bin in cyclic order instead: a deterministic end. */
/* After MAX_ATTEMPTS probes: the next non-empty bin in cyclic order. */
static uint32_t borrow_cyclic(const uint8_t *full, uint32_t i, uint32_t h)
{
    uint32_t j = (i + 1) % h;
    while (!full[j])
        j = (j + 1) % h;
    return j;
}

/* The bin that empty bin i borrows from, by probing: the cached probes as one mask of
 * hits (no branch per probe), then on. For H > FIRST_MAX_H. */
static uint32_t borrow_probing(const minhash *m, int i, const uint8_t *full)
{
    uint32_t h = (uint32_t)m->h;
    const uint16_t *pr = m->probe[i];
    uint32_t hits = 0;
    for (int t = 0; t < PROBES_CACHED; t++)
        hits |= (uint32_t)full[pr[t]] << t;
    if (hits)
        return pr[__builtin_ctz(hits)];
    for (uint32_t t = PROBES_CACHED; t < MAX_ATTEMPTS(h); t++) {
        uint32_t j = minhash_probe(m, i, t);
        if (full[j])
            return j;
    }
    return borrow_cyclic(full, (uint32_t)i, h);
}

static void densify(const minhash *m, const uint64_t *bins, uint32_t *sig)
{
    uint32_t h = (uint32_t)m->h;
    uint8_t full[MINHASH_MAX_HASHES]; /* bins[j] != EMPTY_BIN, as 0/1 */
    int n_full = 0;
    for (uint32_t i = 0; i < h; i++) {
        full[i] = bins[i] != EMPTY_BIN;
        n_full += full[i];
    }
    if (!m->first)
        n_full = (int)h; /* probing only */
    if (n_full > (int)h * 3 / 4) { /* few empty bins, each found within a few probes */
        for (uint32_t i = 0; i < h; i++)
            sig[i] = (uint32_t)bins[full[i] ? i : borrow_probing(m, (int)i, full)];
        return;
    }
    /* More empty bins: best[i] = min over non-empty j of (the first attempt of i
     * reaching j) << 8 | j, the bin probing finds (the attempts reaching different bins
     * differ), in (non-empty bins) x H steps of a vector kernel (rows padded to
     * FIRST_PAD(H)). */
    uint32_t best[FIRST_PAD(FIRST_MAX_H)];
    uint32_t hp = FIRST_PAD(h);
    for (uint32_t i = 0; i < hp; i++)
        best[i] = UINT32_MAX;
    uint8_t rows[FIRST_MAX_H]; /* the non-empty bins (< 256), gathered without a branch */
    size_t nr = 0;
    for (uint32_t j = 0; j < h; j++) {
        rows[nr] = (uint8_t)j;
        nr += full[j];
    }
    kern()->min_tagged_rows_u16(best, m->first, hp, rows, nr, hp);
    uint32_t missed = kern()->mh_pick(bins, best, full, h, sig);
    for (uint32_t i = 0; missed && i < h; i++) /* no probe of 64 H reached a non-empty bin: rare */
        if (!full[i] && best[i] >> 8 == NO_PROBE)
            sig[i] = (uint32_t)bins[borrow_cyclic(full, i, h)];
}

size_t minhash_signature(const minhash *m, const char *text, size_t len, uint32_t *sig)
{
    uint64_t bins[MINHASH_MAX_HASHES];
    for (int k = 0; k < m->h; k++)
        bins[k] = EMPTY_BIN;
    sink s = {.m = m, .bins = bins};
    shingle_text(m, text, len, &s);
    if (s.count == 0) {
        for (int k = 0; k < m->h; k++)
            sig[k] = UINT32_MAX;
        return 0;
    }
    densify(m, bins, sig);
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

/* The index keeps 8 bits per position (b-bit minwise hashing, Li and König, WWW 2010):
 * a quarter of the 32-bit values' memory. The 8 bits are a hash of (value, position),
 * not the value's low byte: a short document's densified signature repeats a few
 * values over all positions, and two short documents whose values merely shared their
 * low bits would agree everywhere (a birthday collision among many short documents);
 * hashed with the position, two different minima agree by chance at each position
 * independently, with probability C = 2^-8. A pair of Jaccard s then agrees at a share
 * s + (1 - s) C of the positions; the match test corrects for it (minhash_index_cluster),
 * and what remains is a spread of about sqrt(112 C) = 0.66 of a position, beside the
 * estimate's own 4 positions at s = 0.8. A band of 8 positions agrees by chance with
 * probability 2^-64. Measured against 16 bits on the planted near-copies
 * (bench/bench_dedupe_eval, docs/dedupe.md): the same recall, no false merge at
 * Jaccard <= 0.5 either way; the index and the signature files are half the size, and a
 * one-line corpus's build 3 % faster (its pages are first touched once fewer). */
typedef uint8_t mh_val;
#define KEPT_CHANCE (1.0 / 256) /* C: two different values agree at a position */

struct minhash_index {
    const minhash *m;
    mh_val *sigs;    /* (cap, H): 8 bits of each value (b-bit MinHash) */
    uint8_t *has;    /* (cap) 1: the document has shingles */
    size_t n, cap;
    hugemem_vec sig_mem, has_mem; /* grown in place: hundreds of MB, never copied */
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
    hugemem_vec_free(&x->sig_mem);
    hugemem_vec_free(&x->has_mem);
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
    if (hugemem_vec_reserve(&x->sig_mem, cap * h * sizeof *x->sigs) != 0 ||
        hugemem_vec_reserve(&x->has_mem, cap) != 0)
        return dk_errf(err, "minhash: out of memory for %zu signatures", cap);
    x->sigs = x->sig_mem.p;
    x->has = x->has_mem.p;
    x->cap = cap;
    return 0;
}

uint8_t minhash_kept_bits(uint32_t v, int k) { return mh_kept_bits(v, (size_t)k); }

int minhash_index_add(minhash_index *x, const uint32_t *sig, int has_shingles, dk_err *err)
{
    if (index_reserve(x, 1, err) != 0)
        return -1;
    size_t h = (size_t)x->m->h;
    kern()->mh_keep_bits(sig, h, x->sigs + x->n * h);
    x->has[x->n++] = has_shingles != 0;
    return 0;
}

typedef struct {
    const minhash *m;
    const char *const *docs;
    const size_t *lens;
    mh_val *sigs;   /* (n, H) */
    uint8_t *has;   /* (n) */
} sign_job;

static void sign_range(void *vc, size_t begin, size_t end)
{
    sign_job *j = vc;
    size_t h = (size_t)j->m->h;
    for (size_t d = begin; d < end; d++) {
        uint32_t sig[MINHASH_MAX_HASHES];
        j->has[d] = minhash_signature(j->m, j->docs[d], j->lens[d], sig) > 0;
        kern()->mh_keep_bits(sig, h, j->sigs + d * h);
    }
}

void minhash_sign_kept(const minhash *m, const char *const *docs, const size_t *lens, size_t n,
                       pool *pl, uint8_t *kept, uint8_t *has)
{
    sign_job j = {m, docs, lens, kept, has};
    if (pl)
        pool_for_range(pl, n, 64, sign_range, &j);
    else
        sign_range(&j, 0, n);
}

int minhash_index_add_docs(minhash_index *x, const char *const *docs, const size_t *lens,
                           size_t n, pool *pl, dk_err *err)
{
    if (index_reserve(x, n, err) != 0)
        return -1;
    size_t h = (size_t)x->m->h;
    minhash_sign_kept(x->m, docs, lens, n, pl, x->sigs + x->n * h, x->has + x->n);
    x->n += n;
    return 0;
}

int minhash_index_add_kept(minhash_index *x, const uint8_t *kept, int has_shingles, dk_err *err)
{
    if (index_reserve(x, 1, err) != 0)
        return -1;
    size_t h = (size_t)x->m->h;
    memcpy(x->sigs + x->n * h, kept, h * sizeof *kept);
    x->has[x->n++] = has_shingles != 0;
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

/* Sorting a band's entries by key, equal keys in increasing id, given them in
 * increasing id (band_radix, below). Keys are hashes, so with bits about log2(m)
 * (radix_bits) of counting sort, runs of equal top bits hold one or two entries on
 * average (with 16 bits, 14 at 900k documents: the insertion sorts were most of a
 * band's time); a run of one repeated key (a text in 10^5 copies) is already in order
 * and costs one pass. */
#define RADIX_MIN_BITS 8
#define RADIX_MAX_BITS 22

static int radix_bits(size_t m)
{
    int bits = RADIX_MIN_BITS;
    while (bits < RADIX_MAX_BITS && ((size_t)1 << bits) < m)
        bits++;
    return bits;
}

/* One stable counting pass of e[0..m) into out by the key's bits [shift, shift + nbits). */
static void radix_pass(const band_entry *e, band_entry *out, size_t m, uint32_t *count, int shift, int nbits)
{
    const size_t nb = (size_t)1 << nbits;
    const uint64_t mask = nb - 1;
    memset(count, 0, nb * sizeof *count);
    for (size_t i = 0; i < m; i++)
        count[(e[i].key >> shift) & mask]++;
    uint32_t sum = 0;
    for (size_t b = 0; b < nb; b++) {
        uint32_t c = count[b];
        count[b] = sum;
        sum += c;
    }
    for (size_t i = 0; i < m; i++)
        out[count[(e[i].key >> shift) & mask]++] = e[i];
}

/* Sorts e[0..m) by key, stably: by its top `bits` bits in two counting passes (the low
 * half first: each pass scatters into at most 2^11 places, where one pass into 2^bits
 * places, 2^20 for a million documents, missed the cache on nearly every entry), then
 * each run of equal top bits by insertion. Returns e, now sorted (tmp is scratch);
 * count has room for 2^11 entries. */
static band_entry *band_radix(band_entry *e, band_entry *tmp, size_t m, uint32_t *count, int bits)
{
    const int lo = bits / 2, hi = bits - lo, shift = 64 - bits;
    radix_pass(e, tmp, m, count, shift, lo);
    radix_pass(tmp, e, m, count, 64 - hi, hi);
    for (size_t start = 0; start < m;) {
        uint64_t top = e[start].key >> shift;
        size_t end = start + 1;
        while (end < m && e[end].key >> shift == top)
            end++;
        for (size_t i = start + 1; i < end; i++) {
            band_entry x = e[i];
            size_t j = i;
            while (j > start && e[j - 1].key > x.key) {
                e[j] = e[j - 1];
                j--;
            }
            e[j] = x;
        }
        start = end;
    }
    return e;
}

/* Per band, only the buckets that hold two documents or more: nearly every document
 * of a real corpus is alone in its bucket in every band, cannot cluster there, and is
 * kept with no work. A band's buckets of two or more: their members in bucket order
 * (equal band values adjacent, ids increasing in a bucket), where each bucket starts,
 * and for every member but a bucket's first (its lowest id) an entry {id, its bucket's
 * start}, in increasing id: clustering reads these only, so its memory and time follow
 * the candidates, not documents x bands (a full order and start per band cost 8 bytes
 * x bands per document, a sixth of a one-line corpus's build in page faults alone). */
typedef struct {
    uint32_t *members, *groups; /* members[groups[k] .. groups[k + 1]): bucket k */
    uint32_t (*later)[2];       /* {id, bucket start in members}, ids increasing */
    size_t n_members, n_groups, n_later;
    int failed; /* out of memory (each band's own flag: no write shared between threads) */
} band_buckets;

typedef struct {
    const minhash_index *x;
    band_buckets *bb;      /* (bands) */
    band_entry **e, **tmp; /* per thread: (n) each */
    uint32_t **count;      /* per thread: (2^bits, at least 2^16 for later_sort) */
    int bits;              /* band_radix's */
} band_job;

/* Sorts later[0..n) by id (ids distinct, < 2^32): two stable counting passes of 16 bits
 * through tmp. */
static void later_sort(uint32_t (*later)[2], uint32_t (*tmp)[2], size_t n, uint32_t *count)
{
    for (int pass = 0; pass < 2; pass++) {
        uint32_t(*from)[2] = pass ? tmp : later, (*to)[2] = pass ? later : tmp;
        int shift = 16 * pass;
        memset(count, 0, ((size_t)1 << 16) * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[(from[i][0] >> shift) & 0xFFFF]++;
        uint32_t sum = 0;
        for (size_t b = 0; b < ((size_t)1 << 16); b++) {
            uint32_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            uint32_t *dst = to[count[(from[i][0] >> shift) & 0xFFFF]++];
            dst[0] = from[i][0];
            dst[1] = from[i][1];
        }
    }
}

static void band_task(void *vc, size_t band, int th)
{
    band_job *j = vc;
    const minhash_index *x = j->x;
    size_t n = x->n, h = (size_t)x->m->h, rows = (size_t)x->m->p.rows, m = 0;
    band_entry *e = j->e[th], *t = j->tmp[th];
    for (size_t i = 0; i < n; i++) {
        /* a line of each 224-byte signature: too far apart for the hardware prefetcher */
        if (i + 32 < n)
            __builtin_prefetch(x->sigs + (i + 32) * h + band * rows);
        if (!x->has[i])
            continue;
        const mh_val *row = x->sigs + i * h + band * rows;
        e[m].key = hash_bytes(row, rows * sizeof *row);
        e[m].id = (uint32_t)i;
        m++;
    }
    t = band_radix(e, t, m, j->count[th], j->bits);
    band_buckets *bb = &j->bb[band];
    size_t nm = 0, ng = 0;
    for (size_t i = 1, g = 0; i < m; i++) { /* g: where t[i]'s bucket starts */
        if (t[i].key != t[g].key)
            g = i;
        else if (i == g + 1)
            nm += 2, ng++;
        else
            nm++;
    }
    bb->n_members = nm;
    bb->n_groups = ng;
    bb->n_later = nm - ng;
    bb->members = malloc((nm ? nm : 1) * sizeof *bb->members);
    bb->groups = malloc((ng + 1) * sizeof *bb->groups);
    bb->later = malloc((nm - ng ? nm - ng : 1) * sizeof *bb->later);
    uint32_t(*scratch)[2] = malloc((nm - ng ? nm - ng : 1) * sizeof *scratch);
    if (!bb->members || !bb->groups || !bb->later || !scratch) {
        free(scratch);
        bb->failed = 1; /* the caller frees every band's arrays */
        return;
    }
    size_t k = 0, l = 0, gi = 0;
    for (size_t i = 1, g = 0; i < m; i++) {
        if (t[i].key != t[g].key) {
            g = i;
            continue;
        }
        if (i == g + 1) { /* a bucket of two or more begins: its first member */
            bb->groups[gi++] = (uint32_t)k;
            bb->members[k++] = t[g].id;
        }
        bb->later[l][0] = t[i].id;
        bb->later[l++][1] = bb->groups[gi - 1];
        bb->members[k++] = t[i].id;
    }
    bb->groups[gi] = (uint32_t)k;
    later_sort(bb->later, scratch, l, j->count[th]);
    free(scratch);
}

static void band_buckets_free(band_buckets *bb, int bands)
{
    for (int b = 0; bb && b < bands; b++) {
        free(bb[b].members);
        free(bb[b].groups);
        free(bb[b].later);
    }
    free(bb);
}

/* The buckets of two or more of every band, in parallel over pl (NULL: on this
 * thread); NULL on out of memory. */
static band_buckets *bands_sort(const minhash_index *x, pool *pl)
{
    int nt = pl ? pool_threads(pl) : 1, bands = x->m->p.bands;
    size_t n = x->n ? x->n : 1;
    band_job j = {x, calloc((size_t)bands, sizeof(band_buckets)), calloc((size_t)nt, sizeof(band_entry *)),
                  calloc((size_t)nt, sizeof(band_entry *)), calloc((size_t)nt, sizeof(uint32_t *)),
                  radix_bits(x->n)};
    size_t count_len = (size_t)1 << 16; /* later_sort's; band_radix needs 2^11 */
    int ok = j.bb && j.e && j.tmp && j.count;
    for (int t = 0; ok && t < nt; t++)
        ok = (j.e[t] = malloc(n * sizeof(band_entry))) && (j.tmp[t] = malloc(n * sizeof(band_entry))) &&
             (j.count[t] = malloc(count_len * sizeof(uint32_t)));
    for (int t = 0; ok && t < nt; t++) {
        hugemem_advise(j.e[t], n * sizeof(band_entry));
        hugemem_advise(j.tmp[t], n * sizeof(band_entry));
    }
    if (ok) {
        if (pl)
            pool_for(pl, (size_t)bands, band_task, &j);
        else
            for (int b = 0; b < bands; b++)
                band_task(&j, (size_t)b, 0);
    }
    for (int t = 0; t < nt; t++) {
        free(j.e ? j.e[t] : NULL);
        free(j.tmp ? j.tmp[t] : NULL);
        free(j.count ? j.count[t] : NULL);
    }
    free(j.e);
    free(j.tmp);
    free(j.count);
    for (int b = 0; ok && b < bands; b++)
        ok = !j.bb[b].failed;
    if (!ok) {
        band_buckets_free(j.bb, bands);
        return NULL;
    }
    return j.bb;
}

/* Whether documents a and b agree at >= need of the H signature positions. */
static int verified(const minhash_index *x, uint32_t a, uint32_t b, int need)
{
    size_t h = (size_t)x->m->h;
    const mh_val *sa = x->sigs + (size_t)a * h, *sb = x->sigs + (size_t)b * h;
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

/* Connected components (union-find) of the verified candidate pairs, band by band in
 * bucket order. A document is compared with its bucket's first member, then with its
 * nearest predecessors. */
static void cluster_components(const minhash_index *x, const band_buckets *bb, int need, uint32_t *parent)
{
    size_t n = x->n;
    for (int band = 0; band < x->m->p.bands; band++) {
        const uint32_t *ob = bb[band].members;
        for (size_t k = 0; k < bb[band].n_groups; k++) {
            size_t g = bb[band].groups[k], e = bb[band].groups[k + 1];
            for (size_t j = g + 1; j < e; j++) {
                uint32_t d = ob[j];
                for (size_t t = 0; t < VERIFY_TRIES && t < j - g; t++) {
                    uint32_t c = t == 0 ? ob[g] : ob[j - t];
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
        }
    }
    for (size_t i = 0; i < n; i++)
        parent[i] = uf_find(parent, (uint32_t)i);
}

/* Stars around kept documents: documents in id order; one is dropped for the lowest
 * kept document that shares a band bucket with it and passes the check, else kept. A
 * document that is first in its bucket in every band is kept without a look. */
static void cluster_stars(const minhash_index *x, const band_buckets *bb, int need, uint32_t *keep_of)
{
    size_t n = x->n;
    int bands = x->m->p.bands;
    for (size_t d = 0; d < n; d++)
        keep_of[d] = (uint32_t)d;
    size_t cur[MINHASH_MAX_HASHES] = {0}; /* each band's next later entry */
    for (;;) {
        uint32_t d = UINT32_MAX; /* the next document with an earlier bucket mate */
        int any = 0;
        for (int band = 0; band < bands; band++)
            if (cur[band] < bb[band].n_later && bb[band].later[cur[band]][0] <= d) {
                d = bb[band].later[cur[band]][0];
                any = 1;
            }
        if (!any)
            break;
        uint32_t best = d;
        for (int band = 0; band < bands; band++) {
            if (cur[band] >= bb[band].n_later || bb[band].later[cur[band]][0] != d)
                continue;
            const uint32_t *ob = bb[band].members;
            uint32_t first = bb[band].later[cur[band]++][1];
            int tries = 0;
            /* members before d in its bucket are exactly the earlier ids */
            for (size_t i = first, k = 0;
                 ob[i] != d && ob[i] < best && tries < VERIFY_TRIES && k < SCAN_LIMIT; i++, k++) {
                uint32_t c = ob[i];
                if (keep_of[c] != c)
                    continue; /* dropped: not a representative */
                tries++;
                if (need == 0 || verified(x, c, d, need)) {
                    best = c;
                    break;
                }
            }
        }
        keep_of[d] = best;
    }
}

int minhash_index_cluster(minhash_index *x, pool *pl, uint32_t *keep_of, size_t *n_dropped,
                          dk_err *err)
{
    size_t n = x->n, h = (size_t)x->m->h;
    const minhash_params *p = &x->m->p;
    band_buckets *bb = bands_sort(x, pl);
    if (!bb)
        return dk_errf(err, "minhash: out of memory for %zu documents", n);
    /* estimated Jaccard >= threshold: (agreement - C) / (1 - C) >= t, as a count of
     * positions (no rounding surprises) */
    int need = 0;
    while (p->threshold > 0 && (double)need < (p->threshold * (1 - KEPT_CHANCE) + KEPT_CHANCE) * (double)h)
        need++;
    if (p->cluster == MINHASH_COMPONENTS) {
        for (size_t i = 0; i < n; i++)
            keep_of[i] = (uint32_t)i;
        cluster_components(x, bb, need, keep_of);
    } else {
        cluster_stars(x, bb, need, keep_of);
    }
    band_buckets_free(bb, p->bands);
    size_t dropped = 0;
    for (size_t i = 0; i < n; i++)
        dropped += keep_of[i] != i;
    if (n_dropped)
        *n_dropped = dropped;
    return 0;
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
        rc = minhash_index_cluster(x, pl, keep_of, n_dropped, err);
    minhash_index_free(x);
    minhash_free(m);
    return rc;
}
