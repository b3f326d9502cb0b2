/* train.c: the training loop (see train.h). */
#include "train/train.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "kernels/isa.h"
#include "kernels/peak.h"
#include "model/model_io.h"
#include "mpi/mpi.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/plot.h"
#include "train/sampler.h"
#include "train/step.h"
#include "train/train_ledger.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/progress.h"

void train_defaults(train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->steps = 1000;
    o->batch_size = 8;
    o->seq_len = 256;
    o->lr = 3e-4;
    o->min_lr = -1; /* default: lr / 10 */
    o->weight_decay = 0.1;
    o->grad_clip = 1.0;
    o->warmup = -1; /* default: min(100, steps / 10) */
    o->seed = 1;
    o->checkpoint_every = 100;
    o->keep_checkpoints = 3;
    o->eval_every = 100;
    o->eval_batches = 4;
}

/* ---- metrics history (for the picture) ---------------------------------------------- */

typedef struct {
    double *x, *y;
    size_t n, cap;
} series;

static void series_add(series *s, double x, double y)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        double *nx = realloc(s->x, nc * sizeof *nx), *ny = nx ? realloc(s->y, nc * sizeof *ny) : NULL;
        if (!nx || !ny) {
            if (nx)
                s->x = nx;
            return; /* the picture loses a point; training goes on */
        }
        s->x = nx;
        s->y = ny;
        s->cap = nc;
    }
    s->x[s->n] = x;
    s->y[s->n++] = y;
}

typedef struct {
    train_opts o; /* with defaults filled in */
    model_config cfg;
    dataset data;
    model *m;
    pool *pl;
    train_step_ctx sc; /* the step: moments of this rank's shard, batch buffers */
    int rank, ranks;
    sampler smp;
    series train_loss, *val_loss; /* val per source */
    char run[4096], run_json[4200];
    double peak;
    int root;
    long start;          /* the step the run starts from */
    long ck[1024];       /* existing checkpoints, newest first */
    int n_ck;
    char init_sha[65];   /* --init-from's weights file SHA-256 */
    int from_model;
    int lock_fd;         /* RUN/.lock, held (flock) for the life of the run; -1: none */
    int fresh_resume;    /* --resume of a run that never reached a checkpoint: from step 0 */
    train_ledger led;    /* rank 0 */
    uint8_t beacon[LEDGER_BEACON_MAX];
    size_t beacon_len;
    uint64_t init_seed, data_seed; /* the seeds in use (tl_seeds) */
    int steps_changed;   /* --resume with another --steps */
    uint8_t resume_opt_sha[32]; /* the resumed checkpoint's optimizer digest */
} trainer;

static int mkpath(char *buf, size_t cap, const char *dir, const char *name)
{
    return snprintf(buf, cap, "%s/%s", dir, name) < (int)cap ? 0 : -1;
}

static void write_plot(trainer *t)
{
    size_t n = 1 + t->data.n_sources;
    plot_series *s = calloc(n, sizeof *s);
    char (*names)[128] = calloc(n, sizeof *names);
    if (!s || !names) {
        free(s);
        free(names);
        return;
    }
    s[0] = (plot_series){"train", t->train_loss.x, t->train_loss.y, t->train_loss.n};
    for (size_t i = 0; i < t->data.n_sources; i++) {
        snprintf(names[i + 1], sizeof names[i + 1], "val: %s", t->data.sources[i].name);
        s[i + 1] = (plot_series){names[i + 1], t->val_loss[i].x, t->val_loss[i].y, t->val_loss[i].n};
    }
    char path[4400];
    dk_err err;
    mkpath(path, sizeof path, t->run, "loss.svg");
    if (plot_svg(path, "dokja training loss", "step", "loss (nats per token)", s, n, &err) != 0)
        dk_warnf("%s", err.msg);
    free(s);
    free(names);
}

/* Mean loss over the first eval_batches x micro_batch windows of each source's
 * validation split, in order: the same windows at every evaluation. */
static void evaluate(trainer *t, double *out)
{
    int S = t->o.seq_len, mb = t->o.micro_batch;
    sampler vs;
    dk_err err;
    if (sampler_init(&vs, &t->data, 1, S, 0, &err) != 0) {
        for (size_t i = 0; i < t->data.n_sources; i++)
            out[i] = NAN;
        return;
    }
    for (size_t i = 0; i < t->data.n_sources; i++) {
        uint64_t nw = vs.n_windows[i], w = 0;
        double sum = 0;
        int batches = 0;
        for (int b = 0; b < t->o.eval_batches && w < nw; b++) {
            int k = 0;
            for (; k < mb && w < nw; k++, w++)
                sampler_window(&vs, (int)i, w, t->sc.in + (size_t)k * S, t->sc.tg + (size_t)k * S);
            sum += model_forward_loss(t->m, t->sc.in, t->sc.tg, k, S, NULL);
            batches++;
        }
        out[i] = batches ? sum / batches : NAN;
    }
    sampler_free(&vs);
}

