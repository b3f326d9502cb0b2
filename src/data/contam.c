/* contam.c: n-grams of test items, looked up in training text (see contam.h). */
#include "data/contam.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "eval/task.h"
#include "tokenizer/tokenizer.h"
#include "util/fs.h"
#include "util/grow.h"
#include "util/hash.h"
#include "util/pool.h"
#include "util/progress.h"
#include "util/utf8.h"

#define MAX_N 256
#define KIND_CHARS 0
#define KIND_WORDS 1
#define HB 0x100000001b3ULL /* the polynomial's base (odd) */

typedef struct {
    uint64_t key;
    uint32_t task, item;
} entry;

typedef struct {
    char name[64], sha256[65];
    size_t n, n_char;
} task_info;

struct contam {
    int n[2]; /* char_n, word_n */
    uint64_t pow[MAX_N + 1];
    entry *e;
    size_t ne, cap;
    uint64_t (*slot)[2]; /* key, start + 1 (0: empty) */
    size_t mask;
    uint64_t *filter; /* bitmap over the keys' top bits */
    int filter_bits;
    uint8_t lens[2][MAX_N + 1]; /* window lengths some item uses, per kind */
    int nlens[2], lenlist[2][MAX_N];
    int has_short_chars;
    task_info *tasks;
    size_t nt;
};

contam *contam_new(int word_n, int char_n)
{
    contam *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->n[KIND_CHARS] = char_n > 0 ? (char_n > MAX_N ? MAX_N : char_n) : CONTAM_CHAR_N;
    c->n[KIND_WORDS] = word_n > 0 ? (word_n > MAX_N ? MAX_N : word_n) : CONTAM_WORD_N;
    c->pow[0] = 1;
    for (int i = 1; i <= MAX_N; i++)
        c->pow[i] = c->pow[i - 1] * HB;
    return c;
}

void contam_free(contam *c)
{
    if (!c)
        return;
    free(c->e);
    free(c->slot);
    free(c->filter);
    free(c->tasks);
    free(c);
}

int contam_word_n(const contam *c) { return c->n[KIND_WORDS]; }
int contam_char_n(const contam *c) { return c->n[KIND_CHARS]; }
size_t contam_n_tasks(const contam *c) { return c->nt; }
const char *contam_task_name(const contam *c, size_t t) { return c->tasks[t].name; }
const char *contam_task_sha256(const contam *c, size_t t) { return c->tasks[t].sha256; }
size_t contam_task_items(const contam *c, size_t t) { return c->tasks[t].n; }
size_t contam_task_char_items(const contam *c, size_t t) { return c->tasks[t].n_char; }

void contam_scratch_free(contam_scratch *s)
{
    free(s->cp);
    free(s->ch);
    free(s->wh);
    memset(s, 0, sizeof *s);
}

static inline uint32_t fold(uint32_t cp)
{
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7))
        return cp + 32;
    return cp;
}

/* Normalises text into prefix hashes of its word characters (s->ch[0..*nc]) and of its
 * words (s->wh[0..*nw]); counts Hangul syllables and Latin letters. -1 on OOM. */
