/* data_build.c: the dataset builder (see data_build.h). */
#include "data/data_build.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/contam.h"
#include "data/minhash.h"
#include "data/quality.h"
#include "data/shard.h"
#include "data/sigfile.h"
#include "tokenizer/tokenizer.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/pool.h"
#include "util/progress.h"
#include "util/utf8.h"

#define BLOCK_BYTES (1u << 20)      /* document bytes per tokenising task */
#define BLOCK_BYTES_MIN (64u << 10) /* ... or fewer, down to this, for small files */
#define BATCH_BLOCKS 32

/* Why a document is dropped (0: kept). A dropped document is tokenised only to count
 * the tokens dropped. */
enum { KEEP = 0, DROP_EXACT, DROP_NEAR, DROP_CONTAM, DROP_SHORT, DROP_LETTERS, DROP_REPEAT, N_DROP };

/* The manifest's name of each reason (DROP_SHORT + k - 1 is QUALITY_* k). */
static const char *const DROP_NAME[N_DROP] = {"", "exact_duplicate", "near_duplicate", "contaminated",
                                              "too_short", "quality", "repetition"};

typedef struct {
    const uint8_t *p;
    uint64_t h1, h2; /* exact dedupe's hashes (a signature file keeps them) */
    uint32_t len;
    uint8_t val;
    uint8_t drop; /* KEEP or DROP_* */
} doc;

/* ---- the set of document hashes seen (128-bit, open addressing) -------------------- */

typedef struct {
    uint64_t (*slots)[2];
    size_t mask, used;
} hash_set;

static int hs_init(hash_set *s)
{
    s->mask = (1u << 16) - 1;
    s->used = 0;
    s->slots = calloc(s->mask + 1, sizeof *s->slots);
    return s->slots ? 0 : -1;
}

/* Inserts h; returns 1 if it was new, 0 if present, -1 on OOM. (0,0) is reserved
 * for empty slots, so it is remapped.) */
