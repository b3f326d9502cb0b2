/* gguf.c: the GGUF reader (see gguf.h for the layout and the guarantees).
 *
 * One pass over the header with a cursor that refuses to move past the end; every
 * count is checked against the bytes left before anything is allocated for it, so a
 * file claiming 2^60 keys or a 2^50-byte string costs nothing but the error. */
#include <stdlib.h>
#include <string.h>

#include "io/gguf.h"
#include "io/safetensors.h"
#include "util/fs.h"
#include "util/utf8.h"

typedef struct {
    char *key;
    gguf_vtype type;
    gguf_vtype elem;      /* arrays */
    uint64_t n;           /* arrays: element count */
    const uint8_t *val;   /* the value's bytes (arrays: the first element) */
    uint64_t *str_off;    /* string arrays: offset of each element from val */
    const uint8_t *raw;   /* the value as stored (after its type), raw_n bytes */
    size_t raw_n;
} kv_entry;

struct gguf_file {
    char *name;
    fs_map map;
    int owns_map;
    const uint8_t *buf;
    size_t size;
    uint32_t version;
    kv_entry *kv;
    size_t n_kv;
    gguf_tensor *t;
    size_t n_t;
    size_t *by_name; /* tensor indices sorted by name */
    uint64_t data_off, data_size;
};

typedef struct {
    const uint8_t *p;
    size_t left;
    const char *name;
    dk_err *err;
} cursor;

static int truncated(cursor *c, const char *what)
{
    return dk_errf(c->err, "%s: truncated: %s runs past the end of the file", c->name, what);
}

static int take(cursor *c, size_t n, const uint8_t **out, const char *what)
{
    if (n > c->left)
        return truncated(c, what);
    *out = c->p;
    c->p += n;
    c->left -= n;
    return 0;
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int get_u32(cursor *c, uint32_t *v, const char *what)
{
    const uint8_t *p = NULL;
    if (take(c, 4, &p, what) != 0)
        return -1;
    *v = (uint32_t)le(p, 4);
    return 0;
}

static int get_u64(cursor *c, uint64_t *v, const char *what)
{
    const uint8_t *p = NULL;
    if (take(c, 8, &p, what) != 0)
        return -1;
    *v = le(p, 8);
    return 0;
}

/* A string: u64 length and bytes. */
static int get_str(cursor *c, const uint8_t **s, uint64_t *len, const char *what)
{
    if (get_u64(c, len, what) != 0)
        return -1;
    if (*len > c->left)
        return dk_errf(c->err, "%s: %s claims %llu bytes, past the end of the file", c->name,
                       what, (unsigned long long)*len);
    return take(c, (size_t)*len, s, what);
}

/* A name (key or tensor name) as an owned C string: non-empty UTF-8 without NUL. */
static int get_name(cursor *c, char **out, size_t max, const char *what)
{
    const uint8_t *s = NULL;
    uint64_t len;
    if (get_str(c, &s, &len, what) != 0)
        return -1;
    if (len == 0)
        return dk_errf(c->err, "%s: empty %s", c->name, what);
    if (len > max)
        return dk_errf(c->err, "%s: %s of %llu bytes (at most %zu)", c->name, what,
                       (unsigned long long)len, max);
    if (utf8_validate(s, (size_t)len) != len)
        return dk_errf(c->err, "%s: %s is not valid UTF-8 text", c->name, what);
    /* names are identifiers; no control character can then reach a message */
    for (uint64_t i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] == 0x7F)
            return dk_errf(c->err, "%s: %s contains a control character", c->name, what);
    *out = malloc((size_t)len + 1);
    if (!*out)
        return dk_errf(c->err, "%s: out of memory", c->name);
    memcpy(*out, s, (size_t)len);
    (*out)[len] = 0;
    return 0;
}

