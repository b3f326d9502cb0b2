/* pretok_gpt4o.c: the "kanana2" splitter (llama.cpp's LLAMA_VOCAB_PRE_TYPE_GPT4O; see
 * pretok_llama.h). llama.cpp runs this regex through std::regex on its collapsed text:
 *   [^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?
 *  |[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|...|'[dD])?
 *  |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * "Upper" (U) is a letter other than a-z and "lower" (W) a letter other than A-Z, so
 * every letter outside ASCII is both. (Hugging Face's original regex uses the Lu/Ll
 * categories instead; on text outside ASCII the two can cut differently, and llama.cpp
 * is what this follows.) The backtracking of the first two alternatives is resolved
 * below in closed form. */
#include "tokenizer/pretok_llama.h"

static inline int is_upper(pch c) { return (c.flags & UCD_LETTER) && !(c.cp >= 'a' && c.cp <= 'z'); }
static inline int is_lower(pch c) { return (c.flags & UCD_LETTER) && !(c.cp >= 'A' && c.cp <= 'Z'); }

/* (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])? at p. */
static size_t contraction(const uint8_t *s, size_t n, size_t p)
{
    if (p + 1 >= n || s[p] != '\'')
        return p;
    uint8_t a = s[p + 1] | 0x20, b = p + 2 < n ? s[p + 2] | 0x20 : 0;
    if (a == 's' || a == 't' || a == 'm' || a == 'd')
        return p + 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
        return p + 3;
    return p;
}

/* The two letter alternatives from q (after the optional prefix); 0 if neither matches.
 * First: U*W+. U* takes the longest run of U; if a W follows (then an a-z), W+ runs on
 * from there. Otherwise U* gives back characters until one of them is a W: the last
 * non-ASCII letter of the run, after which W+ stops at the next A-Z or at the run's
 * end. Second (only when the first fails, so the run is A-Z only and no letter
 * follows): U+W*, the run itself. */
static size_t letters(const uint8_t *s, size_t n, size_t q)
{
    size_t p = q, after_last_wide = 0;
    for (;;) {
        pch d = pch_at(s, n, p);
        if (!is_upper(d))
            break;
        p += d.len;
        if (d.cp >= 0x80)
            after_last_wide = p;
    }
    pch d = pch_at(s, n, p);
    if (is_lower(d)) {
        for (;;) {
            p += d.len;
            d = pch_at(s, n, p);
            if (!is_lower(d))
                return contraction(s, n, p);
        }
    }
    if (after_last_wide) {
        /* W+ from the last non-ASCII letter: it and no further (an A-Z or the end of
         * the run follows it). */
        return contraction(s, n, after_last_wide);
    }
    if (p > q)
        return contraction(s, n, p);
    return 0;
}

size_t pretok_gpt4o_next(const uint8_t *s, size_t n, size_t pos)
{
    pch c = pch_at(s, n, pos);

    if (c.flags & UCD_LETTER) {
        size_t e = letters(s, n, pos);
        if (e)
            return e;
    } else if (!(c.cp == '\r' || c.cp == '\n' || (c.flags & UCD_NUMBER))) {
        size_t e = letters(s, n, pos + c.len);
        if (e)
            return e;
    }

    if (c.flags & UCD_NUMBER) { /* \p{N}{1,3} */
        size_t p = pos + c.len;
        for (int k = 1; k < 3; k++) {
            pch d = pch_at(s, n, p);
            if (!(d.flags & UCD_NUMBER))
                break;
            p += d.len;
        }
        return p;
    }

    /*  ?[^\s\p{L}\p{N}]+[\r\n/]* */
    size_t p = pos + (c.cp == ' ');
    pch d = pch_at(s, n, p);
    if (d.flags && !(d.flags & (UCD_SPACE | UCD_LETTER | UCD_NUMBER))) {
        for (;;) {
            p += d.len;
            d = pch_at(s, n, p);
            if (!d.flags || (d.flags & (UCD_SPACE | UCD_LETTER | UCD_NUMBER)))
                break;
        }
        while (p < n && (s[p] == '\r' || s[p] == '\n' || s[p] == '/'))
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
    return pos + c.len; /* not reached: every character matches some alternative */
}
