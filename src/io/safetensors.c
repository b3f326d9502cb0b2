/* safetensors.c: validated safetensors reading and atomic, deterministic writing.
 *
 * The reader checks the whole header up front (docs/safetensors.md lists every rule),
 * so that afterwards no access through an st_tensor can leave the mapping, whatever
 * the file says. The writer refuses any input that the reader would refuse. */
#include "io/safetensors.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"
#include "util/utf8.h"

/* Tensor bytes are little-endian on disk; F32 data is memcpy'd as host floats. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "needs a little-endian host");
_Static_assert(sizeof(float) == 4, "float must be IEEE binary32");

struct st_file {
    fs_map map;             /* when opened from a path */
    const uint8_t *data;    /* the data section */
    uint64_t data_len;
    st_tensor *t;           /* n tensors, sorted by begin */
    size_t n;
    const st_tensor **by_name; /* the same tensors sorted by name, for st_find */
    char *names;            /* all tensor names, NUL-separated */
    char **meta_keys, **meta_vals;
    size_t n_meta;
};

static const struct {
    const char *name;
    st_dtype dtype;
    unsigned size;
} DTYPES[] = {{"F32", ST_F32, 4}, {"BF16", ST_BF16, 2}, {"F16", ST_F16, 2}};
#define N_DTYPES (sizeof DTYPES / sizeof DTYPES[0])

const char *st_dtype_name(st_dtype d)
{
    for (size_t i = 0; i < N_DTYPES; i++)
        if (DTYPES[i].dtype == d)
            return DTYPES[i].name;
    return "?";
}

unsigned st_dtype_size(st_dtype d) { return d == ST_F32 ? 4 : 2; }

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
    free(f->by_name);
    free(f->names);
    free(f->t);
    fs_map_close(&f->map);
    free(f);
}

/* ---- reading ---------------------------------------------------------------------- */

/* A string from the file made safe for a one-line message: control characters, quotes
 * and backslashes escaped, and cut after about 80 bytes (at a UTF-8 boundary) with "...". */
#define SHOW_MAX 80
typedef struct {
    char s[(SHOW_MAX + 3) * 4 + 4];
} shown;