static size_t scalar_size(gguf_vtype t)
{
    switch (t) {
    case GGUF_UINT8: case GGUF_INT8: case GGUF_BOOL: return 1;
    case GGUF_UINT16: case GGUF_INT16: return 2;
    case GGUF_UINT32: case GGUF_INT32: case GGUF_FLOAT32: return 4;
    case GGUF_UINT64: case GGUF_INT64: case GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

/* Reads one value of type t (not an array) for key e->key. */
static int check_bool(cursor *c, const uint8_t *p, const char *key)
{
    if (*p > 1)
        return dk_errf(c->err, "%s: key \"%s\": bool value %u (must be 0 or 1)", c->name, key, *p);
    return 0;
}

static int read_value(cursor *c, kv_entry *e)
{
    uint32_t t;
    if (get_u32(c, &t, "a value type") != 0)
        return -1;
    if (t >= GGUF_N_VTYPES)
        return dk_errf(c->err, "%s: key \"%s\": unknown value type %u", c->name, e->key, t);
    e->type = (gguf_vtype)t;
    e->raw = c->p;
    if (t == GGUF_STRING) {
        uint64_t len;
        const uint8_t *s = NULL;
        e->val = c->p;
        return get_str(c, &s, &len, "a string value");
    }
    if (t != GGUF_ARRAY) {
        if (take(c, scalar_size(e->type), &e->val, "a value") != 0)
            return -1;
        return e->type == GGUF_BOOL ? check_bool(c, e->val, e->key) : 0;
    }
    uint32_t et;
    if (get_u32(c, &et, "an array type") != 0 || get_u64(c, &e->n, "an array length") != 0)
        return -1;
    if (et >= GGUF_N_VTYPES)
        return dk_errf(c->err, "%s: key \"%s\": unknown array element type %u", c->name, e->key, et);
    if (et == GGUF_ARRAY)
        return dk_errf(c->err, "%s: key \"%s\": nested arrays are not supported", c->name, e->key);
    e->elem = (gguf_vtype)et;
    e->val = c->p;
    if (et == GGUF_STRING) {
        /* each element takes at least its 8-byte length: the count is bounded first */
        if (e->n > c->left / 8)
            return dk_errf(c->err, "%s: key \"%s\": array of %llu strings cannot fit in the file",
                           c->name, e->key, (unsigned long long)e->n);
        e->str_off = malloc((size_t)(e->n ? e->n : 1) * sizeof *e->str_off);
        if (!e->str_off)
            return dk_errf(c->err, "%s: out of memory", c->name);
        for (uint64_t i = 0; i < e->n; i++) {
            const uint8_t *s = NULL;
            uint64_t len;
            e->str_off[i] = (uint64_t)(c->p - e->val);
            if (get_str(c, &s, &len, "an array string") != 0)
                return -1;
        }
        return 0;
    }
    size_t sz = scalar_size(e->elem);
    if (e->n > c->left / sz)
        return dk_errf(c->err, "%s: key \"%s\": array of %llu elements runs past the end of the file",
                       c->name, e->key, (unsigned long long)e->n);
    const uint8_t *p = NULL;
    if (take(c, (size_t)e->n * sz, &p, "an array") != 0)
        return -1;
    if (e->elem == GGUF_BOOL)
        for (uint64_t i = 0; i < e->n; i++)
            if (check_bool(c, p + i, e->key) != 0)
                return -1;
    return 0;
}

static int cmp_name(const void *a, const void *b, void *ctx)
{
    const gguf_tensor *t = ctx;
    return strcmp(t[*(const size_t *)a].name, t[*(const size_t *)b].name);
}

static int cmp_offset(const void *a, const void *b, void *ctx)
{
    const gguf_tensor *t = ctx;
    uint64_t x = t[*(const size_t *)a].offset, y = t[*(const size_t *)b].offset;
    return x < y ? -1 : x > y;
}

static int cmp_key(const void *a, const void *b, void *ctx)
{
    const kv_entry *kv = ctx;
    return strcmp(kv[*(const size_t *)a].key, kv[*(const size_t *)b].key);
}

static int read_tensor_info(cursor *c, gguf_tensor *t, size_t idx)
{
    char *name = NULL;
    if (get_name(c, &name, GGUF_MAX_NAME, "a tensor name") != 0)
        return -1;
    t->name = name;
    uint32_t nd;
    if (get_u32(c, &nd, "a dimension count") != 0)
        return -1;
    if (nd == 0 || nd > GGUF_MAX_DIMS)
        return dk_errf(c->err, "%s: tensor \"%s\": %u dimensions (must be 1..%d)", c->name, name,
                       nd, GGUF_MAX_DIMS);
    t->n_dims = (int)nd;
    t->numel = 1;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d >= t->n_dims)
            continue;
        if (get_u64(c, &t->ne[d], "a dimension") != 0)
            return -1;
        if (t->ne[d] == 0)
            return dk_errf(c->err, "%s: tensor \"%s\": dimension %d is zero", c->name, name, d);
        /* ggml keeps element counts in int64 */
        if (t->ne[d] > (uint64_t)INT64_MAX / t->numel)
            return dk_errf(c->err, "%s: tensor \"%s\": the dimensions' product overflows", c->name, name);
        t->numel *= t->ne[d];
    }
    uint64_t off;
    if (get_u32(c, &t->type, "a tensor type") != 0 || get_u64(c, &off, "a tensor offset") != 0)
        return -1;
    t->offset = off;
    uint32_t block, bytes;
    if (ggml_type_block(t->type, &block, &bytes) != 0)
        return dk_errf(c->err, "%s: tensor \"%s\": unknown tensor type %u", c->name, name, t->type);
    if (t->ne[0] % block != 0)
        return dk_errf(c->err, "%s: tensor \"%s\": first dimension %llu is not a multiple of the %s block of %u",
                       c->name, name, (unsigned long long)t->ne[0], ggml_type_name(t->type), block);
    uint64_t blocks = t->numel / block;
    if (blocks > UINT64_MAX / bytes)
        return dk_errf(c->err, "%s: tensor \"%s\": its size overflows", c->name, name);
    t->nbytes = blocks * bytes;
    (void)idx;
    return 0;
}

