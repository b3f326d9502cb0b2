/* pretok_exaone_moe.c: the "exaone-moe" splitter (see pretok_llama.h). llama.cpp runs
 * this regex through std::regex on its collapsed text:
 *   (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])
 *  |[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+
 *  |\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+
 * The second alternative takes letters (each with its marks) joined by single spaces:
 * a run of words is one chunk. */
#include "tokenizer/pretok_llama.h"

/* The longest \p{L}\p{M}*( ?\p{L}\p{M}*)* from p, where the character at p is a letter. */
static size_t words(const uint8_t *s, size_t n, size_t p)
{
    for (;;) {
        p += pch_at(s, n, p).len; /* the letter */
        pch d = pch_at(s, n, p);
        while (d.flags & UCD_MARK) {
            p += d.len;
            d = pch_at(s, n, p);
        }
        if (d.flags & UCD_LETTER)
            continue;
        if (d.cp == ' ' && (pch_at(s, n, p + 1).flags & UCD_LETTER)) {
            p += 1;
            continue;
        }
        return p;
    }
}

size_t pretok_exaone_moe_next(const uint8_t *s, size_t n, size_t pos)
{
    pch c = pch_at(s, n, pos);

    if (c.cp == '\'' && pos + 1 < n) { /* contractions, any case */
        uint8_t a = s[pos + 1] | 0x20, b = pos + 2 < n ? s[pos + 2] | 0x20 : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd')
            return pos + 2;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            return pos + 3;
    }

    if (c.flags & UCD_LETTER)
        return words(s, n, pos);
    if (!(c.cp == '\r' || c.cp == '\n' || (c.flags & UCD_NUMBER)) &&
        (pch_at(s, n, pos + c.len).flags & UCD_LETTER))
        return words(s, n, pos + c.len);

    if (c.flags & UCD_NUMBER) /* \p{N} */
        return pos + c.len;

    /*  ?[^\s\p{L}\p{N}]+[\r\n/]? */
    size_t p = pos + (c.cp == ' ');
    pch d = pch_at(s, n, p);
    if (d.flags && !(d.flags & (UCD_SPACE | UCD_LETTER | UCD_NUMBER))) {
        for (;;) {
            p += d.len;
            d = pch_at(s, n, p);
            if (!d.flags || (d.flags & (UCD_SPACE | UCD_LETTER | UCD_NUMBER)))
                break;
        }
        if (p < n && (s[p] == '\r' || s[p] == '\n' || s[p] == '/'))
            p++;
        return p;
    }

    size_t k, last, after_crlf;
    size_t end = pretok_ws_run(s, n, pos, &k, &last, &after_crlf);
    if (after_crlf) /* \s*[\r\n] */
        return after_crlf;
    if (k > 1 && end < n) /* \s+(?!\S) */
        return last;
    if (k > 0)
        return end;
    return pos + c.len;
}
