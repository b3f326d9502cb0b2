/* build_manifest.c: manifest.json and the report of a finished build (see build.h):
 * per source and per partner, the documents and tokens kept and dropped by reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/build.h"
#include "util/hash.h"

const char *const DROP_NAME[N_DROP] = {"", "exact_duplicate", "near_duplicate", "contaminated",
                                       "too_short", "quality", "repetition"};

/* ---- manifest ---------------------------------------------------------------------- */

/* Each shard's SHA-256 (hex) into its record, the shards in parallel: read back and
 * hashed one after the other they were about 30 ms at the end of a dev build with
 * every other thread idle. A shard that cannot be read keeps an empty digest, and
 * split_json reads it again for the error. */
typedef struct {
    const builder *b;
    shard_rec **rec;
} digest_job;

static void digest_task(void *vj, size_t i, int th)
{
    (void)th;
    digest_job *j = vj;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", j->b->tmp_dir, j->rec[i]->file);
    uint8_t d[32];
    dk_err e;
    if (sha256_file(path, d, &e) == 0)
        sha256_hex(d, j->rec[i]->sha256);
}

static void digest_shards(builder *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->o->n_sources; i++)
        for (int sp = 0; sp < 2; sp++)
            n += b->src[i].split[sp].n_shards;
    shard_rec **rec = malloc((n ? n : 1) * sizeof *rec);
    if (!rec)
        return; /* split_json digests them one by one */
    size_t k = 0;
    for (size_t i = 0; i < b->o->n_sources; i++)
        for (int sp = 0; sp < 2; sp++)
            for (size_t q = 0; q < b->src[i].split[sp].n_shards; q++) {
                rec[k] = &b->src[i].split[sp].shards[q];
                rec[k++]->sha256[0] = 0;
            }
    digest_job j = {b, rec};
    pool_for(b->pl, n, digest_task, &j);
    free(rec);
}

static json_t *split_json(builder *b, split_out *o, dk_err *err, int *rc)
{
    json_t *j = json_object(), *arr = json_array();
    json_object_set_new(j, "tokens", json_integer((json_int_t)o->tokens));
    for (size_t i = 0; i < o->n_shards && *rc == 0; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", b->tmp_dir, o->shards[i].file);
        uint8_t d[32];
        if (!o->shards[i].sha256[0]) { /* digest_shards could not: again, for the error */
            if (sha256_file(path, d, err) != 0) {
                *rc = -1;
                break;
            }
            sha256_hex(d, o->shards[i].sha256);
        }
        json_t *sh = json_object();
        json_object_set_new(sh, "file", json_string(o->shards[i].file));
        json_object_set_new(sh, "tokens", json_integer((json_int_t)o->shards[i].tokens));
        json_object_set_new(sh, "sha256", json_string(o->shards[i].sha256));
        json_array_append_new(arr, sh);
    }
    json_object_set_new(j, "shards", arr);
    return j;
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


int build_manifest(builder *b, const double *w, double wsum, data_build_report *rep, json_t **out, dk_err *err)
{
    const data_build_opts *o = b->o;
    source_state *src = b->src;
    minhash_params mp = b->mp;
    int rc = 0;
    json_t *man = NULL;
    digest_shards(b);
    if (rc == 0) {
        char tokcopy[4400];
        snprintf(tokcopy, sizeof tokcopy, "%s/%s", b->tmp_dir, TOK_DEFAULT_FILE);
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
        json_object_set_new(tj, "vocab_size", json_integer(tok_vocab_size(b->t)));
        json_object_set_new(tj, "eos_id", json_integer(b->eos));
        json_object_set_new(man, "tokenizer", tj);
        json_object_set_new(man, "id_bytes", json_integer(b->width));
        json_object_set_new(man, "val_fraction", json_real(o->val_fraction));
        json_object_set_new(man, "pii_scrub", json_boolean(!o->no_scrub));
        if (b->two_pass) {
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
            if (b->sigs) { /* first passes made elsewhere (absent otherwise: same manifest as before) */
                json_t *sf = json_array();
                for (size_t k = 0; k < sig_set_files(b->sigs); k++)
                    json_array_append_new(sf, json_pack("{s:s, s:s, s:I}", "path", sig_set_path(b->sigs, k), "sha256",
                                                        sig_set_sha256(b->sigs, k), "input_files",
                                                        (json_int_t)sig_set_used(b->sigs, k)));
                json_object_set_new(nd, "signature_files", sf);
            }
            json_object_set_new(man, "near_dup", nd);
        } else
            json_object_set_new(man, "near_dup", json_null());
        if (b->ct) {
            json_t *dc = json_object(), *tl = json_array();
            json_object_set_new(dc, "word_ngram", json_integer(contam_word_n(b->ct)));
            json_object_set_new(dc, "char_ngram", json_integer(contam_char_n(b->ct)));
            for (size_t k = 0; k < contam_n_tasks(b->ct); k++)
                json_array_append_new(tl, json_pack("{s:s, s:s, s:I}", "task", contam_task_name(b->ct, k),
                                                    "sha256", contam_task_sha256(b->ct, k), "items",
                                                    (json_int_t)contam_task_items(b->ct, k)));
            json_object_set_new(dc, "tasks", tl);
            json_object_set_new(man, "decontaminate", dc);
        } else
            json_object_set_new(man, "decontaminate", json_null());
        if (o->quality) {
            json_object_set_new(man, "quality", json_pack("{s:i, s:f, s:b}", "min_chars", b->qp.min_chars,
                                                          "min_letter_share", b->qp.min_letter_share,
                                                          "repetition", b->qp.repetition));
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
                json_object_set_new(x, SPLIT_NAME[sp], split_json(b, &s->split[sp], err, &rc));
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
    *out = man;
    return rc;
}
