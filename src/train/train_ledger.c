/* train_ledger.c: the records `dokja train` writes (see train_ledger.h). */
#include "train/train_ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/isa.h"
#include "train/adamw.h"
#include "util/buildinfo.h"
#include "util/version.h"

static json_t *hexj(const uint8_t d[32])
{
    char h[65];
    sha256_hex(d, h);
    return json_string(h);
}

/* Appends rec and drops it. */
static int put(train_ledger *L, json_t *rec, dk_err *err)
{
    int rc = rec ? ledger_append(&L->w, rec, err) : dk_errf(err, "out of memory");
    json_decref(rec);
    return rc;
}

void tl_seeds(const train_opts *o, const uint8_t *beacon, size_t beacon_len, uint64_t *init_seed,
              uint64_t *data_seed)
{
    uint64_t ds = o->data_seed ? o->data_seed : o->seed;
    *init_seed = beacon_len ? ledger_beacon_seed("dokja-beacon-init", o->seed, beacon, beacon_len) : o->seed;
    *data_seed = beacon_len ? ledger_beacon_seed("dokja-beacon-data", ds, beacon, beacon_len) : ds;
}

static void ledger_path(char *buf, size_t cap, const char *run)
{
    snprintf(buf, cap, "%s/%s", run, LEDGER_FILE);
}

