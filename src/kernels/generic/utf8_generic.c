/* utf8_generic.c: UTF-8 validation (kern_ops.h: utf8_valid) one character at a time,
 * with 8 ASCII bytes at a time; also how the vector paths find the exact offset once
 * a block of theirs holds an error. */
#include <string.h>

#include "kernels/generic/generic.h"
#include "util/utf8.h"

size_t generic_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) { /* ASCII: 8 bytes at a time while no high bit is set */
            uint64_t w;
            while (i + 8 <= n && (memcpy(&w, s + i, 8), (w & 0x8080808080808080ULL) == 0))
                i += 8;
            if (i < n && s[i] < 0x80)
                i++;
            continue;
        }
        uint32_t cp;
        size_t l = utf8_decode(s + i, n - i, &cp);
        if (l == 0)
            return i;
        i += l;
    }
    return n;
}

size_t utf8_error_from(const uint8_t *s, size_t n, size_t i)
{
    /* A block flags an error at most 3 bytes after it (a lead byte whose continuation
     * bytes are missing), so the first error is at or after i - 3; a character that
     * starts before i - 3 is whole (the blocks before were clean) and ends by i, so
     * stepping over continuation bytes from i - 3 lands on a character's start. */
    size_t b = i >= 3 ? i - 3 : 0;
    while (b < i && (s[b] & 0xC0) == 0x80)
        b++;
    return b + generic_utf8_valid(s + b, n - b);
}