static int units(contam_scratch *s, const char *text, size_t len, size_t *nc, size_t *nw,
                 size_t *hangul, size_t *latin)
{
    if (len + 1 > s->cap_c) {
        size_t cap = len + 1 > 4096 ? len + 1 : 4096;
        uint64_t *a = realloc(s->ch, cap * sizeof *a), *b = a ? realloc(s->wh, cap * sizeof *b) : NULL;
        if (a)
            s->ch = a;
        if (b)
            s->wh = b;
        uint32_t *ws = b ? realloc(s->cp, cap * sizeof *ws) : NULL;
        if (ws)
            s->cp = ws;
        if (!a || !b || !ws)
            return -1;
        s->cap_c = s->cap_w = cap;
    }
    const uint8_t *p = (const uint8_t *)text;
    size_t c = 0, w = 0, i = 0, hg = 0, lt = 0;
    uint64_t word = 0;
    int in_word = 0;
    s->ch[0] = s->wh[0] = 0;
    while (i < len) {
        uint32_t cp;
        size_t k = utf8_decode(p + i, len - i, &cp);
        uclass cl;
        if (k == 0) {
            k = 1;
            cp = 0x110000u + p[i];
            cl = UC_INVALID;
        } else
            cl = utf8_class(cp);
        i += k;
        if (cl == UC_SPACE || cl == UC_PUNCT) {
            if (in_word) {
                s->wh[w + 1] = s->wh[w] * HB + hash_u64(word);
                w++;
                in_word = 0;
            }
            continue;
        }
        cp = fold(cp);
        if (!in_word)
            s->cp[w] = (uint32_t)c; /* where word w starts among the characters */
        hg += utf8_is_hangul_syllable(cp);
        lt += cl == UC_LATIN;
        s->ch[c + 1] = s->ch[c] * HB + hash_u64(cp + 0x9e3779b97f4a7c15ULL);
        c++;
        word = in_word ? (word ^ cp) * 0x100000001b3ULL : (0xcbf29ce484222325ULL ^ cp) * 0x100000001b3ULL;
        in_word = 1;
    }
    if (in_word) {
        s->wh[w + 1] = s->wh[w] * HB + hash_u64(word);
        w++;
    }
    s->cp[w] = (uint32_t)c;
    *nc = c;
    *nw = w;
    if (hangul)
        *hangul = hg;
    if (latin)
        *latin = lt;
    return 0;
}

static inline uint64_t window_key(const contam *c, const uint64_t *h, size_t i, int L, int kind)
{
    uint64_t win = h[i + (size_t)L] - h[i] * c->pow[L];
    return win ^ ((uint64_t)L * 0xc2b2ae3d27d4eb4fULL) ^ ((uint64_t)kind * 0x165667b19e3779f9ULL);
}

static int push(contam *c, uint64_t key, uint32_t task, uint32_t item)
{
    entry *ne = dk_grow(c->e, &c->cap, c->ne + 1, sizeof *ne, 4096);
    if (!ne)
        return -1;
    c->e = ne;
    c->e[c->ne++] = (entry){key, task, item};
    return 0;
}

static int new_task(contam *c, const char *name, const char *sha)
{
    task_info *nt = realloc(c->tasks, (c->nt + 1) * sizeof *nt);
    if (!nt)
        return -1;
    c->tasks = nt;
    memset(&nt[c->nt], 0, sizeof *nt);
    snprintf(nt[c->nt].name, sizeof nt[c->nt].name, "%s", name);
    snprintf(nt[c->nt].sha256, sizeof nt[c->nt].sha256, "%s", sha);
    return (int)c->nt++;
}

int contam_add_item(contam *c, uint32_t task, uint32_t item, const char *text, size_t len)
{
    if (task == c->nt && new_task(c, "items", "") < 0)
        return -1;
    contam_scratch s = {0};
    size_t nc, nw, hg, lt;
    if (units(&s, text, len, &nc, &nw, &hg, &lt) != 0) {
        contam_scratch_free(&s);
        return -1;
    }
    int kind = hg > 0 && hg >= lt ? KIND_CHARS : KIND_WORDS;
    const uint64_t *h = kind == KIND_CHARS ? s.ch : s.wh;
    size_t m = kind == KIND_CHARS ? nc : nw;
    c->tasks[task].n++;
    c->tasks[task].n_char += kind == KIND_CHARS;
    int rc = 0;
    if (m > 0) {
        int L = m < (size_t)c->n[kind] ? (int)m : c->n[kind];
        c->lens[kind][L] = 1;
        for (size_t i = 0; i + (size_t)L <= m && rc == 0; i++)
            rc = push(c, window_key(c, h, i, L, kind), task, item);
    }
    contam_scratch_free(&s);
    return rc;
}

