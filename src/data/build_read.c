/* build_read.c: reading a source file (see build.h): lines, UTF-8, JSONL and hashes
 * in parallel chunks, then each document's fate in file order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/build.h"
#include "util/grow.h"
#include "util/hash.h"
#include "util/hugemem.h"
#include "util/utf8.h"

int hs_init(hash_set *s)
{
    s->mask = (1u << 13) - 1; /* SEEN_PARTS of them */
    s->shift = 64 - 13;
    s->used = 0;
    s->slots = calloc(s->mask + 1, sizeof *s->slots);
    return s->slots ? 0 : -1;
}

/* Inserts h; returns 1 if it was new, 0 if present, -1 on OOM. (0,0) is reserved
 * for empty slots, so it is remapped.) */
int hs_insert(hash_set *s, uint64_t a, uint64_t b)
{
    if (a == 0 && b == 0)
        b = 1;
    if ((s->used + 1) * 2 > s->mask + 1) {
        size_t nc = (s->mask + 1) * 2;
        /* from 2 MiB on, huge pages: a part's table is too small for hugemem_advise
         * on an unaligned block, and the 4 KiB faults of the 8 parts' tables were half
         * the build's page faults */
        size_t bytes = nc * sizeof(uint64_t[2]);
        uint64_t(*ns)[2] = bytes >= ((size_t)2 << 20) ? hugemem_alloc(bytes) : calloc(nc, sizeof *ns);
        if (!ns)
            return -1;
        for (size_t i = 0; i <= s->mask; i++) {
            if (!s->slots[i][0] && !s->slots[i][1])
                continue;
            size_t j = hs_home_at(s->slots[i][0], s->shift - 1);
            while (ns[j][0] || ns[j][1])
                j = (j + 1) & (nc - 1);
            ns[j][0] = s->slots[i][0];
            ns[j][1] = s->slots[i][1];
        }
        free(s->slots);
        s->slots = ns;
        s->mask = nc - 1;
        s->shift--;
    }
    size_t i = hs_home(s, a);
    while (s->slots[i][0] || s->slots[i][1]) {
        if (s->slots[i][0] == a && s->slots[i][1] == b)
            return 0;
        i = (i + 1) & s->mask;
    }
    s->slots[i][0] = a;
    s->slots[i][1] = b;
    s->used++;
    return 1;
}

/* ---- reading sources --------------------------------------------------------------- */

#define CONTAM_CHUNK 256 /* documents per task */

typedef struct {
    builder *b;
    doc *docs;
    size_t n;
    int failed;
} contam_job;

static void contam_chunk(void *vc, size_t i, int th)
{
    contam_job *j = vc;
    size_t end = (i + 1) * CONTAM_CHUNK < j->n ? (i + 1) * CONTAM_CHUNK : j->n;
    for (size_t d = i * CONTAM_CHUNK; d < end; d++) {
        if (j->docs[d].drop != KEEP)
            continue;
        long h = contam_scan(j->b->ct, (const char *)j->docs[d].p, j->docs[d].len, &j->b->cs[th], NULL, NULL);
        if (h < 0)
            j->failed = 1;
        else if (h > 0)
            j->docs[d].drop = DROP_CONTAM;
    }
}

/* Marks the kept documents of docs[0..n) that contain a test item: their number, or -1
 * on out of memory. Each document is decided alone: the same for any thread count. */
static long mark_contaminated(builder *b, doc *docs, size_t n)
{
    contam_job j = {b, docs, n, 0};
    pool_for(b->pl, (n + CONTAM_CHUNK - 1) / CONTAM_CHUNK, contam_chunk, &j);
    if (j.failed)
        return -1;
    long k = 0;
    for (size_t d = 0; d < n; d++)
        k += docs[d].drop == DROP_CONTAM;
    return k;
}

/* A non-empty document of a file, as a read task found it: its text (in the mapped
 * file, or decoded into the arena), its two hashes and its split. */
typedef struct {
    const uint8_t *p;
    uint64_t h1, h2;
    uint32_t len;
    uint8_t val;
    uint8_t filtered; /* KEEP, or the DROP_* of a quality filter (data/quality.h) */
} read_doc;

