/* byte_unicode.c: GPT-2's byte-to-unicode alphabet (see byte_unicode.h). */
#include "interop/byte_unicode.h"

#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

static int printable(unsigned b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

uint32_t byte_unicode_cp(uint8_t b)
{
    if (printable(b))
        return b;
    uint32_t k = 0; /* rank of b among the non-printable bytes */
    for (unsigned x = 0; x < b; x++)
        k += !printable(x);
    return 0x100 + k;
}

char *byte_unicode_encode(const uint8_t *bytes, size_t n, size_t *out_len)
{
    char *s = malloc(2 * n + 1); /* every code point here is < U+0800: at most 2 bytes */
    if (!s)
        return NULL;
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += utf8_encode(byte_unicode_cp(bytes[i]), (uint8_t *)s + len);
    s[len] = 0;
    *out_len = len;
    return s;
}

long byte_unicode_decode(const uint8_t *text, size_t n, uint8_t *out)
{
    static int16_t inv[0x144];
    static int ready;
    if (!ready) { /* benign race: every thread writes the same values */
        for (unsigned i = 0; i < 0x144; i++)
            inv[i] = -1;
        for (unsigned b = 0; b < 256; b++)
            inv[byte_unicode_cp((uint8_t)b)] = (int16_t)b;
        ready = 1;
    }
    long k = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = utf8_decode(text + i, n - i, &cp);
        if (l == 0 || cp >= 0x144 || inv[cp] < 0)
            return -1;
        out[k++] = (uint8_t)inv[cp];
        i += l;
    }
    return k;
}

typedef struct {
    char *const *t;
    const size_t *len;
} dup_ctx;

static int cmp(const void *a, const void *b, void *ctx)
{
    const dup_ctx *c = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (c->len[i] != c->len[j])
        return c->len[i] < c->len[j] ? -1 : 1;
    int r = memcmp(c->t[i], c->t[j], c->len[i]);
    return r ? r : (i < j ? -1 : i > j);
}

int byte_unicode_find_duplicate(char *const *texts, const size_t *lens, size_t n, size_t *a, size_t *b)
{
    size_t *o = malloc((n ? n : 1) * sizeof *o);
    if (!o)
        return -1;
    for (size_t i = 0; i < n; i++)
        o[i] = i;
    dup_ctx c = {texts, lens};
    qsort_r(o, n, sizeof *o, cmp, &c);
    int found = 0;
    for (size_t i = 1; i < n && !found; i++)
        if (lens[o[i]] == lens[o[i - 1]] && memcmp(texts[o[i]], texts[o[i - 1]], lens[o[i]]) == 0) {
            *a = o[i - 1];
            *b = o[i];
            found = 1;
        }
    free(o);
    return found;
}