static int parse(gguf_file *f, dk_err *err)
{
    cursor c = {f->buf, f->size, f->name, err};
    const uint8_t *magic = NULL;
    if (take(&c, 4, &magic, "the magic") != 0)
        return -1;
    if (memcmp(magic, "GGUF", 4) != 0)
        return dk_errf(err, "%s: not a GGUF file (bad magic)", f->name);
    if (get_u32(&c, &f->version, "the version") != 0)
        return -1;
    if (f->version != 2 && f->version != 3)
        return dk_errf(err, "%s: unsupported GGUF version %u (2 and 3 are read)", f->name, f->version);
    uint64_t n_t, n_kv;
    if (get_u64(&c, &n_t, "the tensor count") != 0 || get_u64(&c, &n_kv, "the key count") != 0)
        return -1;
    /* a key takes at least 8 (length) + 1 + 4 (type) + 1 bytes; a tensor info 8 + 1 + 4 + 8 + 4 + 8 */
    if (n_kv > c.left / 14)
        return dk_errf(err, "%s: %llu keys cannot fit in the file", f->name, (unsigned long long)n_kv);
    if (n_t > c.left / 33)
        return dk_errf(err, "%s: %llu tensors cannot fit in the file", f->name, (unsigned long long)n_t);
    f->kv = calloc((size_t)n_kv + 1, sizeof *f->kv);
    f->t = calloc((size_t)n_t + 1, sizeof *f->t);
    f->by_name = malloc(((size_t)n_t + 1) * sizeof *f->by_name);
    size_t *order = malloc(((size_t)(n_kv > n_t ? n_kv : n_t) + 1) * sizeof *order);
    if (!f->kv || !f->t || !f->by_name || !order) {
        free(order);
        return dk_errf(err, "%s: out of memory", f->name);
    }
    int rc = -1;
    for (uint64_t i = 0; i < n_kv; i++) {
        kv_entry *e = &f->kv[i];
        f->n_kv = (size_t)i + 1;
        if (get_name(&c, &e->key, 65535, "a key") != 0 || read_value(&c, e) != 0)
            goto out;
        e->raw_n = (size_t)(c.p - e->raw);
    }
    for (size_t i = 0; i < f->n_kv; i++)
        order[i] = i;
    qsort_r(order, f->n_kv, sizeof *order, cmp_key, f->kv);
    for (size_t i = 1; i < f->n_kv; i++)
        if (strcmp(f->kv[order[i]].key, f->kv[order[i - 1]].key) == 0) {
            dk_errf(err, "%s: duplicate key \"%s\"", f->name, f->kv[order[i]].key);
            goto out;
        }
    uint32_t align = GGUF_DEFAULT_ALIGNMENT;
    int ai = gguf_find(f, "general.alignment");
    if (ai >= 0) {
        if (f->kv[ai].type != GGUF_UINT32) {
            dk_errf(err, "%s: general.alignment must be uint32", f->name);
            goto out;
        }
        align = (uint32_t)le(f->kv[ai].val, 4);
        if (align == 0 || (align & (align - 1)) != 0) {
            dk_errf(err, "%s: general.alignment %u is not a power of two", f->name, align);
            goto out;
        }
    }
    for (uint64_t i = 0; i < n_t; i++) {
        f->n_t = (size_t)i + 1;
        if (read_tensor_info(&c, &f->t[i], (size_t)i) != 0)
            goto out;
    }
    for (size_t i = 0; i < f->n_t; i++)
        f->by_name[i] = i;
    qsort_r(f->by_name, f->n_t, sizeof *f->by_name, cmp_name, f->t);
    for (size_t i = 1; i < f->n_t; i++)
        if (strcmp(f->t[f->by_name[i]].name, f->t[f->by_name[i - 1]].name) == 0) {
            dk_errf(err, "%s: duplicate tensor \"%s\"", f->name, f->t[f->by_name[i]].name);
            goto out;
        }
    uint64_t pos = f->size - c.left;
    f->data_off = (pos + align - 1) / align * align;
    if (f->n_t > 0 && f->data_off > f->size) {
        dk_errf(err, "%s: truncated: the data section starts past the end of the file", f->name);
        goto out;
    }
    f->data_size = f->data_off <= f->size ? f->size - f->data_off : 0;
    for (size_t i = 0; i < f->n_t; i++) {
        const gguf_tensor *t = &f->t[i];
        if (t->offset % align != 0) {
            dk_errf(err, "%s: tensor \"%s\": offset %llu is not a multiple of the alignment %u", f->name,
                    t->name, (unsigned long long)t->offset, align);
            goto out;
        }
        if (t->offset > f->data_size || t->nbytes > f->data_size - t->offset) {
            dk_errf(err, "%s: tensor \"%s\": data [%llu, +%llu) lies outside the data section of %llu bytes"
                         " (truncated file?)", f->name, t->name, (unsigned long long)t->offset,
                    (unsigned long long)t->nbytes, (unsigned long long)f->data_size);
            goto out;
        }
    }
    for (size_t i = 0; i < f->n_t; i++)
        order[i] = i;
    qsort_r(order, f->n_t, sizeof *order, cmp_offset, f->t);
    for (size_t i = 1; i < f->n_t; i++) {
        const gguf_tensor *a = &f->t[order[i - 1]], *b = &f->t[order[i]];
        if (a->offset + a->nbytes > b->offset) {
            dk_errf(err, "%s: tensors \"%s\" and \"%s\" overlap", f->name, a->name, b->name);
            goto out;
        }
    }
    rc = 0;
out:
    free(order);
    return rc;
}

