/* pretok_llama3.c: the "llama-bpe" and "qwen2" splitters (see pretok_llama.h). It
 * follows llama.cpp's unicode_regex_split_custom_llama3 step by step; "qwen2" goes
 * through std::regex in llama.cpp, with the same regex but \p{N} instead of
 * \p{N}{1,3}, which is this code with groups of one digit:
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 *    ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
#include "tokenizer/pretok_llama.h"

static inline uint32_t lower_ascii(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

size_t pretok_llama3_next(const uint8_t *s, size_t n, size_t pos, int max_digits)
{
    pch c = pch_at(s, n, pos);

    if (c.cp == '\'') { /* contractions, any case */
        uint32_t c1 = lower_ascii(pch_at(s, n, pos + 1).cp);
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd')
            return pos + 2;
        uint32_t c2 = c1 == PCH_OUT ? PCH_OUT : lower_ascii(pch_at(s, n, pos + 2).cp);
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
            return pos + 3;
    }

    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    if (!(c.cp == '\r' || c.cp == '\n' || (c.flags & UCD_NUMBER))) {
        if ((c.flags & UCD_LETTER) || (pch_at(s, n, pos + c.len).flags & UCD_LETTER)) {
            size_t p = pos + c.len;
            for (;;) {
                pch d = pch_at(s, n, p);
                if (!(d.flags & UCD_LETTER))
                    return p;
                p += d.len;
            }
        }
    }

    if (c.flags & UCD_NUMBER) { /* \p{N}{1,max_digits} */
        size_t p = pos + c.len;
        for (int k = 1; k < max_digits; k++) {
            pch d = pch_at(s, n, p);
            if (!(d.flags & UCD_NUMBER))
                break;
            p += d.len;
        }
        return p;
    }

    /*  ?[^\s\p{L}\p{N}]+[\r\n]* */
    uint8_t f2 = c.cp == ' ' ? pch_at(s, n, pos + 1).flags : c.flags;
    if (!(f2 & (UCD_SPACE | UCD_LETTER | UCD_NUMBER))) {
        size_t p = pos + (c.cp == ' ');
        for (;;) {
            pch d = pch_at(s, n, p);
            if (!d.flags || (d.flags & (UCD_SPACE | UCD_LETTER | UCD_NUMBER)))
                break;
            p += d.len;
        }
        while (p < n && (s[p] == '\r' || s[p] == '\n'))
            p++;
        return p;
    }

    size_t k, last, after_crlf;
    size_t end = pretok_ws_run(s, n, pos, &k, &last, &after_crlf);
    if (after_crlf) /* \s*[\r\n]+ */
        return after_crlf;
    if (k > 1 && end < n) /* \s+(?!\S) */
        return last;
    if (k > 0)
        return end;
    return pos + c.len;
}
