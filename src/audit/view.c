/* view.c: see view.h. */
#include "audit/view.h"
#include "util/grow.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int at(const ledger_view *v, size_t i, dk_err *err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int at(const ledger_view *v, size_t i, dk_err *err, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return dk_errf(err, "%s:%ld: %s", v->l.path, v->l.r[i].line, msg);
}

const char *view_where(const ledger_view *v, size_t i, char *buf, size_t cap)
{
    snprintf(buf, cap, "record %zu (%s:%ld)", i, v->l.path, i < v->l.n ? v->l.r[i].line : 0L);
    return buf;
}

/* Members of an object, strictly typed; *ok goes to 0 on the first missing one. */
static long long oint(json_t *o, const char *k, int *ok)
{
    json_t *x = json_object_get(o, k);
    if (!json_is_integer(x))
        *ok = 0;
    return json_integer_value(x);
}
static double onum(json_t *o, const char *k, int *ok)
{
    json_t *x = json_object_get(o, k);
    if (!json_is_number(x) || !isfinite(json_number_value(x)))
        *ok = 0;
    return json_number_value(x);
}
static const char *ostr(json_t *o, const char *k, int *ok)
{
    const char *s = json_string_value(json_object_get(o, k));
    if (!s)
        *ok = 0;
    return s;
}
static int is_hash(const char *s)
{
    uint8_t d[32];
    return sha256_parse_hex(s, d) == 0;
}

static int parse_sources(ledger_view *v, json_t *srcs, dk_err *err)
{
    size_t n = json_array_size(srcs);
    if (!json_is_array(srcs) || n == 0 || n > 1 << 16)
        return at(v, 0, err, "genesis: data.sources must be a non-empty array");
    if (!(v->data.sources = calloc(n, sizeof *v->data.sources)))
        return dk_errf(err, "out of memory");
    v->data.n_sources = n;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(srcs, i);
        int ok = 1;
        const char *name = ostr(s, "name", &ok);
        double w = onum(s, "weight", &ok);
        long long tt = oint(s, "train_tokens", &ok), vt = oint(s, "val_tokens", &ok);
        if (!ok || w < 0 || tt < 0 || vt < 0)
            return at(v, 0, err, "genesis: data source %zu is malformed", i);
        snprintf(v->data.sources[i].name, sizeof v->data.sources[i].name, "%s", name);
        v->data.sources[i].weight = w;
        v->data.sources[i].tokens[0] = (uint64_t)tt;
        v->data.sources[i].tokens[1] = (uint64_t)vt;
    }
    snprintf(v->data.dir, sizeof v->data.dir, "%s (the ledger's genesis)", v->l.path);
    return 0;
}

