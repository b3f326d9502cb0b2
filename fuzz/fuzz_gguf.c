/* fuzz_gguf.c: libFuzzer harness for the GGUF reader.
 *
 * Any input must either be rejected with a message naming the file, or open into a
 * file that keeps every promise of io/gguf.h: every tensor lies inside the input with
 * its size agreeing with its shape and type, names find their own tensors, no two
 * tensors overlap, every key finds itself and every array element can be read
 * (ASan catches any byte read outside the input). Tensors of the types dokja converts
 * are read whole, and the F32 ones must read back as their own bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_READ_FLOATS ((uint64_t)1 << 22)

static void check_kv(const gguf_file *f)
{
    dk_err err;
    for (size_t i = 0; i < gguf_n_kv(f); i++) {
        const char *k = gguf_kv_key(f, i);
        if (!k || !k[0] || gguf_find(f, k) != (int)i)
            abort();
        gguf_vtype et;
        uint64_t n;
        if (gguf_kv_type(f, i) == GGUF_ARRAY) {
            if (gguf_get_arr(f, k, &et, &n, &err) != 0)
                abort();
            for (uint64_t j = 0; j < n && j < 4096; j++) {
                if (et == GGUF_STRING) {
                    size_t len;
                    const uint8_t *s = gguf_arr_str(f, i, j, &len);
                    volatile uint8_t sink = len ? s[len - 1] : 0;
                    (void)sink;
                } else {
                    volatile double x = gguf_arr_float(f, i, j);
                    (void)x;
                }
            }
        } else if (gguf_kv_type(f, i) == GGUF_STRING) {
            const uint8_t *s;
            size_t len;
            if (gguf_get_str(f, k, &s, &len, &err) != 0)
                abort();
            volatile uint8_t sink = len ? s[len - 1] : 0;
            (void)sink;
        } else {
            uint32_t u;
            double d;
            (void)gguf_get_u32(f, k, &u, &err); /* may be out of range or a float: no crash */
            (void)gguf_get_f64(f, k, &d, &err);
        }
    }
}

static void check_tensors(const gguf_file *f, const uint8_t *data, size_t size)
{
    dk_err err;
    for (size_t i = 0; i < gguf_n_tensors(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        uint32_t block, bytes;
        if (!t->name[0] || strlen(t->name) > GGUF_MAX_NAME || gguf_find_tensor(f, t->name) != t ||
            ggml_type_block(t->type, &block, &bytes) != 0 || t->ne[0] % block != 0 ||
            t->nbytes != t->numel / block * bytes)
            abort();
        const uint8_t *p = gguf_tensor_data(f, t);
        if (p < data || p > data + size || t->nbytes > (uint64_t)(data + size - p))
            abort();
        for (size_t j = 0; j < gguf_n_tensors(f); j++) {
            const gguf_tensor *u = gguf_tensor_at(f, j);
            if (j != i && t->offset < u->offset + u->nbytes && u->offset < t->offset + t->nbytes)
                abort();
        }
        if (t->numel > MAX_READ_FLOATS)
            continue;
        float *out = malloc(t->numel * sizeof *out);
        if (!out)
            continue;
        int supported = t->type == GGML_F32 || t->type == GGML_F16 || t->type == GGML_BF16 ||
                        t->type == GGML_Q8_0;
        int rc = gguf_read_rows_f32(f, t, 0, t->numel / t->ne[0], out, &err);
        if ((rc == 0) != supported)
            abort();
        if (t->type == GGML_F32 && memcmp(out, p, t->nbytes) != 0)
            abort();
        free(out);
    }
    if (gguf_tensor_at(f, gguf_n_tensors(f)) != NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gguf_file *f;
    dk_err err;
    if (gguf_open_buf(&f, data, size, "fuzz", &err) != 0) {
        if (strncmp(err.msg, "fuzz: ", 6) != 0 || strchr(err.msg, '\n'))
            abort(); /* every rejection is one line naming the file */
        return 0;
    }
    check_kv(f);
    check_tensors(f, data, size);
    gguf_close(f);
    return 0;
}