/* Records the fate of the next document of the first pass. 0, or -1 on out of memory. */
int fate_push(builder *b, int drop)
{
    uint8_t *nf = dk_grow(b->fate, &b->cap_fate, b->n_fate + 1, 1, 4096);
    if (!nf)
        return -1;
    b->fate = nf;
    b->fate[b->n_fate++] = (uint8_t)drop;
    return 0;
}

/* Appends the non-empty document x to docs[] (room reserved by the caller), deciding
 * its fate in file order: the quality filters' and exact dedupe's verdict (phase 0 or
 * one pass: dedupe_part put it in x->filtered), or the fate phase 0 recorded (phase 1
 * of two). Returns 0, or -2 when the input changed between the passes. */
static int add_doc(builder *b, source_state *s, doc *docs, size_t *n, const read_doc *x)
{
    int drop = x->filtered; /* signing: exact dedupe waits for the merge */
    int val = x->val;
    if (b->two_pass && !b->sw && b->phase == 0) {
        b->fate[b->n_fate++] = (uint8_t)(drop | (val ? FATE_VAL : 0)); /* room reserved by the caller */
    } else if (b->two_pass && !b->sw) {
        if (b->fate_no >= b->n_fate)
            return -2;
        uint8_t f = b->fate[b->fate_no++];
        drop = f & ~FATE_VAL;
        val = (f & FATE_VAL) != 0;
        if (drop == KEEP) {
            if (b->index_no >= b->n_index)
                return -2;
            size_t id = b->index_no++;
            if (b->keep_of[id] != id)
                drop = DROP_NEAR;
        }
    }
    if (b->phase == 1) {
        s->documents++;
        s->dropped[drop]++;
    }
    docs[(*n)++] = (doc){x->p, x->h1, x->h2, x->len, (uint8_t)val, (uint8_t)drop};
    return 0;
}

/* ---- reading a file: chunks in parallel, then fates in file order ------------------ */

#define READ_CHUNK (1u << 20)      /* bytes per read task, cut after a newline */
#define READ_CHUNK_MIN (64u << 10) /* ... or fewer, down to this, for small files */

enum { READ_OK = 0, READ_BAD_UTF8, READ_BAD_JSON, READ_OOM };

typedef struct { /* a line apart from its neighbours: its task counts into it per line */
    _Alignas(64) size_t start, end; /* bytes [start, end) of the file: whole lines */
    size_t lines;       /* lines read (up to the error, if any) */
    size_t empty;       /* empty documents among them */
    read_doc *d;        /* the non-empty documents before the error, in order */
    size_t n, cap;
    int error;          /* READ_*: the first problem */
    size_t err_line;    /* its line, counted from 0 in the chunk */
    size_t err_byte;    /* READ_BAD_UTF8: the byte of the line, from 1 */
} read_chunk;

typedef struct {
    const builder *b;
    const uint8_t *data;
    uint8_t *arena; /* JSONL: decoded texts, chunk k's at arena + its start; else NULL */
    read_chunk *c;
    uint8_t *sha;   /* non-NULL: task 0 digests the whole file into it, chunks follow */
    size_t size;
} read_job;

/* Appends a document to the chunk's list with its hashes and split; with vf < 0 (the
 * second pass of two, whose fates hold the split) without them. */
static int chunk_push(read_chunk *c, const uint8_t *p, size_t len, double val_fraction,
                      uint8_t filtered)
{
    if (len == 0) {
        c->empty++;
        return 0;
    }
    read_doc *nd = dk_grow(c->d, &c->cap, c->n + 1, sizeof *nd, 256);
    if (!nd)
        return -1;
    c->d = nd;
    uint64_t h1 = 0, h2 = 0;
    if (val_fraction >= 0) {
        h1 = hash_bytes(p, len);
        h2 = hash_u64(h1 ^ 0x5851f42d4c957f2dULL) ^ hash_bytes(p, len / 2 + 1);
    }
    c->d[c->n++] = (read_doc){p, h1, h2, (uint32_t)len, (uint8_t)val_split(h2, val_fraction), filtered};
    return 0;
}

/* The quality filters' verdict as a DROP_* (KEEP: passes), or -1 on out of memory. In
 * the second pass of two the fate recorded in the first decides: not computed again. */
