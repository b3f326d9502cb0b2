/* tok_train.c: BPE training (see tok_train.h for the algorithm). */
#include "tokenizer/tok_train.h"

#include <stdlib.h>
#include <string.h>

#include "tokenizer/hangul.h"
#include "tokenizer/pretok.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/pool.h"
#include "util/progress.h"

#define BLOCK_BYTES (1u << 20)
#define MAX_INPUT_BYTES ((size_t)1 << 40)
/* Chunks longer than this are not counted (llama.cpp's pre-tokenizers have no length
 * cap, so a file of one 100 MB line of '=' would be one "word"). Leaving them out
 * changes only which merges are learned; encoding cuts and merges them as always. */
#define MAX_WORD_BYTES ((size_t)1 << 16)

/* ---- chunk counting: a hash map from chunk bytes to a count ---------------------- */

typedef struct {
    uint64_t hash, count;
    uint64_t key_off;
    uint32_t key_len; /* 0 = empty */
} cm_slot;

typedef struct {
    cm_slot *slots;
    size_t mask, used;
    uint8_t *arena;
    size_t arena_used, arena_cap;
    int oom;
} chunkmap;

static int cm_init(chunkmap *m)
{
    memset(m, 0, sizeof *m);
    m->mask = (1u << 16) - 1;
    m->slots = calloc(m->mask + 1, sizeof *m->slots);
    m->arena_cap = 1u << 20;
    m->arena = malloc(m->arena_cap);
    return m->slots && m->arena ? 0 : -1;
}