/* The init source recorded by the run being resumed (run.json), so the final model's
 * metadata says where it came from even when --init-from is not repeated. */
static void read_init_source(const char *run, char *sha, size_t cap, int *from_model,
                             uint64_t *data_seed, char *arith, size_t arith_cap)
{
    char path[4400];
    mkpath(path, sizeof path, run, "run.json");
    dk_err oe;
    FILE *f = fs_open_regular(path, &oe);
    json_t *j = f ? json_loadf(f, 0, NULL) : NULL;
    if (f)
        fclose(f);
    const char *s = json_string_value(json_object_get(j, "init_from_sha256"));
    if (s) {
        snprintf(sha, cap, "%s", s);
        *from_model = 1;
    }
    json_t *ds = json_object_get(j, "data_seed"); /* absent in runs before --data-seed */
    *data_seed = json_is_integer(ds) ? (uint64_t)json_integer_value(ds) : 0;
    const char *ar = json_string_value(json_object_get(j, "kernel_arith")); /* absent before it */
    snprintf(arith, arith_cap, "%s", ar ? ar : "");
    json_decref(j);
}

/* All ranks call this: rank 0 gathers the moment shards and writes the file. */
static int save_checkpoint(trainer *t, long step, dk_err *err)
{
    size_t n = model_numel(t->m);
    float *fm = t->rank == 0 ? malloc(n * sizeof *fm) : NULL;
    float *fv = t->rank == 0 ? malloc(n * sizeof *fv) : NULL;
    int rc = t->rank == 0 && (!fm || !fv) ? dk_errf(err, "out of memory for a checkpoint") : 0;
    if (dist_any(rc != 0)) {
        free(fm);
        free(fv);
        return rc ? rc : dk_errf(err, "rank %d: rank 0 could not allocate a checkpoint", t->rank);
    }
    dist_gather_shards(t->sc.adam_m, fm, n);
    dist_gather_shards(t->sc.adam_v, fv, n);
    if (t->rank == 0) {
        char path[4400];
        ckpt_path(path, sizeof path, t->run, step);
        ckpt_state s = {step, t->o.seed, t->smp.next_seq, t->smp.cursor, t->data.n_sources, ""};
        snprintf(s.data_sha256, sizeof s.data_sha256, "%s", t->data.manifest_sha256);
        rc = ckpt_save(path, t->m, fm, fv, &s, err);
        uint8_t dopt[32];
        if (rc == 0 && t->led.on)
            rc = ledger_optimizer_sha256(fm, fv, n, step, dopt) != 0
                     ? dk_errf(err, "out of memory")
                     : tl_checkpoint(&t->led, step, path + strlen(t->run) + 1, model_layout(t->m), model_params(t->m),
                                     dopt, t->smp.next_seq, t->smp.cursor, t->data.n_sources, err);
        if (rc == 0)
            ckpt_rotate(t->run, t->o.keep_checkpoints);
    }
    free(fm);
    free(fv);
    return rc;
}

/* The training batches: the sampler's next sequence, into the step's batch digest. */
static void next_sequence(void *ctx, dk_token *in, dk_token *tg)
{
    trainer *t = ctx;
    sampler_next(&t->smp, in, tg);
    tl_sequence(&t->led, t->smp.last_src, t->smp.last_window);
}

/* Every rank failed if one did: returns -1 on all of them (with a message on the
 * ranks whose own step succeeded), 0 if all succeeded. */
static int sync_rc(trainer *t, int rc, dk_err *err)
{
    if (!dist_any(rc != 0))
        return 0;
    if (rc == 0)
        dk_errf(err, "rank %d: stopping because another rank failed", t->rank);
    return -1;
}

/* Rewrites metrics.jsonl keeping only lines of steps <= step (a resumed run redoes
 * the rest), and reloads the history for the picture. */
