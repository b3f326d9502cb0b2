/* fuzz_ledger.c: libFuzzer harness for the training ledger's reader (src/ledger/ledger.c,
 * src/audit/view.c): the chain, the records' order and the genesis's content.
 *
 * Any bytes must be refused with one line naming the ledger file, or give a view whose
 * indexes are consistent: steps numbered from 1 in order, each pointing at a step record,
 * checkpoints at steps that exist. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/view.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Mode 2: the input's lines are records without "n" and "prev", chained by the writer,
 * so the fuzzer reaches the records' parser (a raw input rarely gets past the chain). A
 * line that is not a JSON object is written raw. */
static const char *chained(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(LEDGER_FILE, (const uint8_t *)"", 0);
    unlink(path);
    ledger_writer w;
    dk_err err;
    if (ledger_create(&w, path, &err) != 0)
        abort();
    for (size_t b = 0; b < size;) {
        const uint8_t *nl = memchr(data + b, '\n', size - b);
        size_t e = nl ? (size_t)(nl - data) : size;
        json_t *j = json_loadb((const char *)data + b, e - b, 0, NULL);
        if (json_is_object(j)) {
            json_object_del(j, "n");
            json_object_del(j, "prev");
            ledger_append(&w, j, &err);
        } else {
            fwrite(data + b, 1, e - b, w.f);
            fputc('\n', w.f);
        }
        json_decref(j);
        b = e + 1;
    }
    ledger_close(&w);
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *path = data[0] & 1 ? chained(data + 1, size - 1) : fuzz_file(LEDGER_FILE, data + 1, size - 1);
    char dir[256];
    snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(path, '/') - path), path);
    ledger_view v;
    dk_err err;
    if (view_open(&v, dir, &err) != 0) {
        if (!strstr(err.msg, LEDGER_FILE) || strchr(err.msg, '\n'))
            abort();
        return 0;
    }
    for (long k = 0; k < v.n_steps; k++)
        if (v.st[k].step != k + 1 || strcmp(v.l.r[v.st[k].rec].type, "step") != 0)
            abort();
    for (size_t i = 0; i < v.n_ck; i++)
        if (v.ck[i].step < 1 || v.ck[i].step > v.n_steps || strcmp(v.l.r[v.ck[i].rec].type, "checkpoint") != 0)
            abort();
    if (!v.genesis || !v.init || v.seq_len <= 0 || v.data.n_sources == 0)
        abort();
    view_close(&v);
    return 0;
}
