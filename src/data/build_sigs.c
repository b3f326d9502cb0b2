/* build_sigs.c: the first pass of a build kept in signature files (see build.h and
 * data/sigfile.h): written by `dokja data sign`, replayed by `data build --signatures`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/build.h"
#include "util/hash.h"

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
int sign_section(builder *b, source_state *s, const fs_map *m, const doc *docs, size_t n,
                        dk_err *err)
{
    int H = minhash_hashes(b->mh);
    uint8_t sha[32];
    sha256_buf(m->data, m->size, sha);
    uint64_t(*h)[2] = malloc((n ? n : 1) * sizeof *h);
    uint8_t *fates = malloc(n ? n : 1), *has = malloc(SIGN_BATCH);
    const char **tx = malloc(SIGN_BATCH * sizeof *tx);
    size_t *ln = malloc(SIGN_BATCH * sizeof *ln);
    uint8_t *kept = malloc((size_t)SIGN_BATCH * (size_t)H * sizeof *kept);
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
        uint64_t h2;
        memcpy(&h2, x->hashes + 16 * d + 8, 8);
        if (f >= SIG_TOO_SHORT) { /* filtered: never a dedupe original */
            drop = DROP_SHORT + (f - SIG_TOO_SHORT);
        } else {
            uint64_t hh[2];
            memcpy(hh, x->hashes + 16 * d, 16);
            if (d + 8 < x->n_docs) {
                uint64_t ahead;
                memcpy(&ahead, x->hashes + 16 * (d + 8), 8);
                const hash_set *hs = seen_part(b->seen, ahead);
                __builtin_prefetch(&hs->slots[hs_home(hs, ahead)]);
            }
            int fresh = hs_insert(seen_part(b->seen, hh[0]), hh[0], hh[1]);
            if (fresh < 0)
                return dk_errf(err, "out of memory");
            drop = !fresh ? DROP_EXACT : f == SIG_CONTAMINATED ? DROP_CONTAM : KEEP;
        }
        if (fate_push(b, drop | (val_split(h2, b->o->val_fraction) ? (int)FATE_VAL : 0)) != 0)
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
int first_pass_file(builder *b, source_state *s, const char *path, dk_err *err)
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
    b->file_from[b->n_file_first] = x->from;
    int rc = replay_section(b, x, err);
    sig_section_release(x);
    b->done_bytes += (double)size;
    progress_update(&b->prog, b->done_bytes / 1e6);
    return rc;
}

/* Everything that changes a first pass's output, as one line: a signature file made
 * with other settings is refused. FIRST_PASS names the code's own version: raise it
 * whenever hashing, signing, filtering or decontamination give other results. */
#define FIRST_PASS "dokja-first-pass-3"
int first_pass_settings(const builder *b, char *out, size_t cap)
{
    const minhash_params *p = &b->mp;
    int k = snprintf(out, cap,
                     FIRST_PASS "; exact 128-bit; minhash %s %d-grams, %d hashes in %d bands x %d rows, seed 0x%llx, 8 bits kept; ",
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