static void cm_free(chunkmap *m)
{
    free(m->slots);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

static void cm_grow(chunkmap *m)
{
    size_t ncap = (m->mask + 1) * 2;
    cm_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns) {
        m->oom = 1;
        return;
    }
    for (size_t i = 0; i <= m->mask; i++) {
        cm_slot *s = &m->slots[i];
        if (!s->key_len)
            continue;
        size_t j = (size_t)(s->hash & (ncap - 1));
        while (ns[j].key_len)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(m->slots);
    m->slots = ns;
    m->mask = ncap - 1;
}

static void cm_add(chunkmap *m, const uint8_t *key, uint32_t len, uint64_t h, uint64_t count)
{
    if (m->oom)
        return;
    size_t i = (size_t)(h & m->mask);
    for (;;) {
        cm_slot *s = &m->slots[i];
        if (!s->key_len)
            break;
        if (s->hash == h && s->key_len == len && memcmp(m->arena + s->key_off, key, len) == 0) {
            s->count += count;
            return;
        }
        i = (i + 1) & m->mask;
    }
    if (m->arena_used + len > m->arena_cap) {
        size_t nc = m->arena_cap * 2;
        uint8_t *na = realloc(m->arena, nc);
        if (!na) {
            m->oom = 1;
            return;
        }
        m->arena = na;
        m->arena_cap = nc;
    }
    memcpy(m->arena + m->arena_used, key, len);
    m->slots[i] = (cm_slot){.hash = h, .count = count, .key_off = m->arena_used, .key_len = len};
    m->arena_used += len;
    if (++m->used * 2 > m->mask + 1)
        cm_grow(m);
}

typedef struct {
    const uint8_t *data;
    size_t len;
} block;

typedef struct {
    const block *blocks;
    enum tok_norm norm;
    enum tok_pretok pretok;
    chunkmap *maps;     /* one per thread */
    uint8_t **scratch;  /* one per thread, BLOCK-sized buffers grown on demand */
    size_t *scratch_cap;
    uint64_t *chunks;   /* per thread */
    progress *prog;
    size_t *blocks_done;
} count_ctx;

static void count_block(void *vctx, size_t task, int th)
{
    count_ctx *c = vctx;
    const uint8_t *s = c->blocks[task].data;
    size_t n = c->blocks[task].len;
    if (c->norm == TOK_NORM_HANGUL_COMPOSE && hangul_needs_compose(s, n)) {
        if (c->scratch_cap[th] < n) {
            free(c->scratch[th]);
            c->scratch[th] = malloc(n);
            c->scratch_cap[th] = c->scratch[th] ? n : 0;
            if (!c->scratch[th]) {
                c->maps[th].oom = 1;
                return;
            }
        }
        n = hangul_compose(s, n, c->scratch[th]);
        s = c->scratch[th];
    }
    chunkmap *m = &c->maps[th];
    size_t pos = 0;
    uint64_t k = 0;
    while (pos < n) {
        size_t end = pretok_next_kind(c->pretok, s, n, pos);
        if (end - pos <= MAX_WORD_BYTES)
            cm_add(m, s + pos, (uint32_t)(end - pos), hash_bytes(s + pos, end - pos), 1);
        pos = end;
        k++;
    }
    c->chunks[th] += k;
    if (th == 0) /* only the caller's thread draws progress */
        progress_update(c->prog, (double)__atomic_add_fetch(c->blocks_done, 1, __ATOMIC_RELAXED));
    else
        __atomic_add_fetch(c->blocks_done, 1, __ATOMIC_RELAXED);
}

/* ---- merging -------------------------------------------------------------------- */

typedef struct {
    uint32_t a, b;
    int64_t count;
    uint32_t *occ; /* words the pair occurred in (may hold stale entries) */
    uint32_t n_occ, cap_occ;
    uint32_t touched; /* merge number that last increased it */
} pair_rec;

typedef struct {
    int64_t count;
    uint32_t pair;
} heap_ent;

typedef struct {
    /* words */
    uint32_t *sym;       /* all words' symbols, word w at sym[wstart[w] .. + wlen[w]) */
    size_t *wstart;
    uint32_t *wlen;
    uint64_t *wcount;
    size_t n_words;
    /* pairs */
    pair_rec *pairs;
    size_t n_pairs, cap_pairs;
    uint64_t *pkeys;     /* open addressing: key -> index in pidx */
    uint32_t *pidx;
    size_t pmask, pused;
    /* heap */
    heap_ent *heap;
    size_t n_heap, cap_heap;
    uint32_t *touched;
    size_t n_touched, cap_touched;
    int oom;
} trainer;

static inline int heap_less(const trainer *t, heap_ent x, heap_ent y)
{
    /* "x ranks below y": lower count, or same count and larger (a, b). */
    if (x.count != y.count)
        return x.count < y.count;
    const pair_rec *px = &t->pairs[x.pair], *py = &t->pairs[y.pair];
    if (px->a != py->a)
        return px->a > py->a;
    return px->b > py->b;
}

static void heap_push(trainer *t, int64_t count, uint32_t pair)
{
    if (t->n_heap == t->cap_heap) {
        size_t nc = t->cap_heap ? t->cap_heap * 2 : 1024;
        heap_ent *nh = realloc(t->heap, nc * sizeof *nh);
        if (!nh) {
            t->oom = 1;
            return;
        }
        t->heap = nh;
        t->cap_heap = nc;
    }
    size_t i = t->n_heap++;
    heap_ent e = {count, pair};
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_less(t, t->heap[parent], e))
            break;
        t->heap[i] = t->heap[parent];
        i = parent;
    }
    t->heap[i] = e;
}

static heap_ent heap_pop(trainer *t)
{
    heap_ent top = t->heap[0], last = t->heap[--t->n_heap];
    size_t i = 0, n = t->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && heap_less(t, t->heap[c], t->heap[c + 1]))
            c++;
        if (!heap_less(t, last, t->heap[c]))
            break;
        t->heap[i] = t->heap[c];
        i = c;
    }
    if (n)
        t->heap[i] = last;
    return top;
}