int contam_add_task(contam *c, const char *spec, dk_err *err)
{
    const char *path;
    if (task_spec_is_text(spec, &path)) {
        fs_map m;
        uint8_t d[32];
        char hex[65];
        if (sha256_file(path, d, err) != 0 || fs_map_open(&m, path, (size_t)1 << 40, err) != 0)
            return -1;
        sha256_hex(d, hex);
        const char *base = strrchr(path, '/');
        int t = new_task(c, base ? base + 1 : path, hex);
        uint32_t item = 0;
        for (size_t pos = 0; t >= 0 && pos < m.size;) {
            const uint8_t *nl = memchr(m.data + pos, '\n', m.size - pos);
            size_t end = nl ? (size_t)(nl - m.data) : m.size, len = end - pos;
            if (len && m.data[pos + len - 1] == '\r')
                len--;
            if (len && contam_add_item(c, (uint32_t)t, item++, (const char *)m.data + pos, len) != 0)
                t = -1;
            pos = end + 1;
        }
        fs_map_close(&m);
        return t < 0 ? dk_errf(err, "out of memory") : t;
    }
    mc_task mt;
    if (mc_task_open(&mt, spec, err) != 0)
        return -1;
    int t = new_task(c, mt.name, mt.sha256);
    char *buf = NULL;
    size_t cap = 0;
    for (size_t i = 0; t >= 0 && i < mt.n; i++) {
        const mc_item *it = &mt.items[i];
        size_t a = strlen(it->context), b = strlen(it->choices[it->gold]);
        if (a + b + 1 > cap) {
            cap = (a + b + 1) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                t = -1;
                break;
            }
            buf = nb;
        }
        memcpy(buf, it->context, a);
        memcpy(buf + a, it->choices[it->gold], b);
        if (contam_add_item(c, (uint32_t)t, (uint32_t)i, buf, a + b) != 0)
            t = -1;
    }
    free(buf);
    mc_task_free(&mt);
    return t < 0 ? dk_errf(err, "out of memory") : t;
}

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->task != y->task)
        return x->task < y->task ? -1 : 1;
    return x->item < y->item ? -1 : x->item > y->item;
}

int contam_finish(contam *c, dk_err *err)
{
    if (c->ne)
        qsort(c->e, c->ne, sizeof *c->e, cmp_entry);
    size_t k = 0, distinct = 0;
    for (size_t i = 0; i < c->ne; i++) {
        if (k && c->e[k - 1].key == c->e[i].key && c->e[k - 1].task == c->e[i].task &&
            c->e[k - 1].item == c->e[i].item)
            continue;
        distinct += !k || c->e[k - 1].key != c->e[i].key;
        c->e[k++] = c->e[i];
    }
    c->ne = k;
    size_t size = 1024;
    while (size < distinct * 2)
        size *= 2;
    free(c->slot);
    c->slot = calloc(size, sizeof *c->slot);
    c->mask = size - 1;
    c->filter_bits = 16;
    while (((size_t)1 << c->filter_bits) < distinct * 16 && c->filter_bits < 34)
        c->filter_bits++;
    free(c->filter);
    c->filter = calloc(((size_t)1 << c->filter_bits) / 64, sizeof *c->filter);
    if (!c->slot || !c->filter)
        return dk_errf(err, "out of memory");
    for (size_t i = 0; i < c->ne; i++) {
        if (i && c->e[i - 1].key == c->e[i].key)
            continue;
        uint64_t key = c->e[i].key;
        size_t j = (size_t)(key >> 20) & c->mask;
        while (c->slot[j][1])
            j = (j + 1) & c->mask;
        c->slot[j][0] = key;
        c->slot[j][1] = i + 1;
        uint64_t f = key >> (64 - c->filter_bits);
        c->filter[f >> 6] |= 1ull << (f & 63);
    }
    c->has_short_chars = 0;
    for (int L = 1; L < c->n[KIND_CHARS]; L++)
        c->has_short_chars |= c->lens[KIND_CHARS][L];
    for (int kind = 0; kind < 2; kind++) {
        c->nlens[kind] = 0;
        for (int L = c->n[kind]; L >= 1; L--) /* the longest first: the usual case */
            if (c->lens[kind][L])
                c->lenlist[kind][c->nlens[kind]++] = L;
    }
    return 0;
}

/* Looks key up: 1 when found (fn called for each item, hits counted). */
static inline int lookup(const contam *c, uint64_t key, contam_hit_fn fn, void *ctx, long *hits)
{
    uint64_t f = key >> (64 - c->filter_bits);
    if (!(c->filter[f >> 6] >> (f & 63) & 1))
        return 0;
    for (size_t j = (size_t)(key >> 20) & c->mask; c->slot[j][1]; j = (j + 1) & c->mask) {
        if (c->slot[j][0] != key)
            continue;
        for (size_t e = c->slot[j][1] - 1; e < c->ne && c->e[e].key == key; e++) {
            ++*hits;
            if (!fn)
                return 1;
            fn(ctx, c->e[e].task, c->e[e].item);
        }
        return 1;
    }
    return 0;
}

