/* fuzz_checkpoint.c: libFuzzer harness for training checkpoints (src/train/checkpoint.c
 * on top of the safetensors reader): the metadata (config, step, seed, sampler state,
 * data hash) and the tensors a resumed run loads.
 *
 * The model is the seed corpus's (CONFIG below): a checkpoint of another shape must be
 * refused. Any input must be refused with one line naming the file, or load a state whose
 * cursors fit the dataset's sources. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_file.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "util/pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the seeds' model: fuzz/corpus/checkpoint/ holds checkpoints of it */
static const char CONFIG[] = "{\"hidden_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, "
                             "\"num_key_value_heads\": 1, \"intermediate_size\": 16, \"vocab_size\": 300, "
                             "\"max_position_embeddings\": 32}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static model *m;
    static float *fm, *fv;
    static pool *pl;
    dk_err err;
    if (!m) {
        model_config c;
        pl = pool_new(1);
        if (model_config_from_json(&c, CONFIG, "fuzz", &err) != 0 || model_new_ex(&m, &c, pl, 0, &err) != 0)
            abort();
        fm = malloc(model_numel(m) * sizeof *fm);
        fv = malloc(model_numel(m) * sizeof *fv);
    }
    const char *path = fuzz_file("step.safetensors", data, size);
    uint64_t cur[2];
    ckpt_state s = {.cursors = cur, .n_sources = 2};
    if (ckpt_load(path, m, fm, fv, &s, &err) != 0) {
        if (!strstr(err.msg, "step.safetensors") || strchr(err.msg, '\n'))
            abort();
        return 0;
    }
    if (s.step < 0 || s.n_sources != 2)
        abort();
    return 0;
}
