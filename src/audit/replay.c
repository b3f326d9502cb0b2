/* replay.c: see replay.h. */
#include "audit/replay.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/view.h"
#include "kernels/isa.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "train/sampler.h"
#include "train/step.h"
#include "util/buildinfo.h"
#include "util/hash.h"
#include "util/pool.h"
#include "util/progress.h"
#include "util/version.h"

/* The replaying machine: the model, the step, the sampler over the real data. */
typedef struct {
    ledger_view v;
    dataset data;
    pool *pl;
    model *m;
    train_step_ctx sc;
    sampler smp;
    sha256_stream *batch; /* the step being drawn */
} replayer;

/* Segment anchors: index 0 is the start (step 0), then the checkpoints. */
static long anchor_step(const ledger_view *v, long a)
{
    return a == 0 ? 0 : v->ck[a - 1].step;
}

/* The K segments: the first and the last, then draws from SHA-256(challenge || head || i)
 * without replacement, in ascending order. */
static int pick_segments(const ledger_view *v, const uint8_t *ch, size_t chlen, int k, long *out)
{
    long n = (long)v->n_ck; /* segments: anchor a -> a + 1, a in [0, n) */
    if (k > n)
        k = (int)n;
    char *used = calloc((size_t)n + 1, 1);
    if (!used)
        return -1;
    int got = 0;
    if (k >= 1)
        used[0] = 1, got++;
    if (k >= 2 && n > 1)
        used[n - 1] = 1, got++;
    for (uint64_t i = 0; got < k; i++) {
        uint8_t buf[LEDGER_BEACON_MAX + 32 + 8], d[32];
        memcpy(buf, ch, chlen);
        memcpy(buf + chlen, v->l.head, 32);
        for (int b = 0; b < 8; b++)
            buf[chlen + 32 + b] = (uint8_t)(i >> (8 * b));
        sha256_buf(buf, chlen + 40, d);
        uint64_t x = 0;
        for (int b = 7; b >= 0; b--)
            x = x << 8 | d[b];
        long s = (long)(x % (uint64_t)n);
        if (!used[s])
            used[s] = 1, got++;
    }
    int j = 0;
    for (long s = 0; s < n; s++)
        if (used[s])
            out[j++] = s;
    free(used);
    return j;
}

static void next_sequence(void *ctx, dk_token *in, dk_token *tg)
{
    replayer *p = ctx;
    sampler_next(&p->smp, in, tg);
    if (p->batch)
        ledger_batch_add(p->batch, p->smp.last_src, p->smp.last_window);
}

/* The state at anchor a: generated, or loaded from the checkpoint file (checked against
 * its record). 0, or -1 with the reason. */
static int load_anchor(replayer *p, long a, dk_err *err)
{
    ledger_view *v = &p->v;
    size_t n = model_numel(p->m);
    const param_layout *l = model_layout(p->m);
    uint8_t d[32];
    if (a == 0) {
        params_init(l, model_params(p->m), v->init_seed);
        memset(p->sc.adam_m, 0, n * sizeof *p->sc.adam_m);
        memset(p->sc.adam_v, 0, n * sizeof *p->sc.adam_v);
        memset(p->smp.cursor, 0, v->data.n_sources * sizeof *p->smp.cursor);
        p->smp.next_seq = 0;
        if (params_sha256(l, model_params(p->m), d) != 0)
            return dk_errf(err, "out of memory");
        if (!sha256_hex_eq(json_string_value(json_object_get(v->init->j, "weights_sha256")), d))
            return dk_errf(err, "the init record's weights are not those the config and seed generate");
        return 0;
    }
    const view_ckpt *c = &v->ck[a - 1];
    char path[8300];
    snprintf(path, sizeof path, "%s/%s", v->run, c->file);
    if (access(path, F_OK) != 0)
        return dk_errf(err, "%s: missing: the segment from step %ld needs this checkpoint (keep checkpoints of "
                       "audited runs: --keep-checkpoints)", path, c->step);
    ckpt_state s = {.cursors = p->smp.cursor, .n_sources = v->data.n_sources};
    if (ckpt_load(path, p->m, p->sc.adam_m, p->sc.adam_v, &s, err) != 0)
        return -1;
    p->smp.next_seq = s.next_seq;
    uint8_t dopt[32];
    if (params_sha256(l, model_params(p->m), d) != 0 ||
        ledger_optimizer_sha256(p->sc.adam_m, p->sc.adam_v, n, c->step, dopt) != 0)
        return dk_errf(err, "out of memory");
    const ledger_rec *r = &v->l.r[c->rec];
    if (!sha256_hex_eq(json_string_value(json_object_get(r->j, "weights_sha256")), d) ||
        !sha256_hex_eq(json_string_value(json_object_get(r->j, "optimizer_sha256")), dopt))
        return dk_errf(err, "%s: not the state the ledger records for step %ld", path, c->step);
    return 0;
}

