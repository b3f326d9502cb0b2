/* fuzz_config.c: libFuzzer harness for config.json (src/model/config.c).
 *
 * Any text must be refused with one line naming its origin, or give a validated config
 * that writes back as JSON which reads again into the same config. */
#include <stdlib.h>
#include <string.h>

#include "model/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    model_config c, d;
    dk_err err;
    if (model_config_from_json(&c, text, "fuzz", &err) != 0) {
        if (strncmp(err.msg, "fuzz", 4) != 0 || strchr(err.msg, '\n'))
            abort();
        free(text);
        return 0;
    }
    char *again = model_config_to_json(&c);
    if (!again || model_config_from_json(&d, again, "again", &err) != 0 || d.dim != c.dim ||
        d.n_layers != c.n_layers || d.n_heads != c.n_heads || d.n_kv_heads != c.n_kv_heads ||
        d.ffn_dim != c.ffn_dim || d.vocab_size != c.vocab_size || d.max_seq != c.max_seq ||
        d.tie_embeddings != c.tie_embeddings || d.qkv_bias != c.qkv_bias || d.head_dim != c.head_dim)
        abort();
    free(again);
    free(text);
    return 0;
}