static long scan_piece(const contam *c, const char *text, size_t len, contam_scratch *s,
                       contam_hit_fn fn, void *ctx)
{
    size_t n[2];
    if (units(s, text, len, &n[KIND_CHARS], &n[KIND_WORDS], NULL, NULL) != 0)
        return -1;
    long hits = 0;
    for (int kind = 0; kind < 2; kind++) {
        const uint64_t *h = kind == KIND_CHARS ? s->ch : s->wh;
        for (int li = 0; li < c->nlens[kind]; li++) {
            int L = c->lenlist[kind][li];
            if (kind == KIND_CHARS && L < c->n[kind])
                continue; /* short items: below, from word starts to word ends only */
            for (size_t i = 0; i + (size_t)L <= n[kind]; i++)
                if (lookup(c, window_key(c, h, i, L, kind), fn, ctx, &hits) && !fn)
                    return hits;
        }
    }
    /* A Korean item shorter than n characters must occur whole: as the item begins at a
     * word's start and ends at a word's end, only such windows are looked up (a few per
     * word instead of one per length per character). */
    if (c->has_short_chars)
        for (size_t w = 0; w < n[KIND_WORDS]; w++) {
            size_t st = s->cp[w];
            for (size_t e = w + 1; e <= n[KIND_WORDS]; e++) {
                size_t L = s->cp[e] - st;
                if (L >= (size_t)c->n[KIND_CHARS])
                    break;
                if (c->lens[KIND_CHARS][L] &&
                    lookup(c, window_key(c, s->ch, st, (int)L, KIND_CHARS), fn, ctx, &hits) && !fn)
                    return hits;
            }
        }
    return hits;
}

#define PIECE ((size_t)1 << 20) /* a longer text is scanned in pieces ... */
#define OVERLAP ((size_t)1 << 16) /* ... that overlap by this many bytes */

static size_t char_start(const char *t, size_t i, size_t len)
{
    while (i > 0 && i < len && ((uint8_t)t[i] & 0xC0) == 0x80)
        i--;
    return i;
}

long contam_scan(const contam *c, const char *text, size_t len, contam_scratch *s,
                 contam_hit_fn fn, void *ctx)
{
    if (c->ne == 0)
        return 0;
    if (len <= PIECE)
        return scan_piece(c, text, len, s, fn, ctx);
    /* Bounded scratch memory for a long document (20 bytes per byte of a piece): an
     * n-gram is found when it lies within OVERLAP bytes, which any n-gram of at most 256
     * units does unless it spans 64 KiB of punctuation. */
    long hits = 0;
    for (size_t start = 0; start < len;) {
        size_t end = start + PIECE < len ? char_start(text, start + PIECE, len) : len;
        long h = scan_piece(c, text + start, end - start, s, fn, ctx);
        if (h < 0)
            return -1;
        hits += h;
        if ((hits && !fn) || end == len)
            break;
        start = char_start(text, end - OVERLAP, len);
    }
    return hits;
}

/* ---- scanning a dataset ---------------------------------------------------------------- */

/* A block: whole documents of one split of one source, decoded and scanned by one task.
 * Its documents are first_doc .. first_doc + n_docs - 1 of the split; the first starts
 * at id `offset` of shard `shard`, and the last may run on into the following shards. */
typedef struct {
    uint32_t source;
    int split;
    size_t shard;
    uint64_t offset;
    uint64_t first_doc, n_docs;
    uint64_t bytes; /* decoded: set by its task */
} block;

#define BLOCK_TOKENS ((uint64_t)1 << 20)
static uint64_t block_tokens = BLOCK_TOKENS;

void contam_set_block_tokens(uint64_t n) { block_tokens = n ? n : BLOCK_TOKENS; }

static int push_block(block **b, size_t *nb, size_t *cap, block x)
{
    block *n = dk_grow(*b, cap, *nb + 1, sizeof *n, 64);
    if (!n)
        return -1;
    *b = n;
    (*b)[(*nb)++] = x;
    return 0;
}

