/* model_io.c: model directories (see model_io.h). */
#include "model/model_io.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "util/fs.h"
#include "util/hash.h"

#define MAX_SHARDS 4096

/* The weight files of DIR: model.safetensors, or the shards named by
 * model.safetensors.index.json (each once, in first-mention order). */
int model_weight_files(const char *dir, char ***files, size_t *n, dk_err *err)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    *files = NULL;
    *n = 0;
    if (access(path, F_OK) == 0) {
        *files = malloc(sizeof **files);
        if (!*files || !((*files)[0] = strdup(path)))
            return dk_errf(err, "out of memory");
        *n = 1;
        return 0;
    }
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    json_error_t je;
    dk_err oe;
    FILE *fi = fs_open_regular(path, &oe);
    json_t *idx = fi ? json_loadf(fi, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (fi)
        fclose(fi);
    if (!idx)
        return dk_errf(err, "%s: no model.safetensors and no readable index (%s)", dir, fi ? je.text : oe.msg);
    json_t *map = json_object_get(idx, "weight_map");
    int rc = 0;
    if (!json_is_object(map))
        rc = dk_errf(err, "%s: \"weight_map\" must be an object", path);
    const char *key;
    json_t *val;
    char **list = calloc(MAX_SHARDS, sizeof *list);
    if (rc == 0 && !list)
        rc = dk_errf(err, "out of memory");
    json_object_foreach(map, key, val) {
        if (rc != 0)
            break;
        const char *f = json_string_value(val);
        if (!f || strchr(f, '/') || strstr(f, ".."))
            rc = dk_errf(err, "%s: tensor \"%s\" maps to an invalid file name", path, key);
        int seen = 0;
        for (size_t i = 0; rc == 0 && i < *n && !seen; i++)
            seen = strcmp(strrchr(list[i], '/') + 1, f) == 0;
        if (rc == 0 && !seen) {
            if (*n == MAX_SHARDS)
                rc = dk_errf(err, "%s: more than %d shards", path, MAX_SHARDS);
            else if (asprintf(&list[*n], "%s/%s", dir, f) < 0)
                rc = dk_errf(err, "out of memory");
            else
                (*n)++;
        }
    }
    json_decref(idx);
    if (rc != 0) {
        for (size_t i = 0; list && i < *n; i++)
            free(list[i]);
        free(list);
        *n = 0;
        return -1;
    }
    *files = list;
    return 0;
}

/* Tensors some exporters add that carry no weights. */
static int ignorable(const char *name)
{
    return strstr(name, "rotary_emb.inv_freq") != NULL;
}

int model_load_weights(model *m, const char *dir, dk_err *err)
{
    char **files;
    size_t n_files;
    if (model_weight_files(dir, &files, &n_files, err) != 0)
        return -1;
    const param_layout *l = model_layout(m);
    uint8_t *found = calloc(l->n_info, 1);
    int rc = found ? 0 : dk_errf(err, "out of memory");
    float *params = model_params(m);
    for (size_t f = 0; rc == 0 && f < n_files; f++) {
        st_file *sf;
        if (st_open(&sf, files[f], err) != 0) {
            rc = -1;
            break;
        }
        for (size_t i = 0; rc == 0 && i < st_count(sf); i++) {
            const st_tensor *t = st_tensor_at(sf, i);
            const param_info *p = params_find(l, t->name);
            if (!p) {
                if (model_cfg(m)->tie_embeddings && strcmp(t->name, "lm_head.weight") == 0)
                    continue; /* tied: the head is the embedding */
                if (ignorable(t->name))
                    continue;
                rc = dk_errf(err, "%s: unexpected tensor \"%s\" for this config", files[f], t->name);
                break;
            }
            size_t idx = (size_t)(p - l->info);
            int ok = t->ndim == p->ndim && (uint64_t)t->shape[0] == (uint64_t)p->shape[0] &&
                     (p->ndim == 1 || (uint64_t)t->shape[1] == (uint64_t)p->shape[1]);
            if (!ok) {
                char want[64], got[64] = "";
                if (p->ndim == 2)
                    snprintf(want, sizeof want, "[%lld, %lld]", (long long)p->shape[0], (long long)p->shape[1]);
                else
                    snprintf(want, sizeof want, "[%lld]", (long long)p->shape[0]);
                size_t o = 0;
                for (int d = 0; d < t->ndim && o < sizeof got - 24; d++)
                    o += (size_t)snprintf(got + o, sizeof got - o, "%s%llu", d ? ", " : "[",
                                          (unsigned long long)t->shape[d]);
                snprintf(got + o, sizeof got - o, "]");
                rc = dk_errf(err, "%s: tensor \"%s\" has shape %s, config.json says %s", files[f],
                             t->name, t->ndim ? got : "[]", want);
                break;
            }
            if (found[idx]) {
                rc = dk_errf(err, "%s: tensor \"%s\" appears in two files", files[f], t->name);
                break;
            }
            found[idx] = 1;
            rc = st_read_f32(sf, t, params + p->offset, err);
            /* a NaN or infinity would only surface later as a nan score or loss */
            for (size_t k = 0; rc == 0 && k < p->numel; k++)
                if (!isfinite(params[p->offset + k]))
                    rc = dk_errf(err, "%s: tensor \"%s\" holds %s at element %zu", files[f], t->name,
                                 isnan(params[p->offset + k]) ? "NaN" : "an infinity", k);
        }
        st_close(sf);
    }
    for (size_t i = 0; rc == 0 && i < l->n_info; i++)
        if (!found[i])
            rc = dk_errf(err, "%s: missing tensor \"%s\"", dir, l->info[i].name);
    free(found);
    for (size_t f = 0; f < n_files; f++)
        free(files[f]);
    free(files);
    return rc;
}

