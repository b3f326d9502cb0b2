/* fuzz_safetensors.c: libFuzzer harness for the safetensors reader.
 *
 * Any input must either be rejected with a message naming the file, or open into
 * tensors that keep every promise of io/safetensors.h: they tile the data section
 * exactly, sizes agree with shapes, every name finds its own tensor, and every tensor
 * can be read (ASan catches any byte read outside the input). A broken promise aborts,
 * which libFuzzer reports as a crash.
 *
 * Files that open are also written back with st_write (F16 as F32, which is exact) and
 * read again: names, shapes, metadata and values must survive, which tests the writer's
 * JSON escaping against the reader on whatever names the fuzzer invents. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_READ_FLOATS ((uint64_t)1 << 22) /* 16 MiB of floats per tensor */

static void check_tensors(const st_file *f, const uint8_t *data, size_t size)
{
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = hl << 8 | data[i];
    const uint8_t *base = data + 8 + hl;
    uint64_t data_len = size - 8 - hl, at = 0;
    for (size_t i = 0; i < st_count(f); i++) {
        const st_tensor *t = st_tensor_at(f, i);
        uint64_t numel = 1;
        for (int d = 0; d < t->ndim; d++)
            numel *= t->shape[d];
        if (!t->name[0] || t->ndim < 0 || t->ndim > ST_MAX_DIMS || numel != t->numel)
            abort();
        if (t->begin != at || t->end < t->begin || t->end > data_len ||
            t->end - t->begin != t->numel * st_dtype_size(t->dtype))
            abort();
        if (st_raw(f, t) != base + t->begin || st_find(f, t->name) != t)
            abort();
        at = t->end;
        if (t->numel > MAX_READ_FLOATS)
            continue;
        float *out = malloc(t->numel ? t->numel * sizeof *out : 1);
        dk_err err;
        if (!out)
            continue;
        if (st_read_f32(f, t, out, &err) != 0)
            abort();
        if (t->dtype == ST_F32 && memcmp(out, st_raw(f, t), t->numel * 4) != 0)
            abort();
        free(out);
    }
    if (at != data_len || st_tensor_at(f, st_count(f)) != NULL || st_find(f, "") != NULL)
        abort();
}

static float *read_all(const st_file *f, size_t *n_out)
{
    uint64_t n = 0;
    for (size_t i = 0; i < st_count(f); i++)
        n += st_tensor_at(f, i)->numel; /* no overflow: each is backed by input bytes */
    *n_out = (size_t)n;
    if (n > MAX_READ_FLOATS)
        return NULL;
    float *x = malloc((n ? n : 1) * sizeof *x);
    dk_err err;
    for (size_t i = 0, o = 0; x && i < st_count(f); o += st_tensor_at(f, i)->numel, i++)
        if (st_read_f32(f, st_tensor_at(f, i), x + o, &err) != 0)
            abort();
    return x;
}

static int same_float(float a, float b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, 4) == 0; /* bf16 NaN payloads may change */
}

static void check_round_trip(const st_file *f)
{
    static char path[128];
    if (!path[0]) {
        /* tmpfs: the writer's fsyncs cost nothing there */
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof path, "%s/fuzz_safetensors_%ld.st", dir, (long)getpid());
    }
    size_t n = st_count(f), nm = st_meta_count(f), total;
    float *x = read_all(f, &total);
    st_entry *e = calloc(n ? n : 1, sizeof *e);
    const char **k = calloc(nm ? nm : 1, sizeof *k), **v = calloc(nm ? nm : 1, sizeof *v);
    if (!x || !e || !k || !v)
        goto done;
    for (size_t i = 0, o = 0; i < n; o += st_tensor_at(f, i)->numel, i++) {
        const st_tensor *t = st_tensor_at(f, i);
        st_dtype d = t->dtype == ST_BF16 ? ST_BF16 : ST_F32; /* F16 -> F32 is exact */
        e[i] = (st_entry){t->name, d, t->ndim, t->shape, x + o};
    }
    for (size_t i = 0; i < nm; i++) {
        k[i] = st_meta_key(f, i);
        v[i] = st_meta_val(f, i);
    }
    dk_err err;
    if (st_write(path, e, n, k, v, nm, &err) != 0) {
        /* a full or read-only /dev/shm is not a bug; any other refusal is: the writer
         * refused what the reader accepted */
        static const char *const io[] = {"cannot create", "write failed", "fsync failed",
                                         "close failed", "cannot rename"};
        int io_error = 0;
        for (size_t i = 0; i < sizeof io / sizeof io[0]; i++)
            io_error |= strstr(err.msg, io[i]) != NULL;
        if (!io_error)
            abort();
        goto done;
    }
    st_file *g;
    if (st_open(&g, path, &err) != 0)
        abort(); /* the reader refused what the writer wrote */
    unlink(path);
    size_t total2;
    float *y = read_all(g, &total2);
    if (st_count(g) != n || st_meta_count(g) != nm || total2 != total)
        abort();
    for (size_t i = 0; i < n; i++) {
        const st_tensor *a = st_tensor_at(f, i), *b = st_tensor_at(g, i);
        if (strcmp(a->name, b->name) != 0 || a->ndim != b->ndim || a->numel != b->numel ||
            memcmp(a->shape, b->shape, sizeof a->shape) != 0 ||
            b->dtype != (a->dtype == ST_BF16 ? ST_BF16 : ST_F32))
            abort();
    }
    for (size_t i = 0; i < nm; i++)
        if (strcmp(st_meta_key(g, i), k[i]) != 0 || strcmp(st_meta_val(g, i), v[i]) != 0)
            abort();
    for (size_t i = 0; y && i < total; i++)
        if (!same_float(x[i], y[i]))
            abort();
    free(y);
    st_close(g);
done:
    free(x);
    free(e);
    free(k);
    free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_file *f;
    dk_err err;
    if (st_open_buf(&f, data, size, "fuzz", &err) != 0) {
        if (f != NULL || strncmp(err.msg, "fuzz: ", 6) != 0)
            abort(); /* every rejection names the file */
        return 0;
    }
    check_tensors(f, data, size);
    for (size_t i = 0; i < st_meta_count(f); i++) {
        const char *v = st_meta(f, st_meta_key(f, i));
        if (!v || strcmp(v, st_meta_val(f, i)) != 0)
            abort(); /* keys are distinct, so lookup finds the i-th value */
    }
    check_round_trip(f);
    st_close(f);
    return 0;
}
