/* tok_stats.h: how efficiently a tokenizer encodes a text.
 *
 * Counts are of the text the model sees (after the tokenizer's normalisation),
 * except `bytes`, which is the input's size. Words are maximal runs of non-space
 * characters; characters count code points, an invalid byte counting as one. */
#ifndef DK_TOKENIZER_TOK_STATS_H
#define DK_TOKENIZER_TOK_STATS_H

#include "tokenizer/tokenizer.h"
#include "util/pool.h"

typedef struct {
    uint64_t bytes, chars, hangul, words, tokens;
    uint64_t partial_tokens; /* tokens that are not whole UTF-8 characters */
    double encode_seconds; /* time spent inside the encoder, summed over threads */
} tok_text_stats;

/* *into += add, field by field. */
void tok_stats_add(tok_text_stats *into, const tok_text_stats *add);

/* TOK_STATS_LINES: encode each line on its own, without its newline, as
 * SentencePiece's spm_encode does; otherwise the text is encoded whole. */
enum { TOK_STATS_LINES = 1 };

/* Adds the statistics of one file to *st, encoding blocks in parallel on pl
 * (NULL: one thread). */
int tok_stats_file(const tok *t, const char *path, pool *pl, int flags, tok_text_stats *st,
                   dk_err *err);

/* Adds the statistics of one buffer, encoded with e. */
int tok_stats_buf(tok_encoder *e, const uint8_t *s, size_t n, int flags, tok_text_stats *st,
                  dk_err *err);

#endif
