/* merkle.h: the Merkle tree hash of RFC 6962 (Certificate Transparency, section 2.1) over
 * a list of 32-byte leaves, and inclusion proofs: one leaf (a dataset shard's SHA-256) can
 * be shown to belong to a committed root without revealing or hashing the others.
 *
 *   MTH({})     = SHA-256()
 *   MTH({d})    = SHA-256(0x00 || d)
 *   MTH(D[0:n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of 2 < n
 *
 * The 0x00/0x01 prefixes keep a leaf from passing for an inner node (second preimages). */
#ifndef DK_UTIL_MERKLE_H
#define DK_UTIL_MERKLE_H

#include <stddef.h>
#include <stdint.h>

void merkle_root(const uint8_t (*leaves)[32], size_t n, uint8_t out[32]);

/* The audit path of leaf m (< n): at most 64 sibling hashes, leaf to root. Returns their
 * number. */
int merkle_proof(const uint8_t (*leaves)[32], size_t n, size_t m, uint8_t (*path)[32]);

/* 1 if leaf `leaf` at index m of a tree of n leaves with this path has root `root`. */
int merkle_verify(const uint8_t leaf[32], size_t m, size_t n, const uint8_t (*path)[32], int path_len,
                  const uint8_t root[32]);

#endif