static int trim_metrics(trainer *t, long step, dk_err *err)
{
    char path[4400];
    mkpath(path, sizeof path, t->run, "metrics.jsonl");
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    fs_atomic a;
    if (fs_atomic_open(&a, path, err) != 0) {
        fclose(f);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        json_t *js = j ? json_object_get(j, "step") : NULL;
        if (json_is_integer(js) && json_integer_value(js) <= step) {
            fs_atomic_write(&a, line, (size_t)len);
            json_t *l = json_object_get(j, "loss");
            if (json_is_number(l))
                series_add(&t->train_loss, (double)json_integer_value(js), json_number_value(l));
            json_t *v = json_object_get(j, "val_loss");
            for (size_t i = 0; json_is_object(v) && i < t->data.n_sources; i++) {
                json_t *x = json_object_get(v, t->data.sources[i].name);
                if (json_is_number(x))
                    series_add(&t->val_loss[i], (double)json_integer_value(js), json_number_value(x));
            }
        }
        json_decref(j);
    }
    free(line);
    fclose(f);
    return fs_atomic_commit(&a, err);
}

static int append_metrics(trainer *t, json_t *j, dk_err *err)
{
    char path[4400];
    mkpath(path, sizeof path, t->run, "metrics.jsonl");
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(8));
    FILE *f = fopen(path, "a");
    int rc = 0;
    if (!s || !f || fprintf(f, "%s\n", s) < 0 || fflush(f) != 0)
        rc = dk_errno(err, "%s: cannot append", path);
    if (f && fclose(f) != 0 && rc == 0)
        rc = dk_errno(err, "%s: cannot append", path);
    free(s);
    return rc;
}

static int write_run_json(trainer *t, const char *init_sha, dk_err *err)
{
    const train_opts *o = &t->o;
    json_t *j = json_object();
    json_object_set_new(j, "data", json_string(o->data_dir));
    json_object_set_new(j, "data_manifest_sha256", json_string(t->data.manifest_sha256));
    json_object_set_new(j, "tokenizer_sha256", json_string(t->data.tokenizer_sha256));
    json_object_set_new(j, "config", json_string(o->config_path));
    json_object_set_new(j, "init", json_string(o->init_from ? "from-model" : "random"));
    json_object_set_new(j, "matmul_precision", json_string(o->bf16 ? "bf16 operands, fp32 accumulation" : "fp32"));
    /* the kernel path and its arithmetic class: runs of one class give the same bits */
    json_object_set_new(j, "kernel_path", json_string(isa_name(isa_current())));
    json_object_set_new(j, "kernel_arith", json_string(isa_arith(isa_current())));
    if (o->init_from) {
        json_object_set_new(j, "init_from", json_string(o->init_from));
        json_object_set_new(j, "init_from_sha256", json_string(init_sha));
    }
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
    if (o->beacon_source)
        json_object_set_new(j, "beacon_source", json_string(o->beacon_source));
    json_object_set_new(j, "data_seed", json_integer((json_int_t)(o->data_seed ? o->data_seed : o->seed)));
    json_object_set_new(j, "steps", json_integer(o->steps));
    json_object_set_new(j, "batch_size", json_integer(o->batch_size));
    json_object_set_new(j, "micro_batch", json_integer(o->micro_batch));
    json_object_set_new(j, "seq_len", json_integer(o->seq_len));
    json_object_set_new(j, "lr", json_real(o->lr));
    json_object_set_new(j, "min_lr", json_real(o->min_lr));
    json_object_set_new(j, "warmup", json_integer(o->warmup));
    json_object_set_new(j, "weight_decay", json_real(o->weight_decay));
    json_object_set_new(j, "grad_clip", json_real(o->grad_clip));
    json_object_set_new(j, "threads", json_integer(pool_threads(t->pl)));
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(j);
    char path[4400];
    mkpath(path, sizeof path, t->run, "run.json");
    char *line = NULL;
    int rc = s && asprintf(&line, "%s\n", s) > 0 ? fs_write_file_atomic(path, line, strlen(line), err)
                                                   : dk_errf(err, "out of memory");
    free(line);
    free(s);
    return rc;
}

/* --resume without --micro-batch: the run's own from run.json, not B / ranks: the
 * micro-batches are part of the summation order (step.h), so a run resumed on another
 * rank count with the default would change its bits. 0 when run.json does not say. */
static int recorded_micro_batch(const char *run_json)
{
    dk_err oe;
    FILE *f = fs_open_regular(run_json, &oe);
    json_t *j = f ? json_loadf(f, 0, NULL) : NULL;
    if (f)
        fclose(f);
    json_t *mb = json_object_get(j, "micro_batch");
    json_int_t v = json_is_integer(mb) ? json_integer_value(mb) : 0;
    json_decref(j);
    return v > 0 && v <= 1 << 20 ? (int)v : 0;
}