static int filter_doc(const builder *b, const uint8_t *p, size_t len, int th)
{
    if (len == 0 || (b->two_pass && b->phase == 1))
        return KEEP;
    int q = quality_check(&b->qp, p, len, &b->qs[th]);
    return q <= 0 ? q : DROP_SHORT + q - 1;
}

/* Reads chunk i: finds its lines, validates them, decodes JSONL and hashes each
 * document. Depends only on the chunk's bytes; stops at the chunk's first problem. */
static void read_chunk_task(void *vc, size_t i, int th)
{
    read_job *j = vc;
    read_chunk *c = &j->c[i];
    double vf = j->b->two_pass && j->b->phase == 1 ? -1 : j->b->o->val_fraction;
    size_t arena_len = c->start; /* each chunk decodes into arena[start..end) */
    /* the whole chunk validated at once (the vector kernels' blocks span lines); its
     * first bad byte is in the first line that reaches past it */
    size_t bad_at = c->start + utf8_validate(j->data + c->start, c->end - c->start);
    for (size_t pos = c->start; pos < c->end; c->lines++) {
        const uint8_t *nl = memchr(j->data + pos, '\n', c->end - pos);
        size_t end = nl ? (size_t)(nl - j->data) : c->end;
        const uint8_t *p = j->data + pos;
        size_t len = end - pos;
        pos = end + 1;
        if (len && p[len - 1] == '\r')
            len--;
        if (bad_at < end) {
            c->error = READ_BAD_UTF8;
            c->err_byte = bad_at - (size_t)(p - j->data) + 1;
            break;
        }
        if (!j->arena) {
            int f = filter_doc(j->b, p, len, th);
            if (f < 0 || chunk_push(c, p, len, vf, (uint8_t)f) != 0) {
                c->error = READ_OOM;
                break;
            }
            continue;
        }
        if (len == 0) /* a blank line of a JSONL file is no document */
            continue;
        json_error_t je;
        json_t *o = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &je);
        json_t *txt = o ? json_object_get(o, "text") : NULL;
        if (!o || !json_is_object(o) || !json_is_string(txt)) {
            json_decref(o);
            c->error = READ_BAD_JSON;
            break;
        }
        /* The decoded text is never longer than its line, so the chunk's part of the
         * arena (the file's size, never reallocated) holds them all. */
        size_t tl = json_string_length(txt);
        memcpy(j->arena + arena_len, json_string_value(txt), tl);
        json_decref(o);
        int f = filter_doc(j->b, j->arena + arena_len, tl, th);
        if (f < 0 || chunk_push(c, j->arena + arena_len, tl, vf, (uint8_t)f) != 0) {
            c->error = READ_OOM;
            break;
        }
        arena_len += tl;
    }
    if (c->error)
        c->err_line = c->lines;
}

/* A batch's task i: the file's SHA-256 (task 0 of the first batch of the pass that
 * records it: the digest of the very bytes read, computed beside the chunks instead of
 * by reading the file once more afterwards), else a chunk. */
static void read_batch_task(void *vc, size_t i, int th)
{
    read_job *j = vc;
    if (j->sha && i == 0)
        sha256_buf(j->data, j->size, j->sha);
    else
        read_chunk_task(vc, i - (j->sha != NULL), th);
}

typedef struct {
    hash_set *seen;
    read_chunk *c;
    size_t k;
    int failed;
} dedupe_job;

/* Exact dedupe of a batch's documents in part p of the set (build.h: SEEN_PARTS): in
 * document order, a duplicate's verdict DROP_EXACT into its `filtered`. Filtered
 * documents are never dedupe originals. The part's documents pass through a FIFO of
 * DEDUPE_AHEAD: each one's slot is prefetched when it enters and looked up when it
 * leaves (a cache miss otherwise: the set is larger than the caches). */
#define DEDUPE_AHEAD 16

static int dedupe_one(hash_set *hs, read_doc *x)
{
    int fresh = hs_insert(hs, x->h1, x->h2);
    if (!fresh)
        x->filtered = DROP_EXACT;
    return fresh < 0;
}

