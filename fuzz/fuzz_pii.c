/* fuzz_pii.c: libFuzzer harness for the personal-data scanner (src/data/pii.c).
 *
 * Any bytes: matches lie inside the text, in order, without overlap, never glued to an
 * ASCII letter or digit; the scrubbed text fits pii_scrub_bound and is the same twice;
 * its length is the input's minus the matches plus the placeholders. */
#include <stdlib.h>
#include <string.h>

#include "data/pii.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int word(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0, expect = size;
    uint64_t n[PII_N_TYPES] = {0};
    pii_match m;
    while (pii_find(data, size, pos, &m)) {
        if (m.start < pos || m.end <= m.start || m.end > size || m.type >= PII_N_TYPES)
            abort();
        if ((m.start > 0 && word(data[m.start - 1])) || (m.end < size && word(data[m.end])))
            abort();
        expect = expect - (m.end - m.start) + strlen(pii_placeholder[m.type]);
        n[m.type]++;
        pos = m.end;
    }
    uint8_t *a = malloc(pii_scrub_bound(size)), *b = malloc(pii_scrub_bound(size));
    uint64_t c[PII_N_TYPES] = {0};
    size_t la = pii_scrub(data, size, a, c), lb = pii_scrub(data, size, b, NULL);
    if (la != expect || la != lb || la > pii_scrub_bound(size) || memcmp(a, b, la) != 0 ||
        memcmp(c, n, sizeof c) != 0)
        abort();
    free(a);
    free(b);
    return 0;
}
