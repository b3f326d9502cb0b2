/* fuzz_ledger.c: libFuzzer harness for the training ledger's reader (src/ledger/ledger.c,
 * src/audit/view.c): the chain, the records' order and the genesis's content.
 *
 * Any bytes must be refused with one line naming the ledger file, or give a view whose
 * indexes are consistent: steps numbered from 1 in order, each pointing at a step record,
 * checkpoints at steps that exist. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/view.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(LEDGER_FILE, data, size);
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
