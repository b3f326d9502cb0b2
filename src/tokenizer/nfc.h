/* nfc.h: Unicode NFC for tokenizers that ask for it (a tokenizer.json whose normalizer
 * is NFC: Qwen 2, 2.5 and 3). Hugging Face's tokenizers compose the text before
 * splitting it; without the same step, text written decomposed (NFD: macOS file
 * names, some web pages) gets other ids than the model saw in training.
 *
 * The composition itself is utf8proc's (Debian libutf8proc: Unicode's data tables and
 * algorithm, as Julia uses it); this file adds the two things a tokenizer needs around
 * it: a cheap check that lets the common case (text already NFC) through untouched,
 * and invalid UTF-8, which byte-level tokenizers take as bytes: each maximal valid run
 * is composed on its own and every invalid byte passes through in place. */
#ifndef DK_TOKENIZER_NFC_H
#define DK_TOKENIZER_NFC_H

#include <stddef.h>
#include <stdint.h>

/* 1 when s[0..n) may not be NFC (it holds a code point outside a set known to be
 * composed and inert: below U+0300, Hangul syllables, CJK unified ideographs); 0 when
 * it is NFC for sure. */
int nfc_may_change(const uint8_t *s, size_t n);

/* The NFC form of s[0..n) into *buf (grown as needed, *cap its size): its length, or
 * -1 when out of memory. */
long nfc_compose(const uint8_t *s, size_t n, uint8_t **buf, size_t *cap);

#endif
