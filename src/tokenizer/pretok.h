/* pretok.h: dokja's pre-tokenizers: how text is cut into chunks that BPE merges never
 * cross. A tokenizer records which one it uses by name ("pretokenizer" in its file);
 * the names other than "dokja-v1" are the `tokenizer.ggml.pre` names of llama.cpp,
 * and those kinds cut valid UTF-8 exactly as llama.cpp does (pretok_llama.h), so a
 * dokja tokenizer exported to GGUF tokenizes the same in llama.cpp.
 *
 * "dokja-v1" (pretok_next, pretok_safe_split): a chunk is one of:
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
 * everywhere in Korean text.
 *
 * The llama.cpp kinds have no length cap (llama.cpp has none): a line of 400 '='
 * is one chunk. The encoder handles chunks of any length. */
#ifndef DK_TOKENIZER_PRETOK_H
#define DK_TOKENIZER_PRETOK_H

#include <stddef.h>
#include <stdint.h>

#define PRETOK_NAME "dokja-v1"
#define PRETOK_MAX_CHUNK 255

/* Every pre-tokenizer; the comment gives its name and llama.cpp's splitter family
 * (LLAMA_VOCAB_PRE_TYPE_*). The Korean models' names are separate kinds so that the
 * name written to a GGUF file is the one the user chose. Values are stable within a
 * build only: files store the name. */
enum tok_pretok {
    TOK_PRETOK_DOKJA_V1 = 0, /* "dokja-v1": dokja's own, above (not known to llama.cpp) */
    TOK_PRETOK_GPT2,         /* "gpt-2": GPT2 */
    TOK_PRETOK_LLAMA_BPE,    /* "llama-bpe": LLAMA3 (Llama 3) */
    TOK_PRETOK_QWEN2,        /* "qwen2": QWEN2 */
    TOK_PRETOK_EXAONE,       /* "exaone": EXAONE (LG EXAONE 3): digits apart, then GPT2 */
    TOK_PRETOK_EXAONE4,      /* "exaone4": GPT2 (LG EXAONE 4.0) */
    TOK_PRETOK_EXAONE_MOE,   /* "exaone-moe": EXAONE_MOE (LG K-EXAONE) */
    TOK_PRETOK_KANANA2,      /* "kanana2": GPT4O (Kakao Kanana 2) */
    TOK_PRETOK_SOLAR_OPEN,   /* "solar-open": SOLAR_OPEN = QWEN2's regex (Upstage Solar Open) */
    TOK_PRETOK_MIDM2,        /* "midm-2.0": LLAMA3 (KT Mi:dm 2.0) */
    TOK_PRETOK_AX4,          /* "a.x-4.0": GPT2 (SK Telecom A.X 4.0) */
    TOK_PRETOK_KORMO,        /* "kormo": QWEN2 (KORMo) */
    TOK_PRETOK_TRILLION,     /* "trillion": GPT2's regex (Trillion Labs) */
    TOK_PRETOK_COUNT
};

/* The pre-tokenizer of new tokenizers (`dokja tokenizer train` without
 * --pretokenizer), chosen by bench/pretok.sh (docs/tokenizer.md): the best Korean
 * tokens per syllable among the word-level pre-tokenizers within 2 % of the best
 * English tokens per word. */
#define TOK_PRETOK_DEFAULT TOK_PRETOK_GPT2
#define TOK_PRETOK_DEFAULT_NAME "gpt-2"

/* The name of kind k (k < TOK_PRETOK_COUNT). */
const char *pretok_name(enum tok_pretok k);

/* The kind named `name`: 0, or -1 if no kind has that name. */
int pretok_from_name(const char *name, enum tok_pretok *out);

/* Returns the end of the chunk that starts at pos (pos < n), for kind k. */
size_t pretok_next_kind(enum tok_pretok k, const uint8_t *s, size_t n, size_t pos);

/* Returns a position p in [target, n] at which both kind k's chunker and Hangul
 * composition restart cleanly, or n if there is none. Splitting text at such
 * positions and processing the pieces independently gives exactly the chunks of the
 * whole, so work can be parallelised without changing the result. For "dokja-v1" the
 * points are just after a '\n' followed by a non-space; for the llama.cpp kinds the
 * '\n' must also follow a character that is not white space. */
size_t pretok_safe_split_kind(enum tok_pretok k, const uint8_t *s, size_t n, size_t target);

/* "dokja-v1": returns the end of the chunk that starts at pos (pos < n). */
size_t pretok_next(const uint8_t *s, size_t n, size_t pos);

/* "dokja-v1": pretok_safe_split_kind(TOK_PRETOK_DOKJA_V1, ...). */
size_t pretok_safe_split(const uint8_t *s, size_t n, size_t target);

#endif