static shown show(const char *s)
{
    shown r;
    size_t o = 0, i = 0;
    /* past SHOW_MAX, finish the code point under way (at most 3 continuation bytes) */
    while (s[i] && (i < SHOW_MAX || ((s[i] & 0xC0) == 0x80 && i < SHOW_MAX + 3))) {
        unsigned char c = (unsigned char)s[i++];
        if (c == '"' || c == '\\') {
            r.s[o++] = '\\';
            r.s[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7F)
            o += (size_t)snprintf(r.s + o, 5, "\\x%02x", c);
        else
            r.s[o++] = (char)c;
    }
    if (s[i]) {
        memcpy(r.s + o, "...", 3);
        o += 3;
    }
    r.s[o] = 0;
    return r;
}

/* jansson's messages quote the offending input: keep them on one line. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7F)
            *s = '?';
}

/* A JSON value as a non-negative integer (jansson's integers are int64). */
static int json_u64(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int parse_tensor(const char *file, const char *name, json_t *v, st_tensor *t, dk_err *err)
{
    shown sk = show(name);
    const char *key = sk.s;
    if (!json_is_object(v))
        return dk_errf(err, "%s: tensor \"%s\" is not an object", file, key);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        if (strcmp(k, "dtype") != 0 && strcmp(k, "shape") != 0 && strcmp(k, "data_offsets") != 0)
            return dk_errf(err, "%s: tensor \"%s\" has unknown field \"%s\"", file, key,
                           show(k).s);
    }
    json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"),
           *off = json_object_get(v, "data_offsets");

    if (!json_is_string(dt))
        return dk_errf(err, "%s: tensor \"%s\": missing or malformed dtype (expected a string)",
                       file, key);
    size_t di = 0;
    while (di < N_DTYPES && strcmp(json_string_value(dt), DTYPES[di].name) != 0)
        di++;
    if (di == N_DTYPES)
        return dk_errf(err, "%s: tensor \"%s\": unsupported dtype \"%s\" (only F32, BF16, F16 "
                            "load)", file, key, show(json_string_value(dt)).s);
    t->dtype = DTYPES[di].dtype;

    if (!json_is_array(sh))
        return dk_errf(err, "%s: tensor \"%s\": missing or malformed shape (expected an array)",
                       file, key);
    if (json_array_size(sh) > ST_MAX_DIMS)
        return dk_errf(err, "%s: tensor \"%s\": shape has %zu dimensions, more than %d", file, key,
                       json_array_size(sh), ST_MAX_DIMS);
    t->ndim = (int)json_array_size(sh);
    /* The product of the non-zero dimensions must fit in 64 bits even when another
     * dimension is 0: then every partial product a consumer might form (strides, row
     * sizes) fits too, whatever the order of the dimensions. */
    uint64_t prod = 1;
    int has_zero = 0;
    for (int d = 0; d < t->ndim; d++) {
        if (json_u64(json_array_get(sh, (size_t)d), &t->shape[d]) != 0)
            return dk_errf(err, "%s: tensor \"%s\": shape entries must be non-negative integers",
                           file, key);
        if (t->shape[d] == 0)
            has_zero = 1;
        else if (__builtin_mul_overflow(prod, t->shape[d], &prod))
            return dk_errf(err, "%s: tensor \"%s\": shape product overflows 64 bits", file, key);
    }
    uint64_t numel = has_zero ? 0 : prod; /* a 0-d tensor is a scalar: numel 1 */
    uint64_t bytes;
    if (__builtin_mul_overflow(numel, (uint64_t)DTYPES[di].size, &bytes))
        return dk_errf(err, "%s: tensor \"%s\": size in bytes (%llu elements of %s) overflows "
                            "64 bits", file, key, (unsigned long long)numel, DTYPES[di].name);
    t->numel = numel;

    if (!json_is_array(off) || json_array_size(off) != 2 ||
        json_u64(json_array_get(off, 0), &t->begin) != 0 ||
        json_u64(json_array_get(off, 1), &t->end) != 0)
        return dk_errf(err, "%s: tensor \"%s\": missing or malformed data_offsets "
                            "(expected [begin, end] of non-negative integers)", file, key);
    if (t->end < t->begin)
        return dk_errf(err, "%s: tensor \"%s\": data_offsets end %llu < begin %llu", file, key,
                       (unsigned long long)t->end, (unsigned long long)t->begin);
    if (t->end - t->begin != bytes)
        return dk_errf(err, "%s: tensor \"%s\": data_offsets span %llu bytes but %s shape "
                            "needs %llu", file, key, (unsigned long long)(t->end - t->begin),
                       DTYPES[di].name, (unsigned long long)bytes);
    return 0;
}

static int parse_meta(st_file *f, json_t *meta, const char *file, dk_err *err)
{
    if (!json_is_object(meta))
        return dk_errf(err, "%s: __metadata__ is not an object", file);
    size_t nm = json_object_size(meta);
    f->meta_keys = calloc(nm ? nm : 1, sizeof *f->meta_keys);
    f->meta_vals = calloc(nm ? nm : 1, sizeof *f->meta_vals);
    if (!f->meta_keys || !f->meta_vals)
        return dk_errf(err, "%s: out of memory", file);
    const char *k;
    json_t *v;
    json_object_foreach(meta, k, v) { /* jansson iterates in file order */
        if (!json_is_string(v))
            return dk_errf(err, "%s: __metadata__ value of \"%s\" is not a string", file,
                           show(k).s);
        f->meta_keys[f->n_meta] = strdup(k);
        f->meta_vals[f->n_meta] = strdup(json_string_value(v));
        f->n_meta++; /* counted before the check so st_close frees a half-made pair */
        if (!f->meta_keys[f->n_meta - 1] || !f->meta_vals[f->n_meta - 1])
            return dk_errf(err, "%s: out of memory", file);
    }
    return 0;
}

static int cmp_begin(const void *a, const void *b)
{
    const st_tensor *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name); /* names are distinct: a total order, whatever qsort does */
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((*(const st_tensor *const *)a)->name, (*(const st_tensor *const *)b)->name);
}