static void dedupe_part(void *vj, size_t p, int th)
{
    (void)th;
    dedupe_job *j = vj;
    hash_set *hs = &j->seen[p];
    read_doc *fifo[DEDUPE_AHEAD];
    size_t in = 0, out = 0; /* FIFO positions, in - out <= DEDUPE_AHEAD */
    int failed = 0;
    for (size_t i = 0; i < j->k; i++) {
        read_doc *d = j->c[i].d;
        for (size_t x = 0; x < j->c[i].n; x++) {
            /* the part first: another part's task may be writing that document's verdict */
            if (seen_part(j->seen, d[x].h1) != hs || d[x].filtered)
                continue;
            if (in - out == DEDUPE_AHEAD)
                failed |= dedupe_one(hs, fifo[out++ % DEDUPE_AHEAD]);
            __builtin_prefetch(&hs->slots[hs_home(hs, d[x].h1)]);
            fifo[in++ % DEDUPE_AHEAD] = &d[x];
        }
    }
    while (out < in)
        failed |= dedupe_one(hs, fifo[out++ % DEDUPE_AHEAD]);
    if (failed)
        j->failed = 1;
}

/* Cuts [0, size) into chunks of about `chunk` bytes, each ending just after a newline
 * (or at the end of the file); a longer line is a chunk of its own. Returns their
 * number (0 for an empty file), or SIZE_MAX on out of memory. */
static size_t cut_chunks(const uint8_t *data, size_t size, size_t chunk, read_chunk **out)
{
    size_t n = 0, cap = size / chunk + 1;
    read_chunk *c = aligned_alloc(_Alignof(read_chunk), cap * sizeof *c); /* sizeof: a multiple of 64 */
    if (!c)
        return SIZE_MAX;
    memset(c, 0, cap * sizeof *c);
    for (size_t start = 0; start < size;) {
        size_t end = size;
        if (size - start > chunk) {
            const uint8_t *nl = memchr(data + start + chunk - 1, '\n', size - (start + chunk - 1));
            end = nl ? (size_t)(nl - data) + 1 : size;
        }
        c[n].start = start;
        c[n++].end = end; /* at most cap chunks: every one but the last is >= chunk */
        start = end;
    }
    *out = c;
    return n;
}

