/* gguf_write.c: writing GGUF v3 (see gguf.h).
 *
 * Metadata is serialised into one growing buffer as it is added; tensors are kept as
 * descriptions pointing at the caller's float32 rows and converted one row at a time
 * while the file is written, so exporting a model costs its float32 weights plus a row.
 * Any error is remembered and reported by gguf_writer_save before a file is created. */
#include <stdlib.h>
#include <string.h>

#include "io/gguf.h"
#include "io/safetensors.h"
#include "util/fs.h"
#include "util/utf8.h"

typedef struct {
    char name[GGUF_MAX_NAME + 1];
    uint32_t type;
    int n_dims;
    uint64_t ne[GGUF_MAX_DIMS];
    uint64_t nbytes, offset;
    const float *data;
    const uint32_t *row_perm;
} w_tensor;

struct gguf_writer {
    uint8_t *kv;
    size_t kv_len, kv_cap;
    uint64_t n_kv;
    char **keys;
    w_tensor *t;
    size_t n_t, t_cap;
    char bad[300]; /* the first error, reported at save */
};

gguf_writer *gguf_writer_new(void) { return calloc(1, sizeof(gguf_writer)); }

void gguf_writer_free(gguf_writer *w)
{
    if (!w)
        return;
    for (uint64_t i = 0; i < w->n_kv; i++)
        free(w->keys[i]);
    free(w->keys);
    free(w->kv);
    free(w->t);
    free(w);
}

static void fail(gguf_writer *w, const char *msg, const char *what)
{
    if (!w->bad[0])
        snprintf(w->bad, sizeof w->bad, "%s: %s", what, msg);
}

static void put(gguf_writer *w, const void *p, size_t n)
{
    if (w->bad[0])
        return;
    if (w->kv_len + n > w->kv_cap) {
        size_t cap = w->kv_cap ? w->kv_cap : 4096;
        while (cap < w->kv_len + n)
            cap *= 2;
        uint8_t *q = realloc(w->kv, cap);
        if (!q) {
            fail(w, "out of memory", "metadata");
            return;
        }
        w->kv = q;
        w->kv_cap = cap;
    }
    memcpy(w->kv + w->kv_len, p, n);
    w->kv_len += n;
}

static void put_u32(gguf_writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(w, b, 4);
}

static void put_u64(gguf_writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, 8);
}

static void put_str(gguf_writer *w, const char *s, size_t n)
{
    put_u64(w, n);
    put(w, s, n);
}

/* Starts a key: checks it is new and valid, writes it and the value type. */
static int key(gguf_writer *w, const char *k, gguf_vtype type)
{
    size_t n = strlen(k);
    if (n == 0 || utf8_validate((const uint8_t *)k, n) != n) {
        fail(w, "invalid key", k);
        return -1;
    }
    for (uint64_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->keys[i], k) == 0) {
            fail(w, "duplicate key", k);
            return -1;
        }
    char **keys = realloc(w->keys, (w->n_kv + 1) * sizeof *keys);
    char *copy = strdup(k);
    if (!keys || !copy) {
        free(copy);
        if (keys)
            w->keys = keys;
        fail(w, "out of memory", k);
        return -1;
    }
    w->keys = keys;
    w->keys[w->n_kv++] = copy;
    put_str(w, k, n);
    put_u32(w, (uint32_t)type);
    return w->bad[0] ? -1 : 0;
}

void gguf_w_u32(gguf_writer *w, const char *k, uint32_t v)
{
    if (key(w, k, GGUF_UINT32) == 0)
        put_u32(w, v);
}

void gguf_w_i32(gguf_writer *w, const char *k, int32_t v)
{
    if (key(w, k, GGUF_INT32) == 0)
        put_u32(w, (uint32_t)v);
}

void gguf_w_f32(gguf_writer *w, const char *k, float v)
{
    uint32_t b;
    memcpy(&b, &v, 4);
    if (key(w, k, GGUF_FLOAT32) == 0)
        put_u32(w, b);
}

void gguf_w_bool(gguf_writer *w, const char *k, int v)
{
    uint8_t b = v != 0;
    if (key(w, k, GGUF_BOOL) == 0)
        put(w, &b, 1);
}

void gguf_w_str(gguf_writer *w, const char *k, const char *s)
{
    if (key(w, k, GGUF_STRING) == 0)
        put_str(w, s, strlen(s));
}

void gguf_w_arr_str(gguf_writer *w, const char *k, const char *const *s, const size_t *len, size_t n)
{
    if (key(w, k, GGUF_ARRAY) != 0)
        return;
    put_u32(w, GGUF_STRING);
    put_u64(w, n);
    for (size_t i = 0; i < n; i++)
        put_str(w, s[i], len[i]);
}

void gguf_w_arr_i32(gguf_writer *w, const char *k, const int32_t *v, size_t n)
{
    if (key(w, k, GGUF_ARRAY) != 0)
        return;
    put_u32(w, GGUF_INT32);
    put_u64(w, n);
    for (size_t i = 0; i < n; i++)
        put_u32(w, (uint32_t)v[i]);
}

void gguf_w_arr_f32(gguf_writer *w, const char *k, const float *v, size_t n)
{
    if (key(w, k, GGUF_ARRAY) != 0)
        return;
    put_u32(w, GGUF_FLOAT32);
    put_u64(w, n);
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &v[i], 4);
        put_u32(w, b);
    }
}

void gguf_w_raw(gguf_writer *w, const char *k, gguf_vtype t, const uint8_t *raw, size_t n)
{
    if (key(w, k, t) == 0)
        put(w, raw, n);
}

