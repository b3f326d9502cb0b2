/* hash.h: a fast non-cryptographic 64-bit hash for in-memory hash tables, and
 * SHA-256 (OpenSSL libcrypto) for content addressing of files.
 *
 * hash_bytes is stable across runs and machines (no random seed): tables built
 * with it iterate in the same order every time, which keeps outputs reproducible. */
#ifndef DK_UTIL_HASH_H
#define DK_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

uint64_t hash_bytes(const void *data, size_t n);

static inline uint64_t hash_u64(uint64_t x)
{
    /* splitmix64 finaliser: a bijection with full avalanche. */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* SHA-256 of a buffer, as raw bytes and as lowercase hex (65 bytes with NUL). */
void sha256_buf(const void *data, size_t n, uint8_t out[32]);
void sha256_hex(const uint8_t digest[32], char hex[65]);

/* SHA-256 of a whole file, streamed. */
int sha256_file(const char *path, uint8_t out[32], dk_err *err);

/* Incremental SHA-256, for digests of data that is not one buffer (a model's tensors
 * in name order). sha256_begin returns NULL when out of memory; sha256_end frees. */
typedef struct sha256_stream sha256_stream;
sha256_stream *sha256_begin(void);
void sha256_add(sha256_stream *s, const void *data, size_t n);
void sha256_end(sha256_stream *s, uint8_t out[32]);

/* Parses an even number of hex digits (either case) into at most max bytes: 0 and
 * *len, or -1. */
int hex_decode(const char *hex, uint8_t *out, size_t max, size_t *len);
/* Parses 64 hex digits (either case) into 32 bytes: 0, or -1 if it is not that. */
int sha256_parse_hex(const char *hex, uint8_t out[32]);
/* 1 if hex (may be NULL) is the hex form of digest d. */
int sha256_hex_eq(const char *hex, const uint8_t d[32]);

#endif
