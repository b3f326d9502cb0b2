/* checkpoint.c */
#include "train/checkpoint.h"

#include <dirent.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "util/hash.h"

#define KEY_COUNT 9

int ckpt_save(const char *path, model *m, const float *adam_m, const float *adam_v,
              const ckpt_state *s, dk_err *err)
{
    const param_layout *l = model_layout(m);
    size_t n = l->n_info + 2, numel = model_numel(m);
    st_entry *e = calloc(n, sizeof *e);
    uint64_t(*shapes)[2] = calloc(n, sizeof *shapes);
    char *cursors = malloc(s->n_sources * 21 + 1);
    char *cfg = model_config_to_json(model_cfg(m));
    if (!e || !shapes || !cursors || !cfg) {
        free(e);
        free(shapes);
        free(cursors);
        free(cfg);
        return dk_errf(err, "%s: out of memory", path);
    }
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    EVP_DigestInit_ex(h, EVP_sha256(), NULL);
    for (size_t i = 0; i < l->n_info; i++) {
        const param_info *p = &l->info[i];
        shapes[i][0] = (uint64_t)p->shape[0];
        shapes[i][1] = (uint64_t)p->shape[1];
        e[i] = (st_entry){.name = p->name, .dtype = ST_F32, .ndim = p->ndim, .shape = shapes[i],
                          .data = model_params(m) + p->offset};
        EVP_DigestUpdate(h, e[i].data, p->numel * sizeof(float));
    }
    const char *opt_names[2] = {"optimizer.exp_avg", "optimizer.exp_avg_sq"};
    const float *opt[2] = {adam_m, adam_v};
    for (int k = 0; k < 2; k++) {
        size_t i = l->n_info + (size_t)k;
        shapes[i][0] = numel;
        e[i] = (st_entry){.name = opt_names[k], .dtype = ST_F32, .ndim = 1, .shape = shapes[i],
                          .data = opt[k]};
        EVP_DigestUpdate(h, opt[k], numel * sizeof(float));
    }
    uint8_t digest[32];
    unsigned dl = 32;
    EVP_DigestFinal_ex(h, digest, &dl);
    EVP_MD_CTX_free(h);
    char sum[65], step[32], seed[32], next[32];
    sha256_hex(digest, sum);
    snprintf(step, sizeof step, "%ld", s->step);
    snprintf(seed, sizeof seed, "%" PRIu64, s->seed);
    snprintf(next, sizeof next, "%" PRIu64, s->next_seq);
    size_t o = 0;
    cursors[0] = 0;
    for (size_t i = 0; i < s->n_sources; i++)
        o += (size_t)sprintf(cursors + o, "%s%" PRIu64, i ? "," : "", s->cursors[i]);
    const char *keys[KEY_COUNT] = {"format", "dokja_checkpoint", "step", "seed", "sampler_next_seq",
                                   "sampler_cursors", "data_manifest_sha256", "dokja_config",
                                   "tensors_sha256"};
    const char *vals[KEY_COUNT] = {"pt", "1", step, seed, next, cursors, s->data_sha256, cfg, sum};
    int rc = st_write(path, e, n, keys, vals, KEY_COUNT, err);
    free(e);
    free(shapes);
    free(cursors);
    free(cfg);
    return rc;
}

static int meta_u64(st_file *f, const char *key, uint64_t *out, const char *path, dk_err *err)
{
    const char *v = st_meta(f, key);
    char *end;
    if (!v || !*v)
        return dk_errf(err, "%s: checkpoint metadata lacks \"%s\"", path, key);
    *out = strtoull(v, &end, 10);
    if (*end)
        return dk_errf(err, "%s: checkpoint metadata \"%s\" is not a number", path, key);
    return 0;
}

