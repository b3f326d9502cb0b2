/* nfc.c: see nfc.h. */
#include "tokenizer/nfc.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "util/grow.h"
#include "util/utf8.h"

/* A code point that is its own NFC, has combining class 0 and composes with nothing
 * that follows it unless that follower is itself outside the set (a combining mark, a
 * Hangul vowel or final Jamo): text made only of these is NFC. */
static int inert(uint32_t cp)
{
    return cp < 0x300 || (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0x4E00 && cp <= 0x9FFF);
}

int nfc_may_change(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t l = utf8_decode(s + i, n - i, &cp);
        if (l == 0) { /* an invalid byte: passed through, never composed */
            i++;
            continue;
        }
        if (!inert(cp))
            return 1;
        i += l;
    }
    return 0;
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
    uint8_t *p = dk_grow(*buf, cap, need ? need : 1, 1, 256);
    if (!p)
        return -1;
    *buf = p;
    return 0;
}

long nfc_compose(const uint8_t *s, size_t n, uint8_t **buf, size_t *cap)
{
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        size_t run = utf8_validate(s + i, n - i); /* the valid bytes from i */
        if (run > 0) {
            utf8proc_uint8_t *d = NULL;
            utf8proc_ssize_t k = utf8proc_map(s + i, (utf8proc_ssize_t)run, &d, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
            if (k == UTF8PROC_ERROR_INVALIDUTF8) { /* a code point utf8proc refuses: as it is */
                d = NULL;
                if (grow(buf, cap, out + run) != 0)
                    return -1;
                memcpy(*buf + out, s + i, run);
                out += run;
                i += run;
                continue;
            }
            if (k < 0 || grow(buf, cap, out + (size_t)k) != 0) {
                free(d);
                return -1;
            }
            memcpy(*buf + out, d, (size_t)k);
            free(d);
            out += (size_t)k;
            i += run;
        }
        if (i < n) { /* one invalid byte, as it is */
            if (grow(buf, cap, out + 1) != 0)
                return -1;
            (*buf)[out++] = s[i++];
        }
    }
    return (long)out;
}
