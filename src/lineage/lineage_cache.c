/* lineage_cache.c: see lineage.h (the contract) and lineage_cache_internal.h (what
 * lineage_run's files use).
 *
 * Entries are few (the models of one selection round) and lookups are a handful per
 * pair, so lists and linear search. The budget counts the result blobs only: the opened
 * weights are memory mappings (the page cache, not the heap) plus parsed headers. A blob
 * that does not fit is not kept (no eviction): dokja select visits the models in cycles,
 * where keeping the first ones beats evicting the oldest. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lineage/lineage_cache_internal.h"
#include "util/grow.h"

typedef struct lc_blob {
    int kind;
    void *key;
    size_t key_n;
    void *data;
    size_t bytes;
    struct lc_blob *next;
} lc_blob;

struct lc_model {
    char *path;
    unsigned char *ident; /* the identity record (below) */
    size_t ident_n;
    wsrc w;
    lc_blob *blobs;
    struct lc_model *next;
};

struct lineage_cache {
    size_t max_bytes, bytes, hits, misses;
    lc_model *models;
};

/* ---- identity: every regular file of the directory (or the file), by name ---- */

typedef struct {
    int64_t dev, ino, size, mtime_s, mtime_ns, ctime_s, ctime_ns;
} file_id;

static void id_of(const struct stat *st, file_id *f)
{
    memset(f, 0, sizeof *f);
    f->dev = (int64_t)st->st_dev, f->ino = (int64_t)st->st_ino, f->size = (int64_t)st->st_size;
    f->mtime_s = (int64_t)st->st_mtim.tv_sec, f->mtime_ns = (int64_t)st->st_mtim.tv_nsec;
    f->ctime_s = (int64_t)st->st_ctim.tv_sec, f->ctime_ns = (int64_t)st->st_ctim.tv_nsec;
}

typedef struct {
    unsigned char *p;
    size_t n, cap;
    int oom;
} buf;

static void put(buf *b, const void *x, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        unsigned char *p = dk_grow(b->p, &b->cap, b->n + n, 1, 1024);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
    }
    memcpy(b->p + b->n, x, n);
    b->n += n;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The identity record of PATH into *out (malloc'd); -1 if PATH cannot be read. */
static int identity(const char *path, unsigned char **out, size_t *out_n)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    buf b = {0};
    file_id f;
    if (!S_ISDIR(st.st_mode)) {
        id_of(&st, &f);
        put(&b, &f, sizeof f);
    } else {
        DIR *d = opendir(path);
        if (!d)
            return -1;
        char **names = NULL;
        size_t n = 0, cap = 0;
        int oom = 0;
        for (struct dirent *e; (e = readdir(d)) != NULL && !oom;) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char **p = dk_grow(names, &cap, n + 1, sizeof *p, 16);
            if (!p) {
                oom = 1;
                break;
            }
            names = p;
            if (!(names[n] = strdup(e->d_name)))
                oom = 1;
            else
                n++;
        }
        closedir(d);
        if (!oom)
            qsort(names, n, sizeof *names, by_name);
        for (size_t i = 0; i < n && !oom; i++) {
            size_t pl = strlen(path) + strlen(names[i]) + 2;
            char *full = malloc(pl);
            if (!full) {
                oom = 1;
                break;
            }
            snprintf(full, pl, "%s/%s", path, names[i]);
            if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
                id_of(&st, &f);
                put(&b, names[i], strlen(names[i]) + 1);
                put(&b, &f, sizeof f);
            }
            free(full);
        }
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        b.oom |= oom;
    }
    if (b.oom) {
        free(b.p);
        return -1;
    }
    *out = b.p;
    *out_n = b.n;
    return 0;
}

/* ---- entries ---- */

static void blobs_free(lineage_cache *c, lc_model *m)
{
    for (lc_blob *b = m->blobs, *nx; b; b = nx) {
        nx = b->next;
        c->bytes -= b->bytes;
        free(b->key);
        free(b->data);
        free(b);
    }
    m->blobs = NULL;
}

static void model_free(lineage_cache *c, lc_model *m)
{
    blobs_free(c, m);
    wsrc_close(&m->w);
    free(m->path);
    free(m->ident);
    free(m);
}

lineage_cache *lineage_cache_new(size_t max_bytes)
{
    lineage_cache *c = calloc(1, sizeof *c);
    if (c)
        c->max_bytes = max_bytes;
    return c;
}

void lineage_cache_free(lineage_cache *c)
{
    if (!c)
        return;
    for (lc_model *m = c->models, *nx; m; m = nx) {
        nx = m->next;
        model_free(c, m);
    }
    free(c);
}

void lineage_cache_stats(const lineage_cache *c, size_t *hits, size_t *misses, size_t *bytes)
{
    if (hits)
        *hits = c ? c->hits : 0;
    if (misses)
        *misses = c ? c->misses : 0;
    if (bytes)
        *bytes = c ? c->bytes : 0;
}

lc_model *lineage_cache_model(lineage_cache *c, const char *path, dk_err *err)
{
    unsigned char *id = NULL;
    size_t id_n = 0;
    int have_id = identity(path, &id, &id_n) == 0;
    lc_model **pp = &c->models;
    while (*pp && strcmp((*pp)->path, path) != 0)
        pp = &(*pp)->next;
    if (*pp) {
        lc_model *m = *pp;
        if (have_id && m->ident_n == id_n && memcmp(m->ident, id, id_n) == 0) {
            free(id);
            return m;
        }
        *pp = m->next; /* changed (or unreadable now): drop it and everything kept for it */
        model_free(c, m);
    }
    lc_model *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        free(id);
        dk_errf(err, "out of memory");
        return NULL;
    }
    if (wsrc_open(&m->w, path, err) != 0) {
        free(m->path);
        free(m);
        free(id);
        return NULL;
    }
    if (!have_id) { /* opened, yet not identified: a race with a writer; do not guess */
        model_free(c, m);
        dk_errf(err, "%s: cannot read the files' identity for the lineage cache", path);
        return NULL;
    }
    m->ident = id;
    m->ident_n = id_n;
    m->next = c->models;
    c->models = m;
    return m;
}

const wsrc *lineage_cache_wsrc(const lc_model *m) { return &m->w; }

const void *lineage_cache_get(lineage_cache *c, lc_model *m, int kind, const void *key, size_t key_n,
                              size_t *bytes)
{
    if (!c || !m)
        return NULL;
    for (const lc_blob *b = m->blobs; b; b = b->next)
        if (b->kind == kind && b->key_n == key_n && memcmp(b->key, key, key_n) == 0) {
            c->hits++;
            if (bytes)
                *bytes = b->bytes;
            return b->data;
        }
    c->misses++;
    return NULL;
}

int lineage_cache_put(lineage_cache *c, lc_model *m, int kind, const void *key, size_t key_n, void *data,
                      size_t bytes)
{
    if (!c || !m || bytes > c->max_bytes || c->bytes > c->max_bytes - bytes)
        return 0;
    lc_blob *b = calloc(1, sizeof *b);
    void *k = malloc(key_n ? key_n : 1);
    if (!b || !k) {
        free(b);
        free(k);
        return 0;
    }
    memcpy(k, key, key_n);
    *b = (lc_blob){kind, k, key_n, data, bytes, m->blobs};
    m->blobs = b;
    c->bytes += bytes;
    return 1;
}