int read_file(builder *b, source_state *s, const char *path, dk_err *err)
{
    fs_map m;
    if (fs_map_open(&m, path, (size_t)1 << 40, err) != 0)
        return -1;
    int jsonl = ends_with(path, ".jsonl");
    /* the builder's list, kept from file to file: its pages are faulted in once */
    doc *docs = b->docs;
    size_t n = 0, cap = b->docs_cap;
    uint8_t *arena = NULL; /* decoded JSONL texts */
    size_t fate_start = b->n_fate; /* phase 0: docs[d] is fate[fate_start + d] */
    int rc = 0;
    if (jsonl && m.size) {
        arena = malloc(m.size);
        if (!arena)
            rc = dk_errf(err, "%s: out of memory", path);
    }
    read_chunk *ch = NULL;
    size_t piece = piece_bytes(m.size, pool_threads(b->pl), READ_CHUNK_MIN, READ_CHUNK);
    size_t n_ch = rc == 0 ? cut_chunks(m.data, m.size, piece, &ch) : 0;
    if (n_ch == SIZE_MAX) {
        n_ch = 0;
        rc = dk_errf(err, "%s: out of memory", path);
    }
    size_t line = 0; /* lines of the chunks before */
    for (size_t c0 = 0; rc == 0 && c0 < n_ch; c0 += READ_BATCH) {
        size_t k = n_ch - c0 < READ_BATCH ? n_ch - c0 : READ_BATCH;
        for (size_t i = 0; i < k; i++) {
            ch[c0 + i].d = b->chunk_docs[i].d;
            ch[c0 + i].cap = b->chunk_docs[i].cap;
        }
        read_job j = {b, m.data, arena, ch + c0, b->phase == 1 && c0 == 0 ? b->file_sha : NULL, m.size};
        pool_for(b->pl, k + (j.sha != NULL), read_batch_task, &j);
        /* room for the batch's documents (and their fates), then exact dedupe */
        size_t more = 0;
        for (size_t i = c0; i < c0 + k; i++)
            more += ch[i].n;
        doc *nd = dk_grow(docs, &cap, n + more, sizeof *nd, 1024);
        if (nd)
            b->docs = docs = nd, b->docs_cap = cap;
        int first = b->two_pass && !b->sw && b->phase == 0;
        uint8_t *nf = first ? dk_grow(b->fate, &b->cap_fate, b->n_fate + more, 1, 4096) : b->fate;
        if (nf)
            b->fate = nf;
        if (!nd || (first && !nf))
            rc = dk_errf(err, "%s: out of memory", path);
        if (rc == 0 && !b->sw && (!b->two_pass || b->phase == 0)) {
            dedupe_job dj = {b->seen, ch + c0, k, 0};
            pool_for(b->pl, SEEN_PARTS, dedupe_part, &dj);
            if (dj.failed)
                rc = dk_errf(err, "%s: out of memory", path);
        }
        /* in file order: the documents before the first problem, then the problem */
        for (size_t i = c0; rc == 0 && i < c0 + k; i++) {
            read_chunk *c = &ch[i];
            if (b->phase == 1) {
                s->documents += c->empty;
                s->empty += c->empty;
            }
            for (size_t d = 0; d < c->n; d++) {
                int ar = add_doc(b, s, docs, &n, &c->d[d]);
                if (ar == -2 && b->file_from && b->file_from[b->file_no]) {
                    rc = dk_errf(err, "%s: does not match its section in the signature file %s (more documents here)",
                                 path, b->file_from[b->file_no]);
                    break;
                }
                if (ar != 0) {
                    rc = dk_errf(err, "%s: changed while the build read it", path);
                    break;
                }
            }
            if (rc == 0 && c->error == READ_BAD_UTF8)
                rc = dk_errf(err, "%s:%zu: invalid UTF-8 at byte %zu of the line", path,
                             line + c->err_line + 1, c->err_byte);
            else if (rc == 0 && c->error == READ_BAD_JSON)
                rc = dk_errf(err, "%s:%zu: not a JSON object with a string \"text\"", path,
                             line + c->err_line + 1);
            else if (rc == 0 && c->error == READ_OOM)
                rc = dk_errf(err, "%s: out of memory", path);
            line += c->lines;
        }
        for (size_t i = 0; i < k; i++) {
            b->chunk_docs[i].d = ch[c0 + i].d;
            b->chunk_docs[i].cap = ch[c0 + i].cap;
        }
    }
    free(ch);
    if (rc == 0 && b->ct && (b->phase == 0 || !b->two_pass)) { /* the first time it is read */
        long k = mark_contaminated(b, docs, n);
        if (k < 0)
            rc = dk_errf(err, "out of memory");
        else if (b->two_pass && !b->sw)
            for (size_t d = 0; d < n; d++)
                b->fate[fate_start + d] = (uint8_t)((b->fate[fate_start + d] & FATE_VAL) | docs[d].drop);
        else if (!b->two_pass)
            s->dropped[DROP_CONTAM] += (uint64_t)k;
    }
    if (b->phase == 1 && n_ch == 0)
        sha256_buf(m.data, m.size, b->file_sha); /* empty: no batch digested it */
    if (b->phase == 1) {
        s->bytes += m.size;
        if (rc == 0)
            rc = process_docs(b, s, docs, n, err);
    } else if (rc == 0 && b->sw) {
        rc = sign_section(b, s, &m, docs, n, err);
    } else if (rc == 0) { /* sign the documents kept so far; only the signatures stay */
        const char **tx = malloc((n ? n : 1) * sizeof *tx);
        size_t *ln = malloc((n ? n : 1) * sizeof *ln), k = 0;
        if (!tx || !ln)
            rc = dk_errf(err, "out of memory");
        for (size_t d = 0; rc == 0 && d < n; d++)
            if (docs[d].drop == KEEP) {
                tx[k] = (const char *)docs[d].p;
                ln[k++] = docs[d].len;
            }
        if (rc == 0)
            rc = minhash_index_add_docs(b->mx, tx, ln, k, b->pl, err);
        free(tx);
        free(ln);
    }
    b->done_bytes += (double)m.size;
    progress_update(&b->prog, b->done_bytes / 1e6);
    free(arena);
    fs_map_close(&m);
    return rc;
}

