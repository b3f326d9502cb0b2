/* fuzz_task.c: libFuzzer harness for multiple-choice task files (JSONL,
 * src/eval/task.c).
 *
 * Any input must be refused with one line naming the file, or load into items whose
 * gold answer is one of their choices. */
#include <string.h>

#include "eval/task.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("task.jsonl", data, size);
    mc_task t;
    dk_err err;
    if (mc_task_load_jsonl(&t, path, &err) != 0) {
        if (!strstr(err.msg, "task.jsonl") || strchr(err.msg, '\n'))
            abort();
        return 0;
    }
    for (size_t i = 0; i < t.n; i++) {
        const mc_item *it = &t.items[i];
        if (!it->context || it->n_choices < 2 || it->gold < 0 || it->gold >= it->n_choices)
            abort();
        for (int k = 0; k < it->n_choices; k++)
            if (!it->choices[k])
                abort();
    }
    mc_task_free(&t);
    return 0;
}