static int open_common(gguf_file **out, gguf_file *f, dk_err *err)
{
    if (parse(f, err) != 0) {
        gguf_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

int gguf_open(gguf_file **out, const char *path, dk_err *err)
{
    *out = NULL;
    gguf_file *f = calloc(1, sizeof *f);
    if (!f || !(f->name = strdup(path))) {
        free(f);
        return dk_errf(err, "%s: out of memory", path);
    }
    if (fs_map_open(&f->map, path, SIZE_MAX, err) != 0) {
        free(f->name);
        free(f);
        return -1;
    }
    f->owns_map = 1;
    f->buf = f->map.data;
    f->size = f->map.size;
    return open_common(out, f, err);
}

int gguf_open_buf(gguf_file **out, const uint8_t *buf, size_t n, const char *name, dk_err *err)
{
    *out = NULL;
    gguf_file *f = calloc(1, sizeof *f);
    if (!f || !(f->name = strdup(name))) {
        free(f);
        return dk_errf(err, "%s: out of memory", name);
    }
    f->buf = buf;
    f->size = n;
    return open_common(out, f, err);
}

void gguf_close(gguf_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_kv; i++) {
        free(f->kv[i].key);
        free(f->kv[i].str_off);
    }
    for (size_t i = 0; i < f->n_t; i++)
        free((char *)f->t[i].name);
    free(f->kv);
    free(f->t);
    free(f->by_name);
    if (f->owns_map)
        fs_map_close(&f->map);
    free(f->name);
    free(f);
}

const char *gguf_name(const gguf_file *f) { return f->name; }
uint32_t gguf_version(const gguf_file *f) { return f->version; }
size_t gguf_n_kv(const gguf_file *f) { return f->n_kv; }
const char *gguf_kv_key(const gguf_file *f, size_t i) { return i < f->n_kv ? f->kv[i].key : NULL; }
gguf_vtype gguf_kv_type(const gguf_file *f, size_t i) { return f->kv[i].type; }

int gguf_find(const gguf_file *f, const char *key)
{
    for (size_t i = 0; i < f->n_kv; i++)
        if (f->kv[i].key && strcmp(f->kv[i].key, key) == 0)
            return (int)i;
    return -1;
}

/* Scalar at p of type t as a signed 128-bit-safe pair: integers, or floats. */
static int scalar_int(gguf_vtype t, const uint8_t *p, int64_t *v, uint64_t *u, int *is_unsigned)
{
    *is_unsigned = 0;
    switch (t) {
    case GGUF_UINT8: case GGUF_BOOL: *v = p[0]; return 0;
    case GGUF_INT8: *v = (int8_t)p[0]; return 0;
    case GGUF_UINT16: *v = (uint16_t)le(p, 2); return 0;
    case GGUF_INT16: *v = (int16_t)le(p, 2); return 0;
    case GGUF_UINT32: *v = (uint32_t)le(p, 4); return 0;
    case GGUF_INT32: *v = (int32_t)le(p, 4); return 0;
    case GGUF_INT64: *v = (int64_t)le(p, 8); return 0;
    case GGUF_UINT64: *u = le(p, 8); *is_unsigned = 1; return 0;
    default: return -1;
    }
}

static double scalar_float(gguf_vtype t, const uint8_t *p)
{
    if (t == GGUF_FLOAT32) {
        uint32_t b = (uint32_t)le(p, 4);
        float x;
        memcpy(&x, &b, 4);
        return x;
    }
    uint64_t b = le(p, 8);
    double x;
    memcpy(&x, &b, 8);
    return x;
}

static const kv_entry *need(const gguf_file *f, const char *key, dk_err *err)
{
    int i = gguf_find(f, key);
    if (i < 0) {
        dk_errf(err, "%s: missing key \"%s\"", f->name, key);
        return NULL;
    }
    return &f->kv[i];
}

int gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out, dk_err *err)
{
    const kv_entry *e = need(f, key, err);
    if (!e)
        return -1;
    int64_t v = 0;
    uint64_t u = 0;
    int uns;
    if (e->type == GGUF_BOOL || scalar_int(e->type, e->val, &v, &u, &uns) != 0)
        return dk_errf(err, "%s: key \"%s\" must be an integer (it is %s)", f->name, key,
                       gguf_vtype_name(e->type));
    if (uns ? u > UINT32_MAX : (v < 0 || v > (int64_t)UINT32_MAX))
        return dk_errf(err, "%s: key \"%s\": value out of range", f->name, key);
    *out = uns ? (uint32_t)u : (uint32_t)v;
    return 0;
}