static int parse_genesis(ledger_view *v, dk_err *err)
{
    json_t *g = v->genesis->j;
    int ok = 1;
    const char *fmt = ostr(g, "format", &ok);
    if (!ok || strcmp(fmt, LEDGER_FORMAT) != 0)
        return at(v, 0, err, "genesis: format is not \"%s\"", LEDGER_FORMAT);
    char *ct = json_dumps(json_object_get(g, "config"), JSON_COMPACT);
    int rc = ct ? model_config_from_json(&v->cfg, ct, "the genesis's config", err) : at(v, 0, err, "genesis: no config");
    free(ct);
    if (rc != 0)
        return at(v, 0, err, "genesis: %s", err->msg);
    json_t *t = json_object_get(g, "train"), *s = json_object_get(g, "seeds"), *d = json_object_get(g, "data");
    v->steps = (long)oint(t, "steps", &ok);
    v->batch_size = (int)oint(t, "batch_size", &ok);
    v->micro_batch = (int)oint(t, "micro_batch", &ok);
    v->seq_len = (int)oint(t, "seq_len", &ok);
    v->warmup = (long)oint(t, "warmup", &ok);
    v->checkpoint_every = (long)oint(t, "checkpoint_every", &ok);
    v->lr = onum(t, "lr", &ok);
    v->min_lr = onum(t, "min_lr", &ok);
    v->weight_decay = onum(t, "weight_decay", &ok);
    v->grad_clip = onum(t, "grad_clip", &ok);
    const char *prec = ostr(t, "precision", &ok);
    v->bf16 = prec && strcmp(prec, "bf16") == 0;
    if (!ok || v->steps <= 0 || v->batch_size <= 0 || v->micro_batch <= 0 || v->batch_size % v->micro_batch ||
        v->seq_len <= 0 || v->seq_len > v->cfg.max_seq || v->warmup < 0 || (prec && !v->bf16 && strcmp(prec, "fp32")))
        return at(v, 0, err, "genesis: \"train\" is missing or malformed");
    v->seed = (uint64_t)oint(s, "seed", &ok);
    v->data_seed = (uint64_t)oint(s, "data_seed", &ok);
    const char *by = ostr(s, "chosen_by", &ok);
    v->beacon_source = json_string_value(json_object_get(s, "beacon_source"));
    if (!ok || (strcmp(by, "beacon") == 0) != (v->beacon_source != NULL) ||
        (strcmp(by, "beacon") != 0 && strcmp(by, "trainer") != 0))
        return at(v, 0, err, "genesis: \"seeds\" is missing or malformed");
    v->manifest_sha256 = ostr(d, "manifest_sha256", &ok);
    v->merkle_root = ostr(d, "merkle_root", &ok);
    v->tokenizer_sha256 = ostr(g, "tokenizer_sha256", &ok);
    const char *init = ostr(g, "init", &ok);
    if (!ok || !is_hash(v->manifest_sha256) || !is_hash(v->merkle_root) || !is_hash(v->tokenizer_sha256) ||
        (strcmp(init, "random") != 0 && strcmp(init, "model") != 0))
        return at(v, 0, err, "genesis: \"data\", \"tokenizer_sha256\" or \"init\" is missing or malformed");
    v->from_model = strcmp(init, "model") == 0;
    return parse_sources(v, json_object_get(d, "sources"), err);
}

/* beacon (if the genesis names a source), then init. Returns the next record's index. */
static int parse_start(ledger_view *v, size_t *i, dk_err *err)
{
    *i = 1;
    if (v->beacon_source) {
        if (*i >= v->l.n || strcmp(v->l.r[*i].type, "beacon") != 0)
            return at(v, *i < v->l.n ? *i : 0, err, "the genesis names a beacon (%s) but no beacon record follows it",
                      v->beacon_source);
        v->beacon = &v->l.r[(*i)++];
        const char *val = json_string_value(json_object_get(v->beacon->j, "value"));
        if (!val || ledger_parse_beacon(val, v->beacon_bytes, &v->beacon_len) != 0)
            return at(v, 1, err, "beacon: \"value\" is not hex");
    }
    if (*i >= v->l.n || strcmp(v->l.r[*i].type, "init") != 0)
        return at(v, *i < v->l.n ? *i : 0, err, "no init record after the genesis%s", v->beacon ? " and beacon" : "");
    v->init = &v->l.r[(*i)++];
    json_t *j = v->init->j;
    int ok = 1;
    const char *from = ostr(j, "from", &ok);
    v->data_order_seed = (uint64_t)oint(j, "data_order_seed", &ok);
    if (!ok || !is_hash(json_string_value(json_object_get(j, "weights_sha256"))) ||
        (strcmp(from, "model") == 0) != v->from_model)
        return at(v, *i - 1, err, "init: malformed, or its \"from\" contradicts the genesis");
    if (v->from_model) {
        v->source_sha256 = ostr(j, "source_sha256", &ok);
        if (!ok || !is_hash(v->source_sha256))
            return at(v, *i - 1, err, "init: no source_sha256 for a model start");
    } else {
        v->init_seed = (uint64_t)oint(j, "init_seed", &ok);
        if (!ok)
            return at(v, *i - 1, err, "init: no init_seed");
    }
    return 0;
}

static int add_step(ledger_view *v, size_t i, long total, size_t *cap, dk_err *err)
{
    int ok = 1;
    long step = (long)ledger_int(&v->l.r[i], "step", &ok);
    if (!ok || step != v->n_steps + 1)
        return at(v, i, err, "step %ld where step %ld was due: a step record was dropped, repeated or moved", step,
                  v->n_steps + 1);
    const char *b = ledger_str(&v->l.r[i], "batch_sha256", &ok);
    double loss = ledger_num(&v->l.r[i], "loss", &ok), gn = ledger_num(&v->l.r[i], "grad_norm", &ok);
    ledger_num(&v->l.r[i], "lr", &ok);
    if (!ok || !is_hash(b) || !(gn >= 0) || !isfinite(loss))
        return at(v, i, err, "step %ld: malformed (batch_sha256, loss, grad_norm, lr)", step);
    view_step *ns = dk_grow(v->st, cap, (size_t)v->n_steps + 1, sizeof *ns, 1024);
    if (!ns)
        return dk_errf(err, "out of memory");
    v->st = ns;
    v->st[v->n_steps++] = (view_step){step, i, total};
    return 0;
}

