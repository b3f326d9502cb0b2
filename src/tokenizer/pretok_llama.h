/* pretok_llama.h: the splitters of the llama.cpp-compatible pre-tokenizers, shared by
 * the tokenizer's own files only (pretok.h is the public face).
 *
 * Each splitter returns the end of the chunk that starts at pos (pos < n), exactly
 * as llama.cpp's unicode_regex_split cuts valid UTF-8 (its hand-written splitters
 * for "gpt-2" and "llama-bpe", std::regex on its collapsed text for the others).
 * Code points are classified by pretok_ucd.h. Invalid UTF-8: llama.cpp decodes each
 * byte that does not start a well-formed sequence as U+FFFD (a symbol: "other") and
 * moves on by one byte; the splitters do the same, but keep the byte itself, so
 * chunks still cover the input exactly and decoding gives the bytes back. (llama.cpp
 * also accepts some ill-formed sequences, overlong forms, surrogates and code points
 * above U+10FFFF, which it then re-encodes differently or rejects; here those bytes are
 * invalid, one U+FFFD each. Text with invalid UTF-8 cannot round-trip through llama.cpp
 * in any case.) */
#ifndef DK_TOKENIZER_PRETOK_LLAMA_H
#define DK_TOKENIZER_PRETOK_LLAMA_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/pretok_ucd.h"
#include "util/utf8.h"

/* A character: code point, byte length, and its UCD_* flags plus UCD_IN when it is
 * inside the text (a position at or past the end reads as {PCH_OUT, 0, 0}). */
enum { UCD_IN = 16 };
#define PCH_OUT UINT32_MAX
typedef struct {
    uint32_t cp;
    uint32_t len;
    uint8_t flags;
} pch;

extern const uint8_t PRETOK_ASCII_FLAGS[128];

static inline pch pch_at(const uint8_t *s, size_t n, size_t i)
{
    if (i >= n)
        return (pch){PCH_OUT, 0, 0};
    uint8_t c = s[i];
    if (c < 0x80)
        return (pch){c, 1, (uint8_t)(PRETOK_ASCII_FLAGS[c] | UCD_IN)};
    uint32_t cp;
    size_t l = utf8_decode(s + i, n - i, &cp);
    if (l == 0)
        return (pch){0xFFFD, 1, UCD_IN}; /* U+FFFD is a symbol: "other" */
    if (cp >= 0xAC00 && cp <= 0xD7A3)
        return (pch){cp, (uint32_t)l, UCD_LETTER | UCD_IN};
    return (pch){cp, (uint32_t)l, (uint8_t)(pretok_ucd_flags(cp) | UCD_IN)};
}

/* The end of a run of white space starting at pos: *count characters, the start of
 * the last one in *last, and in *after_crlf the end of the last \r or \n (0 if none). */
size_t pretok_ws_run(const uint8_t *s, size_t n, size_t pos, size_t *count, size_t *last, size_t *after_crlf);

/* "gpt-2" (and "exaone4", ...): 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+|
 * ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+. With digits_apart (llama.cpp's "exaone": the
 * pass \p{N} before it), every number character is a chunk of its own and the text
 * between two of them is split as if it were the whole text. */
size_t pretok_gpt2_next(const uint8_t *s, size_t n, size_t pos, int digits_apart);

/* "llama-bpe" (max_digits 3) and "qwen2" (max_digits 1):
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
 * ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ (\p{N} alone for qwen2). */
size_t pretok_llama3_next(const uint8_t *s, size_t n, size_t pos, int max_digits);

/* "kanana2" (llama.cpp's GPT4O regex as adapted for std::regex, where every letter
 * outside ASCII counts as both upper and lower case). */
size_t pretok_gpt4o_next(const uint8_t *s, size_t n, size_t pos);

/* "exaone-moe": words of letters (with their marks) joined by single spaces. */
size_t pretok_exaone_moe_next(const uint8_t *s, size_t n, size_t pos);

/* A position in [target, n] that is the start of a chunk for every splitter above,
 * and where Hangul composition restarts: just after a '\n' that is preceded by a
 * character that is not white space and followed by one that is not white space. */
size_t pretok_llama_safe_split(const uint8_t *s, size_t n, size_t target);

#endif