/* Replays anchor a to a + 1 into seg. */
static int replay_segment_run(replayer *p, long a, replay_segment *seg, int quiet, dk_err *err)
{
    ledger_view *v = &p->v;
    seg->from = anchor_step(v, a);
    seg->to = anchor_step(v, a + 1);
    double t0 = now_seconds();
    if (load_anchor(p, a, err) != 0)
        return -1;
    seg->ok = 1;
    progress pr;
    char what[96];
    snprintf(what, sizeof what, "replaying steps %ld..%ld", seg->from + 1, seg->to);
    progress_start(&pr, what, "steps", (double)(seg->to - seg->from), quiet);
    for (long step = seg->from; step < seg->to && seg->ok; step++) {
        progress_update(&pr, (double)(step - seg->from));
        const view_step *st = &v->st[step];
        const ledger_rec *r = &v->l.r[st->rec];
        p->sc.steps = st->total;
        if (!(p->batch = sha256_begin()))
            return dk_errf(err, "out of memory");
        train_step_record rec;
        train_step(&p->sc, step, next_sequence, p, &rec);
        uint8_t d[32];
        sha256_end(p->batch, d);
        p->batch = NULL;
        int ok = 1;
        double loss = ledger_num(r, "loss", &ok), gn = ledger_num(r, "grad_norm", &ok);
        if (!sha256_hex_eq(json_string_value(json_object_get(r->j, "batch_sha256")), d))
            snprintf(seg->detail, sizeof seg->detail, "step %ld: the data drawn is not the recorded batch", step + 1);
        else if (loss != rec.loss || gn != rec.grad_norm)
            snprintf(seg->detail, sizeof seg->detail, "step %ld: loss %.17g and gradient norm %.17g, the ledger says "
                     "%.17g and %.17g", step + 1, rec.loss, rec.grad_norm, loss, gn);
        else
            continue;
        seg->ok = 0;
    }
    progress_finish(&pr, (double)(seg->to - seg->from));
    if (seg->ok) {
        const ledger_rec *r = &v->l.r[v->ck[a].rec];
        uint8_t dw[32], dopt[32];
        size_t n = model_numel(p->m);
        if (params_sha256(model_layout(p->m), model_params(p->m), dw) != 0 ||
            ledger_optimizer_sha256(p->sc.adam_m, p->sc.adam_v, n, seg->to, dopt) != 0)
            return dk_errf(err, "out of memory");
        if (!sha256_hex_eq(json_string_value(json_object_get(r->j, "weights_sha256")), dw))
            snprintf(seg->detail, sizeof seg->detail, "the weights after step %ld are not the checkpoint's", seg->to), seg->ok = 0;
        else if (!sha256_hex_eq(json_string_value(json_object_get(r->j, "optimizer_sha256")), dopt))
            snprintf(seg->detail, sizeof seg->detail, "the optimizer state after step %ld is not the checkpoint's", seg->to),
                seg->ok = 0;
        else
            snprintf(seg->detail, sizeof seg->detail, "every batch, loss and gradient norm, and the weights and "
                     "optimizer state at step %ld, identical", seg->to);
    }
    seg->seconds = now_seconds() - t0;
    return 0;
}

/* The run's ledger, the data it names, and a model and step shaped as the genesis says. */
static int open_replayer(replayer *p, const replay_opts *o, dk_err *err)
{
    ledger_view *v = &p->v;
    if (view_open(v, o->run, err) != 0)
        return -1;
    const char *arith = json_string_value(json_object_get(json_object_get(v->genesis->j, "kernel"), "arith"));
    if (!arith || strcmp(arith, isa_arith(isa_current())) != 0)
        return dk_errf(err, "%s: trained with %s kernel arithmetic, this path (%s) computes %s: replay on a path of "
                       "that class (DOKJA_ISA)", o->run, arith ? arith : "unknown", isa_name(isa_current()),
                       isa_arith(isa_current()));
    if (v->from_model)
        return dk_errf(err, "%s: the run starts from a model (derived): its first segment cannot be replayed from "
                       "generated weights", o->run);
    if (v->n_ck == 0)
        return dk_errf(err, "%s: the ledger has no checkpoint: nothing to replay", o->run);
    if (dataset_open(&p->data, o->data, err) != 0)
        return -1;
    if (strcmp(p->data.manifest_sha256, v->manifest_sha256) != 0)
        return dk_errf(err, "%s: manifest SHA-256 %s, the ledger's genesis says %s", o->data, p->data.manifest_sha256,
                       v->manifest_sha256);
    if (!(p->pl = pool_new(o->threads)) || model_new(&p->m, &v->cfg, p->pl, err) != 0)
        return p->pl ? -1 : dk_errf(err, "cannot start threads");
    if (v->bf16 && model_set_bf16(p->m, 1) != 0)
        return dk_errf(err, "out of memory for bf16 operands");
    size_t n = model_numel(p->m);
    p->sc = (train_step_ctx){.m = p->m, .pool = p->pl, .rank = 0, .ranks = 1, .batch_size = v->batch_size,
                             .micro_batch = v->micro_batch, .seq_len = v->seq_len, .steps = v->steps,
                             .warmup = v->warmup, .lr = v->lr, .min_lr = v->min_lr, .grad_clip = v->grad_clip,
                             .opt = adamw_defaults((float)v->lr), .shard_b = 0, .shard_e = n};
    p->sc.opt.weight_decay = (float)v->weight_decay;
    if (train_step_init(&p->sc, err) != 0 || model_reserve(p->m, v->micro_batch, v->seq_len, err) != 0)
        return -1;
    return sampler_init(&p->smp, &p->data, 0, v->seq_len, v->data_order_seed, err);
}

