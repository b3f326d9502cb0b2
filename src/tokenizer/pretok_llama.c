/* pretok_llama.c: see pretok_llama.h. The code point lookup and the helpers every
 * llama.cpp-compatible splitter shares. */
#include "tokenizer/pretok_llama.h"

#include <string.h>

/* Flags of U+0000..007F, the same as the generated table gives (checked by a test). */
const uint8_t PRETOK_ASCII_FLAGS[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8, 8, 0, 0, /* \t \n \v \f \r */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* space */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, /* 0-9 */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* A-Z */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* a-z */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
};

uint8_t pretok_ucd_flags(uint32_t cp)
{
    if (cp > 0x10FFFF)
        return 0;
    size_t lo = 0, hi = PRETOK_UCD_N_RANGES; /* find the last range with first <= cp */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (PRETOK_UCD_RANGES[mid].first <= cp)
            lo = mid;
        else
            hi = mid;
    }
    return PRETOK_UCD_RANGES[lo].flags;
}

size_t pretok_ws_run(const uint8_t *s, size_t n, size_t pos, size_t *count, size_t *last, size_t *after_crlf)
{
    size_t k = 0;
    *last = pos;
    *after_crlf = 0;
    for (;;) {
        pch c = pch_at(s, n, pos);
        if (!(c.flags & UCD_SPACE))
            break;
        if (c.cp == '\r' || c.cp == '\n')
            *after_crlf = pos + 1;
        *last = pos;
        pos += c.len;
        k++;
    }
    *count = k;
    return pos;
}

/* Is the character that ends at p (p > 0) white space? */
static int space_before(const uint8_t *s, size_t p)
{
    size_t i = p - 1, back = 0;
    while (i > 0 && back < 3 && (s[i] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    pch c = pch_at(s, p, i);
    if (i + c.len != p) /* the bytes before p are not one character: invalid, "other" */
        return 0;
    return (c.flags & UCD_SPACE) != 0;
}

size_t pretok_llama_safe_split(const uint8_t *s, size_t n, size_t target)
{
    for (size_t p = target; p < n;) {
        const uint8_t *nl = memchr(s + p, '\n', n - p);
        if (!nl)
            return n;
        p = (size_t)(nl - s) + 1;
        if (p >= n)
            return n;
        if (!(pch_at(s, n, p).flags & UCD_SPACE) && (p == 1 || !space_before(s, p - 1)))
            return p;
    }
    return n;
}
