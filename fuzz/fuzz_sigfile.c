/* fuzz_sigfile.c: libFuzzer harness for signature files (src/data/sigfile.c), the
 * first pass of `dokja data build` made on another machine.
 *
 * Input: a mode byte, then the file. Mode odd: the file's trailing SHA-256 is set to
 * its bytes' real digest first, so the fuzzer gets past the checksum to the header,
 * table and sections (a random input never matches a digest). The settings the file is
 * checked against are its own (when its header's length is plausible), so the fuzzer
 * reaches the table.
 *
 * Any input must be refused with one line naming the file, or open into sections that
 * lie inside the file, whose kept-signature count equals their SIG_KEEP fates and whose
 * fates are all valid; every byte of every section is read (ASan catches a read past
 * the mapping). */
#include <stdlib.h>
#include <string.h>

#include "data/sigfile.h"
#include "fuzz_file.h"
#include "util/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HASHES 112

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fix = data[0] & 1;
    size_t n = size - 1;
    uint8_t *f = malloc(n ? n : 1);
    if (!f)
        return 0;
    memcpy(f, data + 1, n);
    if (fix && n >= 32)
        sha256_buf(f, n - 32, f + n - 32);
    char settings[4096] = "x";
    if (n >= 16) {
        uint32_t sl;
        memcpy(&sl, f + 12, 4);
        if (sl < sizeof settings && 16 + (size_t)sl <= n && !memchr(f + 16, 0, sl)) {
            memcpy(settings, f + 16, sl);
            settings[sl] = 0;
        }
    }
    const char *path = fuzz_file("in.sig", f, n);
    dk_err err;
    sig_set *s = sig_set_open(&path, 1, settings, HASHES, &err);
    if (!s) {
        if (!strstr(err.msg, path) || strchr(err.msg, '\n'))
            abort();
        free(f);
        return 0;
    }
    /* every section the table names is found, and is whole and consistent */
    if (n < 56)
        abort();
    uint64_t table, rows;
    memcpy(&table, f + n - 56, 8);
    memcpy(&rows, f + n - 48, 8);
    unsigned sum = 0;
    for (uint64_t i = 0; i < rows; i++) {
        uint64_t sz;
        memcpy(&sz, f + table + i * 64 + 32, 8);
        const sig_section *x = sig_set_find(s, f + table + i * 64, sz);
        if (!x)
            abort();
        uint64_t keeps = 0;
        for (uint64_t d = 0; d < x->n_docs; d++) {
            if (x->fates[d] >= SIG_N_FATES)
                abort();
            keeps += x->fates[d] == SIG_KEEP;
            for (int b = 0; b < 16; b++)
                sum += x->hashes[16 * d + (uint64_t)b];
        }
        if (keeps != x->n_signed)
            abort();
        for (uint64_t k = 0; k < x->n_signed * HASHES; k++)
            sum += x->kept[k];
        for (uint64_t k = 0; k < x->n_signed; k++)
            sum += x->has[k];
    }
    static volatile unsigned sink; /* the reads are what counts */
    sink = sum;
    sig_set_free(s);
    free(f);
    return 0;
}