static void pmap_grow(trainer *t)
{
    size_t ncap = (t->pmask + 1) * 2;
    uint64_t *nk = malloc(ncap * sizeof *nk);
    uint32_t *ni = malloc(ncap * sizeof *ni);
    if (!nk || !ni) {
        free(nk);
        free(ni);
        t->oom = 1;
        return;
    }
    memset(nk, 0xFF, ncap * sizeof *nk);
    for (size_t i = 0; i <= t->pmask; i++) {
        if (t->pkeys[i] == UINT64_MAX)
            continue;
        size_t j = (size_t)(hash_u64(t->pkeys[i]) & (ncap - 1));
        while (nk[j] != UINT64_MAX)
            j = (j + 1) & (ncap - 1);
        nk[j] = t->pkeys[i];
        ni[j] = t->pidx[i];
    }
    free(t->pkeys);
    free(t->pidx);
    t->pkeys = nk;
    t->pidx = ni;
    t->pmask = ncap - 1;
}

/* Index of pair (a, b), created with count 0 if absent (UINT32_MAX on OOM). */
static uint32_t pair_get(trainer *t, uint32_t a, uint32_t b)
{
    uint64_t key = ((uint64_t)a << 32) | b;
    size_t i = (size_t)(hash_u64(key) & t->pmask);
    while (t->pkeys[i] != UINT64_MAX) {
        if (t->pkeys[i] == key)
            return t->pidx[i];
        i = (i + 1) & t->pmask;
    }
    if (t->n_pairs == t->cap_pairs) {
        size_t nc = t->cap_pairs ? t->cap_pairs * 2 : 65536;
        pair_rec *np = realloc(t->pairs, nc * sizeof *np);
        if (!np) {
            t->oom = 1;
            return UINT32_MAX;
        }
        t->pairs = np;
        t->cap_pairs = nc;
    }
    uint32_t idx = (uint32_t)t->n_pairs++;
    t->pairs[idx] = (pair_rec){.a = a, .b = b, .touched = UINT32_MAX};
    t->pkeys[i] = key;
    t->pidx[i] = idx;
    if (++t->pused * 2 > t->pmask + 1)
        pmap_grow(t);
    return idx;
}

static void occ_add(trainer *t, pair_rec *p, uint32_t w)
{
    if (p->n_occ && p->occ[p->n_occ - 1] == w)
        return;
    if (p->n_occ == p->cap_occ) {
        uint32_t nc = p->cap_occ ? p->cap_occ * 2 : 4;
        uint32_t *no = realloc(p->occ, (size_t)nc * sizeof *no);
        if (!no) {
            t->oom = 1;
            return;
        }
        p->occ = no;
        p->cap_occ = nc;
    }
    p->occ[p->n_occ++] = w;
}

/* Adds delta occurrences of (a, b) in word w; increases are recorded so that the
 * pair's heap entry can be refreshed once the merge is done. */
static void pair_add(trainer *t, uint32_t a, uint32_t b, int64_t delta, uint32_t w,
                     uint32_t merge_no)
{
    uint32_t idx = pair_get(t, a, b);
    if (idx == UINT32_MAX)
        return;
    pair_rec *p = &t->pairs[idx];
    p->count += delta;
    if (delta <= 0)
        return;
    occ_add(t, p, w);
    if (p->touched != merge_no) {
        p->touched = merge_no;
        if (t->n_touched == t->cap_touched) {
            size_t nc = t->cap_touched ? t->cap_touched * 2 : 1024;
            uint32_t *nt = realloc(t->touched, nc * sizeof *nt);
            if (!nt) {
                t->oom = 1;
                return;
            }
            t->touched = nt;
            t->cap_touched = nc;
        }
        t->touched[t->n_touched++] = idx;
    }
}

/* Replaces every non-overlapping (A, B) in word w, left to right, by N, and updates
 * pair counts: pairs that touched a replaced position go, pairs that touch a new
 * N come. Everything else in the word is unchanged. */
