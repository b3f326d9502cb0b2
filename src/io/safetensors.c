/* safetensors.c: validated safetensors reading and atomic writing. */
#include "io/safetensors.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"
#include "util/hash.h"
#include "util/utf8.h"

struct st_file {
    fs_map map;           /* when opened from a path */
    const uint8_t *data;  /* the data section */
    uint64_t data_len;
    st_tensor *t;         /* sorted by begin */
    size_t n;
    char **meta_keys, **meta_vals;
    size_t n_meta;
    char *names;          /* all names, NUL-separated */
    size_t *index;        /* open addressing over names -> position in t, SIZE_MAX empty */
    size_t index_mask;
};

static const struct {
    const char *name;
    st_dtype dtype;
    unsigned size;
} DTYPES[] = {{"F32", ST_F32, 4}, {"BF16", ST_BF16, 2}, {"F16", ST_F16, 2}};

static unsigned dtype_size(st_dtype d) { return d == ST_F32 ? 4 : 2; }

void st_close(st_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_vals[i]);
    }
    free(f->meta_keys);
    free(f->meta_vals);
    free(f->t);
    free(f->names);
    free(f->index);
    fs_map_close(&f->map);
    free(f);
}

static int cmp_begin(const void *a, const void *b)
{
    const st_tensor *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int parse_tensor(const char *name, const char *key, json_t *v, st_tensor *t, dk_err *err)
{
    if (!json_is_object(v))
        return dk_errf(err, "%s: tensor \"%s\" is not an object", name, key);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) if (strcmp(k, "dtype") && strcmp(k, "shape") && strcmp(k, "data_offsets"))
        return dk_errf(err, "%s: tensor \"%s\" has unknown field \"%s\"", name, key, k);
    json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"),
           *off = json_object_get(v, "data_offsets");
    if (!json_is_string(dt))
        return dk_errf(err, "%s: tensor \"%s\": missing or malformed dtype", name, key);
    int found = 0;
    for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0]; i++)
        if (strcmp(json_string_value(dt), DTYPES[i].name) == 0) {
            t->dtype = DTYPES[i].dtype;
            found = 1;
        }
    if (!found)
        return dk_errf(err, "%s: tensor \"%s\": unsupported dtype \"%s\" (F32, BF16, F16 load)",
                       name, key, json_string_value(dt));
    if (!json_is_array(sh) || json_array_size(sh) > ST_MAX_DIMS)
        return dk_errf(err, "%s: tensor \"%s\": missing or malformed shape", name, key);
    t->ndim = (int)json_array_size(sh);
    uint64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        json_t *e = json_array_get(sh, (size_t)d);
        if (!json_is_integer(e) || json_integer_value(e) < 0)
            return dk_errf(err, "%s: tensor \"%s\": shape entries must be non-negative integers",
                           name, key);
        t->shape[d] = (uint64_t)json_integer_value(e);
        if (__builtin_mul_overflow(numel, t->shape[d], &numel))
            return dk_errf(err, "%s: tensor \"%s\": shape product overflows", name, key);
    }
    uint64_t bytes;
    if (__builtin_mul_overflow(numel, (uint64_t)dtype_size(t->dtype), &bytes))
        return dk_errf(err, "%s: tensor \"%s\": size in bytes overflows", name, key);
    t->numel = numel;
    json_t *b = json_array_get(off, 0), *e = json_array_get(off, 1);
    if (!json_is_array(off) || json_array_size(off) != 2 || !json_is_integer(b) ||
        !json_is_integer(e) || json_integer_value(b) < 0 || json_integer_value(e) < 0)
        return dk_errf(err, "%s: tensor \"%s\": missing or malformed data_offsets", name, key);
    t->begin = (uint64_t)json_integer_value(b);
    t->end = (uint64_t)json_integer_value(e);
    if (t->end < t->begin)
        return dk_errf(err, "%s: tensor \"%s\": data_offsets end %llu < begin %llu", name, key,
                       (unsigned long long)t->end, (unsigned long long)t->begin);
    if (t->end - t->begin != bytes)
        return dk_errf(err, "%s: tensor \"%s\": %llu bytes of data for a shape needing %llu", name,
                       key, (unsigned long long)(t->end - t->begin), (unsigned long long)bytes);
    return 0;
}