int gguf_get_u32_or(const gguf_file *f, const char *key, uint32_t dflt, uint32_t *out, dk_err *err)
{
    if (gguf_find(f, key) < 0) {
        *out = dflt;
        return 0;
    }
    return gguf_get_u32(f, key, out, err);
}

int gguf_get_f64(const gguf_file *f, const char *key, double *out, dk_err *err)
{
    const kv_entry *e = need(f, key, err);
    if (!e)
        return -1;
    if (e->type != GGUF_FLOAT32 && e->type != GGUF_FLOAT64)
        return dk_errf(err, "%s: key \"%s\" must be a float (it is %s)", f->name, key,
                       gguf_vtype_name(e->type));
    *out = scalar_float(e->type, e->val);
    return 0;
}

int gguf_get_f64_or(const gguf_file *f, const char *key, double dflt, double *out, dk_err *err)
{
    if (gguf_find(f, key) < 0) {
        *out = dflt;
        return 0;
    }
    return gguf_get_f64(f, key, out, err);
}

int gguf_get_bool_or(const gguf_file *f, const char *key, int dflt, int *out, dk_err *err)
{
    int i = gguf_find(f, key);
    if (i < 0) {
        *out = dflt;
        return 0;
    }
    if (f->kv[i].type != GGUF_BOOL)
        return dk_errf(err, "%s: key \"%s\" must be a bool (it is %s)", f->name, key,
                       gguf_vtype_name(f->kv[i].type));
    *out = f->kv[i].val[0];
    return 0;
}

int gguf_get_str(const gguf_file *f, const char *key, const uint8_t **s, size_t *len, dk_err *err)
{
    const kv_entry *e = need(f, key, err);
    if (!e)
        return -1;
    if (e->type != GGUF_STRING)
        return dk_errf(err, "%s: key \"%s\" must be a string (it is %s)", f->name, key,
                       gguf_vtype_name(e->type));
    *len = (size_t)le(e->val, 8);
    *s = e->val + 8;
    return 0;
}