static int add_ckpt(ledger_view *v, size_t i, size_t *cap, dk_err *err)
{
    int ok = 1;
    long step = (long)ledger_int(&v->l.r[i], "step", &ok);
    const char *f = ledger_str(&v->l.r[i], "file", &ok);
    if (!ok || step != v->n_steps || strcmp(v->l.r[i - 1].type, "step") != 0)
        return at(v, i, err, "a checkpoint record must follow its step's record");
    if (!is_hash(ledger_str(&v->l.r[i], "weights_sha256", &ok)) ||
        !is_hash(ledger_str(&v->l.r[i], "optimizer_sha256", &ok)) || strstr(f, "..") || f[0] == '/' ||
        !json_is_array(json_object_get(v->l.r[i].j, "cursors")))
        return at(v, i, err, "checkpoint %ld: malformed", step);
    view_ckpt *nk = dk_grow(v->ck, cap, v->n_ck + 1, sizeof *nk, 64);
    if (!nk)
        return dk_errf(err, "out of memory");
    v->ck = nk;
    v->ck[v->n_ck++] = (view_ckpt){step, i, f};
    return 0;
}

/* step, checkpoint, steps ... final: in order, nothing after final. */
static int parse_steps(ledger_view *v, size_t i, dk_err *err)
{
    size_t scap = 0, ccap = 0;
    long total = v->steps;
    for (; i < v->l.n; i++) {
        const char *t = v->l.r[i].type;
        int rc = 0, ok = 1;
        if (v->final)
            return at(v, i, err, "a %s record after the final record", t);
        if (strcmp(t, "step") == 0) {
            rc = add_step(v, i, total, &scap, err);
            if (rc == 0 && v->n_steps > total)
                rc = at(v, i, err, "step %ld is past the schedule's %ld steps", v->n_steps, total);
        } else if (strcmp(t, "checkpoint") == 0) {
            rc = add_ckpt(v, i, &ccap, err);
        } else if (strcmp(t, "steps") == 0) {
            total = (long)ledger_int(&v->l.r[i], "steps", &ok);
            if (!ok || total < v->n_steps || strcmp(v->l.r[i - 1].type, "checkpoint") != 0)
                rc = at(v, i, err, "a change of --steps must follow a checkpoint and not be below it");
        } else if (strcmp(t, "final") == 0) {
            v->final = &v->l.r[i];
            long step = (long)ledger_int(v->final, "step", &ok);
            if (!ok || step != v->n_steps || step != total || strcmp(v->l.r[i - 1].type, "checkpoint") != 0 ||
                !is_hash(ledger_str(v->final, "model_sha256", &ok)) || !is_hash(ledger_str(v->final, "weights_sha256", &ok)))
                rc = at(v, i, err, "final: malformed, or not after the checkpoint of the last step (%ld of %ld)", v->n_steps,
                        total);
        } else {
            rc = at(v, i, err, "unknown record type \"%s\" here", t);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

int view_open(ledger_view *v, const char *run, dk_err *err)
{
    memset(v, 0, sizeof *v);
    snprintf(v->run, sizeof v->run, "%s", run);
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", run, LEDGER_FILE);
    if (ledger_read(&v->l, path, err) != 0)
        return -1;
    v->genesis = &v->l.r[0];
    size_t i = 0;
    int rc = strcmp(v->genesis->type, "genesis") != 0 ? at(v, 0, err, "the first record is not a genesis")
                                                       : parse_genesis(v, err);
    if (rc == 0)
        rc = parse_start(v, &i, err);
    if (rc == 0)
        rc = parse_steps(v, i, err);
    if (rc != 0)
        view_close(v);
    return rc;
}

void view_close(ledger_view *v)
{
    ledger_free(&v->l);
    free(v->data.sources);
    free(v->st);
    free(v->ck);
    v->data.sources = NULL;
    v->st = NULL;
    v->ck = NULL;
}