static void close_replayer(replayer *p)
{
    train_step_free(&p->sc);
    sampler_free(&p->smp);
    model_free(p->m);
    pool_free(p->pl);
    dataset_close(&p->data);
    view_close(&p->v);
}

int ledger_replay(const replay_opts *o, replay_report *r, dk_err *err)
{
    memset(r, 0, sizeof *r);
    replayer *p = calloc(1, sizeof *p);
    if (!p)
        return dk_errf(err, "out of memory");
    int rc = open_replayer(p, o, err);
    long *which = rc == 0 ? calloc(p->v.n_ck, sizeof *which) : NULL;
    if (rc == 0 && !which)
        rc = dk_errf(err, "out of memory");
    int k = rc == 0 ? pick_segments(&p->v, o->challenge, o->challenge_len, o->segments, which) : 0;
    if (rc == 0 && (k < 0 || !(r->seg = calloc((size_t)k, sizeof *r->seg))))
        rc = dk_errf(err, "out of memory");
    if (rc == 0) {
        json_t *dj = json_object_get(p->v.genesis->j, "dokja");
        const char *ver = json_string_value(json_object_get(dj, "version"));
        const char *com = json_string_value(json_object_get(dj, "commit"));
        snprintf(r->run_build, sizeof r->run_build, "%s %s", ver ? ver : "?", com ? com : "?");
        r->same_build = ver && com && strcmp(ver, DOKJA_VERSION) == 0 && strcmp(com, build_commit()) == 0 &&
                        !strstr(com, "-dirty") && strcmp(com, "unknown") != 0;
        sha256_hex(p->v.l.head, r->head);
        r->steps_total = p->v.n_steps;
        r->n_segments = (long)p->v.n_ck;
    }
    for (int i = 0; rc == 0 && i < k; i++) {
        if (!o->quiet)
            fprintf(stderr, "segment %d of %d\n", i + 1, k);
        rc = replay_segment_run(p, which[i], &r->seg[i], o->quiet, err);
        if (rc == 0) {
            r->n++;
            r->failed += !r->seg[i].ok;
            r->steps_replayed += r->seg[i].to - r->seg[i].from;
        }
    }
    free(which);
    close_replayer(p);
    free(p);
    return rc;
}

void replay_report_free(replay_report *r)
{
    free(r->seg);
    r->seg = NULL;
}

void replay_print(const replay_report *r, FILE *f)
{
    if (!r->same_build)
        fprintf(f, "note: the run was trained by dokja %s, this is dokja %s %s: a change of the code can change the "
                   "bits; a failed segment is decided with the run's build\n", r->run_build, DOKJA_VERSION, build_commit());
    for (int i = 0; i < r->n; i++)
        fprintf(f, "  %s  steps %ld..%ld  %s (%.1f s)\n", r->seg[i].ok ? "PASS" : "FAIL", r->seg[i].from + 1, r->seg[i].to,
                r->seg[i].detail, r->seg[i].seconds);
    fprintf(f, "%s: %d of %d segment(s) reproduced bit for bit; %ld of %ld steps replayed (%.1f%% of the run's "
               "compute), head %s\n", r->failed ? "REPLAY FAILED" : "REPLAYED", r->n - r->failed, r->n, r->steps_replayed,
            r->steps_total, r->steps_total ? 100.0 * (double)r->steps_replayed / (double)r->steps_total : 0.0, r->head);
}

json_t *replay_json(const replay_report *r)
{
    json_t *j = json_object(), *a = json_array();
    json_object_set_new(j, "ok", json_boolean(r->failed == 0 && r->n > 0));
    json_object_set_new(j, "head", json_string(r->head));
    json_object_set_new(j, "run_build", json_string(r->run_build));
    json_object_set_new(j, "same_build", json_boolean(r->same_build));
    json_object_set_new(j, "segments_in_run", json_integer(r->n_segments));
    json_object_set_new(j, "steps_replayed", json_integer(r->steps_replayed));
    json_object_set_new(j, "steps_total", json_integer(r->steps_total));
    json_object_set_new(j, "compute_fraction",
                        json_real(r->steps_total ? (double)r->steps_replayed / (double)r->steps_total : 0));
    for (int i = 0; i < r->n; i++)
        json_array_append_new(a, json_pack("{s:I,s:I,s:b,s:s,s:f}", "from_step", (json_int_t)r->seg[i].from,
                                           "to_step", (json_int_t)r->seg[i].to, "ok", r->seg[i].ok, "detail",
                                           r->seg[i].detail, "seconds", r->seg[i].seconds));
    json_object_set_new(j, "segments", a);
    return j;
}
