/* wsrc.c: see wsrc.h. */
#include "lineage/wsrc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_io.h"
#include "util/fs.h"

void wsrc_close(wsrc *w)
{
    for (size_t i = 0; i < w->n_files; i++) {
        if (w->files)
            st_close(w->files[i]);
        if (w->paths)
            free(w->paths[i]);
    }
    free(w->files);
    free(w->paths);
    memset(w, 0, sizeof *w);
}

int wsrc_open(wsrc *w, const char *dir, dk_err *err)
{
    memset(w, 0, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (model_config_load(&w->cfg, path, err) != 0)
        return -1;
    if (model_weight_files(dir, &w->paths, &w->n_files, err) != 0)
        return -1;
    w->files = calloc(w->n_files, sizeof *w->files);
    if (!w->files) {
        wsrc_close(w);
        return dk_errf(err, "out of memory");
    }
    for (size_t i = 0; i < w->n_files; i++) {
        if (st_open(&w->files[i], w->paths[i], err) != 0) {
            wsrc_close(w);
            return -1;
        }
        for (size_t t = 0; t < st_count(w->files[i]); t++) {
            const st_tensor *x = st_tensor_at(w->files[i], t);
            w->bytes += x->end - x->begin;
        }
    }
    return 0;
}

const st_tensor *wsrc_find(const wsrc *w, const char *name, const st_file **file, dk_err *err)
{
    for (size_t i = 0; i < w->n_files; i++) {
        const st_tensor *t = st_find(w->files[i], name);
        if (t) {
            *file = w->files[i];
            return t;
        }
    }
    dk_errf(err, "%s: missing tensor \"%s\"", w->dir, name);
    return NULL;
}

/* n elements of src (dtype d, little-endian, possibly misaligned) as float32. The BF16
 * case is the hot one (a 7B layer's MLP is 90 M elements): a shift, in a loop the
 * compiler vectorises. */
static void convert(const uint8_t *src, st_dtype d, size_t n, float *out)
{
    if (d == ST_F32) {
        memcpy(out, src, n * sizeof(float));
    } else if (d == ST_BF16) {
        for (size_t i = 0; i < n; i++) {
            uint32_t u = (uint32_t)(src[2 * i] | src[2 * i + 1] << 8) << 16;
            memcpy(out + i, &u, sizeof u);
        }
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = st_f16_to_f32((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
    }
}

static const st_tensor *matrix(const wsrc *w, const char *name, size_t want_cols,
                               const st_file **f, dk_err *err)
{
    const st_tensor *t = wsrc_find(w, name, f, err);
    if (!t)
        return NULL;
    if (t->ndim != 2 || (want_cols && t->shape[1] != want_cols)) {
        dk_errf(err, "%s: tensor \"%s\" is not a matrix of %zu columns", w->dir, name, want_cols);
        return NULL;
    }
    return t;
}

int wsrc_rows(const wsrc *w, const char *name, size_t r0, size_t n, size_t want_cols, float *out,
              dk_err *err)
{
    const st_file *f;
    const st_tensor *t = matrix(w, name, want_cols, &f, err);
    if (!t)
        return -1;
    if (r0 + n > t->shape[0])
        return dk_errf(err, "%s: tensor \"%s\" has %llu rows, asked for %zu..%zu", w->dir, name,
                       (unsigned long long)t->shape[0], r0, r0 + n);
    size_t cols = (size_t)t->shape[1], es = st_dtype_size(t->dtype);
    convert(st_raw(f, t) + r0 * cols * es, t->dtype, n * cols, out);
    return 0;
}

int wsrc_block(const wsrc *w, const char *name, const size_t *rows, size_t n, size_t c0, size_t nc,
               size_t want_cols, float *out, dk_err *err)
{
    const st_file *f;
    const st_tensor *t = matrix(w, name, want_cols, &f, err);
    if (!t)
        return -1;
    size_t cols = (size_t)t->shape[1], es = st_dtype_size(t->dtype);
    if (c0 > cols || nc > cols - c0)
        return dk_errf(err, "%s: tensor \"%s\" has %zu columns, asked for %zu..%zu", w->dir, name, cols,
                       c0, c0 + nc);
    const uint8_t *raw = st_raw(f, t);
    for (size_t i = 0; i < n; i++) {
        size_t r = rows ? rows[i] : i;
        if (r >= t->shape[0])
            return dk_errf(err, "%s: tensor \"%s\" has no row %zu", w->dir, name, r);
        convert(raw + (r * cols + c0) * es, t->dtype, nc, out + i * nc);
    }
    return 0;
}

int wsrc_rows_list(const wsrc *w, const char *name, const size_t *rows, size_t n,
                   size_t want_cols, float *out, dk_err *err)
{
    const st_file *f;
    const st_tensor *t = matrix(w, name, want_cols, &f, err);
    return t ? wsrc_block(w, name, rows, n, 0, (size_t)t->shape[1], want_cols, out, err) : -1;
}

int wsrc_vector(const wsrc *w, const char *name, size_t want_n, float *out, dk_err *err)
{
    const st_file *f;
    const st_tensor *t = wsrc_find(w, name, &f, err);
    if (!t)
        return -1;
    if (t->ndim != 1 || t->shape[0] != want_n)
        return dk_errf(err, "%s: tensor \"%s\" is not a vector of %zu", w->dir, name, want_n);
    convert(st_raw(f, t), t->dtype, want_n, out);
    return 0;
}

void wsrc_prefetch(const wsrc *w, const char *name)
{
    const st_file *f;
    dk_err err;
    const st_tensor *t = wsrc_find(w, name, &f, &err);
    if (t)
        fs_willneed(st_raw(f, t), (size_t)(t->end - t->begin));
}
