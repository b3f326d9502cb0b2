/* byte_unicode.h: GPT-2's byte-to-unicode alphabet, in which byte-level BPE
 * vocabularies (GGUF "gpt2", tokenizer.json ByteLevel) write their tokens.
 *
 * Each byte maps to one code point: the printable bytes '!'..'~', 0xA1..0xAC and
 * 0xAE..0xFF map to themselves, the other 68 bytes to U+0100, U+0101, ... in byte
 * order (so the space 0x20 is U+0120 'Ġ' and '\n' is U+010A 'Ċ'). Every token is thus
 * printable UTF-8 with no spaces, and "left right" can list a merge. */
#ifndef DK_INTEROP_BYTE_UNICODE_H
#define DK_INTEROP_BYTE_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* The code point of byte b. */
uint32_t byte_unicode_cp(uint8_t b);

/* bytes[0..n) in the alphabet as a malloc'd NUL-terminated string (*out_len bytes), or
 * NULL when memory runs out. */
char *byte_unicode_encode(const uint8_t *bytes, size_t n, size_t *out_len);

/* The bytes a text in the alphabet stands for, into out (at most n bytes: each code
 * point gives one byte). Returns the byte count, or -1 if the text holds a code point
 * outside the alphabet or invalid UTF-8. */
long byte_unicode_decode(const uint8_t *text, size_t n, uint8_t *out);

/* Two entries of texts[0..n) with the same bytes: returns 1 and their indices (a < b),
 * 0 if all differ, -1 when memory runs out. */
int byte_unicode_find_duplicate(char *const *texts, const size_t *lens, size_t n, size_t *a, size_t *b);

#endif