/* The blocks, in dataset order: one sequential look at every id for <|eos|>. A block
 * closes at the first document end at or after block_tokens ids. Ids after a split's
 * last <|eos|> are no document (never decoded, as before blocks). -1 on OOM. */
static int cut_blocks(const dataset *d, block **out, size_t *n_out)
{
    block *b = NULL;
    size_t nb = 0, cap = 0;
    for (size_t s = 0; s < d->n_sources; s++)
        for (int sp = 0; sp < 2; sp++) {
            const dataset_source *src = &d->sources[s];
            block cur = {(uint32_t)s, sp, 0, 0, 0, 0, 0};
            uint64_t ids = 0;
            for (size_t k = 0; k < src->n_shards[sp]; k++) {
                const shard *sh = &src->shards[sp][k];
                for (uint64_t i = 0; i < sh->count; i++) {
                    ids++;
                    if (shard_get(sh, i) != d->eos_id)
                        continue;
                    cur.n_docs++;
                    if (ids < block_tokens)
                        continue;
                    if (push_block(&b, &nb, &cap, cur) != 0) {
                        free(b);
                        return -1;
                    }
                    cur.first_doc += cur.n_docs;
                    cur.n_docs = 0;
                    cur.shard = i + 1 < sh->count ? k : k + 1;
                    cur.offset = i + 1 < sh->count ? i + 1 : 0;
                    ids = 0;
                }
            }
            if (cur.n_docs && push_block(&b, &nb, &cap, cur) != 0) {
                free(b);
                return -1;
            }
        }
    *out = b;
    *n_out = nb;
    return 0;
}

typedef struct {
    pthread_mutex_t mu;
    contam_where *const *where;
} hit_table;

typedef struct {
    hit_table *h;
    uint32_t source;
    int split;
    uint64_t document;
    const uint8_t *text;
    size_t len;
} where_ctx;

/* Keeps the lowest (source, split, document) of each item, whatever order the blocks
 * are scanned in: the result does not depend on the thread count. */
static void note_hit(void *vc, uint32_t task, uint32_t item)
{
    where_ctx *w = vc;
    pthread_mutex_lock(&w->h->mu);
    contam_where *x = &w->h->where[task][item];
    if (x->found && (x->source != w->source ? x->source < w->source
                     : x->split != w->split ? x->split < w->split
                                            : x->document <= w->document)) {
        pthread_mutex_unlock(&w->h->mu);
        return;
    }
    *x = (contam_where){1, w->source, w->split, w->document, ""};
    size_t k = 0;
    while (k < w->len) {
        uint32_t cp;
        size_t n = utf8_decode(w->text + k, w->len - k, &cp);
        if (n == 0 || k + n > 96)
            break;
        for (size_t b = 0; b < n; b++)
            x->excerpt[k + b] = (char)(cp < 0x20 || cp == 0x7f ? ' ' : w->text[k + b]);
        k += n;
    }
    x->excerpt[k] = 0;
    pthread_mutex_unlock(&w->h->mu);
}

typedef struct { /* one per thread */
    dk_token *ids;
    size_t cap;
    uint8_t *text;
    size_t tcap;
    contam_scratch cs;
} scan_buffers;

typedef struct {
    const contam *c;
    const dataset *d;
    const tok *t;
    block *blocks;
    scan_buffers *buf;
    hit_table hits;
    atomic_int failed;
    pthread_mutex_t err_mu;
    dk_err err; /* the first failure */
} scan_job;

static void scan_fail(scan_job *j, const dk_err *e)
{
    pthread_mutex_lock(&j->err_mu);
    if (!atomic_load(&j->failed))
        j->err = *e;
    atomic_store(&j->failed, 1);
    pthread_mutex_unlock(&j->err_mu);
}