/* The tensors, sorted by begin, must tile [0, data_len) exactly. Empty tensors take no
 * bytes, so any number of them may sit at one offset between (or around) others. */
static int check_layout(const st_file *f, const char *file, dk_err *err)
{
    uint64_t at = 0;
    const st_tensor *prev = NULL;
    for (size_t i = 0; i < f->n; i++) {
        const st_tensor *t = &f->t[i];
        if (t->begin > at) {
            if (!prev)
                return dk_errf(err, "%s: first tensor \"%s\" starts at data byte %llu, not 0", file,
                               show(t->name).s, (unsigned long long)t->begin);
            return dk_errf(err, "%s: gap in the data: bytes %llu..%llu between tensors \"%s\" and "
                                "\"%s\" belong to no tensor", file, (unsigned long long)at,
                           (unsigned long long)t->begin, show(prev->name).s, show(t->name).s);
        }
        if (t->begin < at) /* sorted by begin, so prev is the one whose bytes are shared */
            return dk_errf(err, "%s: tensor \"%s\" (data bytes %llu..%llu) overlaps tensor \"%s\" "
                                "(%llu..%llu)", file, show(t->name).s, (unsigned long long)t->begin,
                           (unsigned long long)t->end, show(prev->name).s,
                           (unsigned long long)prev->begin, (unsigned long long)prev->end);
        if (t->end > f->data_len)
            return dk_errf(err, "%s: tensor \"%s\" ends at data byte %llu but the data section has "
                                "only %llu bytes (truncated file?)", file, show(t->name).s,
                           (unsigned long long)t->end, (unsigned long long)f->data_len);
        at = t->end;
        prev = t;
    }
    if (at != f->data_len)
        return dk_errf(err, "%s: %llu bytes after the last tensor (data section %llu bytes, "
                            "tensors cover %llu)", file, (unsigned long long)(f->data_len - at),
                       (unsigned long long)f->data_len, (unsigned long long)at);
    return 0;
}

static int parse_tensors(st_file *f, json_t *root, size_t nt, const char *file, dk_err *err)
{
    size_t names_len = 0;
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) names_len += strlen(k) + 1;
    f->t = calloc(nt ? nt : 1, sizeof *f->t);
    f->names = malloc(names_len ? names_len : 1);
    f->by_name = malloc((nt ? nt : 1) * sizeof *f->by_name);
    if (!f->t || !f->names || !f->by_name)
        return dk_errf(err, "%s: out of memory", file);
    size_t pos = 0;
    json_object_foreach(root, k, v) {
        if (strcmp(k, "__metadata__") == 0)
            continue;
        size_t kl = strlen(k);
        if (kl == 0)
            return dk_errf(err, "%s: a tensor has an empty name", file);
        st_tensor *t = &f->t[f->n];
        memcpy(f->names + pos, k, kl + 1);
        t->name = f->names + pos;
        pos += kl + 1;
        if (parse_tensor(file, k, v, t, err) != 0)
            return -1;
        f->n++;
    }
    qsort(f->t, f->n, sizeof *f->t, cmp_begin);
    if (check_layout(f, file, err) != 0)
        return -1;
    for (size_t i = 0; i < f->n; i++)
        f->by_name[i] = &f->t[i];
    qsort(f->by_name, f->n, sizeof *f->by_name, cmp_name);
    for (size_t i = 1; i < f->n; i++) /* JSON_REJECT_DUPLICATES already ensures this */
        if (strcmp(f->by_name[i - 1]->name, f->by_name[i]->name) == 0)
            return dk_errf(err, "%s: tensor \"%s\" appears twice", file,
                           show(f->by_name[i]->name).s);
    return 0;
}