static void merge_word(trainer *t, uint32_t w, uint32_t A, uint32_t B, uint32_t N,
                       uint32_t merge_no, uint32_t *tmp, uint8_t *old_mark, uint8_t *new_mark)
{
    uint32_t *s = t->sym + t->wstart[w];
    uint32_t L = t->wlen[w], k = 0;
    int any = 0;
    for (uint32_t i = 0; i < L;) {
        if (i + 1 < L && s[i] == A && s[i + 1] == B) {
            old_mark[i] = old_mark[i + 1] = 1;
            new_mark[k] = 1;
            tmp[k++] = N;
            i += 2;
            any = 1;
        } else {
            old_mark[i] = 0;
            new_mark[k] = 0;
            tmp[k++] = s[i++];
        }
    }
    if (!any)
        return; /* stale occurrence entry */
    int64_t c = (int64_t)t->wcount[w];
    for (uint32_t i = 0; i + 1 < L; i++)
        if (old_mark[i] | old_mark[i + 1])
            pair_add(t, s[i], s[i + 1], -c, w, merge_no);
    for (uint32_t j = 0; j + 1 < k; j++)
        if (new_mark[j] | new_mark[j + 1])
            pair_add(t, tmp[j], tmp[j + 1], c, w, merge_no);
    memcpy(s, tmp, k * sizeof *s);
    t->wlen[w] = k;
}

static void trainer_free(trainer *t)
{
    for (size_t i = 0; i < t->n_pairs; i++)
        free(t->pairs[i].occ);
    free(t->pairs);
    free(t->pkeys);
    free(t->pidx);
    free(t->heap);
    free(t->touched);
    free(t->sym);
    free(t->wstart);
    free(t->wlen);
    free(t->wcount);
}

/* ---- driver --------------------------------------------------------------------- */

typedef struct {
    const uint8_t *bytes;
    uint32_t len;
    uint64_t count;
} word_ent;

static int word_cmp(const void *x, const void *y)
{
    const word_ent *a = x, *b = y;
    uint32_t m = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->bytes, b->bytes, m);
    if (c)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

static int count_chunks(const char *const *paths, size_t n_paths, const tok_train_opts *o,
                        pool *pl, chunkmap *total, tok_train_report *rep, dk_err *err)
{
    fs_map *maps = calloc(n_paths ? n_paths : 1, sizeof *maps);
    if (!maps)
        return dk_errf(err, "out of memory");
    int rc = 0;
    size_t n_blocks = 0, cap_blocks = 0;
    block *blocks = NULL;
    for (size_t f = 0; f < n_paths && rc == 0; f++) {
        rc = fs_map_open(&maps[f], paths[f], MAX_INPUT_BYTES, err);
        for (size_t pos = 0; rc == 0 && pos < maps[f].size;) {
            size_t end = pretok_safe_split_kind(o->pretok, maps[f].data, maps[f].size,
                                                pos + BLOCK_BYTES);
            if (n_blocks == cap_blocks) {
                cap_blocks = cap_blocks ? cap_blocks * 2 : 64;
                block *nb = realloc(blocks, cap_blocks * sizeof *nb);
                if (!nb) {
                    rc = dk_errf(err, "out of memory");
                    break;
                }
                blocks = nb;
            }
            blocks[n_blocks++] = (block){maps[f].data + pos, end - pos};
            rep->bytes += end - pos;
            pos = end;
        }
    }
    int nt = pool_threads(pl);
    chunkmap *tm = calloc((size_t)nt, sizeof *tm);
    uint8_t **scratch = calloc((size_t)nt, sizeof *scratch);
    size_t *scratch_cap = calloc((size_t)nt, sizeof *scratch_cap);
    uint64_t *chunks = calloc((size_t)nt, sizeof *chunks);
    if (rc == 0 && (!tm || !scratch || !scratch_cap || !chunks))
        rc = dk_errf(err, "out of memory");
    for (int i = 0; rc == 0 && i < nt; i++)
        if (cm_init(&tm[i]) != 0)
            rc = dk_errf(err, "out of memory");
    if (rc == 0 && rep->bytes == 0)
        rc = dk_errf(err, "%s: no text to train on (inputs are empty)", n_paths ? paths[0] : "input");
    if (rc == 0) {
        progress prog;
        size_t done = 0;
        progress_start(&prog, "counting", "blocks", (double)n_blocks, o->quiet);
        count_ctx c = {blocks, o->norm, o->pretok, tm, scratch, scratch_cap, chunks, &prog, &done};
        pool_for(pl, n_blocks, count_block, &c);
        progress_finish(&prog, (double)n_blocks);
        /* Sum the per-thread counts into thread 0's map. */
        for (int i = 1; i < nt; i++)
            for (size_t j = 0; j <= tm[i].mask; j++) {
                cm_slot *s = &tm[i].slots[j];
                if (s->key_len)
                    cm_add(&tm[0], tm[i].arena + s->key_off, s->key_len, s->hash, s->count);
            }
        for (int i = 0; i < nt; i++) {
            rep->chunks += chunks[i];
            if (tm[i].oom)
                rc = dk_errf(err, "out of memory counting chunks");
        }
    }
    if (rc == 0) {
        *total = tm[0];
        memset(&tm[0], 0, sizeof tm[0]);
    }
    for (int i = 0; tm && i < nt; i++)
        cm_free(&tm[i]);
    for (int i = 0; scratch && i < nt; i++)
        free(scratch[i]);
    free(tm);
    free(scratch);
    free(scratch_cap);
    free(chunks);
    free(blocks);
    for (size_t f = 0; f < n_paths; f++)
        fs_map_close(&maps[f]);
    free(maps);
    return rc;
}