static int parse(st_file *f, const uint8_t *buf, size_t n, const char *name, dk_err *err)
{
    if (n < 8)
        return dk_errf(err, "%s: %zu bytes is too short for a safetensors file", name, n);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | buf[i];
    if (hl > ST_MAX_HEADER)
        return dk_errf(err, "%s: header length %llu exceeds the limit of %u bytes", name,
                       (unsigned long long)hl, ST_MAX_HEADER);
    if (hl > n - 8)
        return dk_errf(err, "%s: header length %llu runs past the end of the file (%zu bytes)",
                       name, (unsigned long long)hl, n);
    const uint8_t *h = buf + 8;
    if (utf8_validate(h, (size_t)hl) != hl)
        return dk_errf(err, "%s: header is not valid UTF-8", name);
    json_error_t je;
    json_t *root = json_loadb((const char *)h, (size_t)hl, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return dk_errf(err, "%s: header is not valid JSON (%s)", name, je.text);
    int rc = 0;
    if (!json_is_object(root)) {
        json_decref(root);
        return dk_errf(err, "%s: header is not a JSON object", name);
    }
    f->data = buf + 8 + hl;
    f->data_len = n - 8 - hl;
    size_t nt = json_object_size(root);
    json_t *meta = json_object_get(root, "__metadata__");
    if (meta)
        nt--;
    if (nt > ST_MAX_TENSORS) {
        json_decref(root);
        return dk_errf(err, "%s: %zu tensors exceed the limit of %u", name, nt, ST_MAX_TENSORS);
    }
    if (meta) {
        if (!json_is_object(meta))
            rc = dk_errf(err, "%s: __metadata__ is not an object", name);
        size_t nm = json_object_size(meta);
        f->meta_keys = calloc(nm ? nm : 1, sizeof *f->meta_keys);
        f->meta_vals = calloc(nm ? nm : 1, sizeof *f->meta_vals);
        if (rc == 0 && (!f->meta_keys || !f->meta_vals))
            rc = dk_errf(err, "%s: out of memory", name);
        const char *k;
        json_t *v;
        json_object_foreach(meta, k, v) {
            if (rc != 0)
                break;
            if (!json_is_string(v)) {
                rc = dk_errf(err, "%s: __metadata__ value of \"%s\" is not a string", name, k);
                break;
            }
            f->meta_keys[f->n_meta] = strdup(k);
            f->meta_vals[f->n_meta] = strdup(json_string_value(v));
            if (!f->meta_keys[f->n_meta++] || !f->meta_vals[f->n_meta - 1])
                rc = dk_errf(err, "%s: out of memory", name);
        }
    }
    size_t names_len = 0;
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) names_len += strlen(k) + 1;
    f->t = calloc(nt ? nt : 1, sizeof *f->t);
    f->names = malloc(names_len ? names_len : 1);
    if (rc == 0 && (!f->t || !f->names))
        rc = dk_errf(err, "%s: out of memory", name);
    size_t pos = 0;
    json_object_foreach(root, k, v) {
        if (rc != 0)
            break;
        if (strcmp(k, "__metadata__") == 0)
            continue;
        size_t kl = strlen(k);
        if (kl == 0) {
            rc = dk_errf(err, "%s: a tensor has an empty name", name);
            break;
        }
        memcpy(f->names + pos, k, kl + 1);
        st_tensor *t = &f->t[f->n];
        t->name = f->names + pos;
        pos += kl + 1;
        rc = parse_tensor(name, k, v, t, err);
        f->n++;
    }
    json_decref(root);
    if (rc != 0)
        return -1;
    /* the tensors must tile the data section exactly */
    qsort(f->t, f->n, sizeof *f->t, cmp_begin);
    uint64_t at = 0;
    for (size_t i = 0; i < f->n; i++) {
        st_tensor *t = &f->t[i];
        if (t->begin > at)
            return dk_errf(err, "%s: gap in the data before tensor \"%s\" (bytes %llu..%llu)",
                           name, t->name, (unsigned long long)at, (unsigned long long)t->begin);
        if (t->begin < at)
            return dk_errf(err, "%s: tensor \"%s\" overlaps the previous tensor's bytes", name,
                           t->name);
        at = t->end;
    }
    if (at != f->data_len)
        return dk_errf(err, "%s: data section has %llu bytes but the tensors cover %llu", name,
                       (unsigned long long)f->data_len, (unsigned long long)at);
    /* name index */
    size_t cap = 16;
    while (cap < 2 * f->n + 1)
        cap <<= 1;
    f->index = malloc(cap * sizeof *f->index);
    if (!f->index)
        return dk_errf(err, "%s: out of memory", name);
    memset(f->index, 0xFF, cap * sizeof *f->index);
    f->index_mask = cap - 1;
    for (size_t i = 0; i < f->n; i++) {
        size_t j = (size_t)hash_bytes(f->t[i].name, strlen(f->t[i].name)) & f->index_mask;
        while (f->index[j] != SIZE_MAX)
            j = (j + 1) & f->index_mask;
        f->index[j] = i;
    }
    return 0;
}