static int hs_insert(hash_set *s, uint64_t a, uint64_t b)
{
    if (a == 0 && b == 0)
        b = 1;
    if ((s->used + 1) * 2 > s->mask + 1) {
        size_t nc = (s->mask + 1) * 2;
        uint64_t(*ns)[2] = calloc(nc, sizeof *ns);
        if (!ns)
            return -1;
        for (size_t i = 0; i <= s->mask; i++) {
            if (!s->slots[i][0] && !s->slots[i][1])
                continue;
            size_t j = (size_t)(s->slots[i][0] & (nc - 1));
            while (ns[j][0] || ns[j][1])
                j = (j + 1) & (nc - 1);
            ns[j][0] = s->slots[i][0];
            ns[j][1] = s->slots[i][1];
        }
        free(s->slots);
        s->slots = ns;
        s->mask = nc - 1;
    }
    size_t i = (size_t)(a & s->mask);
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

/* ---- per-source output ------------------------------------------------------------ */

typedef struct {
    char file[160];
    uint64_t tokens;
    char sha256[65];
} shard_rec;

typedef struct {
    shard_writer w;
    int open;
    uint64_t docs, tokens;
    shard_rec *shards;
    size_t n_shards;
} split_out;

typedef struct {
    char name[96];
    const char *path, *partner, *licence;
    double weight_given;
    uint64_t documents, empty, bytes;
    uint64_t dropped[N_DROP], dropped_tokens[N_DROP]; /* by reason (KEEP unused) */
    uint64_t pii[PII_N_TYPES], pii_documents;
    split_out split[2]; /* train, val */
    json_t *inputs;
} source_state;

typedef struct {
    const data_build_opts *o;
    const tok *t;
    dk_token eos;
    int width;
    char tmp_dir[4096];
    hash_set seen;
    pool *pl;
    tok_encoder **enc;
    uint8_t **scratch; /* per thread: the scrubbed document */
    size_t *scratch_cap;
    tok_ids *dup_ids; /* per thread: ids of a duplicate, counted and dropped */
    progress prog;
    double done_bytes;
    /* Near duplicates: with two passes, phase 0 reads every source, drops exact
     * duplicates and contaminated documents (fate[], one byte per non-empty document)
     * and signs the rest into mx; after clustering (keep_of), phase 1 reads them again
     * and tokenizes. One pass (phase 1 only) without near-duplicate removal. */
    int two_pass, phase;
    minhash *mh;
    minhash_index *mx;
    uint32_t *keep_of;
    size_t n_index, index_no;
    uint8_t *fate;
    size_t n_fate, cap_fate, fate_no;
    contam *ct; /* decontamination, or NULL */
    quality_params qp;      /* all off without o->quality */
    quality_scratch *qs;    /* per thread */
    contam_scratch *cs; /* per thread */
    int nt;             /* threads */
    minhash_params mp;
    /* data_sign: the first pass goes to a signature file (no exact dedupe, no index) */
    sig_writer *sw;
    /* data build --signatures: first passes made elsewhere, by file content */
    sig_set *sigs;
    uint64_t files_from_signatures;
    /* the sources and their files */
    source_state *src;
    char ***files;
    size_t *n_files;
    double total; /* bytes of all files */
} builder;

static const char *SPLIT_NAME[2] = {"train", "val"};

static int split_append(builder *b, source_state *s, int sp, const dk_token *ids, size_t n,
                        dk_err *err)
{
    split_out *o = &s->split[sp];
    while (n > 0) {
        if (!o->open) {
            shard_rec *nr = realloc(o->shards, (o->n_shards + 1) * sizeof *nr);
            if (!nr)
                return dk_errf(err, "out of memory");
            o->shards = nr;
            shard_rec *r = &o->shards[o->n_shards];
            memset(r, 0, sizeof *r);
            snprintf(r->file, sizeof r->file, "%s.%s.%04zu.tok", s->name, SPLIT_NAME[sp],
                     o->n_shards);
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", b->tmp_dir, r->file);
            if (shard_writer_open(&o->w, path, b->width, err) != 0)
                return -1;
            o->n_shards++;
            o->open = 1;
        }
        uint64_t room = b->o->shard_tokens - o->w.count;
        size_t k = n < room ? n : (size_t)room;
        shard_writer_append(&o->w, ids, k);
        ids += k;
        n -= k;
        o->tokens += k;
        if (o->w.count >= b->o->shard_tokens) {
            shard_rec *r = &o->shards[o->n_shards - 1];
            r->tokens = o->w.count;
            o->open = 0;
            if (shard_writer_close(&o->w, err) != 0)
                return -1;
        }
    }
    return 0;
}

static int split_finish(source_state *s, int sp, dk_err *err)
{
    split_out *o = &s->split[sp];
    if (!o->open)
        return 0;
    o->shards[o->n_shards - 1].tokens = o->w.count;
    o->open = 0;
    return shard_writer_close(&o->w, err);
}

/* Bytes per piece of work for `size` bytes on `threads` threads: at most `most`, and
 * small inputs in about four pieces per thread (at least `least` bytes each), so that
 * every thread has work. Where the work is cut never changes the output. */
static size_t piece_bytes(size_t size, int threads, size_t least, size_t most)
{
    size_t c = size / (4 * (size_t)(threads > 0 ? threads : 1));
    return c < least ? least : c > most ? most : c;
}

/* ---- tokenising a batch of documents in parallel ----------------------------------- */

typedef struct {
    uint64_t pii[PII_N_TYPES], pii_documents, dropped_tokens[N_DROP];
} block_stats;

typedef struct {
    builder *b;
    const doc *docs;
    size_t *block_start; /* block i = docs [block_start[i], block_start[i+1]) */
    tok_ids (*out)[2];
    block_stats *st; /* per block, summed in block order afterwards */
    int failed;
} tok_job;

/* Scrubs (unless turned off) and tokenizes the documents of block i on thread th. */
static void tok_block(void *vc, size_t i, int th)
{
    tok_job *j = vc;
    builder *b = j->b;
    block_stats *st = &j->st[i];
    for (size_t d = j->block_start[i]; d < j->block_start[i + 1]; d++) {
        const doc *x = &j->docs[d];
        const uint8_t *p = x->p;
        size_t len = x->len;
        if (!b->o->no_scrub) {
            size_t need = pii_scrub_bound(len);
            if (need > b->scratch_cap[th]) {
                uint8_t *ns = realloc(b->scratch[th], need);
                if (!ns) {
                    j->failed = 1;
                    continue;
                }
                b->scratch[th] = ns;
                b->scratch_cap[th] = need;
            }
            uint64_t c[PII_N_TYPES] = {0};
            len = pii_scrub(p, len, b->scratch[th], c);
            p = b->scratch[th];
            uint64_t any = 0;
            for (int t = 0; t < PII_N_TYPES && !x->drop; t++) {
                st->pii[t] += c[t];
                any += c[t];
            }
            st->pii_documents += any > 0;
        }
        if (x->drop) {
            tok_ids *o = &b->dup_ids[th];
            o->n = 0;
            if (tok_encode(b->enc[th], p, len, 0, o, NULL) != 0)
                j->failed = 1;
            st->dropped_tokens[x->drop] += o->n + 1; /* with its <|eos|> */
            continue;
        }
        tok_ids *o = &j->out[i][x->val];
        if (tok_encode(b->enc[th], p, len, 0, o, NULL) != 0 || tok_ids_push(o, b->eos) != 0)
            j->failed = 1;
    }
}

static int process_docs(builder *b, source_state *s, const doc *docs, size_t n, dk_err *err)
{
    size_t cap = n / 8 + 2, nb = 0;
    size_t *starts = malloc(cap * sizeof *starts);
    if (!starts)
        return dk_errf(err, "out of memory");
    size_t acc = 0;
    for (size_t d = 0; d < n; d++)
        acc += docs[d].len;
    size_t block = piece_bytes(acc, pool_threads(b->pl), BLOCK_BYTES_MIN, BLOCK_BYTES);
    acc = 0;
    starts[nb] = 0;
    for (size_t d = 0; d < n; d++) {
        acc += docs[d].len;
        if (acc >= block || d + 1 == n) {
            if (nb + 2 > cap) {
                cap *= 2;
                size_t *ns = realloc(starts, cap * sizeof *ns);
                if (!ns) {
                    free(starts);
                    return dk_errf(err, "out of memory");
                }
                starts = ns;
            }
            starts[++nb] = d + 1;
            acc = 0;
        }
    }
    int rc = 0;
    for (size_t b0 = 0; rc == 0 && b0 < nb; b0 += BATCH_BLOCKS) {
        size_t m = nb - b0 < BATCH_BLOCKS ? nb - b0 : BATCH_BLOCKS;
        tok_ids(*out)[2] = calloc(m, sizeof *out);
        block_stats *st = calloc(m, sizeof *st);
        if (!out || !st) {
            free(out);
            free(st);
            rc = dk_errf(err, "out of memory");
            break;
        }
        tok_job j = {b, docs, starts + b0, out, st, 0};
        pool_for(b->pl, m, tok_block, &j);
        if (j.failed)
            rc = dk_errf(err, "out of memory while tokenizing");
        for (size_t i = 0; i < m; i++) {
            for (int t = 0; t < PII_N_TYPES; t++)
                s->pii[t] += st[i].pii[t];
            s->pii_documents += st[i].pii_documents;
            for (int r = 1; r < N_DROP; r++)
                s->dropped_tokens[r] += st[i].dropped_tokens[r];
            for (int sp = 0; sp < 2 && rc == 0; sp++)
                rc = split_append(b, s, sp, out[i][sp].ids, out[i][sp].n, err);
            tok_ids_free(&out[i][0]);
            tok_ids_free(&out[i][1]);
        }
        free(out);
        free(st);
    }
    free(starts);
    return rc;
}

/* ---- reading sources --------------------------------------------------------------- */

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* The fate of a document read for the first time: KEEP or DROP_EXACT (contaminated
 * documents are found afterwards, in parallel: mark_contaminated). */
static int first_fate(builder *b, const uint8_t *p, size_t len, uint64_t h1, uint64_t h2)
{
    (void)p, (void)len;
    int fresh = hs_insert(&b->seen, h1, h2);
    if (fresh < 0)
        return -1;
    return fresh ? KEEP : DROP_EXACT;
}

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
static int fate_push(builder *b, int drop)
{
    if (b->n_fate == b->cap_fate) {
        size_t nc = b->cap_fate ? b->cap_fate * 2 : 4096;
        uint8_t *nf = realloc(b->fate, nc);
        if (!nf)
            return -1;
        b->fate = nf;
        b->cap_fate = nc;
    }
    b->fate[b->n_fate++] = (uint8_t)drop;
    return 0;
}

/* Appends the non-empty document x to docs[], deciding its fate in file order: exact
 * dedupe against everything read before it (phase 0 or one pass), or the fate phase 0
 * recorded (phase 1 of two). Returns 0, -1 on out of memory, -2 when the input
 * changed between the passes. */
static int add_doc(builder *b, source_state *s, doc **docs, size_t *n, size_t *cap,
                   const read_doc *x)
{
    if (b->phase == 1)
        s->documents++;
    int drop;
    /* the quality filters come first: a filtered document is not a dedupe original */
    if (!b->two_pass) {
        drop = x->filtered ? x->filtered : first_fate(b, x->p, x->len, x->h1, x->h2);
    } else if (b->sw) { /* signing: exact dedupe waits for the merge */
        drop = x->filtered;
    } else if (b->phase == 0) {
        drop = x->filtered ? x->filtered : first_fate(b, x->p, x->len, x->h1, x->h2);
        if (drop >= 0 && fate_push(b, drop) != 0)
            return -1;
    } else {
        if (b->fate_no >= b->n_fate)
            return -2;
        drop = b->fate[b->fate_no++];
        if (drop == KEEP) {
            if (b->index_no >= b->n_index)
                return -2;
            size_t id = b->index_no++;
            if (b->keep_of[id] != id)
                drop = DROP_NEAR;
        }
    }
    if (drop < 0)
        return -1;
    if (b->phase == 1) {
        s->dropped[drop]++;
    }
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        doc *nd = realloc(*docs, *cap * sizeof *nd);
        if (!nd)
            return -1;
        *docs = nd;
    }
    (*docs)[(*n)++] = (doc){x->p, x->h1, x->h2, x->len, x->val, (uint8_t)drop};
    return 0;
}