static int build_words(trainer *t, chunkmap *cm, dk_err *err)
{
    word_ent *ws = malloc((cm->used ? cm->used : 1) * sizeof *ws);
    if (!ws)
        return dk_errf(err, "out of memory");
    size_t n = 0, total = 0;
    for (size_t i = 0; i <= cm->mask; i++) {
        cm_slot *s = &cm->slots[i];
        if (s->key_len) {
            ws[n++] = (word_ent){cm->arena + s->key_off, s->key_len, s->count};
            total += s->key_len;
        }
    }
    qsort(ws, n, sizeof *ws, word_cmp);
    t->n_words = n;
    t->sym = malloc((total ? total : 1) * sizeof *t->sym);
    t->wstart = malloc((n ? n : 1) * sizeof *t->wstart);
    t->wlen = malloc((n ? n : 1) * sizeof *t->wlen);
    t->wcount = malloc((n ? n : 1) * sizeof *t->wcount);
    if (!t->sym || !t->wstart || !t->wlen || !t->wcount) {
        free(ws);
        return dk_errf(err, "out of memory");
    }
    size_t off = 0;
    for (size_t w = 0; w < n; w++) {
        t->wstart[w] = off;
        t->wlen[w] = ws[w].len;
        t->wcount[w] = ws[w].count;
        for (uint32_t k = 0; k < ws[w].len; k++)
            t->sym[off + k] = ws[w].bytes[k];
        off += ws[w].len;
    }
    free(ws);
    return 0;
}

