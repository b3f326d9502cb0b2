/* train.c: the training loop (see train.h). */
#include "train/train.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/dataset.h"
#include "kernels/isa.h"
#include "kernels/peak.h"
#include "model/model_io.h"
#include "mpi/mpi.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/grad.h"
#include "train/plot.h"
#include "train/sampler.h"
#include "train/schedule.h"
#include "util/hugemem.h"
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
    const train_opts *o;
    dataset data;
    model *m;
    pool *pl;
    float *adam_m, *adam_v; /* this rank's shard [shard_b, shard_e) of the moments */
    size_t shard_b, shard_e;
    int rank, ranks;
    sampler smp;
    dk_token *in, *tg;
    series train_loss, *val_loss; /* val per source */
    char run[4096];
    double peak;
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
        fprintf(stderr, "dokja: warning: %s\n", err.msg);
    free(s);
    free(names);
}

/* Mean loss over the first eval_batches x micro_batch windows of each source's
 * validation split, in order: the same windows at every evaluation. */
static void evaluate(trainer *t, double *out)
{
    int S = t->o->seq_len, mb = t->o->micro_batch;
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
        for (int b = 0; b < t->o->eval_batches && w < nw; b++) {
            int k = 0;
            for (; k < mb && w < nw; k++, w++)
                sampler_window(&vs, (int)i, w, t->in + (size_t)k * S, t->tg + (size_t)k * S);
            sum += model_forward_loss(t->m, t->in, t->tg, k, S, NULL);
            batches++;
        }
        out[i] = batches ? sum / batches : NAN;
    }
    sampler_free(&vs);
}

/* Removes temporary files that a killed checkpoint write left in checkpoints/. */
static void remove_stale_temps(const char *run)
{
    char dir[4400];
    mkpath(dir, sizeof dir, run, "checkpoints");
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp.")) {
            char p[4700];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    closedir(d);
}

/* The init source recorded by the run being resumed (run.json), so the final model's
 * metadata says where it came from even when --init-from is not repeated. */
static void read_init_source(const char *run, char *sha, size_t cap, int *from_model,
                             uint64_t *data_seed, char *arith, size_t arith_cap)
{
    char path[4400];
    mkpath(path, sizeof path, run, "run.json");
    json_t *j = json_load_file(path, 0, NULL);
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

/* checkpoints/step_NNNNNNNN.safetensors, newest first. */
static int list_checkpoints(const char *run, long *steps, int cap)
{
    char dir[4400];
    mkpath(dir, sizeof dir, run, "checkpoints");
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < cap) {
        long s;
        char tail[32];
        if (sscanf(e->d_name, "step_%ld.%31s", &s, tail) == 2 && strcmp(tail, "safetensors") == 0)
            steps[n++] = s;
    }
    closedir(d);
    for (int i = 0; i < n; i++) /* sort descending */
        for (int j = i + 1; j < n; j++)
            if (steps[j] > steps[i]) {
                long x = steps[i];
                steps[i] = steps[j];
                steps[j] = x;
            }
    return n;
}

static void ckpt_path(char *buf, size_t cap, const char *run, long step)
{
    snprintf(buf, cap, "%s/checkpoints/step_%08ld.safetensors", run, step);
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
    dist_gather_shards(t->adam_m, fm, n);
    dist_gather_shards(t->adam_v, fv, n);
    if (t->rank == 0) {
        char path[4400];
        ckpt_path(path, sizeof path, t->run, step);
        ckpt_state s = {step, t->o->seed, t->smp.next_seq, t->smp.cursor, t->data.n_sources, ""};
        snprintf(s.data_sha256, sizeof s.data_sha256, "%s", t->data.manifest_sha256);
        rc = ckpt_save(path, t->m, fm, fv, &s, err);
        long steps[1024];
        int nck = rc == 0 ? list_checkpoints(t->run, steps, 1024) : 0;
        for (int i = t->o->keep_checkpoints; i < nck; i++) {
            ckpt_path(path, sizeof path, t->run, steps[i]);
            unlink(path);
        }
    }
    free(fm);
    free(fv);
    return rc;
}

/* Gradient hook for the last micro-batch of a step: start the all-reduce of each
 * finished range while the backward pass goes on. */