int st_open_buf(st_file **out, const uint8_t *buf, size_t n, const char *name, dk_err *err)
{
    *out = NULL;
    st_file *f = calloc(1, sizeof *f);
    if (!f)
        return dk_errf(err, "%s: out of memory", name);
    if (parse(f, buf, n, name, err) != 0) {
        st_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

int st_open(st_file **out, const char *path, dk_err *err)
{
    *out = NULL;
    st_file *f = calloc(1, sizeof *f);
    if (!f)
        return dk_errf(err, "%s: out of memory", path);
    if (fs_map_open(&f->map, path, SIZE_MAX, err) != 0 ||
        parse(f, f->map.data, f->map.size, path, err) != 0) {
        st_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

size_t st_count(const st_file *f) { return f->n; }
const st_tensor *st_tensor_at(const st_file *f, size_t i) { return i < f->n ? &f->t[i] : NULL; }
size_t st_meta_count(const st_file *f) { return f->n_meta; }
const char *st_meta_key(const st_file *f, size_t i) { return i < f->n_meta ? f->meta_keys[i] : NULL; }

const st_tensor *st_find(const st_file *f, const char *name)
{
    if (!f->index)
        return NULL;
    size_t j = (size_t)hash_bytes(name, strlen(name)) & f->index_mask;
    while (f->index[j] != SIZE_MAX) {
        if (strcmp(f->t[f->index[j]].name, name) == 0)
            return &f->t[f->index[j]];
        j = (j + 1) & f->index_mask;
    }
    return NULL;
}

const char *st_meta(const st_file *f, const char *key)
{
    for (size_t i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0)
            return f->meta_vals[i];
    return NULL;
}

const uint8_t *st_raw(const st_file *f, const st_tensor *t) { return f->data + t->begin; }

float st_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

float st_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1F, man = h & 0x3FF, u;
    if (exp == 0x1F)
        u = sign | 0x7F800000u | (man << 13); /* inf, NaN */
    else if (exp != 0)
        u = sign | ((exp + 112) << 23) | (man << 13);
    else if (man == 0)
        u = sign;
    else { /* subnormal: renormalise */
        int e = -1;
        do {
            man <<= 1;
            e++;
        } while (!(man & 0x400));
        u = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3FF) << 13);
    }
    float x;
    memcpy(&x, &u, 4);
    return x;
}

uint16_t st_f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u)
        return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7FFF + ((u >> 16) & 1);           /* round to nearest even */
    return (uint16_t)(u >> 16);
}

int st_read_f32(const st_file *f, const st_tensor *t, float *out, dk_err *err)
{
    (void)err;
    const uint8_t *p = f->data + t->begin;
    if (t->dtype == ST_F32) {
        memcpy(out, p, t->numel * 4); /* misaligned-safe; the host is little-endian */
        return 0;
    }
    for (uint64_t i = 0; i < t->numel; i++) {
        uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
        out[i] = t->dtype == ST_BF16 ? st_bf16_to_f32(h) : st_f16_to_f32(h);
    }
    return 0;
}

int st_write(const char *path, const st_entry *tensors, size_t n, const char *const *meta_keys,
             const char *const *meta_vals, size_t n_meta, dk_err *err)
{
    json_t *root = json_object();
    if (n_meta) {
        json_t *m = json_object();
        for (size_t i = 0; i < n_meta; i++)
            json_object_set_new(m, meta_keys[i], json_string(meta_vals[i]));
        json_object_set_new(root, "__metadata__", m);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const st_entry *e = &tensors[i];
        json_t *t = json_object(), *sh = json_array(), *o = json_array();
        uint64_t numel = 1;
        for (int d = 0; d < e->ndim; d++) {
            json_array_append_new(sh, json_integer((json_int_t)e->shape[d]));
            numel *= e->shape[d];
        }
        uint64_t bytes = numel * dtype_size(e->dtype);
        json_array_append_new(o, json_integer((json_int_t)off));
        json_array_append_new(o, json_integer((json_int_t)(off + bytes)));
        json_object_set_new(t, "dtype", json_string(e->dtype == ST_BF16 ? "BF16" : "F32"));
        json_object_set_new(t, "shape", sh);
        json_object_set_new(t, "data_offsets", o);
        if (json_object_get(root, e->name)) {
            json_decref(t);
            json_decref(root);
            return dk_errf(err, "%s: tensor \"%s\" given twice", path, e->name);
        }
        json_object_set_new(root, e->name, t);
        off += bytes;
    }
    char *h = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!h)
        return dk_errf(err, "%s: out of memory", path);
    size_t hl = strlen(h), padded = (hl + 7) / 8 * 8;
    fs_atomic a;
    if (fs_atomic_open(&a, path, err) != 0) {
        free(h);
        return -1;
    }
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    fs_atomic_write(&a, len, 8);
    fs_atomic_write(&a, h, hl);
    fs_atomic_write(&a, "        ", padded - hl);
    free(h);
    for (size_t i = 0; i < n; i++) {
        const st_entry *e = &tensors[i];
        uint64_t numel = 1;
        for (int d = 0; d < e->ndim; d++)
            numel *= e->shape[d];
        if (e->dtype == ST_F32) {
            fs_atomic_write(&a, e->data, numel * 4);
            continue;
        }
        uint8_t buf[4096];
        size_t k = 0;
        for (uint64_t j = 0; j < numel; j++) {
            uint16_t b = st_f32_to_bf16(e->data[j]);
            buf[k++] = (uint8_t)b;
            buf[k++] = (uint8_t)(b >> 8);
            if (k == sizeof buf) {
                fs_atomic_write(&a, buf, k);
                k = 0;
            }
        }
        fs_atomic_write(&a, buf, k);
    }
    return fs_atomic_commit(&a, err);
}
