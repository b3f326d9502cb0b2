/* utf8.h: strict UTF-8 decoding and the character classes dokja's tokenizer needs.
 *
 * Strict means RFC 3629: no overlong forms, no surrogates (U+D800..DFFF), nothing
 * above U+10FFFF. Invalid bytes are reported one at a time so callers can treat each
 * as an opaque byte (byte-level BPE keeps them; validators reject them). */
#ifndef DK_UTIL_UTF8_H
#define DK_UTIL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one code point at s[0..n). Returns its length (1..4) and stores it in *cp,
 * or returns 0 if s[0] does not start a valid sequence (then *cp = s[0]).
 * n must be >= 1. Inline: it runs once per character in the shingling, filtering and
 * scrubbing loops, where a call per character cost about 5 % of a data build. */
static inline size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint8_t c = s[0];
    *cp = c;
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2; v = c & 0x1F; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3; v = c & 0x0F; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4; v = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* Encodes cp (must be a valid scalar value) into out (>= 4 bytes); returns length. */
size_t utf8_encode(uint32_t cp, uint8_t *out);

/* Returns the byte offset of the first invalid sequence, or n if s is valid UTF-8. */
size_t utf8_validate(const uint8_t *s, size_t n);

/* Script/kind classes used to split text into pre-tokenizer chunks. */
typedef enum {
    UC_SPACE,   /* white space, including U+00A0, U+3000, U+2000..200A */
    UC_HANGUL,  /* syllables, conjoining and compatibility Jamo, halfwidth Jamo */
    UC_LATIN,   /* Latin letters (ASCII, Latin-1, Extended-A/B, IPA, Additional, fullwidth) */
    UC_DIGIT,   /* 0-9 and fullwidth digits */
    UC_LETTER,  /* any other letter or ideograph: Han, kana, Cyrillic, Greek, ... */
    UC_PUNCT,   /* punctuation and symbols, emoji, format characters */
    UC_EXTEND,  /* combining marks: continue whatever run they follow */
    UC_INVALID  /* a byte that does not start valid UTF-8 */
} uclass;

uclass utf8_class_slow(uint32_t cp);

/* Class of a code point. ASCII and Hangul syllables, which make up nearly all of
 * Korean text, skip the range search. */
static inline uclass utf8_class(uint32_t cp)
{
    if (cp >= 0xAC00 && cp <= 0xD7A3)
        return UC_HANGUL;
    if (cp < 0x80) {
        if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D))
            return UC_SPACE;
        if (cp >= '0' && cp <= '9')
            return UC_DIGIT;
        if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')
            return UC_LATIN;
        return UC_PUNCT;
    }
    return utf8_class_slow(cp);
}

/* Hangul syllable block U+AC00..U+D7A3. */
static inline int utf8_is_hangul_syllable(uint32_t cp) { return cp >= 0xAC00 && cp <= 0xD7A3; }

#endif