/* Bytes the kernel says can be allocated without swapping (MemAvailable counts the page
 * cache that can be dropped; free pages alone would refuse models that fit); 0 if unknown. */
static double mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    double kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}

/* Before anything the size of the model is allocated: do the weight files hold about
 * what config.json describes, and does the machine have the memory? A 3 KB config
 * claiming billions of parameters beside a small file used to allocate them first (4 GB
 * and seconds for a claim of 535 M) and fail only then, or be killed for memory. */
static int weights_fit(const char *dir, const model_config *c, dk_err *err)
{
    param_layout l;
    if (params_layout(&l, c, err) != 0)
        return -1;
    uint64_t want = l.numel, have = 0;
    params_layout_free(&l);
    char **files;
    size_t n_files;
    if (model_weight_files(dir, &files, &n_files, err) != 0)
        return -1;
    int rc = 0;
    for (size_t f = 0; f < n_files && rc == 0; f++) {
        st_file *sf;
        if (st_open(&sf, files[f], err) != 0) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < st_count(sf); i++)
            have += st_tensor_at(sf, i)->numel;
        st_close(sf);
    }
    for (size_t f = 0; f < n_files; f++)
        free(files[f]);
    free(files);
    if (rc != 0)
        return -1;
    if (have < want)
        return dk_errf(err, "%s: config.json describes %llu parameters, the weight files hold %llu", dir,
                       (unsigned long long)want, (unsigned long long)have);
    /* float32 weights and a second copy (gradients, the engine's packed weights, or an
     * edit's output) */
    return model_memory_check(dir, want, 8, "the weights and their gradients or working copy", err);
}

int model_memory_check(const char *origin, uint64_t params, double bytes_per_param, const char *what, dk_err *err)
{
    double need = (double)params * bytes_per_param, avail = mem_available();
    if (avail > 0 && need > avail)
        return dk_errf(err, "%s: needs %.1f GiB (%llu parameters, %g bytes each: %s), %.1f GiB of memory is "
                       "available", origin, need / (1 << 30), (unsigned long long)params, bytes_per_param, what,
                       avail / (1 << 30));
    return 0;
}

int model_load_dir(model **out, const char *dir, pool *p, dk_err *err)
{
    return model_load_dir_ex(out, dir, p, 1, err);
}

int model_load_dir_ex(model **out, const char *dir, pool *p, int with_grads, dk_err *err)
{
    *out = NULL;
    char path[4400];
    snprintf(path, sizeof path, "%s/config.json", dir);
    model_config c;
    if (model_config_load(&c, path, err) != 0 || weights_fit(dir, &c, err) != 0)
        return -1;
    model *m;
    if (model_new_ex(&m, &c, p, with_grads, err) != 0)
        return -1;
    if (model_load_weights(m, dir, err) != 0) {
        model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

int model_save_dir(model *m, const char *dir, const char *tokenizer_path,
                   const char *const *meta_keys, const char *const *meta_vals, size_t n_meta,
                   dk_err *err)
{
    if (fs_mkdirs(dir, err) != 0)
        return -1;
    char path[4400];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (model_config_save(model_cfg(m), path, err) != 0)
        return -1;
    const param_layout *l = model_layout(m);
    st_entry *e = calloc(l->n_info, sizeof *e);
    uint64_t(*shapes)[2] = calloc(l->n_info, sizeof *shapes);
    size_t nk = n_meta + 2;
    const char **keys = calloc(nk, sizeof *keys), **vals = calloc(nk, sizeof *vals);
    char *cfg = model_config_to_json(model_cfg(m));
    int rc = 0;
    if (!e || !shapes || !keys || !vals || !cfg)
        rc = dk_errf(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < l->n_info; i++) {
        const param_info *p = &l->info[i];
        shapes[i][0] = (uint64_t)p->shape[0];
        shapes[i][1] = (uint64_t)p->shape[1];
        e[i].name = p->name;
        e[i].dtype = ST_F32;
        e[i].ndim = p->ndim;
        e[i].shape = shapes[i];
        e[i].data = model_params(m) + p->offset;
    }
    if (rc == 0) {
        keys[0] = "format"; /* Hugging Face loaders expect "pt" */
        vals[0] = "pt";
        keys[1] = "dokja_config";
        vals[1] = cfg;
        for (size_t i = 0; i < n_meta; i++) {
            keys[2 + i] = meta_keys[i];
            vals[2 + i] = meta_vals[i];
        }
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        rc = st_write(path, e, l->n_info, keys, vals, nk, err);
    }
    if (rc == 0 && tokenizer_path) {
        fs_map tm;
        snprintf(path, sizeof path, "%s/dokja_tokenizer.json", dir);
        if (fs_map_open(&tm, tokenizer_path, (size_t)1 << 30, err) != 0)
            rc = -1;
        else {
            rc = fs_write_file_atomic(path, tm.data, tm.size, err);
            fs_map_close(&tm);
        }
    }
    free(cfg);
    free(keys);
    free(vals);
    free(shapes);
    free(e);
    return rc;
}

void model_params_sha256(model *m, char hex[65])
{
    uint8_t d[32];
    sha256_buf(model_params(m), model_numel(m) * sizeof(float), d);
    sha256_hex(d, hex);
}