/* Fills the defaults that depend on other options and checks the batch shape. */
static int settle_opts(train_opts *o, int ranks, dk_err *err)
{
    if (o->micro_batch <= 0)
        o->micro_batch = o->batch_size / ranks > 0 ? o->batch_size / ranks : 1;
    if (o->warmup < 0)
        o->warmup = o->steps / 10 < 100 ? o->steps / 10 : 100;
    if (o->min_lr < 0)
        o->min_lr = o->lr / 10;
    if (o->steps <= 0 || o->batch_size <= 0 || o->seq_len <= 0 || o->batch_size % o->micro_batch != 0)
        return dk_errf(err, "--batch-size %d must split evenly into micro-batches of %d", o->batch_size,
                       o->micro_batch);
    /* rank r trains micro-batches r, r + R, ...: every rank the same number (step.h) */
    int micro = o->batch_size / o->micro_batch;
    if (micro % ranks != 0)
        return dk_errf(err, "--batch-size %d is %d micro-batches of %d, not a multiple of %d ranks",
                       o->batch_size, micro, o->micro_batch, ranks);
    return 0;
}

/* Creates RUN/checkpoints and takes an exclusive lock on RUN for the life of the run: a
 * second `dokja train` on the same RUN (two --resume, or two fresh -o racing between the
 * existence check and mkdir) gets one line instead of writing the same files. */
