/* data_build.c: the dataset builder (see data_build.h; its parts: build.h): setting up,
 * the two passes in order, and data_sign. */
#include "data/build.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/hash.h"

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
    if (!(b->src = calloc(o->n_sources, sizeof *b->src)) ||
        !(b->pl = pool_new(o->threads)))
        return dk_errf(err, "out of memory");
    for (int k = 0; k < SEEN_PARTS; k++)
        if (hs_init(&b->seen[k]) != 0)
            return dk_errf(err, "out of memory");
    int nt = b->nt = pool_threads(b->pl);
    /* b->enc[th] stays NULL here: thread th makes its encoder at its first block
     * (tok_block), so the caches' first touch runs in parallel, not one after another */
    if (!(b->enc = calloc((size_t)nt, sizeof *b->enc)) || !(b->scratch = calloc((size_t)nt, sizeof *b->scratch)) ||
        !(b->scratch_cap = calloc((size_t)nt, sizeof *b->scratch_cap)) ||
        !(b->dup_ids = calloc((size_t)nt, sizeof *b->dup_ids)) || !(b->cs = calloc((size_t)nt, sizeof *b->cs)) ||
        !(b->qs = calloc((size_t)nt, sizeof *b->qs)))
        return dk_errf(err, "out of memory");
    /* the inputs, expanded, and their total size for progress */
    if (!(b->files = calloc(o->n_sources, sizeof *b->files)) || !(b->n_files = calloc(o->n_sources, sizeof *b->n_files)))
        return dk_errf(err, "out of memory");
    size_t n_all = 0;
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
        n_all += b->n_files[i];
    }
    if (!(b->file_end = calloc(n_all ? n_all : 1, sizeof *b->file_end)) ||
        !(b->file_from = calloc(n_all ? n_all : 1, sizeof *b->file_from)))
        return dk_errf(err, "out of memory");
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
    free(b->file_end);
    free(b->file_from);
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
    blocks_free(b);
    free(b->docs);
    for (int i = 0; i < READ_BATCH; i++)
        free(b->chunk_docs[i].d);
    free(b->cs);
    free(b->qs);
    pool_free(b->pl);
    for (int k = 0; k < SEEN_PARTS; k++)
        free(b->seen[k].slots);
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
    double total = b.total;
    char ***files = b.files;
    size_t *n_files = b.n_files;
    if (rc == 0)
        progress_start(&b.prog, "data", "MB", (b.two_pass ? 2 : 1) * total / 1e6, o->quiet);
    if (rc == 0 && b.two_pass) { /* phase 0: sign what survives exact dedupe and decontamination */
        for (size_t i = 0; rc == 0 && i < o->n_sources; i++)
            for (size_t f = 0; rc == 0 && f < n_files[i]; f++) {
                b.file_from[b.n_file_first] = NULL;
                rc = first_pass_file(&b, &src[i], files[i][f], err);
                b.file_end[b.n_file_first++] = b.n_fate;
            }
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
            if (rc == 0 && b.two_pass && b.fate_no != b.file_end[b.file_no]) {
                /* the first pass saw another number of documents in this file */
                const char *from = b.file_from[b.file_no];
                if (from)
                    rc = dk_errf(err, "%s: does not match its section in the signature file %s (%zu documents there, %zu here)",
                                 files[i][f], from, b.file_end[b.file_no] - (b.file_no ? b.file_end[b.file_no - 1] : 0),
                                 b.fate_no - (b.file_no ? b.file_end[b.file_no - 1] : 0));
                else
                    rc = dk_errf(err, "%s: changed while the build read it", files[i][f]);
            }
            b.file_no++;
            char hex[65];
            if (rc == 0) { /* the digest of the bytes read_file read */
                sha256_hex(b.file_sha, hex);
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
    if (rc == 0)
        rc = build_manifest(&b, w, wsum, rep, &man, err);
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