static void reduce_ready(void *ctx, size_t offset, size_t numel)
{
    model *m = ctx;
    dist_progress();
    dist_iallreduce_sum_f32(model_grads(m) + offset, numel);
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
    const train_opts *o = t->o;
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

int train_run(const train_opts *in_opts, dk_err *err)
{
    train_opts o = *in_opts;
    int rank = dist_rank(), ranks = dist_size(), root = rank == 0;
    if (o.micro_batch <= 0)
        o.micro_batch = o.batch_size / ranks > 0 ? o.batch_size / ranks : 1;
    if (o.warmup < 0)
        o.warmup = o.steps / 10 < 100 ? o.steps / 10 : 100;
    if (o.min_lr < 0)
        o.min_lr = o.lr / 10;
    if (o.steps <= 0 || o.batch_size <= 0 || o.seq_len <= 0 || o.batch_size % ranks != 0 ||
        (o.batch_size / ranks) % o.micro_batch != 0)
        return dk_errf(err, "--batch-size %d must split evenly over %d rank(s) into micro-batches of %d",
                       o.batch_size, ranks, o.micro_batch);
    trainer t;
    memset(&t, 0, sizeof t);
    t.o = &o;
    t.rank = rank;
    t.ranks = ranks;
    o.quiet |= !root; /* only rank 0 talks */
    snprintf(t.run, sizeof t.run, "%s", o.out_dir);
    model_config cfg;
    if (model_config_load(&cfg, o.config_path, err) != 0)
        return -1;
    if (cfg.max_seq < o.seq_len)
        return dk_errf(err, "%s: max_position_embeddings %d is shorter than --seq-len %d",
                       o.config_path, cfg.max_seq, o.seq_len);
    if (dataset_open(&t.data, o.data_dir, err) != 0)
        return -1;
    int rc = 0;
    if ((uint32_t)cfg.vocab_size < t.data.vocab_size)
        rc = dk_errf(err, "%s: vocab_size %d does not cover the tokenizer's %u ids", o.config_path,
                     cfg.vocab_size, t.data.vocab_size);
    long ck[1024];
    int n_ck = rc == 0 ? list_checkpoints(t.run, ck, 1024) : 0;
    if (rc == 0 && root && !o.resume && (n_ck > 0 || access(t.run, F_OK) == 0))
        rc = dk_errf(err, "%s: already exists (use --resume to continue it)", t.run);
    if (rc == 0 && o.resume && n_ck == 0)
        rc = dk_errf(err, "%s: nothing to resume (no checkpoints)", t.run);
    char ckdir[4400];
    mkpath(ckdir, sizeof ckdir, t.run, "checkpoints");
    if (rc == 0 && root)
        rc = fs_mkdirs(ckdir, err);
    rc = sync_rc(&t, rc, err);
    t.pl = pool_new(o.threads);
    if (rc == 0 && !t.pl)
        rc = dk_errf(err, "cannot start threads");
    else if (rc == 0 && model_new(&t.m, &cfg, t.pl, err) != 0)
        rc = -1;
    if (rc == 0 && o.bf16 && model_set_bf16(t.m, 1) != 0)
        rc = dk_errf(err, "--bf16: out of memory for the bf16 operand buffers");
    size_t numel = rc == 0 ? model_numel(t.m) : 0;
    dist_shard(numel, rank, ranks, &t.shard_b, &t.shard_e);
    size_t shard_len = t.shard_e - t.shard_b;
    int bl = o.batch_size / ranks; /* sequences per step on this rank */
    if (rc == 0) {
        /* ZeRO-1: each rank keeps AdamW moments for its shard only */
        /* written every step: pages that hold zeros (moments of unused embedding rows)
         * were being handed back and re-faulted by this machine's memory manager, 7 % of
         * a step in `perf`; a touched huge-page buffer keeps them */
        t.adam_m = hugemem_alloc((shard_len ? shard_len : 1) * sizeof *t.adam_m);
        t.adam_v = hugemem_alloc((shard_len ? shard_len : 1) * sizeof *t.adam_v);
        t.in = malloc((size_t)(o.micro_batch + 1) * o.seq_len * sizeof *t.in);
        t.tg = malloc((size_t)(o.micro_batch + 1) * o.seq_len * sizeof *t.tg);
        t.val_loss = calloc(t.data.n_sources, sizeof *t.val_loss);
        if (!t.adam_m || !t.adam_v || !t.in || !t.tg || !t.val_loss)
            rc = dk_errf(err, "out of memory for optimizer state of %zu parameters", numel);
    }
    if (rc == 0)
        rc = model_reserve(t.m, o.micro_batch, o.seq_len, err);
    if (rc == 0)
        rc = sampler_init(&t.smp, &t.data, 0, o.seq_len, o.data_seed ? o.data_seed : o.seed, err);
    rc = sync_rc(&t, rc, err);
    /* the starting point: a checkpoint, a model, or (config, seed) */
    long start = 0;
    char init_sha[65] = "";
    int from_model = o.init_from != NULL;
    if (rc == 0 && o.resume) {
        if (root)
            remove_stale_temps(t.run);
        uint64_t run_data_seed, want = o.data_seed ? o.data_seed : o.seed;
        char arith[16];
        read_init_source(t.run, init_sha, sizeof init_sha, &from_model, &run_data_seed, arith, sizeof arith);
        if (run_data_seed && run_data_seed != want)
            rc = dk_errf(err, "%s: trained with data seed %llu, not %llu (give the same --data-seed)", t.run,
                         (unsigned long long)run_data_seed, (unsigned long long)want);
        else if (arith[0] && strcmp(arith, isa_arith(isa_current())) != 0)
            rc = dk_errf(err, "%s: trained with %s kernels, this path (%s) computes %s: resume on an "
                         "avx512 or avx2 path (DOKJA_ISA)", t.run, arith, isa_name(isa_current()),
                         isa_arith(isa_current()));
        float *fm = rc == 0 ? malloc(numel * sizeof *fm) : NULL, *fv = rc == 0 ? malloc(numel * sizeof *fv) : NULL;
        if (rc == 0)
            rc = fm && fv ? -1 : dk_errf(err, "out of memory loading a checkpoint");
        for (int i = 0; fm && fv && i < n_ck && rc != 0; i++) {
            char path[4400];
            ckpt_path(path, sizeof path, t.run, ck[i]);
            ckpt_state s = {.cursors = t.smp.cursor, .n_sources = t.data.n_sources};
            rc = ckpt_load(path, t.m, fm, fv, &s, err);
            if (rc == 0 && strcmp(s.data_sha256, t.data.manifest_sha256) != 0)
                rc = dk_errf(err, "%s: trained on other data (manifest %s)", path, s.data_sha256);
            if (rc == 0 && s.seed != o.seed)
                rc = dk_errf(err, "%s: trained with seed %llu, not %llu", path,
                             (unsigned long long)s.seed, (unsigned long long)o.seed);
            if (rc == 0) {
                start = s.step;
                t.smp.next_seq = s.next_seq;
                memcpy(t.adam_m, fm + t.shard_b, shard_len * sizeof *fm);
                memcpy(t.adam_v, fv + t.shard_b, shard_len * sizeof *fv);
            } else if (!o.quiet) {
                fprintf(stderr, "dokja: skipping checkpoint: %s\n", err->msg);
            }
        }
        free(fm);
        free(fv);
        if (rc == 0 && root)
            rc = trim_metrics(&t, start, err);
    } else if (rc == 0 && o.init_from) {
        char wpath[4400];
        uint8_t d[32];
        mkpath(wpath, sizeof wpath, o.init_from, "model.safetensors");
        rc = model_load_weights(t.m, o.init_from, err);
        if (rc == 0 && access(wpath, F_OK) == 0 && sha256_file(wpath, d, err) == 0)
            sha256_hex(d, init_sha);
        else if (rc == 0) {
            mkpath(wpath, sizeof wpath, o.init_from, "model.safetensors.index.json");
            if ((rc = sha256_file(wpath, d, err)) == 0)
                sha256_hex(d, init_sha);
        }
    } else if (rc == 0) {
        params_init(model_layout(t.m), model_params(t.m), o.seed);
    }
    if (rc == 0 && root && !o.resume)
        rc = write_run_json(&t, init_sha, err);
    rc = sync_rc(&t, rc, err);
    if (rc == 0 && !o.quiet) {
        t.peak = peak_fma_gflops(t.pl, 0.3, NULL) * ranks; /* ranks of the same machine kind */
        fprintf(stderr, "dokja train: %zu parameters, %d x %d tokens per step, %d rank(s) x %d "
                        "threads, peak %.0f GFLOP/s, from step %ld\n",
                numel, o.batch_size, o.seq_len, ranks, pool_threads(t.pl), t.peak, start);
    }
    adamw_cfg opt = adamw_defaults((float)o.lr);
    opt.weight_decay = (float)o.weight_decay;
    int micro_total = o.batch_size / o.micro_batch; /* micro-batches per step, all ranks */
    double flops = model_train_flops(&cfg, o.batch_size, o.seq_len);
    double t0 = now_seconds();
    double *val = calloc(t.data.n_sources, sizeof *val);
    if (rc == 0 && !val)
        rc = dk_errf(err, "out of memory");
    dk_token *skip_in = t.in + (size_t)o.micro_batch * o.seq_len, *skip_tg = t.tg + (size_t)o.micro_batch * o.seq_len;
    for (long step = start; rc == 0 && step < o.steps; step++) {
        double ts = now_seconds();
        model_zero_grads(t.m);
        double loss = 0;
        /* Every rank draws the whole global batch, so the sampler state stays the same
         * everywhere, and keeps sequences [rank * bl, (rank + 1) * bl). */
        int k = 0, left = bl / o.micro_batch; /* micro-batches left on this rank */
        for (int q = 0; q < o.batch_size; q++) {
            int mine = q / bl == rank;
            sampler_next(&t.smp, mine ? t.in + (size_t)k * o.seq_len : skip_in,
                         mine ? t.tg + (size_t)k * o.seq_len : skip_tg);
            if (mine && ++k == o.micro_batch) {
                /* the last micro-batch's backward pass overlaps the gradient all-reduce */
                if (--left == 0 && ranks > 1)
                    model_set_grad_hook(t.m, reduce_ready, t.m);
                loss += model_forward_backward(t.m, t.in, t.tg, o.micro_batch, o.seq_len,
                                               1.0f / (float)micro_total) / micro_total;
                model_set_grad_hook(t.m, NULL, NULL);
                k = 0;
            }
        }
        double tc = now_seconds();
        dist_wait_all(); /* what the backward pass did not hide */
        dist_allreduce_sum_f64(&loss, 1);
        double comm = now_seconds() - tc;
        double norm = grad_clip(t.pl, model_grads(t.m), numel, o.grad_clip);
        double lr = lr_at(step, o.steps, o.warmup, o.lr, o.min_lr);
        opt.lr = (float)lr;
        adamw_step(t.pl, model_layout(t.m), model_params(t.m), model_grads(t.m), t.adam_m,
                   t.adam_v, t.shard_b, t.shard_e, &opt, step + 1);
        tc = now_seconds();
        dist_allgather_shards(model_params(t.m), numel);
        comm += now_seconds() - tc;
        double dt = now_seconds() - ts;
        long done = step + 1;
        int eval = (o.eval_every > 0 && done % o.eval_every == 0) || done == o.steps;
        if (root) {
            json_t *j = json_object();
            json_object_set_new(j, "step", json_integer(done));
            json_object_set_new(j, "loss", json_real(loss));
            json_object_set_new(j, "lr", json_real(lr));
            json_object_set_new(j, "grad_norm", json_real(norm));
            json_object_set_new(j, "tokens_per_s", json_real((double)o.batch_size * o.seq_len / dt));
            if (ranks > 1) /* seconds waiting for the all-reduce after backward, and in the gather */
                json_object_set_new(j, "comm_s", json_real(comm));
            series_add(&t.train_loss, (double)done, loss);
            if (eval) {
                evaluate(&t, val);
                json_t *v = json_object();
                for (size_t i = 0; i < t.data.n_sources; i++) {
                    json_object_set_new(v, t.data.sources[i].name,
                                        isfinite(val[i]) ? json_real(val[i]) : json_null());
                    if (isfinite(val[i]))
                        series_add(&t.val_loss[i], (double)done, val[i]);
                }
                json_object_set_new(j, "val_loss", v);
            }
            rc = append_metrics(&t, j, err);
            json_decref(j);
            if (rc == 0 && (eval || done % 50 == 0 || done == o.steps))
                write_plot(&t);
        }
        rc = sync_rc(&t, rc, err);
        if (rc == 0 && ((o.checkpoint_every > 0 && done % o.checkpoint_every == 0) || done == o.steps))
            rc = sync_rc(&t, save_checkpoint(&t, done, err), err);
        if (!o.quiet) {
            double el = now_seconds() - t0, eta = el / (double)(done - start) * (double)(o.steps - done);
            fprintf(stderr, "step %ld/%ld  loss %.4f  lr %.2e  %.0f tok/s  MFU %.1f%%  ETA %.0fs%s\n",
                    done, o.steps, loss, lr, (double)o.batch_size * o.seq_len / dt,
                    t.peak > 0 ? 100.0 * flops / dt / 1e9 / t.peak : 0.0, eta,
                    eval ? "  (evaluated)" : "");
        }
    }
    if (rc == 0 && root) {
        char tpath[4400];
        mkpath(tpath, sizeof tpath, o.data_dir, "dokja_tokenizer.json");
        const char *keys[4] = {"dokja_data_manifest_sha256", "dokja_init", "dokja_kernel_path", "dokja_init_from_sha256"};
        const char *vals[4] = {t.data.manifest_sha256, from_model ? "from-model" : "random",
                               isa_name(isa_current()), init_sha};
        rc = model_save_dir(t.m, t.run, tpath, keys, vals, from_model ? 4 : 3, err);
    }
    rc = sync_rc(&t, rc, err);
    free(val);
    for (size_t i = 0; t.val_loss && i < t.data.n_sources; i++) {
        free(t.val_loss[i].x);
        free(t.val_loss[i].y);
    }
    free(t.val_loss);
    free(t.train_loss.x);
    free(t.train_loss.y);
    free(t.in);
    free(t.tg);
    free(t.adam_m);
    free(t.adam_v);
    sampler_free(&t.smp);
    model_free(t.m);
    pool_free(t.pl);
    dataset_close(&t.data);
    return rc;
}