int tl_recorded_beacon(const char *run, uint8_t *beacon, size_t *len, dk_err *err)
{
    char path[4400];
    ledger_path(path, sizeof path, run);
    *len = 0;
    if (access(path, F_OK) != 0)
        return 0;
    ledger l;
    if (ledger_read_ex(&l, path, 1, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < l.n && rc == 0; i++)
        if (strcmp(l.r[i].type, "beacon") == 0) {
            const char *v = json_string_value(json_object_get(l.r[i].j, "value"));
            if (!v || ledger_parse_beacon(v, beacon, len) != 0)
                rc = dk_errf(err, "%s:%ld: malformed beacon", path, l.r[i].line);
            break;
        }
    ledger_free(&l);
    return rc;
}

static json_t *genesis(const train_opts *o, const model_config *cfg, const dataset *d, dk_err *err)
{
    json_t *g = json_object();
    json_object_set_new(g, "type", json_string("genesis"));
    json_object_set_new(g, "format", json_string(LEDGER_FORMAT));
    json_object_set_new(g, "dokja", json_pack("{s:s,s:s,s:s,s:s}", "version", DOKJA_VERSION, "commit", build_commit(),
                                              "compiler", build_compiler(), "flags", build_flags()));
    json_object_set_new(g, "kernel", json_pack("{s:s,s:s}", "path", isa_name(isa_current()), "arith",
                                               isa_arith(isa_current())));
    char *ct = model_config_to_json(cfg);
    json_t *cj = ct ? json_loads(ct, 0, NULL) : NULL;
    free(ct);
    json_object_set_new(g, "config", cj ? cj : json_null());
    json_object_set_new(g, "tokenizer_sha256", json_string(d->tokenizer_sha256));
    uint8_t root[32];
    size_t leaves = 0;
    json_t *srcs = json_array();
    for (size_t i = 0; i < d->n_sources; i++)
        json_array_append_new(srcs, json_pack("{s:s,s:f,s:I,s:I,s:I}", "name", d->sources[i].name, "weight",
                                              d->sources[i].weight, "train_tokens", (json_int_t)d->sources[i].tokens[0],
                                              "val_tokens", (json_int_t)d->sources[i].tokens[1], "shards",
                                              (json_int_t)(d->sources[i].n_shards[0] + d->sources[i].n_shards[1])));
    if (!cj || dataset_merkle_root(d, root, &leaves) != 0) {
        json_decref(g);
        json_decref(srcs);
        dk_errf(err, "out of memory");
        return NULL;
    }
    json_t *dj = json_object();
    json_object_set_new(dj, "manifest_sha256", json_string(d->manifest_sha256));
    json_object_set_new(dj, "merkle_root", hexj(root));
    json_object_set_new(dj, "shards", json_integer((json_int_t)leaves));
    json_object_set_new(dj, "sources", srcs);
    json_object_set_new(g, "data", dj);
    adamw_cfg a = adamw_defaults((float)o->lr);
    json_t *tj = json_object();
    json_object_set_new(tj, "steps", json_integer(o->steps));
    json_object_set_new(tj, "batch_size", json_integer(o->batch_size));
    json_object_set_new(tj, "micro_batch", json_integer(o->micro_batch));
    json_object_set_new(tj, "seq_len", json_integer(o->seq_len));
    json_object_set_new(tj, "schedule", json_string("linear warmup, cosine to min_lr"));
    json_object_set_new(tj, "lr", json_real(o->lr));
    json_object_set_new(tj, "min_lr", json_real(o->min_lr));
    json_object_set_new(tj, "warmup", json_integer(o->warmup));
    json_object_set_new(tj, "optimizer", json_string("adamw"));
    json_object_set_new(tj, "beta1", json_real(a.beta1));
    json_object_set_new(tj, "beta2", json_real(a.beta2));
    json_object_set_new(tj, "eps", json_real(a.eps));
    json_object_set_new(tj, "weight_decay", json_real(o->weight_decay));
    json_object_set_new(tj, "grad_clip", json_real(o->grad_clip));
    json_object_set_new(tj, "precision", json_string(o->bf16 ? "bf16" : "fp32"));
    json_object_set_new(tj, "checkpoint_every", json_integer(o->checkpoint_every));
    json_object_set_new(g, "train", tj);
    json_t *sj = json_object();
    json_object_set_new(sj, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(sj, "data_seed", json_integer((json_int_t)(o->data_seed ? o->data_seed : o->seed)));
    json_object_set_new(sj, "chosen_by", json_string(o->beacon_source ? "beacon" : "trainer"));
    if (o->beacon_source)
        json_object_set_new(sj, "beacon_source", json_string(o->beacon_source));
    json_object_set_new(g, "seeds", sj);
    json_object_set_new(g, "init", json_string(o->init_from ? "model" : "random"));
    return g;
}

int tl_begin(train_ledger *L, const char *run, const train_opts *o, const model_config *cfg,
             const dataset *d, dk_err *err)
{
    char path[4400];
    ledger_path(path, sizeof path, run);
    if (ledger_create(&L->w, path, err) != 0)
        return -1;
    L->on = 1;
    json_t *g = genesis(o, cfg, d, err);
    return g ? put(L, g, err) : -1;
}

int tl_resume(train_ledger *L, const char *run, long start, int quiet, int *need_start, int *has_beacon,
              dk_err *err)
{
    char path[4400];
    ledger_path(path, sizeof path, run);
    *need_start = 0;
    *has_beacon = 0;
    if (access(path, F_OK) != 0) {
        if (!quiet)
            dk_warnf("%s: no ledger (a run from before the ledger); none is written", run);
        return 0;
    }
    ledger l;
    if (ledger_read_ex(&l, path, 1, err) != 0)
        return -1;
    long keep = -1;
    for (size_t i = 0; i < l.n; i++) {
        const char *t = l.r[i].type;
        int ok = 1;
        long step = (long)ledger_int(&l.r[i], "step", &ok);
        if (start == 0 && (strcmp(t, "genesis") == 0 || strcmp(t, "beacon") == 0)) {
            keep = (long)i + 1;
            *has_beacon |= strcmp(t, "beacon") == 0;
        } else if (start > 0 && ok && step == start && (strcmp(t, "checkpoint") == 0 || strcmp(t, "step") == 0)) {
            keep = (long)i + 1;
            *need_start = strcmp(t, "step") == 0; /* killed between the file and its record */
        }
    }
    ledger_free(&l);
    if (start == 0)
        *need_start = 1;
    if (keep < 0)
        return dk_errf(err, "%s: has no record of step %ld to resume from", path, start);
    if (ledger_reopen(&L->w, path, keep, err) != 0)
        return -1;
    L->on = 1;
    return 0;
}

int tl_beacon(train_ledger *L, const uint8_t *beacon, size_t len, dk_err *err)
{
    char hex[2 * LEDGER_BEACON_MAX + 1];
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", beacon[i]);
    hex[2 * len] = 0;
    return put(L, json_pack("{s:s,s:s}", "type", "beacon", "value", hex), err);
}

int tl_init(train_ledger *L, const char *source_sha256, uint64_t init_seed, uint64_t data_seed,
            const param_layout *l, const float *params, dk_err *err)
{
    uint8_t d[32];
    if (params_sha256(l, params, d) != 0)
        return dk_errf(err, "out of memory");
    json_t *r = json_object();
    json_object_set_new(r, "type", json_string("init"));
    if (source_sha256) {
        json_object_set_new(r, "from", json_string("model"));
        json_object_set_new(r, "source_sha256", json_string(source_sha256));
    } else {
        json_object_set_new(r, "from", json_string("random"));
        json_object_set_new(r, "init_seed", json_integer((json_int_t)init_seed));
    }
    json_object_set_new(r, "data_order_seed", json_integer((json_int_t)data_seed));
    json_object_set_new(r, "weights_sha256", hexj(d));
    return put(L, r, err);
}

void tl_sequence(train_ledger *L, int src, uint64_t window)
{
    if (!L->on)
        return;
    if (!L->batch)
        L->batch = sha256_begin(); /* NULL (OOM) is caught by tl_step */
    if (L->batch)
        ledger_batch_add(L->batch, src, window);
}

int tl_step(train_ledger *L, const train_step_record *r, dk_err *err)
{
    if (!L->batch)
        return dk_errf(err, "%s: out of memory for the batch digest", L->w.path);
    uint8_t d[32];
    sha256_end(L->batch, d);
    L->batch = NULL;
    json_t *j = json_object();
    json_object_set_new(j, "type", json_string("step"));
    json_object_set_new(j, "step", json_integer(r->step));
    json_object_set_new(j, "batch_sha256", hexj(d));
    json_object_set_new(j, "loss", json_real(r->loss));
    json_object_set_new(j, "grad_norm", json_real(r->grad_norm));
    json_object_set_new(j, "lr", json_real(r->lr));
    return put(L, j, err);
}

int tl_checkpoint(train_ledger *L, long step, const char *file, const param_layout *l, const float *params,
                  const uint8_t opt_sha256[32], uint64_t next_seq, const uint64_t *cursors, size_t n_src,
                  dk_err *err)
{
    uint8_t dw[32];
    if (params_sha256(l, params, dw) != 0)
        return dk_errf(err, "out of memory");
    json_t *cj = json_array();
    for (size_t i = 0; i < n_src; i++)
        json_array_append_new(cj, json_integer((json_int_t)cursors[i]));
    json_t *j = json_object();
    json_object_set_new(j, "type", json_string("checkpoint"));
    json_object_set_new(j, "step", json_integer(step));
    json_object_set_new(j, "file", json_string(file));
    json_object_set_new(j, "weights_sha256", hexj(dw));
    json_object_set_new(j, "optimizer_sha256", hexj(opt_sha256));
    json_object_set_new(j, "next_seq", json_integer((json_int_t)next_seq));
    json_object_set_new(j, "cursors", cj);
    int rc = put(L, j, err);
    return rc == 0 ? ledger_sync(&L->w, err) : rc;
}

int tl_steps_changed(train_ledger *L, long steps, dk_err *err)
{
    return put(L, json_pack("{s:s,s:I}", "type", "steps", "steps", (json_int_t)steps), err);
}

int tl_final(train_ledger *L, long step, const char *model_path, const param_layout *l, const float *params,
             dk_err *err)
{
    uint8_t df[32], dw[32];
    if (sha256_file(model_path, df, err) != 0)
        return -1;
    if (params_sha256(l, params, dw) != 0)
        return dk_errf(err, "out of memory");
    json_t *j = json_object();
    json_object_set_new(j, "type", json_string("final"));
    json_object_set_new(j, "step", json_integer(step));
    json_object_set_new(j, "model_file", json_string("model.safetensors"));
    json_object_set_new(j, "model_sha256", hexj(df));
    json_object_set_new(j, "weights_sha256", hexj(dw));
    int rc = put(L, j, err);
    return rc == 0 ? ledger_sync(&L->w, err) : rc;
}

void tl_head(const train_ledger *L, char hex[65])
{
    sha256_hex(L->w.head, hex);
}

void tl_close(train_ledger *L)
{
    if (L->batch) {
        uint8_t d[32];
        sha256_end(L->batch, d);
        L->batch = NULL;
    }
    ledger_close(&L->w);
    L->on = 0;
}
