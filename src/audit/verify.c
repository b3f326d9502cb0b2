/* verify.c: the checks of `dokja ledger verify` (see verify.h). */
#include "audit/verify.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interop/interop.h"
#include "model/model.h"
#include "model/model_io.h"
#include "train/checkpoint.h"
#include "train/sampler.h"
#include "train/schedule.h"
#include "util/hash.h"
#include "util/pool.h"

static verify_check *add(verify_report *r, const char *name, check_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static verify_check *add(verify_report *r, const char *name, check_status st, const char *fmt, ...)
{
    verify_check *c = &r->c[r->n++];
    c->name = name;
    c->st = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
    r->failed += st == CK_FAIL;
    return c;
}

static const char *rec_hash(const ledger_rec *r, const char *key)
{
    return json_string_value(json_object_get(r->j, key));
}

static void check_seeds(verify_report *r)
{
    ledger_view *v = &r->v;
    uint64_t want_i = v->seed, want_d = v->data_seed;
    if (v->beacon_len) {
        want_i = ledger_beacon_seed("dokja-beacon-init", v->seed, v->beacon_bytes, v->beacon_len);
        want_d = ledger_beacon_seed("dokja-beacon-data", v->data_seed, v->beacon_bytes, v->beacon_len);
    }
    char w[300];
    if ((!v->from_model && v->init_seed != want_i) || v->data_order_seed != want_d)
        add(r, "seeds", CK_FAIL, "%s: the seeds in use are not those the genesis%s determine",
            view_where(v, (size_t)(v->init - v->l.r), w, sizeof w), v->beacon_len ? " and the beacon" : "");
    else if (v->beacon_len)
        add(r, "seeds", CK_PASS, "derived from the public beacon \"%s\" (value %s): check that this value was "
            "published after the genesis hash was filed", v->beacon_source, rec_hash(v->beacon, "value"));
    else
        add(r, "seeds", CK_PASS, "chosen by the trainer (seed %llu, data seed %llu), not bound to public randomness",
            (unsigned long long)v->seed, (unsigned long long)v->data_seed);
}

static void check_init(verify_report *r, int derived_ok)
{
    ledger_view *v = &r->v;
    const char *want = rec_hash(v->init, "weights_sha256");
    if (v->from_model) {
        add(r, "initial weights", derived_ok ? CK_SKIP : CK_FAIL,
            "derived: the run starts from a model (weights file SHA-256 %s), not from random weights", v->source_sha256);
        return;
    }
    param_layout l;
    dk_err e;
    float *buf = NULL;
    uint8_t d[32];
    if (params_layout(&l, &v->cfg, &e) != 0) {
        add(r, "initial weights", CK_FAIL, "%s", e.msg);
        return;
    }
    if (!(buf = malloc(l.numel * sizeof *buf)) || (params_init(&l, buf, v->init_seed), params_sha256(&l, buf, d)) != 0)
        add(r, "initial weights", CK_FAIL, "out of memory generating %zu parameters", l.numel);
    else if (!sha256_hex_eq(want, d))
        add(r, "initial weights", CK_FAIL, "the init record's weights (%s) are not what the config and init seed %llu "
            "generate: not a random start", want, (unsigned long long)v->init_seed);
    else
        add(r, "initial weights", CK_PASS, "exactly the weights the config and init seed %llu generate (%zu parameters): "
            "a random start", (unsigned long long)v->init_seed, l.numel);
    free(buf);
    params_layout_free(&l);
}

static void check_schedule(verify_report *r)
{
    ledger_view *v = &r->v;
    char w[300];
    for (long k = 0; k < v->n_steps; k++) {
        const view_step *s = &v->st[k];
        int ok = 1;
        double got = ledger_num(&v->l.r[s->rec], "lr", &ok);
        double want = lr_at(s->step - 1, s->total, v->warmup, v->lr, v->min_lr);
        if (got != want) {
            add(r, "schedule", CK_FAIL, "%s: step %ld has learning rate %.17g, the schedule gives %.17g",
                view_where(v, s->rec, w, sizeof w), s->step, got, want);
            return;
        }
    }
    add(r, "schedule", CK_PASS, "all %ld steps follow linear warmup (%ld steps) and cosine decay from %g to %g",
        v->n_steps, v->warmup, v->lr, v->min_lr);
}

/* The cursors array of a checkpoint record equals the sampler's. */
static int cursors_match(const ledger_rec *rec, const sampler *s)
{
    json_t *c = json_object_get(rec->j, "cursors"), *ns = json_object_get(rec->j, "next_seq");
    if (json_array_size(c) != s->d->n_sources || !json_is_integer(ns) || (uint64_t)json_integer_value(ns) != s->next_seq)
        return 0;
    for (size_t i = 0; i < s->d->n_sources; i++)
        if (!json_is_integer(json_array_get(c, i)) || (uint64_t)json_integer_value(json_array_get(c, i)) != s->cursor[i])
            return 0;
    return 1;
}

static void check_batches(verify_report *r)
{
    ledger_view *v = &r->v;
    sampler s;
    dk_err e;
    char w[300];
    if (sampler_init(&s, &v->data, 0, v->seq_len, v->data_order_seed, &e) != 0) {
        add(r, "batches", CK_FAIL, "%s", e.msg);
        return;
    }
    size_t ci = 0;
    for (long k = 0; k < v->n_steps; k++) {
        sha256_stream *h = sha256_begin();
        if (!h) {
            add(r, "batches", CK_FAIL, "out of memory");
            sampler_free(&s);
            return;
        }
        for (int q = 0; q < v->batch_size; q++) {
            uint64_t win;
            int src = sampler_pick(&s, &win);
            ledger_batch_add(h, src, win);
        }
        uint8_t d[32];
        sha256_end(h, d);
        if (!sha256_hex_eq(rec_hash(&v->l.r[v->st[k].rec], "batch_sha256"), d)) {
            add(r, "batches", CK_FAIL, "%s: step %ld's batch is not the sampler's draw from the recorded data and "
                "seed: batches reordered or replaced", view_where(v, v->st[k].rec, w, sizeof w), k + 1);
            sampler_free(&s);
            return;
        }
        for (; ci < v->n_ck && v->ck[ci].step == k + 1; ci++)
            if (!cursors_match(&v->l.r[v->ck[ci].rec], &s)) {
                add(r, "batches", CK_FAIL, "%s: the checkpoint's sampler state is not the sampler's after step %ld",
                    view_where(v, v->ck[ci].rec, w, sizeof w), k + 1);
                sampler_free(&s);
                return;
            }
    }
    add(r, "batches", CK_PASS, "all %ld steps x %d sequences are the sampler's draws from the %zu recorded source(s) "
        "with data-order seed %llu", v->n_steps, v->batch_size, v->data.n_sources,
        (unsigned long long)v->data_order_seed);
    sampler_free(&s);
}

/* One checkpoint file against its record: 1 matches, 0 differs (message in e). */
static int checkpoint_matches(ledger_view *v, const view_ckpt *c, model *m, float *fm, float *fv, uint64_t *cur,
                              dk_err *e)
{
    char path[8300];
    snprintf(path, sizeof path, "%s/%s", v->run, c->file);
    ckpt_state s = {.cursors = cur, .n_sources = v->data.n_sources};
    if (ckpt_load(path, m, fm, fv, &s, e) != 0)
        return 0;
    const param_layout *l = model_layout(m);
    uint8_t dw[32], dopt[32];
    if (params_sha256(l, model_params(m), dw) != 0 || ledger_optimizer_sha256(fm, fv, l->numel, c->step, dopt) != 0)
        return dk_errf(e, "out of memory"), 0;
    const ledger_rec *rec = &v->l.r[c->rec];
    if (s.step != c->step || !sha256_hex_eq(rec_hash(rec, "weights_sha256"), dw))
        return dk_errf(e, "%s: its weights are not the ledger's for step %ld: the file was replaced", path, c->step), 0;
    if (!sha256_hex_eq(rec_hash(rec, "optimizer_sha256"), dopt))
        return dk_errf(e, "%s: its optimizer state is not the ledger's for step %ld", path, c->step), 0;
    if (strcmp(s.data_sha256, v->manifest_sha256) != 0 || s.seed != v->seed)
        return dk_errf(e, "%s: trained on other data or with another seed than the genesis says", path), 0;
    return 1;
}

static void check_checkpoints(verify_report *r, pool *p)
{
    ledger_view *v = &r->v;
    model *m = NULL;
    dk_err e;
    size_t present = 0;
    if (model_new_ex(&m, &v->cfg, p, 0, &e) != 0) {
        add(r, "checkpoints", CK_FAIL, "%s", e.msg);
        return;
    }
    size_t n = model_numel(m);
    float *fm = malloc(n * sizeof *fm), *fv = malloc(n * sizeof *fv);
    uint64_t *cur = calloc(v->data.n_sources, sizeof *cur);
    int bad = !fm || !fv || !cur;
    if (bad)
        add(r, "checkpoints", CK_FAIL, "out of memory for a checkpoint of %zu parameters", n);
    for (size_t i = 0; !bad && i < v->n_ck; i++) {
        char path[8300];
        snprintf(path, sizeof path, "%s/%s", v->run, v->ck[i].file);
        if (access(path, F_OK) != 0)
            continue;
        present++;
        if (!checkpoint_matches(v, &v->ck[i], m, fm, fv, cur, &e)) {
            add(r, "checkpoints", CK_FAIL, "%s", e.msg);
            bad = 1;
        }
    }
    if (!bad)
        add(r, "checkpoints", CK_PASS, "%zu checkpoint record(s); %zu file(s) present, each holding the recorded weights "
            "and optimizer state; %zu rotated away", v->n_ck, present, v->n_ck - present);
    free(fm);
    free(fv);
    free(cur);
    model_free(m);
}

static void check_data(verify_report *r, const char *dir)
{
    ledger_view *v = &r->v;
    if (!dir) {
        add(r, "data", CK_SKIP, "not checked (give --data DIR): the genesis commits to manifest %s, Merkle root %s",
            v->manifest_sha256, v->merkle_root);
        return;
    }
    dataset d;
    dk_err e;
    uint8_t root[32];
    if (dataset_open(&d, dir, &e) != 0) { /* every shard's SHA-256 against the manifest */
        add(r, "data", CK_FAIL, "%s", e.msg);
        return;
    }
    int same = d.n_sources == v->data.n_sources;
    for (size_t i = 0; same && i < d.n_sources; i++)
        same = strcmp(d.sources[i].name, v->data.sources[i].name) == 0 && d.sources[i].weight == v->data.sources[i].weight &&
               d.sources[i].tokens[0] == v->data.sources[i].tokens[0] && d.sources[i].tokens[1] == v->data.sources[i].tokens[1];
    if (dataset_merkle_root(&d, root, NULL) != 0)
        add(r, "data", CK_FAIL, "out of memory");
    else if (strcmp(d.manifest_sha256, v->manifest_sha256) != 0)
        add(r, "data", CK_FAIL, "%s: manifest SHA-256 %s, the genesis says %s", dir, d.manifest_sha256, v->manifest_sha256);
    else if (!sha256_hex_eq(v->merkle_root, root))
        add(r, "data", CK_FAIL, "%s: the shards' Merkle root is not the genesis's %s: a shard was replaced or reordered",
            dir, v->merkle_root);
    else if (strcmp(d.tokenizer_sha256, v->tokenizer_sha256) != 0 || !same)
        add(r, "data", CK_FAIL, "%s: its tokenizer or sources differ from the genesis's", dir);
    else
        add(r, "data", CK_PASS, "%s: manifest, tokenizer, sources and every shard (Merkle root %s) as committed", dir,
            v->merkle_root);
    dataset_close(&d);
}

/* The weights digest of any model dokja opens. */
static int model_digest(const char *path, const model_config *want, pool *p, uint8_t d[32], dk_err *e)
{
    model *m = NULL;
    if (model_open_any(&m, NULL, path, p, 0, e) != 0)
        return -1;
    /* the digest alone decides: names and values of every tensor (a config read from a
     * GGUF may differ from config.json in fields that shape nothing, like the context) */
    (void)want;
    int rc = params_sha256(model_layout(m), model_params(m), d) != 0 ? dk_errf(e, "out of memory") : 0;
    model_free(m);
    return rc;
}

static void check_final(verify_report *r, const char *model_path, pool *p)
{
    ledger_view *v = &r->v;
    if (!v->final) {
        add(r, "final model", CK_FAIL, "no final record: the run did not finish, or the ledger was cut short after "
            "step %ld", v->n_steps);
        return;
    }
    const char *fsha = rec_hash(v->final, "model_sha256"), *wsha = rec_hash(v->final, "weights_sha256");
    char path[4400], what[9000] = "";
    snprintf(path, sizeof path, "%s/model.safetensors", v->run);
    uint8_t d[32];
    dk_err e;
    if (access(path, F_OK) == 0) {
        if (sha256_file(path, d, &e) != 0 || !sha256_hex_eq(fsha, d)) {
            add(r, "final model", CK_FAIL, "%s is not the ledger's final model (SHA-256 %s)", path, fsha);
            return;
        }
        snprintf(what, sizeof what, "%s", path);
    }
    if (model_path) {
        if (model_digest(model_path, &v->cfg, p, d, &e) != 0) {
            add(r, "final model", CK_FAIL, "%s", e.msg);
            return;
        }
        if (!sha256_hex_eq(wsha, d)) {
            add(r, "final model", CK_FAIL, "%s: its weights are not the ledger's final weights (%s); a copy converted "
                "to a narrower type (f16, bf16, q8_0) has other bits: verify the float32 model", model_path, wsha);
            return;
        }
        snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s", what[0] ? " and " : "", model_path);
    }
    if (!what[0])
        add(r, "final model", CK_FAIL, "no model to check: %s is absent and no --model was given", path);
    else
        add(r, "final model", CK_PASS, "%s: the ledger's final model (weights %s), after %ld steps", what, wsha, v->n_steps);
}

int ledger_verify(const verify_opts *o, verify_report *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->run, sizeof r->run, "%s", o->run);
    dk_err e;
    if (view_open(&r->v, o->run, &e) != 0) {
        add(r, "chain", CK_FAIL, "%s", e.msg);
        return r->failed;
    }
    r->have_view = 1;
    sha256_hex(r->v.l.head, r->head);
    add(r, "chain", CK_PASS, "%zu records in order, head %s", r->v.l.n, r->head);
    param_layout l;
    if (params_layout(&l, &r->v.cfg, &e) == 0) {
        int fits = model_memory_check(r->v.l.path, l.numel, 16, "weights, two moments and a working copy", &e) == 0;
        params_layout_free(&l);
        if (!fits) {
            add(r, "resources", CK_FAIL, "%s", e.msg);
            return r->failed;
        }
    }
    pool *p = pool_new(o->threads);
    if (!p) {
        add(r, "resources", CK_FAIL, "cannot start threads");
        return r->failed;
    }
    check_seeds(r);
    check_init(r, o->derived_ok);
    check_schedule(r);
    check_batches(r);
    check_checkpoints(r, p);
    check_data(r, o->data);
    check_final(r, o->model, p);
    pool_free(p);
    return r->failed;
}

void verify_report_free(verify_report *r)
{
    if (r->have_view)
        view_close(&r->v);
    r->have_view = 0;
}
