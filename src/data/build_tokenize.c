/* build_tokenize.c: scrubbing and tokenising documents in parallel, in document order
 * into each source's train and val shards (see build.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/build.h"

#define BLOCK_BYTES (1u << 20)      /* document bytes per tokenising task */
#define BLOCK_BYTES_MIN (64u << 10) /* ... or fewer, down to this, for small files */
#define BATCH_BLOCKS 32

const char *const SPLIT_NAME[2] = {"train", "val"};

/* Appends n ids, packed (shard_pack_ids), to split sp of source s. */
static int split_append(builder *b, source_state *s, int sp, const uint8_t *ids, size_t n,
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
        shard_writer_append_packed(&o->w, ids, k);
        ids += k * (size_t)b->width;
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

int split_finish(source_state *s, int sp, dk_err *err)
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
size_t piece_bytes(size_t size, int threads, size_t least, size_t most)
{
    size_t c = size / (4 * (size_t)(threads > 0 ? threads : 1));
    return c < least ? least : c > most ? most : c;
}

/* ---- tokenising a batch of documents in parallel ----------------------------------- */

typedef struct {
    uint64_t pii[PII_N_TYPES], pii_documents, dropped_tokens[N_DROP];
} block_stats;

/* A block's output: its train and val ids and its counts, summed in block order
 * afterwards. Cache-line aligned: blocks on different threads write their own ids'
 * counts once per token, and two blocks sharing a line made the tokenising pool 1.46x
 * faster on 2 threads instead of 2x (false sharing). The builder keeps BATCH_BLOCKS of
 * them for the whole build: id buffers allocated afresh for every batch cost a page
 * fault per 4 KiB and an munmap each time, on the thread that also writes the shards. */
typedef struct block_out {
    _Alignas(64) tok_ids out[2];
    block_stats st;
} block_out;

void blocks_free(builder *b)
{
    for (size_t i = 0; b->blocks && i < BATCH_BLOCKS; i++) {
        tok_ids_free(&b->blocks[i].out[0]);
        tok_ids_free(&b->blocks[i].out[1]);
    }
    free(b->blocks);
    b->blocks = NULL;
}

typedef struct {
    builder *b;
    const doc *docs;
    size_t *block_start; /* block i = docs [block_start[i], block_start[i+1]) */
    block_out *bo;
    int failed;
} tok_job;

/* Scrubs (unless turned off) and tokenizes the documents of block i on thread th. */
static void tok_block(void *vc, size_t i, int th)
{
    tok_job *j = vc;
    builder *b = j->b;
    block_stats *st = &j->bo[i].st;
    if (!b->enc[th] && !(b->enc[th] = tok_encoder_new(b->t))) { /* only thread th touches it */
        j->failed = 1;
        return;
    }
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
        tok_ids *o = &j->bo[i].out[x->val];
        if (tok_encode(b->enc[th], p, len, 0, o, NULL) != 0 || tok_ids_push(o, b->eos) != 0)
            j->failed = 1;
    }
    /* packed here, in parallel, so that the thread writing the shards only copies */
    for (int sp = 0; sp < 2; sp++)
        shard_pack_ids(j->bo[i].out[sp].ids, j->bo[i].out[sp].n, b->width);
}

int process_docs(builder *b, source_state *s, const doc *docs, size_t n, dk_err *err)
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
        if (!b->blocks) {
            b->blocks = aligned_alloc(64, BATCH_BLOCKS * sizeof *b->blocks); /* sizeof: a multiple of 64 */
            if (!b->blocks) {
                rc = dk_errf(err, "out of memory");
                break;
            }
            memset(b->blocks, 0, BATCH_BLOCKS * sizeof *b->blocks);
        }
        block_out *bo = b->blocks;
        for (size_t i = 0; i < m; i++) {
            bo[i].out[0].n = bo[i].out[1].n = 0;
            memset(&bo[i].st, 0, sizeof bo[i].st);
        }
        tok_job j = {b, docs, starts + b0, bo, 0};
        pool_for(b->pl, m, tok_block, &j);
        if (j.failed)
            rc = dk_errf(err, "out of memory while tokenizing");
        for (size_t i = 0; i < m; i++) {
            const block_stats *st = &bo[i].st;
            for (int t = 0; t < PII_N_TYPES; t++)
                s->pii[t] += st->pii[t];
            s->pii_documents += st->pii_documents;
            for (int r = 1; r < N_DROP; r++)
                s->dropped_tokens[r] += st->dropped_tokens[r];
            for (int sp = 0; sp < 2 && rc == 0; sp++)
                rc = split_append(b, s, sp, (const uint8_t *)bo[i].out[sp].ids, bo[i].out[sp].n, err);
        }
    }
    free(starts);
    return rc;
}