static int claim_run(trainer *t, dk_err *err)
{
    char ckdir[4400], lock[4400];
    mkpath(ckdir, sizeof ckdir, t->run, "checkpoints");
    mkpath(lock, sizeof lock, t->run, ".lock");
    if (fs_mkdirs(ckdir, err) != 0)
        return -1;
    t->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (t->lock_fd < 0)
        return dk_errno(err, "%s: cannot open", lock);
    if (flock(t->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK ? dk_errf(err, "%s: in use by another dokja train", t->run)
                                    : dk_errno(err, "%s: cannot lock", lock);
    return 0;
}

/* --resume: the options that decide the trained bytes must be those the run recorded;
 * only --steps may change (training longer or shorter), and the change is recorded. */
static int check_resumed_options(trainer *t, dk_err *err)
{
    char path[4400];
    mkpath(path, sizeof path, t->run, "run.json");
    dk_err oe;
    FILE *f = fs_open_regular(path, &oe);
    json_t *j = f ? json_loadf(f, 0, NULL) : NULL;
    if (f)
        fclose(f);
    if (!j)
        return 0; /* runs from before run.json: the checkpoint's own checks remain */
    const train_opts *o = &t->o;
    struct { const char *key, *flag; double now; } num[] = {
        {"batch_size", "batch-size", o->batch_size}, {"micro_batch", "micro-batch", o->micro_batch},
        {"seq_len", "seq-len", o->seq_len}, {"lr", "lr", o->lr},
        {"min_lr", "min-lr", o->min_lr}, {"warmup", "warmup", (double)o->warmup},
        {"weight_decay", "weight-decay", o->weight_decay}, {"grad_clip", "grad-clip", o->grad_clip},
        {"seed", "seed", (double)o->seed}};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof num / sizeof num[0]; i++) {
        json_t *v = json_object_get(j, num[i].key);
        if (!json_is_number(v))
            continue;
        double was = json_number_value(v);
        if (fabs(was - num[i].now) > 1e-9 * fabs(was)) /* run.json keeps 10 digits */
            rc = dk_errf(err, "%s: trained with --%s %g, not %g (only --steps may change on --resume)", t->run,
                         num[i].flag, was, num[i].now);
    }
    const char *prec = json_string_value(json_object_get(j, "matmul_precision"));
    if (rc == 0 && prec && (strcmp(prec, "fp32") == 0) == o->bf16)
        rc = dk_errf(err, "%s: trained with %s matmuls (give the same --bf16 on --resume)", t->run, prec);
    json_t *st = json_object_get(j, "steps");
    if (rc == 0 && t->root && json_is_integer(st) && json_integer_value(st) != o->steps) {
        json_t *hist = json_object_get(j, "steps_before");
        if (!json_is_array(hist)) {
            hist = json_array();
            json_object_set_new(j, "steps_before", hist);
        }
        json_array_append_new(hist, json_integer(json_integer_value(st)));
        json_object_set_new(j, "steps", json_integer(o->steps));
        t->steps_changed = 1;
        char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        char *line = NULL;
        rc = text && asprintf(&line, "%s\n", text) > 0 ? fs_write_file_atomic(path, line, strlen(line), err)
                                                       : dk_errf(err, "out of memory");
        free(line);
        free(text);
    }
    const char *bsrc = json_string_value(json_object_get(j, "beacon_source"));
    if (rc == 0 && bsrc && !t->beacon_len)
        rc = dk_errf(err, "%s: its seeds come from a beacon (%s): give it with --beacon HEX", t->run, bsrc);
    json_decref(j);
    return rc;
}

/* The config, the dataset and the run directory (new, or with checkpoints to resume). */
static int open_run(trainer *t, dk_err *err)
{
    const train_opts *o = &t->o;
    if (model_config_load(&t->cfg, o->config_path, err) != 0)
        return -1;
    if (t->cfg.max_seq < o->seq_len)
        return dk_errf(err, "%s: max_position_embeddings %d is shorter than --seq-len %d", o->config_path,
                       t->cfg.max_seq, o->seq_len);
    if (dataset_open(&t->data, o->data_dir, err) != 0)
        return -1;
    if ((uint32_t)t->cfg.vocab_size < t->data.vocab_size)
        return dk_errf(err, "%s: vocab_size %d does not cover the tokenizer's %u ids", o->config_path,
                       t->cfg.vocab_size, t->data.vocab_size);
    if (o->resume && t->root && claim_run(t, err) != 0) /* before reading its checkpoints */
        return -1;
    t->n_ck = ckpt_list(t->run, t->ck, 1024);
    if (t->root && !o->resume && (t->n_ck > 0 || access(t->run, F_OK) == 0))
        return dk_errf(err, "%s: already exists (use --resume to continue it)", t->run);
    char rj[4400];
    mkpath(rj, sizeof rj, t->run, "run.json");
    if (o->resume && t->n_ck == 0 && access(rj, F_OK) != 0)
        return dk_errf(err, "%s: nothing to resume (no checkpoints and no run.json)", t->run);
    /* killed (or failed) before its first checkpoint: start again from step 0, with the
     * options its run.json recorded (resume() checks them) */
    t->fresh_resume = o->resume && t->n_ck == 0;
    return 0;
}

/* Threads, the model, the step (moments of this rank's shard, batch buffers), the
 * activations and the sampler. */
static int build(trainer *t, dk_err *err)
{
    const train_opts *o = &t->o;
    t->pl = pool_new(o->threads);
    if (!t->pl)
        return dk_errf(err, "cannot start threads");
    if (model_new(&t->m, &t->cfg, t->pl, err) != 0)
        return -1;
    if (o->bf16 && model_set_bf16(t->m, 1) != 0)
        return dk_errf(err, "--bf16: out of memory for the bf16 operand buffers");
    t->sc = (train_step_ctx){.m = t->m, .pool = t->pl, .rank = t->rank, .ranks = t->ranks,
                             .batch_size = o->batch_size, .micro_batch = o->micro_batch, .seq_len = o->seq_len,
                             .steps = o->steps, .warmup = o->warmup, .lr = o->lr, .min_lr = o->min_lr,
                             .grad_clip = o->grad_clip, .opt = adamw_defaults((float)o->lr)};
    t->sc.opt.weight_decay = (float)o->weight_decay;
    if (train_step_init(&t->sc, err) != 0)
        return -1;
    if (!(t->val_loss = calloc(t->data.n_sources, sizeof *t->val_loss)))
        return dk_errf(err, "out of memory");
    if (model_reserve(t->m, o->micro_batch, o->seq_len, err) != 0)
        return -1;
    return sampler_init(&t->smp, &t->data, 0, o->seq_len, t->data_seed, err);
}

/* --init-from: the weights of a model directory, and their file's SHA-256. */
static int init_from_model(trainer *t, dk_err *err)
{
    const char *dir = t->o.init_from;
    char wpath[4400];
    uint8_t d[32];
    if (model_load_weights(t->m, dir, err) != 0)
        return -1;
    mkpath(wpath, sizeof wpath, dir, "model.safetensors");
    if (access(wpath, F_OK) != 0)
        mkpath(wpath, sizeof wpath, dir, "model.safetensors.index.json");
    if (sha256_file(wpath, d, err) != 0)
        return -1;
    sha256_hex(d, t->init_sha);
    return 0;
}

/* --resume: the newest checkpoint that loads and fits (data, seeds, arithmetic). */
static int resume(trainer *t, dk_err *err)
{
    const train_opts *o = &t->o;
    if (t->root)
        ckpt_remove_temps(t->run);
    if (check_resumed_options(t, err) != 0)
        return -1;
    uint64_t run_data_seed, want = o->data_seed ? o->data_seed : o->seed; /* the trainer's, before a beacon */
    char arith[16];
    read_init_source(t->run, t->init_sha, sizeof t->init_sha, &t->from_model, &run_data_seed, arith, sizeof arith);
    if (run_data_seed && run_data_seed != want)
        return dk_errf(err, "%s: trained with data seed %llu, not %llu (give the same --data-seed)", t->run,
                       (unsigned long long)run_data_seed, (unsigned long long)want);
    if (arith[0] && strcmp(arith, isa_arith(isa_current())) != 0)
        return dk_errf(err, "%s: trained with %s kernels, this path (%s) computes %s: resume on an "
                       "avx512 or avx2 path (DOKJA_ISA)", t->run, arith, isa_name(isa_current()),
                       isa_arith(isa_current()));
    if (t->fresh_resume) /* nothing saved yet: from step 0, as a fresh run would */
        return t->o.init_from ? init_from_model(t, err)
                              : (params_init(model_layout(t->m), model_params(t->m), t->init_seed), 0);
    size_t numel = model_numel(t->m), shard_len = t->sc.shard_e - t->sc.shard_b;
    float *fm = malloc(numel * sizeof *fm), *fv = malloc(numel * sizeof *fv);
    int rc = fm && fv ? -1 : dk_errf(err, "out of memory loading a checkpoint");
    for (int i = 0; fm && fv && i < t->n_ck && rc != 0; i++) {
        char path[4400];
        ckpt_path(path, sizeof path, t->run, t->ck[i]);
        ckpt_state s = {.cursors = t->smp.cursor, .n_sources = t->data.n_sources};
        rc = ckpt_load(path, t->m, fm, fv, &s, err);
        if (rc == 0 && strcmp(s.data_sha256, t->data.manifest_sha256) != 0)
            rc = dk_errf(err, "%s: trained on other data (manifest %s)", path, s.data_sha256);
        if (rc == 0 && s.seed != o->seed)
            rc = dk_errf(err, "%s: trained with seed %llu, not %llu", path, (unsigned long long)s.seed,
                         (unsigned long long)o->seed);
        if (rc == 0 && t->root && ledger_optimizer_sha256(fm, fv, numel, s.step, t->resume_opt_sha) != 0)
            rc = dk_errf(err, "out of memory");
        if (rc == 0) {
            t->start = s.step;
            t->smp.next_seq = s.next_seq;
            memcpy(t->sc.adam_m, fm + t->sc.shard_b, shard_len * sizeof *fm);
            memcpy(t->sc.adam_v, fv + t->sc.shard_b, shard_len * sizeof *fv);
        } else if (!o->quiet) {
            dk_warnf("skipping checkpoint: %s", err->msg);
        }
    }
    free(fm);
    free(fv);
    return rc == 0 && t->root ? trim_metrics(t, t->start, err) : rc;
}

/* One step's line of metrics.jsonl, the validation losses when due, the picture. */
static int record_step(trainer *t, const train_step_record *rec, int eval, double *val, dk_err *err)
{
    const train_opts *o = &t->o;
    long done = rec->step;
    json_t *j = json_object();
    json_object_set_new(j, "step", json_integer(done));
    json_object_set_new(j, "loss", json_real(rec->loss));
    json_object_set_new(j, "lr", json_real(rec->lr));
    json_object_set_new(j, "grad_norm", json_real(rec->grad_norm));
    json_object_set_new(j, "tokens_per_s", json_real((double)o->batch_size * o->seq_len / rec->seconds));
    if (t->ranks > 1) /* seconds waiting for the gradient exchange after backward, and in the gathers */
        json_object_set_new(j, "comm_s", json_real(rec->comm_s));
    series_add(&t->train_loss, (double)done, rec->loss);
    if (eval) {
        evaluate(t, val);
        json_t *v = json_object();
        for (size_t i = 0; i < t->data.n_sources; i++) {
            json_object_set_new(v, t->data.sources[i].name, isfinite(val[i]) ? json_real(val[i]) : json_null());
            if (isfinite(val[i]))
                series_add(&t->val_loss[i], (double)done, val[i]);
        }
        json_object_set_new(j, "val_loss", v);
    }
    int rc = append_metrics(t, j, err);
    json_decref(j);
    if (rc == 0 && t->led.on)
        rc = tl_step(&t->led, rec, err);
    if (rc == 0 && (eval || done % 50 == 0 || done == o->steps))
        write_plot(t);
    return rc;
}

/* The steps from t->start: each one train_step, then metrics, checkpoints, progress. */
static int run_steps(trainer *t, dk_err *err)
{
    const train_opts *o = &t->o;
    int talk = t->root && o->on_event, rc = 0;
    if (talk) {
        t->peak = peak_fma_gflops(t->pl, 0.3, NULL) * t->ranks; /* ranks of the same machine kind */
        train_event e = {.kind = TRAIN_BEGIN, .step = t->start, .steps = o->steps, .start = t->start,
                         .params = model_numel(t->m), .batch_size = o->batch_size, .seq_len = o->seq_len,
                         .ranks = t->ranks, .threads = pool_threads(t->pl), .peak_gflops = t->peak};
        o->on_event(o->event_ctx, &e);
    }
    double flops = model_train_flops(&t->cfg, o->batch_size, o->seq_len), t0 = now_seconds();
    double *val = calloc(t->data.n_sources, sizeof *val);
    if (!val)
        rc = dk_errf(err, "out of memory");
    for (long step = t->start; rc == 0 && step < o->steps; step++) {
        train_step_record rec;
        train_step(&t->sc, step, next_sequence, t, &rec);
        long done = rec.step;
        int eval = (o->eval_every > 0 && done % o->eval_every == 0) || done == o->steps;
        if (t->root)
            rc = record_step(t, &rec, eval, val, err);
        rc = sync_rc(t, rc, err);
        if (rc == 0 && ((o->checkpoint_every > 0 && done % o->checkpoint_every == 0) || done == o->steps))
            rc = sync_rc(t, save_checkpoint(t, done, err), err);
        if (talk) {
            double el = now_seconds() - t0;
            train_event e = {.kind = TRAIN_STEP, .step = done, .steps = o->steps, .start = t->start,
                             .loss = rec.loss, .lr = rec.lr, .grad_norm = rec.grad_norm,
                             .tokens_per_s = (double)o->batch_size * o->seq_len / rec.seconds,
                             .mfu = t->peak > 0 ? flops / rec.seconds / 1e9 / t->peak : 0.0,
                             .eta_s = el / (double)(done - t->start) * (double)(o->steps - done), .evaluated = eval};
            o->on_event(o->event_ctx, &e);
        }
    }
    free(val);
    return rc;
}

/* The run directory becomes a model directory, with where it came from in the metadata. */
static int save_model(trainer *t, dk_err *err)
{
    char tpath[4400];
    mkpath(tpath, sizeof tpath, t->o.data_dir, "dokja_tokenizer.json");
    const char *keys[4] = {"dokja_data_manifest_sha256", "dokja_init", "dokja_kernel_path", "dokja_init_from_sha256"};
    const char *vals[4] = {t->data.manifest_sha256, t->from_model ? "from-model" : "random",
                           isa_name(isa_current()), t->init_sha};
    if (model_save_dir(t->m, t->run, tpath, keys, vals, t->from_model ? 4 : 3, err) != 0)
        return -1;
    char mpath[4400];
    mkpath(mpath, sizeof mpath, t->run, "model.safetensors");
    return t->led.on ? tl_final(&t->led, t->o.steps, mpath, model_layout(t->m), model_params(t->m), err) : 0;
}

static void close_trainer(trainer *t)
{
    for (size_t i = 0; t->val_loss && i < t->data.n_sources; i++) {
        free(t->val_loss[i].x);
        free(t->val_loss[i].y);
    }
    free(t->val_loss);
    free(t->train_loss.x);
    free(t->train_loss.y);
    train_step_free(&t->sc);
    sampler_free(&t->smp);
    model_free(t->m);
    pool_free(t->pl);
    dataset_close(&t->data);
    tl_close(&t->led);
    if (t->lock_fd >= 0)
        close(t->lock_fd); /* releases the lock */
}

/* Every phase runs on every rank, and every rank passes the same sync_rc points (a
 * collective): a failure on one rank stops all of them at the next one. */
/* The beacon in use: the one the ledger recorded (a resumed run), which a --beacon given
 * again must equal, else --beacon; then the seeds. */
static int settle_seeds(trainer *t, dk_err *err)
{
    const train_opts *o = &t->o;
    if (o->resume && tl_recorded_beacon(t->run, t->beacon, &t->beacon_len, err) != 0)
        return -1;
    if (t->beacon_len && o->beacon_len &&
        (t->beacon_len != o->beacon_len || memcmp(t->beacon, o->beacon, o->beacon_len) != 0))
        return dk_errf(err, "%s: its ledger records another beacon than --beacon", t->run);
    if (!t->beacon_len && o->beacon_len && !o->prepare) {
        memcpy(t->beacon, o->beacon, o->beacon_len);
        t->beacon_len = o->beacon_len;
    }
    tl_seeds(o, t->beacon, t->beacon_len, &t->init_seed, &t->data_seed);
    return 0;
}

/* The ledger's records up to the first step: genesis, beacon, init (a fresh run); or the
 * records kept up to the checkpoint resumed from, with what that point still lacks. */
static int start_ledger(trainer *t, dk_err *err)
{
    const param_layout *l = model_layout(t->m);
    const float *p = model_params(t->m);
    const char *src = t->from_model ? t->init_sha : NULL;
    int need_start = 1, has_beacon = 0, rc;
    char lp[4400];
    mkpath(lp, sizeof lp, t->run, LEDGER_FILE);
    if (!t->o.resume || (t->start == 0 && access(lp, F_OK) != 0)) /* killed before its genesis */
        rc = tl_begin(&t->led, t->run, &t->o, &t->cfg, &t->data, err);
    else
        rc = tl_resume(&t->led, t->run, t->start, t->o.quiet, &need_start, &has_beacon, err);
    if (rc != 0 || !t->led.on || t->o.prepare)
        return rc;
    if (t->start == 0) {
        if (t->beacon_len && !has_beacon)
            rc = tl_beacon(&t->led, t->beacon, t->beacon_len, err);
        if (rc == 0)
            rc = tl_init(&t->led, src, t->init_seed, t->data_seed, l, p, err);
    } else if (need_start) {
        char path[4400];
        ckpt_path(path, sizeof path, t->run, t->start);
        rc = tl_checkpoint(&t->led, t->start, path + strlen(t->run) + 1, l, p, t->resume_opt_sha, t->smp.next_seq,
                           t->smp.cursor, t->data.n_sources, err);
    }
    if (rc == 0 && t->steps_changed)
        rc = tl_steps_changed(&t->led, t->o.steps, err);
    return rc;
}

/* Every phase runs on every rank, and every rank passes the same sync_rc points (a
 * collective): a failure on one rank stops all of them at the next one. */
int train_run(train_opts *in_opts, dk_err *err)
{
    in_opts->ledger_head[0] = 0;
    trainer *t = calloc(1, sizeof *t);
    if (!t)
        return dk_errf(err, "out of memory");
    t->o = *in_opts;
    t->rank = dist_rank(), t->ranks = dist_size(), t->root = t->rank == 0;
    t->o.quiet |= !t->root; /* only rank 0 talks */
    t->from_model = t->o.init_from != NULL;
    t->lock_fd = -1;
    snprintf(t->run, sizeof t->run, "%s", t->o.out_dir);
    mkpath(t->run_json, sizeof t->run_json, t->run, "run.json");
    if (t->o.resume && t->o.micro_batch <= 0)
        t->o.micro_batch = recorded_micro_batch(t->run_json);
    int rc = settle_opts(&t->o, t->ranks, err); /* the same on every rank */
    if (rc != 0) {
        free(t);
        return rc;
    }
    rc = sync_rc(t, open_run(t, err), err);
    if (rc == 0)
        rc = settle_seeds(t, err);
    if (rc == 0)
        rc = build(t, err);
    rc = sync_rc(t, rc, err);
    /* the starting point: a checkpoint, a model, or (config, seed) */
    if (rc == 0 && t->o.resume)
        rc = resume(t, err);
    else if (rc == 0 && t->o.init_from)
        rc = init_from_model(t, err);
    else if (rc == 0)
        params_init(model_layout(t->m), model_params(t->m), t->init_seed);
    /* everything checked: only now does a new RUN come into being */
    if (rc == 0 && t->root && !t->o.resume && (rc = claim_run(t, err)) == 0 &&
        (ckpt_list(t->run, t->ck, 1) > 0 || access(t->run_json, F_OK) == 0))
        rc = dk_errf(err, "%s: already exists (use --resume to continue it)", t->run); /* lost a race */
    if (rc == 0 && t->root && (!t->o.resume || t->fresh_resume))
        rc = write_run_json(t, t->init_sha, err);
    if (rc == 0 && t->root)
        rc = start_ledger(t, err);
    rc = sync_rc(t, rc, err);
    if (rc == 0 && !t->o.prepare)
        rc = run_steps(t, err);
    if (rc == 0 && t->root && !t->o.prepare)
        rc = save_model(t, err);
    rc = sync_rc(t, rc, err);
    if (rc == 0 && t->led.on)
        tl_head(&t->led, in_opts->ledger_head);
    close_trainer(t);
    free(t);
    return rc;
}
