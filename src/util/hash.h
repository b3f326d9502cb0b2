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

#endif