int tok_train(tok **out, const char *const *paths, size_t n_paths, const tok_train_opts *o,
              tok_train_report *rep, dk_err *err)
{
    *out = NULL;
    memset(rep, 0, sizeof *rep);
    uint64_t base = 256 + (uint64_t)o->n_special;
    if (o->vocab_size < base || o->vocab_size > TOK_MAX_VOCAB)
        return dk_errf(err, "vocabulary size %u must be in [%llu, %u] (256 bytes + %u special)",
                       o->vocab_size, (unsigned long long)base, TOK_MAX_VOCAB, o->n_special);
    pool *pl = pool_new(o->threads);
    if (!pl)
        return dk_errf(err, "cannot start threads");
    double t0 = now_seconds();
    chunkmap cm;
    memset(&cm, 0, sizeof cm);
    int rc = count_chunks(paths, n_paths, o, pl, &cm, rep, err);
    pool_free(pl);
    trainer t;
    memset(&t, 0, sizeof t);
    if (rc == 0) {
        rep->unique_chunks = cm.used;
        rc = build_words(&t, &cm, err);
    }
    cm_free(&cm);
    rep->count_seconds = now_seconds() - t0;
    if (rc != 0) {
        trainer_free(&t);
        return -1;
    }

    double t1 = now_seconds();
    uint32_t first = (uint32_t)base, want = o->vocab_size - first;
    t.pmask = (1u << 16) - 1;
    t.pkeys = malloc((t.pmask + 1) * sizeof *t.pkeys);
    t.pidx = malloc((t.pmask + 1) * sizeof *t.pidx);
    uint32_t(*merges)[2] = malloc(((size_t)want + 1) * sizeof *merges);
    uint32_t max_len = 0;
    for (size_t w = 0; w < t.n_words; w++)
        max_len = t.wlen[w] > max_len ? t.wlen[w] : max_len;
    uint32_t *tmp = malloc(((size_t)max_len + 1) * sizeof *tmp);
    uint8_t *marks = malloc(2 * ((size_t)max_len + 1));
    if (!t.pkeys || !t.pidx || !merges || !tmp || !marks)
        t.oom = 1;
    else
        memset(t.pkeys, 0xFF, (t.pmask + 1) * sizeof *t.pkeys);
    /* Initial pair counts and occurrence lists. */
    for (size_t w = 0; w < t.n_words && !t.oom; w++) {
        const uint32_t *s = t.sym + t.wstart[w];
        for (uint32_t i = 0; i + 1 < t.wlen[w]; i++) {
            uint32_t idx = pair_get(&t, s[i], s[i + 1]);
            if (idx == UINT32_MAX)
                break;
            t.pairs[idx].count += (int64_t)t.wcount[w];
            occ_add(&t, &t.pairs[idx], (uint32_t)w);
        }
    }
    for (size_t i = 0; i < t.n_pairs && !t.oom; i++)
        if (t.pairs[i].count > 0)
            heap_push(&t, t.pairs[i].count, (uint32_t)i);

    progress prog;
    progress_start(&prog, "merges", "merges", want, o->quiet);
    uint32_t done = 0;
    while (done < want && t.n_heap > 0 && !t.oom) {
        heap_ent top = heap_pop(&t);
        pair_rec *p = &t.pairs[top.pair];
        if (top.count != p->count) { /* stale: counts only fall after creation */
            if (p->count > 0)
                heap_push(&t, p->count, top.pair);
            continue;
        }
        if ((uint64_t)p->count < o->min_frequency || p->count <= 0)
            break;
        uint32_t A = p->a, B = p->b, N = first + done, idx = top.pair;
        merges[done][0] = A;
        merges[done][1] = B;
        t.n_touched = 0;
        /* p->occ is stable here: only pairs containing N gain entries. */
        uint32_t *occ = p->occ, n_occ = p->n_occ;
        for (uint32_t i = 0; i < n_occ && !t.oom; i++)
            merge_word(&t, occ[i], A, B, N, done, tmp, marks, marks + max_len + 1);
        free(t.pairs[idx].occ);
        t.pairs[idx].occ = NULL;
        t.pairs[idx].n_occ = t.pairs[idx].cap_occ = 0;
        t.pairs[idx].count = 0;
        for (size_t i = 0; i < t.n_touched; i++)
            if (t.pairs[t.touched[i]].count > 0)
                heap_push(&t, t.pairs[t.touched[i]].count, t.touched[i]);
        done++;
        progress_update(&prog, done);
    }
    progress_finish(&prog, done);
    rep->merges = done;
    rep->pairs_created = t.n_pairs;
    rep->merge_seconds = now_seconds() - t1;
    if (t.oom)
        rc = dk_errf(err, "out of memory while merging");
    else
        rc = tok_build(out, o->norm, o->pretok, o->specials, o->n_special, (const uint32_t(*)[2])merges,
                       done, "trained tokenizer", err);
    free(merges);
    free(tmp);
    free(marks);
    trainer_free(&t);
    return rc;
}