void gguf_w_tensor(gguf_writer *w, const char *name, uint32_t type, int n_dims, const uint64_t *ne,
                   const float *data, const uint32_t *row_perm)
{
    if (w->bad[0])
        return;
    size_t n = strlen(name);
    if (n == 0 || n > GGUF_MAX_NAME || utf8_validate((const uint8_t *)name, n) != n)
        return fail(w, "invalid tensor name", name);
    for (size_t i = 0; i < w->n_t; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return fail(w, "duplicate tensor", name);
    if (type != GGML_F32 && type != GGML_F16 && type != GGML_BF16 && type != GGML_Q8_0)
        return fail(w, "tensor type not writable (F32, F16, BF16, Q8_0)", name);
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS)
        return fail(w, "bad dimension count", name);
    if (w->n_t == w->t_cap) {
        size_t cap = w->t_cap ? 2 * w->t_cap : 64;
        w_tensor *t = realloc(w->t, cap * sizeof *t);
        if (!t)
            return fail(w, "out of memory", name);
        w->t = t;
        w->t_cap = cap;
    }
    w_tensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, n + 1);
    t->type = type;
    t->n_dims = n_dims;
    uint64_t numel = 1;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = d < n_dims ? ne[d] : 1;
        if (t->ne[d] == 0 || t->ne[d] > (uint64_t)INT64_MAX / numel)
            return fail(w, "bad shape", name);
        numel *= t->ne[d];
    }
    uint32_t block, bytes;
    ggml_type_block(type, &block, &bytes);
    if (t->ne[0] % block != 0)
        return fail(w, "first dimension is not a multiple of the type's block", name);
    t->nbytes = numel / block * bytes;
    t->data = data;
    t->row_perm = row_perm;
    w->n_t++;
}

/* Converts one row of w floats to type into out. */
static void convert_row(uint32_t type, const float *x, uint64_t w, uint8_t *out)
{
    switch (type) {
    case GGML_F32:
        memcpy(out, x, w * 4);
        break;
    case GGML_F16:
        for (uint64_t i = 0; i < w; i++) {
            uint16_t h = ggml_f32_to_f16(x[i]);
            out[2 * i] = (uint8_t)h;
            out[2 * i + 1] = (uint8_t)(h >> 8);
        }
        break;
    case GGML_BF16:
        for (uint64_t i = 0; i < w; i++) {
            uint16_t h = st_f32_to_bf16(x[i]);
            out[2 * i] = (uint8_t)h;
            out[2 * i + 1] = (uint8_t)(h >> 8);
        }
        break;
    case GGML_Q8_0:
        for (uint64_t b = 0; b < w / 32; b++)
            ggml_quantize_q8_0(x + 32 * b, out + 34 * b);
        break;
    }
}

int gguf_writer_save(gguf_writer *w, const char *path, dk_err *err)
{
    if (w->bad[0])
        return dk_errf(err, "%s: %s", path, w->bad);
    /* the header: magic, version, counts, metadata, tensor infos */
    uint8_t *kv = w->kv;
    size_t kv_len = w->kv_len;
    w->kv = NULL;
    w->kv_len = w->kv_cap = 0;
    put(w, "GGUF", 4);
    put_u32(w, 3);
    put_u64(w, w->n_t);
    put_u64(w, w->n_kv);
    put(w, kv, kv_len);
    free(kv);
    uint64_t off = 0, align = GGUF_DEFAULT_ALIGNMENT, row_max = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        w_tensor *t = &w->t[i];
        t->offset = off;
        off = (off + t->nbytes + align - 1) / align * align;
        put_str(w, t->name, strlen(t->name));
        put_u32(w, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims; d++)
            put_u64(w, t->ne[d]);
        put_u32(w, t->type);
        put_u64(w, t->offset);
        if (t->ne[0] * 4 > row_max)
            row_max = t->ne[0] * 4; /* no type takes more bytes per element than F32 */
    }
    static const uint8_t zeros[GGUF_DEFAULT_ALIGNMENT] = {0};
    put(w, zeros, (size_t)((align - w->kv_len % align) % align));
    if (w->bad[0])
        return dk_errf(err, "%s: %s", path, w->bad);
    uint8_t *row = malloc(row_max ? row_max : 1);
    if (!row)
        return dk_errf(err, "%s: out of memory", path);
    fs_atomic a;
    if (fs_atomic_open(&a, path, err) != 0) {
        free(row);
        return -1;
    }
    fs_atomic_write(&a, w->kv, w->kv_len);
    uint64_t pos = 0;
    for (size_t i = 0; i < w->n_t && !a.failed; i++) {
        const w_tensor *t = &w->t[i];
        fs_atomic_write(&a, zeros, (size_t)(t->offset - pos));
        uint64_t rows = t->ne[1] * t->ne[2] * t->ne[3], row_bytes = t->nbytes / rows;
        for (uint64_t r = 0; r < rows && !a.failed; r++) {
            uint64_t src = t->row_perm ? t->row_perm[r] : r;
            convert_row(t->type, t->data + src * t->ne[0], t->ne[0], row);
            fs_atomic_write(&a, row, (size_t)row_bytes);
        }
        pos = t->offset + t->nbytes;
    }
    /* llama.cpp's writer pads the last tensor too: its reader sizes the data section
     * as the sum of padded tensor sizes */
    fs_atomic_write(&a, zeros, (size_t)((align - pos % align) % align));
    free(row);
    return fs_atomic_commit(&a, err);
}