static int parse(st_file *f, const uint8_t *buf, size_t n, const char *file, dk_err *err)
{
    if (n < 8)
        return dk_errf(err, "%s: %zu bytes is too short for a safetensors file (the header length "
                            "alone takes 8)", file, n);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | buf[i];
    if (hl > ST_MAX_HEADER)
        return dk_errf(err, "%s: header length %llu exceeds the limit of %u bytes", file,
                       (unsigned long long)hl, ST_MAX_HEADER);
    if (hl > n - 8)
        return dk_errf(err, "%s: header length %llu runs past the end of the file (%zu bytes)",
                       file, (unsigned long long)hl, n);
    const uint8_t *h = buf + 8;
    size_t bad = utf8_validate(h, (size_t)hl);
    if (bad != hl)
        return dk_errf(err, "%s: header is not valid UTF-8 (byte %zu of the header)", file, bad);
    f->data = buf + 8 + hl;
    f->data_len = n - 8 - hl;

    json_error_t je;
    /* DECODE_ANY so that a non-object header gets its own message below */
    json_t *root =
        json_loadb((const char *)h, (size_t)hl, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!root) {
        one_line(je.text);
        return dk_errf(err, "%s: header is not valid JSON (%s, at byte %d of the header)", file,
                       je.text, je.position);
    }
    int rc = 0;
    json_t *meta = json_object_get(root, "__metadata__"); /* NULL if root is not an object */
    size_t nt = json_object_size(root) - (meta != NULL);
    if (!json_is_object(root))
        rc = dk_errf(err, "%s: header is not a JSON object", file);
    else if (nt > ST_MAX_TENSORS)
        rc = dk_errf(err, "%s: %zu tensors exceed the limit of %u", file, nt, ST_MAX_TENSORS);
    else if (meta && parse_meta(f, meta, file, err) != 0)
        rc = -1;
    else
        rc = parse_tensors(f, root, nt, file, err);
    json_decref(root);
    return rc;
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
const char *st_meta_key(const st_file *f, size_t i)
{
    return i < f->n_meta ? f->meta_keys[i] : NULL;
}
const char *st_meta_val(const st_file *f, size_t i)
{
    return i < f->n_meta ? f->meta_vals[i] : NULL;
}

const st_tensor *st_find(const st_file *f, const char *name)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, f->by_name[mid]->name);
        if (c == 0)
            return f->by_name[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
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

/* ---- conversions -------------------------------------------------------------------- */

float st_bf16_to_f32(uint16_t h)
{
    /* bf16 is the top half of a binary32: exact, including inf, NaN and subnormals */
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

float st_f16_to_f32(uint16_t h)
{
    /* binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. Every value is exact in
     * binary32 (bias 127, so normal exponents shift by 127 - 15 = 112). */
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1F, man = h & 0x3FF, u;
    if (exp == 0x1F)
        u = sign | 0x7F800000u | (man << 13); /* inf, or NaN keeping its payload */
    else if (exp != 0)
        u = sign | ((exp + 112) << 23) | (man << 13);
    else if (man == 0)
        u = sign; /* signed zero */
    else {
        /* subnormal: man * 2^-24. Shift the leading 1 up to the implicit-bit position
         * (bit 10); each shift lowers the exponent by one from that of 2^-14. */
        int shifts = 0;
        while (!(man & 0x400)) {
            man <<= 1;
            shifts++;
        }
        u = sign | ((uint32_t)(113 - shifts) << 23) | ((man & 0x3FF) << 13);
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
        return (uint16_t)((u >> 16) | 0x40); /* quiet NaN, even if the payload was all low bits */
    /* round to nearest, ties to even: add just under half an ulp, plus one if the kept
     * part is odd. Overflow carries into the exponent and correctly gives inf. */
    u += 0x7FFFu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

int st_read_f32(const st_file *f, const st_tensor *t, float *out, dk_err *err)
{
    /* integer compare: t must point into f's own array (relational < across objects is UB) */
    uintptr_t p0 = (uintptr_t)f->t, pt = (uintptr_t)t;
    if (!t || pt < p0 || pt >= p0 + f->n * sizeof *f->t || (pt - p0) % sizeof *f->t != 0)
        return dk_errf(err, "st_read_f32: tensor does not belong to this file");
    const uint8_t *p = f->data + t->begin;
    if (t->numel == 0)
        return 0;
    switch (t->dtype) {
    case ST_F32:
        memcpy(out, p, (size_t)t->numel * 4); /* misaligned-safe; the host is little-endian */
        break;
    case ST_BF16:
        for (uint64_t i = 0; i < t->numel; i++)
            out[i] = st_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        break;
    case ST_F16:
        for (uint64_t i = 0; i < t->numel; i++)
            out[i] = st_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        break;
    }
    return 0;
}

/* ---- writing ------------------------------------------------------------------------ */

static int valid_utf8(const char *s)
{
    size_t n = strlen(s);
    return utf8_validate((const uint8_t *)s, n) == n;
}

/* Checks one entry and returns its size in bytes. */
static int entry_bytes(const char *path, const st_entry *e, uint64_t *bytes, dk_err *err)
{
    if (!e->name || !e->name[0])
        return dk_errf(err, "%s: a tensor has an empty name", path);
    if (!valid_utf8(e->name))
        return dk_errf(err, "%s: tensor name is not valid UTF-8", path);
    if (strcmp(e->name, "__metadata__") == 0)
        return dk_errf(err, "%s: \"__metadata__\" is reserved and cannot name a tensor", path);
    if (e->dtype != ST_F32 && e->dtype != ST_BF16)
        return dk_errf(err, "%s: tensor \"%s\": can only write F32 or BF16, not %s", path,
                       show(e->name).s, st_dtype_name(e->dtype));
    if (e->ndim < 0 || e->ndim > ST_MAX_DIMS)
        return dk_errf(err, "%s: tensor \"%s\": %d dimensions (0..%d allowed)", path,
                       show(e->name).s, e->ndim, ST_MAX_DIMS);
    if (e->ndim > 0 && !e->shape)
        return dk_errf(err, "%s: tensor \"%s\": no shape", path, show(e->name).s);
    uint64_t numel = 1;
    for (int d = 0; d < e->ndim; d++)
        if (e->shape[d] > INT64_MAX || __builtin_mul_overflow(numel, e->shape[d], &numel))
            return dk_errf(err, "%s: tensor \"%s\": shape too large", path, show(e->name).s);
    if (__builtin_mul_overflow(numel, (uint64_t)st_dtype_size(e->dtype), bytes) ||
        *bytes > INT64_MAX || numel > SIZE_MAX / 4)
        return dk_errf(err, "%s: tensor \"%s\": shape too large", path, show(e->name).s);
    if (numel > 0 && !e->data)
        return dk_errf(err, "%s: tensor \"%s\": no data", path, show(e->name).s);
    return 0;
}

/* The header object: __metadata__ first, then the tensors in the order given. jansson
 * keeps insertion order (JSON_PRESERVE_ORDER), which makes the output deterministic. */
static json_t *build_header(const char *path, const st_entry *tensors, size_t n,
                            const char *const *meta_keys, const char *const *meta_vals,
                            size_t n_meta, dk_err *err)
{
    json_t *root = json_object();
    if (!root) {
        dk_errf(err, "%s: out of memory", path);
        return NULL;
    }
    if (n_meta) {
        json_t *m = json_object();
        if (json_object_set_new(root, "__metadata__", m) != 0) {
            dk_errf(err, "%s: out of memory", path);
            goto fail;
        }
        for (size_t i = 0; i < n_meta; i++) {
            const char *k = meta_keys[i], *v = meta_vals[i];
            if (!k || !v || !valid_utf8(k) || !valid_utf8(v)) {
                dk_errf(err, "%s: metadata entry %zu is missing or not valid UTF-8", path, i);
                goto fail;
            }
            if (json_object_get(m, k)) {
                dk_errf(err, "%s: metadata key \"%s\" given twice", path, show(k).s);
                goto fail;
            }
            if (json_object_set_new(m, k, json_string(v)) != 0) {
                dk_errf(err, "%s: out of memory", path);
                goto fail;
            }
        }
    }
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const st_entry *e = &tensors[i];
        uint64_t bytes = 0;
        if (entry_bytes(path, e, &bytes, err) != 0)
            goto fail;
        if (json_object_get(root, e->name)) {
            dk_errf(err, "%s: tensor \"%s\" given twice", path, show(e->name).s);
            goto fail;
        }
        if (__builtin_add_overflow(off, bytes, &off) || off > INT64_MAX) {
            dk_errf(err, "%s: tensors too large in total", path);
            goto fail;
        }
        /* json_object_set / json_array_append (not *_new) keep our references, so one
         * cleanup below is right on every path */
        json_t *t = json_object(), *sh = json_array(), *o = json_array();
        int bad = !t || !sh || !o;
        for (int d = 0; !bad && d < e->ndim; d++)
            bad = json_array_append_new(sh, json_integer((json_int_t)e->shape[d])) != 0;
        bad = bad || json_array_append_new(o, json_integer((json_int_t)(off - bytes))) != 0 ||
              json_array_append_new(o, json_integer((json_int_t)off)) != 0 ||
              json_object_set_new(t, "dtype", json_string(st_dtype_name(e->dtype))) != 0 ||
              json_object_set(t, "shape", sh) != 0 || json_object_set(t, "data_offsets", o) != 0 ||
              json_object_set(root, e->name, t) != 0;
        json_decref(t);
        json_decref(sh);
        json_decref(o);
        if (bad) {
            dk_errf(err, "%s: out of memory", path);
            goto fail;
        }
    }
    return root;
fail:
    json_decref(root);
    return NULL;
}

static void write_bf16(fs_atomic *a, const float *x, uint64_t numel)
{
    uint8_t buf[8192];
    size_t k = 0;
    for (uint64_t j = 0; j < numel; j++) {
        uint16_t b = st_f32_to_bf16(x[j]);
        buf[k++] = (uint8_t)b;
        buf[k++] = (uint8_t)(b >> 8);
        if (k == sizeof buf) {
            fs_atomic_write(a, buf, k);
            k = 0;
        }
    }
    fs_atomic_write(a, buf, k);
}

int st_write(const char *path, const st_entry *tensors, size_t n, const char *const *meta_keys,
             const char *const *meta_vals, size_t n_meta, dk_err *err)
{
    if (n > ST_MAX_TENSORS)
        return dk_errf(err, "%s: %zu tensors exceed the limit of %u", path, n, ST_MAX_TENSORS);
    json_t *root = build_header(path, tensors, n, meta_keys, meta_vals, n_meta, err);
    if (!root)
        return -1;
    char *h = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!h)
        return dk_errf(err, "%s: out of memory", path);
    size_t hl = strlen(h), padded = (hl + 7) / 8 * 8;
    if (padded > ST_MAX_HEADER) {
        free(h);
        return dk_errf(err, "%s: header of %zu bytes exceeds the limit of %u", path, padded,
                       ST_MAX_HEADER);
    }
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
            numel *= e->shape[d]; /* checked in build_header */
        if (e->dtype == ST_F32)
            fs_atomic_write(&a, e->data, (size_t)numel * 4);
        else
            write_bf16(&a, e->data, numel);
    }
    return fs_atomic_commit(&a, err); /* reports any failed write and removes the temp file */
}