static void scan_block(void *vj, size_t bi, int thread)
{
    scan_job *j = vj;
    if (atomic_load_explicit(&j->failed, memory_order_relaxed))
        return;
    block *b = &j->blocks[bi];
    scan_buffers *sb = &j->buf[thread];
    const dataset_source *src = &j->d->sources[b->source];
    const dk_token eos = j->d->eos_id;
    where_ctx w = {&j->hits, b->source, b->split, 0, NULL, 0};
    size_t k = b->shard, nid = 0;
    uint64_t i = b->offset, doc = 0, bytes = 0;
    dk_err err;
    while (doc < b->n_docs) { /* cut_blocks saw n_docs <|eos|> from here on */
        const shard *sh = &src->shards[b->split][k];
        if (i == sh->count) { /* a document continues in the next shard */
            k++;
            i = 0;
            continue;
        }
        dk_token id = shard_get(sh, i++);
        if (id != eos) {
            if (nid == sb->cap) {
                dk_token *ni = dk_grow(sb->ids, &sb->cap, nid + 1, sizeof *ni, 4096);
                if (!ni) {
                    dk_errf(&err, "out of memory");
                    scan_fail(j, &err);
                    return;
                }
                sb->ids = ni;
            }
            sb->ids[nid++] = id;
            continue;
        }
        size_t tlen = 0;
        if (tok_decode(j->t, sb->ids, nid, &sb->text, &tlen, &sb->tcap, &err) != 0) {
            scan_fail(j, &err);
            return;
        }
        w.document = b->first_doc + doc;
        w.text = sb->text;
        w.len = tlen;
        if (contam_scan(j->c, (const char *)sb->text, tlen, &sb->cs, note_hit, &w) < 0) {
            dk_errf(&err, "out of memory");
            scan_fail(j, &err);
            return;
        }
        bytes += tlen;
        doc++;
        nid = 0;
    }
    b->bytes = bytes;
}

int contam_scan_dataset(const contam *c, const char *dir, contam_where **where, int threads,
                        char (**names)[96], size_t *n_sources, contam_stats *st, dk_err *err)
{
    double t0 = now_seconds();
    memset(st, 0, sizeof *st);
    dataset d;
    if (dataset_open(&d, dir, err) != 0)
        return -1;
    char tpath[4200];
    snprintf(tpath, sizeof tpath, "%s/%s", dir, TOK_DEFAULT_FILE);
    tok *t;
    if (tok_load(&t, tpath, err) != 0) {
        dataset_close(&d);
        return -1;
    }
    int rc = 0;
    if (names) {
        *names = calloc(d.n_sources ? d.n_sources : 1, sizeof **names);
        if (!*names)
            rc = dk_errf(err, "out of memory");
        for (size_t i = 0; rc == 0 && i < d.n_sources; i++)
            snprintf((*names)[i], 96, "%s", d.sources[i].name);
    }
    if (n_sources)
        *n_sources = d.n_sources;
    block *blocks = NULL;
    size_t nb = 0;
    if (rc == 0 && cut_blocks(&d, &blocks, &nb) != 0)
        rc = dk_errf(err, "out of memory");
    pool *pl = NULL;
    if (threads <= 0)
        threads = pool_cpu_count();
    if ((size_t)threads > nb) /* no idle threads for a small dataset */
        threads = nb ? (int)nb : 1;
    if (rc == 0 && nb > 0 && !(pl = pool_new(threads)))
        rc = dk_errf(err, "cannot start %d threads", threads);
    int nt = pl ? pool_threads(pl) : 0;
    scan_job j = {.c = c, .d = &d, .t = t, .blocks = blocks, .hits = {.where = where}};
    if (rc == 0 && nb > 0 && !(j.buf = calloc((size_t)nt, sizeof *j.buf)))
        rc = dk_errf(err, "out of memory");
    if (rc == 0 && nb > 0) {
        pthread_mutex_init(&j.hits.mu, NULL);
        pthread_mutex_init(&j.err_mu, NULL);
        atomic_init(&j.failed, 0);
        pool_for(pl, nb, scan_block, &j);
        pthread_mutex_destroy(&j.hits.mu);
        pthread_mutex_destroy(&j.err_mu);
        if (atomic_load(&j.failed)) {
            *err = j.err;
            rc = -1;
        }
        for (size_t b = 0; rc == 0 && b < nb; b++) {
            st->documents += blocks[b].n_docs;
            st->bytes += blocks[b].bytes;
        }
    }
    for (int i = 0; j.buf && i < nt; i++) {
        free(j.buf[i].ids);
        free(j.buf[i].text);
        contam_scratch_free(&j.buf[i].cs);
    }
    free(j.buf);
    pool_free(pl);
    free(blocks);
    tok_free(t);
    dataset_close(&d);
    st->seconds = now_seconds() - t0;
    return rc;
}