int gguf_get_arr(const gguf_file *f, const char *key, gguf_vtype *elem, uint64_t *n, dk_err *err)
{
    const kv_entry *e = need(f, key, err);
    if (!e)
        return -1;
    if (e->type != GGUF_ARRAY)
        return dk_errf(err, "%s: key \"%s\" must be an array (it is %s)", f->name, key,
                       gguf_vtype_name(e->type));
    *elem = e->elem;
    *n = e->n;
    return 0;
}

const uint8_t *gguf_kv_raw(const gguf_file *f, size_t i, size_t *n)
{
    DK_ASSERT(i < f->n_kv);
    *n = f->kv[i].raw_n;
    return f->kv[i].raw;
}

const uint8_t *gguf_arr_str(const gguf_file *f, size_t k, uint64_t i, size_t *len)
{
    const kv_entry *e = &f->kv[k];
    DK_ASSERT(k < f->n_kv && e->type == GGUF_ARRAY && e->elem == GGUF_STRING && i < e->n);
    const uint8_t *p = e->val + e->str_off[i];
    *len = (size_t)le(p, 8);
    return p + 8;
}

int64_t gguf_arr_int(const gguf_file *f, size_t k, uint64_t i)
{
    const kv_entry *e = &f->kv[k];
    DK_ASSERT(k < f->n_kv && e->type == GGUF_ARRAY && i < e->n);
    int64_t v = 0;
    uint64_t u = 0;
    int uns;
    int rc = scalar_int(e->elem, e->val + i * scalar_size(e->elem), &v, &u, &uns);
    DK_ASSERT(rc == 0);
    return uns ? (u > INT64_MAX ? INT64_MAX : (int64_t)u) : v;
}

double gguf_arr_float(const gguf_file *f, size_t k, uint64_t i)
{
    const kv_entry *e = &f->kv[k];
    DK_ASSERT(k < f->n_kv && e->type == GGUF_ARRAY && i < e->n && e->elem != GGUF_STRING);
    if (e->elem == GGUF_FLOAT32 || e->elem == GGUF_FLOAT64)
        return scalar_float(e->elem, e->val + i * scalar_size(e->elem));
    return (double)gguf_arr_int(f, k, i);
}

size_t gguf_n_tensors(const gguf_file *f) { return f->n_t; }
const gguf_tensor *gguf_tensor_at(const gguf_file *f, size_t i) { return i < f->n_t ? &f->t[i] : NULL; }

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name)
{
    size_t lo = 0, hi = f->n_t;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(name, f->t[f->by_name[mid]].name);
        if (c == 0)
            return &f->t[f->by_name[mid]];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const uint8_t *gguf_tensor_data(const gguf_file *f, const gguf_tensor *t)
{
    return f->buf + f->data_off + t->offset;
}

int gguf_read_rows_f32(const gguf_file *f, const gguf_tensor *t, uint64_t row0, uint64_t nrows,
                       float *out, dk_err *err)
{
    uint64_t rows = t->numel / t->ne[0], w = t->ne[0];
    if (row0 > rows || nrows > rows - row0)
        return dk_errf(err, "%s: tensor \"%s\": rows [%llu, +%llu) out of range", f->name, t->name,
                       (unsigned long long)row0, (unsigned long long)nrows);
    uint32_t block, bytes;
    ggml_type_block(t->type, &block, &bytes);
    const uint8_t *p = gguf_tensor_data(f, t) + row0 * (w / block) * bytes;
    uint64_t n = nrows * w;
    switch (t->type) {
    case GGML_F32:
        memcpy(out, p, n * 4); /* little-endian hosts only (the build checks) */
        return 0;
    case GGML_F16:
        for (uint64_t i = 0; i < n; i++)
            out[i] = ggml_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return 0;
    case GGML_BF16:
        for (uint64_t i = 0; i < n; i++)
            out[i] = st_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return 0;
    case GGML_Q8_0:
        for (uint64_t b = 0; b < n / 32; b++, p += 34) {
            float d = ggml_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
            for (int j = 0; j < 32; j++)
                out[b * 32 + j] = (float)(int8_t)p[2 + j] * d;
        }
        return 0;
    default:
        return dk_errf(err, "%s: tensor \"%s\" has type %s, which dokja does not read "
                            "(F32, F16, BF16 and Q8_0 are read)", f->name, t->name,
                       ggml_type_name(t->type));
    }
}