/* ---- reading a file: chunks in parallel, then fates in file order ------------------ */

#define READ_CHUNK (1u << 20)      /* bytes per read task, cut after a newline */
#define READ_CHUNK_MIN (64u << 10) /* ... or fewer, down to this, for small files */
#define READ_BATCH 64         /* chunks read in parallel before their fates are decided */

enum { READ_OK = 0, READ_BAD_UTF8, READ_BAD_JSON, READ_OOM };

typedef struct {
    size_t start, end;  /* bytes [start, end) of the file: whole lines */
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
} read_job;

static int chunk_push(read_chunk *c, const uint8_t *p, size_t len, double val_fraction,
                      uint8_t filtered)
{
    if (len == 0) {
        c->empty++;
        return 0;
    }
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 256;
        read_doc *nd = realloc(c->d, nc * sizeof *nd);
        if (!nd)
            return -1;
        c->d = nd;
        c->cap = nc;
    }
    uint64_t h1 = hash_bytes(p, len);
    uint64_t h2 = hash_u64(h1 ^ 0x5851f42d4c957f2dULL) ^ hash_bytes(p, len / 2 + 1);
    /* validation split: the document's hash in [0, val_fraction) of the space */
    int val = (double)(h2 >> 11) * 0x1.0p-53 < val_fraction;
    c->d[c->n++] = (read_doc){p, h1, h2, (uint32_t)len, (uint8_t)val, filtered};
    return 0;
}

/* Reads chunk i: finds its lines, validates them, decodes JSONL and hashes each
 * document. Depends only on the chunk's bytes; stops at the chunk's first problem. */
/* The quality filters' verdict as a DROP_* (KEEP: passes), or -1 on out of memory. In
 * the second pass of two the fate recorded in the first decides: not computed again. */
static int filter_doc(const builder *b, const uint8_t *p, size_t len, int th)
{
    if (len == 0 || (b->two_pass && b->phase == 1))
        return KEEP;
    int q = quality_check(&b->qp, p, len, &b->qs[th]);
    return q <= 0 ? q : DROP_SHORT + q - 1;
}