int ckpt_load(const char *path, model *m, float *adam_m, float *adam_v, ckpt_state *s,
              dk_err *err)
{
    st_file *f;
    if (st_open(&f, path, err) != 0)
        return -1;
    int rc = 0;
    const char *kind = st_meta(f, "dokja_checkpoint"), *cfg = st_meta(f, "dokja_config");
    const char *sum = st_meta(f, "tensors_sha256"), *data = st_meta(f, "data_manifest_sha256");
    const char *cur = st_meta(f, "sampler_cursors");
    model_config c;
    uint64_t step = 0, seed = 0, next = 0;
    if (!kind || strcmp(kind, "1") != 0 || !cfg || !sum || !data || !cur)
        rc = dk_errf(err, "%s: not a dokja checkpoint (metadata missing)", path);
    else if (model_config_from_json(&c, cfg, path, err) != 0)
        rc = -1;
    else if (memcmp(&c, model_cfg(m), sizeof c) != 0)
        rc = dk_errf(err, "%s: the checkpoint's config differs from this run's", path);
    else if (meta_u64(f, "step", &step, path, err) || meta_u64(f, "seed", &seed, path, err) ||
             meta_u64(f, "sampler_next_seq", &next, path, err))
        rc = -1;
    /* every tensor byte, in file order, must hash to the recorded sum */
    if (rc == 0) {
        EVP_MD_CTX *h = EVP_MD_CTX_new();
        EVP_DigestInit_ex(h, EVP_sha256(), NULL);
        for (size_t i = 0; i < st_count(f); i++) {
            const st_tensor *t = st_tensor_at(f, i);
            EVP_DigestUpdate(h, st_raw(f, t), t->end - t->begin);
        }
        uint8_t d[32];
        unsigned dl = 32;
        char hex[65];
        EVP_DigestFinal_ex(h, d, &dl);
        EVP_MD_CTX_free(h);
        sha256_hex(d, hex);
        if (strcmp(hex, sum) != 0)
            rc = dk_errf(err, "%s: tensor data does not match its SHA-256 (corrupted)", path);
    }
    const param_layout *l = model_layout(m);
    for (size_t i = 0; rc == 0 && i < l->n_info; i++) {
        const st_tensor *t = st_find(f, l->info[i].name);
        if (!t || t->numel != l->info[i].numel)
            rc = dk_errf(err, "%s: tensor \"%s\" missing or misshapen", path, l->info[i].name);
        else
            rc = st_read_f32(f, t, model_params(m) + l->info[i].offset, err);
    }
    const char *opt_names[2] = {"optimizer.exp_avg", "optimizer.exp_avg_sq"};
    float *opt[2] = {adam_m, adam_v};
    for (int k = 0; rc == 0 && k < 2; k++) {
        const st_tensor *t = st_find(f, opt_names[k]);
        if (!t || t->numel != model_numel(m))
            rc = dk_errf(err, "%s: tensor \"%s\" missing or misshapen", path, opt_names[k]);
        else
            rc = st_read_f32(f, t, opt[k], err);
    }
    if (rc == 0) {
        size_t k = 0;
        for (const char *p = cur; *p && rc == 0; k++) {
            char *end;
            if (k >= s->n_sources) {
                rc = dk_errf(err, "%s: sampler state has more sources than the dataset", path);
                break;
            }
            s->cursors[k] = strtoull(p, &end, 10);
            if (end == p || (*end && *end != ','))
                rc = dk_errf(err, "%s: malformed sampler cursors", path);
            p = *end ? end + 1 : end;
        }
        if (rc == 0 && k != s->n_sources)
            rc = dk_errf(err, "%s: sampler state is for %zu sources, the dataset has %zu", path, k,
                         s->n_sources);
    }
    if (rc == 0) {
        s->step = (long)step;
        s->seed = seed;
        s->next_seq = next;
        snprintf(s->data_sha256, sizeof s->data_sha256, "%s", data);
    }
    st_close(f);
    return rc;
}

/* ---- a run's checkpoints/ folder ------------------------------------------------------ */

/* checkpoints/step_NNNNNNNN.safetensors, newest first. */
int ckpt_list(const char *run, long *steps, int cap)
{
    char dir[4400];
    snprintf(dir, sizeof dir, "%s/checkpoints", run);
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

void ckpt_path(char *buf, size_t cap, const char *run, long step)
{
    snprintf(buf, cap, "%s/checkpoints/step_%08ld.safetensors", run, step);
}

/* Removes temporary files that a killed checkpoint write left in checkpoints/. */
void ckpt_remove_temps(const char *run)
{
    char dir[4400];
    snprintf(dir, sizeof dir, "%s/checkpoints", run);
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

void ckpt_rotate(const char *run, int keep)
{
    long steps[1024];
    int n = ckpt_list(run, steps, 1024);
    for (int i = keep; i < n; i++) {
        char path[4400];
        ckpt_path(path, sizeof path, run, steps[i]);
        unlink(path);
    }
}
