/* pretok_gpt2.c: the "gpt-2" splitter and its digit-separating variant "exaone"
 * (see pretok_llama.h). It follows llama.cpp's unicode_regex_split_custom_gpt2 step
 * by step, on bytes instead of a code point array:
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
#include "tokenizer/pretok_llama.h"

/* The character at i, where a number character ends the text when digits_apart. */
static inline __attribute__((always_inline)) pch get(const uint8_t *s, size_t n, size_t i, int digits_apart)
{
    pch c = pch_at(s, n, i);
    if (digits_apart && (c.flags & UCD_NUMBER))
        return (pch){PCH_OUT, 0, 0};
    return c;
}

size_t pretok_gpt2_next(const uint8_t *s, size_t n, size_t pos, int digits_apart)
{
    pch c = pch_at(s, n, pos);
    if (digits_apart && (c.flags & UCD_NUMBER))
        return pos + c.len;

    if (c.cp == '\'') { /* 's|'t|'re|'ve|'m|'ll|'d (lower case only) */
        uint32_t c1 = get(s, n, pos + 1, digits_apart).cp;
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd')
            return pos + 2;
        uint32_t c2 = c1 == PCH_OUT ? PCH_OUT : get(s, n, pos + 2, digits_apart).cp;
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
            return pos + 3;
    }

    size_t p = pos;
    uint8_t f2 = c.flags;
    if (c.cp == ' ') {
        f2 = get(s, n, pos + 1, digits_apart).flags;
        if (f2 & (UCD_LETTER | UCD_NUMBER) || (f2 && !(f2 & UCD_SPACE)))
            p = pos + 1; /* the optional leading space of the next three */
    }
    uint8_t want = 0;
    if (f2 & UCD_LETTER)
        want = UCD_LETTER; /* ?\p{L}+ */
    else if (f2 & UCD_NUMBER)
        want = UCD_NUMBER; /* ?\p{N}+ */
    if (want) {
        for (;;) {
            pch d = get(s, n, p, digits_apart);
            if (!(d.flags & want))
                return p;
            p += d.len;
        }
    }
    if (f2 && !(f2 & (UCD_SPACE | UCD_LETTER | UCD_NUMBER))) { /* ?[^\s\p{L}\p{N}]+ */
        for (;;) {
            pch d = get(s, n, p, digits_apart);
            if (!d.flags || (d.flags & (UCD_SPACE | UCD_LETTER | UCD_NUMBER)))
                return p;
            p += d.len;
        }
    }

    /* White space: \s+(?!\S) leaves the last one when more text follows, else \s+. */
    size_t k = 0, last = pos, end = pos;
    for (;;) {
        pch d = get(s, n, end, digits_apart);
        if (!(d.flags & UCD_SPACE))
            break;
        last = end;
        end += d.len;
        k++;
    }
    if (k > 1 && get(s, n, end, digits_apart).cp != PCH_OUT)
        return last;
    if (k > 0)
        return end;
    return pos + c.len; /* unreachable for a character inside the text */
}
