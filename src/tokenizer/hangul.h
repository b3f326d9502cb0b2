/* hangul.h: composition of conjoining Hangul Jamo into precomposed syllables.
 *
 * macOS and some editors write Korean decomposed (NFD): 한 becomes U+1112 U+1161
 * U+11AB, three code points and nine bytes instead of one syllable and three bytes.
 * A tokenizer trained on composed text would spend ~3x the tokens on such input, so
 * by default dokja composes Jamo with Unicode's arithmetic Hangul composition
 * (Unicode 15, section 3.12) before training and encoding. Only Hangul is touched:
 * this is not full NFC, and Jamo that do not form a syllable (a lone leading
 * consonant, compatibility Jamo such as ㅋㅋ) are left as they are. */
#ifndef DK_TOKENIZER_HANGUL_H
#define DK_TOKENIZER_HANGUL_H

#include <stddef.h>
#include <stdint.h>

/* Writes the composed form of in[0..n) to out and returns its length, which is
 * never more than n (out may not alias in; it needs n bytes). Invalid UTF-8 bytes
 * are copied through unchanged. */
size_t hangul_compose(const uint8_t *in, size_t n, uint8_t *out);

/* Does in[0..n) contain a Jamo sequence that hangul_compose would change? Cheap
 * pre-check so most text skips the copy. */
int hangul_needs_compose(const uint8_t *in, size_t n);

#endif
