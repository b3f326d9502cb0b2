/* pretok.h: dokja's pre-tokenizer "dokja-v1": how text is cut into chunks that BPE
 * merges never cross.
 *
 * A chunk is one of:
 *   - a run of up to 3 digits, optionally after a single leading space (numbers
 *     split left to right: " 12345" -> " 123" "45");
 *   - an English contraction suffix: 's 't 're 've 'm 'll 'd (any case);
 *   - an optional single leading space (U+0020) followed by a run of characters of
 *     one class: Hangul, Latin letters, other letters, punctuation/symbols, or
 *     invalid bytes (combining marks continue any run);
 *   - a run of white space; when it is followed by a non-space and ends in U+0020,
 *     that last space is left to start the next chunk (" word", as in GPT-2).
 * No chunk is longer than PRETOK_MAX_CHUNK bytes: longer runs are cut at a
 * character boundary, which bounds the cost of BPE on adversarial input.
 * The classes come from utf8_class(). Measured on Korean news and statutes, letting
 * digits take the leading space saves about 1 % of tokens: " 3월", " 2015년" are
 * everywhere in Korean text. */
#ifndef DK_TOKENIZER_PRETOK_H
#define DK_TOKENIZER_PRETOK_H

#include <stddef.h>
#include <stdint.h>

#define PRETOK_NAME "dokja-v1"
#define PRETOK_MAX_CHUNK 255

/* Returns the end of the chunk that starts at pos (pos < n). */
size_t pretok_next(const uint8_t *s, size_t n, size_t pos);

/* Returns a position p in [target, n] at which both the pre-tokenizer and Hangul
 * composition restart cleanly (just after a '\n' that is followed by a
 * non-space), or n if there is none. Splitting text at such positions and
 * processing the pieces independently gives exactly the chunks of the whole, so
 * work can be parallelised without changing the result. */
size_t pretok_safe_split(const uint8_t *s, size_t n, size_t target);

#endif
