/* tokenizer.h: dokja's byte-level BPE tokenizer: the contract.
 *
 * Ids 0..255 are the 256 bytes, so every byte string encodes and nothing is
 * unknown. Ids 256..256+S-1 are the special tokens (<|bos|>, <|eos|>, <|pad|>, then
 * user-defined ones); plain text never produces them, only an explicit request
 * (TOK_ENCODE_SPECIAL) or code that appends them. Ids from 256+S on are merges, in
 * the order they were learned: merge k joins two earlier ids into id 256+S+k.
 *
 * Text is optionally normalised (Hangul Jamo composed, see hangul.h), cut into
 * chunks by its pre-tokenizer (pretok.h: "dokja-v1" or one of llama.cpp's), and
 * each chunk is encoded by applying merges lowest id first, leftmost first.
 * decode(encode(x)) == x for every byte string x when normalisation is off; with it
 * on (the default), decode gives the composed form, which equals x whenever x has no decomposed Hangul.
 *
 * The file format is documented in docs/tokenizer-format.md. */
#ifndef DK_TOKENIZER_TOKENIZER_H
#define DK_TOKENIZER_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer/pretok.h"
#include "util/err.h"
#include "util/token.h"

#define TOK_FORMAT "dokja-bpe"
#define TOK_FORMAT_VERSION 1
#define TOK_MAX_VOCAB (1u << 22)  /* 4M ids: far above any sensible vocabulary */
#define TOK_MAX_SPECIAL_LEN 64
#define TOK_DEFAULT_FILE "dokja_tokenizer.json"

typedef struct tok tok;

/* NONE and HANGUL_COMPOSE (hangul.h) for dokja's own tokenizers; NFC (nfc.h) for
 * imported ones whose tokenizer.json asks for it. */
enum tok_norm { TOK_NORM_NONE = 0, TOK_NORM_HANGUL_COMPOSE = 1, TOK_NORM_NFC = 2 };

/* Builds a tokenizer from its parts (copies them). merges[k] = {left, right} ids,
 * each smaller than 256 + n_special + k and not special; pretok is the pre-tokenizer
 * (pretok.h) its text is cut with. Fails with a message naming `origin` (a file name,
 * or "tokenizer") on any inconsistency. */
int tok_build(tok **out, enum tok_norm norm, enum tok_pretok pretok, const char *const *specials,
              uint32_t n_special, const uint32_t (*merges)[2], uint32_t n_merges, const char *origin, dk_err *err);
void tok_free(tok *t);

/* Token types, numbered as GGUF's tokenizer.ggml.token_type. */
enum { TOK_TYPE_NORMAL = 1, TOK_TYPE_UNKNOWN = 2, TOK_TYPE_CONTROL = 3, TOK_TYPE_USER = 4,
       TOK_TYPE_UNUSED = 5, TOK_TYPE_BYTE = 6 };

/* Another model's tokenizer (interop/: from a GGUF or a tokenizer.json): token i's
 * bytes (as text means them: GPT-2's byte alphabet and SentencePiece's U+2581 already
 * decoded; a byte token <0xXX> is its one byte), its type, and either merges (byte-level
 * BPE: pairs of ids in rank order, whose joined bytes must be a token to count) or
 * scores (SentencePiece BPE). Control and user-defined tokens are the special tokens. */
typedef struct {
    uint32_t n_vocab;
    const uint8_t *const *bytes;
    const size_t *len;
    const int32_t *type;
    const uint32_t (*merges)[2];
    uint32_t n_merges;
    const float *scores;     /* SentencePiece only */
    int spm;                 /* SentencePiece BPE (else byte-level BPE) */
    int spm_prefix;          /* SentencePiece: a space in front of the text */
    enum tok_pretok pretok;  /* byte-level BPE's pre-tokenizer */
    int ignore_merges;       /* a chunk that is a token is that token (Llama 3) */
    dk_token bos, eos;       /* -1: none */
    int add_bos;             /* the model wants bos in front of every text */
    enum tok_norm norm;      /* NONE, or NFC (byte-level BPE whose tokenizer.json says so) */
} tok_vocab_spec;
int tok_build_vocab(tok **out, const tok_vocab_spec *spec, const char *origin, dk_err *err);

/* The document start the model saw in training (dokja: <|eos|>; other models: their BOS
 * when they add one), -1 if none; its end-of-text token; whether the vocabulary is
 * another model's (then it cannot be saved as a dokja tokenizer file). */
dk_token tok_bos(const tok *t);
dk_token tok_eos(const tok *t);
int tok_is_foreign(const tok *t);

/* Loads a tokenizer file with full validation; writes one atomically. */
int tok_load(tok **out, const char *path, dk_err *err);
int tok_save(const tok *t, const char *path, dk_err *err);

uint32_t tok_vocab_size(const tok *t);
uint32_t tok_n_special(const tok *t);
uint32_t tok_n_merges(const tok *t);
enum tok_norm tok_norm(const tok *t);
/* The pre-tokenizer and its name ("dokja-v1", or llama.cpp's `tokenizer.ggml.pre` name). */
enum tok_pretok tok_pretok(const tok *t);
const char *tok_pretok_name(const tok *t);
const uint32_t (*tok_merges(const tok *t))[2];
/* The bytes of token id (special tokens: their text). NULL if id is out of range. */
const uint8_t *tok_token_bytes(const tok *t, dk_token id, size_t *len);
/* Is the token a fragment of UTF-8 rather than whole characters (a lone byte of a
 * multi-byte character, or a prefix of one)? A high share of such tokens on some
 * text means the vocabulary does not cover its script. */
int tok_token_is_partial(const tok *t, dk_token id);
/* Id of a special token by its text, or -1. */
dk_token tok_special_id(const tok *t, const char *text);
const char *tok_special_text(const tok *t, uint32_t index);

/* A growable id buffer. */
typedef struct {
    dk_token *ids;
    size_t n, cap;
} tok_ids;
/* Doubles v's room (256 at first): 0, or -1 on out of memory (v unchanged). */
int tok_ids_grow(tok_ids *v);
/* Appends id: 0, or -1 on out of memory. Inline: it runs once per token encoded. */
static inline int tok_ids_push(tok_ids *v, dk_token id)
{
    if (v->n == v->cap && tok_ids_grow(v) != 0)
        return -1;
    v->ids[v->n++] = id;
    return 0;
}
void tok_ids_free(tok_ids *v);

/* An encoder holds per-thread state (a chunk cache and scratch buffers); the tok
 * it was made from must outlive it and may be shared by many encoders. */
typedef struct tok_encoder tok_encoder;
tok_encoder *tok_encoder_new(const tok *t);
void tok_encoder_free(tok_encoder *e);
const tok *tok_encoder_tok(const tok_encoder *e);

enum { TOK_ENCODE_SPECIAL = 1 }; /* recognise special tokens' text in the input */

/* Appends the ids of text[0..n) to out. Fails only when memory runs out. */
int tok_encode(tok_encoder *e, const uint8_t *text, size_t n, int flags, tok_ids *out, dk_err *err);

/* Appends the bytes of ids to *buf (malloc'd, grown as needed). Fails on an id out
 * of range, naming it. */
int tok_decode(const tok *t, const dk_token *ids, size_t n, uint8_t **buf, size_t *len,
               size_t *cap, dk_err *err);

#endif