static void read_chunk_task(void *vc, size_t i, int th)
{
    read_job *j = vc;
    read_chunk *c = &j->c[i];
    double vf = j->b->o->val_fraction;
    size_t arena_len = c->start; /* each chunk decodes into arena[start..end) */
    for (size_t pos = c->start; pos < c->end; c->lines++) {
        const uint8_t *nl = memchr(j->data + pos, '\n', c->end - pos);
        size_t end = nl ? (size_t)(nl - j->data) : c->end;
        const uint8_t *p = j->data + pos;
        size_t len = end - pos;
        pos = end + 1;
        if (len && p[len - 1] == '\r')
            len--;
        size_t bad = utf8_validate(p, len);
        if (bad != len) {
            c->error = READ_BAD_UTF8;
            c->err_byte = bad + 1;
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

/* Cuts [0, size) into chunks of about `chunk` bytes, each ending just after a newline
 * (or at the end of the file); a longer line is a chunk of its own. Returns their
 * number (0 for an empty file), or SIZE_MAX on out of memory. */
static size_t cut_chunks(const uint8_t *data, size_t size, size_t chunk, read_chunk **out)
{
    size_t n = 0, cap = size / chunk + 1;
    read_chunk *c = calloc(cap, sizeof *c);
    if (!c)
        return SIZE_MAX;
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

static int sign_section(builder *b, source_state *s, const fs_map *m, const doc *docs, size_t n,
                        dk_err *err);

static int read_file(builder *b, source_state *s, const char *path, dk_err *err)
{
    fs_map m;
    if (fs_map_open(&m, path, (size_t)1 << 40, err) != 0)
        return -1;
    int jsonl = ends_with(path, ".jsonl");
    doc *docs = NULL;
    size_t n = 0, cap = 0;
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
        read_job j = {b, m.data, arena, ch + c0};
        pool_for(b->pl, k, read_chunk_task, &j);
        /* in file order: the documents before the first problem, then the problem */
        for (size_t i = c0; rc == 0 && i < c0 + k; i++) {
            read_chunk *c = &ch[i];
            if (b->phase == 1) {
                s->documents += c->empty;
                s->empty += c->empty;
            }
            int exact = !b->sw && (!b->two_pass || b->phase == 0);
            for (size_t d = 0; d < c->n; d++) {
                if (exact && d + 8 < c->n) /* the set's slot, a cache miss otherwise */
                    __builtin_prefetch(&b->seen.slots[c->d[d + 8].h1 & b->seen.mask]);
                int ar = add_doc(b, s, &docs, &n, &cap, &c->d[d]);
                if (ar != 0) {
                    rc = dk_errf(err, ar == -2 ? "%s: changed while the build read it" : "%s: out of memory", path);
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
        for (size_t i = c0; i < c0 + k; i++) {
            free(ch[i].d);
            ch[i].d = NULL;
        }
    }
    free(ch);
    if (rc == 0 && b->ct && (b->phase == 0 || !b->two_pass)) { /* the first time it is read */
        long k = mark_contaminated(b, docs, n);
        if (k < 0)
            rc = dk_errf(err, "out of memory");
        else if (b->two_pass && !b->sw)
            for (size_t d = 0; d < n; d++)
                b->fate[fate_start + d] = docs[d].drop;
        else if (!b->two_pass)
            s->dropped[DROP_CONTAM] += (uint64_t)k;
    }
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
    free(docs);
    fs_map_close(&m);
    return rc;
}

/* ---- the first pass kept in signature files (data/sigfile.h) ----------------------- */

#define SIGN_BATCH 16384 /* kept documents signed at a time */

/* A first-pass fate as the signature file writes it, and back. */
static uint8_t sig_fate(int drop)
{
    return drop == KEEP ? SIG_KEEP : drop == DROP_CONTAM ? SIG_CONTAMINATED
                                                         : (uint8_t)(SIG_TOO_SHORT + (drop - DROP_SHORT));
}

/* Writes the section of a file whose first pass is done (docs: its non-empty documents,
 * fates without exact dedupe), signing the kept ones in batches. */
static int sign_section(builder *b, source_state *s, const fs_map *m, const doc *docs, size_t n,
                        dk_err *err)
{
    int H = minhash_hashes(b->mh);
    uint8_t sha[32];
    sha256_buf(m->data, m->size, sha);
    uint64_t(*h)[2] = malloc((n ? n : 1) * sizeof *h);
    uint8_t *fates = malloc(n ? n : 1), *has = malloc(SIGN_BATCH);
    const char **tx = malloc(SIGN_BATCH * sizeof *tx);
    size_t *ln = malloc(SIGN_BATCH * sizeof *ln);
    uint16_t *kept = malloc((size_t)SIGN_BATCH * (size_t)H * sizeof *kept);
    int rc = 0;
    if (!h || !fates || !has || !tx || !ln || !kept)
        rc = dk_errf(err, "out of memory");
    for (size_t d = 0; rc == 0 && d < n; d++) {
        h[d][0] = docs[d].h1;
        h[d][1] = docs[d].h2;
        fates[d] = sig_fate(docs[d].drop);
        s->documents++;
        s->dropped[docs[d].drop]++;
    }
    if (rc == 0)
        sig_writer_file(b->sw, sha, m->size, n, (const uint64_t(*)[2])h, fates);
    for (size_t d = 0; rc == 0 && d < n;) {
        size_t k = 0;
        for (; d < n && k < SIGN_BATCH; d++)
            if (docs[d].drop == KEEP) {
                tx[k] = (const char *)docs[d].p;
                ln[k++] = docs[d].len;
            }
        minhash_sign_kept(b->mh, tx, ln, k, b->pl, kept, has);
        sig_writer_kept(b->sw, kept, has, k);
    }
    if (rc == 0)
        sig_writer_file_end(b->sw);
    free(h);
    free(fates);
    free(has);
    free(tx);
    free(ln);
    free(kept);
    return rc;
}

/* The first pass of one file taken from its section: exact dedupe against everything
 * before it, in the build's order, then the kept documents' signatures into the index;
 * the same fates and index as read_file's first pass of the same bytes. */
static int replay_section(builder *b, const sig_section *x, dk_err *err)
{
    size_t H = (size_t)minhash_hashes(b->mh);
    uint64_t k = 0;
    for (uint64_t d = 0; d < x->n_docs; d++) {
        uint8_t f = x->fates[d];
        int drop;
        if (f >= SIG_TOO_SHORT) { /* filtered: never a dedupe original */
            drop = DROP_SHORT + (f - SIG_TOO_SHORT);
        } else {
            uint64_t hh[2];
            memcpy(hh, x->hashes + 16 * d, 16);
            if (d + 8 < x->n_docs) {
                uint64_t ahead;
                memcpy(&ahead, x->hashes + 16 * (d + 8), 8);
                __builtin_prefetch(&b->seen.slots[ahead & b->seen.mask]);
            }
            int fresh = hs_insert(&b->seen, hh[0], hh[1]);
            if (fresh < 0)
                return dk_errf(err, "out of memory");
            drop = !fresh ? DROP_EXACT : f == SIG_CONTAMINATED ? DROP_CONTAM : KEEP;
        }
        if (fate_push(b, drop) != 0)
            return dk_errf(err, "out of memory");
        if (f == SIG_KEEP) {
            if (drop == KEEP && minhash_index_add_kept(b->mx, x->kept + k * H, x->has[k], err) != 0)
                return -1;
            k++;
        }
    }
    return 0;
}

/* The first pass of one input file: from a signature file holding its content, else by
 * reading it. */
static int first_pass_file(builder *b, source_state *s, const char *path, dk_err *err)
{
    if (!b->sigs)
        return read_file(b, s, path, err);
    fs_map m;
    if (fs_map_open(&m, path, (size_t)1 << 40, err) != 0)
        return -1;
    uint8_t sha[32];
    sha256_buf(m.data, m.size, sha);
    size_t size = m.size;
    fs_map_close(&m);
    const sig_section *x = sig_set_find(b->sigs, sha, size);
    if (!x)
        return read_file(b, s, path, err);
    b->files_from_signatures++;
    int rc = replay_section(b, x, err);
    sig_section_release(x);
    b->done_bytes += (double)size;
    progress_update(&b->prog, b->done_bytes / 1e6);
    return rc;
}

/* Everything that changes a first pass's output, as one line: a signature file made
 * with other settings is refused. FIRST_PASS names the code's own version: raise it
 * whenever hashing, signing, filtering or decontamination give other results. */
#define FIRST_PASS "dokja-first-pass-2"
static int first_pass_settings(const builder *b, char *out, size_t cap)
{
    const minhash_params *p = &b->mp;
    int k = snprintf(out, cap,
                     FIRST_PASS "; exact 128-bit; minhash %s %d-grams, %d hashes in %d bands x %d rows, seed 0x%llx, 16 bits kept; ",
                     p->kind == MINHASH_CHARS ? "character" : "word", p->n, p->bands * p->rows, p->bands, p->rows,
                     (unsigned long long)p->seed);
    if (b->o->quality)
        k += snprintf(out + k, cap - (size_t)k, "quality min_chars %d, min_letter_share %.17g, repetition %s; ",
                      b->qp.min_chars, b->qp.min_letter_share, b->qp.repetition ? "on" : "off");
    else
        k += snprintf(out + k, cap - (size_t)k, "quality off; ");
    if (!b->ct)
        return snprintf(out + k, cap - (size_t)k, "decontaminate none") + k;
    k += snprintf(out + k, cap - (size_t)k, "decontaminate %d words, %d characters, tasks", contam_word_n(b->ct),
                  contam_char_n(b->ct));
    for (size_t t = 0; t < contam_n_tasks(b->ct) && (size_t)k < cap; t++)
        k += snprintf(out + k, cap - (size_t)k, " %s", contam_task_sha256(b->ct, t));
    return k;
}

/* ---- manifest ---------------------------------------------------------------------- */

static json_t *split_json(builder *b, split_out *o, dk_err *err, int *rc)
{
    json_t *j = json_object(), *arr = json_array();
    json_object_set_new(j, "tokens", json_integer((json_int_t)o->tokens));
    for (size_t i = 0; i < o->n_shards && *rc == 0; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", b->tmp_dir, o->shards[i].file);
        uint8_t d[32];
        if (sha256_file(path, d, err) != 0) {
            *rc = -1;
            break;
        }
        sha256_hex(d, o->shards[i].sha256);
        json_t *sh = json_object();
        json_object_set_new(sh, "file", json_string(o->shards[i].file));
        json_object_set_new(sh, "tokens", json_integer((json_int_t)o->shards[i].tokens));
        json_object_set_new(sh, "sha256", json_string(o->shards[i].sha256));
        json_array_append_new(arr, sh);
    }
    json_object_set_new(j, "shards", arr);
    return j;
}

static void source_name(source_state *all, size_t i, const char *path)
{
    char *copy = strdup(path);
    const char *base = copy ? basename(copy) : "source";
    char name[96];
    size_t k = 0;
    for (const char *c = base; *c && k + 1 < sizeof name; c++) {
        if (*c == '.' && (ends_with(c, ".txt") || ends_with(c, ".jsonl")) &&
            !strchr(c + 1, '.'))
            break;
        name[k++] = (char)((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                                   (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'
                               ? *c
                               : '_');
    }
    name[k] = 0;
    if (k == 0)
        strcpy(name, "source");
    free(copy);
    snprintf(all[i].name, sizeof all[i].name, "%s", name);
    for (int dup = 2;; dup++) { /* unique names */
        int clash = 0;
        for (size_t j = 0; j < i; j++)
            clash |= strcmp(all[j].name, all[i].name) == 0;
        if (!clash)
            break;
        snprintf(all[i].name, sizeof all[i].name, "%.80s-%d", name, dup);
    }
}

/* ---- what each source (and partner) kept and dropped ------------------------------- */

typedef struct {
    uint64_t documents, kept, empty, tokens;
    uint64_t dropped[N_DROP], dropped_tokens[N_DROP];
    uint64_t pii[PII_N_TYPES], pii_documents;
} counts;

static counts source_counts(const source_state *s)
{
    counts c = {.documents = s->documents, .empty = s->empty,
                .tokens = s->split[0].tokens + s->split[1].tokens, .pii_documents = s->pii_documents};
    c.kept = s->documents - s->empty;
    for (int r = 1; r < N_DROP; r++) {
        c.dropped[r] = s->dropped[r];
        c.dropped_tokens[r] = s->dropped_tokens[r];
        c.kept -= s->dropped[r];
    }
    memcpy(c.pii, s->pii, sizeof c.pii);
    return c;
}

static void counts_add(counts *a, const counts *b)
{
    a->documents += b->documents;
    a->kept += b->kept;
    a->empty += b->empty;
    a->tokens += b->tokens;
    for (int r = 1; r < N_DROP; r++) {
        a->dropped[r] += b->dropped[r];
        a->dropped_tokens[r] += b->dropped_tokens[r];
    }
    a->pii_documents += b->pii_documents;
    for (int t = 0; t < PII_N_TYPES; t++)
        a->pii[t] += b->pii[t];
}

/* "kept", "dropped" (documents by reason), "dropped_tokens" (by reason), "pii". */
static void counts_json(json_t *x, const counts *c, int scrub)
{
    json_t *kept = json_object(), *dd = json_object(), *dt = json_object();
    json_object_set_new(kept, "documents", json_integer((json_int_t)c->kept));
    json_object_set_new(kept, "tokens", json_integer((json_int_t)c->tokens));
    json_object_set_new(x, "kept", kept);
    json_object_set_new(dd, "empty", json_integer((json_int_t)c->empty));
    json_object_set_new(dt, "empty", json_integer(0));
    for (int r = 1; r < N_DROP; r++) {
        json_object_set_new(dd, DROP_NAME[r], json_integer((json_int_t)c->dropped[r]));
        json_object_set_new(dt, DROP_NAME[r], json_integer((json_int_t)c->dropped_tokens[r]));
    }
    json_object_set_new(x, "dropped", dd);
    json_object_set_new(x, "dropped_tokens", dt);
    if (scrub) {
        json_t *pj = json_object();
        for (int t = 0; t < PII_N_TYPES; t++)
            json_object_set_new(pj, pii_type_name[t], json_integer((json_int_t)c->pii[t]));
        json_object_set_new(x, "pii", pj);
        json_object_set_new(x, "pii_documents", json_integer((json_int_t)c->pii_documents));
    } else {
        json_object_set_new(x, "pii", json_null());
    }
}

/* {"PARTNER": {"sources": [...], "licences": [...], "documents", kept, dropped, ...}},
 * partners in the order they first appear; sources without a partner are left out. */
static json_t *partners_json(const source_state *src, size_t n, int scrub)
{
    json_t *all = json_object();
    for (size_t i = 0; i < n; i++) {
        if (!src[i].partner || json_object_get(all, src[i].partner))
            continue;
        counts c = {0};
        json_t *names = json_array(), *lic = json_array();
        for (size_t k = i; k < n; k++) {
            if (!src[k].partner || strcmp(src[k].partner, src[i].partner) != 0)
                continue;
            counts ck = source_counts(&src[k]);
            counts_add(&c, &ck);
            json_array_append_new(names, json_string(src[k].name));
            int seen = !src[k].licence;
            for (size_t l = 0; !seen && l < json_array_size(lic); l++)
                seen |= strcmp(json_string_value(json_array_get(lic, l)), src[k].licence) == 0;
            if (!seen)
                json_array_append_new(lic, json_string(src[k].licence));
        }
        json_t *p = json_object();
        json_object_set_new(p, "sources", names);
        json_object_set_new(p, "licences", lic);
        json_object_set_new(p, "documents", json_integer((json_int_t)c.documents));
        counts_json(p, &c, scrub);
        json_object_set_new(all, src[i].partner, p);
    }
    return all;
}

void data_build_report_free(data_build_report *rep)
{
    free(rep->sources);
    rep->sources = NULL;
    rep->n_sources = 0;
}

int data_parse_source(const char *arg, char *path, size_t path_cap, double *weight)
{
    *weight = -1;
    const char *colon = strrchr(arg, ':');
    size_t n = strlen(arg);
    if (colon && colon[1]) {
        char *end;
        errno = 0;
        double w = strtod(colon + 1, &end);
        if (*end == 0 && errno == 0) {
            if (!(w > 0) || w > 1e9)
                return -1;
            *weight = w;
            n = (size_t)(colon - arg);
        }
    }
    if (n == 0 || n >= path_cap)
        return -1;
    memcpy(path, arg, n);
    path[n] = 0;
    return 0;
}

/* Sets up what both passes need: sources and their files, the pool and per-thread
 * state, the tokenizer (unless signing), MinHash (two passes or signing) and the
 * decontamination tasks. On failure the caller still calls builder_close. */
static int builder_open(builder *b, const data_build_opts *o, int signing, dk_err *err)
{
    memset(b, 0, sizeof *b);
    b->o = o;
    if (o->quality)
        b->qp = *o->quality; /* else all zero: every filter off */
    if (o->n_sources == 0)
        return dk_errf(err, "no sources given");
    if (!signing) {
        tok *t;
        if (tok_load(&t, o->tokenizer_path, err) != 0)
            return -1;
        b->t = t;
        dk_token eos = tok_special_id(t, "<|eos|>");
        if (eos < 0)
            return dk_errf(err, "%s: the tokenizer has no <|eos|> token", o->tokenizer_path);
        b->eos = eos;
        b->width = tok_vocab_size(t) <= 65536 ? 2 : 4;
    }
    if (!(b->src = calloc(o->n_sources, sizeof *b->src)) || hs_init(&b->seen) != 0 ||
        !(b->pl = pool_new(o->threads)))
        return dk_errf(err, "out of memory");
    int nt = b->nt = pool_threads(b->pl);
    if (!(b->enc = calloc((size_t)nt, sizeof *b->enc)) || !(b->scratch = calloc((size_t)nt, sizeof *b->scratch)) ||
        !(b->scratch_cap = calloc((size_t)nt, sizeof *b->scratch_cap)) ||
        !(b->dup_ids = calloc((size_t)nt, sizeof *b->dup_ids)) || !(b->cs = calloc((size_t)nt, sizeof *b->cs)) ||
        !(b->qs = calloc((size_t)nt, sizeof *b->qs)))
        return dk_errf(err, "out of memory");
    for (int i = 0; b->t && i < nt; i++)
        if (!(b->enc[i] = tok_encoder_new(b->t)))
            return dk_errf(err, "out of memory");
    /* the inputs, expanded, and their total size for progress */
    if (!(b->files = calloc(o->n_sources, sizeof *b->files)) || !(b->n_files = calloc(o->n_sources, sizeof *b->n_files)))
        return dk_errf(err, "out of memory");
    for (size_t i = 0; i < o->n_sources; i++) {
        source_state *s = &b->src[i];
        s->path = o->sources[i].path;
        s->weight_given = o->sources[i].weight;
        s->partner = o->sources[i].partner;
        s->licence = o->sources[i].licence;
        source_name(b->src, i, o->sources[i].path);
        char *arg = (char *)o->sources[i].path;
        if (fs_expand_inputs(&arg, 1, &b->files[i], &b->n_files[i], err) != 0)
            return -1;
        if (b->n_files[i] == 0)
            return dk_errf(err, "%s: no files in this source", o->sources[i].path);
        for (size_t f = 0; f < b->n_files[i]; f++) {
            struct stat st;
            if (stat(b->files[i][f], &st) != 0)
                return dk_errno(err, "%s: cannot read", b->files[i][f]);
            b->total += (double)st.st_size;
        }
    }
    minhash_params_default(&b->mp);
    if (o->near_dup > 0)
        b->mp.threshold = o->near_dup;
    b->two_pass = signing || !o->no_near_dup;
    if (b->two_pass) {
        if (!(o->near_dup >= 0 && o->near_dup <= 1))
            return dk_errf(err, "near-duplicate threshold %g is not in (0, 1]", o->near_dup);
        if (!(b->mh = minhash_new(&b->mp, err)))
            return -1;
        if (!signing && !(b->mx = minhash_index_new(b->mh)))
            return dk_errf(err, "out of memory");
    }
    if (o->n_decontaminate) {
        if (!(b->ct = contam_new(0, 0)))
            return dk_errf(err, "out of memory");
        for (size_t k = 0; k < o->n_decontaminate; k++)
            if (contam_add_task(b->ct, o->decontaminate[k], err) < 0)
                return -1;
        if (contam_finish(b->ct, err) != 0)
            return -1;
    }
    return 0;
}

static void builder_close(builder *b)
{
    const data_build_opts *o = b->o;
    for (size_t i = 0; b->src && i < o->n_sources; i++) {
        json_decref(b->src[i].inputs);
        free(b->src[i].split[0].shards);
        free(b->src[i].split[1].shards);
        if (b->files)
            fs_free_list(b->files[i], b->n_files[i]);
    }
    free(b->files);
    free(b->n_files);
    free(b->src);
    for (int i = 0; i < b->nt; i++) {
        if (b->enc)
            tok_encoder_free(b->enc[i]);
        if (b->scratch)
            free(b->scratch[i]);
        if (b->dup_ids)
            tok_ids_free(&b->dup_ids[i]);
        if (b->cs)
            contam_scratch_free(&b->cs[i]);
        if (b->qs)
            quality_scratch_free(&b->qs[i]);
    }
    free(b->enc);
    free(b->scratch);
    free(b->scratch_cap);
    free(b->dup_ids);
    free(b->cs);
    free(b->qs);
    pool_free(b->pl);
    free(b->seen.slots);
    minhash_index_free(b->mx);
    minhash_free(b->mh);
    free(b->keep_of);
    free(b->fate);
    contam_free(b->ct);
    sig_set_free(b->sigs);
    tok_free((tok *)b->t);
}

int data_sign(const data_build_opts *o, const char *out_path, data_sign_report *rep, dk_err *err)
{
    memset(rep, 0, sizeof *rep);
    double t0 = now_seconds();
    builder b;
    int rc = builder_open(&b, o, 1, err);
    char settings[4096];
    if (rc == 0) {
        first_pass_settings(&b, settings, sizeof settings);
        rc = sig_writer_open(&b.sw, out_path, settings, minhash_hashes(b.mh), err);
    }
    if (rc == 0)
        progress_start(&b.prog, "sign", "MB", b.total / 1e6, o->quiet);
    for (size_t i = 0; rc == 0 && i < o->n_sources; i++)
        for (size_t f = 0; rc == 0 && f < b.n_files[i]; f++) {
            rc = read_file(&b, &b.src[i], b.files[i][f], err);
            rep->files++;
        }
    if (rc == 0) {
        progress_finish(&b.prog, b.total / 1e6);
        rc = sig_writer_commit(b.sw, err);
    } else {
        sig_writer_abort(b.sw);
    }
    b.sw = NULL;
    for (size_t i = 0; rc == 0 && i < o->n_sources; i++) {
        const source_state *s = &b.src[i];
        rep->documents += s->documents;
        rep->signed_documents += s->dropped[KEEP];
        rep->contaminated += s->dropped[DROP_CONTAM];
        for (int q = 0; q < 3; q++)
            rep->filtered[q] += s->dropped[DROP_SHORT + q];
    }
    rep->bytes = (uint64_t)b.total;
    builder_close(&b);
    if (rc == 0) {
        struct stat st;
        rep->sig_bytes = stat(out_path, &st) == 0 ? (uint64_t)st.st_size : 0;
    }
    rep->seconds = now_seconds() - t0;
    return rc;
}

int data_build(const data_build_opts *o, data_build_report *rep, dk_err *err)
{
    memset(rep, 0, sizeof *rep);
    double t0 = now_seconds();
    if (o->n_sources == 0)
        return dk_errf(err, "no sources given");
    if (!(o->val_fraction >= 0 && o->val_fraction < 1))
        return dk_errf(err, "validation fraction %g is not in [0, 1)", o->val_fraction);
    if (access(o->out_dir, F_OK) == 0)
        return dk_errf(err, "%s: already exists (remove it or choose another output)", o->out_dir);
    if (o->n_signatures && o->no_near_dup)
        return dk_errf(err, "signature files are the first pass of near-duplicate removal, which is off");
    builder b;
    int rc = builder_open(&b, o, 0, err);
    source_state *src = b.src;
    const tok *t = b.t;
    snprintf(b.tmp_dir, sizeof b.tmp_dir, "%s.partial.%ld", o->out_dir, (long)getpid());
    fs_remove_dead_debris(o->out_dir); /* DIR.partial.PID of builds that were killed */
    int made_tmp = 0;
    if (rc == 0 && (rc = fs_mkdirs(b.tmp_dir, err)) == 0)
        made_tmp = 1;
    if (rc == 0 && o->n_signatures) {
        char settings[4096];
        first_pass_settings(&b, settings, sizeof settings);
        if (!(b.sigs = sig_set_open(o->signatures, o->n_signatures, settings, minhash_hashes(b.mh), err)))
            rc = -1;
    }
    minhash_params mp = b.mp;
    double total = b.total;
    char ***files = b.files;
    size_t *n_files = b.n_files;
    if (rc == 0)
        progress_start(&b.prog, "data", "MB", (b.two_pass ? 2 : 1) * total / 1e6, o->quiet);
    if (rc == 0 && b.two_pass) { /* phase 0: sign what survives exact dedupe and decontamination */
        for (size_t i = 0; rc == 0 && i < o->n_sources; i++)
            for (size_t f = 0; rc == 0 && f < n_files[i]; f++)
                rc = first_pass_file(&b, &src[i], files[i][f], err);
        b.n_index = b.mx ? minhash_index_size(b.mx) : 0;
        if (rc == 0 && !(b.keep_of = malloc((b.n_index ? b.n_index : 1) * sizeof *b.keep_of)))
            rc = dk_errf(err, "out of memory");
        if (rc == 0)
            rc = minhash_index_cluster(b.mx, b.pl, b.keep_of, NULL, err);
        minhash_index_free(b.mx); /* the signatures are no longer needed */
        b.mx = NULL;
    }
    b.phase = 1;
    for (size_t i = 0; rc == 0 && i < o->n_sources; i++) {
        src[i].inputs = json_array();
        for (size_t f = 0; rc == 0 && f < n_files[i]; f++) {
            rc = read_file(&b, &src[i], files[i][f], err);
            uint8_t d[32];
            char hex[65];
            if (rc == 0 && (rc = sha256_file(files[i][f], d, err)) == 0) {
                sha256_hex(d, hex);
                json_t *in = json_object();
                json_object_set_new(in, "path", json_string(files[i][f]));
                json_object_set_new(in, "sha256", json_string(hex));
                json_array_append_new(src[i].inputs, in);
            }
        }
        for (int sp = 0; rc == 0 && sp < 2; sp++)
            rc = split_finish(&src[i], sp, err);
    }
    if (rc == 0 && b.two_pass && (b.fate_no != b.n_fate || b.index_no != b.n_index))
        rc = dk_errf(err, "a source changed while the build read it");
    if (rc == 0)
        progress_finish(&b.prog, (b.two_pass ? 2 : 1) * total / 1e6);
    /* weights: given, or the source's share of training tokens; then normalised */
    uint64_t all_train = 0;
    for (size_t i = 0; src && i < o->n_sources; i++)
        all_train += src[i].split[0].tokens;
    double wsum = 0;
    double *w = calloc(o->n_sources, sizeof *w);
    if (rc == 0 && !w)
        rc = dk_errf(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < o->n_sources; i++) {
        w[i] = src[i].weight_given > 0 ? src[i].weight_given
                                       : (all_train ? (double)src[i].split[0].tokens / all_train : 0);
        wsum += w[i];
    }
    if (rc == 0 && !(wsum > 0)) /* name the sources: the one or few given are all empty */
        rc = dk_errf(err, "%s%s: no training tokens: %s", src[0].path, o->n_sources > 1 ? " and the other sources" : "",
                     o->n_sources > 1 ? "every source is empty (or all filtered)" : "the source is empty (or all filtered)");
    json_t *man = NULL;
    if (rc == 0) {
        char tokcopy[4400];
        snprintf(tokcopy, sizeof tokcopy, "%s/%s", b.tmp_dir, TOK_DEFAULT_FILE);
        fs_map tm;
        uint8_t d[32];
        char hex[65];
        if (fs_map_open(&tm, o->tokenizer_path, (size_t)1 << 30, err) != 0)
            rc = -1;
        else {
            sha256_buf(tm.data, tm.size, d);
            rc = fs_write_file_atomic(tokcopy, tm.data, tm.size, err);
            fs_map_close(&tm);
        }
        sha256_hex(d, hex);
        man = json_object();
        json_object_set_new(man, "format", json_string("dokja-data"));
        json_object_set_new(man, "version", json_integer(1));
        json_t *tj = json_object();
        json_object_set_new(tj, "file", json_string(TOK_DEFAULT_FILE));
        json_object_set_new(tj, "sha256", json_string(hex));
        json_object_set_new(tj, "vocab_size", json_integer(tok_vocab_size(t)));
        json_object_set_new(tj, "eos_id", json_integer(b.eos));
        json_object_set_new(man, "tokenizer", tj);
        json_object_set_new(man, "id_bytes", json_integer(b.width));
        json_object_set_new(man, "val_fraction", json_real(o->val_fraction));
        json_object_set_new(man, "pii_scrub", json_boolean(!o->no_scrub));
        if (b.two_pass) {
            json_t *nd = json_object();
            json_object_set_new(nd, "method", json_string("minhash-lsh"));
            json_object_set_new(nd, "shingles", json_string(mp.kind == MINHASH_CHARS ? "characters" : "words"));
            json_object_set_new(nd, "n", json_integer(mp.n));
            json_object_set_new(nd, "hashes", json_integer(mp.bands * mp.rows));
            json_object_set_new(nd, "bands", json_integer(mp.bands));
            json_object_set_new(nd, "rows", json_integer(mp.rows));
            json_object_set_new(nd, "threshold", json_real(mp.threshold));
            json_object_set_new(nd, "seed", json_integer((json_int_t)(mp.seed & 0x7fffffffffffffffULL)));
            json_object_set_new(nd, "clusters", json_string(mp.cluster == MINHASH_STARS ? "stars" : "components"));
            json_object_set_new(nd, "keep", json_string("first by source order, then position"));
            if (b.sigs) { /* first passes made elsewhere (absent otherwise: same manifest as before) */
                json_t *sf = json_array();
                for (size_t k = 0; k < sig_set_files(b.sigs); k++)
                    json_array_append_new(sf, json_pack("{s:s, s:s, s:I}", "path", sig_set_path(b.sigs, k), "sha256",
                                                        sig_set_sha256(b.sigs, k), "input_files",
                                                        (json_int_t)sig_set_used(b.sigs, k)));
                json_object_set_new(nd, "signature_files", sf);
            }
            json_object_set_new(man, "near_dup", nd);
        } else
            json_object_set_new(man, "near_dup", json_null());
        if (b.ct) {
            json_t *dc = json_object(), *tl = json_array();
            json_object_set_new(dc, "word_ngram", json_integer(contam_word_n(b.ct)));
            json_object_set_new(dc, "char_ngram", json_integer(contam_char_n(b.ct)));
            for (size_t k = 0; k < contam_n_tasks(b.ct); k++)
                json_array_append_new(tl, json_pack("{s:s, s:s, s:I}", "task", contam_task_name(b.ct, k),
                                                    "sha256", contam_task_sha256(b.ct, k), "items",
                                                    (json_int_t)contam_task_items(b.ct, k)));
            json_object_set_new(dc, "tasks", tl);
            json_object_set_new(man, "decontaminate", dc);
        } else
            json_object_set_new(man, "decontaminate", json_null());
        if (o->quality) {
            json_object_set_new(man, "quality", json_pack("{s:i, s:f, s:b}", "min_chars", b.qp.min_chars,
                                                          "min_letter_share", b.qp.min_letter_share,
                                                          "repetition", b.qp.repetition));
        } else {
            json_object_set_new(man, "quality", json_null());
        }
        json_t *sj = json_array();
        for (size_t i = 0; rc == 0 && i < o->n_sources; i++) {
            source_state *s = &src[i];
            json_t *x = json_object();
            json_object_set_new(x, "name", json_string(s->name));
            json_object_set_new(x, "path", json_string(s->path));
            json_object_set_new(x, "weight", json_real(w[i] / wsum));
            json_object_set_new(x, "weight_given", json_boolean(s->weight_given > 0));
            json_object_set_new(x, "bytes", json_integer((json_int_t)s->bytes));
            json_object_set_new(x, "documents", json_integer((json_int_t)s->documents));
            json_object_set_new(x, "duplicates", json_integer((json_int_t)s->dropped[DROP_EXACT]));
            json_object_set_new(x, "empty", json_integer((json_int_t)s->empty));
            json_object_set_new(x, "partner", s->partner ? json_string(s->partner) : json_null());
            json_object_set_new(x, "licence", s->licence ? json_string(s->licence) : json_null());
            counts c = source_counts(s);
            counts_json(x, &c, !o->no_scrub);
            json_object_set_new(x, "inputs", s->inputs);
            s->inputs = NULL;
            for (int sp = 0; sp < 2 && rc == 0; sp++)
                json_object_set_new(x, SPLIT_NAME[sp], split_json(&b, &s->split[sp], err, &rc));
            json_array_append_new(sj, x);
            rep->documents += s->documents;
            rep->duplicates += s->dropped[DROP_EXACT];
            rep->empty += s->empty;
            rep->near_duplicates += s->dropped[DROP_NEAR];
            rep->contaminated += s->dropped[DROP_CONTAM];
            for (int q = 0; q < 3; q++)
                rep->filtered[q] += s->dropped[DROP_SHORT + q];
            rep->train_tokens += s->split[0].tokens;
            rep->val_tokens += s->split[1].tokens;
            rep->bytes += s->bytes;
        }
        json_object_set_new(man, "sources", sj);
        if (rc == 0)
            json_object_set_new(man, "partners", partners_json(src, o->n_sources, !o->no_scrub));
    }
    if (rc == 0 && !(rep->sources = calloc(o->n_sources, sizeof *rep->sources)))
        rc = dk_errf(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < o->n_sources; i++) {
        data_source_report *r = &rep->sources[i];
        counts c = source_counts(&src[i]);
        snprintf(r->name, sizeof r->name, "%s", src[i].name);
        r->partner = src[i].partner;
        r->licence = src[i].licence;
        r->documents = src[i].documents;
        r->kept = c.kept;
        r->duplicates = c.dropped[DROP_EXACT];
        r->empty = c.empty;
        r->tokens = c.tokens;
        r->duplicate_tokens = c.dropped_tokens[DROP_EXACT];
        r->near_duplicates = c.dropped[DROP_NEAR];
        r->contaminated = c.dropped[DROP_CONTAM];
        r->near_duplicate_tokens = c.dropped_tokens[DROP_NEAR];
        r->contaminated_tokens = c.dropped_tokens[DROP_CONTAM];
        for (int q = 0; q < 3; q++) {
            r->filtered[q] = c.dropped[DROP_SHORT + q];
            r->filtered_tokens[q] = c.dropped_tokens[DROP_SHORT + q];
        }
        memcpy(r->pii, c.pii, sizeof r->pii);
        r->pii_documents = c.pii_documents;
        for (int ty = 0; ty < PII_N_TYPES; ty++)
            rep->pii[ty] += c.pii[ty];
    }
    rep->n_sources = rep->sources ? o->n_sources : 0;
    for (size_t i = 0; src && i < o->n_sources; i++)
        rep->files += b.n_files[i];
    rep->files_from_signatures = b.files_from_signatures;
    if (rc == 0) {
        char *text = json_dumps(man, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        char mpath[4400];
        snprintf(mpath, sizeof mpath, "%s/manifest.json", b.tmp_dir);
        if (!text)
            rc = dk_errf(err, "out of memory");
        else
            rc = fs_write_file_atomic(mpath, text, strlen(text), err);
        free(text);
    }
    if (rc == 0 && rename(b.tmp_dir, o->out_dir) != 0)
        rc = dk_errno(err, "%s: cannot move the finished dataset into place", o->out_dir);
    if (rc != 0) {
        free(rep->sources);
        rep->sources = NULL;
        rep->n_sources = 0;
        for (size_t i = 0; src && i < o->n_sources; i++)
            for (int sp = 0; sp < 2; sp++)
                if (src[i].split[sp].open)
                    shard_writer_abort(&src[i].split[sp].w);
        if (made_tmp)
            fs_remove_flat_dir(b.tmp_dir);
    }
    json_decref(man);
    free(w);
    builder_close(&b);
    rep->seconds = now_seconds() - t0;
    return rc;
}
