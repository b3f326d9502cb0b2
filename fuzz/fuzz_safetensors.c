/* fuzz_safetensors.c: libFuzzer harness for the safetensors reader. Any input must
 * either be rejected with a message or parse into tensors that can all be read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_file *f;
    dk_err err;
    if (st_open_buf(&f, data, size, "fuzz", &err) != 0)
        return 0;
    for (size_t i = 0; i < st_count(f); i++) {
        const st_tensor *t = st_tensor_at(f, i);
        if (st_find(f, t->name) != t)
            abort(); /* every name must find its own tensor */
        if (t->numel > (1u << 22))
            continue;
        float *out = malloc(t->numel ? t->numel * sizeof *out : 1);
        if (out && st_read_f32(f, t, out, &err) != 0)
            abort();
        free(out);
    }
    for (size_t i = 0; i < st_meta_count(f); i++)
        if (!st_meta(f, st_meta_key(f, i)))
            abort();
    st_close(f);
    return 0;
}
